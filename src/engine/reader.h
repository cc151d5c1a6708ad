/*
** reader.h: a bounds-checked cursor over module bytes, with LEB128 reads
** that reject overlong and overflowing encodings. Internal to the engine.
*/
#ifndef ENG_READER_H
#define ENG_READER_H

#include <string.h>
#include "error.h"

typedef struct eng_reader {
  const uint8_t *base;   /* start of the whole binary: offsets are relative to it */
  const uint8_t *p, *end;
  shoal_diag_t *diag;
} eng_reader;

static inline int64_t eng_rd_offset(const eng_reader *r) { return (int64_t)(r->p - r->base); }
static inline bool eng_rd_eof(const eng_reader *r) { return r->p >= r->end; }

#define ENG_RD_ERR(r, code, ...) ENG_ERR((r)->diag, (code), eng_rd_offset(r), __VA_ARGS__)

static inline shoal_err_t eng_rd_u8(eng_reader *r, uint8_t *out) {
  *out = 0;
  if (eng_unlikely(r->p >= r->end))
    return ENG_RD_ERR(r, SHOAL_ERR_MALFORMED, "unexpected end");
  *out = *r->p++;
  return SHOAL_ERR_OK;
}

static inline shoal_err_t eng_rd_bytes(eng_reader *r, size_t n, const uint8_t **out) {
  *out = NULL;
  if (eng_unlikely((size_t)(r->end - r->p) < n))
    return ENG_RD_ERR(r, SHOAL_ERR_MALFORMED, "unexpected end");
  *out = r->p;
  r->p += n;
  return SHOAL_ERR_OK;
}

/* Unsigned LEB128 of at most `bits` bits. */
static inline shoal_err_t eng_rd_uleb(eng_reader *r, unsigned bits, uint64_t *out) {
  uint64_t v = 0;
  *out = 0;
  unsigned shift = 0;
  const unsigned maxbytes = (bits + 6) / 7;
  for (unsigned i = 0;; i++) {
    if (eng_unlikely(r->p >= r->end))
      return ENG_RD_ERR(r, SHOAL_ERR_MALFORMED, "unexpected end of LEB128 integer");
    uint8_t b = *r->p++;
    if (i == maxbytes - 1) {
      /* last byte: no continuation, unused high bits must be zero */
      unsigned used = bits - shift;
      if (b & 0x80)
        return ENG_RD_ERR(r, SHOAL_ERR_MALFORMED, "integer representation too long");
      if (used < 7 && (b >> used) != 0)
        return ENG_RD_ERR(r, SHOAL_ERR_MALFORMED, "integer too large");
      v |= (uint64_t)b << shift;
      break;
    }
    v |= (uint64_t)(b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  *out = v;
  return SHOAL_ERR_OK;
}

/* Signed LEB128 of at most `bits` bits. */
static inline shoal_err_t eng_rd_sleb(eng_reader *r, unsigned bits, int64_t *out) {
  uint64_t v = 0;
  *out = 0;
  unsigned shift = 0;
  const unsigned maxbytes = (bits + 6) / 7;
  uint8_t b;
  for (unsigned i = 0;; i++) {
    if (eng_unlikely(r->p >= r->end))
      return ENG_RD_ERR(r, SHOAL_ERR_MALFORMED, "unexpected end of LEB128 integer");
    b = *r->p++;
    if (i == maxbytes - 1) {
      if (b & 0x80)
        return ENG_RD_ERR(r, SHOAL_ERR_MALFORMED, "integer representation too long");
      /* The unused high bits must all equal the sign bit. */
      unsigned used = bits - shift;          /* 1..7 */
      if (used < 7) {
        int8_t sb = (int8_t)(b << 1) >> 1;   /* sign-extend 7-bit payload */
        int8_t top = (int8_t)(sb >> (used - 1));
        if (top != 0 && top != -1)
          return ENG_RD_ERR(r, SHOAL_ERR_MALFORMED, "integer too large");
      }
      v |= (uint64_t)(b & 0x7f) << shift;
      shift += 7;
      break;
    }
    v |= (uint64_t)(b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  if (shift < 64 && (b & 0x40)) v |= ~(uint64_t)0 << shift;
  *out = (int64_t)v;
  return SHOAL_ERR_OK;
}

static inline shoal_err_t eng_rd_u32(eng_reader *r, uint32_t *out) {
  uint64_t v = 0;
  shoal_err_t e = eng_rd_uleb(r, 32, &v);
  *out = (uint32_t)v;
  return e;
}

static inline shoal_err_t eng_rd_s32(eng_reader *r, int32_t *out) {
  int64_t v = 0;
  shoal_err_t e = eng_rd_sleb(r, 32, &v);
  *out = (int32_t)v;
  return e;
}

static inline shoal_err_t eng_rd_s64(eng_reader *r, int64_t *out) {
  return eng_rd_sleb(r, 64, out);
}

/* Signed 33-bit LEB (block types). */
static inline shoal_err_t eng_rd_s33(eng_reader *r, int64_t *out) {
  return eng_rd_sleb(r, 33, out);
}

static inline shoal_err_t eng_rd_f32(eng_reader *r, uint32_t *out) {
  const uint8_t *b;
  shoal_err_t e = eng_rd_bytes(r, 4, &b);
  if (e) return e;
  memcpy(out, b, 4);   /* the engine targets little-endian hosts */
  return SHOAL_ERR_OK;
}

static inline shoal_err_t eng_rd_f64(eng_reader *r, uint64_t *out) {
  const uint8_t *b;
  shoal_err_t e = eng_rd_bytes(r, 8, &b);
  if (e) return e;
  memcpy(out, b, 8);
  return SHOAL_ERR_OK;
}

#endif
