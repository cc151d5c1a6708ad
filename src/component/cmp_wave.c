/*
** WAVE (WebAssembly Value Encoding, shared/specs/wave.md): parsing values
** of a given component type from text, and printing them back.
*/
#include "cmp_rt.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct wp {
  const char *s;
  size_t pos, len;
  shoal_diag_t *diag;
  bool failed;
} wp_t;

static bool werr(wp_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool werr(wp_t *p, const char *fmt, ...) {
  if (p->failed) return false;
  p->failed = true;
  if (p->diag) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cmp_fail(p->diag, SHOAL_ERR_ARG, (int64_t)p->pos, "WAVE at offset %zu: %s", p->pos, msg);
  }
  return false;
}

static void skip_ws(wp_t *p) {
  for (;;) {
    while (p->pos < p->len && isspace((unsigned char)p->s[p->pos])) p->pos++;
    if (p->pos + 1 < p->len && p->s[p->pos] == '/' && p->s[p->pos + 1] == '/') {
      while (p->pos < p->len && p->s[p->pos] != '\n') p->pos++;
      continue;
    }
    return;
  }
}

static bool peek_is(wp_t *p, char c) {
  skip_ws(p);
  return p->pos < p->len && p->s[p->pos] == c;
}

static bool expect(wp_t *p, char c) {
  if (!peek_is(p, c)) return werr(p, "expected `%c`", c);
  p->pos++;
  return true;
}

static bool is_label_char(char c) { return isalnum((unsigned char)c) || c == '-'; }

/* A label or keyword; *pct says whether it was written with `%`. */
static bool read_label(wp_t *p, const char **l, size_t *n, bool *pct) {
  skip_ws(p);
  *pct = false;
  if (p->pos < p->len && p->s[p->pos] == '%') { *pct = true; p->pos++; }
  size_t start = p->pos;
  while (p->pos < p->len && is_label_char(p->s[p->pos])) p->pos++;
  if (p->pos == start) return werr(p, "expected a label");
  *l = p->s + start;
  *n = p->pos - start;
  return true;
}

static bool label_is(const char *l, size_t n, const char *kw) { return n == strlen(kw) && memcmp(l, kw, n) == 0; }

static int find_label(const cmp_type_t *t, const char *l, size_t n) {
  for (uint32_t i = 0; i < t->n; i++)
    if (t->fields[i].name_len == n && memcmp(t->fields[i].name, l, n) == 0) return (int)i;
  return -1;
}

static bool parse_value(wp_t *p, const cmp_type_t *t, shoal_cval_t *out, int depth);

static bool parse_number_token(wp_t *p, char *buf, size_t cap) {
  skip_ws(p);
  size_t start = p->pos;
  if (p->pos < p->len && (p->s[p->pos] == '-' || p->s[p->pos] == '+')) p->pos++;
  while (p->pos < p->len && (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '.' ||
                             ((p->s[p->pos] == '-' || p->s[p->pos] == '+') && (p->s[p->pos - 1] == 'e' || p->s[p->pos - 1] == 'E'))))
    p->pos++;
  size_t n = p->pos - start;
  if (n == 0 || n >= cap) return werr(p, "expected a number");
  memcpy(buf, p->s + start, n);
  buf[n] = 0;
  return true;
}

static bool parse_int(wp_t *p, const cmp_type_t *t, shoal_cval_t *out) {
  char buf[64];
  size_t at = p->pos;
  if (!parse_number_token(p, buf, sizeof buf)) return false;
  const char *d = buf[0] == '-' ? buf + 1 : buf;
  for (const char *c = d; *c; c++)
    if (!isdigit((unsigned char)*c)) { p->pos = at; return werr(p, "invalid integer `%s`", buf); }
  if (!*d || buf[0] == '+') { p->pos = at; return werr(p, "invalid integer `%s`", buf); }
  errno = 0;
  bool is_signed = t->kind == SHOAL_CT_S8 || t->kind == SHOAL_CT_S16 || t->kind == SHOAL_CT_S32 || t->kind == SHOAL_CT_S64;
  static const int bits[] = {[SHOAL_CT_S8] = 8, [SHOAL_CT_U8] = 8, [SHOAL_CT_S16] = 16, [SHOAL_CT_U16] = 16,
                             [SHOAL_CT_S32] = 32, [SHOAL_CT_U32] = 32, [SHOAL_CT_S64] = 64, [SHOAL_CT_U64] = 64};
  int b = bits[t->kind];
  if (is_signed) {
    long long v = strtoll(buf, NULL, 10);
    long long lo = b == 64 ? INT64_MIN : -(1ll << (b - 1)), hi = b == 64 ? INT64_MAX : (1ll << (b - 1)) - 1;
    if (errno || v < lo || v > hi) { p->pos = at; return werr(p, "integer `%s` out of range", buf); }
    out->of.s = v;
  } else {
    if (buf[0] == '-') { p->pos = at; return werr(p, "integer `%s` out of range", buf); }
    unsigned long long v = strtoull(buf, NULL, 10);
    if (errno || (b < 64 && v >= (1ull << b))) { p->pos = at; return werr(p, "integer `%s` out of range", buf); }
    out->of.u = v;
  }
  return true;
}

static bool parse_float(wp_t *p, const cmp_type_t *t, shoal_cval_t *out) {
  char buf[128];
  size_t at = p->pos;
  if (!parse_number_token(p, buf, sizeof buf)) return false;
  double v;
  if (strcmp(buf, "nan") == 0) v = NAN;
  else if (strcmp(buf, "inf") == 0) v = INFINITY;
  else if (strcmp(buf, "-inf") == 0) v = -INFINITY;
  else {
    /* JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    const char *c = buf;
    if (*c == '-') c++;
    if (!isdigit((unsigned char)*c)) { p->pos = at; return werr(p, "invalid number `%s`", buf); }
    if (*c == '0' && isdigit((unsigned char)c[1])) { p->pos = at; return werr(p, "invalid number `%s`", buf); }
    while (isdigit((unsigned char)*c)) c++;
    if (*c == '.') { c++; if (!isdigit((unsigned char)*c)) { p->pos = at; return werr(p, "invalid number `%s`", buf); } while (isdigit((unsigned char)*c)) c++; }
    if (*c == 'e' || *c == 'E') {
      c++;
      if (*c == '+' || *c == '-') c++;
      if (!isdigit((unsigned char)*c)) { p->pos = at; return werr(p, "invalid number `%s`", buf); }
      while (isdigit((unsigned char)*c)) c++;
    }
    if (*c) { p->pos = at; return werr(p, "invalid number `%s`", buf); }
    v = strtod(buf, NULL);
    if (isinf(v)) { p->pos = at; return werr(p, "number `%s` out of range", buf); }
  }
  if (t->kind == SHOAL_CT_F32) {
    float f = (float)v;
    if (isinf(f) && !isinf(v)) { p->pos = at; return werr(p, "number `%s` out of range for f32", buf); }
    out->of.f32 = f;
  } else {
    out->of.f64 = v;
  }
  return true;
}

static bool utf8_encode(char *o, uint32_t c, size_t *n) {
  uint8_t *u = (uint8_t *)o;
  if (c < 0x80) { u[0] = (uint8_t)c; *n = 1; }
  else if (c < 0x800) { u[0] = (uint8_t)(0xc0 | c >> 6); u[1] = (uint8_t)(0x80 | (c & 0x3f)); *n = 2; }
  else if (c < 0x10000) { u[0] = (uint8_t)(0xe0 | c >> 12); u[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f)); u[2] = (uint8_t)(0x80 | (c & 0x3f)); *n = 3; }
  else { u[0] = (uint8_t)(0xf0 | c >> 18); u[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3f)); u[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3f)); u[3] = (uint8_t)(0x80 | (c & 0x3f)); *n = 4; }
  return true;
}

/* One (possibly escaped) character inside quotes delimited by q. */
static bool read_char(wp_t *p, char q, uint32_t *out) {
  if (p->pos >= p->len) return werr(p, "unterminated %s", q == '"' ? "string" : "char");
  unsigned char c = (unsigned char)p->s[p->pos];
  if (c == '\n') return werr(p, "newline in %s must be escaped", q == '"' ? "string" : "char");
  if (c == '\\') {
    p->pos++;
    if (p->pos >= p->len) return werr(p, "unterminated escape");
    char e = p->s[p->pos++];
    switch (e) {
    case '\'': *out = '\''; return true;
    case '"': *out = '"'; return true;
    case '\\': *out = '\\'; return true;
    case 't': *out = '\t'; return true;
    case 'n': *out = '\n'; return true;
    case 'r': *out = '\r'; return true;
    case 'u': {
      if (p->pos >= p->len || p->s[p->pos] != '{') return werr(p, "expected `{` after \\u");
      p->pos++;
      uint32_t v = 0;
      size_t digits = 0;
      while (p->pos < p->len && isxdigit((unsigned char)p->s[p->pos]) && digits < 7) {
        char h = p->s[p->pos++];
        v = v * 16 + (uint32_t)(isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
        digits++;
      }
      if (!digits || p->pos >= p->len || p->s[p->pos] != '}') return werr(p, "invalid \\u{...} escape");
      p->pos++;
      if (v >= 0x110000 || (v >= 0xd800 && v <= 0xdfff)) return werr(p, "\\u{%x} is not a Unicode scalar value", v);
      *out = v;
      return true;
    }
    default: return werr(p, "unknown escape `\\%c`", e);
    }
  }
  if (c == (unsigned char)q) return werr(p, "unescaped `%c`", q);
  /* a UTF-8 sequence (the input is checked to be valid UTF-8) */
  size_t k = c < 0x80 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
  if (p->pos + k >= p->len) return werr(p, "truncated UTF-8");
  uint32_t v = k ? (c & (0x3f >> k)) : c;
  for (size_t j = 1; j <= k; j++) v = (v << 6) | ((unsigned char)p->s[p->pos + j] & 0x3f);
  p->pos += k + 1;
  *out = v;
  return true;
}

static bool parse_string(wp_t *p, shoal_cval_t *out) {
  skip_ws(p);
  if (p->pos >= p->len || p->s[p->pos] != '"') return werr(p, "expected a string");
  bool multi = p->pos + 2 < p->len && p->s[p->pos + 1] == '"' && p->s[p->pos + 2] == '"';
  if (multi) return werr(p, "multiline strings are not supported");
  p->pos++;
  size_t cap = 16, n = 0;
  char *s = malloc(cap);
  if (!s) return werr(p, "out of host memory");
  while (p->pos < p->len && p->s[p->pos] != '"') {
    uint32_t c;
    if (!read_char(p, '"', &c)) { free(s); return false; }
    if (n + 5 > cap) {
      cap *= 2;
      char *q = realloc(s, cap);
      if (!q) { free(s); return werr(p, "out of host memory"); }
      s = q;
    }
    size_t k;
    utf8_encode(s + n, c, &k);
    n += k;
  }
  if (p->pos >= p->len) { free(s); return werr(p, "unterminated string"); }
  p->pos++;
  s[n] = 0;
  out->of.str.ptr = s;
  out->of.str.len = n;
  return true;
}

static bool is_optres(const cmp_type_t *t) { return t && (t->kind == SHOAL_CT_OPTION || t->kind == SHOAL_CT_RESULT); }

static bool parse_payload(wp_t *p, const cmp_type_t *t, shoal_cval_t *out, int depth) {
  out->of.var.payload = calloc(1, sizeof *out->of.var.payload);
  if (!out->of.var.payload) return werr(p, "out of host memory");
  return expect(p, '(') && parse_value(p, t, out->of.var.payload, depth + 1) && expect(p, ')');
}

/* Items between open/close separated by commas (trailing comma allowed). */
static bool parse_seq(wp_t *p, char close, const cmp_type_t *elem, const cmp_type_t *tuple, shoal_cval_t *out, int depth) {
  size_t cap = 4;
  out->of.list.items = calloc(cap, sizeof *out->of.list.items);
  out->of.list.n = 0;
  if (!out->of.list.items) return werr(p, "out of host memory");
  while (!peek_is(p, close)) {
    if (p->pos >= p->len) return werr(p, "expected `%c`", close);
    if (tuple && out->of.list.n >= tuple->n) return werr(p, "too many tuple elements");
    if (out->of.list.n == cap) {
      cap *= 2;
      shoal_cval_t *q = realloc(out->of.list.items, cap * sizeof *q);
      if (!q) return werr(p, "out of host memory");
      out->of.list.items = q;
    }
    shoal_cval_t *v = &out->of.list.items[out->of.list.n];
    memset(v, 0, sizeof *v);
    out->of.list.n++;
    if (!parse_value(p, tuple ? tuple->fields[out->of.list.n - 1].type : elem, v, depth + 1)) return false;
    if (!peek_is(p, ',')) break;
    p->pos++;
  }
  if (tuple && out->of.list.n != tuple->n) return werr(p, "expected %u tuple elements, found %zu", tuple->n, out->of.list.n);
  return expect(p, close);
}

static bool parse_value(wp_t *p, const cmp_type_t *t, shoal_cval_t *out, int depth) {
  memset(out, 0, sizeof *out);
  out->kind = t->kind;
  if (depth > 200) return werr(p, "value nested too deeply");
  const char *l;
  size_t n;
  bool pct;
  switch (t->kind) {
  case SHOAL_CT_BOOL:
    if (!read_label(p, &l, &n, &pct)) return false;
    if (!pct && label_is(l, n, "true")) { out->of.b = true; return true; }
    if (!pct && label_is(l, n, "false")) { out->of.b = false; return true; }
    return werr(p, "expected `true` or `false`");
  case SHOAL_CT_S8: case SHOAL_CT_U8: case SHOAL_CT_S16: case SHOAL_CT_U16:
  case SHOAL_CT_S32: case SHOAL_CT_U32: case SHOAL_CT_S64: case SHOAL_CT_U64:
    return parse_int(p, t, out);
  case SHOAL_CT_F32: case SHOAL_CT_F64:
    return parse_float(p, t, out);
  case SHOAL_CT_CHAR: {
    if (!expect(p, '\'')) return false;
    if (!read_char(p, '\'', &out->of.ch)) return false;
    if (p->pos >= p->len || p->s[p->pos] != '\'') return werr(p, "expected `'` closing the char");
    p->pos++;
    return true;
  }
  case SHOAL_CT_STRING: return parse_string(p, out);
  case SHOAL_CT_LIST:
    if (!expect(p, '[') || !parse_seq(p, ']', t->elem, NULL, out, depth)) return false;
    if (t->fixed_len && out->of.list.n != t->fixed_len) return werr(p, "expected %u list elements", t->fixed_len);
    return true;
  case SHOAL_CT_TUPLE:
    out->kind = SHOAL_CT_TUPLE;
    return expect(p, '(') && parse_seq(p, ')', NULL, t, out, depth);
  case SHOAL_CT_RECORD: {
    if (!expect(p, '{')) return false;
    out->of.list.items = calloc(t->n, sizeof *out->of.list.items);
    if (!out->of.list.items) return werr(p, "out of host memory");
    out->of.list.n = t->n;
    bool *seen = calloc(t->n, 1);
    if (!seen) return werr(p, "out of host memory");
    bool ok = true;
    if (peek_is(p, ':')) { p->pos++; }  /* {:}: every field omitted */
    else while (ok && !peek_is(p, '}')) {
      ok = read_label(p, &l, &n, &pct);
      int i = ok ? find_label(t, l, n) : -1;
      if (ok && i < 0) ok = werr(p, "unknown field `%.*s`", (int)n, l);
      if (ok && seen[i]) ok = werr(p, "duplicate field `%.*s`", (int)n, l);
      if (ok) { seen[i] = true; ok = expect(p, ':') && parse_value(p, t->fields[i].type, &out->of.list.items[i], depth + 1); }
      if (ok && !peek_is(p, ',')) break;
      if (ok) p->pos++;
    }
    for (uint32_t i = 0; ok && i < t->n; i++) {
      if (seen[i]) continue;
      if (t->fields[i].type->kind != SHOAL_CT_OPTION) {
        ok = werr(p, "missing field `%.*s`", (int)t->fields[i].name_len, t->fields[i].name);
      } else {
        out->of.list.items[i].kind = SHOAL_CT_OPTION;  /* omitted: none */
      }
    }
    free(seen);
    return ok && expect(p, '}');
  }
  case SHOAL_CT_FLAGS: {
    if (!expect(p, '{')) return false;
    while (!peek_is(p, '}')) {
      if (!read_label(p, &l, &n, &pct)) return false;
      int i = find_label(t, l, n);
      if (i < 0) return werr(p, "unknown flag `%.*s`", (int)n, l);
      if (out->of.flags & (1u << i)) return werr(p, "duplicate flag `%.*s`", (int)n, l);
      out->of.flags |= 1u << i;
      if (!peek_is(p, ',')) break;
      p->pos++;
    }
    return expect(p, '}');
  }
  case SHOAL_CT_ENUM: case SHOAL_CT_VARIANT: {
    size_t at = p->pos;
    if (!read_label(p, &l, &n, &pct)) return false;
    int i = find_label(t, l, n);
    if (i < 0) { p->pos = at; return werr(p, "unknown case `%.*s`", (int)n, l); }
    out->of.var.disc = (uint32_t)i;
    if (t->kind == SHOAL_CT_VARIANT && t->fields[i].type) return parse_payload(p, t->fields[i].type, out, depth);
    return true;
  }
  case SHOAL_CT_OPTION: {
    size_t at = p->pos;
    skip_ws(p);
    if (p->pos < p->len && isalpha((unsigned char)p->s[p->pos])) {
      if (!read_label(p, &l, &n, &pct)) return false;
      if (label_is(l, n, "none")) { out->of.var.disc = 0; return true; }
      if (label_is(l, n, "some")) { out->of.var.disc = 1; return parse_payload(p, t->elem, out, depth); }
      p->pos = at;
    }
    if (is_optres(t->elem)) return werr(p, "expected `some(...)` or `none`");
    out->of.var.disc = 1;  /* the flat payload form */
    out->of.var.payload = calloc(1, sizeof *out->of.var.payload);
    if (!out->of.var.payload) return werr(p, "out of host memory");
    return parse_value(p, t->elem, out->of.var.payload, depth + 1);
  }
  case SHOAL_CT_RESULT: {
    size_t at = p->pos;
    skip_ws(p);
    if (p->pos < p->len && isalpha((unsigned char)p->s[p->pos])) {
      if (!read_label(p, &l, &n, &pct)) return false;
      bool ok_ = label_is(l, n, "ok"), err = label_is(l, n, "err");
      if (ok_ || err) {
        const cmp_type_t *pt = ok_ ? t->elem : t->err;
        out->of.var.disc = err;
        if (pt && peek_is(p, '(')) return parse_payload(p, pt, out, depth);
        if (pt) return werr(p, "expected `(` with the %s payload", ok_ ? "ok" : "err");
        return true;
      }
      p->pos = at;
    }
    if (!t->elem || is_optres(t->elem)) return werr(p, "expected `ok` or `err`");
    out->of.var.disc = 0;
    out->of.var.payload = calloc(1, sizeof *out->of.var.payload);
    if (!out->of.var.payload) return werr(p, "out of host memory");
    return parse_value(p, t->elem, out->of.var.payload, depth + 1);
  }
  case SHOAL_CT_OWN: case SHOAL_CT_BORROW: {
    /* shoal's own spelling of a handle, `$N`, as put_value prints it */
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != '$') return werr(p, "expected a resource handle `$N`");
    p->pos++;
    uint64_t h = 0;
    size_t start = p->pos;
    while (p->pos < p->len && isdigit((unsigned char)p->s[p->pos]) && h <= UINT32_MAX)
      h = h * 10 + (uint64_t)(p->s[p->pos++] - '0');
    if (p->pos == start || h > UINT32_MAX) return werr(p, "expected a handle number (0..4294967295) after `$`");
    out->of.handle = (uint32_t)h;
    return true;
  }
  default:
    return werr(p, "values of this type have no WAVE form");
  }
}

shoal_err_t shoal_wave_parse(const shoal_ctype_t *t, const char *text, size_t len, shoal_cval_t *out, shoal_diag_t *diag) {
  if (diag) shoal_diag_clear(diag);
  wp_t p = {.s = text, .len = len, .diag = diag};
  if (!cmp_utf8_valid((const uint8_t *)text, len)) {
    memset(out, 0, sizeof *out);
    return cmp_fail(diag, SHOAL_ERR_ARG, -1, "WAVE text is not valid UTF-8");
  }
  bool ok = parse_value(&p, t, out, 0);
  if (ok) {
    skip_ws(&p);
    if (p.pos != p.len) ok = werr(&p, "unexpected text after the value");
  }
  if (!ok) { shoal_cval_free(out); return SHOAL_ERR_ARG; }
  return SHOAL_ERR_OK;
}

shoal_err_t shoal_wave_parse_call(const char *text, size_t len, const char **name, size_t *name_len) {
  const char *open = memchr(text, '(', len);
  if (!open || len == 0 || text[len - 1] != ')') return SHOAL_ERR_ARG;
  size_t s = 0;
  while (s < (size_t)(open - text) && isspace((unsigned char)text[s])) s++;
  size_t e = (size_t)(open - text);
  while (e > s && isspace((unsigned char)text[e - 1])) e--;
  if (e == s) return SHOAL_ERR_ARG;
  *name = text + s;
  *name_len = e - s;
  return SHOAL_ERR_OK;
}

shoal_err_t shoal_wave_parse_args(const shoal_ctype_t *ft, const char *text, size_t len, shoal_cval_t *args, shoal_diag_t *diag) {
  if (diag) shoal_diag_clear(diag);
  for (uint32_t i = 0; i < ft->n; i++) memset(&args[i], 0, sizeof args[i]);
  const char *open = memchr(text, '(', len);
  if (!open) return cmp_fail(diag, SHOAL_ERR_ARG, -1, "expected `name(args...)`");
  if (!cmp_utf8_valid((const uint8_t *)text, len)) return cmp_fail(diag, SHOAL_ERR_ARG, -1, "call text is not valid UTF-8");
  wp_t p = {.s = text, .pos = (size_t)(open - text) + 1, .len = len, .diag = diag};
  uint32_t i = 0;
  bool ok = true;
  while (ok && !peek_is(&p, ')')) {
    if (i >= ft->n) { ok = werr(&p, "too many arguments (%u expected)", ft->n); break; }
    ok = parse_value(&p, ft->fields[i].type, &args[i], 0);
    i++;
    if (!ok || !peek_is(&p, ',')) break;
    p.pos++;
  }
  for (; ok && i < ft->n; i++) {  /* trailing none arguments may be omitted */
    if (ft->fields[i].type->kind != SHOAL_CT_OPTION) {
      ok = werr(&p, "missing argument `%.*s`", (int)ft->fields[i].name_len, ft->fields[i].name);
      break;
    }
    args[i].kind = SHOAL_CT_OPTION;
  }
  if (ok) ok = expect(&p, ')');
  if (ok) { skip_ws(&p); if (p.pos != p.len) ok = werr(&p, "unexpected text after the call"); }
  if (!ok) {
    for (uint32_t k = 0; k < ft->n; k++) shoal_cval_free(&args[k]);
    return SHOAL_ERR_ARG;
  }
  return SHOAL_ERR_OK;
}

/* {==================================================================
** Printing
** =================================================================== */
/* Shortest round-trip digits, laid out as JavaScript's Number#toString
** does (so node's output compares equal). */
static void put_float(cmp_buf_t *b, double v, bool f32) {
  if (isnan(v)) { cmp_buf_puts(b, "nan"); return; }
  if (isinf(v)) { cmp_buf_puts(b, v < 0 ? "-inf" : "inf"); return; }
  if (v == 0) { cmp_buf_puts(b, signbit(v) ? "-0" : "0"); return; }
  char tmp[64];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
    if (f32 ? (float)strtod(tmp, NULL) == (float)v : strtod(tmp, NULL) == v) break;
  }
  /* tmp is [-]d[.ddd]e[+-]x */
  char digits[32];
  size_t nd = 0;
  const char *c = tmp;
  bool neg = *c == '-';
  if (neg) c++;
  for (; *c && *c != 'e'; c++)
    if (isdigit((unsigned char)*c)) digits[nd++] = *c;
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  int exp10 = atoi(c + 1);
  int point = exp10 + 1; /* digits[0..point) are the integer part */
  if (neg) cmp_buf_puts(b, "-");
  if ((int)nd <= point && point <= 21) {
    cmp_buf_put(b, digits, nd);
    for (int i = (int)nd; i < point; i++) cmp_buf_puts(b, "0");
  } else if (0 < point && point <= 21) {
    cmp_buf_put(b, digits, (size_t)point);
    cmp_buf_puts(b, ".");
    cmp_buf_put(b, digits + point, nd - (size_t)point);
  } else if (-6 < point && point <= 0) {
    cmp_buf_puts(b, "0.");
    for (int i = point; i < 0; i++) cmp_buf_puts(b, "0");
    cmp_buf_put(b, digits, nd);
  } else {
    cmp_buf_put(b, digits, 1);
    if (nd > 1) { cmp_buf_puts(b, "."); cmp_buf_put(b, digits + 1, nd - 1); }
    cmp_buf_printf(b, "e%c%d", point - 1 < 0 ? '-' : '+', abs(point - 1));
  }
}

static void put_char(cmp_buf_t *b, uint32_t c, char q) {
  char tmp[8];
  size_t n;
  switch (c) {
  case '\\': cmp_buf_puts(b, "\\\\"); return;
  case '\n': cmp_buf_puts(b, "\\n"); return;
  case '\t': cmp_buf_puts(b, "\\t"); return;
  case '\r': cmp_buf_puts(b, "\\r"); return;
  default: break;
  }
  if (c == (uint32_t)q) { cmp_buf_printf(b, "\\%c", q); return; }
  if (c < 0x20 || c == 0x7f) { cmp_buf_printf(b, "\\u{%x}", c); return; }
  utf8_encode(tmp, c, &n);
  cmp_buf_put(b, tmp, n);
}

static const char *const keywords[] = {"true", "false", "inf", "nan", "some", "none", "ok", "err"};

static void put_label(cmp_buf_t *b, const char *l, uint32_t n) {
  for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
    if (label_is(l, n, keywords[i])) { cmp_buf_puts(b, "%"); break; }
  cmp_buf_put(b, l, n);
}

static void put_value(cmp_buf_t *b, const cmp_type_t *t, const shoal_cval_t *v) {
  switch (t->kind) {
  case SHOAL_CT_BOOL: cmp_buf_puts(b, v->of.b ? "true" : "false"); return;
  case SHOAL_CT_S8: case SHOAL_CT_S16: case SHOAL_CT_S32: case SHOAL_CT_S64:
    cmp_buf_printf(b, "%lld", (long long)v->of.s); return;
  case SHOAL_CT_U8: case SHOAL_CT_U16: case SHOAL_CT_U32: case SHOAL_CT_U64:
    cmp_buf_printf(b, "%llu", (unsigned long long)v->of.u); return;
  case SHOAL_CT_F32: put_float(b, v->of.f32, true); return;
  case SHOAL_CT_F64: put_float(b, v->of.f64, false); return;
  case SHOAL_CT_CHAR: cmp_buf_puts(b, "'"); put_char(b, v->of.ch, '\''); cmp_buf_puts(b, "'"); return;
  case SHOAL_CT_STRING: {
    cmp_buf_puts(b, "\"");
    const uint8_t *s = (const uint8_t *)v->of.str.ptr;
    for (size_t i = 0; i < v->of.str.len;) {
      uint32_t c = s[i];
      size_t k = c < 0x80 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
      if (k) {
        c &= 0x3fu >> k;
        for (size_t j = 1; j <= k && i + j < v->of.str.len; j++) c = (c << 6) | (s[i + j] & 0x3f);
      }
      put_char(b, c, '"');
      i += k + 1;
    }
    cmp_buf_puts(b, "\"");
    return;
  }
  case SHOAL_CT_LIST: case SHOAL_CT_TUPLE: {
    bool tup = t->kind == SHOAL_CT_TUPLE;
    cmp_buf_puts(b, tup ? "(" : "[");
    for (size_t i = 0; i < v->of.list.n; i++) {
      if (i) cmp_buf_puts(b, ", ");
      put_value(b, tup ? t->fields[i].type : t->elem, &v->of.list.items[i]);
    }
    cmp_buf_puts(b, tup ? ")" : "]");
    return;
  }
  case SHOAL_CT_RECORD:
    cmp_buf_puts(b, "{");
    for (uint32_t i = 0; i < t->n; i++) {
      if (i) cmp_buf_puts(b, ", ");
      put_label(b, t->fields[i].name, t->fields[i].name_len);
      cmp_buf_puts(b, ": ");
      put_value(b, t->fields[i].type, &v->of.list.items[i]);
    }
    cmp_buf_puts(b, "}");
    return;
  case SHOAL_CT_FLAGS: {
    cmp_buf_puts(b, "{");
    bool first = true;
    for (uint32_t i = 0; i < t->n; i++) {
      if (!(v->of.flags & (1u << i))) continue;
      if (!first) cmp_buf_puts(b, ", ");
      first = false;
      put_label(b, t->fields[i].name, t->fields[i].name_len);
    }
    cmp_buf_puts(b, "}");
    return;
  }
  case SHOAL_CT_ENUM: case SHOAL_CT_VARIANT:
    put_label(b, t->fields[v->of.var.disc].name, t->fields[v->of.var.disc].name_len);
    if (t->kind == SHOAL_CT_VARIANT && t->fields[v->of.var.disc].type) {
      cmp_buf_puts(b, "(");
      put_value(b, t->fields[v->of.var.disc].type, v->of.var.payload);
      cmp_buf_puts(b, ")");
    }
    return;
  case SHOAL_CT_OPTION:
    if (!v->of.var.disc) { cmp_buf_puts(b, "none"); return; }
    cmp_buf_puts(b, "some(");
    put_value(b, t->elem, v->of.var.payload);
    cmp_buf_puts(b, ")");
    return;
  case SHOAL_CT_RESULT: {
    const cmp_type_t *pt = v->of.var.disc ? t->err : t->elem;
    cmp_buf_puts(b, v->of.var.disc ? "err" : "ok");
    if (pt) {
      cmp_buf_puts(b, "(");
      put_value(b, pt, v->of.var.payload);
      cmp_buf_puts(b, ")");
    }
    return;
  }
  case SHOAL_CT_OWN: case SHOAL_CT_BORROW: cmp_buf_printf(b, "$%u", v->of.handle); return;
  default: cmp_buf_puts(b, "<?>"); return;
  }
}

shoal_err_t shoal_wave_print(const shoal_ctype_t *t, const shoal_cval_t *v, char **out) {
  cmp_buf_t b = {0};
  put_value(&b, t, v);
  cmp_buf_puts(&b, "");
  if (b.oom) { free(b.p); return SHOAL_ERR_NOMEM; }
  *out = b.p;
  return SHOAL_ERR_OK;
}
/* }================================================================== */
