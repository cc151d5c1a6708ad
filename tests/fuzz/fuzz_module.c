/*
** libFuzzer target: decode, validate and compile the input; if it is a valid
** module, satisfy its imports with stand-ins (host functions returning zeros,
** fresh memories, tables and globals of the declared types), instantiate it
** in a store with fuel and small limits, and call every exported function
** (up to FUZZ_MAX_CALLS) with zero arguments.
** Built with -DSHOAL_FUZZ=ON (clang); run with `make fuzz`.
*/
#include <shoal/engine.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Keep one input cheap. Fuel counts loop iterations and calls, not the
** bytes a bulk instruction touches, so the memory and table caps also bound
** what one iteration may cost: FUZZ_MAX_CALLS * FUZZ_FUEL iterations of a
** full-size memory.fill stay well under libFuzzer's -timeout. */
#define FUZZ_MAX_PAGES 4          /* 256 KiB per memory */
#define FUZZ_MAX_ELEMS 10000
#define FUZZ_FUEL 10000           /* per call, and for the start function */
#define FUZZ_MAX_CALLS 64         /* exported functions called per input */
#define FUZZ_STACK (256u * 1024u) /* value stack bytes */
#define FUZZ_DEPTH 2000           /* call depth */

static shoal_val_t zero_val(shoal_valtype_t t) {
  shoal_val_t v;
  memset(&v, 0, sizeof v);  /* 0, +0.0, null reference */
  v.type = t;
  return v;
}

/* Every imported function: results are all zero. */
static shoal_err_t zero_host(shoal_caller_t *caller, void *env, shoal_raw_t *io) {
  (void)caller;
  uint32_t nresults = (uint32_t)(uintptr_t)env;
  for (uint32_t i = 0; i < nresults; i++) io[i] = 0;
  return SHOAL_ERR_OK;
}

static bool make_import(shoal_store_t *s, const shoal_import_desc_t *imp, shoal_extern_t *out) {
  const shoal_externtype_t *t = &imp->type;
  out->kind = t->kind;
  switch (t->kind) {
  case SHOAL_EXTERN_FUNC:
    out->of.func = shoal_func_new_host(s, &t->func, zero_host,
                                       (void *)(uintptr_t)t->func.nresults, NULL);
    return out->of.func != NULL;
  case SHOAL_EXTERN_MEMORY:
    if (t->limits.min > FUZZ_MAX_PAGES) return false;
    out->of.memory = shoal_memory_new(s, &t->limits);
    return out->of.memory != NULL;
  case SHOAL_EXTERN_TABLE:
    if (t->limits.min > FUZZ_MAX_ELEMS) return false;
    out->of.table = shoal_table_new(s, t->elem, &t->limits, zero_val(t->elem));
    return out->of.table != NULL;
  case SHOAL_EXTERN_GLOBAL:
    out->of.global = shoal_global_new(s, t->global_type, t->global_mutable,
                                      zero_val(t->global_type));
    return out->of.global != NULL;
  }
  return false;
}

static void call_exports(shoal_store_t *s, shoal_instance_t *inst, const shoal_module_t *m) {
  size_t n = shoal_module_export_count(m);
  if (n > FUZZ_MAX_CALLS) n = FUZZ_MAX_CALLS;
  for (size_t i = 0; i < n; i++) {
    shoal_export_desc_t ex;
    shoal_extern_t e;
    shoal_module_export(m, i, &ex);
    if (ex.type.kind != SHOAL_EXTERN_FUNC) continue;
    if (!shoal_instance_export(inst, ex.name, ex.name_len, &e) || e.kind != SHOAL_EXTERN_FUNC)
      continue;
    shoal_functype_t ft;
    shoal_func_type(e.of.func, &ft);
    shoal_val_t *args = calloc(ft.nparams + 1, sizeof *args);
    shoal_val_t *results = calloc(ft.nresults + 1, sizeof *results);
    if (args && results) {
      for (uint32_t k = 0; k < ft.nparams; k++) args[k] = zero_val(ft.params[k]);
      shoal_diag_t diag;
      shoal_store_set_fuel(s, FUZZ_FUEL);
      shoal_err_t err = shoal_func_call(s, e.of.func, args, ft.nparams, results, ft.nresults, &diag);
      if (err == SHOAL_ERR_SUSPENDED) shoal_store_cancel(s);
    }
    free(args);
    free(results);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  shoal_module_t *m = NULL;
  shoal_diag_t diag;
  if (shoal_module_new(data, size, &m, &diag) != SHOAL_ERR_OK) return 0;

  shoal_store_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.size = sizeof cfg;
  cfg.fuel = FUZZ_FUEL;
  cfg.max_memory_bytes = (uint64_t)FUZZ_MAX_PAGES * 65536;
  cfg.max_table_elems = FUZZ_MAX_ELEMS;
  cfg.stack_bytes = FUZZ_STACK;
  cfg.max_call_depth = FUZZ_DEPTH;
  shoal_store_t *s = NULL;
  if (shoal_store_new(&cfg, &s) != SHOAL_ERR_OK) {
    shoal_module_free(m);
    return 0;
  }

  size_t nimports = shoal_module_import_count(m);
  shoal_extern_t *imports = calloc(nimports + 1, sizeof *imports);
  bool ok = imports != NULL;
  for (size_t i = 0; ok && i < nimports; i++) {
    shoal_import_desc_t imp;
    shoal_module_import(m, i, &imp);
    ok = make_import(s, &imp, &imports[i]);
  }
  shoal_instance_t *inst = NULL;
  if (ok && shoal_instance_new(s, m, imports, nimports, &inst, &diag) == SHOAL_ERR_OK)
    call_exports(s, inst, m);

  free(imports);
  shoal_store_free(s);
  shoal_module_free(m);
  return 0;
}
