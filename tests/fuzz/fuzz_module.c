/*
** libFuzzer target: decode, validate and compile the input (a module, or in
** body mode a function body wrapped into a fixed module); if it is valid,
** satisfy its imports with stand-ins (host functions that may suspend or
** trap, fresh memories, tables and globals of the declared types),
** instantiate it in a store with fuel and small limits, and call every
** exported function (up to FUZZ_MAX_CALLS), resuming suspended calls;
** then put the instance back (shoal_instance_reinit) and call them again.
** Built with -DSHOAL_FUZZ=ON (clang); run with `make fuzz`.
*/
#include <shoal/engine.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Keep one input cheap. Fuel counts loop iterations and calls, not the
** bytes a bulk instruction touches, so the memory and table caps also bound
** what one iteration may cost: FUZZ_MAX_CALLS * FUZZ_FUEL iterations of a
** full-size memory.fill stay well under libFuzzer's -timeout. */
#define FUZZ_MAX_PAGES 4          /* 256 KiB per memory */
#define FUZZ_MAX_ELEMS 10000
#define FUZZ_FUEL 10000           /* per call, and for the start function */
#define FUZZ_MAX_CALLS 64         /* exported functions called per input */
#define FUZZ_STACK (256u * 1024u) /* value stack bytes */
#define FUZZ_DEPTH 2000           /* call depth */

static shoal_val_t zero_val(shoal_valtype_t t) {
  shoal_val_t v;
  memset(&v, 0, sizeof v);  /* 0, +0.0, null reference */
  v.type = t;
  return v;
}

/* {===================================================================
** What an input decides beyond its module, from a hash of all its bytes
** (the seed): the arguments of the exported functions and how the
** stand-in host functions behave (suspend, trap, results).
** =================================================================== */
#define SEED_SUSPEND (1ull << 63)   /* every third host call suspends */
#define SEED_CANCEL (1ull << 62)    /* a suspended call is cancelled, not resumed */
#define SEED_TRAP (1ull << 61)      /* every fifth host call traps */
#define FUZZ_MAX_RESUMES 1000

typedef struct fuzz_ctx {
  uint64_t seed;
  uint32_t host_calls;
  bool pending;             /* the last host call suspended: its retry completes */
} fuzz_ctx;

typedef struct host_env {
  fuzz_ctx *ctx;
  uint32_t nresults;
  shoal_valtype_t results[];
} host_env;

static uint64_t interesting(uint64_t seed, uint32_t k, shoal_valtype_t t) {
  static const uint32_t i32s[8] = { 0, 1, 0xffffffffu, 0x7fffffffu, 0x80000000u, 65536, 65535, 42 };
  static const uint64_t i64s[8] = { 0, 1, ~0ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
                                    0x100000000ull, 0xffffffffull, 42 };
  static const uint32_t f32s[8] = { 0, 0x80000000u, 0x3f800000u, 0x7f800000u, 0xff800000u,
                                    0x7fc00000u, 0x4f000000u, 0x00000001u };
  static const uint64_t f64s[8] = { 0, 0x8000000000000000ull, 0x3ff0000000000000ull,
                                    0x7ff0000000000000ull, 0xfff0000000000000ull,
                                    0x7ff8000000000000ull, 0x41e0000000000000ull, 1 };
  unsigned i = (unsigned)(seed >> (3 * (k % 20))) & 7;
  switch (t) {
  case SHOAL_I32: return i32s[i];
  case SHOAL_I64: return i64s[i];
  case SHOAL_F32: return f32s[i];
  case SHOAL_F64: return f64s[i];
  default: return 0;   /* null references */
  }
}

/* Every imported function. */
static shoal_err_t fuzz_host(shoal_caller_t *caller, void *env, shoal_raw_t *io) {
  host_env *h = env;
  fuzz_ctx *c = h->ctx;
  uint32_t n = ++c->host_calls;
  if (c->pending) {
    c->pending = false;            /* the retry after a resume */
  } else if ((c->seed & SEED_SUSPEND) && n % 3 == 1) {
    c->pending = true;
    return SHOAL_ERR_SUSPENDED;
  }
  if ((c->seed & SEED_TRAP) && n % 5 == 4) return shoal_caller_trap(caller, "fuzz host trap");
  for (uint32_t i = 0; i < h->nresults; i++) io[i] = interesting(c->seed, n + i, h->results[i]);
  return SHOAL_ERR_OK;
}

/* }=================================================================== */

static bool make_import(shoal_store_t *s, fuzz_ctx *ctx, const shoal_import_desc_t *imp,
                        shoal_extern_t *out) {
  const shoal_externtype_t *t = &imp->type;
  out->kind = t->kind;
  switch (t->kind) {
  case SHOAL_EXTERN_FUNC: {
    host_env *h = malloc(sizeof *h + (t->func.nresults + 1) * sizeof h->results[0]);
    if (!h) return false;
    h->ctx = ctx;
    h->nresults = t->func.nresults;
    for (uint32_t i = 0; i < t->func.nresults; i++) h->results[i] = t->func.results[i];
    out->of.func = shoal_func_new_host(s, &t->func, fuzz_host, h, free);
    if (!out->of.func) free(h);
    return out->of.func != NULL;
  }
  case SHOAL_EXTERN_MEMORY:
    if (t->limits.min > FUZZ_MAX_PAGES) return false;
    out->of.memory = shoal_memory_new(s, &t->limits);
    return out->of.memory != NULL;
  case SHOAL_EXTERN_TABLE:
    if (t->limits.min > FUZZ_MAX_ELEMS) return false;
    out->of.table = shoal_table_new(s, t->elem, &t->limits, zero_val(t->elem));
    return out->of.table != NULL;
  case SHOAL_EXTERN_GLOBAL: {
    shoal_val_t v = shoal_val_from_raw(t->global_type, interesting(ctx->seed, 7, t->global_type));
    out->of.global = shoal_global_new(s, t->global_type, t->global_mutable, v);
    return out->of.global != NULL;
  }
  }
  return false;
}

static void call_exports(shoal_store_t *s, fuzz_ctx *ctx, shoal_instance_t *inst,
                         const shoal_module_t *m) {
  size_t n = shoal_module_export_count(m);
  if (n > FUZZ_MAX_CALLS) n = FUZZ_MAX_CALLS;
  for (size_t i = 0; i < n; i++) {
    shoal_export_desc_t ex;
    shoal_extern_t e;
    shoal_module_export(m, i, &ex);
    if (ex.type.kind != SHOAL_EXTERN_FUNC) continue;
    if (!shoal_instance_export(inst, ex.name, ex.name_len, &e) || e.kind != SHOAL_EXTERN_FUNC)
      continue;
    shoal_functype_t ft;
    shoal_func_type(e.of.func, &ft);
    shoal_val_t *args = calloc(ft.nparams + 1, sizeof *args);
    shoal_val_t *results = calloc(ft.nresults + 1, sizeof *results);
    if (args && results) {
      for (uint32_t k = 0; k < ft.nparams; k++)
        args[k] = shoal_val_from_raw(ft.params[k], interesting(ctx->seed, k, ft.params[k]));
      shoal_diag_t diag;
      shoal_store_set_fuel(s, FUZZ_FUEL);
      shoal_err_t err = shoal_func_call(s, e.of.func, args, ft.nparams, results, ft.nresults, &diag);
      /* Resumes re-run the suspended host call; fuel bounds the wasm. */
      for (int r = 0; err == SHOAL_ERR_SUSPENDED && r < FUZZ_MAX_RESUMES; r++) {
        if (ctx->seed & SEED_CANCEL) break;
        err = shoal_store_resume(s, &diag);
      }
      if (err == SHOAL_ERR_SUSPENDED) shoal_store_cancel(s);
      ctx->pending = false;
    }
    free(args);
    free(results);
  }
}

/* {===================================================================
** Body mode: an input whose first byte is not 0x00 (every module starts
** with 0x00) is the code of one function, wrapped into a fixed module with
** an imported function, a table, a memory, globals and active and passive
** segments. Most random modules fail to decode; most wrapped bodies reach
** the validator, the compiler and the interpreter.
** =================================================================== */
typedef struct buf {
  uint8_t *p;
  size_t len, cap;
  bool oom;
} buf;

static void put(buf *b, const void *src, size_t n) {
  if (b->oom) return;
  if (b->len + n > b->cap) {
    size_t cap = (b->len + n) * 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) { b->oom = true; return; }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, src, n);
  b->len += n;
}

static void put_u32(buf *b, uint32_t v) {
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    if (v) byte |= 0x80;
    put(b, &byte, 1);
  } while (v);
}

static void put_section(buf *b, uint8_t id, const uint8_t *contents, size_t n) {
  put(b, &id, 1);
  put_u32(b, (uint32_t)n);
  put(b, contents, n);
}

#define SEC(b, id, ...) do {                                              \
    static const uint8_t sec_[] = { __VA_ARGS__ };                        \
    put_section(b, id, sec_, sizeof sec_);                                \
  } while (0)

/* The body function's type, chosen by the mode byte. */
static const uint8_t *body_type(uint8_t sel, size_t *n) {
  static const uint8_t types[4][8] = {
    { 0x60, 0x00, 0x00 },                         /* () -> () */
    { 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f },       /* (i32 i32) -> (i32) */
    { 0x60, 0x02, 0x7e, 0x7c, 0x01, 0x7e },       /* (i64 f64) -> (i64) */
    { 0x60, 0x02, 0x7d, 0x7f, 0x02, 0x7d, 0x7c }, /* (f32 i32) -> (f32 f64) */
  };
  static const size_t lens[4] = { 3, 6, 6, 7 };
  *n = lens[sel & 3];
  return types[sel & 3];
}

static uint8_t *wrap_body(const uint8_t *data, size_t size, size_t *out_len) {
  buf b = { NULL, 0, 0, false };
  static const uint8_t hdr[] = { 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00 };
  put(&b, hdr, sizeof hdr);
  size_t tn;
  const uint8_t *t = body_type(data[0], &tn);
  /* types: 0 = the body's, 1 = (i32) -> (i32) for the import */
  uint8_t types[32] = { 0x02 };
  memcpy(types + 1, t, tn);
  static const uint8_t t1[] = { 0x60, 0x01, 0x7f, 0x01, 0x7f };
  memcpy(types + 1 + tn, t1, sizeof t1);
  put_section(&b, 1, types, 1 + tn + sizeof t1);
  SEC(&b, 2, 0x01, 0x03, 'e', 'n', 'v', 0x01, 'h', 0x00, 0x01);     /* import func 0 */
  SEC(&b, 3, 0x01, 0x00);                                            /* func 1: type 0 */
  SEC(&b, 4, 0x01, 0x70, 0x01, 0x04, 0x08);                          /* table funcref 4..8 */
  SEC(&b, 5, 0x01, 0x01, 0x01, 0x04);                                /* memory 1..4 */
  SEC(&b, 6, 0x02, 0x7f, 0x01, 0x41, 0x00, 0x0b,                     /* mut i32 = 0 */
      0x7e, 0x01, 0x42, 0x00, 0x0b);                                 /* mut i64 = 0 */
  SEC(&b, 7, 0x01, 0x01, 'f', 0x00, 0x01);                           /* export "f" */
  SEC(&b, 9, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x02, 0x00, 0x01,         /* active: 0, 1 at 0 */
      0x01, 0x00, 0x02, 0x01, 0x00);                                 /* passive: 1, 0 */
  SEC(&b, 12, 0x02);                                                 /* data count */
  /* code: one body, the input after the mode byte */
  buf code = { NULL, 0, 0, false };
  put_u32(&code, 1);
  put_u32(&code, (uint32_t)(size - 1));
  put(&code, data + 1, size - 1);
  if (code.oom) b.oom = true;
  else put_section(&b, 10, code.p, code.len);
  free(code.p);
  SEC(&b, 11, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x04, 'a', 'b', 'c', 'd',  /* active at 0 */
      0x01, 0x04, 'w', 'x', 'y', 'z');                                  /* passive */
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  *out_len = b.len;
  return b.p;
}

/* }=================================================================== */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  shoal_module_t *m = NULL;
  shoal_diag_t diag;
  if (size > 0 && data[0] != 0x00) {
    size_t len = 0;
    uint8_t *wrapped = wrap_body(data, size, &len);
    if (!wrapped) return 0;
    shoal_err_t err = shoal_module_new(wrapped, len, &m, &diag);
    free(wrapped);
    if (err != SHOAL_ERR_OK) return 0;
  } else if (shoal_module_new(data, size, &m, &diag) != SHOAL_ERR_OK) {
    return 0;
  }

  shoal_store_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.size = sizeof cfg;
  cfg.fuel = FUZZ_FUEL;
  cfg.max_memory_bytes = (uint64_t)FUZZ_MAX_PAGES * 65536;
  cfg.max_table_elems = FUZZ_MAX_ELEMS;
  cfg.stack_bytes = FUZZ_STACK;
  cfg.max_call_depth = FUZZ_DEPTH;
  fuzz_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.seed = 14695981039346656037ull;   /* FNV-1a: every byte counts */
  for (size_t i = 0; i < size; i++) ctx.seed = (ctx.seed ^ data[i]) * 1099511628211ull;
  shoal_store_t *s = NULL;
  if (shoal_store_new(&cfg, &s) != SHOAL_ERR_OK) {
    shoal_module_free(m);
    return 0;
  }

  size_t nimports = shoal_module_import_count(m);
  shoal_extern_t *imports = calloc(nimports + 1, sizeof *imports);
  bool ok = imports != NULL;
  for (size_t i = 0; ok && i < nimports; i++) {
    shoal_import_desc_t imp;
    shoal_module_import(m, i, &imp);
    ok = make_import(s, &ctx, &imp, &imports[i]);
  }
  shoal_instance_t *inst = NULL;
  if (ok && shoal_instance_new(s, m, imports, nimports, &inst, &diag) == SHOAL_ERR_OK) {
    call_exports(s, &ctx, inst, m);
    /* again, put back as instantiation made it (its imports as they are) */
    if (shoal_store_rearm(s) == SHOAL_ERR_OK && shoal_instance_reinit(inst, &diag) == SHOAL_ERR_OK)
      call_exports(s, &ctx, inst, m);
  }

  free(imports);
  shoal_store_free(s);
  shoal_module_free(m);
  return 0;
}
