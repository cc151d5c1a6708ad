/*
** shoal_instance_reinit: an instance put back is indistinguishable from a
** new one (memory zeroed, its data and size again; globals, tables and
** dropped segments as instantiated; the start function run once more), a
** memory past the keep limit gives its pages back, shoal_store_rearm
** clears interrupts and refills fuel, and both refuse while executing.
*/
#include "eng_util.h"

static shoal_instance_t *the_inst;

static shoal_err_t reinit_inside(shoal_caller_t *c, void *env, shoal_raw_t *io) {
  (void)env;
  shoal_diag_t d;
  shoal_err_t e1 = shoal_instance_reinit(the_inst, &d);
  shoal_err_t e2 = shoal_store_rearm(shoal_caller_store(c));
  io[0] = e1 == SHOAL_ERR_ARG && e2 == SHOAL_ERR_ARG ? 1 : 0;
  return SHOAL_ERR_OK;
}

static shoal_instance_t *instantiate(shoal_store_t *s, const shoal_module_t *m) {
  return util_instance_with(s, m, reinit_inside);
}

static int32_t call(shoal_store_t *s, shoal_instance_t *inst, const char *name, int32_t arg) {
  return util_i32_of(s, inst, name, arg);
}

static void reinit(shoal_instance_t *inst) {
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_instance_reinit(inst, &d), &d);
}

/* Leaves every kind of state behind that a fresh instance must not see. */
static void dirty(shoal_store_t *s, shoal_instance_t *inst) {
  call(s, inst, "store", 1000);
  call(s, inst, "store", 16);
  ASSERT_EQ_INT(call(s, inst, "grow", 2), 1);
  call(s, inst, "store", 3 * 65536 - 1);
  call(s, inst, "bump", 10);
  call(s, inst, "set_slot", 0);
  ASSERT_EQ_INT(call(s, inst, "table_grow", 3), 2);
  call(s, inst, "drop_passive", 0);
  call(s, inst, "drop_elem", 0);
}

static void check_fresh(shoal_store_t *s, shoal_instance_t *inst) {
  int32_t r;
  shoal_diag_t d;
  ASSERT_EQ_INT(call(s, inst, "load", 16), 'a');
  ASSERT_EQ_INT(call(s, inst, "load", 1000), 0);
  ASSERT_EQ_INT(call(s, inst, "load", 65535), 0);
  ASSERT_EQ_INT(call(s, inst, "size", 0), 1);
  ASSERT_ERR(util_call_i32(s, inst, "load", 65536, &r, &d), SHOAL_ERR_TRAP_MEM_OOB);
  ASSERT_ERR(util_call_i32(s, inst, "load", 3 * 65536 - 1, &r, &d), SHOAL_ERR_TRAP_MEM_OOB);
  ASSERT_EQ_INT(call(s, inst, "bump", 1), 6);
  /* the start function ran once on zeroed memory */
  ASSERT_EQ_INT(call(s, inst, "starts", 0), 1);
  ASSERT_EQ_INT(call(s, inst, "load", 100), 1);
  ASSERT_EQ_INT(call(s, inst, "slot_null", 0), 0);
  ASSERT_EQ_INT(call(s, inst, "slot_null", 1), 1);
  ASSERT_EQ_INT(call(s, inst, "table_size", 0), 2);
  ASSERT_ERR(util_call_i32(s, inst, "slot_null", 2, &r, &d), SHOAL_ERR_TRAP_TABLE_OOB);
  /* segments not dropped: they can be used (this changes state, checked last) */
  call(s, inst, "init_passive", 200);
  ASSERT_EQ_INT(call(s, inst, "load", 201), 'y');
  call(s, inst, "init_elem", 1);
  ASSERT_EQ_INT(call(s, inst, "slot_null", 1), 0);
}

TEST(reinit_gives_fresh_state) {
  shoal_module_t *m = util_module("eng_reinit");
  shoal_store_t *s = util_store(NULL);
  shoal_instance_t *inst = instantiate(s, m);
  check_fresh(s, inst);
  uint8_t *base = shoal_memory_data(shoal_instance_memory(inst, "memory"));
  for (int i = 0; i < 100; i++) {
    dirty(s, inst);
    reinit(inst);
    check_fresh(s, inst);
  }
  /* the same mapping all along */
  ASSERT_TRUE(shoal_memory_data(shoal_instance_memory(inst, "memory")) == base);
  /* a memory past 1 MiB gives its pages back instead of being cleared by hand */
  call(s, inst, "store", 1000);
  ASSERT_EQ_INT(call(s, inst, "grow", 30), 1);
  call(s, inst, "store", 31 * 65536 - 1);
  reinit(inst);
  check_fresh(s, inst);
  ASSERT_EQ_INT(call(s, inst, "grow", 30), 1);
  ASSERT_EQ_INT(call(s, inst, "load", 31 * 65536 - 1), 0);
  ASSERT_EQ_INT(call(s, inst, "load", 1000), 0);
  shoal_store_free(s);
  shoal_module_free(m);
}

TEST(reinit_giving_pages_back) {
  shoal_module_t *m = util_module("eng_reinit");
  shoal_store_config_t cfg = util_config();
  cfg.reset_keep_bytes = 1;
  shoal_store_t *s = util_store(&cfg);
  shoal_instance_t *inst = instantiate(s, m);
  for (int i = 0; i < 3; i++) {
    dirty(s, inst);
    reinit(inst);
    check_fresh(s, inst);
  }
  shoal_store_free(s);
  shoal_module_free(m);
}

TEST(reinit_tracking_pages) {
  /* track_pages: after the first reinit, untouched pages are inaccessible
  ** until touched; every page touched in any round must read zero after */
  shoal_module_t *m = util_module("eng_reinit");
  shoal_store_config_t cfg = util_config();
  cfg.track_pages = true;
  shoal_store_t *s = util_store(&cfg);
  shoal_instance_t *inst = instantiate(s, m);
  shoal_memory_t *mem = shoal_instance_memory(inst, "memory");
  for (int round = 0; round < 40; round++) {
    dirty(s, inst);
    /* a page of its own each round, by the guest and by the host */
    call(s, inst, "store", (round % 16) * 4096 + 123);
    uint8_t v = 0x5a;
    ASSERT_OK(shoal_memory_write(mem, (uint64_t)((round + 5) % 16) * 4096 + 7, &v, 1));
    if (round % 7 == 3) {  /* grown past 1 MiB: tracking stops, the memory is cleared as before */
      ASSERT_EQ_INT(call(s, inst, "grow", 20), 3);
      call(s, inst, "store", 22 * 65536 + 5);
    }
    reinit(inst);
    for (int pg = 0; pg < 16; pg++) {
      ASSERT_EQ_INT(call(s, inst, "load", pg * 4096 + 123), 0);
      uint8_t b = 0xee;
      ASSERT_OK(shoal_memory_read(mem, (uint64_t)pg * 4096 + 7, &b, 1));
      ASSERT_EQ_INT(b, 0);
    }
    check_fresh(s, inst);
  }
  /* grown within the tracked size, the new pages are reachable and zero */
  ASSERT_EQ_INT(call(s, inst, "grow", 3), 1);
  ASSERT_EQ_INT(call(s, inst, "load", 3 * 65536 + 9), 0);
  call(s, inst, "store", 3 * 65536 + 9);
  ASSERT_EQ_INT(call(s, inst, "load", 3 * 65536 + 9), 77);
  reinit(inst);
  check_fresh(s, inst);
  ASSERT_EQ_INT(call(s, inst, "grow", 3), 1);
  ASSERT_EQ_INT(call(s, inst, "load", 3 * 65536 + 9), 0);
  /* a reset of the store hands the mapping on untracked and zeroed */
  call(s, inst, "store", 40000);
  ASSERT_OK(shoal_store_reset(s));
  inst = instantiate(s, m);
  check_fresh(s, inst);
  ASSERT_EQ_INT(call(s, inst, "load", 40000), 0);
  shoal_store_free(s);
  shoal_module_free(m);
}

TEST(rearm_restores_interrupt_and_fuel) {
  shoal_module_t *m = util_module("eng_reinit");
  int32_t r;
  shoal_diag_t d;
  shoal_store_config_t cfg = util_config();
  cfg.fuel = 1000;
  shoal_store_t *s = util_store(&cfg);
  shoal_instance_t *inst = instantiate(s, m);
  shoal_store_set_fuel(s, 10);
  ASSERT_ERR(util_call_i32(s, inst, "spin", 100, &r, &d), SHOAL_ERR_TRAP_FUEL);
  shoal_store_interrupt(s);
  ASSERT_OK(shoal_store_rearm(s));
  reinit(inst);
  ASSERT_EQ_INT(call(s, inst, "spin", 100), 0);  /* the configured 1000 again, no interrupt */
  ASSERT_ERR(util_call_i32(s, inst, "spin", 2000, &r, &d), SHOAL_ERR_TRAP_FUEL);
  shoal_store_free(s);
  shoal_module_free(m);
}

TEST(reinit_refused_while_executing) {
  shoal_module_t *m = util_module("eng_reinit");
  shoal_store_t *s = util_store(NULL);
  the_inst = instantiate(s, m);
  ASSERT_EQ_INT(call(s, the_inst, "reinit_inside", 0), 1);
  /* and the instance is untouched */
  ASSERT_EQ_INT(call(s, the_inst, "load", 17), 'b');
  ASSERT_EQ_INT(call(s, the_inst, "starts", 0), 1);
  ASSERT_ERR(shoal_instance_reinit(NULL, NULL), SHOAL_ERR_ARG);
  ASSERT_ERR(shoal_store_rearm(NULL), SHOAL_ERR_ARG);
  shoal_store_free(s);
  shoal_module_free(m);
}

