/*
** decode.c: decodes a binary module into shoal_module_t and validates all
** of it but function bodies, which compile.c checks when it compiles them.
*/
#include <stdlib.h>
#include <string.h>
#include "module.h"
#include "reader.h"

/* Section ids, and the rank that fixes their order (data count sits between
** element and code). */
enum {
  SEC_CUSTOM = 0, SEC_TYPE, SEC_IMPORT, SEC_FUNC, SEC_TABLE, SEC_MEM, SEC_GLOBAL,
  SEC_EXPORT, SEC_START, SEC_ELEM, SEC_CODE, SEC_DATA, SEC_DATACOUNT
};
static const uint8_t sec_rank[13] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10 };

typedef struct dec {
  shoal_module_t *m;
  shoal_diag_t *diag;
  /* Validation errors are held back until the whole binary is decoded: the
  ** specification decodes first, so a later malformation takes precedence. */
  bool has_inv;
  shoal_diag_t inv;
  uint32_t *canon;            /* type index -> index of the first identical type */
  uint32_t nfunc_decls;       /* entries in the function section */
  bool seen_code, seen_data;
  uint32_t nmems_seen;
  uint32_t sec_cap;
  const uint8_t *name_sec;    /* contents of the first "name" section, after its name */
  uint32_t name_sec_len;
} dec;

#define MALF(r, ...) ENG_RD_ERR((r), SHOAL_ERR_MALFORMED, __VA_ARGS__)
#define CK(expr) do { shoal_err_t e_ = (expr); if (eng_unlikely(e_ != SHOAL_ERR_OK)) return e_; } while (0)
/* Records a validation error (the first one wins) and carries on decoding. */
#define INVALID(d, off, ...)                                                  \
  do {                                                                        \
    if (!(d)->has_inv) {                                                      \
      (d)->has_inv = true;                                                    \
      ENG_ERR(&(d)->inv, SHOAL_ERR_INVALID, (off), __VA_ARGS__);              \
    }                                                                         \
  } while (0)

/* Reports the held-back validation error now, for when decoding cannot go on. */
static shoal_err_t flush_invalid(dec *d) {
  if (d->diag) *d->diag = d->inv;
  return SHOAL_ERR_INVALID;
}

static size_t rd_left(const eng_reader *r) { return (size_t)(r->end - r->p); }

/* {===================================================================
** Small readers
** =================================================================== */

/* A vector length. Every item takes at least one byte, so a count beyond
** the bytes left is malformed and never reaches an allocation. */
static shoal_err_t rd_count(eng_reader *r, uint32_t limit, const char *what, uint32_t *out) {
  int64_t off = eng_rd_offset(r);
  uint32_t n;
  CK(eng_rd_u32(r, &n));
  if (n > rd_left(r))
    return MALF(r, "unexpected end of section or function (%u %s declared)", n, what);
  if (n > limit)
    return ENG_ERR(r->diag, SHOAL_ERR_UNSUPPORTED, off,
                   "implementation limit: %u %s (at most %u)", n, what, limit);
  *out = n;
  return SHOAL_ERR_OK;
}

static bool utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) { i++; continue; }
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return false;   /* continuation byte, overlong lead (c0, c1) or beyond U+10FFFF */
    if (n - i < len) return false;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) return false;
    if (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) return false;
    i += len;
  }
  return true;
}

/* A name: its bytes stay in the binary, checked to be UTF-8. */
static shoal_err_t rd_name(eng_reader *r, const uint8_t **s, uint32_t *len) {
  uint32_t n;
  CK(eng_rd_u32(r, &n));
  if (n > rd_left(r)) return MALF(r, "length out of bounds (name of %u bytes)", n);
  int64_t off = eng_rd_offset(r);
  CK(eng_rd_bytes(r, n, s));
  if (!utf8_valid(*s, n))
    return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, off, "malformed UTF-8 encoding");
  *len = n;
  return SHOAL_ERR_OK;
}

static char *dup_name(const uint8_t *s, uint32_t n) {
  char *c = malloc((size_t)n + 1);
  if (c) {
    memcpy(c, s, n);
    c[n] = 0;
  }
  return c;
}

static shoal_err_t rd_name_copy(eng_reader *r, const char **out, uint32_t *len) {
  const uint8_t *s;
  CK(rd_name(r, &s, len));
  char *c = dup_name(s, *len);
  if (!c) return ENG_RD_ERR(r, SHOAL_ERR_NOMEM, "out of memory copying a name");
  *out = c;
  return SHOAL_ERR_OK;
}

static shoal_err_t check_valtype(eng_reader *r, uint8_t b) {
  switch (b) {
  case SHOAL_I32: case SHOAL_I64: case SHOAL_F32: case SHOAL_F64:
  case SHOAL_FUNCREF: case SHOAL_EXTERNREF:
    return SHOAL_ERR_OK;
  case SHOAL_V128:
    return ENG_ERR(r->diag, SHOAL_ERR_UNSUPPORTED, eng_rd_offset(r) - 1, "SIMD is not supported yet");
  default:
    return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, eng_rd_offset(r) - 1,
                   "malformed value type 0x%02x", b);
  }
}

static shoal_err_t rd_valtype(eng_reader *r, eng_valtype *out) {
  CK(eng_rd_u8(r, out));
  return check_valtype(r, *out);
}

static shoal_err_t rd_reftype(eng_reader *r, eng_valtype *out) {
  CK(eng_rd_u8(r, out));
  if (!eng_is_ref(*out))
    return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, eng_rd_offset(r) - 1,
                   "malformed reference type 0x%02x", *out);
  return SHOAL_ERR_OK;
}

static shoal_err_t rd_limits(eng_reader *r, eng_limits *lim) {
  uint64_t flag;
  uint32_t v;
  /* The flag is a one-bit LEB128 in the reference decoder, hence its errors. */
  CK(eng_rd_uleb(r, 1, &flag));
  CK(eng_rd_u32(r, &v));
  lim->min = v;
  lim->has_max = flag == 1;
  lim->max = 0;
  if (lim->has_max) {
    CK(eng_rd_u32(r, &v));
    lim->max = v;
  }
  return SHOAL_ERR_OK;
}

static shoal_err_t rd_tabletype(dec *d, eng_reader *r, eng_tabletype *t) {
  int64_t off = eng_rd_offset(r);
  CK(rd_reftype(r, &t->elem));
  CK(rd_limits(r, &t->lim));
  if (t->lim.has_max && t->lim.min > t->lim.max)
    INVALID(d, off, "size minimum must not be greater than maximum");
  return SHOAL_ERR_OK;
}

static shoal_err_t rd_memtype(dec *d, eng_reader *r, eng_limits *lim) {
  int64_t off = eng_rd_offset(r);
  CK(rd_limits(r, lim));
  if (lim->min > ENG_MAX_PAGES || (lim->has_max && lim->max > ENG_MAX_PAGES))
    INVALID(d, off, "memory size must be at most 65536 pages (4GiB)");
  else if (lim->has_max && lim->min > lim->max)
    INVALID(d, off, "size minimum must not be greater than maximum");
  /* Counted here, as imported memories enter the index space only after
  ** the whole import section is read. */
  if (++d->nmems_seen > 1)
    INVALID(d, off, "multiple memories");
  return SHOAL_ERR_OK;
}

static shoal_err_t rd_globaltype(eng_reader *r, eng_globaltype *g) {
  uint8_t mut;
  CK(rd_valtype(r, &g->type));
  CK(eng_rd_u8(r, &mut));
  if (mut > 1)
    return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, eng_rd_offset(r) - 1, "malformed mutability");
  g->mut = mut == 1;
  return SHOAL_ERR_OK;
}

/* Grows an index-space array from old to old + add zeroed entries. */
static shoal_err_t grow(eng_reader *r, void **arr, size_t old, size_t add, size_t elsize) {
  size_t n = old + add;
  void *p = realloc(*arr, (n ? n : 1) * elsize);
  if (!p) return ENG_RD_ERR(r, SHOAL_ERR_NOMEM, "out of memory");
  memset((char *)p + old * elsize, 0, add * elsize);
  *arr = p;
  return SHOAL_ERR_OK;
}

static void declare_func(dec *d, uint32_t idx) {
  if (d->m->func_declared && idx < d->m->nfuncs) d->m->func_declared[idx] = 1;
}

/* }=================================================================== */

/* {===================================================================
** Constant expressions
** =================================================================== */

/* Whether op begins an instruction of WebAssembly 2.0 without SIMD: a
** non-constant one is invalid, an unknown one malformed. */
static bool known_opcode(eng_reader *r, uint8_t op) {
  if (op <= 0x05 || (op >= 0x0b && op <= 0x11) || (op >= 0x1a && op <= 0x1c) ||
      (op >= 0x20 && op <= 0x26) || (op >= 0x28 && op <= 0xc4) || (op >= 0xd0 && op <= 0xd2))
    return true;
  if (op == 0xfc) {
    uint32_t sub;
    return eng_rd_u32(r, &sub) == SHOAL_ERR_OK && sub <= 17;
  }
  return false;
}

/* Validates a constant expression yielding one `want`; *only_func (if
** given) receives x when the expression is exactly ref.func x, else
** UINT32_MAX. */
static shoal_err_t rd_constexpr(dec *d, eng_reader *r, eng_valtype want, eng_constexpr *out,
                                uint32_t *only_func) {
  shoal_module_t *m = d->m;
  const uint8_t *start = r->p;
  int64_t start_off = eng_rd_offset(r);
  uint32_t nvals = 0, func = UINT32_MAX;
  eng_valtype top = 0;
  bool was_ref_func = false;
  for (;;) {
    int64_t off = eng_rd_offset(r);
    uint8_t op;
    uint32_t x;
    CK(eng_rd_u8(r, &op));
    if (op == 0x0b) break;
    was_ref_func = false;
    switch (op) {
    case 0x41: { int32_t v; CK(eng_rd_s32(r, &v)); top = SHOAL_I32; break; }
    case 0x42: { int64_t v; CK(eng_rd_s64(r, &v)); top = SHOAL_I64; break; }
    case 0x43: { uint32_t v; CK(eng_rd_f32(r, &v)); top = SHOAL_F32; break; }
    case 0x44: { uint64_t v; CK(eng_rd_f64(r, &v)); top = SHOAL_F64; break; }
    case 0xd0: CK(rd_reftype(r, &top)); break;
    case 0xd2:
      CK(eng_rd_u32(r, &x));
      if (x >= m->nfuncs) INVALID(d, off, "unknown function %u", x);
      declare_func(d, x);
      top = SHOAL_FUNCREF;
      func = x;
      was_ref_func = true;
      break;
    case 0x23:
      CK(eng_rd_u32(r, &x));
      top = want;   /* after an error, keep quiet about types */
      /* WebAssembly 2.0: only imported globals are visible here. */
      if (x >= m->nimported_globals)
        INVALID(d, off, "unknown global %u", x);
      else if (m->globals[x].type.mut)
        INVALID(d, off, "constant expression required (global %u is mutable)", x);
      else
        top = m->globals[x].type.type;
      break;
    case 0xfd:
      return ENG_ERR(r->diag, SHOAL_ERR_UNSUPPORTED, off, "SIMD is not supported yet");
    default:
      if (!known_opcode(r, op))
        return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, off, "illegal opcode 0x%02x", op);
      /* Its immediates are unknown to us, so decoding cannot go on. */
      INVALID(d, off, "constant expression required (opcode 0x%02x)", op);
      return flush_invalid(d);
    }
    nvals++;
  }
  if (nvals != 1 || top != want)
    INVALID(d, start_off, "type mismatch: constant expression must yield one %s",
            shoal_valtype_name((shoal_valtype_t)want));
  out->code = start;
  out->len = (uint32_t)(r->p - start);
  out->offset = (uint32_t)start_off;
  if (only_func) *only_func = (nvals == 1 && was_ref_func) ? func : UINT32_MAX;
  return SHOAL_ERR_OK;
}

/* }=================================================================== */

/* {===================================================================
** Types
** =================================================================== */

static uint32_t functype_hash(const eng_functype *t) {
  uint32_t h = 2166136261u;
  h = (h ^ t->nparams) * 16777619u;
  h = (h ^ t->nresults) * 16777619u;
  for (uint32_t i = 0; i < t->nparams + t->nresults; i++) h = (h ^ t->types[i]) * 16777619u;
  return h;
}

/* Every eng_functype carries this hash (decode.c, store.c's host types),
** so unequal hashes settle most unequal types at once; call_indirect to
** a host function compares types from two owners on every call. */
bool eng_functype_eq(const eng_functype *a, const eng_functype *b) {
  if (a == b) return true;
  if (a->hash != b->hash || a->nparams != b->nparams || a->nresults != b->nresults) return false;
  uint32_t n = a->nparams + a->nresults;
  for (uint32_t i = 0; i < n; i++)
    if (a->types[i] != b->types[i]) return false;
  return true;
}

static shoal_err_t rd_functype(eng_reader *r, eng_functype *t) {
  uint8_t form;
  uint32_t np, nr;
  const uint8_t *params;
  CK(eng_rd_u8(r, &form));
  /* The form is a signed LEB128 in the reference decoder, hence its errors. */
  if (form & 0x80)
    return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, eng_rd_offset(r) - 1,
                   "integer representation too long (function type form)");
  if (form != 0x60)
    return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, eng_rd_offset(r) - 1,
                   "malformed function type 0x%02x", form);
  CK(rd_count(r, ENG_MAX_PARAMS, "parameters", &np));
  /* Value types are single bytes: check the parameters in place and copy
  ** them once the result count fixes the allocation. */
  params = r->p;
  for (uint32_t i = 0; i < np; i++) {
    eng_valtype v;
    CK(rd_valtype(r, &v));
  }
  CK(rd_count(r, ENG_MAX_RESULTS, "results", &nr));
  t->types = malloc((size_t)np + nr + 1);
  if (!t->types) return ENG_RD_ERR(r, SHOAL_ERR_NOMEM, "out of memory");
  memcpy(t->types, params, np);
  for (uint32_t i = 0; i < nr; i++) CK(rd_valtype(r, &t->types[np + i]));
  t->nparams = np;
  t->nresults = nr;
  t->hash = functype_hash(t);
  return SHOAL_ERR_OK;
}

static uint32_t pow2_at_least(uint64_t n) {
  uint32_t p = 16;
  while (p < n) p <<= 1;
  return p;
}

/* Maps each type to the first identical one, so functions of equal types
** share a type pointer. */
static shoal_err_t dedup_types(dec *d, eng_reader *r) {
  shoal_module_t *m = d->m;
  uint32_t cap = pow2_at_least((uint64_t)m->ntypes * 2);
  uint32_t *slot = malloc((size_t)cap * sizeof *slot);
  d->canon = malloc(((size_t)m->ntypes + 1) * sizeof *d->canon);
  if (!slot || !d->canon) {
    free(slot);
    return ENG_RD_ERR(r, SHOAL_ERR_NOMEM, "out of memory");
  }
  memset(slot, 0xff, (size_t)cap * sizeof *slot);
  for (uint32_t i = 0; i < m->ntypes; i++) {
    uint32_t h = m->types[i].hash & (cap - 1);
    while (slot[h] != UINT32_MAX && !eng_functype_eq(&m->types[slot[h]], &m->types[i]))
      h = (h + 1) & (cap - 1);
    if (slot[h] == UINT32_MAX) slot[h] = i;
    d->canon[i] = slot[h];
  }
  free(slot);
  return SHOAL_ERR_OK;
}

static shoal_err_t sec_type(dec *d, eng_reader *r) {
  shoal_module_t *m = d->m;
  uint32_t n;
  CK(rd_count(r, ENG_MAX_TYPES, "types", &n));
  m->types = calloc(n ? n : 1, sizeof *m->types);
  if (!m->types) return ENG_RD_ERR(r, SHOAL_ERR_NOMEM, "out of memory");
  m->ntypes = n;
  for (uint32_t i = 0; i < n; i++) CK(rd_functype(r, &m->types[i]));
  return dedup_types(d, r);
}

/* The canonical type of a function, or NULL for an unknown type index
** (reported by the caller, which knows where the index was). */
static void set_func_type(dec *d, eng_func *f, uint32_t type_idx) {
  f->type_idx = type_idx;
  if (type_idx < d->m->ntypes) f->type = &d->m->types[d->canon ? d->canon[type_idx] : type_idx];
}

/* }=================================================================== */

/* {===================================================================
** Imports and the index spaces
** =================================================================== */

static shoal_err_t sec_import(dec *d, eng_reader *r) {
  shoal_module_t *m = d->m;
  uint32_t n, counts[4] = { 0, 0, 0, 0 };
  CK(rd_count(r, ENG_MAX_IMPORTS, "imports", &n));
  m->imports = calloc(n ? n : 1, sizeof *m->imports);
  if (!m->imports) return ENG_RD_ERR(r, SHOAL_ERR_NOMEM, "out of memory");
  m->nimports = n;
  for (uint32_t i = 0; i < n; i++) {
    eng_import *im = &m->imports[i];
    CK(rd_name_copy(r, &im->module, &im->module_len));
    CK(rd_name_copy(r, &im->name, &im->name_len));
    CK(eng_rd_u8(r, &im->kind));
    switch (im->kind) {
    case SHOAL_EXTERN_FUNC: {
      int64_t off = eng_rd_offset(r);
      CK(eng_rd_u32(r, &im->type_idx));
      if (im->type_idx >= m->ntypes) INVALID(d, off, "unknown type %u", im->type_idx);
      break;
    }
    case SHOAL_EXTERN_TABLE: CK(rd_tabletype(d, r, &im->table)); break;
    case SHOAL_EXTERN_MEMORY: CK(rd_memtype(d, r, &im->mem)); break;
    case SHOAL_EXTERN_GLOBAL: CK(rd_globaltype(r, &im->global)); break;
    default:
      return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, eng_rd_offset(r) - 1,
                     "malformed import kind %u", im->kind);
    }
    counts[im->kind]++;
  }
  CK(grow(r, (void **)&m->funcs, 0, counts[0], sizeof *m->funcs));
  CK(grow(r, (void **)&m->tables, 0, counts[1], sizeof *m->tables));
  CK(grow(r, (void **)&m->mems, 0, counts[2], sizeof *m->mems));
  CK(grow(r, (void **)&m->globals, 0, counts[3], sizeof *m->globals));
  for (uint32_t i = 0; i < n; i++) {
    eng_import *im = &m->imports[i];
    switch (im->kind) {
    case SHOAL_EXTERN_FUNC: {
      eng_func *f = &m->funcs[m->nfuncs++];
      f->imported = true;
      set_func_type(d, f, im->type_idx);
      break;
    }
    case SHOAL_EXTERN_TABLE: m->tables[m->ntables++] = im->table; break;
    case SHOAL_EXTERN_MEMORY: m->mems[m->nmems++] = im->mem; break;
    case SHOAL_EXTERN_GLOBAL: {
      eng_global *g = &m->globals[m->nglobals++];
      g->type = im->global;
      g->imported = true;
      break;
    }
    }
  }
  m->nimported_funcs = m->nfuncs;
  m->nimported_tables = m->ntables;
  m->nimported_mems = m->nmems;
  m->nimported_globals = m->nglobals;
  return SHOAL_ERR_OK;
}

static shoal_err_t sec_func(dec *d, eng_reader *r) {
  shoal_module_t *m = d->m;
  uint32_t n;
  CK(rd_count(r, ENG_MAX_FUNCS - m->nfuncs, "functions", &n));
  CK(grow(r, (void **)&m->funcs, m->nfuncs, n, sizeof *m->funcs));
  for (uint32_t i = 0; i < n; i++) {
    int64_t off = eng_rd_offset(r);
    uint32_t ti;
    CK(eng_rd_u32(r, &ti));
    set_func_type(d, &m->funcs[m->nfuncs], ti);
    if (ti >= m->ntypes) INVALID(d, off, "unknown type %u", ti);
    m->nfuncs++;
  }
  d->nfunc_decls = n;
  return SHOAL_ERR_OK;
}

static shoal_err_t sec_table(dec *d, eng_reader *r) {
  shoal_module_t *m = d->m;
  uint32_t n;
  CK(rd_count(r, ENG_MAX_TABLES - m->ntables, "tables", &n));
  CK(grow(r, (void **)&m->tables, m->ntables, n, sizeof *m->tables));
  for (uint32_t i = 0; i < n; i++) {
    CK(rd_tabletype(d, r, &m->tables[m->ntables]));
    m->ntables++;
  }
  return SHOAL_ERR_OK;
}

static shoal_err_t sec_mem(dec *d, eng_reader *r) {
  shoal_module_t *m = d->m;
  uint32_t n;
  /* Only one memory is valid, but more must still decode; the table limit
  ** keeps the array small. */
  CK(rd_count(r, ENG_MAX_TABLES, "memories", &n));
  CK(grow(r, (void **)&m->mems, m->nmems, n, sizeof *m->mems));
  for (uint32_t i = 0; i < n; i++) {
    CK(rd_memtype(d, r, &m->mems[m->nmems]));
    m->nmems++;
  }
  return SHOAL_ERR_OK;
}

static shoal_err_t sec_global(dec *d, eng_reader *r) {
  shoal_module_t *m = d->m;
  uint32_t n;
  CK(rd_count(r, ENG_MAX_GLOBALS - m->nglobals, "globals", &n));
  CK(grow(r, (void **)&m->globals, m->nglobals, n, sizeof *m->globals));
  for (uint32_t i = 0; i < n; i++) {
    eng_global *g = &m->globals[m->nglobals];
    CK(rd_globaltype(r, &g->type));
    CK(rd_constexpr(d, r, g->type.type, &g->init, NULL));
    m->nglobals++;
  }
  return SHOAL_ERR_OK;
}

/* }=================================================================== */

/* {===================================================================
** Exports and start
** =================================================================== */

static uint32_t name_hash(const char *s, uint32_t n) {
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

static shoal_err_t sec_export(dec *d, eng_reader *r) {
  static const char *const kind_name[4] = { "function", "table", "memory", "global" };
  shoal_module_t *m = d->m;
  uint32_t n;
  CK(rd_count(r, ENG_MAX_EXPORTS, "exports", &n));
  m->exports = calloc(n ? n : 1, sizeof *m->exports);
  if (!m->exports) return ENG_RD_ERR(r, SHOAL_ERR_NOMEM, "out of memory");
  m->nexports = n;
  uint32_t cap = pow2_at_least((uint64_t)n * 2);
  uint32_t *slot = malloc((size_t)cap * sizeof *slot);
  if (!slot) return ENG_RD_ERR(r, SHOAL_ERR_NOMEM, "out of memory");
  memset(slot, 0xff, (size_t)cap * sizeof *slot);
  shoal_err_t err = SHOAL_ERR_OK;
  for (uint32_t i = 0; i < n; i++) {
    eng_export *ex = &m->exports[i];
    int64_t off = eng_rd_offset(r);
    TRY(rd_name_copy(r, &ex->name, &ex->name_len));
    TRY(eng_rd_u8(r, &ex->kind));
    if (ex->kind > SHOAL_EXTERN_GLOBAL) {
      err = ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, eng_rd_offset(r) - 1,
                    "malformed export kind %u", ex->kind);
      goto fail;
    }
    TRY(eng_rd_u32(r, &ex->index));
    uint32_t limit = ex->kind == SHOAL_EXTERN_FUNC ? m->nfuncs
                     : ex->kind == SHOAL_EXTERN_TABLE ? m->ntables
                     : ex->kind == SHOAL_EXTERN_MEMORY ? m->nmems : m->nglobals;
    if (ex->index >= limit)
      INVALID(d, off, "unknown %s %u", kind_name[ex->kind], ex->index);
    if (ex->kind == SHOAL_EXTERN_FUNC) declare_func(d, ex->index);
    uint32_t h = name_hash(ex->name, ex->name_len) & (cap - 1);
    for (; slot[h] != UINT32_MAX; h = (h + 1) & (cap - 1)) {
      const eng_export *o = &m->exports[slot[h]];
      if (o->name_len == ex->name_len && memcmp(o->name, ex->name, ex->name_len) == 0) {
        INVALID(d, off, "duplicate export name \"%s\"", ex->name);
        break;
      }
    }
    if (slot[h] == UINT32_MAX) slot[h] = i;
  }
fail:
  free(slot);
  return err;
}

static shoal_err_t sec_start(dec *d, eng_reader *r) {
  shoal_module_t *m = d->m;
  int64_t off = eng_rd_offset(r);
  uint32_t x;
  CK(eng_rd_u32(r, &x));
  m->start = x;
  if (x >= m->nfuncs) {
    INVALID(d, off, "unknown function %u", x);
  } else {
    const eng_functype *t = m->funcs[x].type;
    if (t && (t->nparams || t->nresults))
      INVALID(d, off, "start function %u must have type [] -> []", x);
  }
  return SHOAL_ERR_OK;
}

/* }=================================================================== */

/* {===================================================================
** Element and data segments
** =================================================================== */

static shoal_err_t rd_elem(dec *d, eng_reader *r, eng_elem *e) {
  shoal_module_t *m = d->m;
  int64_t off = eng_rd_offset(r);
  uint32_t flags;
  e->offset_in_binary = (uint32_t)off;
  CK(eng_rd_u32(r, &flags));
  if (flags > 7)
    return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, off, "malformed elements segment kind %u", flags);
  /* bit 0: not active; bit 1: explicit table (active) or declarative;
  ** bit 2: items are expressions. */
  bool exprs = flags & 4;
  e->type = SHOAL_FUNCREF;
  e->table = 0;
  e->mode = !(flags & 1) ? ENG_SEG_ACTIVE : (flags & 2) ? ENG_SEG_DECLARATIVE : ENG_SEG_PASSIVE;
  int64_t table_off = eng_rd_offset(r);
  if ((flags & 3) == 2) CK(eng_rd_u32(r, &e->table));
  if (e->mode == ENG_SEG_ACTIVE) CK(rd_constexpr(d, r, SHOAL_I32, &e->offset, NULL));
  if (flags & 3) {
    if (exprs) {
      CK(rd_reftype(r, &e->type));
    } else {
      uint8_t kind;
      CK(eng_rd_u8(r, &kind));
      if (kind != 0)
        return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, eng_rd_offset(r) - 1,
                       "malformed element kind 0x%02x", kind);
    }
  }
  if (e->mode == ENG_SEG_ACTIVE) {
    if (e->table >= m->ntables)
      INVALID(d, table_off, "unknown table %u", e->table);
    else if (m->tables[e->table].elem != e->type)
      INVALID(d, table_off, "type mismatch: element segment of %s for a table of %s",
              shoal_valtype_name((shoal_valtype_t)e->type),
              shoal_valtype_name((shoal_valtype_t)m->tables[e->table].elem));
  }
  uint32_t n;
  CK(rd_count(r, ENG_MAX_ELEM_ITEMS, "element items", &n));
  e->func_idx = malloc((n ? n : 1) * sizeof *e->func_idx);
  if (!e->func_idx) return ENG_RD_ERR(r, SHOAL_ERR_NOMEM, "out of memory");
  if (exprs) {
    e->exprs = calloc(n ? n : 1, sizeof *e->exprs);
    if (!e->exprs) return ENG_RD_ERR(r, SHOAL_ERR_NOMEM, "out of memory");
  }
  for (uint32_t i = 0; i < n; i++) {
    if (exprs) {
      CK(rd_constexpr(d, r, e->type, &e->exprs[i], &e->func_idx[i]));
    } else {
      int64_t ioff = eng_rd_offset(r);
      uint32_t x;
      CK(eng_rd_u32(r, &x));
      if (x >= m->nfuncs) INVALID(d, ioff, "unknown function %u", x);
      declare_func(d, x);
      e->func_idx[i] = x;
    }
    e->count = i + 1;
  }
  return SHOAL_ERR_OK;
}

static shoal_err_t sec_elem(dec *d, eng_reader *r) {
  shoal_module_t *m = d->m;
  uint32_t n;
  CK(rd_count(r, ENG_MAX_SEGMENTS, "element segments", &n));
  m->elems = calloc(n ? n : 1, sizeof *m->elems);
  if (!m->elems) return ENG_RD_ERR(r, SHOAL_ERR_NOMEM, "out of memory");
  m->nelems = n;
  for (uint32_t i = 0; i < n; i++) CK(rd_elem(d, r, &m->elems[i]));
  return SHOAL_ERR_OK;
}

static shoal_err_t sec_datacount(dec *d, eng_reader *r) {
  CK(eng_rd_u32(r, &d->m->data_count));
  d->m->has_data_count = true;
  return SHOAL_ERR_OK;
}

static shoal_err_t sec_data(dec *d, eng_reader *r) {
  shoal_module_t *m = d->m;
  int64_t off = eng_rd_offset(r);
  uint32_t n;
  CK(rd_count(r, ENG_MAX_SEGMENTS, "data segments", &n));
  if (m->has_data_count && n != m->data_count)
    return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, off,
                   "data count and data section have inconsistent lengths (%u and %u)",
                   m->data_count, n);
  m->datas = calloc(n ? n : 1, sizeof *m->datas);
  if (!m->datas) return ENG_RD_ERR(r, SHOAL_ERR_NOMEM, "out of memory");
  m->ndatas = n;
  for (uint32_t i = 0; i < n; i++) {
    eng_data *s = &m->datas[i];
    int64_t soff = eng_rd_offset(r);
    uint32_t flags, len;
    s->offset_in_binary = (uint32_t)soff;
    CK(eng_rd_u32(r, &flags));
    if (flags > 2)
      return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, soff, "malformed data segment kind %u", flags);
    s->mode = flags == 1 ? ENG_SEG_PASSIVE : ENG_SEG_ACTIVE;
    int64_t moff = eng_rd_offset(r);
    if (flags == 2) CK(eng_rd_u32(r, &s->mem));
    if (s->mode == ENG_SEG_ACTIVE) {
      if (s->mem >= m->nmems) INVALID(d, moff, "unknown memory %u", s->mem);
      CK(rd_constexpr(d, r, SHOAL_I32, &s->offset, NULL));
    }
    CK(eng_rd_u32(r, &len));
    if (len > rd_left(r))
      return MALF(r, "unexpected end of section or function (data segment of %u bytes)", len);
    CK(eng_rd_bytes(r, len, &s->bytes));
    s->len = len;
  }
  d->seen_data = true;
  return SHOAL_ERR_OK;
}

/* }=================================================================== */

/* {===================================================================
** Code
** =================================================================== */

static shoal_err_t sec_code(dec *d, eng_reader *r) {
  shoal_module_t *m = d->m;
  int64_t off = eng_rd_offset(r);
  uint32_t n;
  CK(eng_rd_u32(r, &n));
  if (n != d->nfunc_decls)
    return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, off,
                   "function and code section have inconsistent lengths (%u and %u)",
                   d->nfunc_decls, n);
  for (uint32_t i = 0; i < n; i++) {
    eng_func *f = &m->funcs[m->nimported_funcs + i];
    int64_t boff = eng_rd_offset(r);
    uint32_t size;
    CK(eng_rd_u32(r, &size));
    if (size > rd_left(r))
      return MALF(r, "unexpected end of section or function (body of function %u)",
                  m->nimported_funcs + i);
    if (size > ENG_MAX_FUNC_SIZE)
      return ENG_ERR(r->diag, SHOAL_ERR_UNSUPPORTED, boff,
                     "implementation limit: body of function %u is %u bytes (at most %u)",
                     m->nimported_funcs + i, size, ENG_MAX_FUNC_SIZE);
    f->body_offset = (uint32_t)eng_rd_offset(r);
    f->body_len = size;
    CK(eng_rd_bytes(r, size, &f->body));
  }
  d->seen_code = true;
  return SHOAL_ERR_OK;
}

/* }=================================================================== */

/* {===================================================================
** Custom sections: the name section
** =================================================================== */

static void free_names(shoal_module_t *m, uint32_t n) {
  if (m->func_names) {
    for (uint32_t i = 0; i < n; i++) free(m->func_names[i]);
    free(m->func_names);
    m->func_names = NULL;
  }
  free(m->module_name);
  m->module_name = NULL;
}

/* Parses module and function names. Anything malformed drops the names,
** not the module; only running out of memory is an error. */
static shoal_err_t parse_names(dec *d) {
  shoal_module_t *m = d->m;
  eng_reader r = { m->bytes, d->name_sec, d->name_sec + d->name_sec_len, NULL };
  int last_id = -1;
  while (!eng_rd_eof(&r)) {
    uint8_t id;
    uint32_t size;
    const uint8_t *sub;
    if (eng_rd_u8(&r, &id) || eng_rd_u32(&r, &size) || eng_rd_bytes(&r, size, &sub)) goto bad;
    if ((int)id <= last_id) goto bad;   /* subsections come once, in order */
    last_id = id;
    eng_reader s = { m->bytes, sub, sub + size, NULL };
    const uint8_t *name;
    uint32_t len, count;
    if (id == 0) {
      if (rd_name(&s, &name, &len)) goto bad;
      if (!(m->module_name = dup_name(name, len))) goto nomem;
    } else if (id == 1) {
      if (rd_count(&s, UINT32_MAX, "names", &count)) goto bad;
      if (!(m->func_names = calloc(m->nfuncs ? m->nfuncs : 1, sizeof *m->func_names))) goto nomem;
      for (uint32_t i = 0; i < count; i++) {
        uint32_t idx;
        if (eng_rd_u32(&s, &idx) || rd_name(&s, &name, &len)) goto bad;
        /* Out-of-order, repeated or unknown indices break the format, but
        ** only that entry is dropped: the others still help backtraces. */
        if (idx >= m->nfuncs || m->func_names[idx]) continue;
        if (!(m->func_names[idx] = dup_name(name, len))) goto nomem;
      }
    } else {
      s.p = s.end;   /* local names and others: not used */
    }
    if (!eng_rd_eof(&s)) goto bad;
  }
  return SHOAL_ERR_OK;
bad:
  free_names(m, m->nfuncs);
  return SHOAL_ERR_OK;
nomem:
  free_names(m, m->nfuncs);
  return ENG_ERR(d->diag, SHOAL_ERR_NOMEM, -1, "out of memory reading the name section");
}

static shoal_err_t sec_custom(dec *d, eng_reader *r, eng_section *sec) {
  const uint8_t *name;
  uint32_t len;
  CK(rd_name(r, &name, &len));
  sec->custom_name = (const char *)name;
  sec->custom_name_len = len;
  if (len == 4 && memcmp(name, "name", 4) == 0 && !d->name_sec) {
    /* Parsed last: it names functions that later sections may declare. */
    d->name_sec = r->p;
    d->name_sec_len = (uint32_t)rd_left(r);
  }
  r->p = r->end;
  return SHOAL_ERR_OK;
}

/* }=================================================================== */

/* {===================================================================
** The module
** =================================================================== */

static shoal_err_t add_section(dec *d, eng_reader *r, eng_section **out) {
  shoal_module_t *m = d->m;
  if (m->nsections == d->sec_cap) {
    uint32_t cap = d->sec_cap ? d->sec_cap * 2 : 16;
    eng_section *p = realloc(m->sections, (size_t)cap * sizeof *p);
    if (!p) return ENG_RD_ERR(r, SHOAL_ERR_NOMEM, "out of memory");
    m->sections = p;
    d->sec_cap = cap;
  }
  *out = &m->sections[m->nsections++];
  memset(*out, 0, sizeof **out);
  return SHOAL_ERR_OK;
}

static shoal_err_t rd_header(eng_reader *r) {
  static const uint8_t magic[4] = { 0x00, 0x61, 0x73, 0x6d };
  const uint8_t *b;
  if (rd_left(r) < 4) return MALF(r, "unexpected end (no magic header)");
  CK(eng_rd_bytes(r, 4, &b));
  if (memcmp(b, magic, 4) != 0)
    return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, 0, "magic header not detected");
  if (rd_left(r) < 4) return MALF(r, "unexpected end (no binary version)");
  CK(eng_rd_bytes(r, 4, &b));
  if (b[0] != 1 || b[1] || b[2] || b[3])
    return ENG_ERR(r->diag, SHOAL_ERR_MALFORMED, 4, "unknown binary version");
  return SHOAL_ERR_OK;
}

static shoal_err_t decode_sections(dec *d, eng_reader *r) {
  shoal_module_t *m = d->m;
  uint8_t last_rank = 0;
  while (!eng_rd_eof(r)) {
    int64_t id_off = eng_rd_offset(r);
    uint8_t id;
    uint32_t size;
    CK(eng_rd_u8(r, &id));
    if (id > SEC_DATACOUNT)
      return ENG_ERR(d->diag, SHOAL_ERR_MALFORMED, id_off, "malformed section id %u", id);
    CK(eng_rd_u32(r, &size));
    if (size > rd_left(r))
      return MALF(r, "length out of bounds (section %u of %u bytes, %zu left)", id, size, rd_left(r));
    if (id != SEC_CUSTOM) {
      if (sec_rank[id] <= last_rank)
        return ENG_ERR(d->diag, SHOAL_ERR_MALFORMED, id_off,
                       "unexpected content after last section (section %u out of order or repeated)", id);
      last_rank = sec_rank[id];
      /* Functions are all known before anything can refer to them. */
      if (sec_rank[id] > sec_rank[SEC_FUNC] && !m->func_declared) {
        m->func_declared = calloc(m->nfuncs ? m->nfuncs : 1, 1);
        if (!m->func_declared) return ENG_RD_ERR(r, SHOAL_ERR_NOMEM, "out of memory");
      }
    }
    eng_section *sec = NULL;
    CK(add_section(d, r, &sec));
    sec->id = id;
    sec->offset = (uint32_t)eng_rd_offset(r);
    sec->size = size;
    eng_reader s = { r->base, r->p, r->p + size, r->diag };
    shoal_err_t err = SHOAL_ERR_OK;
    switch (id) {
    case SEC_CUSTOM: err = sec_custom(d, &s, sec); break;
    case SEC_TYPE: err = sec_type(d, &s); break;
    case SEC_IMPORT: err = sec_import(d, &s); break;
    case SEC_FUNC: err = sec_func(d, &s); break;
    case SEC_TABLE: err = sec_table(d, &s); break;
    case SEC_MEM: err = sec_mem(d, &s); break;
    case SEC_GLOBAL: err = sec_global(d, &s); break;
    case SEC_EXPORT: err = sec_export(d, &s); break;
    case SEC_START: err = sec_start(d, &s); break;
    case SEC_ELEM: err = sec_elem(d, &s); break;
    case SEC_DATACOUNT: err = sec_datacount(d, &s); break;
    case SEC_CODE: err = sec_code(d, &s); break;
    case SEC_DATA: err = sec_data(d, &s); break;
    }
    if (err) {
      /* The reader only knows it ran out of bytes; say where it ran out. */
      if (err == SHOAL_ERR_MALFORMED && d->diag && d->diag->offset == (int64_t)(sec->offset + size) &&
          strncmp(d->diag->message, "unexpected end", 14) == 0 &&
          strncmp(d->diag->message, "unexpected end of section", 25) != 0) {
        char why[SHOAL_DIAG_MSG];
        memcpy(why, d->diag->message, sizeof why);
        why[sizeof why - 1] = 0;
        return ENG_ERR(d->diag, SHOAL_ERR_MALFORMED, d->diag->offset,
                       "unexpected end of section or function (section %u: %.200s)", id, why);
      }
      return err;
    }
    if (!eng_rd_eof(&s))
      return ENG_ERR(d->diag, SHOAL_ERR_MALFORMED, eng_rd_offset(&s),
                     "section size mismatch (section %u ends at %u, contents at %lld)", id,
                     sec->offset + size, (long long)eng_rd_offset(&s));
    r->p = s.end;
  }
  return SHOAL_ERR_OK;
}

shoal_err_t eng_decode(shoal_module_t *m, shoal_diag_t *diag) {
  dec d;
  memset(&d, 0, sizeof d);
  d.m = m;
  d.diag = diag;
  m->start = -1;
  shoal_err_t err = SHOAL_ERR_OK;
  eng_reader r = { m->bytes, m->bytes, m->bytes + m->len, diag };
  if (m->len > UINT32_MAX) {
    err = ENG_ERR(diag, SHOAL_ERR_UNSUPPORTED, -1, "implementation limit: module of %zu bytes", m->len);
    goto fail;
  }
  TRY(rd_header(&r));
  TRY(decode_sections(&d, &r));
  if (d.nfunc_decls && !d.seen_code) {
    err = ENG_ERR(diag, SHOAL_ERR_MALFORMED, (int64_t)m->len,
                  "function and code section have inconsistent lengths (%u and no code section)",
                  d.nfunc_decls);
    goto fail;
  }
  if (m->has_data_count && m->data_count && !d.seen_data) {
    err = ENG_ERR(diag, SHOAL_ERR_MALFORMED, (int64_t)m->len,
                  "data count and data section have inconsistent lengths (%u and no data section)",
                  m->data_count);
    goto fail;
  }
  if (!m->func_declared) {
    m->func_declared = calloc(m->nfuncs ? m->nfuncs : 1, 1);
    if (!m->func_declared) {
      err = ENG_ERR(diag, SHOAL_ERR_NOMEM, -1, "out of memory");
      goto fail;
    }
  }
  if (d.has_inv) {
    err = flush_invalid(&d);
    goto fail;
  }
  if (d.name_sec) TRY(parse_names(&d));
fail:
  free(d.canon);
  return err;
}

void eng_module_release(shoal_module_t *m) {
  if (m->types)
    for (uint32_t i = 0; i < m->ntypes; i++) free(m->types[i].types);
  free(m->types);
  for (uint32_t i = 0; m->imports && i < m->nimports; i++) {
    free((void *)m->imports[i].module);
    free((void *)m->imports[i].name);
  }
  free(m->imports);
  for (uint32_t i = 0; m->funcs && i < m->nfuncs; i++)
    if (m->funcs[i].code) eng_code_free(m->funcs[i].code);
  free_names(m, m->nfuncs);
  free(m->funcs);
  free(m->tables);
  free(m->mems);
  free(m->globals);
  for (uint32_t i = 0; m->exports && i < m->nexports; i++) free((void *)m->exports[i].name);
  free(m->exports);
  for (uint32_t i = 0; m->elems && i < m->nelems; i++) {
    free(m->elems[i].func_idx);
    free(m->elems[i].exprs);
  }
  free(m->elems);
  free(m->datas);
  free(m->func_declared);
  free(m->sections);
  m->types = NULL; m->ntypes = 0;
  m->imports = NULL; m->nimports = 0;
  m->funcs = NULL; m->nfuncs = m->nimported_funcs = 0;
  m->tables = NULL; m->ntables = m->nimported_tables = 0;
  m->mems = NULL; m->nmems = m->nimported_mems = 0;
  m->globals = NULL; m->nglobals = m->nimported_globals = 0;
  m->exports = NULL; m->nexports = 0;
  m->elems = NULL; m->nelems = 0;
  m->datas = NULL; m->ndatas = 0;
  m->func_declared = NULL;
  m->sections = NULL; m->nsections = 0;
  m->start = -1;
  m->has_data_count = false;
  m->data_count = 0;
}

/* }=================================================================== */
