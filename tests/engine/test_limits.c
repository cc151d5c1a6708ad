/*
** Store limits: fuel, interrupts from another thread, memory and table
** caps, call depth.
*/
#include <pthread.h>
#include <time.h>

#include "eng_util.h"

static shoal_store_config_t config(void) {
  shoal_store_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.size = sizeof cfg;
  return cfg;
}

static shoal_instance_t *instantiate(shoal_store_t *s, const shoal_module_t *m) {
  shoal_instance_t *inst = NULL;
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_instance_new(s, m, NULL, 0, &inst, &d), &d);
  return inst;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(fuel_stops_infinite_loop) {
  shoal_module_t *m = util_module("eng_limits");
  shoal_store_config_t cfg = config();
  cfg.fuel = 100000;
  shoal_store_t *s = util_store(&cfg);
  shoal_instance_t *inst = instantiate(s, m);
  shoal_diag_t d;
  ASSERT_ERR(shoal_func_call(s, shoal_instance_func(inst, "spin"), NULL, 0, NULL, 0, &d),
             SHOAL_ERR_TRAP_FUEL);
  ASSERT_EQ_STR(d.message, "all fuel consumed");
  ASSERT_TRUE(strncmp(d.trace, "  #0 func ", 10) == 0);

  /* Fuel is spent: even a short loop now traps, until more is given. */
  int32_t r = 0;
  ASSERT_ERR(util_call_i32(s, inst, "count", 10, &r, &d), SHOAL_ERR_TRAP_FUEL);
  /* Fuel is about loop iterations: 50,000 fit in 100,000, 200,000 do not. */
  shoal_store_set_fuel(s, 100000);
  ASSERT_OK_DIAG(util_call_i32(s, inst, "count", 50000, &r, &d), &d);
  ASSERT_EQ_INT(r, 50000);
  shoal_store_set_fuel(s, 100000);
  ASSERT_ERR(util_call_i32(s, inst, "count", 200000, &r, &d), SHOAL_ERR_TRAP_FUEL);
  /* Calls use fuel too. */
  shoal_store_set_fuel(s, 1000);
  ASSERT_ERR(util_call_i32(s, inst, "rec", 5000, &r, &d), SHOAL_ERR_TRAP_FUEL);
  /* Fuel beyond one refill window (2^20) is honoured across windows. */
  shoal_store_set_fuel(s, 3000000);
  ASSERT_OK_DIAG(util_call_i32(s, inst, "count", 2500000, &r, &d), &d);
  ASSERT_EQ_INT(r, 2500000);
  ASSERT_ERR(util_call_i32(s, inst, "count", 2500000, &r, &d), SHOAL_ERR_TRAP_FUEL);
  /* Disabled fuel: no limit. */
  shoal_store_set_fuel(s, 0);
  ASSERT_OK(util_call_i32(s, inst, "count", 5000000, &r, &d));
  ASSERT_EQ_INT(r, 5000000);
  shoal_store_free(s);
  shoal_module_free(m);
}

TEST(fuel_in_start_function) {
  /* (module (func $s (loop (br 0))) (start $s)) */
  static const uint8_t b[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x02, 0x01, 0x00,
    0x08, 0x01, 0x00,
    0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b };
  shoal_module_t *m = NULL;
  shoal_diag_t d;
  ASSERT_OK_DIAG(shoal_module_new(b, sizeof b, &m, &d), &d);
  shoal_store_config_t cfg = config();
  cfg.fuel = 5000;
  shoal_store_t *s = util_store(&cfg);
  shoal_instance_t *inst = NULL;
  ASSERT_ERR(shoal_instance_new(s, m, NULL, 0, &inst, &d), SHOAL_ERR_TRAP_FUEL);
  ASSERT_TRUE(inst == NULL);
  shoal_store_free(s);
  shoal_module_free(m);
}

typedef struct interrupter {
  shoal_store_t *s;
  double delay, at;
} interrupter;

static void *interrupt_later(void *p) {
  interrupter *it = p;
  struct timespec ts = { 0, (long)(it->delay * 1e9) };
  nanosleep(&ts, NULL);
  it->at = now_seconds();
  shoal_store_interrupt(it->s);
  return NULL;
}

TEST(interrupt_from_another_thread) {
  shoal_module_t *m = util_module("eng_limits");
  shoal_store_t *s = util_store(NULL);
  shoal_instance_t *inst = instantiate(s, m);
  shoal_func_t *spin = shoal_instance_func(inst, "spin");
  for (int round = 0; round < 3; round++) {
    interrupter it = { s, 0.1, 0 };
    pthread_t th;
    ASSERT_EQ_INT(pthread_create(&th, NULL, interrupt_later, &it), 0);
    shoal_diag_t d;
    shoal_err_t err = shoal_func_call(s, spin, NULL, 0, NULL, 0, &d);
    double stopped = now_seconds();
    ASSERT_EQ_INT(pthread_join(th, NULL), 0);
    ASSERT_ERR(err, SHOAL_ERR_TRAP_INTERRUPT);
    ASSERT_EQ_STR(d.message, "interrupted");
    /* Noticed well within a second of the request. */
    ASSERT_TRUE(stopped - it.at < 1.0);
    /* A pending interrupt stops the next run, so it is cleared first. */
    shoal_store_clear_interrupt(s);
    int32_t r = 0;
    ASSERT_OK_DIAG(util_call_i32(s, inst, "count", 1000, &r, &d), &d);
    ASSERT_EQ_INT(r, 1000);
  }
  shoal_store_free(s);
  shoal_module_free(m);
}

TEST(interrupt_deep_recursion_loop) {
  /* The interrupt is also seen at function entries: an endless chain of
  ** calls that never loops, under a huge depth limit, still stops. */
  shoal_module_t *m = util_module("eng_limits");
  shoal_store_config_t cfg = config();
  shoal_store_t *s = util_store(&cfg);
  shoal_instance_t *inst = instantiate(s, m);
  interrupter it = { s, 0.05, 0 };
  pthread_t th;
  ASSERT_EQ_INT(pthread_create(&th, NULL, interrupt_later, &it), 0);
  shoal_diag_t d;
  int32_t r;
  /* rec(n) recurses only 20000 deep (default depth), so loop around it. */
  shoal_err_t err = SHOAL_ERR_OK;
  double start = now_seconds();
  while (err == SHOAL_ERR_OK && now_seconds() - start < 10.0)
    err = util_call_i32(s, inst, "rec", 15000, &r, &d);
  ASSERT_EQ_INT(pthread_join(th, NULL), 0);
  ASSERT_ERR(err, SHOAL_ERR_TRAP_INTERRUPT);
  ASSERT_TRUE(now_seconds() - it.at < 1.0);
  shoal_store_free(s);
  shoal_module_free(m);
}

TEST(max_memory_bytes) {
  shoal_module_t *m = util_module("eng_limits");
  shoal_store_config_t cfg = config();
  cfg.max_memory_bytes = 3 * 65536;
  shoal_store_t *s = util_store(&cfg);
  shoal_instance_t *inst = instantiate(s, m);
  shoal_diag_t d;
  int32_t r = 0;
  ASSERT_OK(util_call_i32(s, inst, "grow", 1, &r, &d));
  ASSERT_EQ_INT(r, 1);
  ASSERT_OK(util_call_i32(s, inst, "grow", 2, &r, &d));
  ASSERT_EQ_INT(r, -1);     /* 4 pages > 3 */
  ASSERT_OK(util_call_i32(s, inst, "grow", 1, &r, &d));
  ASSERT_EQ_INT(r, 2);
  ASSERT_OK(util_call_i32(s, inst, "grow", 1, &r, &d));
  ASSERT_EQ_INT(r, -1);
  ASSERT_OK(util_call_i32(s, inst, "grow", 0, &r, &d));
  ASSERT_EQ_INT(r, 3);
  shoal_memory_t *mem = shoal_instance_memory(inst, "memory");
  ASSERT_EQ_INT(shoal_memory_pages(mem), 3);
  ASSERT_EQ_INT(shoal_memory_grow(mem, 1), -1);
  /* Host-made memories obey the store's cap too. */
  shoal_limits_t big = { 4, 0, false };
  ASSERT_TRUE(shoal_memory_new(s, &big) == NULL);
  shoal_limits_t ok = { 3, 0, false };
  ASSERT_TRUE(shoal_memory_new(s, &ok) != NULL);

  /* A module whose memory starts above the cap cannot be instantiated. */
  shoal_store_config_t small = config();
  small.max_memory_bytes = 65535;   /* less than a page */
  shoal_store_t *s2 = util_store(&small);
  shoal_instance_t *inst2 = NULL;
  ASSERT_ERR(shoal_instance_new(s2, m, NULL, 0, &inst2, &d), SHOAL_ERR_NOMEM);
  ASSERT_CONTAINS(d.message, "memory of 1 pages exceeds the limit of 0 pages");
  shoal_store_free(s2);
  shoal_store_free(s);
  shoal_module_free(m);
}

TEST(max_table_elems) {
  shoal_module_t *m = util_module("eng_limits");
  shoal_store_config_t cfg = config();
  cfg.max_table_elems = 100;
  shoal_store_t *s = util_store(&cfg);
  shoal_instance_t *inst = instantiate(s, m);
  shoal_diag_t d;
  int32_t r = 0;
  ASSERT_OK(util_call_i32(s, inst, "table_grow", 99, &r, &d));
  ASSERT_EQ_INT(r, 1);
  ASSERT_OK(util_call_i32(s, inst, "table_grow", 1, &r, &d));
  ASSERT_EQ_INT(r, -1);
  ASSERT_OK(util_call_i32(s, inst, "table_grow", 0, &r, &d));
  ASSERT_EQ_INT(r, 100);
  shoal_store_free(s);
  shoal_module_free(m);
}

TEST(max_call_depth) {
  shoal_module_t *m = util_module("eng_limits");
  shoal_store_config_t cfg = config();
  cfg.max_call_depth = 100;
  shoal_store_t *s = util_store(&cfg);
  shoal_instance_t *inst = instantiate(s, m);
  shoal_diag_t d;
  int32_t r = 0;
  ASSERT_OK(util_call_i32(s, inst, "rec", 90, &r, &d));
  ASSERT_EQ_INT(r, 90);
  /* rec(n) needs n + 1 frames. */
  int32_t deepest = -1;
  for (int32_t n = 90; n < 110; n++) {
    shoal_err_t err = util_call_i32(s, inst, "rec", n, &r, &d);
    if (err == SHOAL_ERR_OK) {
      ASSERT_EQ_INT(r, n);
      deepest = n;
    } else {
      ASSERT_ERR(err, SHOAL_ERR_TRAP_STACK);
    }
  }
  ASSERT_TRUE(deepest >= 98 && deepest <= 100);
  ASSERT_ERR(util_call_i32(s, inst, "rec", 101, &r, &d), SHOAL_ERR_TRAP_STACK);
  ASSERT_EQ_STR(d.message, "call stack exhausted");
  shoal_store_free(s);
  shoal_module_free(m);
}

TEST(small_value_stack) {
  /* A value stack of a few KiB: deep recursion traps cleanly, shallow
  ** recursion works. */
  shoal_module_t *m = util_module("eng_limits");
  shoal_store_config_t cfg = config();
  cfg.stack_bytes = 8192;
  shoal_store_t *s = util_store(&cfg);
  shoal_instance_t *inst = instantiate(s, m);
  shoal_diag_t d;
  int32_t r = 0;
  ASSERT_OK_DIAG(util_call_i32(s, inst, "rec", 20, &r, &d), &d);
  ASSERT_EQ_INT(r, 20);
  ASSERT_ERR(util_call_i32(s, inst, "rec", 5000, &r, &d), SHOAL_ERR_TRAP_STACK);
  ASSERT_OK(util_call_i32(s, inst, "rec", 20, &r, &d));
  shoal_store_free(s);
  shoal_module_free(m);
}

TEST(many_memories) {
  /* Thousands of live memories in one store: each reserves its address
  ** space up front, so this checks that the reservations fit. */
  enum { N = 3000 };
  shoal_module_t *m = util_module("eng_limits");
  shoal_store_t *s = util_store(NULL);
  shoal_instance_t **insts = calloc(N, sizeof *insts);
  ASSERT_TRUE(insts != NULL);
  shoal_diag_t d;
  for (int i = 0; i < N; i++) {
    shoal_err_t err = shoal_instance_new(s, m, NULL, 0, &insts[i], &d);
    if (err != SHOAL_ERR_OK) {
      free(insts);
      TEST_FAIL("instance %d: %s: %s", i, shoal_err_name(err), d.message);
    }
    shoal_memory_t *mem = shoal_instance_memory(insts[i], "memory");
    uint32_t tag = (uint32_t)i;
    ASSERT_OK(shoal_memory_write(mem, 65532, &tag, 4));
  }
  /* Every memory is its own: each still holds its tag. */
  for (int i = 0; i < N; i += 7) {
    shoal_memory_t *mem = shoal_instance_memory(insts[i], "memory");
    uint32_t tag = 0;
    ASSERT_OK(shoal_memory_read(mem, 65532, &tag, 4));
    ASSERT_EQ_INT(tag, i);
    int32_t r = 0;
    ASSERT_OK(util_call_i32(s, insts[i], "grow", 1, &r, &d));
    ASSERT_EQ_INT(r, 1);
  }
  free(insts);
  shoal_store_free(s);
  shoal_module_free(m);
}
