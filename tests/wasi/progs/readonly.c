/* readonly.c: a read-only pre-open (/ro) refuses every change with EROFS,
** also across to a writable pre-open (/rw), and still reads. Writes through
** an fd opened for reading fail with EBADF or ENOTCAPABLE (no write right).
** The test script checks that /ro's host directory did not change. */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static int ro_fd = -1, rw_fd = -1;   /* the pre-opens, found by name */

static void find_preopens(void) {
  for (__wasi_fd_t fd = 3; fd < 16; fd++) {
    __wasi_prestat_t ps;
    char name[64];
    if (__wasi_fd_prestat_get(fd, &ps) != 0 || ps.u.dir.pr_name_len >= sizeof name) continue;
    if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, ps.u.dir.pr_name_len) != 0) continue;
    name[ps.u.dir.pr_name_len] = 0;
    if (strcmp(name, "/ro") == 0) ro_fd = (int)fd;
    if (strcmp(name, "/rw") == 0) rw_fd = (int)fd;
  }
}

#define ROFS(call) ((call) == __WASI_ERRNO_ROFS)

int main(void) {
  find_preopens();
  CHECK(ro_fd >= 0 && rw_fd >= 0, "pre-opens /ro and /rw found");
  __wasi_fd_t fd;
  const __wasi_rights_t rd = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_FILESTAT_GET;
  const __wasi_rights_t wr = __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK;

  /* Reading works. */
  char buf[64] = { 0 };
  int f = open("/ro/file.txt", O_RDONLY);
  CHECK(f >= 0 && read(f, buf, sizeof buf) == 9 && strcmp(buf, "readonly\n") == 0, "read /ro/file.txt");
  CHECK(write(f, "x", 1) == -1 && (errno == EBADF || errno == ENOTCAPABLE), "write to it: EBADF or ENOTCAPABLE");
  CHECK(ftruncate(f, 0) == -1 && (errno == EBADF || errno == ENOTCAPABLE || errno == EROFS || errno == EINVAL),
        "ftruncate of it fails");
  CHECK(__wasi_fd_filestat_set_size(f, 0) != 0, "fd_filestat_set_size fails");
  CHECK(__wasi_fd_filestat_set_times(f, 0, 0, __WASI_FSTFLAGS_MTIM_NOW) != 0, "fd_filestat_set_times fails");
  CHECK(__wasi_fd_allocate(f, 0, 4096) != 0, "fd_allocate fails");
  CHECK(__wasi_fd_pwrite(f, &(__wasi_ciovec_t){ (const uint8_t *)"x", 1 }, 1, 0, &(__wasi_size_t){ 0 }) != 0,
        "fd_pwrite fails");
  close(f);
  DIR *d = opendir("/ro/sub");
  int entries = 0;
  struct dirent *e;
  while (d && (e = readdir(d))) entries += e->d_name[0] != '.';
  if (d) closedir(d);
  CHECK(entries == 1, "list /ro/sub: one entry");
  struct stat st;
  CHECK(stat("/ro/sub/inner.txt", &st) == 0 && st.st_size == 6, "stat /ro/sub/inner.txt");

  /* Opening for a change. */
  CHECK(ROFS(__wasi_path_open(ro_fd, 0, "file.txt", 0, wr, 0, 0, &fd)), "open file.txt for writing: EROFS");
  CHECK(ROFS(__wasi_path_open(ro_fd, 0, "file.txt", __WASI_OFLAGS_TRUNC, rd, 0, 0, &fd)), "open with O_TRUNC: EROFS");
  CHECK(ROFS(__wasi_path_open(ro_fd, 0, "file.txt", 0, wr, 0, __WASI_FDFLAGS_APPEND, &fd)), "open for appending: EROFS");
  CHECK(ROFS(__wasi_path_open(ro_fd, 0, "new.txt", __WASI_OFLAGS_CREAT, wr, 0, 0, &fd)), "create new.txt: EROFS");
  CHECK(ROFS(__wasi_path_open(ro_fd, 0, "sub/new.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, rd, 0, 0, &fd)),
        "create sub/new.txt even read-only: EROFS");
  CHECK(open("/ro/file.txt", O_WRONLY) == -1 && errno == EROFS, "libc open(O_WRONLY): EROFS");
  CHECK(fopen("/ro/new.txt", "w") == NULL && errno == EROFS, "libc fopen(w): EROFS");

  /* Changes by path. */
  CHECK(ROFS(__wasi_path_create_directory(ro_fd, "newdir")), "mkdir: EROFS");
  CHECK(ROFS(__wasi_path_remove_directory(ro_fd, "empty")), "rmdir empty: EROFS");
  CHECK(ROFS(__wasi_path_unlink_file(ro_fd, "file.txt")), "unlink file.txt: EROFS");
  CHECK(ROFS(__wasi_path_symlink("file.txt", ro_fd, "link")), "symlink: EROFS");
  CHECK(ROFS(__wasi_path_rename(ro_fd, "file.txt", ro_fd, "renamed.txt")), "rename within /ro: EROFS");
  CHECK(ROFS(__wasi_path_link(ro_fd, 0, "file.txt", ro_fd, "hard.txt")), "hard link within /ro: EROFS");
  CHECK(ROFS(__wasi_path_filestat_set_times(ro_fd, 0, "file.txt", 0, 0, __WASI_FSTFLAGS_MTIM_NOW)),
        "path_filestat_set_times: EROFS");
  CHECK(ROFS(__wasi_path_filestat_set_times(ro_fd, 0, "sub", 0, 0, __WASI_FSTFLAGS_ATIM_NOW)),
        "set the times of a directory: EROFS");

  /* Across to the writable pre-open: the /ro side still cannot change, and
  ** a hard link must not give a writable name to a read-only file. */
  CHECK(ROFS(__wasi_path_rename(ro_fd, "file.txt", rw_fd, "moved.txt")), "rename /ro -> /rw: EROFS");
  CHECK(ROFS(__wasi_path_link(ro_fd, 0, "file.txt", rw_fd, "hard.txt")), "hard link /ro -> /rw: EROFS");
  f = open("/rw/w.txt", O_WRONLY | O_CREAT, 0644);
  CHECK(f >= 0 && write(f, "w", 1) == 1, "/rw is writable");
  close(f);
  CHECK(ROFS(__wasi_path_rename(rw_fd, "w.txt", ro_fd, "w.txt")), "rename /rw -> /ro: EROFS");
  CHECK(ROFS(__wasi_path_link(rw_fd, 0, "w.txt", ro_fd, "w.txt")), "hard link /rw -> /ro: EROFS");
  CHECK(ROFS(__wasi_path_symlink("../rw/w.txt", ro_fd, "w.txt")), "symlink in /ro: EROFS");
  CHECK(unlink("/rw/w.txt") == 0, "unlink /rw/w.txt");

  /* A directory opened beneath /ro is read-only too. */
  __wasi_fd_t sub;
  CHECK(__wasi_path_open(ro_fd, 0, "sub", __WASI_OFLAGS_DIRECTORY,
                         __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_CREATE_FILE |
                             __WASI_RIGHTS_PATH_UNLINK_FILE,
                         rd | wr, 0, &sub) == 0, "open /ro/sub as a directory");
  CHECK(ROFS(__wasi_path_open(sub, 0, "x.txt", __WASI_OFLAGS_CREAT, wr, 0, 0, &fd)), "create in it: EROFS");
  CHECK(ROFS(__wasi_path_unlink_file(sub, "inner.txt")), "unlink in it: EROFS");
  (void)!__wasi_fd_close(sub);
  return CHECK_DONE();
}
