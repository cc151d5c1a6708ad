/*
** Differential-testing driver: runs a binaryen translate-to-fuzz module the way
** `wasm-opt --fuzz-exec-before` does and prints the same lines, or, with
** --spectest SEED, calls the exports with seeded arguments and prints the
** results as a wast2json script for wabt's spectest-interp (tests/diff/diff.py).
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

static shoal_err_t host_ignore(shoal_caller_t *c, void *env, shoal_raw_t *io) {
  (void)c, (void)env, (void)io;
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

/* {==================================================================
** --spectest SEED: the same calls with arguments from a seeded generator;
** shoal's results become the expected values of assert_return commands.
** =================================================================== */
static uint64_t rng_next(uint64_t *st) {  /* splitmix64 */
  uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Mostly edge values (shift counts, sign and width boundaries, float
** specials, no NaN: NaN payloads may legitimately differ), sometimes random. */
static shoal_raw_t pick_arg(shoal_valtype_t t, uint64_t *st) {
  static const uint64_t i32s[] = {0, 1, 0xffffffff, 2, 7, 8, 31, 32, 33, 63, 64, 255, 256,
                                  65535, 65536, 0x7fffffff, 0x80000000, 0xffff0000, 100};
  static const uint64_t i64s[] = {0, 1, UINT64_MAX, 31, 32, 63, 64, 0xffffffff, 0x100000000,
                                  INT64_MAX, (uint64_t)INT64_MIN, 0x80000000, 65536, 1000};
  static const uint32_t f32s[] = {0, 0x80000000, 0x3f800000, 0xbf800000, 0x3f000000,
                                  0x7f800000, 0xff800000, 0x7f7fffff, 1, 0x4f000000,
                                  0x4f800000, 0x5f000000, 0xcf000000, 0x501502f9};
  static const uint64_t f64s[] = {0, 0x8000000000000000ull, 0x3ff0000000000000ull,
                                  0xbff0000000000000ull, 0x3fe0000000000000ull,
                                  0x7ff0000000000000ull, 0xfff0000000000000ull,
                                  0x7fefffffffffffffull, 1, 0x41e0000000000000ull,
                                  0x41f0000000000000ull, 0x43e0000000000000ull,
                                  0xc1e0000000000000ull, 0x4202a05f20000000ull};
#define PICK(a) a[r % (sizeof a / sizeof a[0])]
  uint64_t r = rng_next(st);
  bool random_bits = (r >> 60) < 4;
  r >>= 8;
  switch (t) {
  case SHOAL_I32: return random_bits ? (uint32_t)rng_next(st) : PICK(i32s);
  case SHOAL_I64: return random_bits ? rng_next(st) : PICK(i64s);
  case SHOAL_F32: {
    uint32_t b = random_bits ? (uint32_t)rng_next(st) : PICK(f32s);
    return (b & 0x7f800000) == 0x7f800000 && (b & 0x7fffff) ? 0x40490fdb : b;
  }
  case SHOAL_F64: {
    uint64_t b = random_bits ? rng_next(st) : PICK(f64s);
    bool nan = (b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b << 12);
    return nan ? 0x400921fb54442d18ull : b;
  }
  default: return 0; /* null reference */
  }
#undef PICK
}

static void print_json_val(shoal_valtype_t t, shoal_raw_t r, bool with_value) {
  const char *name = t == SHOAL_I32 ? "i32" : t == SHOAL_I64 ? "i64" : t == SHOAL_F32 ? "f32"
                     : t == SHOAL_F64 ? "f64" : t == SHOAL_FUNCREF ? "funcref" : "externref";
  printf("{\"type\": \"%s\"", name);
  if (with_value) {
    bool nan32 = t == SHOAL_F32 && ((uint32_t)r & 0x7f800000) == 0x7f800000 && ((uint32_t)r & 0x7fffff);
    bool nan64 = t == SHOAL_F64 && (r & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (r << 12);
    if (nan32 || nan64) printf(", \"value\": \"nan:arithmetic\"");
    else if (t == SHOAL_I32 || t == SHOAL_F32) printf(", \"value\": \"%" PRIu32 "\"", (uint32_t)r);
    else if (t == SHOAL_I64 || t == SHOAL_F64) printf(", \"value\": \"%" PRIu64 "\"", (uint64_t)r);
    else printf(", \"value\": \"null\"");
  }
  printf("}");
}

static void print_invoke(const char *name, size_t len, const shoal_functype_t *ft,
                         const shoal_raw_t *args) {
  printf("\"action\": {\"type\": \"invoke\", \"field\": \"%.*s\", \"args\": [", (int)len, name);
  for (uint32_t i = 0; i < ft->nparams; i++) {
    if (i) printf(", ");
    print_json_val(ft->params[i], args[i], true);
  }
  printf("]}");
}

static int run_spectest(shoal_module_t *m, uint64_t seed, const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  shoal_store_config_t cfg = {.size = sizeof cfg};
  shoal_store_t *s;
  if (shoal_store_new(&cfg, &s) != SHOAL_ERR_OK) return 2;
  size_t nimp = shoal_module_import_count(m);
  shoal_extern_t *imports = calloc(nimp ? nimp : 1, sizeof *imports);
  int rc = 0;
  for (size_t i = 0; i < nimp && imports; i++) {  /* fuzzing-support.log-*: ignored */
    shoal_import_desc_t d;
    shoal_module_import(m, i, &d);
    if (d.type.kind != SHOAL_EXTERN_FUNC || d.type.func.nresults != 0) { rc = 3; goto done; }
    imports[i].kind = SHOAL_EXTERN_FUNC;
    imports[i].of.func = shoal_func_new_host(s, &d.type.func, host_ignore, NULL, NULL);
  }
  printf("{\"source_filename\": \"%s.wast\", \"commands\": [\n", base);
  printf("{\"type\": \"module\", \"line\": 1, \"filename\": \"fuzzing-support.wasm\"},\n");
  printf("{\"type\": \"register\", \"line\": 1, \"as\": \"fuzzing-support\"},\n");
  shoal_instance_t *inst;
  shoal_diag_t diag;
  shoal_err_t err = shoal_instance_new(s, m, imports, nimp, &inst, &diag);
  if (err != SHOAL_ERR_OK) {
    printf("{\"type\": \"assert_uninstantiable\", \"line\": 2, \"filename\": \"%s\", "
           "\"text\": \"\", \"module_type\": \"binary\"}]}\n", base);
    rc = shoal_err_is_trap(err) ? 0 : 2;
    goto done;
  }
  printf("{\"type\": \"module\", \"line\": 2, \"filename\": \"%s\"}", base);
  shoal_func_t *hang_init = shoal_instance_func(inst, "hangLimitInitializer");
  uint64_t st = seed;
  int line = 3;
  size_t nexp = shoal_module_export_count(m);
  for (size_t i = 0; i < nexp; i++) {
    shoal_export_desc_t d;
    shoal_module_export(m, i, &d);
    const shoal_functype_t *ft = &d.type.func;
    if (d.type.kind != SHOAL_EXTERN_FUNC || ft->nparams > 64 || ft->nresults > 64) continue;
    shoal_raw_t io[64] = {0}, args[64] = {0};
    if (hang_init) {
      if (shoal_func_call_raw(s, hang_init, io, &diag) != SHOAL_ERR_OK) { rc = 2; break; }
      printf(",\n{\"type\": \"action\", \"line\": %d, \"action\": {\"type\": \"invoke\", "
             "\"field\": \"hangLimitInitializer\", \"args\": []}, \"expected\": []}", line++);
    }
    for (uint32_t a = 0; a < ft->nparams; a++) args[a] = io[a] = pick_arg(ft->params[a], &st);
    shoal_extern_t ex;
    shoal_instance_export(inst, d.name, d.name_len, &ex);
    err = shoal_func_call_raw(s, ex.of.func, io, &diag);
    if (err != SHOAL_ERR_OK && !shoal_err_is_trap(err)) { rc = 2; break; }
    printf(",\n{\"type\": \"%s\", \"line\": %d, ", err ? "assert_trap" : "assert_return", line++);
    print_invoke(d.name, d.name_len, ft, args);
    if (err) printf(", \"text\": \"%s\"", shoal_err_message(err));
    printf(", \"expected\": [");
    for (uint32_t r = 0; r < ft->nresults; r++) {
      if (r) printf(", ");
      print_json_val(ft->results[r], io[r], err == SHOAL_ERR_OK);
    }
    printf("]}");
  }
  printf("]}\n");
done:
  fflush(stdout);
  free(imports);
  shoal_store_free(s);
  return rc;
}
/* }================================================================== */

int main(int argc, char **argv) {
  bool spectest = argc == 4 && strcmp(argv[1], "--spectest") == 0;
  if (argc != 2 && !spectest) {
    fprintf(stderr, "usage: %s [--spectest SEED] MODULE.wasm\n", argv[0]);
    return 2;
  }
  const char *path = argv[argc - 1];
  size_t len;
  uint8_t *bytes = read_file(path, &len);
  if (!bytes) { perror(path); return 2; }
  shoal_module_t *m;
  shoal_diag_t diag;
  shoal_err_t err = shoal_module_new(bytes, len, &m, &diag);
  free(bytes);
  if (err != SHOAL_ERR_OK) {
    printf("[module error %s: %s]\n", shoal_err_name(err), diag.message);
    return 2;
  }
  int rc = spectest ? run_spectest(m, strtoull(argv[2], NULL, 0), path) : run(m);
  shoal_module_free(m);
  return rc;
}
