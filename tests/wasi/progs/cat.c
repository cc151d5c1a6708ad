/* cat.c: copies stdin to stdout in odd-sized reads and writes, through the
** raw fd_read/fd_write (partial writes retried), then reports the byte
** count on stderr if argv[1] is "-v". */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

int main(int argc, char **argv) {
  static unsigned char buf[70000];
  size_t total = 0, chunk = 1;
  for (;;) {
    __wasi_iovec_t iov[2] = { { buf, chunk }, { buf + chunk, chunk / 3 + 1 } };
    __wasi_size_t n;
    if (__wasi_fd_read(0, iov, 2, &n) != 0) return 1;
    if (n == 0) break;
    for (size_t done = 0; done < n;) {
      __wasi_ciovec_t out = { buf + done, n - done };
      __wasi_size_t w;
      if (__wasi_fd_write(1, &out, 1, &w) != 0 || w == 0) return 2;
      done += w;
    }
    total += n;
    chunk = chunk * 7 % 65521 + 1;   /* 1, 8, 57, 400, ... */
  }
  if (argc > 1 && strcmp(argv[1], "-v") == 0) fprintf(stderr, "%zu bytes\n", total);
  return 0;
}
