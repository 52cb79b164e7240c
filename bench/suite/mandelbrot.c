/* mandelbrot.c - floating point: escape-time iteration (at most 200) over
 * an n x n grid of [-2,1] x [-1.5,1.5]; counts and checksums the
 * iteration counts. */
#include "bench.h"

int main(int argc, char **argv) {
    uint32_t n = bench_size(argc, argv, 400), maxit = 200;
    uint32_t h = BENCH_SEED, inside = 0;
    for (uint32_t y = 0; y < n; y++) {
        double ci = -1.5 + 3.0 * y / n;
        for (uint32_t x = 0; x < n; x++) {
            double cr = -2.0 + 3.0 * x / n, zr = 0, zi = 0;
            uint32_t it = 0;
            while (it < maxit && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                it++;
            }
            if (it == maxit) inside++;
            h = bench_mix(h, it);
        }
    }
    printf("mandelbrot(%u) = %u inside, %08x\n", n, inside, h);
    return 0;
}
