/*
** Bounds-checked reader of the component binary: LEB128, names, bytes.
** Every read failure records what was being read and where.
*/
#ifndef SHOAL_CMP_READER_H
#define SHOAL_CMP_READER_H

#include "cmp.h"

typedef struct cmp_reader {
  const uint8_t *base; /* start of the whole binary: offsets are from here */
  size_t pos, end;
  shoal_diag_t *diag;
  bool failed;
} cmp_reader_t;

static inline int64_t cmp_rd_off(const cmp_reader_t *r) { return (int64_t)r->pos; }

/* Marks the reader failed with a malformed-binary message (first one kept). */
static inline bool cmp_rd_err(cmp_reader_t *r, const char *what) {
  if (!r->failed) {
    r->failed = true;
    cmp_fail(r->diag, SHOAL_ERR_MALFORMED, (int64_t)r->pos, "%s", what);
  }
  return false;
}

static inline bool cmp_rd_byte(cmp_reader_t *r, uint8_t *out, const char *what) {
  if (r->failed) return false;
  if (r->pos >= r->end) return cmp_rd_err(r, what);
  *out = r->base[r->pos++];
  return true;
}

static inline bool cmp_rd_peek(cmp_reader_t *r, uint8_t *out) {
  if (r->failed || r->pos >= r->end) return false;
  *out = r->base[r->pos];
  return true;
}

static inline bool cmp_rd_u32(cmp_reader_t *r, uint32_t *out, const char *what) {
  uint32_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    uint8_t b;
    if (!cmp_rd_byte(r, &b, what)) return false;
    if (shift == 28 && (b & 0x70)) return cmp_rd_err(r, "integer too large");
    v |= (uint32_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) { *out = v; return true; }
  }
  return cmp_rd_err(r, "integer representation too long");
}

/* A name: u32 length then UTF-8 bytes (checked). */
bool cmp_rd_name(cmp_reader_t *r, const char **name, uint32_t *len, const char *what);

#endif
