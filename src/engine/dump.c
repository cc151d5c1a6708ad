/*
** dump.c: prints compiled slot code, for looking at what the compiler made
** of a function (performance work, bug reports), and decodes it for the
** compiler's passes over finished code. Internal to the engine.
*/
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include "code.h"

/* Names in place, not pointers: no load-time relocation per op (start-up). */
typedef struct opdesc { char name[24]; int8_t nopnds; } opdesc;

/* ORDER OP: the same order as eng_op. -1: variable length. */
static const opdesc ops[ENG_OP__COUNT] = {
#define X(name) {#name, 0},
  ENG_CONTROL_OPS(X)
#undef X
#define UN(name, ...) {#name, 2},
#define BI(name, ...) {#name, 3},
#define BIK(name, ...) {#name, 3}, {#name "_IMM", 3},
#define TU(name, ...) {#name, 2},
#define TB(name, ...) {#name, 3},
#include "opcodes.def"
#undef UN
#undef BI
#undef BIK
#undef TU
#undef TB
#define X(cond, ...) {"BRC_" #cond, 3}, {"BRC_" #cond "_I", 3}, {"BRC_" #cond "_B", 3}, {"BRC_" #cond "_IB", 3},
  ENG_BRC_CONDS(X)
  ENG_BRC64_CONDS(X)
#undef X
#define Y(op, sh) {"I32_" #op "_" #sh, 4},
#define X(op, ...) ENG_SHIFTOP_SHIFTS(Y, op)
  ENG_SHIFTOP_OPS(X)
#undef X
#undef Y
  {"I32_ADD_MUL", 4}, {"I64_ADD_MUL", 4},
  {"I32_ADD3", 4}, {"I64_ADD3", 4}, {"I32_ANDN", 3}, {"I32_ROTL_XOR_ROTL", 5},
  {"I32_ADD_IMM_SHL", 5},
  {"F64_ADD_M", 4}, {"F64_ADD_M_AI", 5}, {"F64_MUL_M", 4}, {"F64_MUL_M_AI", 5},
#define X(name, ...) {"I64_" #name "_M", 4}, {"I64_" #name "_M_AI", 5}, {"I64_" #name "_M_SX", 6}, {"I64_" #name "_M_SXI", 7},
  ENG_I64M_OPS(X)
#undef X
  {"ADDI_BR_BACK", 4}, {"ADDI2_BR_BACK", 7}, {"ADDI3_BR_BACK", 10}, {"MOV_ADDI_BR_BACK", 6},
  {"MOV2_ADDI_BR_BACK", 8},
  {"COPY8", 10}, {"COPY4", 10}, {"COPY_S32", 10}, {"COPY_U32", 10},
#define X(name, mt) {"BRT_" #name, 3}, {"BRT_" #name "_AI", 4}, {"BRT_" #name "_AA", 4}, {"BRT_" #name "_SX", 5}, {"BRT_" #name "_SXI", 6},
  ENG_BRT_LOADS(X)
#undef X
  {"BUMP_LOOP", 9},
#define LOAD(...)
#define STORE(name, ...) {#name "_BUMP", 4},
#include "memops.def"
#undef LOAD
#undef STORE
#define X(cond, ...) {"ADDBR_" #cond "_SS", 5}, {"ADDBR_" #cond "_SI", 5}, {"ADDBR_" #cond "_IS", 5}, {"ADDBR_" #cond "_II", 5},
  ENG_BRC_CONDS(X)
  ENG_BRC64_CONDS(X)
#undef X
#define LOAD(name, ...) {#name, 3}, {#name "_AI", 4}, {#name "_AA", 4}, {#name "_SX", 5}, {#name "_SXI", 6},
#define STORE(name, ...) {#name, 3}, {#name "_AI", 4}, {#name "_AA", 4}, {#name "_SX", 5}, {#name "_SXI", 6},
#include "memops.def"
#undef LOAD
#undef STORE
};

static int control_opnds(eng_op op) {
  switch (op) {
  case ENG_OP_MOV: case ENG_OP_BR_IF: case ENG_OP_BR_IF_BACK: case ENG_OP_BR_UNLESS:
  case ENG_OP_BR_UNLESS_BACK: case ENG_OP_CALL: case ENG_OP_CALL_LOCAL: case ENG_OP_RETURNN: case ENG_OP_GLOBAL_GET:
  case ENG_OP_GLOBAL_SET: case ENG_OP_TABLE_SIZE: case ENG_OP_REF_FUNC: case ENG_OP_MEMORY_GROW:
    return 2;
  case ENG_OP_BR: case ENG_OP_BR_BACK: case ENG_OP_RETURN1: case ENG_OP_ELEM_DROP:
  case ENG_OP_MEMORY_SIZE: case ENG_OP_DATA_DROP:
    return 1;
  case ENG_OP_CALL_INDIRECT: case ENG_OP_SELECT: case ENG_OP_TABLE_GROW: case ENG_OP_TABLE_FILL:
  case ENG_OP_MEMORY_INIT:
    return 4;
  case ENG_OP_TABLE_GET: case ENG_OP_TABLE_SET: case ENG_OP_MEMORY_FILL: case ENG_OP_MEMORY_COPY:
    return 3;
  case ENG_OP_TABLE_COPY: case ENG_OP_TABLE_INIT:
    return 5;
  case ENG_OP_MOV2:
    return 4;
  case ENG_OP_MOV3:
    return 6;
  default:
    return 0;
  }
}

/* The length in words of the instruction at w, which is op, if it fits in
** avail words; else 0. */
uint32_t eng_code_len(eng_op op, const uint32_t *w, uint32_t avail) {
  uint64_t n = op < ENG_OP_I32_EQZ ? (uint64_t)control_opnds(op) : (uint64_t)ops[op].nopnds;
  if (op == ENG_OP_BR_TABLE) {
    if (avail < ENG_HANDLER_WORDS + 2) return 0;
    n = 2 + (uint64_t)w[ENG_HANDLER_WORDS + 1] + 1;
  } else if (op >= ENG_OP_BRT_I32_LOAD && op <= ENG_OP_BRT_I32_LOAD8_U_SXI) {
    if (avail < ENG_HANDLER_WORDS + n + 1) return 0;
    n += 1 + (uint64_t)w[ENG_HANDLER_WORDS + n] + 1;
  }
  return ENG_HANDLER_WORDS + n <= avail ? (uint32_t)(ENG_HANDLER_WORDS + n) : 0;
}

/* How many of the last words of the instruction at w (op, len words) are
** branch offsets: every branch keeps its offset, or its table of them, last. */
uint32_t eng_code_branches(eng_op op, const uint32_t *w, uint32_t len) {
  (void)len;
  if (op == ENG_OP_BR_TABLE) return w[ENG_HANDLER_WORDS + 1] + 1;
  if (op >= ENG_OP_BRT_I32_LOAD && op <= ENG_OP_BRT_I32_LOAD8_U_SXI)
    return w[ENG_HANDLER_WORDS + (uint32_t)ops[op].nopnds] + 1;
  switch (op) {
  case ENG_OP_BR: case ENG_OP_BR_BACK: case ENG_OP_BR_IF: case ENG_OP_BR_IF_BACK: case ENG_OP_BR_UNLESS:
  case ENG_OP_BR_UNLESS_BACK: case ENG_OP_ADDI_BR_BACK: case ENG_OP_ADDI2_BR_BACK: case ENG_OP_ADDI3_BR_BACK:
  case ENG_OP_MOV_ADDI_BR_BACK: case ENG_OP_MOV2_ADDI_BR_BACK:
    return 1;
  default:
    return (op >= ENG_OP_BRC_EQ && op <= ENG_OP_BRC_LE_U64_IB) ||
           (op >= ENG_OP_ADDBR_EQ_SS && op <= ENG_OP_ADDBR_LE_U64_II);
  }
}

/* The handlers' addresses hashed to their ops, for eng_code_op: made once,
** by whichever thread asks first (the others wait for it). The handlers all
** lie in one function, so an entry keeps the address's distance from the
** lowest handler (+ 1: 0 is an empty entry). */
#define HASH_BITS 10
typedef struct hent { uint32_t key; uint16_t op; } hent;
static hent handler_hash[1u << HASH_BITS];
static uint64_t handler_base;
static _Atomic int handler_hash_state;     /* 0 none, 1 being made, 2 made, 3 cannot */

static uint32_t hash_key(uint32_t k) { return (k * 0x9e3779b1u) >> (32 - HASH_BITS); }

static int make_handler_hash(void) {
  int st = 0;
  if (!atomic_compare_exchange_strong(&handler_hash_state, &st, 1)) {
    while ((st = atomic_load(&handler_hash_state)) == 1) sched_yield();
    return st;
  }
  const void *const *h = eng_interp_handlers();
  uint64_t lo = UINT64_MAX, hi = 0;
  for (uint32_t k = 0; k < ENG_OP__COUNT; k++) {
    uint64_t a = (uint64_t)(uintptr_t)h[k];
    lo = a < lo ? a : lo;
    hi = a > hi ? a : hi;
  }
  if (hi - lo >= UINT32_MAX) {
    atomic_store(&handler_hash_state, 3);
    return 3;
  }
  handler_base = lo;
  for (uint32_t k = 0; k < ENG_OP__COUNT; k++) {
    uint32_t key = (uint32_t)((uint64_t)(uintptr_t)h[k] - lo) + 1;
    uint32_t i = hash_key(key);
    while (handler_hash[i].key) i = (i + 1) & ((1u << HASH_BITS) - 1);
    handler_hash[i] = (hent){key, (uint16_t)k};
  }
  atomic_store(&handler_hash_state, 2);
  return 2;
}

/* The op whose handler starts the instruction at w, or ENG_OP__COUNT. */
eng_op eng_code_op(const uint32_t *w) {
  _Static_assert(ENG_OP__COUNT < (1u << HASH_BITS) * 3 / 4, "the handler hash must not fill up");
  int st = atomic_load_explicit(&handler_hash_state, memory_order_acquire);
  if (st != 2 && (st == 3 || make_handler_hash() != 2)) return ENG_OP__COUNT;
  uint64_t a = w[0] | (uint64_t)w[1] << 32;
  if (a < handler_base || a - handler_base >= UINT32_MAX) return ENG_OP__COUNT;
  uint32_t key = (uint32_t)(a - handler_base) + 1;
  for (uint32_t i = hash_key(key); handler_hash[i].key; i = (i + 1) & ((1u << HASH_BITS) - 1))
    if (handler_hash[i].key == key) return (eng_op)handler_hash[i].op;
  return ENG_OP__COUNT;
}

void eng_code_dump(FILE *out, const eng_code *cd) {
  const void *const *h = eng_interp_handlers();
  fprintf(out, "params %u locals %u consts %u frame %u\n", cd->nparams, cd->nlocals,
          cd->nconsts, cd->frame_slots);
  for (uint32_t pc = 0; pc < cd->nwords;) {
    eng_op op = ENG_OP__COUNT;
    uint64_t a = cd->words[pc] | (uint64_t)cd->words[pc + 1] << 32;
    for (uint32_t k = 0; k < ENG_OP__COUNT; k++)
      if ((uint64_t)(uintptr_t)h[k] == a) { op = (eng_op)k; break; }
    if (op == ENG_OP__COUNT) {
      fprintf(out, "%5u  ??? %08x\n", pc, cd->words[pc]);
      return;
    }
    int n = op < ENG_OP_I32_EQZ ? control_opnds(op) : ops[op].nopnds;
    const uint32_t *w = cd->words + pc + ENG_HANDLER_WORDS - 1;   /* w[1] is the first operand */
    if (op == ENG_OP_BR_TABLE) n = 2 + (int)w[2] + 1;
    if (op >= ENG_OP_BRT_I32_LOAD && op <= ENG_OP_BRT_I32_LOAD8_U_SXI &&
        pc + ENG_HANDLER_WORDS + (uint32_t)n < cd->nwords)
      n += 1 + (int)w[n + 1] + 1;           /* the load's operands, n, the table */
    fprintf(out, "%5u  %-18s", pc, ops[op].name);
    for (int i = 1; i <= n && pc + ENG_HANDLER_WORDS - 1 + (uint32_t)i < cd->nwords; i++)
      fprintf(out, " %d", (int32_t)w[i]);
    fputc('\n', out);
    pc += ENG_HANDLER_WORDS + (uint32_t)n;
  }
}
