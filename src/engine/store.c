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


/* {===================================================================
** The arena: small objects living as long as the store, freed at once
** =================================================================== */
typedef struct eng_block {
  struct eng_block *next;
  size_t cap;
  max_align_t data[];
} eng_block;

#define STORE_BLOCK 16384u

void *eng_store_alloc(shoal_store_t *s, size_t n) {
  n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
  eng_block *b = s->blocks;
  if (!b || b->cap - s->block_used < n) {
    size_t cap = n > STORE_BLOCK ? n : STORE_BLOCK;
    if (!(b = malloc(sizeof *b + cap))) return NULL;
    /* a new block goes behind the current one when it is only for this
    ** large object, so the current one keeps serving small ones */
    if (s->blocks && cap > STORE_BLOCK) {
      b->next = s->blocks->next;
      s->blocks->next = b;
      b->cap = cap;
      memset(b->data, 0, n);
      return b->data;
    }
    b->next = s->blocks;
    b->cap = cap;
    s->blocks = b;
    s->block_used = 0;
  }
  void *p = (char *)b->data + s->block_used;
  s->block_used += n;
  memset(p, 0, n);
  return p;
}
void *shoal_store_alloc(shoal_store_t *s, size_t n) { return s ? eng_store_alloc(s, n) : NULL; }
/* }=================================================================== */

/* Everything made in s, except what shoal_store_reset keeps (the first
** block of the arena and the spare memory mappings when keep). */
static void release(shoal_store_t *s, bool keep) {
  for (shoal_memory_t *m = s->memories, *n; m; m = n) {
    n = m->next_in_store;
    if (keep) {
      eng_memory_retire(s, m);
    } else {
      eng_memory_unmap(m);
      free(m);
    }
  }
  s->memories = NULL;
  for (shoal_table_t *t = s->tables; t; t = t->next_in_store) free(t->elems);
  s->tables = NULL;
  for (shoal_func_t *f = s->host_funcs; f; f = f->next_in_store)
    if (f->env_free) f->env_free(f->env);
  s->host_funcs = NULL;
  s->instances = NULL;
  eng_block *b = s->blocks, *first = NULL;
  if (keep && b) {  /* keep the oldest block: the one a store of this size always needs */
    while (b->next) {
      eng_block *n = b->next;
      free(b);
      b = n;
    }
    first = b;
  } else {
    while (b) {
      eng_block *n = b->next;
      free(b);
      b = n;
    }
  }
  s->blocks = first;
  s->block_used = 0;
}

void shoal_store_free(shoal_store_t *s) {
  if (!s) return;
  release(s, false);
  for (shoal_memory_t *m = s->spare_mems, *n; m; m = n) {
    n = m->next_in_store;
    eng_memory_unmap(m);
    free(m);
  }
  if (s->stack) munmap(s->stack, s->stack_reserved);
  free(s->frames);
  free(s->susp_iobuf);
  free(s);
}

shoal_err_t shoal_store_reset(shoal_store_t *s) {
  if (!s) return SHOAL_ERR_ARG;
  if (s->stack_top || s->depth) return SHOAL_ERR_ARG;  /* called from inside an execution */
  release(s, true);
  return shoal_store_rearm(s);
}

shoal_err_t shoal_store_rearm(shoal_store_t *s) {
  if (!s) return SHOAL_ERR_ARG;
  if (s->stack_top || s->depth) return SHOAL_ERR_ARG;
  memset(&s->susp, 0, sizeof s->susp);
  s->cur_func = NULL;
  s->exit_code = 0;
  atomic_store(&s->interrupt, 0);
  shoal_store_set_fuel(s, s->cfg.fuel);
  return SHOAL_ERR_OK;
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

/* Whether type is one a host function may have. */
static bool valid_functype(const shoal_functype_t *type) {
  if (!type || type->nparams > ENG_MAX_PARAMS || type->nresults > ENG_MAX_RESULTS) return false;
  if ((type->nparams && !type->params) || (type->nresults && !type->results)) return false;
  for (uint32_t i = 0; i < type->nparams; i++)
    if (!valid_valtype(type->params[i])) return false;
  for (uint32_t i = 0; i < type->nresults; i++)
    if (!valid_valtype(type->results[i])) return false;
  return true;
}

/* Bytes after the eng_functype for its two arrays (+1: a zero-length
** type still gets real pointers). */
static size_t functype_extra(const shoal_functype_t *type) {
  size_t n = (size_t)type->nparams + type->nresults;
  return (n + 1) * sizeof(shoal_valtype_t) + n + 1;
}

/* Copies type into ft, its arrays from mem (functype_extra bytes). */
static void functype_fill(const shoal_functype_t *type, eng_functype *ft, void *mem, shoal_valtype_t **vt) {
  size_t n = (size_t)type->nparams + type->nresults;
  *vt = mem;
  ft->types = (eng_valtype *)(*vt + n + 1);
  ft->nparams = type->nparams;
  ft->nresults = type->nresults;
  /* The same hash decode.c gives module types, should anyone compare. */
  uint32_t h = 2166136261u;
  h = (h ^ type->nparams) * 16777619u;
  h = (h ^ type->nresults) * 16777619u;
  for (size_t i = 0; i < n; i++) {
    shoal_valtype_t t = i < type->nparams ? type->params[i] : type->results[i - type->nparams];
    ft->types[i] = (eng_valtype)t;
    (*vt)[i] = t;
    h = (h ^ (uint8_t)t) * 16777619u;
  }
  ft->hash = h;
}

static shoal_func_t *host_func_link(shoal_store_t *s, shoal_func_t *f, shoal_host_fn_t fn, void *env,
                                    void (*env_free)(void *)) {
  f->host = fn;
  f->env = env;
  f->env_free = env_free;
  f->next_in_store = s->host_funcs;
  s->host_funcs = f;
  return f;
}

shoal_func_t *shoal_func_new_host(shoal_store_t *s, const shoal_functype_t *type,
                                  shoal_host_fn_t fn, void *env,
                                  void (*env_free)(void *)) {
  if (!s || !fn || !valid_functype(type)) return NULL;
  shoal_func_t *f = eng_store_alloc(s, sizeof *f + functype_extra(type));
  if (!f) return NULL;
  functype_fill(type, &f->own_type, f + 1, &f->host_valtypes);
  f->type = &f->own_type;
  return host_func_link(s, f, fn, env, env_free);
}

struct shoal_hosttype {
  eng_functype type;
  shoal_valtype_t *valtypes;
};

shoal_hosttype_t *shoal_hosttype_new(const shoal_functype_t *type) {
  if (!valid_functype(type)) return NULL;
  shoal_hosttype_t *t = malloc(sizeof *t + functype_extra(type));
  if (t) functype_fill(type, &t->type, t + 1, &t->valtypes);
  return t;
}

void shoal_hosttype_free(shoal_hosttype_t *t) { free(t); }

shoal_func_t *shoal_func_new_host_typed(shoal_store_t *s, const shoal_hosttype_t *type,
                                        shoal_host_fn_t fn, void *env,
                                        void (*env_free)(void *)) {
  if (!s || !type || !fn) return NULL;
  shoal_func_t *f = eng_store_alloc(s, sizeof *f);
  if (!f) return NULL;
  f->type = &type->type;
  f->host_valtypes = type->valtypes;
  return host_func_link(s, f, fn, env, env_free);
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
