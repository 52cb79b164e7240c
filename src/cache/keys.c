/*
 * keys.c - what the cache keys on: the module hash (SHA-256, libcrypto), the
 * engine id, the process-unique serials of engines and layers; and the
 * checksum artifacts carry.
 */
#include "cache/cache.h"
#include "interp/interp.h"

#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init/Update/Final: see wex__sha256 */
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>

/* SHA-256 through the low-level SHA256_* calls, deprecated in OpenSSL 3 but
 * kept there, rather than EVP: EVP's first use initialises the library (reads
 * openssl.cnf, loads the default provider, registers every algorithm and
 * error string), and its references pull all of libcrypto into the static
 * `wex`. That was over half of `wex run hello.wasm`: 2.2 -> 1.1 ms elapsed,
 * binary 5.4 -> 1.4 MB (bench/RESULTS.md, "Session 3: start-up"). The digest
 * and its speed (SHA-NI code where the CPU has it) are the same. */
void wex__sha256(const void *p, size_t n, uint8_t out[32]) {
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, p, n);
    SHA256_Final(out, &c);
}

void wex_module_hash(const uint8_t *bytes, size_t len, uint8_t out[WEX_CACHE_HASH_SIZE]) {
    wex__sha256(bytes, len, out);
}

/*
 * The checksum of artifact sections: four independent multiply-rotate lanes
 * over 8-byte words (the structure of xxHash64's main loop), so that it runs
 * at memory speed; the tail and the length are folded in at the end. It is
 * for detecting damage, not tampering: whoever can write the cache directory
 * can write anything.
 */
#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull

static inline uint64_t rotl(uint64_t x, int r) {
    return (x << r) | (x >> (64 - r));
}
static inline uint64_t round64(uint64_t acc, uint64_t w) {
    return rotl(acc + w * P2, 31) * P1;
}
static inline uint64_t load64(const uint8_t *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

uint64_t wex__checksum64(const void *data, size_t n, uint64_t seed) {
    const uint8_t *p = data, *end = p + n;
    uint64_t a = seed + P1 + P2, b = seed + P2, c = seed, d = seed - P1;
    while (end - p >= 32) {
        a = round64(a, load64(p));
        b = round64(b, load64(p + 8));
        c = round64(c, load64(p + 16));
        d = round64(d, load64(p + 24));
        p += 32;
    }
    uint64_t h = rotl(a, 1) + rotl(b, 7) + rotl(c, 12) + rotl(d, 18) + (uint64_t)n;
    while (end - p >= 8) {
        h ^= round64(0, load64(p));
        h = rotl(h, 27) * P1 + P4;
        p += 8;
    }
    while (p < end) {
        h ^= (uint64_t)*p++ * P3;
        h = rotl(h, 11) * P1;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

/* The target, as the compiler sees it: the artifact holds host-endian words
 * and host-layout arrays, so it is only valid on the same kind of host. */
#if defined(__x86_64__)
#define WEX__ARCH "x86_64"
#elif defined(__aarch64__)
#define WEX__ARCH "aarch64"
#elif defined(__i386__)
#define WEX__ARCH "i386"
#elif defined(__arm__)
#define WEX__ARCH "arm"
#elif defined(__riscv)
#define WEX__ARCH "riscv"
#else
#define WEX__ARCH "other"
#endif

/*
 * The engine id: SHA-256 of a description of everything that decides what
 * compiled code looks like or how an artifact is laid out, cut to 16 bytes.
 *   - the wex version and the artifact format version;
 *   - the target: architecture, pointer size, byte order (the internal code
 *     is data for the interpreter, so no CPU features beyond these matter);
 *   - WEX__INTERP_FORMAT_VERSION (the internal code's layout), a
 *     fingerprint of the internal instruction set (iop_fingerprint) and the
 *     size of the per-function record the artifact stores as is;
 *   - the engine's settings that are part of compilation: the bounds-check
 *     policy (the native tier's code differs between the two), epoch
 *     checks (code of both tiers has them or not) and the tier;
 *     for the native tier, what its code depends on (wex__native_key: the
 *     calling contract, the compiler's identity, the CPU's features). Call
 *     depth and stack size are checked at run time only, so they are not
 *     part of it.
 */
/* A fingerprint of the internal instruction set: every WebAssembly
 * operator's name, opcode, immediate shape and signature in table order,
 * then the internal operators' names. Adding or reordering an operator
 * renumbers the opcodes in compiled code, so this changes the engine id even
 * if WEX__INTERP_FORMAT_VERSION was not bumped. The X-macro tables become
 * constants at compile time (the strings one literal, NUL-separated), so
 * the fingerprint is three checksums over contiguous memory: about 1 us,
 * where walking the ~700 names one by one took 10-19 us of every engine
 * creation, a measurable part of `wex run`'s start-up. */
static uint64_t iop_fingerprint(void) {
    static const char text[] =
#define WEX__T(name, code, imm, sig) #name "\0" sig "\0"
        WEX__OPCODES(WEX__T)
#undef WEX__T
#define WEX__N(name) #name "\0"
            WEX__IOPS_EXTRA(WEX__N)
#undef WEX__N
        ;
    static const uint32_t shape[] = {
#define WEX__S(name, code, imm, sig) code, WEX__IMM_##imm,
        WEX__OPCODES(WEX__S)
#undef WEX__S
    };
    uint64_t h = wex__checksum64("wex-iops", 8, WEX__IOP_COUNT);
    h = wex__checksum64(shape, sizeof shape, h);
    return wex__checksum64(text, sizeof text, h);
}

void wex__engine_id_compute(wex_bounds_t bounds, bool epochs, const char *native,
                            uint8_t id[WEX__ENGINE_ID_SIZE], char *hex, size_t hexlen) {
    char desc[640];
    int n = snprintf(desc, sizeof desc,
                     "wex %s; artifact %u; arch %s; ptr %u; %s-endian; interp %u; iops %016llx; "
                     "fcode %u; bounds %s;%s %s",
                     WEX_VERSION, WEX__ARTIFACT_VERSION, WEX__ARCH, (unsigned)sizeof(void *),
                     __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? "little" : "big",
                     (unsigned)WEX__INTERP_FORMAT_VERSION, (unsigned long long)iop_fingerprint(),
                     (unsigned)sizeof(wex__fcode),
                     bounds == WEX_BOUNDS_GUARD_PAGES ? "guard" : "explicit",
                     epochs ? " epochs;" : "", native ? native : "interpreter only");
    uint8_t full[32];
    wex__sha256(desc, n > 0 ? (size_t)n : 0, full);
    memcpy(id, full, WEX__ENGINE_ID_SIZE);
    if (hex && hexlen >= 2 * WEX__ENGINE_ID_SIZE + 1) {
        static const char digits[] = "0123456789abcdef"; /* not snprintf: ~1 us of start-up */
        for (int i = 0; i < WEX__ENGINE_ID_SIZE; i++) {
            hex[2 * i] = digits[id[i] >> 4];
            hex[2 * i + 1] = digits[id[i] & 15];
        }
        hex[2 * WEX__ENGINE_ID_SIZE] = 0;
    }
}

/* Live serials: few (one per engine and per thread-local layer), so an
 * array under a mutex; only serial creation, retirement and the sweeps of
 * thread-local tables (after a retirement) take the lock. */
static pthread_mutex_t serial_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t serial_next = 1;
static uint64_t *serial_live;
static size_t serial_n, serial_cap;
static uint64_t retired_gen;

uint64_t wex__cache_serial_new(void) {
    pthread_mutex_lock(&serial_lock);
    uint64_t s = serial_next++;
    if (serial_n == serial_cap) {
        size_t cap = serial_cap ? serial_cap * 2 : 16;
        uint64_t *p = wex__realloc(serial_live, cap * sizeof *p);
        if (!p) {
            /* Not tracked: such a serial reads as retired, so in-memory layers
             * never keep its entries past a sweep. Correct, only slower. */
            pthread_mutex_unlock(&serial_lock);
            return s;
        }
        serial_live = p;
        serial_cap = cap;
    }
    serial_live[serial_n++] = s;
    pthread_mutex_unlock(&serial_lock);
    return s;
}

void wex__cache_serial_retire(uint64_t serial) {
    pthread_mutex_lock(&serial_lock);
    for (size_t i = 0; i < serial_n; i++)
        if (serial_live[i] == serial) {
            serial_live[i] = serial_live[--serial_n];
            break;
        }
    if (serial_n == 0) {
        wex__free(serial_live);
        serial_live = NULL;
        serial_cap = 0;
    }
    __atomic_add_fetch(&retired_gen, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&serial_lock);
}

bool wex__cache_serial_live(uint64_t serial) {
    bool live = false;
    pthread_mutex_lock(&serial_lock);
    for (size_t i = 0; i < serial_n && !live; i++)
        live = serial_live[i] == serial;
    pthread_mutex_unlock(&serial_lock);
    return live;
}

uint64_t wex__cache_retired_gen(void) {
    return __atomic_load_n(&retired_gen, __ATOMIC_ACQUIRE);
}
