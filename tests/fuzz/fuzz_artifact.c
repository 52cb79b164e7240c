/*
 * fuzz_artifact.c - libFuzzer: damaged compiled-module artifacts.
 *
 * At start-up one valid artifact is made (wex_module_serialize) from a seed
 * module (WEX_FUZZ_ARTIFACT_SEED, the build's cache.wasm by default: memory,
 * active and passive data, globals, a table, call_indirect), and the
 * results of calling its exports are recorded. Each input is an edit of
 * that artifact:
 *   byte 0      bit 0: load with WEX_CACHE_VERIFY_FULL (else FAST);
 *               bit 1: pass the expected module hash;
 *               bit 2: truncate to the length in bytes 1-4 (mod the size)
 *   then 5-byte edits: a 4-byte little-endian offset (mod the size) and a
 *               byte to XOR there (0 becomes 0xFF).
 * The damaged file is loaded. A load must either fail with an error, or
 * succeed; then instantiation must fail with an error or succeed, and every
 * call must give exactly the recorded result, or fail with WEX_ERR_MALFORMED
 * (a function whose code and kept body are both damaged cannot be repaired:
 * src/cache/artifact.c says so). The lazy checks of FAST mode must catch
 * damaged code, data and images before they are used: never a wrong result.
 */
#include "fuzz_common.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef WEX_FUZZ_ARTIFACT_SEED
#define WEX_FUZZ_ARTIFACT_SEED ""
#endif

enum { NARGSETS = 4, MAX_RESULTS = 64 };
static const int32_t argsets[NARGSETS] = {0, 1, 2, 17};

/* One call's outcome: the error code and trap, or the result bits. */
typedef struct {
    int code, trap;
    uint64_t bits[4];
} outcome_t;

static wex_engine_t *engine;
static uint8_t *artifact, *edited;
static size_t artifact_len;
static uint8_t hash[WEX_CACHE_HASH_SIZE];
static char dir[64], path[128];
static outcome_t expected[MAX_RESULTS];
static size_t nexpected;

/* Read a whole file; NULL on failure. */
static uint8_t *slurp(const char *p, size_t *len) {
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Instantiate m in a fresh store and call each exported function with each
 * argument set, recording the outcomes. Returns -1 if instantiation failed
 * with an error, else the number of outcomes. */
static long run_module(const wex_module_t *m, outcome_t *out) {
    wex_store_t *s = wex_store_new(engine);
    size_t n = wex_module_import_count(m);
    wex_extern_t *imports = calloc(n + 1, sizeof *imports);
    wex_functype_t *types = calloc(n + 1, sizeof *types);
    if (!s || !imports || !types) abort();
    wex_instance_t *inst = NULL;
    long k = -1;
    if (!fuzz_stub_imports(s, m, imports, types)) abort(); /* the seed's imports are small */
    wex_error_t *err = wex_instance_new(s, m, imports, n, &inst);
    if (err) {
        wex_error_delete(err);
        goto done;
    }
    k = 0;
    size_t ne = wex_module_export_count(m);
    for (size_t i = 0; i < ne; i++) {
        wex_exportdesc_t d;
        wex_module_export(m, i, &d);
        wex_extern_t ex;
        if (d.kind != WEX_EXTERN_FUNC || !wex_instance_export(inst, d.name, d.name_len, &ex))
            continue;
        wex_functype_t t = wex_func_type(ex.of.func);
        if (t.nparams > 8 || t.nresults > 4) continue;
        for (int a = 0; a < NARGSETS && k < MAX_RESULTS; a++) {
            wex_val_t args[8], res[4];
            for (uint32_t p = 0; p < t.nparams; p++) {
                args[p] = fuzz_zero(t.params[p]);
                if (t.params[p] == WEX_I32) args[p].of.i32 = argsets[a];
                if (t.params[p] == WEX_I64) args[p].of.i64 = argsets[a];
            }
            memset(res, 0, sizeof res);
            outcome_t *o = &out[k++];
            memset(o, 0, sizeof *o);
            err = wex_func_call(s, ex.of.func, args, t.nparams, res, t.nresults);
            if (err) {
                o->code = (int)wex_error_code(err);
                o->trap = (int)wex_error_trap_code(err);
                wex_error_delete(err);
            } else {
                for (uint32_t r = 0; r < t.nresults; r++)
                    o->bits[r] = (uint64_t)res[r].of.i64;
            }
        }
    }
done:
    wex_store_delete(s);
    free(imports);
    free(types);
    return k;
}

/* At exit: remove the temporary artifact and its directory. */
static void cleanup(void) {
    unlink(path);
    rmdir(dir);
}

/* Make the artifact and record what the pristine module does. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *seed = getenv("WEX_FUZZ_ARTIFACT_SEED");
    if (!seed || !*seed) seed = WEX_FUZZ_ARTIFACT_SEED;
    size_t n;
    uint8_t *wasm = *seed ? slurp(seed, &n) : NULL;
    if (!wasm) {
        fprintf(stderr, "fuzz_artifact: cannot read the seed module '%s'\n", seed);
        exit(1);
    }
    engine = fuzz_engine();
    wex_module_t *m = NULL;
    wex_error_t *err = wex_module_new(engine, wasm, n, &m);
    if (err) {
        fprintf(stderr, "fuzz_artifact: seed does not compile: %s\n", wex_error_message(err));
        exit(1);
    }
    wex_module_hash(wasm, n, hash);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/wex-fuzz-art-XXXXXX", tmp && strlen(tmp) < 30 ? tmp : "/tmp");
    if (!mkdtemp(dir)) abort();
    snprintf(path, sizeof path, "%s/a.cwasm", dir);
    atexit(cleanup);
    err = wex_module_serialize(m, path);
    if (err) {
        fprintf(stderr, "fuzz_artifact: serialize: %s\n", wex_error_message(err));
        exit(1);
    }
    artifact = slurp(path, &artifact_len);
    edited = malloc(artifact_len);
    if (!artifact || !edited || artifact_len == 0) abort();
    long k = run_module(m, expected);
    if (k <= 0) abort();
    nexpected = (size_t)k;
    /* the pristine artifact loads and agrees */
    wex_module_t *l = NULL;
    err = wex_module_deserialize_file_ex(engine, path, hash, WEX_CACHE_VERIFY_FULL, &l);
    if (err) {
        fprintf(stderr, "fuzz_artifact: pristine load: %s\n", wex_error_message(err));
        exit(1);
    }
    outcome_t got[MAX_RESULTS];
    if (run_module(l, got) != k || memcmp(got, expected, sizeof(outcome_t) * nexpected)) abort();
    wex_module_delete(l);
    wex_module_delete(m);
    free(wasm);
    fprintf(stderr, "fuzz_artifact: %zu-byte artifact of %s, %zu outcomes; file %s\n", artifact_len,
            seed, nexpected, path);
    return 0;
}

/* Load the edited artifact; check what a successful load does. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t flags = data[0];
    size_t len = artifact_len, pos = 1;
    memcpy(edited, artifact, artifact_len);
    if ((flags & 4) && size >= 5) {
        uint32_t t;
        memcpy(&t, data + 1, 4);
        len = t % artifact_len;
        pos = 5;
    }
    for (; pos + 5 <= size; pos += 5) {
        uint32_t off;
        memcpy(&off, data + pos, 4);
        uint8_t x = data[pos + 4] ? data[pos + 4] : 0xFF;
        edited[off % artifact_len] ^= x;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, edited, len) != (ssize_t)len) abort();
    close(fd);
    wex_module_t *l = NULL;
    wex_cache_verify_t verify = (flags & 1) ? WEX_CACHE_VERIFY_FULL : WEX_CACHE_VERIFY_FAST;
    wex_error_t *err =
        wex_module_deserialize_file_ex(engine, path, (flags & 2) ? hash : NULL, verify, &l);
    if (err) {
        if (l) abort();
        wex_error_delete(err);
        return 0;
    }
    outcome_t got[MAX_RESULTS];
    long k = run_module(l, got);
    bool same = k < 0 || (size_t)k == nexpected;
    for (long i = 0; same && i < k; i++)
        same = !memcmp(&got[i], &expected[i], sizeof got[i]) || got[i].code == WEX_ERR_MALFORMED;
    if (!same) {
        fprintf(stderr, "fuzz_artifact: a damaged artifact loaded and ran differently\n");
        for (long i = 0; i < k && (size_t)i < nexpected; i++)
            if (memcmp(&got[i], &expected[i], sizeof got[i]))
                fprintf(stderr, "  outcome %ld: code %d trap %d bits %llx, expected %d %d %llx\n",
                        i, got[i].code, got[i].trap, (unsigned long long)got[i].bits[0],
                        expected[i].code, expected[i].trap,
                        (unsigned long long)expected[i].bits[0]);
        abort();
    }
    wex_module_delete(l);
    return 0;
}
