/* Sorting 10M 32-bit integers with a hand-written introsort-style quicksort
   (median of three, insertion sort for short ranges): compares, swaps, recursion. */
#include <inttypes.h>
#include <stdio.h>
#include "bench.h"

static void insertion(int32_t *v, int64_t n) {
    for (int64_t i = 1; i < n; i++) {
        int32_t x = v[i];
        int64_t j = i - 1;
        while (j >= 0 && v[j] > x) { v[j + 1] = v[j]; j--; }
        v[j + 1] = x;
    }
}

static void quicksort(int32_t *v, int64_t n) {
    while (n > 16) {
        int32_t a = v[0], b = v[n / 2], c = v[n - 1];
        int32_t pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        int64_t i = 0, j = n - 1;
        for (;;) {  /* Hoare partition */
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i >= j) break;
            int32_t t = v[i]; v[i] = v[j]; v[j] = t;
            i++; j--;
        }
        /* recurse into the smaller half, loop on the larger: stack depth O(log n) */
        int64_t left = j + 1;
        if (left < n - left) { quicksort(v, left); v += left; n -= left; }
        else { quicksort(v + left, n - left); n = left; }
    }
    insertion(v, n);
}

int main(int argc, char **argv) {
    int64_t n = bench_arg(argc, argv, 1, 10000000);
    int32_t *v = malloc(sizeof *v * (size_t)n);
    if (!v) { puts("out of memory"); return 1; }
    uint64_t seed = 0x2545f4914f6cdd1dull;
    for (int64_t i = 0; i < n; i++) v[i] = (int32_t)(uint32_t)(bench_rand(&seed) >> 16);
    quicksort(v, n);
    uint64_t h = 0;
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i && v[i - 1] > v[i]) bad++;
        h = h * 1000003u + (uint32_t)v[i];
    }
    printf("sort n=%" PRId64 " unsorted=%" PRId64 " min=%" PRId32 " max=%" PRId32 " hash=%016" PRIx64 "\n",
           n, bad, v[0], v[n - 1], h);
    free(v);
    return 0;
}
