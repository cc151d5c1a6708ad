/*
** spectest.c: `shoal spectest [-v] FILE.json...` runs the command scripts
** that wabt's wast2json makes from the WebAssembly spec tests.
**
** Each script runs in a forked child by default, so that an engine crash
** or hang costs one file, not the whole run; the child reports its counts
** through a shared page. --no-fork runs in-process (for a debugger).
** Counting: assertions and actions are tests (passed, failed or skipped);
** module and register commands count only when they fail.
*/
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* Counts of one script; lives in a shared page when forked. */
typedef struct counts {
  long passed, failed, skipped;
  long line; /* of the command being run: names the culprit of a crash */
} counts_t;

typedef struct named_inst {
  char *name;
  shoal_instance_t *inst;
} named_inst_t;

typedef struct script {
  const char *path; /* as given on the command line */
  char *dir;        /* module files are relative to it */
  bool verbose;
  bool nul_map;     /* see json_load: sentinel in strings stands for NUL */
  char sentinel[5]; /* its UTF-8 */
  counts_t *counts;
  const char *cmd;  /* type of the command being run, for messages */
  shoal_store_t *store;
  spectest_host_t *host;
  shoal_instance_t *current;
  named_inst_t *named, *registered;
  size_t nnamed, nregistered;
  shoal_module_t **modules;
  size_t nmodules;
} script_t;

/* {===================================================================
** Reporting
** =================================================================== */

static void fail(script_t *sc, const char *fmt, ...) CLI_PRINTF(2, 3);
static void fail(script_t *sc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("%s:%ld: %s: ", sc->path, sc->counts->line, sc->cmd);
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout); /* survive a crash of the child later on */
  sc->counts->failed++;
}

static void note(script_t *sc, const char *fmt, ...) CLI_PRINTF(2, 3);
static void note(script_t *sc, const char *fmt, ...) {
  if (!sc->verbose) return;
  va_list ap;
  va_start(ap, fmt);
  printf("%s:%ld: note: %s: ", sc->path, sc->counts->line, sc->cmd);
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
}

/* Sets a script-level error (not from the engine) into diag. */
static shoal_err_t diag_set(shoal_diag_t *d, shoal_err_t code, const char *fmt, ...)
  CLI_PRINTF(3, 4);
static shoal_err_t diag_set(shoal_diag_t *d, shoal_err_t code, const char *fmt, ...) {
  shoal_diag_clear(d);
  d->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->message, sizeof d->message, fmt, ap);
  va_end(ap);
  return code;
}

/* }=================================================================== */

/* {===================================================================
** JSON
** =================================================================== */

/* cJSON keeps strings NUL-terminated, so a "\u0000" in an export name
** (names.wast has them) would cut the name short. Before parsing, each
** such escape is rewritten to a sentinel code point that the text does not
** otherwise hold (a private-use one; names.wast has noncharacters), and
** json_bytes maps it back to NUL. */
static void sentinel_make(uint32_t cp, char utf8[5], char esc[13]) {
  utf8[0] = (char)(0xf0 | (cp >> 18));
  utf8[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  utf8[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
  utf8[3] = (char)(0x80 | (cp & 0x3f));
  utf8[4] = '\0';
  uint32_t v = cp - 0x10000;
  /* The masks only tell the compiler that each fits in four digits. */
  snprintf(esc, 13, "\\u%04x\\u%04x", (unsigned)((0xd800 + (v >> 10)) & 0xffff),
           (unsigned)((0xdc00 + (v & 0x3ff)) & 0xffff));
}

static bool text_has(const char *text, size_t len, const char *s, size_t n, bool nocase) {
  for (size_t i = 0; i + n <= len; i++)
    if (nocase ? strncasecmp(text + i, s, n) == 0 : memcmp(text + i, s, n) == 0) return true;
  return false;
}

static cJSON *json_load(script_t *sc, const char *text, size_t len) {
  sc->nul_map = false;
  size_t nnul = 0;
  for (size_t i = 0; i + 6 <= len; i++)
    if (memcmp(text + i, "\\u0000", 6) == 0) nnul++;
  if (nnul == 0) return cJSON_ParseWithLength(text, len);

  char esc[13];
  uint32_t cp;
  for (cp = 0xf0000; cp < 0xf0100; cp++) { /* plane 15, private use */
    sentinel_make(cp, sc->sentinel, esc);
    if (!text_has(text, len, sc->sentinel, 4, false) && !text_has(text, len, esc, 12, true))
      break;
  }
  if (cp == 0xf0100) return cJSON_ParseWithLength(text, len); /* names stay cut */

  char *copy = malloc(len + nnul * 6 + 1);
  if (!copy) return NULL;
  size_t o = 0, bs = 0; /* bs: run of backslashes before position i */
  for (size_t i = 0; i < len; i++) {
    /* Only a backslash not itself escaped starts an escape. */
    if (text[i] == '\\' && (bs & 1) == 0 && i + 6 <= len && memcmp(text + i, "\\u0000", 6) == 0) {
      memcpy(copy + o, esc, 12);
      o += 12;
      i += 5;
      bs = 0;
      continue;
    }
    bs = text[i] == '\\' ? bs + 1 : 0;
    copy[o++] = text[i];
  }
  copy[o] = '\0';
  cJSON *j = cJSON_ParseWithLength(copy, o);
  free(copy);
  sc->nul_map = j != NULL;
  return j;
}

static const char *json_str(const cJSON *obj, const char *key) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* The bytes of a string member, NULs restored; malloc'ed, NULL if absent. */
static char *json_bytes(const script_t *sc, const cJSON *obj, const char *key, size_t *len) {
  const char *s = json_str(obj, key);
  if (!s) return NULL;
  size_t n = strlen(s), o = 0;
  char *out = malloc(n + 1);
  if (!out) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (sc->nul_map && i + 4 <= n && memcmp(s + i, sc->sentinel, 4) == 0) {
      out[o++] = '\0';
      i += 3;
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = '\0';
  *len = o;
  return out;
}

/* }=================================================================== */

/* {===================================================================
** Modules, instances and linking
** =================================================================== */

static bool push(void **arr, size_t *n, size_t elem, const void *item) {
  /* The capacity is the next power of two: grow when n reaches one. */
  if ((*n & (*n - 1)) == 0) {
    size_t cap = *n ? *n * 2 : 1;
    void *na = realloc(*arr, cap * elem);
    if (!na) return false;
    *arr = na;
  }
  memcpy((char *)*arr + *n * elem, item, elem);
  (*n)++;
  return true;
}

static bool add_name(named_inst_t **arr, size_t *n, const char *name, shoal_instance_t *inst) {
  named_inst_t ni = { strdup(name), inst };
  if (!ni.name) return false;
  if (!push((void **)arr, n, sizeof ni, &ni)) {
    free(ni.name);
    return false;
  }
  return true;
}

/* Latest definition wins, as later modules shadow earlier ones. */
static shoal_instance_t *find_name(const named_inst_t *arr, size_t n, const char *name,
                                   size_t len) {
  for (size_t i = n; i-- > 0;)
    if (strlen(arr[i].name) == len && memcmp(arr[i].name, name, len) == 0) return arr[i].inst;
  return NULL;
}

/* Reads and compiles a module file named by a command. Non-engine failures
** (a missing file) come back as SHOAL_ERR_IO. */
static shoal_err_t load_module(script_t *sc, const cJSON *c, shoal_module_t **out,
                               shoal_diag_t *diag) {
  *out = NULL;
  const char *filename = json_str(c, "filename");
  if (!filename) return diag_set(diag, SHOAL_ERR_IO, "command has no filename");
  size_t plen = strlen(sc->dir) + strlen(filename) + 2;
  char *path = malloc(plen);
  if (!path) return diag_set(diag, SHOAL_ERR_NOMEM, "out of memory");
  if (filename[0] == '/') snprintf(path, plen, "%s", filename);
  else snprintf(path, plen, "%s/%s", sc->dir, filename);
  uint8_t *bytes;
  size_t len;
  char err[512];
  bool ok = cli_read_file(path, &bytes, &len, err, sizeof err);
  free(path);
  if (!ok) return diag_set(diag, SHOAL_ERR_IO, "%s", err);
  shoal_diag_clear(diag);
  shoal_err_t e = shoal_module_new(bytes, len, out, diag);
  free(bytes);
  if (e != SHOAL_ERR_OK) {
    *out = NULL;
    if (e == SHOAL_ERR_IO) e = SHOAL_ERR_MALFORMED; /* keep IO for "no such file" */
    return e;
  }
  /* Kept until the store is gone: instances refer to their module. */
  if (!push((void **)&sc->modules, &sc->nmodules, sizeof *out, out)) {
    shoal_module_free(*out);
    *out = NULL;
    return diag_set(diag, SHOAL_ERR_NOMEM, "out of memory");
  }
  return SHOAL_ERR_OK;
}

/* Resolves an import against registered instances, then "spectest". */
static bool resolve(script_t *sc, const shoal_import_desc_t *imp, shoal_extern_t *out) {
  shoal_instance_t *inst = find_name(sc->registered, sc->nregistered, imp->module,
                                     imp->module_len);
  if (inst) return shoal_instance_export(inst, imp->name, imp->name_len, out);
  if (imp->module_len == 8 && memcmp(imp->module, "spectest", 8) == 0 && sc->host)
    return spectest_host_lookup(sc->host, imp->name, imp->name_len, out);
  return false;
}

static shoal_err_t instantiate(script_t *sc, const shoal_module_t *m, shoal_instance_t **out,
                               shoal_diag_t *diag) {
  *out = NULL;
  size_t n = shoal_module_import_count(m);
  shoal_extern_t *imports = calloc(n ? n : 1, sizeof *imports);
  if (!imports) return diag_set(diag, SHOAL_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    shoal_import_desc_t imp;
    shoal_module_import(m, i, &imp);
    bool found = resolve(sc, &imp, &imports[i]);
    /* Kinds are checked here so the message can say so; finer type checks
    ** are the engine's, at instantiation. */
    if (!found || imports[i].kind != imp.type.kind) {
      shoal_extern_kind_t got = imports[i].kind;
      char buf[600];
      cli_buf_t b;
      cli_buf_init(&b, buf, sizeof buf);
      cli_buf_name(&b, imp.module, imp.module_len);
      cli_buf_printf(&b, " ");
      cli_buf_name(&b, imp.name, imp.name_len);
      free(imports);
      if (!found) return diag_set(diag, SHOAL_ERR_LINK, "unknown import %s", buf);
      return diag_set(diag, SHOAL_ERR_LINK, "incompatible import type for %s: expected %s, got %s",
                      buf, shoal_extern_kind_name(imp.type.kind),
                      shoal_extern_kind_name(got));
    }
  }
  shoal_diag_clear(diag);
  shoal_err_t e = shoal_instance_new(sc->store, m, imports, n, out, diag);
  free(imports);
  if (e != SHOAL_ERR_OK) *out = NULL;
  return e;
}

/* }=================================================================== */

/* {===================================================================
** Actions
** =================================================================== */

typedef struct action_out {
  shoal_val_t vals[16]; /* results of the call; more is refused */
  uint32_t n;
  bool unsupported;     /* the action cannot be expressed: skip it */
} action_out_t;

/* Runs an invoke or get. Engine failures come back as they are; script
** problems (unknown module or export, bad values) as non-trap codes with a
** message in diag. */
static shoal_err_t run_action(script_t *sc, const cJSON *a, action_out_t *out,
                              shoal_diag_t *diag) {
  out->n = 0;
  out->unsupported = false;
  shoal_diag_clear(diag);
  if (!a) return diag_set(diag, SHOAL_ERR_ARG, "command has no action");

  /* Arguments first: one the API cannot express skips the command even
  ** when its module is missing. */
  const cJSON *args = cJSON_GetObjectItemCaseSensitive(a, "args");
  int nargs = cJSON_GetArraySize(args);
  shoal_val_t *vals = calloc((size_t)nargs + 1, sizeof *vals);
  if (!vals) return diag_set(diag, SHOAL_ERR_NOMEM, "out of memory");
  shoal_err_t e = SHOAL_ERR_OK;
  const cJSON *arg;
  int i = 0;
  cJSON_ArrayForEach(arg, args) {
    sval_t sv;
    char err[200];
    sval_status_t st = sval_parse(arg, &sv, err, sizeof err);
    if (st == SVAL_OK && sv.kind != EXP_EXACT) {
      st = SVAL_BAD;
      snprintf(err, sizeof err, "argument %d is not a concrete value", i + 1);
    }
    if (st != SVAL_OK) {
      out->unsupported = st == SVAL_UNSUPPORTED;
      e = diag_set(diag, SHOAL_ERR_ARG, "%s", err);
      goto done;
    }
    vals[i++] = sval_to_val(&sv);
  }

  const char *type = json_str(a, "type");
  const char *modname = json_str(a, "module");
  shoal_instance_t *inst = modname ? find_name(sc->named, sc->nnamed, modname, strlen(modname))
                                   : sc->current;
  if (!inst) {
    if (modname) e = diag_set(diag, SHOAL_ERR_NOT_FOUND, "unknown module %s", modname);
    else e = diag_set(diag, SHOAL_ERR_NOT_FOUND, "no module instantiated");
    goto done;
  }
  size_t flen;
  char *field = json_bytes(sc, a, "field", &flen);
  if (!field) {
    e = diag_set(diag, SHOAL_ERR_ARG, "action has no field");
    goto done;
  }
  char fname[300];
  cli_buf_t b;
  cli_buf_init(&b, fname, sizeof fname);
  cli_buf_name(&b, field, flen);
  shoal_extern_t ex;
  bool found = shoal_instance_export(inst, field, flen, &ex);
  free(field);
  if (!found) {
    e = diag_set(diag, SHOAL_ERR_NOT_FOUND, "no export %s", fname);
    goto done;
  }

  if (type && strcmp(type, "get") == 0) {
    if (ex.kind != SHOAL_EXTERN_GLOBAL) {
      e = diag_set(diag, SHOAL_ERR_ARG, "export %s is not a global", fname);
      goto done;
    }
    out->vals[0] = shoal_global_get(ex.of.global);
    out->n = 1;
    goto done;
  }
  if (!type || strcmp(type, "invoke") != 0) {
    e = diag_set(diag, SHOAL_ERR_ARG, "unknown action type %s", type ? type : "(none)");
    goto done;
  }
  if (ex.kind != SHOAL_EXTERN_FUNC) {
    e = diag_set(diag, SHOAL_ERR_ARG, "export %s is not a function", fname);
    goto done;
  }
  shoal_functype_t ft;
  shoal_func_type(ex.of.func, &ft);
  if ((uint32_t)nargs != ft.nparams) {
    e = diag_set(diag, SHOAL_ERR_ARG, "%s takes %u arguments, script gives %d", fname,
                 (unsigned)ft.nparams, nargs);
    goto done;
  }
  if (ft.nresults > sizeof out->vals / sizeof out->vals[0]) {
    e = diag_set(diag, SHOAL_ERR_UNSUPPORTED, "%s has too many results", fname);
    goto done;
  }
  /* Results carry the declared types unless the engine says otherwise. */
  for (uint32_t r = 0; r < ft.nresults; r++) {
    memset(&out->vals[r], 0, sizeof out->vals[r]);
    out->vals[r].type = ft.results[r];
  }
  e = shoal_func_call(sc->store, ex.of.func, vals, ft.nparams, out->vals, ft.nresults, diag);
  if (e == SHOAL_ERR_OK) out->n = ft.nresults;
done:
  free(vals);
  return e;
}

/* }=================================================================== */

/* {===================================================================
** Commands
** =================================================================== */

static void cmd_module(script_t *sc, const cJSON *c) {
  shoal_diag_t diag;
  shoal_module_t *m;
  shoal_instance_t *inst = NULL;
  sc->current = NULL; /* commands after a failed module must not use an older one */
  shoal_err_t e = load_module(sc, c, &m, &diag);
  if (e == SHOAL_ERR_OK) e = instantiate(sc, m, &inst, &diag);
  if (e != SHOAL_ERR_OK) {
    fail(sc, "%s: %s", shoal_err_name(e), cli_diag_message(&diag, e));
    return;
  }
  sc->current = inst;
  const char *name = json_str(c, "name");
  if (name && !add_name(&sc->named, &sc->nnamed, name, inst)) fail(sc, "out of memory");
}

static void cmd_register(script_t *sc, const cJSON *c) {
  const char *as = json_str(c, "as");
  const char *name = json_str(c, "name");
  shoal_instance_t *inst = name ? find_name(sc->named, sc->nnamed, name, strlen(name))
                                : sc->current;
  if (!as) fail(sc, "no \"as\" name");
  else if (!inst) fail(sc, "no module %s to register", name ? name : "instantiated");
  else if (!add_name(&sc->registered, &sc->nregistered, as, inst)) fail(sc, "out of memory");
}

static bool is_text_module(const cJSON *c) {
  const char *mt = json_str(c, "module_type");
  const char *fn = json_str(c, "filename");
  size_t n = fn ? strlen(fn) : 0;
  return (mt && strcmp(mt, "text") == 0) || (n > 4 && strcmp(fn + n - 4, ".wat") == 0);
}

/* Whether the engine's message agrees with the script's expected text;
** only reported, as messages are not normative. */
static void check_text(script_t *sc, const cJSON *c, const shoal_diag_t *diag, shoal_err_t e) {
  const char *text = json_str(c, "text");
  if (!text || !sc->verbose) return;
  const char *msg = cli_diag_message(diag, e);
  if (strstr(msg, text) || strstr(shoal_err_message(e), text)) return;
  note(sc, "expected \"%s\", got \"%s\"", text, msg);
}

static void describe_failure(script_t *sc, const char *what, shoal_err_t e,
                             const shoal_diag_t *diag) {
  fail(sc, "%s, got %s: %s", what, shoal_err_name(e), cli_diag_message(diag, e));
}

static void cmd_action(script_t *sc, const cJSON *c) {
  action_out_t out;
  shoal_diag_t diag;
  shoal_err_t e = run_action(sc, cJSON_GetObjectItemCaseSensitive(c, "action"), &out, &diag);
  if (out.unsupported) {
    sc->counts->skipped++;
    note(sc, "skipped: %s", diag.message);
  } else if (e != SHOAL_ERR_OK) {
    describe_failure(sc, "expected success", e, &diag);
  } else {
    sc->counts->passed++;
  }
}

static void cmd_assert_return(script_t *sc, const cJSON *c) {
  const cJSON *expected = cJSON_GetObjectItemCaseSensitive(c, "expected");
  int n = cJSON_GetArraySize(expected);
  sval_t exp[16];
  if (n < 0 || n > 16) {
    fail(sc, "too many expected values");
    return;
  }
  int i = 0;
  const cJSON *j;
  cJSON_ArrayForEach(j, expected) {
    char err[200];
    sval_status_t st = sval_parse(j, &exp[i++], err, sizeof err);
    if (st == SVAL_UNSUPPORTED) {
      sc->counts->skipped++;
      note(sc, "skipped: %s", err);
      return;
    }
    if (st == SVAL_BAD) {
      fail(sc, "%s", err);
      return;
    }
  }
  action_out_t out;
  shoal_diag_t diag;
  shoal_err_t e = run_action(sc, cJSON_GetObjectItemCaseSensitive(c, "action"), &out, &diag);
  if (out.unsupported) {
    sc->counts->skipped++;
    note(sc, "skipped: %s", diag.message);
    return;
  }
  if (e != SHOAL_ERR_OK) {
    describe_failure(sc, "expected a result", e, &diag);
    return;
  }
  bool ok = out.n == (uint32_t)n;
  for (i = 0; ok && i < n; i++) ok = sval_matches(&exp[i], &out.vals[i]);
  if (ok) {
    sc->counts->passed++;
    return;
  }
  char eb[1024], gb[1024];
  cli_buf_t b;
  cli_buf_init(&b, eb, sizeof eb);
  if (n != 1) cli_buf_printf(&b, "(");
  for (i = 0; i < n; i++) {
    if (i) cli_buf_printf(&b, ", ");
    cli_buf_sval(&b, &exp[i]);
  }
  if (n != 1) cli_buf_printf(&b, ")");
  cli_buf_init(&b, gb, sizeof gb);
  if (out.n != 1) cli_buf_printf(&b, "(");
  for (uint32_t k = 0; k < out.n; k++) {
    if (k) cli_buf_printf(&b, ", ");
    cli_buf_val(&b, &out.vals[k]);
  }
  if (out.n != 1) cli_buf_printf(&b, ")");
  fail(sc, "expected %s got %s", eb, gb);
}

static void cmd_assert_uninstantiable(script_t *sc, const cJSON *c) {
  if (is_text_module(c)) {
    sc->counts->skipped++;
    return;
  }
  shoal_diag_t diag;
  shoal_module_t *m;
  shoal_instance_t *inst;
  shoal_err_t e = load_module(sc, c, &m, &diag);
  if (e != SHOAL_ERR_OK) {
    describe_failure(sc, "expected the module to load", e, &diag);
    return;
  }
  e = instantiate(sc, m, &inst, &diag);
  if (e == SHOAL_ERR_OK) fail(sc, "expected a trap, but the module instantiated");
  else if (!shoal_err_is_trap(e)) describe_failure(sc, "expected a trap", e, &diag);
  else {
    check_text(sc, c, &diag, e);
    sc->counts->passed++;
  }
}

/* assert_trap and assert_exhaustion. */
static void cmd_assert_trap(script_t *sc, const cJSON *c, bool exhaustion) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "action");
  if (!a && json_str(c, "filename")) { /* a module whose start function traps */
    cmd_assert_uninstantiable(sc, c);
    return;
  }
  action_out_t out;
  shoal_diag_t diag;
  shoal_err_t e = run_action(sc, a, &out, &diag);
  if (out.unsupported) {
    sc->counts->skipped++;
    note(sc, "skipped: %s", diag.message);
  } else if (e == SHOAL_ERR_OK) {
    char gb[1024];
    cli_buf_t b;
    cli_buf_init(&b, gb, sizeof gb);
    for (uint32_t k = 0; k < out.n; k++) {
      if (k) cli_buf_printf(&b, ", ");
      cli_buf_val(&b, &out.vals[k]);
    }
    const char *text = json_str(c, "text");
    fail(sc, "expected trap \"%s\", got result (%s)", text ? text : "", gb);
  } else if (exhaustion ? e != SHOAL_ERR_TRAP_STACK : !shoal_err_is_trap(e)) {
    describe_failure(sc, exhaustion ? "expected call stack exhaustion" : "expected a trap", e,
                     &diag);
  } else {
    check_text(sc, c, &diag, e);
    sc->counts->passed++;
  }
}

static void cmd_assert_bad_module(script_t *sc, const cJSON *c) {
  if (is_text_module(c)) {
    sc->counts->skipped++; /* wast2json leaves .wat text for these */
    return;
  }
  shoal_diag_t diag;
  shoal_module_t *m;
  shoal_err_t e = load_module(sc, c, &m, &diag);
  if (e == SHOAL_ERR_OK) {
    const char *text = json_str(c, "text");
    fail(sc, "module loaded, expected \"%s\"", text ? text : "an error");
  } else if (e == SHOAL_ERR_IO) {
    fail(sc, "%s", diag.message);
  } else {
    check_text(sc, c, &diag, e);
    sc->counts->passed++;
  }
}

static void cmd_assert_unlinkable(script_t *sc, const cJSON *c) {
  if (is_text_module(c)) {
    sc->counts->skipped++;
    return;
  }
  shoal_diag_t diag;
  shoal_module_t *m;
  shoal_instance_t *inst;
  shoal_err_t e = load_module(sc, c, &m, &diag);
  if (e == SHOAL_ERR_IO) {
    fail(sc, "%s", diag.message);
    return;
  }
  if (e == SHOAL_ERR_OK) e = instantiate(sc, m, &inst, &diag);
  else note(sc, "rejected at load, not at link: %s", cli_diag_message(&diag, e));
  if (e == SHOAL_ERR_OK) fail(sc, "expected a link error, but the module instantiated");
  else if (shoal_err_is_trap(e)) describe_failure(sc, "expected a link error", e, &diag);
  else {
    check_text(sc, c, &diag, e);
    sc->counts->passed++;
  }
}

static void run_command(script_t *sc, const cJSON *c) {
  const char *type = json_str(c, "type");
  const cJSON *line = cJSON_GetObjectItemCaseSensitive(c, "line");
  sc->counts->line = cJSON_IsNumber(line) ? (long)line->valuedouble : 0;
  sc->cmd = type ? type : "(no type)";
  if (!type) fail(sc, "command without a type");
  else if (strcmp(type, "module") == 0) cmd_module(sc, c);
  else if (strcmp(type, "register") == 0) cmd_register(sc, c);
  else if (strcmp(type, "action") == 0) cmd_action(sc, c);
  else if (strcmp(type, "assert_return") == 0) cmd_assert_return(sc, c);
  else if (strcmp(type, "assert_trap") == 0) cmd_assert_trap(sc, c, false);
  else if (strcmp(type, "assert_exhaustion") == 0) cmd_assert_trap(sc, c, true);
  else if (strcmp(type, "assert_invalid") == 0 || strcmp(type, "assert_malformed") == 0)
    cmd_assert_bad_module(sc, c);
  else if (strcmp(type, "assert_unlinkable") == 0) cmd_assert_unlinkable(sc, c);
  else if (strcmp(type, "assert_uninstantiable") == 0) cmd_assert_uninstantiable(sc, c);
  else {
    sc->counts->skipped++;
    note(sc, "unknown command type, skipped");
  }
}

/* }=================================================================== */

/* {===================================================================
** Scripts and the driver
** =================================================================== */

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static void script_free(script_t *sc) {
  if (sc->store) shoal_store_free(sc->store); /* instances first, then modules */
  for (size_t i = 0; i < sc->nmodules; i++) shoal_module_free(sc->modules[i]);
  if (sc->host) spectest_host_free(sc->host);
  for (size_t i = 0; i < sc->nnamed; i++) free(sc->named[i].name);
  for (size_t i = 0; i < sc->nregistered; i++) free(sc->registered[i].name);
  free(sc->named);
  free(sc->registered);
  free(sc->modules);
  free(sc->dir);
}

/* Runs one script, adding to *counts. Never exits early on bad input. */
static void run_script(const char *path, bool verbose, counts_t *counts) {
  script_t sc;
  memset(&sc, 0, sizeof sc);
  sc.path = path;
  sc.verbose = verbose;
  sc.counts = counts;
  sc.cmd = "script";

  uint8_t *text;
  size_t len;
  char err[512];
  if (!cli_read_file(path, &text, &len, err, sizeof err)) {
    fail(&sc, "%s", err);
    return;
  }
  cJSON *root = json_load(&sc, (const char *)text, len);
  free(text);
  const cJSON *cmds = cJSON_GetObjectItemCaseSensitive(root, "commands");
  if (!root || !cJSON_IsArray(cmds)) {
    fail(&sc, "%s", root ? "no \"commands\" array" : "cannot parse JSON");
    cJSON_Delete(root);
    return;
  }
  const cJSON *c;
  if (strncmp(base_name(path), "simd_", 5) == 0) {
    /* SIMD is out of reach of the value API: count everything as skipped. */
    cJSON_ArrayForEach(c, cmds) counts->skipped++;
    cJSON_Delete(root);
    return;
  }

  const char *slash = strrchr(path, '/');
  sc.dir = slash ? strndup(path, (size_t)(slash - path + (slash == path))) : strdup(".");
  shoal_store_config_t cfg = {
    .size = sizeof cfg, .stack_bytes = 8u << 20, .max_call_depth = 20000,
    .max_memory_bytes = 0, .max_table_elems = 0, .fuel = 0,
  };
  if (!sc.dir || shoal_store_new(&cfg, &sc.store) != SHOAL_ERR_OK) {
    fail(&sc, "cannot create a store");
  } else if (!(sc.host = spectest_host_new(sc.store, verbose))) {
    fail(&sc, "cannot create the spectest host module");
  } else {
    cJSON_ArrayForEach(c, cmds) {
      if (cJSON_IsObject(c)) {
        run_command(&sc, c);
      } else {
        sc.cmd = "script";
        fail(&sc, "a command is not an object");
      }
    }
  }
  script_free(&sc);
  cJSON_Delete(root);
}

/* Runs a script in a child process; a crash or timeout becomes a failure. */
static void run_script_forked(const char *path, bool verbose, unsigned timeout,
                              counts_t *shared) {
  memset(shared, 0, sizeof *shared);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) { /* cannot fork: run here rather than not at all */
    run_script(path, verbose, shared);
    return;
  }
  if (pid == 0) {
    if (timeout) alarm(timeout);
    run_script(path, verbose, shared);
    fflush(stdout);
    _exit(0);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      status = 0;
      break;
    }
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGALRM)
      printf("%s:%ld: timed out after %u s\n", path, shared->line, timeout);
    else
      printf("%s:%ld: crashed: signal %d (%s)\n", path, shared->line, sig, strsignal(sig));
    shared->failed++;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    printf("%s:%ld: exited with status %d\n", path, shared->line, WEXITSTATUS(status));
    shared->failed++;
  }
}

static void print_counts(const char *prefix, const counts_t *c, bool always_skipped) {
  printf("%s%ld passed, %ld failed", prefix, c->passed, c->failed);
  if (always_skipped || c->skipped) printf(", %ld skipped", c->skipped);
  printf("\n");
}

int cli_spectest_main(int argc, char **argv) {
  bool verbose = false, fork_each = true;
  unsigned timeout = 300;
  int nfiles = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-v") == 0) verbose = true;
    else if (strcmp(argv[i], "--no-fork") == 0) fork_each = false;
    else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
      char *end;
      unsigned long t = strtoul(argv[++i], &end, 10);
      if (*end || end == argv[i] || t > 86400) {
        fprintf(stderr, "shoal: spectest: bad --timeout %s\n", argv[i]);
        return CLI_EXIT_USAGE;
      }
      timeout = (unsigned)t;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "shoal: spectest: unknown option %s\nrun 'shoal help' for usage\n",
              argv[i]);
      return CLI_EXIT_USAGE;
    } else nfiles++;
  }
  if (!nfiles) {
    fprintf(stderr, "shoal: spectest: missing FILE.json\nrun 'shoal help' for usage\n");
    return CLI_EXIT_USAGE;
  }

  counts_t *shared = NULL, local;
  if (fork_each) {
    void *p = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (p != MAP_FAILED) shared = p;
  }
  counts_t total = { 0, 0, 0, 0 };
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-v") == 0 || strcmp(a, "--no-fork") == 0) continue;
    if (strcmp(a, "--timeout") == 0) {
      i++;
      continue;
    }
    counts_t *c = shared ? shared : &local;
    if (shared) run_script_forked(a, verbose, timeout, shared);
    else {
      memset(&local, 0, sizeof local);
      run_script(a, verbose, &local);
    }
    char prefix[1024];
    snprintf(prefix, sizeof prefix, "%s: ", a);
    print_counts(prefix, c, true);
    fflush(stdout);
    total.passed += c->passed;
    total.failed += c->failed;
    total.skipped += c->skipped;
  }
  print_counts("", &total, false);
  if (shared) munmap(shared, sizeof *shared);
  return total.failed ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
