/*
** Component validation rules beyond decoding: labels and name uniqueness,
** type checking of (core) instantiation arguments, canonical definitions.
*/
#include "cmp_decode.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* label ::= fragment ('-' fragment)*, each fragment all-lowercase or
** all-uppercase (digits allowed), the first starting with a letter
** (Explainer.md "Import and Export Definitions"). */
bool cmp_check_label(cmp_dec_t *d, const char *s, uint32_t n) {
  uint32_t i = 0;
  if (n == 0) return cmp_dec_err(d, SHOAL_ERR_INVALID, "label cannot be empty");
  while (i < n) {
    if (i == 0 && !isalpha((unsigned char)s[i])) goto bad;
    int cas = 0;  /* 1 lower, 2 upper, once a letter is seen */
    uint32_t st = i;
    for (; i < n && s[i] != '-'; i++) {
      unsigned char c = (unsigned char)s[i];
      if (isdigit(c)) continue;
      int k = islower(c) ? 1 : isupper(c) ? 2 : 0;
      if (!k || (cas && k != cas)) goto bad;
      cas = k;
    }
    if (i == st) goto bad;
    if (i < n) {
      i++;
      if (i == n) goto bad;
    }
  }
  return true;
bad:
  return cmp_dec_err(d, SHOAL_ERR_INVALID, "`%.*s` is not in kebab case", (int)n, s);
}

/* {==================================================================
** Extern names (Explainer.md "Import and Export Definitions")
** =================================================================== */
typedef struct nm { const char *s; uint32_t i, n; } nm_t;

static bool nm_word(nm_t *p, bool first) {  /* first-word [a-z][0-9a-z]* or word [0-9a-z]+ */
  uint32_t st = p->i;
  if (first && (p->i >= p->n || !islower((unsigned char)p->s[p->i]))) return false;
  while (p->i < p->n && (islower((unsigned char)p->s[p->i]) || isdigit((unsigned char)p->s[p->i]))) p->i++;
  return p->i > st;
}

static bool nm_words(nm_t *p) {
  if (!nm_word(p, true)) return false;
  while (p->i < p->n && p->s[p->i] == '-') {
    p->i++;
    if (!nm_word(p, false)) return false;
  }
  return true;
}

/* A label ends where no more kebab characters follow. */
static bool nm_label(nm_t *p) {
  uint32_t st = p->i;
  while (p->i < p->n && (isalnum((unsigned char)p->s[p->i]) || p->s[p->i] == '-')) p->i++;
  if (p->i == st) return false;
  cmp_dec_t quiet = {.diag = NULL};
  return cmp_check_label(&quiet, p->s + st, p->i - st);
}

static bool nm_num(nm_t *p) {  /* 0 | [1-9][0-9]* */
  if (p->i >= p->n || !isdigit((unsigned char)p->s[p->i])) return false;
  if (p->s[p->i] == '0') { p->i++; return p->i >= p->n || !isdigit((unsigned char)p->s[p->i]); }
  while (p->i < p->n && isdigit((unsigned char)p->s[p->i])) p->i++;
  return true;
}

static bool nm_idents(nm_t *p) {  /* dot-separated [0-9A-Za-z-]+ */
  for (;;) {
    uint32_t st = p->i;
    while (p->i < p->n && (isalnum((unsigned char)p->s[p->i]) || p->s[p->i] == '-')) p->i++;
    if (p->i == st) return false;
    if (p->i >= p->n || p->s[p->i] != '.') return true;
    p->i++;
  }
}

/* valid semver, or a canonversion (1, 0.2, 0.0.3) */
static bool nm_version(nm_t *p) {
  int parts = 0;
  do {
    if (parts && p->s[p->i++] != '.') return false;
    if (!nm_num(p)) return false;
    parts++;
  } while (parts < 3 && p->i < p->n && p->s[p->i] == '.');
  if (parts < 3) return p->i == p->n;
  if (p->i < p->n && p->s[p->i] == '-') { p->i++; if (!nm_idents(p)) return false; }
  if (p->i < p->n && p->s[p->i] == '+') { p->i++; if (!nm_idents(p)) return false; }
  return p->i == p->n;
}

bool cmp_check_externname(cmp_dec_t *d, const char *s, uint32_t n) {
  nm_t p = {s, 0, n};
  static const char *const anno[] = {"[constructor]", "[method]", "[static]"};
  for (int k = 0; k < 3; k++) {
    size_t al = strlen(anno[k]);
    if (n < al || memcmp(s, anno[k], al) != 0) continue;
    p.i = (uint32_t)al;
    bool ok = nm_label(&p);
    if (ok && k > 0) ok = p.i < n && s[p.i++] == '.' && nm_label(&p);
    if (ok && p.i == n) return true;
    return cmp_dec_err(d, SHOAL_ERR_INVALID, "`%.*s` is not a valid extern name", (int)n, s);
  }
  if (!memchr(s, ':', n)) {
    if (nm_label(&p) && p.i == n) return true;
    return cmp_dec_err(d, SHOAL_ERR_INVALID, "`%.*s` is not a valid extern name", (int)n, s);
  }
  /* namespace+ words projection+ ('@' version)? */
  bool ok = nm_words(&p) && p.i < n && s[p.i] == ':';
  while (ok && p.i < n && s[p.i] == ':') { p.i++; ok = nm_words(&p); }
  ok = ok && p.i < n && s[p.i] == '/';
  while (ok && p.i < n && s[p.i] == '/') { p.i++; ok = nm_label(&p); }
  if (ok && p.i < n) ok = s[p.i++] == '@' && nm_version(&p);
  if (ok && p.i == n) return true;
  return cmp_dec_err(d, SHOAL_ERR_INVALID, "`%.*s` is not a valid interface name", (int)n, s);
}
/* }================================================================== */

/* [constructor]r, [method]r.m, [static]r.m name a function of the resource
** r imported or exported before in the same scope (xs[0..n)), with the
** shape the spec asks: a constructor returns own<r> (or result<own<r>, _>),
** a method takes `self: borrow<r>` first. */
bool cmp_check_func_name(cmp_dec_t *d, const cmp_extern_t *xs, uint32_t n, const cmp_extern_t *x) {
  static const char *const anno[] = {"[constructor]", "[method]", "[static]"};
  int k = -1;
  for (int i = 0; i < 3; i++)
    if (x->name_len > strlen(anno[i]) && memcmp(x->name, anno[i], strlen(anno[i])) == 0) k = i;
  if (k < 0) return true;
  if (x->sort != CMP_SORT_FUNC)
    return cmp_dec_err(d, SHOAL_ERR_INVALID, "`%.*s` is not a function", (int)x->name_len, x->name);
  const char *r = x->name + strlen(anno[k]);
  const char *dot = memchr(r, '.', x->name_len - strlen(anno[k]));
  uint32_t rl = dot ? (uint32_t)(dot - r) : (uint32_t)(x->name + x->name_len - r);
  const cmp_type_t *rt = NULL;
  for (uint32_t i = 0; i < n && !rt; i++)
    if (xs[i].sort == CMP_SORT_TYPE && xs[i].name_len == rl && memcmp(xs[i].name, r, rl) == 0 &&
        xs[i].type->kind == SHOAL_CT_RESOURCE)
      rt = xs[i].type;
  if (!rt) return cmp_dec_err(d, SHOAL_ERR_INVALID, "function `%.*s` names no preceding resource `%.*s`",
                              (int)x->name_len, x->name, (int)rl, r);
  const cmp_type_t *ft = x->type;
  if (k == 0) {
    const cmp_type_t *res = ft->result;
    if (res && res->kind == SHOAL_CT_RESULT) res = res->elem;
    if (!res || res->kind != SHOAL_CT_OWN || res->elem != rt)
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "constructor `%.*s` must return own<%.*s>", (int)x->name_len, x->name, (int)rl, r);
  } else if (k == 1) {
    if (ft->n < 1 || ft->fields[0].name_len != 4 || memcmp(ft->fields[0].name, "self", 4) != 0 ||
        ft->fields[0].type->kind != SHOAL_CT_BORROW || ft->fields[0].type->elem != rt)
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "method `%.*s` must take `self: borrow<%.*s>` first", (int)x->name_len,
                         x->name, (int)rl, r);
  }
  return true;
}

/* Strongly-unique names: equal ignoring ASCII case. */
bool cmp_names_clash(const char *a, uint32_t an, const char *b, uint32_t bn) {
  if (an != bn) return false;
  for (uint32_t i = 0; i < an; i++)
    if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i])) return false;
  return true;
}

cmp_type_t *cmp_sortidx_type(cmp_dec_t *d, cmp_scope_t *s, cmp_sort_t sort, uint32_t idx, shoal_externtype_t *ct) {
  cmp_item_t *it = cmp_space_get(d, s, sort, idx);
  if (!it) return NULL;
  if (ct) *ct = it->ct;
  if (sort <= CMP_SORT_CORE_GLOBAL) return cmp_prim(SHOAL_CT_BOOL); /* non-NULL marker: see ct */
  return it->type;
}

static const char *kind_name(shoal_extern_kind_t k) { return shoal_extern_kind_name(k); }

bool cmp_check_core_instantiate(cmp_dec_t *d, cmp_scope_t *s, cmp_def_t *def, cmp_type_t **out) {
  cmp_type_t *t = cmp_new_type(d, SHOAL_CT_CORE_MODULE);
  if (!t) return false;
  if (def->kind == CMP_DEF_CORE_INLINE) {
    t->nexports = def->nargs;
    t->core_exports = cmp_alloc(&d->c->arena, (def->nargs + 1) * sizeof *t->core_exports);
    if (!t->core_exports) return cmp_dec_oom(d);
    for (uint32_t i = 0; i < def->nargs; i++) {
      cmp_arg_t *a = &def->args[i];
      if (a->sort > CMP_SORT_CORE_GLOBAL)
        return cmp_dec_err(d, SHOAL_ERR_INVALID, "a %s cannot be exported from a core instance", cmp_sort_name(a->sort));
      cmp_item_t *it = cmp_space_get(d, s, a->sort, a->idx);
      if (!it) return false;
      t->core_exports[i] = (cmp_core_extern_t){"", a->name, 0, a->name_len, it->ct};
    }
    *out = t;
    return true;
  }
  cmp_item_t *mi = cmp_space_get(d, s, CMP_SORT_CORE_MODULE, def->a);
  if (!mi) return false;
  const cmp_type_t *mt = mi->type;
  for (uint32_t i = 0; i < def->nargs; i++)
    if (!cmp_space_get(d, s, CMP_SORT_CORE_INSTANCE, def->args[i].idx)) return false;
  for (uint32_t i = 0; i < mt->n; i++) {
    const cmp_core_extern_t *im = &mt->core_imports[i];
    const cmp_arg_t *arg = NULL;
    for (uint32_t j = 0; j < def->nargs && !arg; j++)
      if (def->args[j].name_len == im->module_len && memcmp(def->args[j].name, im->module, im->module_len) == 0)
        arg = &def->args[j];
    if (!arg)
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "missing module instantiation argument named `%.*s`", (int)im->module_len, im->module);
    const cmp_type_t *inst = s->space[CMP_SORT_CORE_INSTANCE].items[arg->idx].type;
    const cmp_core_extern_t *ex = NULL;
    for (uint32_t j = 0; j < inst->nexports && !ex; j++)
      if (inst->core_exports[j].name_len == im->name_len && memcmp(inst->core_exports[j].name, im->name, im->name_len) == 0)
        ex = &inst->core_exports[j];
    if (!ex)
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "module instantiation argument `%.*s` does not export an item named `%.*s`",
                         (int)im->module_len, im->module, (int)im->name_len, im->name);
    if (!cmp_core_extern_sub(&ex->type, &im->type))
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "type mismatch for export `%.*s` of module instantiation argument `%.*s`: expected %s",
                         (int)im->name_len, im->name, (int)im->module_len, im->module, kind_name(im->type.kind));
  }
  t->nexports = mt->nexports;
  t->core_exports = mt->core_exports;
  *out = t;
  return true;
}

bool cmp_check_instantiate(cmp_dec_t *d, cmp_scope_t *s, cmp_def_t *def, cmp_type_t **out) {
  cmp_type_t *t = cmp_new_type(d, SHOAL_CT_INSTANCE);
  if (!t) return false;
  cmp_arena_t *ar = &d->c->arena;
  if (def->kind == CMP_DEF_INLINE) {
    t->nexports = def->nargs;
    t->exports = cmp_alloc(ar, (def->nargs + 1) * sizeof *t->exports);
    if (!t->exports) return cmp_dec_oom(d);
    for (uint32_t i = 0; i < def->nargs; i++) {
      cmp_arg_t *a = &def->args[i];
      if (a->sort < CMP_SORT_FUNC && a->sort != CMP_SORT_CORE_MODULE)
        return cmp_dec_err(d, SHOAL_ERR_INVALID, "a %s cannot be exported from an instance", cmp_sort_name(a->sort));
      cmp_type_t *at = cmp_sortidx_type(d, s, a->sort, a->idx, NULL);
      if (!at) return false;
      t->exports[i] = (cmp_extern_t){a->name, a->name_len, a->sort, at};
    }
    *out = t;
    return true;
  }
  cmp_item_t *ci = cmp_space_get(d, s, CMP_SORT_COMPONENT, def->a);
  if (!ci) return false;
  const cmp_type_t *ct = ci->type;
  cmp_subst_t m = {0};
  for (uint32_t i = 0; i < def->nargs; i++)
    if (!cmp_sortidx_type(d, s, def->args[i].sort, def->args[i].idx, NULL)) return false;
  for (uint32_t i = 0; i < ct->n; i++) {
    const cmp_extern_t *im = &ct->imports[i];
    const cmp_arg_t *arg = NULL;
    for (uint32_t j = 0; j < def->nargs && !arg; j++)
      if (def->args[j].name_len == im->name_len && memcmp(def->args[j].name, im->name, im->name_len) == 0)
        arg = &def->args[j];
    if (!arg) {
      cmp_subst_free(&m);
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "missing import named `%.*s`", (int)im->name_len, im->name);
    }
    if (arg->sort != im->sort) {
      cmp_subst_free(&m);
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "expected %s found %s for the instantiation argument `%.*s`",
                         cmp_sort_name(im->sort), cmp_sort_name(arg->sort), (int)im->name_len, im->name);
    }
    cmp_type_t *at = s->space[arg->sort].items[arg->idx].type;
    char why[160] = "";
    if (!cmp_subtype(im->sort, at, im->type, &m, why, sizeof why)) {
      cmp_subst_free(&m);
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "type mismatch for component instantiation argument `%.*s`: %s",
                         (int)im->name_len, im->name, why[0] ? why : "not a subtype");
    }
  }
  t->nexports = ct->nexports;
  t->exports = cmp_alloc(ar, (ct->nexports + 1) * sizeof *t->exports);
  if (!t->exports) { cmp_subst_free(&m); return cmp_dec_oom(d); }
  for (uint32_t i = 0; i < ct->nexports; i++) {
    t->exports[i] = ct->exports[i];
    t->exports[i].type = cmp_type_subst(ar, ct->exports[i].type, &m);
    if (!t->exports[i].type) { cmp_subst_free(&m); return cmp_dec_oom(d); }
  }
  cmp_subst_free(&m);
  *out = t;
  return true;
}

static bool same_core_func(const shoal_functype_t *a, const shoal_functype_t *b) {
  shoal_externtype_t x = {.kind = SHOAL_EXTERN_FUNC, .func = *a}, y = {.kind = SHOAL_EXTERN_FUNC, .func = *b};
  return cmp_core_extern_sub(&x, &y);
}

static void sig_text(const shoal_functype_t *f, char *buf, size_t n) {
  size_t k = 0;
  k += (size_t)snprintf(buf + k, n - k, "[");
  for (uint32_t i = 0; i < f->nparams && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? " " : "", shoal_valtype_name(f->params[i]));
  if (k < n) k += (size_t)snprintf(buf + k, n - k, "] -> [");
  for (uint32_t i = 0; i < f->nresults && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? " " : "", shoal_valtype_name(f->results[i]));
  if (k < n) snprintf(buf + k, n - k, "]");
}

static bool check_opts(cmp_dec_t *d, cmp_scope_t *s, cmp_def_t *def, cmp_type_t *ft, bool lift) {
  cmp_opts_t *o = &def->opts;
  if (o->memory >= 0) {
    cmp_item_t *m = cmp_space_get(d, s, CMP_SORT_CORE_MEMORY, (uint32_t)o->memory);
    if (!m) return false;
  }
  if (o->realloc >= 0) {
    cmp_item_t *r = cmp_space_get(d, s, CMP_SORT_CORE_FUNC, (uint32_t)o->realloc);
    if (!r) return false;
    static const shoal_valtype_t p4[4] = {SHOAL_I32, SHOAL_I32, SHOAL_I32, SHOAL_I32}, r1[1] = {SHOAL_I32};
    shoal_functype_t want = {4, 1, p4, r1};
    if (!same_core_func(&r->ct.func, &want))
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "canonical option `realloc` uses a core function with an incorrect signature");
  }
  bool params_mem = false, results_mem = cmp_needs_memory(ft->result);
  for (uint32_t i = 0; i < ft->n; i++) params_mem |= cmp_needs_memory(ft->fields[i].type);
  uint32_t nflat = 0;
  for (uint32_t i = 0; i < ft->n; i++) nflat += cmp_flat_count(ft->fields[i].type);
  bool params_spill = nflat > CMP_MAX_FLAT_PARAMS;
  bool results_spill = ft->result && cmp_flat_count(ft->result) > CMP_MAX_FLAT_RESULTS;
  if ((params_mem || results_mem || params_spill || results_spill) && o->memory < 0)
    return cmp_dec_err(d, SHOAL_ERR_INVALID, "canonical option `memory` is required");
  /* lift lowers the params into the callee; lower lowers the results into the caller */
  if ((lift ? (params_mem || params_spill) : results_mem) && o->realloc < 0)
    return cmp_dec_err(d, SHOAL_ERR_INVALID, "canonical option `realloc` is required");
  if (o->post_return >= 0) {
    if (!lift) return cmp_dec_err(d, SHOAL_ERR_INVALID, "canonical option `post-return` cannot be specified for lowerings");
    cmp_item_t *pr = cmp_space_get(d, s, CMP_SORT_CORE_FUNC, (uint32_t)o->post_return);
    if (!pr) return false;
    shoal_functype_t core;
    if (!cmp_flatten_functype(&d->c->arena, ft, true, &core)) return cmp_dec_oom(d);
    shoal_functype_t want = {core.nresults, 0, core.results, NULL};
    if (!same_core_func(&pr->ct.func, &want))
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "canonical option `post-return` uses a core function with an incorrect signature");
  }
  return true;
}

bool cmp_check_canon(cmp_dec_t *d, cmp_scope_t *s, cmp_def_t *def) {
  cmp_arena_t *ar = &d->c->arena;
  static const shoal_valtype_t i32[1] = {SHOAL_I32};
  switch (def->kind) {
  case CMP_DEF_CANON_LIFT: {
    cmp_item_t *cf = cmp_space_get(d, s, CMP_SORT_CORE_FUNC, def->a);
    if (!cf) return false;
    cmp_item_t *ti = cmp_space_get(d, s, CMP_SORT_TYPE, def->b);
    if (!ti) return false;
    if (ti->type->kind != SHOAL_CT_FUNC) return cmp_dec_err(d, SHOAL_ERR_INVALID, "type index %u is not a function type", def->b);
    if (ti->type->async) return cmp_dec_err(d, SHOAL_ERR_UNSUPPORTED, "async functions are not supported");
    if (!check_opts(d, s, def, ti->type, true)) return false;
    shoal_functype_t want;
    if (!cmp_flatten_functype(ar, ti->type, true, &want)) return cmp_dec_oom(d);
    if (!same_core_func(&cf->ct.func, &want)) {
      char a[128], b[128];
      sig_text(&want, a, sizeof a);
      sig_text(&cf->ct.func, b, sizeof b);
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "lowered function type `%s` does not match core function %u type `%s`", a, def->a, b);
    }
    def->type = ti->type;
    return true;
  }
  case CMP_DEF_CANON_LOWER: {
    cmp_item_t *f = cmp_space_get(d, s, CMP_SORT_FUNC, def->a);
    if (!f) return false;
    if (!check_opts(d, s, def, f->type, false)) return false;
    cmp_type_t *ct = cmp_new_type(d, SHOAL_CT_CORE_FUNC);
    if (!ct) return false;
    if (!cmp_flatten_functype(ar, f->type, false, &ct->core_func)) return cmp_dec_oom(d);
    if (!(ct->lower_flat = cmp_alloc(ar, CMP_MAX_FLAT_PARAMS + 1))) return cmp_dec_oom(d);
    ct->lower_nflat = cmp_params_flat(f->type, ct->lower_flat);
    if (!(ct->host_type = shoal_hosttype_new(&ct->core_func))) return cmp_dec_oom(d);
    def->type = ct;
    return true;
  }
  default: {
    cmp_item_t *ri = cmp_space_get(d, s, CMP_SORT_TYPE, def->b);
    if (!ri) return false;
    cmp_type_t *rt = ri->type;
    if (rt->kind != SHOAL_CT_RESOURCE) return cmp_dec_err(d, SHOAL_ERR_INVALID, "type index %u is not a resource type", def->b);
    if (def->kind != CMP_DEF_CANON_RESOURCE_DROP && rt->owner != s)
      return cmp_dec_err(d, SHOAL_ERR_INVALID, "resource type %u is not defined in this component", def->b);
    cmp_type_t *ct = cmp_new_type(d, SHOAL_CT_CORE_FUNC);
    if (!ct) return false;
    if (def->kind == CMP_DEF_CANON_RESOURCE_DROP) ct->core_func = (shoal_functype_t){1, 0, i32, NULL};
    else ct->core_func = (shoal_functype_t){1, 1, i32, i32};
    if (!(ct->host_type = shoal_hosttype_new(&ct->core_func))) return cmp_dec_oom(d);
    def->type = ct;
    return true;
  }
  }
}
