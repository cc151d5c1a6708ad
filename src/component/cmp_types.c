/*
** Component-level types: primitives, structural equality and subtyping
** (resources by identity through a substitution map), substitution.
*/
#include "cmp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Primitive types are shared by every component and thread: complete at
** compile time (layout included), never written. */
#define PRIM(k, sz, al, fl) [SHOAL_CT_##k] = {.kind = SHOAL_CT_##k, .dtor = -1, .layout_done = true, \
                                           .size = sz, .align = al, .nflat = fl}
static cmp_type_t prims[SHOAL_CT_ERROR_CONTEXT + 1] = {
  PRIM(BOOL, 1, 1, 1), PRIM(S8, 1, 1, 1), PRIM(U8, 1, 1, 1), PRIM(S16, 2, 2, 1), PRIM(U16, 2, 2, 1),
  PRIM(S32, 4, 4, 1), PRIM(U32, 4, 4, 1), PRIM(S64, 8, 8, 1), PRIM(U64, 8, 8, 1),
  PRIM(F32, 4, 4, 1), PRIM(F64, 8, 8, 1), PRIM(CHAR, 4, 4, 1), PRIM(STRING, 8, 4, 2),
  PRIM(ERROR_CONTEXT, 4, 4, 1),
};
#undef PRIM

bool cmp_is_prim(shoal_ctype_kind_t k) { return k <= SHOAL_CT_ERROR_CONTEXT; }

cmp_type_t *cmp_prim(shoal_ctype_kind_t k) { return &prims[k]; }

bool cmp_is_valtype(const cmp_type_t *t) { return t && t->kind <= SHOAL_CT_MAP; }

const char *cmp_sort_name(cmp_sort_t s) {
  static const char *const names[CMP_SORT__COUNT] = {
    "core func", "core table", "core memory", "core global", "core type",
    "core module", "core instance", "func", "value", "type", "component", "instance"};
  return s < CMP_SORT__COUNT ? names[s] : "?";
}

/* {==================================================================
** Substitution of abstract resources
** =================================================================== */
bool cmp_subst_add(cmp_subst_t *m, const cmp_type_t *from, const cmp_type_t *to) {
  if (m->n == m->cap) {
    uint32_t cap = m->cap ? m->cap * 2 : 8;
    const cmp_type_t **f = realloc(m->from, cap * sizeof *f);
    if (!f) return false;
    m->from = f;
    const cmp_type_t **t = realloc(m->to, cap * sizeof *t);
    if (!t) return false;
    m->to = t;
    m->cap = cap;
  }
  m->from[m->n] = from;
  m->to[m->n] = to;
  m->n++;
  return true;
}

void cmp_subst_free(cmp_subst_t *m) {
  free(m->from);
  free(m->to);
  memset(m, 0, sizeof *m);
}

const cmp_type_t *cmp_subst_get(const cmp_subst_t *m, const cmp_type_t *t) {
  if (!m) return t;
  for (uint32_t i = m->n; i-- > 0;)
    if (m->from[i] == t) return m->to[i];
  return t;
}
/* }================================================================== */

/* {==================================================================
** Equality and subtyping
** =================================================================== */
static bool fail(char *why, size_t len, const char *fmt, const char *a, uint32_t alen) {
  if (why && len && !why[0]) snprintf(why, len, fmt, (int)alen, a);
  return false;
}

static bool name_eq(const char *a, uint32_t an, const char *b, uint32_t bn) {
  return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static bool valtype_eq(const cmp_type_t *a, const cmp_type_t *e, cmp_subst_t *m, char *why, size_t wl);

static bool opt_eq(const cmp_type_t *a, const cmp_type_t *e, cmp_subst_t *m, char *why, size_t wl) {
  if (!a || !e) return a == e || fail(why, wl, "%.*stype present on one side only", "", 0);
  return valtype_eq(a, e, m, why, wl);
}

static bool valtype_eq(const cmp_type_t *a, const cmp_type_t *e, cmp_subst_t *m, char *why, size_t wl) {
  if (a == e) return true;
  if (e->kind == SHOAL_CT_RESOURCE || a->kind == SHOAL_CT_RESOURCE) {
    if (a->kind != e->kind) return fail(why, wl, "%.*sexpected a resource type", "", 0);
    if (cmp_subst_get(m, e) == a) return true;
    return fail(why, wl, "%.*sresource types differ", "", 0);
  }
  if (a->kind != e->kind) return fail(why, wl, "%.*stype mismatch", "", 0);
  if (cmp_is_prim(a->kind)) return true;
  if (a->n != e->n) return fail(why, wl, "%.*sdifferent number of fields, cases or labels", "", 0);
  for (uint32_t i = 0; i < a->n; i++) {
    const cmp_field_t *fa = &a->fields[i], *fe = &e->fields[i];
    if (a->kind != SHOAL_CT_TUPLE && !name_eq(fa->name, fa->name_len, fe->name, fe->name_len))
      return fail(why, wl, "name `%.*s` differs", fe->name, fe->name_len);
    if (!opt_eq(fa->type, fe->type, m, why, wl)) return false;
  }
  if (a->fixed_len != e->fixed_len) return fail(why, wl, "%.*sfixed list lengths differ", "", 0);
  if (a->kind == SHOAL_CT_FUNC) {
    if (a->async != e->async) return fail(why, wl, "%.*sasync differs", "", 0);
    return opt_eq(a->result, e->result, m, why, wl);
  }
  return opt_eq(a->elem, e->elem, m, why, wl) && opt_eq(a->err, e->err, m, why, wl);
}

static const cmp_extern_t *find_extern(const cmp_extern_t *xs, uint32_t n, const char *name, uint32_t len) {
  for (uint32_t i = 0; i < n; i++)
    if (name_eq(xs[i].name, xs[i].name_len, name, len)) return &xs[i];
  return NULL;
}

/* Core import/export subtyping: a can stand where e is expected. */
bool cmp_core_extern_sub(const shoal_externtype_t *a, const shoal_externtype_t *e) {
  if (a->kind != e->kind) return false;
  switch (a->kind) {
  case SHOAL_EXTERN_FUNC:
    if (a->func.nparams != e->func.nparams || a->func.nresults != e->func.nresults) return false;
    for (uint32_t i = 0; i < a->func.nparams; i++)
      if (a->func.params[i] != e->func.params[i]) return false;
    for (uint32_t i = 0; i < a->func.nresults; i++)
      if (a->func.results[i] != e->func.results[i]) return false;
    return true;
  case SHOAL_EXTERN_TABLE:
  case SHOAL_EXTERN_MEMORY:
    if (a->kind == SHOAL_EXTERN_TABLE && a->elem != e->elem) return false;
    if (a->limits.min < e->limits.min) return false;
    if (e->limits.has_max && (!a->limits.has_max || a->limits.max > e->limits.max)) return false;
    return true;
  case SHOAL_EXTERN_GLOBAL:
    return a->global_type == e->global_type && a->global_mutable == e->global_mutable;
  }
  return false;
}

bool cmp_subtype(cmp_sort_t s, const cmp_type_t *a, const cmp_type_t *e, cmp_subst_t *m,
                 char *why, size_t wl) {
  switch (s) {
  case CMP_SORT_TYPE:
    if (e->kind == SHOAL_CT_RESOURCE && !e->owner && cmp_subst_get(m, e) == e) {
      /* an abstract resource meets its first actual type: bind it */
      if (a->kind != SHOAL_CT_RESOURCE) return fail(why, wl, "%.*sexpected a resource type", "", 0);
      return cmp_subst_add(m, e, a) || fail(why, wl, "%.*sout of memory", "", 0);
    }
    return valtype_eq(a, e, m, why, wl);
  case CMP_SORT_FUNC:
  case CMP_SORT_VALUE:
    return valtype_eq(a, e, m, why, wl);
  case CMP_SORT_CORE_MODULE: {
    /* the actual module imports no more than expected, exports at least it */
    for (uint32_t i = 0; i < a->n; i++) {
      const cmp_core_extern_t *ai = &a->core_imports[i];
      bool ok = false;
      for (uint32_t j = 0; j < e->n && !ok; j++) {
        const cmp_core_extern_t *ei = &e->core_imports[j];
        ok = name_eq(ai->module, ai->module_len, ei->module, ei->module_len) &&
             name_eq(ai->name, ai->name_len, ei->name, ei->name_len) &&
             cmp_core_extern_sub(&ei->type, &ai->type);
      }
      if (!ok) return fail(why, wl, "module import `%.*s` not allowed", ai->name, ai->name_len);
    }
    for (uint32_t j = 0; j < e->nexports; j++) {
      const cmp_core_extern_t *ee = &e->core_exports[j];
      bool ok = false;
      for (uint32_t i = 0; i < a->nexports && !ok; i++) {
        const cmp_core_extern_t *ae = &a->core_exports[i];
        ok = name_eq(ae->name, ae->name_len, ee->name, ee->name_len) &&
             cmp_core_extern_sub(&ae->type, &ee->type);
      }
      if (!ok) return fail(why, wl, "module export `%.*s` missing or of another type", ee->name, ee->name_len);
    }
    return true;
  }
  case CMP_SORT_INSTANCE:
  case CMP_SORT_COMPONENT:
    if (a->kind != e->kind) return fail(why, wl, "%.*sexpected another kind of type", "", 0);
    if (s == CMP_SORT_COMPONENT) {
      /* contravariant imports: every import the actual needs is offered */
      for (uint32_t i = 0; i < a->n; i++) {
        const cmp_extern_t *ai = &a->imports[i];
        const cmp_extern_t *ei = find_extern(e->imports, e->n, ai->name, ai->name_len);
        if (!ei) return fail(why, wl, "import `%.*s` not offered", ai->name, ai->name_len);
        if (ei->sort != ai->sort || !cmp_subtype(ai->sort, ei->type, ai->type, m, why, wl))
          return fail(why, wl, "import `%.*s` has an incompatible type", ai->name, ai->name_len);
      }
    }
    for (uint32_t j = 0; j < e->nexports; j++) {
      const cmp_extern_t *ee = &e->exports[j];
      const cmp_extern_t *ae = find_extern(a->exports, a->nexports, ee->name, ee->name_len);
      if (!ae) return fail(why, wl, "missing export `%.*s`", ee->name, ee->name_len);
      if (ae->sort != ee->sort)
        return fail(why, wl, "export `%.*s` is of another sort", ee->name, ee->name_len);
      if (!cmp_subtype(ee->sort, ae->type, ee->type, m, why, wl))
        return fail(why, wl, "export `%.*s` has an incompatible type", ee->name, ee->name_len);
    }
    return true;
  default:
    return fail(why, wl, "%.*sunsupported sort", "", 0);
  }
}
/* }================================================================== */

/* {==================================================================
** Substitution
** =================================================================== */
cmp_type_t *cmp_type_subst(cmp_arena_t *ar, cmp_type_t *t, const cmp_subst_t *m) {
  if (!t || !m || m->n == 0) return t;
  if (t->kind == SHOAL_CT_RESOURCE) return (cmp_type_t *)cmp_subst_get(m, t);
  if (cmp_is_prim(t->kind) || t->kind == SHOAL_CT_CORE_MODULE || t->kind == SHOAL_CT_CORE_FUNC)
    return t;
  bool changed = false;
  cmp_type_t *elem = cmp_type_subst(ar, t->elem, m), *err = cmp_type_subst(ar, t->err, m);
  cmp_type_t *res = cmp_type_subst(ar, t->result, m);
  if (elem != t->elem || err != t->err || res != t->result) changed = true;
  cmp_field_t *fields = t->fields;
  for (uint32_t i = 0; i < t->n && fields && t->kind != SHOAL_CT_COMPONENT; i++) {
    cmp_type_t *ft = cmp_type_subst(ar, fields[i].type, m);
    if (ft != fields[i].type) {
      if (fields == t->fields) {
        fields = cmp_alloc(ar, t->n * sizeof *fields);
        if (!fields) return NULL;
        memcpy(fields, t->fields, t->n * sizeof *fields);
      }
      fields[i].type = ft;
      changed = true;
    }
  }
  cmp_extern_t *exports = t->exports, *imports = t->imports;
  for (int pass = 0; pass < 2; pass++) {
    cmp_extern_t *xs = pass ? t->exports : t->imports;
    uint32_t n = pass ? t->nexports : (t->kind == SHOAL_CT_COMPONENT ? t->n : 0);
    cmp_extern_t *copy = xs;
    for (uint32_t i = 0; i < n; i++) {
      cmp_type_t *xt = cmp_type_subst(ar, xs[i].type, m);
      if (xt != xs[i].type) {
        if (copy == xs) {
          copy = cmp_alloc(ar, n * sizeof *copy);
          if (!copy) return NULL;
          memcpy(copy, xs, n * sizeof *copy);
        }
        copy[i].type = xt;
        changed = true;
      }
    }
    if (pass) exports = copy; else imports = copy;
  }
  if (!changed) return t;
  cmp_type_t *u = cmp_alloc(ar, sizeof *u);
  if (!u) return NULL;
  *u = *t;
  u->elem = elem; u->err = err; u->result = res; u->fields = fields;
  u->exports = exports; u->imports = imports;
  u->layout_done = false;
  return u;
}
/* }================================================================== */

bool cmp_contains_borrow(const cmp_type_t *t) {
  if (!t) return false;
  if (t->kind == SHOAL_CT_BORROW) return true;
  if (cmp_is_prim(t->kind) || t->kind == SHOAL_CT_OWN || t->kind == SHOAL_CT_RESOURCE) return false;
  if (t->kind > SHOAL_CT_MAP) return false;
  for (uint32_t i = 0; i < t->n; i++)
    if (cmp_contains_borrow(t->fields[i].type)) return true;
  return cmp_contains_borrow(t->elem) || cmp_contains_borrow(t->err);
}

/* {==================================================================
** Public accessors
** =================================================================== */
shoal_ctype_kind_t shoal_ctype_kind(const shoal_ctype_t *t) { return t->kind; }
uint32_t shoal_ctype_count(const shoal_ctype_t *t) {
  return t->kind <= SHOAL_CT_FUNC ? t->n : 0;
}
const shoal_ctype_t *shoal_ctype_item(const shoal_ctype_t *t, uint32_t i, const char **name,
                                      size_t *name_len) {
  if (i >= shoal_ctype_count(t)) return NULL;
  if (name) *name = t->fields[i].name;
  if (name_len) *name_len = t->fields[i].name_len;
  return t->fields[i].type;
}
const shoal_ctype_t *shoal_ctype_elem(const shoal_ctype_t *t) { return t->elem; }
const shoal_ctype_t *shoal_ctype_err(const shoal_ctype_t *t) { return t->err; }
const shoal_ctype_t *shoal_ctype_result(const shoal_ctype_t *t) { return t->result; }
/* }================================================================== */
