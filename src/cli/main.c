/*
** main.c: the `shoal` command: run, validate and inspect WebAssembly
** modules, and run spec test scripts (spectest.c). Uses only the public
** engine API.
*/
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
  "usage: shoal <command> [arguments]\n"
  "\n"
  "commands:\n"
  "  run FILE.wasm [--invoke NAME [ARGS...]]\n"
  "      Instantiate the module and call its \"_start\" export, or the export\n"
  "      NAME with ARGS converted to its parameter types (integers in decimal\n"
  "      or 0x hex, may be negative; floats as for strtod, also nan and inf;\n"
  "      references only as null). Prints each result on its own line. A\n"
  "      module without \"_start\" is only instantiated (its start function\n"
  "      runs).\n"
  "  validate FILE.wasm...\n"
  "      Decode and validate; silent on success.\n"
  "  inspect FILE.wasm\n"
  "      List the sections, imports and exports.\n"
  "  spectest [-v] [--no-fork] [--timeout SECS] FILE.json...\n"
  "      Run wast2json spec test scripts (module files are found next to each\n"
  "      script). Each script runs in a child process so a crash or a hang\n"
  "      (default limit 300 s, 0 = none) fails only that script; --no-fork\n"
  "      runs in-process. -v prints notes (e.g. differing error messages)\n"
  "      and the output of the spectest print functions. Scripts named\n"
  "      simd_* are counted as skipped: the API has no v128 values.\n"
  "  help, --help      This text.\n"
  "  --version         Print the version.\n"
  "\n"
  "exit status:\n"
  "  0  success\n"
  "  1  the module failed to load, validate or link, or a file could not be\n"
  "     read; for spectest, some command failed\n"
  "  2  usage error\n"
  "  3  the guest trapped (the message and backtrace go to stderr)\n"
  "  a guest that exits through the host (e.g. WASI proc_exit) gives its status\n";

static int usage_error(const char *fmt, ...) CLI_PRINTF(1, 2);
static int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "shoal: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\nrun 'shoal help' for usage\n");
  va_end(ap);
  return CLI_EXIT_USAGE;
}

/* Loads and validates a module file; prints the error and returns NULL on
** failure. */
static shoal_module_t *load_module(const char *path) {
  uint8_t *bytes;
  size_t len;
  char err[512];
  if (!cli_read_file(path, &bytes, &len, err, sizeof err)) {
    fprintf(stderr, "shoal: %s\n", err);
    return NULL;
  }
  shoal_module_t *m = NULL;
  shoal_diag_t diag;
  shoal_diag_clear(&diag);
  shoal_err_t e = shoal_module_new(bytes, len, &m, &diag);
  free(bytes);
  if (e != SHOAL_ERR_OK) {
    if (diag.offset >= 0)
      fprintf(stderr, "%s: error at offset 0x%" PRIx64 ": %s\n", path, (uint64_t)diag.offset,
              cli_diag_message(&diag, e));
    else
      fprintf(stderr, "%s: error: %s\n", path, cli_diag_message(&diag, e));
    return NULL;
  }
  return m;
}

/* {===================================================================
** run
** =================================================================== */

/* What `run` can offer to a module's imports. Nothing yet: every import is
** unresolved. WASI will add its context here and a case to run_resolve. */
typedef struct run_linker {
  shoal_store_t *store;
} run_linker_t;

static bool run_resolve(run_linker_t *l, const shoal_import_desc_t *imp, shoal_extern_t *out) {
  (void)l;
  (void)imp;
  (void)out;
  return false;
}

/* Fills imports[0..count) or prints the first unresolved import. */
static bool run_link(run_linker_t *l, const shoal_module_t *m, shoal_extern_t *imports) {
  size_t n = shoal_module_import_count(m);
  for (size_t i = 0; i < n; i++) {
    shoal_import_desc_t imp;
    shoal_module_import(m, i, &imp);
    if (!run_resolve(l, &imp, &imports[i])) {
      char buf[600];
      cli_buf_t b;
      cli_buf_init(&b, buf, sizeof buf);
      cli_buf_printf(&b, "unknown import ");
      cli_buf_name(&b, imp.module, imp.module_len);
      cli_buf_printf(&b, " ");
      cli_buf_name(&b, imp.name, imp.name_len);
      fprintf(stderr, "error: %s\n", buf);
      return false;
    }
  }
  return true;
}

/* Integer argument: optional sign, decimal or 0x hex. Accepts the signed
** and the unsigned range of `bits`, so -1 and 0xffffffff are both i32 -1. */
static bool parse_int(const char *s, unsigned bits, uint64_t *out) {
  bool neg = false;
  const char *p = s;
  if (*p == '-' || *p == '+') neg = *p++ == '-';
  int base = 10;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p += 2;
  }
  /* strtoull would accept its own sign and whitespace; only digits here. */
  if (!(base == 16 ? (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
                         (*p >= 'A' && *p <= 'F')
                   : (*p >= '0' && *p <= '9')))
    return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(p, &end, base);
  if (errno || *end) return false;
  uint64_t umax = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
  uint64_t nmax = UINT64_C(1) << (bits - 1); /* magnitude of the minimum */
  if (neg ? v > nmax : v > umax) return false;
  *out = neg ? (uint64_t)0 - v : v;
  if (bits < 64) *out &= umax;
  return true;
}

static bool parse_arg(const char *s, shoal_valtype_t t, shoal_val_t *v) {
  char *end;
  uint64_t u;
  v->type = t;
  switch (t) {
  case SHOAL_I32:
    if (!parse_int(s, 32, &u)) return false;
    v->of.i32 = (int32_t)(uint32_t)u;
    return true;
  case SHOAL_I64:
    if (!parse_int(s, 64, &u)) return false;
    v->of.i64 = (int64_t)u;
    return true;
  case SHOAL_F32: {
    float f = strtof(s, &end);
    if (end == s || *end) return false;
    memcpy(&v->of.f32_bits, &f, 4);
    return true;
  }
  case SHOAL_F64: {
    double d = strtod(s, &end);
    if (end == s || *end) return false;
    memcpy(&v->of.f64_bits, &d, 8);
    return true;
  }
  case SHOAL_FUNCREF:
  case SHOAL_EXTERNREF:
    /* There is no way to name a function or host object on a command line. */
    if (strcmp(s, "null") != 0) return false;
    v->of.ext = NULL;
    if (t == SHOAL_FUNCREF) v->of.func = NULL;
    return true;
  case SHOAL_V128:
    break;
  }
  return false;
}

static void print_result(const shoal_val_t *v) {
  switch (v->type) {
  case SHOAL_I32: printf("%" PRId32 "\n", v->of.i32); break;
  case SHOAL_I64: printf("%" PRId64 "\n", v->of.i64); break;
  case SHOAL_F32: {
    float f;
    memcpy(&f, &v->of.f32_bits, 4);
    printf("%.9g\n", (double)f);
    break;
  }
  case SHOAL_F64: {
    double d;
    memcpy(&d, &v->of.f64_bits, 8);
    printf("%.17g\n", d);
    break;
  }
  case SHOAL_FUNCREF: printf("%s\n", v->of.func ? "ref" : "null"); break;
  case SHOAL_EXTERNREF: printf("%s\n", v->of.ext ? "ref" : "null"); break;
  default: printf("<%s>\n", cli_valtype_name(v->type)); break;
  }
}

/* Prints a trap (or other runtime failure) and its backtrace. */
/* The part of a backtrace line after its "#N " frame number. */
static const char *frame_body(const char *line, size_t n, size_t *blen) {
  const char *p = line, *end = line + n;
  if (p < end && *p == '#') {
    while (p < end && *p != ' ') p++;
    while (p < end && *p == ' ') p++;
  }
  *blen = (size_t)(end - p);
  return p;
}

static void flush_repeats(size_t repeats) {
  if (repeats) fprintf(stderr, "  ... %zu more frame%s like the one above\n", repeats,
                       repeats == 1 ? "" : "s");
}

/* Prints a trap (or other runtime failure) and its backtrace, folding runs
** of identical frames (deep recursion) into one line. */
static void print_runtime_error(const shoal_diag_t *diag, shoal_err_t e) {
  fprintf(stderr, "error: %s\n", cli_diag_message(diag, e));
  const char *t = diag->trace, *prev = NULL;
  size_t prev_len = 0, repeats = 0;
  size_t total = strnlen(diag->trace, sizeof diag->trace);
  while (*t) {
    while (*t == ' ' || *t == '\t') t++; /* indent frames our way */
    const char *nl = strchr(t, '\n');
    size_t n = nl ? (size_t)(nl - t) : strlen(t);
    size_t blen;
    const char *body = frame_body(t, n, &blen);
    if (!nl && total + 1 >= sizeof diag->trace) {
      /* The engine filled its buffer: this last line is cut off. */
      flush_repeats(repeats);
      fprintf(stderr, "  ... (backtrace truncated)\n");
      return;
    }
    if (n && prev && blen == prev_len && memcmp(body, prev, blen) == 0) {
      repeats++;
    } else if (n) {
      flush_repeats(repeats);
      repeats = 0;
      fprintf(stderr, "  %.*s\n", (int)n, t);
      prev = body;
      prev_len = blen;
    }
    t += n + (nl != NULL);
  }
  flush_repeats(repeats);
}

/* Exit status for a failed instantiation or call. */
static int runtime_status(const shoal_diag_t *diag, shoal_err_t e) {
  if (e == SHOAL_ERR_EXIT) return diag->exit_code;
  print_runtime_error(diag, e);
  return shoal_err_is_trap(e) ? CLI_EXIT_TRAP : CLI_EXIT_ERROR;
}

static int cmd_run(int argc, char **argv) {
  const char *file = NULL, *invoke = NULL;
  char **args = calloc((size_t)argc + 1, sizeof *args);
  int nargs = 0, status = CLI_EXIT_ERROR;
  if (!args) return CLI_EXIT_ERROR;
  for (int i = 1; i < argc; i++) {
    if (!invoke && strcmp(argv[i], "--invoke") == 0) {
      if (i + 1 >= argc) {
        free(args);
        return usage_error("%s needs a function name", "--invoke");
      }
      invoke = argv[++i];
    } else if (!file) {
      if (argv[i][0] == '-' && argv[i][1]) {
        free(args);
        return usage_error("run: unknown option %s", argv[i]);
      }
      file = argv[i];
    } else {
      args[nargs++] = argv[i]; /* may look like an option: "-5" */
    }
  }
  if (!file) {
    free(args);
    return usage_error("run: %s", "missing FILE.wasm");
  }
  if (!invoke && nargs > 0) {
    const char *first = args[0];
    free(args);
    return usage_error("run: unexpected argument %s (arguments need --invoke NAME)", first);
  }

  shoal_module_t *m = NULL;
  shoal_store_t *s = NULL;
  shoal_extern_t *imports = NULL;
  shoal_val_t *vals = NULL, *results = NULL;
  shoal_diag_t diag;
  shoal_diag_clear(&diag);

  m = load_module(file);
  if (!m) goto done;
  shoal_store_config_t cfg = {
    .size = sizeof cfg, .stack_bytes = 8u << 20, .max_call_depth = 20000,
    .max_memory_bytes = 0, .max_table_elems = 0, .fuel = 0,
  };
  if (shoal_store_new(&cfg, &s) != SHOAL_ERR_OK) {
    fprintf(stderr, "error: cannot create a store\n");
    goto done;
  }
  size_t nimp = shoal_module_import_count(m);
  imports = calloc(nimp ? nimp : 1, sizeof *imports);
  if (!imports) goto done;
  run_linker_t linker = { .store = s };
  if (!run_link(&linker, m, imports)) goto done;

  shoal_instance_t *inst = NULL;
  shoal_err_t e = shoal_instance_new(s, m, imports, nimp, &inst, &diag);
  if (e != SHOAL_ERR_OK) {
    status = runtime_status(&diag, e);
    goto done;
  }

  const char *fname = invoke ? invoke : "_start";
  shoal_extern_t ex;
  if (!shoal_instance_export(inst, fname, strlen(fname), &ex)) {
    if (!invoke) {
      status = CLI_EXIT_OK; /* nothing to call: instantiation was the run */
      goto done;
    }
    fprintf(stderr, "error: no export named \"%s\"\n", fname);
    goto done;
  }
  if (ex.kind != SHOAL_EXTERN_FUNC) {
    fprintf(stderr, "error: export \"%s\" is a %s, not a function\n", fname,
            shoal_extern_kind_name(ex.kind));
    goto done;
  }
  shoal_functype_t ft;
  shoal_func_type(ex.of.func, &ft);
  if ((uint32_t)nargs != ft.nparams) {
    char buf[512];
    cli_buf_t b;
    cli_buf_init(&b, buf, sizeof buf);
    cli_buf_functype(&b, &ft);
    fprintf(stderr, "shoal: \"%s\" takes %u argument%s, %d given; its type is %s\n", fname,
            (unsigned)ft.nparams, ft.nparams == 1 ? "" : "s", nargs, buf);
    status = CLI_EXIT_USAGE;
    goto done;
  }
  vals = calloc(ft.nparams + 1, sizeof *vals);
  results = calloc(ft.nresults + 1, sizeof *results);
  if (!vals || !results) goto done;
  for (uint32_t i = 0; i < ft.nparams; i++) {
    if (!parse_arg(args[i], ft.params[i], &vals[i])) {
      fprintf(stderr, "shoal: argument %u: cannot read \"%s\" as %s\n", (unsigned)i + 1,
              args[i], cli_valtype_name(ft.params[i]));
      status = CLI_EXIT_USAGE;
      goto done;
    }
  }
  e = shoal_func_call(s, ex.of.func, vals, ft.nparams, results, ft.nresults, &diag);
  if (e != SHOAL_ERR_OK) {
    status = runtime_status(&diag, e);
    goto done;
  }
  for (uint32_t i = 0; i < ft.nresults; i++) print_result(&results[i]);
  status = CLI_EXIT_OK;

done:
  fflush(stdout);
  free(vals);
  free(results);
  free(imports);
  if (s) shoal_store_free(s); /* before the module: instances refer to it */
  if (m) shoal_module_free(m);
  free(args);
  return status;
}

/* }=================================================================== */

static int cmd_validate(int argc, char **argv) {
  if (argc < 2) return usage_error("validate: %s", "missing FILE.wasm");
  int status = CLI_EXIT_OK;
  for (int i = 1; i < argc; i++) {
    shoal_module_t *m = load_module(argv[i]);
    if (!m) status = CLI_EXIT_ERROR;
    else shoal_module_free(m);
  }
  return status;
}

static int cmd_inspect(int argc, char **argv) {
  if (argc != 2) return usage_error("inspect: %s", "expected exactly one FILE.wasm");
  shoal_module_t *m = load_module(argv[1]);
  if (!m) return CLI_EXIT_ERROR;
  char buf[2048];
  cli_buf_t b;

  size_t n = shoal_module_section_count(m);
  printf("sections (%zu):\n", n);
  for (size_t i = 0; i < n; i++) {
    shoal_section_info_t si;
    shoal_module_section(m, i, &si);
    cli_buf_init(&b, buf, sizeof buf);
    if (si.id == 0 && si.custom_name) {
      cli_buf_printf(&b, " ");
      cli_buf_name(&b, si.custom_name, si.custom_name_len);
    }
    printf("  %2u %-9s offset 0x%08zx size %8zu%s\n", (unsigned)si.id,
           cli_section_name(si.id), si.offset, si.size, buf);
  }

  n = shoal_module_import_count(m);
  printf("imports (%zu):\n", n);
  for (size_t i = 0; i < n; i++) {
    shoal_import_desc_t d;
    shoal_module_import(m, i, &d);
    cli_buf_init(&b, buf, sizeof buf);
    cli_buf_name(&b, d.module, d.module_len);
    cli_buf_printf(&b, " ");
    cli_buf_name(&b, d.name, d.name_len);
    cli_buf_printf(&b, ": ");
    cli_buf_externtype(&b, &d.type);
    printf("  %s\n", buf);
  }

  n = shoal_module_export_count(m);
  printf("exports (%zu):\n", n);
  for (size_t i = 0; i < n; i++) {
    shoal_export_desc_t d;
    shoal_module_export(m, i, &d);
    cli_buf_init(&b, buf, sizeof buf);
    cli_buf_name(&b, d.name, d.name_len);
    cli_buf_printf(&b, ": ");
    cli_buf_externtype(&b, &d.type);
    printf("  %s\n", buf);
  }
  shoal_module_free(m);
  return CLI_EXIT_OK;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage_text, stderr);
    return CLI_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "run") == 0) return cmd_run(argc - 1, argv + 1);
  if (strcmp(cmd, "validate") == 0) return cmd_validate(argc - 1, argv + 1);
  if (strcmp(cmd, "inspect") == 0) return cmd_inspect(argc - 1, argv + 1);
  if (strcmp(cmd, "spectest") == 0) return cli_spectest_main(argc - 1, argv + 1);
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    fputs(usage_text, stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
    printf("shoal %s\n", SHOAL_VERSION_STRING);
    return CLI_EXIT_OK;
  }
  return usage_error("unknown command '%s'", cmd);
}
