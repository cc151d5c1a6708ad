/*
** The access log: one line per request, appended to a buffer under a lock
** and written out in large blocks (when 64 KiB fill up, and once a second
** by the server), so logging costs no system call per request.
*/
#include "host_int.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_BUF (64 * 1024)

struct host_log {
  pthread_mutex_t lock;
  FILE *f;
  bool own;
  char buf[LOG_BUF];
  size_t n;
};

host_log_t *host_log_open(const char *path) {
  if (!path) return NULL;
  host_log_t *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  if (strcmp(path, "-") == 0) {
    l->f = stderr;
  } else if (!(l->f = fopen(path, "a"))) {
    free(l);
    return NULL;
  } else {
    l->own = true;
  }
  pthread_mutex_init(&l->lock, NULL);
  return l;
}

static void flush_locked(host_log_t *l) {
  if (l->n) {
    fwrite(l->buf, 1, l->n, l->f);
    fflush(l->f);
    l->n = 0;
  }
}

void host_log_line(host_log_t *l, const char *fmt, ...) {
  if (!l) return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (k < 0) return;
  size_t n = (size_t)k < sizeof line - 1 ? (size_t)k : sizeof line - 2;
  line[n++] = '\n';
  pthread_mutex_lock(&l->lock);
  if (l->n + n > LOG_BUF) flush_locked(l);
  memcpy(l->buf + l->n, line, n);
  l->n += n;
  pthread_mutex_unlock(&l->lock);
}

void host_log_flush(host_log_t *l) {
  if (!l) return;
  pthread_mutex_lock(&l->lock);
  flush_locked(l);
  pthread_mutex_unlock(&l->lock);
}

void host_log_close(host_log_t *l) {
  if (!l) return;
  host_log_flush(l);
  if (l->own) fclose(l->f);
  pthread_mutex_destroy(&l->lock);
  free(l);
}
