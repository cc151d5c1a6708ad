/*
** runtime.h: the run-time objects (store, instances, functions, memories,
** tables, globals) and the execution state the interpreter works on.
** Internal to the engine.
*/
#ifndef ENG_RUNTIME_H
#define ENG_RUNTIME_H

#include <stdatomic.h>
#include "module.h"

struct shoal_memory {
  uint8_t *base;          /* stable for the memory's life: growth never moves it */
  uint64_t size;          /* bytes accessible now = pages * 64 KiB */
  uint64_t pages;
  uint64_t max_pages;     /* effective maximum: declared max, store limit, 65536 */
  eng_limits decl;        /* the type, as declared or last grown (min tracks pages) */
  size_t reserved;        /* bytes of address space reserved at base */
  bool imaged;            /* its first pages map a module's image (not reused by another instance) */
  unsigned track;         /* track.c's slot + 1 while its touched pages are tracked, else 0 */
  struct shoal_memory *next_in_store;
};

struct shoal_table {
  eng_valtype elem;
  eng_limits decl;        /* min tracks size */
  uint32_t size, cap;
  uint64_t max;           /* effective maximum */
  void **elems;           /* shoal_func_t* or externref pointers; NULL = null */
  struct shoal_table *next_in_store;
};

struct shoal_global {
  eng_globaltype type;
  shoal_raw_t val;
};

struct shoal_func {
  const eng_functype *type;
  shoal_instance_t *inst;         /* NULL for host functions */
  const eng_code *code;           /* wasm functions */
  shoal_host_fn_t host;           /* host functions */
  void *env;
  uint32_t idx;                   /* index in its module (wasm functions) */
  struct shoal_func *next_in_store; /* host functions only */
  void (*env_free)(void *);
  eng_functype own_type;          /* host functions: their copied type */
  /* Added by store.c: host functions' type as shoal_valtype_t, for
  ** shoal_func_type (params then results). */
  shoal_valtype_t *host_valtypes;
};

struct shoal_instance {
  shoal_store_t *store;
  const shoal_module_t *module;
  shoal_func_t **funcs;           /* nfuncs: imported then defined */
  shoal_func_t *own_funcs;        /* defined functions */
  shoal_table_t **tables;
  shoal_memory_t **mems;
  shoal_global_t **globals;
  shoal_global_t *own_globals;
  uint8_t *elem_dropped;          /* nelems flags */
  uint8_t *data_dropped;          /* ndatas flags */
  shoal_memory_t *mem0;           /* mems[0] or NULL: the interpreter's fast path */
  struct shoal_instance *next_in_store;
};

/* A call frame on the engine's own frame stack: wasm calls never recurse on
** the C stack, so an execution can be suspended and resumed. */
typedef struct eng_frame {
  const uint32_t *ret_pc;         /* where the caller continues */
  shoal_raw_t *fp;                /* the caller's frame */
  shoal_func_t *func;             /* the caller */
} eng_frame;

/* State of a suspended execution, for shoal_store_resume. */
typedef struct eng_suspend {
  bool active;
  const uint32_t *pc;             /* the call instruction to retry */
  shoal_raw_t *fp;
  shoal_func_t *func;
  uint32_t base_depth;            /* frame depth when the outer call began */
  shoal_raw_t *io;                /* where the outermost results go */
  uint32_t nresults;
  shoal_raw_t *base;              /* the outermost frame: results are read from here */
  shoal_raw_t *raw_results;       /* the embedder's buffer for shoal_func_call_raw */
  shoal_val_t *results;           /* or the typed buffer for shoal_func_call */
  const eng_functype *outer_type;
  shoal_func_t *outer_host;       /* outer call was to a host function directly */
} eng_suspend;

struct shoal_store {
  shoal_store_config_t cfg;
  void *data;

  /* Execution state */
  shoal_raw_t *stack, *stack_end; /* value stack (reserved with mmap, committed lazily) */
  shoal_raw_t *stack_top;         /* first free slot while a host function runs (re-entry), else NULL */
  shoal_func_t *cur_func;         /* the function running now (for traps and backtraces) */
  size_t stack_reserved;
  eng_frame *frames;
  uint32_t depth, max_depth;
  _Atomic int interrupt;
  int64_t fuel;                   /* remaining when fuel_on */
  bool fuel_on;
  int64_t budget;                 /* back-edges/calls until the next slow check */
  eng_suspend susp;
  int exit_code;

  /* Ownership: small objects (instances and their arrays, functions,
  ** globals, table headers) come from the store's arena, freed at once;
  ** the lists are of what needs more than that. */
  struct eng_block *blocks;       /* the arena; the first block is kept by shoal_store_reset */
  size_t block_used;
  shoal_instance_t *instances;
  shoal_memory_t *memories;
  shoal_table_t *tables;
  shoal_func_t *host_funcs;
  shoal_memory_t *spare_mems;     /* mappings kept by shoal_store_reset for the next memories */

  /* Added by instance.c: when an outer call suspends, its raw io buffer is
  ** moved here (and susp.io repointed) so it outlives the caller's frame. */
  shoal_raw_t *susp_iobuf;
  size_t susp_iocap;
};

struct shoal_caller {
  shoal_store_t *store;
  shoal_instance_t *inst;
  shoal_diag_t *diag;
};

/* interp.c: runs f on the store's stack. io holds the arguments and
** receives the results. Traps fill diag with message and backtrace. */
shoal_err_t eng_invoke(shoal_store_t *s, shoal_func_t *f, shoal_raw_t *io, shoal_diag_t *diag);
shoal_err_t eng_resume(shoal_store_t *s, shoal_diag_t *diag);

/* instance.c: evaluates a validated constant expression. */
shoal_raw_t eng_constexpr_eval(const shoal_instance_t *inst, const eng_constexpr *ce);
/* The reference held by item i of element segment seg (not dropped). */
void *eng_elem_item(const shoal_instance_t *inst, const eng_elem *seg, uint32_t i);

/* memory.c / table.c: growth that honours the effective maximum; return
** the old size or -1. */
int64_t eng_memory_grow(shoal_memory_t *m, uint64_t delta);
int64_t eng_table_grow(shoal_table_t *t, uint64_t delta, void *init);

/* store.c: the store's stack, reserved on first use. */
shoal_err_t eng_store_stack(shoal_store_t *s);
/* store.c: n zeroed bytes living as long as the store (NULL: out of memory). */
void *eng_store_alloc(shoal_store_t *s, size_t n);
/* memory.c: a memory's mapping kept for reuse (zeroed), or unmapped. */
void eng_memory_retire(shoal_store_t *s, shoal_memory_t *m);
/* memory.c: for each host page of [base, base + size), whether it exists
** (resident or swapped out: 1) or reads as zero untouched (0), from
** /proc/self/pagemap; false when that cannot be read or cap is too small. */
bool eng_pages_present(const uint8_t *base, uint64_t size, uint64_t *map, uint64_t cap);

/* track.c: a small memory's touched pages learnt from faults (see there).
** start: m cleared and at its new size (false: not tracked); reset: zero
** the touched pages, shrink to size bytes; grow: let the guest reach size
** bytes (false: too large, stop first); stop: accessible as untracked
** (unmapping: it is about to go); fault: from the fault handler. */
bool eng_track_start(shoal_memory_t *m);
void eng_track_reset(shoal_memory_t *m, uint64_t size);
bool eng_track_grow(shoal_memory_t *m, uint64_t size);
void eng_track_stop(shoal_memory_t *m, bool unmapping);
bool eng_track_fault(const void *addr);

/* memory.c: m zeroed (an imaged one: its image back) and shrunk back to
** pages (no more than it has); false when the kernel refuses. */
bool eng_memory_rewind(const shoal_store_t *s, shoal_memory_t *m, uint64_t pages);
/* memory.c: m's image mapped over mem (made by inst for it); false: copy
** the segments instead. */
bool eng_memory_map_image(shoal_memory_t *mem, const shoal_module_t *m);
void eng_memory_unmap(shoal_memory_t *m);

/* memory.c / table.c: create an entity owned by s with the given type
** (limits checked against the store's limits). */
shoal_err_t eng_memory_create(shoal_store_t *s, const eng_limits *lim, shoal_memory_t **out,
                              shoal_diag_t *diag);
shoal_err_t eng_table_create(shoal_store_t *s, eng_valtype elem, const eng_limits *lim,
                             void *init, shoal_table_t **out, shoal_diag_t *diag);

#endif
