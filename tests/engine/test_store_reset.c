/*
** shoal_store_reset: after it, a store behaves as a fresh one (memory
** zeroed and at its initial size, globals and tables re-initialised,
** interrupts and fuel back to the configuration), and it refuses while
** the store is executing.
*/
#include "eng_util.h"

static shoal_err_t reset_inside(shoal_caller_t *c, void *env, shoal_raw_t *io) {
  (void)env;
  io[0] = (uint32_t)shoal_store_reset(shoal_caller_store(c));
  return SHOAL_ERR_OK;
}

static shoal_instance_t *instantiate(shoal_store_t *s, const shoal_module_t *m) {
  static const shoal_valtype_t res[] = {SHOAL_I32};
  shoal_functype_t ft = {.nparams = 0, .nresults = 1, .results = res};
  shoal_extern_t imp = {.kind = SHOAL_EXTERN_FUNC};
  imp.of.func = shoal_func_new_host(s, &ft, reset_inside, NULL, NULL);
  ASSERT_TRUE(imp.of.func != NULL);
  shoal_instance_t *inst = NULL;
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_instance_new(s, m, &imp, 1, &inst, &d), &d);
  return inst;
}

static int32_t call(shoal_store_t *s, shoal_instance_t *inst, const char *name, int32_t arg) {
  int32_t r = -1;
  shoal_diag_t d;
  ASSERT_OK_DIAG(util_call_i32(s, inst, name, arg, &r, &d), &d);
  return r;
}

/* Leaves state behind that a fresh instance must not see. */
static void dirty(shoal_store_t *s, shoal_instance_t *inst) {
  call(s, inst, "store", 1000);
  call(s, inst, "store", 16);
  ASSERT_EQ_INT(call(s, inst, "grow", 2), 1);
  call(s, inst, "store", 3 * 65536 - 1);
  call(s, inst, "bump", 10);
  call(s, inst, "set_slot", 0);
  ASSERT_EQ_INT(call(s, inst, "slot_null", 0), 0);
}

static void check_fresh(shoal_store_t *s, shoal_instance_t *inst) {
  ASSERT_EQ_INT(call(s, inst, "load", 16), 'a');
  ASSERT_EQ_INT(call(s, inst, "load", 1000), 0);
  ASSERT_EQ_INT(call(s, inst, "load", 65535), 0);
  ASSERT_EQ_INT(call(s, inst, "size", 0), 1);
  int32_t r;
  shoal_diag_t d;
  /* the pages grown before the reset are gone again */
  ASSERT_ERR(util_call_i32(s, inst, "load", 65536, &r, &d), SHOAL_ERR_TRAP_MEM_OOB);
  ASSERT_ERR(util_call_i32(s, inst, "load", 3 * 65536 - 1, &r, &d), SHOAL_ERR_TRAP_MEM_OOB);
  ASSERT_EQ_INT(call(s, inst, "bump", 1), 6);
  ASSERT_EQ_INT(call(s, inst, "slot_null", 0), 1);
}

TEST(reset_gives_fresh_state) {
  shoal_module_t *m = util_module("eng_reset");
  shoal_store_t *s = util_store(NULL);
  shoal_instance_t *inst = instantiate(s, m);
  check_fresh(s, inst);
  shoal_memory_t *mem = shoal_instance_memory(inst, "memory");
  uint8_t *base = shoal_memory_data(mem);
  dirty(s, inst);
  ASSERT_OK(shoal_store_reset(s));
  inst = instantiate(s, m);
  /* the reservation was reused, and reads as zero */
  ASSERT_TRUE(shoal_memory_data(shoal_instance_memory(inst, "memory")) == base);
  check_fresh(s, inst);
  /* many rounds: nothing accumulates (ASan checks the leaks) */
  for (int i = 0; i < 200; i++) {
    dirty(s, inst);
    ASSERT_OK(shoal_store_reset(s));
    inst = instantiate(s, m);
  }
  check_fresh(s, inst);
  /* a memory past 1 MiB gives its pages back instead of being cleared by hand */
  call(s, inst, "store", 1000);
  ASSERT_EQ_INT(call(s, inst, "grow", 30), 1);
  call(s, inst, "store", 31 * 65536 - 1);
  ASSERT_OK(shoal_store_reset(s));
  inst = instantiate(s, m);
  check_fresh(s, inst);
  ASSERT_EQ_INT(call(s, inst, "grow", 30), 1);
  ASSERT_EQ_INT(call(s, inst, "load", 31 * 65536 - 1), 0);
  ASSERT_OK(shoal_store_reset(s));
  inst = instantiate(s, m);
  check_fresh(s, inst);
  /* two instances at once after a reset: each its own memory */
  shoal_instance_t *other = instantiate(s, m);
  call(s, other, "store", 2000);
  ASSERT_EQ_INT(call(s, inst, "load", 2000), 0);
  ASSERT_EQ_INT(call(s, other, "load", 2000), 77);
  shoal_store_free(s);
  shoal_module_free(m);
}

TEST(reset_restores_interrupt_and_fuel) {
  shoal_module_t *m = util_module("eng_reset");
  int32_t r;
  shoal_diag_t d;
  /* a pending interrupt is noticed within 2^20 back-edges: 3M iterations */
  shoal_store_t *s = util_store(NULL);
  shoal_instance_t *inst = instantiate(s, m);
  shoal_store_interrupt(s);
  ASSERT_ERR(util_call_i32(s, inst, "spin", 3000000, &r, &d), SHOAL_ERR_TRAP_INTERRUPT);
  shoal_store_interrupt(s);
  ASSERT_OK(shoal_store_reset(s));
  inst = instantiate(s, m);
  ASSERT_EQ_INT(call(s, inst, "spin", 3000000), 0);
  shoal_store_free(s);

  shoal_store_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.size = sizeof cfg;
  cfg.fuel = 1000;
  s = util_store(&cfg);
  inst = instantiate(s, m);
  shoal_store_set_fuel(s, 10);
  ASSERT_ERR(util_call_i32(s, inst, "spin", 100, &r, &d), SHOAL_ERR_TRAP_FUEL);
  ASSERT_OK(shoal_store_reset(s));
  inst = instantiate(s, m);
  ASSERT_EQ_INT(call(s, inst, "spin", 100), 0);  /* the configured 1000 again */
  ASSERT_ERR(util_call_i32(s, inst, "spin", 2000, &r, &d), SHOAL_ERR_TRAP_FUEL);
  shoal_store_free(s);
  shoal_module_free(m);
}

TEST(reset_refused_while_executing) {
  shoal_module_t *m = util_module("eng_reset");
  shoal_store_t *s = util_store(NULL);
  shoal_instance_t *inst = instantiate(s, m);
  ASSERT_EQ_INT(call(s, inst, "reset_inside", 0), SHOAL_ERR_ARG);
  /* and the instance is still alive */
  ASSERT_EQ_INT(call(s, inst, "load", 17), 'b');
  ASSERT_ERR(shoal_store_reset(NULL), SHOAL_ERR_ARG);
  shoal_store_free(s);
  shoal_module_free(m);
}
