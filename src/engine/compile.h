/*
** compile.h: the function compiler's state, shared by compile.c (the
** validating translator) and fuse.c (its instruction-fusing rewrites).
** Internal to the engine.
*/
#ifndef ENG_COMPILE_H
#define ENG_COMPILE_H

#include "code.h"
#include "reader.h"

#define T_UNKNOWN 0
#define NO_POS (-1)

/* Where a value on the compile-time operand stack lives. local.get and
** constants are deferred: the consumer reads the local's or constant's slot
** directly, so they cost no instruction. A deferred value is copied to its
** stack slot ("materialized") only when that slot must hold it: at control
** flow joins, before the local is overwritten, or for call arguments. */
enum { K_STACK, K_LOCAL, K_CONST };

typedef struct cval {
  uint8_t type, kind;
  uint32_t v;               /* local index */
  uint64_t bits;            /* constant value: its slot is made only if needed */
} cval;

typedef struct ctrl {
  uint8_t op;               /* 0x02 block, 0x03 loop, 0x04 if, 0x05 else, 0 function */
  bool unreachable;
  bool dead;                /* opened in unreachable code: nothing is emitted in it */
  uint32_t height;
  uint32_t nparams, nresults;
  const eng_valtype *params, *results;
  uint32_t target;          /* loop: code position of its start */
  uint32_t fixups;          /* forward branches to patch at end: list of positions + 1 */
  uint32_t else_fixup;      /* if: position + 1 of the BR_UNLESS offset */
} ctrl;

#define ENG_HIST 6
typedef struct cc {
  shoal_module_t *m;
  eng_reader r;
  shoal_diag_t *diag;
  uint32_t fidx;
  const eng_functype *ft;
  const void *const *h;
  int64_t at;               /* offset of the instruction being compiled */

  eng_valtype *ltypes; uint32_t nlocals;
  cval *vals; uint32_t nvals, cap_vals, max_height;
  ctrl *ctrls; uint32_t nctrls, cap_ctrls;
  uint32_t *code; uint32_t len, cap;
  uint64_t *consts; uint32_t nconsts, cap_consts;
  uint32_t *cfix; uint32_t ncfix, cap_cfix;   /* positions of constant operands */
  uint32_t *sfix; uint32_t nsfix, cap_sfix;   /* positions of stack-slot operands */
  bool live;
  bool oom;
  /* The last instruction wrote the top stack slot and nothing followed:
  ** a local.set can retarget it (patch_dst) instead of copying. */
  uint32_t patch_end, patch_dst;
  /* The last single-result instructions, latest first, for fusing a
  ** computation into the instruction that uses it. */
  struct { uint32_t start, end; uint16_t op; } hist[ENG_HIST];
  /* Consecutive copies merge into one MOV2/MOV3: where the last copy
  ** instruction starts and ends, how many moves it holds, and the last
  ** position a branch may land on (no merging across it). */
  uint32_t mov_start, mov_end, mov_n, label_at;
  /* The last store, if plain (no folded address), for `*p = v; p += s` */
  uint32_t st_start, st_end;
  uint16_t st_bump;         /* its _BUMP form */
  uint32_t bump_start, bump_end;   /* the last _BUMP store made */
  uint16_t bump_op;
  /* Straight-line code at the function's start: declared locals still
  ** hold the zero the call gave them, unless written (entry_written). */
  bool entry;
  uint8_t *entry_written;
  /* The last instruction was an i32 compare: br_if/if can fuse with it. */
  uint32_t cmp_start, cmp_end, cmp_nsfix, cmp_ncfix;
  uint16_t cmp_code;        /* its wasm opcode */
  bool cmp_imm;
  /* where forward BRs were emitted, for eng_fuse_tail_dup */
  uint32_t *brs; uint32_t nbr, cap_brs;
} cc;


#define HW ENG_HANDLER_WORDS

/* A code word taken back from the emitted code, with how it is relocated
** at the end: 0 not, 1 as a stack slot, 2 as a constant slot. */
typedef struct opword { uint32_t w; uint8_t fix; } opword;

/* compile.c: emission primitives (no-ops in unreachable code). */
bool eng_cc_grow(void **p, uint32_t *cap, size_t elsize, uint32_t need);
/* Emission, inline: it runs for every word of every function compiled,
** which is most of a small program's start-up. */
void eng_cc_emit_grow(cc *c, uint32_t w);
static inline void eng_cc_emit(cc *c, uint32_t w) {
  if (!c->live) return;
  if (eng_likely(c->len < c->cap)) c->code[c->len++] = w;
  else eng_cc_emit_grow(c, w);
}
static inline void eng_cc_emit_op(cc *c, eng_op op) {
  uint64_t a = (uint64_t)(uintptr_t)c->h[op];
  eng_cc_emit(c, (uint32_t)a);
  eng_cc_emit(c, (uint32_t)(a >> 32));
}

void eng_cc_materialize(cc *c, uint32_t pos);

/* fuse.c */
void eng_cc_emit_word(cc *c, opword o);
uint32_t eng_fuse_brc_cond(uint32_t code);
bool eng_fuse_take_cmp(cc *c, uint32_t p, uint32_t *code, opword ops[2], bool *imm);
uint32_t eng_fuse_emit_branch(cc *c, uint32_t code, const opword ops[2], bool imm, bool neg, bool back);
bool eng_fuse_take_add(cc *c, opword left, bool wide, opword out[3]);
int eng_fuse_take_op(cc *c, eng_op op, uint32_t *a, uint32_t *b, opword sx[2]);
bool eng_fuse_take_rotl(cc *c, uint32_t a, opword out[2]);
bool eng_fuse_set_pending(cc *c, uint32_t x, uint32_t pos);
bool eng_fuse_take_addshl(cc *c, uint32_t a, opword out[3]);
bool eng_fuse_take_addimm(cc *c, uint32_t a, opword out[2]);
int eng_fuse_take_fload(cc *c, eng_op op, uint32_t *a, uint32_t *b, opword w[3], uint32_t *nw);
int eng_fuse_take_iload(cc *c, eng_op op, uint32_t *a, uint32_t *b, opword w[5], uint32_t *nw);
uint32_t eng_fuse_take_addr(cc *c, uint32_t p, opword ops[4]);
uint32_t eng_fuse_take_addr_past(cc *c, uint32_t p, uint32_t v, opword ops[4]);
void eng_fuse_canon_addr(cc *c, uint32_t form, const opword *w, uint32_t off, opword out[5]);
int eng_fuse_take_copy(cc *c, uint32_t v, eng_op store, opword src[5]);
uint16_t eng_fuse_take_load(cc *c, uint32_t p, opword w[8], uint32_t *nw);
bool eng_fuse_take_addi(cc *c, opword w[3]);
uint32_t eng_fuse_take_movs(cc *c, opword m[4]);
bool eng_fuse_loop_head_addi(cc *c, uint32_t target, opword w[3]);
void eng_hist_push(cc *c, uint32_t start, uint32_t end, uint16_t op);
void eng_hist_clear(cc *c);
bool eng_fuse_store_bump(cc *c, uint32_t x);
bool eng_fuse_bump_loop(cc *c, uint32_t target, opword d, opword a, opword b, bool bimm, opword cv, bool cimm,
                        uint32_t cond);
uint32_t eng_cc_intern_const(cc *c, uint64_t bits);
void eng_fuse_tail_dup(cc *c);

#endif
