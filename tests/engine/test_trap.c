/*
** Traps: each kind's code and message, backtraces with names from the name
** section, deep recursion, and a store that runs again after a trap.
*/
#include "eng_util.h"

/* "env" "fail" (i32) -> (): traps with a message when its argument is
** non-zero, exits the guest with status 3 when it is 3. */
static shoal_err_t host_fail(shoal_caller_t *c, void *env, shoal_raw_t *io) {
  int *calls = env;
  ++*calls;
  int32_t arg = (int32_t)(uint32_t)io[0];
  if (arg == 3) return shoal_caller_exit(c, 3);
  if (arg) return shoal_caller_trap(c, "host says no to %d", arg);
  return SHOAL_ERR_OK;
}

typedef struct trap_fixture {
  shoal_module_t *m;
  shoal_store_t *s;
  shoal_instance_t *inst;
  int host_calls;
} trap_fixture;

static void trap_setup(trap_fixture *fx, const shoal_store_config_t *cfg) {
  memset(fx, 0, sizeof *fx);
  fx->m = util_module("eng_trap");
  fx->s = util_store(cfg);
  static const shoal_valtype_t i32[] = { SHOAL_I32 };
  shoal_functype_t ft = { 1, 0, i32, NULL };
  shoal_extern_t imp;
  imp.kind = SHOAL_EXTERN_FUNC;
  imp.of.func = shoal_func_new_host(fx->s, &ft, host_fail, &fx->host_calls, NULL);
  ASSERT_TRUE(imp.of.func != NULL);
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_instance_new(fx->s, fx->m, &imp, 1, &fx->inst, &d), &d);
}

static void trap_teardown(trap_fixture *fx) {
  shoal_store_free(fx->s);
  shoal_module_free(fx->m);
}

/* Calls export name with args, expects trap code want with its default
** message, and that the backtrace's first frame is `top`. */
static void expect_trap(trap_fixture *fx, const char *name, const shoal_val_t *args, size_t nargs,
                        shoal_err_t want, const char *top, shoal_diag_t *d) {
  shoal_func_t *f = shoal_instance_func(fx->inst, name);
  if (!f) TEST_FAIL("no export %s", name);
  shoal_functype_t ft;
  shoal_func_type(f, &ft);
  shoal_val_t res[2];
  shoal_diag_clear(d);
  shoal_err_t err = shoal_func_call(fx->s, f, args, nargs, res, ft.nresults, d);
  if (err != want)
    TEST_FAIL("%s: got %s (%s), want %s", name, shoal_err_name(err), d->message,
              shoal_err_name(want));
  ASSERT_TRUE(shoal_err_is_trap(err));
  ASSERT_EQ_INT(d->code, want);
  ASSERT_EQ_STR(d->message, shoal_err_message(want));
  char first[128];
  snprintf(first, sizeof first, "  #0 %s (func ", top);
  if (strncmp(d->trace, first, strlen(first)) != 0)
    TEST_FAIL("%s: trace does not start with \"%s\":\n%s", name, first, d->trace);
}

TEST(trap_messages) {
  trap_fixture fx;
  trap_setup(&fx, NULL);
  shoal_diag_t d;
  shoal_val_t a[2];

  a[0] = util_i32(7); a[1] = util_i32(0);
  expect_trap(&fx, "div", a, 2, SHOAL_ERR_TRAP_DIV_ZERO, "div_inner", &d);
  ASSERT_EQ_STR(d.message, "integer divide by zero");
  expect_trap(&fx, "rem", a, 2, SHOAL_ERR_TRAP_DIV_ZERO, "rem", &d);

  a[0] = util_i32(INT32_MIN); a[1] = util_i32(-1);
  expect_trap(&fx, "overflow", a, 2, SHOAL_ERR_TRAP_INT_OVERFLOW, "overflow", &d);
  ASSERT_EQ_STR(d.message, "integer overflow");

  a[0] = util_i32(65533);
  expect_trap(&fx, "load", a, 1, SHOAL_ERR_TRAP_MEM_OOB, "load", &d);
  ASSERT_EQ_STR(d.message, "out of bounds memory access");
  a[0] = util_i32(-1);
  expect_trap(&fx, "load", a, 1, SHOAL_ERR_TRAP_MEM_OOB, "load", &d);
  a[0] = util_i32(65529);
  expect_trap(&fx, "store", a, 1, SHOAL_ERR_TRAP_MEM_OOB, "store", &d);

  a[0] = util_i32(1);
  expect_trap(&fx, "indirect", a, 1, SHOAL_ERR_TRAP_INDIRECT_TYPE, "indirect", &d);
  ASSERT_EQ_STR(d.message, "indirect call type mismatch");
  a[0] = util_i32(2);
  expect_trap(&fx, "indirect", a, 1, SHOAL_ERR_TRAP_UNINIT_ELEM, "indirect", &d);
  ASSERT_EQ_STR(d.message, "uninitialized element");
  a[0] = util_i32(4);
  expect_trap(&fx, "indirect", a, 1, SHOAL_ERR_TRAP_UNDEFINED_ELEM, "indirect", &d);
  ASSERT_EQ_STR(d.message, "undefined element");

  expect_trap(&fx, "unreach", NULL, 0, SHOAL_ERR_TRAP_UNREACHABLE, "unreach_inner", &d);
  ASSERT_EQ_STR(d.message, "unreachable executed");

  a[0] = util_f64(3e9);
  expect_trap(&fx, "conv", a, 1, SHOAL_ERR_TRAP_INT_OVERFLOW, "conv", &d);
  a[0] = util_f64(0.0 / 0.0);
  expect_trap(&fx, "conv", a, 1, SHOAL_ERR_TRAP_INVALID_CONV, "conv", &d);
  ASSERT_EQ_STR(d.message, "invalid conversion to integer");
  a[0] = util_f32(-1.0f);
  expect_trap(&fx, "conv_u", a, 1, SHOAL_ERR_TRAP_INT_OVERFLOW, "conv_u", &d);

  /* The farthest reachable addresses: 32-bit address plus 32-bit offset. */
  a[0] = util_i32(-1);
  expect_trap(&fx, "far", a, 1, SHOAL_ERR_TRAP_MEM_OOB, "far", &d);
  a[0] = util_i32(0);
  expect_trap(&fx, "far", a, 1, SHOAL_ERR_TRAP_MEM_OOB, "far", &d);
  a[0] = util_i32(0x10);
  expect_trap(&fx, "far8", a, 1, SHOAL_ERR_TRAP_MEM_OOB, "far8", &d);
  a[0] = util_i32(-0x10 - 1);   /* wraps in 64 bits to 0xffffffff + 0xffffffef: still out */
  expect_trap(&fx, "far8", a, 1, SHOAL_ERR_TRAP_MEM_OOB, "far8", &d);

  a[0] = util_i32(4);
  expect_trap(&fx, "table_get", a, 1, SHOAL_ERR_TRAP_TABLE_OOB, "table_get", &d);
  ASSERT_EQ_STR(d.message, "out of bounds table access");
  a[0] = util_i32(65000); a[1] = util_i32(537);
  expect_trap(&fx, "fill", a, 2, SHOAL_ERR_TRAP_MEM_OOB, "fill", &d);

  expect_trap(&fx, "forever", NULL, 0, SHOAL_ERR_TRAP_STACK, "forever", &d);
  ASSERT_EQ_STR(d.message, "call stack exhausted");

  /* The non-trapping neighbours of those cases work. */
  shoal_val_t r;
  a[0] = util_i32(-7); a[1] = util_i32(2);
  ASSERT_OK(shoal_func_call(fx.s, shoal_instance_func(fx.inst, "div"), a, 2, &r, 1, &d));
  ASSERT_EQ_INT(r.of.i32, -3);
  a[0] = util_i32(0);
  ASSERT_OK(shoal_func_call(fx.s, shoal_instance_func(fx.inst, "indirect"), a, 1, &r, 1, &d));
  ASSERT_EQ_INT(r.of.i32, 7);
  a[0] = util_i32(65532);
  ASSERT_OK(shoal_func_call(fx.s, shoal_instance_func(fx.inst, "load"), a, 1, &r, 1, &d));
  a[0] = util_f64(-2147483648.9);
  ASSERT_OK(shoal_func_call(fx.s, shoal_instance_func(fx.inst, "conv"), a, 1, &r, 1, &d));
  ASSERT_EQ_INT(r.of.i32, INT32_MIN);
  a[0] = util_i32(3);
  ASSERT_OK(shoal_func_call(fx.s, shoal_instance_func(fx.inst, "table_get"), a, 1, &r, 1, &d));
  ASSERT_TRUE(r.type == SHOAL_FUNCREF && r.of.func == NULL);
  a[0] = util_i32(65000); a[1] = util_i32(536);
  ASSERT_OK(shoal_func_call(fx.s, shoal_instance_func(fx.inst, "fill"), a, 2, NULL, 0, &d));
  trap_teardown(&fx);
}

TEST(backtrace_innermost_first_with_names) {
  trap_fixture fx;
  trap_setup(&fx, NULL);
  shoal_diag_t d;
  expect_trap(&fx, "unreach", NULL, 0, SHOAL_ERR_TRAP_UNREACHABLE, "unreach_inner", &d);
  /* Three frames, innermost first, each with its name and index. */
  const shoal_module_t *m = fx.m;
  char want[512];
  uint32_t inner = UINT32_MAX, mid = UINT32_MAX, outer = UINT32_MAX;
  for (uint32_t i = 0; i < 64; i++) {
    const char *n = shoal_module_func_name(m, i);
    if (!n) continue;
    if (strcmp(n, "unreach_inner") == 0) inner = i;
    if (strcmp(n, "unreach_mid") == 0) mid = i;
    if (strcmp(n, "unreach") == 0) outer = i;
  }
  ASSERT_TRUE(inner != UINT32_MAX && mid == inner + 1 && outer == inner + 2);
  snprintf(want, sizeof want,
           "  #0 unreach_inner (func %u)\n  #1 unreach_mid (func %u)\n  #2 unreach (func %u)\n",
           inner, mid, outer);
  ASSERT_EQ_STR(d.trace, want);
  ASSERT_EQ_INT(d.func, inner);
  ASSERT_EQ_STR(shoal_module_func_name(m, 0), "host_fail");   /* imported, named too */

  shoal_val_t a[2] = { util_i32(1), util_i32(0) };
  expect_trap(&fx, "div", a, 2, SHOAL_ERR_TRAP_DIV_ZERO, "div_inner", &d);
  ASSERT_CONTAINS(d.trace, "\n  #1 div_outer (func ");
  trap_teardown(&fx);
}

TEST(host_trap_and_exit) {
  trap_fixture fx;
  trap_setup(&fx, NULL);
  shoal_func_t *f = shoal_instance_func(fx.inst, "calls_host");
  shoal_diag_t d;
  shoal_val_t a = util_i32(42);
  ASSERT_ERR(shoal_func_call(fx.s, f, &a, 1, NULL, 0, &d), SHOAL_ERR_TRAP_HOST);
  ASSERT_EQ_INT(d.code, SHOAL_ERR_TRAP_HOST);
  ASSERT_EQ_STR(d.message, "host says no to 42");
  ASSERT_CONTAINS(d.trace, "calls_host (func ");
  a = util_i32(3);
  ASSERT_ERR(shoal_func_call(fx.s, f, &a, 1, NULL, 0, &d), SHOAL_ERR_EXIT);
  ASSERT_EQ_INT(d.code, SHOAL_ERR_EXIT);
  ASSERT_EQ_INT(d.exit_code, 3);
  ASSERT_TRUE(!shoal_err_is_trap(SHOAL_ERR_EXIT));
  a = util_i32(0);
  ASSERT_OK_DIAG(shoal_func_call(fx.s, f, &a, 1, NULL, 0, &d), &d);
  ASSERT_EQ_INT(fx.host_calls, 3);
  trap_teardown(&fx);
}

TEST(store_runs_again_after_traps) {
  trap_fixture fx;
  trap_setup(&fx, NULL);
  shoal_diag_t d;
  shoal_func_t *div = shoal_instance_func(fx.inst, "div");
  for (int round = 0; round < 50; round++) {
    shoal_val_t a[2] = { util_i32(round), util_i32(0) }, r;
    ASSERT_ERR(shoal_func_call(fx.s, div, a, 2, &r, 1, &d), SHOAL_ERR_TRAP_DIV_ZERO);
    /* A trap deep in the stack must not leave frames behind. */
    ASSERT_ERR(shoal_func_call(fx.s, shoal_instance_func(fx.inst, "forever"), NULL, 0, NULL, 0, &d),
               SHOAL_ERR_TRAP_STACK);
    a[1] = util_i32(2);
    ASSERT_OK(shoal_func_call(fx.s, div, a, 2, &r, 1, &d));
    ASSERT_EQ_INT(r.of.i32, round / 2);
  }
  /* The full default depth is still available after all those traps. */
  int32_t r = 0;
  ASSERT_OK_DIAG(util_call_i32(fx.s, fx.inst, "depth", 19000, &r, &d), &d);
  ASSERT_EQ_INT(r, 19000);
  trap_teardown(&fx);
}

TEST(deep_recursion_million) {
  /* Default limits: a million nested calls end in a clean trap. */
  trap_fixture fx;
  trap_setup(&fx, NULL);
  shoal_diag_t d;
  int32_t r = 0;
  ASSERT_ERR(util_call_i32(fx.s, fx.inst, "depth", 1000000, &r, &d), SHOAL_ERR_TRAP_STACK);
  ASSERT_EQ_STR(d.message, "call stack exhausted");
  ASSERT_TRUE(strncmp(d.trace, "  #0 depth (func ", 17) == 0);
  ASSERT_OK(util_call_i32(fx.s, fx.inst, "depth", 1000, &r, &d));
  ASSERT_EQ_INT(r, 1000);
  trap_teardown(&fx);

  /* A depth limit above a million: the value stack runs out first, again
  ** a clean trap (wasm calls do not use the C stack). */
  shoal_store_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.size = sizeof cfg;
  cfg.max_call_depth = 2000000;
  cfg.stack_bytes = 1u << 20;
  trap_setup(&fx, &cfg);
  ASSERT_ERR(util_call_i32(fx.s, fx.inst, "depth", 1000000, &r, &d), SHOAL_ERR_TRAP_STACK);
  ASSERT_EQ_STR(d.message, "call stack exhausted");
  trap_teardown(&fx);

  /* With room for it, a million nested calls complete. */
  cfg.stack_bytes = 256u << 20;
  trap_setup(&fx, &cfg);
  ASSERT_OK_DIAG(util_call_i32(fx.s, fx.inst, "depth", 1000000, &r, &d), &d);
  ASSERT_EQ_INT(r, 1000000);
  trap_teardown(&fx);
}

TEST(start_function_trap_fails_instantiation) {
  /* (module (func $s unreachable) (start $s)) assembled by hand. */
  static const uint8_t b[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x02, 0x01, 0x00,
    0x08, 0x01, 0x00,
    0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b };
  shoal_module_t *m = NULL;
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_module_new(b, sizeof b, &m, &d), &d);
  shoal_store_t *s = util_store(NULL);
  shoal_instance_t *inst = NULL;
  ASSERT_ERR(shoal_instance_new(s, m, NULL, 0, &inst, &d), SHOAL_ERR_TRAP_UNREACHABLE);
  ASSERT_TRUE(inst == NULL);
  ASSERT_EQ_STR(d.message, "unreachable executed");
  ASSERT_CONTAINS(d.trace, "#0 func 0");
  shoal_store_free(s);
  shoal_module_free(m);
}

/* "env" "mix" of eng_api.wat, unused here. */
static shoal_err_t host_unused(shoal_caller_t *c, void *env, shoal_raw_t *io) {
  (void)c; (void)env; (void)io;
  return SHOAL_ERR_TRAP_UNREACHABLE;
}

static bool resolve_prov(void *ud, const shoal_import_desc_t *imp, shoal_extern_t *out) {
  if (imp->module_len != 4 || memcmp(imp->module, "prov", 4) != 0) return false;
  return shoal_instance_export(ud, imp->name, imp->name_len, out);
}

/* The provider (eng_api, 1-page memory) and the consumer (eng_cross, 2
** pages) on store s; the consumer's prov.load8 is the provider's own
** function, or load8 (a host function with the provider's load8 as env). */
static void cross_instances(shoal_store_t *s, shoal_module_t *pm, shoal_module_t *cm, shoal_host_fn_t load8,
                            shoal_instance_t **prov, shoal_instance_t **cons) {
  static const shoal_valtype_t params[] = { SHOAL_I32, SHOAL_I64, SHOAL_F32, SHOAL_F64 };
  static const shoal_valtype_t results[] = { SHOAL_F64, SHOAL_I64 };
  shoal_functype_t ft = { 4, 2, params, results };
  shoal_extern_t pimp[3];
  pimp[0].kind = SHOAL_EXTERN_FUNC;
  pimp[0].of.func = shoal_func_new_host(s, &ft, host_unused, NULL, NULL);
  pimp[1].kind = SHOAL_EXTERN_GLOBAL;
  pimp[1].of.global = shoal_global_new(s, SHOAL_I32, false, util_i32(0));
  pimp[2].kind = SHOAL_EXTERN_GLOBAL;
  pimp[2].of.global = shoal_global_new(s, SHOAL_I64, true, util_i64(0));
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_instance_new(s, pm, pimp, 3, prov, &d), &d);
  shoal_extern_t cimp[2];
  ASSERT_OK_DIAG(shoal_module_resolve_imports(cm, resolve_prov, *prov, cimp, &d), &d);
  if (load8) {
    static const shoal_valtype_t i32[] = { SHOAL_I32 };
    shoal_functype_t lt = { 1, 1, i32, i32 };
    cimp[0].of.func = shoal_func_new_host(s, &lt, load8, shoal_instance_func(*prov, "load8"), NULL);
  }
  ASSERT_OK_DIAG(shoal_instance_new(s, cm, cimp, 2, cons, &d), &d);
}

TEST(traps_across_instances) {
  /* The provider (eng_api) has a 1-page memory, the consumer (eng_cross)
  ** a 2-page one; each access is checked against the memory of the
  ** instance that makes it, before and after calls between them. */
  shoal_module_t *pm = util_module("eng_api");
  shoal_module_t *cm = util_module("eng_cross");
  shoal_store_t *s = util_store(NULL);
  shoal_instance_t *prov = NULL, *cons = NULL;
  shoal_diag_t d;
  cross_instances(s, pm, cm, NULL, &prov, &cons);

  shoal_func_t *both = shoal_instance_func(cons, "both");
  shoal_func_t *both_rev = shoal_instance_func(cons, "both_rev");
  shoal_val_t a[2], r;
  /* In bounds for both: 's' from the provider's data, 0 from ours. */
  a[0] = util_i32(8); a[1] = util_i32(100000);
  ASSERT_OK_DIAG(shoal_func_call(s, both, a, 2, &r, 1, &d), &d);
  ASSERT_EQ_INT(r.of.i32, 's');
  ASSERT_OK_DIAG(shoal_func_call(s, both_rev, a, 2, &r, 1, &d), &d);
  ASSERT_EQ_INT(r.of.i32, 's');
  /* Past the provider's single page, inside ours: the provider traps. */
  for (int round = 0; round < 3; round++) {
    a[0] = util_i32(100000); a[1] = util_i32(0);
    ASSERT_ERR(shoal_func_call(s, both, a, 2, &r, 1, &d), SHOAL_ERR_TRAP_MEM_OOB);
    ASSERT_CONTAINS(d.trace, "  #1 both (func ");
    ASSERT_ERR(shoal_func_call(s, both_rev, a, 2, &r, 1, &d), SHOAL_ERR_TRAP_MEM_OOB);
    ASSERT_CONTAINS(d.trace, "  #1 both_rev (func ");
    /* Past ours, after (or before) a call into the provider. */
    a[0] = util_i32(0); a[1] = util_i32(2 * 65536);
    ASSERT_ERR(shoal_func_call(s, both, a, 2, &r, 1, &d), SHOAL_ERR_TRAP_MEM_OOB);
    ASSERT_TRUE(strncmp(d.trace, "  #0 own_load (func ", 20) == 0);
    ASSERT_ERR(shoal_func_call(s, both_rev, a, 2, &r, 1, &d), SHOAL_ERR_TRAP_MEM_OOB);
    a[1] = util_i32(-1);
    ASSERT_ERR(shoal_func_call(s, both, a, 2, &r, 1, &d), SHOAL_ERR_TRAP_MEM_OOB);
  }
  /* Through the provider's table, into the provider's function. */
  a[0] = util_i32(0); a[1] = util_i32(4);
  ASSERT_OK_DIAG(shoal_func_call(s, shoal_instance_func(cons, "via_table"), a, 2, &r, 1, &d), &d);
  ASSERT_EQ_INT(r.of.i32, 8);
  /* The provider alone still sees its own bounds. */
  int32_t v = 0;
  ASSERT_ERR(util_call_i32(s, prov, "load8", 65536, &v, &d), SHOAL_ERR_TRAP_MEM_OOB);
  ASSERT_OK(util_call_i32(s, prov, "load8", 65535, &v, &d));
  shoal_store_free(s);
  shoal_module_free(cm);
  shoal_module_free(pm);
}

/* A host function that runs wasm of another instance (here the provider's
** load8) on the same store, as linked components do. */
static shoal_err_t host_nested_load8(shoal_caller_t *c, void *env, shoal_raw_t *io) {
  shoal_val_t a = util_i32((int32_t)io[0]), r;
  shoal_diag_t d;
  shoal_err_t err = shoal_func_call(shoal_caller_store(c), env, &a, 1, &r, 1, &d);
  if (err == SHOAL_ERR_OK) io[0] = (uint32_t)r.of.i32;
  return err;
}

TEST(host_running_another_instance_leaves_the_caller_current) {
  /* After the nested call, the consumer calls its own function and
  ** returns: it must still run in its own instance (its memory has two
  ** pages, the provider's one). */
  shoal_module_t *pm = util_module("eng_api");
  shoal_module_t *cm = util_module("eng_cross");
  shoal_store_t *s = util_store(NULL);
  shoal_instance_t *prov = NULL, *cons = NULL;
  shoal_diag_t d;
  cross_instances(s, pm, cm, host_nested_load8, &prov, &cons);
  shoal_val_t a[2], r;
  a[0] = util_i32(8); a[1] = util_i32(100000);
  for (int round = 0; round < 3; round++) {
    ASSERT_OK_DIAG(shoal_func_call(s, shoal_instance_func(cons, "nested_then_own"), a, 2, &r, 1, &d), &d);
    ASSERT_EQ_INT(r.of.i32, 's');
    ASSERT_OK_DIAG(shoal_func_call(s, shoal_instance_func(cons, "both_rev"), a, 2, &r, 1, &d), &d);
    ASSERT_EQ_INT(r.of.i32, 's');
  }
  shoal_store_free(s);
  shoal_module_free(cm);
  shoal_module_free(pm);
}
