/* args.c: WASI args_sizes_get/args_get, through main's argv and directly. */
#include "check.h"

#include <stdlib.h>
#include <wasi/api.h>

int main(int argc, char **argv) {
  /* argv[0] names the module; runtimes differ in how, so print the rest. */
  printf("argc %d\n", argc);
  for (int i = 1; i < argc; i++) printf("argv[%d] = [%s] (%zu bytes)\n", i, argv[i], strlen(argv[i]));
  CHECK(argv[argc] == NULL, "argv is NULL-terminated");

  __wasi_size_t n, size;
  CHECK(__wasi_args_sizes_get(&n, &size) == 0, "args_sizes_get");
  CHECK(n == (__wasi_size_t)argc, "args_sizes_get count matches argc");
  size_t want = 0;
  for (int i = 0; i < argc; i++) want += strlen(argv[i]) + 1;
  CHECK(size == want, "args_sizes_get buffer size is the sum of the NUL-terminated args");

  char **ptrs = calloc(n + 1, sizeof *ptrs);
  char *buf = malloc(size + 1);
  buf[size] = 'X';   /* must stay untouched */
  CHECK(__wasi_args_get((uint8_t **)ptrs, (uint8_t *)buf) == 0, "args_get");
  int same = 1;
  for (__wasi_size_t i = 0; i < n; i++) {
    same &= ptrs[i] >= buf && ptrs[i] < buf + size && strcmp(ptrs[i], argv[i]) == 0;
  }
  CHECK(same, "args_get pointers lie in the buffer and match argv");
  CHECK(buf[size] == 'X', "args_get writes nothing past the buffer size");
  free(ptrs);
  free(buf);
  return CHECK_DONE();
}
