/* readdir.c: raw fd_readdir on a directory of 40 entries with buffers from
** 1 to 300 bytes: paging by cookie must yield every entry exactly once, an
** entry cut off at the end of the buffer fills it (bufused == buf_len), and
** names and types must match a listing with a large buffer. */
#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#define N 40

/* Lists fd with buffers of bufsize bytes into *sum (a checksum of the names
** and types) and *count; returns 0, -1 on an error, -2 if the buffer is too
** small for one entry. */
static int list(__wasi_fd_t fd, size_t bufsize, uint64_t *sum, int *count, int *bad_fill) {
  static uint8_t buf[65536 + 8];
  __wasi_dircookie_t cookie = 0;
  *sum = 0;
  *count = 0;
  for (int rounds = 0; rounds < 100000; rounds++) {
    __wasi_size_t used;
    memset(buf, 0xAA, bufsize + 8);
    if (__wasi_fd_readdir(fd, buf, bufsize, cookie, &used) != 0) return -1;
    if (used > bufsize) return -1;
    for (size_t i = bufsize; i < bufsize + 8; i++)
      if (buf[i] != 0xAA) return -1;   /* wrote past the buffer */
    size_t off = 0;
    int whole = 0;
    while (off + sizeof(__wasi_dirent_t) <= used) {
      __wasi_dirent_t d;
      memcpy(&d, buf + off, sizeof d);
      if (off + sizeof d + d.d_namlen > used) break;   /* cut off: read again from its cookie */
      const char *name = (const char *)buf + off + sizeof d;
      if (!(d.d_namlen == 1 && name[0] == '.') && !(d.d_namlen == 2 && name[0] == '.' && name[1] == '.')) {
        uint64_t h = 0;   /* order-independent: add a hash per entry */
        for (size_t k = 0; k < d.d_namlen; k++) h = h * 31 + (unsigned char)name[k];
        *sum += h * 7 + d.d_type;
        (*count)++;
      }
      cookie = d.d_next;
      off += sizeof d + d.d_namlen;
      whole++;
    }
    if (used < bufsize) return 0;            /* the end of the directory */
    if (whole == 0 && bufsize >= sizeof(__wasi_dirent_t) + 64) *bad_fill = 1;
    if (whole == 0 && bufsize < sizeof(__wasi_dirent_t) + 64) return -2;   /* too small to progress */
  }
  return -1;
}

int main(void) {
  char path[128];
  CHECK(mkdir("/sandbox/r", 0755) == 0, "mkdir /sandbox/r");
  for (int i = 0; i < N; i++) {
    snprintf(path, sizeof path, "/sandbox/r/%s-%d", i % 2 ? "file" : "a-much-longer-directory-name", i);
    if (i % 2) close(open(path, O_CREAT | O_WRONLY, 0644)); else mkdir(path, 0755);
  }
  int fd = open("/sandbox/r", O_RDONLY | O_DIRECTORY);
  CHECK(fd >= 0, "open the directory");
  int count, bad = 0;
  uint64_t want, got;
  CHECK(list((__wasi_fd_t)fd, 65536, &want, &count, &bad) == 0 && count == N,
        "a 64 KiB buffer lists all %d entries", N);
  int same = 1, progressed_small = 1;
  for (size_t size = 1; size <= 300; size++) {
    int c;
    int r = list((__wasi_fd_t)fd, size, &got, &c, &bad);
    if (r == -2 && size >= sizeof(__wasi_dirent_t) + 40) progressed_small = 0;
    if (r == -2) continue;   /* smaller than one entry: cannot progress, allowed */
    if (r != 0 || got != want || c != N) {
      same = 0;
      printf("buffer of %zu bytes: status %d, %d entries\n", size, r, c);
    }
  }
  CHECK(same && progressed_small, "buffers of 1..300 bytes list the same entries by cookie");
  CHECK(!bad, "a buffer with room for an entry is never returned empty");
  __wasi_size_t used;
  uint8_t small[8];
  CHECK(__wasi_fd_readdir((__wasi_fd_t)fd, small, 0, 0, &used) == 0 && used == 0, "a 0-byte buffer reads nothing");
  CHECK(__wasi_fd_readdir(1, small, sizeof small, 0, &used) != 0, "fd_readdir of stdout fails");
  close(fd);
  for (int i = 0; i < N; i++) {
    snprintf(path, sizeof path, "/sandbox/r/%s-%d", i % 2 ? "file" : "a-much-longer-directory-name", i);
    if (i % 2) unlink(path); else rmdir(path);
  }
  CHECK(rmdir("/sandbox/r") == 0, "clean up");
  return CHECK_DONE();
}
