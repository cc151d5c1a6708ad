/* Floating point: the Mandelbrot set on a size x size grid, 50 iterations a point,
   folded into a bitmap checksum (tight double arithmetic with an early exit). */
#include <inttypes.h>
#include <stdio.h>
#include "bench.h"

int main(int argc, char **argv) {
    int size = (int)bench_arg(argc, argv, 1, 2700);
    int iters = (int)bench_arg(argc, argv, 2, 50);
    uint64_t inside = 0, hash = 1469598103934665603ull;
    for (int y = 0; y < size; y++) {
        double ci = 2.0 * y / size - 1.0;
        unsigned bits = 0;
        for (int x = 0; x < size; x++) {
            double cr = 2.0 * x / size - 1.5, zr = 0, zi = 0, tr = 0, ti = 0;
            int i = 0;
            for (; i < iters && tr + ti <= 4.0; i++) {
                zi = 2.0 * zr * zi + ci;
                zr = tr - ti + cr;
                tr = zr * zr;
                ti = zi * zi;
            }
            bits = bits << 1 | (i == iters);
            inside += i == iters;
            if ((x & 7) == 7 || x == size - 1) { hash = (hash ^ bits) * 1099511628211ull; bits = 0; }
        }
    }
    printf("mandelbrot size=%d iters=%d inside=%" PRIu64 " hash=%016" PRIx64 "\n", size, iters, inside, hash);
    return 0;
}
