/*
** WASI 0.2 wasi:clocks (monotonic-clock with timer pollables, wall-clock,
** timezone) and wasi:random (random, insecure, insecure-seed; getrandom).
*/
#define _GNU_SOURCE
#include "cmp_wasi.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* {==================================================================
** Clocks
** =================================================================== */
static shoal_err_t datetime(shoal_ccall_t *c, shoal_cval_t *r, const struct timespec *ts) {
  if (!wv_record(r, SHOAL_CT_RECORD, 2)) return wv_oom(c);
  wv_u(&r->of.list.items[0], SHOAL_CT_U64, (uint64_t)ts->tv_sec);
  wv_u(&r->of.list.items[1], SHOAL_CT_U32, (uint64_t)ts->tv_nsec);
  return SHOAL_ERR_OK;
}

static shoal_err_t wall_now(WASI_ARGS) {
  (void)envp; (void)a; (void)na;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return datetime(c, r, &ts);
}

static shoal_err_t wall_resolution(WASI_ARGS) {
  (void)envp; (void)a; (void)na;
  struct timespec ts = {0, 1};
  clock_getres(CLOCK_REALTIME, &ts);
  return datetime(c, r, &ts);
}

static shoal_err_t mono_now(WASI_ARGS) {
  (void)c; (void)envp; (void)a; (void)na;
  wv_u(r, SHOAL_CT_U64, wasi_now_ns());
  return SHOAL_ERR_OK;
}

static shoal_err_t mono_resolution(WASI_ARGS) {
  (void)c; (void)envp; (void)a; (void)na;
  struct timespec ts = {0, 1};
  clock_getres(CLOCK_MONOTONIC, &ts);
  wv_u(r, SHOAL_CT_U64, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
  return SHOAL_ERR_OK;
}

/* A timer pollable: ready from its deadline on. */
static bool timer_ready(void *self) { return wasi_now_ns() >= *(uint64_t *)self; }
static void timer_wait(void *self, int *fd, short *ev, uint64_t *dl) {
  (void)fd; (void)ev;
  *dl = *(uint64_t *)self;
}
static void timer_close(void *self) { free(self); }
static const shoal_wasi_ops_t timer_ops = {.ready = timer_ready, .wait = timer_wait, .close = timer_close};

/* subscribe-instant(instant) / subscribe-duration(duration) */
static shoal_err_t mono_subscribe(WASI_ARGS) {
  if (na < 1) return shoal_ccall_trap(c, "subscribe: no argument");
  uint64_t *dl = malloc(sizeof *dl);
  if (!dl) return wv_oom(c);
  uint64_t t = a[0].of.u;
  if (strcmp(WASI_ENV->func, "subscribe-duration") == 0) {
    uint64_t now = wasi_now_ns();
    t = t > UINT64_MAX - now ? UINT64_MAX - 1 : now + t;
  }
  *dl = t;
  r->kind = SHOAL_CT_OWN;
  if (!(r->of.handle = wasi_obj_add(WASI_CTX, SHOAL_WASI_POLLABLE, &timer_ops, dl))) return wv_oom(c);
  return SHOAL_ERR_OK;
}
/* timezone (unstable in 0.2): the host's local time zone at `when`
** (a datetime record), from localtime_r. */
static bool local_at(const shoal_cval_t *when, struct tm *tm) {
  if (when->kind != SHOAL_CT_RECORD || when->of.list.n < 1) return false;
  time_t t = (time_t)when->of.list.items[0].of.u;
  return localtime_r(&t, tm) != NULL;
}

static shoal_err_t tz_utc_offset(WASI_ARGS) {
  (void)envp;
  struct tm tm;
  if (na < 1 || !local_at(&a[0], &tm)) return shoal_ccall_trap(c, "utc-offset: time out of range");
  r->kind = SHOAL_CT_S32;
  r->of.s = tm.tm_gmtoff;
  return SHOAL_ERR_OK;
}

static shoal_err_t tz_display(WASI_ARGS) {
  (void)envp;
  struct tm tm;
  if (na < 1 || !local_at(&a[0], &tm)) return shoal_ccall_trap(c, "display: time out of range");
  const char *name = tm.tm_zone ? tm.tm_zone : "UTC";
  if (!wv_record(r, SHOAL_CT_RECORD, 3) || !wv_string(&r->of.list.items[1], name, strlen(name))) return wv_oom(c);
  r->of.list.items[0].kind = SHOAL_CT_S32;
  r->of.list.items[0].of.s = tm.tm_gmtoff;
  r->of.list.items[2].kind = SHOAL_CT_BOOL;
  r->of.list.items[2].of.b = tm.tm_isdst > 0;
  return SHOAL_ERR_OK;
}
/* }================================================================== */

/* {==================================================================
** Random
** =================================================================== */
static bool fill_random(uint8_t *p, size_t n) {
  while (n) {
    ssize_t k = getrandom(p, n, 0);
    if (k < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += k;
    n -= (size_t)k;
  }
  return true;
}

/* get-random-bytes / get-insecure-random-bytes(len) -> list<u8> */
static shoal_err_t random_bytes(WASI_ARGS) {
  (void)envp;
  if (na < 1) return shoal_ccall_trap(c, "get-random-bytes: no length");
  if (a[0].of.u > (1u << 26)) return shoal_ccall_trap(c, "get-random-bytes: %llu bytes is too many", (unsigned long long)a[0].of.u);
  size_t n = (size_t)a[0].of.u;
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) return wv_oom(c);
  if (!fill_random(buf, n)) {
    free(buf);
    return shoal_ccall_trap(c, "getrandom failed: %s", strerror(errno));
  }
  bool ok = wv_bytes(r, buf, n);
  free(buf);
  return ok ? SHOAL_ERR_OK : wv_oom(c);
}

static shoal_err_t random_u64(WASI_ARGS) {
  (void)envp; (void)a; (void)na;
  uint64_t v;
  if (!fill_random((uint8_t *)&v, sizeof v)) return shoal_ccall_trap(c, "getrandom failed: %s", strerror(errno));
  wv_u(r, SHOAL_CT_U64, v);
  return SHOAL_ERR_OK;
}

/* insecure-seed() -> tuple<u64, u64>: the same pair for the whole context */
static shoal_err_t insecure_seed(WASI_ARGS) {
  (void)a; (void)na;
  shoal_wasi_ctx_t *w = WASI_CTX;
  if (!w->seeded && !fill_random((uint8_t *)w->seed, sizeof w->seed))
    return shoal_ccall_trap(c, "getrandom failed: %s", strerror(errno));
  w->seeded = true;
  if (!wv_record(r, SHOAL_CT_TUPLE, 2)) return wv_oom(c);
  wv_u(&r->of.list.items[0], SHOAL_CT_U64, w->seed[0]);
  wv_u(&r->of.list.items[1], SHOAL_CT_U64, w->seed[1]);
  return SHOAL_ERR_OK;
}
/* }================================================================== */

static const wasi_fn_t fns[] = {
  {"wasi:clocks/wall-clock", "now", wall_now, ""},
  {"wasi:clocks/wall-clock", "resolution", wall_resolution, ""},
  {"wasi:clocks/monotonic-clock", "now", mono_now, ""},
  {"wasi:clocks/monotonic-clock", "resolution", mono_resolution, ""},
  {"wasi:clocks/monotonic-clock", "subscribe-instant", mono_subscribe, "u"},
  {"wasi:clocks/monotonic-clock", "subscribe-duration", mono_subscribe, "u"},
  {"wasi:clocks/timezone", "display", tz_display, "r"},
  {"wasi:clocks/timezone", "utc-offset", tz_utc_offset, "r"},
  {"wasi:random/random", "get-random-bytes", random_bytes, "u"},
  {"wasi:random/random", "get-random-u64", random_u64, ""},
  {"wasi:random/insecure", "get-insecure-random-bytes", random_bytes, "u"},
  {"wasi:random/insecure", "get-insecure-random-u64", random_u64, ""},
  {"wasi:random/insecure-seed", "insecure-seed", insecure_seed, ""},
};

const wasi_fn_t *wasi_clock_fns(size_t *n) {
  *n = sizeof fns / sizeof *fns;
  return fns;
}
