/*
** Small helpers the WASI 0.2 host functions use to build their results as
** shoal_cval_t trees and to read list<u8> arguments.
*/
#include "cmp_wasi.h"
#include <stdlib.h>
#include <string.h>

bool wv_string(shoal_cval_t *v, const char *s, size_t n) {
  v->kind = SHOAL_CT_STRING;
  v->of.str.ptr = malloc(n + 1);
  v->of.str.len = 0;
  if (!v->of.str.ptr) return false;
  memcpy(v->of.str.ptr, s, n);
  v->of.str.ptr[n] = 0;
  v->of.str.len = n;
  return true;
}

shoal_cval_t *wv_payload(shoal_cval_t *v, shoal_ctype_kind_t kind, uint32_t disc) {
  v->kind = kind;
  v->of.var.disc = disc;
  v->of.var.payload = calloc(1, sizeof *v->of.var.payload);
  return v->of.var.payload;
}

bool wv_list(shoal_cval_t *v, size_t n) {
  v->kind = SHOAL_CT_LIST;
  v->of.list.n = 0;
  v->of.list.items = calloc(n ? n : 1, sizeof *v->of.list.items);
  if (!v->of.list.items) return false;
  v->of.list.n = n;
  return true;
}

bool wv_record(shoal_cval_t *v, shoal_ctype_kind_t kind, size_t n) {
  if (!wv_list(v, n)) return false;
  v->kind = kind;
  return true;
}

bool wv_bytes(shoal_cval_t *v, const uint8_t *p, size_t n) {
  if (!wv_list(v, n)) return false;
  for (size_t i = 0; i < n; i++) {
    v->of.list.items[i].kind = SHOAL_CT_U8;
    v->of.list.items[i].of.u = p[i];
  }
  return true;
}

void wv_u(shoal_cval_t *v, shoal_ctype_kind_t kind, uint64_t u) {
  v->kind = kind;
  v->of.u = u;
}

uint32_t wv_case(const cmp_type_t *t, const char *name) {
  size_t len = strlen(name);
  for (uint32_t i = 0; t && i < t->n; i++)
    if (t->fields[i].name_len == len && memcmp(t->fields[i].name, name, len) == 0) return i;
  return UINT32_MAX;
}

uint8_t *wv_get_bytes(const shoal_cval_t *v, size_t *n) {
  *n = 0;
  if (v->kind != SHOAL_CT_LIST) return NULL;
  uint8_t *p = malloc(v->of.list.n ? v->of.list.n : 1);
  if (!p) return NULL;
  for (size_t i = 0; i < v->of.list.n; i++) p[i] = (uint8_t)v->of.list.items[i].of.u;
  *n = v->of.list.n;
  return p;
}

shoal_err_t wv_oom(shoal_ccall_t *c) { return shoal_ccall_trap(c, "out of host memory"); }

shoal_cval_t *wv_ok_payload(shoal_ccall_t *c, shoal_cval_t *r) {
  shoal_cval_t *p = wv_payload(r, SHOAL_CT_RESULT, 0);
  if (!p) wv_oom(c);
  return p;
}

shoal_err_t wv_ok_own(shoal_ccall_t *c, shoal_cval_t *r, uint32_t rep) {
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p) return SHOAL_ERR_TRAP_HOST;
  p->kind = SHOAL_CT_OWN;
  p->of.handle = rep;
  return SHOAL_ERR_OK;
}
