/*
** cli_util.c: file reading and the text formatting of types and names that
** `inspect`, `run` and `spectest` share.
*/
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

bool cli_read_file(const char *path, uint8_t **out, size_t *len, char *err, size_t errlen) {
  *out = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return false;
  }
  /* Read in growing chunks rather than trusting fseek/ftell, so pipes and
  ** /dev/stdin-like paths work too. */
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  if (!buf) goto nomem;
  for (;;) {
    if (n == cap) {
      if (cap > SIZE_MAX / 2) goto nomem;
      uint8_t *nb = realloc(buf, cap * 2);
      if (!nb) goto nomem;
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
    free(buf);
    fclose(f);
    return false;
  }
  fclose(f);
  *out = buf;
  *len = n;
  return true;
nomem:
  snprintf(err, errlen, "cannot read %s: out of memory", path);
  free(buf);
  fclose(f);
  return false;
}

void cli_buf_init(cli_buf_t *b, char *storage, size_t cap) {
  b->p = storage;
  b->cap = cap;
  b->len = 0;
  if (cap) storage[0] = '\0';
}

void cli_buf_printf(cli_buf_t *b, const char *fmt, ...) {
  if (b->len + 1 >= b->cap) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  b->len += (size_t)n;
  if (b->len >= b->cap) b->len = b->cap - 1; /* truncated */
}

void cli_buf_name(cli_buf_t *b, const char *s, size_t len) {
  cli_buf_printf(b, "\"");
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      cli_buf_printf(b, "\\%c", c);
    else if (c < 0x20 || c == 0x7f)
      cli_buf_printf(b, "\\%02x", c); /* the .wat escape syntax */
    else
      cli_buf_printf(b, "%c", c);     /* UTF-8 passes through */
  }
  cli_buf_printf(b, "\"");
}

const char *cli_valtype_name(shoal_valtype_t t) { return shoal_valtype_name(t); }

static void buf_types(cli_buf_t *b, uint32_t n, const shoal_valtype_t *ts) {
  cli_buf_printf(b, "(");
  for (uint32_t i = 0; i < n; i++)
    cli_buf_printf(b, "%s%s", i ? ", " : "", cli_valtype_name(ts[i]));
  cli_buf_printf(b, ")");
}

void cli_buf_functype(cli_buf_t *b, const shoal_functype_t *ft) {
  buf_types(b, ft->nparams, ft->params);
  cli_buf_printf(b, " -> ");
  buf_types(b, ft->nresults, ft->results);
}

static void buf_limits(cli_buf_t *b, const shoal_limits_t *l) {
  cli_buf_printf(b, "%llu..", (unsigned long long)l->min);
  if (l->has_max) cli_buf_printf(b, "%llu", (unsigned long long)l->max);
}

void cli_buf_externtype(cli_buf_t *b, const shoal_externtype_t *t) {
  switch (t->kind) {
  case SHOAL_EXTERN_FUNC:
    cli_buf_printf(b, "func ");
    cli_buf_functype(b, &t->func);
    break;
  case SHOAL_EXTERN_TABLE:
    cli_buf_printf(b, "table ");
    buf_limits(b, &t->limits);
    cli_buf_printf(b, " %s", cli_valtype_name(t->elem));
    break;
  case SHOAL_EXTERN_MEMORY:
    cli_buf_printf(b, "memory ");
    buf_limits(b, &t->limits);
    break;
  case SHOAL_EXTERN_GLOBAL:
    cli_buf_printf(b, "global %s%s", t->global_mutable ? "mut " : "",
                   cli_valtype_name(t->global_type));
    break;
  default:
    cli_buf_printf(b, "unknown kind %d", (int)t->kind);
    break;
  }
}

const char *cli_section_name(uint8_t id) {
  static const char *const names[] = {
    "custom", "type", "import", "function", "table", "memory", "global",
    "export", "start", "element", "code", "data", "datacount",
  };
  return id < sizeof names / sizeof names[0] ? names[id] : "unknown";
}

const char *cli_diag_message(const shoal_diag_t *d, shoal_err_t code) {
  if (d && d->message[0]) return d->message;
  return shoal_err_message(code);
}
