/* environ.c: WASI environ_sizes_get/environ_get, and getenv. Prints the
** guest environment sorted, so the exact set can be compared. */
#include "check.h"

#include <stdlib.h>
#include <wasi/api.h>

extern char **environ;

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  size_t count = 0;
  while (environ[count]) count++;
  char **sorted = malloc((count + 1) * sizeof *sorted);
  memcpy(sorted, environ, count * sizeof *sorted);
  qsort(sorted, count, sizeof *sorted, cmp);
  printf("%zu variables\n", count);
  for (size_t i = 0; i < count; i++) printf("[%s]\n", sorted[i]);
  free(sorted);

  __wasi_size_t n, size;
  CHECK(__wasi_environ_sizes_get(&n, &size) == 0, "environ_sizes_get");
  CHECK(n == count, "environ_sizes_get count matches environ");
  size_t want = 0;
  for (size_t i = 0; i < count; i++) want += strlen(environ[i]) + 1;
  CHECK(size == want, "environ_sizes_get buffer size");
  char **ptrs = calloc(n + 1, sizeof *ptrs);
  char *buf = malloc(size + 1);
  buf[size] = 'X';
  CHECK(__wasi_environ_get((uint8_t **)ptrs, (uint8_t *)buf) == 0, "environ_get");
  int same = 1;
  for (__wasi_size_t i = 0; i < n; i++) same &= strcmp(ptrs[i], environ[i]) == 0;
  CHECK(same, "environ_get matches environ");
  CHECK(buf[size] == 'X', "environ_get writes nothing past the buffer size");
  free(ptrs);
  free(buf);

  /* argv[1..]: NAME=VALUE the variable must have, or NAME! it must not. */
  for (int i = 1; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (eq) {
      *eq = 0;
      const char *v = getenv(argv[i]);
      CHECK(v && strcmp(v, eq + 1) == 0, "getenv(%s) is [%s]", argv[i], eq + 1);
    } else {
      size_t len = strlen(argv[i]);
      if (len && argv[i][len - 1] == '!') argv[i][len - 1] = 0;
      CHECK(getenv(argv[i]) == NULL, "%s is not set", argv[i]);
    }
  }
  return CHECK_DONE();
}
