/*
** interp.c: runs slot code (see code.h). One function, direct-threaded:
** each handler ends by jumping straight to the next one's address.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "code.h"
#include "runtime.h"
#include "guard.h"

/* {=====================================================================
** Numeric helpers the opcode table's expressions use
** ===================================================================== */
static inline uint32_t eng_rotl32(uint32_t a, uint32_t b) { b &= 31; return (a << b) | (a >> ((32 - b) & 31)); }
static inline uint32_t eng_rotr32(uint32_t a, uint32_t b) { b &= 31; return (a >> b) | (a << ((32 - b) & 31)); }
static inline uint64_t eng_rotl64(uint64_t a, uint64_t b) { b &= 63; return (a << b) | (a >> ((64 - b) & 63)); }
static inline uint64_t eng_rotr64(uint64_t a, uint64_t b) { b &= 63; return (a >> b) | (a << ((64 - b) & 63)); }

/* WebAssembly min/max: NaN if either is NaN, and -0 < +0. Adding NaNs
** yields a quiet NaN, which is what the specification allows. */
static inline float eng_fminf(float a, float b) {
  if (a != a || b != b) return a + b;
  if (a == b) return signbit(a) ? a : b;
  return a < b ? a : b;
}
static inline float eng_fmaxf(float a, float b) {
  if (a != a || b != b) return a + b;
  if (a == b) return signbit(a) ? b : a;
  return a > b ? a : b;
}
static inline double eng_fmin(double a, double b) {
  if (a != a || b != b) return a + b;
  if (a == b) return signbit(a) ? a : b;
  return a < b ? a : b;
}
static inline double eng_fmax(double a, double b) {
  if (a != a || b != b) return a + b;
  if (a == b) return signbit(a) ? b : a;
  return a > b ? a : b;
}

/* libm may hand a signalling NaN back unchanged; the specification wants
** it quieted. */
#define ROUNDING(name, T, fn) \
  static inline T eng_##name(T a) { return a != a ? a + a : fn(a); }
ROUNDING(ceilf, float, ceilf)
ROUNDING(floorf, float, floorf)
ROUNDING(truncf, float, truncf)
ROUNDING(ceil, double, ceil)
ROUNDING(floor, double, floor)
ROUNDING(trunc, double, trunc)
#undef ROUNDING

/* Round to nearest, ties to even (wasm's `nearest`), inline instead of
** libm's nearbyint (so `shoal` need not load libm): adding and taking away
** 2^52 (2^23) leaves an integer rounded in the default rounding mode, which
** wasm never changes. Values that large are integers already; the sign is
** put back so -0.5 gives -0. */
static inline double eng_nearbyint(double a) {
  if (a != a) return a + a;
  if (!(fabs(a) < 4503599627370496.0)) return a;
  return copysign((fabs(a) + 4503599627370496.0) - 4503599627370496.0, a);
}
static inline float eng_nearbyintf(float a) {
  if (a != a) return a + a;
  if (!(fabsf(a) < 8388608.0f)) return a;
  return copysignf((fabsf(a) + 8388608.0f) - 8388608.0f, a);
}

static inline int32_t eng_sat_s32(double a) {
  if (a != a) return 0;
  if (a <= -2147483648.0) return INT32_MIN;
  if (a >= 2147483648.0) return INT32_MAX;
  return (int32_t)a;
}
static inline uint32_t eng_sat_u32(double a) {
  if (a != a || a <= -1.0) return 0;
  if (a >= 4294967296.0) return UINT32_MAX;
  return (uint32_t)a;
}
static inline int64_t eng_sat_s64(double a) {
  if (a != a) return 0;
  if (a < -9223372036854775808.0) return INT64_MIN;
  if (a >= 9223372036854775808.0) return INT64_MAX;
  return (int64_t)a;
}
static inline uint64_t eng_sat_u64(double a) {
  if (a != a || a <= -1.0) return 0;
  if (a >= 18446744073709551616.0) return UINT64_MAX;
  return (uint64_t)a;
}

static inline float bits_f32(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static inline double bits_f64(uint64_t b) { double d; memcpy(&d, &b, 8); return d; }
static inline uint32_t f32_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }
static inline uint64_t f64_bits(double d) { uint64_t b; memcpy(&b, &d, 8); return b; }

typedef uint32_t CT_u32;
typedef int32_t CT_s32;
typedef uint64_t CT_u64;
typedef int64_t CT_s64;
typedef float CT_f32;
typedef double CT_f64;
#define RD_u32(x) ((uint32_t)(x))
#define RD_s32(x) ((int32_t)(uint32_t)(x))
#define RD_u64(x) ((uint64_t)(x))
#define RD_s64(x) ((int64_t)(x))
#define RD_f32(x) bits_f32((uint32_t)(x))
#define RD_f64(x) bits_f64(x)
#define WR_u32(v) ((uint64_t)(uint32_t)(v))
#define WR_u64(v) ((uint64_t)(v))
#define WR_f32(v) ((uint64_t)f32_bits(v))
#define WR_f64(v) f64_bits(v)
/* 32-bit immediates, sign-extended to the operand type */
#define RI_u32(w) ((uint32_t)(w))
#define RI_s32(w) ((int32_t)(w))
#define RI_u64(w) ((uint64_t)(int64_t)(int32_t)(w))
#define RI_s64(w) ((int64_t)(int32_t)(w))
/* }===================================================================== */

#define BUDGET_CHUNK (1 << 20)

/* Zeroes a new frame's locals and copies its constants in: a handful of
** words, so an inline loop beats a call to memcpy. The empty asm keeps the
** compiler from turning the loop back into one. */
static inline void frame_init(shoal_raw_t *fp, const eng_code *cd) {
  shoal_raw_t *d = fp + cd->nparams;
  const uint64_t *src = cd->init;
  for (uint32_t i = 0, n = cd->ninit; i < n; i++) {
    d[i] = src[i];
    __asm__("" : "+r"(i));
  }
}

/* Whether i32 condition cond (an index in ENG_BRC_CONDS) holds for d, c. */
enum {
#define X(name, ...) BRC_IDX_##name,
  ENG_BRC_CONDS(X)
#undef X
};
static inline bool brc_holds(uint32_t cond, uint32_t d, uint32_t c) {
  switch (cond) {
#define X(name, op, ct) case BRC_IDX_##name: return RD_##ct(d) op RD_##ct(c);
  ENG_BRC_CONDS(X)
#undef X
  default:
    return false;
  }
}

/* Refills the back-edge budget; notices interrupts and fuel. */
static shoal_err_t budget_refill(shoal_store_t *s, int64_t *budget) {
  *budget = 0;
  if (atomic_load_explicit(&s->interrupt, memory_order_relaxed)) return SHOAL_ERR_TRAP_INTERRUPT;
  if (s->fuel_on) {
    if (s->fuel <= 0) return SHOAL_ERR_TRAP_FUEL;
    int64_t grant = s->fuel < BUDGET_CHUNK ? s->fuel : BUDGET_CHUNK;
    s->fuel -= grant;
    *budget = grant;
  } else {
    *budget = BUDGET_CHUNK;
  }
  return SHOAL_ERR_OK;
}

static void append_frame(char *buf, size_t cap, size_t *len, unsigned n, const shoal_func_t *f) {
  if (*len >= cap - 1) return;
  const char *name = NULL;
  if (f->inst && f->inst->module->func_names && f->idx < f->inst->module->nfuncs)
    name = f->inst->module->func_names[f->idx];
  int w;
  if (!f->inst)
    w = snprintf(buf + *len, cap - *len, "  #%u <host function>\n", n);
  else if (name)
    w = snprintf(buf + *len, cap - *len, "  #%u %s (func %u)\n", n, name, f->idx);
  else
    w = snprintf(buf + *len, cap - *len, "  #%u func %u\n", n, f->idx);
  if (w > 0) *len += (size_t)w < cap - *len ? (size_t)w : cap - *len - 1;
}

/* Fills diag for a trap: message (unless a host function set one) and a
** backtrace, innermost first. */
static void trap_diag(shoal_store_t *s, shoal_err_t err, shoal_func_t *func, uint32_t depth,
                      uint32_t base_depth, shoal_diag_t *diag) {
  if (!diag) return;
  bool keep_msg = (err == SHOAL_ERR_TRAP_HOST || err == SHOAL_ERR_EXIT) && diag->code == err;
  diag->code = err;
  if (!keep_msg) snprintf(diag->message, sizeof diag->message, "%s", shoal_err_message(err));
  diag->offset = -1;
  diag->func = func && func->inst ? (int64_t)func->idx : -1;
  diag->c_file = __FILE__;
  diag->c_line = __LINE__;
  if (err == SHOAL_ERR_EXIT) diag->exit_code = s->exit_code;
  size_t len = 0;
  diag->trace[0] = 0;
  unsigned n = 0;
  if (func) append_frame(diag->trace, sizeof diag->trace, &len, n++, func);
  for (uint32_t d = depth; d-- > base_depth;)
    append_frame(diag->trace, sizeof diag->trace, &len, n++, s->frames[d].func);
}

/* The interpreter. Runs from pc in frame fp of func until the frame at
** base_depth returns. With handlers_out set, only hands out the handler
** table (label offsets exist only inside this function). */
static shoal_err_t exec(shoal_store_t *s, shoal_func_t *func, shoal_raw_t *fp, const uint32_t *pc,
                        uint32_t base_depth, shoal_diag_t *diag, eng_guard_ctx *guard,
                        const void *const **handlers_out) {
#define H(name) &&L_##name,
  static const void *const handlers[] = {
#define X(name) H(name)
    ENG_CONTROL_OPS(X)
#undef X
#define UN(name, ...) H(name)
#define BI(name, ...) H(name)
#define BIK(name, ...) H(name) H(name##_IMM)
#define TU(name, ...) H(name)
#define TB(name, ...) H(name)
#include "opcodes.def"
#undef UN
#undef BI
#undef BIK
#undef TU
#undef TB
#define X(cond, ...) H(BRC_##cond) H(BRC_##cond##_I) H(BRC_##cond##_B) H(BRC_##cond##_IB)
    ENG_BRC_CONDS(X)
    ENG_BRC64_CONDS(X)
#undef X

#define Y(op, sh) H(I32_##op##_##sh)
#define X(op, ...) ENG_SHIFTOP_SHIFTS(Y, op)
    ENG_SHIFTOP_OPS(X)
#undef X
#undef Y
    H(I32_ADD_MUL) H(I64_ADD_MUL)
    H(I32_ADD3) H(I64_ADD3) H(I32_ANDN) H(I32_ROTL_XOR_ROTL) H(I32_ADD_IMM_SHL)
    H(F64_ADD_M) H(F64_ADD_M_AI) H(F64_MUL_M) H(F64_MUL_M_AI)
#define X(name, ...) H(I64_##name##_M) H(I64_##name##_M_AI) H(I64_##name##_M_SX) H(I64_##name##_M_SXI)
    ENG_I64M_OPS(X)
#undef X
    H(ADDI_BR_BACK) H(ADDI2_BR_BACK) H(ADDI3_BR_BACK) H(MOV_ADDI_BR_BACK) H(MOV2_ADDI_BR_BACK)
    H(COPY8) H(COPY4) H(COPY_S32) H(COPY_U32)
#define X(name, mt) H(BRT_##name) H(BRT_##name##_AI) H(BRT_##name##_AA) H(BRT_##name##_SX) H(BRT_##name##_SXI)
    ENG_BRT_LOADS(X)
#undef X
    H(BUMP_LOOP)
#define LOAD(...)
#define STORE(name, ...) H(name##_BUMP)
#include "memops.def"
#undef LOAD
#undef STORE
#define X(cond, ...) H(ADDBR_##cond##_SS) H(ADDBR_##cond##_SI) H(ADDBR_##cond##_IS) H(ADDBR_##cond##_II)
    ENG_BRC_CONDS(X)
    ENG_BRC64_CONDS(X)
#undef X
#define LOAD(name, ...) H(name) H(name##_AI) H(name##_AA) H(name##_SX) H(name##_SXI)
#define STORE(name, ...) H(name) H(name##_AI) H(name##_AA) H(name##_SX) H(name##_SXI)
#include "memops.def"
#undef LOAD
#undef STORE
  };
#undef H
  _Static_assert(sizeof handlers / sizeof handlers[0] == ENG_OP__COUNT, "ORDER OP: handlers[] must list every eng_op");
  if (handlers_out) {
    *handlers_out = handlers;
    return SHOAL_ERR_OK;
  }

  /* Only pc, fp, the handler base, the memory base, the instance and the
  ** back-edge budget are kept in registers; the call path's state (depth,
  ** the current function) lives in the store, so the hot handlers have
  ** registers to spare and a memory fault can find it. (A memory fault
  ** loses the budget spent since entry: fuel is charged by windows.) */
  shoal_instance_t *inst = func->inst;
  shoal_memory_t *mem = inst->mem0;
  uint8_t *mb = mem ? mem->base : NULL;
#if !ENG_GUARD_PAGES
  uint64_t ms = mem ? mem->size : 0;
#endif
  shoal_err_t err = SHOAL_ERR_OK;
  shoal_func_t *callee;
  shoal_raw_t *nfp;
  const uint32_t *ipc;
  s->cur_func = func;
  /* The back-edge countdown lives in a register while this runs; the store
  ** holds it whenever control leaves (host calls, traps, returns). */
  int64_t budget = s->budget;

#if ENG_GUARD_PAGES
  guard->lo = mb;
  guard->hi = mem ? mb + mem->reserved : NULL;
#define GUARD_EXIT() ((void)0)
#define RELOAD_MEM() do {                                               \
    mem = inst->mem0;                                                   \
    mb = mem ? mem->base : NULL;                                        \
    guard->lo = mb;                                                     \
    guard->hi = mem ? mb + mem->reserved : NULL;                        \
  } while (0)
#define RELOAD_SIZE() ((void)0)
#define MEM_CHECK(ea, n) ((void)0)
#else
  (void)guard;                 /* explicit bounds checks: no fault to catch */
#define GUARD_EXIT() ((void)0)
#define RELOAD_MEM() do { mem = inst->mem0; mb = mem ? mem->base : NULL; ms = mem ? mem->size : 0; } while (0)
#define RELOAD_SIZE() do { if (mem) ms = mem->size; } while (0)
#define MEM_CHECK(ea, n) do { if (eng_unlikely((ea) + (n) > ms)) TRAP(TRAP_MEM_OOB); } while (0)
#endif

/* The handler's address is the instruction's first two words; operand
** word i follows it. */
#define OPW(i) pc[(i) + 1]
#define NEXT() do { const void *next_; memcpy(&next_, pc, sizeof next_); goto *next_; } while (0)
/* Each trap has its own label, so no handler keeps an error code live. */
#define TRAP(code) goto trap_##code
#define SLOT(i) fp[OPW(i)]
/* Loop back-edges spend budget: interrupts and fuel are noticed here. */
#define BACK_EDGE() do {                                        \
    if (eng_unlikely(--budget <= 0)) {                          \
      int64_t nb_;                                              \
      err = budget_refill(s, &nb_);                             \
      budget = nb_;                                             \
      if (err) goto trap;                                       \
    }                                                           \
  } while (0)

  NEXT();

  /* {=================================================================
  ** Control
  ** ================================================================= */
L_UNREACHABLE:
  TRAP(TRAP_UNREACHABLE);
L_MOV:
  SLOT(1) = SLOT(2);
  pc += 4;
  NEXT();
L_MOV2:
  SLOT(1) = SLOT(2);
  SLOT(3) = SLOT(4);
  pc += ENG_HANDLER_WORDS + 4;
  NEXT();
L_MOV3:
  SLOT(1) = SLOT(2);
  SLOT(3) = SLOT(4);
  SLOT(5) = SLOT(6);
  pc += ENG_HANDLER_WORDS + 6;
  NEXT();
L_BR:
  pc += 2 + (int32_t)OPW(1);
  NEXT();
L_BR_BACK:
  BACK_EDGE();
  pc += 2 + (int32_t)OPW(1);
  NEXT();
L_BR_IF:
  if ((uint32_t)SLOT(1)) pc += 3 + (int32_t)OPW(2);
  else pc += 4;
  NEXT();
L_BR_IF_BACK:
  if ((uint32_t)SLOT(1)) {
    BACK_EDGE();
    pc += 3 + (int32_t)OPW(2);
  } else {
    pc += 4;
  }
  NEXT();
L_BR_UNLESS:
  if (!(uint32_t)SLOT(1)) pc += 3 + (int32_t)OPW(2);
  else pc += 4;
  NEXT();
L_BR_UNLESS_BACK:
  if (!(uint32_t)SLOT(1)) {
    BACK_EDGE();
    pc += 3 + (int32_t)OPW(2);
  } else {
    pc += 4;
  }
  NEXT();
L_BR_TABLE: {
  uint32_t i = (uint32_t)SLOT(1), n = OPW(2);
  if (i > n) i = n;
  pc += 4 + i + (int32_t)OPW(3 + i);
  NEXT();
}
L_CALL:
  callee = inst->funcs[OPW(1)];
  nfp = fp + OPW(2);
  ipc = pc;
  pc += 4;
  goto do_call;
  /* Enters wasm function callee (code cd) with its frame at nfp; the
  ** caller continues at ret. */
#define ENTER_WASM(cd, ret) do {                                                          \
    uint32_t depth = s->depth;                                                            \
    if (eng_unlikely(depth >= s->max_depth || nfp + (cd)->frame_slots > s->stack_end))    \
      TRAP(TRAP_STACK);                                                                   \
    BACK_EDGE();                                                                          \
    eng_frame *fr = &s->frames[depth];                                                    \
    fr->ret_pc = (ret);                                                                   \
    fr->fp = fp;                                                                          \
    fr->func = s->cur_func;                                                               \
    s->depth = depth + 1;                                                                 \
    frame_init(nfp, (cd));                                                                \
    fp = nfp;                                                                             \
    s->cur_func = callee;                                                                 \
    pc = (cd)->words;                                                                     \
  } while (0)
L_CALL_LOCAL: {
  /* same instance, always wasm: no host or instance-switch checks */
  callee = inst->funcs[OPW(1)];
  nfp = fp + OPW(2);
  ENTER_WASM(callee->code, pc + ENG_HANDLER_WORDS + 2);
  NEXT();
}
L_CALL_INDIRECT: {
  shoal_table_t *t = inst->tables[OPW(2)];
  uint32_t i = (uint32_t)SLOT(3);
  if (eng_unlikely(i >= t->size)) TRAP(TRAP_UNDEFINED_ELEM);
  callee = (shoal_func_t *)t->elems[i];
  if (eng_unlikely(!callee)) TRAP(TRAP_UNINIT_ELEM);
  const eng_functype *want = &inst->module->types[OPW(1)];
  if (eng_unlikely(callee->type != want && !eng_functype_eq(callee->type, want)))
    TRAP(TRAP_INDIRECT_TYPE);
  nfp = fp + OPW(4);
  ipc = pc;
  pc += 6;
  goto do_call;
}
do_call:
  if (eng_likely(callee->code != NULL)) {
    ENTER_WASM(callee->code, pc);
    if (callee->inst != inst) {
      inst = callee->inst;
      RELOAD_MEM();
    }
    NEXT();
  } else {
    /* A host function: arguments and results in place at nfp. */
    shoal_caller_t caller = {s, inst, diag};
    shoal_raw_t *saved_top = s->stack_top;
    uint32_t np = callee->type->nparams, nr = callee->type->nresults;
    s->stack_top = nfp + (np > nr ? np : nr);
    if (diag) diag->code = SHOAL_ERR_OK;
    s->budget = budget;
    /* the host may run wasm of another instance on this store, which
    ** leaves its own function current */
    shoal_func_t *saved_func = s->cur_func;
    err = callee->host(&caller, callee->env, nfp);
    s->cur_func = saved_func;
    budget = s->budget;
    s->stack_top = saved_top;
    if (eng_unlikely(err != SHOAL_ERR_OK)) {
      if (err == SHOAL_ERR_SUSPENDED) {
        if (saved_top != NULL) {
          /* a nested execution cannot park the outer host frame */
          err = SHOAL_ERR_TRAP_HOST;
          if (diag) {
            diag->code = err;
            snprintf(diag->message, sizeof diag->message, "cannot suspend inside a nested call");
          }
          goto trap;
        }
        s->susp.active = true;
        s->susp.pc = ipc;
        s->susp.fp = fp;
        s->susp.func = s->cur_func;
        s->susp.base_depth = base_depth;
        GUARD_EXIT();
        return SHOAL_ERR_SUSPENDED;
      }
      if (err != SHOAL_ERR_EXIT && !shoal_err_is_trap(err)) err = SHOAL_ERR_TRAP_HOST;
      goto trap;
    }
    RELOAD_SIZE();
    NEXT();
  }
L_RETURN0:
  goto do_return;
L_RETURN1:
  fp[0] = SLOT(1);
  goto do_return;
L_RETURNN: {
  uint32_t n = OPW(1);
  const shoal_raw_t *src = fp + OPW(2);
  for (uint32_t i = 0; i < n; i++) fp[i] = src[i];
  goto do_return;
}
do_return: {
  uint32_t depth = s->depth;
  if (eng_unlikely(depth == base_depth)) goto done;
  eng_frame *fr = &s->frames[--depth];
  s->depth = depth;
  pc = fr->ret_pc;
  fp = fr->fp;
  s->cur_func = fr->func;
  if (fr->func->inst != inst) {
    inst = fr->func->inst;
    RELOAD_MEM();
  } else {
    RELOAD_SIZE();             /* the callee may have grown it */
  }
  NEXT();
}
L_SELECT:
  SLOT(1) = (uint32_t)SLOT(4) ? SLOT(2) : SLOT(3);
  pc += 6;
  NEXT();
L_GLOBAL_GET:
  SLOT(1) = inst->globals[OPW(2)]->val;
  pc += 4;
  NEXT();
L_GLOBAL_SET:
  inst->globals[OPW(1)]->val = SLOT(2);
  pc += 4;
  NEXT();
  /* }================================================================= */

  /* {=================================================================
  ** Tables and references
  ** ================================================================= */
L_TABLE_GET: {
  shoal_table_t *t = inst->tables[OPW(2)];
  uint32_t i = (uint32_t)SLOT(3);
  if (eng_unlikely(i >= t->size)) TRAP(TRAP_TABLE_OOB);
  SLOT(1) = (shoal_raw_t)(uintptr_t)t->elems[i];
  pc += 5;
  NEXT();
}
L_TABLE_SET: {
  shoal_table_t *t = inst->tables[OPW(1)];
  uint32_t i = (uint32_t)SLOT(2);
  if (eng_unlikely(i >= t->size)) TRAP(TRAP_TABLE_OOB);
  t->elems[i] = (void *)(uintptr_t)SLOT(3);
  pc += 5;
  NEXT();
}
L_TABLE_SIZE:
  SLOT(1) = inst->tables[OPW(2)]->size;
  pc += 4;
  NEXT();
L_TABLE_GROW: {
  shoal_table_t *t = inst->tables[OPW(2)];
  int64_t r = eng_table_grow(t, (uint32_t)SLOT(4), (void *)(uintptr_t)SLOT(3));
  SLOT(1) = (uint32_t)r;
  pc += 6;
  NEXT();
}
L_TABLE_FILL: {
  shoal_table_t *t = inst->tables[OPW(1)];
  uint64_t i = (uint32_t)SLOT(2), n = (uint32_t)SLOT(4);
  void *v = (void *)(uintptr_t)SLOT(3);
  if (eng_unlikely(i + n > t->size)) TRAP(TRAP_TABLE_OOB);
  for (uint64_t k = 0; k < n; k++) t->elems[i + k] = v;
  pc += 6;
  NEXT();
}
L_TABLE_COPY: {
  shoal_table_t *dt = inst->tables[OPW(1)], *st = inst->tables[OPW(2)];
  uint64_t d = (uint32_t)SLOT(3), sr = (uint32_t)SLOT(4), n = (uint32_t)SLOT(5);
  if (eng_unlikely(d + n > dt->size || sr + n > st->size)) TRAP(TRAP_TABLE_OOB);
  if (n) memmove(dt->elems + d, st->elems + sr, (size_t)n * sizeof *dt->elems);
  pc += 7;
  NEXT();
}
L_TABLE_INIT: {
  shoal_table_t *t = inst->tables[OPW(1)];
  const eng_elem *seg = &inst->module->elems[OPW(2)];
  uint64_t d = (uint32_t)SLOT(3), sr = (uint32_t)SLOT(4), n = (uint32_t)SLOT(5);
  uint64_t seglen = inst->elem_dropped[OPW(2)] ? 0 : seg->count;
  if (eng_unlikely(sr + n > seglen || d + n > t->size)) TRAP(TRAP_TABLE_OOB);
  for (uint64_t k = 0; k < n; k++) t->elems[d + k] = eng_elem_item(inst, seg, (uint32_t)(sr + k));
  pc += 7;
  NEXT();
}
L_ELEM_DROP:
  inst->elem_dropped[OPW(1)] = 1;
  pc += 3;
  NEXT();
L_REF_FUNC:
  SLOT(1) = (shoal_raw_t)(uintptr_t)inst->funcs[OPW(2)];
  pc += 4;
  NEXT();
  /* }================================================================= */

  /* {=================================================================
  ** Memory
  ** ================================================================= */
L_MEMORY_SIZE:
  SLOT(1) = (uint32_t)mem->pages;
  pc += 3;
  NEXT();
L_MEMORY_GROW: {
  int64_t r = eng_memory_grow(mem, (uint32_t)SLOT(2));
  SLOT(1) = (uint32_t)r;
  RELOAD_SIZE();
  pc += 4;
  NEXT();
}
L_MEMORY_FILL: {
  uint64_t d = (uint32_t)SLOT(1), n = (uint32_t)SLOT(3);
  if (eng_unlikely(d + n > mem->size)) TRAP(TRAP_MEM_OOB);
  if (n) memset(mb + d, (int)(uint8_t)SLOT(2), (size_t)n);
  pc += 5;
  NEXT();
}
L_MEMORY_COPY: {
  uint64_t d = (uint32_t)SLOT(1), sr = (uint32_t)SLOT(2), n = (uint32_t)SLOT(3);
  if (eng_unlikely(d + n > mem->size || sr + n > mem->size)) TRAP(TRAP_MEM_OOB);
  if (n) memmove(mb + d, mb + sr, (size_t)n);
  pc += 5;
  NEXT();
}
L_MEMORY_INIT: {
  const eng_data *seg = &inst->module->datas[OPW(1)];
  uint64_t d = (uint32_t)SLOT(2), sr = (uint32_t)SLOT(3), n = (uint32_t)SLOT(4);
  uint64_t seglen = inst->data_dropped[OPW(1)] ? 0 : seg->len;
  if (eng_unlikely(sr + n > seglen || d + n > mem->size)) TRAP(TRAP_MEM_OOB);
  if (n) memcpy(mb + d, seg->bytes + sr, (size_t)n);
  pc += 6;
  NEXT();
}
L_DATA_DROP:
  inst->data_dropped[OPW(1)] = 1;
  pc += 3;
  NEXT();

  /* Effective addresses: 32-bit address arithmetic wraps, then the
  ** offset is added in 64 bits (no wrap), as the specification says. */
#define EA_PLAIN(ai, offi) ((uint64_t)(uint32_t)SLOT(ai) + OPW(offi))
#define EA_AI(ai, offi) ((uint64_t)(uint32_t)((uint32_t)SLOT(ai) + OPW((ai) + 1)) + OPW(offi))
#define EA_AA(ai, offi) ((uint64_t)(uint32_t)((uint32_t)SLOT(ai) + (uint32_t)SLOT((ai) + 1)) + OPW(offi))
#define EA_SX(ai, offi) \
  ((uint64_t)(uint32_t)((uint32_t)SLOT(ai) + ((uint32_t)SLOT((ai) + 1) << (OPW((ai) + 2) & 31))) + OPW(offi))
#define EA_SXI(ai, offi)                                                         \
  ((uint64_t)(uint32_t)((uint32_t)SLOT(ai) + OPW((ai) + 1) +                     \
                        ((uint32_t)SLOT((ai) + 2) << (OPW((ai) + 3) & 31))) +    \
   OPW(offi))
  /* f64 add/mul of a slot and a value loaded here */
#define FMEM(label, op, ea_expr, len)                                   \
  label: {                                                              \
    uint64_t ea = ea_expr;                                              \
    MEM_CHECK(ea, 8);                                                   \
    uint64_t mv;                                                        \
    memcpy(&mv, mb + ea, 8);                                            \
    SLOT(1) = WR_f64(RD_f64(SLOT(2)) op RD_f64(mv));                    \
    pc += (len) + 1;                                                    \
    NEXT();                                                             \
  }
  FMEM(L_F64_ADD_M, +, EA_PLAIN(3, 4), 5)
  FMEM(L_F64_ADD_M_AI, +, EA_AI(3, 5), 6)
  FMEM(L_F64_MUL_M, *, EA_PLAIN(3, 4), 5)
  FMEM(L_F64_MUL_M_AI, *, EA_AI(3, 5), 6)
#undef FMEM
  /* i64 OP of a slot and a value loaded here */
#define IMEM(label, op, ea_expr, len)                                   \
  label: {                                                              \
    uint64_t ea = ea_expr;                                              \
    MEM_CHECK(ea, 8);                                                   \
    uint64_t mv;                                                        \
    memcpy(&mv, mb + ea, 8);                                            \
    SLOT(1) = SLOT(2) op mv;                                            \
    pc += (len) + 1;                                                    \
    NEXT();                                                             \
  }
#define X(name, op, ...)                                                \
  IMEM(L_I64_##name##_M, op, EA_PLAIN(3, 4), 5)                         \
  IMEM(L_I64_##name##_M_AI, op, EA_AI(3, 5), 6)                         \
  IMEM(L_I64_##name##_M_SX, op, EA_SX(3, 6), 7)                         \
  IMEM(L_I64_##name##_M_SXI, op, EA_SXI(3, 7), 8)
  ENG_I64M_OPS(X)
#undef X
#undef IMEM
#define LOAD_FORM(label, mt, conv, ea_expr, len)                        \
  label: {                                                              \
    uint64_t ea = ea_expr;                                              \
    MEM_CHECK(ea, sizeof(mt));                                          \
    mt v;                                                               \
    memcpy(&v, mb + ea, sizeof v);                                      \
    SLOT(1) = conv;                                                     \
    pc += (len) + 1;                                                          \
    NEXT();                                                             \
  }
#define STORE_FORM(label, mt, vi, ea_expr, len)                         \
  label: {                                                              \
    uint64_t ea = ea_expr;                                              \
    MEM_CHECK(ea, sizeof(mt));                                          \
    mt v = (mt)SLOT(vi);                                                \
    memcpy(mb + ea, &v, sizeof v);                                      \
    pc += (len) + 1;                                                          \
    NEXT();                                                             \
  }
#define LOAD(name, code, vt, mt, lg, conv)                              \
  LOAD_FORM(L_##name, mt, conv, EA_PLAIN(2, 3), 4)                      \
  LOAD_FORM(L_##name##_AI, mt, conv, EA_AI(2, 4), 5)                    \
  LOAD_FORM(L_##name##_AA, mt, conv, EA_AA(2, 4), 5)                    \
  LOAD_FORM(L_##name##_SX, mt, conv, EA_SX(2, 5), 6)                    \
  LOAD_FORM(L_##name##_SXI, mt, conv, EA_SXI(2, 6), 7)
#define STORE(name, code, vt, mt, lg)                                   \
  STORE_FORM(L_##name, mt, 2, EA_PLAIN(1, 3), 4)                        \
  STORE_FORM(L_##name##_AI, mt, 3, EA_AI(1, 4), 5)                      \
  STORE_FORM(L_##name##_AA, mt, 3, EA_AA(1, 4), 5)                      \
  STORE_FORM(L_##name##_SX, mt, 4, EA_SX(1, 5), 6)                     \
  STORE_FORM(L_##name##_SXI, mt, 5, EA_SXI(1, 6), 7)
#include "memops.def"
#undef LOAD
#undef STORE
  /* a value loaded and stored: src a imm x k off, then dst */
#define COPY(label, lt, st, conv)                                       \
  label: {                                                              \
    uint64_t ea = EA_SXI(1, 5);                                         \
    MEM_CHECK(ea, sizeof(lt));                                          \
    lt lv;                                                              \
    memcpy(&lv, mb + ea, sizeof lv);                                    \
    st sv = (st)conv;                                                   \
    uint64_t eb = EA_SXI(6, 10);                                        \
    MEM_CHECK(eb, sizeof(st));                                          \
    memcpy(mb + eb, &sv, sizeof sv);                                    \
    pc += ENG_HANDLER_WORDS + 10;                                       \
    NEXT();                                                             \
  }
  COPY(L_COPY8, uint64_t, uint64_t, lv)
  COPY(L_COPY4, uint32_t, uint32_t, lv)
  COPY(L_COPY_S32, int32_t, uint64_t, (int64_t)lv)
  COPY(L_COPY_U32, uint32_t, uint64_t, lv)
#undef COPY
  /* br_table on a loaded value (its slot is not written: only the
  ** br_table used it): the load's operands, then
  ** n at OPW(len + 1) and the table from OPW(len + 2) */
#define BRT_FORM(label, mt, ea_expr, len)                               \
  label: {                                                              \
    uint64_t ea = ea_expr;                                              \
    MEM_CHECK(ea, sizeof(mt));                                          \
    mt v;                                                               \
    memcpy(&v, mb + ea, sizeof v);                                      \
    uint32_t i = (uint32_t)v, n = OPW((len) + 1);                       \
    if (i > n) i = n;                                                   \
    pc += (len) + 3 + i + (int32_t)OPW((len) + 2 + i);                  \
    NEXT();                                                             \
  }
#define X(name, mt)                                                     \
  BRT_FORM(L_BRT_##name, mt, EA_PLAIN(2, 3), 3)                         \
  BRT_FORM(L_BRT_##name##_AI, mt, EA_AI(2, 4), 4)                       \
  BRT_FORM(L_BRT_##name##_AA, mt, EA_AA(2, 4), 4)                       \
  BRT_FORM(L_BRT_##name##_SX, mt, EA_SX(2, 5), 5)                       \
  BRT_FORM(L_BRT_##name##_SXI, mt, EA_SXI(2, 6), 6)
  ENG_BRT_LOADS(X)
#undef X
#undef BRT_FORM
  /* The whole loop in C: the counter and the address stay in registers
  ** (the compiler proved no other operand is either of them). */
L_BUMP_LOOP: {
  uint32_t a = (uint32_t)SLOT(1), d = (uint32_t)SLOT(6), var = OPW(9);
  uint32_t step = (var & 2) ? OPW(7) : (uint32_t)SLOT(7);
  uint32_t cv = (var & 1) ? OPW(8) : (uint32_t)SLOT(8);
  uint32_t sv = (uint32_t)SLOT(4), off = OPW(3), cond = var >> 2;
  uint64_t v = SLOT(2);
  switch (OPW(5)) {
#define LOAD(...)
#define STORE(name, code, vt, mt, lg)                                   \
  case ENG_OP_##name##_BUMP - ENG_OP_I32_STORE_BUMP:                    \
    for (;;) {                                                          \
      uint64_t ea = (uint64_t)a + off;                                  \
      MEM_CHECK(ea, sizeof(mt));                                        \
      mt mv = (mt)v;                                                    \
      memcpy(mb + ea, &mv, sizeof mv);                                  \
      a += sv;                                                          \
      d += step;                                                        \
      if (!brc_holds(cond, d, cv)) break;                               \
      if (eng_unlikely(--budget <= 0)) {                                \
        SLOT(1) = a;                                                    \
        SLOT(6) = d;                                                    \
        int64_t nb_;                                                    \
        err = budget_refill(s, &nb_);                                   \
        budget = nb_;                                                   \
        if (err) goto trap;                                             \
      }                                                                 \
    }                                                                   \
    break;
#include "memops.def"
#undef LOAD
#undef STORE
  }
  SLOT(1) = a;
  SLOT(6) = d;
  pc += ENG_HANDLER_WORDS + 9;
  NEXT();
}
#define LOAD(...)
#define STORE(name, code, vt, mt, lg)                                   \
  L_##name##_BUMP: {                                                    \
    uint64_t ea = EA_PLAIN(1, 3);                                       \
    MEM_CHECK(ea, sizeof(mt));                                          \
    mt v = (mt)SLOT(2);                                                 \
    memcpy(mb + ea, &v, sizeof v);                                      \
    SLOT(1) = (uint32_t)((uint32_t)SLOT(1) + (uint32_t)SLOT(4));        \
    pc += ENG_HANDLER_WORDS + 4;                                        \
    NEXT();                                                             \
  }
#include "memops.def"
#undef LOAD
#undef STORE
  /* }================================================================= */

  /* {=================================================================
  ** Numerics: one handler per opcodes.def row
  ** ================================================================= */
#define UN(name, code, vi, vo, ci, co, expr)                            \
  L_##name: {                                                           \
    CT_##ci a = RD_##ci(SLOT(2));                                       \
    SLOT(1) = WR_##co(expr);                                            \
    pc += 4;                                                            \
    NEXT();                                                             \
  }
#define BI(name, code, vi, vo, ci, co, expr)                            \
  L_##name: {                                                           \
    CT_##ci a = RD_##ci(SLOT(2));                                       \
    CT_##ci b = RD_##ci(SLOT(3));                                       \
    SLOT(1) = WR_##co(expr);                                            \
    pc += 5;                                                            \
    NEXT();                                                             \
  }
#define BIK(name, code, vi, vo, ci, co, expr)                           \
  BI(name, code, vi, vo, ci, co, expr)                                  \
  L_##name##_IMM: {                                                     \
    CT_##ci a = RD_##ci(SLOT(2));                                       \
    CT_##ci b = RI_##ci(OPW(3));                                         \
    SLOT(1) = WR_##co(expr);                                            \
    pc += 5;                                                            \
    NEXT();                                                             \
  }
#define TU(name, ...)
#define TB(name, ...)
#include "opcodes.def"
#undef UN
#undef BI
#undef BIK
#undef TU
#undef TB

  /* i32 compare-and-branch: a b off, a imm off; _B variants are back-edges */
#define X(cond, op, ct)                                                 \
  L_BRC_##cond:                                                         \
    if (RD_##ct(SLOT(1)) op RD_##ct(SLOT(2))) pc += 4 + (int32_t)OPW(3); \
    else pc += 5;                                                       \
    NEXT();                                                             \
  L_BRC_##cond##_I:                                                     \
    if (RD_##ct(SLOT(1)) op RI_##ct(OPW(2))) pc += 4 + (int32_t)OPW(3);   \
    else pc += 5;                                                       \
    NEXT();                                                             \
  L_BRC_##cond##_B:                                                     \
    if (RD_##ct(SLOT(1)) op RD_##ct(SLOT(2))) {                         \
      BACK_EDGE();                                                      \
      pc += 4 + (int32_t)OPW(3);                                         \
    } else {                                                            \
      pc += 5;                                                          \
    }                                                                   \
    NEXT();                                                             \
  L_BRC_##cond##_IB:                                                    \
    if (RD_##ct(SLOT(1)) op RI_##ct(OPW(2))) {                           \
      BACK_EDGE();                                                      \
      pc += 4 + (int32_t)OPW(3);                                         \
    } else {                                                            \
      pc += 5;                                                          \
    }                                                                   \
    NEXT();
  ENG_BRC_CONDS(X)
  ENG_BRC64_CONDS(X)
#undef X

  /* d = a OP (x SH k) */
#define SH_SHL(x, k) ((x) << ((k) & 31))
#define SH_SHR_U(x, k) ((x) >> ((k) & 31))
#define SH_SHR_S(x, k) ((uint32_t)((int32_t)(x) >> ((k) & 31)))
#define SH_ROTL(x, k) eng_rotl32(x, k)
#define SH_ROTR(x, k) eng_rotr32(x, k)
#define Y(o, sh)                                                        \
  L_I32_##o##_##sh: {                                                   \
    uint32_t a = (uint32_t)SLOT(2), x = (uint32_t)SLOT(3);              \
    SLOT(1) = (uint32_t)(a SHOP_##o SH_##sh(x, OPW(4)));                \
    pc += ENG_HANDLER_WORDS + 4;                                        \
    NEXT();                                                             \
  }
#define SHOP_ADD +
#define SHOP_XOR ^
#define SHOP_OR |
#define SHOP_AND &
#define X(o, ...) ENG_SHIFTOP_SHIFTS(Y, o)
  ENG_SHIFTOP_OPS(X)
#undef X
#undef Y

L_I32_ADD_MUL:
  SLOT(1) = (uint32_t)((uint32_t)SLOT(2) + (uint32_t)SLOT(3) * RI_u32(OPW(4)));
  pc += ENG_HANDLER_WORDS + 4;
  NEXT();
L_I64_ADD_MUL:
  SLOT(1) = SLOT(2) + SLOT(3) * RI_u64(OPW(4));
  pc += ENG_HANDLER_WORDS + 4;
  NEXT();
L_I32_ADD3:
  SLOT(1) = (uint32_t)((uint32_t)SLOT(2) + (uint32_t)SLOT(3) + (uint32_t)SLOT(4));
  pc += ENG_HANDLER_WORDS + 4;
  NEXT();
L_I64_ADD3:
  SLOT(1) = SLOT(2) + SLOT(3) + SLOT(4);
  pc += ENG_HANDLER_WORDS + 4;
  NEXT();
L_I32_ANDN:
  SLOT(1) = (uint32_t)((uint32_t)SLOT(2) & ~(uint32_t)SLOT(3));
  pc += ENG_HANDLER_WORDS + 3;
  NEXT();
L_ADDI_BR_BACK:
  SLOT(1) = (uint32_t)((uint32_t)SLOT(2) + OPW(3));
  BACK_EDGE();
  pc += 5 + (int32_t)OPW(4);
  NEXT();
L_ADDI2_BR_BACK: {
  /* the second add usually reads what the first wrote (next = pc + 1):
  ** take it from the register, not back through memory */
  uint32_t v1 = (uint32_t)SLOT(2) + OPW(3);
  SLOT(1) = v1;
  BACK_EDGE();
  uint32_t a2 = OPW(5) == OPW(1) ? v1 : (uint32_t)SLOT(5);
  SLOT(4) = (uint32_t)(a2 + OPW(6));
  pc += 8 + (int32_t)OPW(7);
  NEXT();
}
L_ADDI3_BR_BACK: {
  SLOT(1) = (uint32_t)((uint32_t)SLOT(2) + OPW(3));
  uint32_t v2 = (uint32_t)SLOT(5) + OPW(6);
  SLOT(4) = v2;
  BACK_EDGE();
  uint32_t a3 = OPW(8) == OPW(4) ? v2 : (uint32_t)SLOT(8);
  SLOT(7) = (uint32_t)(a3 + OPW(9));
  pc += 11 + (int32_t)OPW(10);
  NEXT();
}
  /* The loop's first add usually reads what the last copy wrote (the
  ** copies are the body's last instructions): from the register. */
L_MOV_ADDI_BR_BACK: {
  uint64_t v = SLOT(2);
  SLOT(1) = v;
  uint32_t a = OPW(4) == OPW(1) ? (uint32_t)v : (uint32_t)SLOT(4);
  SLOT(3) = (uint32_t)(a + OPW(5));
  BACK_EDGE();
  pc += 7 + (int32_t)OPW(6);
  NEXT();
}
L_MOV2_ADDI_BR_BACK: {
  SLOT(1) = SLOT(2);
  uint64_t v = SLOT(4);
  SLOT(3) = v;
  uint32_t a = OPW(6) == OPW(3) ? (uint32_t)v : (uint32_t)SLOT(6);
  SLOT(5) = (uint32_t)(a + OPW(7));
  BACK_EDGE();
  pc += 9 + (int32_t)OPW(8);
  NEXT();
}
L_I32_ROTL_XOR_ROTL:
  SLOT(1) = (uint32_t)(eng_rotl32((uint32_t)SLOT(2), OPW(3)) ^ eng_rotl32((uint32_t)SLOT(4), OPW(5)));
  pc += ENG_HANDLER_WORDS + 5;
  NEXT();
L_I32_ADD_IMM_SHL:
  SLOT(1) = (uint32_t)((uint32_t)SLOT(2) + OPW(3) + ((uint32_t)SLOT(4) << (OPW(5) & 31)));
  pc += ENG_HANDLER_WORDS + 5;
  NEXT();

  /* loop counter step fused with the back-edge test: d a b c off */
#define ADDBR(label, T, ct, op, RB, RC)                                 \
  label: {                                                              \
    T d = (T)SLOT(2) + RB;                                              \
    SLOT(1) = d;                                                        \
    if (RD_##ct(d) op RC) {                                             \
      BACK_EDGE();                                                      \
      pc += 6 + (int32_t)OPW(5);                                         \
    } else {                                                            \
      pc += 7;                                                          \
    }                                                                   \
    NEXT();                                                             \
  }
#define X(cond, op, ct)                                                                       \
  ADDBR(L_ADDBR_##cond##_SS, uint32_t, ct, op, (uint32_t)SLOT(3), RD_##ct(SLOT(4)))           \
  ADDBR(L_ADDBR_##cond##_SI, uint32_t, ct, op, (uint32_t)SLOT(3), RI_##ct(OPW(4)))             \
  ADDBR(L_ADDBR_##cond##_IS, uint32_t, ct, op, OPW(3), RD_##ct(SLOT(4)))                       \
  ADDBR(L_ADDBR_##cond##_II, uint32_t, ct, op, OPW(3), RI_##ct(OPW(4)))
  ENG_BRC_CONDS(X)
#undef X
#define X(cond, op, ct)                                                                       \
  ADDBR(L_ADDBR_##cond##_SS, uint64_t, ct, op, SLOT(3), RD_##ct(SLOT(4)))                     \
  ADDBR(L_ADDBR_##cond##_SI, uint64_t, ct, op, SLOT(3), RI_##ct(OPW(4)))                       \
  ADDBR(L_ADDBR_##cond##_IS, uint64_t, ct, op, RI_u64(OPW(3)), RD_##ct(SLOT(4)))               \
  ADDBR(L_ADDBR_##cond##_II, uint64_t, ct, op, RI_u64(OPW(3)), RI_##ct(OPW(4)))
  ENG_BRC64_CONDS(X)
#undef X
#undef ADDBR

#define DIVOP(name, ct, rd, wr, minv, expr_div)                         \
  L_##name: {                                                           \
    ct a = rd(SLOT(2)), b = rd(SLOT(3));                                \
    if (eng_unlikely(b == 0)) TRAP(TRAP_DIV_ZERO);                      \
    expr_div;                                                           \
    pc += 5;                                                            \
    NEXT();                                                             \
  }
  DIVOP(I32_DIV_S, int32_t, RD_s32, WR_u32, INT32_MIN,
        if (eng_unlikely(a == INT32_MIN && b == -1)) TRAP(TRAP_INT_OVERFLOW);
        SLOT(1) = WR_u32(a / b))
  DIVOP(I32_DIV_U, uint32_t, RD_u32, WR_u32, 0, SLOT(1) = WR_u32(a / b))
  DIVOP(I32_REM_S, int32_t, RD_s32, WR_u32, 0, SLOT(1) = WR_u32(b == -1 ? 0 : a % b))
  DIVOP(I32_REM_U, uint32_t, RD_u32, WR_u32, 0, SLOT(1) = WR_u32(a % b))
  DIVOP(I64_DIV_S, int64_t, RD_s64, WR_u64, INT64_MIN,
        if (eng_unlikely(a == INT64_MIN && b == -1)) TRAP(TRAP_INT_OVERFLOW);
        SLOT(1) = WR_u64(a / b))
  DIVOP(I64_DIV_U, uint64_t, RD_u64, WR_u64, 0, SLOT(1) = WR_u64(a / b))
  DIVOP(I64_REM_S, int64_t, RD_s64, WR_u64, 0, SLOT(1) = WR_u64(b == -1 ? 0 : a % b))
  DIVOP(I64_REM_U, uint64_t, RD_u64, WR_u64, 0, SLOT(1) = WR_u64(a % b))
#undef DIVOP

  /* Trapping truncation: in range iff lo < a < hi (both exclusive, chosen
  ** so the integral part fits). */
#define TRUNC(name, rd, lo, hi, it, wr)                                 \
  L_##name: {                                                           \
    __typeof__(rd(0)) a = rd(SLOT(2));                                  \
    if (eng_unlikely(a != a)) TRAP(TRAP_INVALID_CONV);                  \
    if (eng_unlikely(!(a > lo && a < hi))) TRAP(TRAP_INT_OVERFLOW);     \
    SLOT(1) = wr((it)a);                                                \
    pc += 4;                                                            \
    NEXT();                                                             \
  }
  TRUNC(I32_TRUNC_F32_S, RD_f32, -2147483904.0f, 2147483648.0f, int32_t, WR_u32)
  TRUNC(I32_TRUNC_F32_U, RD_f32, -1.0f, 4294967296.0f, uint32_t, WR_u32)
  TRUNC(I32_TRUNC_F64_S, RD_f64, -2147483649.0, 2147483648.0, int32_t, WR_u32)
  TRUNC(I32_TRUNC_F64_U, RD_f64, -1.0, 4294967296.0, uint32_t, WR_u32)
  TRUNC(I64_TRUNC_F32_S, RD_f32, -9223373136366403584.0f, 9223372036854775808.0f, int64_t, WR_u64)
  TRUNC(I64_TRUNC_F32_U, RD_f32, -1.0f, 18446744073709551616.0f, uint64_t, WR_u64)
  TRUNC(I64_TRUNC_F64_S, RD_f64, -9223372036854777856.0, 9223372036854775808.0, int64_t, WR_u64)
  TRUNC(I64_TRUNC_F64_U, RD_f64, -1.0, 18446744073709551616.0, uint64_t, WR_u64)
#undef TRUNC
  /* }================================================================= */

#define X(code) trap_##code: err = SHOAL_ERR_##code; goto trap;
  X(TRAP_UNREACHABLE) X(TRAP_MEM_OOB) X(TRAP_TABLE_OOB) X(TRAP_DIV_ZERO) X(TRAP_INT_OVERFLOW)
  X(TRAP_INVALID_CONV) X(TRAP_INDIRECT_TYPE) X(TRAP_UNDEFINED_ELEM) X(TRAP_UNINIT_ELEM)
  X(TRAP_STACK)
#undef X
trap:
  s->budget = budget;
  GUARD_EXIT();
  trap_diag(s, err, s->cur_func, s->depth, base_depth, diag);
  s->depth = base_depth;
  return err;
done:
  s->budget = budget;
  GUARD_EXIT();
  return SHOAL_ERR_OK;
#undef NEXT
#undef OPW
#undef ENTER_WASM
#undef BACK_EDGE
#undef TRAP
#undef GUARD_EXIT
#undef RELOAD_SIZE
#undef MEM_CHECK
#undef SLOT
#undef RELOAD_MEM
}

/* Runs exec with the memory fault handler armed: a fault in the guard
** region comes back here (exec's registers are lost, but its call state
** is in the store) and is reported as a trap. */
static shoal_err_t run(shoal_store_t *s, shoal_func_t *func, shoal_raw_t *fp, const uint32_t *pc,
                       uint32_t base_depth, shoal_diag_t *diag) {
  eng_guard_ctx guard;
  guard.prev = eng_guard_current();
  guard.lo = guard.hi = NULL;
#if ENG_GUARD_PAGES
  if (sigsetjmp(guard.jb, 0)) {
    eng_guard_set(guard.prev);
    trap_diag(s, SHOAL_ERR_TRAP_MEM_OOB, s->cur_func, s->depth, base_depth, diag);
    s->depth = base_depth;
    return SHOAL_ERR_TRAP_MEM_OOB;
  }
  eng_guard_set(&guard);
#endif
  shoal_err_t err = exec(s, func, fp, pc, base_depth, diag, &guard, NULL);
#if ENG_GUARD_PAGES
  eng_guard_set(guard.prev);
#endif
  return err;
}

const void *const *eng_interp_handlers(void) {
  /* The table is static in exec(); any thread computes the same pointer. */
  static _Atomic(const void *const *) table;
  const void *const *t = atomic_load_explicit(&table, memory_order_relaxed);
  if (!t) {
    exec(NULL, NULL, NULL, NULL, 0, NULL, NULL, &t);
    atomic_store_explicit(&table, t, memory_order_relaxed);
  }
  return t;
}

/* Sets up the frame for f at base (arguments already there). */
static shoal_err_t enter(shoal_store_t *s, shoal_func_t *f, shoal_raw_t *base, shoal_diag_t *diag) {
  const eng_code *cd = f->code;
  if (base + cd->frame_slots > s->stack_end || s->depth >= s->max_depth) {
    trap_diag(s, SHOAL_ERR_TRAP_STACK, f, s->depth, s->depth, diag);
    return SHOAL_ERR_TRAP_STACK;
  }
  frame_init(base, cd);
  return SHOAL_ERR_OK;
}

shoal_err_t eng_invoke(shoal_store_t *s, shoal_func_t *f, shoal_raw_t *io, shoal_diag_t *diag) {
  shoal_err_t err;
  if (!s->frames && (err = eng_store_stack(s)) != SHOAL_ERR_OK) return err;
  if (s->susp.active && !s->stack_top)
    return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "the store has a suspended execution: resume or cancel it first");
  const eng_functype *ft = f->type;
  if (!f->code) {
    shoal_caller_t caller = {s, NULL, diag};
    if (diag) diag->code = SHOAL_ERR_OK;
    err = f->host(&caller, f->env, io);
    if (err == SHOAL_ERR_SUSPENDED && !s->stack_top) {
      /* resumed by calling the host function again with the same io */
      memset(&s->susp, 0, sizeof s->susp);
      s->susp.active = true;
      s->susp.outer_host = f;
      s->susp.io = io;
      s->susp.nresults = ft->nresults;
      s->susp.outer_type = ft;
    } else if (err) {
      trap_diag(s, err, f, s->depth, s->depth, diag);
    }
    return err;
  }
  shoal_raw_t *base = s->stack_top ? s->stack_top : s->stack;
  if (base + ft->nparams > s->stack_end) {
    trap_diag(s, SHOAL_ERR_TRAP_STACK, f, s->depth, s->depth, diag);
    return SHOAL_ERR_TRAP_STACK;
  }
  if (ft->nparams) memcpy(base, io, (size_t)ft->nparams * sizeof *io);   /* io may be NULL */
  if ((err = enter(s, f, base, diag)) != SHOAL_ERR_OK) return err;
  if (s->budget <= 0 && (err = budget_refill(s, &s->budget)) != SHOAL_ERR_OK) {
    trap_diag(s, err, f, s->depth, s->depth, diag);
    return err;
  }
  uint32_t depth0 = s->depth;
  err = run(s, f, base, f->code->words, depth0, diag);
  if (err == SHOAL_ERR_OK) {
    if (ft->nresults) memcpy(io, base, (size_t)ft->nresults * sizeof *io);
  } else if (err == SHOAL_ERR_SUSPENDED) {
    s->susp.base = base;
    s->susp.io = io;
    s->susp.nresults = ft->nresults;
    s->susp.outer_type = ft;
  } else {
    s->depth = depth0;
  }
  return err;
}

shoal_err_t eng_resume(shoal_store_t *s, shoal_diag_t *diag) {
  if (!s->susp.active) return ENG_ERR(diag, SHOAL_ERR_ARG, -1, "nothing to resume");
  eng_suspend sp = s->susp;
  s->susp.active = false;
  shoal_err_t err;
  if (sp.outer_host) {
    shoal_caller_t caller = {s, NULL, diag};
    err = sp.outer_host->host(&caller, sp.outer_host->env, sp.io);
    if (err == SHOAL_ERR_SUSPENDED) s->susp = sp;
    else if (err) trap_diag(s, err, sp.outer_host, s->depth, s->depth, diag);
    return err;
  }
  err = run(s, sp.func, sp.fp, sp.pc, sp.base_depth, diag);
  if (err == SHOAL_ERR_OK) {
    if (sp.nresults) memcpy(sp.io, sp.base, (size_t)sp.nresults * sizeof *sp.io);  /* io may be NULL */
  } else if (err == SHOAL_ERR_SUSPENDED) {
    s->susp.base = sp.base;
    s->susp.io = sp.io;
    s->susp.nresults = sp.nresults;
    s->susp.outer_type = sp.outer_type;
  } else {
    s->depth = sp.base_depth;
  }
  return err;
}
