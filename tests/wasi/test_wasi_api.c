/*
** Unit tests of the public WASI API (include/shoal/wasi.h) as an embedder
** uses it: stdio replaced by pipes or closed, exit statuses, traps, a bad
** pre-open, interrupting a sleeping guest. The guests are the programs of
** tests/wasi/progs, built to SHOAL_WASI_PROGS (see tests/wasi/CMakeLists.txt).
*/
#define _GNU_SOURCE
#include "test.h"

#include <shoal/wasi.h>

#ifndef SHOAL_WASI_PROGS   /* configured with -DSHOAL_WASI_TESTS=OFF: no guests */
TEST(skipped_without_wasi_programs) {}
#else
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static shoal_module_t *load(const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.wasm", SHOAL_WASI_PROGS, name);
  FILE *f = fopen(path, "rb");
  if (!f) TEST_FAIL("cannot open %s", path);
  static uint8_t bytes[1 << 20];
  size_t n = fread(bytes, 1, sizeof bytes, f);
  fclose(f);
  shoal_module_t *m = NULL;
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_module_new(bytes, n, &m, &d), &d);
  return m;
}

/* One guest run: store, context, instance; run _start. */
typedef struct run {
  shoal_store_t *store;
  shoal_wasi_t *wasi;
  shoal_module_t *module;
  int exit_code;
  shoal_diag_t diag;
} run_t;

static shoal_err_t run_guest(run_t *r, const char *prog, const shoal_wasi_config_t *wc) {
  r->module = load(prog);
  ASSERT_OK(shoal_store_new(NULL, &r->store));
  r->wasi = shoal_wasi_new(wc, &r->diag);
  if (!r->wasi) TEST_FAIL("shoal_wasi_new: %s", r->diag.message);
  shoal_wasi_bind(r->wasi, r->store);
  size_t n = shoal_module_import_count(r->module);
  shoal_extern_t *imports = calloc(n ? n : 1, sizeof *imports);
  ASSERT_OK_DIAG(shoal_module_resolve_imports(r->module, shoal_wasi_resolve, r->wasi, imports, &r->diag),
                 &r->diag);
  shoal_instance_t *inst = NULL;
  ASSERT_OK_DIAG(shoal_instance_new(r->store, r->module, imports, n, &inst, &r->diag), &r->diag);
  free(imports);
  r->exit_code = -100;
  return shoal_wasi_run_start(r->wasi, r->store, inst, &r->exit_code, &r->diag);
}

static void run_free(run_t *r) {
  shoal_store_free(r->store);   /* before the context: its host functions refer to it */
  shoal_wasi_free(r->wasi);
  shoal_module_free(r->module);
}

TEST(provides_names_only_preview1_functions) {
  ASSERT_TRUE(shoal_wasi_provides("wasi_snapshot_preview1", 22, "fd_write", 8));
  ASSERT_TRUE(shoal_wasi_provides("wasi_snapshot_preview1", 22, "sock_accept", 11));
  ASSERT_TRUE(!shoal_wasi_provides("wasi_snapshot_preview1", 22, "fd_writ", 7));
  ASSERT_TRUE(!shoal_wasi_provides("wasi_unstable", 13, "fd_write", 8));
  ASSERT_TRUE(!shoal_wasi_provides("env", 3, "fd_write", 8));
}

TEST(stdio_through_pipes) {
  int in[2], out[2];
  ASSERT_TRUE(pipe(in) == 0 && pipe(out) == 0);
  static const char text[] = "through a pipe\nand back\n";
  ASSERT_EQ_INT(write(in[1], text, sizeof text - 1), sizeof text - 1);
  close(in[1]);   /* the guest sees end of file after the text */
  int stdio[3] = { in[0], out[1], -1 };
  const char *argv[] = { "cat" };
  shoal_wasi_config_t wc = { .size = sizeof wc, .args = argv, .nargs = 1, .stdio = stdio };
  run_t r;
  ASSERT_OK_DIAG(run_guest(&r, "cat", &wc), &r.diag);
  ASSERT_EQ_INT(r.exit_code, 0);
  run_free(&r);
  close(in[0]);
  close(out[1]);   /* the context closed its duplicates: this is the last writer */
  char got[256] = { 0 };
  ASSERT_EQ_INT(read(out[0], got, sizeof got - 1), sizeof text - 1);
  ASSERT_EQ_STR(got, text);
  close(out[0]);
}

TEST(closed_stdout_fails_the_write) {
  int in[2];
  ASSERT_TRUE(pipe(in) == 0);
  ASSERT_EQ_INT(write(in[1], "x", 1), 1);
  close(in[1]);
  int stdio[3] = { in[0], -1, -1 };
  const char *argv[] = { "cat" };
  shoal_wasi_config_t wc = { .size = sizeof wc, .args = argv, .nargs = 1, .stdio = stdio };
  run_t r;
  ASSERT_OK_DIAG(run_guest(&r, "cat", &wc), &r.diag);
  ASSERT_EQ_INT(r.exit_code, 2);   /* cat.c: fd_write failed */
  run_free(&r);
  close(in[0]);
}

TEST(exit_statuses) {
  static const struct { const char *code, *how; int want; } cases[] = {
    { "0", "return", 0 }, { "9", "return", 9 }, { "17", "exit", 17 }, { "4", "proc_exit", 4 },
  };
  int null = open("/dev/null", O_RDWR);
  int stdio[3] = { null, null, null };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *argv[] = { "exitcode", cases[i].code, cases[i].how };
    shoal_wasi_config_t wc = { .size = sizeof wc, .args = argv, .nargs = 3, .stdio = stdio };
    run_t r;
    ASSERT_OK_DIAG(run_guest(&r, "exitcode", &wc), &r.diag);
    ASSERT_EQ_INT(r.exit_code, cases[i].want);
    if (cases[i].want != 0) ASSERT_EQ_INT(shoal_wasi_exit_code(r.wasi), cases[i].want);
    run_free(&r);
  }
  close(null);
}

TEST(trap_is_returned_with_a_backtrace) {
  int null = open("/dev/null", O_RDWR);
  int stdio[3] = { null, null, null };
  const char *argv[] = { "exitcode", "0", "trap" };
  shoal_wasi_config_t wc = { .size = sizeof wc, .args = argv, .nargs = 3, .stdio = stdio };
  run_t r;
  ASSERT_EQ_INT(run_guest(&r, "exitcode", &wc), SHOAL_ERR_TRAP_UNREACHABLE);
  ASSERT_EQ_INT(r.exit_code, -100);   /* left alone */
  ASSERT_EQ_INT(shoal_wasi_exit_code(r.wasi), -1);
  ASSERT_TRUE(strstr(r.diag.trace, "deep_trap") != NULL);
  run_free(&r);
  close(null);
}

TEST(bad_preopen_is_an_io_error_naming_it) {
  shoal_wasi_preopen_t pre = { "/nonexistent/shoal-test-dir", "/x", false };
  shoal_wasi_config_t wc = { .size = sizeof wc, .preopens = &pre, .npreopens = 1 };
  shoal_diag_t d;
  shoal_diag_clear(&d);
  ASSERT_TRUE(shoal_wasi_new(&wc, &d) == NULL);
  ASSERT_EQ_INT(d.code, SHOAL_ERR_IO);
  ASSERT_TRUE(strstr(d.message, "/nonexistent/shoal-test-dir") != NULL);
  /* A regular file is not a directory either. */
  pre.host_path = "/dev/null";
  ASSERT_TRUE(shoal_wasi_new(&wc, &d) == NULL);
}

TEST(environment_and_arguments_from_the_config) {
  int null = open("/dev/null", O_RDWR);
  int stdio[3] = { null, null, null };
  const char *argv[] = { "environ", "A=1", "B=two words", "HOME!" };
  const char *env[] = { "A=1", "B=two words" };
  shoal_wasi_config_t wc = { .size = sizeof wc, .args = argv, .nargs = 4, .env = env, .nenv = 2,
                             .stdio = stdio };
  run_t r;
  ASSERT_OK_DIAG(run_guest(&r, "environ", &wc), &r.diag);
  ASSERT_EQ_INT(r.exit_code, 0);   /* environ.c checks every argument */
  run_free(&r);
  close(null);
}

static void *interrupt_later(void *w) {
  struct timespec ts = { 0, 100 * 1000 * 1000 };
  nanosleep(&ts, NULL);
  shoal_wasi_interrupt(w);
  return NULL;
}

TEST(interrupt_wakes_a_sleeping_guest) {
  int null = open("/dev/null", O_RDWR);
  int stdio[3] = { null, null, null };
  const char *argv[] = { "spin", "sleep" };
  shoal_wasi_config_t wc = { .size = sizeof wc, .args = argv, .nargs = 2, .stdio = stdio };
  run_t r;
  r.module = load("spin");
  ASSERT_OK(shoal_store_new(NULL, &r.store));
  r.wasi = shoal_wasi_new(&wc, &r.diag);
  ASSERT_TRUE(r.wasi != NULL);
  shoal_wasi_bind(r.wasi, r.store);
  shoal_extern_t imports[64];
  ASSERT_TRUE(shoal_module_import_count(r.module) <= 64);
  ASSERT_OK(shoal_module_resolve_imports(r.module, shoal_wasi_resolve, r.wasi, imports, &r.diag));
  shoal_instance_t *inst;
  ASSERT_OK(shoal_instance_new(r.store, r.module, imports, shoal_module_import_count(r.module), &inst, &r.diag));
  pthread_t t;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  ASSERT_TRUE(pthread_create(&t, NULL, interrupt_later, r.wasi) == 0);
  shoal_err_t e = shoal_wasi_run_start(r.wasi, r.store, inst, &r.exit_code, &r.diag);
  pthread_join(t, NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  ASSERT_EQ_INT(e, SHOAL_ERR_TRAP_INTERRUPT);   /* the guest asked for an hour */
  ASSERT_TRUE(secs < 5.0);
  run_free(&r);
  close(null);
}
#endif
