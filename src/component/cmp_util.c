/*
** Small shared helpers of the component layer: diagnostics, the arena,
** growable text buffers and UTF-8 names.
*/
#include "cmp_reader.h"
#include "cmp_rt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

shoal_err_t cmp_fail(shoal_diag_t *d, shoal_err_t code, int64_t off, const char *fmt, ...) {
  if (!d) return code;
  d->code = code;
  d->offset = off;
  d->func = -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->message, sizeof d->message, fmt, ap);
  va_end(ap);
  return code;
}

struct cmp_arena_block {
  cmp_arena_block_t *next;
  size_t used, cap;
  max_align_t data[];
};

void *cmp_alloc(cmp_arena_t *a, size_t n) {
  if (a->store) return shoal_store_alloc(a->store, n);
  n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
  if (n == 0) n = sizeof(max_align_t);
  cmp_arena_block_t *b = a->head;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > 16384 ? n : 16384;
    b = malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->next = a->head;
    b->used = 0;
    b->cap = cap;
    a->head = b;
  }
  void *p = (char *)b->data + b->used;
  b->used += n;
  memset(p, 0, n);
  return p;
}

void cmp_arena_free(cmp_arena_t *a) {
  cmp_arena_block_t *b = a->head;
  while (b) {
    cmp_arena_block_t *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
}

void cmp_buf_put(cmp_buf_t *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->n + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { b->oom = true; return; }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}

void cmp_buf_puts(cmp_buf_t *b, const char *s) { cmp_buf_put(b, s, strlen(s)); }

void cmp_buf_printf(cmp_buf_t *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof tmp) { cmp_buf_put(b, tmp, (size_t)n); return; }
  char *big = malloc((size_t)n + 1);
  if (!big) { b->oom = true; return; }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  cmp_buf_put(b, big, (size_t)n);
  free(big);
}

/* Well-formed UTF-8 (no surrogates, no overlongs). */
bool cmp_utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    uint32_t cp, min;
    size_t k;
    if (c < 0x80) { i++; continue; }
    if ((c & 0xe0) == 0xc0) { k = 1; cp = c & 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { k = 2; cp = c & 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { k = 3; cp = c & 0x07; min = 0x10000; }
    else return false;
    for (size_t j = 1; j <= k; j++) {
      if (i + j >= n || (s[i + j] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + j] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += k + 1;
  }
  return true;
}

bool cmp_rd_name(cmp_reader_t *r, const char **name, uint32_t *len, const char *what) {
  uint32_t n;
  if (!cmp_rd_u32(r, &n, what)) return false;
  if (n > r->end - r->pos) return cmp_rd_err(r, "unexpected end: name length out of bounds");
  if (!cmp_utf8_valid(r->base + r->pos, n)) return cmp_rd_err(r, "malformed UTF-8 encoding");
  *name = (const char *)r->base + r->pos;
  *len = n;
  r->pos += n;
  return true;
}
