/*
 * test_sha256.c - wex's SHA-256 (src/cache/sha256.c): the FIPS 180-4 /
 * NIST example digests, padding at every tail length around the block
 * boundaries, and the SHA-extension code against the portable code.
 */
#include "harness.h"

#include "cache/cache.h"
#include "os/os.h"

static void hex(const uint8_t d[32], char out[65]) {
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Check both implementations of one message against the expected digest. */
static void check_digest(const void *msg, size_t n, const char *want) {
    for (int portable = 0; portable < 2; portable++) {
        uint8_t d[32];
        char h[65];
        wex__sha256_with(msg, n, d, portable);
        hex(d, h);
        if (strcmp(h, want) != 0)
            wex_test_fail(__FILE__, __LINE__, "%zu bytes (%s): %s, want %s", n,
                          portable ? "portable" : "default", h, want);
    }
}

TEST(nist_examples) {
    check_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_digest(m448, strlen(m448),
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    check_digest(m896, strlen(m896),
                 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(million_a) {
    size_t n = 1000000;
    char *m = malloc(n);
    CHECK(m);
    memset(m, 'a', n);
    check_digest(m, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(m);
}

/* Every length from 0 to 300 (tails of 55, 56, 63, 64 bytes and the
 * two-block padding included) and some large ones, from unaligned
 * addresses: the CPU's SHA instructions give what the portable code gives. */
TEST(sha_extensions_match_portable) {
    size_t cap = 70000;
    uint8_t *buf = malloc(cap + 8);
    CHECK(buf);
    uint32_t x = 12345;
    for (size_t i = 0; i < cap + 8; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    size_t big[] = {1000, 4095, 4096, 41938, 65536, 69999};
    for (size_t k = 0; k < 301 + WEX__ARRAY_LEN(big); k++) {
        size_t n = k < 301 ? k : big[k - 301];
        const uint8_t *p = buf + (k % 8);
        uint8_t a[32], b[32];
        wex__sha256_with(p, n, a, false);
        wex__sha256_with(p, n, b, true);
        if (memcmp(a, b, 32) != 0) wex_test_fail(__FILE__, __LINE__, "length %zu differs", n);
    }
    free(buf);
    printf("  (SHA extensions %s on this CPU)\n", wex__os_cpu_has_sha256() ? "used" : "absent");
}
