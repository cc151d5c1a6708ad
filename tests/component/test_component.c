/*
** Unit tests of the component layer: decoder errors with offsets, the
** canonical ABI layout, WAVE parse/print, calls and resource handles
** through the C API (components built by tests/component/CMakeLists.txt).
*/
#include "test.h"
#include "shoal/component.h"
#include "component/cmp.h"
#include <stdlib.h>

#define COMPONENT_DIR SHOAL_WASM_DIR "/../component/"

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) TEST_FAIL("cannot open %s (built by the component_wasm target)", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)n + 1);
  if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) TEST_FAIL("cannot read %s", path);
  fclose(f);
  *len = (size_t)n;
  return b;
}

static shoal_component_t *load(const char *name) {
  char path[512];
  snprintf(path, sizeof path, COMPONENT_DIR "%s.wasm", name);
  size_t len;
  uint8_t *b = read_file(path, &len);
  shoal_component_t *c = NULL;
  shoal_diag_t d;
  shoal_err_t e = shoal_component_new(b, len, &c, &d);
  free(b);
  if (e != SHOAL_ERR_OK) TEST_FAIL("%s: %s", name, d.message);
  return c;
}

/* Decodes bytes that must fail with code at offset, the message containing what. */
static void expect_error(const uint8_t *b, size_t n, shoal_err_t code, int64_t off, const char *what) {
  shoal_component_t *c = NULL;
  shoal_diag_t d;
  shoal_err_t e = shoal_component_new(b, n, &c, &d);
  ASSERT_TRUE(c == NULL);
  if (e != code) TEST_FAIL("expected %s, got %s: %s", shoal_err_name(code), shoal_err_name(e), d.message);
  ASSERT_EQ_INT(d.code, code);
  if (!strstr(d.message, what)) TEST_FAIL("message `%s` does not contain `%s`", d.message, what);
  if (off >= 0) ASSERT_EQ_INT(d.offset, off);
}

#define PREAMBLE 0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00

TEST(preamble_errors) {
  static const uint8_t empty[] = {PREAMBLE};
  shoal_component_t *c = NULL;
  ASSERT_OK(shoal_component_new(empty, sizeof empty, &c, NULL));
  shoal_component_free(c);
  static const uint8_t short_[] = {0x00, 0x61, 0x73};
  expect_error(short_, sizeof short_, SHOAL_ERR_MALFORMED, 0, "unexpected end");
  static const uint8_t core[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  expect_error(core, sizeof core, SHOAL_ERR_MALFORMED, 6, "not a component");
  static const uint8_t version[] = {0x00, 0x61, 0x73, 0x6d, 0x0c, 0x00, 0x01, 0x00};
  expect_error(version, sizeof version, SHOAL_ERR_MALFORMED, 4, "version");
  static const uint8_t magic[] = {0x00, 0x62, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};
  expect_error(magic, sizeof magic, SHOAL_ERR_MALFORMED, 0, "magic");
  ASSERT_TRUE(shoal_is_component(empty, sizeof empty));
  ASSERT_TRUE(!shoal_is_component(core, sizeof core));
}

TEST(section_errors) {
  static const uint8_t unknown[] = {PREAMBLE, 0x0d, 0x00};
  expect_error(unknown, sizeof unknown, SHOAL_ERR_MALFORMED, 8, "unknown section id 13");
  static const uint8_t too_big[] = {PREAMBLE, 0x07, 0x05, 0x01};
  expect_error(too_big, sizeof too_big, SHOAL_ERR_MALFORMED, 8, "out of bounds");
  /* type section: one type with the invalid code 0x50 */
  static const uint8_t bad_type[] = {PREAMBLE, 0x07, 0x02, 0x01, 0x50};
  expect_error(bad_type, sizeof bad_type, SHOAL_ERR_MALFORMED, 11, "invalid leading byte (0x50)");
  /* (type (list 5)): type index out of bounds */
  static const uint8_t bad_idx[] = {PREAMBLE, 0x07, 0x03, 0x01, 0x70, 0x05};
  expect_error(bad_idx, sizeof bad_idx, SHOAL_ERR_INVALID, -1, "unknown type 5");
  /* (type (record)): empty record */
  static const uint8_t empty_rec[] = {PREAMBLE, 0x07, 0x03, 0x01, 0x72, 0x00};
  expect_error(empty_rec, sizeof empty_rec, SHOAL_ERR_INVALID, -1, "at least one field");
  /* (type (enum "a" "A")): labels clash ignoring case */
  static const uint8_t clash[] = {PREAMBLE, 0x07, 0x07, 0x01, 0x6d, 0x02, 0x01, 'a', 0x01, 'A'};
  expect_error(clash, sizeof clash, SHOAL_ERR_INVALID, -1, "conflicts");
  /* (type (enum "a_b")): not kebab case */
  static const uint8_t kebab[] = {PREAMBLE, 0x07, 0x07, 0x01, 0x6d, 0x01, 0x03, 'a', '_', 'b'};
  expect_error(kebab, sizeof kebab, SHOAL_ERR_INVALID, -1, "kebab");
  /* a section with a trailing byte */
  static const uint8_t trailing[] = {PREAMBLE, 0x07, 0x03, 0x01, 0x7f, 0x00};
  expect_error(trailing, sizeof trailing, SHOAL_ERR_MALFORMED, -1, "size mismatch");
  /* core module section holding a broken module: the engine's error, offset in the component */
  static const uint8_t bad_module[] = {PREAMBLE, 0x01, 0x08, 0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00};
  expect_error(bad_module, sizeof bad_module, SHOAL_ERR_MALFORMED, -1, "core module 0");
  /* (export "f" (func 0)) with no function 0 */
  static const uint8_t no_func[] = {PREAMBLE, 0x0b, 0x07, 0x01, 0x00, 0x01, 'f', 0x01, 0x00, 0x00};
  expect_error(no_func, sizeof no_func, SHOAL_ERR_INVALID, -1, "unknown func 0");
  /* (import "f" (func (type 0))) where type 0 is a record */
  static const uint8_t not_func[] = {PREAMBLE, 0x07, 0x06, 0x01, 0x72, 0x01, 0x01, 'x', 0x7f, 0x0a, 0x06, 0x01, 0x00, 0x01, 'f', 0x01, 0x00};
  expect_error(not_func, sizeof not_func, SHOAL_ERR_INVALID, -1, "not a func type");
  /* two imports named alike */
  static const uint8_t dup[] = {PREAMBLE, 0x07, 0x05, 0x01, 0x40, 0x00, 0x01, 0x00,
                                0x0a, 0x0b, 0x02, 0x00, 0x01, 'f', 0x01, 0x00, 0x00, 0x01, 'F', 0x01, 0x00};
  expect_error(dup, sizeof dup, SHOAL_ERR_INVALID, -1, "conflicts");
}

/* (import NAME (func (type 0))) with type 0 = func() */
static void check_import_name(const char *name, bool valid) {
  uint8_t b[128] = {PREAMBLE, 0x07, 0x05, 0x01, 0x40, 0x00, 0x01, 0x00, 0x0a};
  size_t n = strlen(name), k = 16;
  b[k++] = (uint8_t)(n + 5);
  b[k++] = 0x01;
  b[k++] = 0x00;
  b[k++] = (uint8_t)n;
  memcpy(b + k, name, n);
  k += n;
  b[k++] = 0x01;
  b[k++] = 0x00;
  shoal_component_t *c = NULL;
  shoal_diag_t d;
  shoal_err_t e = shoal_component_new(b, k, &c, &d);
  shoal_component_free(c);
  if (valid && e != SHOAL_ERR_OK) TEST_FAIL("`%s` rejected: %s", name, d.message);
  if (!valid && e != SHOAL_ERR_INVALID) TEST_FAIL("`%s` accepted (%s)", name, shoal_err_name(e));
}

TEST(extern_names) {
  const char *good[] = {"f", "get-x", "HTTP-x2", "F-x", "x-1",
                        "wasi:cli/run", "wasi:cli/run@0.2.12", "a:b/c@1.0.0-rc.1+build.5", "ns:pkg/iface@1",
                        "a:b:c/d/e"};
  const char *bad[] = {"x-Ab", "x--y", "-x", "x-", "1x", "a_b", "[method]r", "[constructor]r.x", "[static]r.",
                       "wasi:cli", "wasi:/run", "Wasi:cli/run", "wasi:cli/run@", "wasi:cli/run@01.0.0",
                       "wasi:cli/run@1.2.3.4", "a:b/c@1.0.0-",
                       /* well-formed, but no resource r precedes them */
                       "[constructor]r", "[method]r.get", "[static]r-s.make-one"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) check_import_name(good[i], true);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) check_import_name(bad[i], false);
}

/* n nested tuples: (type (tuple u8)) (type (tuple 0)) (type (tuple 1)) ... */
static shoal_err_t nested_tuples(uint32_t n, shoal_diag_t *d) {
  uint8_t *b = malloc(16 + 5 * (size_t)n);
  size_t k = 0;
  const uint8_t pre[] = {PREAMBLE};
  memcpy(b, pre, 8);
  k = 8;
  b[k++] = 0x07;
  size_t size_at = k;
  k += 3;  /* section size as a 3-byte LEB */
  size_t start = k;
  b[k++] = (uint8_t)(0x80 | (n & 0x7f));
  b[k++] = (uint8_t)(n >> 7);
  for (uint32_t i = 0; i < n; i++) {
    b[k++] = 0x6f;
    b[k++] = 0x01;
    if (i == 0) { b[k++] = 0x7d; continue; }
    b[k++] = (uint8_t)(0x80 | ((i - 1) & 0x7f));
    b[k++] = (uint8_t)((i - 1) >> 7);
  }
  size_t size = k - start;
  b[size_at] = (uint8_t)(0x80 | (size & 0x7f));
  b[size_at + 1] = (uint8_t)(0x80 | ((size >> 7) & 0x7f));
  b[size_at + 2] = (uint8_t)(size >> 14);
  shoal_component_t *c = NULL;
  shoal_err_t e = shoal_component_new(b, k, &c, d);
  shoal_component_free(c);
  free(b);
  return e;
}

TEST(type_depth) {
  shoal_diag_t d;
  ASSERT_OK_DIAG(nested_tuples(100, &d), &d);
  ASSERT_ERR(nested_tuples(101, &d), SHOAL_ERR_INVALID);
  ASSERT_TRUE(strstr(d.message, "nested too deeply") != NULL);
  ASSERT_ERR(nested_tuples(10000, &d), SHOAL_ERR_INVALID);
}

/* Every prefix of a valid component decodes or fails cleanly (no crash,
** no leak); only prefixes ending between sections can be valid. */
TEST(truncations) {
  size_t len;
  uint8_t *b = read_file(COMPONENT_DIR "linking.wasm", &len);
  size_t accepted = 0;
  for (size_t n = 0; n <= len; n++) {
    shoal_component_t *c = NULL;
    shoal_diag_t d;
    shoal_err_t e = shoal_component_new(b, n, &c, &d);
    if (e == SHOAL_ERR_OK) { accepted++; shoal_component_free(c); }
    else { ASSERT_TRUE(c == NULL); ASSERT_TRUE(d.message[0] != 0); }
  }
  ASSERT_TRUE(accepted >= 2 && accepted < 40);  /* the empty one, the whole one, a few between */
  free(b);
}

static const shoal_ctype_t *func_type(shoal_cinstance_t *inst, const char *name) {
  shoal_cfunc_t *f = shoal_cinstance_func(inst, name);
  if (!f) TEST_FAIL("no export %s", name);
  return shoal_cfunc_type(f);
}

TEST(abi_layout) {
  shoal_component_t *c = load("calc");
  shoal_store_t *s;
  ASSERT_OK(shoal_store_new(NULL, &s));
  shoal_cinstance_t *inst;
  ASSERT_OK(shoal_cinstance_new(s, c, NULL, 0, &inst, NULL));
  struct { const char *fn; uint32_t size, align, flat; } want[] = {
    {"move-point", 8, 4, 2},   /* record {x: s32, y: s32} */
    {"toggle", 1, 1, 1},       /* flags of 3 */
    {"find", 8, 4, 2},         /* option<u32> */
    {"parse", 16, 8, 3},       /* result<s64, string>: [i32 disc, i64, i32] */
    {"minmax", 16, 8, 2},      /* tuple<f64, f64> */
    {"greet", 8, 4, 2},        /* string */
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    cmp_type_t *r = (cmp_type_t *)shoal_ctype_result(func_type(inst, want[i].fn));
    cmp_abi_layout(r);
    if (r->size != want[i].size || r->align != want[i].align || cmp_flat_count(r) != want[i].flat)
      TEST_FAIL("%s: size %u align %u flat %u", want[i].fn, r->size, r->align, cmp_flat_count(r));
  }
  /* shape = variant { circle(u32), rect(point), empty }: disc + joined [i32, i32] */
  cmp_type_t *shape = (cmp_type_t *)shoal_ctype_item(func_type(inst, "area"), 0, NULL, NULL);
  cmp_abi_layout(shape);
  ASSERT_EQ_INT(shape->size, 12);
  ASSERT_EQ_INT(shape->align, 4);
  ASSERT_EQ_INT(cmp_flat_count(shape), 3);
  uint8_t flat[8];
  ASSERT_EQ_INT(cmp_flat_types((cmp_type_t *)shoal_ctype_result(func_type(inst, "parse")), flat, 8), 3);
  ASSERT_EQ_INT(flat[0], SHOAL_I32);
  ASSERT_EQ_INT(flat[1], SHOAL_I64);
  ASSERT_EQ_INT(flat[2], SHOAL_I32);
  shoal_cinstance_free(inst);
  shoal_store_free(s);
  shoal_component_free(c);
}

/* Parses text against func's params, calls, prints the result. */
static char *call(shoal_store_t *s, shoal_cinstance_t *inst, const char *fn, const char *text) {
  shoal_cfunc_t *f = shoal_cinstance_func(inst, fn);
  if (!f) TEST_FAIL("no export %s", fn);
  const shoal_ctype_t *ft = shoal_cfunc_type(f);
  shoal_cval_t args[20], res;
  shoal_diag_t d;
  uint32_t n = shoal_ctype_count(ft);
  if (shoal_wave_parse_args(ft, text, strlen(text), args, &d) != SHOAL_ERR_OK) TEST_FAIL("%s: %s", text, d.message);
  shoal_err_t e = shoal_cfunc_call(s, f, args, n, &res, &d);
  for (uint32_t i = 0; i < n; i++) shoal_cval_free(&args[i]);
  if (e != SHOAL_ERR_OK) TEST_FAIL("%s: %s", text, d.message);
  char *out;
  if (shoal_ctype_result(ft)) {
    ASSERT_OK(shoal_wave_print(shoal_ctype_result(ft), &res, &out));
    shoal_cval_free(&res);
  } else {
    out = strdup("()");
  }
  return out;
}

static void expect_call(shoal_store_t *s, shoal_cinstance_t *inst, const char *fn, const char *text, const char *want) {
  char *got = call(s, inst, fn, text);
  if (strcmp(got, want) != 0) { free(got); TEST_FAIL("%s: got different result, want %s", text, want); }
  free(got);
}

TEST(wave_and_calls) {
  shoal_component_t *c = load("calc");
  shoal_store_t *s;
  ASSERT_OK(shoal_store_new(NULL, &s));
  shoal_cinstance_t *inst;
  ASSERT_OK(shoal_cinstance_new(s, c, NULL, 0, &inst, NULL));
  expect_call(s, inst, "shoal:test/api@0.1.0#add", "add(40, 2)", "42");
  expect_call(s, inst, "greet", "greet( \"a\\u{7f}\\n\" // comment\n )", "\"Hello, a\\u{7f}\\n!\"");
  expect_call(s, inst, "move-point", "move-point({x: 1, y: 2,}, 3, 4)", "{x: 4, y: 6}");
  expect_call(s, inst, "find", "find([\"x\"], \"x\")", "some(0)");
  expect_call(s, inst, "parse", "parse(\"12\")", "ok(12)");
  expect_call(s, inst, "minmax", "minmax([2, -inf, 0.5])", "(-inf, 2)");
  expect_call(s, inst, "mix", "mix(0, 0, 0, 1e-7)", "1.0000000116860974e-7");
  expect_call(s, inst, "version", "version()", "\"calc 1.0\"");
  /* argument errors name what is wrong */
  const shoal_ctype_t *add = func_type(inst, "add");
  shoal_cval_t args[4];
  shoal_diag_t d;
  const char *bad[][2] = {
    {"add(2147483648, 0)", "out of range"}, {"add(1)", "missing argument"}, {"add(1, 2, 3)", "too many"},
    {"add(1.5, 2)", "invalid integer"}, {"add(1, 2", "expected `)`"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ASSERT_ERR(shoal_wave_parse_args(add, bad[i][0], strlen(bad[i][0]), args, &d), SHOAL_ERR_ARG);
    if (!strstr(d.message, bad[i][1])) TEST_FAIL("%s: message `%s`", bad[i][0], d.message);
  }
  const shoal_ctype_t *color = shoal_ctype_item(func_type(inst, "color-name"), 0, NULL, NULL);
  ASSERT_ERR(shoal_wave_parse(color, "purple", 6, args, &d), SHOAL_ERR_ARG);
  ASSERT_TRUE(strstr(d.message, "unknown case") != NULL);
  const shoal_ctype_t *point = shoal_ctype_item(func_type(inst, "move-point"), 0, NULL, NULL);
  ASSERT_ERR(shoal_wave_parse(point, "{x: 1}", 6, args, &d), SHOAL_ERR_ARG);
  ASSERT_TRUE(strstr(d.message, "missing field `y`") != NULL);
  const shoal_ctype_t *ch = shoal_ctype_item(func_type(inst, "is-upper"), 0, NULL, NULL);
  ASSERT_ERR(shoal_wave_parse(ch, "'\\u{d800}'", 10, args, &d), SHOAL_ERR_ARG);
  /* a value of the wrong shape is refused before lowering */
  shoal_cval_t wrong = {.kind = SHOAL_CT_STRING};
  wrong.of.str.ptr = (char *)"\xff";
  wrong.of.str.len = 1;
  shoal_cval_t res;
  ASSERT_ERR(shoal_cfunc_call(s, shoal_cinstance_func(inst, "greet"), &wrong, 1, &res, &d), SHOAL_ERR_ARG);
  shoal_cinstance_free(inst);
  shoal_store_free(s);
  shoal_component_free(c);
}

TEST(resources) {
  shoal_component_t *c = load("resources");
  shoal_store_t *s;
  ASSERT_OK(shoal_store_new(NULL, &s));
  shoal_cinstance_t *inst;
  ASSERT_OK(shoal_cinstance_new(s, c, NULL, 0, &inst, NULL));
  shoal_diag_t d;
  shoal_cval_t v = {.kind = SHOAL_CT_U32, .of.u = 7}, h, r;
  ASSERT_OK_DIAG(shoal_cfunc_call(s, shoal_cinstance_func(inst, "make"), &v, 1, &h, &d), &d);
  ASSERT_EQ_INT(h.kind, SHOAL_CT_OWN);
  shoal_cval_t b = h;
  b.kind = SHOAL_CT_BORROW;
  ASSERT_OK_DIAG(shoal_cfunc_call(s, shoal_cinstance_func(inst, "peek"), &b, 1, &r, &d), &d);
  ASSERT_EQ_INT(r.of.u, 7);
  ASSERT_OK_DIAG(shoal_cfunc_call(s, shoal_cinstance_func(inst, "drops"), NULL, 0, &r, &d), &d);
  ASSERT_EQ_INT(r.of.u, 0);
  /* giving the own handle back: the component drops it, the destructor runs */
  ASSERT_OK_DIAG(shoal_cfunc_call(s, shoal_cinstance_func(inst, "consume"), &h, 1, &r, &d), &d);
  ASSERT_EQ_INT(r.of.u, 7);
  ASSERT_OK_DIAG(shoal_cfunc_call(s, shoal_cinstance_func(inst, "drops"), NULL, 0, &r, &d), &d);
  ASSERT_EQ_INT(r.of.u, 1);
  v.of.u = 5;
  ASSERT_OK_DIAG(shoal_cfunc_call(s, shoal_cinstance_func(inst, "roundtrip"), &v, 1, &r, &d), &d);
  ASSERT_EQ_INT(r.of.u, 5 + 2 * 1000);
  /* put back as made: the destructor count (a core global) is 0 again */
  for (int round = 0; round < 3; round++) {
    ASSERT_OK_DIAG(shoal_cinstance_reinit(inst, NULL, &d), &d);
    ASSERT_OK_DIAG(shoal_cfunc_call(s, shoal_cinstance_func(inst, "drops"), NULL, 0, &r, &d), &d);
    ASSERT_EQ_INT(r.of.u, 0);
    ASSERT_OK_DIAG(shoal_cfunc_call(s, shoal_cinstance_func(inst, "roundtrip"), &v, 1, &r, &d), &d);
    ASSERT_EQ_INT(r.of.u, 5 + 1 * 1000);
  }
  shoal_cinstance_free(inst);
  shoal_store_free(s);
  shoal_component_free(c);
}

TEST(wit_text) {
  shoal_component_t *c = load("calc");
  char *wit;
  size_t n;
  ASSERT_OK(shoal_component_wit(c, &wit, &n));
  ASSERT_TRUE(strstr(wit, "  import shoal:test/types@0.1.0;\n") != NULL);
  ASSERT_TRUE(strstr(wit, "  export version: func() -> string;\n") != NULL);
  ASSERT_EQ_INT(strlen(wit), n);
  free(wit);
  shoal_component_free(c);
}

typedef struct host_log {
  char last[64];
  int calls;
} host_log_t;

static shoal_err_t host_log(shoal_ccall_t *call, void *env, const shoal_cval_t *args, size_t nargs, shoal_cval_t *result) {
  host_log_t *h = env;
  (void)call;
  if (nargs != 1 || args[0].kind != SHOAL_CT_STRING || args[0].of.str.len >= sizeof h->last) return SHOAL_ERR_TRAP_HOST;
  memcpy(h->last, args[0].of.str.ptr, args[0].of.str.len);
  h->last[args[0].of.str.len] = 0;
  h->calls++;
  result->kind = SHOAL_CT_U32;
  result->of.u = args[0].of.str.len;
  return SHOAL_ERR_OK;
}

static shoal_err_t host_add(shoal_ccall_t *call, void *env, const shoal_cval_t *args, size_t nargs, shoal_cval_t *result) {
  (void)env;
  if (nargs != 2) return shoal_ccall_trap(call, "add: %zu arguments", nargs);
  if (args[1].of.s == 666) return shoal_ccall_exit(call, 66);
  result->kind = SHOAL_CT_S32;
  result->of.s = (int32_t)((uint32_t)args[0].of.s + (uint32_t)args[1].of.s);
  return SHOAL_ERR_OK;
}

TEST(host_imports) {
  shoal_component_t *c = load("imports");
  shoal_store_t *s;
  ASSERT_OK(shoal_store_new(NULL, &s));
  host_log_t log = {{0}, 0};
  shoal_cinstance_t *inst = NULL;
  shoal_diag_t d;
  /* a missing implementation is a link error naming it */
  shoal_cimport_t only_log[] = {{"log", host_log, &log}};
  ASSERT_ERR(shoal_cinstance_new(s, c, only_log, 1, &inst, &d), SHOAL_ERR_LINK);
  if (!strstr(d.message, "host:math/ops@1.0.0#add")) TEST_FAIL("message: %s", d.message);
  shoal_cimport_t imps[] = {{"log", host_log, &log}, {"host:math/ops@1.0.0#add", host_add, NULL}};
  ASSERT_OK_DIAG(shoal_cinstance_new(s, c, imps, 2, &inst, &d), &d);
  shoal_cval_t x = {.kind = SHOAL_CT_S32, .of.s = 5}, r;
  ASSERT_OK_DIAG(shoal_cfunc_call(s, shoal_cinstance_func(inst, "run"), &x, 1, &r, &d), &d);
  ASSERT_EQ_INT(r.of.s, 10 + 1005);
  ASSERT_EQ_STR(log.last, "hello host");
  ASSERT_EQ_INT(log.calls, 1);
  shoal_cinstance_free(inst);
  shoal_store_free(s);
  shoal_component_free(c);
}
