/*
** WASI 0.2 wasi:filesystem (types, preopens): descriptors over host fds,
** every path resolved beneath its directory by preview 1's sandbox
** (shoal_wasi_open_beneath / shoal_wasi_resolve_beneath in wasi.h).
*/
#define _GNU_SOURCE
#include "cmp_wasi.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { F_READ = 1, F_WRITE = 2, F_FSYNC = 4, F_DSYNC = 8, F_RSYNC = 16, F_MUTATE = 32 };

typedef struct desc {
  int fd;
  bool dir, readonly;
  uint32_t flags;          /* descriptor-flags */
} desc_t;

/* {==================================================================
** Pre-opens
** =================================================================== */
shoal_err_t wasi_fs_open_preopens(shoal_wasi_ctx_t *w, shoal_diag_t *diag) {
  const shoal_crun_config_t *cfg = w->cfg;
  if (!cfg->npreopens) return SHOAL_ERR_OK;
  w->pre = calloc(cfg->npreopens, sizeof *w->pre);
  if (!w->pre) return cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  for (size_t i = 0; i < cfg->npreopens; i++) {
    const shoal_wasi_preopen_t *p = &cfg->preopens[i];
    int fd = open(p->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      return cmp_fail(diag, SHOAL_ERR_IO, -1, "cannot open directory %s: %s", p->host_path, strerror(errno));
    const char *g = p->guest_path ? p->guest_path : p->host_path;
    w->pre[w->npre] = (wasi_preopen_t){fd, strdup(g), p->readonly};
    w->npre++;
    if (!w->pre[w->npre - 1].guest) return cmp_fail(diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  }
  return SHOAL_ERR_OK;
}

void wasi_fs_close_preopens(shoal_wasi_ctx_t *w) {
  for (size_t i = 0; i < w->npre; i++) {
    close(w->pre[i].fd);
    free(w->pre[i].guest);
  }
  free(w->pre);
  w->pre = NULL;
  w->npre = 0;
}

static void desc_close(void *self) {
  desc_t *d = self;
  close(d->fd);
  free(d);
}
static const shoal_wasi_ops_t desc_ops = {.close = desc_close};

static uint32_t desc_new(shoal_wasi_ctx_t *w, int fd, bool dir, bool readonly, uint32_t flags) {
  desc_t *d = malloc(sizeof *d);
  if (!d) {
    close(fd);
    return 0;
  }
  *d = (desc_t){fd, dir, readonly, flags};
  return wasi_obj_add(w, WASI_K_DESCRIPTOR, &desc_ops, d);
}

/* get-directories() -> list<tuple<descriptor, string>> */
static shoal_err_t get_directories(WASI_ARGS) {
  (void)a; (void)na;
  shoal_wasi_ctx_t *w = WASI_CTX;
  if (!wv_list(r, w->npre)) return wv_oom(c);
  for (size_t i = 0; i < w->npre; i++) {
    shoal_cval_t *t = &r->of.list.items[i];
    if (!wv_record(t, SHOAL_CT_TUPLE, 2)) return wv_oom(c);
    int fd = fcntl(w->pre[i].fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return shoal_ccall_trap(c, "get-directories: %s", strerror(errno));
    uint32_t rep = desc_new(w, fd, true, w->pre[i].readonly, F_READ | (w->pre[i].readonly ? 0 : F_MUTATE));
    if (!rep) return wv_oom(c);
    t->of.list.items[0].kind = SHOAL_CT_OWN;
    t->of.list.items[0].of.handle = rep;
    if (!wv_string(&t->of.list.items[1], w->pre[i].guest, strlen(w->pre[i].guest))) return wv_oom(c);
  }
  return SHOAL_ERR_OK;
}
/* }================================================================== */

/* {==================================================================
** Results
** =================================================================== */
static const struct { int e; const char *code; } codes[] = {
  {EACCES, "access"}, {EAGAIN, "would-block"}, {EALREADY, "already"}, {EBADF, "bad-descriptor"},
  {EBUSY, "busy"}, {EDEADLK, "deadlock"}, {EDQUOT, "quota"}, {EEXIST, "exist"}, {EFBIG, "file-too-large"},
  {EILSEQ, "illegal-byte-sequence"}, {EINPROGRESS, "in-progress"}, {EINTR, "interrupted"}, {EINVAL, "invalid"},
  {EIO, "io"}, {EISDIR, "is-directory"}, {ELOOP, "loop"}, {EMLINK, "too-many-links"}, {EMSGSIZE, "message-size"},
  {ENAMETOOLONG, "name-too-long"}, {ENODEV, "no-device"}, {ENOENT, "no-entry"}, {ENOLCK, "no-lock"},
  {ENOMEM, "insufficient-memory"}, {ENOSPC, "insufficient-space"}, {ENOTDIR, "not-directory"},
  {ENOTEMPTY, "not-empty"}, {ENOTRECOVERABLE, "not-recoverable"}, {ENOTSUP, "unsupported"},
  {ENOTTY, "no-tty"}, {ENXIO, "no-such-device"}, {EOVERFLOW, "overflow"}, {EPERM, "not-permitted"},
  {EPIPE, "pipe"}, {EROFS, "read-only"}, {ESPIPE, "invalid-seek"}, {ETXTBSY, "text-file-busy"},
  {EXDEV, "cross-device"},
};

static const char *code_of(int e) {
  for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
    if (codes[i].e == e) return codes[i].code;
  return "io";
}

/* The error-code enum value for errno e, in type t (an enum). */
static bool set_code(shoal_cval_t *v, const cmp_type_t *t, int e) {
  uint32_t i = wv_case(t, code_of(e));
  if (i == UINT32_MAX) i = wv_case(t, "io");
  v->kind = SHOAL_CT_ENUM;
  v->of.var.disc = i == UINT32_MAX ? 0 : i;
  return true;
}

/* err(error-code) for errno e */
static shoal_err_t fail(shoal_ccall_t *c, void *envp, shoal_cval_t *r, int e) {
  const cmp_type_t *rt = WASI_ENV->type->result;
  shoal_cval_t *p = wv_payload(r, SHOAL_CT_RESULT, 1);
  if (!p) return wv_oom(c);
  set_code(p, rt->err, e);
  return SHOAL_ERR_OK;
}

static shoal_err_t ok_unit(shoal_cval_t *r) {
  r->kind = SHOAL_CT_RESULT;
  r->of.var.disc = 0;
  r->of.var.payload = NULL;
  return SHOAL_ERR_OK;
}

/* 0 or -1 with errno: ok(()) or err(code) */
static shoal_err_t unit_or_errno(shoal_ccall_t *c, void *envp, shoal_cval_t *r, int rc) {
  return rc == 0 ? ok_unit(r) : fail(c, envp, r, errno);
}


static const char *type_name(mode_t m) {
  return S_ISREG(m) ? "regular-file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symbolic-link"
       : S_ISCHR(m) ? "character-device" : S_ISBLK(m) ? "block-device" : S_ISFIFO(m) ? "fifo"
       : S_ISSOCK(m) ? "socket" : "unknown";
}

static void set_type(shoal_cval_t *v, const cmp_type_t *t, mode_t m) {
  uint32_t i = wv_case(t, type_name(m));
  v->kind = SHOAL_CT_ENUM;
  v->of.var.disc = i == UINT32_MAX ? 0 : i;
}

/* option<datetime> */
static bool set_time(shoal_cval_t *v, const struct timespec *ts) {
  shoal_cval_t *p = wv_payload(v, SHOAL_CT_OPTION, 1);
  if (!p || !wv_record(p, SHOAL_CT_RECORD, 2)) return false;
  wv_u(&p->of.list.items[0], SHOAL_CT_U64, (uint64_t)ts->tv_sec);
  wv_u(&p->of.list.items[1], SHOAL_CT_U32, (uint64_t)ts->tv_nsec);
  return true;
}

/* ok(descriptor-stat) */
static shoal_err_t ok_stat(shoal_ccall_t *c, void *envp, shoal_cval_t *r, const struct stat *st) {
  const cmp_type_t *rec = WASI_ENV->type->result->elem;
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p) return SHOAL_ERR_TRAP_HOST;
  if (!wv_record(p, SHOAL_CT_RECORD, 6)) return wv_oom(c);
  shoal_cval_t *f = p->of.list.items;
  set_type(&f[0], rec->fields[0].type, st->st_mode);
  wv_u(&f[1], SHOAL_CT_U64, st->st_nlink);
  wv_u(&f[2], SHOAL_CT_U64, (uint64_t)st->st_size);
  if (!set_time(&f[3], &st->st_atim) || !set_time(&f[4], &st->st_mtim) || !set_time(&f[5], &st->st_ctim))
    return wv_oom(c);
  return SHOAL_ERR_OK;
}

/* ok(metadata-hash-value): the identity of the file (device and inode) */
static shoal_err_t ok_hash(shoal_ccall_t *c, shoal_cval_t *r, const struct stat *st) {
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p) return SHOAL_ERR_TRAP_HOST;
  if (!wv_record(p, SHOAL_CT_RECORD, 2)) return wv_oom(c);
  uint64_t h = (uint64_t)st->st_ino * 0x9e3779b97f4a7c15u ^ (uint64_t)st->st_dev;
  wv_u(&p->of.list.items[0], SHOAL_CT_U64, h);
  wv_u(&p->of.list.items[1], SHOAL_CT_U64, (uint64_t)st->st_dev);
  return SHOAL_ERR_OK;
}
/* }================================================================== */

/* {==================================================================
** Descriptor methods
** =================================================================== */
static desc_t *self_desc(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t na, uint32_t i) {
  wasi_obj_t *o = na > i ? wasi_obj_get(WASI_CTX, a[i].of.handle, WASI_K_DESCRIPTOR) : NULL;
  if (!o) shoal_ccall_trap(c, "%s: not a live descriptor", WASI_ENV->func);
  return o ? o->self : NULL;
}

#define SELF(i) desc_t *d = self_desc(c, envp, a, na, 0); if (!d) return SHOAL_ERR_TRAP_HOST; (void)d

static shoal_err_t via_stream(WASI_ARGS) {
  SELF(0);
  const char *f = WASI_ENV->func;
  bool read = strstr(f, "read-via") != NULL, append = strstr(f, "append") != NULL;
  if (d->dir) return fail(c, envp, r, EISDIR);
  if (!(d->flags & (read ? F_READ : F_WRITE))) return fail(c, envp, r, EBADF);
  int fd = fcntl(d->fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return fail(c, envp, r, errno);
  int64_t off = append ? 0 : (int64_t)a[1].of.u;
  uint32_t rep = read ? wasi_fd_input(WASI_CTX, fd, true, off) : wasi_fd_output(WASI_CTX, fd, true, off, append);
  if (!rep) return wv_oom(c);
  return wv_ok_own(c, r, rep);
}

static shoal_err_t advise(WASI_ARGS) {
  SELF(0);
  static const int adv[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                            POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
  uint32_t k = a[3].of.var.disc;
  if (d->dir) return fail(c, envp, r, EBADF);
  int e = posix_fadvise(d->fd, (off_t)a[1].of.u, (off_t)a[2].of.u, k < 6 ? adv[k] : POSIX_FADV_NORMAL);
  return e ? fail(c, envp, r, e) : ok_unit(r);
}

static shoal_err_t do_sync(WASI_ARGS) {
  SELF(0);
  bool data = strstr(WASI_ENV->func, "sync-data") != NULL;
  int rc = data ? fdatasync(d->fd) : fsync(d->fd);
  if (rc != 0 && d->dir && errno == EINVAL) rc = 0;  /* some file systems refuse fsync on directories */
  return unit_or_errno(c, envp, r, rc);
}

static shoal_err_t get_flags(WASI_ARGS) {
  SELF(0);
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p) return SHOAL_ERR_TRAP_HOST;
  p->kind = SHOAL_CT_FLAGS;
  p->of.flags = d->flags;
  return SHOAL_ERR_OK;
}

static shoal_err_t get_type(WASI_ARGS) {
  SELF(0);
  struct stat st;
  if (fstat(d->fd, &st) != 0) return fail(c, envp, r, errno);
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p) return SHOAL_ERR_TRAP_HOST;
  set_type(p, WASI_ENV->type->result->elem, st.st_mode);
  return SHOAL_ERR_OK;
}

static shoal_err_t set_size(WASI_ARGS) {
  SELF(0);
  if (d->dir) return fail(c, envp, r, EISDIR);
  if (d->readonly) return fail(c, envp, r, EROFS);
  if (!(d->flags & F_WRITE)) return fail(c, envp, r, EBADF);
  if (a[1].of.u > INT64_MAX) return fail(c, envp, r, EFBIG);
  return unit_or_errno(c, envp, r, ftruncate(d->fd, (off_t)a[1].of.u));
}

/* new-timestamp: no-change, now, timestamp(datetime) */
static void new_time(const shoal_cval_t *v, struct timespec *ts) {
  const shoal_cval_t *dt = v->of.var.payload;
  if (v->of.var.disc == 0) *ts = (struct timespec){0, UTIME_OMIT};
  else if (v->of.var.disc == 1 || !dt || dt->kind != SHOAL_CT_RECORD || dt->of.list.n < 2) *ts = (struct timespec){0, UTIME_NOW};
  else {
    ts->tv_sec = (time_t)dt->of.list.items[0].of.u;
    ts->tv_nsec = (long)dt->of.list.items[1].of.u;
  }
}

static shoal_err_t set_times(WASI_ARGS) {
  SELF(0);
  if (d->readonly) return fail(c, envp, r, EROFS);
  struct timespec ts[2];
  new_time(&a[1], &ts[0]);
  new_time(&a[2], &ts[1]);
  if ((ts[0].tv_nsec != UTIME_OMIT && ts[0].tv_nsec != UTIME_NOW && ts[0].tv_nsec >= 1000000000) ||
      (ts[1].tv_nsec != UTIME_OMIT && ts[1].tv_nsec != UTIME_NOW && ts[1].tv_nsec >= 1000000000))
    return fail(c, envp, r, EINVAL);
  return unit_or_errno(c, envp, r, futimens(d->fd, ts));
}

/* read(length, offset) -> result<tuple<list<u8>, bool>, error-code> */
static shoal_err_t desc_read(WASI_ARGS) {
  SELF(0);
  if (d->dir) return fail(c, envp, r, EISDIR);
  if (!(d->flags & F_READ)) return fail(c, envp, r, EBADF);
  size_t len = a[1].of.u > (1u << 24) ? (1u << 24) : (size_t)a[1].of.u;
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) return wv_oom(c);
  ssize_t n;
  do n = pread(d->fd, buf, len, (off_t)a[2].of.u);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    int e = errno;
    free(buf);
    return fail(c, envp, r, e);
  }
  shoal_cval_t *p = wv_ok_payload(c, r);
  bool ok = p && wv_record(p, SHOAL_CT_TUPLE, 2) && wv_bytes(&p->of.list.items[0], buf, (size_t)n);
  free(buf);
  if (!ok) return wv_oom(c);
  p->of.list.items[1].kind = SHOAL_CT_BOOL;
  p->of.list.items[1].of.b = (size_t)n < len;
  return SHOAL_ERR_OK;
}

/* write(buffer, offset) -> result<filesize, error-code> */
static shoal_err_t desc_write(WASI_ARGS) {
  SELF(0);
  if (d->dir) return fail(c, envp, r, EISDIR);
  if (!(d->flags & F_WRITE)) return fail(c, envp, r, EBADF);
  size_t len;
  uint8_t *buf = wv_get_bytes(&a[1], &len);
  if (!buf) return wv_oom(c);
  ssize_t n;
  do n = pwrite(d->fd, buf, len, (off_t)a[2].of.u);
  while (n < 0 && errno == EINTR);
  int e = errno;
  free(buf);
  if (n < 0) return fail(c, envp, r, e);
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p) return SHOAL_ERR_TRAP_HOST;
  wv_u(p, SHOAL_CT_U64, (uint64_t)n);
  return SHOAL_ERR_OK;
}

static shoal_err_t stat_fd(WASI_ARGS) {
  SELF(0);
  struct stat st;
  if (fstat(d->fd, &st) != 0) return fail(c, envp, r, errno);
  return strstr(WASI_ENV->func, "hash") ? ok_hash(c, r, &st) : ok_stat(c, envp, r, &st);
}

static shoal_err_t is_same_object(WASI_ARGS) {
  SELF(0);
  desc_t *o = self_desc(c, envp, a, na, 1);
  if (!o) return SHOAL_ERR_TRAP_HOST;
  struct stat s1, s2;
  r->kind = SHOAL_CT_BOOL;
  r->of.b = fstat(d->fd, &s1) == 0 && fstat(o->fd, &s2) == 0 && s1.st_dev == s2.st_dev && s1.st_ino == s2.st_ino;
  return SHOAL_ERR_OK;
}
/* }================================================================== */

/* {==================================================================
** Directory entries
** =================================================================== */
static void dir_close(void *self) { closedir(self); }
static const shoal_wasi_ops_t dir_ops = {.close = dir_close};

static shoal_err_t read_directory(WASI_ARGS) {
  SELF(0);
  if (!d->dir) return fail(c, envp, r, ENOTDIR);
  int fd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(c, envp, r, errno);
  DIR *dir = fdopendir(fd);
  if (!dir) {
    int e = errno;
    close(fd);
    return fail(c, envp, r, e);
  }
  uint32_t rep = wasi_obj_add(WASI_CTX, WASI_K_DIRSTREAM, &dir_ops, dir);
  if (!rep) return wv_oom(c);
  return wv_ok_own(c, r, rep);
}

/* read-directory-entry() -> result<option<directory-entry>, error-code> */
static shoal_err_t read_directory_entry(WASI_ARGS) {
  wasi_obj_t *o = na ? wasi_obj_get(WASI_CTX, a[0].of.handle, WASI_K_DIRSTREAM) : NULL;
  if (!o) return shoal_ccall_trap(c, "read-directory-entry: not a live directory-entry-stream");
  DIR *dir = o->self;
  struct dirent *de;
  for (;;) {
    errno = 0;
    de = readdir(dir);
    if (!de) {
      if (errno) return fail(c, envp, r, errno);
      break;
    }
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) break;
  }
  shoal_cval_t *p = wv_ok_payload(c, r);
  if (!p) return SHOAL_ERR_TRAP_HOST;
  p->kind = SHOAL_CT_OPTION;
  if (!de) return SHOAL_ERR_OK;
  const cmp_type_t *rec = WASI_ENV->type->result->elem->elem;
  shoal_cval_t *e = wv_payload(p, SHOAL_CT_OPTION, 1);
  if (!e || !wv_record(e, SHOAL_CT_RECORD, 2)) return wv_oom(c);
  mode_t m = 0;
  switch (de->d_type) {
  case DT_REG: m = S_IFREG; break;
  case DT_DIR: m = S_IFDIR; break;
  case DT_LNK: m = S_IFLNK; break;
  case DT_CHR: m = S_IFCHR; break;
  case DT_BLK: m = S_IFBLK; break;
  case DT_FIFO: m = S_IFIFO; break;
  case DT_SOCK: m = S_IFSOCK; break;
  default: {
    struct stat st;
    if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) m = st.st_mode;
  }
  }
  set_type(&e->of.list.items[0], rec->fields[0].type, m);
  if (!wv_string(&e->of.list.items[1], de->d_name, strlen(de->d_name))) return wv_oom(c);
  return SHOAL_ERR_OK;
}
/* }================================================================== */

/* {==================================================================
** Path methods: every path resolved beneath the descriptor
** =================================================================== */
static bool str_arg(const shoal_cval_t *v, char **out) {
  *out = NULL;
  if (v->kind != SHOAL_CT_STRING) return false;
  if (memchr(v->of.str.ptr, 0, v->of.str.len)) return true;  /* *out NULL: an invalid path */
  *out = strndup(v->of.str.ptr, v->of.str.len);
  return *out != NULL;
}

typedef struct at {
  int fd;
  char *name;
  bool trailing;
} at_t;

static void at_free(at_t *p) {
  if (p->fd >= 0) close(p->fd);
  free(p->name);
}

/* Resolves a[i] beneath the directory d: 0 or an errno value. */
static int resolve(shoal_wasi_ctx_t *w, desc_t *d, const shoal_cval_t *v, bool follow, at_t *out) {
  out->fd = -1;
  out->name = NULL;
  if (!d->dir) return ENOTDIR;
  char *path;
  if (!str_arg(v, &path)) return ENOMEM;
  if (!path) return EINVAL;
  int rc = shoal_wasi_resolve_beneath(d->fd, path, follow, w->cfg->wasi_flags, &out->fd, &out->name, &out->trailing);
  free(path);
  return rc < 0 ? -rc : 0;
}

/* create-directory-at / remove-directory-at / unlink-file-at (path at a[1]) */
static shoal_err_t one_path(WASI_ARGS) {
  SELF(0);
  if (d->readonly) return fail(c, envp, r, EROFS);
  at_t p;
  int e = resolve(WASI_CTX, d, &a[1], false, &p);
  if (e) return fail(c, envp, r, e);
  const char *f = WASI_ENV->func;
  int rc = strstr(f, ".create-") ? mkdirat(p.fd, p.name, 0777)
         : unlinkat(p.fd, p.name, strstr(f, ".remove-") ? AT_REMOVEDIR : 0);
  e = errno;
  at_free(&p);
  return rc ? fail(c, envp, r, e) : ok_unit(r);
}

/* stat-at / metadata-hash-at(path-flags, path) */
static shoal_err_t stat_at(WASI_ARGS) {
  SELF(0);
  at_t p;
  int e = resolve(WASI_CTX, d, &a[2], a[1].of.flags & 1, &p);
  if (e) return fail(c, envp, r, e);
  struct stat st;
  int rc = fstatat(p.fd, p.name, &st, AT_SYMLINK_NOFOLLOW);
  e = errno;
  at_free(&p);
  if (rc) return fail(c, envp, r, e);
  return strstr(WASI_ENV->func, "hash") ? ok_hash(c, r, &st) : ok_stat(c, envp, r, &st);
}

static shoal_err_t set_times_at(WASI_ARGS) {
  SELF(0);
  if (d->readonly) return fail(c, envp, r, EROFS);
  struct timespec ts[2];
  new_time(&a[3], &ts[0]);
  new_time(&a[4], &ts[1]);
  at_t p;
  int e = resolve(WASI_CTX, d, &a[2], a[1].of.flags & 1, &p);
  if (e) return fail(c, envp, r, e);
  int rc = utimensat(p.fd, p.name, ts, AT_SYMLINK_NOFOLLOW);
  e = errno;
  at_free(&p);
  return rc ? fail(c, envp, r, e) : ok_unit(r);
}

/* open-at(path-flags, path, open-flags, descriptor-flags) -> result<descriptor, error-code> */
static shoal_err_t open_at(WASI_ARGS) {
  SELF(0);
  if (!d->dir) return fail(c, envp, r, ENOTDIR);
  uint32_t of = a[3].of.flags, df = a[4].of.flags;
  bool write = (df & F_WRITE) || (of & 8);
  if (d->readonly && (write || (of & 1) || (df & F_MUTATE))) return fail(c, envp, r, EROFS);
  if ((write || (df & F_MUTATE)) && !(d->flags & F_MUTATE)) return fail(c, envp, r, EPERM);
  int flags = O_NOCTTY | O_CLOEXEC | (write ? ((df & F_READ) ? O_RDWR : O_WRONLY) : O_RDONLY);
  if (of & 1) flags |= O_CREAT;
  if (of & 2) flags |= O_DIRECTORY;
  if (of & 4) flags |= O_EXCL;
  if (of & 8) flags |= O_TRUNC;
  if (df & F_FSYNC) flags |= O_SYNC;
  if (df & F_DSYNC) flags |= O_DSYNC;
  if (df & F_RSYNC) flags |= O_RSYNC;
  char *path;
  if (!str_arg(&a[2], &path)) return wv_oom(c);
  if (!path) return fail(c, envp, r, EINVAL);
  int fd = shoal_wasi_open_beneath(d->fd, path, flags, 0666, a[1].of.flags & 1, WASI_CTX->cfg->wasi_flags);
  free(path);
  if (fd < 0) return fail(c, envp, r, fd == -ELOOP && !(a[1].of.flags & 1) ? ELOOP : -fd);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return fail(c, envp, r, e);
  }
  bool dir = S_ISDIR(st.st_mode);
  uint32_t rep = desc_new(WASI_CTX, fd, dir, d->readonly, df | (dir && !d->readonly ? (d->flags & F_MUTATE) : 0));
  if (!rep) return wv_oom(c);
  return wv_ok_own(c, r, rep);
}

static shoal_err_t readlink_at(WASI_ARGS) {
  SELF(0);
  at_t p;
  int e = resolve(WASI_CTX, d, &a[1], false, &p);
  if (e) return fail(c, envp, r, e);
  if (p.trailing) {
    at_free(&p);
    return fail(c, envp, r, ENOTDIR);
  }
  char buf[4096];
  ssize_t n = readlinkat(p.fd, p.name, buf, sizeof buf);
  e = errno;
  at_free(&p);
  if (n < 0) return fail(c, envp, r, e);
  if ((size_t)n == sizeof buf) return fail(c, envp, r, ENAMETOOLONG);
  shoal_cval_t *o = wv_ok_payload(c, r);
  if (!o) return SHOAL_ERR_TRAP_HOST;
  return wv_string(o, buf, (size_t)n) ? SHOAL_ERR_OK : wv_oom(c);
}

static shoal_err_t symlink_at(WASI_ARGS) {
  SELF(0);
  if (d->readonly) return fail(c, envp, r, EROFS);
  char *target;
  if (!str_arg(&a[1], &target)) return wv_oom(c);
  if (!target) return fail(c, envp, r, EINVAL);
  /* an absolute target could never be followed inside the sandbox */
  if (target[0] == '/') {
    free(target);
    return fail(c, envp, r, EPERM);
  }
  at_t p;
  int e = resolve(WASI_CTX, d, &a[2], false, &p);
  if (e) {
    free(target);
    return fail(c, envp, r, e);
  }
  int rc;
  if (p.trailing) {
    struct stat st;
    rc = -1;
    errno = fstatat(p.fd, p.name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? EEXIST : ENOENT;
  } else {
    rc = symlinkat(target, p.fd, p.name);
  }
  e = errno;
  at_free(&p);
  free(target);
  return rc ? fail(c, envp, r, e) : ok_unit(r);
}

/* rename-at(old-path, new-descriptor, new-path) and
** link-at(old-path-flags, old-path, new-descriptor, new-path) */
static shoal_err_t two_paths(WASI_ARGS) {
  SELF(0);
  bool link = strstr(WASI_ENV->func, "link-at") != NULL;
  uint32_t i = link ? 2 : 1;
  if (link && (a[1].of.flags & 1)) return fail(c, envp, r, EINVAL);  /* as preview 1: never follows */
  desc_t *d2 = self_desc(c, envp, a, na, i + 1);
  if (!d2) return SHOAL_ERR_TRAP_HOST;
  if (d->readonly || d2->readonly) return fail(c, envp, r, EROFS);
  at_t p1, p2;
  int e = resolve(WASI_CTX, d, &a[i], false, &p1);
  if (e) return fail(c, envp, r, e);
  if ((e = resolve(WASI_CTX, d2, &a[i + 2], false, &p2))) {
    at_free(&p1);
    return fail(c, envp, r, e);
  }
  int rc;
  if (link && p1.trailing) {
    struct stat st;
    rc = -1;
    errno = fstatat(p1.fd, p1.name, &st, AT_SYMLINK_NOFOLLOW) != 0 ? ENOENT : S_ISDIR(st.st_mode) ? EPERM : ENOTDIR;
  } else {
    rc = link ? linkat(p1.fd, p1.name, p2.fd, p2.name, 0) : renameat(p1.fd, p1.name, p2.fd, p2.name);
  }
  e = errno;
  at_free(&p1);
  at_free(&p2);
  return rc ? fail(c, envp, r, e) : ok_unit(r);
}

/* filesystem-error-code(borrow<error>) -> option<error-code> */
static shoal_err_t error_code(WASI_ARGS) {
  int e;
  r->kind = SHOAL_CT_OPTION;
  r->of.var.disc = 0;
  if (!na || !wasi_error_errno(WASI_CTX, a[0].of.handle, &e)) return SHOAL_ERR_OK;
  shoal_cval_t *p = wv_payload(r, SHOAL_CT_OPTION, 1);
  if (!p) return wv_oom(c);
  set_code(p, WASI_ENV->type->result->elem, e);
  return SHOAL_ERR_OK;
}
/* }================================================================== */

#define T "wasi:filesystem/types"
static const wasi_fn_t fns[] = {
  {"wasi:filesystem/preopens", "get-directories", get_directories, ""},
  {T, "[method]descriptor.read-via-stream", via_stream, "hu>E"},
  {T, "[method]descriptor.write-via-stream", via_stream, "hu>E"},
  {T, "[method]descriptor.append-via-stream", via_stream, "h>E"},
  {T, "[method]descriptor.advise", advise, "huue>E"},
  {T, "[method]descriptor.sync-data", do_sync, "h>E"},
  {T, "[method]descriptor.sync", do_sync, "h>E"},
  {T, "[method]descriptor.get-flags", get_flags, "h>E"},
  {T, "[method]descriptor.get-type", get_type, "h>T"},
  {T, "[method]descriptor.set-size", set_size, "hu>E"},
  {T, "[method]descriptor.set-times", set_times, "hvv>E"},
  {T, "[method]descriptor.read", desc_read, "huu>E"},
  {T, "[method]descriptor.write", desc_write, "hLu>E"},
  {T, "[method]descriptor.read-directory", read_directory, "h>E"},
  {T, "[method]descriptor.create-directory-at", one_path, "hs>E"},
  {T, "[method]descriptor.stat", stat_fd, "h>S"},
  {T, "[method]descriptor.stat-at", stat_at, "hfs>S"},
  {T, "[method]descriptor.set-times-at", set_times_at, "hfsvv>E"},
  {T, "[method]descriptor.link-at", two_paths, "hfshs>E"},
  {T, "[method]descriptor.open-at", open_at, "hfsff>E"},
  {T, "[method]descriptor.readlink-at", readlink_at, "hs>E"},
  {T, "[method]descriptor.remove-directory-at", one_path, "hs>E"},
  {T, "[method]descriptor.rename-at", two_paths, "hshs>E"},
  {T, "[method]descriptor.symlink-at", symlink_at, "hss>E"},
  {T, "[method]descriptor.unlink-file-at", one_path, "hs>E"},
  {T, "[method]descriptor.is-same-object", is_same_object, "hh"},
  {T, "[method]descriptor.metadata-hash", stat_fd, "h>E"},
  {T, "[method]descriptor.metadata-hash-at", stat_at, "hfs>E"},
  {T, "[method]directory-entry-stream.read-directory-entry", read_directory_entry, "h>D"},
  {T, "filesystem-error-code", error_code, "h>O"},
};
#undef T

const wasi_fn_t *wasi_fs_fns(size_t *n) {
  *n = sizeof fns / sizeof *fns;
  return fns;
}
