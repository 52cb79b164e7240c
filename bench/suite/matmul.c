/* matmul.c - dense loops over arrays: C = A * B on n x n doubles, the
 * textbook i-k-j order, then a checksum of C. */
#include "bench.h"

int main(int argc, char **argv) {
    uint32_t n = bench_size(argc, argv, 200);
    double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n);
    double *c = calloc((size_t)n * n, sizeof(double));
    if (!a || !b || !c) return 1;
    uint32_t r = 12345;
    for (uint32_t i = 0; i < n * n; i++) {
        a[i] = (double)(bench_rand(&r) % 1000) / 100.0;
        b[i] = (double)(bench_rand(&r) % 1000) / 100.0;
    }
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < n; k++) {
            double aik = a[i * n + k];
            for (uint32_t j = 0; j < n; j++)
                c[i * n + j] += aik * b[k * n + j];
        }
    double sum = 0;
    for (uint32_t i = 0; i < n * n; i++)
        sum += c[i] * (double)(i % 7 + 1);
    printf("matmul(%u) = %.6f\n", n, sum);
    free(a);
    free(b);
    free(c);
    return 0;
}
