/*
** wasi_fd.c: the fd_* functions of WASI preview 1: reading, writing,
** seeking, metadata, directory listings with cookies, renumbering.
*/
#define _GNU_SOURCE
#include "wasi_mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static uint64_t ts_ns(const struct timespec *t) {
  return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

uint32_t wasi_put_filestat(wasi_call_t *c, uint32_t ptr, const struct stat *st) {
  uint8_t *p = wasi_mem(c, ptr, 64);
  if (!p) return WASI_EFAULT;
  memset(p, 0, 64);
  wasi_st64(p, (uint64_t)st->st_dev);
  wasi_st64(p + 8, (uint64_t)st->st_ino);
  wasi_st8(p + 16, wasi_filetype_of_mode(st->st_mode));
  wasi_st64(p + 24, (uint64_t)st->st_nlink);
  wasi_st64(p + 32, (uint64_t)st->st_size);
  wasi_st64(p + 40, ts_ns(&st->st_atim));
  wasi_st64(p + 48, ts_ns(&st->st_mtim));
  wasi_st64(p + 56, ts_ns(&st->st_ctim));
  return WASI_ESUCCESS;
}

uint32_t wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]) {
  if (fst & ~0xfu) return WASI_EINVAL;
  if ((fst & WASI_FST_ATIM) && (fst & WASI_FST_ATIM_NOW)) return WASI_EINVAL;
  if ((fst & WASI_FST_MTIM) && (fst & WASI_FST_MTIM_NOW)) return WASI_EINVAL;
  ts[0].tv_sec = ts[1].tv_sec = 0;
  ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
  if (fst & WASI_FST_ATIM_NOW) ts[0].tv_nsec = UTIME_NOW;
  if (fst & WASI_FST_ATIM) {
    ts[0].tv_sec = (time_t)(atim / 1000000000u);
    ts[0].tv_nsec = (long)(atim % 1000000000u);
  }
  if (fst & WASI_FST_MTIM_NOW) ts[1].tv_nsec = UTIME_NOW;
  if (fst & WASI_FST_MTIM) {
    ts[1].tv_sec = (time_t)(mtim / 1000000000u);
    ts[1].tv_nsec = (long)(mtim % 1000000000u);
  }
  return WASI_ESUCCESS;
}

/* Whether I/O on f may block (pipes, terminals, sockets): then it waits in
** poll first so shoal_wasi_interrupt can end it. */
static bool may_block(const wasi_fd_t *f) {
  if (f->filetype == WASI_FILETYPE_REGULAR_FILE || f->filetype == WASI_FILETYPE_DIRECTORY)
    return false;
  int fl = fcntl(f->host, F_GETFL);
  return fl >= 0 && !(fl & O_NONBLOCK);
}

/* {===================================================================
** Reading and writing
** =================================================================== */

static uint32_t do_rw(wasi_call_t *c, const shoal_raw_t *a, bool write, bool positioned) {
  uint32_t fd = A32(0), iovs = A32(1), niovs = A32(2);
  uint64_t off = positioned ? A64(3) : 0;
  uint32_t outp = positioned ? A32(4) : A32(3);
  uint64_t need = write ? WASI_RIGHT_FD_WRITE : WASI_RIGHT_FD_READ;
  if (positioned) need |= WASI_RIGHT_FD_SEEK;
  uint32_t err;
  wasi_fd_t *f = wasi_fd_check(c->w, fd, need, &err);
  if (!f) {
    /* A directory has no read/write rights at all: say what it is. */
    wasi_fd_t *g = wasi_fd_get(c->w, fd);
    if (g && g->kind == WASI_KIND_DIR) return WASI_EBADF;
    return err;
  }
  if (!wasi_mem(c, outp, 4)) return WASI_EFAULT;
  if (niovs > WASI_IOV_MAX) return WASI_EINVAL; /* before sizing an allocation by it */
  /* Most calls pass a few buffers: no allocation for those. */
  struct iovec small[8];
  struct iovec *iov = niovs <= 8 ? small : malloc((size_t)niovs * sizeof *iov);
  if (!iov) return WASI_ENOMEM;
  err = wasi_iovecs(c, iovs, niovs, iov);
  if (err) {
    if (iov != small) free(iov);
    return err;
  }
  if (positioned && off > INT64_MAX) {
    if (iov != small) free(iov);
    return WASI_EINVAL;
  }
  if (!positioned && may_block(f)) {
    /* A full pipe can still block a large write part-way; this covers the
    ** common case (a reader that stopped reading). */
    int r = wasi_wait_fd(c, f->host, write ? POLLOUT : POLLIN);
    if (r == -2) {
      if (iov != small) free(iov);
      return wasi_interrupted(c);
    }
  }
  ssize_t n;
  do {
    if (write)
      n = positioned ? pwritev(f->host, iov, (int)niovs, (off_t)off)
                     : writev(f->host, iov, (int)niovs);
    else
      n = positioned ? preadv(f->host, iov, (int)niovs, (off_t)off)
                     : readv(f->host, iov, (int)niovs);
  } while (n < 0 && errno == EINTR);
  int e = errno;
  if (iov != small) free(iov);
  if (n < 0) return wasi_errno(e);
  wasi_put32(c, outp, (uint32_t)n);
  return WASI_ESUCCESS;
}

static uint32_t fd_read(wasi_call_t *c, const shoal_raw_t *a) { return do_rw(c, a, false, false); }
static uint32_t fd_write(wasi_call_t *c, const shoal_raw_t *a) { return do_rw(c, a, true, false); }
static uint32_t fd_pread(wasi_call_t *c, const shoal_raw_t *a) { return do_rw(c, a, false, true); }
static uint32_t fd_pwrite(wasi_call_t *c, const shoal_raw_t *a) { return do_rw(c, a, true, true); }

static uint32_t fd_seek(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t fd = A32(0), whence = A32(2), outp = A32(3);
  int64_t off = (int64_t)A64(1);
  uint64_t need = (off == 0 && whence == 1) ? WASI_RIGHT_FD_TELL : WASI_RIGHT_FD_SEEK;
  uint32_t err;
  wasi_fd_t *g = wasi_fd_get(c->w, fd);
  if (g && g->kind == WASI_KIND_DIR) return WASI_EBADF;
  wasi_fd_t *f = wasi_fd_check(c->w, fd, need, &err);
  if (!f) return err;
  int wh;
  switch (whence) {
  case 0: wh = SEEK_SET; break;
  case 1: wh = SEEK_CUR; break;
  case 2: wh = SEEK_END; break;
  default: return WASI_EINVAL;
  }
  if (!wasi_mem(c, outp, 8)) return WASI_EFAULT;
  off_t r = lseek(f->host, (off_t)off, wh);
  if (r < 0) return wasi_errno(errno);
  wasi_put64(c, outp, (uint64_t)r);
  return WASI_ESUCCESS;
}

static uint32_t fd_tell(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t err;
  wasi_fd_t *g = wasi_fd_get(c->w, A32(0));
  if (g && g->kind == WASI_KIND_DIR) return WASI_EBADF;
  wasi_fd_t *f = wasi_fd_check(c->w, A32(0), WASI_RIGHT_FD_TELL, &err);
  if (!f) return err;
  if (!wasi_mem(c, A32(1), 8)) return WASI_EFAULT;
  off_t r = lseek(f->host, 0, SEEK_CUR);
  if (r < 0) return wasi_errno(errno);
  wasi_put64(c, A32(1), (uint64_t)r);
  return WASI_ESUCCESS;
}

/* }=================================================================== */

/* {===================================================================
** Metadata
** =================================================================== */

static uint32_t fd_fdstat_get(wasi_call_t *c, const shoal_raw_t *a) {
  wasi_fd_t *f = wasi_fd_get(c->w, A32(0));
  if (!f) return WASI_EBADF;
  uint8_t *p = wasi_mem(c, A32(1), 24);
  if (!p) return WASI_EFAULT;
  int fl = fcntl(f->host, F_GETFL);
  uint16_t flags = 0;
  if (fl >= 0) {
    if (fl & O_APPEND) flags |= WASI_FDFLAG_APPEND;
    if (fl & O_NONBLOCK) flags |= WASI_FDFLAG_NONBLOCK;
    if ((fl & O_SYNC) == O_SYNC) flags |= WASI_FDFLAG_SYNC;
    else if (fl & O_DSYNC) flags |= WASI_FDFLAG_DSYNC;
  }
  memset(p, 0, 24);
  wasi_st8(p, f->filetype);
  wasi_st16(p + 2, flags);
  wasi_st64(p + 8, f->rights);
  wasi_st64(p + 16, f->inheriting);
  return WASI_ESUCCESS;
}

static uint32_t fd_fdstat_set_flags(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t err, flags = A32(1);
  wasi_fd_t *f = wasi_fd_check(c->w, A32(0), WASI_RIGHT_FD_FDSTAT_SET_FLAGS, &err);
  if (!f) return err;
  if (flags & ~0x1fu) return WASI_EINVAL;
  /* Linux cannot change the sync flags of an open file (fcntl ignores them). */
  if (flags & (WASI_FDFLAG_DSYNC | WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC)) return WASI_ENOTSUP;
  if ((flags & WASI_FDFLAG_APPEND) && f->readonly) return WASI_EROFS;
  int fl = fcntl(f->host, F_GETFL);
  if (fl < 0) return wasi_errno(errno);
  fl &= ~(O_APPEND | O_NONBLOCK);
  if (flags & WASI_FDFLAG_APPEND) fl |= O_APPEND;
  if (flags & WASI_FDFLAG_NONBLOCK) fl |= O_NONBLOCK;
  if (fcntl(f->host, F_SETFL, fl) < 0) return wasi_errno(errno);
  return WASI_ESUCCESS;
}

static uint32_t fd_fdstat_set_rights(wasi_call_t *c, const shoal_raw_t *a) {
  wasi_fd_t *f = wasi_fd_get(c->w, A32(0));
  if (!f) return WASI_EBADF;
  uint64_t base = A64(1), inh = A64(2);
  /* Rights only ever shrink. */
  if ((base & ~f->rights) || (inh & ~f->inheriting)) return WASI_ENOTCAPABLE;
  f->rights = base;
  f->inheriting = inh;
  return WASI_ESUCCESS;
}

static uint32_t fd_filestat_get(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t err;
  wasi_fd_t *f = wasi_fd_check(c->w, A32(0), 0, &err);
  if (!f) return err;
  struct stat st;
  if (fstat(f->host, &st) != 0) return wasi_errno(errno);
  return wasi_put_filestat(c, A32(1), &st);
}

static uint32_t fd_filestat_set_size(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t err;
  wasi_fd_t *f = wasi_fd_check(c->w, A32(0), WASI_RIGHT_FD_FILESTAT_SET_SIZE, &err);
  if (!f) return err;
  if (f->readonly) return WASI_EROFS;
  if (A64(1) > INT64_MAX) return WASI_EINVAL;
  if (ftruncate(f->host, (off_t)A64(1)) != 0) return wasi_errno(errno);
  return WASI_ESUCCESS;
}

static uint32_t fd_filestat_set_times(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t err;
  wasi_fd_t *f = wasi_fd_check(c->w, A32(0), WASI_RIGHT_FD_FILESTAT_SET_TIMES, &err);
  if (!f) return err;
  struct timespec ts[2];
  err = wasi_times(A64(1), A64(2), A32(3), ts);
  if (err) return err;
  if (f->readonly) return WASI_EROFS;
  if (futimens(f->host, ts) != 0) return wasi_errno(errno);
  return WASI_ESUCCESS;
}

static uint32_t fd_advise(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t err;
  wasi_fd_t *f = wasi_fd_check(c->w, A32(0), WASI_RIGHT_FD_ADVISE, &err);
  if (!f) return err;
  static const int advice[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                               POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
  uint32_t adv = A32(3);
  if (adv > 5) return WASI_EINVAL;
  if (A64(1) > INT64_MAX || A64(2) > INT64_MAX) return WASI_EINVAL;
  if (f->kind == WASI_KIND_DIR) return WASI_EBADF;
  int r = posix_fadvise(f->host, (off_t)A64(1), (off_t)A64(2), advice[adv]);
  /* Pipes and terminals take no advice; that is not the guest's problem. */
  if (r != 0 && r != ESPIPE) return wasi_errno(r);
  return WASI_ESUCCESS;
}

static uint32_t fd_allocate(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t err;
  wasi_fd_t *g = wasi_fd_get(c->w, A32(0));
  if (g && g->kind == WASI_KIND_DIR) return WASI_EBADF;
  wasi_fd_t *f = wasi_fd_check(c->w, A32(0), WASI_RIGHT_FD_ALLOCATE, &err);
  if (!f) return err;
  uint64_t off = A64(1), len = A64(2);
  if (off > INT64_MAX || len > INT64_MAX || off + len > INT64_MAX) return WASI_EINVAL;
  if (f->readonly) return WASI_EROFS;
  int r = posix_fallocate(f->host, (off_t)off, (off_t)len);
  if (r == EOPNOTSUPP) {
    /* Some file systems cannot preallocate: growing the size is what the
    ** guest can observe, so do that. */
    struct stat st;
    if (fstat(f->host, &st) != 0) return wasi_errno(errno);
    if ((uint64_t)st.st_size < off + len && ftruncate(f->host, (off_t)(off + len)) != 0)
      return wasi_errno(errno);
    return WASI_ESUCCESS;
  }
  return r ? wasi_errno(r) : WASI_ESUCCESS;
}

static uint32_t fd_sync_common(wasi_call_t *c, const shoal_raw_t *a, bool data) {
  uint32_t err;
  wasi_fd_t *f = wasi_fd_check(c->w, A32(0), data ? WASI_RIGHT_FD_DATASYNC : WASI_RIGHT_FD_SYNC,
                               &err);
  if (!f) return err;
  int r = data ? fdatasync(f->host) : fsync(f->host);
  if (r != 0 && errno != EINVAL) return wasi_errno(errno); /* EINVAL: a tty or pipe */
  return WASI_ESUCCESS;
}
static uint32_t fd_sync(wasi_call_t *c, const shoal_raw_t *a) { return fd_sync_common(c, a, false); }
static uint32_t fd_datasync(wasi_call_t *c, const shoal_raw_t *a) {
  return fd_sync_common(c, a, true);
}

/* }=================================================================== */

/* {===================================================================
** Pre-opens, close, renumber
** =================================================================== */

static uint32_t fd_prestat_get(wasi_call_t *c, const shoal_raw_t *a) {
  wasi_fd_t *f = wasi_fd_get(c->w, A32(0));
  if (!f || !f->preopen) return WASI_EBADF;
  uint8_t *p = wasi_mem(c, A32(1), 8);
  if (!p) return WASI_EFAULT;
  memset(p, 0, 8); /* tag 0: a directory */
  wasi_st32(p + 4, (uint32_t)strlen(f->preopen));
  return WASI_ESUCCESS;
}

static uint32_t fd_prestat_dir_name(wasi_call_t *c, const shoal_raw_t *a) {
  wasi_fd_t *f = wasi_fd_get(c->w, A32(0));
  if (!f || !f->preopen) return WASI_EBADF;
  size_t n = strlen(f->preopen);
  if (A32(2) < n) return WASI_ENAMETOOLONG;
  uint8_t *p = wasi_mem(c, A32(1), n);
  if (!p && n) return WASI_EFAULT;
  if (n) memcpy(p, f->preopen, n);
  return WASI_ESUCCESS;
}

static uint32_t fd_close(wasi_call_t *c, const shoal_raw_t *a) {
  wasi_fd_t *f = wasi_fd_get(c->w, A32(0));
  if (!f) return WASI_EBADF;
  wasi_fd_release(f);
  return WASI_ESUCCESS;
}

static uint32_t fd_renumber(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t from = A32(0), to = A32(1);
  wasi_fd_t *f = wasi_fd_get(c->w, from), *t = wasi_fd_get(c->w, to);
  if (!f || !t) return WASI_EBADF;
  if (from == to) return WASI_ESUCCESS;
  wasi_fd_release(t);
  *t = *f;
  *f = (wasi_fd_t){.host = -1};
  return WASI_ESUCCESS;
}

/* }=================================================================== */

/* {===================================================================
** fd_readdir: a listing is read once at cookie 0 and kept, so cookies
** (entry indexes) stay meaningful across calls.
** =================================================================== */

static uint8_t dtype_of(int dirfd, const struct dirent *d) {
  switch (d->d_type) {
  case DT_REG: return WASI_FILETYPE_REGULAR_FILE;
  case DT_DIR: return WASI_FILETYPE_DIRECTORY;
  case DT_LNK: return WASI_FILETYPE_SYMBOLIC_LINK;
  case DT_CHR: return WASI_FILETYPE_CHARACTER_DEVICE;
  case DT_BLK: return WASI_FILETYPE_BLOCK_DEVICE;
  case DT_SOCK: return WASI_FILETYPE_SOCKET_STREAM;
  case DT_FIFO: return WASI_FILETYPE_UNKNOWN;
  default: {
    struct stat st;
    if (fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) return WASI_FILETYPE_UNKNOWN;
    return wasi_filetype_of_mode(st.st_mode);
  }
  }
}

static uint32_t read_listing(wasi_fd_t *f) {
  wasi_fd_clear_dirents(f);
  int d = openat(f->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) return wasi_errno(errno);
  DIR *dir = fdopendir(d);
  if (!dir) {
    int e = errno;
    close(d);
    return wasi_errno(e);
  }
  size_t cap = 0;
  uint32_t err = WASI_ESUCCESS;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(dir);
    if (!e) {
      if (errno) err = wasi_errno(errno);
      break;
    }
    if (f->ndirents == cap) {
      size_t nc = cap ? cap * 2 : 16;
      wasi_dirent_t *nd = realloc(f->dirents, nc * sizeof *nd);
      if (!nd) {
        err = WASI_ENOMEM;
        break;
      }
      f->dirents = nd;
      cap = nc;
    }
    wasi_dirent_t *de = &f->dirents[f->ndirents];
    de->name = strdup(e->d_name);
    if (!de->name) {
      err = WASI_ENOMEM;
      break;
    }
    de->namelen = (uint32_t)strlen(e->d_name);
    de->ino = e->d_ino;
    de->type = dtype_of(dirfd(dir), e);
    f->ndirents++;
  }
  closedir(dir);
  if (err) wasi_fd_clear_dirents(f);
  return err;
}

static uint32_t fd_readdir(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t err, buf = A32(1), len = A32(2), usedp = A32(4);
  uint64_t cookie = A64(3);
  wasi_fd_t *f = wasi_fd_check(c->w, A32(0), WASI_RIGHT_FD_READDIR, &err);
  if (!f) return err;
  if (f->kind != WASI_KIND_DIR) return WASI_ENOTDIR;
  uint8_t *out = wasi_mem(c, buf, len);
  if (!out && len) return WASI_EFAULT;
  if (!wasi_mem(c, usedp, 4)) return WASI_EFAULT;
  if (cookie == 0 || !f->dirents) {
    err = read_listing(f);
    if (err) return err;
  }
  uint32_t used = 0;
  for (uint64_t i = cookie; i < f->ndirents && used < len; i++) {
    const wasi_dirent_t *de = &f->dirents[i];
    uint8_t hdr[24] = {0};
    wasi_st64(hdr, i + 1);
    wasi_st64(hdr + 8, de->ino);
    wasi_st32(hdr + 16, de->namelen);
    wasi_st8(hdr + 20, de->type);
    uint32_t n = len - used < 24 ? len - used : 24;
    memcpy(out + used, hdr, n);
    used += n;
    n = len - used < de->namelen ? len - used : de->namelen;
    memcpy(out + used, de->name, n);
    used += n;
  }
  wasi_put32(c, usedp, used);
  return WASI_ESUCCESS;
}

/* }=================================================================== */

static const wasi_def_t fd_defs[] = {
  {"fd_advise", "iIIi", 1, fd_advise},
  {"fd_allocate", "iII", 1, fd_allocate},
  {"fd_close", "i", 1, fd_close},
  {"fd_datasync", "i", 1, fd_datasync},
  {"fd_fdstat_get", "ii", 1, fd_fdstat_get},
  {"fd_fdstat_set_flags", "ii", 1, fd_fdstat_set_flags},
  {"fd_fdstat_set_rights", "iII", 1, fd_fdstat_set_rights},
  {"fd_filestat_get", "ii", 1, fd_filestat_get},
  {"fd_filestat_set_size", "iI", 1, fd_filestat_set_size},
  {"fd_filestat_set_times", "iIIi", 1, fd_filestat_set_times},
  {"fd_pread", "iiiIi", 1, fd_pread},
  {"fd_prestat_get", "ii", 1, fd_prestat_get},
  {"fd_prestat_dir_name", "iii", 1, fd_prestat_dir_name},
  {"fd_pwrite", "iiiIi", 1, fd_pwrite},
  {"fd_read", "iiii", 1, fd_read},
  {"fd_readdir", "iiiIi", 1, fd_readdir},
  {"fd_renumber", "ii", 1, fd_renumber},
  {"fd_seek", "iIii", 1, fd_seek},
  {"fd_sync", "i", 1, fd_sync},
  {"fd_tell", "ii", 1, fd_tell},
  {"fd_write", "iiii", 1, fd_write},
};

const wasi_def_t *wasi_defs_fd(size_t *n) {
  *n = sizeof fd_defs / sizeof fd_defs[0];
  return fd_defs;
}
