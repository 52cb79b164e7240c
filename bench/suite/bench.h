/*
 * bench.h - what every suite program shares: the size argument and a
 * checksum mixer. Each program is built twice (wasm32-wasi with clang -O2,
 * native with gcc -O2) and must print the same line on both, so everything
 * here uses fixed-width types (long and pointers differ between the two).
 */
#ifndef WEX_BENCH_H
#define WEX_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The size argument: argv[1] if given and positive, else the default. */
static inline uint32_t bench_size(int argc, char **argv, uint32_t dflt) {
    if (argc > 1) {
        long v = strtol(argv[1], NULL, 10);
        if (v > 0) return (uint32_t)v;
    }
    return dflt;
}

/* A small, well-mixed pseudo-random generator (xorshift32): the same stream
 * on every target, so inputs never depend on libc's rand(). */
static inline uint32_t bench_rand(uint32_t *s) {
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Fold a value into a running checksum (FNV-1a over its 4 bytes). */
static inline uint32_t bench_mix(uint32_t h, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        h ^= (v >> (8 * i)) & 0xFF;
        h *= 16777619u;
    }
    return h;
}

#define BENCH_SEED 2166136261u

/*
 * The export build (-DBENCH_EXPORT=SIZE, for engines without WASI such as
 * Debian's wasm-interp): main becomes bench_main, printf folds its text into
 * an FNV-1a hash instead of writing it, and the module exports
 * `bench_export()`, which runs main with SIZE and returns the hash of what
 * it would have printed; bench/run hashes the native output the same way.
 */
#ifdef BENCH_EXPORT
#include <stdarg.h>
#define BENCH_STR_(x) #x
#define BENCH_STR(x)  BENCH_STR_(x)
static uint32_t bench_out_hash = BENCH_SEED;
static int bench_printf(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (int i = 0; i < n && i < (int)sizeof buf - 1; i++) {
        bench_out_hash ^= (uint8_t)buf[i];
        bench_out_hash *= 16777619u;
    }
    return n;
}
#define printf bench_printf
int bench_main(int argc, char **argv);
__attribute__((export_name("bench_export"))) uint32_t bench_export(void) {
    char name[] = "bench", size[] = BENCH_STR(BENCH_EXPORT);
    char *argv[] = {name, size, NULL};
    bench_main(2, argv);
    return bench_out_hash;
}
#define main bench_main
#endif

#endif
