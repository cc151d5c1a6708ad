/* race.c: opens and reads "flip" and "flipdir/canary.txt" beneath the
** pre-open /sandbox (fd 3) over and over while the host swaps those
** symlinks between a target inside and one outside. Every open must either
** stay inside or be refused; reading the outside canary is a leak.
**   race SECONDS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static __wasi_timestamp_t now(void) {
  __wasi_timestamp_t t = 0;
  if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t) != 0) return 0;
  return t;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 1.0;
  __wasi_timestamp_t end = now() + (__wasi_timestamp_t)(secs * 1e9);
  const char *paths[] = { "flip", "flipdir/canary.txt" };
  unsigned long inside = 0, refused = 0, other = 0, leaks = 0;
  for (unsigned long i = 0; now() < end; i++) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, paths[i % 2], 0,
                                        __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    if (e == __WASI_ERRNO_PERM || e == __WASI_ERRNO_NOTCAPABLE) {
      refused++;
      continue;
    }
    if (e != 0) {   /* ENOENT while the host swaps the link */
      other++;
      continue;
    }
    char buf[64] = { 0 };
    __wasi_iovec_t iov = { (uint8_t *)buf, sizeof buf - 1 };
    __wasi_size_t n;
    if (__wasi_fd_read(fd, &iov, 1, &n) == 0) {
      if (strstr(buf, "CANARY")) leaks++; else inside++;
    }
    (void)!__wasi_fd_close(fd);
  }
  printf("%lu opened inside, %lu refused, %lu other errors, %lu leaks\n", inside, refused, other, leaks);
  return leaks ? 1 : 0;
}
