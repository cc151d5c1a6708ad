/*
** cmd_component.c: `shoal inspect`, `shoal call` and `shoal run` on
** components (binary layer 1), built on include/shoal/component.h.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "shoal/component.h"

int cli_component_inspect(int argc, char **argv);
int cli_component_call(int argc, char **argv);
int cli_component_run(int argc, char **argv);

static bool load(const char *path, shoal_component_t **out) {
  uint8_t *bytes;
  size_t len;
  char err[256];
  if (!cli_read_file(path, &bytes, &len, err, sizeof err)) {
    fprintf(stderr, "shoal: %s\n", err);
    return false;
  }
  shoal_diag_t d;
  shoal_diag_clear(&d);
  shoal_err_t e = shoal_component_new(bytes, len, out, &d);
  free(bytes);
  if (e != SHOAL_ERR_OK) {
    fprintf(stderr, "shoal: %s: %s", path, cli_diag_message(&d, e));
    if (d.offset >= 0) fprintf(stderr, " (at offset 0x%llx)", (unsigned long long)d.offset);
    fprintf(stderr, "\n");
    return false;
  }
  return true;
}

/* shoal inspect COMPONENT.wasm: the world as WIT. */
int cli_component_inspect(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "shoal: inspect: expected exactly one FILE.wasm\n");
    return CLI_EXIT_USAGE;
  }
  shoal_component_t *c;
  if (!load(argv[1], &c)) return CLI_EXIT_ERROR;
  char *wit;
  size_t n;
  shoal_err_t e = shoal_component_wit(c, &wit, &n);
  shoal_component_free(c);
  if (e != SHOAL_ERR_OK) {
    fprintf(stderr, "shoal: inspect: %s\n", shoal_err_message(e));
    return CLI_EXIT_ERROR;
  }
  fwrite(wit, 1, n, stdout);
  free(wit);
  return CLI_EXIT_OK;
}

/* {==================================================================
** Resource handles in `shoal call`: the host holds a handle as its
** representation; the command line names each handle a result carries
** `$1`, `$2`, ... in order, and an argument `$N` passes that handle back.
** =================================================================== */
typedef struct handle_names {
  struct { uint32_t rep; const shoal_ctype_t *t; bool gone; } *v;  /* v[N-1]: $N; gone: dropped or moved */
  uint32_t n, cap;
} handle_names_t;

/* Renames every handle in v (of type t) from its rep to a new $N. */
static bool name_handles(handle_names_t *hn, const shoal_ctype_t *t, shoal_cval_t *v) {
  if (!t) return true;
  switch (shoal_ctype_kind(t)) {
  case SHOAL_CT_OWN: case SHOAL_CT_BORROW:
    if (hn->n == hn->cap) {
      uint32_t cap = hn->cap ? hn->cap * 2 : 8;
      void *p = realloc(hn->v, cap * sizeof *hn->v);
      if (!p) return false;
      hn->v = p;
      hn->cap = cap;
    }
    hn->v[hn->n].rep = v->of.handle;
    hn->v[hn->n].t = t;
    hn->v[hn->n].gone = false;
    v->of.handle = ++hn->n;
    return true;
  case SHOAL_CT_LIST:
    for (size_t i = 0; i < v->of.list.n; i++)
      if (!name_handles(hn, shoal_ctype_elem(t), &v->of.list.items[i])) return false;
    return true;
  case SHOAL_CT_RECORD: case SHOAL_CT_TUPLE:
    for (size_t i = 0; i < v->of.list.n; i++)
      if (!name_handles(hn, shoal_ctype_item(t, (uint32_t)i, NULL, NULL), &v->of.list.items[i])) return false;
    return true;
  case SHOAL_CT_VARIANT:
    return !v->of.var.payload || name_handles(hn, shoal_ctype_item(t, v->of.var.disc, NULL, NULL), v->of.var.payload);
  case SHOAL_CT_OPTION:
    return !v->of.var.payload || name_handles(hn, shoal_ctype_elem(t), v->of.var.payload);
  case SHOAL_CT_RESULT:
    return !v->of.var.payload ||
           name_handles(hn, v->of.var.disc ? shoal_ctype_err(t) : shoal_ctype_elem(t), v->of.var.payload);
  default: return true;
  }
}

/* Replaces each $N in v (of type t) by the rep it names. */
static bool resolve_handles(handle_names_t *hn, const shoal_ctype_t *t, shoal_cval_t *v) {
  if (!t) return true;
  switch (shoal_ctype_kind(t)) {
  case SHOAL_CT_OWN: case SHOAL_CT_BORROW:
    if (v->of.handle == 0 || v->of.handle > hn->n) {
      fprintf(stderr, "shoal: call: $%u names no resource handle (%u so far)\n", v->of.handle, hn->n);
      return false;
    }
    if (hn->v[v->of.handle - 1].gone) {
      fprintf(stderr, "shoal: call: $%u was dropped or passed as an own handle before\n", v->of.handle);
      return false;
    }
    /* an own handle moves into the callee: the command line holds it no more */
    if (shoal_ctype_kind(t) == SHOAL_CT_OWN) hn->v[v->of.handle - 1].gone = true;
    v->of.handle = hn->v[v->of.handle - 1].rep;
    return true;
  case SHOAL_CT_LIST:
    for (size_t i = 0; i < v->of.list.n; i++)
      if (!resolve_handles(hn, shoal_ctype_elem(t), &v->of.list.items[i])) return false;
    return true;
  case SHOAL_CT_RECORD: case SHOAL_CT_TUPLE:
    for (size_t i = 0; i < v->of.list.n; i++)
      if (!resolve_handles(hn, shoal_ctype_item(t, (uint32_t)i, NULL, NULL), &v->of.list.items[i])) return false;
    return true;
  case SHOAL_CT_VARIANT:
    return !v->of.var.payload || resolve_handles(hn, shoal_ctype_item(t, v->of.var.disc, NULL, NULL), v->of.var.payload);
  case SHOAL_CT_OPTION:
    return !v->of.var.payload || resolve_handles(hn, shoal_ctype_elem(t), v->of.var.payload);
  case SHOAL_CT_RESULT:
    return !v->of.var.payload ||
           resolve_handles(hn, v->of.var.disc ? shoal_ctype_err(t) : shoal_ctype_elem(t), v->of.var.payload);
  default: return true;
  }
}
/* }================================================================== */

/* The instances of `--link PROVIDER.wasm` options, in order: each one's
** imports may come from the ones before it. */
typedef struct linked {
  shoal_component_t *comps[16];
  shoal_cinstance_t *insts[16];
  size_t n;
  shoal_clink_t *link;
  shoal_wasi_ctx_t *ctxs[17];  /* of the providers and the component using them */
  size_t nctxs;
} linked_t;

/* After the instance of the component using the providers is freed. */
static void linked_free(linked_t *lk) {
  shoal_clink_free(lk->link);
  for (size_t i = lk->n; i-- > 0;) {
    shoal_cinstance_free(lk->insts[i]);
    shoal_component_free(lk->comps[i]);
  }
  for (size_t i = 0; i < lk->nctxs; i++) shoal_wasi_ctx_free(lk->ctxs[i]);
}

/* Instantiates c: imports the linked providers export come from them,
** wasi:* imports from the WASI 0.2 host (cfg). */
static shoal_err_t instantiate(shoal_store_t *s, linked_t *lk, const shoal_component_t *c,
                               const shoal_crun_config_t *cfg, shoal_cinstance_t **out, shoal_diag_t *d) {
  const shoal_cimport_t *imps = NULL;
  size_t n = 0;
  if (lk->link) {
    shoal_err_t e = shoal_clink_imports(lk->link, c, &imps, &n, d);
    if (e) return e;
  }
  if (!lk->link) return shoal_cinstance_new_wasi(s, c, cfg, out, d);
  shoal_wasi_ctx_t *w;
  shoal_err_t e = shoal_wasi_ctx_new(cfg, &w, d);
  if (e) return e;
  lk->ctxs[lk->nctxs++] = w;
  return shoal_cinstance_new_wasi_ctx(s, c, w, imps, n, out, d);
}

/* Loads and instantiates each provider of argv[*i...] `--link FILE` pairs. */
static int link_options(int argc, char **argv, int *i, shoal_store_t *s, const shoal_crun_config_t *cfg,
                        linked_t *lk) {
  for (; *i + 1 < argc && strcmp(argv[*i], "--link") == 0; *i += 2) {
    const char *path = argv[*i + 1];
    if (lk->n == sizeof lk->comps / sizeof lk->comps[0]) {
      fprintf(stderr, "shoal: too many --link options\n");
      return CLI_EXIT_USAGE;
    }
    if (!lk->link && shoal_clink_new(&lk->link) != SHOAL_ERR_OK) return CLI_EXIT_ERROR;
    if (!load(path, &lk->comps[lk->n])) return CLI_EXIT_ERROR;
    shoal_diag_t d;
    shoal_diag_clear(&d);
    lk->n++;
    shoal_err_t e = instantiate(s, lk, lk->comps[lk->n - 1], cfg, &lk->insts[lk->n - 1], &d);
    if (e != SHOAL_ERR_OK) {
      fprintf(stderr, "shoal: instantiating %s: %s\n", path, cli_diag_message(&d, e));
      return shoal_err_is_trap(e) ? CLI_EXIT_TRAP : CLI_EXIT_ERROR;
    }
    if (shoal_clink_add(lk->link, lk->insts[lk->n - 1]) != SHOAL_ERR_OK) return CLI_EXIT_ERROR;
  }
  return CLI_EXIT_OK;
}

/* One call of `shoal call`: "name(args)" or "[resource-drop]R($N)". */
static int call_one(shoal_store_t *s, shoal_cinstance_t *inst, handle_names_t *hn, const char *text) {
  const char *name;
  size_t name_len;
  if (shoal_wave_parse_call(text, strlen(text), &name, &name_len) != SHOAL_ERR_OK) {
    fprintf(stderr, "shoal: call: expected 'name(arg, ...)', got '%s'\n", text);
    return CLI_EXIT_USAGE;
  }
  shoal_diag_t d;
  shoal_diag_clear(&d);
  static const char drop[] = "[resource-drop]";
  if (name_len > sizeof drop - 1 && memcmp(name, drop, sizeof drop - 1) == 0) {
    unsigned k;
    char close;
    if (sscanf(name + name_len, " ( $%u %c", &k, &close) != 2 || close != ')' || k == 0 || k > hn->n) {
      fprintf(stderr, "shoal: call: expected '%.*s($N)' with a handle of an earlier result\n", (int)name_len, name);
      return CLI_EXIT_USAGE;
    }
    shoal_cval_t v = {.kind = SHOAL_CT_OWN};
    if (hn->v[k - 1].gone) {
      fprintf(stderr, "shoal: call: $%u was dropped or passed as an own handle before\n", k);
      return CLI_EXIT_USAGE;
    }
    hn->v[k - 1].gone = true;
    v.of.handle = hn->v[k - 1].rep;
    shoal_err_t e = shoal_cinstance_drop(s, inst, hn->v[k - 1].t, &v, &d);
    if (e != SHOAL_ERR_OK) {
      fprintf(stderr, "shoal: call: %s: %s\n", text, cli_diag_message(&d, e));
      return shoal_err_is_trap(e) ? CLI_EXIT_TRAP : CLI_EXIT_ERROR;
    }
    printf("()\n");
    return CLI_EXIT_OK;
  }
  char *fname = strndup(name, name_len);
  if (!fname) return CLI_EXIT_ERROR;
  shoal_cfunc_t *f = shoal_cinstance_func(inst, fname);
  if (!f) {
    fprintf(stderr, "shoal: call: no exported function '%s' (or the name is ambiguous)\n", fname);
    free(fname);
    return CLI_EXIT_ERROR;
  }
  int rc = CLI_EXIT_ERROR;
  const shoal_ctype_t *ft = shoal_cfunc_type(f);
  uint32_t nargs = shoal_ctype_count(ft);
  shoal_cval_t *args = calloc(nargs ? nargs : 1, sizeof *args);
  if (!args) goto done;
  shoal_err_t e = shoal_wave_parse_args(ft, text, strlen(text), args, &d);
  if (e != SHOAL_ERR_OK) {
    fprintf(stderr, "shoal: call: %s\n", cli_diag_message(&d, e));
    rc = CLI_EXIT_USAGE;
    goto done;
  }
  for (uint32_t i = 0; i < nargs; i++)
    if (!resolve_handles(hn, shoal_ctype_item(ft, i, NULL, NULL), &args[i])) { rc = CLI_EXIT_USAGE; goto done; }
  shoal_cval_t result;
  e = shoal_cfunc_call(s, f, args, nargs, &result, &d);
  if (e != SHOAL_ERR_OK) {
    fprintf(stderr, "shoal: call: %s: %s\n", fname, cli_diag_message(&d, e));
    rc = shoal_err_is_trap(e) ? CLI_EXIT_TRAP : CLI_EXIT_ERROR;
    goto done;
  }
  const shoal_ctype_t *rt = shoal_ctype_result(ft);
  if (rt) {
    char *out;
    if (name_handles(hn, rt, &result) && shoal_wave_print(rt, &result, &out) == SHOAL_ERR_OK) {
      printf("%s\n", out);
      free(out);
      rc = CLI_EXIT_OK;
    }
    shoal_cval_free(&result);
  } else {
    printf("()\n");
    rc = CLI_EXIT_OK;
  }
done:
  for (uint32_t i = 0; args && i < nargs; i++) shoal_cval_free(&args[i]);
  free(args);
  free(fname);
  return rc;
}

/* shoal call [--link PROVIDER.wasm]... COMPONENT.wasm 'name(arg, ...)'...:
** instantiate (imports from the linked providers, types only, and wasi:*
** through the minimal WASI 0.2 host), call the exports in order with WAVE
** arguments, print each WAVE result on a line; stop at the first failure. */
int cli_component_call(int argc, char **argv) {
  int i = 1;
  linked_t lk = {.n = 0};
  shoal_store_t *s = NULL;
  shoal_component_t *c = NULL;
  shoal_cinstance_t *inst = NULL;
  handle_names_t hn = {NULL, 0, 0};
  int rc = CLI_EXIT_ERROR;
  int nlink = 0;
  while (i + 1 < argc && strcmp(argv[i], "--link") == 0) { i += 2; nlink++; }
  if (argc - i < 2 || argv[i][0] == '-') {
    fprintf(stderr, "shoal: call: usage: shoal call [--link PROVIDER.wasm]... COMPONENT.wasm 'name(arg, ...)'...\n");
    return CLI_EXIT_USAGE;
  }
  const char *path = argv[i];
  if (shoal_store_new(NULL, &s) != SHOAL_ERR_OK) {
    fprintf(stderr, "shoal: call: out of memory\n");
    return CLI_EXIT_ERROR;
  }
  /* wasi:* imports get the minimal WASI 0.2 host (no arguments, no environment) */
  const char *argv0[1] = {path};
  shoal_crun_config_t wasi = {.argv = argv0, .argc = 1};
  int j = 1;
  if (nlink && (rc = link_options(argc, argv, &j, s, &wasi, &lk)) != CLI_EXIT_OK) goto done;
  rc = CLI_EXIT_ERROR;
  if (!load(path, &c)) goto done;
  shoal_diag_t d;
  shoal_diag_clear(&d);
  shoal_err_t e = instantiate(s, &lk, c, &wasi, &inst, &d);
  if (e != SHOAL_ERR_OK) {
    fprintf(stderr, "shoal: call: instantiating %s: %s\n", path, cli_diag_message(&d, e));
    rc = shoal_err_is_trap(e) ? CLI_EXIT_TRAP : CLI_EXIT_ERROR;
    goto done;
  }
  for (int k = i + 1; k < argc; k++) {
    rc = call_one(s, inst, &hn, argv[k]);
    fflush(stdout);
    if (rc != CLI_EXIT_OK) break;
  }
done:
  free(hn.v);
  shoal_cinstance_free(inst);
  shoal_component_free(c);
  linked_free(&lk);
  shoal_store_free(s);
  return rc;
}

/* --dir HOST[::GUEST][:readonly] (as for core modules); spec is modified. */
static bool component_dir(char *spec, shoal_wasi_preopen_t *out) {
  size_t n = strlen(spec);
  static const char ro[] = ":readonly";
  out->readonly = n > sizeof ro - 1 && strcmp(spec + n - (sizeof ro - 1), ro) == 0;
  if (out->readonly) spec[n - (sizeof ro - 1)] = '\0';
  char *sep = strstr(spec, "::");
  out->host_path = out->guest_path = spec;
  if (sep) {
    *sep = '\0';
    out->guest_path = sep + 2;
  }
  return out->host_path[0] && out->guest_path[0];
}

static bool has_link(int argc, char **argv) {
  for (int i = 1; i + 1 < argc && argv[i][0] == '-'; i++)
    if (strcmp(argv[i], "--link") == 0) return true;
  return false;
}

/* shoal run --link PROVIDER.wasm ...: the providers are instantiated in
** order (each with WASI from cfg), then the command runs with their exports
** for its imports. */
static shoal_err_t run_linked(int argc, char **argv, shoal_store_t *s, const shoal_component_t *c,
                              const shoal_crun_config_t *cfg, int *code, shoal_diag_t *d) {
  linked_t lk = {.n = 0};
  shoal_err_t e = SHOAL_ERR_LINK;
  shoal_diag_clear(d);
  for (int i = 1; i + 1 < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--link") != 0) continue;
    char *pair[3] = {argv[0], argv[i], argv[i + 1]};
    int k = 1;
    if (link_options(3, pair, &k, s, cfg, &lk) != CLI_EXIT_OK) {
      snprintf(d->message, sizeof d->message, "cannot link %s", argv[i + 1]);
      goto done;
    }
    i++;
  }
  const shoal_cimport_t *imps = NULL;
  size_t n = 0;
  if ((e = shoal_clink_imports(lk.link, c, &imps, &n, d)) == SHOAL_ERR_OK)
    e = shoal_component_run_extra(s, c, cfg, imps, n, code, d);
done:
  linked_free(&lk);
  return e;
}

/* shoal run [--env KEY=VALUE]... [--inherit-env] [--dir HOST[::GUEST]]... [--link P.wasm]...
** [--allow-net IP[:PORT]]... COMPONENT.wasm [ARGS...]: wasi:cli/run with the WASI 0.2 host of
** shoal_component_run. */
int cli_component_run(int argc, char **argv) {
  extern char **environ;
  const char **env = calloc((size_t)argc + 1, sizeof *env);
  shoal_wasi_preopen_t *dirs = calloc((size_t)argc + 1, sizeof *dirs);
  const char **nets = calloc((size_t)argc + 1, sizeof *nets);
  size_t nenv = 0, ndirs = 0, nnets = 0;
  bool inherit = false;
  int i = 1;
  if (!env || !dirs || !nets) { free(env); free(dirs); free(nets); return CLI_EXIT_ERROR; }
  for (; i < argc && argv[i][0] == '-'; i++) {
    char *dir = strcmp(argv[i], "--dir") == 0 && i + 1 < argc ? argv[++i]
              : strncmp(argv[i], "--dir=", 6) == 0 ? argv[i] + 6 : NULL;
    if (strcmp(argv[i], "--env") == 0 && i + 1 < argc) env[nenv++] = argv[++i];
    else if (strcmp(argv[i], "--link") == 0 && i + 1 < argc) i++;  /* run_linked reads them */
    else if (strcmp(argv[i], "--inherit-env") == 0) inherit = true;
    else if (strcmp(argv[i], "--allow-net") == 0 && i + 1 < argc) nets[nnets++] = argv[++i];
    else if (dir && component_dir(dir, &dirs[ndirs])) ndirs++;
    else {
      fprintf(stderr, dir ? "shoal: run: --dir %s: expected HOST[::GUEST][:readonly]\n"
                          : "shoal: run: option %s is not supported for components\n", dir ? dir : argv[i]);
      free(env);
      free(dirs);
      free(nets);
      return CLI_EXIT_USAGE;
    }
  }
  if (i >= argc) { free(env); free(dirs); free(nets); fprintf(stderr, "shoal: run: missing FILE.wasm\n"); return CLI_EXIT_USAGE; }
  size_t nh = 0;
  if (inherit) while (environ[nh]) nh++;
  const char **all = calloc(nh + nenv + 1, sizeof *all);
  if (!all) { free(env); free(dirs); free(nets); return CLI_EXIT_ERROR; }
  for (size_t k = 0; k < nh; k++) all[k] = environ[k];
  for (size_t k = 0; k < nenv; k++) all[nh + k] = env[k];
  shoal_component_t *c;
  int rc = CLI_EXIT_ERROR;
  shoal_store_t *s = NULL;
  if (load(argv[i], &c)) {
    shoal_crun_config_t cfg = {.argv = (const char *const *)argv + i, .argc = (size_t)(argc - i), .env = all, .nenv = nh + nenv,
                               .preopens = dirs, .npreopens = ndirs, .net_allow = nets, .nnet_allow = nnets};
    const char *no2 = getenv("SHOAL_WASI_NO_OPENAT2");  /* as for core modules: the portable walk */
    if (no2 && *no2 && strcmp(no2, "0") != 0) cfg.wasi_flags |= SHOAL_WASI_NO_OPENAT2;
    shoal_diag_t d;
    int code = 1;
    if (shoal_store_new(NULL, &s) == SHOAL_ERR_OK) {
      shoal_err_t e = has_link(argc, argv) ? run_linked(argc, argv, s, c, &cfg, &code, &d)
                                           : shoal_component_run(s, c, &cfg, &code, &d);
      if (e == SHOAL_ERR_OK || e == SHOAL_ERR_EXIT) {
        rc = code;
      } else {
        fprintf(stderr, "shoal: run: %s: %s\n", argv[i], cli_diag_message(&d, e));
        if (d.trace[0]) fprintf(stderr, "%s", d.trace);
        rc = shoal_err_is_trap(e) ? CLI_EXIT_TRAP : CLI_EXIT_ERROR;
      }
    }
    shoal_store_free(s);
    shoal_component_free(c);
  }
  free(all);
  free(env);
  free(dirs);
  free(nets);
  return rc;
}

/* A file whose preamble says component (layer 1)? */
static bool is_component_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  uint8_t h[8];
  bool yes = fread(h, 1, 8, f) == 8 && shoal_is_component(h, 8);
  fclose(f);
  return yes;
}

/* Called by main for every command: `call` always lands here; `inspect`
** and `run` when their file is a component. -1: not ours. */
int cli_component_dispatch(const char *cmd, int argc, char **argv);
int cli_component_dispatch(const char *cmd, int argc, char **argv) {
  if (strcmp(cmd, "call") == 0) return cli_component_call(argc, argv);
  bool inspect = strcmp(cmd, "inspect") == 0, run = strcmp(cmd, "run") == 0;
  if (!inspect && !run) return -1;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-') {
      if (strcmp(argv[i], "--env") == 0 || strcmp(argv[i], "--dir") == 0 || strcmp(argv[i], "--invoke") == 0 ||
          strcmp(argv[i], "--link") == 0 || strcmp(argv[i], "--allow-net") == 0)
        i++;
      continue;
    }
    if (!is_component_file(argv[i])) return -1;
    if (inspect) return cli_component_inspect(argc, argv);
    return cli_component_run(argc, argv);
  }
  return -1;
}
