/*
** A minimal WASI 0.2 host for command components (wasi:cli/run): what the
** preview 1 adapter imports to run a C program without files: arguments,
** environment, stdin/stdout/stderr streams, clocks, exit. Every other
** wasi:* function is linked to a stub that traps when called.
*/
#include "cmp_inst.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct wasi_cli {
  const shoal_crun_config_t *cfg;
} wasi_cli_t;

/* Each host function gets its own env: the WASI state and its type. */
typedef struct fn_env {
  wasi_cli_t *w;
  const cmp_type_t *type;
  const char *iface, *func;
} fn_env_t;

static shoal_err_t set_string(shoal_cval_t *v, const char *s, size_t n) {
  v->kind = SHOAL_CT_STRING;
  v->of.str.ptr = malloc(n + 1);
  if (!v->of.str.ptr) return SHOAL_ERR_NOMEM;
  memcpy(v->of.str.ptr, s, n);
  v->of.str.ptr[n] = 0;
  v->of.str.len = n;
  return SHOAL_ERR_OK;
}

static shoal_cval_t *new_payload(shoal_cval_t *v, shoal_ctype_kind_t kind, uint32_t disc) {
  v->kind = kind;
  v->of.var.disc = disc;
  v->of.var.payload = calloc(1, sizeof *v->of.var.payload);
  return v->of.var.payload;
}

/* ok(()) or ok(u64) results of stream functions */
static shoal_err_t ok_result(const fn_env_t *e, shoal_cval_t *r, uint64_t n) {
  if (!e->type->result || !e->type->result->elem) { r->kind = SHOAL_CT_RESULT; return SHOAL_ERR_OK; }
  shoal_cval_t *p = new_payload(r, SHOAL_CT_RESULT, 0);
  if (!p) return SHOAL_ERR_NOMEM;
  p->kind = e->type->result->elem->kind;
  p->of.u = n;
  return SHOAL_ERR_OK;
}

static shoal_err_t get_environment(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t n, shoal_cval_t *r) {
  (void)a; (void)n;
  const shoal_crun_config_t *cfg = ((fn_env_t *)envp)->w->cfg;
  r->kind = SHOAL_CT_LIST;
  r->of.list.items = calloc(cfg->nenv + 1, sizeof *r->of.list.items);
  if (!r->of.list.items) return shoal_ccall_trap(c, "out of host memory");
  for (size_t i = 0; i < cfg->nenv; i++) {
    const char *kv = cfg->env[i], *eq = strchr(kv, '=');
    size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
    shoal_cval_t *t = &r->of.list.items[i];
    t->kind = SHOAL_CT_TUPLE;
    t->of.list.items = calloc(2, sizeof *t->of.list.items);
    r->of.list.n = i + 1;
    if (!t->of.list.items) return shoal_ccall_trap(c, "out of host memory");
    t->of.list.n = 2;
    if (set_string(&t->of.list.items[0], kv, kl) || set_string(&t->of.list.items[1], eq ? eq + 1 : "", eq ? strlen(eq + 1) : 0))
      return shoal_ccall_trap(c, "out of host memory");
  }
  return SHOAL_ERR_OK;
}

static shoal_err_t get_arguments(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t n, shoal_cval_t *r) {
  (void)a; (void)n;
  const shoal_crun_config_t *cfg = ((fn_env_t *)envp)->w->cfg;
  r->kind = SHOAL_CT_LIST;
  r->of.list.items = calloc(cfg->argc + 1, sizeof *r->of.list.items);
  if (!r->of.list.items) return shoal_ccall_trap(c, "out of host memory");
  for (size_t i = 0; i < cfg->argc; i++) {
    r->of.list.n = i + 1;
    if (set_string(&r->of.list.items[i], cfg->argv[i], strlen(cfg->argv[i]))) return shoal_ccall_trap(c, "out of host memory");
  }
  return SHOAL_ERR_OK;
}

static shoal_err_t none(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t n, shoal_cval_t *r) {
  (void)c; (void)envp; (void)a; (void)n;
  r->kind = SHOAL_CT_OPTION;  /* option<...>: none */
  return SHOAL_ERR_OK;
}

static shoal_err_t empty_list(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t n, shoal_cval_t *r) {
  (void)c; (void)envp; (void)a; (void)n;
  r->kind = SHOAL_CT_LIST;
  return SHOAL_ERR_OK;
}

static shoal_err_t do_exit(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t n, shoal_cval_t *r) {
  (void)envp; (void)r;
  if (n < 1) return shoal_ccall_trap(c, "exit: no status");
  /* exit(result) carries ok/err; exit-with-code(u8) a code */
  int code = a[0].kind == SHOAL_CT_RESULT ? (a[0].of.var.disc ? 1 : 0) : (int)a[0].of.u;
  fflush(stdout);
  return shoal_ccall_exit(c, code);
}

/* get-stdin/stdout/stderr: a handle whose representation is the fd */
static shoal_err_t get_stdio(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t n, shoal_cval_t *r) {
  (void)c; (void)a; (void)n;
  const char *f = ((fn_env_t *)envp)->func;
  r->kind = SHOAL_CT_OWN;
  r->of.handle = strcmp(f, "get-stdin") == 0 ? 0 : strcmp(f, "get-stdout") == 0 ? 1 : 2;
  return SHOAL_ERR_OK;
}

static shoal_err_t check_write(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t n, shoal_cval_t *r) {
  (void)c; (void)a; (void)n;
  return ok_result(envp, r, 65536);
}

static shoal_err_t stream_write(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t n, shoal_cval_t *r) {
  if (n < 2 || a[1].kind != SHOAL_CT_LIST) return shoal_ccall_trap(c, "write: bad arguments");
  FILE *f = a[0].of.handle == 2 ? stderr : stdout;
  for (size_t i = 0; i < a[1].of.list.n; i++) fputc((int)a[1].of.list.items[i].of.u, f);
  if (strstr(((fn_env_t *)envp)->func, "flush")) fflush(f);
  return ok_result(envp, r, 0);
}

static shoal_err_t stream_flush(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t n, shoal_cval_t *r) {
  (void)c;
  fflush(n && a[0].of.handle == 2 ? stderr : stdout);
  return ok_result(envp, r, 0);
}

static shoal_err_t stream_read(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t n, shoal_cval_t *r) {
  if (n < 2) return shoal_ccall_trap(c, "read: bad arguments");
  uint64_t want = a[1].of.u > 65536 ? 65536 : a[1].of.u;
  uint8_t buf[65536];
  ssize_t got = want ? read(0, buf, (size_t)want) : 0;
  if (got <= 0 && want) {  /* err(closed): stream-error's second case */
    r->kind = SHOAL_CT_RESULT;
    r->of.var.disc = 1;
    const cmp_type_t *se = ((fn_env_t *)envp)->type->result->err;
    if (!se || se->kind != SHOAL_CT_VARIANT || se->n < 2) return shoal_ccall_trap(c, "read: unexpected stream-error type");
    shoal_cval_t *p = calloc(1, sizeof *p);
    if (!p) return shoal_ccall_trap(c, "out of host memory");
    p->kind = SHOAL_CT_VARIANT;
    p->of.var.disc = 1;
    r->of.var.payload = p;
    return SHOAL_ERR_OK;
  }
  shoal_cval_t *p = new_payload(r, SHOAL_CT_RESULT, 0);
  if (!p) return shoal_ccall_trap(c, "out of host memory");
  p->kind = SHOAL_CT_LIST;
  p->of.list.items = calloc((size_t)got + 1, sizeof *p->of.list.items);
  if (!p->of.list.items) return shoal_ccall_trap(c, "out of host memory");
  for (ssize_t i = 0; i < got; i++) {
    p->of.list.items[i].kind = SHOAL_CT_U8;
    p->of.list.items[i].of.u = buf[i];
  }
  p->of.list.n = (size_t)got;
  return SHOAL_ERR_OK;
}

/* wall-clock now/resolution: record datetime { seconds: u64, nanoseconds: u32 } */
static shoal_err_t wall_clock(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t n, shoal_cval_t *r) {
  (void)a; (void)n;
  struct timespec ts = {1, 0};
  if (strcmp(((fn_env_t *)envp)->func, "now") == 0) clock_gettime(CLOCK_REALTIME, &ts);
  else ts = (struct timespec){0, 1};
  r->kind = SHOAL_CT_RECORD;
  r->of.list.items = calloc(2, sizeof *r->of.list.items);
  if (!r->of.list.items) return shoal_ccall_trap(c, "out of host memory");
  r->of.list.n = 2;
  r->of.list.items[0] = (shoal_cval_t){.kind = SHOAL_CT_U64, .of.u = (uint64_t)ts.tv_sec};
  r->of.list.items[1] = (shoal_cval_t){.kind = SHOAL_CT_U32, .of.u = (uint64_t)ts.tv_nsec};
  return SHOAL_ERR_OK;
}

static shoal_err_t monotonic_clock(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t n, shoal_cval_t *r) {
  (void)c; (void)a; (void)n;
  struct timespec ts = {0, 1};
  if (strcmp(((fn_env_t *)envp)->func, "now") == 0) clock_gettime(CLOCK_MONOTONIC, &ts);
  r->kind = SHOAL_CT_U64;
  r->of.u = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
  return SHOAL_ERR_OK;
}

static shoal_err_t debug_string(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t n, shoal_cval_t *r) {
  (void)envp; (void)a; (void)n;
  return set_string(r, "error", 5) ? shoal_ccall_trap(c, "out of host memory") : SHOAL_ERR_OK;
}

static shoal_err_t not_implemented(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t n, shoal_cval_t *r) {
  (void)a; (void)n; (void)r;
  const fn_env_t *e = envp;
  return shoal_ccall_trap(c, "%s#%s is not implemented by shoal's WASI 0.2 host", e->iface, e->func);
}

typedef struct wasi_fn {
  const char *iface, *func;
  shoal_chost_fn_t fn;
} wasi_fn_t;

static const wasi_fn_t wasi_fns[] = {
  {"wasi:cli/environment", "get-environment", get_environment},
  {"wasi:cli/environment", "get-arguments", get_arguments},
  {"wasi:cli/environment", "initial-cwd", none},
  {"wasi:cli/exit", "exit", do_exit},
  {"wasi:cli/exit", "exit-with-code", do_exit},
  {"wasi:cli/stdin", "get-stdin", get_stdio},
  {"wasi:cli/stdout", "get-stdout", get_stdio},
  {"wasi:cli/stderr", "get-stderr", get_stdio},
  {"wasi:cli/terminal-stdin", "get-terminal-stdin", none},
  {"wasi:cli/terminal-stdout", "get-terminal-stdout", none},
  {"wasi:cli/terminal-stderr", "get-terminal-stderr", none},
  {"wasi:io/streams", "[method]output-stream.check-write", check_write},
  {"wasi:io/streams", "[method]output-stream.write", stream_write},
  {"wasi:io/streams", "[method]output-stream.blocking-write-and-flush", stream_write},
  {"wasi:io/streams", "[method]output-stream.flush", stream_flush},
  {"wasi:io/streams", "[method]output-stream.blocking-flush", stream_flush},
  {"wasi:io/streams", "[method]input-stream.read", stream_read},
  {"wasi:io/streams", "[method]input-stream.blocking-read", stream_read},
  {"wasi:io/error", "[method]error.to-debug-string", debug_string},
  {"wasi:clocks/wall-clock", "now", wall_clock},
  {"wasi:clocks/wall-clock", "resolution", wall_clock},
  {"wasi:clocks/monotonic-clock", "now", monotonic_clock},
  {"wasi:clocks/monotonic-clock", "resolution", monotonic_clock},
  {"wasi:filesystem/preopens", "get-directories", empty_list},
  {"wasi:filesystem/types", "filesystem-error-code", none},
};

/* The host functions of one instance: freed with it. */
typedef struct wasi_host {
  wasi_cli_t w;
  fn_env_t *envs;
  char **names;
  shoal_cimport_t *imps;
  size_t n;
} wasi_host_t;

static void wasi_host_free(void *p) {
  wasi_host_t *h = p;
  if (!h) return;
  for (size_t i = 0; i < h->n; i++) {
    free(h->names[i]);
    free((char *)h->envs[i].iface);
  }
  free(h->names);
  free(h->envs);
  free(h->imps);
  free(h);
}

/* Links every function of every wasi:* instance import: implemented ones
** to their host function, the others to not_implemented. */
static shoal_err_t wasi_host_new(const shoal_component_t *c, const shoal_crun_config_t *cfg, wasi_host_t **out,
                                 shoal_diag_t *diag) {
  const cmp_scope_t *r = c->root;
  wasi_host_t *h = calloc(1, sizeof *h);
  if (!h) return cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  h->w.cfg = cfg;
  size_t cap = 0;
  for (uint32_t i = 0; i < r->nimports; i++)
    if (r->imports[i].sort == CMP_SORT_INSTANCE) cap += r->imports[i].type->nexports;
  h->imps = calloc(cap + 1, sizeof *h->imps);
  h->envs = calloc(cap + 1, sizeof *h->envs);
  h->names = calloc(cap + 1, sizeof *h->names);
  if (!h->imps || !h->envs || !h->names) goto oom;
  for (uint32_t i = 0; i < r->nimports; i++) {
    const cmp_extern_t *x = &r->imports[i];
    if (x->sort != CMP_SORT_INSTANCE || x->name_len < 5 || memcmp(x->name, "wasi:", 5) != 0) continue;
    const char *at = memchr(x->name, '@', x->name_len);
    size_t base = at ? (size_t)(at - x->name) : x->name_len;
    for (uint32_t k = 0; k < x->type->nexports; k++) {
      const cmp_extern_t *f = &x->type->exports[k];
      if (f->sort != CMP_SORT_FUNC) continue;
      size_t len = x->name_len + 1 + f->name_len, n = h->n;
      if (!(h->names[n] = malloc(len + 1))) goto oom;
      snprintf(h->names[n], len + 1, "%.*s#%.*s", (int)x->name_len, x->name, (int)f->name_len, f->name);
      char *copy = strdup(h->names[n]);
      h->n++;
      if (!copy) goto oom;
      copy[x->name_len] = 0;  /* "iface\0func" for messages */
      h->envs[n] = (fn_env_t){&h->w, f->type, copy, copy + x->name_len + 1};
      h->imps[n] = (shoal_cimport_t){h->names[n], not_implemented, &h->envs[n]};
      for (size_t j = 0; j < sizeof wasi_fns / sizeof *wasi_fns; j++)
        if (strlen(wasi_fns[j].iface) == base && memcmp(wasi_fns[j].iface, x->name, base) == 0 &&
            strlen(wasi_fns[j].func) == f->name_len && memcmp(wasi_fns[j].func, f->name, f->name_len) == 0)
          h->imps[n].fn = wasi_fns[j].fn;
    }
  }
  *out = h;
  return SHOAL_ERR_OK;
oom:
  wasi_host_free(h);
  return cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
}

shoal_err_t shoal_cinstance_new_wasi(shoal_store_t *s, const shoal_component_t *c, const shoal_crun_config_t *cfg,
                                     shoal_cinstance_t **out, shoal_diag_t *diag) {
  *out = NULL;
  wasi_host_t *h = NULL;
  shoal_err_t e = wasi_host_new(c, cfg, &h, diag);
  if (e) return e;
  if ((e = shoal_cinstance_new(s, c, h->imps, h->n, out, diag))) {
    wasi_host_free(h);
    return e;
  }
  (*out)->cleanup = wasi_host_free;
  (*out)->cleanup_data = h;
  return SHOAL_ERR_OK;
}

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
