/* times.c: setting file times to "now" with the *_NOW flags, and the flag
** errors. Kept apart from dirs.c: node's WASI sets "now" as time 0, so these
** checks run on shoal only. The raw calls are used because Debian's
** wasi-libc (2022) cannot say "now": <sys/stat.h> defines UTIME_NOW as
** 0x3fffffff where the library expects -1, and a NULL times array is
** dereferenced. */
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

#define NEAR(t, t0) ((t) >= (t0) - 2 && (t) <= (t0) + 2)

int main(void) {
  struct stat st;
  int fd = open("/sandbox/t.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  CHECK(fd >= 0, "create /sandbox/t.txt");
  struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
  CHECK(futimens(fd, old) == 0, "set both times to 2001");
  time_t t0 = time(NULL);

  /* fd 3 is the pre-open /sandbox. */
  CHECK(__wasi_path_filestat_set_times(3, 0, "t.txt", 0, 0, __WASI_FSTFLAGS_MTIM_NOW) == 0 &&
        stat("/sandbox/t.txt", &st) == 0 && NEAR(st.st_mtim.tv_sec, t0) && st.st_atim.tv_sec == 1000000000 &&
        st.st_atim.tv_nsec == 0,
        "path_filestat_set_times MTIM_NOW changes only mtime");
  CHECK(futimens(fd, old) == 0, "back to 2001");
  CHECK(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM_NOW) == 0 &&
        fstat(fd, &st) == 0 && NEAR(st.st_atim.tv_sec, t0) && NEAR(st.st_mtim.tv_sec, t0),
        "fd_filestat_set_times ATIM_NOW | MTIM_NOW");
  CHECK(__wasi_path_filestat_set_times(3, 0, "t.txt", 7000000000ull, 8000000000ull,
                                       __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM) == 0 &&
        stat("/sandbox/t.txt", &st) == 0 && st.st_atim.tv_sec == 7 && st.st_mtim.tv_sec == 8,
        "path_filestat_set_times ATIM | MTIM");
  CHECK(__wasi_path_filestat_set_times(3, 0, "t.txt", 0, 0, __WASI_FSTFLAGS_ATIM_NOW) == 0 &&
        stat("/sandbox/t.txt", &st) == 0 && NEAR(st.st_atim.tv_sec, t0) && st.st_mtim.tv_sec == 8,
        "path_filestat_set_times ATIM_NOW changes only atime");
  CHECK(__wasi_fd_filestat_set_times(fd, 5000000000ull, 0, __WASI_FSTFLAGS_ATIM) == 0 &&
        fstat(fd, &st) == 0 && st.st_atim.tv_sec == 5 && st.st_mtim.tv_sec == 8,
        "fd_filestat_set_times ATIM changes only atime");
  CHECK(__wasi_fd_filestat_set_times(fd, 5, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW) ==
        __WASI_ERRNO_INVAL, "ATIM with ATIM_NOW is EINVAL");
  CHECK(__wasi_path_filestat_set_times(3, 0, "t.txt", 0, 5, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW) ==
        __WASI_ERRNO_INVAL, "MTIM with MTIM_NOW is EINVAL");
  CHECK(__wasi_fd_filestat_set_times(fd, 0, 0, 1 << 4) == __WASI_ERRNO_INVAL, "an unknown flag is EINVAL");
  close(fd);
  unlink("/sandbox/t.txt");
  return CHECK_DONE();
}
