/*
** WASI 0.2 wasi:io (error, poll, streams) over the context's object table:
** every stream and pollable is an object with shoal_wasi_ops_t, so other
** layers add their own kinds; streams over host fds live here too.
*/
#define _GNU_SOURCE
#include "cmp_wasi.h"
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_IO (1u << 20)    /* bytes moved by one read/write call at most */
#define WRITE_PERMIT 65536u  /* what check-write grants on fds */

/* {==================================================================
** The object table
** =================================================================== */
uint32_t wasi_obj_add(shoal_wasi_ctx_t *w, int kind, const shoal_wasi_ops_t *ops, void *self) {
  uint32_t i = w->free_head;
  if (i) {
    w->free_head = w->objs[i].next_free;
  } else {
    if (w->n == 0) w->n = 1;
    if (w->n >= w->cap) {
      uint32_t cap = w->cap ? w->cap * 2 : 16;
      wasi_obj_t *p = cap < (1u << 28) ? realloc(w->objs, cap * sizeof *p) : NULL;
      if (!p) {
        if (ops && ops->close) ops->close(self);
        return 0;
      }
      w->objs = p;
      w->cap = cap;
    }
    i = w->n++;
  }
  w->objs[i] = (wasi_obj_t){kind, ops, self, 0};
  return i;
}

wasi_obj_t *wasi_obj_get(shoal_wasi_ctx_t *w, uint32_t rep, int kind) {
  if (!w || rep == 0 || rep >= w->n || !w->objs[rep].kind) return NULL;
  if (kind && w->objs[rep].kind != kind) return NULL;
  return &w->objs[rep];
}

void wasi_obj_drop(shoal_wasi_ctx_t *w, uint32_t rep) {
  wasi_obj_t *o = wasi_obj_get(w, rep, 0);
  if (!o) return;
  wasi_obj_t copy = *o;
  o->kind = 0;
  o->next_free = w->free_head;
  w->free_head = rep;
  if (copy.ops && copy.ops->close) copy.ops->close(copy.self);
}

void wasi_objs_free(shoal_wasi_ctx_t *w) {
  for (uint32_t i = 1; i < w->n; i++) wasi_obj_drop(w, i);
  free(w->objs);
  w->objs = NULL;
  w->n = w->cap = w->free_head = 0;
}

uint32_t shoal_wasi_ctx_add(shoal_wasi_ctx_t *w, shoal_wasi_kind_t kind, const shoal_wasi_ops_t *ops, void *self) {
  if (!w || kind < SHOAL_WASI_INPUT_STREAM || kind > SHOAL_WASI_POLLABLE) {
    if (ops && ops->close) ops->close(self);
    return 0;
  }
  return wasi_obj_add(w, (int)kind, ops, self);
}

void *shoal_wasi_ctx_lookup(shoal_wasi_ctx_t *w, uint32_t rep, shoal_wasi_kind_t kind, const shoal_wasi_ops_t *ops) {
  wasi_obj_t *o = wasi_obj_get(w, rep, (int)kind);
  return o && (!ops || o->ops == ops) ? o->self : NULL;
}

void shoal_wasi_ctx_remove(shoal_wasi_ctx_t *w, uint32_t rep) { wasi_obj_drop(w, rep); }
/* }================================================================== */

/* {==================================================================
** Waiting
** =================================================================== */
uint64_t wasi_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool obj_ready(shoal_wasi_ctx_t *w, uint32_t rep) {
  wasi_obj_t *o = wasi_obj_get(w, rep, 0);
  return !o || !o->ops || !o->ops->ready || o->ops->ready(o->self);
}

/* The eventfd interrupts signal, made on first use. */
static int wake_fd(shoal_wasi_ctx_t *w) {
  int fd = atomic_load(&w->wakefd);
  if (fd >= 0) return fd;
  int nfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (nfd < 0) return -1;
  if (!atomic_compare_exchange_strong(&w->wakefd, &fd, nfd)) {
    close(nfd);
    return fd;
  }
  return nfd;
}

bool wasi_wait_any(shoal_wasi_ctx_t *w, const uint32_t *reps, size_t n, uint64_t deadline_ns) {
  struct pollfd stack[17], *pf = n < 16 ? stack : malloc((n + 1) * sizeof *pf);
  if (!pf) return false;
  bool ok = false;
  for (;;) {
    if (atomic_load(&w->interrupted)) break;
    size_t k = 0;
    uint64_t deadline = deadline_ns;
    bool spin = false;
    for (size_t i = 0; i < n; i++) {
      if (obj_ready(w, reps[i])) { ok = true; goto done; }
      wasi_obj_t *o = wasi_obj_get(w, reps[i], 0);
      int fd = -1;
      short ev = 0;
      uint64_t dl = UINT64_MAX;
      if (o->ops->wait) o->ops->wait(o->self, &fd, &ev, &dl);
      if (fd >= 0) pf[k++] = (struct pollfd){fd, ev, 0};
      if (dl < deadline) deadline = dl;
      if (fd < 0 && dl == UINT64_MAX) spin = true;
    }
    if (n == 0 && deadline == UINT64_MAX) break;
    if (w->nowait && !(n == 0 && deadline <= wasi_now_ns())) {  /* would sleep: fail like an interrupt */
      w->would_block = true;
      break;
    }
    int wfd = wake_fd(w);
    if (wfd >= 0) pf[k++] = (struct pollfd){wfd, POLLIN, 0};
    if (atomic_load(&w->interrupted)) break;  /* came before the eventfd existed */
    int timeout = -1;
    if (deadline != UINT64_MAX) {
      uint64_t now = wasi_now_ns();
      if (now >= deadline) {
        if (n == 0) { ok = true; break; }
        timeout = 0;
      } else {
        uint64_t ms = (deadline - now + 999999) / 1000000;
        timeout = ms > 60000 ? 60000 : (int)ms;
      }
    }
    if (spin && (timeout < 0 || timeout > 1)) timeout = 1;
    if (poll(pf, k, timeout) < 0 && errno != EINTR) break;
    if (n == 0 && deadline != UINT64_MAX && wasi_now_ns() >= deadline) { ok = true; break; }
  }
done:
  if (pf != stack) free(pf);
  return ok;
}

bool shoal_wasi_ctx_block(shoal_wasi_ctx_t *w, uint32_t rep) {
  wasi_obj_t *o = wasi_obj_get(w, rep, 0);
  if (!o || (o->kind != SHOAL_WASI_INPUT_STREAM && o->kind != SHOAL_WASI_OUTPUT_STREAM && o->kind != SHOAL_WASI_POLLABLE))
    return false;
  return wasi_wait_any(w, &rep, 1, UINT64_MAX);
}

void shoal_wasi_ctx_set_nowait(shoal_wasi_ctx_t *w, bool on) { w->nowait = on; }

bool shoal_wasi_ctx_may_block(shoal_wasi_ctx_t *w) {
  if (w->nowait) w->would_block = true;
  return !w->nowait;
}

bool shoal_wasi_ctx_would_block(const shoal_wasi_ctx_t *w) { return w->would_block; }

void shoal_wasi_ctx_interrupt(shoal_wasi_ctx_t *w) {
  atomic_store(&w->interrupted, 1);
  int fd = atomic_load(&w->wakefd);
  if (fd >= 0) {
    uint64_t one = 1;
    ssize_t r = write(fd, &one, sizeof one);
    (void)r;
  }
}
/* }================================================================== */

/* {==================================================================
** Streams over host fds
** =================================================================== */
typedef struct fd_stream {
  int fd;
  bool own, append, sock;
  int64_t off;        /* -1: the fd's own position (pipes, ttys) */
} fd_stream_t;

static bool fd_ready(int fd, short ev) {
  struct pollfd p = {fd, ev, 0};
  return poll(&p, 1, 0) != 0;  /* errors count as ready: the next call reports them */
}

static int64_t fd_read(void *self, uint8_t *buf, size_t len, int *err) {
  fd_stream_t *s = self;
  if (s->off < 0 && !fd_ready(s->fd, POLLIN)) return 0;
  ssize_t n;
  do n = s->off >= 0 ? pread(s->fd, buf, len, s->off) : read(s->fd, buf, len);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return 0;
    *err = errno;
    return SHOAL_WASI_FAILED;
  }
  if (n == 0 && len) return SHOAL_WASI_CLOSED;
  if (s->off >= 0) s->off += n;
  return n;
}

static int64_t fd_check_write(void *self, int *err) {
  (void)self; (void)err;
  return WRITE_PERMIT;
}

static int64_t fd_write(void *self, const uint8_t *buf, size_t len, int *err) {
  fd_stream_t *s = self;
  if (s->append) {
    struct stat st;
    if (fstat(s->fd, &st) != 0) { *err = errno; return SHOAL_WASI_FAILED; }
    s->off = st.st_size;
  }
  while (len) {
    ssize_t n = s->sock ? send(s->fd, buf, len, MSG_NOSIGNAL)  /* EPIPE, not SIGPIPE */
              : s->off >= 0 ? pwrite(s->fd, buf, len, s->off) : write(s->fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd p = {s->fd, POLLOUT, 0};
        poll(&p, 1, -1);
        continue;
      }
      *err = errno;
      return errno == EPIPE ? SHOAL_WASI_CLOSED : SHOAL_WASI_FAILED;
    }
    if (s->off >= 0) s->off += n;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static bool fd_in_ready(void *self) {
  fd_stream_t *s = self;
  return s->off >= 0 || fd_ready(s->fd, POLLIN);
}

static void fd_in_wait(void *self, int *fd, short *ev, uint64_t *dl) {
  (void)dl;
  *fd = ((fd_stream_t *)self)->fd;
  *ev = POLLIN;
}

static void fd_close(void *self) {
  fd_stream_t *s = self;
  if (s->own) close(s->fd);
  free(s);
}

static bool sock_out_ready(void *self) { return fd_ready(((fd_stream_t *)self)->fd, POLLOUT); }

static void sock_out_wait(void *self, int *fd, short *ev, uint64_t *dl) {
  (void)dl;
  *fd = ((fd_stream_t *)self)->fd;
  *ev = POLLOUT;
}

static const shoal_wasi_ops_t fd_in_ops = {.read = fd_read, .ready = fd_in_ready, .wait = fd_in_wait, .close = fd_close};
static const shoal_wasi_ops_t fd_out_ops = {.check_write = fd_check_write, .write = fd_write, .close = fd_close};
static const shoal_wasi_ops_t sock_out_ops = {.check_write = fd_check_write, .write = fd_write, .ready = sock_out_ready,
                                              .wait = sock_out_wait, .close = fd_close};

static uint32_t fd_stream(shoal_wasi_ctx_t *w, int kind, int fd, bool own, int64_t off, bool append, bool sock) {
  fd_stream_t *s = malloc(sizeof *s);
  if (!s) {
    if (own) close(fd);
    return 0;
  }
  *s = (fd_stream_t){fd, own, append, sock, off};
  return wasi_obj_add(w, kind, kind == SHOAL_WASI_INPUT_STREAM ? &fd_in_ops : sock ? &sock_out_ops : &fd_out_ops, s);
}

uint32_t wasi_sock_stream(shoal_wasi_ctx_t *w, int kind, int fd) { return fd_stream(w, kind, fd, true, -1, false, true); }

uint32_t wasi_fd_input(shoal_wasi_ctx_t *w, int fd, bool own_fd, int64_t offset) {
  return fd_stream(w, SHOAL_WASI_INPUT_STREAM, fd, own_fd, offset, false, false);
}

uint32_t wasi_fd_output(shoal_wasi_ctx_t *w, int fd, bool own_fd, int64_t offset, bool append) {
  return fd_stream(w, SHOAL_WASI_OUTPUT_STREAM, fd, own_fd, offset, append, false);
}
/* }================================================================== */

/* {==================================================================
** Errors and subscribe pollables
** =================================================================== */
static void free_self(void *self) { free(self); }
static const shoal_wasi_ops_t error_ops = {.close = free_self};

uint32_t wasi_error_new(shoal_wasi_ctx_t *w, int err) {
  int *p = malloc(sizeof *p);
  if (!p) return 0;
  *p = err;
  return wasi_obj_add(w, WASI_K_ERROR, &error_ops, p);
}

bool wasi_error_errno(shoal_wasi_ctx_t *w, uint32_t rep, int *err) {
  wasi_obj_t *o = wasi_obj_get(w, rep, WASI_K_ERROR);
  if (!o || o->ops != &error_ops) return false;
  *err = *(int *)o->self;
  return true;
}

/* A stream's subscribe pollable: ready when the stream is. */
typedef struct sub {
  shoal_wasi_ctx_t *w;
  uint32_t stream;
} sub_t;

static bool sub_ready(void *self) {
  sub_t *s = self;
  return obj_ready(s->w, s->stream);
}

static void sub_wait(void *self, int *fd, short *ev, uint64_t *dl) {
  sub_t *s = self;
  wasi_obj_t *o = wasi_obj_get(s->w, s->stream, 0);
  if (o && o->ops && o->ops->wait) o->ops->wait(o->self, fd, ev, dl);
}

static const shoal_wasi_ops_t sub_ops = {.ready = sub_ready, .wait = sub_wait, .close = free_self};
/* }================================================================== */

/* {==================================================================
** wasi:io functions
** =================================================================== */
/* err(stream-error) into r: closed, or last-operation-failed(error). */
static shoal_err_t stream_error(shoal_ccall_t *c, shoal_wasi_ctx_t *w, shoal_cval_t *r, int64_t st, int err) {
  shoal_cval_t *p = wv_payload(r, SHOAL_CT_RESULT, 1);
  if (!p) return wv_oom(c);
  if (st == SHOAL_WASI_CLOSED) {
    p->kind = SHOAL_CT_VARIANT;
    p->of.var.disc = 1;
    return SHOAL_ERR_OK;
  }
  shoal_cval_t *e = wv_payload(p, SHOAL_CT_VARIANT, 0);
  if (!e) return wv_oom(c);
  e->kind = SHOAL_CT_OWN;
  if (!(e->of.handle = wasi_error_new(w, err ? err : EIO))) return wv_oom(c);
  return SHOAL_ERR_OK;
}

static shoal_err_t ok_u64(shoal_ccall_t *c, shoal_cval_t *r, uint64_t n) {
  shoal_cval_t *p = wv_payload(r, SHOAL_CT_RESULT, 0);
  if (!p) return wv_oom(c);
  wv_u(p, SHOAL_CT_U64, n);
  return SHOAL_ERR_OK;
}

static shoal_err_t ok_unit(shoal_cval_t *r) {
  r->kind = SHOAL_CT_RESULT;
  r->of.var.disc = 0;
  r->of.var.payload = NULL;
  return SHOAL_ERR_OK;
}

static wasi_obj_t *stream_arg(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t na, int kind) {
  wasi_obj_t *o = na ? wasi_obj_get(WASI_CTX, a[0].of.handle, kind) : NULL;
  if (!o) shoal_ccall_trap(c, "%s: not a live %s", WASI_ENV->func, kind == SHOAL_WASI_INPUT_STREAM ? "input-stream" : "output-stream");
  return o;
}

static shoal_err_t interrupted(shoal_ccall_t *c) { return shoal_ccall_trap(c, "interrupted while blocked in WASI"); }

/* read / blocking-read / skip / blocking-skip */
static shoal_err_t in_read(WASI_ARGS) {
  wasi_obj_t *o = stream_arg(c, envp, a, na, SHOAL_WASI_INPUT_STREAM);
  if (!o) return SHOAL_ERR_TRAP_HOST;
  if (na < 2) return shoal_ccall_trap(c, "read: bad arguments");
  const char *f = WASI_ENV->func;
  bool blocking = strstr(f, "blocking") != NULL, skip = strstr(f, "skip") != NULL;
  uint32_t rep = a[0].of.handle;
  size_t len = a[1].of.u > MAX_IO ? MAX_IO : (size_t)a[1].of.u;
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) return wv_oom(c);
  int err = 0;
  int64_t n;
  for (;;) {
    o = wasi_obj_get(WASI_CTX, rep, SHOAL_WASI_INPUT_STREAM);
    n = o->ops->read ? o->ops->read(o->self, buf, len, &err) : SHOAL_WASI_CLOSED;
    if (n != 0 || !blocking || len == 0) break;
    if (!wasi_wait_any(WASI_CTX, &rep, 1, UINT64_MAX)) { free(buf); return interrupted(c); }
  }
  shoal_err_t e;
  if (n < 0) e = stream_error(c, WASI_CTX, r, n, err);
  else if (skip) e = ok_u64(c, r, (uint64_t)n);
  else {
    shoal_cval_t *p = wv_payload(r, SHOAL_CT_RESULT, 0);
    e = p && wv_bytes(p, buf, (size_t)n) ? SHOAL_ERR_OK : wv_oom(c);
  }
  free(buf);
  return e;
}

static int64_t permit(wasi_obj_t *o, int *err) {
  return o->ops->check_write ? o->ops->check_write(o->self, err) : (int64_t)MAX_IO;
}

static shoal_err_t out_check_write(WASI_ARGS) {
  wasi_obj_t *o = stream_arg(c, envp, a, na, SHOAL_WASI_OUTPUT_STREAM);
  if (!o) return SHOAL_ERR_TRAP_HOST;
  int err = 0;
  int64_t n = permit(o, &err);
  return n < 0 ? stream_error(c, WASI_CTX, r, n, err) : ok_u64(c, r, (uint64_t)n);
}

#define OVER_PERMIT (-100)  /* a non-blocking write beyond check-write's permit */

/* Writes all of buf, waiting for permits when blocking; then flushes. */
static int64_t write_all(shoal_wasi_ctx_t *w, uint32_t rep, const uint8_t *buf, size_t len, bool blocking, int *err,
                         bool *intr) {
  for (;;) {
    wasi_obj_t *o = wasi_obj_get(w, rep, SHOAL_WASI_OUTPUT_STREAM);
    if (!o) return SHOAL_WASI_CLOSED;
    int64_t p = permit(o, err);
    if (p < 0) return p;
    if (!blocking && (uint64_t)p < len) return OVER_PERMIT;
    if (p == 0 && len) {
      if (!wasi_wait_any(w, &rep, 1, UINT64_MAX)) { *intr = true; return 0; }
      continue;
    }
    size_t k = (uint64_t)p < len ? (size_t)p : len;
    if (k) {
      int64_t s = o->ops->write ? o->ops->write(o->self, buf, k, err) : SHOAL_WASI_CLOSED;
      if (s < 0) return s;
      buf += k;
      len -= k;
    }
    if (!len) break;
  }
  if (blocking) {
    wasi_obj_t *o = wasi_obj_get(w, rep, SHOAL_WASI_OUTPUT_STREAM);
    int64_t s = o->ops->flush ? o->ops->flush(o->self, err) : 0;
    if (s < 0) return s;
    if (!wasi_wait_any(w, &rep, 1, UINT64_MAX)) *intr = true;
  }
  return 0;
}

/* write / blocking-write-and-flush / write-zeroes / blocking-write-zeroes-and-flush */
static shoal_err_t out_write(WASI_ARGS) {
  if (!stream_arg(c, envp, a, na, SHOAL_WASI_OUTPUT_STREAM)) return SHOAL_ERR_TRAP_HOST;
  if (na < 2) return shoal_ccall_trap(c, "write: bad arguments");
  const char *f = WASI_ENV->func;
  bool blocking = strstr(f, "blocking") != NULL;
  size_t len;
  uint8_t *buf;
  if (strstr(f, "zeroes")) {
    if (a[1].of.u > MAX_IO * 16u) return shoal_ccall_trap(c, "%s: %llu bytes is too many", f, (unsigned long long)a[1].of.u);
    len = (size_t)a[1].of.u;
    buf = calloc(len ? len : 1, 1);
  } else {
    buf = wv_get_bytes(&a[1], &len);
  }
  if (!buf) return wv_oom(c);
  int err = 0;
  bool intr = false;
  int64_t s = write_all(WASI_CTX, a[0].of.handle, buf, len, blocking, &err, &intr);
  free(buf);
  if (intr) return interrupted(c);
  /* the contract of check-write (wasi:io/streams): trap */
  if (s == OVER_PERMIT) return shoal_ccall_trap(c, "%s: %zu bytes, more than check-write permitted", f, len);
  return s < 0 ? stream_error(c, WASI_CTX, r, s, err) : ok_unit(r);
}

static shoal_err_t out_flush(WASI_ARGS) {
  wasi_obj_t *o = stream_arg(c, envp, a, na, SHOAL_WASI_OUTPUT_STREAM);
  if (!o) return SHOAL_ERR_TRAP_HOST;
  int err = 0;
  int64_t s = o->ops->flush ? o->ops->flush(o->self, &err) : 0;
  if (s < 0) return stream_error(c, WASI_CTX, r, s, err);
  uint32_t rep = a[0].of.handle;
  if (strstr(WASI_ENV->func, "blocking") && !wasi_wait_any(WASI_CTX, &rep, 1, UINT64_MAX)) return interrupted(c);
  return ok_unit(r);
}

/* splice / blocking-splice: from an input stream into this output stream */
static shoal_err_t out_splice(WASI_ARGS) {
  if (!stream_arg(c, envp, a, na, SHOAL_WASI_OUTPUT_STREAM)) return SHOAL_ERR_TRAP_HOST;
  if (na < 3 || !wasi_obj_get(WASI_CTX, a[1].of.handle, SHOAL_WASI_INPUT_STREAM))
    return shoal_ccall_trap(c, "splice: the source is not a live input-stream");
  bool blocking = strstr(WASI_ENV->func, "blocking") != NULL;
  uint32_t reps[2] = {a[1].of.handle, a[0].of.handle};
  int err = 0;
  int64_t n;
  uint8_t *buf = NULL;
  for (;;) {
    wasi_obj_t *dst = wasi_obj_get(WASI_CTX, reps[1], SHOAL_WASI_OUTPUT_STREAM);
    wasi_obj_t *src = wasi_obj_get(WASI_CTX, reps[0], SHOAL_WASI_INPUT_STREAM);
    int64_t p = permit(dst, &err);
    if (p < 0) { free(buf); return stream_error(c, WASI_CTX, r, p, err); }
    uint64_t want = a[2].of.u < (uint64_t)p ? a[2].of.u : (uint64_t)p;
    if (want > MAX_IO) want = MAX_IO;
    if (want == 0 && a[2].of.u && blocking) {
      if (!wasi_wait_any(WASI_CTX, &reps[1], 1, UINT64_MAX)) { free(buf); return interrupted(c); }
      continue;
    }
    free(buf);
    if (!(buf = malloc(want ? (size_t)want : 1))) return wv_oom(c);
    n = src->ops->read ? src->ops->read(src->self, buf, (size_t)want, &err) : SHOAL_WASI_CLOSED;
    if (n == 0 && want && blocking) {
      if (!wasi_wait_any(WASI_CTX, &reps[0], 1, UINT64_MAX)) { free(buf); return interrupted(c); }
      continue;
    }
    if (n > 0) {
      int64_t s = dst->ops->write ? dst->ops->write(dst->self, buf, (size_t)n, &err) : SHOAL_WASI_CLOSED;
      if (s < 0) n = s;
    }
    break;
  }
  free(buf);
  return n < 0 ? stream_error(c, WASI_CTX, r, n, err) : ok_u64(c, r, (uint64_t)n);
}

uint32_t wasi_subscribe(shoal_wasi_ctx_t *w, uint32_t rep) {
  sub_t *s = malloc(sizeof *s);
  if (!s) return 0;
  *s = (sub_t){w, rep};
  return wasi_obj_add(w, SHOAL_WASI_POLLABLE, &sub_ops, s);
}

/* subscribe of streams (and of any object with ready/wait ops) */
static shoal_err_t subscribe(WASI_ARGS) {
  if (!na || !wasi_obj_get(WASI_CTX, a[0].of.handle, 0)) return shoal_ccall_trap(c, "%s: not a live object", WASI_ENV->func);
  r->kind = SHOAL_CT_OWN;
  if (!(r->of.handle = wasi_subscribe(WASI_CTX, a[0].of.handle))) return wv_oom(c);
  return SHOAL_ERR_OK;
}

shoal_err_t wasi_subscribe_fn(WASI_ARGS) { return subscribe(c, envp, a, na, r); }

static shoal_err_t pollable_ready(WASI_ARGS) {
  if (!na || !wasi_obj_get(WASI_CTX, a[0].of.handle, SHOAL_WASI_POLLABLE)) return shoal_ccall_trap(c, "ready: not a live pollable");
  r->kind = SHOAL_CT_BOOL;
  r->of.b = obj_ready(WASI_CTX, a[0].of.handle);
  return SHOAL_ERR_OK;
}

static shoal_err_t pollable_block(WASI_ARGS) {
  (void)r;
  if (!na || !wasi_obj_get(WASI_CTX, a[0].of.handle, SHOAL_WASI_POLLABLE)) return shoal_ccall_trap(c, "block: not a live pollable");
  uint32_t rep = a[0].of.handle;
  return wasi_wait_any(WASI_CTX, &rep, 1, UINT64_MAX) ? SHOAL_ERR_OK : interrupted(c);
}

/* poll(list<borrow<pollable>>) -> list<u32>: the indices of the ready ones */
static shoal_err_t do_poll(WASI_ARGS) {
  if (na < 1 || a[0].kind != SHOAL_CT_LIST) return shoal_ccall_trap(c, "poll: bad arguments");
  size_t n = a[0].of.list.n;
  if (n == 0) return shoal_ccall_trap(c, "poll: empty list of pollables");
  uint32_t *reps = malloc(n * sizeof *reps);
  if (!reps) return wv_oom(c);
  for (size_t i = 0; i < n; i++) {
    reps[i] = a[0].of.list.items[i].of.handle;
    if (!wasi_obj_get(WASI_CTX, reps[i], SHOAL_WASI_POLLABLE)) {
      free(reps);
      return shoal_ccall_trap(c, "poll: element %zu is not a live pollable", i);
    }
  }
  if (!wasi_wait_any(WASI_CTX, reps, n, UINT64_MAX)) {
    free(reps);
    return interrupted(c);
  }
  size_t k = 0;
  bool *ready = calloc(n, sizeof *ready);
  if (!ready) { free(reps); return wv_oom(c); }
  for (size_t i = 0; i < n; i++)
    if ((ready[i] = obj_ready(WASI_CTX, reps[i]))) k++;
  free(reps);
  if (!wv_list(r, k)) { free(ready); return wv_oom(c); }
  k = 0;
  for (size_t i = 0; i < n; i++)
    if (ready[i]) wv_u(&r->of.list.items[k++], SHOAL_CT_U32, i);
  free(ready);
  return SHOAL_ERR_OK;
}

static shoal_err_t error_debug_string(WASI_ARGS) {
  int err = EIO;
  if (!na || !wasi_obj_get(WASI_CTX, a[0].of.handle, WASI_K_ERROR)) return shoal_ccall_trap(c, "to-debug-string: not a live error");
  wasi_error_errno(WASI_CTX, a[0].of.handle, &err);
  const char *m = strerror(err);
  return wv_string(r, m, strlen(m)) ? SHOAL_ERR_OK : wv_oom(c);
}

static shoal_err_t drop(WASI_ARGS) {
  (void)c; (void)r;
  if (na) wasi_obj_drop(WASI_CTX, a[0].of.handle);
  return SHOAL_ERR_OK;
}

static const wasi_fn_t fns[] = {
  {"wasi:io/error", "[method]error.to-debug-string", error_debug_string, "h"},
  {"wasi:io/error", "[resource-drop]error", drop, "h"},
  {"wasi:io/poll", "[method]pollable.ready", pollable_ready, "h"},
  {"wasi:io/poll", "[method]pollable.block", pollable_block, "h"},
  {"wasi:io/poll", "poll", do_poll, "L"},
  {"wasi:io/poll", "[resource-drop]pollable", drop, "h"},
  {"wasi:io/streams", "[method]input-stream.read", in_read, "hu"},
  {"wasi:io/streams", "[method]input-stream.blocking-read", in_read, "hu"},
  {"wasi:io/streams", "[method]input-stream.skip", in_read, "hu"},
  {"wasi:io/streams", "[method]input-stream.blocking-skip", in_read, "hu"},
  {"wasi:io/streams", "[method]input-stream.subscribe", subscribe, "h"},
  {"wasi:io/streams", "[resource-drop]input-stream", drop, "h"},
  {"wasi:io/streams", "[method]output-stream.check-write", out_check_write, "h"},
  {"wasi:io/streams", "[method]output-stream.write", out_write, "hL"},
  {"wasi:io/streams", "[method]output-stream.blocking-write-and-flush", out_write, "hL"},
  {"wasi:io/streams", "[method]output-stream.write-zeroes", out_write, "hu"},
  {"wasi:io/streams", "[method]output-stream.blocking-write-zeroes-and-flush", out_write, "hu"},
  {"wasi:io/streams", "[method]output-stream.flush", out_flush, "h"},
  {"wasi:io/streams", "[method]output-stream.blocking-flush", out_flush, "h"},
  {"wasi:io/streams", "[method]output-stream.splice", out_splice, "hhu"},
  {"wasi:io/streams", "[method]output-stream.blocking-splice", out_splice, "hhu"},
  {"wasi:io/streams", "[method]output-stream.subscribe", subscribe, "h"},
  {"wasi:io/streams", "[resource-drop]output-stream", drop, "h"},
};

const wasi_fn_t *wasi_io_fns(size_t *n) {
  *n = sizeof fns / sizeof *fns;
  return fns;
}
/* }================================================================== */
