/* poll.c: WASI poll_oneoff with clock subscriptions (relative and absolute,
** several at once) and with fd_read/fd_write subscriptions on files. */
#include "check.h"

#include <fcntl.h>
#include <unistd.h>
#include <wasi/api.h>

static __wasi_timestamp_t mono(void) {
  __wasi_timestamp_t t = 0;
  if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t) != 0) return 0;
  return t;
}

static __wasi_subscription_t clock_sub(__wasi_userdata_t ud, __wasi_clockid_t id,
                                       __wasi_timestamp_t timeout,
                                       __wasi_subclockflags_t flags) {
  __wasi_subscription_t s;
  memset(&s, 0, sizeof s);
  s.userdata = ud;
  s.u.tag = __WASI_EVENTTYPE_CLOCK;
  s.u.u.clock.id = id;
  s.u.u.clock.timeout = timeout;
  s.u.u.clock.precision = 0;
  s.u.u.clock.flags = flags;
  return s;
}

int main(void) {
  __wasi_event_t ev[4];
  __wasi_size_t n = 0;

  /* One relative timeout of 30 ms. */
  __wasi_subscription_t s1 = clock_sub(7, __WASI_CLOCKID_MONOTONIC, 30000000, 0);
  __wasi_timestamp_t t0 = mono();
  CHECK(__wasi_poll_oneoff(&s1, ev, 1, &n) == 0, "poll_oneoff: one 30 ms timeout");
  __wasi_timestamp_t dt = mono() - t0;
  CHECK(n == 1 && ev[0].userdata == 7 && ev[0].error == 0 &&
        ev[0].type == __WASI_EVENTTYPE_CLOCK, "one clock event with its userdata");
  CHECK(dt >= 30000000, "it fired after at least 30 ms");

  /* Two timeouts: only the earlier one fires. */
  __wasi_subscription_t s2[2] = { clock_sub(1, __WASI_CLOCKID_MONOTONIC, 2000000000, 0),
                                  clock_sub(2, __WASI_CLOCKID_MONOTONIC, 20000000, 0) };
  t0 = mono();
  CHECK(__wasi_poll_oneoff(s2, ev, 2, &n) == 0, "poll_oneoff: 2 s and 20 ms timeouts");
  dt = mono() - t0;
  CHECK(n == 1 && ev[0].userdata == 2, "only the 20 ms timeout fired");
  CHECK(dt >= 20000000 && dt < 1500000000, "after 20 ms, well before 2 s");

  /* An absolute deadline 25 ms from now on the monotonic clock. */
  __wasi_subscription_t s3 =
      clock_sub(3, __WASI_CLOCKID_MONOTONIC, mono() + 25000000, __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
  t0 = mono();
  CHECK(__wasi_poll_oneoff(&s3, ev, 1, &n) == 0 && n == 1 && ev[0].userdata == 3,
        "poll_oneoff: absolute deadline");
  CHECK(mono() - t0 >= 20000000, "the absolute deadline was waited for");

  /* A deadline in the past fires at once; so does a zero timeout. */
  __wasi_subscription_t s4 = clock_sub(4, __WASI_CLOCKID_MONOTONIC, 1,
                                       __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
  t0 = mono();
  CHECK(__wasi_poll_oneoff(&s4, ev, 1, &n) == 0 && n == 1 && ev[0].userdata == 4,
        "poll_oneoff: past deadline fires");
  __wasi_subscription_t s5 = clock_sub(5, __WASI_CLOCKID_MONOTONIC, 0, 0);
  CHECK(__wasi_poll_oneoff(&s5, ev, 1, &n) == 0 && n == 1 && ev[0].userdata == 5,
        "poll_oneoff: zero timeout fires");
  CHECK(mono() - t0 < 1000000000, "both at once");

  /* A realtime relative timeout. */
  __wasi_subscription_t s6 = clock_sub(6, __WASI_CLOCKID_REALTIME, 10000000, 0);
  CHECK(__wasi_poll_oneoff(&s6, ev, 1, &n) == 0 && n == 1 && ev[0].userdata == 6,
        "poll_oneoff: realtime relative timeout");

  /* No subscriptions: EINVAL. */
  CHECK(__wasi_poll_oneoff(&s1, ev, 0, &n) == __WASI_ERRNO_INVAL, "poll_oneoff of nothing is EINVAL");

  /* A regular file is always ready: fd_read and fd_write fire before the
  ** timeout. The file is in the pre-opened /sandbox. */
  int fd = open("/sandbox/poll.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
  CHECK(fd >= 0, "open /sandbox/poll.txt");
  CHECK(write(fd, "abc", 3) == 3 && lseek(fd, 0, SEEK_SET) == 0, "write 3 bytes, rewind");
  __wasi_subscription_t s7[2];
  s7[0] = clock_sub(10, __WASI_CLOCKID_MONOTONIC, 5000000000ull, 0);
  memset(&s7[1], 0, sizeof s7[1]);
  s7[1].userdata = 11;
  s7[1].u.tag = __WASI_EVENTTYPE_FD_READ;
  s7[1].u.u.fd_read.file_descriptor = (__wasi_fd_t)fd;
  t0 = mono();
  CHECK(__wasi_poll_oneoff(s7, ev, 2, &n) == 0, "poll_oneoff: file read + 5 s timeout");
  int got_read = 0;
  for (__wasi_size_t i = 0; i < n; i++)
    if (ev[i].userdata == 11 && ev[i].type == __WASI_EVENTTYPE_FD_READ && ev[i].error == 0) got_read = 1;
  CHECK(got_read && mono() - t0 < 2000000000ull, "the file is readable at once");
  s7[1].userdata = 12;
  s7[1].u.tag = __WASI_EVENTTYPE_FD_WRITE;
  s7[1].u.u.fd_write.file_descriptor = (__wasi_fd_t)fd;
  CHECK(__wasi_poll_oneoff(s7, ev, 2, &n) == 0 && n >= 1, "poll_oneoff: file write + timeout");
  int got_write = 0;
  for (__wasi_size_t i = 0; i < n; i++)
    if (ev[i].userdata == 12 && ev[i].type == __WASI_EVENTTYPE_FD_WRITE && ev[i].error == 0) got_write = 1;
  CHECK(got_write, "the file is writable at once");
  close(fd);
  unlink("/sandbox/poll.txt");
  return CHECK_DONE();
}
