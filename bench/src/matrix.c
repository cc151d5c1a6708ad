/* Double-precision matrix multiply C = A * B^T as row-by-row dot products (a serial
   floating-point reduction in the inner loop), repeated with feedback. */
#include <stdio.h>
#include "bench.h"

int main(int argc, char **argv) {
    int n = (int)bench_arg(argc, argv, 1, 400);
    int reps = (int)bench_arg(argc, argv, 2, 15);
    double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n),
           *c = malloc(sizeof(double) * n * n);
    if (!a || !b || !c) { puts("out of memory"); return 1; }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            a[i * n + j] = (double)((i * 13 + j * 7) % 23) / 11.0 - 1.0;
            b[i * n + j] = (double)((i * 3 + j * 17) % 19) / 9.0 - 1.0;
        }
    double trace = 0;
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                const double *x = a + i * n, *y = b + j * n;
                double s = 0;
                for (int k = 0; k < n; k++) s += x[k] * y[k];
                c[i * n + j] = s;
            }
        for (int i = 0; i < n; i++) trace += c[i * n + i];
        /* feed the result back so every repetition does different arithmetic */
        for (int i = 0; i < n * n; i++) a[i] = a[i] * 0.5 + c[i] * (1.0 / 1024.0);
    }
    double sum = 0;
    for (int i = 0; i < n * n; i++) sum += c[i] * (double)(i % 7 - 3);
    printf("matrix n=%d reps=%d trace=%.6e sum=%.6e\n", n, reps, trace, sum);
    free(a); free(b); free(c);
    return 0;
}
