/*
** wasi_sock.c: sock_accept/recv/send/shutdown on sockets the host
** pre-opened (the guest cannot create or connect sockets in preview 1).
*/
#define _GNU_SOURCE
#include "wasi_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum { RI_PEEK = 1, RI_WAITALL = 2 };
enum { RO_DATA_TRUNCATED = 1 };
enum { SD_RD = 1, SD_WR = 2 };

/* The socket behind fd, or NULL with *err (EBADF, ENOTSOCK, ENOTCAPABLE). */
static wasi_fd_t *get_sock(wasi_call_t *c, uint32_t fd, uint64_t rights, uint32_t *err) {
  wasi_fd_t *f = wasi_fd_get(c->w, fd);
  if (!f) {
    *err = WASI_EBADF;
    return NULL;
  }
  if (f->kind != WASI_KIND_SOCKET) {
    *err = WASI_ENOTSOCK;
    return NULL;
  }
  if ((f->rights & rights) != rights) {
    *err = WASI_ENOTCAPABLE;
    return NULL;
  }
  return f;
}

static bool nonblocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl >= 0 && (fl & O_NONBLOCK);
}

/* Waits (interruptibly) for a blocking socket; false if interrupted. */
static bool wait_ready(wasi_call_t *c, int fd, short events) {
  if (nonblocking(fd)) return true;
  return wasi_wait_fd(c, fd, events) != -2;
}

static uint32_t sock_accept(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t err, flags = A32(1);
  wasi_fd_t *f = get_sock(c, A32(0), WASI_RIGHT_SOCK_ACCEPT, &err);
  if (!f) return err;
  if (flags & ~(uint32_t)WASI_FDFLAG_NONBLOCK) return WASI_EINVAL;
  if (!wasi_mem(c, A32(2), 4)) return WASI_EFAULT;
  int host;
  for (;;) {
    if (!wait_ready(c, f->host, POLLIN)) return wasi_interrupted(c);
    host = accept4(f->host, NULL, NULL,
                   SOCK_CLOEXEC | ((flags & WASI_FDFLAG_NONBLOCK) ? SOCK_NONBLOCK : 0));
    if (host >= 0) break;
    /* Another process may have taken the connection: wait again. */
    if (errno == EINTR || ((errno == EAGAIN || errno == EWOULDBLOCK) && !nonblocking(f->host)))
      continue;
    return wasi_errno(errno);
  }
  wasi_fd_t nf = {.host = host, .kind = WASI_KIND_SOCKET, .filetype = WASI_FILETYPE_SOCKET_STREAM,
                  .rights = WASI_RIGHTS_SOCK & ~WASI_RIGHT_SOCK_ACCEPT};
  int64_t g = wasi_fd_insert(c->w, &nf);
  if (g < 0) return WASI_EMFILE;
  wasi_put32(c, A32(2), (uint32_t)g);
  return WASI_ESUCCESS;
}

static uint32_t sock_recv(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t err, niov = A32(2), riflags = A32(3), lenp = A32(4), flagsp = A32(5);
  wasi_fd_t *f = get_sock(c, A32(0), WASI_RIGHT_FD_READ, &err);
  if (!f) return err;
  if (riflags & ~(uint32_t)(RI_PEEK | RI_WAITALL)) return WASI_EINVAL;
  if (!wasi_mem(c, lenp, 4) || !wasi_mem(c, flagsp, 2)) return WASI_EFAULT;
  if (niov > WASI_IOV_MAX) return WASI_EINVAL; /* before sizing an allocation by it */
  struct iovec *iov = malloc(((size_t)niov + 1) * sizeof *iov);
  if (!iov) return WASI_ENOMEM;
  err = wasi_iovecs(c, A32(1), niov, iov);
  if (err) {
    free(iov);
    return err;
  }
  if (!wait_ready(c, f->host, POLLIN)) {
    free(iov);
    return wasi_interrupted(c);
  }
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = niov};
  int fl = ((riflags & RI_PEEK) ? MSG_PEEK : 0) | ((riflags & RI_WAITALL) ? MSG_WAITALL : 0);
  ssize_t n;
  do n = recvmsg(f->host, &mh, fl);
  while (n < 0 && errno == EINTR);
  int e = errno;
  free(iov);
  if (n < 0) return wasi_errno(e);
  wasi_put32(c, lenp, (uint32_t)n);
  uint8_t *p = wasi_mem(c, flagsp, 2);
  wasi_st16(p, (mh.msg_flags & MSG_TRUNC) ? RO_DATA_TRUNCATED : 0);
  return WASI_ESUCCESS;
}

static uint32_t sock_send(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t err, niov = A32(2), outp = A32(4);
  wasi_fd_t *f = get_sock(c, A32(0), WASI_RIGHT_FD_WRITE, &err);
  if (!f) return err;
  if (A32(3) != 0) return WASI_EINVAL; /* no siflags are defined */
  if (!wasi_mem(c, outp, 4)) return WASI_EFAULT;
  if (niov > WASI_IOV_MAX) return WASI_EINVAL; /* before sizing an allocation by it */
  struct iovec *iov = malloc(((size_t)niov + 1) * sizeof *iov);
  if (!iov) return WASI_ENOMEM;
  err = wasi_iovecs(c, A32(1), niov, iov);
  if (err) {
    free(iov);
    return err;
  }
  if (!wait_ready(c, f->host, POLLOUT)) {
    free(iov);
    return wasi_interrupted(c);
  }
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = niov};
  ssize_t n;
  do n = sendmsg(f->host, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  int e = errno;
  free(iov);
  if (n < 0) return wasi_errno(e);
  wasi_put32(c, outp, (uint32_t)n);
  return WASI_ESUCCESS;
}

static uint32_t sock_shutdown(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t err, how = A32(1);
  wasi_fd_t *f = get_sock(c, A32(0), WASI_RIGHT_SOCK_SHUTDOWN, &err);
  if (!f) return err;
  int h;
  switch (how) {
  case SD_RD: h = SHUT_RD; break;
  case SD_WR: h = SHUT_WR; break;
  case SD_RD | SD_WR: h = SHUT_RDWR; break;
  default: return WASI_EINVAL;
  }
  if (shutdown(f->host, h) != 0) return wasi_errno(errno);
  return WASI_ESUCCESS;
}

static const wasi_def_t sock_defs[] = {
  {"sock_accept", "iii", 1, sock_accept},
  {"sock_recv", "iiiiii", 1, sock_recv},
  {"sock_send", "iiiii", 1, sock_send},
  {"sock_shutdown", "ii", 1, sock_shutdown},
};

const wasi_def_t *wasi_defs_sock(size_t *n) {
  *n = sizeof sock_defs / sizeof sock_defs[0];
  return sock_defs;
}
