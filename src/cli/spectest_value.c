/*
** spectest_value.c: the values of spec test scripts: reading them from the
** JSON, turning them into arguments, matching results against them and
** printing both for failure messages.
*/
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *json_str(const cJSON *obj, const char *key) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

static bool parse_u64(const char *s, uint64_t *out) {
  if (!s || !(*s >= '0' && *s <= '9')) return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}

sval_status_t sval_parse(const struct cJSON *j, sval_t *out, char *err, size_t errlen) {
  const char *type = json_str(j, "type");
  const char *value = json_str(j, "value");
  out->kind = EXP_EXACT;
  out->bits = 0;
  if (!type) {
    snprintf(err, errlen, "value without a type");
    return SVAL_BAD;
  }
  static const struct { const char *name; shoal_valtype_t t; } types[] = {
    { "i32", SHOAL_I32 }, { "i64", SHOAL_I64 }, { "f32", SHOAL_F32 }, { "f64", SHOAL_F64 },
    { "funcref", SHOAL_FUNCREF }, { "externref", SHOAL_EXTERNREF }, { "v128", SHOAL_V128 },
  };
  size_t i;
  for (i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp(type, types[i].name) == 0) break;
  if (i == sizeof types / sizeof types[0]) {
    snprintf(err, errlen, "unsupported value type %s", type);
    return SVAL_UNSUPPORTED;
  }
  out->type = types[i].t;
  switch (out->type) {
  case SHOAL_V128:
    /* shoal_val_t has no v128 member, so the public API cannot pass one. */
    snprintf(err, errlen, "v128 values are not supported by the API");
    return SVAL_UNSUPPORTED;
  case SHOAL_FUNCREF:
  case SHOAL_EXTERNREF:
    if (!value) {
      out->kind = EXP_ANY_REF;
      return SVAL_OK;
    }
    if (strcmp(value, "null") == 0) return SVAL_OK;
    if (!parse_u64(value, &out->bits) || out->bits == UINT64_MAX) break;
    if (out->type == SHOAL_FUNCREF) {
      out->kind = EXP_ANY_REF; /* no host-side identity for function N */
      return SVAL_OK;
    }
    out->bits++;
    if (out->bits > UINTPTR_MAX) break;
    return SVAL_OK;
  case SHOAL_F32:
  case SHOAL_F64:
    if (value && strcmp(value, "nan:canonical") == 0) {
      out->kind = EXP_NAN_CANON;
      return SVAL_OK;
    }
    if (value && strcmp(value, "nan:arithmetic") == 0) {
      out->kind = EXP_NAN_ARITH;
      return SVAL_OK;
    }
    /* fall through */
  case SHOAL_I32:
  case SHOAL_I64: {
    uint64_t max = out->type == SHOAL_I32 || out->type == SHOAL_F32 ? UINT32_MAX : UINT64_MAX;
    if (!parse_u64(value, &out->bits) || out->bits > max) break;
    return SVAL_OK;
  }
  }
  snprintf(err, errlen, "bad %s value \"%s\"", type, value ? value : "(none)");
  return SVAL_BAD;
}

shoal_val_t sval_to_val(const sval_t *s) {
  shoal_val_t v;
  memset(&v, 0, sizeof v);
  v.type = s->type;
  switch (s->type) {
  case SHOAL_I32: v.of.i32 = (int32_t)(uint32_t)s->bits; break;
  case SHOAL_I64: v.of.i64 = (int64_t)s->bits; break;
  case SHOAL_F32: v.of.f32_bits = (uint32_t)s->bits; break;
  case SHOAL_F64: v.of.f64_bits = s->bits; break;
  case SHOAL_FUNCREF: v.of.func = NULL; break; /* only null can be written */
  case SHOAL_EXTERNREF: v.of.ext = (void *)(uintptr_t)s->bits; break;
  default: break;
  }
  return v;
}

bool sval_matches(const sval_t *e, const shoal_val_t *v) {
  if (e->type != v->type) return false;
  switch (e->type) {
  case SHOAL_I32: return (uint32_t)v->of.i32 == (uint32_t)e->bits;
  case SHOAL_I64: return (uint64_t)v->of.i64 == e->bits;
  case SHOAL_F32:
    if (e->kind == EXP_NAN_CANON) return (v->of.f32_bits & 0x7fffffffu) == 0x7fc00000u;
    if (e->kind == EXP_NAN_ARITH) return (v->of.f32_bits & 0x7fc00000u) == 0x7fc00000u;
    return v->of.f32_bits == (uint32_t)e->bits;
  case SHOAL_F64:
    if (e->kind == EXP_NAN_CANON)
      return (v->of.f64_bits & UINT64_C(0x7fffffffffffffff)) == UINT64_C(0x7ff8000000000000);
    if (e->kind == EXP_NAN_ARITH)
      return (v->of.f64_bits & UINT64_C(0x7ff8000000000000)) == UINT64_C(0x7ff8000000000000);
    return v->of.f64_bits == e->bits;
  case SHOAL_FUNCREF:
    return e->kind == EXP_ANY_REF ? v->of.func != NULL : v->of.func == NULL;
  case SHOAL_EXTERNREF:
    return e->kind == EXP_ANY_REF ? v->of.ext != NULL : (uintptr_t)v->of.ext == e->bits;
  default: return false;
  }
}

static void buf_f32(cli_buf_t *b, uint32_t bits) {
  float f;
  memcpy(&f, &bits, 4);
  cli_buf_printf(b, "f32:%.9g (0x%08" PRIx32 ")", (double)f, bits);
}

static void buf_f64(cli_buf_t *b, uint64_t bits) {
  double d;
  memcpy(&d, &bits, 8);
  cli_buf_printf(b, "f64:%.17g (0x%016" PRIx64 ")", d, bits);
}

void cli_buf_sval(cli_buf_t *b, const sval_t *e) {
  const char *tn = cli_valtype_name(e->type);
  if (e->kind == EXP_NAN_CANON) cli_buf_printf(b, "%s:nan:canonical", tn);
  else if (e->kind == EXP_NAN_ARITH) cli_buf_printf(b, "%s:nan:arithmetic", tn);
  else if (e->kind == EXP_ANY_REF) cli_buf_printf(b, "%s:ref", tn);
  else if (e->type == SHOAL_F32) buf_f32(b, (uint32_t)e->bits);
  else if (e->type == SHOAL_F64) buf_f64(b, e->bits);
  else if (e->type == SHOAL_FUNCREF) cli_buf_printf(b, "%s:null", tn);
  else if (e->type == SHOAL_EXTERNREF) {
    if (e->bits) cli_buf_printf(b, "%s:%" PRIu64, tn, e->bits - 1);
    else cli_buf_printf(b, "%s:null", tn);
  } else if (e->type == SHOAL_I32) cli_buf_printf(b, "i32:%" PRId32, (int32_t)(uint32_t)e->bits);
  else cli_buf_printf(b, "i64:%" PRId64, (int64_t)e->bits);
}

void cli_buf_val(cli_buf_t *b, const shoal_val_t *v) {
  const char *tn = cli_valtype_name(v->type);
  switch (v->type) {
  case SHOAL_I32: cli_buf_printf(b, "i32:%" PRId32, v->of.i32); break;
  case SHOAL_I64: cli_buf_printf(b, "i64:%" PRId64, v->of.i64); break;
  case SHOAL_F32: buf_f32(b, v->of.f32_bits); break;
  case SHOAL_F64: buf_f64(b, v->of.f64_bits); break;
  case SHOAL_FUNCREF: cli_buf_printf(b, "%s:%s", tn, v->of.func ? "ref" : "null"); break;
  case SHOAL_EXTERNREF:
    if (!v->of.ext) cli_buf_printf(b, "%s:null", tn);
    else cli_buf_printf(b, "%s:%" PRIuPTR, tn, (uintptr_t)v->of.ext - 1);
    break;
  default: cli_buf_printf(b, "%s:?", tn); break;
  }
}
