/*
** wasi.c: the WASI context (arguments, environment, fd table), linking a
** module's wasi_snapshot_preview1 imports, and args/environ/random/proc.
*/
#define _GNU_SOURCE
#include "wasi_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* {===================================================================
** Errno mapping and helpers shared by the other files
** =================================================================== */

uint32_t wasi_errno(int e) {
  switch (e) {
  case 0: return WASI_ESUCCESS;
  case E2BIG: return WASI_E2BIG;
  case EACCES: return WASI_EACCES;
  case EADDRINUSE: return WASI_EADDRINUSE;
  case EADDRNOTAVAIL: return WASI_EADDRNOTAVAIL;
  case EAFNOSUPPORT: return WASI_EAFNOSUPPORT;
  case EAGAIN: return WASI_EAGAIN;
  case EALREADY: return WASI_EALREADY;
  case EBADF: return WASI_EBADF;
  case EBADMSG: return WASI_EBADMSG;
  case EBUSY: return WASI_EBUSY;
  case ECANCELED: return WASI_ECANCELED;
  case ECHILD: return WASI_ECHILD;
  case ECONNABORTED: return WASI_ECONNABORTED;
  case ECONNREFUSED: return WASI_ECONNREFUSED;
  case ECONNRESET: return WASI_ECONNRESET;
  case EDEADLK: return WASI_EDEADLK;
  case EDESTADDRREQ: return WASI_EDESTADDRREQ;
  case EDOM: return WASI_EDOM;
  case EDQUOT: return WASI_EDQUOT;
  case EEXIST: return WASI_EEXIST;
  case EFAULT: return WASI_EFAULT;
  case EFBIG: return WASI_EFBIG;
  case EHOSTUNREACH: return WASI_EHOSTUNREACH;
  case EIDRM: return WASI_EIDRM;
  case EILSEQ: return WASI_EILSEQ;
  case EINPROGRESS: return WASI_EINPROGRESS;
  case EINTR: return WASI_EINTR;
  case EINVAL: return WASI_EINVAL;
  case EIO: return WASI_EIO;
  case EISCONN: return WASI_EISCONN;
  case EISDIR: return WASI_EISDIR;
  case ELOOP: return WASI_ELOOP;
  case EMFILE: return WASI_EMFILE;
  case EMLINK: return WASI_EMLINK;
  case EMSGSIZE: return WASI_EMSGSIZE;
  case EMULTIHOP: return WASI_EMULTIHOP;
  case ENAMETOOLONG: return WASI_ENAMETOOLONG;
  case ENETDOWN: return WASI_ENETDOWN;
  case ENETRESET: return WASI_ENETRESET;
  case ENETUNREACH: return WASI_ENETUNREACH;
  case ENFILE: return WASI_ENFILE;
  case ENOBUFS: return WASI_ENOBUFS;
  case ENODEV: return WASI_ENODEV;
  case ENOENT: return WASI_ENOENT;
  case ENOEXEC: return WASI_ENOEXEC;
  case ENOLCK: return WASI_ENOLCK;
  case ENOLINK: return WASI_ENOLINK;
  case ENOMEM: return WASI_ENOMEM;
  case ENOMSG: return WASI_ENOMSG;
  case ENOPROTOOPT: return WASI_ENOPROTOOPT;
  case ENOSPC: return WASI_ENOSPC;
  case ENOSYS: return WASI_ENOSYS;
  case ENOTCONN: return WASI_ENOTCONN;
  case ENOTDIR: return WASI_ENOTDIR;
  case ENOTEMPTY: return WASI_ENOTEMPTY;
  case ENOTRECOVERABLE: return WASI_ENOTRECOVERABLE;
  case ENOTSOCK: return WASI_ENOTSOCK;
  case EOPNOTSUPP: return WASI_ENOTSUP; /* == ENOTSUP on Linux */
  case ENOTTY: return WASI_ENOTTY;
  case ENXIO: return WASI_ENXIO;
  case EOVERFLOW: return WASI_EOVERFLOW;
  case EOWNERDEAD: return WASI_EOWNERDEAD;
  case EPERM: return WASI_EPERM;
  case EPIPE: return WASI_EPIPE;
  case EPROTO: return WASI_EPROTO;
  case EPROTONOSUPPORT: return WASI_EPROTONOSUPPORT;
  case EPROTOTYPE: return WASI_EPROTOTYPE;
  case ERANGE: return WASI_ERANGE;
  case EROFS: return WASI_EROFS;
  case ESPIPE: return WASI_ESPIPE;
  case ESRCH: return WASI_ESRCH;
  case ESTALE: return WASI_ESTALE;
  case ETIMEDOUT: return WASI_ETIMEDOUT;
  case ETXTBSY: return WASI_ETXTBSY;
  case EXDEV: return WASI_EXDEV;
  default: return WASI_EIO;
  }
}

uint8_t wasi_filetype_of_mode(unsigned mode) {
  switch (mode & S_IFMT) {
  case S_IFREG: return WASI_FILETYPE_REGULAR_FILE;
  case S_IFDIR: return WASI_FILETYPE_DIRECTORY;
  case S_IFLNK: return WASI_FILETYPE_SYMBOLIC_LINK;
  case S_IFCHR: return WASI_FILETYPE_CHARACTER_DEVICE;
  case S_IFBLK: return WASI_FILETYPE_BLOCK_DEVICE;
  case S_IFSOCK: return WASI_FILETYPE_SOCKET_STREAM;
  default: return WASI_FILETYPE_UNKNOWN;
  }
}

uint32_t wasi_iovecs(const wasi_call_t *c, uint32_t iovs, uint32_t n, struct iovec *out) {
  if (n > WASI_IOV_MAX) return WASI_EINVAL;
  const uint8_t *p = wasi_mem_array(c, iovs, n, 8);
  if (!p && n) return WASI_EFAULT;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t buf = wasi_ld32(p + 8 * i), len = wasi_ld32(p + 8 * i + 4);
    uint8_t *h = wasi_mem(c, buf, len);
    if (!h && len) return WASI_EFAULT;
    out[i].iov_base = h;
    out[i].iov_len = h ? len : 0;
  }
  return WASI_ESUCCESS;
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFE). */
static bool utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t b = s[i];
    if (b < 0x80) { i++; continue; }
    size_t len;
    uint32_t cp;
    if ((b & 0xe0) == 0xc0) { len = 2; cp = b & 0x1f; }
    else if ((b & 0xf0) == 0xe0) { len = 3; cp = b & 0x0f; }
    else if ((b & 0xf8) == 0xf0) { len = 4; cp = b & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

uint32_t wasi_path_copy(const wasi_call_t *c, uint32_t ptr, uint32_t len, char **out) {
  *out = NULL;
  const uint8_t *p = wasi_mem(c, ptr, len);
  if (!p && len) return WASI_EFAULT;
  if (len && memchr(p, 0, len)) return WASI_EILSEQ;
  if (len && !utf8_valid(p, len)) return WASI_EILSEQ;
  char *s = malloc((size_t)len + 1);
  if (!s) return WASI_ENOMEM;
  if (len) memcpy(s, p, len);
  s[len] = '\0';
  *out = s;
  return WASI_ESUCCESS;
}

/* }=================================================================== */

/* {===================================================================
** The fd table
** =================================================================== */

wasi_fd_t *wasi_fd_get(shoal_wasi_t *w, uint32_t fd) {
  if (fd >= w->nfds || w->fds[fd].host < 0) return NULL;
  return &w->fds[fd];
}

wasi_fd_t *wasi_fd_check(shoal_wasi_t *w, uint32_t fd, uint64_t rights, uint32_t *err) {
  wasi_fd_t *f = wasi_fd_get(w, fd);
  if (!f) {
    *err = WASI_EBADF;
    return NULL;
  }
  if ((f->rights & rights) != rights) {
    *err = WASI_ENOTCAPABLE;
    return NULL;
  }
  return f;
}

void wasi_fd_clear_dirents(wasi_fd_t *f) {
  for (size_t i = 0; i < f->ndirents; i++) free(f->dirents[i].name);
  free(f->dirents);
  f->dirents = NULL;
  f->ndirents = 0;
}

void wasi_fd_release(wasi_fd_t *f) {
  if (f->host >= 0) close(f->host);
  f->host = -1;
  free(f->preopen);
  f->preopen = NULL;
  wasi_fd_clear_dirents(f);
}

/* Ensures slot `fd` exists (free slots have host -1). */
static bool fd_reserve(shoal_wasi_t *w, uint32_t fd) {
  if (fd < w->nfds) return true;
  uint32_t n = w->nfds ? w->nfds : 8;
  while (n <= fd) {
    if (n > UINT32_MAX / 2) return false;
    n *= 2;
  }
  wasi_fd_t *nf = realloc(w->fds, (size_t)n * sizeof *nf);
  if (!nf) return false;
  for (uint32_t i = w->nfds; i < n; i++) nf[i] = (wasi_fd_t){.host = -1};
  w->fds = nf;
  w->nfds = n;
  return true;
}

/* Guest fds stay below this (like RLIMIT_NOFILE for the guest). */
#define WASI_MAX_FDS 65536

int64_t wasi_fd_insert(shoal_wasi_t *w, const wasi_fd_t *proto) {
  uint32_t fd = 3;
  while (fd < w->nfds && w->fds[fd].host >= 0) fd++;
  if (fd >= WASI_MAX_FDS || !fd_reserve(w, fd)) {
    close(proto->host);
    return -1;
  }
  w->fds[fd] = *proto;
  return fd;
}

/* }=================================================================== */

/* {===================================================================
** Interrupts and blocking
** =================================================================== */

void shoal_wasi_interrupt(shoal_wasi_t *w) {
  if (!w) return;
  atomic_store(&w->interrupted, 1);
  if (w->wake[1] >= 0) {
    ssize_t r = write(w->wake[1], "", 1); /* async-signal-safe; a full pipe is fine */
    (void)r;
  }
}

uint32_t wasi_interrupted(wasi_call_t *c) {
  c->trap = SHOAL_ERR_TRAP_INTERRUPT;
  return WASI_EINTR;
}

int wasi_wait_fd(wasi_call_t *c, int fd, short events) {
  shoal_wasi_t *w = c->w;
  for (;;) {
    if (atomic_load(&w->interrupted)) return -2;
    struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = w->wake[0], .events = POLLIN}};
    int r = poll(p, w->wake[0] >= 0 ? 2 : 1, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (p[1].revents) continue; /* re-check the flag */
    if (p[0].revents) return 0;
  }
}

/* }=================================================================== */

/* {===================================================================
** Context
** =================================================================== */

static char **copy_strings(const char *const *src, size_t n, bool *ok) {
  *ok = true;
  if (!n) return NULL;
  char **dst = calloc(n, sizeof *dst);
  if (!dst) {
    *ok = false;
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    dst[i] = strdup(src[i] ? src[i] : "");
    if (!dst[i]) *ok = false;
  }
  return dst;
}

static void free_strings(char **s, size_t n) {
  if (!s) return;
  for (size_t i = 0; i < n; i++) free(s[i]);
  free(s);
}

static void diag_set(shoal_diag_t *d, shoal_err_t code, const char *fmt, const char *arg,
                     int err) {
  if (!d) return;
  shoal_diag_clear(d);
  d->code = code;
  snprintf(d->message, sizeof d->message, fmt, arg, err ? strerror(err) : "");
}

/* Fills a stdio or socket slot from a host fd (dup'ed). */
static bool add_host_fd(shoal_wasi_t *w, uint32_t slot, int hostfd, bool listener) {
  if (!fd_reserve(w, slot)) return false;
  if (hostfd < 0) return true;
  int d = fcntl(hostfd, F_DUPFD_CLOEXEC, 3);
  if (d < 0) return false;
  struct stat st;
  uint8_t ft = WASI_FILETYPE_UNKNOWN;
  if (fstat(d, &st) == 0) ft = wasi_filetype_of_mode(st.st_mode);
  if (ft == WASI_FILETYPE_SOCKET_STREAM) {
    int type = 0;
    socklen_t tl = sizeof type;
    if (getsockopt(d, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_DGRAM)
      ft = WASI_FILETYPE_SOCKET_DGRAM;
  }
  wasi_fd_t *f = &w->fds[slot];
  *f = (wasi_fd_t){.host = d, .filetype = ft};
  if (listener || ft == WASI_FILETYPE_SOCKET_STREAM || ft == WASI_FILETYPE_SOCKET_DGRAM) {
    f->kind = WASI_KIND_SOCKET;
    f->rights = WASI_RIGHTS_SOCK;
  } else {
    f->kind = WASI_KIND_STDIO;
    /* A terminal gets no seek/tell rights: wasi-libc's isatty looks for that. */
    f->rights = ft == WASI_FILETYPE_REGULAR_FILE ? WASI_RIGHTS_FILE : WASI_RIGHTS_TTY;
  }
  return true;
}

shoal_wasi_t *shoal_wasi_new(const shoal_wasi_config_t *user, shoal_diag_t *diag) {
  /* A config from an older header is shorter: its missing fields are zero. */
  if (!user || user->size < offsetof(shoal_wasi_config_t, args) + sizeof user->args) {
    diag_set(diag, SHOAL_ERR_ARG, "WASI config: bad size field%s%s", "", 0);
    return NULL;
  }
  shoal_wasi_config_t local;
  memset(&local, 0, sizeof local);
  memcpy(&local, user, user->size < sizeof local ? user->size : sizeof local);
  const shoal_wasi_config_t *cfg = &local;
  shoal_wasi_t *w = calloc(1, sizeof *w);
  if (!w) goto nomem;
  w->exit_code = -1;
  w->flags = cfg->flags;
  w->wake[0] = w->wake[1] = -1;
  bool ok1, ok2;
  w->args = copy_strings(cfg->args, cfg->nargs, &ok1);
  w->nargs = cfg->nargs;
  w->env = copy_strings(cfg->env, cfg->nenv, &ok2);
  w->nenv = cfg->nenv;
  if (!ok1 || !ok2) goto nomem;
  if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) != 0) w->wake[0] = w->wake[1] = -1;

  static const int std_fds[3] = {0, 1, 2};
  const int *stdio = cfg->stdio ? cfg->stdio : std_fds;
  for (uint32_t i = 0; i < 3; i++) {
    if (!add_host_fd(w, i, stdio[i], false)) {
      diag_set(diag, SHOAL_ERR_IO, "WASI: cannot use stdio fd%s: %s", "", errno);
      goto fail;
    }
  }
  uint32_t slot = 3;
  for (size_t i = 0; i < cfg->nlisten; i++, slot++) {
    if (!add_host_fd(w, slot, cfg->listen_fds[i], true)) {
      diag_set(diag, SHOAL_ERR_IO, "WASI: cannot use listening socket%s: %s", "", errno);
      goto fail;
    }
  }
  for (size_t i = 0; i < cfg->npreopens; i++, slot++) {
    const shoal_wasi_preopen_t *p = &cfg->preopens[i];
    if (!p->host_path || !p->guest_path) {
      diag_set(diag, SHOAL_ERR_ARG, "WASI: pre-open %s without a path%s", "", 0);
      goto fail;
    }
    int d = open(p->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0) {
      diag_set(diag, SHOAL_ERR_IO, "cannot pre-open directory %s: %s", p->host_path, errno);
      goto fail;
    }
    if (!fd_reserve(w, slot)) {
      close(d);
      goto nomem;
    }
    char *gp = strdup(p->guest_path);
    if (!gp) {
      close(d);
      goto nomem;
    }
    w->fds[slot] = (wasi_fd_t){.host = d, .kind = WASI_KIND_DIR,
                               .filetype = WASI_FILETYPE_DIRECTORY, .readonly = p->readonly,
                               .preopen = gp, .rights = WASI_RIGHTS_DIR,
                               .inheriting = WASI_RIGHTS_DIR | WASI_RIGHTS_FILE};
  }
  return w;
nomem:
  diag_set(diag, SHOAL_ERR_NOMEM, "WASI: out of memory%s%s", "", 0);
fail:
  shoal_wasi_free(w);
  return NULL;
}

typedef struct wasi_binding {
  struct wasi_binding *next;
  shoal_wasi_t *w;
  const wasi_def_t *def;
  shoal_store_t *store;
  shoal_func_t *func;
  /* The last caller and its memory: shoal_caller_memory looks the export up
  ** by name. Instances live as long as their store, and so does this
  ** binding, so a cached instance pointer cannot be a reused address. */
  shoal_instance_t *last_inst;
  shoal_memory_t *last_mem;
} wasi_binding_t;

void shoal_wasi_free(shoal_wasi_t *w) {
  if (!w) return;
  for (uint32_t i = 0; i < w->nfds; i++) wasi_fd_release(&w->fds[i]);
  free(w->fds);
  free_strings(w->args, w->nargs);
  free_strings(w->env, w->nenv);
  /* Bindings are owned by their host functions (freed with the store). */
  for (wasi_binding_t *b = w->bindings; b; b = b->next) b->w = NULL;
  if (w->wake[0] >= 0) close(w->wake[0]);
  if (w->wake[1] >= 0) close(w->wake[1]);
  free(w);
}

int shoal_wasi_exit_code(const shoal_wasi_t *w) { return w ? w->exit_code : -1; }

/* }=================================================================== */

/* {===================================================================
** Linking
** =================================================================== */

static const wasi_def_t *find_def(const char *name, size_t len) {
  const wasi_def_t *(*tables[])(size_t *) = {wasi_defs_core, wasi_defs_fd, wasi_defs_path,
                                            wasi_defs_clock, wasi_defs_sock};
  for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
    size_t n;
    const wasi_def_t *d = tables[t](&n);
    for (size_t i = 0; i < n; i++)
      if (strlen(d[i].name) == len && memcmp(d[i].name, name, len) == 0) return &d[i];
  }
  return NULL;
}

static bool is_wasi_module(const char *m, size_t len) {
  return len == strlen(SHOAL_WASI_MODULE) && memcmp(m, SHOAL_WASI_MODULE, len) == 0;
}

bool shoal_wasi_provides(const char *module, size_t module_len, const char *name,
                         size_t name_len) {
  return is_wasi_module(module, module_len) && find_def(name, name_len) != NULL;
}

/* The one host function behind every WASI import. */
static shoal_err_t trampoline(shoal_caller_t *caller, void *env, shoal_raw_t *io) {
  wasi_binding_t *b = env;
  if (!b->w) return shoal_caller_trap(caller, "WASI context was freed before its store");
  wasi_call_t c = {.w = b->w, .caller = caller, .trap = SHOAL_ERR_OK};
  shoal_instance_t *inst = shoal_caller_instance(caller);
  if (!inst || inst != b->last_inst) {
    b->last_inst = inst;
    b->last_mem = shoal_caller_memory(caller);
  }
  shoal_memory_t *m = b->last_mem;
  if (m) {
    c.mem = shoal_memory_data(m);
    c.memlen = shoal_memory_size(m);
  }
  /* An interrupt (shoal_wasi_interrupt) ends the guest at its next WASI call
  ** even if the engine has not noticed shoal_store_interrupt yet. */
  if (atomic_load(&b->w->interrupted)) return SHOAL_ERR_TRAP_INTERRUPT;
  uint32_t r = b->def->fn(&c, io);
  if (c.trap != SHOAL_ERR_OK) return c.trap;
  if (b->def->nresults) io[0] = r;
  return SHOAL_ERR_OK;
}

static void binding_free(void *p) {
  wasi_binding_t *b = p;
  /* Unlink from the context's list if the context still lives. */
  if (b->w) {
    for (wasi_binding_t **pp = &b->w->bindings; *pp; pp = &(*pp)->next) {
      if (*pp == b) {
        *pp = b->next;
        break;
      }
    }
  }
  free(b);
}

void shoal_wasi_bind(shoal_wasi_t *w, shoal_store_t *s) { w->store = s; }

bool shoal_wasi_resolve(void *wasi, const shoal_import_desc_t *imp, shoal_extern_t *out) {
  shoal_wasi_t *w = wasi;
  if (!w || !w->store || !is_wasi_module(imp->module, imp->module_len)) return false;
  if (imp->type.kind != SHOAL_EXTERN_FUNC) return false;
  const wasi_def_t *d = find_def(imp->name, imp->name_len);
  if (!d) return false;
  size_t np = strlen(d->params);
  const shoal_functype_t *ft = &imp->type.func;
  if (ft->nparams != np || ft->nresults != d->nresults) return false;
  for (size_t i = 0; i < np; i++)
    if (ft->params[i] != (d->params[i] == 'I' ? SHOAL_I64 : SHOAL_I32)) return false;
  if (d->nresults && ft->results[0] != SHOAL_I32) return false;
  for (wasi_binding_t *b = w->bindings; b; b = b->next) {
    if (b->def == d && b->store == w->store) {
      out->kind = SHOAL_EXTERN_FUNC;
      out->of.func = b->func;
      return true;
    }
  }
  wasi_binding_t *b = calloc(1, sizeof *b);
  if (!b) return false;
  b->w = w;
  b->def = d;
  b->store = w->store;
  b->func = shoal_func_new_host(w->store, ft, trampoline, b, binding_free);
  if (!b->func) {
    free(b);
    return false;
  }
  b->next = w->bindings;
  w->bindings = b;
  out->kind = SHOAL_EXTERN_FUNC;
  out->of.func = b->func;
  return true;
}

shoal_err_t shoal_wasi_run_start(shoal_wasi_t *w, shoal_store_t *s, shoal_instance_t *inst,
                                 int *exit_code, shoal_diag_t *diag) {
  (void)w;
  shoal_func_t *start = shoal_instance_func(inst, "_start");
  if (!start) {
    *exit_code = 0;
    return SHOAL_ERR_OK;
  }
  shoal_functype_t ft;
  shoal_func_type(start, &ft);
  if (ft.nparams || ft.nresults) {
    if (diag) {
      shoal_diag_clear(diag);
      diag->code = SHOAL_ERR_LINK;
      snprintf(diag->message, sizeof diag->message, "_start must have type () -> ()");
    }
    return SHOAL_ERR_LINK;
  }
  shoal_err_t e = shoal_func_call(s, start, NULL, 0, NULL, 0, diag);
  if (e == SHOAL_ERR_OK) {
    *exit_code = 0;
  } else if (e == SHOAL_ERR_EXIT) {
    *exit_code = diag ? diag->exit_code : shoal_wasi_exit_code(w);
    e = SHOAL_ERR_OK;
  }
  return e;
}

/* }=================================================================== */

/* {===================================================================
** args, environ, random, proc
** =================================================================== */

/* Writes the pointer array and the NUL-terminated strings. */
static uint32_t put_strings(wasi_call_t *c, char **s, size_t n, uint32_t ptrs, uint32_t buf) {
  uint8_t *pp = wasi_mem_array(c, ptrs, (uint32_t)n, 4);
  if (!pp && n) return WASI_EFAULT;
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) total += strlen(s[i]) + 1;
  uint8_t *bp = wasi_mem(c, buf, total);
  if (!bp && total) return WASI_EFAULT;
  uint32_t off = 0;
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(s[i]) + 1;
    wasi_st32(pp + 4 * i, buf + off);
    memcpy(bp + off, s[i], l);
    off += (uint32_t)l;
  }
  return WASI_ESUCCESS;
}

static uint32_t put_sizes(wasi_call_t *c, char **s, size_t n, uint32_t count_ptr,
                          uint32_t size_ptr) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) total += strlen(s[i]) + 1;
  if (total > UINT32_MAX) return WASI_EOVERFLOW;
  if (!wasi_mem(c, count_ptr, 4) || !wasi_mem(c, size_ptr, 4)) return WASI_EFAULT;
  wasi_put32(c, count_ptr, (uint32_t)n);
  wasi_put32(c, size_ptr, (uint32_t)total);
  return WASI_ESUCCESS;
}

static uint32_t args_get(wasi_call_t *c, const shoal_raw_t *a) {
  return put_strings(c, c->w->args, c->w->nargs, A32(0), A32(1));
}
static uint32_t args_sizes_get(wasi_call_t *c, const shoal_raw_t *a) {
  return put_sizes(c, c->w->args, c->w->nargs, A32(0), A32(1));
}
static uint32_t environ_get(wasi_call_t *c, const shoal_raw_t *a) {
  return put_strings(c, c->w->env, c->w->nenv, A32(0), A32(1));
}
static uint32_t environ_sizes_get(wasi_call_t *c, const shoal_raw_t *a) {
  return put_sizes(c, c->w->env, c->w->nenv, A32(0), A32(1));
}

static uint32_t random_get(wasi_call_t *c, const shoal_raw_t *a) {
  uint8_t *p = wasi_mem(c, A32(0), A32(1));
  if (!p) return A32(1) ? WASI_EFAULT : WASI_ESUCCESS;
  size_t n = A32(1), done = 0;
  while (done < n) {
    ssize_t r = getrandom(p + done, n - done, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return wasi_errno(errno);
    }
    done += (size_t)r;
  }
  return WASI_ESUCCESS;
}

static uint32_t proc_exit(wasi_call_t *c, const shoal_raw_t *a) {
  int status = (int)A32(0);
  c->w->exit_code = status;
  c->trap = shoal_caller_exit(c->caller, status);
  return 0;
}

static uint32_t proc_raise(wasi_call_t *c, const shoal_raw_t *a) {
  (void)c;
  (void)a;
  return WASI_ENOSYS; /* signals are not part of the sandbox */
}

static uint32_t sched_yield_(wasi_call_t *c, const shoal_raw_t *a) {
  (void)c;
  (void)a;
  sched_yield();
  return WASI_ESUCCESS;
}

static const wasi_def_t core_defs[] = {
  {"args_get", "ii", 1, args_get},
  {"args_sizes_get", "ii", 1, args_sizes_get},
  {"environ_get", "ii", 1, environ_get},
  {"environ_sizes_get", "ii", 1, environ_sizes_get},
  {"random_get", "ii", 1, random_get},
  {"proc_exit", "i", 0, proc_exit},
  {"proc_raise", "i", 1, proc_raise},
  {"sched_yield", "", 1, sched_yield_},
};

const wasi_def_t *wasi_defs_core(size_t *n) {
  *n = sizeof core_defs / sizeof core_defs[0];
  return core_defs;
}

/* }=================================================================== */
