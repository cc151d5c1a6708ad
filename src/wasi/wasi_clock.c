/*
** wasi_clock.c: clocks and poll_oneoff (clock timeouts and fd readiness),
** which waits interruptibly so `--timeout` can end a sleeping guest.
*/
#define _GNU_SOURCE
#include "wasi_mem.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { CLOCK_ID_REALTIME = 0, CLOCK_ID_MONOTONIC = 1, CLOCK_ID_PROCESS = 2, CLOCK_ID_THREAD = 3 };
enum { EV_CLOCK = 0, EV_FD_READ = 1, EV_FD_WRITE = 2 };
#define SUB_ABSTIME 1u
#define EV_HANGUP 1u

static bool host_clock(uint32_t id, clockid_t *out) {
  switch (id) {
  case CLOCK_ID_REALTIME: *out = CLOCK_REALTIME; return true;
  case CLOCK_ID_MONOTONIC: *out = CLOCK_MONOTONIC; return true;
  case CLOCK_ID_PROCESS: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
  case CLOCK_ID_THREAD: *out = CLOCK_THREAD_CPUTIME_ID; return true;
  default: return false;
  }
}

static uint64_t ns_of(const struct timespec *t) {
  return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

static uint64_t now_ns(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return ns_of(&t);
}

static uint32_t clock_res_get(wasi_call_t *c, const shoal_raw_t *a) {
  clockid_t id;
  if (!host_clock(A32(0), &id)) return WASI_EINVAL;
  if (!wasi_mem(c, A32(1), 8)) return WASI_EFAULT;
  struct timespec t;
  if (clock_getres(id, &t) != 0) return wasi_errno(errno);
  uint64_t ns = ns_of(&t);
  wasi_put64(c, A32(1), ns ? ns : 1);
  return WASI_ESUCCESS;
}

static uint32_t clock_time_get(wasi_call_t *c, const shoal_raw_t *a) {
  clockid_t id;
  if (!host_clock(A32(0), &id)) return WASI_EINVAL;
  if (!wasi_mem(c, A32(2), 8)) return WASI_EFAULT;
  struct timespec t;
  if (clock_gettime(id, &t) != 0) return wasi_errno(errno);
  wasi_put64(c, A32(2), ns_of(&t));
  return WASI_ESUCCESS;
}

/* {===================================================================
** poll_oneoff
** =================================================================== */

typedef struct sub {
  uint64_t userdata;
  uint8_t type;
  uint64_t deadline;   /* clock: CLOCK_MONOTONIC ns */
  int host;            /* fd subs: host fd, or -1 */
  int pollix;          /* index in the pollfd array, or -1 */
  uint16_t error;      /* set: the event is ready with this error */
  bool ready;
  uint64_t nbytes;
  uint16_t flags;
} sub_t;

static void write_event(uint8_t *p, const sub_t *s) {
  memset(p, 0, 32);
  wasi_st64(p, s->userdata);
  wasi_st16(p + 8, s->error);
  wasi_st8(p + 10, s->type);
  if (s->type != EV_CLOCK) {
    wasi_st64(p + 16, s->nbytes);
    wasi_st16(p + 24, s->flags);
  }
}

/* Bytes readable without blocking, where the host can tell. */
static uint64_t readable_bytes(int fd) {
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    off_t pos = lseek(fd, 0, SEEK_CUR);
    return pos >= 0 && st.st_size > pos ? (uint64_t)(st.st_size - pos) : 0;
  }
  int n = 0;
  if (ioctl(fd, FIONREAD, &n) == 0 && n > 0) return (uint64_t)n;
  return 0;
}

static uint32_t poll_oneoff(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t in = A32(0), outp = A32(1), n = A32(2), neventsp = A32(3);
  if (n == 0) return WASI_EINVAL;
  const uint8_t *ip = wasi_mem_array(c, in, n, 48);
  uint8_t *op = wasi_mem_array(c, outp, n, 32);
  if (!ip || !op || !wasi_mem(c, neventsp, 4)) return WASI_EFAULT;
  sub_t *subs = calloc(n, sizeof *subs);
  struct pollfd *pfd = calloc((size_t)n + 1, sizeof *pfd);
  if (!subs || !pfd) {
    free(subs);
    free(pfd);
    return WASI_ENOMEM;
  }
  uint64_t mono = now_ns(CLOCK_MONOTONIC);
  uint64_t earliest = UINT64_MAX;
  int npoll = 0;
  bool any_ready = false;
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *s = ip + 48 * (size_t)i;
    sub_t *x = &subs[i];
    x->userdata = wasi_ld64(s);
    x->type = s[8];
    x->host = -1;
    x->pollix = -1;
    if (x->type == EV_CLOCK) {
      uint32_t id = wasi_ld32(s + 16);
      uint64_t timeout = wasi_ld64(s + 24);
      uint16_t flags = wasi_ld16(s + 40);
      if (id != CLOCK_ID_REALTIME && id != CLOCK_ID_MONOTONIC) {
        x->error = WASI_EINVAL;
      } else if (flags & SUB_ABSTIME) {
        /* An absolute realtime deadline becomes a monotonic one now. */
        uint64_t base = id == CLOCK_ID_REALTIME ? now_ns(CLOCK_REALTIME) : mono;
        uint64_t left = timeout > base ? timeout - base : 0;
        x->deadline = mono + left < mono ? UINT64_MAX : mono + left;
      } else {
        x->deadline = mono + timeout < mono ? UINT64_MAX : mono + timeout;
      }
      if (x->error) x->ready = true;
      else if (x->deadline < earliest) earliest = x->deadline;
    } else if (x->type == EV_FD_READ || x->type == EV_FD_WRITE) {
      uint32_t err;
      wasi_fd_t *f = wasi_fd_check(c->w, wasi_ld32(s + 16), WASI_RIGHT_POLL_FD_READWRITE, &err);
      if (!f) {
        x->error = (uint16_t)err;
        x->ready = true;
      } else if (f->filetype == WASI_FILETYPE_REGULAR_FILE) {
        x->ready = true; /* files are always ready */
        x->nbytes = x->type == EV_FD_READ ? readable_bytes(f->host) : 0;
      } else {
        x->host = f->host;
        x->pollix = npoll;
        pfd[npoll].fd = f->host;
        pfd[npoll].events = x->type == EV_FD_READ ? POLLIN : POLLOUT;
        npoll++;
      }
    } else {
      x->error = WASI_EINVAL;
      x->ready = true;
    }
    if (x->ready) any_ready = true;
  }
  int wakeix = -1;
  if (c->w->wake[0] >= 0) {
    wakeix = npoll;
    pfd[npoll].fd = c->w->wake[0];
    pfd[npoll].events = POLLIN;
  }
  uint32_t result = WASI_ESUCCESS;
  for (;;) {
    if (atomic_load(&c->w->interrupted)) {
      result = wasi_interrupted(c);
      break;
    }
    struct timespec ts, *tsp = NULL;
    mono = now_ns(CLOCK_MONOTONIC);
    if (any_ready) {
      ts.tv_sec = 0;
      ts.tv_nsec = 0;
      tsp = &ts;
    } else if (earliest != UINT64_MAX) {
      uint64_t left = earliest > mono ? earliest - mono : 0;
      ts.tv_sec = (time_t)(left / 1000000000u);
      ts.tv_nsec = (long)(left % 1000000000u);
      tsp = &ts;
    }
    int total = npoll + (wakeix >= 0);
    int r = ppoll(pfd, (nfds_t)total, tsp, NULL);
    if (r < 0) {
      if (errno == EINTR) continue;
      result = wasi_errno(errno);
      break;
    }
    if (wakeix >= 0 && pfd[wakeix].revents) continue; /* re-check the flag */
    mono = now_ns(CLOCK_MONOTONIC);
    for (uint32_t i = 0; i < n; i++) {
      sub_t *x = &subs[i];
      if (x->ready) continue;
      if (x->type == EV_CLOCK) {
        if (x->deadline <= mono) x->ready = true;
      } else if (x->pollix >= 0 && pfd[x->pollix].revents) {
        short rev = pfd[x->pollix].revents;
        x->ready = true;
        if (rev & POLLNVAL) x->error = WASI_EBADF;
        else if ((rev & POLLERR) && !(rev & (POLLIN | POLLOUT))) x->error = WASI_EIO;
        if (rev & POLLHUP) x->flags |= EV_HANGUP;
        if (x->type == EV_FD_READ && !x->error) x->nbytes = readable_bytes(x->host);
      }
      if (x->ready) any_ready = true;
    }
    if (any_ready) break;
  }
  if (result == WASI_ESUCCESS) {
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
      if (subs[i].ready) write_event(op + 32 * (size_t)k++, &subs[i]);
    wasi_put32(c, neventsp, k);
  }
  free(subs);
  free(pfd);
  return result;
}

/* }=================================================================== */

static const wasi_def_t clock_defs[] = {
  {"clock_res_get", "ii", 1, clock_res_get},
  {"clock_time_get", "iIi", 1, clock_time_get},
  {"poll_oneoff", "iiii", 1, poll_oneoff},
};

const wasi_def_t *wasi_defs_clock(size_t *n) {
  *n = sizeof clock_defs / sizeof clock_defs[0];
  return clock_defs;
}
