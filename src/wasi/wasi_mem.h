/*
** wasi_mem.h: bounds-checked access to the caller's linear memory. Every
** guest pointer goes through these; a range past the end is EFAULT.
*/
#ifndef SHOAL_WASI_MEM_H
#define SHOAL_WASI_MEM_H

#include <string.h>

#include "wasi_int.h"

/* Host pointer to guest range [ptr, ptr+len), or NULL if any of it is
** outside memory. Computed in 64 bits: ptr and len are 32-bit so the sum
** cannot overflow. */
static inline uint8_t *wasi_mem(const wasi_call_t *c, uint32_t ptr, uint64_t len) {
  if ((uint64_t)ptr + len > c->memlen || !c->mem) return NULL;
  return c->mem + ptr;
}

/* Range of n elements of `size` bytes each; overflow-safe. */
static inline uint8_t *wasi_mem_array(const wasi_call_t *c, uint32_t ptr, uint32_t n,
                                      uint32_t size) {
  return wasi_mem(c, ptr, (uint64_t)n * size);
}

/* Little-endian loads and stores at host pointers already checked. */
static inline uint16_t wasi_ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t wasi_ld32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t wasi_ld64(const uint8_t *p) {
  return (uint64_t)wasi_ld32(p) | (uint64_t)wasi_ld32(p + 4) << 32;
}
static inline void wasi_st8(uint8_t *p, uint8_t v) { p[0] = v; }
static inline void wasi_st16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void wasi_st32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void wasi_st64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Checked scalar stores to guest memory: false if out of range. */
static inline bool wasi_put32(const wasi_call_t *c, uint32_t ptr, uint32_t v) {
  uint8_t *p = wasi_mem(c, ptr, 4);
  if (!p) return false;
  wasi_st32(p, v);
  return true;
}
static inline bool wasi_put64(const wasi_call_t *c, uint32_t ptr, uint64_t v) {
  uint8_t *p = wasi_mem(c, ptr, 8);
  if (!p) return false;
  wasi_st64(p, v);
  return true;
}

/* A guest iovec array turned into host iovecs (checked). At most
** WASI_IOV_MAX entries; more is EINVAL as for readv(2). */
#define WASI_IOV_MAX 1024
struct iovec;
uint32_t wasi_iovecs(const wasi_call_t *c, uint32_t iovs, uint32_t n, struct iovec *out);

/* Copies a guest path into a NUL-terminated host string (malloc'ed).
** EFAULT out of range, EILSEQ for an embedded NUL or invalid UTF-8,
** ENOMEM. */
uint32_t wasi_path_copy(const wasi_call_t *c, uint32_t ptr, uint32_t len, char **out);

#endif
