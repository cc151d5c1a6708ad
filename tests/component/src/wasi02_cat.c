/* A WASI command that copies stdin to stdout in chunks of argv[1] bytes
** (read(2)/write(2), no stdio buffering) and reports the total on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  size_t chunk = argc > 1 ? (size_t)atoi(argv[1]) : 4096;
  if (chunk == 0 || chunk > (1u << 20)) return 2;
  char *buf = malloc(chunk);
  long long total = 0, reads = 0;
  for (;;) {
    ssize_t n = read(0, buf, chunk);
    if (n < 0) {
      perror("read");
      return 1;
    }
    if (n == 0) break;
    reads++;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(1, buf + off, (size_t)(n - off));
      if (w <= 0) {
        perror("write");
        return 1;
      }
      off += w;
    }
    total += n;
  }
  fprintf(stderr, "copied %lld bytes\n", total);
  free(buf);
  return reads > 0 ? 0 : 3;
}
