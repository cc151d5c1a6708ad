/*
** Regression tests for fuzzer findings (the .wat files in
** tests/fuzz/regress): each input is assembled here byte for byte from its
** .wat and must load and run to the right outcome, with no sanitizer report
** in the sanitized builds.
*/
#include "eng_util.h"

/* Loads b, instantiates it without imports and calls its export "f" (no
** parameters, at most one result); returns the call's error. */
static shoal_err_t load_and_call_f(const uint8_t *b, size_t n, shoal_diag_t *d) {
  shoal_module_t *m = NULL;
  ASSERT_OK_DIAG(shoal_module_new(b, n, &m, d), d);
  shoal_store_t *s = util_store(NULL);
  shoal_instance_t *inst = NULL;
  ASSERT_OK_DIAG(shoal_instance_new(s, m, NULL, 0, &inst, d), d);
  shoal_func_t *f = shoal_instance_func(inst, "f");
  ASSERT_TRUE(f != NULL);
  shoal_functype_t ft;
  shoal_func_type(f, &ft);
  shoal_val_t r;
  shoal_err_t err = shoal_func_call(s, f, NULL, 0, &r, ft.nresults, d);
  shoal_store_free(s);
  shoal_module_free(m);
  return err;
}

/* compile_dead_block_result.wat: a block result in dead code at the start
** of a function (materialize() on a NULL value array in compile.c). */
TEST(compile_dead_block_result) {
  static const uint8_t b[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,          /* type () -> (i32) */
    0x03, 0x02, 0x01, 0x00,                            /* func 0: type 0 */
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00,          /* export "f" */
    0x0a, 0x08, 0x01, 0x06, 0x00,                      /* code: no locals */
    0x02, 0x7f, 0x00, 0x0b, 0x0b };                    /* block i32 unreachable end end */
  shoal_diag_t d;
  ASSERT_ERR(load_and_call_f(b, sizeof b, &d), SHOAL_ERR_TRAP_UNREACHABLE);
}
