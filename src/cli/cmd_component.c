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

/* shoal call COMPONENT.wasm 'name(arg, ...)': instantiate (imports: types
** only, and wasi:* through the minimal WASI 0.2 host), call the export with
** WAVE arguments, print the WAVE result. */
int cli_component_call(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "shoal: call: usage: shoal call COMPONENT.wasm 'name(arg, ...)'\n");
    return CLI_EXIT_USAGE;
  }
  const char *text = argv[2];
  const char *name;
  size_t name_len;
  if (shoal_wave_parse_call(text, strlen(text), &name, &name_len) != SHOAL_ERR_OK) {
    fprintf(stderr, "shoal: call: expected 'name(arg, ...)', got '%s'\n", text);
    return CLI_EXIT_USAGE;
  }
  shoal_component_t *c;
  if (!load(argv[1], &c)) return CLI_EXIT_ERROR;
  int rc = CLI_EXIT_ERROR;
  shoal_store_t *s = NULL;
  shoal_cinstance_t *inst = NULL;
  shoal_cval_t *args = NULL;
  uint32_t nargs = 0;
  char *fname = strndup(name, name_len);
  shoal_diag_t d;
  shoal_diag_clear(&d);
  if (!fname || shoal_store_new(NULL, &s) != SHOAL_ERR_OK) {
    fprintf(stderr, "shoal: call: out of memory\n");
    goto done;
  }
  /* wasi:* imports get the minimal WASI 0.2 host (no arguments, no environment) */
  const char *argv0[1] = {argv[1]};
  shoal_crun_config_t wasi = {argv0, 1, NULL, 0};
  shoal_err_t e = shoal_cinstance_new_wasi(s, c, &wasi, &inst, &d);
  if (e != SHOAL_ERR_OK) {
    fprintf(stderr, "shoal: call: instantiating %s: %s\n", argv[1], cli_diag_message(&d, e));
    rc = shoal_err_is_trap(e) ? CLI_EXIT_TRAP : CLI_EXIT_ERROR;
    goto done;
  }
  shoal_cfunc_t *f = shoal_cinstance_func(inst, fname);
  if (!f) {
    fprintf(stderr, "shoal: call: no exported function '%s' (or the name is ambiguous)\n", fname);
    goto done;
  }
  const shoal_ctype_t *ft = shoal_cfunc_type(f);
  nargs = shoal_ctype_count(ft);
  args = calloc(nargs ? nargs : 1, sizeof *args);
  if (!args) goto done;
  e = shoal_wave_parse_args(ft, text, strlen(text), args, &d);
  if (e != SHOAL_ERR_OK) {
    fprintf(stderr, "shoal: call: %s\n", cli_diag_message(&d, e));
    rc = CLI_EXIT_USAGE;
    goto done;
  }
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
    if (shoal_wave_print(rt, &result, &out) == SHOAL_ERR_OK) {
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
  shoal_cinstance_free(inst);
  shoal_store_free(s);
  shoal_component_free(c);
  return rc;
}

/* shoal run [--env KEY=VALUE]... [--inherit-env] COMPONENT.wasm [ARGS...]:
** wasi:cli/run with the minimal WASI 0.2 host of shoal_component_run. */
int cli_component_run(int argc, char **argv) {
  extern char **environ;
  const char **env = calloc((size_t)argc + 1, sizeof *env);
  size_t nenv = 0;
  bool inherit = false;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--env") == 0 && i + 1 < argc) env[nenv++] = argv[++i];
    else if (strcmp(argv[i], "--inherit-env") == 0) inherit = true;
    else {
      fprintf(stderr, "shoal: run: option %s is not supported for components\n", argv[i]);
      free(env);
      return CLI_EXIT_USAGE;
    }
  }
  if (i >= argc) { free(env); fprintf(stderr, "shoal: run: missing FILE.wasm\n"); return CLI_EXIT_USAGE; }
  size_t nh = 0;
  if (inherit) while (environ[nh]) nh++;
  const char **all = calloc(nh + nenv + 1, sizeof *all);
  if (!all) { free(env); return CLI_EXIT_ERROR; }
  for (size_t k = 0; k < nh; k++) all[k] = environ[k];
  for (size_t k = 0; k < nenv; k++) all[nh + k] = env[k];
  shoal_component_t *c;
  int rc = CLI_EXIT_ERROR;
  shoal_store_t *s = NULL;
  if (load(argv[i], &c)) {
    shoal_crun_config_t cfg = {(const char *const *)argv + i, (size_t)(argc - i), all, nh + nenv};
    shoal_diag_t d;
    int code = 1;
    if (shoal_store_new(NULL, &s) == SHOAL_ERR_OK) {
      shoal_err_t e = shoal_component_run(s, c, &cfg, &code, &d);
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
      if (strcmp(argv[i], "--env") == 0 || strcmp(argv[i], "--dir") == 0 || strcmp(argv[i], "--invoke") == 0) i++;
      continue;
    }
    if (!is_component_file(argv[i])) return -1;
    if (inspect) return cli_component_inspect(argc, argv);
    return cli_component_run(argc, argv);
  }
  return -1;
}
