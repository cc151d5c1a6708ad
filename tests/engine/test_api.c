/*
** Engine public API: module load errors with offsets, descriptors, host
** functions, typed calls, memories, globals, tables, linking.
*/
#include "eng_util.h"

/* {===================================================================
** Module load errors: code and byte offset
** =================================================================== */
#define HDR 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00

static shoal_err_t load(const uint8_t *b, size_t n, shoal_diag_t *diag) {
  shoal_module_t *m = NULL;
  shoal_diag_clear(diag);
  shoal_err_t err = shoal_module_new(b, n, &m, diag);
  if (err == SHOAL_ERR_OK) {
    ASSERT_TRUE(m != NULL);
    shoal_module_free(m);
  } else {
    ASSERT_TRUE(m == NULL);
    ASSERT_EQ_INT(diag->code, err);
  }
  return err;
}

TEST(load_minimal_module) {
  static const uint8_t b[] = { HDR };
  shoal_diag_t d;
  ASSERT_OK_DIAG(load(b, sizeof b, &d), &d);
}

TEST(load_bad_magic) {
  static const uint8_t b[] = { 0x00, 0x61, 0x73, 0x6e, 0x01, 0x00, 0x00, 0x00 };
  shoal_diag_t d;
  ASSERT_ERR(load(b, sizeof b, &d), SHOAL_ERR_MALFORMED);
  ASSERT_EQ_INT(d.offset, 0);
  ASSERT_CONTAINS(d.message, "magic header not detected");
}

TEST(load_bad_version) {
  static const uint8_t b[] = { 0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00 };
  shoal_diag_t d;
  ASSERT_ERR(load(b, sizeof b, &d), SHOAL_ERR_MALFORMED);
  ASSERT_EQ_INT(d.offset, 4);
  ASSERT_CONTAINS(d.message, "unknown binary version");
}

TEST(load_truncated_header) {
  static const uint8_t b[] = { 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00 };
  shoal_diag_t d;
  ASSERT_ERR(load(b, sizeof b, &d), SHOAL_ERR_MALFORMED);
  ASSERT_EQ_INT(d.offset, 4);   /* the version starts there and is cut short */
  ASSERT_CONTAINS(d.message, "unexpected end");
  ASSERT_ERR(load(b, 0, &d), SHOAL_ERR_MALFORMED);
  ASSERT_EQ_INT(d.offset, 0);
}

TEST(load_truncated_section) {
  /* The type section says 5 bytes of contents; only 3 follow (from 10). */
  static const uint8_t b[] = { HDR, 0x01, 0x05, 0x01, 0x60, 0x00 };
  shoal_diag_t d;
  ASSERT_ERR(load(b, sizeof b, &d), SHOAL_ERR_MALFORMED);
  ASSERT_EQ_INT(d.offset, 10);
  ASSERT_CONTAINS(d.message, "length out of bounds");
  /* A section id with no size after it: the size would begin at 9. */
  static const uint8_t c[] = { HDR, 0x01 };
  ASSERT_ERR(load(c, sizeof c, &d), SHOAL_ERR_MALFORMED);
  ASSERT_EQ_INT(d.offset, 9);
  ASSERT_CONTAINS(d.message, "unexpected end");
}

TEST(load_truncated_function_body) {
  /* type () -> (); one function; the code section claims a body of 4
  ** bytes, the section itself ends after 2 of them. */
  static const uint8_t b[] = { HDR,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,       /* 8: type section */
    0x03, 0x02, 0x01, 0x00,                   /* 14: function section */
    0x0a, 0x04, 0x01, 0x04, 0x00, 0x01 };     /* 18: code section, body at 22 */
  shoal_diag_t d;
  ASSERT_ERR(load(b, sizeof b, &d), SHOAL_ERR_MALFORMED);
  ASSERT_CONTAINS(d.message, "unexpected end");
  ASSERT_EQ_INT(d.offset, 22);   /* the body that does not fit begins there */
}

TEST(load_bad_section_id) {
  /* A valid type section (8..13), then section id 14 at offset 14. */
  static const uint8_t b[] = { HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x0e, 0x00 };
  shoal_diag_t d;
  ASSERT_ERR(load(b, sizeof b, &d), SHOAL_ERR_MALFORMED);
  ASSERT_EQ_INT(d.offset, 14);
  ASSERT_CONTAINS(d.message, "malformed section id 14");
}

TEST(load_section_out_of_order) {
  /* function section (id 3) at 8, then a type section (id 1) at 11. */
  static const uint8_t b[] = { HDR, 0x03, 0x01, 0x00, 0x01, 0x01, 0x00 };
  shoal_diag_t d;
  ASSERT_ERR(load(b, sizeof b, &d), SHOAL_ERR_MALFORMED);
  ASSERT_EQ_INT(d.offset, 11);
}

TEST(load_simd_type_unsupported) {
  /* type (v128) -> (): the v128 byte is at offset 13. */
  static const uint8_t b[] = { HDR, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7b, 0x00 };
  shoal_diag_t d;
  ASSERT_ERR(load(b, sizeof b, &d), SHOAL_ERR_UNSUPPORTED);
  ASSERT_EQ_STR(d.message, "SIMD is not supported yet");
  ASSERT_EQ_INT(d.offset, 13);
}

TEST(load_simd_instruction_unsupported) {
  /* One function () -> () whose body is v128.const 0; drop; end. */
  static const uint8_t b[] = { HDR,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,       /* 8: type section */
    0x03, 0x02, 0x01, 0x00,                   /* 14: function section */
    0x0a, 0x17, 0x01, 0x15, 0x00,             /* 18: code section; locals at 22 */
    0xfd, 0x0c,                               /* 23: v128.const */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x1a, 0x0b };
  shoal_diag_t d;
  ASSERT_ERR(load(b, sizeof b, &d), SHOAL_ERR_UNSUPPORTED);
  ASSERT_EQ_STR(d.message, "SIMD is not supported yet");
  ASSERT_EQ_INT(d.offset, 23);
}

TEST(load_invalid_module) {
  /* () -> (i32) whose body is just `end`: a type error, not malformed. */
  static const uint8_t b[] = { HDR,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
    0x03, 0x02, 0x01, 0x00,
    0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b };
  shoal_diag_t d;
  ASSERT_ERR(load(b, sizeof b, &d), SHOAL_ERR_INVALID);
  ASSERT_CONTAINS(d.message, "type mismatch");
  ASSERT_TRUE(d.offset > 0 && d.offset < (int64_t)sizeof b);
}

TEST(load_every_truncation_fails_cleanly) {
  /* Every proper prefix of a real module is rejected with an offset
  ** inside the prefix (or at its end), never accepted or crashing. */
  char path[512];
  snprintf(path, sizeof path, "%s/eng_api.wasm", SHOAL_WASM_DIR);
  size_t len = 0;
  uint8_t *bytes = util_read_file(path, &len);
  ASSERT_TRUE(bytes != NULL);
  int accepted = 0;
  for (size_t n = 0; n < len; n++) {
    uint8_t *copy = malloc(n + 1);
    ASSERT_TRUE(copy != NULL);
    memcpy(copy, bytes, n);
    shoal_diag_t d;
    shoal_err_t err = load(copy, n, &d);
    free(copy);
    if (err == SHOAL_ERR_OK) {
      /* Cutting exactly between sections leaves a valid module only if
      ** no function lacks its body; count such cuts. */
      accepted++;
      continue;
    }
    if (err != SHOAL_ERR_MALFORMED) {
      free(bytes);
      TEST_FAIL("prefix of %zu bytes: %s (%s)", n, shoal_err_name(err), d.message);
    }
    if (d.offset < 0 || d.offset > (int64_t)n) {
      free(bytes);
      TEST_FAIL("prefix of %zu bytes: offset %lld (%s)", n, (long long)d.offset, d.message);
    }
  }
  free(bytes);
  ASSERT_TRUE(accepted < 8);
}

/* }=================================================================== */

/* {===================================================================
** Descriptors
** =================================================================== */
static bool name_is(const char *s, size_t len, const char *want) {
  return len == strlen(want) && memcmp(s, want, len) == 0;
}

TEST(import_descriptors) {
  shoal_module_t *m = util_module("eng_api");
  ASSERT_EQ_INT(shoal_module_import_count(m), 3);
  shoal_import_desc_t d;
  shoal_module_import(m, 0, &d);
  ASSERT_TRUE(name_is(d.module, d.module_len, "env"));
  ASSERT_TRUE(name_is(d.name, d.name_len, "mix"));
  ASSERT_EQ_INT(d.type.kind, SHOAL_EXTERN_FUNC);
  ASSERT_EQ_INT(d.type.func.nparams, 4);
  ASSERT_EQ_INT(d.type.func.nresults, 2);
  ASSERT_EQ_INT(d.type.func.params[0], SHOAL_I32);
  ASSERT_EQ_INT(d.type.func.params[1], SHOAL_I64);
  ASSERT_EQ_INT(d.type.func.params[2], SHOAL_F32);
  ASSERT_EQ_INT(d.type.func.params[3], SHOAL_F64);
  ASSERT_EQ_INT(d.type.func.results[0], SHOAL_F64);
  ASSERT_EQ_INT(d.type.func.results[1], SHOAL_I64);
  shoal_module_import(m, 1, &d);
  ASSERT_TRUE(name_is(d.name, d.name_len, "g_imm"));
  ASSERT_EQ_INT(d.type.kind, SHOAL_EXTERN_GLOBAL);
  ASSERT_EQ_INT(d.type.global_type, SHOAL_I32);
  ASSERT_TRUE(!d.type.global_mutable);
  shoal_module_import(m, 2, &d);
  ASSERT_TRUE(name_is(d.name, d.name_len, "g_mut"));
  ASSERT_EQ_INT(d.type.global_type, SHOAL_I64);
  ASSERT_TRUE(d.type.global_mutable);
  shoal_module_free(m);
}

TEST(export_descriptors) {
  shoal_module_t *m = util_module("eng_api");
  size_t n = shoal_module_export_count(m);
  ASSERT_EQ_INT(n, 13);
  bool seen_mem = false, seen_table = false, seen_counter = false, seen_half = false,
       seen_swap = false;
  for (size_t i = 0; i < n; i++) {
    shoal_export_desc_t e;
    shoal_module_export(m, i, &e);
    if (name_is(e.name, e.name_len, "memory")) {
      seen_mem = true;
      ASSERT_EQ_INT(e.type.kind, SHOAL_EXTERN_MEMORY);
      ASSERT_EQ_INT(e.type.limits.min, 1);
      ASSERT_TRUE(e.type.limits.has_max);
      ASSERT_EQ_INT(e.type.limits.max, 4);
    } else if (name_is(e.name, e.name_len, "table")) {
      seen_table = true;
      ASSERT_EQ_INT(e.type.kind, SHOAL_EXTERN_TABLE);
      ASSERT_EQ_INT(e.type.elem, SHOAL_FUNCREF);
      ASSERT_EQ_INT(e.type.limits.min, 2);
      ASSERT_EQ_INT(e.type.limits.max, 10);
    } else if (name_is(e.name, e.name_len, "counter")) {
      seen_counter = true;
      ASSERT_EQ_INT(e.type.kind, SHOAL_EXTERN_GLOBAL);
      ASSERT_EQ_INT(e.type.global_type, SHOAL_I32);
      ASSERT_TRUE(e.type.global_mutable);
    } else if (name_is(e.name, e.name_len, "half")) {
      seen_half = true;
      ASSERT_EQ_INT(e.type.global_type, SHOAL_F64);
      ASSERT_TRUE(!e.type.global_mutable);
    } else if (name_is(e.name, e.name_len, "swap")) {
      seen_swap = true;
      ASSERT_EQ_INT(e.type.kind, SHOAL_EXTERN_FUNC);
      ASSERT_EQ_INT(e.type.func.nparams, 2);
      ASSERT_EQ_INT(e.type.func.nresults, 2);
      ASSERT_EQ_INT(e.type.func.results[0], SHOAL_I64);
      ASSERT_EQ_INT(e.type.func.results[1], SHOAL_I32);
    }
  }
  ASSERT_TRUE(seen_mem && seen_table && seen_counter && seen_half && seen_swap);
  /* The name section names the defined functions (wat2wasm --debug-names). */
  ASSERT_EQ_STR(shoal_module_func_name(m, 1), "double");
  ASSERT_TRUE(shoal_module_func_name(m, 1000) == NULL);
  /* Sections are listed in order with their contents' extent. */
  size_t ns = shoal_module_section_count(m);
  ASSERT_TRUE(ns >= 10);
  size_t prev_end = 8;
  for (size_t i = 0; i < ns; i++) {
    shoal_section_info_t si;
    shoal_module_section(m, i, &si);
    ASSERT_TRUE(si.offset > prev_end);
    prev_end = si.offset + si.size;
    if (si.id == 0) ASSERT_TRUE(name_is(si.custom_name, si.custom_name_len, "name"));
  }
  shoal_module_free(m);
}

/* }=================================================================== */

/* {===================================================================
** Host functions, typed calls, memory, globals, tables
** =================================================================== */
typedef struct mix_env {
  int calls;
  int32_t a;
  int64_t b;
  float c;
  double d;
  bool had_instance, had_memory;
  int freed;
} mix_env;

/* (i32 i64 f32 f64) -> (f64 i64): returns a+b+c+d and a*b, and writes "HI"
** at address 100 of the caller's memory. */
static shoal_err_t host_mix(shoal_caller_t *c, void *env, shoal_raw_t *io) {
  mix_env *e = env;
  e->calls++;
  e->a = (int32_t)(uint32_t)io[0];
  e->b = (int64_t)io[1];
  uint32_t fb = (uint32_t)io[2];
  memcpy(&e->c, &fb, 4);
  memcpy(&e->d, &io[3], 8);
  e->had_instance = shoal_caller_instance(c) != NULL;
  shoal_memory_t *mem = shoal_caller_memory(c);
  e->had_memory = mem != NULL;
  if (mem && shoal_memory_write(mem, 100, "HI", 2) != SHOAL_ERR_OK) return SHOAL_ERR_TRAP_MEM_OOB;
  double sum = (double)e->a + (double)e->b + (double)e->c + e->d;
  memcpy(&io[0], &sum, 8);
  io[1] = (shoal_raw_t)(e->a * e->b);
  return SHOAL_ERR_OK;
}

static void mix_env_free(void *p) { ((mix_env *)p)->freed++; }

typedef struct api_fixture {
  shoal_module_t *m;
  shoal_store_t *s;
  shoal_instance_t *inst;
  shoal_func_t *mix;
  shoal_global_t *g_imm, *g_mut;
} api_fixture;

static void api_setup(api_fixture *fx, mix_env *env) {
  memset(fx, 0, sizeof *fx);
  fx->m = util_module("eng_api");
  fx->s = util_store(NULL);
  static const shoal_valtype_t params[] = { SHOAL_I32, SHOAL_I64, SHOAL_F32, SHOAL_F64 };
  static const shoal_valtype_t results[] = { SHOAL_F64, SHOAL_I64 };
  shoal_functype_t ft = { 4, 2, params, results };
  shoal_func_t *mix = shoal_func_new_host(fx->s, &ft, host_mix, env, mix_env_free);
  ASSERT_TRUE(mix != NULL);
  fx->mix = mix;
  fx->g_imm = shoal_global_new(fx->s, SHOAL_I32, false, util_i32(-5));
  fx->g_mut = shoal_global_new(fx->s, SHOAL_I64, true, util_i64(1234567890123LL));
  ASSERT_TRUE(fx->g_imm && fx->g_mut);
  shoal_extern_t imports[3];
  imports[0].kind = SHOAL_EXTERN_FUNC;
  imports[0].of.func = mix;
  imports[1].kind = SHOAL_EXTERN_GLOBAL;
  imports[1].of.global = fx->g_imm;
  imports[2].kind = SHOAL_EXTERN_GLOBAL;
  imports[2].of.global = fx->g_mut;
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_instance_new(fx->s, fx->m, imports, 3, &fx->inst, &d), &d);
  ASSERT_TRUE(fx->inst != NULL);
  ASSERT_TRUE(shoal_instance_module(fx->inst) == fx->m);
}

static void api_teardown(api_fixture *fx) {
  shoal_store_free(fx->s);
  shoal_module_free(fx->m);
}

TEST(host_function_typed_values) {
  mix_env env;
  memset(&env, 0, sizeof env);
  api_fixture fx;
  api_setup(&fx, &env);
  shoal_func_t *f = shoal_instance_func(fx.inst, "call_mix");
  ASSERT_TRUE(f != NULL);
  shoal_functype_t ft;
  shoal_func_type(f, &ft);
  ASSERT_EQ_INT(ft.nparams, 4);
  ASSERT_EQ_INT(ft.nresults, 2);
  ASSERT_EQ_INT(ft.results[0], SHOAL_F64);

  shoal_val_t args[4] = { util_i32(-3), util_i64(5000000000LL), util_f32(0.25f), util_f64(1.5) };
  shoal_val_t res[2];
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_func_call(fx.s, f, args, 4, res, 2, &d), &d);
  ASSERT_EQ_INT(env.calls, 1);
  ASSERT_EQ_INT(env.a, -3);
  ASSERT_EQ_INT(env.b, 5000000000LL);
  ASSERT_TRUE(env.c == 0.25f);
  ASSERT_TRUE(env.d == 1.5);
  ASSERT_TRUE(env.had_instance && env.had_memory);
  ASSERT_EQ_INT(res[0].type, SHOAL_F64);
  ASSERT_TRUE(util_as_f64(res[0]) == -3.0 + 5000000000.0 + 0.25 + 1.5);
  ASSERT_EQ_INT(res[1].type, SHOAL_I64);
  ASSERT_EQ_INT(res[1].of.i64, -15000000000LL);

  /* The host wrote into the instance's memory. */
  shoal_memory_t *mem = shoal_instance_memory(fx.inst, "memory");
  ASSERT_TRUE(mem != NULL);
  ASSERT_TRUE(memcmp(shoal_memory_data(mem) + 100, "HI", 2) == 0);

  /* Argument checking: count, type, result room. */
  ASSERT_ERR(shoal_func_call(fx.s, f, args, 3, res, 2, &d), SHOAL_ERR_ARG);
  args[1] = util_i32(1);
  ASSERT_ERR(shoal_func_call(fx.s, f, args, 4, res, 2, &d), SHOAL_ERR_ARG);
  ASSERT_CONTAINS(d.message, "argument 1: expected i64, got i32");
  args[1] = util_i64(1);
  ASSERT_ERR(shoal_func_call(fx.s, f, args, 4, res, 1, &d), SHOAL_ERR_ARG);
  ASSERT_EQ_INT(env.calls, 1);

  /* Calling the host function directly, with raw slots: no caller
  ** instance, so no memory either. */
  float quarter = 0.25f;
  uint32_t qbits;
  memcpy(&qbits, &quarter, 4);
  double two = 2.0;
  shoal_raw_t io[4] = { 2, 3, qbits, 0 };
  memcpy(&io[3], &two, 8);
  ASSERT_OK_DIAG(shoal_func_call_raw(fx.s, fx.mix, io, &d), &d);
  ASSERT_EQ_INT(env.calls, 2);
  ASSERT_TRUE(!env.had_instance && !env.had_memory);
  double sum;
  memcpy(&sum, &io[0], 8);
  ASSERT_TRUE(sum == 7.25);
  ASSERT_EQ_INT(io[1], 6);
  shoal_extern_t ex;
  ASSERT_TRUE(!shoal_instance_export(fx.inst, "mix", 3, &ex));
  ASSERT_EQ_INT(env.freed, 0);
  api_teardown(&fx);
  ASSERT_EQ_INT(env.freed, 1);   /* env_free ran when the store was freed */
}

TEST(raw_calls_and_multi_value) {
  mix_env env;
  memset(&env, 0, sizeof env);
  api_fixture fx;
  api_setup(&fx, &env);
  shoal_func_t *swap = shoal_instance_func(fx.inst, "swap");
  ASSERT_TRUE(swap != NULL);
  shoal_raw_t io[2] = { (uint32_t)-7, (shoal_raw_t)0x123456789abcLL };
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_func_call_raw(fx.s, swap, io, &d), &d);
  ASSERT_EQ_INT(io[0], 0x123456789abcLL);
  ASSERT_EQ_INT(io[1], (uint32_t)-7);

  shoal_val_t args[2] = { util_i32(42), util_i64(-1) }, res[2];
  ASSERT_OK(shoal_func_call(fx.s, swap, args, 2, res, 2, &d));
  ASSERT_EQ_INT(res[0].type, SHOAL_I64);
  ASSERT_EQ_INT(res[0].of.i64, -1);
  ASSERT_EQ_INT(res[1].type, SHOAL_I32);
  ASSERT_EQ_INT(res[1].of.i32, 42);

  /* Raw <-> typed conversions keep i32 zero-extended and float bits. */
  shoal_val_t v = util_i32(-1);
  ASSERT_EQ_INT(shoal_val_to_raw(&v), 0xffffffffULL);
  v = shoal_val_from_raw(SHOAL_F32, 0x7fc00001u);
  ASSERT_EQ_INT(v.of.f32_bits, 0x7fc00001u);
  api_teardown(&fx);
}

TEST(memory_read_write_grow) {
  mix_env env;
  memset(&env, 0, sizeof env);
  api_fixture fx;
  api_setup(&fx, &env);
  shoal_memory_t *mem = shoal_instance_memory(fx.inst, "memory");
  ASSERT_TRUE(mem != NULL);
  ASSERT_EQ_INT(shoal_memory_pages(mem), 1);
  ASSERT_EQ_INT(shoal_memory_size(mem), 65536);
  /* The data segment put "shoal" at 8. */
  char buf[6] = { 0 };
  ASSERT_OK(shoal_memory_read(mem, 8, buf, 5));
  ASSERT_EQ_STR(buf, "shoal");
  /* A host write is seen by wasm loads. */
  ASSERT_OK(shoal_memory_write(mem, 65535, "\xab", 1));
  int32_t r = 0;
  shoal_diag_t d;
  ASSERT_OK(util_call_i32(fx.s, fx.inst, "load8", 65535, &r, &d));
  ASSERT_EQ_INT(r, 0xab);
  /* Bounds: the last byte is fine, one past is not, nothing is copied. */
  ASSERT_ERR(shoal_memory_write(mem, 65535, "xy", 2), SHOAL_ERR_TRAP_MEM_OOB);
  ASSERT_ERR(shoal_memory_read(mem, 65536, buf, 1), SHOAL_ERR_TRAP_MEM_OOB);
  ASSERT_ERR(shoal_memory_read(mem, UINT64_MAX, buf, 2), SHOAL_ERR_TRAP_MEM_OOB);
  ASSERT_OK(shoal_memory_read(mem, 65536, buf, 0));
  ASSERT_EQ_INT((uint8_t)shoal_memory_data(mem)[65535], 0xab);

  /* Growth from wasm and from the host up to the declared max of 4. */
  ASSERT_OK(util_call_i32(fx.s, fx.inst, "grow", 1, &r, &d));
  ASSERT_EQ_INT(r, 1);
  ASSERT_EQ_INT(shoal_memory_grow(mem, 2), 2);
  ASSERT_EQ_INT(shoal_memory_pages(mem), 4);
  ASSERT_EQ_INT(shoal_memory_grow(mem, 1), -1);
  ASSERT_OK(util_call_i32(fx.s, fx.inst, "grow", 1, &r, &d));
  ASSERT_EQ_INT(r, -1);
  /* New pages read as zero and are usable by wasm. */
  ASSERT_OK(util_call_i32(fx.s, fx.inst, "load8", 4 * 65536 - 1, &r, &d));
  ASSERT_EQ_INT(r, 0);
  shoal_limits_t lim;
  shoal_memory_type(mem, &lim);
  ASSERT_EQ_INT(lim.min, 4);
  ASSERT_EQ_INT(lim.max, 4);

  /* A host-made memory. */
  shoal_limits_t l2 = { 2, 3, true };
  shoal_memory_t *hm = shoal_memory_new(fx.s, &l2);
  ASSERT_TRUE(hm != NULL);
  ASSERT_EQ_INT(shoal_memory_size(hm), 2 * 65536);
  ASSERT_EQ_INT(shoal_memory_grow(hm, 2), -1);
  ASSERT_EQ_INT(shoal_memory_grow(hm, 1), 2);
  shoal_limits_t bad = { 3, 2, true };
  ASSERT_TRUE(shoal_memory_new(fx.s, &bad) == NULL);
  api_teardown(&fx);
}

TEST(globals_get_set) {
  mix_env env;
  memset(&env, 0, sizeof env);
  api_fixture fx;
  api_setup(&fx, &env);
  shoal_extern_t ex;
  ASSERT_TRUE(shoal_instance_export(fx.inst, "counter", 7, &ex));
  ASSERT_EQ_INT(ex.kind, SHOAL_EXTERN_GLOBAL);
  shoal_global_t *counter = ex.of.global;
  shoal_valtype_t t;
  bool mut;
  shoal_global_type(counter, &t, &mut);
  ASSERT_EQ_INT(t, SHOAL_I32);
  ASSERT_TRUE(mut);
  ASSERT_EQ_INT(shoal_global_get(counter).of.i32, 7);

  shoal_func_t *bump = shoal_instance_func(fx.inst, "bump");
  shoal_val_t r;
  shoal_diag_t d;
  ASSERT_OK(shoal_func_call(fx.s, bump, NULL, 0, &r, 1, &d));
  ASSERT_EQ_INT(r.of.i32, 8);
  ASSERT_EQ_INT(shoal_global_get(counter).of.i32, 8);
  /* The host sets it, wasm sees it. */
  ASSERT_OK(shoal_global_set(counter, util_i32(100)));
  ASSERT_OK(shoal_func_call(fx.s, bump, NULL, 0, &r, 1, &d));
  ASSERT_EQ_INT(r.of.i32, 101);
  /* Wrong type. */
  ASSERT_ERR(shoal_global_set(counter, util_i64(1)), SHOAL_ERR_ARG);
  ASSERT_EQ_INT(shoal_global_get(counter).of.i32, 101);

  /* An immutable exported global cannot be set. */
  ASSERT_TRUE(shoal_instance_export(fx.inst, "half", 4, &ex));
  shoal_global_t *half = ex.of.global;
  shoal_global_type(half, &t, &mut);
  ASSERT_EQ_INT(t, SHOAL_F64);
  ASSERT_TRUE(!mut);
  ASSERT_TRUE(util_as_f64(shoal_global_get(half)) == 0.5);
  ASSERT_ERR(shoal_global_set(half, util_f64(2.0)), SHOAL_ERR_ARG);
  ASSERT_TRUE(util_as_f64(shoal_global_get(half)) == 0.5);

  /* Imported globals: read by wasm; the mutable one written by wasm is
  ** seen by the host (the same global, not a copy). */
  shoal_func_t *ig = shoal_instance_func(fx.inst, "imported_globals");
  shoal_val_t two[2];
  ASSERT_OK(shoal_func_call(fx.s, ig, NULL, 0, two, 2, &d));
  ASSERT_EQ_INT(two[0].of.i32, -5);
  ASSERT_EQ_INT(two[1].of.i64, 1234567890123LL);
  shoal_val_t a = util_i64(-99);
  ASSERT_OK(shoal_func_call(fx.s, shoal_instance_func(fx.inst, "set_gm"), &a, 1, NULL, 0, &d));
  ASSERT_EQ_INT(shoal_global_get(fx.g_mut).of.i64, -99);
  ASSERT_ERR(shoal_global_set(fx.g_imm, util_i32(1)), SHOAL_ERR_ARG);
  ASSERT_OK(shoal_global_set(fx.g_mut, util_i64(77)));
  ASSERT_OK(shoal_func_call(fx.s, ig, NULL, 0, two, 2, &d));
  ASSERT_EQ_INT(two[1].of.i64, 77);
  /* Globals of a type that does not fit, or a mismatched value. */
  ASSERT_TRUE(shoal_global_new(fx.s, SHOAL_I32, true, util_i64(0)) == NULL);
  api_teardown(&fx);
}

TEST(tables_get_set_grow) {
  mix_env env;
  memset(&env, 0, sizeof env);
  api_fixture fx;
  api_setup(&fx, &env);
  shoal_extern_t ex;
  ASSERT_TRUE(shoal_instance_export(fx.inst, "table", 5, &ex));
  ASSERT_EQ_INT(ex.kind, SHOAL_EXTERN_TABLE);
  shoal_table_t *t = ex.of.table;
  ASSERT_EQ_INT(shoal_table_size(t), 2);
  shoal_valtype_t et;
  shoal_limits_t lim;
  shoal_table_type(t, &et, &lim);
  ASSERT_EQ_INT(et, SHOAL_FUNCREF);
  ASSERT_EQ_INT(lim.max, 10);

  /* Slot 0 holds $double (elem segment), slot 1 is null. */
  shoal_val_t v;
  ASSERT_TRUE(shoal_table_get(t, 0, &v));
  ASSERT_EQ_INT(v.type, SHOAL_FUNCREF);
  ASSERT_TRUE(v.of.func == shoal_instance_func(fx.inst, "double"));
  ASSERT_TRUE(shoal_table_get(t, 1, &v));
  ASSERT_TRUE(v.of.func == NULL);
  ASSERT_TRUE(!shoal_table_get(t, 2, &v));

  shoal_func_t *ct = shoal_instance_func(fx.inst, "call_table");
  shoal_val_t args[2] = { util_i32(0), util_i32(21) }, r;
  shoal_diag_t d;
  ASSERT_OK(shoal_func_call(fx.s, ct, args, 2, &r, 1, &d));
  ASSERT_EQ_INT(r.of.i32, 42);
  args[0] = util_i32(1);
  ASSERT_ERR(shoal_func_call(fx.s, ct, args, 2, &r, 1, &d), SHOAL_ERR_TRAP_UNINIT_ELEM);

  /* The host puts a function into slot 1; wasm calls it. */
  shoal_val_t fv;
  memset(&fv, 0, sizeof fv);
  fv.type = SHOAL_FUNCREF;
  fv.of.func = shoal_instance_func(fx.inst, "double");
  ASSERT_TRUE(shoal_table_set(t, 1, fv));
  ASSERT_OK(shoal_func_call(fx.s, ct, args, 2, &r, 1, &d));
  ASSERT_EQ_INT(r.of.i32, 42);
  /* Wrong element type or index. */
  ASSERT_TRUE(!shoal_table_set(t, 1, util_i32(0)));
  ASSERT_TRUE(!shoal_table_set(t, 2, fv));

  /* Growth to the declared max of 10. */
  ASSERT_EQ_INT(shoal_table_grow(t, 3, fv), 2);
  ASSERT_EQ_INT(shoal_table_size(t), 5);
  args[0] = util_i32(4);
  ASSERT_OK(shoal_func_call(fx.s, ct, args, 2, &r, 1, &d));
  ASSERT_EQ_INT(r.of.i32, 42);
  ASSERT_EQ_INT(shoal_table_grow(t, 6, fv), -1);
  ASSERT_EQ_INT(shoal_table_grow(t, 5, fv), 5);
  args[0] = util_i32(10);
  ASSERT_ERR(shoal_func_call(fx.s, ct, args, 2, &r, 1, &d), SHOAL_ERR_TRAP_UNDEFINED_ELEM);

  /* A host-made externref table. */
  int cookie = 0;
  shoal_val_t ev;
  memset(&ev, 0, sizeof ev);
  ev.type = SHOAL_EXTERNREF;
  ev.of.ext = &cookie;
  shoal_limits_t l2 = { 3, 0, false };
  shoal_table_t *xt = shoal_table_new(fx.s, SHOAL_EXTERNREF, &l2, ev);
  ASSERT_TRUE(xt != NULL);
  ASSERT_TRUE(shoal_table_get(xt, 2, &v));
  ASSERT_TRUE(v.type == SHOAL_EXTERNREF && v.of.ext == &cookie);
  ASSERT_TRUE(shoal_table_new(fx.s, SHOAL_I32, &l2, util_i32(0)) == NULL);
  api_teardown(&fx);
}

/* }=================================================================== */

/* {===================================================================
** Linking
** =================================================================== */

/* Resolves "prov" imports from the exports of the instance in ud. */
static bool resolve_prov(void *ud, const shoal_import_desc_t *imp, shoal_extern_t *out) {
  if (!name_is(imp->module, imp->module_len, "prov")) return false;
  return shoal_instance_export(ud, imp->name, imp->name_len, out);
}

TEST(link_instances) {
  mix_env env;
  memset(&env, 0, sizeof env);
  api_fixture fx;
  api_setup(&fx, &env);
  shoal_module_t *lm = util_module("eng_link");
  shoal_extern_t imports[4];
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_module_resolve_imports(lm, resolve_prov, fx.inst, imports, &d), &d);
  shoal_instance_t *li = NULL;
  ASSERT_OK_DIAG(shoal_instance_new(fx.s, lm, imports, 4, &li, &d), &d);

  int32_t r = 0;
  /* A function of the provider called from the consumer. */
  ASSERT_OK(util_call_i32(fx.s, li, "quad", 5, &r, &d));
  ASSERT_EQ_INT(r, 20);
  /* The memory is shared: the provider's data segment is visible. */
  ASSERT_OK(util_call_i32(fx.s, li, "peek", 8, &r, &d));
  ASSERT_EQ_INT(r, 's');
  shoal_val_t args[2] = { util_i32(200), util_i32(0x5a) }, res;
  ASSERT_OK(shoal_func_call(fx.s, shoal_instance_func(li, "poke"), args, 2, NULL, 0, &d));
  ASSERT_OK(util_call_i32(fx.s, fx.inst, "load8", 200, &r, &d));
  ASSERT_EQ_INT(r, 0x5a);
  /* The table is shared. */
  args[0] = util_i32(0);
  args[1] = util_i32(9);
  ASSERT_OK(shoal_func_call(fx.s, shoal_instance_func(li, "via_table"), args, 2, &res, 1, &d));
  ASSERT_EQ_INT(res.of.i32, 18);
  /* The mutable global is shared both ways. */
  shoal_val_t one = util_i32(500);
  ASSERT_OK(shoal_func_call(fx.s, shoal_instance_func(li, "set_counter"), &one, 1, NULL, 0, &d));
  ASSERT_OK(shoal_func_call(fx.s, shoal_instance_func(fx.inst, "bump"), NULL, 0, &res, 1, &d));
  ASSERT_EQ_INT(res.of.i32, 501);
  ASSERT_OK(shoal_func_call(fx.s, shoal_instance_func(li, "counter"), NULL, 0, &res, 1, &d));
  ASSERT_EQ_INT(res.of.i32, 501);
  shoal_module_free(lm);
  api_teardown(&fx);
}

static shoal_err_t host_nop(shoal_caller_t *c, void *env, shoal_raw_t *io) {
  (void)c; (void)env; (void)io;
  return SHOAL_ERR_OK;
}

TEST(link_errors_name_import_and_types) {
  mix_env env;
  memset(&env, 0, sizeof env);
  api_fixture fx;
  api_setup(&fx, &env);
  shoal_module_t *lm = util_module("eng_link");
  shoal_extern_t imports[4];
  shoal_diag_t d;
  ASSERT_OK(shoal_module_resolve_imports(lm, resolve_prov, fx.inst, imports, &d));
  shoal_instance_t *li = NULL;

  /* A function of the wrong type. */
  shoal_extern_t bad[4];
  memcpy(bad, imports, sizeof bad);
  static const shoal_valtype_t i64s[] = { SHOAL_I64, SHOAL_I64 };
  shoal_functype_t ft = { 1, 1, i64s, i64s + 1 };
  bad[0].of.func = shoal_func_new_host(fx.s, &ft, host_nop, NULL, NULL);
  ASSERT_ERR(shoal_instance_new(fx.s, lm, bad, 4, &li, &d), SHOAL_ERR_LINK);
  ASSERT_TRUE(li == NULL);
  ASSERT_EQ_INT(d.code, SHOAL_ERR_LINK);
  ASSERT_CONTAINS(d.message, "\"prov\" \"double\"");
  ASSERT_CONTAINS(d.message, "expected func (i32) -> (i32), got func (i64) -> (i64)");

  /* The wrong kind. */
  memcpy(bad, imports, sizeof bad);
  bad[1] = imports[0];
  ASSERT_ERR(shoal_instance_new(fx.s, lm, bad, 4, &li, &d), SHOAL_ERR_LINK);
  ASSERT_CONTAINS(d.message, "\"prov\" \"memory\"");
  ASSERT_CONTAINS(d.message, "expected memory, got func");

  /* A memory too small for the declared minimum. */
  shoal_limits_t zero = { 0, 0, false };
  memcpy(bad, imports, sizeof bad);
  bad[1].of.memory = shoal_memory_new(fx.s, &zero);
  ASSERT_ERR(shoal_instance_new(fx.s, lm, bad, 4, &li, &d), SHOAL_ERR_LINK);
  ASSERT_CONTAINS(d.message, "expected memory {min 1}, got memory {min 0}");

  /* A global of the wrong mutability. */
  memcpy(bad, imports, sizeof bad);
  bad[3].of.global = shoal_global_new(fx.s, SHOAL_I32, false, util_i32(0));
  ASSERT_ERR(shoal_instance_new(fx.s, lm, bad, 4, &li, &d), SHOAL_ERR_LINK);
  ASSERT_CONTAINS(d.message, "\"prov\" \"counter\"");
  ASSERT_CONTAINS(d.message, "expected global mut i32, got global i32");

  /* A table of the wrong element type. */
  shoal_val_t nullext;
  memset(&nullext, 0, sizeof nullext);
  nullext.type = SHOAL_EXTERNREF;
  shoal_limits_t two = { 2, 0, false };
  memcpy(bad, imports, sizeof bad);
  bad[2].of.table = shoal_table_new(fx.s, SHOAL_EXTERNREF, &two, nullext);
  ASSERT_ERR(shoal_instance_new(fx.s, lm, bad, 4, &li, &d), SHOAL_ERR_LINK);
  ASSERT_CONTAINS(d.message, "\"prov\" \"table\"");
  ASSERT_CONTAINS(d.message, "expected table funcref");
  ASSERT_CONTAINS(d.message, "got table externref");

  /* Too few imports; an unresolvable import. */
  ASSERT_ERR(shoal_instance_new(fx.s, lm, imports, 3, &li, &d), SHOAL_ERR_LINK);
  ASSERT_ERR(shoal_module_resolve_imports(fx.m, resolve_prov, fx.inst, bad, &d), SHOAL_ERR_LINK);
  ASSERT_CONTAINS(d.message, "unknown import \"env\" \"mix\" (func)");

  /* After all that, the good imports still link. */
  ASSERT_OK_DIAG(shoal_instance_new(fx.s, lm, imports, 4, &li, &d), &d);
  int32_t r;
  ASSERT_OK(util_call_i32(fx.s, li, "quad", 1, &r, &d));
  ASSERT_EQ_INT(r, 4);
  shoal_module_free(lm);
  api_teardown(&fx);
}

TEST(error_names_and_messages) {
  ASSERT_EQ_STR(shoal_err_name(SHOAL_ERR_TRAP_DIV_ZERO), "TRAP_DIV_ZERO");
  ASSERT_EQ_STR(shoal_err_message(SHOAL_ERR_TRAP_STACK), "call stack exhausted");
  ASSERT_EQ_STR(shoal_err_name((shoal_err_t)999), "UNKNOWN");
  ASSERT_TRUE(shoal_err_is_trap(SHOAL_ERR_TRAP_HOST));
  ASSERT_TRUE(!shoal_err_is_trap(SHOAL_ERR_SUSPENDED));
  ASSERT_EQ_STR(shoal_valtype_name(SHOAL_EXTERNREF), "externref");
  ASSERT_EQ_STR(shoal_extern_kind_name(SHOAL_EXTERN_TABLE), "table");
  shoal_diag_t d;
  memset(&d, 0x55, sizeof d);
  shoal_diag_clear(&d);
  ASSERT_EQ_INT(d.code, SHOAL_ERR_OK);
  ASSERT_EQ_INT(d.offset, -1);
  ASSERT_EQ_INT(d.func, -1);
  ASSERT_EQ_STR(d.message, "");
}

/* }=================================================================== */

/* (i32) -> (i32): returns the argument plus the int in the store's data;
** env is the store the function was made in. */
static shoal_err_t host_store_data(shoal_caller_t *c, void *env, shoal_raw_t *io) {
  shoal_store_t *s = shoal_caller_store(c);
  if (s != env) return shoal_caller_trap(c, "caller store %p, made in %p", (void *)s, env);
  const int *add = shoal_store_data(s);
  io[0] = (uint32_t)((int32_t)(uint32_t)io[0] + *add);
  return SHOAL_ERR_OK;
}

TEST(store_data_and_caller_store) {
  shoal_store_t *s = util_store(NULL);
  ASSERT_TRUE(shoal_store_data(s) == NULL);
  int add = 40;
  shoal_store_set_data(s, &add);
  ASSERT_TRUE(shoal_store_data(s) == &add);
  static const shoal_valtype_t i32[] = { SHOAL_I32 };
  shoal_functype_t ft = { 1, 1, i32, i32 };
  shoal_func_t *f = shoal_func_new_host(s, &ft, host_store_data, s, NULL);
  ASSERT_TRUE(f != NULL);
  shoal_val_t a = util_i32(2), r;
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_func_call(s, f, &a, 1, &r, 1, &d), &d);
  ASSERT_EQ_INT(r.of.i32, 42);
  /* Bad host function types are refused. */
  static const shoal_valtype_t bogus[] = { (shoal_valtype_t)0x12 };
  shoal_functype_t bad = { 1, 0, bogus, NULL };
  ASSERT_TRUE(shoal_func_new_host(s, &bad, host_store_data, NULL, NULL) == NULL);
  shoal_functype_t null_params = { 2, 0, NULL, NULL };
  ASSERT_TRUE(shoal_func_new_host(s, &null_params, host_store_data, NULL, NULL) == NULL);
  /* A function of one store cannot be called through another. */
  shoal_store_t *other = util_store(NULL);
  shoal_module_t *m = util_module("eng_limits");
  shoal_instance_t *inst = NULL;
  ASSERT_OK(shoal_instance_new(s, m, NULL, 0, &inst, &d));
  ASSERT_ERR(shoal_func_call(other, shoal_instance_func(inst, "count"), &a, 1, &r, 1, &d),
             SHOAL_ERR_ARG);
  ASSERT_CONTAINS(d.message, "another store");
  shoal_store_free(other);
  shoal_store_free(s);
  shoal_module_free(m);
}
