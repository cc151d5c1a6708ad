/* Integer loops: Collatz chain lengths (64-bit, branchy) and a 32-bit mixing loop. */
#include <inttypes.h>
#include <stdio.h>
#include "bench.h"

int main(int argc, char **argv) {
    uint32_t n = (uint32_t)bench_arg(argc, argv, 1, 1400000);
    uint32_t m = (uint32_t)bench_arg(argc, argv, 2, 140000000);
    uint64_t steps = 0;
    uint32_t best = 1, best_len = 0;
    for (uint32_t i = 1; i <= n; i++) {
        uint64_t x = i;
        uint32_t len = 0;
        while (x != 1) {
            x = (x & 1) ? 3 * x + 1 : x >> 1;
            len++;
        }
        steps += len;
        if (len > best_len) { best_len = len; best = i; }
    }
    /* murmur3-style finaliser over a counter: multiplies, shifts, rotates */
    uint32_t h = 0x9747b28cu;
    for (uint32_t i = 0; i < m; i++) {
        uint32_t k = i * 0xcc9e2d51u;
        k = (k << 15) | (k >> 17);
        h ^= k * 0x1b873593u;
        h = ((h << 13) | (h >> 19)) * 5 + 0xe6546b64u;
    }
    h ^= h >> 16; h *= 0x85ebca6bu; h ^= h >> 13;
    printf("intloop n=%" PRIu32 " steps=%" PRIu64 " longest=%" PRIu32 " (%" PRIu32 ") m=%" PRIu32
           " hash=%08" PRIx32 "\n", n, steps, best, best_len, m, h);
    return 0;
}
