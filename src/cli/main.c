/*
** main.c: the `shoal` command: run, validate and inspect WebAssembly
** modules, and run spec test scripts (spectest.c). Uses only the public
** engine API.
*/
#define _GNU_SOURCE /* environ */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "shoal/wasi.h"

static const char usage_text[] =
  "usage: shoal <command> [arguments]\n"
  "\n"
  "commands:\n"
  "  run [OPTIONS] [--] FILE.wasm [ARGS...]\n"
  "      Run a WASI (preview 1) command: instantiate the module, call its\n"
  "      \"_start\" export with argv = FILE.wasm ARGS... and exit with the\n"
  "      guest's status. stdin, stdout and stderr pass through. A module\n"
  "      without \"_start\" is only instantiated (its start function runs).\n"
  "      --dir HOST[::GUEST][:readonly]  pre-open directory HOST as GUEST\n"
  "                          (default: the same name); the guest reaches no\n"
  "                          other files; :readonly refuses changes (EROFS)\n"
  "      --env KEY=VALUE     set a guest environment variable (--env KEY\n"
  "                          copies the host's); the environment is empty\n"
  "                          otherwise\n"
  "      --inherit-env       start from the host's whole environment\n"
  "      --max-memory BYTES  cap each linear memory (K, M, G suffixes):\n"
  "                          memory.grow returns -1 past it\n"
  "      --timeout MS        interrupt the guest after MS milliseconds\n"
  "                          (exit status 3)\n"
  "      --listen ADDR:PORT  listen on TCP ADDR:PORT (IPv4) and give the\n"
  "                          socket to the guest as fd 3, 4, ... (before the\n"
  "                          pre-opened directories) for sock_accept\n"
  "      --invoke NAME       call export NAME instead of \"_start\", with ARGS\n"
  "                          converted to its parameter types (integers in\n"
  "                          decimal or 0x hex, may be negative; floats as for\n"
  "                          strtod, also nan and inf; references only as\n"
  "                          null), and print each result on its own line. A\n"
  "                          reactor's \"_initialize\" runs first. Also\n"
  "                          accepted right after FILE.wasm.\n"
  "      A component runs its wasi:cli/run export with WASI 0.2; it takes\n"
  "      --dir, --env and --inherit-env as above, and\n"
  "      --allow-net IP[:PORT]  let wasi:sockets bind, connect and send to IP\n"
  "                          (any port, or PORT; IPv6 as [IP]:PORT)\n"
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
  "  serve [OPTIONS] COMPONENT.wasm\n"
  "      Serve a wasi:http/proxy component over HTTP/1.1, a fresh instance per\n"
  "      request (see shoal serve --help).\n"
  "  help, --help      This text.\n"
  "  --version         Print the version.\n"
  "\n"
  "environment:\n"
  "  SHOAL_WASI_NO_OPENAT2=1  resolve guest paths with the portable walk even\n"
  "                           where openat2 exists (for testing the sandbox)\n"
  "\n"
  "exit status:\n"
  "  0  success\n"
  "  1  the module failed to load, validate or link, or a file could not be\n"
  "     read; for spectest, some command failed\n"
  "  2  usage error\n"
  "  3  the guest trapped (the message and backtrace go to stderr), or ran\n"
  "     past --timeout\n"
  "  a guest that exits through WASI proc_exit gives its status (255 if it\n"
  "  is outside 0..255);\n"
  "  a _start that returns gives 0\n";

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

/* What `run` offers a module's imports: a chain of resolvers tried in
** order (WASI today; later layers add theirs with run_linker_add). */
typedef struct run_resolver {
  shoal_resolve_fn fn;
  void *ud;
} run_resolver_t;

#define RUN_MAX_RESOLVERS 8
typedef struct run_linker {
  shoal_store_t *store;
  run_resolver_t r[RUN_MAX_RESOLVERS];
  size_t n;
} run_linker_t;

static void run_linker_add(run_linker_t *l, shoal_resolve_fn fn, void *ud) {
  if (l->n < RUN_MAX_RESOLVERS) l->r[l->n++] = (run_resolver_t){fn, ud};
}

static bool run_resolve(run_linker_t *l, const shoal_import_desc_t *imp, shoal_extern_t *out) {
  for (size_t i = 0; i < l->n; i++)
    if (l->r[i].fn(l->r[i].ud, imp, out)) return true;
  return false;
}

/* Fills imports[0..count) or prints the first unresolved import. */
static bool run_link(run_linker_t *l, const shoal_module_t *m, shoal_extern_t *imports) {
  size_t n = shoal_module_import_count(m);
  for (size_t i = 0; i < n; i++) {
    shoal_import_desc_t imp;
    shoal_module_import(m, i, &imp);
    if (!run_resolve(l, &imp, &imports[i])) {
      char buf[800];
      cli_buf_t b;
      cli_buf_init(&b, buf, sizeof buf);
      bool wasi = shoal_wasi_provides(imp.module, imp.module_len, imp.name, imp.name_len);
      cli_buf_printf(&b, wasi ? "import " : "unknown import ");
      cli_buf_name(&b, imp.module, imp.module_len);
      cli_buf_printf(&b, " ");
      cli_buf_name(&b, imp.name, imp.name_len);
      if (wasi) {
        cli_buf_printf(&b, " has the wrong type: ");
        cli_buf_externtype(&b, &imp.type);
      }
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

/* The command line of `run`, parsed. */
typedef struct run_opts {
  const char *file, *invoke;
  char **args;              /* after FILE: the guest's arguments, or --invoke's */
  int nargs;
  shoal_wasi_preopen_t *dirs;
  size_t ndirs;
  const char **env;         /* "K=V", pointing into argv, environ or envbuf */
  size_t nenv;
  char **envbuf;            /* --env K without a value: "K=<host value>" copies */
  size_t nenvbuf;
  bool inherit_env;
  uint64_t max_memory;
  uint64_t timeout_ms;
  int *listen;
  size_t nlisten;
} run_opts_t;

static void run_opts_free(run_opts_t *o) {
  for (size_t i = 0; i < o->nlisten; i++) close(o->listen[i]);
  for (size_t i = 0; i < o->nenvbuf; i++) free(o->envbuf[i]);
  free(o->envbuf);
  free(o->listen);
  free(o->dirs);
  free(o->env);
  free(o->args);
}

/* A byte count: decimal, optionally with a K, M or G suffix (powers of 2). */
static bool parse_size(const char *s, uint64_t *out) {
  if (*s < '0' || *s > '9') return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno) return false;
  unsigned shift = 0;
  switch (*end) {
  case 'k': case 'K': shift = 10; end++; break;
  case 'm': case 'M': shift = 20; end++; break;
  case 'g': case 'G': shift = 30; end++; break;
  default: break;
  }
  if (*end == 'i' && shift) end++; /* KiB-style "Ki" */
  if (*end == 'B' && shift) end++;
  if (*end || (shift && v > (UINT64_MAX >> shift))) return false;
  *out = (uint64_t)v << shift;
  return true;
}

/* HOST[::GUEST][:readonly] */
static bool parse_dir(char *spec, shoal_wasi_preopen_t *out) {
  size_t n = strlen(spec);
  static const char ro[] = ":readonly";
  out->readonly = false;
  if (n > sizeof ro - 1 && strcmp(spec + n - (sizeof ro - 1), ro) == 0) {
    out->readonly = true;
    spec[n - (sizeof ro - 1)] = '\0';
  }
  char *sep = strstr(spec, "::");
  out->host_path = spec;
  out->guest_path = spec;
  if (sep) {
    *sep = '\0';
    out->guest_path = sep + 2;
  }
  return out->host_path[0] && out->guest_path[0];
}

/* Opens a listening TCP socket on IPv4 ADDR:PORT. */
static int open_listener(const char *spec) {
  const char *colon = strrchr(spec, ':');
  if (!colon || colon == spec) {
    fprintf(stderr, "shoal: --listen %s: expected ADDRESS:PORT\n", spec);
    return -1;
  }
  char host[64];
  size_t hl = (size_t)(colon - spec);
  if (hl >= sizeof host) hl = sizeof host - 1;
  memcpy(host, spec, hl);
  host[hl] = '\0';
  char *end;
  errno = 0;
  unsigned long port = strtoul(colon + 1, &end, 10);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (errno || *end || !colon[1] || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    fprintf(stderr, "shoal: --listen %s: expected an IPv4 ADDRESS:PORT\n", spec);
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 128) != 0) {
    fprintf(stderr, "shoal: --listen %s: %s\n", spec, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

/* Returns -1 when parsed, else the exit status of a usage/setup error. */
static int parse_run_args(int argc, char **argv, run_opts_t *o) {
  size_t cap = (size_t)argc + 1;
  o->args = calloc(cap, sizeof *o->args);
  o->dirs = calloc(cap, sizeof *o->dirs);
  o->env = calloc(cap, sizeof *o->env);
  o->envbuf = calloc(cap, sizeof *o->envbuf);
  o->listen = calloc(cap, sizeof *o->listen);
  if (!o->args || !o->dirs || !o->env || !o->envbuf || !o->listen) return CLI_EXIT_ERROR;
  int i = 1;
  for (; i < argc; i++) {
    char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (a[0] != '-' || !a[1]) break;
    /* --opt VALUE or --opt=VALUE */
    char *val = NULL, name[32];
    const char *eq = strchr(a, '=');
    size_t nl = eq ? (size_t)(eq - a) : strlen(a);
    if (nl >= sizeof name) return usage_error("run: unknown option %s", a);
    memcpy(name, a, nl);
    name[nl] = '\0';
    bool takes = strcmp(name, "--dir") == 0 || strcmp(name, "--env") == 0 ||
                 strcmp(name, "--max-memory") == 0 || strcmp(name, "--timeout") == 0 ||
                 strcmp(name, "--listen") == 0 || strcmp(name, "--invoke") == 0;
    if (strcmp(name, "--inherit-env") == 0 && !eq) {
      o->inherit_env = true;
      continue;
    }
    if (!takes) return usage_error("run: unknown option %s", a);
    if (eq) val = (char *)eq + 1;
    else if (i + 1 < argc) val = argv[++i];
    else return usage_error("run: %s needs a value", name);
    if (strcmp(name, "--dir") == 0) {
      if (!parse_dir(val, &o->dirs[o->ndirs]))
        return usage_error("run: --dir %s: expected HOST[::GUEST][:readonly]", val);
      o->ndirs++;
    } else if (strcmp(name, "--env") == 0) {
      if (!val[0] || val[0] == '=') return usage_error("run: --env %s: expected KEY=VALUE", val);
      if (strchr(val, '=')) {
        o->env[o->nenv++] = val;
      } else {
        const char *hv = getenv(val); /* --env KEY passes the host's value, if any */
        if (!hv) continue;
        size_t l = strlen(val) + strlen(hv) + 2;
        char *kv = malloc(l);
        if (!kv) return CLI_EXIT_ERROR;
        snprintf(kv, l, "%s=%s", val, hv);
        o->envbuf[o->nenvbuf++] = kv;
        o->env[o->nenv++] = kv;
      }
    } else if (strcmp(name, "--max-memory") == 0) {
      if (!parse_size(val, &o->max_memory) || o->max_memory == 0)
        return usage_error("run: --max-memory %s: expected a positive byte count", val);
    } else if (strcmp(name, "--timeout") == 0) {
      if (!parse_size(val, &o->timeout_ms) || o->timeout_ms == 0)
        return usage_error("run: --timeout %s: expected milliseconds > 0", val);
    } else if (strcmp(name, "--listen") == 0) {
      int fd = open_listener(val);
      if (fd < 0) return CLI_EXIT_ERROR;
      o->listen[o->nlisten++] = fd;
    } else {
      o->invoke = val;
    }
  }
  if (i >= argc) return usage_error("run: %s", "missing FILE.wasm");
  o->file = argv[i++];
  /* The older form `run FILE --invoke NAME ARGS...` still works. */
  if (!o->invoke && i + 1 < argc && strcmp(argv[i], "--invoke") == 0) {
    o->invoke = argv[i + 1];
    i += 2;
  } else if (!o->invoke && i < argc && strcmp(argv[i], "--invoke") == 0) {
    return usage_error("%s needs a function name", "--invoke");
  }
  for (; i < argc; i++) o->args[o->nargs++] = argv[i];
  return -1;
}

/* The WASI environment: the host's with --inherit-env, then --env (a later
** KEY replaces an earlier one, as in a shell). */
static const char **build_env(const run_opts_t *o, size_t *n) {
  extern char **environ;
  size_t nh = 0;
  if (o->inherit_env && environ)
    while (environ[nh]) nh++;
  const char **env = calloc(nh + o->nenv + 1, sizeof *env);
  if (!env) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < nh + o->nenv; i++) {
    const char *kv = i < nh ? environ[i] : o->env[i - nh];
    size_t kl = strcspn(kv, "=");
    size_t j = 0;
    while (j < k && !(strncmp(env[j], kv, kl) == 0 && env[j][kl] == '=')) j++;
    env[j] = kv;
    if (j == k) k++;
  }
  *n = k;
  return env;
}

/* The --timeout timer: interrupts the store and the WASI context unless
** cancelled first. */
typedef struct run_timer {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool cancelled, fired, started;
  struct timespec deadline;
  shoal_store_t *store;
  shoal_wasi_t *wasi;
} run_timer_t;

static void *timer_main(void *p) {
  run_timer_t *t = p;
  pthread_mutex_lock(&t->mu);
  while (!t->cancelled) {
    if (pthread_cond_timedwait(&t->cv, &t->mu, &t->deadline) == ETIMEDOUT) {
      if (!t->cancelled) {
        t->fired = true;
        shoal_store_interrupt(t->store);
        shoal_wasi_interrupt(t->wasi);
      }
      break;
    }
  }
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

static bool timer_start(run_timer_t *t, uint64_t ms, shoal_store_t *s, shoal_wasi_t *w) {
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_mutex_init(&t->mu, NULL);
  pthread_cond_init(&t->cv, &ca);
  pthread_condattr_destroy(&ca);
  clock_gettime(CLOCK_MONOTONIC, &t->deadline);
  uint64_t ns = (uint64_t)t->deadline.tv_nsec + (ms % 1000) * 1000000u;
  t->deadline.tv_sec += (time_t)(ms / 1000 + ns / 1000000000u);
  t->deadline.tv_nsec = (long)(ns % 1000000000u);
  t->store = s;
  t->wasi = w;
  t->started = pthread_create(&t->thread, NULL, timer_main, t) == 0;
  return t->started;
}

/* Stops the timer; true if it fired. */
static bool timer_stop(run_timer_t *t) {
  if (!t->started) return false;
  pthread_mutex_lock(&t->mu);
  t->cancelled = true;
  pthread_cond_signal(&t->cv);
  pthread_mutex_unlock(&t->mu);
  pthread_join(t->thread, NULL);
  pthread_mutex_destroy(&t->mu);
  pthread_cond_destroy(&t->cv);
  t->started = false; /* a second stop is a no-op */
  return t->fired;
}

/* Exit status for a failed instantiation or call. */
/* A guest status as a process exit status: one outside 0..255 would be cut
** to its low byte by the OS (256 would read as success), so it becomes 255. */
static int guest_status(int code) { return code < 0 || code > 255 ? 255 : code; }

static int run_failure(const run_opts_t *o, bool timed_out, const shoal_diag_t *diag,
                       shoal_err_t e) {
  if (e == SHOAL_ERR_EXIT) return guest_status(diag->exit_code);
  if (timed_out && e == SHOAL_ERR_TRAP_INTERRUPT) {
    /* The usual report (with where the guest was), under a clearer message. */
    shoal_diag_t d = *diag;
    snprintf(d.message, sizeof d.message, "guest interrupted after --timeout %" PRIu64 " ms",
             o->timeout_ms);
    print_runtime_error(&d, e);
    return CLI_EXIT_TRAP;
  }
  return runtime_status(diag, e);
}

/* Calls --invoke NAME with the command-line arguments; prints the results. */
static int run_invoke(const run_opts_t *o, shoal_store_t *s, shoal_instance_t *inst,
                      bool *call_failed, shoal_err_t *err, shoal_diag_t *diag) {
  shoal_extern_t ex;
  *call_failed = false;
  if (!shoal_instance_export(inst, o->invoke, strlen(o->invoke), &ex)) {
    fprintf(stderr, "error: no export named \"%s\"\n", o->invoke);
    return CLI_EXIT_ERROR;
  }
  if (ex.kind != SHOAL_EXTERN_FUNC) {
    fprintf(stderr, "error: export \"%s\" is a %s, not a function\n", o->invoke,
            shoal_extern_kind_name(ex.kind));
    return CLI_EXIT_ERROR;
  }
  shoal_functype_t ft;
  shoal_func_type(ex.of.func, &ft);
  if ((uint32_t)o->nargs != ft.nparams) {
    char buf[512];
    cli_buf_t b;
    cli_buf_init(&b, buf, sizeof buf);
    cli_buf_functype(&b, &ft);
    fprintf(stderr, "shoal: \"%s\" takes %u argument%s, %d given; its type is %s\n", o->invoke,
            (unsigned)ft.nparams, ft.nparams == 1 ? "" : "s", o->nargs, buf);
    return CLI_EXIT_USAGE;
  }
  shoal_val_t *vals = calloc(ft.nparams + 1, sizeof *vals);
  shoal_val_t *results = calloc(ft.nresults + 1, sizeof *results);
  int status = CLI_EXIT_ERROR;
  if (!vals || !results) goto done;
  for (uint32_t i = 0; i < ft.nparams; i++) {
    if (!parse_arg(o->args[i], ft.params[i], &vals[i])) {
      fprintf(stderr, "shoal: argument %u: cannot read \"%s\" as %s\n", (unsigned)i + 1,
              o->args[i], cli_valtype_name(ft.params[i]));
      status = CLI_EXIT_USAGE;
      goto done;
    }
  }
  *err = shoal_func_call(s, ex.of.func, vals, ft.nparams, results, ft.nresults, diag);
  if (*err != SHOAL_ERR_OK) {
    *call_failed = true;
    goto done;
  }
  for (uint32_t i = 0; i < ft.nresults; i++) print_result(&results[i]);
  status = CLI_EXIT_OK;
done:
  free(vals);
  free(results);
  return status;
}

static int cmd_run(int argc, char **argv) {
  run_opts_t o;
  memset(&o, 0, sizeof o);
  int status = parse_run_args(argc, argv, &o);
  if (status >= 0) {
    run_opts_free(&o);
    return status;
  }
  status = CLI_EXIT_ERROR;

  shoal_module_t *m = NULL;
  shoal_store_t *s = NULL;
  shoal_wasi_t *wasi = NULL;
  shoal_extern_t *imports = NULL;
  const char **env = NULL;
  const char **guest_argv = NULL;
  run_timer_t timer;
  memset(&timer, 0, sizeof timer);
  bool timed_out = false;
  shoal_diag_t diag;
  shoal_diag_clear(&diag);
  /* A guest writing to a closed pipe gets EPIPE, not a dead host. */
  signal(SIGPIPE, SIG_IGN);

  m = load_module(o.file);
  if (!m) goto done;
  shoal_store_config_t cfg = {
    .size = sizeof cfg, .stack_bytes = 8u << 20, .max_call_depth = 20000,
    .max_memory_bytes = o.max_memory, .max_table_elems = 0, .fuel = 0,
  };
  if (shoal_store_new(&cfg, &s) != SHOAL_ERR_OK) {
    fprintf(stderr, "error: cannot create a store\n");
    goto done;
  }

  /* The guest's argv: the module's file name, then what follows it (with
  ** --invoke those are the function's arguments instead). */
  size_t gargc = 1 + (o.invoke ? 0 : (size_t)o.nargs);
  guest_argv = calloc(gargc + 1, sizeof *guest_argv);
  size_t nenv = 0;
  env = build_env(&o, &nenv);
  if (!guest_argv || !env) goto done;
  guest_argv[0] = o.file;
  for (size_t i = 1; i < gargc; i++) guest_argv[i] = o.args[i - 1];
  shoal_wasi_config_t wc = {
    .size = sizeof wc, .args = guest_argv, .nargs = gargc, .env = env, .nenv = nenv,
    .preopens = o.dirs, .npreopens = o.ndirs, .listen_fds = o.listen, .nlisten = o.nlisten,
  };
  /* For tests of the sandbox's portable path walk on kernels with openat2. */
  const char *no2 = getenv("SHOAL_WASI_NO_OPENAT2");
  if (no2 && *no2 && strcmp(no2, "0") != 0) wc.flags |= SHOAL_WASI_NO_OPENAT2;
  wasi = shoal_wasi_new(&wc, &diag);
  if (!wasi) {
    fprintf(stderr, "error: %s\n", cli_diag_message(&diag, diag.code));
    goto done;
  }
  shoal_wasi_bind(wasi, s);
  /* The guest holds its own copies of the listening sockets now. */
  for (size_t i = 0; i < o.nlisten; i++) close(o.listen[i]);
  o.nlisten = 0;

  size_t nimp = shoal_module_import_count(m);
  imports = calloc(nimp ? nimp : 1, sizeof *imports);
  if (!imports) goto done;
  run_linker_t linker = {.store = s};
  run_linker_add(&linker, shoal_wasi_resolve, wasi);
  if (!run_link(&linker, m, imports)) goto done;

  if (o.timeout_ms && !timer_start(&timer, o.timeout_ms, s, wasi)) {
    fprintf(stderr, "error: cannot start the --timeout timer\n");
    goto done;
  }
  shoal_instance_t *inst = NULL;
  shoal_err_t e = shoal_instance_new(s, m, imports, nimp, &inst, &diag);
  if (e == SHOAL_ERR_OK && o.invoke) {
    /* A WASI reactor initialises itself before its exports are used. */
    shoal_func_t *init = shoal_instance_func(inst, "_initialize");
    if (init) e = shoal_func_call(s, init, NULL, 0, NULL, 0, &diag);
  }
  if (e != SHOAL_ERR_OK) {
    timed_out = timer_stop(&timer);
    status = run_failure(&o, timed_out, &diag, e);
    goto done;
  }
  if (o.invoke) {
    bool failed;
    status = run_invoke(&o, s, inst, &failed, &e, &diag);
    timed_out = timer_stop(&timer);
    if (failed) status = run_failure(&o, timed_out, &diag, e);
  } else {
    int code = 0;
    e = shoal_wasi_run_start(wasi, s, inst, &code, &diag);
    timed_out = timer_stop(&timer);
    status = e == SHOAL_ERR_OK ? guest_status(code) : run_failure(&o, timed_out, &diag, e);
  }

done:
  timer_stop(&timer);
  fflush(stdout);
  free(imports);
  if (s) shoal_store_free(s); /* before the module (instances refer to it) and WASI */
  shoal_wasi_free(wasi);
  if (m) shoal_module_free(m);
  free(env);
  free(guest_argv);
  run_opts_free(&o);
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

/* `shoal serve` and `shoal spectest` are the programs shoal-serve and
** shoal-spectest beside this one: only they link the HTTP libraries and
** cJSON, so `shoal run` starts fast and small. */
static int exec_sibling(const char *name, char **argv) {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
  if (n <= 0) {
    fprintf(stderr, "shoal: cannot find %s: %s\n", name, strerror(errno));
    return CLI_EXIT_ERROR;
  }
  path[n] = 0;
  char *slash = strrchr(path, '/');
  snprintf(slash ? slash + 1 : path, 32, "%s", name);
  argv[1] = path;
  execv(path, argv + 1);
  fprintf(stderr, "shoal: cannot run %s: %s\n", path, strerror(errno));
  return CLI_EXIT_ERROR;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage_text, stderr);
    return CLI_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  int cli_component_dispatch(const char *cmd, int argc, char **argv); /* cmd_component.c */
  int crc = cli_component_dispatch(cmd, argc - 1, argv + 1); /* call; inspect/run of a component */
  if (crc >= 0) return crc;
  if (strcmp(cmd, "run") == 0) return cmd_run(argc - 1, argv + 1);
  if (strcmp(cmd, "validate") == 0) return cmd_validate(argc - 1, argv + 1);
  if (strcmp(cmd, "inspect") == 0) return cmd_inspect(argc - 1, argv + 1);
  if (strcmp(cmd, "spectest") == 0) return exec_sibling("shoal-spectest", argv);
  if (strcmp(cmd, "serve") == 0) return exec_sibling("shoal-serve", argv);
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
