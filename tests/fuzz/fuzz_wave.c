/*
** libFuzzer target for WAVE (cmp_wave.c): the input names a component value
** type in a compact code, then gives WAVE text to parse against it; what
** parses must print, re-parse and print to the same text. Built with
** -DSHOAL_FUZZ=ON (clang): build-fuzz/tests/fuzz_wave (make fuzz-wave).
**
** Input: TYPE '\n' TEXT. TYPE is one type, or `(` TYPE... `)` for the
** params of a function, when TEXT is a call `name(args)`. Type codes:
**   b bool  1 s8  2 u8  3 s16  4 u16  i s32  u u32  l s64  U u64
**   F f32  f f64  c char  s string  h own<r>  B borrow<r>
**   L T list  O T option  R T T result  Q T result<T>  E T result<_, T>
**   Z result  rN T... record  tN T... tuple  vN T|_... variant
**   eN enum  gN flags (N a digit; labels come from a fixed list that
**   includes WAVE keywords, so `%` escapes are exercised).
*/
#include <shoal/component.h>
#include "component/cmp.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const labels[] = {"a", "ok", "none", "b-c", "some", "true", "x1", "err", "inf", "nan",
                                     "false", "z-9"};
#define NLABELS (sizeof labels / sizeof labels[0])

/* Types of one input, from a fixed pool (no allocation to leak). */
typedef struct pool {
  cmp_type_t types[64];
  cmp_field_t fields[256];
  cmp_type_t resource;
  uint32_t nt, nf;
  const char *s;
  size_t pos, len;
} pool_t;

static cmp_type_t *new_type(pool_t *p, shoal_ctype_kind_t k) {
  if (p->nt == sizeof p->types / sizeof p->types[0]) return NULL;
  cmp_type_t *t = &p->types[p->nt++];
  memset(t, 0, sizeof *t);
  t->kind = k;
  t->dtor = -1;
  return t;
}

static int next(pool_t *p) { return p->pos < p->len ? (unsigned char)p->s[p->pos++] : -1; }

static cmp_type_t *parse_type(pool_t *p, int depth);

/* N labelled items (fields, cases, labels); payloads when with != 0 (2: `_` allowed). */
static cmp_type_t *labelled(pool_t *p, shoal_ctype_kind_t k, int with, int depth) {
  int n = next(p);
  if (n < '0' || n > '9') return NULL;
  n -= '0';
  if ((k == SHOAL_CT_RECORD || k == SHOAL_CT_VARIANT || k == SHOAL_CT_ENUM) && n == 0) return NULL;
  if (p->nf + (uint32_t)n > sizeof p->fields / sizeof p->fields[0]) return NULL;
  cmp_type_t *t = new_type(p, k);
  if (!t) return NULL;
  t->n = (uint32_t)n;
  t->fields = &p->fields[p->nf];
  p->nf += (uint32_t)n;
  for (int i = 0; i < n; i++) {
    cmp_field_t *f = &t->fields[i];
    f->name = k == SHOAL_CT_TUPLE ? NULL : labels[i % NLABELS];
    f->name_len = f->name ? (uint32_t)strlen(f->name) : 0;
    f->type = NULL;
    if (!with) continue;
    if (with == 2 && p->pos < p->len && p->s[p->pos] == '_') { p->pos++; continue; }
    if (!(f->type = parse_type(p, depth + 1))) return NULL;
  }
  return t;
}

static cmp_type_t *parse_type(pool_t *p, int depth) {
  if (depth > 12) return NULL;
  int c = next(p);
  static const struct { char c; shoal_ctype_kind_t k; } prims[] = {
    {'b', SHOAL_CT_BOOL}, {'1', SHOAL_CT_S8}, {'2', SHOAL_CT_U8}, {'3', SHOAL_CT_S16}, {'4', SHOAL_CT_U16},
    {'i', SHOAL_CT_S32}, {'u', SHOAL_CT_U32}, {'l', SHOAL_CT_S64}, {'U', SHOAL_CT_U64}, {'F', SHOAL_CT_F32},
    {'f', SHOAL_CT_F64}, {'c', SHOAL_CT_CHAR}, {'s', SHOAL_CT_STRING}};
  for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
    if (c == prims[i].c) return cmp_prim(prims[i].k);
  cmp_type_t *t;
  switch (c) {
  case 'h': case 'B':
    if (!(t = new_type(p, c == 'h' ? SHOAL_CT_OWN : SHOAL_CT_BORROW))) return NULL;
    t->elem = &p->resource;
    return t;
  case 'L': case 'O':
    if (!(t = new_type(p, c == 'L' ? SHOAL_CT_LIST : SHOAL_CT_OPTION))) return NULL;
    return (t->elem = parse_type(p, depth + 1)) ? t : NULL;
  case 'R': case 'Q': case 'E': case 'Z':
    if (!(t = new_type(p, SHOAL_CT_RESULT))) return NULL;
    if ((c == 'R' || c == 'Q') && !(t->elem = parse_type(p, depth + 1))) return NULL;
    if ((c == 'R' || c == 'E') && !(t->err = parse_type(p, depth + 1))) return NULL;
    return t;
  case 'r': return labelled(p, SHOAL_CT_RECORD, 1, depth);
  case 't': return labelled(p, SHOAL_CT_TUPLE, 1, depth);
  case 'v': return labelled(p, SHOAL_CT_VARIANT, 2, depth);
  case 'e': return labelled(p, SHOAL_CT_ENUM, 0, depth);
  case 'g': return labelled(p, SHOAL_CT_FLAGS, 0, depth);
  default: return NULL;
  }
}

/* print(v) parses back to a value that prints the same. */
static void roundtrip(const cmp_type_t *t, const shoal_cval_t *v) {
  char *a = NULL, *b = NULL;
  if (shoal_wave_print(t, v, &a) != SHOAL_ERR_OK) abort();
  shoal_cval_t w;
  shoal_diag_t d;
  if (shoal_wave_parse(t, a, strlen(a), &w, &d) != SHOAL_ERR_OK) abort();
  if (shoal_wave_print(t, &w, &b) != SHOAL_ERR_OK) abort();
  if (strcmp(a, b) != 0) abort();
  shoal_cval_free(&w);
  free(a);
  free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *nl = memchr(data, '\n', size);
  if (!nl) return 0;
  static pool_t p;
  memset(&p, 0, sizeof p);
  p.resource.kind = SHOAL_CT_RESOURCE;
  p.resource.dtor = -1;
  p.s = (const char *)data;
  p.len = (size_t)(nl - (const char *)data);
  const char *text = nl + 1;
  size_t tlen = size - p.len - 1;
  shoal_diag_t d;
  if (p.len && p.s[0] == '(') {  /* a call against function params */
    p.pos = 1;
    static cmp_field_t params[16];  /* apart: nested types take pool fields */
    cmp_type_t *ft = new_type(&p, SHOAL_CT_FUNC);
    if (!ft) return 0;
    ft->fields = params;
    while (p.pos < p.len && p.s[p.pos] != ')') {
      if (ft->n == 16) return 0;
      cmp_field_t *f = &params[ft->n];
      f->name = labels[ft->n % NLABELS];
      f->name_len = (uint32_t)strlen(f->name);
      if (!(f->type = parse_type(&p, 1))) return 0;
      ft->n++;
    }
    const char *name;
    size_t name_len;
    if (shoal_wave_parse_call(text, tlen, &name, &name_len) != SHOAL_ERR_OK) return 0;
    shoal_cval_t args[16];
    if (shoal_wave_parse_args(ft, text, tlen, args, &d) != SHOAL_ERR_OK) return 0;
    for (uint32_t i = 0; i < ft->n; i++) {
      roundtrip(ft->fields[i].type, &args[i]);
      shoal_cval_free(&args[i]);
    }
    return 0;
  }
  const cmp_type_t *t = parse_type(&p, 0);
  if (!t || p.pos != p.len) return 0;
  shoal_cval_t v;
  if (shoal_wave_parse(t, text, tlen, &v, &d) != SHOAL_ERR_OK) return 0;
  roundtrip(t, &v);
  shoal_cval_free(&v);
  return 0;
}
