/* fib.c - recursion and calls: the doubly recursive Fibonacci. */
#include "bench.h"

static uint32_t fib(uint32_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int main(int argc, char **argv) {
    uint32_t n = bench_size(argc, argv, 30);
    printf("fib(%u) = %u\n", n, fib(n));
    return 0;
}
