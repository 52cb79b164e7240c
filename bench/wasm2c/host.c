/*
 * host.c - the host for the "wasm2c" peer of bench/run: a benchmark
 * program's NAME.wasm translated to C by wabt's wasm2c (module name
 * "bench") and compiled with gcc -O2 beside this file and wabt's runtime
 * (wasm-rt-impl.c: guard pages on 64-bit hosts). It gives the program the
 * seven WASI calls the benchmarks import, as much of each as they use:
 * arguments, writes to stdout/stderr, exit. Not a WASI implementation.
 */
#include WEX_W2C_HEADER /* the module's, made by wasm2c */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static Z_bench_instance_t inst;
static int g_argc;
static char **g_argv;

#define MEM (inst.w2c_memory.data)

u32 Z_wasi_snapshot_preview1Z_args_sizes_get(struct Z_wasi_snapshot_preview1_instance_t *w,
                                             u32 pcount, u32 psize) {
    (void)w;
    u32 n = (u32)g_argc, size = 0;
    for (int k = 0; k < g_argc; k++)
        size += (u32)strlen(g_argv[k]) + 1;
    memcpy(MEM + pcount, &n, 4);
    memcpy(MEM + psize, &size, 4);
    return 0;
}

u32 Z_wasi_snapshot_preview1Z_args_get(struct Z_wasi_snapshot_preview1_instance_t *w, u32 pv,
                                       u32 pb) {
    (void)w;
    for (int k = 0; k < g_argc; k++) {
        size_t len = strlen(g_argv[k]) + 1;
        memcpy(MEM + pv + 4 * (u32)k, &pb, 4);
        memcpy(MEM + pb, g_argv[k], len);
        pb += (u32)len;
    }
    return 0;
}

u32 Z_wasi_snapshot_preview1Z_fd_close(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd) {
    (void)w;
    (void)fd;
    return 0;
}

/* a character device, no rights needed */
u32 Z_wasi_snapshot_preview1Z_fd_fdstat_get(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd,
                                            u32 p) {
    (void)w;
    (void)fd;
    memset(MEM + p, 0, 24);
    MEM[p] = 2;
    return 0;
}

u32 Z_wasi_snapshot_preview1Z_fd_seek(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd,
                                      u64 off, u32 whence, u32 p) {
    (void)w, (void)fd, (void)off, (void)whence, (void)p;
    return 70; /* ESPIPE */
}

u32 Z_wasi_snapshot_preview1Z_fd_write(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd,
                                       u32 iov, u32 n, u32 pwritten) {
    (void)w;
    u32 total = 0;
    for (u32 k = 0; k < n; k++) {
        u32 base, len;
        memcpy(&base, MEM + iov + 8 * k, 4);
        memcpy(&len, MEM + iov + 8 * k + 4, 4);
        if (write((int)fd, MEM + base, len) != (ssize_t)len) return 29; /* EIO */
        total += len;
    }
    memcpy(MEM + pwritten, &total, 4);
    return 0;
}

void Z_wasi_snapshot_preview1Z_proc_exit(struct Z_wasi_snapshot_preview1_instance_t *w, u32 code) {
    (void)w;
    exit((int)code);
}

int main(int argc, char **argv) {
    g_argc = argc;
    g_argv = argv;
    wasm_rt_init();
    Z_bench_init_module();
    Z_bench_instantiate(&inst, NULL);
    Z_benchZ__start(&inst);
    return 0;
}
