/* stencil.c - a 2-D five-point Jacobi relaxation on an n x n float grid,
 * 50 sweeps between two buffers; fixed borders. */
#include "bench.h"

int main(int argc, char **argv) {
    uint32_t n = bench_size(argc, argv, 400), steps = 50;
    float *u = malloc(sizeof(float) * n * n), *v = malloc(sizeof(float) * n * n);
    if (!u || !v) return 1;
    uint32_t r = 777;
    for (uint32_t i = 0; i < n * n; i++)
        u[i] = v[i] = (float)(bench_rand(&r) % 256);
    for (uint32_t s = 0; s < steps; s++) {
        for (uint32_t i = 1; i + 1 < n; i++)
            for (uint32_t j = 1; j + 1 < n; j++) {
                uint32_t k = i * n + j;
                v[k] = 0.2f * (u[k] + u[k - 1] + u[k + 1] + u[k - n] + u[k + n]);
            }
        float *t = u;
        u = v;
        v = t;
    }
    uint32_t h = BENCH_SEED;
    for (uint32_t i = 0; i < n * n; i++)
        h = bench_mix(h, (uint32_t)(u[i] * 1000.0f));
    printf("stencil(%u) = %08x\n", n, h);
    free(u);
    free(v);
    return 0;
}
