/* lz77.c - compression: an LZ77-style coder with a hash table of the last
 * position of each 3-byte prefix (window 64 KiB), its decoder, and a check
 * that the round trip gives the input back. Input: generated text-like data
 * with repeats. */
#include "bench.h"

enum { WINDOW = 65535, MINMATCH = 4, MAXMATCH = 255 + MINMATCH, HBITS = 15 };

/* Output: a literal byte is 0x00 + byte; a match is 0x01, len-MINMATCH, dist
 * (2 bytes). Simple, byte-aligned, enough to make the coder do real work. */
static uint32_t compress(const uint8_t *in, uint32_t n, uint8_t *out) {
    static int32_t head[1 << HBITS];
    for (uint32_t i = 0; i < (1u << HBITS); i++)
        head[i] = -1;
    uint32_t i = 0, o = 0;
    while (i < n) {
        uint32_t best = 0, dist = 0;
        if (i + MINMATCH <= n) {
            uint32_t h = ((uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2]) * 2654435761u >>
                         (32 - HBITS);
            int32_t p = head[h];
            head[h] = (int32_t)i;
            if (p >= 0 && i - (uint32_t)p <= WINDOW) {
                uint32_t l = 0, max = n - i < MAXMATCH ? n - i : MAXMATCH;
                while (l < max && in[p + l] == in[i + l])
                    l++;
                if (l >= MINMATCH) best = l, dist = i - (uint32_t)p;
            }
        }
        if (best) {
            out[o++] = 1;
            out[o++] = (uint8_t)(best - MINMATCH);
            out[o++] = (uint8_t)dist;
            out[o++] = (uint8_t)(dist >> 8);
            i += best;
        } else {
            out[o++] = 0;
            out[o++] = in[i++];
        }
    }
    return o;
}

static uint32_t decompress(const uint8_t *in, uint32_t n, uint8_t *out) {
    uint32_t i = 0, o = 0;
    while (i < n) {
        if (in[i] == 0) {
            out[o++] = in[i + 1];
            i += 2;
        } else {
            uint32_t len = in[i + 1] + MINMATCH, dist = in[i + 2] | (uint32_t)in[i + 3] << 8;
            for (uint32_t k = 0; k < len; k++, o++)
                out[o] = out[o - dist];
            i += 4;
        }
    }
    return o;
}

int main(int argc, char **argv) {
    uint32_t kib = bench_size(argc, argv, 2048), n = kib * 1024;
    static const char *words[] = {"the ", "quick ", "brown ", "fox ", "jumps ", "over ",
                                  "lazy ", "dog ", "and ", "runs ", "away ", "again ",
                                  "\n", "wasm ", "interp ", "bench "};
    uint8_t *in = calloc(n, 1), *z = malloc(2 * n + 16), *back = calloc(n, 1);
    if (!in || !z || !back) return 1;
    uint32_t r = 31337, i = 0;
    while (i < n) {
        uint32_t x = bench_rand(&r);
        const char *w = words[x % 16];
        if ((x >> 8) % 31 == 0) { /* noise */
            in[i++] = (uint8_t)(x >> 16);
            continue;
        }
        for (; *w && i < n; w++)
            in[i++] = (uint8_t)*w;
    }
    uint32_t zn = compress(in, n, z);
    uint32_t bn = decompress(z, zn, back);
    int ok = bn == n && memcmp(in, back, n) == 0;
    uint32_t h = BENCH_SEED;
    for (uint32_t k = 0; k < zn; k++)
        h = bench_mix(h, z[k]);
    printf("lz77(%u KiB) = %u bytes, %08x, %s\n", kib, zn, h, ok ? "round trip ok" : "MISMATCH");
    free(in);
    free(z);
    free(back);
    return ok ? 0 : 1;
}
