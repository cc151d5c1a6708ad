/* malloc/free churn: a pool of live blocks of mixed sizes, replaced at random,
   with occasional realloc growth; every block is written and checked. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "bench.h"

#define SLOTS 4096

int main(int argc, char **argv) {
    uint32_t ops = (uint32_t)bench_arg(argc, argv, 1, 5500000);
    uint8_t *slot[SLOTS] = {0};
    uint32_t size[SLOTS] = {0};
    uint64_t seed = 0x7f4a7c159e3779b9ull, sum = 0, bytes = 0;
    for (uint32_t i = 0; i < ops; i++) {
        uint64_t r = bench_rand(&seed);
        uint32_t k = (uint32_t)(r % SLOTS);
        if (slot[k]) {  /* check the fill pattern, then free or grow */
            sum = sum * 31 + slot[k][0] + slot[k][size[k] - 1];
            if ((r >> 20 & 15) == 0 && size[k] < 65536) {
                uint32_t grown = size[k] * 2 + 16;
                uint8_t *p = realloc(slot[k], grown);
                if (!p) { puts("out of memory"); return 1; }
                memset(p + size[k], (int)(grown & 255), grown - size[k]);
                slot[k] = p; size[k] = grown;
                continue;
            }
            free(slot[k]);
            slot[k] = NULL;
        }
        /* mostly small blocks, some medium, a few large */
        uint32_t cls = (uint32_t)(r >> 12 & 63);
        uint32_t n = cls < 48 ? 8 + (uint32_t)(r >> 24 & 120) : cls < 62 ? 256 + (uint32_t)(r >> 24 & 4095) : 16384 + (uint32_t)(r >> 24 & 65535);
        slot[k] = malloc(n);
        if (!slot[k]) { puts("out of memory"); return 1; }
        size[k] = n;
        slot[k][0] = (uint8_t)i;
        slot[k][n - 1] = (uint8_t)(i >> 8);
        if (n < 256) memset(slot[k] + 1, (int)(i & 255), n - 2);
        bytes += n;
    }
    for (int k = 0; k < SLOTS; k++) free(slot[k]);
    printf("alloc ops=%" PRIu32 " allocated=%" PRIu64 " sum=%016" PRIx64 "\n", ops, bytes, sum);
    return 0;
}
