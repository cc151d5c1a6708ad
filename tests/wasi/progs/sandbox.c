/* sandbox.c: tries to escape the pre-open /sandbox (fd 3) by "..", absolute
** paths, symlinks, hard links and renames, with the raw WASI calls so that
** libc cannot hide what the host does. Every attempt must be refused with
** EPERM or ENOTCAPABLE (what wasi-testsuite accepts for a path that leaves
** its directory). argv[1] is the host path of the directory beside the
** sandbox ("outside"), which holds canary.txt. The test script checks the
** host side: nothing outside read, created or changed. */
#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <wasi/api.h>

#define PRE 3   /* the only pre-open: /sandbox */
#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW

static int leaks;

static int refused(__wasi_errno_t e) {
  return e == __WASI_ERRNO_PERM || e == __WASI_ERRNO_NOTCAPABLE;
}

/* Opens path beneath PRE; if that works, reads it and reports a leak. */
static __wasi_errno_t try_open(const char *path, __wasi_lookupflags_t lf, __wasi_oflags_t of,
                               __wasi_rights_t rights) {
  __wasi_fd_t fd;
  __wasi_errno_t e = __wasi_path_open(PRE, lf, path, of, rights, 0, 0, &fd);
  if (e == 0) {
    char buf[256];
    ssize_t n = read((int)fd, buf, sizeof buf - 1);
    if (n > 0) {
      buf[n] = 0;
      if (strstr(buf, "CANARY")) leaks++;
    }
    (void)!__wasi_fd_close(fd);
  }
  return e;
}

#define R_READ (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK)
#define R_WRITE (__WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK)
#define R_DIR (__WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_OPEN)

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: sandbox OUTSIDE-HOST-PATH\n");
    return 2;
  }
  char abs_canary[1024], abs_new[1024];
  snprintf(abs_canary, sizeof abs_canary, "%s/canary.txt", argv[1]);
  snprintf(abs_new, sizeof abs_new, "%s/new.txt", argv[1]);

  /* Legitimate paths work: ".." that stays inside, "." */
  CHECK(try_open("inside.txt", FOLLOW, 0, R_READ) == 0, "open inside.txt");
  CHECK(try_open("sub/../inside.txt", FOLLOW, 0, R_READ) == 0, "open sub/../inside.txt (stays inside)");
  CHECK(try_open(".", FOLLOW, __WASI_OFLAGS_DIRECTORY, R_DIR) == 0, "open . as a directory");
  CHECK(try_open("sub/link_in", FOLLOW, 0, R_READ) == 0, "a symlink that stays inside is followed");

  /* Reading out. */
  CHECK(refused(try_open("..", FOLLOW, __WASI_OFLAGS_DIRECTORY, R_DIR)), "open .. is refused");
  CHECK(refused(try_open("../outside/canary.txt", FOLLOW, 0, R_READ)), "open ../outside/canary.txt is refused");
  CHECK(refused(try_open("sub/../../outside/canary.txt", FOLLOW, 0, R_READ)), "open sub/../../outside/canary.txt is refused");
  CHECK(refused(try_open("sub/./../..//outside/canary.txt", FOLLOW, 0, R_READ)), "open sub/./../..//outside/canary.txt is refused");
  CHECK(refused(try_open(abs_canary, FOLLOW, 0, R_READ)), "open of the canary's absolute host path is refused");
  CHECK(refused(try_open("/etc/passwd", FOLLOW, 0, R_READ)), "open /etc/passwd is refused");
  CHECK(refused(try_open("link_abs", FOLLOW, 0, R_READ)), "following a symlink to the canary's absolute path is refused");
  CHECK(refused(try_open("link_rel", FOLLOW, 0, R_READ)), "following a symlink to ../outside/canary.txt is refused");
  CHECK(refused(try_open("sub/link_up", FOLLOW, 0, R_READ)), "following sub/link_up (../../outside/canary.txt) is refused");
  CHECK(refused(try_open("link_dir/canary.txt", FOLLOW, 0, R_READ)), "a path through a symlink to ../outside is refused");
  CHECK(refused(try_open("link_dir_abs/canary.txt", 0, 0, R_READ)), "a path through a symlink to the absolute outside dir is refused");
  CHECK(refused(try_open("link_root/etc/passwd", 0, 0, R_READ)), "a path through a symlink to / is refused");
  CHECK(refused(try_open("link_chain", FOLLOW, 0, R_READ)), "a chain of symlinks ending outside is refused");
  CHECK(refused(try_open("link_dir", FOLLOW, __WASI_OFLAGS_DIRECTORY, R_DIR)), "opening a symlink to ../outside as a directory is refused");

  /* Writing out, or creating outside. */
  CHECK(refused(try_open("link_rel", FOLLOW, __WASI_OFLAGS_TRUNC, R_WRITE)), "truncating through a symlink to the canary is refused");
  CHECK(refused(try_open("../outside/new.txt", FOLLOW, __WASI_OFLAGS_CREAT, R_WRITE)), "creating ../outside/new.txt is refused");
  CHECK(refused(try_open(abs_new, FOLLOW, __WASI_OFLAGS_CREAT, R_WRITE)), "creating by absolute host path is refused");
  CHECK(refused(try_open("link_dir/new.txt", FOLLOW, __WASI_OFLAGS_CREAT, R_WRITE)), "creating through a symlinked directory is refused");
  CHECK(refused(try_open("link_new", FOLLOW, __WASI_OFLAGS_CREAT, R_WRITE)), "creating through a dangling symlink to ../outside/new.txt is refused");
  CHECK(refused(__wasi_path_create_directory(PRE, "../outside/newdir")), "mkdir ../outside/newdir is refused");
  CHECK(refused(__wasi_path_create_directory(PRE, "link_dir/newdir")), "mkdir through a symlinked directory is refused");
  CHECK(refused(__wasi_path_unlink_file(PRE, "../outside/canary.txt")), "unlink ../outside/canary.txt is refused");
  CHECK(refused(__wasi_path_unlink_file(PRE, "link_dir/canary.txt")), "unlink through a symlinked directory is refused");
  CHECK(refused(__wasi_path_remove_directory(PRE, "../outside/dir")), "rmdir ../outside/dir is refused");

  /* Renames and hard links across the boundary. */
  CHECK(refused(__wasi_path_rename(PRE, "inside.txt", PRE, "../outside/moved.txt")), "rename inside.txt to ../outside/moved.txt is refused");
  CHECK(refused(__wasi_path_rename(PRE, "inside.txt", PRE, "link_dir/moved.txt")), "rename into a symlinked directory is refused");
  CHECK(refused(__wasi_path_rename(PRE, "../outside/canary.txt", PRE, "stolen.txt")), "rename ../outside/canary.txt in is refused");
  CHECK(refused(__wasi_path_rename(PRE, "link_dir/canary.txt", PRE, "stolen.txt")), "rename in through a symlinked directory is refused");
  CHECK(refused(__wasi_path_rename(PRE, "sub", PRE, "../outside/sub")), "rename a directory out is refused");
  CHECK(refused(__wasi_path_link(PRE, 0, "../outside/canary.txt", PRE, "hard.txt")), "hard link to ../outside/canary.txt is refused");
  CHECK(refused(__wasi_path_link(PRE, 0, "link_dir/canary.txt", PRE, "hard.txt")), "hard link through a symlinked directory is refused");
  CHECK(refused(__wasi_path_link(PRE, 0, "inside.txt", PRE, "../outside/hard.txt")), "hard link from inside to ../outside is refused");
  CHECK(refused(__wasi_path_link(PRE, 0, "inside.txt", PRE, "link_dir/hard.txt")), "hard link into a symlinked directory is refused");
  CHECK(refused(__wasi_path_symlink("inside.txt", PRE, "../outside/sym")), "a symlink placed in ../outside is refused");

  /* A symlink the guest makes itself that points out: making it may be
  ** allowed (it is only a string), following it is not. */
  __wasi_errno_t e = __wasi_path_symlink("../outside/canary.txt", PRE, "mine");
  CHECK(e != 0 || refused(try_open("mine", FOLLOW, 0, R_READ)), "a symlink the guest made to ../outside cannot be followed");
  if (e == 0) (void)!__wasi_path_unlink_file(PRE, "mine");

  /* Metadata. */
  __wasi_filestat_t st;
  CHECK(refused(__wasi_path_filestat_get(PRE, FOLLOW, "../outside/canary.txt", &st)), "stat ../outside/canary.txt is refused");
  CHECK(refused(__wasi_path_filestat_get(PRE, FOLLOW, "link_abs", &st)), "stat following link_abs is refused");
  CHECK(refused(__wasi_path_filestat_get(PRE, FOLLOW, "link_rel", &st)), "stat following link_rel is refused");
  CHECK(__wasi_path_filestat_get(PRE, 0, "link_rel", &st) == 0 && st.filetype == __WASI_FILETYPE_SYMBOLIC_LINK,
        "lstat of link_rel itself works");
  CHECK(refused(__wasi_path_filestat_set_times(PRE, 0, "../outside/canary.txt", 0, 0,
                                               __WASI_FSTFLAGS_MTIM_NOW)), "utimes ../outside/canary.txt is refused");
  CHECK(refused(__wasi_path_filestat_set_times(PRE, FOLLOW, "link_rel", 0, 0, __WASI_FSTFLAGS_MTIM_NOW)),
        "utimes following link_rel is refused");
  char buf[64];
  __wasi_size_t n;
  CHECK(refused(__wasi_path_readlink(PRE, "link_dir/x", (uint8_t *)buf, sizeof buf, &n)),
        "readlink through a symlinked directory is refused");

  /* Through libc, as programs do it. */
  errno = 0;
  CHECK(fopen("/sandbox/../outside/canary.txt", "r") == NULL && (errno == EPERM || errno == ENOTCAPABLE),
        "fopen(/sandbox/../outside/canary.txt) fails with EPERM or ENOTCAPABLE");
  CHECK(fopen("/sandbox/link_rel", "r") == NULL && (errno == EPERM || errno == ENOTCAPABLE),
        "fopen(/sandbox/link_rel) fails with EPERM or ENOTCAPABLE");
  CHECK(fopen("/etc/passwd", "r") == NULL, "fopen(/etc/passwd) fails");
  CHECK(fopen("/sandbox/link_new", "w") == NULL, "fopen(/sandbox/link_new, w) fails");

  /* What is inside is untouched too. */
  CHECK(try_open("inside.txt", FOLLOW, 0, R_READ) == 0, "inside.txt is still there");
  CHECK(leaks == 0, "no read returned the canary");
  return CHECK_DONE();
}
