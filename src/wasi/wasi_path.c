/*
** wasi_path.c: the path_* functions, and the sandbox: every path resolves
** beneath the directory fd it is relative to, never outside it.
*/
#define _GNU_SOURCE
#include "wasi_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* Symlinks followed in one resolution before ELOOP (Linux uses 40). */
#define MAX_SYMLINKS 40

/* {===================================================================
** Resolution beneath a directory fd
**
** The kernel's openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) does it
** atomically: "..", absolute paths and symlinks (absolute targets
** included) may not leave the starting directory. Without openat2 (ENOSYS
** before Linux 5.6, or a seccomp filter), a walk one component at a time
** does the same: intermediate components are opened with O_NOFOLLOW, a
** symlink is read and its target spliced into the rest of the path, ".."
** pops a stack of the directories opened so far and fails at the bottom.
** An escape is reported as EPERM (what wasmtime reports).
** =================================================================== */

static int openat2_state; /* 0 unknown, 1 works, -1 unavailable */

static bool use_openat2(const shoal_wasi_t *w) {
  return !(w->flags & SHOAL_WASI_NO_OPENAT2) && openat2_state >= 0;
}

/* Returns the fd, or -errno; -ENOSYS means "use the walk". */
static int try_openat2(int dirfd, const char *path, int flags, unsigned mode, bool follow) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)(flags | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long r;
  do r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  while (r < 0 && errno == EINTR);
  if (r >= 0) {
    openat2_state = 1;
    return (int)r;
  }
  int e = errno;
  if (e == ENOSYS || (e == EPERM && openat2_state == 0)) {
    /* EPERM on first use: a seccomp filter, not the path (a real EPERM
    ** would come from O_NOATIME and the like, which we never pass). */
    openat2_state = -1;
    return -ENOSYS;
  }
  if (e == EXDEV) return -EPERM; /* the path tried to leave dirfd */
  if (e == EAGAIN) return -EAGAIN;
  return -e;
}

/* A growable stack of directory fds the walk has entered. */
typedef struct walk_stack {
  int *fd;
  size_t n, cap;
} walk_stack_t;

static void stack_pop_all(walk_stack_t *s) {
  while (s->n) close(s->fd[--s->n]);
  free(s->fd);
}

static bool stack_push(walk_stack_t *s, int fd) {
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 8;
    int *nf = realloc(s->fd, nc * sizeof *nf);
    if (!nf) return false;
    s->fd = nf;
    s->cap = nc;
  }
  s->fd[s->n++] = fd;
  return true;
}

/* Reads a symlink's target (malloc'ed) or returns NULL with errno set. */
static char *read_link(int dirfd, const char *name) {
  size_t cap = 256;
  for (;;) {
    char *buf = malloc(cap);
    if (!buf) return NULL;
    ssize_t n = readlinkat(dirfd, name, buf, cap);
    if (n < 0) {
      free(buf);
      return NULL;
    }
    if ((size_t)n < cap) {
      buf[n] = '\0';
      return buf;
    }
    free(buf);
    if (cap > (1u << 20)) {
      errno = ENAMETOOLONG;
      return NULL;
    }
    cap *= 2;
  }
}

/* The portable walk: open `path` beneath dirfd. Returns fd or -errno. */
static int walk_open(int dirfd, const char *path, int flags, unsigned mode, bool follow) {
  if (!*path) return -ENOENT;
  char *rest = strdup(path);
  if (!rest) return -ENOMEM;
  walk_stack_t st = {0};
  int links = 0, result;
  size_t pos = 0;
  flags |= O_CLOEXEC;
  for (;;) {
    int cur = st.n ? st.fd[st.n - 1] : dirfd;
    if (rest[pos] == '/') {
      result = -EPERM; /* absolute path or absolute symlink target */
      if (pos == 0) break;
      while (rest[pos] == '/') pos++;
    }
    if (!rest[pos]) { /* a path ending in "/", "." or "..": the directory itself */
      result = openat(cur, ".", flags | O_DIRECTORY, mode);
      if (result < 0) result = -errno;
      break;
    }
    char *comp = rest + pos;
    size_t len = strcspn(comp, "/");
    size_t after = pos + len;
    bool trailing = rest[after] == '/';
    while (rest[after] == '/') after++;
    bool last = rest[after] == '\0';
    char saved = comp[len];
    comp[len] = '\0';
    if (strcmp(comp, ".") == 0) {
      comp[len] = saved;
      pos = after;
      continue;
    }
    if (strcmp(comp, "..") == 0) {
      comp[len] = saved;
      if (!st.n) {
        result = -EPERM;
        break;
      }
      close(st.fd[--st.n]);
      pos = after;
      continue;
    }
    if (last && !trailing) {
      int fd = openat(cur, comp, flags | O_NOFOLLOW, mode);
      int e = errno;
      bool is_link = false;
      if (fd >= 0 && follow && (flags & O_PATH)) {
        struct stat sb;
        is_link = fstat(fd, &sb) == 0 && S_ISLNK(sb.st_mode);
        if (is_link) close(fd);
      } else if (fd < 0 && follow && (e == ELOOP || e == ENOTDIR || e == EMLINK)) {
        struct stat sb;
        is_link = fstatat(cur, comp, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode);
      }
      if (!is_link) {
        result = fd >= 0 ? fd : -e;
        break;
      }
    } else {
      int fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        result = -errno;
        break;
      }
      struct stat sb;
      if (fstat(fd, &sb) != 0) {
        result = -errno;
        close(fd);
        break;
      }
      if (S_ISDIR(sb.st_mode)) {
        if (!stack_push(&st, fd)) {
          close(fd);
          result = -ENOMEM;
          break;
        }
        comp[len] = saved;
        pos = after;
        if (last) { /* "dir/": open the directory itself */
          result = openat(fd, ".", flags | O_DIRECTORY, mode);
          if (result < 0) result = -errno;
          break;
        }
        continue;
      }
      close(fd);
      if (!S_ISLNK(sb.st_mode)) {
        result = -ENOTDIR;
        break;
      }
    }
    /* comp is a symlink to follow. */
    if (++links > MAX_SYMLINKS) {
      result = -ELOOP;
      break;
    }
    char *target = read_link(cur, comp);
    if (!target) {
      result = -errno;
      break;
    }
    if (target[0] == '/' || !target[0]) {
      result = target[0] ? -EPERM : -ENOENT;
      free(target);
      break;
    }
    /* Continue with target + what followed the link (a trailing slash
    ** stays: "link/" must still name a directory). */
    const char *tail = last ? (trailing ? "/" : "") : rest + after;
    size_t tl = strlen(target), ol = strlen(tail);
    bool sep = ol && tail[0] != '/';
    char *n = malloc(tl + sep + ol + 1);
    if (!n) {
      free(target);
      result = -ENOMEM;
      break;
    }
    memcpy(n, target, tl);
    if (sep) n[tl] = '/';
    memcpy(n + tl + sep, tail, ol + 1);
    free(target);
    free(rest);
    rest = n;
    pos = 0;
  }
  free(rest);
  stack_pop_all(&st);
  return result;
}

/* Opens path beneath dirfd; returns the fd or -errno. */
static int open_beneath(const shoal_wasi_t *w, int dirfd, const char *path, int flags,
                        unsigned mode, bool follow) {
  if (path[0] == '/') return -EPERM;
  if (use_openat2(w)) {
    int r = try_openat2(dirfd, path, flags, mode, follow);
    if (r != -ENOSYS) return r;
  }
  return walk_open(dirfd, path, flags, mode, follow);
}

/* The directory holding path's last component, and that component (without
** trailing slashes; *trailing says there were some). A last component of
** "." or ".." becomes the directory it names, with name ".". */
typedef struct parent {
  int fd;       /* owned, O_PATH directory */
  char *name;   /* points into buf */
  char *buf;
  bool trailing;
} parent_t;

static void parent_free(parent_t *p) {
  if (p->fd >= 0) close(p->fd);
  free(p->buf);
  p->fd = -1;
  p->buf = NULL;
}

static int resolve_parent(const shoal_wasi_t *w, int dirfd, const char *path, parent_t *out) {
  out->fd = -1;
  out->buf = NULL;
  out->trailing = false;
  if (!*path) return -ENOENT;
  if (path[0] == '/') return -EPERM;
  char *buf = strdup(path);
  if (!buf) return -ENOMEM;
  size_t n = strlen(buf);
  while (n > 1 && buf[n - 1] == '/') {
    buf[--n] = '\0';
    out->trailing = true;
  }
  char *slash = strrchr(buf, '/');
  char *name = slash ? slash + 1 : buf;
  int fd;
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
    fd = open_beneath(w, dirfd, buf, O_PATH | O_DIRECTORY, 0, true);
    buf[0] = '.'; /* the buffer is at least as long as "." */
    buf[1] = '\0';
    name = buf;
  } else if (slash) {
    *slash = '\0';
    fd = open_beneath(w, dirfd, buf, O_PATH | O_DIRECTORY, 0, true);
  } else {
    fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) fd = -errno;
  }
  if (fd < 0) {
    free(buf);
    return fd;
  }
  out->fd = fd;
  out->buf = buf;
  out->name = name;
  return 0;
}

/* Like resolve_parent, but when `follow` and the last component is a
** symlink, follows it (through resolve_parent again, so the target stays
** beneath dirfd) until it is not. */
static int resolve_final(const shoal_wasi_t *w, int dirfd, const char *path, bool follow,
                         parent_t *out) {
  char *cur = strdup(path);
  if (!cur) return -ENOMEM;
  for (int links = 0;; links++) {
    int r = resolve_parent(w, dirfd, cur, out);
    if (r < 0) {
      free(cur);
      return r;
    }
    if (!follow && !out->trailing) break;
    struct stat sb;
    if (fstatat(out->fd, out->name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(sb.st_mode))
      break;
    if (links >= MAX_SYMLINKS) {
      parent_free(out);
      free(cur);
      return -ELOOP;
    }
    char *target = read_link(out->fd, out->name);
    if (!target) {
      int e = errno;
      parent_free(out);
      free(cur);
      return -e;
    }
    if (target[0] == '/') {
      free(target);
      parent_free(out);
      free(cur);
      return -EPERM;
    }
    /* The target is relative to the link's directory: the path up to the
    ** link's name, plus the target. */
    /* Keep cur up to its last component (trailing slashes dropped). */
    size_t keep = strlen(cur);
    while (keep > 1 && cur[keep - 1] == '/') keep--;
    while (keep > 0 && cur[keep - 1] != '/') keep--;
    size_t tl = strlen(target);
    char *np = malloc(keep + tl + 2);
    if (!np) {
      free(target);
      parent_free(out);
      free(cur);
      return -ENOMEM;
    }
    memcpy(np, cur, keep);
    memcpy(np + keep, target, tl + 1);
    if (out->trailing) strcat(np, "/");
    free(target);
    free(cur);
    cur = np;
    parent_free(out);
  }
  free(cur);
  return 0;
}

/* The public entry points (wasi.h) for other layers' sandboxes. */
int shoal_wasi_open_beneath(int dirfd, const char *path, int flags, unsigned mode, bool follow, unsigned wflags) {
  shoal_wasi_t w;
  memset(&w, 0, sizeof w);
  w.flags = wflags;
  return open_beneath(&w, dirfd, path, flags, mode, follow);
}

int shoal_wasi_resolve_beneath(int dirfd, const char *path, bool follow, unsigned wflags, int *parent_fd,
                               char **name, bool *trailing) {
  shoal_wasi_t w;
  memset(&w, 0, sizeof w);
  w.flags = wflags;
  parent_t p;
  *parent_fd = -1;
  *name = NULL;
  *trailing = false;
  int r = follow ? resolve_final(&w, dirfd, path, true, &p) : resolve_parent(&w, dirfd, path, &p);
  if (r < 0) return r;
  size_t nl = strlen(p.name);
  char *n = malloc(nl + 2);
  if (!n) {
    parent_free(&p);
    return -ENOMEM;
  }
  memcpy(n, p.name, nl + 1);
  if (p.trailing) strcat(n, "/");
  *parent_fd = p.fd;
  *name = n;
  *trailing = p.trailing;
  p.fd = -1;
  parent_free(&p);
  return 0;
}

/* }=================================================================== */

/* {===================================================================
** The path functions
** =================================================================== */

/* Checks the directory fd and copies the path. */
static uint32_t path_prologue(wasi_call_t *c, uint32_t fd, uint64_t rights, uint32_t ptr,
                              uint32_t len, wasi_fd_t **f, char **path) {
  uint32_t err;
  *path = NULL;
  *f = wasi_fd_check(c->w, fd, rights, &err);
  if (!*f) return err;
  if ((*f)->kind != WASI_KIND_DIR) return WASI_ENOTDIR;
  return wasi_path_copy(c, ptr, len, path);
}

static uint32_t neg_errno(int r) { return wasi_errno(-r); }

static uint32_t path_open(wasi_call_t *c, const shoal_raw_t *a) {
  uint32_t dirfd = A32(0), lookup = A32(1), oflags = A32(4), fdflags = A32(7), outp = A32(8);
  uint64_t base = A64(5), inh = A64(6);
  uint64_t need = WASI_RIGHT_PATH_OPEN;
  if (oflags & WASI_O_CREAT) need |= WASI_RIGHT_PATH_CREATE_FILE;
  if (oflags & WASI_O_TRUNC) need |= WASI_RIGHT_PATH_FILESTAT_SET_SIZE;
  wasi_fd_t *d;
  char *path;
  uint32_t err = path_prologue(c, dirfd, need, A32(2), A32(3), &d, &path);
  if (err) return err;
  if ((oflags & ~0xfu) || (fdflags & ~0x1fu)) {
    free(path);
    return WASI_EINVAL;
  }
  if (!wasi_mem(c, outp, 4)) {
    free(path);
    return WASI_EFAULT;
  }
  bool read = base & (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR);
  bool write = (base & (WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE |
                        WASI_RIGHT_FD_FILESTAT_SET_SIZE)) ||
               (fdflags & WASI_FDFLAG_APPEND) || (oflags & WASI_O_TRUNC);
  bool readonly = d->readonly;
  if (readonly && (write || (oflags & (WASI_O_CREAT | WASI_O_TRUNC)))) {
    free(path);
    return WASI_EROFS;
  }
  int flags = O_NOCTTY | (write ? (read ? O_RDWR : O_WRONLY) : O_RDONLY);
  if (oflags & WASI_O_CREAT) flags |= O_CREAT;
  if (oflags & WASI_O_EXCL) flags |= O_EXCL;
  if (oflags & WASI_O_TRUNC) flags |= O_TRUNC;
  if (oflags & WASI_O_DIRECTORY) flags |= O_DIRECTORY;
  if (fdflags & WASI_FDFLAG_APPEND) flags |= O_APPEND;
  if (fdflags & WASI_FDFLAG_DSYNC) flags |= O_DSYNC;
  if (fdflags & WASI_FDFLAG_SYNC) flags |= O_SYNC;
  if (fdflags & WASI_FDFLAG_RSYNC) flags |= O_RSYNC;
  if (fdflags & WASI_FDFLAG_NONBLOCK) flags |= O_NONBLOCK;
  bool follow = lookup & WASI_LOOKUP_SYMLINK_FOLLOW;
  int host = open_beneath(c->w, d->host, path, flags, 0666, follow);
  free(path);
  if (host < 0) return neg_errno(host);
  struct stat sb;
  if (fstat(host, &sb) != 0) {
    int e = errno;
    close(host);
    return wasi_errno(e);
  }
  bool isdir = S_ISDIR(sb.st_mode);
  wasi_fd_t nf = {.host = host, .kind = isdir ? WASI_KIND_DIR : WASI_KIND_FILE,
                  .filetype = wasi_filetype_of_mode(sb.st_mode), .readonly = readonly};
  nf.rights = base & d->inheriting & (isdir ? WASI_RIGHTS_DIR : WASI_RIGHTS_FILE);
  nf.inheriting = inh & d->inheriting;
  if (!S_ISREG(sb.st_mode) && !isdir)
    nf.rights &= ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL);
  int64_t g = wasi_fd_insert(c->w, &nf);
  if (g < 0) return WASI_EMFILE;
  wasi_put32(c, outp, (uint32_t)g);
  return WASI_ESUCCESS;
}

/* The shape shared by the one-path mutating functions. */
typedef enum { OP_MKDIR, OP_RMDIR, OP_UNLINK } path_op_t;

static uint32_t one_path(wasi_call_t *c, const shoal_raw_t *a, uint64_t right, path_op_t op) {
  wasi_fd_t *d;
  char *path;
  uint32_t err = path_prologue(c, A32(0), right, A32(1), A32(2), &d, &path);
  if (err) return err;
  if (d->readonly) {
    free(path);
    return WASI_EROFS;
  }
  parent_t p;
  int r = resolve_parent(c->w, d->host, path, &p);
  free(path);
  if (r < 0) return neg_errno(r);
  /* Hand the kernel the trailing slash back: these calls check it on the
  ** entry itself without following a symlink. */
  size_t nl = strlen(p.name);
  char *name = malloc(nl + 2);
  if (!name) {
    parent_free(&p);
    return WASI_ENOMEM;
  }
  memcpy(name, p.name, nl + 1);
  if (p.trailing) strcat(name, "/");
  switch (op) {
  case OP_MKDIR: r = mkdirat(p.fd, name, 0777); break;
  case OP_RMDIR: r = unlinkat(p.fd, name, AT_REMOVEDIR); break;
  case OP_UNLINK: {
    r = unlinkat(p.fd, name, 0);
    if (r != 0 && errno == EISDIR) errno = EISDIR;
    break;
  }
  }
  int e = errno;
  free(name);
  parent_free(&p);
  return r ? wasi_errno(e) : WASI_ESUCCESS;
}

static uint32_t path_create_directory(wasi_call_t *c, const shoal_raw_t *a) {
  return one_path(c, a, WASI_RIGHT_PATH_CREATE_DIRECTORY, OP_MKDIR);
}
static uint32_t path_remove_directory(wasi_call_t *c, const shoal_raw_t *a) {
  return one_path(c, a, WASI_RIGHT_PATH_REMOVE_DIRECTORY, OP_RMDIR);
}
static uint32_t path_unlink_file(wasi_call_t *c, const shoal_raw_t *a) {
  return one_path(c, a, WASI_RIGHT_PATH_UNLINK_FILE, OP_UNLINK);
}

static uint32_t path_filestat_get(wasi_call_t *c, const shoal_raw_t *a) {
  wasi_fd_t *d;
  char *path;
  uint32_t err = path_prologue(c, A32(0), WASI_RIGHT_PATH_FILESTAT_GET, A32(2), A32(3), &d, &path);
  if (err) return err;
  parent_t p;
  int r = resolve_final(c->w, d->host, path, A32(1) & WASI_LOOKUP_SYMLINK_FOLLOW, &p);
  free(path);
  if (r < 0) return neg_errno(r);
  struct stat sb;
  r = fstatat(p.fd, p.name, &sb, AT_SYMLINK_NOFOLLOW);
  int e = errno;
  bool trailing = p.trailing;
  parent_free(&p);
  if (r != 0) return wasi_errno(e);
  if (trailing && !S_ISDIR(sb.st_mode)) return WASI_ENOTDIR;
  return wasi_put_filestat(c, A32(4), &sb);
}

static uint32_t path_filestat_set_times(wasi_call_t *c, const shoal_raw_t *a) {
  wasi_fd_t *d;
  char *path;
  uint32_t err = path_prologue(c, A32(0), WASI_RIGHT_PATH_FILESTAT_SET_TIMES, A32(2), A32(3),
                               &d, &path);
  if (err) return err;
  struct timespec ts[2];
  err = wasi_times(A64(4), A64(5), A32(6), ts);
  if (!err && d->readonly) err = WASI_EROFS;
  if (err) {
    free(path);
    return err;
  }
  parent_t p;
  int r = resolve_final(c->w, d->host, path, A32(1) & WASI_LOOKUP_SYMLINK_FOLLOW, &p);
  free(path);
  if (r < 0) return neg_errno(r);
  r = utimensat(p.fd, p.name, ts, AT_SYMLINK_NOFOLLOW);
  int e = errno;
  parent_free(&p);
  return r ? wasi_errno(e) : WASI_ESUCCESS;
}

static uint32_t path_readlink(wasi_call_t *c, const shoal_raw_t *a) {
  wasi_fd_t *d;
  char *path;
  uint32_t err = path_prologue(c, A32(0), WASI_RIGHT_PATH_READLINK, A32(1), A32(2), &d, &path);
  if (err) return err;
  uint32_t buf = A32(3), len = A32(4), usedp = A32(5);
  uint8_t *out = wasi_mem(c, buf, len);
  if ((!out && len) || !wasi_mem(c, usedp, 4)) {
    free(path);
    return WASI_EFAULT;
  }
  parent_t p;
  int r = resolve_parent(c->w, d->host, path, &p);
  free(path);
  if (r < 0) return neg_errno(r);
  if (p.trailing) {
    /* "link/" names what the link points to, never a link. */
    parent_free(&p);
    return WASI_ENOTDIR;
  }
  char *target = read_link(p.fd, p.name);
  int e = errno;
  parent_free(&p);
  if (!target) return wasi_errno(e);
  size_t n = strlen(target);
  if (n > len) n = len; /* truncated, as readlink(2) does */
  if (n) memcpy(out, target, n);
  free(target);
  wasi_put32(c, usedp, (uint32_t)n);
  return WASI_ESUCCESS;
}

static uint32_t path_symlink(wasi_call_t *c, const shoal_raw_t *a) {
  char *target;
  uint32_t err = wasi_path_copy(c, A32(0), A32(1), &target);
  if (err) return err;
  wasi_fd_t *d;
  char *path;
  err = path_prologue(c, A32(2), WASI_RIGHT_PATH_SYMLINK, A32(3), A32(4), &d, &path);
  if (!err && d->readonly) err = WASI_EROFS;
  /* An absolute target could never be followed inside the sandbox. */
  if (!err && target[0] == '/') err = WASI_EPERM;
  if (err) {
    free(target);
    free(path);
    return err;
  }
  parent_t p;
  int r = resolve_parent(c->w, d->host, path, &p);
  free(path);
  if (r < 0) {
    free(target);
    return neg_errno(r);
  }
  if (p.trailing) {
    /* Linux would create "name" for "name/" only if it were a directory. */
    struct stat sb;
    r = fstatat(p.fd, p.name, &sb, AT_SYMLINK_NOFOLLOW) == 0 ? EEXIST : ENOENT;
    parent_free(&p);
    free(target);
    return wasi_errno(r);
  }
  r = symlinkat(target, p.fd, p.name);
  int e = errno;
  parent_free(&p);
  free(target);
  return r ? wasi_errno(e) : WASI_ESUCCESS;
}

static uint32_t two_paths(wasi_call_t *c, uint32_t fd1, uint64_t r1, uint32_t p1, uint32_t l1,
                          uint32_t fd2, uint64_t r2, uint32_t p2, uint32_t l2, bool link) {
  wasi_fd_t *d1, *d2;
  char *s1 = NULL, *s2 = NULL;
  uint32_t err = path_prologue(c, fd1, r1, p1, l1, &d1, &s1);
  if (!err) err = path_prologue(c, fd2, r2, p2, l2, &d2, &s2);
  /* A link out of a read-only tree would make its file writable elsewhere. */
  if (!err && (d1->readonly || d2->readonly)) err = WASI_EROFS;
  if (err) {
    free(s1);
    free(s2);
    return err;
  }
  parent_t a1, a2;
  int r = resolve_parent(c->w, d1->host, s1, &a1);
  if (r < 0) {
    free(s1);
    free(s2);
    return neg_errno(r);
  }
  r = resolve_parent(c->w, d2->host, s2, &a2);
  if (r < 0) {
    parent_free(&a1);
    free(s1);
    free(s2);
    return neg_errno(r);
  }
  /* Put the trailing slashes back (the kernel checks them on the entries
  ** without following), except on a link source: there the kernel would
  ** follow a symlink, so its answer is worked out here. */
  size_t n1 = strlen(a1.name), n2 = strlen(a2.name);
  char *m1 = malloc(n1 + 2), *m2 = malloc(n2 + 2);
  if (!m1 || !m2) {
    r = -1;
    errno = ENOMEM;
  } else {
    memcpy(m1, a1.name, n1 + 1);
    memcpy(m2, a2.name, n2 + 1);
    if (a1.trailing) strcat(m1, "/");
    if (a2.trailing) strcat(m2, "/");
    if (link) {
      if (a1.trailing) {
        struct stat sb;
        r = -1;
        errno = fstatat(a1.fd, a1.name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ? ENOENT
                : S_ISDIR(sb.st_mode)                                 ? EPERM
                                                                      : ENOTDIR;
      } else {
        r = linkat(a1.fd, m1, a2.fd, m2, 0);
      }
    } else {
      r = renameat(a1.fd, m1, a2.fd, m2);
    }
  }
  int e = errno;
  free(m1);
  free(m2);
  parent_free(&a1);
  parent_free(&a2);
  free(s1);
  free(s2);
  return r ? wasi_errno(e) : WASI_ESUCCESS;
}

static uint32_t path_rename(wasi_call_t *c, const shoal_raw_t *a) {
  return two_paths(c, A32(0), WASI_RIGHT_PATH_RENAME_SOURCE, A32(1), A32(2), A32(3),
                   WASI_RIGHT_PATH_RENAME_TARGET, A32(4), A32(5), false);
}

static uint32_t path_link(wasi_call_t *c, const shoal_raw_t *a) {
  /* Following a symlink source is refused, as wasmtime does: linkat would
  ** need AT_EMPTY_PATH (a capability) or a path re-resolution race. */
  if (A32(1) & WASI_LOOKUP_SYMLINK_FOLLOW) return WASI_EINVAL;
  return two_paths(c, A32(0), WASI_RIGHT_PATH_LINK_SOURCE, A32(2), A32(3), A32(4),
                   WASI_RIGHT_PATH_LINK_TARGET, A32(5), A32(6), true);
}

/* }=================================================================== */

static const wasi_def_t path_defs[] = {
  {"path_create_directory", "iii", 1, path_create_directory},
  {"path_filestat_get", "iiiii", 1, path_filestat_get},
  {"path_filestat_set_times", "iiiiIIi", 1, path_filestat_set_times},
  {"path_link", "iiiiiii", 1, path_link},
  {"path_open", "iiiiiIIii", 1, path_open},
  {"path_readlink", "iiiiii", 1, path_readlink},
  {"path_remove_directory", "iii", 1, path_remove_directory},
  {"path_rename", "iiiiii", 1, path_rename},
  {"path_symlink", "iiiii", 1, path_symlink},
  {"path_unlink_file", "iii", 1, path_unlink_file},
};

const wasi_def_t *wasi_defs_path(size_t *n) {
  *n = sizeof path_defs / sizeof path_defs[0];
  return path_defs;
}
