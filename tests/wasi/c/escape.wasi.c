/* escape.wasi.c - the sandbox escape suite (WASI only: it calls preview1
 * directly, below wasi-libc's own path handling). Run with the host layout
 * made by tests/wasi/run_c.sh: fd 3 = "sandbox" (holding inside.txt and
 * sub/), fd 4 = "other"; "secret.txt" lies next to them, outside both.
 * Every escape attempt must fail; the positive controls must succeed.
 * Prints one line per check and exits 1 if any check went wrong. */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static int bad = 0;

/* Raw imports, to pass pointers that wasi-libc's wrappers would touch. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_create_directory")))
int32_t
raw_path_create_directory(int32_t fd, int32_t path, int32_t len);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open"))) int32_t
raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t len, int32_t oflags, int64_t base,
              int64_t inh, int32_t fdflags, int32_t fd_out);

/* An operation that must fail. */
static void refused(const char *what, __wasi_errno_t e) {
    printf("%s %s (errno %u)\n", e ? "ok refused" : "FAIL allowed", what, (unsigned)e);
    if (!e) bad = 1;
}

/* An operation that must succeed. */
static void allowed(const char *what, __wasi_errno_t e) {
    printf("%s %s (errno %u)\n", e ? "FAIL refused" : "ok allowed", what, (unsigned)e);
    if (e) bad = 1;
}

/* A refused open must also not have produced an fd. */
static void open_refused(const char *path, __wasi_lookupflags_t fl) {
    __wasi_fd_t fd = 0;
    __wasi_errno_t e = __wasi_path_open(3, fl, path, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    char what[256];
    snprintf(what, sizeof what, "open %s%s", path, fl ? " (follow)" : "");
    refused(what, e);
    if (!e) (void)!__wasi_fd_close(fd);
}

int main(void) {
    __wasi_fd_t fd;
    __wasi_filestat_t st;
    allowed("open inside.txt",
            __wasi_path_open(3, 0, "inside.txt", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd));
    allowed("open sub/../inside.txt",
            __wasi_path_open(3, 1, "sub/../inside.txt", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd));
    open_refused("../secret.txt", 1);
    open_refused("/secret.txt", 1);
    open_refused("/etc/passwd", 1);
    open_refused("sub/../../secret.txt", 1);
    open_refused("..", 1);
    open_refused("./../sandbox/inside.txt", 1);

    /* symlinks the guest creates */
    allowed("symlink up -> ../secret.txt", __wasi_path_symlink("../secret.txt", 3, "up"));
    open_refused("up", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW);
    open_refused("up", 0);
    refused("filestat up (follow)",
            __wasi_path_filestat_get(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "up", &st));
    refused("filestat up/ (trailing slash)", __wasi_path_filestat_get(3, 0, "up/", &st));
    refused("set_times up (follow)",
            __wasi_path_filestat_set_times(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "up", 0, 0,
                                           __WASI_FSTFLAGS_MTIM_NOW));
    refused("link up (follow) -> hard",
            __wasi_path_link(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "up", 3, "hard"));
    __wasi_errno_t e = __wasi_path_symlink("/etc/passwd", 3, "abs");
    printf("ok symlink abs -> /etc/passwd: errno %u\n", (unsigned)e);
    open_refused("abs", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW);
    allowed("symlink dotdot -> ..", __wasi_path_symlink("..", 3, "dotdot"));
    open_refused("dotdot/secret.txt", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW);
    open_refused("dotdot/sandbox/inside.txt", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW);
    refused("mkdir dotdot/newdir", __wasi_path_create_directory(3, "dotdot/newdir"));
    refused("mkdir dotdot/", __wasi_path_create_directory(3, "dotdot/"));
    refused("unlink dotdot/secret.txt", __wasi_path_unlink_file(3, "dotdot/secret.txt"));
    refused("filestat dotdot/ (trailing slash)", __wasi_path_filestat_get(3, 0, "dotdot/", &st));
    allowed("symlink sub/deep -> ../../secret.txt",
            __wasi_path_symlink("../../secret.txt", 3, "sub/deep"));
    open_refused("sub/deep", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW);
    allowed("symlink chain1 -> chain2", __wasi_path_symlink("chain2", 3, "chain1"));
    allowed("symlink chain2 -> sub/../../secret.txt",
            __wasi_path_symlink("sub/../../secret.txt", 3, "chain2"));
    open_refused("chain1", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW);

    /* other path calls */
    refused("mkdir ../newdir", __wasi_path_create_directory(3, "../newdir"));
    refused("rename inside.txt -> ../moved.txt",
            __wasi_path_rename(3, "inside.txt", 3, "../moved.txt"));
    refused("rename ../secret.txt -> stolen.txt",
            __wasi_path_rename(3, "../secret.txt", 3, "stolen.txt"));
    refused("rename other/.. -> x", __wasi_path_rename(4, "..", 3, "x"));
    refused("link inside.txt -> ../linked.txt",
            __wasi_path_link(3, 0, "inside.txt", 3, "../linked.txt"));
    refused("link ../secret.txt -> stolen.txt",
            __wasi_path_link(3, 0, "../secret.txt", 3, "stolen.txt"));
    refused("unlink ../secret.txt", __wasi_path_unlink_file(3, "../secret.txt"));
    refused("rmdir ../other", __wasi_path_remove_directory(3, "../other"));
    refused("filestat ../secret.txt", __wasi_path_filestat_get(3, 0, "../secret.txt", &st));
    uint8_t buf[64];
    __wasi_size_t used;
    refused("readlink ../x", __wasi_path_readlink(3, "../x", buf, sizeof buf, &used));
    refused("symlink ../escape", __wasi_path_symlink("inside.txt", 3, "../escape"));

    /* moving between two preopens is allowed: the guest holds both */
    allowed("rename sandbox/sub/f -> other/f",
            __wasi_path_symlink("x", 3, "sub/f") ? 1 : __wasi_path_rename(3, "sub/f", 4, "f"));

    /* descriptors */
    refused("fdstat of fd 1000", __wasi_fd_fdstat_get(1000, &(__wasi_fdstat_t){0}));
    refused("open relative to a file fd", __wasi_path_open(0, 0, "x", 0, 0, 0, 0, &fd));
    __wasi_fd_t f;
    if (__wasi_path_open(3, 0, "inside.txt", 0, __WASI_RIGHTS_FD_READ, 0, 0, &f) == 0) {
        __wasi_ciovec_t io = {(const uint8_t *)"x", 1};
        __wasi_size_t n;
        refused("write without FD_WRITE", __wasi_fd_write(f, &io, 1, &n));
        refused("add rights", __wasi_fd_fdstat_set_rights(f, __WASI_RIGHTS_FD_WRITE, 0));
        (void)!__wasi_fd_close(f);
    }

    /* guest pointers */
    __wasi_size_t n;
    refused("fd_write iovs out of memory",
            __wasi_fd_write(1, (const __wasi_ciovec_t *)0xFFFFFFF8u, 2, &n));
    __wasi_ciovec_t big = {(const uint8_t *)0xFFFFFF00u, 0x1000};
    refused("fd_write buffer out of memory", __wasi_fd_write(1, &big, 1, &n));
    __wasi_ciovec_t ok = {(const uint8_t *)"", 0};
    refused("fd_write huge iovs_len", __wasi_fd_write(1, &ok, 0x20000001u, &n));
    refused("fd_write result out of memory",
            __wasi_fd_write(1, &ok, 1, (__wasi_size_t *)0xFFFFFFFEu));
    refused("random_get wrapping", __wasi_random_get((uint8_t *)0xFFFFFFF0u, 0x20));
    refused("args_get out of memory", __wasi_args_get((uint8_t **)0xFFFFFFFCu, (uint8_t *)0));
    refused("path out of memory", (__wasi_errno_t)raw_path_create_directory(3, -16, 32));
    refused("path length wraps", (__wasi_errno_t)raw_path_create_directory(3, 16, -1));
    refused(
        "path_open fd_out out of memory",
        (__wasi_errno_t)raw_path_open(3, 0, (int32_t)(uintptr_t) "inside.txt", 10, 0, 2, 0, 0, -2));
    printf("%s\n", bad ? "escape suite: FAILED" : "escape suite: all refused");
    return bad;
}
