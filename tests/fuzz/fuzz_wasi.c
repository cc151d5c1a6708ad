/*
** libFuzzer target for the WASI layer: calls every wasi_snapshot_preview1
** function with fuzzer-chosen pointers, lengths, fds and flags, through a
** module built here that imports them all and exports a thunk for each.
** Built with -DSHOAL_FUZZ=ON (clang): build-fuzz/tests/fuzz_wasi (make fuzz-wasi).
**
** The guest has one page of memory (so ASan sees any host access outside
** it), "/" pre-opened on a scratch directory and "/ro" read-only on another.
** After each input the target aborts if anything beside them changed (the
** canary file, the read-only tree) or a call returned a value that is not a
** WASI errno. Files are capped at 1 MiB (RLIMIT_FSIZE), stdio is /dev/null
** and clock waits in poll_oneoff are cut to at most 1 ms.
*/
#define _GNU_SOURCE
#include <shoal/wasi.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* {==================================================================
** The functions and their signatures: 'i' i32, 'I' i64; every one but
** proc_exit returns an errno (i32).
** =================================================================== */
static const struct { const char *name, *params; } wasi_funcs[] = {
  {"args_get", "ii"}, {"args_sizes_get", "ii"}, {"environ_get", "ii"},
  {"environ_sizes_get", "ii"}, {"clock_res_get", "ii"}, {"clock_time_get", "iIi"},
  {"fd_advise", "iIIi"}, {"fd_allocate", "iII"}, {"fd_close", "i"}, {"fd_datasync", "i"},
  {"fd_fdstat_get", "ii"}, {"fd_fdstat_set_flags", "ii"}, {"fd_fdstat_set_rights", "iII"},
  {"fd_filestat_get", "ii"}, {"fd_filestat_set_size", "iI"}, {"fd_filestat_set_times", "iIIi"},
  {"fd_pread", "iiiIi"}, {"fd_prestat_get", "ii"}, {"fd_prestat_dir_name", "iii"},
  {"fd_pwrite", "iiiIi"}, {"fd_read", "iiii"}, {"fd_readdir", "iiiIi"}, {"fd_renumber", "ii"},
  {"fd_seek", "iIii"}, {"fd_sync", "i"}, {"fd_tell", "ii"}, {"fd_write", "iiii"},
  {"path_create_directory", "iii"}, {"path_filestat_get", "iiiii"},
  {"path_filestat_set_times", "iiiiIIi"}, {"path_link", "iiiiiii"},
  {"path_open", "iiiiiIIii"}, {"path_readlink", "iiiiii"}, {"path_remove_directory", "iii"},
  {"path_rename", "iiiiii"}, {"path_symlink", "iiiii"}, {"path_unlink_file", "iii"},
  {"poll_oneoff", "iiii"}, {"proc_exit", "i"}, {"proc_raise", "i"}, {"sched_yield", ""},
  {"random_get", "ii"}, {"sock_accept", "iii"}, {"sock_recv", "iiiiii"},
  {"sock_send", "iiiii"}, {"sock_shutdown", "ii"},
};
enum { NFUNCS = sizeof wasi_funcs / sizeof wasi_funcs[0], MEM_SIZE = 65536 };
#define POLL_ONEOFF 37
#define ERRNO_MAX 76   /* __WASI_ERRNO_NOTCAPABLE, the last one */

static bool has_result(size_t f) { return strcmp(wasi_funcs[f].name, "proc_exit") != 0; }
/* }================================================================== */

/* {==================================================================
** The module: import i is WASI function i, export "f<i>" calls it with
** its own parameters, export "memory" is one page.
** =================================================================== */
typedef struct buf { uint8_t *p; size_t n, cap; } buf_t;

static void put(buf_t *b, const void *src, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2;
    b->p = realloc(b->p, b->cap);
    if (!b->p) abort();
  }
  memcpy(b->p + b->n, src, n);
  b->n += n;
}
static void byte(buf_t *b, uint8_t v) { put(b, &v, 1); }
static void leb(buf_t *b, uint32_t v) {
  do {
    uint8_t c = v & 0x7f;
    v >>= 7;
    byte(b, c | (v ? 0x80 : 0));
  } while (v);
}
static void name(buf_t *b, const char *s) {
  leb(b, (uint32_t)strlen(s));
  put(b, s, strlen(s));
}
static void section(buf_t *mod, uint8_t id, buf_t *body) {
  byte(mod, id);
  leb(mod, (uint32_t)body->n);
  put(mod, body->p, body->n);
  body->n = 0;
}

static buf_t build_module(void) {
  buf_t mod = {0}, s = {0};
  put(&mod, "\0asm\1\0\0\0", 8);
  leb(&s, NFUNCS);                        /* types: one per function */
  for (size_t i = 0; i < NFUNCS; i++) {
    const char *p = wasi_funcs[i].params;
    byte(&s, 0x60);
    leb(&s, (uint32_t)strlen(p));
    for (; *p; p++) byte(&s, *p == 'I' ? 0x7e : 0x7f);
    if (has_result(i)) { leb(&s, 1); byte(&s, 0x7f); } else leb(&s, 0);
  }
  section(&mod, 1, &s);
  leb(&s, NFUNCS);                        /* imports */
  for (uint32_t i = 0; i < NFUNCS; i++) {
    name(&s, SHOAL_WASI_MODULE);
    name(&s, wasi_funcs[i].name);
    byte(&s, 0x00);
    leb(&s, i);
  }
  section(&mod, 2, &s);
  leb(&s, NFUNCS);                        /* functions: the thunks */
  for (uint32_t i = 0; i < NFUNCS; i++) leb(&s, i);
  section(&mod, 3, &s);
  leb(&s, 1);                             /* memory: exactly one page */
  byte(&s, 0x01); leb(&s, 1); leb(&s, 1);
  section(&mod, 5, &s);
  leb(&s, NFUNCS + 1);                    /* exports */
  name(&s, "memory"); byte(&s, 0x02); leb(&s, 0);
  for (uint32_t i = 0; i < NFUNCS; i++) {
    char n[16];
    snprintf(n, sizeof n, "f%u", i);
    name(&s, n); byte(&s, 0x00); leb(&s, NFUNCS + i);
  }
  section(&mod, 7, &s);
  leb(&s, NFUNCS);                        /* code */
  for (uint32_t i = 0; i < NFUNCS; i++) {
    buf_t body = {0};
    uint32_t np = (uint32_t)strlen(wasi_funcs[i].params);
    leb(&body, 0);                        /* no locals */
    for (uint32_t k = 0; k < np; k++) { byte(&body, 0x20); leb(&body, k); }
    byte(&body, 0x10); leb(&body, i);     /* call import i */
    byte(&body, 0x0b);
    leb(&s, (uint32_t)body.n);
    put(&s, body.p, body.n);
    free(body.p);
  }
  section(&mod, 10, &s);
  free(s.p);
  return mod;
}
/* }================================================================== */

/* {==================================================================
** The host side: work/root (pre-open "/"), work/ro (pre-open "/ro",
** read-only), work/canary.txt (must stay as it is).
** =================================================================== */
static char work[PATH_MAX], root[PATH_MAX + 8], ro[PATH_MAX + 8], canary[PATH_MAX + 16];
static shoal_module_t *module;
static int devnull = -1;
static const char canary_text[] = "canary: must not change\n";
static const char ro_text[] = "read-only file\n";

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st; (void)flag;
  if (ftw->level > 0 && remove(path) != 0) {
    /* The guest cannot chmod, so this is a surprise worth stopping for. */
    perror(path);
    abort();
  }
  return 0;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) { perror(path); abort(); }
}

/* Empties root and puts back the files and links the inputs start from. */
static void reset_root(void) {
  if (nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) { perror(root); abort(); }
  char p[PATH_MAX + 64];
  snprintf(p, sizeof p, "%s/a.txt", root); write_file(p, "hello, fuzzer\n");
  snprintf(p, sizeof p, "%s/d", root); mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/d/b.txt", root); write_file(p, "b\n");
  snprintf(p, sizeof p, "%s/l", root); (void)!symlink("a.txt", p);
  snprintf(p, sizeof p, "%s/up", root); (void)!symlink("../canary.txt", p);
  snprintf(p, sizeof p, "%s/abs", root); (void)!symlink(canary, p);
  snprintf(p, sizeof p, "%s/dl", root); (void)!symlink("d", p);
}

static bool file_is(const char *path, const char *text) {
  char got[256];
  FILE *f = fopen(path, "r");
  if (!f) return false;
  size_t n = fread(got, 1, sizeof got, f);
  fclose(f);
  return n == strlen(text) && memcmp(got, text, n) == 0;
}

/* The names in dir, sorted, joined by '/'. */
static void listing(const char *dir, char *out, size_t cap) {
  struct dirent **names;
  int n = scandir(dir, &names, NULL, alphasort);
  out[0] = 0;
  for (int i = 0; i < n; i++) {
    if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
      strncat(out, names[i]->d_name, cap - strlen(out) - 2);
      strcat(out, "/");
    }
    free(names[i]);
  }
  if (n >= 0) free(names);
}

/* What must hold after every input: nothing outside the pre-opens and
** nothing in the read-only one changed. */
static void check_outside(void) {
  char l[1024];
  listing(work, l, sizeof l);
  if (strcmp(l, "canary.txt/ro/root/") != 0) { fprintf(stderr, "work dir now holds %s\n", l); abort(); }
  if (!file_is(canary, canary_text)) { fprintf(stderr, "canary changed\n"); abort(); }
  listing(ro, l, sizeof l);
  if (strcmp(l, "r.txt/") != 0) { fprintf(stderr, "read-only dir now holds %s\n", l); abort(); }
  char p[PATH_MAX + 16];
  snprintf(p, sizeof p, "%s/r.txt", ro);
  if (!file_is(p, ro_text)) { fprintf(stderr, "read-only file changed\n"); abort(); }
}

static void cleanup(void) {
  if (work[0]) {
    nftw(work, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    rmdir(work);
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  const char *tmp = getenv("TMPDIR");
  snprintf(work, sizeof work, "%s/fuzz_wasi.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(work)) { perror(work); abort(); }
  atexit(cleanup);
  snprintf(root, sizeof root, "%s/root", work);
  snprintf(ro, sizeof ro, "%s/ro", work);
  snprintf(canary, sizeof canary, "%s/canary.txt", work);
  if (mkdir(root, 0755) != 0 || mkdir(ro, 0755) != 0) { perror(work); abort(); }
  write_file(canary, canary_text);
  char p[PATH_MAX + 16];
  snprintf(p, sizeof p, "%s/r.txt", ro);
  write_file(p, ro_text);
  reset_root();

  /* Writes past 1 MiB fail with EFBIG instead of filling the disk. */
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit rl = { 1 << 20, 1 << 20 };
  setrlimit(RLIMIT_FSIZE, &rl);
  devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) { perror("/dev/null"); abort(); }

  buf_t mod = build_module();
  shoal_diag_t d;
  if (shoal_module_new(mod.p, mod.n, &module, &d) != SHOAL_ERR_OK) {
    fprintf(stderr, "fuzz_wasi: the thunk module is invalid: %s\n", d.message);
    abort();
  }
  free(mod.p);
  return 0;
}
/* }================================================================== */

/* {==================================================================
** Arguments from the input.
** =================================================================== */
typedef struct input { const uint8_t *p; size_t n; } input_t;

static uint8_t take8(input_t *in) {
  if (!in->n) return 0;
  in->n--;
  return *in->p++;
}
static uint64_t take(input_t *in, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v |= (uint64_t)take8(in) << (8 * i);
  return v;
}

/* Offsets of the strings and structures init_memory lays out. */
static const uint32_t interesting[] = {
  0x000, 0x010, 0x020, 0x030, 0x040, 0x050, 0x060, 0x070, 0x080, 0x090, 0x0a0, 0x0b0,
  0x200, 0x210, 0x300, 0x400, 0x800, 0x1000,
  MEM_SIZE - 1, MEM_SIZE - 8, MEM_SIZE - 16, MEM_SIZE, MEM_SIZE + 1, 0xffffffffu, 0x80000000u,
};
static const char *const strings[] = {  /* at 0x10 * i */
  "a.txt", "d", "d/b.txt", "l", "up", "abs", "..", "../canary.txt", "new", "d/new", "/", "dl/b.txt",
};

/* Mostly fds that exist (0-2 stdio, 3 "/", 4 "/ro", then what path_open
** made), the strings above followed by their lengths, and small numbers. */
static uint32_t last_len;   /* of the last string pointer handed out (per input) */

static uint32_t arg_i32(input_t *in) {
  uint8_t b = take8(in);
  if (b < 64) return b % 8;
  if (b < 80) return last_len;
  if (b < 112) return b & 0x3f;
  if (b < 176) {
    uint32_t off = interesting[take8(in) % (sizeof interesting / sizeof interesting[0])];
    if (off % 0x10 == 0 && off / 0x10 < sizeof strings / sizeof strings[0]) last_len = (uint32_t)strlen(strings[off / 0x10]);
    return off;
  }
  if (b < 224) return (uint32_t)take(in, 2);         /* anywhere in memory */
  return (uint32_t)take(in, 4);
}

static uint64_t arg_i64(input_t *in) {
  static const uint64_t special[] = { 0, 1, 4096, 1u << 20, (uint64_t)1 << 32, INT64_MAX,
                                      (uint64_t)INT64_MAX + 1, UINT64_MAX, 1000000000 };
  uint8_t b = take8(in);
  if (b < 128) return b;
  if (b < 192) return special[take8(in) % (sizeof special / sizeof special[0])];
  return take(in, 8);
}

/* Strings, two iovecs over a buffer, a clock subscription; then the
** input's own bytes at an offset it picks. */
static void init_memory(uint8_t *mem, input_t *in) {
  memset(mem, 0, MEM_SIZE);
  for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) memcpy(mem + 0x10 * i, strings[i], strlen(strings[i]));
  uint32_t iov[4] = { 0x400, 64, 0x800, 16 };
  memcpy(mem + 0x200, iov, sizeof iov);
  memcpy(mem + 0x400, "some bytes to write", 19);
  uint64_t sub[6] = { 42, 0 /* tag clock */, 1 /* monotonic */, 500000 /* 0.5 ms */, 0, 0 };
  memcpy(mem + 0x300, sub, sizeof sub);
  uint32_t at = (uint32_t)take(in, 2), len = take8(in);
  if (len > in->n) len = (uint32_t)in->n;
  if (at + len > MEM_SIZE) len = MEM_SIZE - at;
  memcpy(mem + at, in->p, len);
  in->p += len;
  in->n -= len;
}

/* poll_oneoff waits for real: cut every clock subscription the call will
** read to at most 1 ms, relative. */
static void tame_poll(uint8_t *mem, uint32_t in, uint32_t nsubs) {
  for (uint64_t i = 0; i < nsubs; i++) {
    uint64_t at = (uint64_t)in + i * 48;
    if (at + 48 > MEM_SIZE) return;
    if (mem[at + 8] != 0) continue;              /* not a clock */
    uint64_t t;
    memcpy(&t, mem + at + 24, 8);
    t %= 1000000;
    memcpy(mem + at + 24, &t, 8);
    mem[at + 40] &= (uint8_t)~1;                 /* not absolute */
  }
}
/* }================================================================== */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  input_t in = { data, size };
  last_len = 0;
  shoal_store_config_t sc = { .size = sizeof sc, .stack_bytes = 1 << 20, .max_call_depth = 1000 };
  shoal_store_t *store = NULL;
  if (shoal_store_new(&sc, &store) != SHOAL_ERR_OK) abort();

  const char *argv[] = { "fuzz.wasm", "arg one", "" };
  const char *env[] = { "A=1", "LONG=" "0123456789012345678901234567890123456789" };
  shoal_wasi_preopen_t pre[] = { { root, "/", false }, { ro, "/ro", true } };
  int stdio[3] = { devnull, devnull, devnull };
  shoal_wasi_config_t wc = { .size = sizeof wc, .args = argv, .nargs = 3, .env = env, .nenv = 2,
                             .preopens = pre, .npreopens = 2, .stdio = stdio };
  shoal_diag_t d;
  shoal_wasi_t *wasi = shoal_wasi_new(&wc, &d);
  if (!wasi) { fprintf(stderr, "shoal_wasi_new: %s\n", d.message); abort(); }
  shoal_wasi_bind(wasi, store);
  shoal_extern_t imports[NFUNCS];
  shoal_instance_t *inst = NULL;
  if (shoal_module_resolve_imports(module, shoal_wasi_resolve, wasi, imports, &d) != SHOAL_ERR_OK ||
      shoal_instance_new(store, module, imports, NFUNCS, &inst, &d) != SHOAL_ERR_OK) {
    fprintf(stderr, "fuzz_wasi: cannot link every WASI function: %s\n", d.message);
    abort();
  }
  shoal_memory_t *mem = shoal_instance_memory(inst, "memory");
  init_memory(shoal_memory_data(mem), &in);

  for (int call = 0; call < 32 && in.n > 0; call++) {
    size_t f = take8(&in) % NFUNCS;
    const char *p = wasi_funcs[f].params;
    shoal_raw_t io[9] = { 0 };
    for (size_t k = 0; p[k]; k++) io[k] = p[k] == 'I' ? arg_i64(&in) : arg_i32(&in);
    if (f == POLL_ONEOFF) tame_poll(shoal_memory_data(mem), (uint32_t)io[0], (uint32_t)io[2]);
    char fname[16];
    snprintf(fname, sizeof fname, "f%zu", f);
    shoal_err_t e = shoal_func_call_raw(store, shoal_instance_func(inst, fname), io, &d);
    if (e != SHOAL_ERR_OK) break;   /* proc_exit, or a trap: the instance is done */
    if (has_result(f) && (uint32_t)io[0] > ERRNO_MAX) {
      fprintf(stderr, "fuzz_wasi: %s returned %u, not a WASI errno\n", wasi_funcs[f].name, (uint32_t)io[0]);
      abort();
    }
  }
  shoal_store_free(store);
  shoal_wasi_free(wasi);
  check_outside();
  reset_root();
  return 0;
}
