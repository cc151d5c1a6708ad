/*
** Canonical ABI layout (CanonicalABI.md "Alignment", "Element Size",
** "Flattening"): size, alignment and flat core types of value types.
*/
#include "cmp.h"
#include <string.h>

static uint32_t align_to(uint64_t p, uint32_t a) {
  uint64_t r = (p + a - 1) / a * a;
  return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

static uint32_t disc_size(uint32_t n) { return n <= 256 ? 1 : n <= 65536 ? 2 : 4; }

/* Joins flat type b into slot a of a variant payload. */
static uint8_t join(uint8_t a, uint8_t b) {
  if (a == b) return a;
  if ((a == SHOAL_I32 && b == SHOAL_F32) || (a == SHOAL_F32 && b == SHOAL_I32)) return SHOAL_I32;
  return SHOAL_I64;
}

/* Flat types are kept in a fixed buffer while computing; a type with more
** than CMP_FLAT_CAP of them is only ever passed through memory. */
typedef struct flat_acc {
  uint8_t v[CMP_FLAT_CAP + 1];
  uint32_t n;    /* may exceed CMP_FLAT_CAP: then v is not meaningful */
} flat_acc_t;

static void acc_push(flat_acc_t *f, uint8_t t) {
  if (f->n < CMP_FLAT_CAP) f->v[f->n] = t;
  if (f->n <= CMP_FLAT_CAP) f->n++;
}

static void flatten_into(cmp_type_t *t, flat_acc_t *f);

static void record_layout(cmp_type_t *t, cmp_type_t *const *ts, uint32_t n) {
  uint64_t s = 0;
  uint32_t a = 1;
  for (uint32_t i = 0; i < n; i++) {
    cmp_abi_layout(ts[i]);
    s = align_to(s, ts[i]->align);
    s += ts[i]->size;
    if (ts[i]->align > a) a = ts[i]->align;
  }
  t->align = a;
  t->size = align_to(s, a);
}

static void variant_layout(cmp_type_t *t) {
  uint32_t n = t->kind == SHOAL_CT_OPTION || t->kind == SHOAL_CT_RESULT ? 2 : t->n;
  uint32_t ds = disc_size(n), ma = 1, cs = 0;
  for (uint32_t i = 0; i < n; i++) {
    cmp_type_t *c = t->kind == SHOAL_CT_OPTION ? (i ? t->elem : NULL)
                  : t->kind == SHOAL_CT_RESULT ? (i ? t->err : t->elem)
                  : t->kind == SHOAL_CT_ENUM ? NULL : t->fields[i].type;
    if (!c) continue;
    cmp_abi_layout(c);
    if (c->align > ma) ma = c->align;
    if (c->size > cs) cs = c->size;
  }
  uint32_t a = ds > ma ? ds : ma;
  uint64_t s = align_to(ds, ma) + (uint64_t)cs;
  t->align = a;
  t->size = align_to(s, a);
}

void cmp_abi_layout(cmp_type_t *t) {
  if (t->layout_done) return;
  switch (t->kind) {
  case SHOAL_CT_BOOL: case SHOAL_CT_S8: case SHOAL_CT_U8: t->size = t->align = 1; break;
  case SHOAL_CT_S16: case SHOAL_CT_U16: t->size = t->align = 2; break;
  case SHOAL_CT_S32: case SHOAL_CT_U32: case SHOAL_CT_F32: case SHOAL_CT_CHAR:
  case SHOAL_CT_ERROR_CONTEXT: case SHOAL_CT_OWN: case SHOAL_CT_BORROW:
  case SHOAL_CT_STREAM: case SHOAL_CT_FUTURE:
    t->size = t->align = 4; break;
  case SHOAL_CT_S64: case SHOAL_CT_U64: case SHOAL_CT_F64: t->size = t->align = 8; break;
  case SHOAL_CT_STRING: t->size = 8; t->align = 4; break;
  case SHOAL_CT_LIST:
    if (t->fixed_len) {
      cmp_abi_layout(t->elem);
      uint64_t s = (uint64_t)t->fixed_len * t->elem->size;
      t->size = s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
      t->align = t->elem->align;
    } else {
      t->size = 8; t->align = 4;
    }
    break;
  case SHOAL_CT_MAP: t->size = 8; t->align = 4; break;
  case SHOAL_CT_RECORD: case SHOAL_CT_TUPLE: {
    cmp_type_t *ts[64];
    if (t->n <= 64) {
      for (uint32_t i = 0; i < t->n; i++) ts[i] = t->fields[i].type;
      record_layout(t, ts, t->n);
    } else {  /* large records: the same computation without the array */
      uint64_t s = 0;
      uint32_t a = 1;
      for (uint32_t i = 0; i < t->n; i++) {
        cmp_type_t *f = t->fields[i].type;
        cmp_abi_layout(f);
        s = align_to(s, f->align) + (uint64_t)f->size;
        if (f->align > a) a = f->align;
      }
      t->align = a;
      t->size = align_to(s, a);
    }
    break;
  }
  case SHOAL_CT_VARIANT: case SHOAL_CT_ENUM: case SHOAL_CT_OPTION: case SHOAL_CT_RESULT:
    variant_layout(t);
    break;
  case SHOAL_CT_FLAGS: t->size = t->align = t->n <= 8 ? 1 : t->n <= 16 ? 2 : 4; break;
  default: t->size = 0; t->align = 1; break;
  }
  flat_acc_t f = {.n = 0};
  if (cmp_is_valtype(t)) {
    flatten_into(t, &f);
    /* calls need these every time: kept when they are few */
    if (f.n <= sizeof t->flat) {
      memcpy(t->flat, f.v, f.n);
      t->flat_cached = true;
    }
  }
  t->nflat = f.n;
  t->layout_done = true;
}

static void flatten_into(cmp_type_t *t, flat_acc_t *f) {
  if (f->n > CMP_FLAT_CAP) return;
  switch (t->kind) {
  case SHOAL_CT_S64: case SHOAL_CT_U64: acc_push(f, SHOAL_I64); return;
  case SHOAL_CT_F32: acc_push(f, SHOAL_F32); return;
  case SHOAL_CT_F64: acc_push(f, SHOAL_F64); return;
  case SHOAL_CT_STRING: case SHOAL_CT_MAP: acc_push(f, SHOAL_I32); acc_push(f, SHOAL_I32); return;
  case SHOAL_CT_LIST:
    if (!t->fixed_len) { acc_push(f, SHOAL_I32); acc_push(f, SHOAL_I32); return; }
    for (uint32_t i = 0; i < t->fixed_len && f->n <= CMP_FLAT_CAP; i++) flatten_into(t->elem, f);
    return;
  case SHOAL_CT_RECORD: case SHOAL_CT_TUPLE:
    for (uint32_t i = 0; i < t->n; i++) flatten_into(t->fields[i].type, f);
    return;
  case SHOAL_CT_VARIANT: case SHOAL_CT_ENUM: case SHOAL_CT_OPTION: case SHOAL_CT_RESULT: {
    acc_push(f, SHOAL_I32);
    uint32_t base = f->n, width = 0;
    uint32_t n = t->kind == SHOAL_CT_OPTION || t->kind == SHOAL_CT_RESULT ? 2 : t->n;
    for (uint32_t i = 0; i < n; i++) {
      cmp_type_t *c = t->kind == SHOAL_CT_OPTION ? (i ? t->elem : NULL)
                    : t->kind == SHOAL_CT_RESULT ? (i ? t->err : t->elem)
                    : t->kind == SHOAL_CT_ENUM ? NULL : t->fields[i].type;
      if (!c) continue;
      flat_acc_t cf = {.n = 0};
      flatten_into(c, &cf);
      if (cf.n > CMP_FLAT_CAP) { f->n = CMP_FLAT_CAP + 1; return; }
      for (uint32_t j = 0; j < cf.n; j++) {
        if (j < width) {
          if (base + j < CMP_FLAT_CAP) f->v[base + j] = join(f->v[base + j], cf.v[j]);
        } else {
          acc_push(f, cf.v[j]);
          width++;
        }
      }
    }
    return;
  }
  default: acc_push(f, SHOAL_I32); return;
  }
}

uint32_t cmp_flat_count(cmp_type_t *t) {
  cmp_abi_layout(t);
  return t->nflat;
}

uint32_t cmp_flat_types(cmp_type_t *t, uint8_t *out, uint32_t cap) {
  if (t->layout_done && t->flat_cached) {
    memcpy(out, t->flat, t->nflat < cap ? t->nflat : cap);
    return t->nflat;
  }
  flat_acc_t f = {.n = 0};
  flatten_into(t, &f);
  uint32_t n = f.n < cap ? f.n : cap;
  memcpy(out, f.v, n < CMP_FLAT_CAP ? n : CMP_FLAT_CAP);
  return f.n;
}

/* flatten_functype: the core signature of a lifted or lowered function. */
bool cmp_flatten_functype(cmp_arena_t *ar, cmp_type_t *ft, bool lift, shoal_functype_t *out) {
  uint8_t p[CMP_FLAT_CAP + 1], r[CMP_FLAT_CAP + 1];
  uint32_t np = 0, nr = 0;
  bool overflow = false;
  for (uint32_t i = 0; i < ft->n; i++) {
    uint32_t k = cmp_flat_types(ft->fields[i].type, p + (np < CMP_FLAT_CAP ? np : CMP_FLAT_CAP),
                                np < CMP_FLAT_CAP ? CMP_FLAT_CAP - np : 0);
    np += k;
    if (np > CMP_MAX_FLAT_PARAMS) { overflow = true; np = CMP_MAX_FLAT_PARAMS + 1; }
  }
  if (overflow || np > CMP_MAX_FLAT_PARAMS) { np = 1; p[0] = SHOAL_I32; }
  if (ft->result) nr = cmp_flat_types(ft->result, r, CMP_FLAT_CAP);
  if (nr > CMP_MAX_FLAT_RESULTS) {
    if (lift) { nr = 1; r[0] = SHOAL_I32; }
    else { p[np++] = SHOAL_I32; nr = 0; }
  }
  shoal_valtype_t *pv = cmp_alloc(ar, (np + 1) * sizeof *pv), *rv = cmp_alloc(ar, (nr + 1) * sizeof *rv);
  if (!pv || !rv) return false;
  for (uint32_t i = 0; i < np; i++) pv[i] = (shoal_valtype_t)p[i];
  for (uint32_t i = 0; i < nr; i++) rv[i] = (shoal_valtype_t)r[i];
  *out = (shoal_functype_t){np, nr, pv, rv};
  return true;
}

/* Does lifting or lowering values of t need a memory (strings, lists)? */
bool cmp_needs_memory(const cmp_type_t *t) {
  if (!t) return false;
  switch (t->kind) {
  case SHOAL_CT_STRING: case SHOAL_CT_MAP: return true;
  case SHOAL_CT_LIST: return !t->fixed_len || cmp_needs_memory(t->elem);
  default: break;
  }
  if (cmp_is_prim(t->kind) || t->kind == SHOAL_CT_OWN || t->kind == SHOAL_CT_BORROW) return false;
  if (t->kind > SHOAL_CT_MAP) return false;
  for (uint32_t i = 0; i < t->n; i++)
    if (cmp_needs_memory(t->fields[i].type)) return true;
  return cmp_needs_memory(t->elem) || cmp_needs_memory(t->err);
}

/* {==================================================================
** Every layout at once (for components shared between threads)
** =================================================================== */
static void layout_deep(cmp_type_t *t) {
  if (!t || t->all_done) return;
  t->all_done = true;
  cmp_abi_layout(t);
  layout_deep(t->elem);
  layout_deep(t->err);
  layout_deep(t->result);
  if (t->fields)
    for (uint32_t i = 0; i < t->n; i++) layout_deep(t->fields[i].type);
  if (t->kind == SHOAL_CT_COMPONENT && t->imports)
    for (uint32_t i = 0; i < t->n; i++) layout_deep(t->imports[i].type);
  if (t->exports)
    for (uint32_t i = 0; i < t->nexports; i++) layout_deep(t->exports[i].type);
}

static void layout_scope(const cmp_scope_t *s) {
  for (int k = 0; k < CMP_SORT__COUNT; k++)
    for (uint32_t i = 0; i < s->space[k].n; i++) layout_deep(s->space[k].items[i].type);
  for (uint32_t i = 0; i < s->ndefs; i++) {
    layout_deep(s->defs[i].type);
    if (s->defs[i].scope) layout_scope(s->defs[i].scope);
  }
  for (uint32_t i = 0; i < s->nimports; i++) layout_deep(s->imports[i].type);
  for (uint32_t i = 0; i < s->nexports; i++) layout_deep(s->exports[i].type);
  layout_deep(s->type);
}

void cmp_abi_layout_all(const shoal_component_t *c) { layout_scope(c->root); }
/* }================================================================== */
