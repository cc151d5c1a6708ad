/*
** Tests of the compiler's fused instructions at branch targets
** (src/engine/fuse.c): code must run as the unfused instructions would.
*/
#include "eng_util.h"

static shoal_err_t call1(const char *name, int32_t arg, int64_t fuel, int32_t *out, shoal_diag_t *d) {
  shoal_module_t *m = util_module("eng_fuse");
  shoal_store_config_t cfg = {.size = sizeof cfg, .fuel = fuel};
  shoal_store_t *s = util_store(&cfg);
  shoal_instance_t *inst = NULL;
  ASSERT_OK_DIAG(shoal_instance_new(s, m, NULL, 0, &inst, d), d);
  shoal_func_t *f = shoal_instance_func(inst, name);
  ASSERT_TRUE(f != NULL);
  shoal_val_t a = util_i32(arg), r;
  memset(&r, 0, sizeof r);
  shoal_err_t err = shoal_func_call(s, f, &a, 1, &r, 1, d);
  *out = r.of.i32;
  shoal_store_free(s);
  shoal_module_free(m);
  return err;
}

TEST(add_before_a_loop_stays_out_of_it) {
  shoal_diag_t d;
  int32_t r = 0;
  ASSERT_OK_DIAG(call1("add_before_loop", 5, 0, &r, &d), &d);
  ASSERT_EQ_INT(r, 6);
  /* x = -4 stays negative: the loop spins until the fuel runs out */
  ASSERT_ERR(call1("add_before_loop", -5, 100000, &r, &d), SHOAL_ERR_TRAP_FUEL);
}

TEST(shift_before_a_block_is_kept) {
  shoal_diag_t d;
  int32_t r = 0;
  ASSERT_OK_DIAG(call1("shift_across_block", 3, 0, &r, &d), &d);
  ASSERT_EQ_INT(r, 15);
}

TEST(compare_before_a_loop_is_kept) {
  shoal_diag_t d;
  int32_t r = 0;
  ASSERT_OK_DIAG(call1("cmp_across_loop", 4, 0, &r, &d), &d);
  ASSERT_EQ_INT(r, 3);
}

TEST(copies_do_not_merge_across_a_loop_head) {
  shoal_diag_t d;
  int32_t r = 0;
  ASSERT_OK_DIAG(call1("copies_at_label", 10, 0, &r, &d), &d);
  ASSERT_EQ_INT(r, 15 + 14 * 100);
}

/* name(stop) ends with want; name(spin) loops until the fuel is spent:
** the fused back-edge still counts as one. */
static void check_spends_fuel(const char *name, int32_t stop, int32_t want, int32_t spin) {
  shoal_diag_t d;
  int32_t r = 0;
  ASSERT_OK_DIAG(call1(name, stop, 0, &r, &d), &d);
  ASSERT_EQ_INT(r, want);
  ASSERT_ERR(call1(name, spin, 100000, &r, &d), SHOAL_ERR_TRAP_FUEL);
}

TEST(add_then_back_edge_spends_fuel) { check_spends_fuel("addi_spin", 0, 0, 1); }

/* p = 7: j runs 3, 5, 7; p = 0: j is odd, never 0 */
TEST(bump_loop_spends_fuel) { check_spends_fuel("bump_spin", 7, 7, 0); }

TEST(copied_back_edge_spends_fuel) { check_spends_fuel("dup_spin", 1, 0, 0); }
