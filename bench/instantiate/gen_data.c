/*
 * gen_data.c - writes module (c) of the instantiation benchmark: a memory of
 * 256 pages (16 MiB) filled by 256 active data segments of 64 KiB each, with
 * a pattern (no zero runs), and an exported `memory`. Generated at build
 * time so that no large binary is committed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void uleb(FILE *f, uint32_t v) {
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        if (v) b |= 0x80;
        fputc(b, f);
    } while (v);
}

static void sleb(FILE *f, int32_t v) {
    for (;;) {
        uint8_t b = v & 0x7F;
        v >>= 7;
        if ((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40))) {
            fputc(b, f);
            return;
        }
        fputc(b | 0x80, f);
    }
}

static unsigned uleb_len(uint32_t v) {
    unsigned n = 1;
    while (v >>= 7)
        n++;
    return n;
}
static unsigned sleb_len(int32_t v) {
    unsigned n = 1;
    for (;;) {
        uint8_t b = v & 0x7F;
        v >>= 7;
        if ((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40))) return n;
        n++;
    }
}

enum { PAGES = 256, SEG = 65536, NSEG = 256 };

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT.wasm\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "wb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fwrite("\0asm\1\0\0\0", 1, 8, f);
    /* memory section: one memory, min = max = 256 pages */
    fputc(5, f);
    uleb(f, 1 + 1 + uleb_len(PAGES) * 2);
    fputc(1, f);
    fputc(1, f);
    uleb(f, PAGES);
    uleb(f, PAGES);
    /* export section: "memory" */
    fputc(7, f);
    uleb(f, 1 + 1 + 6 + 1 + 1);
    fputc(1, f);
    fputc(6, f);
    fwrite("memory", 1, 6, f);
    fputc(2, f);
    fputc(0, f);
    /* data section */
    uint32_t size = uleb_len(NSEG);
    for (uint32_t i = 0; i < NSEG; i++)
        size += 1 + 1 + sleb_len((int32_t)(i * SEG)) + 1 + uleb_len(SEG) + SEG;
    fputc(11, f);
    uleb(f, size);
    uleb(f, NSEG);
    uint8_t *buf = malloc(SEG);
    if (!buf) return 1;
    for (uint32_t i = 0; i < NSEG; i++) {
        fputc(0, f); /* active, memory 0 */
        fputc(0x41, f);
        sleb(f, (int32_t)(i * SEG));
        fputc(0x0B, f);
        uleb(f, SEG);
        for (uint32_t j = 0; j < SEG; j++)
            buf[j] = (uint8_t)(1 + (i * 7 + j) % 255);
        fwrite(buf, 1, SEG, f);
    }
    free(buf);
    if (fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
