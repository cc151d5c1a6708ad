/*
** shoal_store_reset: after it, a store behaves as a fresh one (memory
** zeroed and at its initial size, globals and tables re-initialised,
** interrupts and fuel back to the configuration), and it refuses while
** the store is executing. Memory images: instances of a module with large
** data segments see them (mapped copy-on-write) as if copied.
*/
#include "eng_util.h"

static shoal_err_t reset_inside(shoal_caller_t *c, void *env, shoal_raw_t *io) {
  (void)env;
  io[0] = (uint32_t)shoal_store_reset(shoal_caller_store(c));
  return SHOAL_ERR_OK;
}

static shoal_instance_t *instantiate(shoal_store_t *s, const shoal_module_t *m) {
  return util_instance_with(s, m, reset_inside);
}

static int32_t call(shoal_store_t *s, shoal_instance_t *inst, const char *name, int32_t arg) {
  return util_i32_of(s, inst, name, arg);
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

TEST(reset_giving_pages_back) {
  /* reset_keep_bytes 1: every memory's pages go back to the kernel */
  shoal_module_t *m = util_module("eng_reset");
  shoal_store_config_t cfg = util_config();
  cfg.reset_keep_bytes = 1;
  shoal_store_t *s = util_store(&cfg);
  shoal_instance_t *inst = instantiate(s, m);
  for (int i = 0; i < 3; i++) {
    dirty(s, inst);
    ASSERT_OK(shoal_store_reset(s));
    inst = instantiate(s, m);
    check_fresh(s, inst);
  }
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

  shoal_store_config_t cfg = util_config();
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

/* {==================================================================
** Memory images: large data segments are mapped copy-on-write
** =================================================================== */
typedef struct buf {
  uint8_t *p;
  size_t n;
} buf_t;

static void put(buf_t *b, const void *d, size_t n) {
  b->p = realloc(b->p, b->n + n);
  ASSERT_TRUE(b->p != NULL);
  memcpy(b->p + b->n, d, n);
  b->n += n;
}

static void put_u8(buf_t *b, uint8_t v) { put(b, &v, 1); }

static void put_uleb(buf_t *b, uint64_t v) {
  do {
    uint8_t c = v & 0x7f;
    v >>= 7;
    put_u8(b, c | (v ? 0x80 : 0));
  } while (v);
}

static void put_sleb(buf_t *b, int64_t v) {
  for (;;) {
    uint8_t c = v & 0x7f;
    v >>= 7;
    bool done = (v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40));
    put_u8(b, c | (done ? 0 : 0x80));
    if (done) return;
  }
}

static void section(buf_t *mod, uint8_t id, buf_t *body) {
  put_u8(mod, id);
  put_uleb(mod, body->n);
  put(mod, body->p, body->n);
  free(body->p);
  *body = (buf_t){0};
}

/* (memory (export "memory") pages) with active segments of len bytes of
** value fill[i] at off[i]. */
static shoal_module_t *data_module(uint32_t pages, int n, const uint32_t *off, const uint32_t *len,
                                   const uint8_t *fill, shoal_err_t *err) {
  buf_t mod = {0}, b = {0};
  put(&mod, "\0asm\1\0\0\0", 8);
  put_uleb(&b, 1);
  put_u8(&b, 0x00);
  put_uleb(&b, pages);
  section(&mod, 5, &b);
  put_uleb(&b, 1);
  put_uleb(&b, 6);
  put(&b, "memory", 6);
  put_u8(&b, 0x02);
  put_uleb(&b, 0);
  section(&mod, 7, &b);
  put_uleb(&b, (uint64_t)n);
  for (int i = 0; i < n; i++) {
    put_uleb(&b, 0);
    put_u8(&b, 0x41);
    put_sleb(&b, (int32_t)off[i]);
    put_u8(&b, 0x0b);
    put_uleb(&b, len[i]);
    uint8_t *d = malloc(len[i]);
    memset(d, fill[i], len[i]);
    put(&b, d, len[i]);
    free(d);
  }
  section(&mod, 11, &b);
  shoal_module_t *m = NULL;
  shoal_diag_t d;
  *err = shoal_module_new(mod.p, mod.n, &m, &d);
  free(mod.p);
  return m;
}

static uint8_t byte_at(shoal_memory_t *mem, uint64_t addr) {
  uint8_t v = 0xee;
  ASSERT_OK(shoal_memory_read(mem, addr, &v, 1));
  return v;
}

TEST(memory_image_copy_on_write) {
  /* 300 KiB of 0xaa at 0, then 100 KiB of 0xbb over its end (later wins), in 8 pages */
  static const uint32_t off[] = {0, 250000}, len[] = {300000, 100000};
  static const uint8_t fill[] = {0xaa, 0xbb};
  shoal_err_t err;
  shoal_module_t *m = data_module(8, 2, off, len, fill, &err);
  ASSERT_OK(err);
  shoal_store_t *s = util_store(NULL);
  for (int round = 0; round < 3; round++) {
    shoal_instance_t *a = NULL, *b = NULL;
    shoal_diag_t d;
    ASSERT_OK_DIAG(shoal_instance_new(s, m, NULL, 0, &a, &d), &d);
    ASSERT_OK_DIAG(shoal_instance_new(s, m, NULL, 0, &b, &d), &d);
    shoal_memory_t *ma = shoal_instance_memory(a, "memory"), *mb = shoal_instance_memory(b, "memory");
    ASSERT_EQ_INT(byte_at(ma, 0), 0xaa);
    ASSERT_EQ_INT(byte_at(ma, 249999), 0xaa);
    ASSERT_EQ_INT(byte_at(ma, 250000), 0xbb);
    ASSERT_EQ_INT(byte_at(ma, 349999), 0xbb);
    ASSERT_EQ_INT(byte_at(ma, 350000), 0);
    ASSERT_EQ_INT(byte_at(ma, 8 * 65536 - 1), 0);
    /* a write is the instance's own */
    uint8_t v = 0x11;
    ASSERT_OK(shoal_memory_write(ma, 100, &v, 1));
    ASSERT_OK(shoal_memory_write(ma, 360000, &v, 1));
    ASSERT_EQ_INT(byte_at(ma, 100), 0x11);
    ASSERT_EQ_INT(byte_at(mb, 100), 0xaa);
    ASSERT_EQ_INT(byte_at(mb, 360000), 0);
    ASSERT_EQ_INT(shoal_memory_grow(mb, 2), 8);
    ASSERT_EQ_INT(byte_at(mb, 10 * 65536 - 1), 0);
    /* put back, an imaged memory has its image again (and its size) */
    ASSERT_OK_DIAG(shoal_instance_reinit(b, &d), &d);
    ASSERT_EQ_INT(shoal_memory_size(mb), 8 * 65536);
    ASSERT_EQ_INT(byte_at(mb, 100), 0xaa);
    ASSERT_EQ_INT(byte_at(mb, 250000), 0xbb);
    ASSERT_EQ_INT(byte_at(ma, 100), 0x11);
    ASSERT_OK(shoal_memory_write(mb, 100, &v, 1));
    ASSERT_OK(shoal_memory_write(mb, 360000, &v, 1));
    ASSERT_OK_DIAG(shoal_instance_reinit(b, &d), &d);
    ASSERT_EQ_INT(byte_at(mb, 100), 0xaa);
    ASSERT_EQ_INT(byte_at(mb, 360000), 0);
    ASSERT_OK(shoal_store_reset(s));
  }
  shoal_store_free(s);
  shoal_module_free(m);

  /* a segment past the memory: no image, and instantiation fails as it must */
  static const uint32_t off2[] = {0, 4 * 65536 - 10}, len2[] = {300000, 20};
  m = data_module(4, 2, off2, len2, fill, &err);
  ASSERT_OK(err);
  s = util_store(NULL);
  shoal_instance_t *i = NULL;
  shoal_diag_t d;
  ASSERT_ERR(shoal_instance_new(s, m, NULL, 0, &i, &d), SHOAL_ERR_TRAP_MEM_OOB);
  shoal_store_free(s);
  shoal_module_free(m);
}
/* }================================================================== */
