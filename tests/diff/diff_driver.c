/*
** Differential-testing driver: runs a binaryen translate-to-fuzz module the way
** `wasm-opt --fuzz-exec-before` does and prints the same lines (tests/diff/diff.py).
*/
#include <shoal/engine.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Floats are printed as bits with a type tag: binaryen prints decimal text,
** which diff.py parses back to bits before comparing. */
static void print_val(shoal_valtype_t t, shoal_raw_t r) {
  switch (t) {
  case SHOAL_I32: printf("%" PRId32, (int32_t)(uint32_t)r); break;
  case SHOAL_I64: printf("%" PRId64, (int64_t)r); break;
  case SHOAL_F32: printf("f32:0x%08" PRIx32, (uint32_t)r); break;
  case SHOAL_F64: printf("f64:0x%016" PRIx64, (uint64_t)r); break;
  default: printf("<ref>"); break; /* binaryen prints only the type */
  }
}

typedef struct log_env {
  uint32_t nparams;
  shoal_valtype_t params[8];
} log_env_t;

/* fuzzing-support.log-*: binaryen prints each argument, an i64 as its low
** and high halves (as i32s). */
static shoal_err_t host_log(shoal_caller_t *c, void *env, shoal_raw_t *io) {
  (void)c;
  const log_env_t *e = env;
  printf("[LoggingExternalInterface logging");
  for (uint32_t i = 0; i < e->nparams; i++) {
    putchar(' ');
    if (e->params[i] == SHOAL_I64) {
      printf("%" PRId32 " %" PRId32, (int32_t)(uint32_t)io[i], (int32_t)(uint32_t)(io[i] >> 32));
    } else {
      print_val(e->params[i], io[i]);
    }
  }
  printf("]\n");
  return SHOAL_ERR_OK;
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
    n += got;
    if (n == cap) {
      uint8_t *nb = realloc(buf, cap *= 2);
      if (!nb) { free(buf); buf = NULL; }
      else buf = nb;
    }
  }
  fclose(f);
  *len = n;
  return buf;
}

static int run(shoal_module_t *m) {
  shoal_store_config_t cfg = {.size = sizeof cfg};
  cfg.fuel = 0;
  shoal_store_t *s;
  if (shoal_store_new(&cfg, &s) != SHOAL_ERR_OK) return 2;
  size_t nimp = shoal_module_import_count(m);
  shoal_extern_t *imports = calloc(nimp ? nimp : 1, sizeof *imports);
  int rc = 0;
  for (size_t i = 0; i < nimp && imports; i++) {
    shoal_import_desc_t d;
    shoal_module_import(m, i, &d);
    bool is_log = d.type.kind == SHOAL_EXTERN_FUNC && d.module_len == 15 &&
                  memcmp(d.module, "fuzzing-support", 15) == 0 && d.name_len > 4 &&
                  memcmp(d.name, "log-", 4) == 0 && d.type.func.nresults == 0 &&
                  d.type.func.nparams <= 8;
    if (!is_log) {
      printf("[unsupported import %.*s.%.*s]\n", (int)d.module_len, d.module, (int)d.name_len,
             d.name);
      rc = 3;
      goto done;
    }
    log_env_t *e = calloc(1, sizeof *e);
    if (!e) { rc = 2; goto done; }
    e->nparams = d.type.func.nparams;
    memcpy(e->params, d.type.func.params, e->nparams * sizeof *e->params);
    imports[i].kind = SHOAL_EXTERN_FUNC;
    imports[i].of.func = shoal_func_new_host(s, &d.type.func, host_log, e, free);
  }
  shoal_instance_t *inst;
  shoal_diag_t diag;
  shoal_err_t err = shoal_instance_new(s, m, imports, nimp, &inst, &diag);
  if (err != SHOAL_ERR_OK) {
    /* binaryen prints nothing when instantiation traps */
    fprintf(stderr, "instantiate: %s: %s\n", shoal_err_name(err), diag.message);
    rc = shoal_err_is_trap(err) ? 0 : 2;
    goto done;
  }
  shoal_func_t *hang_init = shoal_instance_func(inst, "hangLimitInitializer");
  size_t nexp = shoal_module_export_count(m);
  for (size_t i = 0; i < nexp; i++) {
    shoal_export_desc_t d;
    shoal_module_export(m, i, &d);
    if (d.type.kind != SHOAL_EXTERN_FUNC) continue;
    printf("[fuzz-exec] calling %.*s\n", (int)d.name_len, d.name);
    fflush(stdout);
    shoal_raw_t io[64] = {0};
    if (hang_init) {
      err = shoal_func_call_raw(s, hang_init, io, &diag);
      if (err != SHOAL_ERR_OK) { printf("[trap %s]\n", shoal_err_name(err)); continue; }
    }
    shoal_extern_t ex;
    shoal_instance_export(inst, d.name, d.name_len, &ex);
    const shoal_functype_t *ft = &d.type.func;
    if (ft->nparams > 64 || ft->nresults > 64) { printf("[too many values]\n"); continue; }
    memset(io, 0, sizeof io);  /* zero / null arguments, as binaryen passes */
    err = shoal_func_call_raw(s, ex.of.func, io, &diag);
    if (err != SHOAL_ERR_OK) {
      if (!shoal_err_is_trap(err)) { rc = 2; printf("[error %s]\n", shoal_err_name(err)); break; }
      printf("[trap %s]\n", shoal_err_name(err));
      continue;
    }
    if (ft->nresults == 0) continue;
    printf("[fuzz-exec] note result: %.*s => ", (int)d.name_len, d.name);
    if (ft->nresults > 1) printf("(");
    for (uint32_t r = 0; r < ft->nresults; r++) {
      if (r) printf(", ");
      print_val(ft->results[r], io[r]);
    }
    printf(ft->nresults > 1 ? ")\n" : "\n");
  }
done:
  fflush(stdout);
  free(imports);
  shoal_store_free(s);
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODULE.wasm\n", argv[0]);
    return 2;
  }
  size_t len;
  uint8_t *bytes = read_file(argv[1], &len);
  if (!bytes) { perror(argv[1]); return 2; }
  shoal_module_t *m;
  shoal_diag_t diag;
  shoal_err_t err = shoal_module_new(bytes, len, &m, &diag);
  free(bytes);
  if (err != SHOAL_ERR_OK) {
    printf("[module error %s: %s]\n", shoal_err_name(err), diag.message);
    return 2;
  }
  int rc = run(m);
  shoal_module_free(m);
  return rc;
}
