/*
** spectest_host.c: the "spectest" host module that the core spec test
** scripts import from: print functions, four immutable globals, a table
** and a memory, with the types the reference interpreter gives them.
*/
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct host_func_def {
  const char *name;
  uint32_t nparams;
  shoal_valtype_t params[2];
} host_func_def_t;

static const host_func_def_t func_defs[] = {
  { "print", 0, { SHOAL_I32, SHOAL_I32 } },
  { "print_i32", 1, { SHOAL_I32, SHOAL_I32 } },
  { "print_i64", 1, { SHOAL_I64, SHOAL_I32 } },
  { "print_f32", 1, { SHOAL_F32, SHOAL_I32 } },
  { "print_f64", 1, { SHOAL_F64, SHOAL_I32 } },
  { "print_i32_f32", 2, { SHOAL_I32, SHOAL_F32 } },
  { "print_f64_f64", 2, { SHOAL_F64, SHOAL_F64 } },
};
#define NFUNCS (sizeof func_defs / sizeof func_defs[0])

/* A host function's env: which print it is and whether to print at all. */
typedef struct host_env {
  const host_func_def_t *def;
  bool verbose;
} host_env_t;

typedef struct named_extern {
  const char *name;
  shoal_extern_t ext;
} named_extern_t;

struct spectest_host {
  host_env_t envs[NFUNCS];
  named_extern_t exports[NFUNCS + 6];
  size_t nexports;
};

/* Quiet by default: the scripts call print functions only for their side
** effect on the call path, and test output should stay one line a file. */
static shoal_err_t host_print(shoal_caller_t *caller, void *env, shoal_raw_t *io) {
  (void)caller;
  const host_env_t *he = env;
  if (!he->verbose) return SHOAL_ERR_OK;
  for (uint32_t i = 0; i < he->def->nparams; i++) {
    shoal_val_t v = shoal_val_from_raw(he->def->params[i], io[i]);
    switch (v.type) {
    case SHOAL_I32: printf("%" PRId32 " : i32\n", v.of.i32); break;
    case SHOAL_I64: printf("%" PRId64 " : i64\n", v.of.i64); break;
    case SHOAL_F32: {
      float f;
      memcpy(&f, &v.of.f32_bits, 4);
      printf("%.9g : f32\n", (double)f);
      break;
    }
    case SHOAL_F64: {
      double d;
      memcpy(&d, &v.of.f64_bits, 8);
      printf("%.17g : f64\n", d);
      break;
    }
    default: break;
    }
  }
  if (he->def->nparams == 0) printf("spectest.print\n");
  return SHOAL_ERR_OK;
}

static void add(spectest_host_t *h, const char *name, shoal_extern_kind_t kind, void *entity) {
  named_extern_t *ne = &h->exports[h->nexports++];
  ne->name = name;
  ne->ext.kind = kind;
  switch (kind) {
  case SHOAL_EXTERN_FUNC: ne->ext.of.func = entity; break;
  case SHOAL_EXTERN_TABLE: ne->ext.of.table = entity; break;
  case SHOAL_EXTERN_MEMORY: ne->ext.of.memory = entity; break;
  case SHOAL_EXTERN_GLOBAL: ne->ext.of.global = entity; break;
  }
}

spectest_host_t *spectest_host_new(shoal_store_t *s, bool verbose) {
  spectest_host_t *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  for (size_t i = 0; i < NFUNCS; i++) {
    h->envs[i].def = &func_defs[i];
    h->envs[i].verbose = verbose;
    shoal_functype_t ft = { .nparams = func_defs[i].nparams, .nresults = 0,
                            .params = func_defs[i].params, .results = NULL };
    shoal_func_t *f = shoal_func_new_host(s, &ft, host_print, &h->envs[i], NULL);
    if (!f) goto fail;
    add(h, func_defs[i].name, SHOAL_EXTERN_FUNC, f);
  }

  float f32 = 666.6f;
  double f64 = 666.6;
  shoal_val_t v;
  shoal_global_t *g;
  v.type = SHOAL_I32, v.of.i32 = 666;
  if (!(g = shoal_global_new(s, SHOAL_I32, false, v))) goto fail;
  add(h, "global_i32", SHOAL_EXTERN_GLOBAL, g);
  v.type = SHOAL_I64, v.of.i64 = 666;
  if (!(g = shoal_global_new(s, SHOAL_I64, false, v))) goto fail;
  add(h, "global_i64", SHOAL_EXTERN_GLOBAL, g);
  v.type = SHOAL_F32;
  memcpy(&v.of.f32_bits, &f32, 4);
  if (!(g = shoal_global_new(s, SHOAL_F32, false, v))) goto fail;
  add(h, "global_f32", SHOAL_EXTERN_GLOBAL, g);
  v.type = SHOAL_F64;
  memcpy(&v.of.f64_bits, &f64, 8);
  if (!(g = shoal_global_new(s, SHOAL_F64, false, v))) goto fail;
  add(h, "global_f64", SHOAL_EXTERN_GLOBAL, g);

  shoal_limits_t tl = { .min = 10, .max = 20, .has_max = true };
  shoal_val_t null_ref = { .type = SHOAL_FUNCREF, .of.func = NULL };
  shoal_table_t *t = shoal_table_new(s, SHOAL_FUNCREF, &tl, null_ref);
  if (!t) goto fail;
  add(h, "table", SHOAL_EXTERN_TABLE, t);

  shoal_limits_t ml = { .min = 1, .max = 2, .has_max = true };
  shoal_memory_t *m = shoal_memory_new(s, &ml);
  if (!m) goto fail;
  add(h, "memory", SHOAL_EXTERN_MEMORY, m);
  return h;

fail:
  free(h); /* the entities made so far belong to the store */
  return NULL;
}

void spectest_host_free(spectest_host_t *h) {
  free(h);
}

bool spectest_host_lookup(const spectest_host_t *h, const char *name, size_t len,
                          shoal_extern_t *out) {
  for (size_t i = 0; i < h->nexports; i++) {
    const named_extern_t *ne = &h->exports[i];
    if (strlen(ne->name) == len && memcmp(ne->name, name, len) == 0) {
      *out = ne->ext;
      return true;
    }
  }
  return false;
}
