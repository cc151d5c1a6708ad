/*
** Run-time side of the component layer: component instances, their handle
** tables, functions, and the canonical ABI context shared by cmp_canon.c,
** cmp_string.c and cmp_instance.c.
*/
#ifndef SHOAL_CMP_RT_H
#define SHOAL_CMP_RT_H

#include "cmp.h"

enum { CMP_ENC_UTF8 = 0, CMP_ENC_UTF16 = 1, CMP_ENC_LATIN1_UTF16 = 2 };

#define CMP_MAX_STRING_BYTES ((1u << 28) - 1)
#define CMP_MAX_LIST_BYTES ((1u << 28) - 1)
#define CMP_UTF16_TAG (1u << 31)

/* One handle table entry (CanonicalABI.md "Table State", "Resource State"). */
typedef struct cmp_handle {
  const cmp_type_t *rt;   /* the resource type; NULL: free slot */
  uint32_t rep;
  bool own;
  uint32_t num_lends;
  uint32_t scope;         /* borrow: the call that lent it */
  uint32_t next_free;
} cmp_handle_t;

typedef struct cmp_table {
  cmp_handle_t *h;        /* index 0 is never used */
  uint32_t n, cap, free_head;
} cmp_table_t;

/* A component instance at run time (one per instantiated scope). */
typedef struct cmp_cinst {
  struct cmp_cinst *next_all;
  cmp_table_t handles;
  bool may_leave, may_enter;
  uint32_t num_borrows;   /* borrows lent into the current export call */
  const cmp_scope_t *scope;
  shoal_wasi_ctx_t *wasi;  /* what its imports' host functions see (shoal_ccall_wasi) */
} cmp_cinst_t;

/* A component-level function value. */
typedef struct cmp_rfunc {
  cmp_type_t *type;
  enum { CMP_FN_LIFTED, CMP_FN_HOST } kind;
  /* lifted */
  shoal_func_t *core;
  shoal_memory_t *memory;
  shoal_func_t *realloc, *post_return;
  uint8_t encoding;
  cmp_cinst_t *inst;
  /* host */
  shoal_chost_fn_t host;
  void *env;
  const char *name;
} cmp_rfunc_t;

/* What a host function sees of its call (shoal_ccall_t). */
struct shoal_ccall {
  shoal_store_t *store;
  shoal_diag_t *diag;
  shoal_wasi_ctx_t *wasi;  /* the calling instance's */
  int exit_status;
};

/* Canonical ABI call context (CanonicalABI.md "LiftLowerContext"). */
typedef struct cmp_cx {
  shoal_store_t *store;
  shoal_memory_t *mem;
  shoal_func_t *realloc;
  uint8_t encoding;
  cmp_cinst_t *inst;      /* owner of the handle table; NULL for the host side */
  cmp_table_t *host_table;/* handles held by the host (shoal_cval_t.of.handle) */
  shoal_diag_t *diag;
} cmp_cx_t;

shoal_err_t cmp_trap(cmp_cx_t *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Linear memory access with bounds checks (the memory may grow during realloc). */
shoal_err_t cmp_mem_check(cmp_cx_t *cx, uint64_t ptr, uint64_t len, uint32_t align, const char *what);
uint8_t *cmp_mem_at(cmp_cx_t *cx, uint32_t ptr);
shoal_err_t cmp_realloc(cmp_cx_t *cx, uint32_t old, uint32_t old_size, uint32_t align, uint32_t size,
                        uint32_t *out);

/* cmp_canon.c */
shoal_err_t cmp_load(cmp_cx_t *cx, uint32_t ptr, cmp_type_t *t, shoal_cval_t *out);
shoal_err_t cmp_store(cmp_cx_t *cx, const shoal_cval_t *v, cmp_type_t *t, uint32_t ptr);
/* Lift from flat values vals[*i...] of core types flat[*i...]. */
shoal_err_t cmp_lift_flat(cmp_cx_t *cx, const shoal_raw_t *vals, const uint8_t *flat, uint32_t *i,
                          cmp_type_t *t, shoal_cval_t *out);
/* Lower into out[*i...] (flat types from cmp_flat_types). */
shoal_err_t cmp_lower_flat(cmp_cx_t *cx, const shoal_cval_t *v, cmp_type_t *t, shoal_raw_t *out,
                           const uint8_t *flat, uint32_t *i);
/* Checks that a host-provided value has the shape of t (before lowering). */
shoal_err_t cmp_check_value(cmp_cx_t *cx, const shoal_cval_t *v, const cmp_type_t *t);

/* cmp_string.c */
shoal_err_t cmp_load_string(cmp_cx_t *cx, uint32_t ptr, uint32_t tagged_units, shoal_cval_t *out);
shoal_err_t cmp_store_string(cmp_cx_t *cx, const char *s, size_t len, uint32_t *ptr, uint32_t *units);
bool cmp_utf8_valid(const uint8_t *s, size_t n);

/* cmp_handles.c */
shoal_err_t cmp_table_add(cmp_cx_t *cx, cmp_table_t *t, cmp_handle_t h, uint32_t *idx);
cmp_handle_t *cmp_table_get(cmp_table_t *t, uint32_t idx);
void cmp_table_remove(cmp_table_t *t, uint32_t idx);
void cmp_table_free(cmp_table_t *t);
void cmp_table_clear(cmp_table_t *t);     /* empty, its memory kept */

/* cmp_call.c */
/* caller_table: the caller's handles (NULL: the host's); wasi: the calling
** instance's context, what host functions get from shoal_ccall_wasi. */
shoal_err_t cmp_call(shoal_store_t *s, cmp_rfunc_t *f, cmp_table_t *caller_table, shoal_wasi_ctx_t *wasi,
                     const shoal_cval_t *args, size_t nargs, shoal_cval_t *result, shoal_diag_t *diag);

#endif
