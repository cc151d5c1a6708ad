/* clocks.c: WASI clock_res_get/clock_time_get for the realtime, monotonic
** and CPU-time clocks, and sleeping (which libc does with poll_oneoff). */
#include "check.h"

#include <time.h>
#include <wasi/api.h>

static __wasi_timestamp_t now(__wasi_clockid_t id) {
  __wasi_timestamp_t t = 0;
  if (__wasi_clock_time_get(id, 1, &t) != 0) return 0;
  return t;
}

int main(void) {
  const __wasi_clockid_t ids[] = { __WASI_CLOCKID_REALTIME, __WASI_CLOCKID_MONOTONIC,
                                   __WASI_CLOCKID_PROCESS_CPUTIME_ID,
                                   __WASI_CLOCKID_THREAD_CPUTIME_ID };
  const char *names[] = { "realtime", "monotonic", "process cputime", "thread cputime" };
  for (int i = 0; i < 4; i++) {
    __wasi_timestamp_t res = 0, t = 0;
    CHECK(__wasi_clock_res_get(ids[i], &res) == 0 && res > 0 && res <= 1000000000,
          "%s: resolution between 1 ns and 1 s", names[i]);
    CHECK(__wasi_clock_time_get(ids[i], 1, &t) == 0 && t > 0, "%s: time_get", names[i]);
  }
  __wasi_timestamp_t res;
  CHECK(__wasi_clock_res_get(99, &res) == __WASI_ERRNO_INVAL, "clock 99: res_get is EINVAL");
  __wasi_timestamp_t t;
  CHECK(__wasi_clock_time_get(99, 1, &t) == __WASI_ERRNO_INVAL, "clock 99: time_get is EINVAL");

  /* Realtime is wall-clock time: after 2020-01-01 and before 2100-01-01. */
  __wasi_timestamp_t real = now(__WASI_CLOCKID_REALTIME);
  CHECK(real > 1577836800ull * 1000000000ull && real < 4102444800ull * 1000000000ull,
        "realtime is a plausible date");
  time_t tt = time(NULL);
  CHECK(tt >= (time_t)(real / 1000000000ull) && tt - (time_t)(real / 1000000000ull) < 5,
        "libc time() agrees with clock_time_get");

  /* Monotonic never goes back. */
  __wasi_timestamp_t prev = now(__WASI_CLOCKID_MONOTONIC), bad = 0;
  for (int i = 0; i < 10000; i++) {
    __wasi_timestamp_t m = now(__WASI_CLOCKID_MONOTONIC);
    if (m < prev) bad++;
    prev = m;
  }
  CHECK(bad == 0, "monotonic clock never decreases over 10000 reads");

  /* A 50 ms sleep lasts at least 50 ms on the monotonic clock, and not
  ** absurdly longer. */
  __wasi_timestamp_t t0 = now(__WASI_CLOCKID_MONOTONIC);
  struct timespec ts = { 0, 50 * 1000 * 1000 };
  CHECK(nanosleep(&ts, NULL) == 0, "nanosleep(50 ms)");
  __wasi_timestamp_t dt = now(__WASI_CLOCKID_MONOTONIC) - t0;
  CHECK(dt >= 50000000ull && dt < 5000000000ull, "nanosleep(50 ms) took between 50 ms and 5 s");

  /* CPU time advances while we compute. */
  __wasi_timestamp_t c0 = now(__WASI_CLOCKID_PROCESS_CPUTIME_ID);
  volatile unsigned x = 0;
  for (unsigned i = 0; i < 3000000; i++) x += i;
  __wasi_timestamp_t c1 = now(__WASI_CLOCKID_PROCESS_CPUTIME_ID);
  CHECK(c1 > c0, "process cputime advances while computing");
  return CHECK_DONE();
}
