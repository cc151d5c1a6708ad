/*
** A WASI command (wasi-libc, jco new --wasi-command) importing
** shoal:link/math@0.1.0, for `shoal run --link link_provider.wasm`: adds and
** greets through the import, then exits with the argument count's status.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((import_module("shoal:link/math@0.1.0"), import_name("add")))
extern int32_t math_add(int32_t a, int32_t b);
__attribute__((import_module("shoal:link/math@0.1.0"), import_name("greet")))
extern void math_greet(const char *name, size_t len, void *ret);
__attribute__((import_module("shoal:link/math@0.1.0"), import_name("drops")))
extern int32_t math_drops(void);

/* The canonical ABI allocates the strings it returns with this. */
__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t size) {
  (void)old_size;
  (void)align;  /* malloc's alignment (16) covers every canonical ABI type */
  return realloc(old, size);
}

int main(int argc, char **argv) {
  int32_t total = 0;
  for (int i = 1; i < argc; i++) {
    struct { char *ptr; size_t len; } s;
    math_greet(argv[i], strlen(argv[i]), &s);
    total = math_add(total, (int32_t)strlen(argv[i]));
    printf("%.*s (%d bytes so far)\n", (int)s.len, s.ptr, (int)total);
    free(s.ptr);
  }
  printf("drops: %d\n", (int)math_drops());
  return argc > 3 ? 7 : 0;
}
