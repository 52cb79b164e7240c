/*
 * test_wasi.c - the WASI embedding API (wex_wasi.h): linking, captured
 * stdout, in-memory stdin, arguments, proc_exit, and link errors; and the
 * descriptor table under wasi-threads (wasi/wasi_internal.h).
 */
#include "harness.h"
#include "wasi/wasi_internal.h"
#include "wex.h"
#include "wex_wasi.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

TEST(echo_captured) {
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("wasi_echo.wasm", &len);
    wex_engine_t *engine = wex_engine_new(NULL);
    wex_module_t *module = NULL;
    CHECK(!wex_module_new(engine, bytes, len, &module));
    CHECK(wex_wasi_module_uses_wasi(module));
    wex_wasi_config_t *cfg = wex_wasi_config_new();
    CHECK(wex_wasi_config_arg(cfg, "echo"));
    CHECK(wex_wasi_config_arg(cfg, "hello"));
    CHECK(wex_wasi_config_stdin_bytes(cfg, "from stdin, longer than one read", 32));
    CHECK(wex_wasi_config_capture(cfg, 1));
    wex_wasi_t *wasi = NULL;
    CHECK(!wex_wasi_new(cfg, &wasi));
    wex_store_t *store = wex_store_new(engine);
    size_t n = wex_module_import_count(module);
    wex_extern_t *imports = calloc(n, sizeof *imports);
    CHECK(!wex_wasi_link(wasi, store, module, imports));
    wex_instance_t *inst = NULL;
    CHECK(!wex_instance_new(store, module, imports, n, &inst));
    CHECK(!wex_wasi_bind_memory(wasi, inst));
    int code = -1;
    CHECK(!wex_wasi_run_start(wasi, store, inst, &code));
    CHECK_EQ_INT(code, 5);
    size_t olen = 0;
    const uint8_t *out = wex_wasi_captured(wasi, 1, &olen);
    const char *want = "arg:hello\nfrom stdin, longer than one read";
    CHECK_EQ_INT(olen, strlen(want));
    CHECK(memcmp(out, want, olen) == 0);
    free(imports);
    wex_store_delete(store);
    wex_wasi_delete(wasi);
    wex_module_delete(module);
    wex_engine_delete(engine);
    free(bytes);
}

TEST(unknown_function_named) {
    size_t len;
    uint8_t *bytes = wex_test_read_wasm("wasi_unknown.wasm", &len);
    wex_engine_t *engine = wex_engine_new(NULL);
    wex_module_t *module = NULL;
    CHECK(!wex_module_new(engine, bytes, len, &module));
    wex_wasi_t *wasi = NULL;
    CHECK(!wex_wasi_new(wex_wasi_config_new(), &wasi));
    wex_store_t *store = wex_store_new(engine);
    wex_extern_t imports[1];
    wex_error_t *err = wex_wasi_link(wasi, store, module, imports);
    CHECK(err);
    CHECK_EQ_INT(wex_error_code(err), WEX_ERR_UNLINKABLE);
    CHECK_STR_CONTAINS(wex_error_message(err), "no_such_function");
    wex_error_delete(err);
    wex_store_delete(store);
    wex_wasi_delete(wasi);
    wex_module_delete(module);
    wex_engine_delete(engine);
    free(bytes);
}

TEST(bad_preopen_fails) {
    wex_wasi_config_t *cfg = wex_wasi_config_new();
    CHECK(wex_wasi_config_preopen(cfg, "/nonexistent/wex-test-dir", "/"));
    wex_wasi_t *wasi = NULL;
    wex_error_t *err = wex_wasi_new(cfg, &wasi);
    CHECK(err && !wasi);
    CHECK_STR_CONTAINS(wex_error_message(err), "wex-test-dir");
    wex_error_delete(err);
}

/* A thread blocked in fd_read on guest fd 0 (a pipe). */
typedef struct {
    wex_wasi_t *wasi;
    uint32_t result;
    int done; /* atomic */
} reader_t;

static void *read_fd0(void *arg) {
    reader_t *r = arg;
    /* iovec at 0: 16 bytes at 64; nread at 32 */
    wex_val_t a[4] = {wex_val_i32(0), wex_val_i32(0), wex_val_i32(1), wex_val_i32(32)};
    r->result = wex__wasi_fd_read(r->wasi, a);
    __atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* fd_close (and fd_renumber onto it) in one thread while another is blocked
 * in read() on the fd: the table entry goes at once, but the host fd stays
 * open, and its number unused, until the read returns; then it is closed. */
static void close_under_reader(bool renumber) {
    int p[2];
    CHECK(pipe(p) == 0);
    wex_wasi_config_t *cfg = wex_wasi_config_new();
    CHECK(wex_wasi_config_inherit_stdio(cfg, 0, p[0]));
    CHECK(wex_wasi_config_capture(cfg, 1));
    wex_wasi_t *wasi = NULL;
    CHECK(!wex_wasi_new(cfg, &wasi));
    close(p[0]);
    wex_engine_t *engine = wex_engine_new(NULL);
    wex_store_t *store = wex_store_new(engine);
    wex_memory_t *mem = NULL;
    CHECK(!wex_memory_new(store, (wex_limits_t){.min = 1}, &mem));
    uint8_t *m = wex_memory_data(mem);
    wex__wasi_st32(m, 64);
    wex__wasi_st32(m + 4, 16);
    wex_wasi_set_memory(wasi, mem);
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    wasi->lock = &lock; /* as wasi-threads sets it */
    int host = wasi->fds[0].host;
    CHECK(host >= 0);

    reader_t r = {.wasi = wasi};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, read_fd0, &r) == 0);
    struct timespec ms100 = {0, 100 * 1000 * 1000};
    nanosleep(&ms100, NULL); /* the reader is in read() by now */
    CHECK(!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE));
    if (renumber) {
        wex_val_t a[2] = {wex_val_i32(1), wex_val_i32(0)}; /* stdout onto fd 0 */
        CHECK_EQ_INT(wex__wasi_fd_renumber(wasi, a), 0);
        CHECK(wasi->fds[0].used && wasi->fds[0].host < 0);
    } else {
        wex_val_t a[1] = {wex_val_i32(0)};
        CHECK_EQ_INT(wex__wasi_fd_close(wasi, a), 0);
        CHECK(!wasi->fds[0].used);
        CHECK_EQ_INT(wex__wasi_fd_close(wasi, a), 8); /* EBADF */
    }
    /* Still open under the reader: a new open cannot get its number. */
    CHECK(fcntl(host, F_GETFD) >= 0);
    int other = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(other >= 0 && other != host);
    close(other);
    CHECK(write(p[1], "x", 1) == 1);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_EQ_INT(r.result, 0);
    CHECK_EQ_INT(wex__wasi_ld32(m + 32), 1);
    CHECK_EQ_INT(m[64], 'x');
    /* The reader's was the last reference: closed now. */
    errno = 0;
    CHECK(fcntl(host, F_GETFD) < 0 && errno == EBADF);
    close(p[1]);
    wasi->lock = NULL;
    wex_store_delete(store);
    wex_engine_delete(engine);
    wex_wasi_delete(wasi);
}

TEST(fd_close_under_a_blocked_read_keeps_the_host_fd) {
    close_under_reader(false);
}

TEST(fd_renumber_under_a_blocked_read_keeps_the_host_fd) {
    close_under_reader(true);
}

/* path_open with oflags DIRECTORY: with the read right (or none) it opens
 * the directory, a directory fd without write rights; with FD_WRITE among
 * the base rights it fails with EISDIR, as the WASI testsuite's
 * rust/path_open_preopen requires (and wasmtime does); a regular file asked
 * for as a directory is ENOTDIR. */
TEST(path_open_directory_rights) {
    char dir[] = "/tmp/wex-test-wasi-XXXXXX";
    CHECK(mkdtemp(dir));
    char sub[64], file[64];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    snprintf(file, sizeof file, "%s/file", dir);
    CHECK(mkdir(sub, 0755) == 0);
    int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    close(fd);
    wex_wasi_config_t *cfg = wex_wasi_config_new();
    CHECK(wex_wasi_config_preopen(cfg, dir, "/"));
    wex_wasi_t *wasi = NULL;
    CHECK(!wex_wasi_new(cfg, &wasi));
    wex_engine_t *engine = wex_engine_new(NULL);
    wex_store_t *store = wex_store_new(engine);
    wex_memory_t *mem = NULL;
    CHECK(!wex_memory_new(store, (wex_limits_t){.min = 1}, &mem));
    uint8_t *m = wex_memory_data(mem);
    memcpy(m + 100, "sub", 3);
    memcpy(m + 200, "file", 4);
    wex_wasi_set_memory(wasi, mem);
    uint64_t base = WEX__R_FD_READ | WEX__R_FD_READDIR | WEX__R_PATH_OPEN;
    /* path_open(fd 3, dirflags, path, len, oflags DIRECTORY, base, inh, fdflags, fd_out at 0) */
    wex_val_t a[9] = {wex_val_i32(3), wex_val_i32(1), wex_val_i32(100),
                      wex_val_i32(3), wex_val_i32(2), wex_val_i64((int64_t)base),
                      wex_val_i64(0), wex_val_i32(0), wex_val_i32(0)};
    CHECK_EQ_INT(wex__wasi_path_open(wasi, a), 0);
    uint32_t nfd = wex__wasi_ld32(m);
    CHECK(nfd < wasi->nfds && wasi->fds[nfd].used);
    CHECK_EQ_INT(wasi->fds[nfd].filetype, WEX__FT_DIR);
    CHECK(wasi->fds[nfd].base & WEX__R_FD_READDIR);
    a[5] = wex_val_i64((int64_t)(base | WEX__R_FD_WRITE));
    CHECK_EQ_INT(wex__wasi_path_open(wasi, a), 31); /* EISDIR */
    a[5] = wex_val_i64((int64_t)base);
    a[2] = wex_val_i32(200);
    a[3] = wex_val_i32(4);
    CHECK_EQ_INT(wex__wasi_path_open(wasi, a), 54); /* ENOTDIR */
    wex_store_delete(store);
    wex_engine_delete(engine);
    wex_wasi_delete(wasi);
    unlink(file);
    rmdir(sub);
    rmdir(dir);
}
