/*
** Canonical ABI lifting and lowering of values (CanonicalABI.md "Loading",
** "Storing", "Flat Lifting", "Flat Lowering"), with its traps.
*/
#include "cmp_rt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CANON_NAN32 0x7fc00000u
#define CANON_NAN64 0x7ff8000000000000ull

shoal_err_t cmp_trap(cmp_cx_t *cx, const char *fmt, ...) {
  shoal_diag_t *d = cx->diag;
  if (d) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof d->message, fmt, ap);
    va_end(ap);
    d->code = SHOAL_ERR_TRAP_HOST;
    d->offset = -1;
    d->func = -1;
  }
  return SHOAL_ERR_TRAP_HOST;
}

shoal_err_t cmp_mem_check(cmp_cx_t *cx, uint64_t ptr, uint64_t len, uint32_t align, const char *what) {
  if (!cx->mem) return cmp_trap(cx, "%s: no memory", what);
  if (align > 1 && ptr % align) return cmp_trap(cx, "%s: pointer 0x%llx not aligned to %u", what, (unsigned long long)ptr, align);
  if (ptr + len > shoal_memory_size(cx->mem))
    return cmp_trap(cx, "%s: range [0x%llx, +%llu) out of bounds of memory", what, (unsigned long long)ptr,
                    (unsigned long long)len);
  return SHOAL_ERR_OK;
}

uint8_t *cmp_mem_at(cmp_cx_t *cx, uint32_t ptr) { return shoal_memory_data(cx->mem) + ptr; }

shoal_err_t cmp_realloc(cmp_cx_t *cx, uint32_t old, uint32_t old_size, uint32_t align, uint32_t size, uint32_t *out) {
  if (!cx->realloc) return cmp_trap(cx, "no realloc to allocate %u bytes", size);
  shoal_raw_t io[4] = {old, old_size, align, size};
  shoal_err_t e = shoal_func_call_raw(cx->store, cx->realloc, io, cx->diag);
  if (e != SHOAL_ERR_OK) return e;
  uint32_t p = (uint32_t)io[0];
  shoal_err_t c = cmp_mem_check(cx, p, size, align, "realloc result");
  if (c != SHOAL_ERR_OK) return c;
  *out = p;
  return SHOAL_ERR_OK;
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t disc_size(uint32_t n) { return n <= 256 ? 1 : n <= 65536 ? 2 : 4; }
static uint32_t align_up(uint32_t p, uint32_t a) { return (p + a - 1) / a * a; }

/* Number of cases of a despecialized variant, and the payload of case i. */
static uint32_t ncases(const cmp_type_t *t) {
  return t->kind == SHOAL_CT_OPTION || t->kind == SHOAL_CT_RESULT ? 2 : t->n;
}
static cmp_type_t *case_type(const cmp_type_t *t, uint32_t i) {
  switch (t->kind) {
  case SHOAL_CT_OPTION: return i ? t->elem : NULL;
  case SHOAL_CT_RESULT: return i ? t->err : t->elem;
  case SHOAL_CT_ENUM: return NULL;
  default: return t->fields[i].type;
  }
}
static uint32_t max_case_align(const cmp_type_t *t) {
  uint32_t a = 1;
  for (uint32_t i = 0; i < ncases(t); i++) {
    cmp_type_t *c = case_type(t, i);
    if (c) { cmp_abi_layout(c); if (c->align > a) a = c->align; }
  }
  return a;
}
static bool is_variant(shoal_ctype_kind_t k) {
  return k == SHOAL_CT_VARIANT || k == SHOAL_CT_ENUM || k == SHOAL_CT_OPTION || k == SHOAL_CT_RESULT;
}

static shoal_cval_t *new_vals(cmp_cx_t *cx, size_t n) {
  shoal_cval_t *v = calloc(n ? n : 1, sizeof *v);
  if (!v && cx->diag) cmp_fail(cx->diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  return v;
}

/* The len elements of a list in memory at begin (in bounds already) into
** out's items: bytes (list<u8>, list<s8>: bodies, buffers) straight from
** memory, other elements one by one. */
static shoal_err_t load_items(cmp_cx_t *cx, uint32_t begin, uint32_t len, cmp_type_t *elem, shoal_cval_t *out) {
  out->kind = SHOAL_CT_LIST;
  if (!(out->of.list.items = new_vals(cx, len))) return SHOAL_ERR_NOMEM;
  if (elem->kind == SHOAL_CT_U8 || elem->kind == SHOAL_CT_S8) {
    const uint8_t *p = len ? cmp_mem_at(cx, begin) : NULL;
    shoal_cval_t *it = out->of.list.items;
    for (uint32_t i = 0; i < len; i++) {
      it[i].kind = elem->kind;
      if (elem->kind == SHOAL_CT_U8) it[i].of.u = p[i];
      else it[i].of.s = (int8_t)p[i];
    }
    out->of.list.n = len;
    return SHOAL_ERR_OK;
  }
  shoal_err_t e;
  for (uint32_t i = 0; i < len; i++) {
    out->of.list.n = i + 1;
    if ((e = cmp_load(cx, begin + i * elem->size, elem, &out->of.list.items[i]))) return e;
  }
  out->of.list.n = len;
  return SHOAL_ERR_OK;
}

static shoal_err_t check_char(cmp_cx_t *cx, uint32_t c) {
  if (c >= 0x110000 || (c >= 0xd800 && c <= 0xdfff)) return cmp_trap(cx, "invalid char 0x%x (not a Unicode scalar value)", c);
  return SHOAL_ERR_OK;
}

/* {==================================================================
** Handles
** =================================================================== */
static shoal_err_t lift_handle(cmp_cx_t *cx, uint32_t i, const cmp_type_t *t, shoal_cval_t *out) {
  cmp_table_t *tab = cx->inst ? &cx->inst->handles : cx->host_table;
  cmp_handle_t *h = tab ? cmp_table_get(tab, i) : NULL;
  if (!h) return cmp_trap(cx, "unknown handle index %u", i);
  if (h->rt != t->elem) return cmp_trap(cx, "handle index %u is of another resource type", i);
  uint32_t rep = h->rep;
  if (t->kind == SHOAL_CT_OWN) {
    if (h->num_lends) return cmp_trap(cx, "cannot transfer handle %u while it is lent out", i);
    if (!h->own) return cmp_trap(cx, "handle %u is a borrow, an own was expected", i);
    cmp_table_remove(tab, i);
  }
  /* a borrow leaves the source handle in place; the callee must drop its
  ** borrow before returning (num_borrows, checked by cmp_call) */
  /* the receiving side gets a handle in its own table later (lower); while
  ** in transit the value carries the representation and type */
  out->kind = t->kind;
  out->of.handle = rep;
  return SHOAL_ERR_OK;
}

static shoal_err_t lower_handle(cmp_cx_t *cx, uint32_t rep, const cmp_type_t *t, uint32_t *out) {
  if (t->kind == SHOAL_CT_BORROW && cx->inst && t->elem->owner == cx->inst->scope) {
    *out = rep;  /* borrowed into the implementing component: the rep itself */
    return SHOAL_ERR_OK;
  }
  cmp_table_t *tab = cx->inst ? &cx->inst->handles : cx->host_table;
  if (!tab) return cmp_trap(cx, "no handle table to receive a handle");
  cmp_handle_t h = {.rt = t->elem, .rep = rep, .own = t->kind == SHOAL_CT_OWN};
  if (!h.own && cx->inst) cx->inst->num_borrows++;
  return cmp_table_add(cx, tab, h, out);
}
/* }================================================================== */

/* {==================================================================
** Loading
** =================================================================== */
shoal_err_t cmp_load(cmp_cx_t *cx, uint32_t ptr, cmp_type_t *t, shoal_cval_t *out) {
  cmp_abi_layout(t);
  shoal_err_t e = cmp_mem_check(cx, ptr, t->size, t->align, "load");
  if (e) return e;
  const uint8_t *p = cmp_mem_at(cx, ptr);
  memset(out, 0, sizeof *out);
  out->kind = t->kind;
  switch (t->kind) {
  case SHOAL_CT_BOOL: out->of.b = p[0] != 0; return SHOAL_ERR_OK;
  case SHOAL_CT_U8: out->of.u = p[0]; return SHOAL_ERR_OK;
  case SHOAL_CT_S8: out->of.s = (int8_t)p[0]; return SHOAL_ERR_OK;
  case SHOAL_CT_U16: out->of.u = (uint16_t)(p[0] | p[1] << 8); return SHOAL_ERR_OK;
  case SHOAL_CT_S16: out->of.s = (int16_t)(uint16_t)(p[0] | p[1] << 8); return SHOAL_ERR_OK;
  case SHOAL_CT_U32: out->of.u = rd32(p); return SHOAL_ERR_OK;
  case SHOAL_CT_S32: out->of.s = (int32_t)rd32(p); return SHOAL_ERR_OK;
  case SHOAL_CT_U64: out->of.u = rd64(p); return SHOAL_ERR_OK;
  case SHOAL_CT_S64: out->of.s = (int64_t)rd64(p); return SHOAL_ERR_OK;
  case SHOAL_CT_F32: {
    uint32_t b = rd32(p);
    if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffff)) b = CANON_NAN32;
    memcpy(&out->of.f32, &b, 4);
    return SHOAL_ERR_OK;
  }
  case SHOAL_CT_F64: {
    uint64_t b = rd64(p);
    if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0xfffffffffffffull)) b = CANON_NAN64;
    memcpy(&out->of.f64, &b, 8);
    return SHOAL_ERR_OK;
  }
  case SHOAL_CT_CHAR:
    out->of.ch = rd32(p);
    return check_char(cx, out->of.ch);
  case SHOAL_CT_STRING:
    return cmp_load_string(cx, rd32(p), rd32(p + 4), out);
  case SHOAL_CT_LIST: {
    cmp_abi_layout(t->elem);
    uint32_t begin = ptr, len = t->fixed_len, es = t->elem->size;
    if (!t->fixed_len) {
      begin = rd32(p);
      len = rd32(p + 4);
      if ((uint64_t)len * es > CMP_MAX_LIST_BYTES) return cmp_trap(cx, "list of %u elements is too long", len);
      if ((e = cmp_mem_check(cx, begin, (uint64_t)len * es, t->elem->align, "list"))) return e;
    }
    return load_items(cx, begin, len, t->elem, out);
  }
  case SHOAL_CT_RECORD: case SHOAL_CT_TUPLE: {
    if (!(out->of.list.items = new_vals(cx, t->n))) return SHOAL_ERR_NOMEM;
    uint32_t off = ptr;
    for (uint32_t i = 0; i < t->n; i++) {
      cmp_type_t *f = t->fields[i].type;
      cmp_abi_layout(f);
      off = align_up(off, f->align);
      out->of.list.n = i + 1;
      if ((e = cmp_load(cx, off, f, &out->of.list.items[i]))) return e;
      off += f->size;
    }
    return SHOAL_ERR_OK;
  }
  case SHOAL_CT_VARIANT: case SHOAL_CT_ENUM: case SHOAL_CT_OPTION: case SHOAL_CT_RESULT: {
    uint32_t n = ncases(t), ds = disc_size(n);
    uint32_t c = ds == 1 ? p[0] : ds == 2 ? (uint32_t)(p[0] | p[1] << 8) : rd32(p);
    if (c >= n) return cmp_trap(cx, "invalid variant discriminant %u (%u cases)", c, n);
    out->of.var.disc = c;
    cmp_type_t *ct = case_type(t, c);
    if (!ct) return SHOAL_ERR_OK;
    if (!(out->of.var.payload = new_vals(cx, 1))) return SHOAL_ERR_NOMEM;
    return cmp_load(cx, align_up(ptr + ds, max_case_align(t)), ct, out->of.var.payload);
  }
  case SHOAL_CT_FLAGS:
    out->of.flags = t->size == 1 ? p[0] : t->size == 2 ? (uint32_t)(p[0] | p[1] << 8) : rd32(p);
    if (t->n < 32) out->of.flags &= (1u << t->n) - 1;
    return SHOAL_ERR_OK;
  case SHOAL_CT_OWN: case SHOAL_CT_BORROW:
    return lift_handle(cx, rd32(p), t, out);
  default:
    return cmp_trap(cx, "values of this type (kind %d) are not supported", (int)t->kind);
  }
}
/* }================================================================== */

/* {==================================================================
** Storing
** =================================================================== */
static shoal_err_t store_list_range(cmp_cx_t *cx, const shoal_cval_t *v, cmp_type_t *elem, uint32_t *begin) {
  cmp_abi_layout(elem);
  uint64_t bytes = (uint64_t)v->of.list.n * elem->size;
  if (bytes > UINT32_MAX) return cmp_trap(cx, "list too long to store");
  shoal_err_t e = cmp_realloc(cx, 0, 0, elem->align, (uint32_t)bytes, begin);
  if (e) return e;
  for (size_t i = 0; i < v->of.list.n; i++)
    if ((e = cmp_store(cx, &v->of.list.items[i], elem, *begin + (uint32_t)i * elem->size))) return e;
  return SHOAL_ERR_OK;
}

shoal_err_t cmp_store(cmp_cx_t *cx, const shoal_cval_t *v, cmp_type_t *t, uint32_t ptr) {
  cmp_abi_layout(t);
  shoal_err_t e = cmp_mem_check(cx, ptr, t->size, t->align, "store");
  if (e) return e;
  uint8_t tmp[8];
  uint32_t n = 0;
  switch (t->kind) {
  case SHOAL_CT_BOOL: tmp[0] = v->of.b ? 1 : 0; n = 1; break;
  case SHOAL_CT_U8: case SHOAL_CT_S8: tmp[0] = (uint8_t)v->of.u; n = 1; break;
  case SHOAL_CT_U16: case SHOAL_CT_S16: { uint16_t x = (uint16_t)v->of.u; memcpy(tmp, &x, 2); n = 2; break; }
  case SHOAL_CT_U32: case SHOAL_CT_S32: case SHOAL_CT_CHAR: {
    uint32_t x = t->kind == SHOAL_CT_CHAR ? v->of.ch : (uint32_t)v->of.u;
    memcpy(tmp, &x, 4); n = 4; break;
  }
  case SHOAL_CT_U64: case SHOAL_CT_S64: memcpy(tmp, &v->of.u, 8); n = 8; break;
  case SHOAL_CT_F32: {
    uint32_t b;
    memcpy(&b, &v->of.f32, 4);
    if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffff)) b = CANON_NAN32;
    memcpy(tmp, &b, 4); n = 4; break;
  }
  case SHOAL_CT_F64: {
    uint64_t b;
    memcpy(&b, &v->of.f64, 8);
    if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0xfffffffffffffull)) b = CANON_NAN64;
    memcpy(tmp, &b, 8); n = 8; break;
  }
  case SHOAL_CT_FLAGS: { uint32_t x = v->of.flags; memcpy(tmp, &x, 4); n = t->size; break; }
  case SHOAL_CT_STRING: {
    uint32_t sp, units;
    if ((e = cmp_store_string(cx, v->of.str.ptr, v->of.str.len, &sp, &units))) return e;
    if ((e = cmp_mem_check(cx, ptr, 8, 4, "store"))) return e;
    memcpy(cmp_mem_at(cx, ptr), &sp, 4);
    memcpy(cmp_mem_at(cx, ptr + 4), &units, 4);
    return SHOAL_ERR_OK;
  }
  case SHOAL_CT_LIST: {
    if (t->fixed_len) {
      cmp_abi_layout(t->elem);
      for (uint32_t i = 0; i < t->fixed_len; i++)
        if ((e = cmp_store(cx, &v->of.list.items[i], t->elem, ptr + i * t->elem->size))) return e;
      return SHOAL_ERR_OK;
    }
    uint32_t begin, len = (uint32_t)v->of.list.n;
    if ((e = store_list_range(cx, v, t->elem, &begin))) return e;
    if ((e = cmp_mem_check(cx, ptr, 8, 4, "store"))) return e;
    memcpy(cmp_mem_at(cx, ptr), &begin, 4);
    memcpy(cmp_mem_at(cx, ptr + 4), &len, 4);
    return SHOAL_ERR_OK;
  }
  case SHOAL_CT_RECORD: case SHOAL_CT_TUPLE: {
    uint32_t off = ptr;
    for (uint32_t i = 0; i < t->n; i++) {
      cmp_type_t *f = t->fields[i].type;
      cmp_abi_layout(f);
      off = align_up(off, f->align);
      if ((e = cmp_store(cx, &v->of.list.items[i], f, off))) return e;
      off += f->size;
    }
    return SHOAL_ERR_OK;
  }
  case SHOAL_CT_VARIANT: case SHOAL_CT_ENUM: case SHOAL_CT_OPTION: case SHOAL_CT_RESULT: {
    uint32_t nc = ncases(t), ds = disc_size(nc), c = v->of.var.disc;
    memcpy(tmp, &c, 4);
    memcpy(cmp_mem_at(cx, ptr), tmp, ds);
    cmp_type_t *ct = case_type(t, c);
    if (ct) return cmp_store(cx, v->of.var.payload, ct, align_up(ptr + ds, max_case_align(t)));
    return SHOAL_ERR_OK;
  }
  case SHOAL_CT_OWN: case SHOAL_CT_BORROW: {
    uint32_t h;
    if ((e = lower_handle(cx, v->of.handle, t, &h))) return e;
    if ((e = cmp_mem_check(cx, ptr, 4, 4, "store"))) return e;
    memcpy(cmp_mem_at(cx, ptr), &h, 4);
    return SHOAL_ERR_OK;
  }
  default:
    return cmp_trap(cx, "values of this type (kind %d) are not supported", (int)t->kind);
  }
  memcpy(cmp_mem_at(cx, ptr), tmp, n);
  return SHOAL_ERR_OK;
}
/* }================================================================== */

/* {==================================================================
** Flat lifting and lowering
** =================================================================== */
/* A flat value of core type `have` seen as core type `want` (variant join). */
static shoal_raw_t coerce_in(shoal_raw_t x, uint8_t have, uint8_t want) {
  if (have == want) return x;
  if (have == SHOAL_I64 && (want == SHOAL_I32 || want == SHOAL_F32)) return (uint32_t)x;
  return x;  /* i32<->f32 and i64<->f64 share their bits in a raw slot */
}

shoal_err_t cmp_lift_flat(cmp_cx_t *cx, const shoal_raw_t *vals, const uint8_t *flat, uint32_t *i,
                          cmp_type_t *t, shoal_cval_t *out) {
  memset(out, 0, sizeof *out);
  out->kind = t->kind;
  shoal_raw_t x = vals[*i];
  shoal_err_t e;
  switch (t->kind) {
  case SHOAL_CT_BOOL: out->of.b = (uint32_t)x != 0; (*i)++; return SHOAL_ERR_OK;
  case SHOAL_CT_U8: out->of.u = (uint8_t)x; (*i)++; return SHOAL_ERR_OK;
  case SHOAL_CT_S8: out->of.s = (int8_t)(uint8_t)x; (*i)++; return SHOAL_ERR_OK;
  case SHOAL_CT_U16: out->of.u = (uint16_t)x; (*i)++; return SHOAL_ERR_OK;
  case SHOAL_CT_S16: out->of.s = (int16_t)(uint16_t)x; (*i)++; return SHOAL_ERR_OK;
  case SHOAL_CT_U32: out->of.u = (uint32_t)x; (*i)++; return SHOAL_ERR_OK;
  case SHOAL_CT_S32: out->of.s = (int32_t)(uint32_t)x; (*i)++; return SHOAL_ERR_OK;
  case SHOAL_CT_U64: out->of.u = x; (*i)++; return SHOAL_ERR_OK;
  case SHOAL_CT_S64: out->of.s = (int64_t)x; (*i)++; return SHOAL_ERR_OK;
  case SHOAL_CT_F32: {
    uint32_t b = (uint32_t)x;
    if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffff)) b = CANON_NAN32;
    memcpy(&out->of.f32, &b, 4);
    (*i)++;
    return SHOAL_ERR_OK;
  }
  case SHOAL_CT_F64: {
    uint64_t b = x;
    if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0xfffffffffffffull)) b = CANON_NAN64;
    memcpy(&out->of.f64, &b, 8);
    (*i)++;
    return SHOAL_ERR_OK;
  }
  case SHOAL_CT_CHAR: out->of.ch = (uint32_t)x; (*i)++; return check_char(cx, out->of.ch);
  case SHOAL_CT_FLAGS:
    out->of.flags = (uint32_t)x & (t->n < 32 ? (1u << t->n) - 1 : 0xffffffffu);
    (*i)++;
    return SHOAL_ERR_OK;
  case SHOAL_CT_OWN: case SHOAL_CT_BORROW: (*i)++; return lift_handle(cx, (uint32_t)x, t, out);
  case SHOAL_CT_STRING: {
    uint32_t ptr = (uint32_t)vals[*i], len = (uint32_t)vals[*i + 1];
    *i += 2;
    return cmp_load_string(cx, ptr, len, out);
  }
  case SHOAL_CT_LIST: {
    if (t->fixed_len) {
      if (!(out->of.list.items = new_vals(cx, t->fixed_len))) return SHOAL_ERR_NOMEM;
      for (uint32_t k = 0; k < t->fixed_len; k++) {
        out->of.list.n = k + 1;
        if ((e = cmp_lift_flat(cx, vals, flat, i, t->elem, &out->of.list.items[k]))) return e;
      }
      return SHOAL_ERR_OK;
    }
    uint32_t ptr = (uint32_t)vals[*i], len = (uint32_t)vals[*i + 1];
    *i += 2;
    cmp_abi_layout(t->elem);
    uint64_t bytes = (uint64_t)len * t->elem->size;
    if (bytes > CMP_MAX_LIST_BYTES) return cmp_trap(cx, "list of %u elements is too long", len);
    if ((e = cmp_mem_check(cx, ptr, bytes, t->elem->align, "list"))) return e;
    return load_items(cx, ptr, len, t->elem, out);
  }
  case SHOAL_CT_RECORD: case SHOAL_CT_TUPLE:
    if (!(out->of.list.items = new_vals(cx, t->n))) return SHOAL_ERR_NOMEM;
    for (uint32_t k = 0; k < t->n; k++) {
      out->of.list.n = k + 1;
      if ((e = cmp_lift_flat(cx, vals, flat, i, t->fields[k].type, &out->of.list.items[k]))) return e;
    }
    return SHOAL_ERR_OK;
  case SHOAL_CT_VARIANT: case SHOAL_CT_ENUM: case SHOAL_CT_OPTION: case SHOAL_CT_RESULT: {
    uint32_t nc = ncases(t), c = (uint32_t)x;
    uint32_t width = cmp_flat_count(t) - 1, base = *i + 1;
    *i += 1 + width;
    if (c >= nc) return cmp_trap(cx, "invalid variant discriminant %u (%u cases)", c, nc);
    out->of.var.disc = c;
    cmp_type_t *ct = case_type(t, c);
    if (!ct) return SHOAL_ERR_OK;
    /* re-read the joined slots as the case's own flat types */
    uint8_t cf[CMP_FLAT_CAP];
    uint32_t cn = cmp_flat_types(ct, cf, CMP_FLAT_CAP);
    if (cn > CMP_FLAT_CAP) return cmp_trap(cx, "variant payload too wide");
    shoal_raw_t cv[CMP_FLAT_CAP];
    for (uint32_t k = 0; k < cn; k++) cv[k] = coerce_in(vals[base + k], flat[base + k], cf[k]);
    if (!(out->of.var.payload = new_vals(cx, 1))) return SHOAL_ERR_NOMEM;
    uint32_t j = 0;
    return cmp_lift_flat(cx, cv, cf, &j, ct, out->of.var.payload);
  }
  default:
    return cmp_trap(cx, "values of this type (kind %d) are not supported", (int)t->kind);
  }
}

shoal_err_t cmp_lower_flat(cmp_cx_t *cx, const shoal_cval_t *v, cmp_type_t *t, shoal_raw_t *out,
                           const uint8_t *flat, uint32_t *i) {
  shoal_err_t e;
  switch (t->kind) {
  case SHOAL_CT_BOOL: out[(*i)++] = v->of.b ? 1 : 0; return SHOAL_ERR_OK;
  case SHOAL_CT_U8: out[(*i)++] = (uint8_t)v->of.u; return SHOAL_ERR_OK;
  case SHOAL_CT_U16: out[(*i)++] = (uint16_t)v->of.u; return SHOAL_ERR_OK;
  case SHOAL_CT_U32: out[(*i)++] = (uint32_t)v->of.u; return SHOAL_ERR_OK;
  case SHOAL_CT_S8: case SHOAL_CT_S16: case SHOAL_CT_S32: out[(*i)++] = (uint32_t)(int32_t)v->of.s; return SHOAL_ERR_OK;
  case SHOAL_CT_U64: case SHOAL_CT_S64: out[(*i)++] = v->of.u; return SHOAL_ERR_OK;
  case SHOAL_CT_CHAR: out[(*i)++] = v->of.ch; return SHOAL_ERR_OK;
  case SHOAL_CT_FLAGS: out[(*i)++] = v->of.flags; return SHOAL_ERR_OK;
  case SHOAL_CT_F32: {
    uint32_t b;
    memcpy(&b, &v->of.f32, 4);
    if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffff)) b = CANON_NAN32;
    out[(*i)++] = b;
    return SHOAL_ERR_OK;
  }
  case SHOAL_CT_F64: {
    uint64_t b;
    memcpy(&b, &v->of.f64, 8);
    if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0xfffffffffffffull)) b = CANON_NAN64;
    out[(*i)++] = b;
    return SHOAL_ERR_OK;
  }
  case SHOAL_CT_OWN: case SHOAL_CT_BORROW: {
    uint32_t h;
    if ((e = lower_handle(cx, v->of.handle, t, &h))) return e;
    out[(*i)++] = h;
    return SHOAL_ERR_OK;
  }
  case SHOAL_CT_STRING: {
    uint32_t p, units;
    if ((e = cmp_store_string(cx, v->of.str.ptr, v->of.str.len, &p, &units))) return e;
    out[(*i)++] = p;
    out[(*i)++] = units;
    return SHOAL_ERR_OK;
  }
  case SHOAL_CT_LIST: {
    if (t->fixed_len) {
      for (uint32_t k = 0; k < t->fixed_len; k++)
        if ((e = cmp_lower_flat(cx, &v->of.list.items[k], t->elem, out, flat, i))) return e;
      return SHOAL_ERR_OK;
    }
    uint32_t begin;
    if ((e = store_list_range(cx, v, t->elem, &begin))) return e;
    out[(*i)++] = begin;
    out[(*i)++] = (uint32_t)v->of.list.n;
    return SHOAL_ERR_OK;
  }
  case SHOAL_CT_RECORD: case SHOAL_CT_TUPLE:
    for (uint32_t k = 0; k < t->n; k++)
      if ((e = cmp_lower_flat(cx, &v->of.list.items[k], t->fields[k].type, out, flat, i))) return e;
    return SHOAL_ERR_OK;
  case SHOAL_CT_VARIANT: case SHOAL_CT_ENUM: case SHOAL_CT_OPTION: case SHOAL_CT_RESULT: {
    uint32_t width = cmp_flat_count(t) - 1, base = *i + 1;
    out[*i] = v->of.var.disc;
    for (uint32_t k = 0; k < width; k++) out[base + k] = 0;
    *i += 1 + width;
    cmp_type_t *ct = case_type(t, v->of.var.disc);
    if (!ct) return SHOAL_ERR_OK;
    uint8_t cf[CMP_FLAT_CAP];
    shoal_raw_t cv[CMP_FLAT_CAP];
    uint32_t cn = cmp_flat_types(ct, cf, CMP_FLAT_CAP), j = 0;
    if (cn > CMP_FLAT_CAP) return cmp_trap(cx, "variant payload too wide");
    if ((e = cmp_lower_flat(cx, v->of.var.payload, ct, cv, cf, &j))) return e;
    /* widen into the joined slots: i32/f32 bits zero-extend into i64 */
    for (uint32_t k = 0; k < cn; k++) {
      shoal_raw_t r = cv[k];
      if ((cf[k] == SHOAL_I32 || cf[k] == SHOAL_F32)) r = (uint32_t)r;
      out[base + k] = r;
    }
    (void)flat;
    return SHOAL_ERR_OK;
  }
  default:
    return cmp_trap(cx, "values of this type (kind %d) are not supported", (int)t->kind);
  }
}
/* }================================================================== */

/* {==================================================================
** Shape check of host values (lowering assumes well-formed input)
** =================================================================== */
shoal_err_t cmp_check_value(cmp_cx_t *cx, const shoal_cval_t *v, const cmp_type_t *t) {
  if (!v) return cmp_fail(cx->diag, SHOAL_ERR_ARG, -1, "missing value");
  if (v->kind != t->kind) return cmp_fail(cx->diag, SHOAL_ERR_ARG, -1, "value of kind %d given for type of kind %d", (int)v->kind, (int)t->kind);
  shoal_err_t e;
  switch (t->kind) {
  case SHOAL_CT_CHAR:
    if (v->of.ch >= 0x110000 || (v->of.ch >= 0xd800 && v->of.ch <= 0xdfff))
      return cmp_fail(cx->diag, SHOAL_ERR_ARG, -1, "char 0x%x is not a Unicode scalar value", v->of.ch);
    return SHOAL_ERR_OK;
  case SHOAL_CT_STRING:
    if (!cmp_utf8_valid((const uint8_t *)v->of.str.ptr, v->of.str.len))
      return cmp_fail(cx->diag, SHOAL_ERR_ARG, -1, "string is not valid UTF-8");
    if (v->of.str.len > CMP_MAX_STRING_BYTES) return cmp_fail(cx->diag, SHOAL_ERR_ARG, -1, "string too long");
    return SHOAL_ERR_OK;
  case SHOAL_CT_LIST:
    if (t->fixed_len && v->of.list.n != t->fixed_len)
      return cmp_fail(cx->diag, SHOAL_ERR_ARG, -1, "list of %zu elements for a list of %u", v->of.list.n, t->fixed_len);
    for (size_t i = 0; i < v->of.list.n; i++)
      if ((e = cmp_check_value(cx, &v->of.list.items[i], t->elem))) return e;
    return SHOAL_ERR_OK;
  case SHOAL_CT_RECORD: case SHOAL_CT_TUPLE:
    if (v->of.list.n != t->n) return cmp_fail(cx->diag, SHOAL_ERR_ARG, -1, "%zu fields for a type of %u", v->of.list.n, t->n);
    for (uint32_t i = 0; i < t->n; i++)
      if ((e = cmp_check_value(cx, &v->of.list.items[i], t->fields[i].type))) return e;
    return SHOAL_ERR_OK;
  case SHOAL_CT_FLAGS:
    if (t->n < 32 && (v->of.flags >> t->n)) return cmp_fail(cx->diag, SHOAL_ERR_ARG, -1, "unknown flag bits");
    return SHOAL_ERR_OK;
  default:
    if (is_variant(t->kind)) {
      if (v->of.var.disc >= ncases(t)) return cmp_fail(cx->diag, SHOAL_ERR_ARG, -1, "case %u out of range", v->of.var.disc);
      cmp_type_t *ct = case_type(t, v->of.var.disc);
      if (ct) return cmp_check_value(cx, v->of.var.payload, ct);
      return SHOAL_ERR_OK;
    }
    return SHOAL_ERR_OK;
  }
}
/* }================================================================== */
