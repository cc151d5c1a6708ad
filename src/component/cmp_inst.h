/*
** Component instances at run time: the values of each index space while a
** scope is instantiated, and the objects the instance owns.
*/
#ifndef SHOAL_CMP_INST_H
#define SHOAL_CMP_INST_H

#include "cmp_rt.h"

typedef struct cmp_rcore cmp_rcore_t;
typedef struct cmp_rinst cmp_rinst_t;

/* The run-time value of one index space item. */
typedef union cmp_rval {
  shoal_module_t *module;
  cmp_rcore_t *core;
  shoal_extern_t ext;
  cmp_rfunc_t *func;
  cmp_rinst_t *inst;
  const cmp_scope_t *comp;
} cmp_rval_t;

/* A core instance: a real one, or a bag of inline exports. */
struct cmp_rcore {
  shoal_instance_t *inst;
  uint32_t n;
  const cmp_arg_t *names;
  shoal_extern_t *ex;
};

/* A component instance value: its exports. */
struct cmp_rinst {
  uint32_t n;
  const char **names;
  uint32_t *name_lens;
  cmp_sort_t *sorts;
  cmp_rval_t *vals;
};

/* An instance value of n exports, its arrays zeroed, from arena a (NULL:
** out of memory). */
cmp_rinst_t *cmp_rinst_alloc(cmp_arena_t *a, uint32_t n);

typedef struct cmp_lower_env {
  cmp_rfunc_t *callee;
  const cmp_type_t *lowered;  /* the canon lower's own core func type */
  shoal_memory_t *memory;
  shoal_func_t *realloc;
  uint8_t encoding;
  cmp_cinst_t *inst;
} cmp_lower_env_t;

typedef struct cmp_dtor {
  const cmp_type_t *rt;
  shoal_func_t *fn;        /* NULL: no destructor */
  cmp_cinst_t *inst;
  bool has_host;           /* a host resource: its "[resource-drop]R" import */
  shoal_cimport_t host;
} cmp_dtor_t;

struct shoal_cinstance {
  cmp_arena_t arena;
  shoal_store_t *store;
  const shoal_component_t *comp;
  cmp_cinst_t *all;        /* every instantiated scope (for their tables) */
  cmp_table_t host_table;
  cmp_rinst_t *exports;
  shoal_instance_t **cores; /* its core instances, in the order they were made (arena) */
  uint32_t ncores, cores_cap;
  const cmp_dtor_t *host_dtors; /* the pre's: the host resources' destructors */
  uint32_t nhost_dtors;
  cmp_dtor_t *dtors;       /* its own resources' (from the arena) */
  uint32_t ndtors, dtors_cap;
  shoal_wasi_ctx_t *wasi;   /* given to its imports' host functions */
  bool own_wasi;            /* freed with the instance */
  shoal_cpre_t *own_pre;    /* made for this instance alone: freed with it */
};

/* A component with its host imports resolved (cmp_pre.c). */
struct shoal_cpre {
  const shoal_component_t *comp;
  cmp_arena_t arena;
  cmp_rval_t *imports;      /* by root definition index: each import's value */
  cmp_dtor_t *dtors;        /* the host resources' destructors */
  uint32_t ndtors, dtors_cap;
  void (*cleanup)(void *);  /* host state the pre owns (the WASI host's tables) */
  void *cleanup_data;
  /* The root scope's values that every instance gets the same (modules,
  ** nested components, imports and what is aliased from them), and the
  ** definitions left to run per instance (cmp_pre_template). */
  cmp_rval_t *tmpl[CMP_SORT__COUNT];
  uint32_t *run, nrun;
};

/* Works out p's template (after its imports are resolved). */
shoal_err_t cmp_pre_template(shoal_cpre_t *p, shoal_diag_t *diag);

/* The destructor record of resource rt in ci (the host's first), or NULL. */
const cmp_dtor_t *cmp_find_dtor(const shoal_cinstance_t *ci, const cmp_type_t *rt);

struct shoal_cfunc {
  cmp_rfunc_t f;
};

shoal_err_t cmp_lowered_fn(shoal_caller_t *caller, void *env, shoal_raw_t *io);

#endif
