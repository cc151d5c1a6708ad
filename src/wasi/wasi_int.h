/*
** wasi_int.h: what the WASI layer's files share: the context and fd table,
** the preview 1 constants, and the shape of one WASI call.
*/
#ifndef SHOAL_WASI_INT_H
#define SHOAL_WASI_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "shoal/wasi.h"

/* {===================================================================
** Preview 1 constants (witx: typenames.witx)
** =================================================================== */
enum {
  WASI_ESUCCESS = 0, WASI_E2BIG = 1, WASI_EACCES = 2, WASI_EADDRINUSE = 3,
  WASI_EADDRNOTAVAIL = 4, WASI_EAFNOSUPPORT = 5, WASI_EAGAIN = 6, WASI_EALREADY = 7,
  WASI_EBADF = 8, WASI_EBADMSG = 9, WASI_EBUSY = 10, WASI_ECANCELED = 11,
  WASI_ECHILD = 12, WASI_ECONNABORTED = 13, WASI_ECONNREFUSED = 14, WASI_ECONNRESET = 15,
  WASI_EDEADLK = 16, WASI_EDESTADDRREQ = 17, WASI_EDOM = 18, WASI_EDQUOT = 19,
  WASI_EEXIST = 20, WASI_EFAULT = 21, WASI_EFBIG = 22, WASI_EHOSTUNREACH = 23,
  WASI_EIDRM = 24, WASI_EILSEQ = 25, WASI_EINPROGRESS = 26, WASI_EINTR = 27,
  WASI_EINVAL = 28, WASI_EIO = 29, WASI_EISCONN = 30, WASI_EISDIR = 31, WASI_ELOOP = 32,
  WASI_EMFILE = 33, WASI_EMLINK = 34, WASI_EMSGSIZE = 35, WASI_EMULTIHOP = 36,
  WASI_ENAMETOOLONG = 37, WASI_ENETDOWN = 38, WASI_ENETRESET = 39, WASI_ENETUNREACH = 40,
  WASI_ENFILE = 41, WASI_ENOBUFS = 42, WASI_ENODEV = 43, WASI_ENOENT = 44,
  WASI_ENOEXEC = 45, WASI_ENOLCK = 46, WASI_ENOLINK = 47, WASI_ENOMEM = 48,
  WASI_ENOMSG = 49, WASI_ENOPROTOOPT = 50, WASI_ENOSPC = 51, WASI_ENOSYS = 52,
  WASI_ENOTCONN = 53, WASI_ENOTDIR = 54, WASI_ENOTEMPTY = 55, WASI_ENOTRECOVERABLE = 56,
  WASI_ENOTSOCK = 57, WASI_ENOTSUP = 58, WASI_ENOTTY = 59, WASI_ENXIO = 60,
  WASI_EOVERFLOW = 61, WASI_EOWNERDEAD = 62, WASI_EPERM = 63, WASI_EPIPE = 64,
  WASI_EPROTO = 65, WASI_EPROTONOSUPPORT = 66, WASI_EPROTOTYPE = 67, WASI_ERANGE = 68,
  WASI_EROFS = 69, WASI_ESPIPE = 70, WASI_ESRCH = 71, WASI_ESTALE = 72,
  WASI_ETIMEDOUT = 73, WASI_ETXTBSY = 74, WASI_EXDEV = 75, WASI_ENOTCAPABLE = 76
};

enum {
  WASI_FILETYPE_UNKNOWN = 0, WASI_FILETYPE_BLOCK_DEVICE = 1, WASI_FILETYPE_CHARACTER_DEVICE = 2,
  WASI_FILETYPE_DIRECTORY = 3, WASI_FILETYPE_REGULAR_FILE = 4, WASI_FILETYPE_SOCKET_DGRAM = 5,
  WASI_FILETYPE_SOCKET_STREAM = 6, WASI_FILETYPE_SYMBOLIC_LINK = 7
};

enum { WASI_FDFLAG_APPEND = 1, WASI_FDFLAG_DSYNC = 2, WASI_FDFLAG_NONBLOCK = 4,
       WASI_FDFLAG_RSYNC = 8, WASI_FDFLAG_SYNC = 16 };
enum { WASI_O_CREAT = 1, WASI_O_DIRECTORY = 2, WASI_O_EXCL = 4, WASI_O_TRUNC = 8 };
enum { WASI_LOOKUP_SYMLINK_FOLLOW = 1 };
enum { WASI_FST_ATIM = 1, WASI_FST_ATIM_NOW = 2, WASI_FST_MTIM = 4, WASI_FST_MTIM_NOW = 8 };

#define WASI_R(n) ((uint64_t)1 << (n))
#define WASI_RIGHT_FD_DATASYNC WASI_R(0)
#define WASI_RIGHT_FD_READ WASI_R(1)
#define WASI_RIGHT_FD_SEEK WASI_R(2)
#define WASI_RIGHT_FD_FDSTAT_SET_FLAGS WASI_R(3)
#define WASI_RIGHT_FD_SYNC WASI_R(4)
#define WASI_RIGHT_FD_TELL WASI_R(5)
#define WASI_RIGHT_FD_WRITE WASI_R(6)
#define WASI_RIGHT_FD_ADVISE WASI_R(7)
#define WASI_RIGHT_FD_ALLOCATE WASI_R(8)
#define WASI_RIGHT_PATH_CREATE_DIRECTORY WASI_R(9)
#define WASI_RIGHT_PATH_CREATE_FILE WASI_R(10)
#define WASI_RIGHT_PATH_LINK_SOURCE WASI_R(11)
#define WASI_RIGHT_PATH_LINK_TARGET WASI_R(12)
#define WASI_RIGHT_PATH_OPEN WASI_R(13)
#define WASI_RIGHT_FD_READDIR WASI_R(14)
#define WASI_RIGHT_PATH_READLINK WASI_R(15)
#define WASI_RIGHT_PATH_RENAME_SOURCE WASI_R(16)
#define WASI_RIGHT_PATH_RENAME_TARGET WASI_R(17)
#define WASI_RIGHT_PATH_FILESTAT_GET WASI_R(18)
#define WASI_RIGHT_PATH_FILESTAT_SET_SIZE WASI_R(19)
#define WASI_RIGHT_PATH_FILESTAT_SET_TIMES WASI_R(20)
#define WASI_RIGHT_FD_FILESTAT_GET WASI_R(21)
#define WASI_RIGHT_FD_FILESTAT_SET_SIZE WASI_R(22)
#define WASI_RIGHT_FD_FILESTAT_SET_TIMES WASI_R(23)
#define WASI_RIGHT_PATH_SYMLINK WASI_R(24)
#define WASI_RIGHT_PATH_REMOVE_DIRECTORY WASI_R(25)
#define WASI_RIGHT_PATH_UNLINK_FILE WASI_R(26)
#define WASI_RIGHT_POLL_FD_READWRITE WASI_R(27)
#define WASI_RIGHT_SOCK_SHUTDOWN WASI_R(28)
#define WASI_RIGHT_SOCK_ACCEPT WASI_R(29)
#define WASI_RIGHTS_ALL (WASI_R(30) - 1)

/* What each kind of fd can ever have (as wasi-common grants them). */
#define WASI_RIGHTS_FILE                                                                   \
  (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK |                      \
   WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_TELL |              \
   WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ADVISE | WASI_RIGHT_FD_ALLOCATE |                   \
   WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_SIZE |                          \
   WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_DIR                                                                    \
  (WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_ADVISE |            \
   WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE |                        \
   WASI_RIGHT_PATH_LINK_SOURCE | WASI_RIGHT_PATH_LINK_TARGET | WASI_RIGHT_PATH_OPEN |      \
   WASI_RIGHT_FD_READDIR | WASI_RIGHT_PATH_READLINK | WASI_RIGHT_PATH_RENAME_SOURCE |      \
   WASI_RIGHT_PATH_RENAME_TARGET | WASI_RIGHT_PATH_FILESTAT_GET |                          \
   WASI_RIGHT_PATH_FILESTAT_SET_SIZE | WASI_RIGHT_PATH_FILESTAT_SET_TIMES |                \
   WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_PATH_SYMLINK | \
   WASI_RIGHT_PATH_REMOVE_DIRECTORY | WASI_RIGHT_PATH_UNLINK_FILE |                        \
   WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_TTY                                                                    \
  (WASI_RIGHTS_FILE & ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL))
#define WASI_RIGHTS_SOCK                                                                   \
  (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_FDSTAT_SET_FLAGS |             \
   WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_POLL_FD_READWRITE | WASI_RIGHT_SOCK_SHUTDOWN |  \
   WASI_RIGHT_SOCK_ACCEPT)

/* }=================================================================== */

/* {===================================================================
** The context and its fd table
** =================================================================== */

/* One cached directory listing, so fd_readdir cookies stay stable. */
typedef struct wasi_dirent {
  uint64_t ino;
  uint8_t type;
  uint32_t namelen;
  char *name;
} wasi_dirent_t;

typedef enum wasi_kind { WASI_KIND_FILE, WASI_KIND_DIR, WASI_KIND_SOCKET, WASI_KIND_STDIO } wasi_kind_t;

typedef struct wasi_fd {
  int host;            /* host fd; the slot is free when < 0 */
  wasi_kind_t kind;
  uint8_t filetype;    /* WASI filetype, fixed at open */
  bool readonly;       /* beneath a read-only pre-open */
  char *preopen;       /* guest path of a pre-open, else NULL */
  uint64_t rights, inheriting;
  wasi_dirent_t *dirents; /* fd_readdir cache, refreshed at cookie 0 */
  size_t ndirents;
} wasi_fd_t;

struct shoal_wasi {
  char **args;
  size_t nargs;
  char **env;
  size_t nenv;
  wasi_fd_t *fds;
  uint32_t nfds;       /* table size; free slots have host < 0 */
  shoal_store_t *store;
  struct wasi_binding *bindings; /* host functions made in the bound store */
  int exit_code;       /* -1 until proc_exit */
  unsigned flags;
  atomic_int interrupted; /* lock-free: set from other threads and signal handlers */
  int wake[2];         /* self-pipe: shoal_wasi_interrupt writes, blocking calls poll it */
};

/* The state of one WASI call: the context, the caller's memory, and an
** engine result for functions that end the guest (proc_exit, interrupt). */
typedef struct wasi_call {
  shoal_wasi_t *w;
  shoal_caller_t *caller;
  uint8_t *mem;
  uint64_t memlen;
  shoal_err_t trap;
} wasi_call_t;

/* A WASI function: reads its arguments from a[], returns a WASI errno. */
typedef uint32_t (*wasi_impl_fn)(wasi_call_t *c, const shoal_raw_t *a);

/* Argument accessors. */
#define A32(i) ((uint32_t)a[i])
#define A64(i) ((uint64_t)a[i])

/* Looks up a guest fd; NULL if it is not open. */
wasi_fd_t *wasi_fd_get(shoal_wasi_t *w, uint32_t fd);
/* Looks up fd and checks it has all of `rights`: on failure returns NULL
** with *err = EBADF or ENOTCAPABLE. */
wasi_fd_t *wasi_fd_check(shoal_wasi_t *w, uint32_t fd, uint64_t rights, uint32_t *err);
/* Puts a new host fd into the lowest free slot >= 3; returns the guest fd,
** or -1 (EMFILE/ENOMEM; host fd closed). */
int64_t wasi_fd_insert(shoal_wasi_t *w, const wasi_fd_t *proto);
/* Closes a slot's host fd and frees what it owns. */
void wasi_fd_release(wasi_fd_t *f);
void wasi_fd_clear_dirents(wasi_fd_t *f);
/* WASI filetype of a host stat mode. */
uint8_t wasi_filetype_of_mode(unsigned mode);

/* Host errno to WASI errno. */
uint32_t wasi_errno(int host_errno);

/* Waits until host fd `fd` is ready for `events` (POLLIN/POLLOUT) or the
** context is interrupted. Returns 0, -1 with errno set, or -2 when
** interrupted (the call sets c->trap). */
int wasi_wait_fd(wasi_call_t *c, int fd, short events);
/* Marks the call interrupted: the guest ends with TRAP_INTERRUPT. */
uint32_t wasi_interrupted(wasi_call_t *c);

/* }=================================================================== */

/* {===================================================================
** The function table: one file per concern adds its functions.
** =================================================================== */
typedef struct wasi_def {
  const char *name;
  const char *params;  /* one letter a parameter: i = i32, I = i64 */
  uint8_t nresults;    /* 0 (proc_exit) or 1 (errno) */
  wasi_impl_fn fn;
} wasi_def_t;

/* Each returns its table and count. */
const wasi_def_t *wasi_defs_core(size_t *n);   /* wasi.c: args, env, random, proc */
const wasi_def_t *wasi_defs_fd(size_t *n);     /* wasi_fd.c */
const wasi_def_t *wasi_defs_path(size_t *n);   /* wasi_path.c */
const wasi_def_t *wasi_defs_clock(size_t *n);  /* wasi_clock.c: clocks, poll_oneoff */
const wasi_def_t *wasi_defs_sock(size_t *n);   /* wasi_sock.c */

/* wasi_fd.c: shared with the path functions. */
struct stat;
/* Writes a 64-byte filestat at guest ptr (EFAULT if out of range). */
uint32_t wasi_put_filestat(wasi_call_t *c, uint32_t ptr, const struct stat *st);
/* Validates fst_flags and fills utimensat(2) times. */
uint32_t wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]);

/* }=================================================================== */

#endif
