/*
** fuse.c: the compiler's instruction fusion. Right after emitting an
** instruction that consumes a value the previous one or two instructions
** computed into a temporary, the compiler takes that code back and emits
** one fused instruction instead (see docs/architecture.md).
*/
#include <stdlib.h>
#include <string.h>
#include "compile.h"

/* The fused compare-and-branch condition of a comparison opcode: its
** index in ENG_BRC_CONDS, or 10 + its index in ENG_BRC64_CONDS. */
uint32_t eng_fuse_brc_cond(uint32_t code) {
  static const uint8_t idx[10] = {0, 1, 2, 4, 6, 8, 7, 9, 3, 5};  /* 0x46..0x4f, 0x51..0x5a */
  return code >= 0x51 ? 10 + idx[code - 0x51] : idx[code - 0x46];
}

/* {=====================================================================
** Compare-and-branch fusion
** ===================================================================== */

/* The history must not name code that was taken back: new code at the same
** positions could be mistaken for it. */
static void forget_after(cc *c, uint32_t at) {
  /* keep the entries still there, latest first */
  int n = 0;
  for (int k = 0; k < ENG_HIST; k++)
    if (c->hist[k].end <= at) c->hist[n++] = c->hist[k];
  for (; n < ENG_HIST; n++) c->hist[n].start = c->hist[n].end = UINT32_MAX;
  if (c->st_end > at) c->st_start = c->st_end = UINT32_MAX;
  if (c->bump_end > at) c->bump_start = c->bump_end = UINT32_MAX;
}

void eng_hist_push(cc *c, uint32_t start, uint32_t end, uint16_t op) {
  for (int k = ENG_HIST - 1; k > 0; k--) c->hist[k] = c->hist[k - 1];
  c->hist[0].start = start;
  c->hist[0].end = end;
  c->hist[0].op = op;
}

void eng_hist_clear(cc *c) {
  for (int k = 0; k < ENG_HIST; k++) c->hist[k].start = c->hist[k].end = UINT32_MAX;
  c->st_start = c->st_end = UINT32_MAX;
  c->bump_start = c->bump_end = UINT32_MAX;
}

/* If the value at position p is the result of the i32 comparison just
** emitted, takes that instruction back out and returns its opcode and
** operand words, so a branch can test the comparison itself. */
bool eng_fuse_take_cmp(cc *c, uint32_t p, uint32_t *code, opword ops[2], bool *imm) {
  if (!c->live || c->cmp_end != c->len || c->vals[p].kind != K_STACK ||
      c->code[c->cmp_start + HW] != p)
    return false;
  uint32_t n = c->cmp_code == 0x45 ? 1 : 2;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t q = c->cmp_start + HW + 1 + i;
    ops[i].w = c->code[q];
    ops[i].fix = 0;
    for (uint32_t k = c->cmp_nsfix; k < c->nsfix; k++) if (c->sfix[k] == q) ops[i].fix = 1;
    for (uint32_t k = c->cmp_ncfix; k < c->ncfix; k++) if (c->cfix[k] == q) ops[i].fix = 2;
  }
  *code = c->cmp_code;
  *imm = c->cmp_imm;
  c->len = c->cmp_start;
  c->nsfix = c->cmp_nsfix;
  c->ncfix = c->cmp_ncfix;
  c->cmp_end = c->patch_end = UINT32_MAX;
  if (c->mov_end > c->len) c->mov_end = UINT32_MAX;
  forget_after(c, c->len);
  return true;
}

void eng_cc_emit_word(cc *c, opword o) {
  if (!c->live) return;
  uint32_t **list = o.fix == 1 ? &c->sfix : &c->cfix;
  uint32_t *n = o.fix == 1 ? &c->nsfix : &c->ncfix;
  uint32_t *cap = o.fix == 1 ? &c->cap_sfix : &c->cap_cfix;
  if (o.fix) {
    if (*n == *cap && !eng_cc_grow((void **)list, cap, sizeof **list, *n + 1)) {
      c->oom = true;
      return;
    }
    (*list)[(*n)++] = c->len;
  }
  eng_cc_emit(c, o.w);
}

/* Emits a branch taken when the comparison (negated if neg) holds; back
** marks a loop back-edge. Returns the position of the offset word. */
uint32_t eng_fuse_emit_branch(cc *c, uint32_t code, const opword ops[2], bool imm, bool neg, bool back) {
  if (code == 0x45) {                  /* eqz: branch on zero */
    eng_cc_emit_op(c, neg ? (back ? ENG_OP_BR_IF_BACK : ENG_OP_BR_IF) : (back ? ENG_OP_BR_UNLESS_BACK : ENG_OP_BR_UNLESS));
    eng_cc_emit_word(c, ops[0]);
  } else {
    uint32_t cond = eng_fuse_brc_cond(code) ^ (neg ? 1u : 0u);   /* pairs stay within their table */
    eng_cc_emit_op(c, (eng_op)(ENG_OP_BRC_EQ + 4 * cond + (imm ? 1 : 0) + (back ? 2 : 0)));
    eng_cc_emit_word(c, ops[0]);
    eng_cc_emit_word(c, ops[1]);
  }
  return c->len;
}
/* }===================================================================== */

/* {=====================================================================
** Address folding: `a + b`, `a + imm` or `a + (x << k)` computed just
** before a load or store into a temporary is folded into it.
** ===================================================================== */

/* 0 none, 1 stack slot, 2 constant slot: how the word at q is relocated. */
static uint8_t word_fix(const cc *c, uint32_t q) {
  for (uint32_t k = c->nsfix; k-- > 0 && (c->sfix[k] >= q || c->sfix[k] == UINT32_MAX);)
    if (c->sfix[k] == q) return 1;
  for (uint32_t k = c->ncfix; k-- > 0 && c->cfix[k] >= q;)
    if (c->cfix[k] == q) return 2;
  return 0;
}

/* Drops the code from position at on, with its pending relocations. */
static void rewind_to(cc *c, uint32_t at) {
  /* Entries are in position order, except retargeted ones (UINT32_MAX),
  ** which are dead anyway. */
  while (c->nsfix && (c->sfix[c->nsfix - 1] >= at)) c->nsfix--;
  while (c->ncfix && c->cfix[c->ncfix - 1] >= at) c->ncfix--;
  c->len = at;
  c->patch_end = c->cmp_end = UINT32_MAX;
  if (c->mov_end > at) c->mov_end = UINT32_MAX;
  forget_after(c, at);
}

/* After take_cmp: if the instruction before the comparison was an add (or
** subtract of an immediate) of its width (wide: i64) whose destination is
** the comparison's left operand, takes it back too and returns its
** destination, a and b words in out[0..3) (out[2].fix is 3 when b is an
** immediate). */
bool eng_fuse_take_add(cc *c, opword left, bool wide, opword out[3]) {
  /* take_cmp forgot the comparison, so the add is now the latest */
  uint32_t s1 = c->hist[0].start;
  if (c->hist[0].end != c->len) return false;
  uint16_t op = c->hist[0].op;
  eng_op add = wide ? ENG_OP_I64_ADD : ENG_OP_I32_ADD, addi = wide ? ENG_OP_I64_ADD_IMM : ENG_OP_I32_ADD_IMM;
  eng_op subi = wide ? ENG_OP_I64_SUB_IMM : ENG_OP_I32_SUB_IMM;
  if (op != add && op != addi && op != subi) return false;
  opword d = {c->code[s1 + HW], word_fix(c, s1 + HW)};
  uint32_t b = c->code[s1 + HW + 2];
  if (d.w != left.w || d.fix != left.fix || d.fix == 2) return false;
  /* a - imm is a + -imm, but for i64 -imm must stay a sign-extended 32-bit
  ** immediate: not for -2^31 */
  if (op == subi && wide && b == 0x80000000u) return false;
  out[0] = d;
  out[1] = (opword){c->code[s1 + HW + 1], word_fix(c, s1 + HW + 1)};
  out[2] = op == addi   ? (opword){b, 3}
           : op == subi ? (opword){0u - b, 3}
                        : (opword){b, word_fix(c, s1 + HW + 2)};
  rewind_to(c, s1);
  return true;
}

/* For an i32 add/xor/or/and whose operand at position *b (or *a: they
** commute) was just computed into a temporary by a shift or rotate by a
** constant (or, for i32/i64 add, a multiply by a constant): takes that
** back, leaves the other operand in *a, and returns the fused op with x and
** k in sx; else -1. */
/* The fused form of binary op (whose operand was computed by producer, an
** instruction with an immediate), or -1. */
static int fused_form(eng_op op, uint16_t producer, uint32_t imm) {
  static const eng_op bases[4][2] = {
    {ENG_OP_I32_ADD, ENG_OP_I32_ADD_SHL}, {ENG_OP_I32_XOR, ENG_OP_I32_XOR_SHL},
    {ENG_OP_I32_OR, ENG_OP_I32_OR_SHL}, {ENG_OP_I32_AND, ENG_OP_I32_AND_SHL}};
  if (op == ENG_OP_I32_ADD && producer == ENG_OP_I32_MUL_IMM) return ENG_OP_I32_ADD_MUL;
  if (op == ENG_OP_I64_ADD && producer == ENG_OP_I64_MUL_IMM) return ENG_OP_I64_ADD_MUL;
  if (op == ENG_OP_I32_ADD && producer == ENG_OP_I32_ADD) return ENG_OP_I32_ADD3;
  if (op == ENG_OP_I64_ADD && producer == ENG_OP_I64_ADD) return ENG_OP_I64_ADD3;
  if (op == ENG_OP_I32_AND && producer == ENG_OP_I32_XOR_IMM && imm == UINT32_MAX) return ENG_OP_I32_ANDN;
  int sh;
  switch (producer) {
  case ENG_OP_I32_SHL_IMM: sh = 0; break;
  case ENG_OP_I32_SHR_U_IMM: sh = 1; break;
  case ENG_OP_I32_SHR_S_IMM: sh = 2; break;
  case ENG_OP_I32_ROTL_IMM: sh = 3; break;
  case ENG_OP_I32_ROTR_IMM: sh = 4; break;
  default: return -1;
  }
  for (int i = 0; i < 4; i++) if (bases[i][0] == op) return (int)bases[i][1] + sh;
  return -1;
}

/* The third operand word of the instruction at [s, e), if it has one. */
static uint32_t third_word(const cc *c, uint32_t s, uint32_t e) {
  return s + HW + 2 < e ? c->code[s + HW + 2] : 0;
}

/* How many slot operands the producer reads (the rest is an immediate). */
static uint32_t producer_slots(uint16_t producer) {
  return producer == ENG_OP_I32_ADD || producer == ENG_OP_I64_ADD ? 2 : 1;
}

/* Which operand (stack positions *a, *b) is the temporary t: the other one
** goes to *other. */
static bool shift_operand(const cc *c, const uint32_t *a, const uint32_t *b, uint32_t t,
                          uint32_t *other) {
  bool at = c->vals[*a].kind == K_STACK && *a == t, bt = c->vals[*b].kind == K_STACK && *b == t;
  if (bt && !at) *other = *a;
  else if (at && !bt) *other = *b;
  else return false;
  return true;
}

int eng_fuse_take_op(cc *c, eng_op op, uint32_t *a, uint32_t *b, opword sx[2]) {
  if (c->hist[0].end != c->len) return -1;
  uint32_t s0 = c->hist[0].start;
  int fused = fused_form(op, c->hist[0].op, third_word(c, s0, c->hist[0].end));
  if (fused < 0) {
    /* The shift may sit one instruction further back, with an unrelated
    ** instruction (typically the other operand) in between: hoist that one
    ** above the fused instruction. */
    uint32_t s1 = c->hist[1].start, e0 = c->hist[0].end;
    if (c->hist[1].end != s0) return -1;
    fused = fused_form(op, c->hist[1].op, third_word(c, s1, s0));
    if (fused < 0 || e0 - s0 > 16 || word_fix(c, s1 + HW) != 1 ||
        word_fix(c, s0 + HW) != 1)
      return -1;
    uint32_t t = c->code[s1 + HW], d0 = c->code[s0 + HW];
    if (d0 == t) return -1;
    /* the hoisted instruction must not overwrite what the producer read */
    for (uint32_t i = 1; i <= producer_slots(c->hist[1].op); i++)
      if (word_fix(c, s1 + HW + i) == 1 && c->code[s1 + HW + i] == d0) return -1;
    opword buf[16];
    for (uint32_t q = s0; q < e0; q++) {
      buf[q - s0] = (opword){c->code[q], q < s0 + HW ? 0 : word_fix(c, q)};
      if (q > s0 + HW && buf[q - s0].fix == 1 && buf[q - s0].w == t) return -1;
    }
    uint32_t other;
    if (!shift_operand(c, a, b, t, &other)) return -1;
    sx[0] = (opword){c->code[s1 + HW + 1], word_fix(c, s1 + HW + 1)};
    sx[1] = (opword){c->code[s1 + HW + 2], producer_slots(c->hist[1].op) == 2 ? word_fix(c, s1 + HW + 2) : 0};
    uint16_t op0 = c->hist[0].op;
    rewind_to(c, s1);
    for (uint32_t i = 0; i < e0 - s0; i++) eng_cc_emit_word(c, buf[i]);
    eng_hist_push(c, s1, c->len, op0);
    *a = other;
    *b = t;
    return fused;
  }
  uint32_t t = c->code[s0 + HW];
  if (word_fix(c, s0 + HW) != 1) return -1;
  uint32_t other;
  if (!shift_operand(c, a, b, t, &other)) return -1;
  sx[0] = (opword){c->code[s0 + HW + 1], word_fix(c, s0 + HW + 1)};
  sx[1] = (opword){c->code[s0 + HW + 2], producer_slots(c->hist[0].op) == 2 ? word_fix(c, s0 + HW + 2) : 0};
  rewind_to(c, s0);
  *a = other;
  *b = t;
  return fused;
}

/* After take_op made `d = a ^ rotl(x, k2)`: if a was just computed into a
** temporary by rotl(y, k), takes that back too and returns y and k. */
bool eng_fuse_take_rotl(cc *c, uint32_t a, opword out[2]) {
  uint32_t s0 = c->hist[0].start;
  if (c->hist[0].end != c->len || c->hist[0].op != ENG_OP_I32_ROTL_IMM ||
      c->vals[a].kind != K_STACK || c->code[s0 + HW] != a || word_fix(c, s0 + HW) != 1)
    return false;
  out[0] = (opword){c->code[s0 + HW + 1], word_fix(c, s0 + HW + 1)};
  out[1] = (opword){c->code[s0 + HW + 2], 0};
  rewind_to(c, s0);
  return true;
}

/* Whether instruction I at [s0, e0), right after P at [s1, s0), can run
** before P: P writes a temporary, I writes a temporary or a local, and I
** does not read what P writes nor write what P reads (P's first nreads
** operands after its destination). */
static bool hoistable(const cc *c, uint32_t s1, uint32_t s0, uint32_t e0, uint32_t nreads) {
  uint32_t df = word_fix(c, s0 + HW);
  if (e0 - s0 > 16 || word_fix(c, s1 + HW) != 1 || df == 2) return false;
  uint32_t t = c->code[s1 + HW], d = c->code[s0 + HW];
  if (df == 1 && d == t) return false;
  for (uint32_t i = 1; i <= nreads; i++)
    if (word_fix(c, s1 + HW + i) == df && c->code[s1 + HW + i] == d) return false;
  for (uint32_t q = s0 + HW + 1; q < e0; q++)
    if (word_fix(c, q) == 1 && c->code[q] == t) return false;
  return true;
}

/* Takes back [s1, e0), which is P then I, and emits I alone again: P's
** computation is about to be folded into the next instruction. */
static void drop_keep_next(cc *c, uint32_t s1, uint32_t s0, uint32_t e0) {
  opword buf[16];
  for (uint32_t q = s0; q < e0; q++) buf[q - s0] = (opword){c->code[q], q < s0 + HW ? 0 : word_fix(c, q)};
  uint16_t op0 = c->hist[0].op;
  rewind_to(c, s1);
  for (uint32_t i = 0; i < e0 - s0; i++) eng_cc_emit_word(c, buf[i]);
  eng_hist_push(c, s1, c->len, op0);
}

/* For `d = a + imm` (i32): if a was just computed into a temporary by
** I32_ADD_SHL (b + (x << k)), takes that back and returns b, x and k. */
bool eng_fuse_take_addshl(cc *c, uint32_t a, opword out[3]) {
  uint32_t s0 = c->hist[0].start;
  if (c->vals[a].kind != K_STACK || c->hist[0].end != c->len || c->hist[0].op != ENG_OP_I32_ADD_SHL ||
      word_fix(c, s0 + HW) != 1 || c->code[s0 + HW] != a)
    return false;
  for (uint32_t i = 0; i < 3; i++)
    out[i] = (opword){c->code[s0 + HW + 1 + i], i < 2 ? word_fix(c, s0 + HW + 1 + i) : 0};
  rewind_to(c, s0);
  return true;
}

/* For I32_ADD_SHL with base a: if a was just computed into a temporary by
** an i32 add or subtract of an immediate (right before, or with one
** unrelated instruction between, which then moves above it), takes that
** back and returns its operand and the immediate to add. */
bool eng_fuse_take_addimm(cc *c, uint32_t a, opword out[2]) {
  if (c->vals[a].kind != K_STACK) return false;
  for (int k = 0; k < 2; k++) {
    uint32_t s = c->hist[k].start;
    if (c->hist[k].end != (k ? c->hist[0].start : c->len)) return false;
    uint16_t op = c->hist[k].op;
    if ((op != ENG_OP_I32_ADD_IMM && op != ENG_OP_I32_SUB_IMM) || word_fix(c, s + HW) != 1 ||
        c->code[s + HW] != a)
      continue;
    if (k == 1 && !hoistable(c, s, c->hist[0].start, c->len, 1)) return false;
    uint32_t imm = c->code[s + HW + 2];
    out[0] = (opword){c->code[s + HW + 1], word_fix(c, s + HW + 1)};
    out[1] = (opword){op == ENG_OP_I32_SUB_IMM ? 0u - imm : imm, 0};
    if (k == 0) rewind_to(c, s);
    else drop_keep_next(c, s, c->hist[0].start, c->len);
    return true;
  }
  return false;
}

/* If the address at stack position p was just computed by an i32.add (of
** a constant, of two values, or of a shifted index: I32_ADD_SHL), takes
** that code back and returns the folded form (1 _AI, 2 _AA, 3 _SX) with its
** operand words; else 0. */
uint32_t eng_fuse_take_addr(cc *c, uint32_t p, opword ops[4]) {
  if (!c->live || c->vals[p].kind != K_STACK) return 0;
  uint32_t s0 = c->hist[0].start;
  if (c->hist[0].end != c->len || c->code[s0 + HW] != p || word_fix(c, s0 + HW) != 1) return 0;
  uint16_t op = c->hist[0].op;
  if (op == ENG_OP_I32_ADD_IMM || op == ENG_OP_I32_SUB_IMM) {
    ops[0] = (opword){c->code[s0 + HW + 1], word_fix(c, s0 + HW + 1)};
    uint32_t imm = c->code[s0 + HW + 2];
    ops[1] = (opword){op == ENG_OP_I32_SUB_IMM ? 0u - imm : imm, 0};
    rewind_to(c, s0);
    return 1;
  }
  if (op == ENG_OP_I32_ADD_IMM_SHL) {   /* a + imm + (x << k), already fused */
    for (uint32_t i = 0; i < 4; i++)
      ops[i] = (opword){c->code[s0 + HW + 1 + i], i == 0 || i == 2 ? word_fix(c, s0 + HW + 1 + i) : 0};
    rewind_to(c, s0);
    return 4;
  }
  if (op == ENG_OP_I32_ADD_SHL) {       /* a + (x << k), already fused */
    ops[0] = (opword){c->code[s0 + HW + 1], word_fix(c, s0 + HW + 1)};
    ops[1] = (opword){c->code[s0 + HW + 2], word_fix(c, s0 + HW + 2)};
    ops[2] = (opword){c->code[s0 + HW + 3], 0};
    /* and a = base + imm into a temporary just before: base + imm + (x << k) */
    uint32_t s1 = c->hist[1].start;
    if (c->hist[1].end == s0 && c->hist[1].op == ENG_OP_I32_ADD_IMM && ops[0].fix == 1 &&
        word_fix(c, s1 + HW) == 1 && c->code[s1 + HW] == ops[0].w &&
        !(ops[1].fix == 1 && ops[1].w == ops[0].w)) {
      ops[3] = ops[2];
      ops[2] = ops[1];
      ops[0] = (opword){c->code[s1 + HW + 1], word_fix(c, s1 + HW + 1)};
      ops[1] = (opword){c->code[s1 + HW + 2], 0};
      rewind_to(c, s1);
      return 4;
    }
    /* or with one unrelated instruction between the two (the index's own
    ** computation, typically), which then moves above the base's */
    uint32_t s2 = c->hist[2].start;
    if (c->hist[1].end == s0 && c->hist[2].end == s1 && c->hist[2].op == ENG_OP_I32_ADD_IMM &&
        ops[0].fix == 1 && word_fix(c, s2 + HW) == 1 && c->code[s2 + HW] == ops[0].w &&
        !(ops[1].fix == 1 && ops[1].w == ops[0].w) && s0 - s1 <= 16) {
      opword base = {c->code[s2 + HW + 1], word_fix(c, s2 + HW + 1)};
      opword d1 = {c->code[s1 + HW], word_fix(c, s1 + HW)};
      bool ok = !(d1.w == base.w && d1.fix == base.fix) && !(d1.fix == 1 && d1.w == ops[0].w);
      opword buf[16];
      for (uint32_t q = s1; q < s0 && ok; q++) {
        buf[q - s1] = (opword){c->code[q], q < s1 + HW ? 0 : word_fix(c, q)};
        if (q > s1 + HW && buf[q - s1].fix == 1 && buf[q - s1].w == ops[0].w) ok = false;
      }
      if (ok) {
        uint16_t op1 = c->hist[1].op;
        ops[3] = ops[2];
        ops[2] = ops[1];
        ops[0] = base;
        ops[1] = (opword){c->code[s2 + HW + 2], 0};
        rewind_to(c, s2);
        for (uint32_t i = 0; i < s0 - s1; i++) eng_cc_emit_word(c, buf[i]);
        eng_hist_push(c, s2, c->len, op1);
        return 4;
      }
    }
    rewind_to(c, s0);
    return 3;
  }
  if (op != ENG_OP_I32_ADD) return 0;
  opword a = {c->code[s0 + HW + 1], word_fix(c, s0 + HW + 1)}, b = {c->code[s0 + HW + 2], word_fix(c, s0 + HW + 2)};
  ops[0] = a;
  ops[1] = b;
  rewind_to(c, s0);
  return 2;
}

/* For a store whose value (stack position v) the last instructions
** computed right after the address (position p): the address computation
** is taken out from under that code and folded into the store. */
uint32_t eng_fuse_take_addr_past(cc *c, uint32_t p, uint32_t v, opword ops[4]) {
  if (c->vals[p].kind != K_STACK || c->vals[v].kind != K_STACK || c->hist[0].end != c->len) return 0;
  /* the value's code: hist[0..k), contiguous, each writing a temporary
  ** above p or a local, and not reading p; hist[k] computed p */
  uint32_t k = 0, nloc = 0, locs[ENG_HIST];
  for (; k < ENG_HIST - 1; k++) {
    uint32_t s = c->hist[k].start;
    if (c->hist[k].end == UINT32_MAX || (k && c->hist[k].end != c->hist[k - 1].start))
      return 0;
    uint32_t d = c->code[s + HW], f = word_fix(c, s + HW);
    if (f == 1 && d == p) break;
    if (f == 0) locs[nloc++] = d;
    else if (d < v) return 0;
    for (uint32_t q = s + HW + 1; q < c->hist[k].end; q++)
      if (c->code[q] == p && word_fix(c, q) == 1) return 0;
  }
  if (k == 0 || k == ENG_HIST - 1 || c->hist[k].end != c->hist[k - 1].start) return 0;
  uint32_t s0 = c->hist[k - 1].start, e0 = c->len;
  if (e0 - s0 > 32) return 0;
  /* The value code runs first now: no address instruction may read what it
  ** writes (temporaries at v and above, locals; an immediate equal to such
  ** a local's index only costs the fusion). */
  for (uint32_t j = k; j < ENG_HIST && c->hist[j].end == (j == k ? s0 : c->hist[j - 1].start); j++)
    for (uint32_t q = c->hist[j].start + HW + 1; q < c->hist[j].end; q++) {
      uint32_t f = word_fix(c, q);
      if (f == 1 && c->code[q] >= v) return 0;
      for (uint32_t i = 0; i < nloc; i++) if (f == 0 && c->code[q] == locs[i]) return 0;
    }
  opword buf[32];
  struct { uint32_t len; uint16_t op; } ins[ENG_HIST];
  for (uint32_t q = s0; q < e0; q++) buf[q - s0] = (opword){c->code[q], word_fix(c, q)};
  for (uint32_t j = 0; j < k; j++) {
    ins[j].len = c->hist[j].end - c->hist[j].start;
    ins[j].op = c->hist[j].op;
  }
  /* handler words are not relocated */
  for (uint32_t j = k, at = 0; j-- > 0; at += ins[j].len)
    for (uint32_t h = 0; h < HW; h++) buf[at + h].fix = 0;
  rewind_to(c, s0);
  uint32_t form = eng_fuse_take_addr(c, p, ops);
  for (uint32_t j = k, at = 0; j-- > 0; at += ins[j].len) {
    uint32_t start = c->len;
    for (uint32_t i = 0; i < ins[j].len; i++) eng_cc_emit_word(c, buf[at + i]);
    eng_hist_push(c, start, c->len, ins[j].op);
  }
  return form;
}

/* Immediate forms of the numeric ops: their third operand is no slot. */
static const uint8_t imm_form[ENG_OP__COUNT] = {
#define UN(...)
#define BI(...)
#define BIK(n, ...) [ENG_OP_##n##_IMM] = 1,
#define TU(...)
#define TB(...)
#include "opcodes.def"
#undef UN
#undef BI
#undef BIK
#undef TU
#undef TB
};

/* The positions (from its start) of the slots an instruction of op, len
** words, reads, for the plain numeric ops and the loads; false for any
** other op. */
static bool read_slots(uint16_t op, uint32_t len, uint32_t at[2], uint32_t *n) {
  if (op >= ENG_OP_I32_EQZ && op < ENG_OP_BRC_EQ) {
    if (len == HW + 2) { at[0] = HW + 1; *n = 1; return true; }
    if (len != HW + 3) return false;
    at[0] = HW + 1;
    at[1] = HW + 2;
    *n = imm_form[op] ? 1 : 2;
    return true;
  }
  if (op >= ENG_OP_I32_LOAD && op < ENG_OP_I32_STORE) {
    static const uint8_t second[5] = {0, 0, HW + 2, HW + 2, HW + 3};   /* plain _AI _AA _SX _SXI */
    uint32_t form = (uint32_t)(op - ENG_OP_I32_LOAD) % 5;
    at[0] = HW + 1;
    at[1] = second[form];
    *n = second[form] ? 2 : 1;
    return true;
  }
  return false;
}

/* set_pending, when the code since the instruction J that last wrote x
** (hist[jk]) holds the only pending read of x, at slot p: J writes p
** instead, the reads of x after it read p, and the producer writes x; no
** copy at all. Only when every instruction after J is one whose slot
** operands are known (a local and an immediate look alike). */
static bool rename_reads(cc *c, uint32_t x, uint32_t p, uint32_t jk) {
  uint32_t js = c->hist[jk].start, n = c->len - js;
  if (word_fix(c, js + HW) != 0 || n > 64) return false;
  opword buf[64];
  uint32_t len[ENG_HIST];
  uint16_t op[ENG_HIST];
  for (uint32_t w = js; w < c->len; w++) buf[w - js] = (opword){c->code[w], word_fix(c, w)};
  for (uint32_t k = 0; k <= jk; k++) {
    len[k] = c->hist[k].end - c->hist[k].start;
    op[k] = c->hist[k].op;
  }
  buf[HW] = (opword){p, 1};
  for (uint32_t k = jk, at = 0; k-- > 0;) {
    at += len[k + 1];
    uint32_t slots[2], ns;
    if (!read_slots(op[k], len[k], slots, &ns)) return false;
    for (uint32_t i = 0; i < ns; i++)
      if (buf[at + slots[i]].fix == 0 && buf[at + slots[i]].w == x) buf[at + slots[i]] = (opword){p, 1};
  }
  for (uint32_t k = jk + 1, at = 0; k-- > 0; at += len[k])
    for (uint32_t h = 0; h < HW; h++) buf[at + h].fix = 0;
  buf[c->patch_dst - js] = (opword){x, 0};     /* the producer: a local, not relocated */
  rewind_to(c, js);
  c->vals[p].kind = K_STACK;
  for (uint32_t k = jk + 1, at = 0; k-- > 0; at += len[k]) {
    uint32_t start = c->len;
    for (uint32_t i = 0; i < len[k]; i++) eng_cc_emit_word(c, buf[at + i]);
    eng_hist_push(c, start, c->len, op[k]);
  }
  c->patch_end = UINT32_MAX;
  return true;
}

/* local.set/tee x of the temporary at pos that the last instruction
** computed, while values below pos still read x (deferred local.get x):
** their copies go above as much of the last few instructions as neither
** writes x nor touches the copies' slots, and the producer then writes x
** itself. One copy instead of two, and the instructions it moved past stay
** contiguous for the fusions that follow (an address and its load). */
bool eng_fuse_set_pending(cc *c, uint32_t x, uint32_t pos) {
  if (c->patch_end != c->len || c->hist[0].end != c->len || c->hist[0].start + HW != c->patch_dst ||
      c->code[c->patch_dst] != pos || word_fix(c, c->patch_dst) != 1)
    return false;
  uint32_t pend[4], np = 0;
  for (uint32_t i = 0; i < pos; i++)
    if (c->vals[i].kind == K_LOCAL && c->vals[i].v == x) {
      if (np == 4) return false;
      pend[np++] = i;
    }
  uint32_t q = c->len, n = 0, jk = ENG_HIST;
  for (uint32_t k = 0; k < ENG_HIST; k++) {
    uint32_t s = c->hist[k].start, e = c->hist[k].end;
    if (e != (k ? c->hist[k - 1].start : c->len) || c->len - s > 64) break;
    if (k > 0 && word_fix(c, s + HW) == 0 && c->code[s + HW] == x) {
      jk = k;
      break;
    }
    bool clash = false;
    for (uint32_t w = s + HW; w < e && !clash; w++)
      for (uint32_t i = 0; i < np && !clash; i++)
        clash = c->code[w] == pend[i] && word_fix(c, w) == 1;
    if (clash) break;
    q = s;
    n = k + 1;
  }
  if (n == 0) return false;
  if (np == 1 && jk < ENG_HIST && jk == n && rename_reads(c, x, pend[0], jk)) return true;
  opword buf[64];
  uint32_t len[ENG_HIST];
  uint16_t op[ENG_HIST];
  for (uint32_t k = 0; k < n; k++) {
    len[k] = c->hist[k].end - c->hist[k].start;
    op[k] = c->hist[k].op;
  }
  for (uint32_t w = q; w < c->len; w++) buf[w - q] = (opword){c->code[w], word_fix(c, w)};
  for (uint32_t k = n, at = 0; k-- > 0; at += len[k])
    for (uint32_t h = 0; h < HW; h++) buf[at + h].fix = 0;
  buf[c->patch_dst - q] = (opword){x, 0};     /* a local: not relocated */
  rewind_to(c, q);
  for (uint32_t i = 0; i < np; i++) eng_cc_materialize(c, pend[i]);
  for (uint32_t k = n, at = 0; k-- > 0; at += len[k]) {
    uint32_t start = c->len;
    for (uint32_t i = 0; i < len[k]; i++) eng_cc_emit_word(c, buf[at + i]);
    eng_hist_push(c, start, c->len, op[k]);
  }
  c->patch_end = UINT32_MAX;
  return true;
}

/* If the value at stack position p was just loaded by i32.load or
** i32.load8_u (any address form), takes the load back and returns the
** br_table form that does it (0 if none), with its operand words. */
uint16_t eng_fuse_take_load(cc *c, uint32_t p, opword w[8], uint32_t *nw) {
  uint32_t s0 = c->hist[0].start, e0 = c->hist[0].end;
  if (c->vals[p].kind != K_STACK || e0 != c->len || e0 - s0 - HW > 8 ||
      word_fix(c, s0 + HW) != 1 || c->code[s0 + HW] != p)
    return 0;
  uint16_t op = c->hist[0].op, brt;
  if (op >= ENG_OP_I32_LOAD && op <= ENG_OP_I32_LOAD_SXI) brt = (uint16_t)(ENG_OP_BRT_I32_LOAD + (op - ENG_OP_I32_LOAD));
  else if (op >= ENG_OP_I32_LOAD8_U && op <= ENG_OP_I32_LOAD8_U_SXI) brt = (uint16_t)(ENG_OP_BRT_I32_LOAD8_U + (op - ENG_OP_I32_LOAD8_U));
  else return 0;
  *nw = e0 - s0 - HW;
  for (uint32_t i = 0; i < *nw; i++) w[i] = (opword){c->code[s0 + HW + i], word_fix(c, s0 + HW + i)};
  rewind_to(c, s0);
  return brt;
}

/* An address of a load or store form (w: its words after the value or
** destination, off apart) as a imm x k off, the SXI form's operands. */
void eng_fuse_canon_addr(cc *c, uint32_t form, const opword *w, uint32_t off, opword out[5]) {
  opword zero = {eng_cc_intern_const(c, 0), 2};
  switch (form) {
  case 0: out[0] = w[0]; out[1] = (opword){0, 0}; out[2] = zero; out[3] = (opword){0, 0}; break;
  case 1: out[0] = w[0]; out[1] = w[1]; out[2] = zero; out[3] = (opword){0, 0}; break;
  case 2: out[0] = w[0]; out[1] = (opword){0, 0}; out[2] = w[1]; out[3] = (opword){0, 0}; break;
  case 3: out[0] = w[0]; out[1] = (opword){0, 0}; out[2] = w[1]; out[3] = w[2]; break;
  default: out[0] = w[0]; out[1] = w[1]; out[2] = w[2]; out[3] = w[3]; break;
  }
  out[4] = (opword){off, 0};
}

/* For a store (its plain op) of the value at stack position v: if the last
** instruction loaded v, takes the load back and returns the COPY op that
** does both, with the load's address in src; else -1. */
int eng_fuse_take_copy(cc *c, uint32_t v, eng_op store, opword src[5]) {
  uint32_t s0 = c->hist[0].start, e0 = c->hist[0].end;
  uint16_t lop = c->hist[0].op;
  if (e0 != c->len || lop < ENG_OP_I32_LOAD || c->vals[v].kind != K_STACK || c->code[s0 + HW] != v)
    return -1;
  static const eng_op loads[] = {ENG_OP_I64_LOAD, ENG_OP_F64_LOAD, ENG_OP_I32_LOAD, ENG_OP_F32_LOAD,
                                 ENG_OP_I64_LOAD32_S, ENG_OP_I64_LOAD32_U};
  uint32_t k = 0;
  while (k < sizeof loads / sizeof loads[0] && !(lop >= loads[k] && lop < loads[k] + 5)) k++;
  if (k == sizeof loads / sizeof loads[0] || word_fix(c, s0 + HW) != 1) return -1;
  eng_op l = loads[k];
  int op;
  if ((l == ENG_OP_I64_LOAD || l == ENG_OP_F64_LOAD) && (store == ENG_OP_I64_STORE || store == ENG_OP_F64_STORE))
    op = ENG_OP_COPY8;
  else if (((l == ENG_OP_I32_LOAD || l == ENG_OP_F32_LOAD) && (store == ENG_OP_I32_STORE || store == ENG_OP_F32_STORE)) ||
           ((l == ENG_OP_I64_LOAD32_S || l == ENG_OP_I64_LOAD32_U) && store == ENG_OP_I64_STORE32))
    op = ENG_OP_COPY4;
  else if (l == ENG_OP_I64_LOAD32_S && store == ENG_OP_I64_STORE)
    op = ENG_OP_COPY_S32;
  else if (l == ENG_OP_I64_LOAD32_U && store == ENG_OP_I64_STORE)
    op = ENG_OP_COPY_U32;
  else
    return -1;
  uint32_t n = e0 - s0 - HW - 1;           /* the address words and off */
  if (n < 2 || n > 5) return -1;
  opword w[4];
  for (uint32_t i = 0; i + 1 < n; i++) w[i] = (opword){c->code[s0 + HW + 1 + i], word_fix(c, s0 + HW + 1 + i)};
  uint32_t off = c->code[e0 - 1];
  rewind_to(c, s0);
  eng_fuse_canon_addr(c, lop - l, w, off, src);
  return c->oom ? -1 : op;
}

/* If the loop starting at target begins with `d = a + imm` (i32) that is
** not the code being taken back, its words: a back-edge can do that add
** and jump past it. */
bool eng_fuse_loop_head_addi(cc *c, uint32_t target, opword w[3]) {
  uint64_t h = (uint64_t)(uintptr_t)c->h[ENG_OP_I32_ADD_IMM];
  if (target + HW + 3 > c->len || c->code[target] != (uint32_t)h || c->code[target + 1] != (uint32_t)(h >> 32))
    return false;
  for (uint32_t i = 0; i < 3; i++)
    w[i] = (opword){c->code[target + HW + i], i < 2 ? word_fix(c, target + HW + i) : 0};
  return true;
}

/* If the last instruction was `d = a + imm` (i32), takes it back for a loop
** back-edge to do: d, a and imm in w. */
bool eng_fuse_take_addi(cc *c, opword w[3]) {
  uint32_t s0 = c->hist[0].start;
  if (c->hist[0].end != c->len || c->hist[0].op != ENG_OP_I32_ADD_IMM) return false;
  for (uint32_t i = 0; i < 3; i++) w[i] = (opword){c->code[s0 + HW + i], i < 2 ? word_fix(c, s0 + HW + i) : 0};
  rewind_to(c, s0);
  return true;
}

/* If the last instruction is a MOV or MOV2 that no branch lands inside
** of or after (copies ending a loop body), takes it back: its d s pairs in
** m, in order; returns how many. */
uint32_t eng_fuse_take_movs(cc *c, opword m[4]) {
  uint32_t s = c->mov_start, n = c->mov_n;
  if (!c->live || c->mov_end != c->len || n < 1 || n > 2 || c->len != s + HW + 2 * n || c->label_at > s)
    return 0;
  for (uint32_t i = 0; i < 2 * n; i++) m[i] = (opword){c->code[s + HW + i], word_fix(c, s + HW + i)};
  rewind_to(c, s);
  return n;
}

/* Local x was just set by `x = x + s` (an add retargeted to x) right after
** a plain store through x: the two become one _BUMP store. */
bool eng_fuse_store_bump(cc *c, uint32_t x) {
  uint32_t s0 = c->hist[0].start, st = c->st_start;
  if (c->hist[0].end != c->len || s0 != c->st_end || c->code[s0 + HW] != x ||
      word_fix(c, s0 + HW) != 0 || c->code[st + HW] != x || word_fix(c, st + HW) != 0)
    return false;
  opword step;
  opword a = {c->code[s0 + HW + 1], word_fix(c, s0 + HW + 1)};
  if (c->hist[0].op == ENG_OP_I32_ADD) {
    opword b = {c->code[s0 + HW + 2], word_fix(c, s0 + HW + 2)};
    if (a.fix == 0 && a.w == x) step = b;
    else if (b.fix == 0 && b.w == x) step = a;
    else return false;
  } else if (c->hist[0].op == ENG_OP_I32_ADD_IMM) {
    if (a.fix != 0 || a.w != x) return false;
    step = (opword){eng_cc_intern_const(c, c->code[s0 + HW + 2]), 2};
    if (c->oom) return false;
  } else {
    return false;
  }
  opword v = {c->code[st + HW + 1], word_fix(c, st + HW + 1)};
  uint32_t off = c->code[st + HW + 2];
  uint16_t bump = c->st_bump;
  rewind_to(c, st);
  eng_cc_emit_op(c, (eng_op)bump);
  eng_cc_emit(c, x);
  eng_cc_emit_word(c, v);
  eng_cc_emit(c, off);
  eng_cc_emit_word(c, step);
  c->bump_start = st;
  c->bump_end = c->len;
  c->bump_op = bump;
  return true;
}

static bool same_slot(opword x, opword y) { return x.w == y.w && x.fix == y.fix; }

/* A loop whose body is one _BUMP store, closed by `d = a + b; br_if (d cond
** c)` with d one of the addends: the two become one BUMP_LOOP, which keeps
** the address and the counter in registers. Only when no other operand
** names either of them (so caching them is exact). */
bool eng_fuse_bump_loop(cc *c, uint32_t target, opword d, opword a, opword b, bool bimm, opword cv, bool cimm,
                        uint32_t cond) {
  uint32_t st = c->bump_start;
  if (st != target || c->bump_end != c->len || c->label_at > st || cond >= 10) return false;
  opword p = {c->code[st + HW], word_fix(c, st + HW)};
  opword v = {c->code[st + HW + 1], word_fix(c, st + HW + 1)};
  uint32_t off = c->code[st + HW + 2];
  opword s = {c->code[st + HW + 3], word_fix(c, st + HW + 3)};
  opword step;
  bool stepimm;
  if (same_slot(a, d)) { step = b; stepimm = bimm; }
  else if (!bimm && same_slot(b, d)) { step = a; stepimm = false; }
  else return false;
  if (same_slot(p, d) || same_slot(v, p) || same_slot(v, d) || same_slot(s, p) || same_slot(s, d) ||
      (!stepimm && (same_slot(step, p) || same_slot(step, d))) ||
      (!cimm && (same_slot(cv, p) || same_slot(cv, d))))
    return false;
  uint32_t kind = (uint32_t)c->bump_op - ENG_OP_I32_STORE_BUMP;
  rewind_to(c, st);
  eng_cc_emit_op(c, ENG_OP_BUMP_LOOP);
  eng_cc_emit_word(c, p);
  eng_cc_emit_word(c, v);
  eng_cc_emit(c, off);
  eng_cc_emit_word(c, s);
  eng_cc_emit(c, kind);
  eng_cc_emit_word(c, d);
  if (stepimm) eng_cc_emit(c, step.w);
  else eng_cc_emit_word(c, step);
  if (cimm) eng_cc_emit(c, cv.w);
  else eng_cc_emit_word(c, cv);
  eng_cc_emit(c, cond * 4 + (stepimm ? 2u : 0u) + (cimm ? 1u : 0u));
  return true;
}

/* For f64 add or mul (op): if one operand (stack positions *a, *b) was just
** loaded by f64.load (plain or _AI), takes the load back, leaves the other
** operand in *a and returns the fused op with the load's address words in
** w (*nw of them); else -1. */
int eng_fuse_take_fload(cc *c, eng_op op, uint32_t *a, uint32_t *b, opword w[3], uint32_t *nw) {
  uint32_t s0 = c->hist[0].start;
  if (c->hist[0].end != c->len || word_fix(c, s0 + HW) != 1) return -1;
  uint16_t lop = c->hist[0].op;
  if (lop != ENG_OP_F64_LOAD && lop != ENG_OP_F64_LOAD_AI) return -1;
  uint32_t t = c->code[s0 + HW], other;
  if (!shift_operand(c, a, b, t, &other)) return -1;
  *nw = lop == ENG_OP_F64_LOAD ? 2 : 3;
  for (uint32_t i = 0; i < *nw; i++) {
    uint32_t q = s0 + HW + 1 + i;
    w[i] = (opword){c->code[q], i == 0 ? word_fix(c, q) : 0};
  }
  rewind_to(c, s0);
  *a = other;
  *b = t;
  int base = op == ENG_OP_F64_ADD ? ENG_OP_F64_ADD_M : ENG_OP_F64_MUL_M;
  return base + (lop == ENG_OP_F64_LOAD_AI ? 1 : 0);
}

/* The same for the i64 ops of ENG_I64M_OPS (op: the plain one) and an
** i64.load of any address form but _AA (w: up to five words); the loaded
** value must be the right operand unless op commutes. */
int eng_fuse_take_iload(cc *c, eng_op op, uint32_t *a, uint32_t *b, opword w[5], uint32_t *nw) {
  static const struct { eng_op op, fused; bool commutes; } tab[] = {
#define X(name, sym, comm) {ENG_OP_I64_##name, ENG_OP_I64_##name##_M, comm},
    ENG_I64M_OPS(X)
#undef X
  };
  uint32_t s0 = c->hist[0].start, k = 0;
  if (c->hist[0].end != c->len || word_fix(c, s0 + HW) != 1) return -1;
  while (k < sizeof tab / sizeof tab[0] && tab[k].op != op) k++;
  if (k == sizeof tab / sizeof tab[0]) return -1;
  uint16_t lop = c->hist[0].op;
  int form;
  switch (lop) {
  case ENG_OP_I64_LOAD: form = 0; break;
  case ENG_OP_I64_LOAD_AI: form = 1; break;
  case ENG_OP_I64_LOAD_SX: form = 2; break;
  case ENG_OP_I64_LOAD_SXI: form = 3; break;
  default: return -1;
  }
  uint32_t t = c->code[s0 + HW], other;
  if (!shift_operand(c, a, b, t, &other)) return -1;
  if (!tab[k].commutes && other != *a) return -1;
  *nw = c->hist[0].end - s0 - HW - 1;
  if (*nw > 5) return -1;
  for (uint32_t i = 0; i < *nw; i++) w[i] = (opword){c->code[s0 + HW + 1 + i], word_fix(c, s0 + HW + 1 + i)};
  rewind_to(c, s0);
  *a = other;
  *b = t;
  return (int)tab[k].fused + form;
}
/* }===================================================================== */

/* {=====================================================================
** Tail duplication, on a function's finished code: a forward `br` to a
** loop's back-edge runs a copy of that instead (a then-arm ending a loop
** body, an interpreter's shared `pc += n; continue`), which saves a
** dispatch. Every branch offset is relative to its own word, so the
** code is laid out again with the offsets recomputed.
** ===================================================================== */

/* The index of the instruction starting at p, or -1. */
static int64_t find_start(const uint32_t *starts, uint32_t n, uint32_t p) {
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (starts[mid] < p) lo = mid + 1;
    else hi = mid;
  }
  return lo < n && starts[lo] == p ? (int64_t)lo : -1;
}

/* What a BR may be replaced by, loop back-edges: copying them pays in
** every iteration of a loop, where copying a return would pay once per call
** (and cost decoding the many functions with an early return when they
** are compiled). */
static const eng_op terms[] = {
  ENG_OP_BR_BACK, ENG_OP_ADDI_BR_BACK, ENG_OP_ADDI2_BR_BACK, ENG_OP_ADDI3_BR_BACK,
  ENG_OP_MOV_ADDI_BR_BACK, ENG_OP_MOV2_ADDI_BR_BACK};

static bool terminal(eng_op op) {
  for (size_t k = 0; k < sizeof terms / sizeof terms[0]; k++)
    if (op == terms[k]) return true;
  return false;
}

/* Runs on c->code[0 .. c->len) once every slot is relocated. Gives up
** (leaving the code as it is) on anything it cannot decode or allocate. */
void eng_fuse_tail_dup(cc *c) {
  if (!c->nbr || c->oom || !c->len) return;
  const uint32_t *code = c->code;
  /* Most functions have no BR to copy: find that out without decoding. */
  uint64_t hbr = (uint64_t)(uintptr_t)c->h[ENG_OP_BR];
  bool found = false;
  for (uint32_t b = 0; b < c->nbr && !found; b++) {
    uint32_t p = c->brs[b];
    if (p + HW >= c->len || (code[p] | (uint64_t)code[p + 1] << 32) != hbr) continue;
    int64_t t = (int64_t)p + HW + (int32_t)code[p + HW];
    if (t < 0 || t + HW > (int64_t)c->len) continue;
    uint64_t ht = code[t] | (uint64_t)code[t + 1] << 32;
    for (size_t k = 0; k < sizeof terms / sizeof terms[0]; k++)
      if (ht == (uint64_t)(uintptr_t)c->h[terms[k]]) found = true;
  }
  if (!found) return;
  uint32_t len = c->len, n = 0, cap = len / HW + 1;
  uint32_t *starts = malloc(((size_t)cap + 1) * sizeof *starts);
  uint16_t *opv = malloc((size_t)cap * sizeof *opv);
  uint32_t *copy_of = malloc((size_t)cap * sizeof *copy_of);
  uint32_t *newpos = malloc(((size_t)cap + 1) * sizeof *newpos);
  uint32_t *out = NULL;
  if (!starts || !opv || !copy_of || !newpos) goto done;
  for (uint32_t p = 0; p < len; n++) {
    eng_op op = eng_code_op(code + p);
    uint32_t l = op == ENG_OP__COUNT ? 0 : eng_code_len(op, code + p, len - p);
    if (!l || n == cap) goto done;
    starts[n] = p;
    opv[n] = (uint16_t)op;
    p += l;
  }
  starts[n] = len;
  /* which BRs become a copy of their target, and the new layout */
  bool any = false;
  uint64_t at = 0;
  for (uint32_t i = 0; i < n; i++) {
    copy_of[i] = UINT32_MAX;
    if (opv[i] == ENG_OP_BR) {
      int64_t t = (int64_t)starts[i] + HW + (int32_t)code[starts[i] + HW];
      int64_t j = t >= 0 && t < (int64_t)len ? find_start(starts, n, (uint32_t)t) : -1;
      if (j >= 0 && (uint32_t)j != i && terminal((eng_op)opv[j]) && starts[j + 1] - starts[j] <= 16) {
        copy_of[i] = (uint32_t)j;
        any = true;
      }
    }
    newpos[i] = (uint32_t)at;
    uint32_t src = copy_of[i] == UINT32_MAX ? i : copy_of[i];
    at += starts[src + 1] - starts[src];
  }
  newpos[n] = (uint32_t)at;
  if (!any || at > UINT32_MAX / 2) goto done;
  out = malloc((size_t)at * sizeof *out);
  if (!out) goto done;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t src = copy_of[i] == UINT32_MAX ? i : copy_of[i];
    uint32_t s0 = starts[src], l = starts[src + 1] - s0, d0 = newpos[i];
    memcpy(out + d0, code + s0, (size_t)l * sizeof *out);
    uint32_t nb = eng_code_branches((eng_op)opv[src], code + s0, l);
    for (uint32_t k = l - nb; k < l; k++) {
      int64_t t = (int64_t)s0 + k + (int32_t)code[s0 + k];
      int64_t j = t == (int64_t)len ? (int64_t)n : t >= 0 && t < (int64_t)len ? find_start(starts, n, (uint32_t)t) : -1;
      if (j < 0) goto done;
      out[d0 + k] = (uint32_t)((int32_t)newpos[j] - (int32_t)(d0 + k));
    }
  }
  free(c->code);
  c->code = out;
  c->len = c->cap = (uint32_t)at;
  out = NULL;
done:
  free(out);
  free(newpos);
  free(copy_of);
  free(starts);
  free(opv);
}
/* }===================================================================== */
