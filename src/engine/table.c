/*
** table.c: tables of references (funcref or externref), stored as raw
** pointers with NULL for the null reference.
*/
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static uint64_t effective_max(const shoal_store_t *s, const eng_limits *lim) {
  uint64_t max = ENG_MAX_TABLE_SIZE;
  if (lim->has_max && lim->max < max) max = lim->max;
  if (s->cfg.max_table_elems && s->cfg.max_table_elems < max) max = s->cfg.max_table_elems;
  return max;
}

shoal_err_t eng_table_create(shoal_store_t *s, eng_valtype elem, const eng_limits *lim,
                             void *init, shoal_table_t **out, shoal_diag_t *diag) {
  *out = NULL;
  uint64_t max = effective_max(s, lim);
  if (lim->min > max)
    return ENG_ERR(diag, SHOAL_ERR_NOMEM, -1,
                   "table of %llu elements exceeds the limit of %llu elements",
                   (unsigned long long)lim->min, (unsigned long long)max);
  shoal_table_t *t = eng_store_alloc(s, sizeof *t);
  if (!t) return ENG_ERR(diag, SHOAL_ERR_NOMEM, -1, "out of host memory for a table");
  if (lim->min) {
    t->elems = malloc((size_t)lim->min * sizeof *t->elems);
    if (!t->elems) {
      return ENG_ERR(diag, SHOAL_ERR_NOMEM, -1, "out of host memory for a table of %llu elements",
                     (unsigned long long)lim->min);
    }
    for (uint64_t i = 0; i < lim->min; i++) t->elems[i] = init;
  }
  t->elem = elem;
  t->decl = *lim;
  t->size = t->cap = (uint32_t)lim->min;
  t->max = max;
  t->next_in_store = s->tables;
  s->tables = t;
  *out = t;
  return SHOAL_ERR_OK;
}

int64_t eng_table_grow(shoal_table_t *t, uint64_t delta, void *init) {
  uint64_t old = t->size;
  if (delta > t->max - old) return -1;
  if (delta == 0) return (int64_t)old;
  uint64_t need = old + delta;
  if (need > t->cap) {
    /* Geometric growth keeps repeated table.grow 1 linear overall. */
    uint64_t cap = (uint64_t)t->cap * 2;
    if (cap < need) cap = need;
    if (cap > t->max) cap = t->max;
    if (cap > SIZE_MAX / sizeof *t->elems) return -1;
    void **e = realloc(t->elems, (size_t)cap * sizeof *e);
    if (!e) return -1;
    t->elems = e;
    t->cap = (uint32_t)cap;
  }
  for (uint64_t i = old; i < need; i++) t->elems[i] = init;
  t->size = (uint32_t)need;
  t->decl.min = need;
  return (int64_t)old;
}

/* The pointer a typed reference value is stored as; false if v is not of
** the table's element type. */
static bool ref_of(eng_valtype elem, const shoal_val_t *v, void **out) {
  if ((eng_valtype)v->type != elem) return false;
  *out = elem == SHOAL_FUNCREF ? (void *)v->of.func : v->of.ext;
  return true;
}

shoal_table_t *shoal_table_new(shoal_store_t *s, shoal_valtype_t elem, const shoal_limits_t *lim,
                               shoal_val_t init) {
  if (!s || !lim || !eng_is_ref((eng_valtype)elem)) return NULL;
  if (lim->min > ENG_MAX_TABLE_SIZE) return NULL;
  if (lim->has_max && (lim->max < lim->min || lim->max > ENG_MAX_TABLE_SIZE)) return NULL;
  void *ref;
  if (!ref_of((eng_valtype)elem, &init, &ref)) return NULL;
  eng_limits el = { lim->min, lim->has_max ? lim->max : 0, lim->has_max };
  shoal_table_t *t;
  return eng_table_create(s, (eng_valtype)elem, &el, ref, &t, NULL) == SHOAL_ERR_OK ? t : NULL;
}

uint32_t shoal_table_size(const shoal_table_t *t) { return t ? t->size : 0; }

void shoal_table_type(const shoal_table_t *t, shoal_valtype_t *elem, shoal_limits_t *lim) {
  if (!t) return;
  if (elem) *elem = (shoal_valtype_t)t->elem;
  if (lim) {
    lim->min = t->size;
    lim->max = t->decl.has_max ? t->decl.max : 0;
    lim->has_max = t->decl.has_max;
  }
}

bool shoal_table_get(const shoal_table_t *t, uint32_t i, shoal_val_t *out) {
  if (!t || !out || i >= t->size) return false;
  *out = shoal_val_from_raw((shoal_valtype_t)t->elem, (shoal_raw_t)(uintptr_t)t->elems[i]);
  return true;
}

bool shoal_table_set(shoal_table_t *t, uint32_t i, shoal_val_t v) {
  void *ref;
  if (!t || i >= t->size || !ref_of(t->elem, &v, &ref)) return false;
  t->elems[i] = ref;
  return true;
}

int64_t shoal_table_grow(shoal_table_t *t, uint32_t delta, shoal_val_t init) {
  void *ref;
  if (!t || !ref_of(t->elem, &init, &ref)) return -1;
  return eng_table_grow(t, delta, ref);
}
