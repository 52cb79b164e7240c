/* crc32.c - table-driven CRC-32 (the zlib polynomial), byte at a time and
 * slice-by-4, over an n-KiB buffer, 4 passes. */
#include "bench.h"

static uint32_t T[4][256];

static void init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        T[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 4; t++)
            T[t][i] = T[0][T[t - 1][i] & 0xFF] ^ (T[t - 1][i] >> 8);
}

static uint32_t crc_bytes(uint32_t c, const uint8_t *p, uint32_t n) {
    c = ~c;
    for (uint32_t i = 0; i < n; i++)
        c = T[0][(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return ~c;
}

static uint32_t crc_slice4(uint32_t c, const uint8_t *p, uint32_t n) {
    c = ~c;
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        c ^= (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
             (uint32_t)p[i + 3] << 24;
        c = T[3][c & 0xFF] ^ T[2][(c >> 8) & 0xFF] ^ T[1][(c >> 16) & 0xFF] ^ T[0][c >> 24];
    }
    for (; i < n; i++)
        c = T[0][(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return ~c;
}

int main(int argc, char **argv) {
    uint32_t kib = bench_size(argc, argv, 4096), len = kib * 1024;
    uint8_t *buf = malloc(len);
    if (!buf) return 1;
    init();
    uint32_t r = 4242;
    for (uint32_t i = 0; i < len; i++)
        buf[i] = (uint8_t)bench_rand(&r);
    uint32_t a = 0, b = 0;
    for (int pass = 0; pass < 2; pass++) {
        a = crc_bytes(a, buf, len);
        b = crc_slice4(b, buf, len);
    }
    printf("crc32(%u KiB) = %08x %08x\n", kib, a, b);
    free(buf);
    return a == b ? 0 : 1;
}
