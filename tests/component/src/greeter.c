/* A reactor with wasi-libc (malloc, snprintf, getenv in a constructor,
** stderr) exporting a custom world: shoal call links its WASI imports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
static char *counter_env;
__attribute__((constructor)) static void init(void) { counter_env = getenv("GREETING"); }
__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *p, size_t o, size_t a, size_t n) { (void)o; (void)a; return realloc(p, n); }
static struct { char *p; size_t n; } ret;
__attribute__((export_name("greet"))) void *greet(char *name, size_t len, uint32_t times) {
  size_t cap = 64 + times * (len + 2);
  char *out = malloc(cap);
  int k = snprintf(out, cap, "%s", counter_env ? counter_env : "Hello");
  for (uint32_t i = 0; i < times; i++) k += snprintf(out + k, cap - k, " %.*s", (int)len, name);
  fprintf(stderr, "greet called %u times\n", times);
  free(name);
  ret.p = out; ret.n = (size_t)k;
  return &ret;
}
__attribute__((export_name("cabi_post_greet"))) void post(void *p) { (void)p; free(ret.p); }
