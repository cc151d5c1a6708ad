/*
** compile.c: validates a function body with the specification's algorithm
** and, in the same pass, translates it into slot code (see code.h).
*/
#include <stdlib.h>
#include <string.h>
#include "compile.h"

static const eng_valtype one_type[256] = {
  [SHOAL_I32] = SHOAL_I32, [SHOAL_I64] = SHOAL_I64, [SHOAL_F32] = SHOAL_F32,
  [SHOAL_F64] = SHOAL_F64, [SHOAL_FUNCREF] = SHOAL_FUNCREF, [SHOAL_EXTERNREF] = SHOAL_EXTERNREF,
};

/* {=====================================================================
** Numeric instruction table, from opcodes.def
** ===================================================================== */
typedef struct numinfo { uint16_t op, imm_op; uint8_t in, out, binary; } numinfo;
#define NUMIDX(code) ((code) >= 0xfc00 ? 0x100 + ((code) & 0xff) : (code))
static const numinfo numtab[0x110] = {
#define UN(n, code, vi, vo, ...) [NUMIDX(code)] = {ENG_OP_##n, 0, SHOAL_##vi, SHOAL_##vo, 0},
#define BI(n, code, vi, vo, ...) [NUMIDX(code)] = {ENG_OP_##n, 0, SHOAL_##vi, SHOAL_##vo, 1},
#define BIK(n, code, vi, vo, ...) [NUMIDX(code)] = {ENG_OP_##n, ENG_OP_##n##_IMM, SHOAL_##vi, SHOAL_##vo, 1},
#define TU(n, code, vi, vo) [NUMIDX(code)] = {ENG_OP_##n, 0, SHOAL_##vi, SHOAL_##vo, 0},
#define TB(n, code, vi, vo) [NUMIDX(code)] = {ENG_OP_##n, 0, SHOAL_##vi, SHOAL_##vo, 1},
#include "opcodes.def"
#undef UN
#undef BI
#undef BIK
#undef TU
#undef TB
};

/* Ops whose i32 result is written zero-extended to the slot (every i32
** numeric op and load): i64.extend_i32_u of such a result just made is
** the slot as it is. */
static const uint8_t i32_out[ENG_OP__COUNT] = {
#define UN(n, code, vi, vo, ...) [ENG_OP_##n] = SHOAL_##vo == SHOAL_I32,
#define BI(n, code, vi, vo, ...) [ENG_OP_##n] = SHOAL_##vo == SHOAL_I32,
#define BIK(n, code, vi, vo, ...) [ENG_OP_##n] = SHOAL_##vo == SHOAL_I32, [ENG_OP_##n##_IMM] = SHOAL_##vo == SHOAL_I32,
#define TU(n, code, vi, vo) [ENG_OP_##n] = SHOAL_##vo == SHOAL_I32,
#define TB(n, code, vi, vo) [ENG_OP_##n] = SHOAL_##vo == SHOAL_I32,
#include "opcodes.def"
#undef UN
#undef BI
#undef BIK
#undef TU
#undef TB
#define LOAD(n, code, vt, ...) [ENG_OP_##n] = SHOAL_##vt == SHOAL_I32, [ENG_OP_##n##_AI] = SHOAL_##vt == SHOAL_I32, \
  [ENG_OP_##n##_AA] = SHOAL_##vt == SHOAL_I32, [ENG_OP_##n##_SX] = SHOAL_##vt == SHOAL_I32,                  \
  [ENG_OP_##n##_SXI] = SHOAL_##vt == SHOAL_I32,
#define STORE(...)
#include "memops.def"
#undef LOAD
#undef STORE
};

/* For a constant on the left: the opcode with its operands swapped (the
** same for commutative ones, the mirrored comparison), or 0. */
static uint16_t swapped(uint32_t code) {
  switch (code) {
  case 0x46: case 0x47: case 0x6a: case 0x6c: case 0x71: case 0x72: case 0x73:   /* i32 eq ne add mul and or xor */
  case 0x51: case 0x52: case 0x7c: case 0x7e: case 0x83: case 0x84: case 0x85:   /* i64 */
    return (uint16_t)code;
  case 0x48: return 0x4a; case 0x4a: return 0x48; case 0x49: return 0x4b; case 0x4b: return 0x49;
  case 0x4c: return 0x4e; case 0x4e: return 0x4c; case 0x4d: return 0x4f; case 0x4f: return 0x4d;
  case 0x53: return 0x55; case 0x55: return 0x53; case 0x54: return 0x56; case 0x56: return 0x54;
  case 0x57: return 0x59; case 0x59: return 0x57; case 0x58: return 0x5a; case 0x5a: return 0x58;
  default: return 0;
  }
}


typedef struct meminfo { uint16_t op; uint8_t type, log2, store; uint16_t bump; } meminfo;
static const meminfo memtab[0x40] = {
#define LOAD(n, code, vt, mt, lg, ...) [code] = {ENG_OP_##n, SHOAL_##vt, lg, 0, 0},
#define STORE(n, code, vt, mt, lg) [code] = {ENG_OP_##n, SHOAL_##vt, lg, 1, ENG_OP_##n##_BUMP},
#include "memops.def"
#undef LOAD
#undef STORE
};
/* }===================================================================== */

static const char *tname(eng_valtype t) {
  return t == T_UNKNOWN ? "unknown" : shoal_valtype_name((shoal_valtype_t)t);
}

#define FAIL(code, ...) do { \
    err = ENG_ERR(c->diag, (code), c->at, __VA_ARGS__); goto fail; } while (0)
#define INVALID(...) FAIL(SHOAL_ERR_INVALID, __VA_ARGS__)
#define MALFORMED(...) FAIL(SHOAL_ERR_MALFORMED, __VA_ARGS__)

bool eng_cc_grow(void **p, uint32_t *cap, size_t elsize, uint32_t need) {
  if (need <= *cap) return true;
  uint64_t ncap = *cap ? (uint64_t)*cap * 2 : 16;
  while (ncap < need) ncap *= 2;
  if (ncap > UINT32_MAX) return false;
  void *np = realloc(*p, (size_t)ncap * elsize);
  if (!np) return false;
  *p = np;
  *cap = (uint32_t)ncap;
  return true;
}

/* {=====================================================================
** Emission. Every emitter is a no-op in unreachable code.
** ===================================================================== */
void eng_cc_emit_grow(cc *c, uint32_t w) {
  if (!eng_cc_grow((void **)&c->code, &c->cap, sizeof *c->code, c->len + 1)) {
    c->oom = true;
    return;
  }
  c->code[c->len++] = w;
}

/* Stack slots are emitted as their position and relocated at the end,
** when the number of constants (which sit below the stack) is known. */
static uint32_t nat(const cc *c, uint32_t pos) { (void)c; return pos; }

static void emit_nat(cc *c, uint32_t pos) {
  if (!c->live) return;
  if (c->nsfix == c->cap_sfix && !eng_cc_grow((void **)&c->sfix, &c->cap_sfix, sizeof *c->sfix, c->nsfix + 1)) {
    c->oom = true;
    return;
  }
  c->sfix[c->nsfix++] = c->len;
  eng_cc_emit(c, pos);
}

static uint32_t intern_const(cc *c, uint64_t bits);
uint32_t eng_cc_intern_const(cc *c, uint64_t bits);

/* The slot operand for the value at stack position pos. */
static void emit_opnd(cc *c, uint32_t pos) {
  if (!c->live) return;
  const cval *v = &c->vals[pos];
  switch (v->kind) {
  case K_STACK: emit_nat(c, pos); break;
  case K_LOCAL: eng_cc_emit(c, v->v); break;
  default: {
    uint32_t k = intern_const(c, v->bits);
    if (c->ncfix == c->cap_cfix && !eng_cc_grow((void **)&c->cfix, &c->cap_cfix, sizeof *c->cfix, c->ncfix + 1)) {
      c->oom = true;
      return;
    }
    c->cfix[c->ncfix++] = c->len;
    eng_cc_emit(c, k);
    break;
  }
  }
}

/* The operand word for the value at stack position pos, as emit_opnd
** would emit it. */
static opword opnd_word(cc *c, uint32_t pos) {
  const cval *v = &c->vals[pos];
  if (v->kind == K_STACK) return (opword){pos, 1};
  if (v->kind == K_LOCAL) return (opword){v->v, 0};
  return (opword){intern_const(c, v->bits), 2};
}

/* Record that the instruction just emitted wrote its result to the word
** at dst_pos, so local.set may retarget it. */
static void patchable(cc *c, uint32_t dst_pos, eng_op op) {
  if (!c->live) return;
  c->patch_end = c->len;
  c->patch_dst = dst_pos;
  eng_hist_push(c, dst_pos - HW, c->len, (uint16_t)op);
}

/* Called after a MOV emitted at start: merges it into the MOV just
** before it when nothing (not even a branch target) separates them. */
static void mov_done(cc *c, uint32_t start) {
  if (!c->live || c->oom) return;
  if (c->mov_end == start && c->label_at != start && c->mov_n < 3) {
    /* drop this MOV's handler words; its operands join the previous one */
    for (uint32_t i = c->nsfix; i-- > 0 && (c->sfix[i] >= start || c->sfix[i] == UINT32_MAX);)
      if (c->sfix[i] != UINT32_MAX) c->sfix[i] -= HW;
    for (uint32_t i = c->ncfix; i-- > 0 && c->cfix[i] >= start;) c->cfix[i] -= HW;
    memmove(c->code + start, c->code + start + HW, (c->len - start - HW) * sizeof *c->code);
    c->len -= HW;
    c->mov_n++;
    uint64_t a = (uint64_t)(uintptr_t)c->h[c->mov_n == 2 ? ENG_OP_MOV2 : ENG_OP_MOV3];
    c->code[c->mov_start] = (uint32_t)a;
    c->code[c->mov_start + 1] = (uint32_t)(a >> 32);
  } else {
    c->mov_start = start;
    c->mov_n = 1;
  }
  c->mov_end = c->len;
}

static void materialize(cc *c, uint32_t pos) {
  if (!c->live) return;
  cval *v = &c->vals[pos];
  if (v->kind == K_STACK) return;
  uint32_t start = c->len;
  eng_cc_emit_op(c, ENG_OP_MOV);
  emit_nat(c, (pos));
  emit_opnd(c, pos);
  mov_done(c, start);
  v->kind = K_STACK;
}

void eng_cc_materialize(cc *c, uint32_t pos) { materialize(c, pos); }

static void materialize_all(cc *c) {
  for (uint32_t i = 0; i < c->nvals; i++) materialize(c, i);
}

uint32_t eng_cc_intern_const(cc *c, uint64_t bits) { return intern_const(c, bits); }

static uint32_t intern_const(cc *c, uint64_t bits) {
  uint32_t lim = c->nconsts < 256 ? c->nconsts : 256;
  for (uint32_t i = 0; i < lim; i++)
    if (c->consts[i] == bits) return i;
  if (!eng_cc_grow((void **)&c->consts, &c->cap_consts, sizeof *c->consts, c->nconsts + 1)) {
    c->oom = true;
    return 0;
  }
  c->consts[c->nconsts] = bits;
  return c->nconsts++;
}

/* Forward branch: emits a placeholder linked into the label's fixups. */
static void emit_fwd(cc *c, ctrl *L) {
  if (!c->live) return;
  uint32_t pos = c->len;
  eng_cc_emit(c, L->fixups);
  L->fixups = pos + 1;
}

static void resolve_fixups(cc *c, uint32_t list, uint32_t target) {
  while (list) {
    uint32_t pos = list - 1;
    list = c->code[pos];
    c->code[pos] = (uint32_t)((int32_t)target - (int32_t)pos);
  }
}
/* }===================================================================== */

/* {=====================================================================
** The operand and control stacks (validation)
** ===================================================================== */
static uint32_t push(cc *c, eng_valtype t) {
  if (c->nvals == c->cap_vals && !eng_cc_grow((void **)&c->vals, &c->cap_vals, sizeof *c->vals, c->nvals + 1)) {
    c->oom = true;
    return 0;
  }
  uint32_t pos = c->nvals++;
  c->vals[pos] = (cval){t, K_STACK, 0, 0};
  if (c->nvals > c->max_height) c->max_height = c->nvals;
  return pos;
}

/* op d w0 w1 w2 w3: a fused instruction of two operand pairs, its result
** d (at code position at) pushed as type out and patched like any other. */
static void emit_four(cc *c, eng_op op, uint32_t at, const opword *w01, const opword *w23, eng_valtype out) {
  eng_cc_emit_op(c, op);
  uint32_t dpos = c->len;
  emit_nat(c, at);
  eng_cc_emit_word(c, w01[0]);
  eng_cc_emit_word(c, w01[1]);
  eng_cc_emit_word(c, w23[0]);
  eng_cc_emit_word(c, w23[1]);
  push(c, out);
  patchable(c, dpos, op);
}

/* Pops a value of type expect (T_UNKNOWN: any). *pos is its stack
** position, or NO_POS if it came from the polymorphic stack of
** unreachable code. *got is its type (expect if unknown). */
static shoal_err_t pop(cc *c, eng_valtype expect, int64_t *pos, eng_valtype *got) {
  shoal_err_t err = SHOAL_ERR_OK;
  ctrl *top = &c->ctrls[c->nctrls - 1];
  if (c->nvals == top->height) {
    if (!top->unreachable)
      INVALID("type mismatch: expected %s but the stack is empty", tname(expect));
    *pos = NO_POS;
    *got = T_UNKNOWN;
    return SHOAL_ERR_OK;
  }
  cval *v = &c->vals[--c->nvals];
  if (expect != T_UNKNOWN && v->type != T_UNKNOWN && v->type != expect)
    INVALID("type mismatch: expected %s, got %s", tname(expect), tname(v->type));
  *pos = c->nvals;
  *got = v->type;
fail:
  return err;
}

static shoal_err_t pop_vals(cc *c, const eng_valtype *ts, uint32_t n) {
  shoal_err_t err = SHOAL_ERR_OK;
  int64_t pos;
  eng_valtype got;
  for (uint32_t i = n; i-- > 0;) TRY(pop(c, ts[i], &pos, &got));
fail:
  return err;
}

/* Checks that the top values match a label's types without changing the
** stack, as the specification's pop_vals followed by push_vals does. */
/* br_if pushes back the label's types; br_table pushes back what it popped
** (which may be unknown), as in the specification's algorithm. */
static shoal_err_t check_vals_as(cc *c, const eng_valtype *ts, uint32_t n, bool keep_actual) {
  shoal_err_t err = SHOAL_ERR_OK;
  uint32_t save = c->nvals;
  eng_valtype small[8], *got = n <= 8 ? small : malloc(n);
  if (!got) FAIL(SHOAL_ERR_NOMEM, "out of memory");
  for (uint32_t i = n; i-- > 0;) {
    int64_t pos;
    err = pop(c, ts[i], &pos, &got[i]);
    if (err) goto done;
  }
  if (c->nvals + n == save) {
    c->nvals = save;          /* all were real entries: restore them as they were */
  } else {
    for (uint32_t i = 0; i < n; i++) push(c, keep_actual ? got[i] : ts[i]);   /* unreachable code */
  }
done:
  if (got != small) free(got);
fail:
  return err;
}

static shoal_err_t check_vals(cc *c, const eng_valtype *ts, uint32_t n) {
  return check_vals_as(c, ts, n, false);
}

static void set_live(cc *c) {
  const ctrl *t = &c->ctrls[c->nctrls - 1];
  c->live = !t->unreachable && !t->dead && !c->oom;
  /* Block starts and ends are branch targets: no fusion reaches across one. */
  c->label_at = c->len;
  c->patch_end = c->cmp_end = UINT32_MAX;
  eng_hist_clear(c);
}

static ctrl *push_ctrl(cc *c, uint8_t op, const eng_valtype *params, uint32_t np,
                       const eng_valtype *results, uint32_t nr) {
  if (c->nctrls == c->cap_ctrls && !eng_cc_grow((void **)&c->ctrls, &c->cap_ctrls, sizeof *c->ctrls, c->nctrls + 1)) {
    c->oom = true;
    return NULL;
  }
  bool dead = !c->live;
  ctrl *f = &c->ctrls[c->nctrls++];
  *f = (ctrl){op, false, dead, c->nvals, np, nr, params, results, c->len, 0, 0};
  for (uint32_t i = 0; i < np; i++) push(c, params[i]);
  set_live(c);
  return f;
}

static void set_unreachable(cc *c) {
  ctrl *t = &c->ctrls[c->nctrls - 1];
  c->nvals = t->height;
  t->unreachable = true;
  set_live(c);
}

static uint32_t label_arity(const ctrl *L) { return L->op == 0x03 ? L->nparams : L->nresults; }
static const eng_valtype *label_types(const ctrl *L) { return L->op == 0x03 ? L->params : L->results; }

/* Emits the copies that put the top `arity` values where label L expects them. */
static void branch_moves(cc *c, const ctrl *L, uint32_t arity) {
  uint32_t from = c->nvals - arity;
  for (uint32_t i = 0; i < arity; i++) {
    uint32_t src = from + i, dst = L->height + i;
    if (c->vals[src].kind == K_STACK && src == dst) continue;
    uint32_t start = c->len;
    eng_cc_emit_op(c, ENG_OP_MOV);
    emit_nat(c, (dst));
    emit_opnd(c, src);
    mov_done(c, start);
  }
}

/* Returns the top values as the function's results. */
static void emit_return(cc *c) {
  uint32_t nr = c->ctrls[0].nresults;
  if (!c->live) return;
  if (nr == 1) {
    eng_cc_emit_op(c, ENG_OP_RETURN1);
    emit_opnd(c, c->nvals - 1);
  } else if (nr == 0) {
    eng_cc_emit_op(c, ENG_OP_RETURN0);
  } else {
    for (uint32_t i = 0; i < nr; i++) materialize(c, c->nvals - nr + i);
    eng_cc_emit_op(c, ENG_OP_RETURNN);
    eng_cc_emit(c, nr);
    emit_nat(c, c->nvals - nr);
  }
}

/* Records that a forward BR starts here, for eng_fuse_tail_dup. */
static void note_br(cc *c) {
  if (!c->live) return;
  if (c->nbr == c->cap_brs && !eng_cc_grow((void **)&c->brs, &c->cap_brs, sizeof *c->brs, c->nbr + 1)) {
    c->oom = true;
    return;
  }
  c->brs[c->nbr++] = c->len;
}

/* Emits an unconditional jump to label L (after moves). */
static void emit_jump(cc *c, ctrl *L) {
  if (L->op != 0x03) {
    note_br(c);
    eng_cc_emit_op(c, ENG_OP_BR);
    emit_fwd(c, L);
    return;
  }
  /* A loop's back-edge does the body's last one or two add-immediates,
  ** or its last copies, itself; and if the loop starts with an
  ** add-immediate, that too, jumping past it. */
  opword w[9], m[4];
  uint32_t ntail = 0, nmov = 0;
  if (eng_fuse_take_addi(c, w + 3)) {
    ntail = 1;
    if (eng_fuse_take_addi(c, w)) ntail = 2;
    else for (int i = 0; i < 3; i++) w[i] = w[3 + i];
  }
  bool head = eng_fuse_loop_head_addi(c, L->target, w + 3 * ntail);
  if (head && ntail == 0) nmov = eng_fuse_take_movs(c, m);
  uint32_t target = L->target + (head ? HW + 3 : 0);
  uint32_t nadd = ntail + (head ? 1 : 0);
  if (nadd == 0) {
    eng_cc_emit_op(c, ENG_OP_BR_BACK);
    eng_cc_emit(c, (uint32_t)((int32_t)target - (int32_t)c->len));
    return;
  }
  static const eng_op addi_ops[3] = {ENG_OP_ADDI_BR_BACK, ENG_OP_ADDI2_BR_BACK, ENG_OP_ADDI3_BR_BACK};
  eng_cc_emit_op(c, nmov == 2 ? ENG_OP_MOV2_ADDI_BR_BACK : nmov == 1 ? ENG_OP_MOV_ADDI_BR_BACK : addi_ops[nadd - 1]);
  for (uint32_t i = 0; i < 2 * nmov; i++) eng_cc_emit_word(c, m[i]);
  for (uint32_t i = 0; i < 3 * nadd; i++) eng_cc_emit_word(c, w[i]);
  eng_cc_emit(c, (uint32_t)((int32_t)target - (int32_t)c->len));
}

static bool moves_needed(const cc *c, const ctrl *L, uint32_t arity) {
  uint32_t from = c->nvals - arity;
  if (from != L->height) return arity > 0;
  return false;
}
/* }===================================================================== */

static shoal_err_t read_blocktype(cc *c, const eng_valtype **params, uint32_t *np,
                                  const eng_valtype **results, uint32_t *nr) {
  shoal_err_t err = SHOAL_ERR_OK;
  if (c->r.p >= c->r.end) MALFORMED("unexpected end");
  uint8_t b = *c->r.p;
  if (b == 0x40) {
    c->r.p++;
    *params = *results = NULL;
    *np = *nr = 0;
    return SHOAL_ERR_OK;
  }
  if (b == SHOAL_V128) FAIL(SHOAL_ERR_UNSUPPORTED, "SIMD is not supported yet");
  if (one_type[b]) {
    c->r.p++;
    *params = NULL;
    *np = 0;
    *results = &one_type[b];
    *nr = 1;
    return SHOAL_ERR_OK;
  }
  int64_t idx;
  TRY(eng_rd_s33(&c->r, &idx));
  if (idx < 0) MALFORMED("malformed block type");
  if ((uint64_t)idx >= c->m->ntypes) INVALID("unknown type %lld", (long long)idx);
  const eng_functype *ft = &c->m->types[idx];
  *params = ft->types;
  *np = ft->nparams;
  *results = ft->types + ft->nparams;
  *nr = ft->nresults;
fail:
  return err;
}

static shoal_err_t read_memarg(cc *c, uint32_t log2, uint32_t *offset) {
  shoal_err_t err = SHOAL_ERR_OK;
  uint32_t align;
  TRY(eng_rd_u32(&c->r, &align));
  TRY(eng_rd_u32(&c->r, offset));
  if (c->m->nmems == 0) INVALID("unknown memory 0");
  if (align > log2) INVALID("alignment must not be larger than natural");
fail:
  return err;
}

static shoal_err_t need_mem(cc *c) {
  shoal_err_t err = SHOAL_ERR_OK;
  if (c->m->nmems == 0) INVALID("unknown memory 0");
fail:
  return err;
}

static shoal_err_t zero_byte(cc *c) {
  shoal_err_t err = SHOAL_ERR_OK;
  uint8_t b;
  TRY(eng_rd_u8(&c->r, &b));
  if (b != 0) MALFORMED("zero byte expected");
fail:
  return err;
}

static shoal_err_t read_reftype(cc *c, eng_valtype *t) {
  shoal_err_t err = SHOAL_ERR_OK;
  uint8_t b;
  TRY(eng_rd_u8(&c->r, &b));
  if (b != SHOAL_FUNCREF && b != SHOAL_EXTERNREF) MALFORMED("malformed reference type");
  *t = b;
fail:
  return err;
}

/* Pops n operands of the given types (last first) and records their
** positions, for instructions with several operands. */
static shoal_err_t pop_n(cc *c, const eng_valtype *ts, uint32_t n, int64_t *pos) {
  shoal_err_t err = SHOAL_ERR_OK;
  eng_valtype got;
  for (uint32_t i = n; i-- > 0;) TRY(pop(c, ts[i], &pos[i], &got));
fail:
  return err;
}

/* Emits op followed by the operands at positions pos[0..n). */
static void emit_with(cc *c, eng_op op, const int64_t *pos, uint32_t n) {
  eng_cc_emit_op(c, op);
  for (uint32_t i = 0; i < n; i++) emit_opnd(c, (uint32_t)pos[i]);
}

static shoal_err_t local_index(cc *c, uint32_t *idx) {
  shoal_err_t err = SHOAL_ERR_OK;
  TRY(eng_rd_u32(&c->r, idx));
  if (*idx >= c->nlocals) INVALID("unknown local %u", *idx);
fail:
  return err;
}

/* Writes the value at stack position pos into local x. */
static void set_local(cc *c, uint32_t x, uint32_t pos) {
  if (!c->live) return;
  if (c->entry) {
    /* setting a fresh local to zero at entry is a no-op */
    bool fresh = x >= c->ft->nparams && !c->entry_written[x];
    c->entry_written[x] = 1;
    if (fresh && c->vals[pos].kind == K_CONST && c->vals[pos].bits == 0) return;
  }
  /* Deferred reads of x below must see the old value. */
  bool pending = false;
  for (uint32_t i = 0; i < pos; i++)
    if (c->vals[i].kind == K_LOCAL && c->vals[i].v == x) pending = true;
  if (!pending && c->vals[pos].kind == K_STACK && c->patch_end == c->len &&
      c->code[c->patch_dst] == nat(c, pos)) {
    c->code[c->patch_dst] = x;     /* retarget the producer: a local, not relocated */
    c->cmp_end = UINT32_MAX;
    for (uint32_t i = c->nsfix; i-- > 0;)
      if (c->sfix[i] == c->patch_dst) { c->sfix[i] = UINT32_MAX; break; }
    c->patch_end = UINT32_MAX;
    eng_fuse_store_bump(c, x);
    return;
  }
  if (pending && c->vals[pos].kind == K_STACK && eng_fuse_set_pending(c, x, pos)) return;
  if (pending)
    for (uint32_t i = 0; i < pos; i++)
      if (c->vals[i].kind == K_LOCAL && c->vals[i].v == x) materialize(c, i);
  if (c->vals[pos].kind == K_LOCAL && c->vals[pos].v == x) return;
  uint32_t start = c->len;
  eng_cc_emit_op(c, ENG_OP_MOV);
  eng_cc_emit(c, x);
  emit_opnd(c, pos);
  mov_done(c, start);
}

static shoal_err_t do_call(cc *c, const eng_functype *ft) {
  shoal_err_t err = SHOAL_ERR_OK;
  uint32_t base = c->nvals >= ft->nparams ? c->nvals - ft->nparams : 0;
  TRY(pop_vals(c, ft->types, ft->nparams));
  (void)base;
  for (uint32_t i = 0; i < ft->nresults; i++) push(c, ft->types[ft->nparams + i]);
fail:
  return err;
}

/* The function body proper. */
static shoal_err_t compile_expr(cc *c) {
  shoal_err_t err = SHOAL_ERR_OK;
  const shoal_module_t *m = c->m;
  int64_t p[5];
  eng_valtype got;

  while (c->nctrls > 0) {
    if (c->oom) FAIL(SHOAL_ERR_NOMEM, "out of memory compiling function %u", c->fidx);
    c->at = eng_rd_offset(&c->r);
    uint8_t opc;
    if (c->r.p >= c->r.end) MALFORMED("unexpected end of section or function");
    opc = *c->r.p++;
    uint32_t code = opc;
    if (opc <= 0x11) c->entry = false;   /* control flow or a call ends the entry block */
    if (opc == 0xfc) {
      uint32_t sub;
      TRY(eng_rd_u32(&c->r, &sub));
      if (sub > 0xff) MALFORMED("illegal opcode 0xfc %u", sub);
      code = 0xfc00 | sub;
    } else if (opc == 0xfd) {
      FAIL(SHOAL_ERR_UNSUPPORTED, "SIMD is not supported yet");
    }

    /* Numeric instructions: one table row each. */
    if (code < 0xfc08 && (code < 0x100 || code >= 0xfc00) && code >= 0x45) {
      const numinfo *ni = &numtab[NUMIDX(code)];
      if (ni->op || code == 0x45) {
        if (ni->binary) {
          eng_valtype ts[2] = {ni->in, ni->in};
          TRY(pop_n(c, ts, 2, p));
        } else {
          TRY(pop(c, ni->in, &p[0], &got));
        }
        uint32_t at = c->nvals;
        if (c->live && code == 0xad && c->vals[p[0]].kind == K_STACK && c->hist[0].end == c->len &&
            i32_out[c->hist[0].op] && c->patch_end == c->len && c->code[c->patch_dst] == nat(c, at)) {
          /* i64.extend_i32_u of an i32 just computed into this slot */
          push(c, SHOAL_I64);
          c->cmp_end = UINT32_MAX;
          continue;
        }
        if (c->live) {
          uint32_t start = c->len, nsfix = c->nsfix, ncfix = c->ncfix;
          uint32_t a = (uint32_t)p[0], b = (uint32_t)p[1];
          bool imm = false;
          if (ni->binary && ni->imm_op) {
            /* a constant operand that fits 32 bits becomes an immediate */
            if (c->vals[a].kind == K_CONST && c->vals[b].kind != K_CONST && swapped(code)) {
              code = swapped(code);
              ni = &numtab[code];
              uint32_t t = a; a = b; b = t;
            }
            const cval *vb = &c->vals[b];
            imm = vb->kind == K_CONST &&
                  (ni->in == SHOAL_I32 || (uint64_t)(int64_t)(int32_t)vb->bits == vb->bits);
          }
          eng_op eop = (eng_op)(imm ? ni->imm_op : ni->op);
          opword sx[2];
          if (!imm && ni->binary && (eop == ENG_OP_F64_ADD || eop == ENG_OP_F64_MUL || ni->in == SHOAL_I64)) {
            opword lw[5];
            uint32_t nlw = 0;
            int fm = ni->in == SHOAL_I64 ? eng_fuse_take_iload(c, eop, &a, &b, lw, &nlw)
                                         : eng_fuse_take_fload(c, eop, &a, &b, lw, &nlw);
            if (fm >= 0) {
              /* d = a OP load(addr): the load's operands follow a */
              eng_cc_emit_op(c, (eng_op)fm);
              uint32_t dpos2 = c->len;
              emit_nat(c, at);
              emit_opnd(c, a);
              for (uint32_t i = 0; i < nlw; i++) eng_cc_emit_word(c, lw[i]);
              push(c, ni->out);
              patchable(c, dpos2, (eng_op)fm);
              continue;
            }
          }
          int shf = imm ? -1 : eng_fuse_take_op(c, eop, &a, &b, sx);
          opword y[3];
          bool ais = false;
          if ((eop == ENG_OP_I32_ADD_IMM || eop == ENG_OP_I32_SUB_IMM) && eng_fuse_take_addshl(c, a, y)) {
            /* (b + (x << k)) + imm */
            uint32_t k = (uint32_t)c->vals[b].bits;
            sx[0] = y[1];
            sx[1] = y[2];
            y[1] = (opword){eop == ENG_OP_I32_SUB_IMM ? 0u - k : k, 0};
            ais = true;
          } else if (shf == ENG_OP_I32_ADD_SHL) {
            ais = eng_fuse_take_addimm(c, a, y);   /* (b + imm) + (x << k) */
          }
          if (ais) {
            emit_four(c, ENG_OP_I32_ADD_IMM_SHL, at, y, sx, ni->out);
            continue;
          }
          if (shf == ENG_OP_I32_XOR_ROTL && eng_fuse_take_rotl(c, a, y)) {
            emit_four(c, ENG_OP_I32_ROTL_XOR_ROTL, at, y, sx, ni->out);
            continue;
          }
          if (shf >= 0) {
            /* d = a OP (x SH k), and the other two-in-one forms */
            eop = (eng_op)shf;
            eng_cc_emit_op(c, eop);
            uint32_t dpos2 = c->len;
            emit_nat(c, at);
            emit_opnd(c, a);
            eng_cc_emit_word(c, sx[0]);
            if (eop != ENG_OP_I32_ANDN) eng_cc_emit_word(c, sx[1]);
            push(c, ni->out);
            patchable(c, dpos2, eop);
            continue;
          }
          eng_cc_emit_op(c, eop);
          uint32_t dpos = c->len;
          emit_nat(c, (at));
          emit_opnd(c, a);
          if (imm) eng_cc_emit(c, (uint32_t)c->vals[b].bits);
          else if (ni->binary) emit_opnd(c, b);
          push(c, ni->out);
          patchable(c, dpos, eop);
          if ((code >= 0x45 && code <= 0x4f) || (code >= 0x51 && code <= 0x5a)) {
            c->cmp_start = start;
            c->cmp_end = c->len;
            c->cmp_nsfix = nsfix;
            c->cmp_ncfix = ncfix;
            c->cmp_code = (uint16_t)code;
            c->cmp_imm = imm;
          }
        } else {
          push(c, ni->out);
        }
        continue;
      }
    }
    if (code >= 0x28 && code <= 0x3e) {
      const meminfo *mi = &memtab[code];
      uint32_t off;
      TRY(read_memarg(c, mi->log2, &off));
      static const uint8_t addr_words[5] = {0, 2, 2, 3, 4};   /* per folded form */
      opword ops[4];
      if (mi->store) {
        eng_valtype ts[2] = {SHOAL_I32, mi->type};
        TRY(pop_n(c, ts, 2, p));
        /* the value must not come from the code being folded away */
        uint32_t form = !c->live ? 0
                        : c->vals[p[1]].kind == K_STACK ? eng_fuse_take_addr_past(c, (uint32_t)p[0], (uint32_t)p[1], ops)
                        : eng_fuse_take_addr(c, (uint32_t)p[0], ops);
        opword src[5];
        int cop = c->live ? eng_fuse_take_copy(c, (uint32_t)p[1], (eng_op)mi->op, src) : -1;
        if (cop >= 0) {
          /* a value loaded and stored: one COPY, both addresses as a imm x k off */
          opword dst[5], w[4];
          if (form == 0) w[0] = opnd_word(c, (uint32_t)p[0]);
          else for (uint32_t i = 0; i < addr_words[form]; i++) w[i] = ops[i];
          eng_fuse_canon_addr(c, form, w, off, dst);
          eng_cc_emit_op(c, (eng_op)cop);
          for (uint32_t i = 0; i < 5; i++) eng_cc_emit_word(c, src[i]);
          for (uint32_t i = 0; i < 5; i++) eng_cc_emit_word(c, dst[i]);
          continue;
        }
        uint32_t st = c->len;
        eng_cc_emit_op(c, (eng_op)(mi->op + form));
        if (form == 0) emit_opnd(c, (uint32_t)p[0]);
        for (uint32_t i = 0; i < addr_words[form]; i++) eng_cc_emit_word(c, ops[i]);
        emit_opnd(c, (uint32_t)p[1]);
        eng_cc_emit(c, off);
        if (c->live && form == 0) {
          c->st_start = st;
          c->st_end = c->len;
          c->st_bump = mi->bump;
        }
      } else {
        TRY(pop(c, SHOAL_I32, &p[0], &got));
        uint32_t at = c->nvals;
        uint32_t form = eng_fuse_take_addr(c, (uint32_t)p[0], ops);
        eng_cc_emit_op(c, (eng_op)(mi->op + form));
        uint32_t dpos = c->len;
        emit_nat(c, (at));
        if (form == 0) emit_opnd(c, (uint32_t)p[0]);
        for (uint32_t i = 0; i < addr_words[form]; i++) eng_cc_emit_word(c, ops[i]);
        eng_cc_emit(c, off);
        push(c, mi->type);
        patchable(c, dpos, (eng_op)(mi->op + form));
      }
      continue;
    }

    switch (code) {
    case 0x00: /* unreachable */
      eng_cc_emit_op(c, ENG_OP_UNREACHABLE);
      set_unreachable(c);
      break;
    case 0x01: /* nop */
      break;
    case 0x02: case 0x03: { /* block, loop */
      const eng_valtype *ps, *rs;
      uint32_t np, nr;
      TRY(read_blocktype(c, &ps, &np, &rs, &nr));
      materialize_all(c);
      TRY(pop_vals(c, ps, np));
      uint32_t keep = c->nvals;
      ctrl *f = push_ctrl(c, opc, ps, np, rs, nr);
      if (!f) break;
      /* the params keep their (materialized) slots */
      (void)keep;
      c->patch_end = UINT32_MAX;
      break;
    }
    case 0x04: { /* if */
      const eng_valtype *ps, *rs;
      uint32_t np, nr;
      TRY(read_blocktype(c, &ps, &np, &rs, &nr));
      TRY(pop(c, SHOAL_I32, &p[0], &got));
      uint32_t ccode = 0;
      opword ops[2];
      bool imm = false;
      bool fused = c->live && eng_fuse_take_cmp(c, (uint32_t)p[0], &ccode, ops, &imm);
      materialize_all(c);
      uint32_t fix = 0;
      if (fused) {
        fix = eng_fuse_emit_branch(c, ccode, ops, imm, true, false) + 1;
        eng_cc_emit(c, 0);
      } else if (c->live) {
        eng_cc_emit_op(c, ENG_OP_BR_UNLESS);
        emit_opnd(c, (uint32_t)p[0]);
        fix = c->len + 1;
        eng_cc_emit(c, 0);
      }
      TRY(pop_vals(c, ps, np));
      ctrl *f = push_ctrl(c, 0x04, ps, np, rs, nr);
      if (f) f->else_fixup = fix;
      break;
    }
    case 0x05: { /* else */
      ctrl *f = &c->ctrls[c->nctrls - 1];
      if (f->op != 0x04) MALFORMED("else without if");
      TRY(pop_vals(c, f->results, f->nresults));
      if (c->nvals != f->height) INVALID("type mismatch: values remain at end of block");
      c->nvals += f->nresults;       /* they are still in their slots */
      for (uint32_t i = 0; i < f->nresults; i++) materialize(c, f->height + i);
      if (c->live) {
        note_br(c);
        eng_cc_emit_op(c, ENG_OP_BR);
        emit_fwd(c, f);
      }
      f->op = 0x05;
      c->nvals = f->height;
      f->unreachable = false;
      set_live(c);
      if (f->else_fixup && c->live) {
        resolve_fixups(c, f->else_fixup, c->len);
        f->else_fixup = 0;
      }
      for (uint32_t i = 0; i < f->nparams; i++) push(c, f->params[i]);
      break;
    }
    case 0x0b: { /* end */
      ctrl *f = &c->ctrls[c->nctrls - 1];
      TRY(pop_vals(c, f->results, f->nresults));
      if (c->nvals != f->height) INVALID("type mismatch: values remain at end of block");
      if (f->op == 0x04 && !eng_functype_eq(
              &(eng_functype){f->nparams, 0, (eng_valtype *)f->params, 0},
              &(eng_functype){f->nresults, 0, (eng_valtype *)f->results, 0}))
        INVALID("type mismatch: if without else must leave its parameters");
      c->nvals += f->nresults;
      if (f->op == 0) {              /* end of the function */
        emit_return(c);
        c->nctrls--;
        break;
      }
      for (uint32_t i = 0; i < f->nresults; i++) materialize(c, f->height + i);
      bool was_dead = f->dead;
      uint32_t fixups = f->fixups, else_fix = f->else_fixup;
      uint32_t height = f->height, nr = f->nresults;
      const eng_valtype *rs = f->results;
      c->nctrls--;
      set_live(c);
      if (!was_dead && c->live) {
        resolve_fixups(c, fixups, c->len);
        resolve_fixups(c, else_fix, c->len);
      }
      c->nvals = height;
      for (uint32_t i = 0; i < nr; i++) push(c, rs[i]);
      break;
    }
    case 0x0c: case 0x0d: { /* br, br_if */
      uint32_t depth;
      TRY(eng_rd_u32(&c->r, &depth));
      if (depth >= c->nctrls) INVALID("unknown label %u", depth);
      ctrl *L = &c->ctrls[c->nctrls - 1 - depth];
      uint32_t arity = label_arity(L);
      if (opc == 0x0c) {
        TRY(check_vals(c, label_types(L), arity));
        if (L == c->ctrls) {
          emit_return(c);      /* the function's own label */
        } else if (c->live) {
          branch_moves(c, L, arity);
          emit_jump(c, L);
        }
        set_unreachable(c);
        break;
      }
      TRY(pop(c, SHOAL_I32, &p[0], &got));
      TRY(check_vals(c, label_types(L), arity));
      if (!c->live) break;
      if (L == c->ctrls || moves_needed(c, L, arity)) {
        /* skip over the moves when not taken */
        eng_cc_emit_op(c, ENG_OP_BR_UNLESS);
        emit_opnd(c, (uint32_t)p[0]);
        uint32_t skip = c->len;
        eng_cc_emit(c, 0);
        if (L == c->ctrls) {
          emit_return(c);
        } else {
          branch_moves(c, L, arity);
          emit_jump(c, L);
        }
        if (!c->oom) c->code[skip] = (uint32_t)((int32_t)c->len - (int32_t)skip);
        c->label_at = c->len;
        eng_hist_clear(c);
        c->cmp_end = c->patch_end = UINT32_MAX;
      } else {
        uint32_t ccode = 0;
        opword ops[5];
        bool imm = false;
        bool fused = eng_fuse_take_cmp(c, (uint32_t)p[0], &ccode, ops, &imm);
        for (uint32_t i = 0; i < arity; i++) materialize(c, c->nvals - arity + i);
        /* the counter may be the comparison's right operand (n != i): the
        ** condition mirrored then */
        bool swap = false, wide = ccode >= 0x51;
        if (fused && L->op == 0x03 && ccode != 0x45 &&
            (eng_fuse_take_add(c, ops[0], wide, ops + 2) ||
             (!imm && (swap = eng_fuse_take_add(c, ops[1], wide, ops + 2))))) {
          /* d = a + b; br_if (d cond c) back to the loop */
          uint32_t cond = eng_fuse_brc_cond(ccode);
          if (swap) {
            static const uint8_t mirror[10] = {0, 1, 6, 7, 8, 9, 2, 3, 4, 5};   /* ORDER COND */
            cond = cond / 10 * 10 + mirror[cond % 10];
            ops[1] = ops[0];
          }
          bool bimm = ops[4].fix == 3;
          if (bimm) ops[4].fix = 0;
          if (eng_fuse_bump_loop(c, L->target, ops[2], ops[3], ops[4], bimm, ops[1], imm, cond)) {
            c->patch_end = UINT32_MAX;
            break;
          }
          eng_cc_emit_op(c, (eng_op)(ENG_OP_ADDBR_EQ_SS + 4 * cond + (bimm ? 2 : 0) + (imm ? 1 : 0)));
          eng_cc_emit_word(c, ops[2]);
          eng_cc_emit_word(c, ops[3]);
          eng_cc_emit_word(c, ops[4]);
          eng_cc_emit_word(c, ops[1]);
          eng_cc_emit(c, (uint32_t)((int32_t)L->target - (int32_t)c->len));
        } else if (fused) {
          eng_fuse_emit_branch(c, ccode, ops, imm, false, L->op == 0x03);
          if (L->op == 0x03) eng_cc_emit(c, (uint32_t)((int32_t)L->target - (int32_t)c->len));
          else emit_fwd(c, L);
        } else if (L->op == 0x03) {
          eng_cc_emit_op(c, ENG_OP_BR_IF_BACK);
          emit_opnd(c, (uint32_t)p[0]);
          eng_cc_emit(c, (uint32_t)((int32_t)L->target - (int32_t)c->len));
        } else {
          eng_cc_emit_op(c, ENG_OP_BR_IF);
          emit_opnd(c, (uint32_t)p[0]);
          emit_fwd(c, L);
        }
      }
      c->patch_end = UINT32_MAX;
      break;
    }
    case 0x0e: { /* br_table */
      uint32_t n;
      TRY(eng_rd_u32(&c->r, &n));
      if (n > (uint32_t)(c->r.end - c->r.p)) MALFORMED("unexpected end");
      uint32_t *depths = malloc(((size_t)n + 1) * sizeof *depths);
      if (!depths) FAIL(SHOAL_ERR_NOMEM, "out of memory");
      for (uint32_t i = 0; i <= n; i++) {
        err = eng_rd_u32(&c->r, &depths[i]);
        if (!err && depths[i] >= c->nctrls) err = ENG_ERR(c->diag, SHOAL_ERR_INVALID, c->at, "unknown label %u", depths[i]);
        if (err) { free(depths); goto fail; }
      }
      err = pop(c, SHOAL_I32, &p[0], &got);
      if (err) { free(depths); goto fail; }
      const ctrl *D = &c->ctrls[c->nctrls - 1 - depths[n]];
      uint32_t arity = label_arity(D);
      bool moves = false;
      for (uint32_t i = 0; i <= n && !err; i++) {
        const ctrl *L = &c->ctrls[c->nctrls - 1 - depths[i]];
        if (label_arity(L) != arity) {
          err = ENG_ERR(c->diag, SHOAL_ERR_INVALID, c->at, "type mismatch: br_table targets differ in arity");
          break;
        }
        err = check_vals_as(c, label_types(L), arity, true);
        if (c->live && (L == c->ctrls || moves_needed(c, L, arity))) moves = true;
      }
      if (err) { free(depths); goto fail; }
      if (c->live) {
        for (uint32_t i = 0; i < arity; i++) materialize(c, c->nvals - arity + i);
        opword lw[8];
        uint32_t nlw = 0;
        uint16_t brt = eng_fuse_take_load(c, (uint32_t)p[0], lw, &nlw);
        if (brt) {
          eng_cc_emit_op(c, (eng_op)brt);
          for (uint32_t i = 0; i < nlw; i++) eng_cc_emit_word(c, lw[i]);
        } else {
          eng_cc_emit_op(c, ENG_OP_BR_TABLE);
          emit_opnd(c, (uint32_t)p[0]);
        }
        eng_cc_emit(c, n);
        uint32_t tab = c->len;
        for (uint32_t i = 0; i <= n; i++) eng_cc_emit(c, 0);
        for (uint32_t i = 0; i <= n && c->live; i++) {
          ctrl *L = &c->ctrls[c->nctrls - 1 - depths[i]];
          if (moves || L->op == 0x03) {
            /* a stub: moves, then the jump (with its back-edge check) */
            c->code[tab + i] = (uint32_t)((int32_t)c->len - (int32_t)(tab + i));
            c->label_at = c->len;
            if (L == c->ctrls) {
              emit_return(c);
            } else {
              branch_moves(c, L, arity);
              emit_jump(c, L);
            }
          } else {
            c->code[tab + i] = L->fixups;
            L->fixups = tab + i + 1;
          }
        }
      }
      free(depths);
      set_unreachable(c);
      break;
    }
    case 0x0f: { /* return */
      ctrl *F = &c->ctrls[0];
      TRY(check_vals(c, F->results, F->nresults));
      emit_return(c);
      set_unreachable(c);
      break;
    }
    case 0x10: { /* call */
      uint32_t fi;
      TRY(eng_rd_u32(&c->r, &fi));
      if (fi >= m->nfuncs) INVALID("unknown function %u", fi);
      const eng_functype *ft = m->funcs[fi].type;
      if (c->nvals >= ft->nparams)
        for (uint32_t i = c->nvals - ft->nparams; i < c->nvals; i++) materialize(c, i);
      uint32_t base = c->nvals >= ft->nparams ? c->nvals - ft->nparams : 0;
      TRY(do_call(c, ft));
      /* a function of this module runs in this instance and is wasm */
      eng_cc_emit_op(c, fi >= m->nimported_funcs ? ENG_OP_CALL_LOCAL : ENG_OP_CALL);
      eng_cc_emit(c, fi);
      emit_nat(c, (base));
      c->patch_end = UINT32_MAX;
      break;
    }
    case 0x11: { /* call_indirect */
      uint32_t ti, tbl;
      TRY(eng_rd_u32(&c->r, &ti));
      TRY(eng_rd_u32(&c->r, &tbl));
      if (tbl >= m->ntables) INVALID("unknown table %u", tbl);
      if (ti >= m->ntypes) INVALID("unknown type %u", ti);
      if (m->tables[tbl].elem != SHOAL_FUNCREF) INVALID("type mismatch: call_indirect on a table of externref");
      TRY(pop(c, SHOAL_I32, &p[0], &got));
      const eng_functype *ft = &m->types[ti];
      if (c->nvals >= ft->nparams)
        for (uint32_t i = c->nvals - ft->nparams; i < c->nvals; i++) materialize(c, i);
      uint32_t base = c->nvals >= ft->nparams ? c->nvals - ft->nparams : 0;
      /* The index is read before the callee's frame covers its slot. */
      eng_cc_emit_op(c, ENG_OP_CALL_INDIRECT);
      eng_cc_emit(c, ti);
      eng_cc_emit(c, tbl);
      emit_opnd(c, (uint32_t)p[0]);
      emit_nat(c, (base));
      TRY(do_call(c, ft));
      c->patch_end = UINT32_MAX;
      break;
    }
    default:
      goto more;
    }
    continue;
  more:
    switch (code) {
    case 0x1a: /* drop */
      TRY(pop(c, T_UNKNOWN, &p[0], &got));
      break;
    case 0x1b: case 0x1c: { /* select, select t */
      eng_valtype t = T_UNKNOWN;
      if (opc == 0x1c) {
        uint32_t n;
        TRY(eng_rd_u32(&c->r, &n));
        if (n != 1) INVALID("invalid result arity");
        uint8_t b;
        TRY(eng_rd_u8(&c->r, &b));
        if (b == SHOAL_V128) FAIL(SHOAL_ERR_UNSUPPORTED, "SIMD is not supported yet");
        if (!one_type[b]) MALFORMED("malformed value type");
        t = b;
      }
      eng_valtype t1, t2;
      TRY(pop(c, SHOAL_I32, &p[2], &got));
      TRY(pop(c, t, &p[1], &t1));
      TRY(pop(c, t == T_UNKNOWN ? T_UNKNOWN : t, &p[0], &t2));
      if (t == T_UNKNOWN) {
        if ((t1 != T_UNKNOWN && eng_is_ref(t1)) || (t2 != T_UNKNOWN && eng_is_ref(t2)))
          INVALID("type mismatch: select without a type needs numeric operands");
        if (t1 != t2 && t1 != T_UNKNOWN && t2 != T_UNKNOWN)
          INVALID("type mismatch: select operands differ");
        t = t1 == T_UNKNOWN ? t2 : t1;
      }
      uint32_t at = c->nvals;
      if (c->live) {
        eng_cc_emit_op(c, ENG_OP_SELECT);
        uint32_t dpos = c->len;
        emit_nat(c, (at));
        emit_opnd(c, (uint32_t)p[0]);
        emit_opnd(c, (uint32_t)p[1]);
        emit_opnd(c, (uint32_t)p[2]);
        push(c, t);
        patchable(c, dpos, ENG_OP_SELECT);
      } else {
        push(c, t);
      }
      break;
    }
    case 0x20: { /* local.get */
      uint32_t x;
      TRY(local_index(c, &x));
      uint32_t pos = push(c, c->ltypes[x]);
      if (!c->oom) { c->vals[pos].kind = K_LOCAL; c->vals[pos].v = x; }
      c->patch_end = UINT32_MAX;
      break;
    }
    case 0x21: case 0x22: { /* local.set, local.tee */
      uint32_t x;
      TRY(local_index(c, &x));
      TRY(pop(c, c->ltypes[x], &p[0], &got));
      set_local(c, x, (uint32_t)p[0]);
      c->patch_end = UINT32_MAX;
      if (opc == 0x22) {
        uint32_t pos = push(c, c->ltypes[x]);
        if (!c->oom) { c->vals[pos].kind = K_LOCAL; c->vals[pos].v = x; }
      }
      break;
    }
    case 0x23: { /* global.get */
      uint32_t g;
      TRY(eng_rd_u32(&c->r, &g));
      if (g >= m->nglobals) INVALID("unknown global %u", g);
      uint32_t at = c->nvals;
      eng_cc_emit_op(c, ENG_OP_GLOBAL_GET);
      uint32_t dpos = c->len;
      emit_nat(c, (at));
      eng_cc_emit(c, g);
      push(c, m->globals[g].type.type);
      patchable(c, dpos, ENG_OP_GLOBAL_GET);
      break;
    }
    case 0x24: { /* global.set */
      uint32_t g;
      TRY(eng_rd_u32(&c->r, &g));
      if (g >= m->nglobals) INVALID("unknown global %u", g);
      if (!m->globals[g].type.mut) INVALID("global is immutable");
      TRY(pop(c, m->globals[g].type.type, &p[0], &got));
      eng_cc_emit_op(c, ENG_OP_GLOBAL_SET);
      eng_cc_emit(c, g);
      emit_opnd(c, (uint32_t)p[0]);
      break;
    }
    case 0x25: case 0x26: { /* table.get, table.set */
      uint32_t t;
      TRY(eng_rd_u32(&c->r, &t));
      if (t >= m->ntables) INVALID("unknown table %u", t);
      eng_valtype et = m->tables[t].elem;
      if (opc == 0x25) {
        TRY(pop(c, SHOAL_I32, &p[0], &got));
        uint32_t at = c->nvals;
        eng_cc_emit_op(c, ENG_OP_TABLE_GET);
        emit_nat(c, (at));
        eng_cc_emit(c, t);
        emit_opnd(c, (uint32_t)p[0]);
        push(c, et);
      } else {
        eng_valtype ts[2] = {SHOAL_I32, et};
        TRY(pop_n(c, ts, 2, p));
        eng_cc_emit_op(c, ENG_OP_TABLE_SET);
        eng_cc_emit(c, t);
        emit_opnd(c, (uint32_t)p[0]);
        emit_opnd(c, (uint32_t)p[1]);
      }
      break;
    }
    case 0x3f: case 0x40: { /* memory.size, memory.grow */
      TRY(zero_byte(c));
      TRY(need_mem(c));
      if (opc == 0x3f) {
        uint32_t at = c->nvals;
        eng_cc_emit_op(c, ENG_OP_MEMORY_SIZE);
        emit_nat(c, (at));
      } else {
        TRY(pop(c, SHOAL_I32, &p[0], &got));
        uint32_t at = c->nvals;
        eng_cc_emit_op(c, ENG_OP_MEMORY_GROW);
        emit_nat(c, (at));
        emit_opnd(c, (uint32_t)p[0]);
      }
      push(c, SHOAL_I32);
      break;
    }
    case 0x41: case 0x42: case 0x43: case 0x44: { /* constants */
      uint64_t bits;
      eng_valtype t;
      if (opc == 0x41) { int32_t v; TRY(eng_rd_s32(&c->r, &v)); bits = (uint32_t)v; t = SHOAL_I32; }
      else if (opc == 0x42) { int64_t v; TRY(eng_rd_s64(&c->r, &v)); bits = (uint64_t)v; t = SHOAL_I64; }
      else if (opc == 0x43) { uint32_t v; TRY(eng_rd_f32(&c->r, &v)); bits = v; t = SHOAL_F32; }
      else { TRY(eng_rd_f64(&c->r, &bits)); t = SHOAL_F64; }
      uint32_t pos = push(c, t);
      if (c->live && !c->oom) {
        c->vals[pos].kind = K_CONST;
        c->vals[pos].bits = bits;
      }
      c->patch_end = UINT32_MAX;
      break;
    }
    case 0xd0: { /* ref.null */
      eng_valtype t = 0;
      TRY(read_reftype(c, &t));
      uint32_t pos = push(c, t);
      if (c->live && !c->oom) {
        c->vals[pos].kind = K_CONST;
        c->vals[pos].bits = 0;
      }
      break;
    }
    case 0xd1: { /* ref.is_null */
      TRY(pop(c, T_UNKNOWN, &p[0], &got));
      if (got != T_UNKNOWN && !eng_is_ref(got)) INVALID("type mismatch: ref.is_null needs a reference");
      uint32_t at = c->nvals;
      eng_cc_emit_op(c, ENG_OP_I64_EQZ);    /* references are pointers: null is 0 */
      uint32_t dpos = c->len;
      emit_nat(c, (at));
      emit_opnd(c, (uint32_t)p[0]);
      push(c, SHOAL_I32);
      patchable(c, dpos, ENG_OP_I64_EQZ);
      break;
    }
    case 0xd2: { /* ref.func */
      uint32_t fi;
      TRY(eng_rd_u32(&c->r, &fi));
      if (fi >= m->nfuncs) INVALID("unknown function %u", fi);
      if (!m->func_declared || !m->func_declared[fi]) INVALID("undeclared function reference");
      uint32_t at = c->nvals;
      eng_cc_emit_op(c, ENG_OP_REF_FUNC);
      emit_nat(c, (at));
      eng_cc_emit(c, fi);
      push(c, SHOAL_FUNCREF);
      break;
    }
    case 0xfc08: { /* memory.init */
      uint32_t seg;
      TRY(eng_rd_u32(&c->r, &seg));
      TRY(zero_byte(c));
      TRY(need_mem(c));
      if (!m->has_data_count) MALFORMED("data count section required");
      if (seg >= m->data_count) INVALID("unknown data segment %u", seg);
      eng_valtype ts[3] = {SHOAL_I32, SHOAL_I32, SHOAL_I32};
      TRY(pop_n(c, ts, 3, p));
      eng_cc_emit_op(c, ENG_OP_MEMORY_INIT);
      eng_cc_emit(c, seg);
      for (int i = 0; i < 3; i++) emit_opnd(c, (uint32_t)p[i]);
      break;
    }
    case 0xfc09: { /* data.drop */
      uint32_t seg;
      TRY(eng_rd_u32(&c->r, &seg));
      if (!m->has_data_count) MALFORMED("data count section required");
      if (seg >= m->data_count) INVALID("unknown data segment %u", seg);
      eng_cc_emit_op(c, ENG_OP_DATA_DROP);
      eng_cc_emit(c, seg);
      break;
    }
    case 0xfc0a: case 0xfc0b: { /* memory.copy, memory.fill */
      TRY(zero_byte(c));
      if (code == 0xfc0a) TRY(zero_byte(c));
      TRY(need_mem(c));
      eng_valtype ts[3] = {SHOAL_I32, SHOAL_I32, SHOAL_I32};
      TRY(pop_n(c, ts, 3, p));
      emit_with(c, code == 0xfc0a ? ENG_OP_MEMORY_COPY : ENG_OP_MEMORY_FILL, p, 3);
      break;
    }
    case 0xfc0c: { /* table.init */
      uint32_t seg, t;
      TRY(eng_rd_u32(&c->r, &seg));
      TRY(eng_rd_u32(&c->r, &t));
      if (t >= m->ntables) INVALID("unknown table %u", t);
      if (seg >= m->nelems) INVALID("unknown elem segment %u", seg);
      if (m->elems[seg].type != m->tables[t].elem) INVALID("type mismatch: table.init element types differ");
      eng_valtype ts[3] = {SHOAL_I32, SHOAL_I32, SHOAL_I32};
      TRY(pop_n(c, ts, 3, p));
      eng_cc_emit_op(c, ENG_OP_TABLE_INIT);
      eng_cc_emit(c, t);
      eng_cc_emit(c, seg);
      for (int i = 0; i < 3; i++) emit_opnd(c, (uint32_t)p[i]);
      break;
    }
    case 0xfc0d: { /* elem.drop */
      uint32_t seg;
      TRY(eng_rd_u32(&c->r, &seg));
      if (seg >= m->nelems) INVALID("unknown elem segment %u", seg);
      eng_cc_emit_op(c, ENG_OP_ELEM_DROP);
      eng_cc_emit(c, seg);
      break;
    }
    case 0xfc0e: { /* table.copy */
      uint32_t dt, st;
      TRY(eng_rd_u32(&c->r, &dt));
      TRY(eng_rd_u32(&c->r, &st));
      if (dt >= m->ntables) INVALID("unknown table %u", dt);
      if (st >= m->ntables) INVALID("unknown table %u", st);
      if (m->tables[dt].elem != m->tables[st].elem) INVALID("type mismatch: table.copy element types differ");
      eng_valtype ts[3] = {SHOAL_I32, SHOAL_I32, SHOAL_I32};
      TRY(pop_n(c, ts, 3, p));
      eng_cc_emit_op(c, ENG_OP_TABLE_COPY);
      eng_cc_emit(c, dt);
      eng_cc_emit(c, st);
      for (int i = 0; i < 3; i++) emit_opnd(c, (uint32_t)p[i]);
      break;
    }
    case 0xfc0f: case 0xfc10: case 0xfc11: { /* table.grow, table.size, table.fill */
      uint32_t t;
      TRY(eng_rd_u32(&c->r, &t));
      if (t >= m->ntables) INVALID("unknown table %u", t);
      eng_valtype et = m->tables[t].elem;
      if (code == 0xfc0f) {
        eng_valtype ts[2] = {et, SHOAL_I32};
        TRY(pop_n(c, ts, 2, p));
        uint32_t at = c->nvals;
        eng_cc_emit_op(c, ENG_OP_TABLE_GROW);
        emit_nat(c, (at));
        eng_cc_emit(c, t);
        emit_opnd(c, (uint32_t)p[0]);
        emit_opnd(c, (uint32_t)p[1]);
        push(c, SHOAL_I32);
      } else if (code == 0xfc10) {
        uint32_t at = c->nvals;
        eng_cc_emit_op(c, ENG_OP_TABLE_SIZE);
        emit_nat(c, (at));
        eng_cc_emit(c, t);
        push(c, SHOAL_I32);
      } else {
        eng_valtype ts[3] = {SHOAL_I32, et, SHOAL_I32};
        TRY(pop_n(c, ts, 3, p));
        eng_cc_emit_op(c, ENG_OP_TABLE_FILL);
        eng_cc_emit(c, t);
        for (int i = 0; i < 3; i++) emit_opnd(c, (uint32_t)p[i]);
      }
      break;
    }
    default:
      if (code >= 0xfc00) MALFORMED("illegal opcode 0xfc %u", code & 0xff);
      MALFORMED("illegal opcode 0x%02x", code);
    }
  }
  if (c->oom) FAIL(SHOAL_ERR_NOMEM, "out of memory compiling function %u", c->fidx);
  if (c->r.p != c->r.end) MALFORMED("section size mismatch: code after the end of function %u", c->fidx);
fail:
  return err;
}

static shoal_err_t read_locals(cc *c) {
  shoal_err_t err = SHOAL_ERR_OK;
  const eng_functype *ft = c->ft;
  uint32_t ngroups;
  TRY(eng_rd_u32(&c->r, &ngroups));
  /* First pass: count, so the type array is allocated once. */
  eng_reader save = c->r;
  uint64_t total = ft->nparams;
  for (uint32_t i = 0; i < ngroups; i++) {
    uint32_t n;
    uint8_t t;
    TRY(eng_rd_u32(&c->r, &n));
    TRY(eng_rd_u8(&c->r, &t));
    total += n;
    if (total > ENG_MAX_LOCALS) INVALID("too many locals");
    if (t == SHOAL_V128) FAIL(SHOAL_ERR_UNSUPPORTED, "SIMD is not supported yet");
    if (!one_type[t]) MALFORMED("malformed value type 0x%02x", t);
  }
  c->nlocals = (uint32_t)total;
  c->ltypes = malloc(total ? total : 1);
  if (!c->ltypes) FAIL(SHOAL_ERR_NOMEM, "out of memory");
  memcpy(c->ltypes, ft->types, ft->nparams);
  c->r = save;
  uint32_t k = ft->nparams;
  for (uint32_t i = 0; i < ngroups; i++) {
    uint32_t n;
    uint8_t t;
    TRY(eng_rd_u32(&c->r, &n));
    TRY(eng_rd_u8(&c->r, &t));
    memset(c->ltypes + k, t, n);
    k += n;
  }
fail:
  return err;
}

shoal_err_t eng_compile_func(shoal_module_t *m, uint32_t idx, shoal_diag_t *diag) {
  shoal_err_t err = SHOAL_ERR_OK;
  eng_func *fn = &m->funcs[idx];
  cc cs;
  memset(&cs, 0, sizeof cs);
  cc *c = &cs;
  c->m = m;
  c->diag = diag;
  c->fidx = idx;
  c->ft = fn->type;
  c->h = eng_interp_handlers();
  c->r = (eng_reader){m->bytes, fn->body, fn->body + fn->body_len, diag};
  c->at = fn->body_offset;
  c->patch_end = UINT32_MAX;
  c->cmp_end = UINT32_MAX;
  c->st_start = c->st_end = UINT32_MAX;
  c->bump_start = c->bump_end = UINT32_MAX;
  c->mov_end = UINT32_MAX;
  eng_code *code = NULL;

  TRY(read_locals(c));
  /* code takes about two words per byte of body: one allocation up front
  ** instead of a run of doublings, trimmed to size at the end */
  uint32_t guess = fn->body_len < (1u << 20) ? fn->body_len * 2 + 32 : 1u << 21;
  if (!eng_cc_grow((void **)&c->code, &c->cap, sizeof *c->code, guess))
    FAIL(SHOAL_ERR_NOMEM, "out of memory");
  c->entry_written = calloc(c->nlocals ? c->nlocals : 1, 1);
  if (!c->entry_written) FAIL(SHOAL_ERR_NOMEM, "out of memory");
  c->entry = true;
  c->live = true;
  const eng_functype *ft = c->ft;
  if (!push_ctrl(c, 0, NULL, 0, ft->types + ft->nparams, ft->nresults))
    FAIL(SHOAL_ERR_NOMEM, "out of memory");
  TRY(compile_expr(c));

  code = calloc(1, sizeof *code);
  if (!code) FAIL(SHOAL_ERR_NOMEM, "out of memory");
  code->nparams = ft->nparams;
  code->nresults = ft->nresults;
  code->nlocals = c->nlocals;
  /* [params][locals][constants][operand stack] */
  code->const_base = c->nlocals;
  code->nconsts = c->nconsts;
  uint32_t stack_base = c->nlocals + c->nconsts;
  code->frame_slots = stack_base + c->max_height;
  for (uint32_t i = 0; i < c->ncfix; i++) c->code[c->cfix[i]] += code->const_base;
  for (uint32_t i = 0; i < c->nsfix; i++)
    if (c->sfix[i] != UINT32_MAX) c->code[c->sfix[i]] += stack_base;
  eng_fuse_tail_dup(c);
  if (c->len && c->len < c->cap) {
    uint32_t *w = realloc(c->code, c->len * sizeof *c->code);
    if (w) c->code = w;
  }
  code->words = c->code;
  code->nwords = c->len;
  code->consts = c->consts;
  c->code = NULL;
  c->consts = NULL;
  code->ninit = c->nlocals - ft->nparams + c->nconsts;
  code->init = calloc(code->ninit ? code->ninit : 1, sizeof *code->init);
  if (!code->init) FAIL(SHOAL_ERR_NOMEM, "out of memory");
  if (c->nconsts) memcpy(code->init + (c->nlocals - ft->nparams), code->consts, c->nconsts * sizeof *code->init);
  if (!code->nwords) {
    /* an empty emission can only come from a body that starts dead; keep a trap */
    free(code->words);
    code->words = malloc(HW * sizeof *code->words);
    if (!code->words) FAIL(SHOAL_ERR_NOMEM, "out of memory");
    uint64_t a = (uint64_t)(uintptr_t)c->h[ENG_OP_UNREACHABLE];
    code->words[0] = (uint32_t)a;
    code->words[1] = (uint32_t)(a >> 32);
    code->nwords = HW;
  }
  fn->code = code;
  code = NULL;

fail:
  if (err && diag) diag->func = idx;
  eng_code_free(code);
  free(c->ltypes);
  free(c->entry_written);
  free(c->vals);
  free(c->ctrls);
  free(c->code);
  free(c->consts);
  free(c->cfix);
  free(c->sfix);
  free(c->brs);
  return err;
}

void eng_code_free(eng_code *code) {
  if (!code) return;
  free(code->words);
  free(code->consts);
  free(code->init);
  free(code);
}
