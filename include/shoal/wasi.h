/*
** shoal WASI: wasi_snapshot_preview1 for core modules, on the engine API.
** The public API of layer 2 (see docs/wasi.md).
*/
#ifndef SHOAL_WASI_H
#define SHOAL_WASI_H

#include "shoal/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The module name WASI preview 1 imports use. */
#define SHOAL_WASI_MODULE "wasi_snapshot_preview1"

/* A host directory the guest may reach, as guest_path (what fd_prestat_dir_name
** reports: "/", ".", "/data"...). A read-only pre-open refuses every change
** beneath it (creating, writing, truncating, renaming, unlinking, setting
** times) with EROFS. */
typedef struct shoal_wasi_preopen {
  const char *host_path;
  const char *guest_path;
  bool readonly;
} shoal_wasi_preopen_t;

/* Flags for shoal_wasi_config_t.flags. */
enum {
  /* Resolve paths with the portable component-by-component walk even when
  ** the kernel has openat2 (for testing the fallback). */
  SHOAL_WASI_NO_OPENAT2 = 1u << 0
};

/* Everything a WASI context is made from. Zero-initialise, set size, fill in
** what you need: zeros mean no arguments, an empty environment, no
** pre-opens, the process's own stdin/stdout/stderr. Strings are copied. */
typedef struct shoal_wasi_config {
  size_t size;                      /* sizeof(shoal_wasi_config_t); fields past a
                                       smaller size are taken as zero */
  const char *const *args;          /* argv; args[0] is the program name */
  size_t nargs;
  const char *const *env;           /* "KEY=VALUE" strings */
  size_t nenv;
  const shoal_wasi_preopen_t *preopens;
  size_t npreopens;
  /* Host fds for guest fds 0, 1, 2 (NULL: the process's 0, 1, 2; an entry
  ** of -1 leaves that guest fd closed). They are dup'ed: the guest closing
  ** its fd 1 does not close the host's. */
  const int *stdio;
  /* Listening sockets the host opened (e.g. `shoal run --listen`), given to
  ** the guest as fds 3, 4, ... before the pre-opened directories, for
  ** sock_accept. They are dup'ed too. */
  const int *listen_fds;
  size_t nlisten;
  unsigned flags;                   /* SHOAL_WASI_* flags */
} shoal_wasi_config_t;

/* A WASI context: the guest's fd table, arguments, environment. One context
** serves one guest instance at a time and must outlive every store whose
** host functions it made (free the store first). */
typedef struct shoal_wasi shoal_wasi_t;

/* Makes a context. Fails with SHOAL_ERR_IO (diag names the directory) if a
** pre-open cannot be opened as a directory, SHOAL_ERR_ARG on a bad config. */
shoal_wasi_t *shoal_wasi_new(const shoal_wasi_config_t *cfg, shoal_diag_t *diag);
void shoal_wasi_free(shoal_wasi_t *w);

/* Binds the context to the store its host functions are made in. Needed
** before shoal_wasi_resolve; calling it again with another store rebinds
** (host functions already made stay in their store). */
void shoal_wasi_bind(shoal_wasi_t *w, shoal_store_t *s);

/* A shoal_resolve_fn (ud is the shoal_wasi_t*): satisfies an import of
** module "wasi_snapshot_preview1" whose name and type match a WASI function,
** with a host function made in the bound store (one per name, reused).
** Returns false for anything else, so it can be chained with other
** resolvers. */
bool shoal_wasi_resolve(void *wasi, const shoal_import_desc_t *imp, shoal_extern_t *out);

/* Whether module/name is a WASI preview 1 function shoal provides, whatever
** its type (to tell "unknown function" from "wrong type" in link errors). */
bool shoal_wasi_provides(const char *module, size_t module_len, const char *name,
                         size_t name_len);

/* The status the guest gave proc_exit, or -1 if it has not exited. */
int shoal_wasi_exit_code(const shoal_wasi_t *w);

/* Wakes any WASI call blocked in the host (poll_oneoff sleeping, a read on a
** pipe, sock_accept) so it returns with the trap SHOAL_ERR_TRAP_INTERRUPT.
** Safe from another thread or a signal handler; pair it with
** shoal_store_interrupt to stop a guest that runs too long. Sticky. */
void shoal_wasi_interrupt(shoal_wasi_t *w);

/* Runs a WASI command: calls inst's "_start" export (a module without one
** only had its start function run). *exit_code receives the guest's status:
** 0 when _start returns, the proc_exit status otherwise. Returns
** SHOAL_ERR_OK in both cases; a trap or other failure is returned with
** diag filled, and *exit_code is left alone. */
shoal_err_t shoal_wasi_run_start(shoal_wasi_t *w, shoal_store_t *s, shoal_instance_t *inst,
                                 int *exit_code, shoal_diag_t *diag);

/* The sandbox's path resolution, for other layers (WASI 0.2 for components):
** paths resolve beneath dirfd and never leave it ("..", absolute paths and
** symlinks included; an escape is -EPERM). wflags: SHOAL_WASI_* flags.
** shoal_wasi_open_beneath opens path with open(2) flags and mode (a final
** symlink is followed only when follow) and returns the fd or -errno.
** shoal_wasi_resolve_beneath finds the directory holding path's last
** component: *parent_fd (O_PATH; close it) and *name (malloc'ed; a trailing
** '/' of path is kept, and *trailing says so); with follow, a final symlink
** is followed (beneath dirfd too). Returns 0 or -errno. */
int shoal_wasi_open_beneath(int dirfd, const char *path, int flags, unsigned mode, bool follow, unsigned wflags);
int shoal_wasi_resolve_beneath(int dirfd, const char *path, bool follow, unsigned wflags, int *parent_fd,
                               char **name, bool *trailing);

#ifdef __cplusplus
}
#endif
#endif
