/*
** The WASI 0.2 host, private side: the context with its object table, the
** per-function environment, value-building helpers, and each interface
** file's function list (cmp_wasi_cli.c links them to a component's imports).
*/
#ifndef SHOAL_CMP_WASI_H
#define SHOAL_CMP_WASI_H

#include "cmp_inst.h"
#include <stdatomic.h>

/* Kinds of host objects beyond the public ones (shoal_wasi_kind_t). */
enum {
  WASI_K_ERROR = 100,      /* wasi:io/error error */
  WASI_K_DESCRIPTOR,       /* wasi:filesystem descriptor */
  WASI_K_DIRSTREAM,        /* wasi:filesystem directory-entry-stream */
  WASI_K_TERMINAL,         /* wasi:cli terminal-input / terminal-output */
  WASI_K_NETWORK,          /* wasi:sockets network */
  WASI_K_TCP,              /* wasi:sockets tcp-socket */
  WASI_K_UDP,              /* wasi:sockets udp-socket */
  WASI_K_DGRAM_IN,         /* incoming-datagram-stream */
  WASI_K_DGRAM_OUT,        /* outgoing-datagram-stream */
  WASI_K_RESOLVE           /* resolve-address-stream */
};

typedef struct wasi_obj {
  int kind;                /* 0: free slot */
  const shoal_wasi_ops_t *ops;
  void *self;
  uint32_t next_free;
} wasi_obj_t;

typedef struct wasi_preopen {
  int fd;                  /* O_DIRECTORY, kept for the context's life */
  char *guest;
  bool readonly;
} wasi_preopen_t;

struct shoal_wasi_ctx {
  const shoal_crun_config_t *cfg;
  wasi_obj_t *objs;        /* index 0 unused: rep 0 is never valid */
  uint32_t n, cap, free_head;
  wasi_preopen_t *pre;
  size_t npre;
  /* shoal_wasi_ctx_interrupt may come from another thread: it sets
  ** interrupted, then signals wakefd (an eventfd made by the first wait
  ** that sleeps, so contexts that never wait cost no fd). */
  atomic_int wakefd;
  atomic_int interrupted;
  bool nowait;             /* waits that would sleep fail instead (shoal_wasi_ctx_set_nowait) */
  bool would_block;        /* ... and one did */
  uint64_t seed[2];        /* insecure-seed: fixed per context */
  bool seeded;
};

/* Each linked host function's env: the function's type and names (made
** once per pre-linked component; the context comes with each call). */
typedef struct wasi_fn_env {
  const cmp_type_t *type;
  const char *iface, *func;
} wasi_fn_env_t;

/* sig: the parameter kinds a function's code relies on, then '>' and what
** it relies on of the result type (see sig_ok in cmp_wasi_cli.c): a
** component importing the name with another type gets a trapping stub,
** so the host code never reads a value or type of a shape it did not
** expect. */
typedef struct wasi_fn {
  const char *iface, *func;
  shoal_chost_fn_t fn;
  const char *sig;
} wasi_fn_t;

/* envp: only functions whose messages name themselves use it */
#define WASI_ARGS shoal_ccall_t *c, void *envp __attribute__((unused)), const shoal_cval_t *a, size_t na, shoal_cval_t *r
#define WASI_ENV ((wasi_fn_env_t *)envp)
#define WASI_CTX (c->wasi)

/* cmp_wasi_val.c: building results (false: out of memory) */
bool wv_string(shoal_cval_t *v, const char *s, size_t n);
shoal_cval_t *wv_payload(shoal_cval_t *v, shoal_ctype_kind_t kind, uint32_t disc);
bool wv_list(shoal_cval_t *v, size_t n);  /* n zeroed items */
bool wv_bytes(shoal_cval_t *v, const uint8_t *p, size_t n);
bool wv_record(shoal_cval_t *v, shoal_ctype_kind_t kind, size_t n);
void wv_u(shoal_cval_t *v, shoal_ctype_kind_t kind, uint64_t u);
uint32_t wv_case(const cmp_type_t *t, const char *name);  /* index of a case/label, or UINT32_MAX */
/* The bytes of a list<u8> argument, copied into a malloc'ed buffer. */
uint8_t *wv_get_bytes(const shoal_cval_t *v, size_t *n);
shoal_err_t wv_oom(shoal_ccall_t *c);
/* The payload of ok(...) in result r (NULL after trapping: out of memory),
** and ok(own<rep>) whole. */
shoal_cval_t *wv_ok_payload(shoal_ccall_t *c, shoal_cval_t *r);
shoal_err_t wv_ok_own(shoal_ccall_t *c, shoal_cval_t *r, uint32_t rep);

/* cmp_wasi_io.c */
uint32_t wasi_obj_add(shoal_wasi_ctx_t *w, int kind, const shoal_wasi_ops_t *ops, void *self);
wasi_obj_t *wasi_obj_get(shoal_wasi_ctx_t *w, uint32_t rep, int kind);
void wasi_obj_drop(shoal_wasi_ctx_t *w, uint32_t rep);
/* Streams over host fds (stdio, files): at offset (or -1: the fd's own position). */
uint32_t wasi_fd_input(shoal_wasi_ctx_t *w, int fd, bool own_fd, int64_t offset);
uint32_t wasi_fd_output(shoal_wasi_ctx_t *w, int fd, bool own_fd, int64_t offset, bool append);
/* Streams over a connected socket (fd owned; send with MSG_NOSIGNAL). */
uint32_t wasi_sock_stream(shoal_wasi_ctx_t *w, int kind, int fd);
/* An error object carrying an errno value (for filesystem-error-code). */
uint32_t wasi_error_new(shoal_wasi_ctx_t *w, int err);
bool wasi_error_errno(shoal_wasi_ctx_t *w, uint32_t rep, int *err);
/* A pollable ready when object rep is (its ops' ready/wait), and the
** host function doing that for a [method]X.subscribe. */
uint32_t wasi_subscribe(shoal_wasi_ctx_t *w, uint32_t rep);
shoal_err_t wasi_subscribe_fn(shoal_ccall_t *c, void *envp, const shoal_cval_t *a, size_t na, shoal_cval_t *r);
/* Sleeps until any of reps is ready; false when interrupted. */
bool wasi_wait_any(shoal_wasi_ctx_t *w, const uint32_t *reps, size_t n, uint64_t deadline_ns);
uint64_t wasi_now_ns(void);
void wasi_objs_free(shoal_wasi_ctx_t *w);

/* Function lists of the interface files. */
const wasi_fn_t *wasi_io_fns(size_t *n);
const wasi_fn_t *wasi_clock_fns(size_t *n);   /* cmp_wasi_clock.c: clocks and random */
const wasi_fn_t *wasi_fs_fns(size_t *n);
const wasi_fn_t *wasi_net_fns(size_t *n);     /* cmp_wasi_net.c: wasi:sockets */
/* cmp_wasi_fs.c: pre-opens (opened by shoal_wasi_ctx_new) */
shoal_err_t wasi_fs_open_preopens(shoal_wasi_ctx_t *w, shoal_diag_t *diag);
void wasi_fs_close_preopens(shoal_wasi_ctx_t *w);

#endif
