/* Recursive calls: Takeuchi's tak (3 arguments, deep call trees) and Ackermann. */
#include <stdio.h>
#include "bench.h"

static int tak(int x, int y, int z) {
    if (y >= x) return z;
    return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y));
}

static unsigned ack(unsigned m, unsigned n) {
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

int main(int argc, char **argv) {
    int reps = (int)bench_arg(argc, argv, 1, 85);
    unsigned an = (unsigned)bench_arg(argc, argv, 2, 10);
    int tx = (int)bench_arg(argc, argv, 3, 24);
    unsigned sum = 0;
    for (int r = 0; r < reps; r++) sum = sum * 31 + (unsigned)tak(tx + r % 3, 16, 8);
    unsigned a = ack(3, an);
    printf("recursion reps=%d x=%d tak=%u ack(3,%u)=%u\n", reps, tx, sum, an, a);
    return 0;
}
