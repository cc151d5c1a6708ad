/*
** Decoding of type definitions (Binary.md "Type Definitions"): value,
** func, component, instance, resource and core types, with their checks.
*/
#include "cmp_decode.h"
#include <string.h>

/* {==================================================================
** Index spaces
** =================================================================== */
bool cmp_space_push(cmp_dec_t *d, cmp_scope_t *s, cmp_sort_t sort, cmp_item_t item, uint32_t *idx) {
  cmp_space_t *sp = &s->space[sort];
  if (sp->n >= CMP_MAX_INDEX) return cmp_dec_err(d, SHOAL_ERR_INVALID, "too many %s definitions", cmp_sort_name(sort));
  if (sp->n == sp->cap) {
    uint32_t cap = sp->cap ? sp->cap * 2 : 16;
    cmp_item_t *items = cmp_alloc(&d->c->arena, cap * sizeof *items);
    if (!items) return cmp_dec_oom(d);
    if (sp->n) memcpy(items, sp->items, sp->n * sizeof *items);
    sp->items = items;
    sp->cap = cap;
  }
  if (idx) *idx = sp->n;
  sp->items[sp->n++] = item;
  return true;
}

cmp_item_t *cmp_space_get(cmp_dec_t *d, cmp_scope_t *s, cmp_sort_t sort, uint32_t idx) {
  if (idx >= s->space[sort].n) {
    cmp_dec_err(d, SHOAL_ERR_INVALID, "unknown %s %u: index out of bounds", cmp_sort_name(sort), idx);
    return NULL;
  }
  return &s->space[sort].items[idx];
}

cmp_type_t *cmp_new_type(cmp_dec_t *d, shoal_ctype_kind_t k) {
  cmp_type_t *t = cmp_alloc(&d->c->arena, sizeof *t);
  if (!t) { cmp_dec_oom(d); return NULL; }
  t->kind = k;
  t->dtor = -1;
  return t;
}

bool cmp_push_type(cmp_dec_t *d, cmp_scope_t *s, cmp_type_t *t) {
  cmp_item_t it = {.type = t, .def = UINT32_MAX};
  return cmp_space_push(d, s, t->kind == SHOAL_CT_CORE_FUNC || t->kind == SHOAL_CT_CORE_MODULE
                                  ? CMP_SORT_CORE_TYPE : CMP_SORT_TYPE, it, NULL);
}
/* }================================================================== */

/* {==================================================================
** Value types
** =================================================================== */
static int prim_of_code(uint8_t b) {
  if (b >= 0x73 && b <= 0x7f) return SHOAL_CT_BOOL + (0x7f - b);
  if (b == 0x64) return SHOAL_CT_ERROR_CONTEXT;
  return -1;
}

/* valtype ::= typeidx | primvaltype: a negative one-byte s33 is a code. */
bool cmp_read_valtype(cmp_dec_t *d, cmp_scope_t *s, cmp_type_t **out) {
  uint8_t b;
  if (!cmp_rd_peek(&d->r, &b)) return cmp_rd_err(&d->r, "unexpected end: value type expected");
  if ((b & 0xc0) == 0x40) {
    int k = prim_of_code(b);
    if (k < 0) return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid value type code 0x%02x", b);
    d->r.pos++;
    *out = cmp_prim((shoal_ctype_kind_t)k);
    return true;
  }
  uint32_t idx;
  int64_t at = cmp_rd_off(&d->r);
  if (!cmp_rd_u32(&d->r, &idx, "type index")) return false;
  cmp_item_t *it = cmp_space_get(d, s, CMP_SORT_TYPE, idx);
  if (!it) return false;
  if (!cmp_is_valtype(it->type)) {
    d->r.pos = (size_t)at;
    return cmp_dec_err(d, SHOAL_ERR_INVALID, "type %u is not a value type", idx);
  }
  *out = it->type;
  return true;
}

static bool read_opt_valtype(cmp_dec_t *d, cmp_scope_t *s, cmp_type_t **out) {
  uint8_t b;
  if (!cmp_rd_byte(&d->r, &b, "unexpected end: optional value type")) return false;
  if (b == 0) { *out = NULL; return true; }
  if (b != 1) return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid optional-type flag 0x%02x", b);
  return cmp_read_valtype(d, s, out);
}

static bool check_unique(cmp_dec_t *d, const cmp_field_t *f, uint32_t n, const char *what) {
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t j = 0; j < i; j++)
      if (cmp_names_clash(f[i].name, f[i].name_len, f[j].name, f[j].name_len))
        return cmp_dec_err(d, SHOAL_ERR_INVALID, "%s name `%.*s` conflicts with `%.*s`", what,
                           (int)f[i].name_len, f[i].name, (int)f[j].name_len, f[j].name);
  return true;
}

/* vec of (label, valtype?) as fields; mode 0 record/params, 1 cases, 2 labels, 3 tuple */
static bool read_fields(cmp_dec_t *d, cmp_scope_t *s, cmp_type_t *t, int mode, const char *what) {
  uint32_t n;
  if (!cmp_rd_vec(d, &n, what)) return false;
  t->n = n;
  t->fields = cmp_alloc(&d->c->arena, (n ? n : 1) * sizeof *t->fields);
  if (!t->fields) return cmp_dec_oom(d);
  for (uint32_t i = 0; i < n; i++) {
    cmp_field_t *f = &t->fields[i];
    if (mode != 3) {
      if (!cmp_rd_name(&d->r, &f->name, &f->name_len, "label")) return false;
      if (!cmp_check_label(d, f->name, f->name_len)) return false;
    }
    if (mode == 0 || mode == 3) {
      if (!cmp_read_valtype(d, s, &f->type)) return false;
    } else if (mode == 1) {
      if (!read_opt_valtype(d, s, &f->type)) return false;
      uint8_t z;
      if (!cmp_rd_byte(&d->r, &z, "unexpected end: case refines")) return false;
      if (z != 0) return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "case refines must be 0x00");
    }
  }
  return mode == 3 || check_unique(d, t->fields, n, what);
}

static uint32_t depth_of(const cmp_type_t *t) { return t ? t->depth : 0; }

/* Bounds the nesting of value types, so the recursive walks over them
** (layout, equality, lifting, printing) stay shallow; then the size limit. */
static bool check_elem_size(cmp_dec_t *d, cmp_type_t *t) {
  uint32_t dep = 0;
  for (uint32_t i = 0; i < t->n; i++)
    if (depth_of(t->fields[i].type) > dep) dep = depth_of(t->fields[i].type);
  if (depth_of(t->elem) > dep) dep = depth_of(t->elem);
  if (depth_of(t->err) > dep) dep = depth_of(t->err);
  t->depth = dep + 1;
  if (t->depth > CMP_MAX_TYPE_DEPTH)
    return cmp_dec_err(d, SHOAL_ERR_INVALID, "type nested too deeply (more than %d levels)", CMP_MAX_TYPE_DEPTH);
  cmp_abi_layout(t);
  if (t->size >= (1u << 28)) return cmp_dec_err(d, SHOAL_ERR_INVALID, "type is too large (%u bytes)", t->size);
  return true;
}

static bool read_defvaltype(cmp_dec_t *d, cmp_scope_t *s, uint8_t code, cmp_type_t **out) {
  int k = prim_of_code(code);
  if (k >= 0) { *out = cmp_prim((shoal_ctype_kind_t)k); return true; }
  cmp_type_t *t = NULL;
  switch (code) {
  case 0x72:
    if (!(t = cmp_new_type(d, SHOAL_CT_RECORD)) || !read_fields(d, s, t, 0, "record field")) return false;
    if (!t->n) return cmp_dec_err(d, SHOAL_ERR_INVALID, "record type must have at least one field");
    break;
  case 0x71:
    if (!(t = cmp_new_type(d, SHOAL_CT_VARIANT)) || !read_fields(d, s, t, 1, "variant case")) return false;
    if (!t->n) return cmp_dec_err(d, SHOAL_ERR_INVALID, "variant type must have at least one case");
    break;
  case 0x70:
  case 0x67:
    if (!(t = cmp_new_type(d, SHOAL_CT_LIST)) || !cmp_read_valtype(d, s, &t->elem)) return false;
    if (code == 0x67) {
      if (!cmp_rd_u32(&d->r, &t->fixed_len, "fixed list length")) return false;
      if (!t->fixed_len) return cmp_dec_err(d, SHOAL_ERR_INVALID, "fixed-length list must have a length above 0");
    }
    break;
  case 0x6f:
    if (!(t = cmp_new_type(d, SHOAL_CT_TUPLE)) || !read_fields(d, s, t, 3, "tuple element")) return false;
    if (!t->n) return cmp_dec_err(d, SHOAL_ERR_INVALID, "tuple type must have at least one type");
    break;
  case 0x6e:
  case 0x6d:
    t = cmp_new_type(d, code == 0x6e ? SHOAL_CT_FLAGS : SHOAL_CT_ENUM);
    if (!t || !read_fields(d, s, t, 2, code == 0x6e ? "flag" : "enum case")) return false;
    if (!t->n) return cmp_dec_err(d, SHOAL_ERR_INVALID, "%s must have at least one label", code == 0x6e ? "flags" : "enum");
    if (code == 0x6e && t->n > 32) return cmp_dec_err(d, SHOAL_ERR_INVALID, "cannot have more than 32 flags");
    break;
  case 0x6b:
    if (!(t = cmp_new_type(d, SHOAL_CT_OPTION)) || !cmp_read_valtype(d, s, &t->elem)) return false;
    break;
  case 0x6a:
    if (!(t = cmp_new_type(d, SHOAL_CT_RESULT)) || !read_opt_valtype(d, s, &t->elem) ||
        !read_opt_valtype(d, s, &t->err))
      return false;
    break;
  case 0x69:
  case 0x68: {
    uint32_t idx;
    if (!(t = cmp_new_type(d, code == 0x69 ? SHOAL_CT_OWN : SHOAL_CT_BORROW))) return false;
    if (!cmp_rd_u32(&d->r, &idx, "resource type index")) return false;
    cmp_item_t *it = cmp_space_get(d, s, CMP_SORT_TYPE, idx);
    if (!it) return false;
    if (it->type->kind != SHOAL_CT_RESOURCE) return cmp_dec_err(d, SHOAL_ERR_INVALID, "type %u is not a resource", idx);
    t->elem = it->type;
    break;
  }
  case 0x66:
  case 0x65:
    if (!(t = cmp_new_type(d, code == 0x66 ? SHOAL_CT_STREAM : SHOAL_CT_FUTURE)) || !read_opt_valtype(d, s, &t->elem))
      return false;
    break;
  case 0x63:
    if (!(t = cmp_new_type(d, SHOAL_CT_MAP)) || !cmp_read_valtype(d, s, &t->elem) ||
        !cmp_read_valtype(d, s, &t->err))
      return false;
    break;
  default:
    d->r.pos--;
    return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid leading byte (0x%02x) for component defined type", code);
  }
  if (!check_elem_size(d, t)) return false;
  *out = t;
  return true;
}

static bool read_functype(cmp_dec_t *d, cmp_scope_t *s, bool async, cmp_type_t **out) {
  cmp_type_t *t = cmp_new_type(d, SHOAL_CT_FUNC);
  if (!t || !read_fields(d, s, t, 0, "function parameter")) return false;
  t->async = async;
  uint8_t b;
  if (!cmp_rd_byte(&d->r, &b, "unexpected end: result list")) return false;
  if (b == 0x00) {
    if (!cmp_read_valtype(d, s, &t->result)) return false;
    if (cmp_contains_borrow(t->result))
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "function result cannot contain a `borrow` type");
  } else if (b == 0x01) {
    uint8_t z;
    if (!cmp_rd_byte(&d->r, &z, "unexpected end: result list")) return false;
    if (z != 0) return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "named results are not supported (0x%02x)", z);
  } else {
    return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid result list byte 0x%02x", b);
  }
  *out = t;
  return true;
}
/* }================================================================== */

/* {==================================================================
** Core types (functypes and module types)
** =================================================================== */
static bool read_core_valtype(cmp_dec_t *d, shoal_valtype_t *out) {
  uint8_t b;
  if (!cmp_rd_byte(&d->r, &b, "unexpected end: core value type")) return false;
  switch (b) {
  case 0x7f: case 0x7e: case 0x7d: case 0x7c: case 0x70: case 0x6f:
    *out = (shoal_valtype_t)b;
    return true;
  case 0x7b: return cmp_dec_err(d, SHOAL_ERR_UNSUPPORTED, "v128 is not supported");
  default:
    d->r.pos--;
    return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid core value type 0x%02x", b);
  }
}

static bool read_core_functype_body(cmp_dec_t *d, cmp_type_t **out) {
  cmp_type_t *t = cmp_new_type(d, SHOAL_CT_CORE_FUNC);
  if (!t) return false;
  uint32_t n[2];
  shoal_valtype_t *v[2];
  for (int k = 0; k < 2; k++) {
    if (!cmp_rd_vec(d, &n[k], k ? "core results" : "core params")) return false;
    v[k] = cmp_alloc(&d->c->arena, (n[k] + 1) * sizeof *v[k]);
    if (!v[k]) return cmp_dec_oom(d);
    for (uint32_t i = 0; i < n[k]; i++)
      if (!read_core_valtype(d, &v[k][i])) return false;
  }
  t->core_func = (shoal_functype_t){n[0], n[1], v[0], v[1]};
  *out = t;
  return true;
}

static bool read_limits(cmp_dec_t *d, shoal_limits_t *l, bool mem) {
  uint8_t f;
  uint32_t v;
  if (!cmp_rd_byte(&d->r, &f, "unexpected end: limits")) return false;
  if (f > 1) {
    d->r.pos--;
    return cmp_dec_err(d, SHOAL_ERR_UNSUPPORTED, "%s limits flag 0x%02x is not supported", mem ? "memory" : "table", f);
  }
  if (!cmp_rd_u32(&d->r, &v, "limits minimum")) return false;
  l->min = v;
  l->has_max = f == 1;
  if (l->has_max) {
    if (!cmp_rd_u32(&d->r, &v, "limits maximum")) return false;
    l->max = v;
    if (l->max < l->min) return cmp_dec_err(d, SHOAL_ERR_INVALID, "size minimum must not be greater than maximum");
  }
  if (mem && (l->min > 65536 || (l->has_max && l->max > 65536)))
    return cmp_dec_err(d, SHOAL_ERR_INVALID, "memory size must be at most 65536 pages (4GiB)");
  return true;
}

/* core:externtype / core:importdesc, function types from the core type space */
static bool read_core_externtype(cmp_dec_t *d, cmp_scope_t *s, shoal_externtype_t *et) {
  uint8_t b;
  memset(et, 0, sizeof *et);
  if (!cmp_rd_byte(&d->r, &b, "unexpected end: core extern type")) return false;
  switch (b) {
  case 0x00: {
    uint32_t idx;
    if (!cmp_rd_u32(&d->r, &idx, "core type index")) return false;
    cmp_item_t *it = cmp_space_get(d, s, CMP_SORT_CORE_TYPE, idx);
    if (!it) return false;
    if (it->type->kind != SHOAL_CT_CORE_FUNC) return cmp_dec_err(d, SHOAL_ERR_INVALID, "core type %u is not a function type", idx);
    et->kind = SHOAL_EXTERN_FUNC;
    et->func = it->type->core_func;
    return true;
  }
  case 0x01:
    et->kind = SHOAL_EXTERN_TABLE;
    if (!read_core_valtype(d, &et->elem)) return false;
    if (et->elem != SHOAL_FUNCREF && et->elem != SHOAL_EXTERNREF) return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "table element must be a reference type");
    return read_limits(d, &et->limits, false);
  case 0x02:
    et->kind = SHOAL_EXTERN_MEMORY;
    return read_limits(d, &et->limits, true);
  case 0x03: {
    uint8_t m;
    et->kind = SHOAL_EXTERN_GLOBAL;
    if (!read_core_valtype(d, &et->global_type) || !cmp_rd_byte(&d->r, &m, "unexpected end: global mutability")) return false;
    if (m > 1) return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "malformed mutability 0x%02x", m);
    et->global_mutable = m;
    return true;
  }
  case 0x04: return cmp_dec_err(d, SHOAL_ERR_UNSUPPORTED, "core tags (exception handling) are not supported");
  default:
    d->r.pos--;
    return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid core extern kind 0x%02x", b);
  }
}

static bool push_core_extern(cmp_dec_t *d, cmp_core_extern_t **xs, uint32_t *n, uint32_t *cap, cmp_core_extern_t x) {
  if (*n == *cap) {
    uint32_t nc = *cap ? *cap * 2 : 8;
    cmp_core_extern_t *p = cmp_alloc(&d->c->arena, nc * sizeof *p);
    if (!p) return cmp_dec_oom(d);
    if (*n) memcpy(p, *xs, *n * sizeof *p);
    *xs = p;
    *cap = nc;
  }
  (*xs)[(*n)++] = x;
  return true;
}

static bool read_core_moduletype(cmp_dec_t *d, cmp_scope_t *outer, cmp_type_t **out) {
  cmp_type_t *t = cmp_new_type(d, SHOAL_CT_CORE_MODULE);
  cmp_scope_t *s = cmp_alloc(&d->c->arena, sizeof *s);
  if (!t || !s) return cmp_dec_oom(d);
  s->parent = outer;
  s->depth = outer->depth + 1;
  uint32_t n, icap = 0, ecap = 0;
  if (!cmp_rd_vec(d, &n, "module type declarations")) return false;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t b;
    if (!cmp_rd_byte(&d->r, &b, "unexpected end: module type declaration")) return false;
    cmp_core_extern_t x = {0};
    switch (b) {
    case 0x00:
      if (!cmp_rd_name(&d->r, &x.module, &x.module_len, "import module") ||
          !cmp_rd_name(&d->r, &x.name, &x.name_len, "import name") || !read_core_externtype(d, s, &x.type) ||
          !push_core_extern(d, &t->core_imports, &t->n, &icap, x))
        return false;
      break;
    case 0x01: {
      uint8_t f;
      cmp_type_t *ft;
      if (!cmp_rd_byte(&d->r, &f, "unexpected end: core type")) return false;
      if (f == 0x50) return cmp_dec_err(d, SHOAL_ERR_INVALID, "core module types cannot be nested");
      if (f != 0x60) return cmp_dec_err(d, SHOAL_ERR_UNSUPPORTED, "core type form 0x%02x is not supported", f);
      if (!read_core_functype_body(d, &ft) || !cmp_push_type(d, s, ft)) return false;
      break;
    }
    case 0x02: {
      uint8_t k, o;
      uint32_t ct, idx;
      if (!cmp_rd_byte(&d->r, &k, "unexpected end: alias") || !cmp_rd_byte(&d->r, &o, "unexpected end: alias")) return false;
      if (k != 0x10 || o != 0x01) return cmp_dec_err(d, SHOAL_ERR_INVALID, "only outer type aliases are allowed in module types");
      if (!cmp_rd_u32(&d->r, &ct, "outer count") || !cmp_rd_u32(&d->r, &idx, "outer index")) return false;
      cmp_scope_t *target = s;
      for (uint32_t j = 0; j < ct && target; j++) target = target->parent;
      if (!target) return cmp_dec_err(d, SHOAL_ERR_INVALID, "invalid outer alias count of %u", ct);
      cmp_item_t *it = cmp_space_get(d, target, CMP_SORT_CORE_TYPE, idx);
      if (!it) return false;
      if (it->type->kind == SHOAL_CT_CORE_MODULE) return cmp_dec_err(d, SHOAL_ERR_INVALID, "cannot alias a module type into a module type");
      if (!cmp_push_type(d, s, it->type)) return false;
      break;
    }
    case 0x03:
      if (!cmp_rd_name(&d->r, &x.name, &x.name_len, "export name") || !read_core_externtype(d, s, &x.type) ||
          !push_core_extern(d, &t->core_exports, &t->nexports, &ecap, x))
        return false;
      break;
    default:
      d->r.pos--;
      return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid module type declaration 0x%02x", b);
    }
  }
  *out = t;
  return true;
}

bool cmp_read_core_type(cmp_dec_t *d, cmp_scope_t *s) {
  uint8_t b;
  cmp_type_t *t = NULL;
  if (!cmp_rd_byte(&d->r, &b, "unexpected end: core type")) return false;
  if (b == 0x60) { if (!read_core_functype_body(d, &t)) return false; }
  else if (b == 0x50) { if (!read_core_moduletype(d, s, &t)) return false; }
  else {
    d->r.pos--;
    return cmp_dec_err(d, SHOAL_ERR_UNSUPPORTED, "core type form 0x%02x (GC types) is not supported", b);
  }
  return cmp_push_type(d, s, t);
}
/* }================================================================== */

/* {==================================================================
** Component and instance types
** =================================================================== */
bool cmp_read_typebound_extern(cmp_dec_t *d, cmp_scope_t *s, cmp_extern_t *x);

static bool push_extern(cmp_dec_t *d, cmp_extern_t **xs, uint32_t *n, uint32_t *cap, cmp_extern_t x) {
  if (!cmp_check_func_name(d, *xs, *n, &x)) return false;
  for (uint32_t i = 0; i < *n; i++)
    if (cmp_names_clash((*xs)[i].name, (*xs)[i].name_len, x.name, x.name_len))
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "name `%.*s` conflicts with previous name `%.*s`",
                         (int)x.name_len, x.name, (int)(*xs)[i].name_len, (*xs)[i].name);
  if (*n == *cap) {
    uint32_t nc = *cap ? *cap * 2 : 8;
    cmp_extern_t *p = cmp_alloc(&d->c->arena, nc * sizeof *p);
    if (!p) return cmp_dec_oom(d);
    if (*n) memcpy(p, *xs, *n * sizeof *p);
    *xs = p;
    *cap = nc;
  }
  (*xs)[(*n)++] = x;
  return true;
}

/* An import or export declaration adds an index of its sort to the scope. */
bool cmp_declare_extern(cmp_dec_t *d, cmp_scope_t *s, const cmp_extern_t *x) {
  cmp_item_t it = {.type = x->type, .def = UINT32_MAX};
  cmp_sort_t sort = x->sort;
  return cmp_space_push(d, s, sort, it, NULL);
}

static bool read_decls(cmp_dec_t *d, cmp_scope_t *outer, bool component, cmp_type_t **out) {
  cmp_type_t *t = cmp_new_type(d, component ? SHOAL_CT_COMPONENT : SHOAL_CT_INSTANCE);
  cmp_scope_t *s = cmp_alloc(&d->c->arena, sizeof *s);
  if (!t || !s) return cmp_dec_oom(d);
  s->parent = outer;
  s->depth = outer->depth + 1;
  if (s->depth > CMP_MAX_DEPTH) return cmp_dec_err(d, SHOAL_ERR_INVALID, "types nested too deeply");
  uint32_t n, icap = 0, ecap = 0;
  if (!cmp_rd_vec(d, &n, component ? "component type declarations" : "instance type declarations")) return false;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t b;
    if (!cmp_rd_byte(&d->r, &b, "unexpected end: declaration")) return false;
    switch (b) {
    case 0x00:
      if (!cmp_read_core_type(d, s)) return false;
      break;
    case 0x01: {
      cmp_type_t *dt;
      if (!cmp_read_type(d, s, &dt)) return false;
      if (dt->kind == SHOAL_CT_RESOURCE)
        return cmp_dec_err(d, SHOAL_ERR_INVALID, "resources can only be defined within a concrete component");
      break;
    }
    case 0x02:
      if (!cmp_read_alias(d, s, true)) return false;
      break;
    case 0x03:
    case 0x04: {
      if (b == 0x03 && !component) return cmp_dec_err(d, SHOAL_ERR_INVALID, "instance types cannot declare imports");
      cmp_extern_t x;
      if (!cmp_read_nameattr(d, &x.name, &x.name_len) || !cmp_read_externtype(d, s, &x)) return false;
      if (b == 0x03) { if (!push_extern(d, &t->imports, &t->n, &icap, x)) return false; }
      else if (!push_extern(d, &t->exports, &t->nexports, &ecap, x)) return false;
      if (!cmp_declare_extern(d, s, &x)) return false;
      break;
    }
    default:
      d->r.pos--;
      return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid leading byte (0x%02x) for %s type declaration", b,
                         component ? "component" : "instance");
    }
  }
  *out = t;
  return true;
}

bool cmp_read_type(cmp_dec_t *d, cmp_scope_t *s, cmp_type_t **out) {
  uint8_t b;
  cmp_type_t *t = NULL;
  if (!cmp_rd_byte(&d->r, &b, "unexpected end: type definition")) return false;
  switch (b) {
  case 0x40:
  case 0x43:
    if (!read_functype(d, s, b == 0x43, &t)) return false;
    break;
  case 0x41:
  case 0x42:
    if (!read_decls(d, s, b == 0x41, &t)) return false;
    break;
  case 0x3f: {
    uint8_t rep, has;
    if (!(t = cmp_new_type(d, SHOAL_CT_RESOURCE))) return false;
    if (!cmp_rd_byte(&d->r, &rep, "unexpected end: resource representation")) return false;
    if (rep != 0x7f) return cmp_dec_err(d, SHOAL_ERR_INVALID, "resources can only be represented by `i32`");
    t->rep = SHOAL_I32;
    if (!cmp_rd_byte(&d->r, &has, "unexpected end: resource destructor")) return false;
    if (has > 1) return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid destructor flag 0x%02x", has);
    if (has) {
      uint32_t f;
      if (!cmp_rd_u32(&d->r, &f, "destructor function index")) return false;
      cmp_item_t *it = cmp_space_get(d, s, CMP_SORT_CORE_FUNC, f);
      if (!it) return false;
      const shoal_functype_t *ft = &it->ct.func;
      if (ft->nparams != 1 || ft->params[0] != SHOAL_I32 || ft->nresults != 0)
        return cmp_dec_err(d, SHOAL_ERR_INVALID, "wrong signature for a destructor: core func %u is not [i32] -> []", f);
      t->dtor = f;
    }
    t->owner = s;
    t->owner_idx = s->space[CMP_SORT_TYPE].n;
    break;
  }
  default:
    if (!read_defvaltype(d, s, b, &t)) return false;
    break;
  }
  *out = t;
  return cmp_push_type(d, s, t);
}

/* externtype of an import/export declaration or import definition. */
bool cmp_read_externtype(cmp_dec_t *d, cmp_scope_t *s, cmp_extern_t *x) {
  uint8_t b;
  uint32_t idx;
  if (!cmp_rd_byte(&d->r, &b, "unexpected end: extern type")) return false;
  switch (b) {
  case 0x00: {
    uint8_t m;
    if (!cmp_rd_byte(&d->r, &m, "unexpected end: extern type") || !cmp_rd_u32(&d->r, &idx, "core type index")) return false;
    if (m != 0x11) return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid core extern type 0x%02x", m);
    cmp_item_t *it = cmp_space_get(d, s, CMP_SORT_CORE_TYPE, idx);
    if (!it) return false;
    if (it->type->kind != SHOAL_CT_CORE_MODULE) return cmp_dec_err(d, SHOAL_ERR_INVALID, "core type index %u is not a module type", idx);
    x->sort = CMP_SORT_CORE_MODULE;
    x->type = it->type;
    return true;
  }
  case 0x01: case 0x04: case 0x05: {
    static const shoal_ctype_kind_t want[] = {[1] = SHOAL_CT_FUNC, [4] = SHOAL_CT_COMPONENT, [5] = SHOAL_CT_INSTANCE};
    static const cmp_sort_t sorts[] = {[1] = CMP_SORT_FUNC, [4] = CMP_SORT_COMPONENT, [5] = CMP_SORT_INSTANCE};
    if (!cmp_rd_u32(&d->r, &idx, "type index")) return false;
    cmp_item_t *it = cmp_space_get(d, s, CMP_SORT_TYPE, idx);
    if (!it) return false;
    if (it->type->kind != want[b])
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "type index %u is not a %s type", idx, cmp_sort_name(sorts[b]));
    x->sort = sorts[b];
    x->type = it->type;
    return true;
  }
  case 0x02: return cmp_dec_err(d, SHOAL_ERR_UNSUPPORTED, "value imports and exports are not supported");
  case 0x03: {
    uint8_t k;
    if (!cmp_rd_byte(&d->r, &k, "unexpected end: type bound")) return false;
    x->sort = CMP_SORT_TYPE;
    if (k == 0x00) {
      if (!cmp_rd_u32(&d->r, &idx, "type index")) return false;
      cmp_item_t *it = cmp_space_get(d, s, CMP_SORT_TYPE, idx);
      if (!it) return false;
      x->type = it->type;
      return true;
    }
    if (k == 0x01) {   /* (sub resource): a fresh abstract resource */
      if (!(x->type = cmp_new_type(d, SHOAL_CT_RESOURCE))) return false;
      x->type->rep = SHOAL_I32;
      return true;
    }
    return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid type bound 0x%02x", k);
  }
  default:
    d->r.pos--;
    return cmp_dec_err(d, SHOAL_ERR_MALFORMED, "invalid extern type 0x%02x", b);
  }
}
/* }================================================================== */
