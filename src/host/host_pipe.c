/*
** Byte pipes between a connection's thread and its guest's thread: the
** request body flows in and the response body out while the guest runs.
** Bounded (backpressure); an eventfd lets the WASI host's waits poll(2) it.
*/
#include "host_int.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

bool host_pipe_init(host_pipe_t *p, size_t cap) {
  memset(p, 0, sizeof *p);
  p->buf = malloc(cap);
  p->efd = -1;  /* made when a waiter first needs it: most requests never wait */
  if (!p->buf) return false;
  p->cap = cap;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->cond, NULL);
  return true;
}

void host_pipe_destroy(host_pipe_t *p) {
  if (!p->buf) return;
  free(p->buf);
  if (p->efd >= 0) close(p->efd);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->cond);
  p->buf = NULL;
}

/* Something changed: wake blocked threads and pollers (the notify hook
** runs after the lock is released, see unlock). */
static void changed(host_pipe_t *p) {
  uint64_t one = 1;
  pthread_cond_broadcast(&p->cond);
  if (p->efd >= 0 && write(p->efd, &one, sizeof one) < 0 && errno != EAGAIN) { /* cannot happen: the counter never nears 2^64 */ }
  p->notify_due = true;
}

static void unlock(host_pipe_t *p) {
  bool due = p->notify_due && p->notify;
  p->notify_due = false;
  pthread_mutex_unlock(&p->lock);
  if (due) p->notify(p->notify_ud);
}

int host_pipe_fd(host_pipe_t *p) {
  pthread_mutex_lock(&p->lock);
  if (p->efd < 0) p->efd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);  /* 1: re-check at once */
  int fd = p->efd;
  pthread_mutex_unlock(&p->lock);
  return fd;
}

bool host_pipe_peek(host_pipe_t *p, bool for_write) {
  pthread_mutex_lock(&p->lock);
  bool r = p->gone || (for_write ? p->unbounded || p->len < p->cap : p->len > 0 || p->eof);
  pthread_mutex_unlock(&p->lock);
  return r;
}

/* Room for n more bytes in an unbounded pipe: a bigger, linear buffer. */
static bool grow(host_pipe_t *p, size_t n) {
  if (p->len + n <= p->cap) return true;
  size_t cap = p->cap * 2 > p->len + n ? p->cap * 2 : p->len + n;
  uint8_t *b = malloc(cap);
  if (!b) return false;
  size_t first = p->cap - p->head < p->len ? p->cap - p->head : p->len;
  memcpy(b, p->buf + p->head, first);
  memcpy(b + first, p->buf, p->len - first);
  free(p->buf);
  p->buf = b;
  p->cap = cap;
  p->head = 0;
  return true;
}

static void put(host_pipe_t *p, const uint8_t *d, size_t n) {
  size_t tail = (p->head + p->len) % p->cap, first = p->cap - tail < n ? p->cap - tail : n;
  memcpy(p->buf + tail, d, first);
  memcpy(p->buf, d + first, n - first);
  p->len += n;
  p->total += n;
}

static size_t take(host_pipe_t *p, uint8_t *d, size_t n) {
  if (n > p->len) n = p->len;
  size_t first = p->cap - p->head < n ? p->cap - p->head : n;
  memcpy(d, p->buf + p->head, first);
  memcpy(d + first, p->buf, n - first);
  p->head = (p->head + n) % p->cap;
  p->len -= n;
  return n;
}

bool host_pipe_write_all(host_pipe_t *p, const uint8_t *d, size_t n) {
  pthread_mutex_lock(&p->lock);
  while (n && !p->gone) {
    size_t k = p->cap - p->len < n ? p->cap - p->len : n;
    if (!k) {
      pthread_cond_wait(&p->cond, &p->lock);
      continue;
    }
    put(p, d, k);
    d += k;
    n -= k;
    changed(p);
  }
  bool ok = !p->gone;
  unlock(p);
  return ok;
}

int64_t host_pipe_space(host_pipe_t *p) {
  pthread_mutex_lock(&p->lock);
  int64_t r = p->gone ? SHOAL_WASI_CLOSED : p->unbounded ? 1 << 20 : (int64_t)(p->cap - p->len);
  unlock(p);
  return r;
}

int64_t host_pipe_write(host_pipe_t *p, const uint8_t *d, size_t n) {
  pthread_mutex_lock(&p->lock);
  int64_t r = SHOAL_WASI_CLOSED;
  if (!p->gone) {
    if (p->unbounded && !grow(p, n)) {
      unlock(p);
      return SHOAL_WASI_FAILED;
    }
    size_t k = p->cap - p->len < n ? p->cap - p->len : n;
    put(p, d, k);
    changed(p);
    r = (int64_t)k;
  }
  unlock(p);
  return r;
}

int64_t host_pipe_read(host_pipe_t *p, uint8_t *d, size_t n, bool block) {
  pthread_mutex_lock(&p->lock);
  while (block && !p->len && !p->eof && !p->gone) pthread_cond_wait(&p->cond, &p->lock);
  int64_t r = p->len ? (int64_t)take(p, d, n) : p->eof || p->gone ? SHOAL_WASI_CLOSED : 0;
  if (r > 0) changed(p);
  unlock(p);
  return r;
}

bool host_pipe_ready(host_pipe_t *p, bool for_write) {
  pthread_mutex_lock(&p->lock);
  bool r = p->gone || (for_write ? p->unbounded || p->len < p->cap : p->len > 0 || p->eof);
  if (!r && p->efd >= 0) {  /* not ready: clear the eventfd so a poll sleeps until the next change */
    uint64_t v;
    if (read(p->efd, &v, sizeof v) < 0 && errno != EAGAIN) { /* nothing to clear */ }
  }
  unlock(p);
  return r;
}

void host_pipe_bound(host_pipe_t *p, bool bounded) {
  pthread_mutex_lock(&p->lock);
  p->unbounded = !bounded;
  changed(p);
  unlock(p);
}

void host_pipe_close(host_pipe_t *p) {
  pthread_mutex_lock(&p->lock);
  p->eof = true;
  changed(p);
  unlock(p);
}

void host_pipe_abandon(host_pipe_t *p) {
  pthread_mutex_lock(&p->lock);
  p->gone = true;
  changed(p);
  unlock(p);
}
