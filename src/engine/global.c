/*
** global.c: host-made globals and typed access to any global. The value is
** kept as a raw slot so the interpreter reads it directly.
*/
#include <stdlib.h>

#include "runtime.h"

static bool global_valtype(shoal_valtype_t t) {
  switch (t) {
  case SHOAL_I32: case SHOAL_I64: case SHOAL_F32: case SHOAL_F64:
  case SHOAL_FUNCREF: case SHOAL_EXTERNREF:
    return true;
  case SHOAL_V128:   /* a raw slot cannot hold it */
    break;
  }
  return false;
}

shoal_global_t *shoal_global_new(shoal_store_t *s, shoal_valtype_t t, bool mutable_, shoal_val_t v) {
  if (!s || !global_valtype(t) || v.type != t) return NULL;
  shoal_global_t *g = eng_store_alloc(s, sizeof *g);
  if (!g) return NULL;
  g->type.type = (eng_valtype)t;
  g->type.mut = mutable_;
  g->val = shoal_val_to_raw(&v);
  return g;
}

shoal_val_t shoal_global_get(const shoal_global_t *g) {
  if (!g) return shoal_val_from_raw(SHOAL_I32, 0);
  return shoal_val_from_raw((shoal_valtype_t)g->type.type, g->val);
}

shoal_err_t shoal_global_set(shoal_global_t *g, shoal_val_t v) {
  if (!g || !g->type.mut || (eng_valtype)v.type != g->type.type) return SHOAL_ERR_ARG;
  g->val = shoal_val_to_raw(&v);
  return SHOAL_ERR_OK;
}

void shoal_global_type(const shoal_global_t *g, shoal_valtype_t *t, bool *mutable_) {
  if (!g) return;
  if (t) *t = (shoal_valtype_t)g->type.type;
  if (mutable_) *mutable_ = g->type.mut;
}
