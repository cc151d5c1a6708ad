/*
** Internal shared declarations of the component layer (prefix cmp_): the
** type graph, the decoded component tree and the helpers between files.
*/
#ifndef SHOAL_CMP_H
#define SHOAL_CMP_H

#include "shoal/component.h"
#include <stdatomic.h>
#include <stdarg.h>

/* {===================================================================
** Errors: every failure names what and where (byte offset in the binary).
** =================================================================== */
shoal_err_t cmp_fail(shoal_diag_t *d, shoal_err_t code, int64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* }=================================================================== */

/* {===================================================================
** Arena: every type, name and definition of one top-level component lives
** in one arena, freed at once with the component.
** =================================================================== */
typedef struct cmp_arena_block cmp_arena_block_t;
typedef struct cmp_arena {
  cmp_arena_block_t *head;
  shoal_store_t *store;   /* set: allocate from the store's memory instead (freed with it) */
} cmp_arena_t;
void *cmp_alloc(cmp_arena_t *a, size_t n); /* zeroed; NULL when out of memory */
void cmp_arena_free(cmp_arena_t *a);
/* }=================================================================== */

/* {===================================================================
** Types. Value types follow Binary.md's defvaltype; identity matters for
** resources only (each definition or (sub resource) import is fresh).
** =================================================================== */
typedef struct cmp_type cmp_type_t;

typedef struct cmp_field {   /* record field, variant case, func param, label */
  const char *name;
  uint32_t name_len;
  cmp_type_t *type;          /* NULL: a case without payload, a flag or enum label */
} cmp_field_t;

typedef enum cmp_sort {
  CMP_SORT_CORE_FUNC, CMP_SORT_CORE_TABLE, CMP_SORT_CORE_MEMORY, CMP_SORT_CORE_GLOBAL,
  CMP_SORT_CORE_TYPE, CMP_SORT_CORE_MODULE, CMP_SORT_CORE_INSTANCE,
  CMP_SORT_FUNC, CMP_SORT_VALUE, CMP_SORT_TYPE, CMP_SORT_COMPONENT, CMP_SORT_INSTANCE,
  CMP_SORT__COUNT
} cmp_sort_t;
const char *cmp_sort_name(cmp_sort_t s);

typedef struct cmp_extern {  /* a named import or export in a component/instance type */
  const char *name;
  uint32_t name_len;
  cmp_sort_t sort;           /* FUNC, VALUE, TYPE, COMPONENT, INSTANCE, CORE_MODULE */
  cmp_type_t *type;
} cmp_extern_t;

typedef struct cmp_core_extern { /* core module type import/export */
  const char *module, *name;
  uint32_t module_len, name_len;
  shoal_externtype_t type;
} cmp_core_extern_t;

struct cmp_type {
  shoal_ctype_kind_t kind;
  uint32_t n;                /* fields/cases/labels/params/elements/imports */
  cmp_field_t *fields;       /* record, variant, tuple (unnamed), flags, enum, func params */
  cmp_type_t *elem;          /* list, option, own/borrow (the resource), result ok, stream/future */
  cmp_type_t *err;           /* result error; map value */
  cmp_type_t *result;        /* func result or NULL */
  uint32_t fixed_len;        /* fixed-size list (0: variable) */
  bool async;                /* async func */
  uint32_t depth;            /* nesting of value types (bounded by CMP_MAX_TYPE_DEPTH) */
  /* component / instance types, core module types */
  uint32_t nexports;
  cmp_extern_t *imports;     /* component types: n of them */
  cmp_extern_t *exports;
  cmp_core_extern_t *core_imports, *core_exports;
  shoal_functype_t core_func;  /* core func type */
  shoal_hosttype_t *host_type; /* canon lower / resource built-ins: core_func, for the engine */
  uint8_t *lower_flat;       /* canon lower: the callee's flat param types, worked out once */
  uint32_t lower_nflat;      /* their count (past CMP_MAX_FLAT_PARAMS: through memory) */
  /* resource */
  shoal_valtype_t rep;
  int64_t dtor;              /* core func index in the defining scope, or -1 */
  struct cmp_scope *owner;   /* defining scope of a concrete resource, NULL if abstract */
  uint32_t owner_idx;        /* resource type index in owner */
  /* canonical ABI, computed once by cmp_abi_layout */
  bool layout_done;
  bool all_done;             /* cmp_abi_layout_all reached it */
  bool flat_cached;          /* flat holds its flat types (nflat <= 8) */
  uint8_t flat[8];
  uint32_t size, align;
  uint32_t nflat;            /* number of flat core values; up to CMP_MAX_FLAT_WIDE */
};

#define CMP_MAX_FLAT_PARAMS 16
#define CMP_MAX_FLAT_RESULTS 1
#define CMP_MAX_TYPE_DEPTH 100 /* value types nested deeper are rejected: recursion stays shallow */
#define CMP_FLAT_CAP 64   /* beyond this, flat lists are not kept (always via memory) */

cmp_type_t *cmp_prim(shoal_ctype_kind_t k);         /* static primitive type */
bool cmp_is_prim(shoal_ctype_kind_t k);
bool cmp_is_valtype(const cmp_type_t *t);
/* Structural equality / subtyping of types (resources by identity, via
** the substitution map when given). */
typedef struct cmp_subst {
  const cmp_type_t **from, **to;
  uint32_t n, cap;
} cmp_subst_t;
bool cmp_subst_add(cmp_subst_t *m, const cmp_type_t *from, const cmp_type_t *to);
void cmp_subst_free(cmp_subst_t *m);
const cmp_type_t *cmp_subst_get(const cmp_subst_t *m, const cmp_type_t *t);
/* Is `actual` a subtype of `expected` for sort s? On failure writes why to why. */
bool cmp_core_extern_sub(const shoal_externtype_t *a, const shoal_externtype_t *e);
bool cmp_subtype(cmp_sort_t s, const cmp_type_t *actual, const cmp_type_t *expected,
                 cmp_subst_t *m, char *why, size_t whylen);
/* expected with every mapped resource replaced (new types in arena when needed). */
cmp_type_t *cmp_type_subst(cmp_arena_t *a, cmp_type_t *t, const cmp_subst_t *m);
bool cmp_contains_borrow(const cmp_type_t *t);
/* }=================================================================== */

/* {===================================================================
** The decoded component: a scope per component (nested ones too) with
** its definitions in order and its index spaces.
** =================================================================== */
typedef enum cmp_def_kind {
  CMP_DEF_CORE_MODULE,     /* core module: module */
  CMP_DEF_CORE_INSTANTIATE,/* core instance: a = module idx, args */
  CMP_DEF_CORE_INLINE,     /* core instance from inline exports */
  CMP_DEF_CORE_TYPE,
  CMP_DEF_COMPONENT,       /* nested component: scope */
  CMP_DEF_INSTANTIATE,     /* instance: a = component idx, args */
  CMP_DEF_INLINE,          /* instance from inline exports */
  CMP_DEF_ALIAS_EXPORT,    /* a = instance idx, name */
  CMP_DEF_ALIAS_CORE_EXPORT,
  CMP_DEF_ALIAS_OUTER,     /* a = count, b = index */
  CMP_DEF_TYPE,
  CMP_DEF_CANON_LIFT,      /* a = core func, type, opts */
  CMP_DEF_CANON_LOWER,     /* a = func, opts */
  CMP_DEF_CANON_RESOURCE_NEW, /* type = resource */
  CMP_DEF_CANON_RESOURCE_DROP,
  CMP_DEF_CANON_RESOURCE_REP,
  CMP_DEF_START,
  CMP_DEF_IMPORT,
  CMP_DEF_EXPORT           /* a = sort idx */
} cmp_def_kind_t;

typedef struct cmp_arg {   /* instantiate argument or inline export */
  const char *name;
  uint32_t name_len;
  cmp_sort_t sort;
  uint32_t idx;
} cmp_arg_t;

typedef struct cmp_opts {
  uint8_t encoding;        /* SHOAL_STRING_UTF8 / UTF16 / LATIN1_UTF16 */
  int64_t memory, realloc, post_return; /* core indices or -1 */
} cmp_opts_t;

struct cmp_scope;
typedef struct cmp_def {
  cmp_def_kind_t kind;
  cmp_sort_t sort;         /* sort of the index it defines (or aliases/exports) */
  uint32_t index;          /* the index it got in that sort's space */
  uint32_t a, b;
  const char *name;
  uint32_t name_len;
  cmp_arg_t *args;
  uint32_t nargs;
  cmp_type_t *type;
  cmp_opts_t opts;
  shoal_module_t *module;
  struct cmp_scope *scope; /* nested component */
  int64_t offset;
  /* Where instantiation found a name last time, tried first next time
  ** (atomic: many threads instantiate one component at once). */
  _Atomic uint32_t hint;   /* ALIAS_EXPORT, ALIAS_CORE_EXPORT: the export's position */
  _Atomic(struct cmp_core_plan *) plan; /* CORE_INSTANTIATE (cmp_instance.c; malloc'ed) */
} cmp_def_t;

/* One entry of an index space: its type and the definition that made it. */
typedef struct cmp_item {
  cmp_type_t *type;        /* component sorts; for core func/table/memory/global see ct */
  shoal_externtype_t ct;   /* core func/table/memory/global */
  uint32_t def;            /* index into scope->defs */
} cmp_item_t;

typedef struct cmp_space {
  cmp_item_t *items;
  uint32_t n, cap;
} cmp_space_t;

typedef struct cmp_scope {
  struct cmp_scope *parent;
  cmp_def_t *defs;
  uint32_t ndefs, defs_cap;
  cmp_space_t space[CMP_SORT__COUNT];
  cmp_extern_t *imports, *exports;
  uint32_t nimports, nexports, imports_cap, exports_cap;
  cmp_type_t *type;        /* the component type (imports, exports) */
  uint32_t depth;
} cmp_scope_t;

struct shoal_component {
  cmp_arena_t arena;
  uint8_t *bytes;
  size_t len;
  cmp_scope_t *root;
  shoal_module_t **modules; /* every core module, freed with the component */
  uint32_t nmodules, modules_cap;
};

shoal_err_t cmp_decode(shoal_component_t *c, shoal_diag_t *diag);
/* Parses one type definition (used by cmp_decode for sections and decls). */
struct cmp_reader;
/* }=================================================================== */

/* {===================================================================
** Canonical ABI layout (cmp_abi.c)
** =================================================================== */
void cmp_abi_layout(cmp_type_t *t);     /* fills size, align, flat */
/* Lays out every type of c now, so that calls (in any thread) only read
** layouts: cmp_abi_layout would otherwise write them on first use. */
void cmp_abi_layout_all(const shoal_component_t *c);
uint32_t cmp_flat_count(cmp_type_t *t); /* nflat, saturating at CMP_FLAT_CAP+1 */
/* Writes up to cap flat core types (shoal_valtype_t codes); returns the count. */
uint32_t cmp_flat_types(cmp_type_t *t, uint8_t *out, uint32_t cap);
/* The flat types of all of a function type's params into out (room for
** CMP_MAX_FLAT_PARAMS + 1); past CMP_MAX_FLAT_PARAMS: CMP_MAX_FLAT_PARAMS + 1. */
uint32_t cmp_params_flat(cmp_type_t *ft, uint8_t *out);
bool cmp_flatten_functype(cmp_arena_t *ar, cmp_type_t *ft, bool lift, shoal_functype_t *out);
bool cmp_needs_memory(const cmp_type_t *t);
/* }=================================================================== */

/* {===================================================================
** WIT text (cmp_wit.c)
** =================================================================== */
typedef struct cmp_buf {
  char *p;
  size_t n, cap;
  bool oom;
} cmp_buf_t;
void cmp_buf_put(cmp_buf_t *b, const char *s, size_t n);
void cmp_buf_puts(cmp_buf_t *b, const char *s);
void cmp_buf_printf(cmp_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cmp_wit_type(cmp_buf_t *b, const cmp_type_t *t, const cmp_type_t *scope_inst);
/* }=================================================================== */

#endif
