/*
** Native test of the WASI 0.2 extension point (component.h): a host layer's
** own input and output streams, made with shoal_wasi_ctx_add and handed to
** wasi02_cat.wasm as its stdin and stdout through extra imports.
** ctest unit.wasi02_host; WASI02_CAT is the component's path (CMake).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shoal/component.h"
#include "test.h"

static const char *comp_path = WASI02_CAT;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A source that gives 333 bytes at a time, each batch 100 us after the
** last, so the guest's blocking reads have to wait on its deadline. */
typedef struct source {
  char data[20000];
  size_t len, pos;
  uint64_t next;
  int opened, closed, reads_blocked;
} source_t;

static int64_t src_read(void *self, uint8_t *buf, size_t len, int *err) {
  (void)err;
  source_t *s = self;
  if (s->pos == s->len) return SHOAL_WASI_CLOSED;
  if (now_ns() < s->next) {
    s->reads_blocked++;
    return 0;
  }
  size_t n = s->len - s->pos < 333 ? s->len - s->pos : 333;
  if (n > len) n = len;
  memcpy(buf, s->data + s->pos, n);
  s->pos += n;
  s->next = now_ns() + 100000;
  return (int64_t)n;
}
static bool src_ready(void *self) { return now_ns() >= ((source_t *)self)->next; }
static void src_wait(void *self, int *fd, short *ev, uint64_t *dl) {
  (void)fd; (void)ev;
  *dl = ((source_t *)self)->next;
}
static void src_close(void *self) { ((source_t *)self)->closed++; }
static const shoal_wasi_ops_t src_ops = {.read = src_read, .ready = src_ready, .wait = src_wait, .close = src_close};

/* A sink that takes 7 bytes per check-write. */
typedef struct sink {
  char data[20000];
  size_t len;
  int opened, closed;
} sink_t;

static int64_t sink_check(void *self, int *err) {
  (void)err;
  return ((sink_t *)self)->len < sizeof ((sink_t *)self)->data ? 7 : SHOAL_WASI_CLOSED;
}
static int64_t sink_write(void *self, const uint8_t *buf, size_t len, int *err) {
  sink_t *s = self;
  if (len > 7 || s->len + len > sizeof s->data) {
    *err = 22;
    return SHOAL_WASI_FAILED;
  }
  memcpy(s->data + s->len, buf, len);
  s->len += len;
  return 0;
}
static void sink_close(void *self) { ((sink_t *)self)->closed++; }
static const shoal_wasi_ops_t sink_ops = {.check_write = sink_check, .write = sink_write, .close = sink_close};

typedef struct host {
  shoal_wasi_ctx_t *w;
  source_t src;
  sink_t out;
  int wrong_ctx;
} host_t;

static shoal_err_t get_stdin(shoal_ccall_t *call, void *env, const shoal_cval_t *a, size_t na, shoal_cval_t *r) {
  (void)a; (void)na;
  host_t *h = env;
  shoal_wasi_ctx_t *w = shoal_ccall_wasi(call);
  if (w != h->w) h->wrong_ctx++;
  r->kind = SHOAL_CT_OWN;
  r->of.handle = shoal_wasi_ctx_add(w, SHOAL_WASI_INPUT_STREAM, &src_ops, &h->src);
  h->src.opened++;
  return r->of.handle ? SHOAL_ERR_OK : shoal_ccall_trap(call, "out of memory");
}

static shoal_err_t get_stdout(shoal_ccall_t *call, void *env, const shoal_cval_t *a, size_t na, shoal_cval_t *r) {
  (void)a; (void)na;
  host_t *h = env;
  shoal_wasi_ctx_t *w = shoal_ccall_wasi(call);
  if (w != h->w) h->wrong_ctx++;
  r->kind = SHOAL_CT_OWN;
  r->of.handle = shoal_wasi_ctx_add(w, SHOAL_WASI_OUTPUT_STREAM, &sink_ops, &h->out);
  h->out.opened++;
  /* lookups: by kind and ops */
  if (shoal_wasi_ctx_lookup(w, r->of.handle, SHOAL_WASI_OUTPUT_STREAM, &sink_ops) != &h->out ||
      shoal_wasi_ctx_lookup(w, r->of.handle, SHOAL_WASI_INPUT_STREAM, NULL) != NULL ||
      shoal_wasi_ctx_lookup(w, r->of.handle, SHOAL_WASI_OUTPUT_STREAM, &src_ops) != NULL)
    h->wrong_ctx++;
  return r->of.handle ? SHOAL_ERR_OK : shoal_ccall_trap(call, "out of memory");
}

static uint8_t *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *p = malloc((size_t)len + 1);
  *n = p ? fread(p, 1, (size_t)len, f) : 0;
  fclose(f);
  return p;
}

TEST(host_streams_through_wasi_io) {
  size_t n;
  uint8_t *bytes = read_file(comp_path, &n);
  ASSERT_TRUE(bytes != NULL);
  shoal_component_t *c;
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_component_new(bytes, n, &c, &d), &d);
  free(bytes);
  static host_t h;
  memset(&h, 0, sizeof h);
  for (size_t i = 0; i < sizeof h.src.data; i++) h.src.data[i] = (char)('a' + (i * 7 + i / 26) % 26);
  h.src.len = sizeof h.src.data;
  const char *argv[] = {"cat", "1000"};
  shoal_crun_config_t cfg = {.argv = argv, .argc = 2};
  ASSERT_OK_DIAG(shoal_wasi_ctx_new(&cfg, &h.w, &d), &d);
  /* without versions: they must match the component's wasi:cli/...@0.2.12 */
  shoal_cimport_t extra[] = {{"wasi:cli/stdin#get-stdin", get_stdin, &h}, {"wasi:cli/stdout#get-stdout", get_stdout, &h}};
  shoal_store_t *s;
  ASSERT_OK(shoal_store_new(NULL, &s));
  shoal_cinstance_t *inst;
  ASSERT_OK_DIAG(shoal_cinstance_new_wasi_ctx(s, c, h.w, extra, 2, &inst, &d), &d);
  shoal_cfunc_t *run = shoal_cinstance_func(inst, "run");
  ASSERT_TRUE(run != NULL);
  shoal_cval_t res;
  shoal_err_t e = shoal_cfunc_call(s, run, NULL, 0, &res, &d);
  ASSERT_TRUE(e == SHOAL_ERR_OK || (e == SHOAL_ERR_EXIT && d.exit_code == 0));
  if (e == SHOAL_ERR_OK) {
    ASSERT_EQ_INT(res.of.var.disc, 0);  /* run returned ok */
    shoal_cval_free(&res);
  }
  shoal_cinstance_free(inst);
  shoal_wasi_ctx_free(h.w);
  shoal_store_free(s);
  shoal_component_free(c);
  ASSERT_EQ_INT(h.wrong_ctx, 0);
  ASSERT_EQ_INT(h.src.opened, 1);
  ASSERT_EQ_INT(h.out.opened, 1);
  /* every stream handed out was closed: by the guest's drop or at teardown */
  ASSERT_EQ_INT(h.src.closed, 1);
  ASSERT_EQ_INT(h.out.closed, 1);
  ASSERT_TRUE(h.src.reads_blocked > 0);  /* the guest waited on the source's deadline */
  ASSERT_EQ_INT((int64_t)h.out.len, (int64_t)h.src.len);
  ASSERT_TRUE(memcmp(h.out.data, h.src.data, h.src.len) == 0);
}

TEST(objects_and_interrupt) {
  shoal_crun_config_t cfg = {0};
  shoal_wasi_ctx_t *w;
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_wasi_ctx_new(&cfg, &w, &d), &d);
  static source_t src;
  memset(&src, 0, sizeof src);
  src.len = 1;
  src.next = UINT64_MAX;  /* never ready */
  uint32_t rep = shoal_wasi_ctx_add(w, SHOAL_WASI_POLLABLE, &src_ops, &src);
  ASSERT_TRUE(rep != 0);
  ASSERT_TRUE(shoal_wasi_ctx_lookup(w, rep, SHOAL_WASI_POLLABLE, &src_ops) == &src);
  ASSERT_TRUE(shoal_wasi_ctx_lookup(w, rep + 1, SHOAL_WASI_POLLABLE, NULL) == NULL);
  shoal_wasi_ctx_interrupt(w);
  ASSERT_TRUE(!shoal_wasi_ctx_block(w, rep));  /* returns at once: interrupted */
  shoal_wasi_ctx_remove(w, rep);
  ASSERT_EQ_INT(src.closed, 1);
  ASSERT_TRUE(shoal_wasi_ctx_lookup(w, rep, SHOAL_WASI_POLLABLE, NULL) == NULL);
  uint32_t again = shoal_wasi_ctx_add(w, SHOAL_WASI_POLLABLE, &src_ops, &src);
  shoal_wasi_ctx_free(w);  /* closes what is left */
  ASSERT_TRUE(again != 0);
  ASSERT_EQ_INT(src.closed, 2);
}
