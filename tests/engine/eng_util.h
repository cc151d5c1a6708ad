/*
** Helpers shared by the engine unit tests: loading the .wasm files the
** build makes from tests/wat, stores with a config, typed values.
*/
#ifndef ENG_UTIL_H
#define ENG_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "test.h"

__attribute__((unused)) static uint8_t *util_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t *buf = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n))) {
      if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
      }
      *len = (size_t)n;
    }
  }
  fclose(f);
  return buf;
}

/* Loads SHOAL_WASM_DIR/NAME.wasm (from tests/wat/NAME.wat); fails the test
** if it does not load. */
__attribute__((unused)) static shoal_module_t *util_module(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s.wasm", SHOAL_WASM_DIR, name);
  size_t len = 0;
  uint8_t *bytes = util_read_file(path, &len);
  if (!bytes) TEST_FAIL("cannot read %s", path);
  shoal_module_t *m = NULL;
  shoal_diag_t diag;
  shoal_err_t err = shoal_module_new(bytes, len, &m, &diag);
  free(bytes);
  if (err != SHOAL_ERR_OK) TEST_FAIL("%s: %s: %s", path, shoal_err_name(err), diag.message);
  return m;
}

__attribute__((unused)) static shoal_store_t *util_store(const shoal_store_config_t *cfg) {
  shoal_store_t *s = NULL;
  ASSERT_OK(shoal_store_new(cfg, &s));
  ASSERT_TRUE(s != NULL);
  return s;
}

/* A store configuration with every field 0 (the defaults), size set. */
__attribute__((unused)) static shoal_store_config_t util_config(void) {
  shoal_store_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.size = sizeof cfg;
  return cfg;
}

__attribute__((unused)) static shoal_val_t util_i32(int32_t x) {
  shoal_val_t v;
  memset(&v, 0, sizeof v);
  v.type = SHOAL_I32;
  v.of.i32 = x;
  return v;
}

__attribute__((unused)) static shoal_val_t util_i64(int64_t x) {
  shoal_val_t v;
  memset(&v, 0, sizeof v);
  v.type = SHOAL_I64;
  v.of.i64 = x;
  return v;
}

__attribute__((unused)) static shoal_val_t util_f32(float x) {
  shoal_val_t v;
  memset(&v, 0, sizeof v);
  v.type = SHOAL_F32;
  memcpy(&v.of.f32_bits, &x, 4);
  return v;
}

__attribute__((unused)) static shoal_val_t util_f64(double x) {
  shoal_val_t v;
  memset(&v, 0, sizeof v);
  v.type = SHOAL_F64;
  memcpy(&v.of.f64_bits, &x, 8);
  return v;
}

__attribute__((unused)) static double util_as_f64(shoal_val_t v) {
  double d;
  memcpy(&d, &v.of.f64_bits, 8);
  return d;
}

/* Calls the export `name` of inst with one i32 argument and one i32 result;
** returns the error, the result in *out. */
__attribute__((unused)) static shoal_err_t util_call_i32(shoal_store_t *s, shoal_instance_t *inst,
                                                         const char *name, int32_t arg,
                                                         int32_t *out, shoal_diag_t *diag) {
  shoal_func_t *f = shoal_instance_func(inst, name);
  if (!f) TEST_FAIL("no export %s", name);
  shoal_val_t a = util_i32(arg), r;
  memset(&r, 0, sizeof r);
  shoal_err_t err = shoal_func_call(s, f, &a, 1, &r, 1, diag);
  if (err == SHOAL_ERR_OK) {
    if (r.type != SHOAL_I32) TEST_FAIL("%s: result of type %s", name, shoal_valtype_name(r.type));
    *out = r.of.i32;
  }
  return err;
}

/* The i32 result of export `name` called with arg; fails the test on a trap. */
__attribute__((unused)) static int32_t util_i32_of(shoal_store_t *s, shoal_instance_t *inst, const char *name,
                                                   int32_t arg) {
  int32_t r = -1;
  shoal_diag_t d;
  ASSERT_OK_DIAG(util_call_i32(s, inst, name, arg, &r, &d), &d);
  return r;
}

/* An instance of m whose one import is a host function () -> i32. */
__attribute__((unused)) static shoal_instance_t *util_instance_with(shoal_store_t *s, const shoal_module_t *m,
                                                                    shoal_host_fn_t fn) {
  static const shoal_valtype_t res[] = {SHOAL_I32};
  shoal_functype_t ft = {.nparams = 0, .nresults = 1, .results = res};
  shoal_extern_t imp = {.kind = SHOAL_EXTERN_FUNC};
  imp.of.func = shoal_func_new_host(s, &ft, fn, NULL, NULL);
  ASSERT_TRUE(imp.of.func != NULL);
  shoal_instance_t *inst = NULL;
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_instance_new(s, m, &imp, 1, &inst, &d), &d);
  return inst;
}

/* strstr that fails the test with both strings when needle is absent. */
#define ASSERT_CONTAINS(hay, needle)                                        \
  do {                                                                      \
    const char *util_h_ = (hay), *util_n_ = (needle);                       \
    if (!strstr(util_h_, util_n_))                                          \
      TEST_FAIL("ASSERT_CONTAINS(%s, %s) failed: \"%s\" not in \"%s\"", #hay, #needle, \
                util_n_, util_h_);                                          \
  } while (0)

#endif
