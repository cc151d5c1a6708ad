/* Memory-bound loops: STREAM-like copy/scale/add/triad over arrays larger than the
   caches, then a dependent random walk (pointer chasing) through a permutation. */
#include <inttypes.h>
#include <stdio.h>
#include "bench.h"

int main(int argc, char **argv) {
    uint32_t n = (uint32_t)bench_arg(argc, argv, 1, 4000000);
    int reps = (int)bench_arg(argc, argv, 2, 8);
    uint32_t *a = malloc(sizeof *a * n), *b = malloc(sizeof *b * n), *c = malloc(sizeof *c * n);
    if (!a || !b || !c) { puts("out of memory"); return 1; }
    for (uint32_t i = 0; i < n; i++) { a[i] = i; b[i] = i ^ 0x5555u; c[i] = 0; }
    for (int r = 0; r < reps; r++) {
        for (uint32_t i = 0; i < n; i++) c[i] = a[i];                 /* copy  */
        for (uint32_t i = 0; i < n; i++) b[i] = 3 * c[i] + (uint32_t)r; /* scale */
        for (uint32_t i = 0; i < n; i++) c[i] = a[i] + b[i];          /* add   */
        for (uint32_t i = 0; i < n; i++) a[i] = b[i] + 5 * c[i];      /* triad */
    }
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) sum += a[i] ^ (uint64_t)c[i] << 7;

    /* a single cycle through all n slots (Sattolo's shuffle), walked reps times */
    uint64_t seed = 88172645463325252ull;
    for (uint32_t i = 0; i < n; i++) b[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(bench_rand(&seed) % i);
        uint32_t t = b[i]; b[i] = b[j]; b[j] = t;
    }
    uint32_t p = 0;
    uint64_t walk = 0;
    for (int r = 0; r < reps; r++)
        for (uint32_t i = 0; i < n / 8; i++) { p = b[p]; walk = walk * 31 + p; }
    printf("memory n=%" PRIu32 " reps=%d sum=%" PRIu64 " walk=%" PRIu64 "\n", n, reps, sum, walk);
    free(a); free(b); free(c);
    return 0;
}
