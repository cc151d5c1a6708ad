/*
** Strings across the canonical ABI: loading from utf8 / utf16 /
** latin1+utf16 memory into host UTF-8, and storing host UTF-8 into each
** encoding with the realloc sequence of CanonicalABI.md "store_string".
*/
#include "cmp_rt.h"
#include <stdlib.h>
#include <string.h>

/* Next code point of well-formed UTF-8 at s[*i]. */
static uint32_t utf8_next(const uint8_t *s, size_t *i) {
  uint32_t c = s[*i];
  if (c < 0x80) { (*i)++; return c; }
  size_t k = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
  c &= 0x3f >> k;
  for (size_t j = 1; j <= k; j++) c = (c << 6) | (s[*i + j] & 0x3f);
  *i += k + 1;
  return c;
}

static size_t utf8_put(uint8_t *o, uint32_t c) {
  if (c < 0x80) { o[0] = (uint8_t)c; return 1; }
  if (c < 0x800) { o[0] = (uint8_t)(0xc0 | c >> 6); o[1] = (uint8_t)(0x80 | (c & 0x3f)); return 2; }
  if (c < 0x10000) {
    o[0] = (uint8_t)(0xe0 | c >> 12); o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f)); o[2] = (uint8_t)(0x80 | (c & 0x3f));
    return 3;
  }
  o[0] = (uint8_t)(0xf0 | c >> 18); o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
  o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3f)); o[3] = (uint8_t)(0x80 | (c & 0x3f));
  return 4;
}

shoal_err_t cmp_load_string(cmp_cx_t *cx, uint32_t ptr, uint32_t tagged, shoal_cval_t *out) {
  int enc = cx->encoding;
  uint64_t bytes;
  uint32_t align = 1;
  bool utf16 = false;
  if (enc == CMP_ENC_UTF8) bytes = tagged;
  else if (enc == CMP_ENC_UTF16) { bytes = 2ull * tagged; align = 2; utf16 = true; }
  else if (tagged & CMP_UTF16_TAG) { bytes = 2ull * (tagged ^ CMP_UTF16_TAG); align = 2; utf16 = true; }
  else { bytes = tagged; align = 2; }
  if (bytes > CMP_MAX_STRING_BYTES) return cmp_trap(cx, "string of %llu bytes is too long", (unsigned long long)bytes);
  shoal_err_t e = cmp_mem_check(cx, ptr, bytes, align, "string");
  if (e) return e;
  const uint8_t *p = cmp_mem_at(cx, ptr);
  /* utf8 copies as is; utf16 grows at most 3/2; latin1 at most 2x */
  size_t cap = enc == CMP_ENC_UTF8 ? bytes : utf16 ? bytes / 2 * 3 : bytes * 2;
  uint8_t *s = malloc(cap + 1);
  if (!s) return cmp_fail(cx->diag, SHOAL_ERR_NOMEM, -1, "out of host memory");
  size_t n = 0;
  if (enc == CMP_ENC_UTF8) {
    if (!cmp_utf8_valid(p, bytes)) { free(s); return cmp_trap(cx, "string is not valid UTF-8"); }
    memcpy(s, p, bytes);
    n = bytes;
  } else if (utf16) {
    size_t units = bytes / 2;
    for (size_t i = 0; i < units; i++) {
      uint32_t c = (uint32_t)(p[2 * i] | p[2 * i + 1] << 8);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < units) {
        uint32_t d = (uint32_t)(p[2 * i + 2] | p[2 * i + 3] << 8);
        if (d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
      }
      if (c >= 0xd800 && c <= 0xdfff) { free(s); return cmp_trap(cx, "string has an unpaired UTF-16 surrogate"); }
      n += utf8_put(s + n, c);
    }
  } else {
    for (size_t i = 0; i < bytes; i++) n += utf8_put(s + n, p[i]);
  }
  s[n] = 0;
  out->kind = SHOAL_CT_STRING;
  out->of.str.ptr = (char *)s;
  out->of.str.len = n;
  return SHOAL_ERR_OK;
}

/* Host strings are UTF-8 with src_code_units = byte length. */
shoal_err_t cmp_store_string(cmp_cx_t *cx, const char *str, size_t len, uint32_t *ptr_out, uint32_t *units_out) {
  const uint8_t *src = (const uint8_t *)str;
  shoal_err_t e;
  uint32_t ptr;
  if (len > CMP_MAX_STRING_BYTES) return cmp_trap(cx, "string too long");
  uint32_t units = (uint32_t)len;
  switch (cx->encoding) {
  case CMP_ENC_UTF8:
    if ((e = cmp_realloc(cx, 0, 0, 1, units, &ptr))) return e;
    if (len) memcpy(cmp_mem_at(cx, ptr), src, len);
    *ptr_out = ptr;
    *units_out = units;
    return SHOAL_ERR_OK;
  case CMP_ENC_UTF16: {
    uint32_t worst = 2 * units;
    if ((e = cmp_realloc(cx, 0, 0, 2, worst, &ptr))) return e;
    size_t i = 0;
    uint32_t n = 0;
    while (i < len) {
      uint32_t c = utf8_next(src, &i);
      uint8_t *o = cmp_mem_at(cx, ptr);
      if (c >= 0x10000) {
        c -= 0x10000;
        uint16_t hi = (uint16_t)(0xd800 | c >> 10), lo = (uint16_t)(0xdc00 | (c & 0x3ff));
        memcpy(o + 2 * n, &hi, 2);
        memcpy(o + 2 * n + 2, &lo, 2);
        n += 2;
      } else {
        uint16_t u = (uint16_t)c;
        memcpy(o + 2 * n, &u, 2);
        n++;
      }
    }
    if (2 * n < worst && (e = cmp_realloc(cx, ptr, worst, 2, 2 * n, &ptr))) return e;
    *ptr_out = ptr;
    *units_out = n;
    return SHOAL_ERR_OK;
  }
  default: { /* latin1+utf16, from utf8: store_string_to_latin1_or_utf16 */
    if ((e = cmp_realloc(cx, 0, 0, 2, units, &ptr))) return e;
    size_t i = 0;
    uint32_t n = 0;
    while (i < len) {
      size_t at = i;
      uint32_t c = utf8_next(src, &i);
      if (c < 256) { cmp_mem_at(cx, ptr)[n++] = (uint8_t)c; continue; }
      uint32_t worst = 2 * units;
      if ((e = cmp_realloc(cx, ptr, units, 2, worst, &ptr))) return e;
      uint8_t *o = cmp_mem_at(cx, ptr);
      for (uint32_t j = n; j-- > 0;) { o[2 * j] = o[j]; o[2 * j + 1] = 0; }
      i = at;
      while (i < len) {
        uint32_t d = utf8_next(src, &i);
        if (d >= 0x10000) {
          d -= 0x10000;
          uint16_t hi = (uint16_t)(0xd800 | d >> 10), lo = (uint16_t)(0xdc00 | (d & 0x3ff));
          memcpy(o + 2 * n, &hi, 2);
          memcpy(o + 2 * n + 2, &lo, 2);
          n += 2;
        } else {
          uint16_t u = (uint16_t)d;
          memcpy(o + 2 * n, &u, 2);
          n++;
        }
      }
      if (2 * n < worst && (e = cmp_realloc(cx, ptr, worst, 2, 2 * n, &ptr))) return e;
      *ptr_out = ptr;
      *units_out = n | CMP_UTF16_TAG;
      return SHOAL_ERR_OK;
    }
    if (n < units && (e = cmp_realloc(cx, ptr, units, 2, n, &ptr))) return e;
    *ptr_out = ptr;
    *units_out = n;
    return SHOAL_ERR_OK;
  }
  }
}
