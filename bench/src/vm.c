/* A bytecode-interpreter loop: a register VM (switch dispatch, 32-bit instructions
   with 4-bit register fields and a 16-bit immediate) running a mixed integer program. */
#include <inttypes.h>
#include <stdio.h>
#include "bench.h"

enum { LI, MOV, ADD, SUB, MUL, XOR, AND, MULI, ADDI, SHRI, REMI, LD, ST, JNZ, JLT, HALT };

#define INS(op, a, b, imm) ((uint32_t)(op) | (uint32_t)(a) << 8 | (uint32_t)(b) << 12 | (uint32_t)(uint16_t)(imm) << 16)

static uint32_t run(const uint32_t *code, uint32_t *r, uint32_t *mem) {
    uint32_t pc = 0;
    for (;;) {
        uint32_t ins = code[pc++];
        uint32_t a = ins >> 8 & 15, b = ins >> 12 & 15, imm = ins >> 16;
        switch (ins & 255) {
        case LI: r[a] = imm; break;
        case MOV: r[a] = r[b]; break;
        case ADD: r[a] += r[b]; break;
        case SUB: r[a] -= r[b]; break;
        case MUL: r[a] *= r[b]; break;
        case XOR: r[a] ^= r[b]; break;
        case AND: r[a] &= r[b]; break;
        case MULI: r[a] = r[b] * imm; break;
        case ADDI: r[a] = r[b] + imm; break;
        case SHRI: r[a] = r[b] >> (imm & 31); break;
        case REMI: r[a] = r[b] % imm; break;
        case LD: r[a] = mem[r[b] & 1023]; break;
        case ST: mem[r[b] & 1023] = r[a]; break;
        case JNZ: if (r[a]) pc = imm; break;
        case JLT: if (r[a] < r[b]) pc = imm; break;
        case HALT: return r[2];
        default: return 0;
        }
    }
}

int main(int argc, char **argv) {
    uint32_t n = (uint32_t)bench_arg(argc, argv, 1, 16000000);
    /* r0 = i, r1 = n, r2 = acc, r3/r4/r6 = scratch, r5 = 1023 */
    const uint32_t prog[] = {
        /* 0 */ INS(LI, 5, 0, 1023),
        /* 1 loop: */ INS(MOV, 3, 0, 0),
        /* 2 */ INS(MUL, 3, 0, 0),
        /* 3 */ INS(XOR, 3, 2, 0),
        /* 4 */ INS(MOV, 4, 0, 0),
        /* 5 */ INS(AND, 4, 5, 0),
        /* 6 */ INS(ST, 3, 4, 0),
        /* 7 */ INS(MULI, 4, 0, 7),
        /* 8 */ INS(LD, 3, 4, 0),
        /* 9 */ INS(MULI, 2, 2, 33),
        /* 10 */ INS(ADD, 2, 3, 0),
        /* 11 */ INS(REMI, 6, 0, 13),
        /* 12 */ INS(JNZ, 6, 0, 14),
        /* 13 */ INS(SHRI, 2, 2, 1),
        /* 14 skip: */ INS(ADDI, 0, 0, 1),
        /* 15 */ INS(JLT, 0, 1, 1),
        /* 16 */ INS(HALT, 0, 0, 0),
    };
    uint32_t r[16] = {0}, mem[1024] = {0};
    r[1] = n;
    uint32_t acc = run(prog, r, mem);
    uint32_t msum = 0;
    for (int i = 0; i < 1024; i++) msum = msum * 31 + mem[i];
    printf("vm n=%" PRIu32 " acc=%08" PRIx32 " mem=%08" PRIx32 "\n", n, acc, msum);
    return 0;
}
