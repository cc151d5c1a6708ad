/*
** Handle tables (CanonicalABI.md "Table State"): per component instance
** slots of resource handles, with a free list; index 0 is never valid.
*/
#include "cmp_rt.h"
#include <stdlib.h>

#define CMP_MAX_HANDLES (1u << 28)

shoal_err_t cmp_table_add(cmp_cx_t *cx, cmp_table_t *t, cmp_handle_t h, uint32_t *idx) {
  if (t->free_head) {
    uint32_t i = t->free_head;
    t->free_head = t->h[i].next_free;
    h.next_free = 0;
    t->h[i] = h;
    *idx = i;
    return SHOAL_ERR_OK;
  }
  if (t->n == 0) t->n = 1;  /* reserve index 0 */
  if (t->n >= CMP_MAX_HANDLES) return cmp_trap(cx, "handle table full");
  if (t->n >= t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 16;
    cmp_handle_t *p = realloc(t->h, cap * sizeof *p);
    if (!p) return cmp_fail(cx->diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
    t->h = p;
    t->cap = cap;
  }
  h.next_free = 0;
  t->h[t->n] = h;
  *idx = t->n++;
  return SHOAL_ERR_OK;
}

cmp_handle_t *cmp_table_get(cmp_table_t *t, uint32_t idx) {
  if (idx == 0 || idx >= t->n || !t->h[idx].rt) return NULL;
  return &t->h[idx];
}

void cmp_table_remove(cmp_table_t *t, uint32_t idx) {
  t->h[idx].rt = NULL;
  t->h[idx].next_free = t->free_head;
  t->free_head = idx;
}

void cmp_table_clear(cmp_table_t *t) {
  t->n = 0;  /* its slots are kept for the next handles */
  t->free_head = 0;
}

void cmp_table_free(cmp_table_t *t) {
  free(t->h);
  t->h = NULL;
  t->n = t->cap = t->free_head = 0;
}
