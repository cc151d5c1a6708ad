/* grow.c: grows memory one page at a time until memory.grow fails (or
** argv[1] pages are reached) and prints where that happened; then checks
** that malloc fails cleanly too. For --max-memory. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  size_t limit = argc > 1 ? strtoul(argv[1], NULL, 10) : 65536;
  size_t pages = __builtin_wasm_memory_size(0);
  while (pages < limit) {
    size_t old = __builtin_wasm_memory_grow(0, 1);
    if (old == (size_t)-1) {
      printf("memory.grow(1) failed at %zu pages (%zu bytes)\n", pages, pages * 65536);
      break;
    }
    if (old != pages) {
      printf("FAIL: memory.grow returned %zu, expected %zu\n", old, pages);
      return 1;
    }
    pages++;
  }
  if (pages >= limit) printf("grew to %zu pages without failing\n", pages);
  printf("memory.size is %zu pages\n", (size_t)__builtin_wasm_memory_size(0));
  printf("memory.grow(0) returns %zu\n", (size_t)__builtin_wasm_memory_grow(0, 0));
  /* The pages are usable to the last byte. */
  volatile unsigned char *last = (unsigned char *)(pages * 65536 - 1);
  *last = 42;
  printf("last byte holds %d\n", *last);
  /* volatile: otherwise the compiler may drop a malloc whose block is unused. */
  unsigned char *volatile p = malloc(64u << 20);
  if (p) p[(64u << 20) - 1] = 1;
  printf("malloc(64 MiB) %s\n", p ? "succeeded" : "returned NULL");
  free(p);
  return 0;
}
