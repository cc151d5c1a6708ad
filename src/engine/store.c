/*
** store.c: stores (configuration, ownership of everything made in them,
** the execution stacks, interrupt and fuel) and host functions.
*/
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "runtime.h"

#define STORE_DEFAULT_STACK (8u * 1024u * 1024u)
#define STORE_DEFAULT_DEPTH 20000u
#define STORE_DEFAULT_TABLE 10000000u
/* Back-edges and calls between two slow checks (interrupt, fuel). */
#define STORE_BUDGET_WINDOW ((int64_t)1 << 20)

shoal_err_t shoal_store_new(const shoal_store_config_t *cfg, shoal_store_t **out) {
  if (!out) return SHOAL_ERR_ARG;
  *out = NULL;
  shoal_store_t *s = calloc(1, sizeof *s);
  if (!s) return SHOAL_ERR_NOMEM;
  if (cfg) {
    /* cfg->size lets an older embedder pass a shorter struct; 0 is taken
    ** as "this version's size" for zero-initialised configs. */
    size_t n = cfg->size ? cfg->size : sizeof *cfg;
    if (n > sizeof *cfg) n = sizeof *cfg;
    memcpy(&s->cfg, cfg, n);
  }
  s->cfg.size = sizeof s->cfg;
  if (!s->cfg.stack_bytes) s->cfg.stack_bytes = STORE_DEFAULT_STACK;
  if (s->cfg.stack_bytes < 4096) s->cfg.stack_bytes = 4096;
  if (!s->cfg.max_call_depth) s->cfg.max_call_depth = STORE_DEFAULT_DEPTH;
  if (!s->cfg.max_table_elems) s->cfg.max_table_elems = STORE_DEFAULT_TABLE;
  s->max_depth = s->cfg.max_call_depth;
  atomic_init(&s->interrupt, 0);
  shoal_store_set_fuel(s, s->cfg.fuel);
  *out = s;
  return SHOAL_ERR_OK;
}


void shoal_store_free(shoal_store_t *s) {
  if (!s) return;
  for (shoal_instance_t *i = s->instances, *n; i; i = n) {
    n = i->next_in_store;
    eng_instance_free(i);
  }
  for (shoal_memory_t *m = s->memories, *n; m; m = n) {
    n = m->next_in_store;
    if (m->base) munmap(m->base, m->reserved);
    free(m);
  }
  for (shoal_table_t *t = s->tables, *n; t; t = n) {
    n = t->next_in_store;
    free(t->elems);
    free(t);
  }
  for (shoal_global_t *g = s->globals, *n; g; g = n) {
    n = g->next_in_store;
    free(g);
  }
  for (shoal_func_t *f = s->host_funcs, *n; f; f = n) {
    n = f->next_in_store;
    if (f->env_free) f->env_free(f->env);
    free(f->own_type.types);
    free(f->host_valtypes);
    free(f);
  }
  if (s->stack) munmap(s->stack, s->stack_reserved);
  free(s->frames);
  free(s->susp_iobuf);
  free(s);
}

void shoal_store_interrupt(shoal_store_t *s) {
  /* Only the atomic flag: anything else would race with the running
  ** thread. The interpreter sees it at its next slow check. */
  if (s) atomic_store_explicit(&s->interrupt, 1, memory_order_relaxed);
}

void shoal_store_clear_interrupt(shoal_store_t *s) {
  if (s) atomic_store_explicit(&s->interrupt, 0, memory_order_relaxed);
}

void shoal_store_set_fuel(shoal_store_t *s, int64_t fuel) {
  if (!s) return;
  /* s->budget is the window granted now; s->fuel is what remains beyond
  ** it (the interpreter's refill moves the next window from fuel to
  ** budget, and traps when fuel is then empty). */
  s->fuel_on = fuel > 0;
  if (s->fuel_on) {
    s->budget = fuel < STORE_BUDGET_WINDOW ? fuel : STORE_BUDGET_WINDOW;
    s->fuel = fuel - s->budget;
  } else {
    s->fuel = 0;
    s->budget = STORE_BUDGET_WINDOW;
  }
}

void shoal_store_set_data(shoal_store_t *s, void *data) {
  if (s) s->data = data;
}

void *shoal_store_data(const shoal_store_t *s) { return s ? s->data : NULL; }

shoal_err_t eng_store_stack(shoal_store_t *s) {
  if (s->stack && s->frames) return SHOAL_ERR_OK;
  if (!s->stack) {
    size_t bytes = s->cfg.stack_bytes & ~(size_t)(sizeof(shoal_raw_t) - 1);
    /* Reserve only: the kernel commits pages as the stack is touched, so an
    ** 8 MiB stack costs what is used. */
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return SHOAL_ERR_NOMEM;
    s->stack = p;
    s->stack_end = s->stack + bytes / sizeof(shoal_raw_t);
    s->stack_reserved = bytes;
  }
  if (!s->frames) {
    /* not zeroed: a frame is written by the call that pushes it before
    ** anything reads it (a store per request must not pay a memset) */
    s->frames = malloc(((size_t)s->max_depth + 1) * sizeof *s->frames);
    if (!s->frames) return SHOAL_ERR_NOMEM;
  }
  return SHOAL_ERR_OK;
}

/* {===================================================================
** Host functions
** =================================================================== */
static bool valid_valtype(shoal_valtype_t t) {
  switch (t) {
  case SHOAL_I32: case SHOAL_I64: case SHOAL_F32: case SHOAL_F64:
  case SHOAL_V128: case SHOAL_FUNCREF: case SHOAL_EXTERNREF:
    return true;
  }
  return false;
}

shoal_func_t *shoal_func_new_host(shoal_store_t *s, const shoal_functype_t *type,
                                  shoal_host_fn_t fn, void *env,
                                  void (*env_free)(void *)) {
  if (!s || !type || !fn) return NULL;
  if (type->nparams > ENG_MAX_PARAMS || type->nresults > ENG_MAX_RESULTS) return NULL;
  if ((type->nparams && !type->params) || (type->nresults && !type->results)) return NULL;
  size_t n = (size_t)type->nparams + type->nresults;
  for (uint32_t i = 0; i < type->nparams; i++)
    if (!valid_valtype(type->params[i])) return NULL;
  for (uint32_t i = 0; i < type->nresults; i++)
    if (!valid_valtype(type->results[i])) return NULL;

  shoal_func_t *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  /* +1: a zero-length type still gets real allocations. */
  f->own_type.types = malloc(n + 1);
  f->host_valtypes = malloc((n + 1) * sizeof *f->host_valtypes);
  if (!f->own_type.types || !f->host_valtypes) {
    free(f->own_type.types);
    free(f->host_valtypes);
    free(f);
    return NULL;
  }
  f->own_type.nparams = type->nparams;
  f->own_type.nresults = type->nresults;
  /* The same hash decode.c gives module types, should anyone compare. */
  uint32_t h = 2166136261u;
  h = (h ^ type->nparams) * 16777619u;
  h = (h ^ type->nresults) * 16777619u;
  for (size_t i = 0; i < n; i++) {
    shoal_valtype_t t = i < type->nparams ? type->params[i] : type->results[i - type->nparams];
    f->own_type.types[i] = (eng_valtype)t;
    f->host_valtypes[i] = t;
    h = (h ^ (uint8_t)t) * 16777619u;
  }
  f->own_type.hash = h;
  f->type = &f->own_type;
  f->host = fn;
  f->env = env;
  f->env_free = env_free;
  f->next_in_store = s->host_funcs;
  s->host_funcs = f;
  return f;
}

void shoal_func_type(const shoal_func_t *f, shoal_functype_t *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!f || !f->type) return;
  const shoal_valtype_t *vt;
  if (f->host_valtypes) {
    vt = f->host_valtypes;
  } else {
    const shoal_module_t *m = f->inst->module;
    vt = m->api_types[f->type - m->types];
  }
  out->nparams = f->type->nparams;
  out->nresults = f->type->nresults;
  out->params = vt;
  out->results = vt + f->type->nparams;
}

/* }=================================================================== */
