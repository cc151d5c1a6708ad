/* Shared helper of the bench programs: size parameters from argv with defaults. */
#ifndef BENCH_H
#define BENCH_H
#include <stdint.h>
#include <stdlib.h>

/* argv[i] as an integer, or def when absent (sizes are tuned through argv). */
static inline int64_t bench_arg(int argc, char **argv, int i, int64_t def) {
    return i < argc ? (int64_t)strtoll(argv[i], NULL, 10) : def;
}

/* xorshift64: the same pseudo-random stream on every target (no libc rand). */
static inline uint64_t bench_rand(uint64_t *s) {
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}
#endif
