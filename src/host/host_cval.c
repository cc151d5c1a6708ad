/*
** Building the component values that wasi:http host functions return
** (shoal frees them after lowering, so everything is malloc'ed).
*/
#include "host_int.h"
#include <stdlib.h>
#include <string.h>

bool host_cv_string(shoal_cval_t *v, const char *s, size_t n) {
  v->kind = SHOAL_CT_STRING;
  v->of.str.ptr = malloc(n + 1);
  v->of.str.len = v->of.str.ptr ? n : 0;
  if (!v->of.str.ptr) return false;
  if (n) memcpy(v->of.str.ptr, s, n);
  v->of.str.ptr[n] = 0;
  return true;
}

bool host_cv_bytes(shoal_cval_t *v, const uint8_t *p, size_t n) {
  v->kind = SHOAL_CT_LIST;
  v->of.list.n = 0;
  v->of.list.items = calloc(n ? n : 1, sizeof *v->of.list.items);
  if (!v->of.list.items) return false;
  for (size_t i = 0; i < n; i++) {
    v->of.list.items[i].kind = SHOAL_CT_U8;
    v->of.list.items[i].of.u = p[i];
  }
  v->of.list.n = n;
  return true;
}

shoal_cval_t *host_cv_case(shoal_cval_t *v, shoal_ctype_kind_t kind, uint32_t disc) {
  v->kind = kind;
  v->of.var.disc = disc;
  v->of.var.payload = calloc(1, sizeof *v->of.var.payload);
  return v->of.var.payload;
}

void host_cv_own(shoal_cval_t *v, uint32_t rep) {
  v->kind = SHOAL_CT_OWN;
  v->of.handle = rep;
}

char *host_cv_dup(const shoal_cval_t *v, size_t *n) {
  char *s;
  if (v->kind == SHOAL_CT_STRING) {
    s = malloc(v->of.str.len + 1);
    if (!s) return NULL;
    memcpy(s, v->of.str.ptr, v->of.str.len);
    *n = v->of.str.len;
  } else {
    s = malloc(v->of.list.n + 1);
    if (!s) return NULL;
    for (size_t i = 0; i < v->of.list.n; i++) s[i] = (char)v->of.list.items[i].of.u;
    *n = v->of.list.n;
  }
  s[*n] = 0;
  return s;
}
