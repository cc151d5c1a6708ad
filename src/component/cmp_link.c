/*
** Linking components: one component's imports satisfied by the exports of
** other instances (shoal_clink_*), and resource handles the host holds.
*/
#include "cmp_inst.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {==================================================================
** Host-held handles
** =================================================================== */
static shoal_err_t drop_rep(shoal_store_t *s, shoal_cinstance_t *ci, const cmp_type_t *rt, uint32_t rep,
                            shoal_diag_t *diag) {
  const cmp_dtor_t *dt = cmp_find_dtor(ci, rt);
  if (!dt) return cmp_fail(diag, SHOAL_ERR_ARG, -1, "drop: the resource is not defined by this instance");
  if (!dt->fn) return SHOAL_ERR_OK;
  if (!dt->inst->may_enter) return cmp_fail(diag, SHOAL_ERR_TRAP_HOST, -1, "drop: the instance is already running");
  shoal_raw_t io[1] = {rep};
  return shoal_func_call_raw(s, dt->fn, io, diag);
}

shoal_err_t shoal_cinstance_drop(shoal_store_t *s, shoal_cinstance_t *ci, const shoal_ctype_t *t, const shoal_cval_t *v,
                                 shoal_diag_t *diag) {
  if (diag) shoal_diag_clear(diag);
  if (t->kind != SHOAL_CT_OWN || v->kind != SHOAL_CT_OWN)
    return cmp_fail(diag, SHOAL_ERR_ARG, -1, "drop: an own handle is needed (a borrow is not dropped by its holder)");
  return drop_rep(s, ci, t->elem, v->of.handle, diag);
}
/* }================================================================== */

/* {==================================================================
** Types as WIT text, for link errors
** =================================================================== */
static const char *const prim_names[] = {
  [SHOAL_CT_BOOL] = "bool", [SHOAL_CT_S8] = "s8", [SHOAL_CT_U8] = "u8", [SHOAL_CT_S16] = "s16",
  [SHOAL_CT_U16] = "u16", [SHOAL_CT_S32] = "s32", [SHOAL_CT_U32] = "u32", [SHOAL_CT_S64] = "s64",
  [SHOAL_CT_U64] = "u64", [SHOAL_CT_F32] = "f32", [SHOAL_CT_F64] = "f64", [SHOAL_CT_CHAR] = "char",
  [SHOAL_CT_STRING] = "string", [SHOAL_CT_ERROR_CONTEXT] = "error-context"};

/* Writes t; named types (type exports of scope, an instance type) by name. */
static void put_type(cmp_buf_t *b, const cmp_type_t *t, const cmp_type_t *scope, int depth) {
  if (!t) { cmp_buf_puts(b, "_"); return; }
  if (cmp_is_prim(t->kind)) { cmp_buf_puts(b, prim_names[t->kind]); return; }
  for (uint32_t i = 0; scope && i < scope->nexports; i++)
    if (scope->exports[i].sort == CMP_SORT_TYPE && scope->exports[i].type == t) {
      cmp_buf_put(b, scope->exports[i].name, scope->exports[i].name_len);
      return;
    }
  if (depth > 8) { cmp_buf_puts(b, "..."); return; }
  switch (t->kind) {
  case SHOAL_CT_LIST: cmp_buf_puts(b, "list<"); put_type(b, t->elem, scope, depth + 1); cmp_buf_puts(b, ">"); return;
  case SHOAL_CT_OPTION: cmp_buf_puts(b, "option<"); put_type(b, t->elem, scope, depth + 1); cmp_buf_puts(b, ">"); return;
  case SHOAL_CT_RESULT:
    cmp_buf_puts(b, "result");
    if (t->elem || t->err) {
      cmp_buf_puts(b, "<");
      put_type(b, t->elem, scope, depth + 1);
      if (t->err) { cmp_buf_puts(b, ", "); put_type(b, t->err, scope, depth + 1); }
      cmp_buf_puts(b, ">");
    }
    return;
  case SHOAL_CT_OWN: case SHOAL_CT_BORROW:
    cmp_buf_puts(b, t->kind == SHOAL_CT_OWN ? "own<" : "borrow<");
    put_type(b, t->elem, scope, depth + 1);
    cmp_buf_puts(b, ">");
    return;
  case SHOAL_CT_RESOURCE: cmp_buf_puts(b, "resource"); return;
  case SHOAL_CT_TUPLE: case SHOAL_CT_RECORD: case SHOAL_CT_VARIANT: case SHOAL_CT_ENUM: case SHOAL_CT_FLAGS:
  case SHOAL_CT_FUNC: {
    static const char *const open[] = {[SHOAL_CT_TUPLE] = "tuple<", [SHOAL_CT_RECORD] = "record { ",
                                       [SHOAL_CT_VARIANT] = "variant { ", [SHOAL_CT_ENUM] = "enum { ",
                                       [SHOAL_CT_FLAGS] = "flags { ", [SHOAL_CT_FUNC] = "func("};
    cmp_buf_puts(b, open[t->kind]);
    for (uint32_t i = 0; i < t->n; i++) {
      if (i) cmp_buf_puts(b, ", ");
      if (t->kind != SHOAL_CT_TUPLE) cmp_buf_put(b, t->fields[i].name, t->fields[i].name_len);
      if (!t->fields[i].type) continue;
      bool paren = t->kind == SHOAL_CT_VARIANT;
      if (t->kind != SHOAL_CT_TUPLE) cmp_buf_puts(b, paren ? "(" : ": ");
      put_type(b, t->fields[i].type, scope, depth + 1);
      if (paren) cmp_buf_puts(b, ")");
    }
    cmp_buf_puts(b, t->kind == SHOAL_CT_TUPLE ? ">" : t->kind == SHOAL_CT_FUNC ? ")" : " }");
    if (t->kind == SHOAL_CT_FUNC && t->result) { cmp_buf_puts(b, " -> "); put_type(b, t->result, scope, depth + 1); }
    return;
  }
  default: cmp_buf_printf(b, "<type kind %d>", (int)t->kind); return;
  }
}

/* One type as text in a static-size buffer (truncated with "..."). */
static void type_text(char *out, size_t cap, const cmp_type_t *t, const cmp_type_t *scope) {
  cmp_buf_t b = {0};
  put_type(&b, t, scope, 0);
  if (b.oom || !b.p) snprintf(out, cap, "(out of memory)");
  else if (b.n < cap) snprintf(out, cap, "%.*s", (int)b.n, b.p);
  else snprintf(out, cap, "%.*s...", (int)(cap - 4), b.p);
  free(b.p);
}
/* }================================================================== */

/* {==================================================================
** Interface names and versions
** =================================================================== */
typedef struct semver {
  bool has;
  unsigned long v[3];
  const char *rest;  /* pre-release or build suffix: then only equal versions match */
  size_t rest_len;
} semver_t;

static bool parse_semver(const char *s, size_t n, semver_t *out) {
  memset(out, 0, sizeof *out);
  out->has = true;
  size_t i = 0;
  for (int k = 0; k < 3; k++) {
    if (i >= n || s[i] < '0' || s[i] > '9') return false;
    unsigned long x = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9' && x < 100000000ul) x = x * 10 + (unsigned long)(s[i++] - '0');
    out->v[k] = x;
    if (k < 2) { if (i >= n || s[i] != '.') return false; i++; }
  }
  out->rest = s + i;
  out->rest_len = n - i;
  return true;
}

/* "ns:pkg/iface@1.2.3" -> base length and version. */
static bool split_name(const char *s, uint32_t n, uint32_t *base, semver_t *v) {
  const char *at = memchr(s, '@', n);
  memset(v, 0, sizeof *v);
  if (!at) { *base = n; return true; }
  *base = (uint32_t)(at - s);
  return parse_semver(at + 1, (size_t)(n - *base - 1), v);
}

/* 2: the same name; 1: the same interface at a semver-compatible version; 0: no. */
static int name_match(const char *imp, uint32_t il, const char *exp, uint32_t el) {
  if (il == el && memcmp(imp, exp, il) == 0) return 2;
  uint32_t ib, eb;
  semver_t iv, ev;
  if (!split_name(imp, il, &ib, &iv) || !split_name(exp, el, &eb, &ev)) return 0;
  if (ib != eb || memcmp(imp, exp, ib) != 0 || !iv.has || !ev.has) return 0;
  if (iv.rest_len || ev.rest_len) return 0;
  if (iv.v[0] != ev.v[0]) return 0;
  if (iv.v[0] == 0 && iv.v[1] != ev.v[1]) return 0;
  if (iv.v[0] == 0 && iv.v[1] == 0 && iv.v[2] != ev.v[2]) return 0;
  return 1;
}
/* }================================================================== */

/* {==================================================================
** The linker
** =================================================================== */
typedef struct fwd {
  shoal_cinstance_t *provider;
  shoal_cfunc_t *func;          /* a function to forward to */
  const cmp_type_t *rt;         /* or a resource of provider to drop */
  const char *what;             /* provider's export name, for trap messages */
} fwd_t;

struct shoal_clink {
  cmp_arena_t arena;
  shoal_cinstance_t **providers;
  size_t nproviders, cap;
  shoal_cimport_t *imports;
  size_t nimports, imports_cap;
};

shoal_err_t shoal_clink_new(shoal_clink_t **out) {
  *out = calloc(1, sizeof **out);
  return *out ? SHOAL_ERR_OK : SHOAL_ERR_NOMEM;
}

void shoal_clink_free(shoal_clink_t *l) {
  if (!l) return;
  free(l->providers);
  free(l->imports);
  cmp_arena_free(&l->arena);
  free(l);
}

shoal_err_t shoal_clink_add(shoal_clink_t *l, shoal_cinstance_t *provider) {
  if (l->nproviders == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 4;
    shoal_cinstance_t **p = realloc(l->providers, cap * sizeof *p);
    if (!p) return SHOAL_ERR_NOMEM;
    l->providers = p;
    l->cap = cap;
  }
  l->providers[l->nproviders++] = provider;
  return SHOAL_ERR_OK;
}

static shoal_err_t forward_call(shoal_ccall_t *call, void *envp, const shoal_cval_t *args, size_t nargs,
                                shoal_cval_t *result) {
  fwd_t *fw = envp;
  shoal_diag_t d;
  shoal_diag_clear(&d);
  shoal_err_t e = shoal_cfunc_call(shoal_ccall_store(call), fw->func, args, nargs, result, &d);
  if (e == SHOAL_ERR_OK) return e;
  if (e == SHOAL_ERR_EXIT) return shoal_ccall_exit(call, d.exit_code);
  return shoal_ccall_trap(call, "in linked %s: %s", fw->what, d.message[0] ? d.message : shoal_err_message(e));
}

static shoal_err_t forward_drop(shoal_ccall_t *call, void *envp, const shoal_cval_t *args, size_t nargs,
                                shoal_cval_t *result) {
  fwd_t *fw = envp;
  (void)result;
  if (nargs != 1) return shoal_ccall_trap(call, "resource drop of %s: one handle expected", fw->what);
  shoal_diag_t d;
  shoal_diag_clear(&d);
  shoal_err_t e = drop_rep(shoal_ccall_store(call), fw->provider, fw->rt, args[0].of.handle, &d);
  if (e == SHOAL_ERR_OK) return e;
  if (e == SHOAL_ERR_EXIT) return shoal_ccall_exit(call, d.exit_code);
  return shoal_ccall_trap(call, "destructor of %s: %s", fw->what, d.message[0] ? d.message : shoal_err_message(e));
}

static shoal_err_t add_import(shoal_clink_t *l, const char *a, uint32_t al, const char *b, uint32_t bl,
                              shoal_chost_fn_t fn, fwd_t *fw) {
  if (l->nimports == l->imports_cap) {
    size_t cap = l->imports_cap ? l->imports_cap * 2 : 16;
    shoal_cimport_t *p = realloc(l->imports, cap * sizeof *p);
    if (!p) return SHOAL_ERR_NOMEM;
    l->imports = p;
    l->imports_cap = cap;
  }
  char *name = cmp_alloc(&l->arena, (size_t)al + 1 + bl + 1);
  if (!name) return SHOAL_ERR_NOMEM;
  memcpy(name, a, al);
  if (b) { name[al] = '#'; memcpy(name + al + 1, b, bl); }
  l->imports[l->nimports++] = (shoal_cimport_t){name, fn, fw};
  return SHOAL_ERR_OK;
}

/* The exported instance or function of a provider that best matches an
** import name (an exact name before a semver-compatible one). */
static const cmp_extern_t *find_export(shoal_clink_t *l, const cmp_extern_t *imp, shoal_cinstance_t **prov) {
  const cmp_extern_t *best = NULL;
  int best_score = 0;
  for (size_t p = 0; p < l->nproviders; p++) {
    const cmp_scope_t *r = l->providers[p]->comp->root;
    for (uint32_t i = 0; i < r->nexports; i++) {
      const cmp_extern_t *x = &r->exports[i];
      if (x->sort != imp->sort) continue;
      int m = name_match(imp->name, imp->name_len, x->name, x->name_len);
      if (m > best_score) { best = x; best_score = m; *prov = l->providers[p]; }
    }
  }
  return best;
}

/* An exported instance of the same interface at another version. */
static const cmp_extern_t *other_version(shoal_clink_t *l, const cmp_extern_t *imp) {
  uint32_t ib, eb;
  semver_t iv, ev;
  if (!split_name(imp->name, imp->name_len, &ib, &iv) || !iv.has) return NULL;
  for (size_t p = 0; p < l->nproviders; p++) {
    const cmp_scope_t *r = l->providers[p]->comp->root;
    for (uint32_t i = 0; i < r->nexports; i++) {
      const cmp_extern_t *x = &r->exports[i];
      if (x->sort == CMP_SORT_INSTANCE && split_name(x->name, x->name_len, &eb, &ev) && eb == ib &&
          memcmp(x->name, imp->name, ib) == 0)
        return x;
    }
  }
  return NULL;
}

static const cmp_extern_t *find_in(const cmp_type_t *it, const char *name, uint32_t len) {
  for (uint32_t i = 0; i < it->nexports; i++)
    if (it->exports[i].name_len == len && memcmp(it->exports[i].name, name, len) == 0) return &it->exports[i];
  return NULL;
}

static fwd_t *new_fwd(shoal_clink_t *l, shoal_cinstance_t *prov, const char *a, uint32_t al, const char *b, uint32_t bl) {
  fwd_t *fw = cmp_alloc(&l->arena, sizeof *fw);
  char *what = cmp_alloc(&l->arena, (size_t)al + 1 + bl + 1);
  if (!fw || !what) return NULL;
  memcpy(what, a, al);
  if (b) { what[al] = '#'; memcpy(what + al + 1, b, bl); }
  fw->provider = prov;
  fw->what = what;
  return fw;
}

/* A function f (of the consumer's import) against the provider's g. */
static shoal_err_t link_func(shoal_clink_t *l, shoal_cinstance_t *prov, const cmp_extern_t *ii,
                             const cmp_extern_t *ie, const cmp_extern_t *xi, const cmp_extern_t *xe,
                             cmp_subst_t *m, shoal_diag_t *diag) {
  /* ii/xi: the imported and exported instance (NULL for world-level functions) */
  const cmp_type_t *iscope = ii ? ii->type : NULL, *xscope = xi ? xi->type : NULL;
  char why[160] = "";
  if (!cmp_subtype(CMP_SORT_FUNC, xe->type, ie->type, m, why, sizeof why)) {
    char want[400], got[400];
    type_text(want, sizeof want, ie->type, iscope);
    type_text(got, sizeof got, xe->type, xscope);
    if (ii)
      return cmp_fail(diag, SHOAL_ERR_LINK, -1, "import `%.*s#%.*s`: expected `%s`, found `%s` in export `%.*s` (%s)",
                      (int)ii->name_len, ii->name, (int)ie->name_len, ie->name, want, got, (int)xi->name_len,
                      xi->name, why);
    return cmp_fail(diag, SHOAL_ERR_LINK, -1, "import `%.*s`: expected `%s`, found `%s` (%s)", (int)ie->name_len,
                    ie->name, want, got, why);
  }
  char full[600];
  if (xi) snprintf(full, sizeof full, "%.*s#%.*s", (int)xi->name_len, xi->name, (int)xe->name_len, xe->name);
  else snprintf(full, sizeof full, "%.*s", (int)xe->name_len, xe->name);
  shoal_cfunc_t *f = shoal_cinstance_func(prov, full);
  if (!f) return cmp_fail(diag, SHOAL_ERR_LINK, -1, "linked export `%s` has no value", full);
  fwd_t *fw = xi ? new_fwd(l, prov, xi->name, xi->name_len, xe->name, xe->name_len)
                 : new_fwd(l, prov, xe->name, xe->name_len, NULL, 0);
  if (!fw) return cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  fw->func = f;
  shoal_err_t e = ii ? add_import(l, ii->name, ii->name_len, ie->name, ie->name_len, forward_call, fw)
                     : add_import(l, ie->name, ie->name_len, NULL, 0, forward_call, fw);
  return e ? cmp_fail(diag, e, -1, "out of host memory") : SHOAL_ERR_OK;
}

static shoal_err_t link_instance(shoal_clink_t *l, shoal_cinstance_t *prov, const cmp_extern_t *ii,
                                 const cmp_extern_t *xi, shoal_diag_t *diag) {
  cmp_subst_t m = {0};
  shoal_err_t e = SHOAL_ERR_OK;
  const cmp_type_t *it = ii->type, *xt = xi->type;
  /* types first: abstract resources of the import bind to the provider's */
  for (uint32_t i = 0; i < it->nexports && !e; i++) {
    const cmp_extern_t *ie = &it->exports[i];
    if (ie->sort != CMP_SORT_TYPE) continue;
    const cmp_extern_t *xe = find_in(xt, ie->name, ie->name_len);
    char why[160] = "";
    if (!xe || xe->sort != CMP_SORT_TYPE) {
      e = cmp_fail(diag, SHOAL_ERR_LINK, -1, "import `%.*s`: type `%.*s` is not exported by `%.*s`", (int)ii->name_len,
                   ii->name, (int)ie->name_len, ie->name, (int)xi->name_len, xi->name);
    } else if (!cmp_subtype(CMP_SORT_TYPE, xe->type, ie->type, &m, why, sizeof why)) {
      char want[400], got[400];
      type_text(want, sizeof want, ie->type, NULL);
      type_text(got, sizeof got, xe->type, NULL);
      e = cmp_fail(diag, SHOAL_ERR_LINK, -1, "import `%.*s`: type `%.*s`: expected `%s`, found `%s` in export `%.*s` (%s)",
                   (int)ii->name_len, ii->name, (int)ie->name_len, ie->name, want, got, (int)xi->name_len, xi->name, why);
    } else if (ie->type->kind == SHOAL_CT_RESOURCE) {
      /* the consumer drops its handles through the provider's destructor */
      fwd_t *fw = new_fwd(l, prov, xi->name, xi->name_len, xe->name, xe->name_len);
      char dn[300];
      int dl = snprintf(dn, sizeof dn, "[resource-drop]%.*s", (int)ie->name_len, ie->name);
      if (!fw || dl < 0 || (size_t)dl >= sizeof dn) {
        e = cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
      } else {
        fw->rt = xe->type;
        if (add_import(l, ii->name, ii->name_len, dn, (uint32_t)dl, forward_drop, fw))
          e = cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
      }
    }
  }
  for (uint32_t i = 0; i < it->nexports && !e; i++) {
    const cmp_extern_t *ie = &it->exports[i];
    if (ie->sort == CMP_SORT_TYPE) continue;
    const cmp_extern_t *xe = find_in(xt, ie->name, ie->name_len);
    if (ie->sort != CMP_SORT_FUNC) {
      e = cmp_fail(diag, SHOAL_ERR_LINK, -1, "import `%.*s#%.*s`: only functions and types can be linked",
                   (int)ii->name_len, ii->name, (int)ie->name_len, ie->name);
    } else if (!xe || xe->sort != CMP_SORT_FUNC) {
      char want[400];
      type_text(want, sizeof want, ie->type, it);
      e = cmp_fail(diag, SHOAL_ERR_LINK, -1, "import `%.*s#%.*s`: expected `%s`, found no such function in export `%.*s`",
                   (int)ii->name_len, ii->name, (int)ie->name_len, ie->name, want, (int)xi->name_len, xi->name);
    } else {
      e = link_func(l, prov, ii, ie, xi, xe, &m, diag);
    }
  }
  cmp_subst_free(&m);
  return e;
}

shoal_err_t shoal_clink_imports(shoal_clink_t *l, const shoal_component_t *consumer, const shoal_cimport_t **imports,
                                size_t *n, shoal_diag_t *diag) {
  if (diag) shoal_diag_clear(diag);
  l->nimports = 0;
  const cmp_scope_t *r = consumer->root;
  shoal_err_t e = SHOAL_ERR_OK;
  for (uint32_t i = 0; i < r->nimports && !e; i++) {
    const cmp_extern_t *imp = &r->imports[i];
    if (imp->sort != CMP_SORT_INSTANCE && imp->sort != CMP_SORT_FUNC) continue;
    shoal_cinstance_t *prov = NULL;
    const cmp_extern_t *x = find_export(l, imp, &prov);
    if (!x) {
      const cmp_extern_t *other = imp->sort == CMP_SORT_INSTANCE ? other_version(l, imp) : NULL;
      if (other)
        e = cmp_fail(diag, SHOAL_ERR_LINK, -1, "import `%.*s`: a linked component exports `%.*s`, not a semver-compatible version",
                     (int)imp->name_len, imp->name, (int)other->name_len, other->name);
      continue;  /* left for the host */
    }
    if (imp->sort == CMP_SORT_INSTANCE) e = link_instance(l, prov, imp, x, diag);
    else {
      cmp_subst_t m = {0};
      e = link_func(l, prov, NULL, imp, NULL, x, &m, diag);
      cmp_subst_free(&m);
    }
  }
  if (e) { l->nimports = 0; return e; }
  *imports = l->imports;
  *n = l->nimports;
  return SHOAL_ERR_OK;
}
/* }================================================================== */

/* {==================================================================
** A command with extra imports (linked providers)
** =================================================================== */
shoal_err_t shoal_component_run_extra(shoal_store_t *s, const shoal_component_t *c, const shoal_crun_config_t *cfg,
                                      const shoal_cimport_t *extra, size_t nextra, int *exit_code, shoal_diag_t *diag) {
  if (diag) shoal_diag_clear(diag);
  *exit_code = 1;
  const cmp_scope_t *r = c->root;
  char name[160] = "";
  for (uint32_t i = 0; i < r->nexports && !name[0]; i++) {
    const cmp_extern_t *x = &r->exports[i];
    if (x->sort == CMP_SORT_INSTANCE && x->name_len > 13 && x->name_len < 100 && memcmp(x->name, "wasi:cli/run@", 13) == 0)
      snprintf(name, sizeof name, "%.*s#run", (int)x->name_len, x->name);
  }
  if (!name[0]) return cmp_fail(diag, SHOAL_ERR_NOT_FOUND, -1, "the component exports no wasi:cli/run");
  shoal_wasi_ctx_t *w = NULL;
  shoal_cinstance_t *inst = NULL;
  shoal_err_t e = shoal_wasi_ctx_new(cfg, &w, diag);
  if (!e) e = shoal_cinstance_new_wasi_ctx(s, c, w, extra, nextra, &inst, diag);
  shoal_cfunc_t *run = inst ? shoal_cinstance_func(inst, name) : NULL;
  if (!e && !run) e = cmp_fail(diag, SHOAL_ERR_NOT_FOUND, -1, "no function `%s`", name);
  if (!e) {
    shoal_cval_t res;
    memset(&res, 0, sizeof res);
    e = shoal_cfunc_call(s, run, NULL, 0, &res, diag);
    fflush(stdout);
    if (e == SHOAL_ERR_OK) *exit_code = res.kind == SHOAL_CT_RESULT && res.of.var.disc ? 1 : 0;
    else if (e == SHOAL_ERR_EXIT) *exit_code = diag ? diag->exit_code : 1;
    shoal_cval_free(&res);
  }
  shoal_cinstance_free(inst);
  shoal_wasi_ctx_free(w);
  return e;
}
/* }================================================================== */
