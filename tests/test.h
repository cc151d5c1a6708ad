/*
** A tiny unit-test framework. Each tests/DIR/test_NAME.c includes this
** header once and becomes the executable test_NAME (ctest unit.NAME):
**
**   #include "test.h"
**   TEST(adds) { ASSERT_EQ_INT(1 + 1, 2); }
**
** The header defines main(): it runs every TEST in file order (or only
** those named on the command line), prints "ok NAME" / "FAIL NAME" and the
** closing line "N passed, M failed", and exits non-zero if any failed.
** A failed ASSERT_* prints file, line, the expression and both values and
** ends the current test (longjmp, so it works in helper functions too).
** The asserts never depend on NDEBUG.
*/
#ifndef SHOAL_TEST_H
#define SHOAL_TEST_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shoal/engine.h"

typedef struct test_case {
  const char *name;
  void (*fn)(void);
  struct test_case *next;
} test_case_t;

static test_case_t *test__head;
static test_case_t **test__tail = &test__head;
static jmp_buf test__jmp;

__attribute__((unused)) static void test__register(test_case_t *tc) {
  *test__tail = tc;
  test__tail = &tc->next;
}

#define TEST(name)                                                          \
  static void test_fn_##name(void);                                         \
  __attribute__((constructor)) static void test_reg_##name(void) {          \
    static test_case_t tc = {#name, test_fn_##name, NULL};                  \
    test__register(&tc);                                                    \
  }                                                                         \
  static void test_fn_##name(void)

/* Ends the current test as failed; printf-style message. */
__attribute__((format(printf, 3, 4), noreturn, unused))
static void test__fail(const char *file, int line, const char *fmt, ...);

static void test__fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "%s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(stderr);
  longjmp(test__jmp, 1);
}

#define TEST_FAIL(...) test__fail(__FILE__, __LINE__, __VA_ARGS__)

#define ASSERT_TRUE(expr)                                                   \
  do {                                                                      \
    if (!(expr)) TEST_FAIL("ASSERT_TRUE(%s) failed", #expr);                \
  } while (0)

#define ASSERT_EQ_INT(a, b)                                                 \
  do {                                                                      \
    long long test_a_ = (long long)(a), test_b_ = (long long)(b);           \
    if (test_a_ != test_b_)                                                 \
      TEST_FAIL("ASSERT_EQ_INT(%s, %s) failed: %lld (0x%llx) != %lld (0x%llx)", \
                #a, #b, test_a_, (unsigned long long)test_a_, test_b_,      \
                (unsigned long long)test_b_);                               \
  } while (0)

#define ASSERT_EQ_STR(a, b)                                                 \
  do {                                                                      \
    const char *test_a_ = (a), *test_b_ = (b);                              \
    if (!test_a_ || !test_b_ ? test_a_ != test_b_ : strcmp(test_a_, test_b_) != 0) \
      TEST_FAIL("ASSERT_EQ_STR(%s, %s) failed: %s%s%s != %s%s%s", #a, #b,   \
                test_a_ ? "\"" : "", test_a_ ? test_a_ : "NULL", test_a_ ? "\"" : "", \
                test_b_ ? "\"" : "", test_b_ ? test_b_ : "NULL", test_b_ ? "\"" : ""); \
  } while (0)

/* expr yields a shoal_err_t that must be SHOAL_ERR_OK. */
#define ASSERT_OK(expr) ASSERT_OK_DIAG(expr, (const shoal_diag_t *)NULL)

/* The same, also printing the diagnostic filled by the failing call. */
#define ASSERT_OK_DIAG(expr, diagp)                                         \
  do {                                                                      \
    shoal_err_t test_e_ = (expr);                                           \
    const shoal_diag_t *test_d_ = (diagp);                                  \
    if (test_e_ != SHOAL_ERR_OK)                                            \
      TEST_FAIL("ASSERT_OK(%s) failed: %s (%s)%s%s", #expr,                 \
                shoal_err_name(test_e_), shoal_err_message(test_e_),        \
                test_d_ ? ": " : "", test_d_ ? test_d_->message : "");      \
  } while (0)

/* expr yields a shoal_err_t that must equal code. */
#define ASSERT_ERR(expr, code)                                              \
  do {                                                                      \
    shoal_err_t test_e_ = (expr), test_w_ = (code);                         \
    if (test_e_ != test_w_)                                                 \
      TEST_FAIL("ASSERT_ERR(%s, %s) failed: got %s, want %s", #expr, #code, \
                shoal_err_name(test_e_), shoal_err_name(test_w_));          \
  } while (0)

__attribute__((unused)) static int test__selected(const char *name, int argc, char **argv) {
  if (argc < 2) return 1;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], name) == 0) return 1;
  return 0;
}

/* 1 if tc passed. (Its own function: nothing here is live across longjmp.) */
__attribute__((unused)) static int test__run(const test_case_t *tc) {
  if (setjmp(test__jmp) != 0) return 0;
  tc->fn();
  return 1;
}

int main(int argc, char **argv) {
  int passed = 0, failed = 0;
  for (test_case_t *tc = test__head; tc; tc = tc->next) {
    if (!test__selected(tc->name, argc, argv)) continue;
    int ok = test__run(tc);
    printf("%s %s\n", ok ? "ok" : "FAIL", tc->name);
    fflush(stdout);
    if (ok) passed++; else failed++;
  }
  if (passed + failed == 0) fprintf(stderr, "no test ran\n");
  printf("%d passed, %d failed\n", passed, failed);
  return failed || passed + failed == 0 ? 1 : 0;
}

#endif
