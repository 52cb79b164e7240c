/* sort.c - sorting a few megabytes: n (thousands) 32-bit keys, by a
 * quicksort (median of three, insertion sort for short runs) and by a
 * bottom-up merge sort of a copy; both results are checked sorted and equal. */
#include "bench.h"

static void isort(uint32_t *a, int32_t n) {
    for (int32_t i = 1; i < n; i++) {
        uint32_t x = a[i];
        int32_t j = i - 1;
        while (j >= 0 && a[j] > x) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = x;
    }
}

static void qsort32(uint32_t *a, int32_t n) {
    while (n > 16) {
        uint32_t x = a[0], y = a[n / 2], z = a[n - 1];
        uint32_t p = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        int32_t i = 0, j = n - 1;
        for (;;) {
            while (a[i] < p)
                i++;
            while (a[j] > p)
                j--;
            if (i >= j) break;
            uint32_t t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
        if (j + 1 < n - j - 1) { /* recurse on the smaller side */
            qsort32(a, j + 1);
            a += j + 1;
            n -= j + 1;
        } else {
            qsort32(a + j + 1, n - j - 1);
            n = j + 1;
        }
    }
    isort(a, n);
}

static void msort(uint32_t *a, uint32_t *tmp, uint32_t n) {
    for (uint32_t w = 1; w < n; w *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * w) {
            uint32_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
            while (i < mid)
                tmp[k++] = a[i++];
            while (j < hi)
                tmp[k++] = a[j++];
        }
        memcpy(a, tmp, n * sizeof *a);
    }
}

int main(int argc, char **argv) {
    uint32_t n = bench_size(argc, argv, 1024) * 1024;
    uint32_t *a = malloc(n * 4), *b = malloc(n * 4), *tmp = malloc(n * 4);
    if (!a || !b || !tmp) return 1;
    uint32_t r = 2024;
    for (uint32_t i = 0; i < n; i++)
        a[i] = b[i] = bench_rand(&r) % (n * 4);
    qsort32(a, (int32_t)n);
    msort(b, tmp, n);
    int ok = 1;
    uint32_t h = BENCH_SEED;
    for (uint32_t i = 0; i < n; i++) {
        if (a[i] != b[i] || (i && a[i - 1] > a[i])) ok = 0;
        if (i % 64 == 0) h = bench_mix(h, a[i]);
    }
    printf("sort(%u keys) = %08x, %s\n", n, h, ok ? "sorted" : "NOT SORTED");
    free(a);
    free(b);
    free(tmp);
    return ok ? 0 : 1;
}
