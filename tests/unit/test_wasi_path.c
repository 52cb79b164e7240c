/*
 * test_wasi_path.c - the WASI sandbox's path resolution against a racing
 * host: while the guest calls every path_* function on "dir/NAME" beneath
 * its preopen, a thread swaps "dir" with a symlink to a directory outside
 * (renameat2 RENAME_EXCHANGE, in a loop). Nothing outside may be created,
 * deleted, moved, re-timed or have its metadata read, with openat2 and with
 * the fallback walk (WEX_WASI_NO_OPENAT2=1). Each mode runs for a bounded
 * time and number of rounds; set WEX_TEST_VERBOSE to see the counts.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "wex.h"
#include "wex_wasi.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The outside twins of the guest's files are told apart by these. */
#define SECRET_SIZE  7777
#define INSIDE_SIZE  5
#define SECRET_MTIME 1000000000
#define OUT_TARGET   "outside-target-xyz"
#define IN_TARGET    "in"
/* Stop after this long (the walk, the mode that had the hole, gets more) or
 * this many rounds of every call. The old walk lost the race 20 to 60 times
 * a second on an idle machine, a few times a second on a loaded one. */
#define RACE_NS_WALK    3000000000LL
#define RACE_NS_OPENAT2 1000000000LL
#define RACE_ROUNDS     40000

/* The tree: ROOT/box (the preopen) holding dir/ (the real directory) and
 * lnk -> ROOT/out (absolute), swapped with each other; ROOT/out outside. */
typedef struct {
    char root[PATH_MAX];
    int box, real, out; /* directory fds; real follows dir wherever it moves */
    ino_t real_ino, out_ino, secret_ino;
} layout_t;

/* Create (or leave) a file of `size` bytes in dfd, never through a link. */
static void put_file(int dfd, const char *name, size_t size) {
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, (off_t)size) == 0);
    close(fd);
}

/* Does dfd hold `name` (a link counts as itself)? */
static bool exists(int dfd, const char *name) {
    struct stat st;
    return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The same names inside dir and outside, told apart by size and targets. */
static void populate(int dfd, bool outside) {
    put_file(dfd, "secret", outside ? SECRET_SIZE : INSIDE_SIZE);
    CHECK(mkdirat(dfd, "victimdir", 0755) == 0);
    put_file(dfd, "mvsrc", 1);
    put_file(dfd, "victim", 1);
    CHECK(symlinkat(outside ? OUT_TARGET : IN_TARGET, dfd, "slink") == 0);
}

/* Open a directory of the layout. */
static int open_dir(const char *root, const char *sub) {
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/%s", root, sub);
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(fd >= 0);
    return fd;
}

/* Build the tree in a fresh temporary directory. */
static void make_layout(layout_t *L) {
    const char *tmp = getenv("TMPDIR");
    snprintf(L->root, sizeof L->root, "%s/wex-path-race.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    CHECK(mkdtemp(L->root));
    int rfd = open_dir(L->root, ".");
    CHECK(mkdirat(rfd, "box", 0755) == 0 && mkdirat(rfd, "out", 0755) == 0);
    close(rfd);
    L->box = open_dir(L->root, "box");
    L->out = open_dir(L->root, "out");
    CHECK(mkdirat(L->box, "dir", 0755) == 0);
    L->real = open_dir(L->root, "box/dir");
    populate(L->real, false);
    populate(L->out, true);
    put_file(L->box, "plain", 1);
    char target[PATH_MAX + 8];
    snprintf(target, sizeof target, "%s/out", L->root);
    CHECK(symlinkat(target, L->box, "lnk") == 0);
    struct timespec ts[2] = {{SECRET_MTIME, 0}, {SECRET_MTIME, 0}};
    CHECK(utimensat(L->out, "secret", ts, AT_SYMLINK_NOFOLLOW) == 0);
    struct stat st;
    CHECK(fstat(L->real, &st) == 0);
    L->real_ino = st.st_ino;
    CHECK(fstat(L->out, &st) == 0);
    L->out_ino = st.st_ino;
    CHECK(fstatat(L->out, "secret", &st, AT_SYMLINK_NOFOLLOW) == 0);
    L->secret_ino = st.st_ino;
}

/* nftw callback: remove one entry (children come first). */
static int rm_one(const char *path, const struct stat *st, int type, struct FTW *f) {
    (void)st, (void)f;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove the tree. */
static void free_layout(layout_t *L) {
    close(L->box);
    close(L->real);
    close(L->out);
    CHECK(nftw(L->root, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0);
}

/* The swapping host. */
static atomic_bool stop;
static atomic_long swaps;

/* Swap box/dir and box/lnk until told to stop; where the file system lacks
 * RENAME_EXCHANGE, rename them round through a third name instead. */
static void *swapper(void *arg) {
    layout_t *L = arg;
    bool exchange = true;
    while (!atomic_load(&stop)) {
        if (exchange) {
            if (renameat2(L->box, "dir", L->box, "lnk", RENAME_EXCHANGE) == 0) {
                atomic_fetch_add(&swaps, 1);
                continue;
            }
            if (errno != EINVAL && errno != ENOSYS) continue;
            exchange = false;
        }
        if (renameat(L->box, "dir", L->box, "tmp") == 0 &&
            renameat(L->box, "lnk", L->box, "dir") == 0 &&
            renameat(L->box, "dir", L->box, "lnk") == 0 &&
            renameat(L->box, "tmp", L->box, "dir") == 0)
            atomic_fetch_add(&swaps, 1);
    }
    return NULL;
}

/* After a call: did it escape (r is what the call returned)? Each check also
 * puts back what the call changed, inside and outside. */
typedef bool (*check_fn)(layout_t *L, int64_t r);

/* A directory or file `name` must not exist outside; remove it everywhere. */
static bool gone_out(layout_t *L, const char *name, int flag) {
    bool esc = exists(L->out, name);
    unlinkat(L->out, name, flag);
    unlinkat(L->real, name, flag);
    return esc;
}

/* `name` must still exist outside; put it back everywhere. */
static bool kept_out(layout_t *L, const char *name, bool dir) {
    bool esc = !exists(L->out, name);
    int fds[2] = {L->out, L->real};
    for (int i = 0; i < 2; i++) {
        if (exists(fds[i], name)) continue;
        if (dir)
            CHECK(mkdirat(fds[i], name, 0755) == 0);
        else
            put_file(fds[i], name, 1);
    }
    return esc;
}

/* path_create_directory */
static bool ck_mkdir(layout_t *L, int64_t r) {
    (void)r;
    return gone_out(L, "mk", AT_REMOVEDIR);
}

/* Reads of the secret: its size must never be seen. */
static bool ck_size(layout_t *L, int64_t r) {
    (void)L;
    return r == SECRET_SIZE;
}

/* Stat of "dir/": the outside directory's inode must never be seen. */
static bool ck_ino(layout_t *L, int64_t r) {
    return (uint64_t)r == (uint64_t)L->out_ino;
}

/* path_filestat_set_times: the secret keeps its time. */
static bool ck_times(layout_t *L, int64_t r) {
    (void)r;
    struct stat st;
    CHECK(fstatat(L->out, "secret", &st, AT_SYMLINK_NOFOLLOW) == 0);
    if (st.st_mtim.tv_sec == SECRET_MTIME && st.st_atim.tv_sec == SECRET_MTIME) return false;
    struct timespec ts[2] = {{SECRET_MTIME, 0}, {SECRET_MTIME, 0}};
    CHECK(utimensat(L->out, "secret", ts, AT_SYMLINK_NOFOLLOW) == 0);
    return true;
}

/* path_link plain -> dir/planted */
static bool ck_link_into(layout_t *L, int64_t r) {
    (void)r;
    return gone_out(L, "planted", 0);
}

/* path_link dir/secret -> grab: grab must not be the outside secret. */
static bool ck_link_from(layout_t *L, int64_t r) {
    (void)r;
    struct stat st;
    bool esc = fstatat(L->box, "grab", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_ino == L->secret_ino;
    unlinkat(L->box, "grab", 0);
    return esc;
}

/* path_open O_CREAT dir/created */
static bool ck_create(layout_t *L, int64_t r) {
    (void)r;
    return gone_out(L, "created", 0);
}

/* path_readlink dir/slink: never the outside link's target. */
static bool ck_readlink(layout_t *L, int64_t r) {
    (void)L;
    return r == (int64_t)strlen(OUT_TARGET);
}

/* path_remove_directory dir/victimdir */
static bool ck_rmdir(layout_t *L, int64_t r) {
    (void)r;
    return kept_out(L, "victimdir", true);
}

/* path_rename dir/mvsrc -> dir/mvdst: nothing moves out of or into out. */
static bool ck_rename(layout_t *L, int64_t r) {
    (void)r;
    bool esc = exists(L->out, "mvdst");
    unlinkat(L->out, "mvdst", 0);
    unlinkat(L->real, "mvdst", 0);
    return kept_out(L, "mvsrc", false) || esc;
}

/* path_symlink x -> dir/sym */
static bool ck_symlink(layout_t *L, int64_t r) {
    (void)r;
    return gone_out(L, "sym", 0);
}

/* path_unlink_file dir/victim */
static bool ck_unlink(layout_t *L, int64_t r) {
    (void)r;
    return kept_out(L, "victim", false);
}

/* Each export of wasi_path_race.wat, how to spot its escape, and what it
 * returns when it worked inside dir (-1: errno 0; -2: dir's inode). */
static const struct {
    const char *name;
    check_fn check;
    int64_t inside;
} ops[] = {
    {"mkdir", ck_mkdir, -1},
    {"stat_nofollow", ck_size, INSIDE_SIZE},
    {"stat_follow", ck_size, INSIDE_SIZE},
    {"stat_dir", ck_ino, -2},
    {"times_nofollow", ck_times, -1},
    {"times_follow", ck_times, -1},
    {"link_into_dir", ck_link_into, -1},
    {"link_from_dir", ck_link_from, -1},
    {"link_from_dir_follow", ck_link_from, -1},
    {"open_file", ck_size, INSIDE_SIZE},
    {"open_dir", ck_size, INSIDE_SIZE},
    {"open_create", ck_create, -1},
    {"readlink", ck_readlink, (int64_t)sizeof IN_TARGET - 1},
    {"rmdir", ck_rmdir, -1},
    {"rename", ck_rename, -1},
    {"symlink", ck_symlink, -1},
    {"unlink", ck_unlink, -1},
};
#define NOPS (sizeof ops / sizeof ops[0])

/* Monotonic nanoseconds. */
static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Run every call against the swapping host in one resolution mode. Fails on
 * any escape, and also if some call never once worked inside (the race must
 * not simply make every call fail). */
static void race(bool walk, long long budget_ns) {
    if (walk)
        setenv("WEX_WASI_NO_OPENAT2", "1", 1);
    else
        unsetenv("WEX_WASI_NO_OPENAT2");
    layout_t L;
    make_layout(&L);
    char box[PATH_MAX + 8];
    snprintf(box, sizeof box, "%s/box", L.root);

    size_t len;
    uint8_t *bytes = wex_test_read_wasm("wasi_path_race.wasm", &len);
    wex_engine_t *engine = wex_engine_new(NULL);
    wex_module_t *module = NULL;
    CHECK(!wex_module_new(engine, bytes, len, &module));
    wex_wasi_config_t *cfg = wex_wasi_config_new();
    CHECK(wex_wasi_config_preopen(cfg, box, "/sandbox"));
    wex_wasi_t *wasi = NULL;
    CHECK(!wex_wasi_new(cfg, &wasi));
    wex_store_t *store = wex_store_new(engine);
    size_t n = wex_module_import_count(module);
    wex_extern_t *imports = calloc(n, sizeof *imports);
    CHECK(!wex_wasi_link(wasi, store, module, imports));
    wex_instance_t *inst = NULL;
    CHECK(!wex_instance_new(store, module, imports, n, &inst));
    CHECK(!wex_wasi_bind_memory(wasi, inst));
    wex_func_t *fn[NOPS];
    for (size_t i = 0; i < NOPS; i++) {
        wex_extern_t ex;
        CHECK(wex_instance_export(inst, ops[i].name, strlen(ops[i].name), &ex));
        CHECK(ex.kind == WEX_EXTERN_FUNC);
        fn[i] = ex.of.func;
    }

    long escapes[NOPS] = {0}, worked[NOPS] = {0}, total = 0;
    atomic_store(&stop, false);
    atomic_store(&swaps, 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, swapper, &L) == 0);
    long long t0 = now_ns();
    int rounds = 0;
    while (rounds < RACE_ROUNDS && now_ns() - t0 < budget_ns) {
        for (size_t i = 0; i < NOPS; i++) {
            wex_val_t res;
            CHECK(!wex_func_call(store, fn[i], NULL, 0, &res, 1));
            int64_t r = res.of.i64;
            bool esc = ops[i].check(&L, r);
            escapes[i] += esc;
            total += esc;
            int64_t want = ops[i].inside == -1   ? 0
                           : ops[i].inside == -2 ? (int64_t)L.real_ino
                                                 : ops[i].inside;
            worked[i] += !esc && r == want;
        }
        rounds++;
    }
    atomic_store(&stop, true);
    CHECK(pthread_join(th, NULL) == 0);

    char msg[2048];
    size_t k = (size_t)snprintf(msg, sizeof msg, "%s: %ld escapes in %d rounds (%ld swaps):",
                                walk ? "walk" : "openat2", total, rounds, atomic_load(&swaps));
    for (size_t i = 0; i < NOPS && k < sizeof msg; i++)
        if (escapes[i])
            k += (size_t)snprintf(msg + k, sizeof msg - k, " %s=%ld", ops[i].name, escapes[i]);
    const char *never = NULL;
    for (size_t i = 0; i < NOPS; i++)
        if (!worked[i]) never = ops[i].name;
    if (getenv("WEX_TEST_VERBOSE")) fprintf(stderr, "%s\n", msg);

    free(imports);
    wex_store_delete(store);
    wex_wasi_delete(wasi);
    wex_module_delete(module);
    wex_engine_delete(engine);
    free(bytes);
    free_layout(&L);
    if (total) wex_test_fail(__FILE__, __LINE__, "%s", msg);
    if (never) wex_test_fail(__FILE__, __LINE__, "%s never worked inside dir (%s)", never, msg);
    CHECK(atomic_load(&swaps) > 0);
}

TEST(path_race_openat2) {
    race(false, RACE_NS_OPENAT2);
}

TEST(path_race_walk) {
    race(true, RACE_NS_WALK);
}
