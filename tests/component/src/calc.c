/* The calc world of wit/calc/calc.wit, written against the canonical ABI by
** hand (no wit-bindgen, no libc): a test input for `shoal inspect`/`call`. */
#include <stdint.h>
#include <stddef.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define API(f) "shoal:test/api@0.1.0#" f

void *memcpy(void *d, const void *s, size_t n) {
  unsigned char *dp = d; const unsigned char *sp = s;
  while (n--) *dp++ = *sp++;
  return d;
}
void *memset(void *d, int c, size_t n) {
  unsigned char *dp = d;
  while (n--) *dp++ = (unsigned char)c;
  return d;
}

/* Bump allocator over memory.grow; post-return functions reset nothing,
** the heap only grows (the test calls are few). */
extern unsigned char __heap_base;
static uintptr_t heap_top;

EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
  if (!heap_top) heap_top = (uintptr_t)&__heap_base;
  uintptr_t p = (heap_top + align - 1) & ~(uintptr_t)(align - 1);
  uintptr_t end = p + new_size;
  size_t have = __builtin_wasm_memory_size(0) * 65536u;
  if (end > have) {
    size_t pages = (end - have + 65535u) / 65536u;
    if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) __builtin_trap();
  }
  heap_top = end;
  if (old) memcpy((void *)p, old, old_size < new_size ? old_size : new_size);
  return (void *)p;
}

static size_t slen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

/* Results of more than one flat value go through this area. */
static union { struct { const char *ptr; size_t len; } str; unsigned char bytes[24]; int64_t i64[3]; double f64[2]; } ret;

static void *ret_str(const char *p, size_t n) { ret.str.ptr = p; ret.str.len = n; return &ret; }

EXPORT(API("add")) int32_t add(int32_t a, int32_t b) { return a + b; }

EXPORT(API("greet")) void *greet(const char *name, size_t n) {
  static const char hello[] = "Hello, ";
  char *out = cabi_realloc(0, 0, 1, sizeof hello - 1 + n + 1);
  memcpy(out, hello, sizeof hello - 1);
  memcpy(out + sizeof hello - 1, name, n);
  out[sizeof hello - 1 + n] = '!';
  return ret_str(out, sizeof hello - 1 + n + 1);
}
EXPORT("cabi_post_" API("greet")) void greet_post(void *p) { (void)p; }

EXPORT(API("sum")) int64_t sum(const uint32_t *xs, size_t n) {
  uint64_t s = 0;
  for (size_t i = 0; i < n; i++) s += xs[i];
  return (int64_t)s;
}

EXPORT(API("move-point")) void *move_point(int32_t x, int32_t y, int32_t dx, int32_t dy) {
  int32_t *r = (int32_t *)ret.bytes;
  r[0] = x + dx; r[1] = y + dy;
  return &ret;
}

EXPORT(API("color-name")) void *color_name(int32_t c) {
  static const char *names[] = {"red", "green", "blue"};
  const char *s = names[c];
  return ret_str(s, slen(s));
}

EXPORT(API("toggle")) int32_t toggle(int32_t p) { return p ^ 7; }

/* shape flattens to (discriminant, i32, i32): circle(r) | rect(x, y) | empty */
EXPORT(API("area")) int64_t area(int32_t disc, int32_t a, int32_t b) {
  switch (disc) {
  case 0: return (int64_t)3 * (uint32_t)a * (uint32_t)a;
  case 1: return (int64_t)a * b;
  default: return 0;
  }
}

static int eq(const char *a, size_t an, const char *b, size_t bn) {
  if (an != bn) return 0;
  for (size_t i = 0; i < an; i++) if (a[i] != b[i]) return 0;
  return 1;
}

struct str { const char *ptr; size_t len; };

/* option<u32>: byte discriminant at 0, payload at 4 */
EXPORT(API("find")) void *find(const struct str *xs, size_t n, const char *needle, size_t nn) {
  memset(&ret, 0, sizeof ret);
  for (size_t i = 0; i < n; i++)
    if (eq(xs[i].ptr, xs[i].len, needle, nn)) {
      ret.bytes[0] = 1;
      *(uint32_t *)(ret.bytes + 4) = (uint32_t)i;
      break;
    }
  return &ret;
}

/* result<s64, string>: byte discriminant at 0, payload at 8 */
EXPORT(API("parse")) void *parse(const char *s, size_t n) {
  static const char bad[] = "not a number";
  int64_t v = 0; size_t i = 0; int neg = 0;
  if (n && s[0] == '-') { neg = 1; i = 1; }
  int ok = i < n;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') { ok = 0; break; }
    v = v * 10 + (s[i] - '0');
  }
  memset(&ret, 0, sizeof ret);
  if (ok) { ret.i64[1] = neg ? -v : v; }
  else { ret.bytes[0] = 1; *(const char **)(ret.bytes + 8) = bad; *(size_t *)(ret.bytes + 12) = sizeof bad - 1; }
  return &ret;
}

EXPORT(API("minmax")) void *minmax(const double *xs, size_t n) {
  double lo = n ? xs[0] : 0, hi = lo;
  for (size_t i = 1; i < n; i++) { if (xs[i] < lo) lo = xs[i]; if (xs[i] > hi) hi = xs[i]; }
  ret.f64[0] = lo; ret.f64[1] = hi;
  return &ret;
}

EXPORT(API("is-upper")) int32_t is_upper(int32_t c) { return c >= 'A' && c <= 'Z'; }

EXPORT(API("mix")) double mix(int32_t a, int32_t b, int64_t c, float d) {
  return (double)(uint8_t)a + (double)(int16_t)b + (double)(uint64_t)c + (double)d;
}

EXPORT("version") void *version(void) { return ret_str("calc 1.0", 8); }
