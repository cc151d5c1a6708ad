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

int cli_component_call(int argc, char **argv) {
  (void)argc; (void)argv;
  fprintf(stderr, "shoal: call: not yet implemented\n");
  return CLI_EXIT_ERROR;
}

int cli_component_run(int argc, char **argv) {
  (void)argc;
  fprintf(stderr, "shoal: run: %s is a component; running wasi:cli/run needs WASI 0.2, which shoal does not provide yet\n", argv[1]);
  return CLI_EXIT_ERROR;
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
    if (argv[i][0] == '-') continue;
    if (!is_component_file(argv[i])) return -1;
    if (inspect) return cli_component_inspect(argc, argv);
    char *sub[2] = {argv[0], argv[i]};
    return cli_component_run(2, sub);
  }
  return -1;
}
