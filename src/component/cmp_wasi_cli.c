/*
** The WASI 0.2 host: the context (shoal_wasi_ctx_t), wasi:cli (environment,
** exit, stdio, terminal-*), linking every wasi:* import of a component to
** the interface files' functions, extra host imports, and `run`.
*/
#define _GNU_SOURCE
#include "cmp_wasi.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* {==================================================================
** The context
** =================================================================== */
shoal_err_t shoal_wasi_ctx_new(const shoal_crun_config_t *cfg, shoal_wasi_ctx_t **out, shoal_diag_t *diag) {
  *out = NULL;
  shoal_wasi_ctx_t *w = calloc(1, sizeof *w);
  if (!w) return cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  static const shoal_crun_config_t empty = {0};
  w->cfg = cfg ? cfg : &empty;
  atomic_init(&w->wakefd, -1);
  atomic_init(&w->interrupted, 0);
  shoal_err_t e = wasi_fs_open_preopens(w, diag);
  if (e) {
    shoal_wasi_ctx_free(w);
    return e;
  }
  *out = w;
  return SHOAL_ERR_OK;
}

void shoal_wasi_ctx_free(shoal_wasi_ctx_t *w) {
  if (!w) return;
  wasi_objs_free(w);
  wasi_fs_close_preopens(w);
  int fd = atomic_load(&w->wakefd);
  if (fd >= 0) close(fd);
  free(w);
}

shoal_wasi_ctx_t *shoal_ccall_wasi(shoal_ccall_t *call) { return call->wasi; }
/* }================================================================== */

/* {==================================================================
** wasi:cli
** =================================================================== */
static shoal_err_t get_environment(WASI_ARGS) {
  (void)a; (void)na;
  const shoal_crun_config_t *cfg = WASI_CTX->cfg;
  if (!wv_list(r, cfg->nenv)) return wv_oom(c);
  for (size_t i = 0; i < cfg->nenv; i++) {
    const char *kv = cfg->env[i], *eq = strchr(kv, '=');
    size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
    shoal_cval_t *t = &r->of.list.items[i];
    if (!wv_record(t, SHOAL_CT_TUPLE, 2) || !wv_string(&t->of.list.items[0], kv, kl) ||
        !wv_string(&t->of.list.items[1], eq ? eq + 1 : "", eq ? strlen(eq + 1) : 0))
      return wv_oom(c);
  }
  return SHOAL_ERR_OK;
}

static shoal_err_t get_arguments(WASI_ARGS) {
  (void)a; (void)na;
  const shoal_crun_config_t *cfg = WASI_CTX->cfg;
  if (!wv_list(r, cfg->argc)) return wv_oom(c);
  for (size_t i = 0; i < cfg->argc; i++)
    if (!wv_string(&r->of.list.items[i], cfg->argv[i], strlen(cfg->argv[i]))) return wv_oom(c);
  return SHOAL_ERR_OK;
}

/* initial-cwd: none, as wasmtime: the guest's paths are relative to its
** pre-opens, and the host's cwd would tell it nothing it can reach. */
static shoal_err_t none(WASI_ARGS) {
  (void)c; (void)envp; (void)a; (void)na;
  r->kind = SHOAL_CT_OPTION;
  r->of.var.disc = 0;
  return SHOAL_ERR_OK;
}

static shoal_err_t do_exit(WASI_ARGS) {
  (void)envp; (void)r;
  if (na < 1) return shoal_ccall_trap(c, "exit: no status");
  /* exit(result) carries ok/err; exit-with-code(u8) a code */
  int code = a[0].kind == SHOAL_CT_RESULT ? (a[0].of.var.disc ? 1 : 0) : (int)a[0].of.u;
  fflush(stdout);
  return shoal_ccall_exit(c, code);
}

static int stdio_fd(shoal_wasi_ctx_t *w, int i) { return w->cfg->stdio ? w->cfg->stdio[i] : i; }

/* get-stdin/stdout/stderr: a new stream on the fd each time */
static shoal_err_t get_stdio(WASI_ARGS) {
  (void)a; (void)na;
  const char *f = WASI_ENV->func;
  int i = strcmp(f, "get-stdin") == 0 ? 0 : strcmp(f, "get-stdout") == 0 ? 1 : 2;
  int fd = stdio_fd(WASI_CTX, i);
  r->kind = SHOAL_CT_OWN;
  r->of.handle = i == 0 ? wasi_fd_input(WASI_CTX, fd, false, -1) : wasi_fd_output(WASI_CTX, fd, false, -1, false);
  return r->of.handle ? SHOAL_ERR_OK : wv_oom(c);
}

/* get-terminal-*: some(terminal) when the fd is a terminal (as wasmtime;
** node answers some always). */
static const shoal_wasi_ops_t terminal_ops = {0};

static shoal_err_t get_terminal(WASI_ARGS) {
  (void)a; (void)na;
  const char *f = WASI_ENV->func;
  int i = strstr(f, "stdin") ? 0 : strstr(f, "stdout") ? 1 : 2;
  r->kind = SHOAL_CT_OPTION;
  r->of.var.disc = 0;
  if (!isatty(stdio_fd(WASI_CTX, i))) return SHOAL_ERR_OK;
  shoal_cval_t *p = wv_payload(r, SHOAL_CT_OPTION, 1);
  if (!p) return wv_oom(c);
  p->kind = SHOAL_CT_OWN;
  return (p->of.handle = wasi_obj_add(WASI_CTX, WASI_K_TERMINAL, &terminal_ops, NULL)) ? SHOAL_ERR_OK : wv_oom(c);
}

/* [resource-drop]R of every wasi:* resource: its object goes */
static shoal_err_t drop_obj(WASI_ARGS) {
  (void)c; (void)r;
  if (na) wasi_obj_drop(WASI_CTX, a[0].of.handle);
  return SHOAL_ERR_OK;
}

static shoal_err_t not_implemented(WASI_ARGS) {
  (void)a; (void)na; (void)r;
  return shoal_ccall_trap(c, "%s#%s is not implemented by shoal's WASI 0.2 host", WASI_ENV->iface, WASI_ENV->func);
}

static const wasi_fn_t cli_fns[] = {
  {"wasi:cli/environment", "get-environment", get_environment, ""},
  {"wasi:cli/environment", "get-arguments", get_arguments, ""},
  {"wasi:cli/environment", "initial-cwd", none, ""},
  {"wasi:cli/exit", "exit", do_exit, "*"},
  {"wasi:cli/exit", "exit-with-code", do_exit, "*"},
  {"wasi:cli/stdin", "get-stdin", get_stdio, ""},
  {"wasi:cli/stdout", "get-stdout", get_stdio, ""},
  {"wasi:cli/stderr", "get-stderr", get_stdio, ""},
  {"wasi:cli/terminal-stdin", "get-terminal-stdin", get_terminal, ""},
  {"wasi:cli/terminal-stdout", "get-terminal-stdout", get_terminal, ""},
  {"wasi:cli/terminal-stderr", "get-terminal-stderr", get_terminal, ""},
};
/* }================================================================== */

/* {==================================================================
** Linking a component's imports
** =================================================================== */
/* The import table of one component (its names and envs), made once per
** pre-linked component: the context comes with each call. */
typedef struct wasi_host {
  wasi_fn_env_t *envs;
  char *text;              /* every import name, and "iface\0func" copies for messages */
  size_t used;
  shoal_cimport_t *imps;
  size_t n, nx;
} wasi_host_t;

static void wasi_host_free(void *p) {
  wasi_host_t *h = p;
  if (!h) return;
  free(h->text);
  free(h->envs);
  free(h->imps);
  free(h);
}

static bool same(const char *a, size_t al, const char *b, size_t bl) { return al == bl && memcmp(a, b, al) == 0; }

static size_t base_len(const char *name, size_t len) {
  const char *at = memchr(name, '@', len);
  return at ? (size_t)(at - name) : len;
}

/* The extra import for iface#func: exact, or the same interface at any version. */
static const shoal_cimport_t *find_extra(const shoal_cimport_t *x, size_t nx, const char *iface, size_t il,
                                         const char *func, size_t fl) {
  size_t ib = base_len(iface, il);
  for (size_t i = 0; i < nx; i++) {
    const char *n = x[i].name, *hash = strchr(n, '#');
    if (!hash || !same(hash + 1, strlen(hash + 1), func, fl)) continue;
    size_t nl = (size_t)(hash - n);
    if (same(n, nl, iface, il) || same(n, base_len(n, nl), iface, ib)) return &x[i];
  }
  return NULL;
}

/* The host's functions of one interface (found once per imported instance). */
typedef struct cand {
  const char *func;
  size_t fl;
  shoal_chost_fn_t fn;
  const char *sig;
} cand_t;
#define MAX_CANDS 128

/* Every host function with its name lengths, made once. */
typedef struct known {
  const char *iface, *func;
  size_t il, fl;
  shoal_chost_fn_t fn;
  const char *sig;
} known_t;
#define MAX_KNOWN 256
static known_t known[MAX_KNOWN];
static size_t nknown;
static pthread_once_t known_once = PTHREAD_ONCE_INIT;

static void known_init(void) {
  static const wasi_fn_t *(*const lists[])(size_t *) = {wasi_io_fns, wasi_clock_fns, wasi_fs_fns, wasi_net_fns};
  for (size_t l = 0; l <= sizeof lists / sizeof *lists; l++) {
    size_t n = sizeof cli_fns / sizeof *cli_fns;
    const wasi_fn_t *fs = l ? lists[l - 1](&n) : cli_fns;
    for (size_t j = 0; j < n && nknown < MAX_KNOWN; j++)
      known[nknown++] = (known_t){fs[j].iface, fs[j].func, strlen(fs[j].iface), strlen(fs[j].func), fs[j].fn, fs[j].sig};
  }
}

static size_t candidates(const char *iface, size_t ib, cand_t *out) {
  pthread_once(&known_once, known_init);
  size_t k = 0;
  for (size_t j = 0; j < nknown && k < MAX_CANDS; j++)
    if (known[j].il == ib && memcmp(known[j].iface, iface, ib) == 0)
      out[k++] = (cand_t){known[j].func, known[j].fl, known[j].fn, known[j].sig};
  return k;
}

/* Whether type t has the kind sig character k stands for: h own/borrow,
** u an unsigned integer, b bool, s string, L list, e enum, f flags,
** v variant, o option, r record, * anything. */
static bool kind_ok(char k, const cmp_type_t *t) {
  switch (k) {
  case 'h': return t->kind == SHOAL_CT_OWN || t->kind == SHOAL_CT_BORROW;
  case 'u': return t->kind == SHOAL_CT_U8 || t->kind == SHOAL_CT_U16 || t->kind == SHOAL_CT_U32 || t->kind == SHOAL_CT_U64;
  case 'b': return t->kind == SHOAL_CT_BOOL;
  case 's': return t->kind == SHOAL_CT_STRING;
  case 'L': return t->kind == SHOAL_CT_LIST;
  case 'e': return t->kind == SHOAL_CT_ENUM;
  case 'f': return t->kind == SHOAL_CT_FLAGS;
  case 'v': return t->kind == SHOAL_CT_VARIANT;
  case 'o': return t->kind == SHOAL_CT_OPTION;
  case 'r': return t->kind == SHOAL_CT_RECORD;
  default: return k == '*';
  }
}

static bool is_enum(const cmp_type_t *t) { return t && t->kind == SHOAL_CT_ENUM; }

static bool record_enum_first(const cmp_type_t *t) {
  return t && t->kind == SHOAL_CT_RECORD && t->n >= 1 && is_enum(t->fields[0].type);
}

/* Whether function type ft fits sig (see wasi_fn_t). After '>': E a result
** whose error is an enum; T the same with an enum ok; S a record whose
** first field is an enum as ok; D an option of such a record as ok; P a
** bool or integer ok; O an option of an enum. */
static bool sig_ok(const char *sig, const cmp_type_t *ft) {
  if (!ft || ft->kind != SHOAL_CT_FUNC) return false;
  if (sig[0] == '*' && !sig[1]) return true;
  uint32_t i = 0;
  for (; *sig && *sig != '>'; sig++, i++)
    if (i >= ft->n || !kind_ok(*sig, ft->fields[i].type)) return false;
  if (i != ft->n) return false;
  if (*sig != '>') return true;
  const cmp_type_t *r = ft->result;
  if (sig[1] == 'O') return r && r->kind == SHOAL_CT_OPTION && is_enum(r->elem);
  if (!r || r->kind != SHOAL_CT_RESULT || !is_enum(r->err)) return false;
  switch (sig[1]) {
  case 'T': return is_enum(r->elem);
  case 'S': return record_enum_first(r->elem);
  case 'D': return r->elem && r->elem->kind == SHOAL_CT_OPTION && record_enum_first(r->elem->elem);
  case 'P': return r->elem && (r->elem->kind == SHOAL_CT_BOOL || kind_ok('u', r->elem));
  default: return true;
  }
}

static shoal_err_t bad_type(WASI_ARGS) {
  (void)a; (void)na; (void)r;
  return shoal_ccall_trap(c, "%s#%s: the component imports it with a type shoal's WASI 0.2 host does not have",
                          WASI_ENV->iface, WASI_ENV->func);
}

/* Adds the import iface#func: from extra, else (for wasi:*) the host's own. */
static void link_one(wasi_host_t *h, const cmp_extern_t *x, bool wasi, const cand_t *cands, size_t nc, const char *func,
                     size_t fl, const cmp_type_t *ft, bool resource, const shoal_cimport_t *extra, size_t nextra) {
  const shoal_cimport_t *e = find_extra(extra, nextra, x->name, x->name_len, func, fl);
  if (!e && !wasi) return;
  size_t n = h->n++, il = x->name_len;
  char *name = h->text + h->used, *copy = name + il + fl + 2;
  memcpy(name, x->name, il);
  name[il] = '#';
  memcpy(name + il + 1, func, fl);
  name[il + 1 + fl] = 0;
  memcpy(copy, name, il + fl + 2);
  copy[il] = 0;  /* "iface\0func" for messages */
  h->used += 2 * (il + fl + 2);
  h->envs[n] = (wasi_fn_env_t){ft, copy, copy + il + 1};
  if (e) {
    h->imps[n] = (shoal_cimport_t){name, e->fn, e->env};
    return;
  }
  shoal_chost_fn_t fn = resource ? drop_obj : not_implemented;
  for (size_t i = 0; i < nc; i++)
    if (same(cands[i].func, cands[i].fl, func, fl)) fn = resource || sig_ok(cands[i].sig, ft) ? cands[i].fn : bad_type;
  h->imps[n] = (shoal_cimport_t){name, fn, &h->envs[n]};
}

#define DROP "[resource-drop]"

static shoal_err_t wasi_host_new(const shoal_component_t *c, const shoal_cimport_t *extra, size_t nextra,
                                 wasi_host_t **out, shoal_diag_t *diag) {
  const cmp_scope_t *r = c->root;
  wasi_host_t *h = calloc(1, sizeof *h);
  if (!h) return cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  size_t cap = nextra, text = 1;
  for (uint32_t i = 0; i < r->nimports; i++) {
    const cmp_extern_t *x = &r->imports[i];
    if (x->sort != CMP_SORT_INSTANCE) continue;
    cap += x->type->nexports;
    for (uint32_t k = 0; k < x->type->nexports; k++)
      text += 2 * (x->name_len + x->type->exports[k].name_len + sizeof DROP + 2);
  }
  h->imps = calloc(cap + 1, sizeof *h->imps);
  h->envs = calloc(cap + 1, sizeof *h->envs);
  h->text = malloc(text);
  if (!h->imps || !h->envs || !h->text) goto oom;
  cand_t cands[MAX_CANDS];
  for (uint32_t i = 0; i < r->nimports; i++) {
    const cmp_extern_t *x = &r->imports[i];
    if (x->sort != CMP_SORT_INSTANCE) continue;
    /* wasi:*@0.2.x by semver: any 0.2 minor version is this host's */
    size_t base = base_len(x->name, x->name_len), vl = x->name_len - base;
    bool wasi = x->name_len > 5 && memcmp(x->name, "wasi:", 5) == 0 &&
                (vl == 0 || (vl > 5 && memcmp(x->name + base, "@0.2.", 5) == 0));
    size_t nc = wasi ? candidates(x->name, base, cands) : 0;
    for (uint32_t k = 0; k < x->type->nexports; k++) {
      const cmp_extern_t *f = &x->type->exports[k];
      if (f->sort == CMP_SORT_FUNC) {
        link_one(h, x, wasi, cands, nc, f->name, f->name_len, f->type, false, extra, nextra);
      } else if (f->sort == CMP_SORT_TYPE && f->type->kind == SHOAL_CT_RESOURCE) {
        char drop[256];
        int dl = snprintf(drop, sizeof drop, DROP "%.*s", (int)f->name_len, f->name);
        if (dl > 0 && (size_t)dl < sizeof drop) link_one(h, x, wasi, cands, nc, drop, (size_t)dl, NULL, true, extra, nextra);
      }
    }
  }
  /* the extras as given, after: top-level functions, exact names */
  for (size_t i = 0; i < nextra; i++) h->imps[h->n + i] = extra[i];
  h->nx = nextra;
  *out = h;
  return SHOAL_ERR_OK;
oom:
  wasi_host_free(h);
  return cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
}

shoal_err_t shoal_cpre_new_wasi(const shoal_component_t *c, const shoal_cimport_t *extra, size_t nextra,
                                shoal_cpre_t **out, shoal_diag_t *diag) {
  *out = NULL;
  if (diag) shoal_diag_clear(diag);
  wasi_host_t *h = NULL;
  shoal_err_t e = wasi_host_new(c, extra, nextra, &h, diag);
  if (!e) e = shoal_cpre_new(c, h->imps, h->n + h->nx, out, diag);
  if (e) {
    wasi_host_free(h);
    return e;
  }
  (*out)->cleanup = wasi_host_free;  /* the envs and names the pre's functions point into */
  (*out)->cleanup_data = h;
  return SHOAL_ERR_OK;
}

/* A one-off instance: its pre (and maybe its context) go with it. */
static shoal_err_t instantiate(shoal_store_t *s, const shoal_component_t *c, shoal_wasi_ctx_t *w, bool own_ctx,
                               const shoal_cimport_t *extra, size_t nextra, shoal_cinstance_t **out,
                               shoal_diag_t *diag) {
  *out = NULL;
  shoal_cpre_t *p = NULL;
  shoal_err_t e = shoal_cpre_new_wasi(c, extra, nextra, &p, diag);
  if (!e && (e = shoal_cpre_instantiate(p, s, w, out, diag))) shoal_cpre_free(p);
  if (e) {
    if (own_ctx) shoal_wasi_ctx_free(w);
    return e;
  }
  (*out)->own_pre = p;
  (*out)->own_wasi = own_ctx;
  return SHOAL_ERR_OK;
}

shoal_err_t shoal_cinstance_new_wasi_ctx(shoal_store_t *s, const shoal_component_t *c, shoal_wasi_ctx_t *w,
                                         const shoal_cimport_t *extra, size_t nextra, shoal_cinstance_t **out,
                                         shoal_diag_t *diag) {
  if (diag) shoal_diag_clear(diag);
  return instantiate(s, c, w, false, extra, nextra, out, diag);
}

shoal_err_t shoal_cinstance_new_wasi(shoal_store_t *s, const shoal_component_t *c, const shoal_crun_config_t *cfg,
                                     shoal_cinstance_t **out, shoal_diag_t *diag) {
  *out = NULL;
  if (diag) shoal_diag_clear(diag);
  shoal_wasi_ctx_t *w;
  shoal_err_t e = shoal_wasi_ctx_new(cfg, &w, diag);
  if (e) return e;
  return instantiate(s, c, w, true, NULL, 0, out, diag);
}
/* }================================================================== */

shoal_err_t shoal_component_run(shoal_store_t *s, const shoal_component_t *c, const shoal_crun_config_t *cfg,
                                int *exit_code, shoal_diag_t *diag) {
  if (diag) shoal_diag_clear(diag);
  *exit_code = 1;
  const cmp_scope_t *r = c->root;
  shoal_cinstance_t *inst = NULL;
  shoal_err_t e = shoal_cinstance_new_wasi(s, c, cfg, &inst, diag);
  if (e) return e;
  /* the run export: wasi:cli/run@VERSION#run */
  shoal_cfunc_t *run = NULL;
  for (uint32_t i = 0; i < r->nexports && !run; i++) {
    const cmp_extern_t *x = &r->exports[i];
    if (x->sort != CMP_SORT_INSTANCE || x->name_len < 13 || memcmp(x->name, "wasi:cli/run@", 13) != 0) continue;
    char name[128];
    snprintf(name, sizeof name, "%.*s#run", (int)x->name_len, x->name);
    run = shoal_cinstance_func(inst, name);
  }
  if (!run) {
    shoal_cinstance_free(inst);
    return cmp_fail(diag, SHOAL_ERR_NOT_FOUND, -1, "the component exports no wasi:cli/run");
  }
  shoal_cval_t res;
  memset(&res, 0, sizeof res);
  e = shoal_cfunc_call(s, run, NULL, 0, &res, diag);
  fflush(stdout);
  if (e == SHOAL_ERR_OK) {
    *exit_code = res.kind == SHOAL_CT_RESULT && res.of.var.disc ? 1 : 0;
    shoal_cval_free(&res);
  } else if (e == SHOAL_ERR_EXIT) {
    *exit_code = diag ? diag->exit_code : 1;
  }
  shoal_cinstance_free(inst);
  return e;
}
