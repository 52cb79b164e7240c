/*
 * tables.c - module (d) of the instantiation benchmark: a C program with
 * large static tables (about 1 MiB of initialised data, and a table of
 * function pointers), compiled with clang --target=wasm32-wasi, no libc.
 * `run` reads a few entries, as a request handler would.
 */
#include <stdint.h>

#define H(n)  ((uint32_t)(n)*2654435761u)
#define T1(n) H(n), H(n + 1), H(n + 2), H(n + 3)
#define T2(n) T1(n), T1(n + 4), T1(n + 8), T1(n + 12)
#define T3(n) T2(n), T2(n + 16), T2(n + 32), T2(n + 48)
#define T4(n) T3(n), T3(n + 64), T3(n + 128), T3(n + 192)
#define T5(n) T4(n), T4(n + 256), T4(n + 512), T4(n + 768)
#define T6(n) T5(n), T5(n + 1024), T5(n + 2048), T5(n + 3072)
#define T7(n) T6(n), T6(n + 4096), T6(n + 8192), T6(n + 12288)
#define T8(n) T7(n), T7(n + 16384), T7(n + 32768), T7(n + 49152)

/* 4 x 64 Ki entries x 4 bytes = 1 MiB */
static const uint32_t hash_a[65536] = {T8(1)};
static const uint32_t hash_b[65536] = {T8(65537)};
static uint32_t counts[65536] = {T8(7)};
static const uint32_t hash_c[65536] = {T8(131073)};

static uint32_t op_add(uint32_t a, uint32_t b) {
    return a + b;
}
static uint32_t op_xor(uint32_t a, uint32_t b) {
    return a ^ b;
}
static uint32_t op_mul(uint32_t a, uint32_t b) {
    return a * b;
}
static uint32_t op_rot(uint32_t a, uint32_t b) {
    return (a << (b & 31)) | (a >> ((32 - (b & 31)) & 31));
}
static uint32_t (*const ops[4])(uint32_t, uint32_t) = {op_add, op_xor, op_mul, op_rot};

uint32_t run(void) {
    uint32_t h = 0;
    for (uint32_t i = 0; i < 64; i++) {
        uint32_t k = (h + i * 977) & 65535;
        h = ops[i & 3](h, hash_a[k] ^ hash_b[(k * 31) & 65535] ^ hash_c[(k * 7) & 65535]);
        counts[k]++;
    }
    return h;
}
