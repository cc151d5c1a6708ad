/*
** code.h: the engine's internal code, which compile.c produces from a
** validated function body and interp.c runs. Internal to the engine.
**
** A function compiles to an array of 32-bit words. An instruction is its
** handler's address (two words: dispatch is one indirect jump through the
** code, direct threading) followed by its operands. Operands are
** frame slots, not stack pushes: every value the function can see — its
** locals, its constants and each operand-stack position — has a fixed
** 64-bit slot in the frame, known at compile time. So `i32.add` reads two
** slots and writes one, and `local.get` emits nothing at all.
**
** Frame layout (fp[0] is the first parameter):
**   [params][locals][operand stack ... max height][constants]
** The caller leaves the arguments in its own top stack slots and the
** callee's frame starts there, so arguments are never copied; results are
** written back to fp[0..nresults), which the caller sees as its stack top.
** Branch targets are offsets relative to the operand word holding them.
*/
#ifndef ENG_CODE_H
#define ENG_CODE_H

#include "module.h"

/* ORDER OP: the enum, the handler table in interp.c and nothing else. */
#define ENG_CONTROL_OPS(X)                                                   \
  X(UNREACHABLE)   /*                          trap                         */ \
  X(MOV)           /* d s                      fp[d] = fp[s]                */ \
  X(MOV2)          /* d s d2 s2                two copies, in order         */ \
  X(MOV3)          /* d s d2 s2 d3 s3                                       */ \
  X(BR)            /* off                      pc += off                    */ \
  X(BR_BACK)       /* off                      loop back-edge: check budget */ \
  X(BR_IF)         /* c off                    if fp[c] jump                */ \
  X(BR_IF_BACK)    /* c off                                                 */ \
  X(BR_UNLESS)     /* c off                    if !fp[c] jump               */ \
  X(BR_UNLESS_BACK)/* c off                                                 */ \
  X(BR_TABLE)      /* i n off*(n+1)            jump to off[min(fp[i], n)]    */ \
  X(CALL)          /* f base                   call funcs[f], frame at base */ \
  X(CALL_LOCAL)    /* f base                   the same, f defined in this module */ \
  X(CALL_INDIRECT) /* type tbl i base                                       */ \
  X(RETURN0)       /*                                                       */ \
  X(RETURN1)       /* s                        fp[0] = fp[s]; return         */ \
  X(RETURNN)       /* n s                      fp[0..n) = fp[s..s+n); return */ \
  X(SELECT)        /* d a b c                  fp[d] = fp[c] ? fp[a] : fp[b] */ \
  X(GLOBAL_GET)    /* d g                                                   */ \
  X(GLOBAL_SET)    /* g s                                                   */ \
  X(TABLE_GET)     /* d t i                                                 */ \
  X(TABLE_SET)     /* t i v                                                 */ \
  X(TABLE_SIZE)    /* d t                                                   */ \
  X(TABLE_GROW)    /* d t init n                                            */ \
  X(TABLE_FILL)    /* t i v n                                               */ \
  X(TABLE_COPY)    /* dt st d s n                                           */ \
  X(TABLE_INIT)    /* t seg d s n                                           */ \
  X(ELEM_DROP)     /* seg                                                   */ \
  X(REF_FUNC)      /* d f                                                   */ \
  X(MEMORY_SIZE)   /* d                                                     */ \
  X(MEMORY_GROW)   /* d n                                                   */ \
  X(MEMORY_FILL)   /* d v n                                                 */ \
  X(MEMORY_COPY)   /* d s n                                                 */ \
  X(MEMORY_INIT)   /* seg d s n                                             */ \
  X(DATA_DROP)     /* seg                                                   */

/* i32 comparisons that fuse with a following br_if or if.
** ORDER COND: negation is the entry at index ^ 1. */
#define ENG_BRC_CONDS(X) \
  X(EQ, ==, u32) X(NE, !=, u32) \
  X(LT_S, <, s32) X(GE_S, >=, s32) \
  X(LT_U, <, u32) X(GE_U, >=, u32) \
  X(GT_S, >, s32) X(LE_S, <=, s32) \
  X(GT_U, >, u32) X(LE_U, <=, u32)

/* The same for i64 comparisons. ORDER COND. */
#define ENG_BRC64_CONDS(X) \
  X(EQ64, ==, u64) X(NE64, !=, u64) \
  X(LT_S64, <, s64) X(GE_S64, >=, s64) \
  X(LT_U64, <, u64) X(GE_U64, >=, u64) \
  X(GT_S64, >, s64) X(LE_S64, <=, s64) \
  X(GT_U64, >, u64) X(LE_U64, <=, u64)

typedef enum eng_op {
#define X(name) ENG_OP_##name,
  ENG_CONTROL_OPS(X)
#undef X
  /* numeric: d a (unary) or d a b (binary) */
#define UN(name, ...) ENG_OP_##name,
#define BI(name, ...) ENG_OP_##name,
#define BIK(name, ...) ENG_OP_##name, ENG_OP_##name##_IMM,
#define TU(name, ...) ENG_OP_##name,
#define TB(name, ...) ENG_OP_##name,
#include "opcodes.def"
#undef UN
#undef BI
#undef BIK
#undef TU
#undef TB
  /* i32 compare fused with br_if: a b off | a imm off; _B: loop back-edge */
#define X(cond, ...) ENG_OP_BRC_##cond, ENG_OP_BRC_##cond##_I, ENG_OP_BRC_##cond##_B, ENG_OP_BRC_##cond##_IB,
  ENG_BRC_CONDS(X)
  ENG_BRC64_CONDS(X)
#undef X
  /* i32 `d = a OP (x SH k)`: d a x k, for OP add xor or and, SH the
  ** shifts and rotates by a constant (hashing, bit fields, indexing) */
#define ENG_SHIFTOP_OPS(X) X(ADD, +) X(XOR, ^) X(OR, |) X(AND, &)
#define ENG_SHIFTOP_SHIFTS(Y, op) Y(op, SHL) Y(op, SHR_U) Y(op, SHR_S) Y(op, ROTL) Y(op, ROTR)
#define Y(op, sh) ENG_OP_I32_##op##_##sh,
#define X(op, ...) ENG_SHIFTOP_SHIFTS(Y, op)
  ENG_SHIFTOP_OPS(X)
#undef X
#undef Y
  /* multiply-add by a constant: d a x k, d = a + x * k (k sign-extended) */
  ENG_OP_I32_ADD_MUL,
  ENG_OP_I64_ADD_MUL,
  /* two operations in one, the first result a temporary (sums, the
  ** sigma functions of hashes, masks): d a x y: d = a + x + y;
  ** d a x: d = a & ~x; d a k x k2: d = rotl(a, k) ^ rotl(x, k2) */
  ENG_OP_I32_ADD3,
  ENG_OP_I64_ADD3,
  ENG_OP_I32_ANDN,
  ENG_OP_I32_ROTL_XOR_ROTL,
  /* d a imm x k: d = a + imm + (x << k), an element's address (an array
  ** in the stack frame, or a field of an indexed element) kept as a value */
  ENG_OP_I32_ADD_IMM_SHL,
  /* f64 add/mul with one operand just loaded (dot products): d a addr off,
  ** and _AI: d a addr imm off (the load's address forms) */
  ENG_OP_F64_ADD_M, ENG_OP_F64_ADD_M_AI, ENG_OP_F64_MUL_M, ENG_OP_F64_MUL_M_AI,
  /* i64 OP with its right operand (either, if OP commutes) just loaded by
  ** i64.load (sums over arrays, an interpreter's operand stack): d a, then
  ** the load's address operands, forms as below but _AA. ORDER: the four
  ** forms of each together. */
#define ENG_I64M_OPS(X) X(ADD, +, 1) X(SUB, -, 0) X(MUL, *, 1) X(AND, &, 1) X(OR, |, 1) X(XOR, ^, 1)
#define X(name, ...) ENG_OP_I64_##name##_M, ENG_OP_I64_##name##_M_AI, ENG_OP_I64_##name##_M_SX, ENG_OP_I64_##name##_M_SXI,
  ENG_I64M_OPS(X)
#undef X
  /* `d = a + imm; br loop` (an interpreter's pc step): d a imm off; the
  ** add may also be a copy of the loop's first instruction, then done after
  ** the budget check, off pointing past it. ADDI2: both, d a imm d2 a2 imm2
  ** off, the second being the loop's first instruction (or two adds that
  ** end the body). ADDI3: two adds that end the body, then the loop's
  ** first: d1 a1 imm1 d2 a2 imm2 d3 a3 imm3 off. MOV_ADDI, MOV2_ADDI: the
  ** body ends with copies (d s, in order), then the loop's first add:
  ** d s [d' s'] d a imm off. */
  ENG_OP_ADDI_BR_BACK,
  ENG_OP_ADDI2_BR_BACK,
  ENG_OP_ADDI3_BR_BACK,
  ENG_OP_MOV_ADDI_BR_BACK,
  ENG_OP_MOV2_ADDI_BR_BACK,
  /* a store of a value just loaded (a copy): both addresses as a imm x k
  ** off, source first (other forms with imm 0, x a zero constant); 8 or 4
  ** bytes as they are, or 4 sign- or zero-extended to 8 */
  ENG_OP_COPY8, ENG_OP_COPY4, ENG_OP_COPY_S32, ENG_OP_COPY_U32,
  /* br_table on a value just loaded (an interpreter's switch on the next
  ** opcode): the load's operands (forms as below), then n and the table.
  ** ORDER: the five forms of each load together. */
#define ENG_BRT_LOADS(X) X(I32_LOAD, uint32_t) X(I32_LOAD8_U, uint8_t)
#define X(name, mt) ENG_OP_BRT_##name, ENG_OP_BRT_##name##_AI, ENG_OP_BRT_##name##_AA, ENG_OP_BRT_##name##_SX, ENG_OP_BRT_##name##_SXI,
  ENG_BRT_LOADS(X)
#undef X
  /* a loop of one _BUMP store and its counter's back-edge test, run as
  ** one instruction: a v off s kind d step c variant, where kind is the
  ** store (its _BUMP op - I32_STORE_BUMP) and variant is cond * 4 +
  ** (step an immediate ? 2 : 0) + (c an immediate ? 1 : 0) */
  ENG_OP_BUMP_LOOP,
  /* a store, then its address local stepped (`*p = v; p += s`): a v off s */
#define LOAD(...)
#define STORE(name, ...) ENG_OP_##name##_BUMP,
#include "memops.def"
#undef LOAD
#undef STORE
  /* loop back-edge `d = a + b; br_if (d cond c)`: d a b c off, where b and
  ** c are slots (S) or immediates (I): _SS _SI _IS _II; i32, then i64 (the
  ** immediates sign-extended) */
#define X(cond, ...) ENG_OP_ADDBR_##cond##_SS, ENG_OP_ADDBR_##cond##_SI, ENG_OP_ADDBR_##cond##_IS, ENG_OP_ADDBR_##cond##_II,
  ENG_BRC_CONDS(X)
  ENG_BRC64_CONDS(X)
#undef X
  /* loads: d addr off; stores: addr v off. With the address computation
  ** folded in (ea = (u32)(a + b) + off, wrapping as wasm does):
  **   _AI  d a imm off        a + imm
  **   _AA  d a b off          a + b
  **   _SX  d a x k off        a + (x << k)
  **   _SXI d a imm x k off    a + imm + (x << k)  (an array in the stack frame)
  ** (stores put v after the address operands). ORDER: the five together. */
#define LOAD(name, ...) ENG_OP_##name, ENG_OP_##name##_AI, ENG_OP_##name##_AA, ENG_OP_##name##_SX, ENG_OP_##name##_SXI,
#define STORE(name, ...) ENG_OP_##name, ENG_OP_##name##_AI, ENG_OP_##name##_AA, ENG_OP_##name##_SX, ENG_OP_##name##_SXI,
#include "memops.def"
#undef LOAD
#undef STORE
  ENG_OP__COUNT
} eng_op;

struct eng_code {
  uint32_t *words;          /* the instructions */
  uint32_t nwords;
  uint32_t nparams, nlocals;/* nlocals includes the parameters */
  uint32_t nresults;
  uint32_t frame_slots;     /* the whole frame, constants included */
  uint32_t const_base;      /* first constant slot */
  uint32_t nconsts;
  uint64_t *consts;         /* the constants */
  /* What a call writes above the arguments: zeroed locals then the
  ** constants, fp[nparams .. nparams + ninit). */
  uint32_t ninit;
  uint64_t *init;
};

/* Handler addresses, indexed by eng_op. An instruction starts with its
** handler's address in ENG_HANDLER_WORDS words (dispatch is one indirect
** jump through the code), then its operand words. */
const void *const *eng_interp_handlers(void);
#define ENG_HANDLER_WORDS 2

/* dump.c: prints a compiled function (debugging and performance work). */
#include <stdio.h>
void eng_code_dump(FILE *out, const eng_code *cd);
/* dump.c: decoding compiled code: the op of the instruction at w (from its
** handler; ENG_OP__COUNT if none), its length in words (0 if longer than
** avail), and how many of its last words are branch offsets. */
eng_op eng_code_op(const uint32_t *w);
uint32_t eng_code_len(eng_op op, const uint32_t *w, uint32_t avail);
uint32_t eng_code_branches(eng_op op, const uint32_t *w, uint32_t len);

#endif
