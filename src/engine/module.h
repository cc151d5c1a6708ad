/*
** module.h: the decoded form of a core module, shared by the decoder,
** the function compiler and the instantiator. Internal to the engine.
*/
#ifndef ENG_MODULE_H
#define ENG_MODULE_H

#include "shoal/engine.h"
#include "error.h"

/* Limits sized for real programs, far above what compilers emit. */
#define ENG_MAX_TYPES        1000000u
#define ENG_MAX_FUNCS        1000000u
#define ENG_MAX_IMPORTS      100000u
#define ENG_MAX_EXPORTS      100000u
#define ENG_MAX_GLOBALS      1000000u
#define ENG_MAX_TABLES       100000u
#define ENG_MAX_SEGMENTS     100000u
#define ENG_MAX_ELEM_ITEMS   10000000u
#define ENG_MAX_PARAMS       1000u
#define ENG_MAX_RESULTS      1000u
#define ENG_MAX_LOCALS       50000u
#define ENG_MAX_FUNC_SIZE    (128u * 1024u * 1024u)
#define ENG_MAX_PAGES        65536u     /* 32-bit memory: 4 GiB */
#define ENG_PAGE_SIZE        65536u
#define ENG_MAX_TABLE_SIZE   0xffffffffu

typedef uint8_t eng_valtype;      /* a shoal_valtype_t byte */

static inline bool eng_is_ref(eng_valtype t) { return t == SHOAL_FUNCREF || t == SHOAL_EXTERNREF; }
static inline bool eng_is_num(eng_valtype t) { return t >= SHOAL_F64 && t <= SHOAL_I32; }

/* A function type. types[0..nparams) are the parameters, then the results.
** Identical types within a module are one entry (the decoder dedups), so
** equal pointers mean equal types; across modules compare with
** eng_functype_eq. */
typedef struct eng_functype {
  uint32_t nparams, nresults;
  eng_valtype *types;
  uint32_t hash;
} eng_functype;

bool eng_functype_eq(const eng_functype *a, const eng_functype *b);

typedef struct eng_limits {
  uint64_t min, max;
  bool has_max;
} eng_limits;

typedef struct eng_tabletype { eng_valtype elem; eng_limits lim; } eng_tabletype;
typedef struct eng_globaltype { eng_valtype type; bool mut; } eng_globaltype;

/* A constant expression, kept as its validated bytes (ending with 0x0b)
** and evaluated at instantiation by eng_constexpr_eval. */
typedef struct eng_constexpr {
  const uint8_t *code;
  uint32_t len;
  uint32_t offset;   /* in the module binary */
} eng_constexpr;

typedef struct eng_import {
  const char *module, *name;     /* NUL-terminated copies */
  uint32_t module_len, name_len;
  uint8_t kind;                  /* shoal_extern_kind_t */
  uint32_t type_idx;             /* FUNC */
  eng_tabletype table;           /* TABLE */
  eng_limits mem;                /* MEMORY */
  eng_globaltype global;         /* GLOBAL */
} eng_import;

typedef struct eng_export {
  const char *name;
  uint32_t name_len;
  uint8_t kind;
  uint32_t index;
} eng_export;

/* Code compiled by compile.c for one defined function. */
typedef struct eng_code eng_code;

typedef struct eng_func {
  uint32_t type_idx;
  const eng_functype *type;
  bool imported;
  /* Defined functions only: */
  const uint8_t *body;           /* the code entry after its size: locals then expr */
  uint32_t body_len;
  uint32_t body_offset;          /* offset of body in the binary */
  eng_code *code;                /* set by compile.c */
} eng_func;

typedef struct eng_global {
  eng_globaltype type;
  bool imported;
  eng_constexpr init;            /* defined globals */
} eng_global;

enum { ENG_SEG_ACTIVE = 0, ENG_SEG_PASSIVE = 1, ENG_SEG_DECLARATIVE = 2 };

typedef struct eng_elem {
  uint8_t mode;
  eng_valtype type;              /* funcref or externref */
  uint32_t table;
  eng_constexpr offset;          /* active */
  uint32_t count;
  /* Each item is either a function index (func_idx != UINT32_MAX) when the
  ** segment used the index form or the item is exactly ref.func, or a
  ** constant expression. */
  uint32_t *func_idx;
  eng_constexpr *exprs;          /* NULL if all items are function indices */
  uint32_t offset_in_binary;
} eng_elem;

typedef struct eng_data {
  uint8_t mode;                  /* ACTIVE or PASSIVE */
  uint32_t mem;
  eng_constexpr offset;
  const uint8_t *bytes;
  uint32_t len;
  uint32_t offset_in_binary;
} eng_data;

typedef struct eng_section {
  uint8_t id;
  const char *custom_name;       /* custom sections: points into the binary, not NUL-terminated */
  uint32_t custom_name_len;
  uint32_t offset, size;         /* contents */
} eng_section;

struct shoal_module {
  uint8_t *bytes;                /* owned copy of the binary */
  size_t len;

  eng_functype *types;  uint32_t ntypes;
  eng_import *imports;  uint32_t nimports;
  eng_func *funcs;      uint32_t nfuncs, nimported_funcs;   /* imports first */
  eng_tabletype *tables; uint32_t ntables, nimported_tables;
  eng_limits *mems;     uint32_t nmems, nimported_mems;
  eng_global *globals;  uint32_t nglobals, nimported_globals;
  eng_export *exports;  uint32_t nexports;
  eng_elem *elems;      uint32_t nelems;
  eng_data *datas;      uint32_t ndatas;
  int64_t start;                 /* function index, or -1 */
  bool has_data_count;
  uint32_t data_count;

  /* C.refs: functions that ref.func may name in function bodies (those
  ** named outside function bodies: exports, elements, globals). */
  uint8_t *func_declared;        /* nfuncs entries, 0 or 1 */

  /* From the "name" custom section, when present and well-formed. */
  char **func_names;             /* nfuncs entries, each NULL or a NUL-terminated copy */
  char *module_name;

  eng_section *sections; uint32_t nsections;

  /* Added by module.c (owned and freed there): types[i] as shoal_valtype_t
  ** (params then results) for the public shoal_functype_t views. One
  ** allocation; api_types[i] points into it. NULL until decoded. */
  shoal_valtype_t **api_types;

  /* Added by memory.c: memory 0's initial contents as a file (memfd) that
  ** instances map copy-on-write instead of copying large data segments;
  ** image_len == 0: none (module.c closes image_fd). */
  int image_fd;
  uint32_t image_len;
};

/* memory.c: builds m's memory image when it is worth it (no error: an
** instance without one copies its segments). */
void eng_memory_image_build(shoal_module_t *m);

/* decode.c: decodes and validates everything but function bodies; bodies
** are located (eng_func.body) for compile.c. */
shoal_err_t eng_decode(shoal_module_t *m, shoal_diag_t *diag);
void eng_module_release(shoal_module_t *m);  /* frees what eng_decode allocated */

/* compile.c: validates and compiles the body of defined function idx. */
shoal_err_t eng_compile_func(shoal_module_t *m, uint32_t idx, shoal_diag_t *diag);
void eng_code_free(eng_code *c);

#endif
