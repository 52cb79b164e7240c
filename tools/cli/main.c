/*
 * main.c - the `wex` command line. Its conventions follow wasmtime's:
 *
 *   wex run [OPTIONS] FILE.wasm [ARGS...]     run _start (or --invoke NAME)
 *   wex validate [OPTIONS] FILE.wasm          check a module, print nothing if valid
 *   wex wast [OPTIONS] [-v] FILE.json...      run wast2json spec-test command lists
 *   wex inspect [OPTIONS] FILE.wasm|.cwasm    imports, exports, memories, memory image
 *   wex compile FILE.wasm [-o FILE.cwasm]     write a compiled artifact
 *   wex cache stats|clean [--cache-dir DIR]   the compiled-module cache
 *
 * It uses only the public API (wex.h). Exit status: 0 success, 1 failure
 * (error, trap, failed tests), 2 usage error; a guest's proc_exit status
 * passes through.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "values.h"
#include "wast.h"
#include "util.h"
#include "wex.h"
#include "wex_cache.h"
#include "wex_task.h"
#include "wex_wasi.h"

#define EXIT_USAGE 2

/* Options shared by all subcommands. */
typedef struct {
    bool have_bounds;
    wex_bounds_t bounds;
    bool have_strategy; /* -O instantiation=NAME */
    wex_instantiation_t strategy;
    bool have_tier; /* -O tier=interp|native|auto */
    wex_tier_t tier;
    bool deterministic;  /* -O deterministic=y */
    uint64_t timeout_ns; /* -W timeout=DURATION; 0: none */
    uint64_t max_memory; /* -W max-memory-size=BYTES; 0: none */
} common_opts_t;

static const char *prog = "wex";

/* The compiled-module cache as the command line chose it: the default
 * chain, another directory for its files, or none. */
static struct {
    bool off;
    const char *dir;
} cache_opt;

/* The help text: one screen, the subcommands and their options. */
static void usage(FILE *f) {
    fprintf(f,
            "wex - a WebAssembly runtime\n"
            "\n"
            "Usage:\n"
            "  %s run [OPTIONS] FILE.wasm [ARGS...]\n"
            "      Instantiate FILE with WASI preview1 and call its `_start` export; the\n"
            "      guest's argv is FILE ARGS... and the exit status its proc_exit code.\n"
            "      Options before FILE belong to wex; everything after it to the guest.\n"
            "      --dir HOST[::GUEST]   preopen directory HOST as GUEST (default: HOST)\n"
            "      --env NAME[=VALUE]    give the guest NAME (the host's value if no VALUE);\n"
            "                            the guest sees no other environment variables\n"
            "      --invoke NAME         call export NAME instead; ARGS are its arguments,\n"
            "                            parsed by parameter type; results are printed\n"
            "      -v, --verbose         log the instantiation strategy and memory image\n"
            "      --cache-dir DIR       keep compiled modules in DIR (default:\n"
            "                            $XDG_CACHE_HOME/wex, else ~/.cache/wex)\n"
            "      --no-cache            compile without the compiled-module cache\n"
            "      --allow-precompiled   FILE may be an artifact from `wex compile`; its\n"
            "                            code is NOT validated again: only trusted files\n"
            "  %s compile [OPTIONS] FILE.wasm [-o FILE.cwasm]\n"
            "      Compile FILE and write the artifact (default: FILE with .cwasm).\n"
            "  %s cache stats|clean [--cache-dir DIR]\n"
            "      Show the size of the compiled-module cache, or empty it.\n"
            "  %s validate [OPTIONS] FILE.wasm\n"
            "      Decode and validate FILE; print nothing and exit 0 if it is valid.\n"
            "  %s wast [OPTIONS] [-v] FILE.json...\n"
            "      Run spec tests converted by wabt's wast2json.\n"
            "      -v, --verbose         show skipped commands and message mismatches\n"
            "  %s inspect [OPTIONS] FILE.wasm\n"
            "      Print FILE's imports, exports and memories, and its memory image (its\n"
            "      size, or why there is none).\n"
            "\n"
            "Options for every subcommand:\n"
            "  --bounds-checks=guard|explicit\n"
            "                            memory bounds checks by guard pages or by compares\n"
            "  -O instantiation=pooling-cow|recreate-cow|pooling|recreate\n"
            "                            how instances are made (default pooling-cow)\n"
            "  -O tier=interp|native|auto\n"
            "                            run the interpreter, native code compiled by\n"
            "                            LLVM (the wex-llvmc helper) before the run, or\n"
            "                            start interpreted and compile hot functions in\n"
            "                            the background (auto, the default)\n"
            "  -O deterministic=y|n        canonical NaNs, call-depth exhaustion at the same\n"
            "                            depth in every tier, explicit bounds checks\n"
            "  -W timeout=DURATION       stop the guest (its threads too) with the trap\n"
            "                            `interrupt` after DURATION (500ms, 2s, 1.5m; a\n"
            "                            number alone is seconds): epoch interruption\n"
            "  -W max-memory-size=BYTES  memory.grow beyond BYTES (64K, 16M, 1G) gives -1, and\n"
            "                            a module whose memory starts above it is refused\n"
            "  -h, --help                print this help\n"
            "  -V, --version             print the version\n",
            prog, prog, prog, prog, prog, prog);
}

/* Report a usage error and point at --help. */
__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
    return EXIT_USAGE;
}

/* A duration: a decimal number with an optional unit (ns, us, ms, s, m, h;
 * seconds without one), more than zero, at most a year. */
static bool parse_duration(const char *v, uint64_t *ns) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || errno || !(x > 0)) return false;
    static const struct {
        const char *unit;
        double ns;
    } units[] = {{"", 1e9},  {"ns", 1},   {"us", 1e3},  {"ms", 1e6},
                 {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].unit) == 0) {
            double t = x * units[i].ns;
            if (t < 1 || t > 3.2e16) return false;
            *ns = (uint64_t)t;
            return true;
        }
    return false;
}

/* A size in bytes: digits with an optional K, M or G (powers of 1024). */
static bool parse_bytes(const char *v, uint64_t *out) {
    char *end;
    errno = 0;
    if (*v < '0' || *v > '9') return false;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno) return false;
    unsigned shift = !*end               ? 0
                     : !strcmp(end, "K") ? 10
                     : !strcmp(end, "M") ? 20
                     : !strcmp(end, "G") ? 30
                                         : 99;
    if (shift == 99 || n > (UINT64_MAX >> shift)) return false;
    *out = (uint64_t)n << shift;
    return true;
}

/* Handle an option every subcommand accepts. Returns 1 if handled, 0 if not
 * a common option, or -1 after printing a usage error; *exit_now is set for
 * --help/--version, which end the program successfully. */
static int common_option(const char *arg, common_opts_t *c, bool *exit_now) {
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        usage(stdout);
        *exit_now = true;
        return 1;
    }
    if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
        printf("wex %s\n", wex_version());
        *exit_now = true;
        return 1;
    }
    if (strncmp(arg, "--bounds-checks=", 16) == 0) {
        const char *v = arg + 16;
        if (strcmp(v, "guard") == 0)
            c->bounds = WEX_BOUNDS_GUARD_PAGES;
        else if (strcmp(v, "explicit") == 0)
            c->bounds = WEX_BOUNDS_EXPLICIT;
        else {
            usage_error("--bounds-checks must be 'guard' or 'explicit', not '%s'", v);
            return -1;
        }
        c->have_bounds = true;
        return 1;
    }
    if (strcmp(arg, "-O") == 0 || strcmp(arg, "-W") == 0) {
        usage_error("%s needs its value joined: %s NAME=VALUE", arg, arg);
        return -1;
    }
    if (strncmp(arg, "-W", 2) == 0) {
        const char *v = arg + 2;
        if (strncmp(v, "timeout=", 8) == 0) {
            if (!parse_duration(v + 8, &c->timeout_ns)) {
                usage_error("-W timeout= needs a positive duration (500ms, 2s, 1.5m), not '%s'",
                            v + 8);
                return -1;
            }
            return 1;
        }
        if (strncmp(v, "max-memory-size=", 16) == 0) {
            if (!parse_bytes(v + 16, &c->max_memory)) {
                usage_error("-W max-memory-size= needs a size in bytes (65536, 64K, 16M, 1G), "
                            "not '%s'",
                            v + 16);
                return -1;
            }
            return 1;
        }
        usage_error("unknown -W option '%s'", v);
        return -1;
    }
    if (strncmp(arg, "-O", 2) == 0 || strncmp(arg, "--opt=", 6) == 0) {
        const char *v = arg[1] == 'O' ? arg + 2 : arg + 6;
        if (strncmp(v, "instantiation=", 14) == 0) {
            v += 14;
            for (int s = WEX_INSTANTIATION_POOLING_COW; s <= WEX_INSTANTIATION_RECREATE; s++)
                if (strcmp(v, wex_instantiation_name((wex_instantiation_t)s)) == 0) {
                    c->strategy = (wex_instantiation_t)s;
                    c->have_strategy = true;
                    return 1;
                }
            usage_error("-O instantiation= must be pooling-cow, recreate-cow, pooling or "
                        "recreate, not '%s'",
                        v);
            return -1;
        }
        if (strncmp(v, "tier=", 5) == 0) {
            v += 5;
            if (strcmp(v, "interp") == 0)
                c->tier = WEX_TIER_INTERP;
            else if (strcmp(v, "native") == 0)
                c->tier = WEX_TIER_NATIVE;
            else if (strcmp(v, "auto") == 0)
                c->tier = WEX_TIER_AUTO;
            else {
                usage_error("-O tier= must be interp, native or auto, not '%s'", v);
                return -1;
            }
            c->have_tier = true;
            return 1;
        }
        if (strncmp(v, "deterministic=", 14) == 0) {
            v += 14;
            if (!strcmp(v, "y") || !strcmp(v, "yes") || !strcmp(v, "1"))
                c->deterministic = true;
            else if (!strcmp(v, "n") || !strcmp(v, "no") || !strcmp(v, "0"))
                c->deterministic = false;
            else {
                usage_error("-O deterministic= must be y or n, not '%s'", v);
                return -1;
            }
            return 1;
        }
        usage_error("unknown -O option '%s'", v);
        return -1;
    }
    return 0;
}

/* -O and -W take their value as the next argument too (-O
 * instantiation=NAME): join it, returning the argument to parse and
 * advancing *i. */
static const char *join_opt(int argc, char **argv, int *i, char *buf, size_t n) {
    if ((strcmp(argv[*i], "-O") != 0 && strcmp(argv[*i], "-W") != 0) || *i + 1 >= argc)
        return argv[*i];
    snprintf(buf, n, "%s%s", argv[*i], argv[*i + 1]);
    ++*i;
    return buf;
}

/* Make the engine with the chosen settings. */
static wex_engine_t *make_engine(const common_opts_t *c) {
    wex_config_t *cfg = wex_config_new();
    if (!cfg) return NULL;
    if (c->have_bounds) wex_config_set_bounds_checks(cfg, c->bounds);
    if (c->have_strategy) wex_config_set_instantiation_strategy(cfg, c->strategy);
    if (c->have_tier) wex_config_set_tier(cfg, c->tier);
    if (c->deterministic) wex_config_set_deterministic(cfg, true);
    if (c->timeout_ns) wex_config_set_epoch_interruption(cfg, true);
    if (cache_opt.off || cache_opt.dir) {
        wex_cache_t *cache = cache_opt.off ? NULL : wex_cache_default_new(cache_opt.dir);
        wex_config_set_cache(cfg, cache);
        wex_cache_delete(cache);
    }
    wex_engine_t *e = wex_engine_new(cfg);
    if (!e) fprintf(stderr, "Error: cannot create the engine\n");
    return e;
}

/* Read a whole file; prints the error itself. */
static bool read_file(const char *path, uint8_t **bytes, size_t *len) {
    char why[512];
    if (cli_read_file(path, bytes, len, why, sizeof why)) return true;
    fprintf(stderr, "Error: failed to read `%s`: %s\n", path, why);
    return false;
}

/* A human description of an error code ("malformed module"), from the
 * header's X-macro list. */
static const char *code_description(wex_errcode_t code) {
    switch (code) {
#define WEX__D(name, desc)                                                                         \
    case WEX_ERR_##name: return desc;
        WEX_ERROR_LIST(WEX__D)
#undef WEX__D
    }
    return "error";
}

/* Print a compile/validate error as "FILE: malformed module at offset 0x1c:
 * unexpected end". */
static void print_module_error(const char *file, const wex_error_t *err) {
    int64_t off = wex_error_offset(err);
    fprintf(stderr, "%s: %s", file, code_description(wex_error_code(err)));
    if (off >= 0) fprintf(stderr, " at offset 0x%llx", (unsigned long long)off);
    fprintf(stderr, ": %s\n", wex_error_message(err));
}

/* A trap's WebAssembly backtrace, as wasmtime prints it: one line per frame,
 * innermost first, "OFFSET - MODULE!FUNCTION", where MODULE is the file's
 * base name and FUNCTION the name-section name or `<wasm function N>`.
 * Returns false (printing nothing) if the error has no frames. */
static bool print_backtrace(const char *file, const wex_error_t *err) {
    size_t n = wex_error_frame_count(err), omitted = wex_error_frames_omitted(err);
    if (!n && !omitted) return false;
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    fprintf(stderr, "    1: error while executing at wasm backtrace:\n");
    for (size_t i = 0; i < n; i++) {
        wex_frame_t fr;
        if (!wex_error_frame(err, i, &fr)) break;
        fprintf(stderr, "        %5zu: %#7llx - %s!", i, (unsigned long long)fr.module_offset,
                base);
        if (fr.func_name)
            fprintf(stderr, "%s", fr.func_name);
        else
            fprintf(stderr, "<wasm function %u>", fr.func_index);
        if (fr.flags & WEX_FRAME_FUNC_OFFSET) fprintf(stderr, " (function start)");
        fputc('\n', stderr);
    }
    if (omitted)
        fprintf(stderr, "        ... %zu more frame%s not recorded (only the innermost %d are)\n",
                omitted, omitted == 1 ? "" : "s", WEX_BACKTRACE_MAX_FRAMES);
    return true;
}

/* The text of a runtime error: traps read "wasm trap: MESSAGE" as in
 * wasmtime, with the spec's message for the trap kind. */
static void print_call_error(const char *file, const char *func, const wex_error_t *err) {
    fprintf(stderr, "Error: failed to run main module `%s`\n\nCaused by:\n", file);
    fprintf(stderr, "    0: failed to invoke `%s`\n", func);
    if (wex_error_code(err) == WEX_ERR_TRAP) {
        wex_trapcode_t tc = wex_error_trap_code(err);
        const char *msg = tc != WEX_TRAP_NONE && tc != WEX_TRAP_HOST ? wex_trap_message(tc)
                                                                     : wex_error_message(err);
        int n = print_backtrace(file, err) ? 2 : 1;
        fprintf(stderr, "    %d: wasm trap: %s\n", n, msg);
    } else {
        fprintf(stderr, "    1: %s\n", wex_error_message(err));
    }
}

/*
 * wasi-threads: the process ends once, from whichever thread gets there
 * first (a thread's proc_exit or trap, or the main thread finishing while
 * threads still run, which cannot be joined); any other thread that tries
 * just stops until the process is gone.
 */
static int exit_claimed;

/* Whether `wex run` frees everything before it returns (see cmd_run). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CLI_FULL_TEARDOWN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CLI_FULL_TEARDOWN 1
#endif
#endif
#ifndef CLI_FULL_TEARDOWN
#define CLI_FULL_TEARDOWN 0
#endif
static const char *exit_file;

static void exit_process(int status) {
    if (__atomic_exchange_n(&exit_claimed, 1, __ATOMIC_ACQ_REL))
        for (;;)
            pause();
    fflush(NULL);
    exit(status);
}

/* A thread called proc_exit (err NULL) or trapped. */
static void thread_exit(void *env, int status, const wex_error_t *err) {
    (void)env;
    if (err) print_call_error(exit_file, "wasi_thread_start", err);
    exit_process(status);
}

/* Add a --dir HOST[::GUEST] or --env NAME[=VALUE] value to the WASI
 * configuration. Returns false for a malformed value or no memory. */
static bool wasi_option(wex_wasi_config_t *wcfg, bool is_dir, const char *v) {
    if (is_dir) {
        const char *sep = strstr(v, "::");
        if (!sep) return *v && wex_wasi_config_preopen(wcfg, v, v);
        size_t n = (size_t)(sep - v);
        char *host = strndup(v, n);
        bool ok = host && n > 0 && sep[2] && wex_wasi_config_preopen(wcfg, host, sep + 2);
        free(host);
        return ok;
    }
    const char *eq = strchr(v, '=');
    if (eq == v || !*v) return false;
    if (!eq) {
        const char *hv = getenv(v);
        return !hv || wex_wasi_config_env(wcfg, v, hv);
    }
    char *name = strndup(v, (size_t)(eq - v));
    bool ok = name && wex_wasi_config_env(wcfg, name, eq + 1);
    free(name);
    return ok;
}

/* `wex run`: instantiate with WASI preview1, then call _start or --invoke NAME
 * with the remaining arguments. */
/* -v: the strategy in force (and why, if it is not the one asked for) and
 * the module's memory image, on stderr. */
static void log_instantiation(const wex_engine_t *e, const wex_module_t *m, const char *file) {
    wex_instantiation_t s = wex_engine_instantiation_strategy(e);
    const char *note = wex_engine_instantiation_note(e), *why;
    bool copied;
    uint64_t img = wex_module_image(m, &why, &copied);
    fprintf(stderr, "wex: instantiation: %s", wex_instantiation_name(s));
    if (note) fprintf(stderr, " (fallback: %s)", note);
    if (img) {
        bool cow = s == WEX_INSTANTIATION_POOLING_COW || s == WEX_INSTANTIATION_RECREATE_COW;
        fprintf(stderr, "; %s: image of %llu bytes, %s\n", file, (unsigned long long)img,
                cow && !copied ? "mapped copy-on-write"
                : cow          ? "copied (no memfd: copy-on-write cannot work)"
                               : "copied");
    } else {
        fprintf(stderr, "; %s: no image (%s): data segments are copied\n", file, why);
    }
}

/* -W timeout: the store stops at the next epoch, which a timer on the
 * engine's task manager makes when the time is up (threads the guest
 * spawns inherit the deadline). */
static void timeout_fire(void *engine, bool cancelled) {
    if (!cancelled) wex_engine_increment_epoch(engine);
}

static bool start_timeout(wex_engine_t *engine, wex_store_t *store, uint64_t ns) {
    wex_store_set_epoch_deadline(store, 1);
    const wex_task_manager_t *tm = wex_engine_task_manager(engine);
    wex_error_t *err = tm ? tm->sleep_async(tm->data, ns, timeout_fire, engine)
                          : wex_error_new(WEX_ERR_NOMEM, "no task manager");
    if (!err) return true;
    fprintf(stderr, "Error: cannot start the timeout: %s\n", wex_error_message(err));
    wex_error_delete(err);
    return false;
}

static int cmd_run(int argc, char **argv, common_opts_t *c) {
    const char *invoke = NULL;
    bool verbose = false;
    char optbuf[256];
    bool allow_precompiled = false;
    wex_wasi_config_t *wcfg = wex_wasi_config_new();
    if (!wcfg) {
        fprintf(stderr, "Error: out of memory\n");
        return 1;
    }
    int i = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') break;
        a = join_opt(argc, argv, &i, optbuf, sizeof optbuf);
        bool exit_now = false;
        int h = common_option(a, c, &exit_now);
        if (h < 0 || exit_now) wex_wasi_config_delete(wcfg);
        if (h < 0) return EXIT_USAGE;
        if (exit_now) return 0;
        if (h) continue;
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = true;
        } else if (strcmp(a, "--invoke") == 0) {
            if (i + 1 >= argc) {
                wex_wasi_config_delete(wcfg);
                return usage_error("%s needs a function name", a);
            }
            invoke = argv[++i];
        } else if (strncmp(a, "--invoke=", 9) == 0) {
            invoke = a + 9;
        } else if (strcmp(a, "--no-cache") == 0) {
            cache_opt.off = true;
        } else if (strcmp(a, "--allow-precompiled") == 0) {
            allow_precompiled = true;
        } else if (strcmp(a, "--cache-dir") == 0 || strncmp(a, "--cache-dir=", 12) == 0) {
            if (a[11] == '=') {
                cache_opt.dir = a + 12;
            } else if (i + 1 < argc) {
                cache_opt.dir = argv[++i];
            } else {
                wex_wasi_config_delete(wcfg);
                return usage_error("%s needs a directory", a);
            }
        } else if (strcmp(a, "--dir") == 0 || strncmp(a, "--dir=", 6) == 0 ||
                   strcmp(a, "--env") == 0 || strncmp(a, "--env=", 6) == 0) {
            bool is_dir = a[2] == 'd';
            const char *v = a[5] == '=' ? a + 6 : NULL;
            if (!v) {
                if (i + 1 >= argc) {
                    wex_wasi_config_delete(wcfg);
                    return usage_error("%s needs a value", a);
                }
                v = argv[++i];
            }
            if (!wasi_option(wcfg, is_dir, v)) {
                wex_wasi_config_delete(wcfg);
                return usage_error(is_dir ? "bad --dir '%s'" : "bad --env '%s'", v);
            }
        } else {
            wex_wasi_config_delete(wcfg);
            return usage_error("unknown option '%s' for run", a);
        }
    }
    if (i >= argc) {
        wex_wasi_config_delete(wcfg);
        return usage_error("%s", "run: missing FILE.wasm");
    }
    const char *file = argv[i++];
    int nguest = argc - i;
    char **guest = argv + i;

    bool ok = wex_wasi_config_arg(wcfg, file);
    for (int k = 0; k < nguest && !invoke && ok; k++)
        ok = wex_wasi_config_arg(wcfg, guest[k]);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool precompiled = false; /* an artifact of `wex compile`: mapped, not read, below */
    char why[512];
    if (ok &&
        !cli_read_file_unless(file, "WEXCWASM", &precompiled, &bytes, &len, why, sizeof why)) {
        fprintf(stderr, "Error: failed to read `%s`: %s\n", file, why);
        wex_wasi_config_delete(wcfg);
        return 1;
    }
    if (precompiled && !allow_precompiled) {
        fprintf(stderr,
                "Error: `%s` is a precompiled module; running it runs code that is not "
                "validated again, so pass --allow-precompiled if you trust it\n",
                file);
        wex_wasi_config_delete(wcfg);
        return 1;
    }
    if (!ok) {
        fprintf(stderr, "Error: out of memory\n");
        wex_wasi_config_delete(wcfg);
        return 1;
    }
    /* One process, one instance (wasi-threads' instances import their
     * memory, so they gain nothing from slots either): recreate-cow makes
     * it with the least set-up. The pool of the engine's default,
     * pooling-cow, costs a reservation, a madvise self-check and a slot reset
     * at exit, about 40 us of a ~1 ms start (bench/RESULTS.md, "Session 3:
     * start-up"). -O instantiation= still chooses. */
    if (!c->have_strategy) {
        c->strategy = WEX_INSTANTIATION_RECREATE_COW;
        c->have_strategy = true;
    }
    wex_engine_t *engine = make_engine(c);
    if (!engine) {
        wex_wasi_config_delete(wcfg);
        free(bytes);
        return 1;
    }
    int status = 1;
    wex_wasi_t *wasi = NULL;
    wex_wasi_threads_t *threads = NULL;
    wex_extern_t *imports = NULL;
    wex_module_t *module = NULL;
    wex_store_t *store = NULL;
    wex_val_t *args = NULL, *results = NULL;
    wex_error_t *err = precompiled ? wex_module_deserialize_file(engine, file, &module)
                                   : wex_module_new(engine, bytes, len, &module);
    free(bytes);
    if (err) {
        fprintf(stderr, precompiled ? "Error: failed to load " : "Error: failed to compile ");
        print_module_error(file, err);
        goto out;
    }
    if (verbose) log_instantiation(engine, module, file);
    size_t nimports = wex_module_import_count(module);
    bool use_threads = wex_wasi_threads_needed(module); /* checks its own imports */
    for (size_t k = 0; k < nimports && !use_threads; k++) {
        wex_importdesc_t d;
        wex_module_import(module, k, &d);
        if (d.module_len == 22 && memcmp(d.module, "wasi_snapshot_preview1", 22) == 0) continue;
        fprintf(stderr,
                "Error: failed to instantiate `%s`: unknown import: `%.*s::%.*s` has not been "
                "defined (wex run provides only wasi_snapshot_preview1)\n",
                file, (int)d.module_len, d.module, (int)d.name_len, d.name);
        goto out;
    }
    err = wex_wasi_new(wcfg, &wasi);
    wcfg = NULL;
    if (err) {
        fprintf(stderr, "Error: %s\n", wex_error_message(err));
        goto out;
    }
    store = wex_store_new(engine);
    wex_instance_t *inst = NULL;
    imports = calloc(nimports + 1, sizeof *imports);
    if (!store || !imports) {
        fprintf(stderr, "Error: cannot create a store\n");
        goto out;
    }
    if (c->timeout_ns && !start_timeout(engine, store, c->timeout_ns)) goto out;
    if (c->max_memory) {
        wex_store_limits_t lim = {c->max_memory, WEX_NO_LIMIT, WEX_NO_LIMIT, WEX_NO_LIMIT,
                                  WEX_NO_LIMIT};
        wex_store_set_limits(store, &lim);
    }
    if (use_threads) {
        exit_file = file;
        err = wex_wasi_threads_new(engine, module, wasi, store, thread_exit, NULL, &threads);
        if (!err) err = wex_wasi_threads_link(threads, store, imports);
    } else {
        err = wex_wasi_link(wasi, store, module, imports);
    }
    if (err) {
        fprintf(stderr, "Error: failed to instantiate `%s`: %s\n", file, wex_error_message(err));
        goto out;
    }
    err = wex_instance_new(store, module, imports, nimports, &inst);
    if (err) {
        /* Only the start function runs code during instantiation, and so
         * only its traps have frames; a segment out of bounds (there may be
         * no start function at all) says what happened in its message. */
        if (wex_error_code(err) == WEX_ERR_TRAP &&
            (wex_error_frame_count(err) > 0 || wex_error_frames_omitted(err) > 0))
            print_call_error(file, "start function", err);
        else
            fprintf(stderr, "Error: failed to instantiate `%s`: %s\n", file,
                    wex_error_message(err));
        goto out;
    }
    if (nimports > 0 && !use_threads) { /* threads: the shared memory, bound already */
        err = wex_wasi_bind_memory(wasi, inst);
        if (err) {
            fprintf(stderr, "Error: failed to instantiate `%s`: WASI needs %s\n", file,
                    wex_error_message(err));
            goto out;
        }
    }

    const char *name = invoke ? invoke : "_start";
    wex_extern_t ext;
    if (!wex_instance_export(inst, name, strlen(name), &ext)) {
        if (invoke)
            fprintf(stderr, "Error: failed to find export `%s` in `%s`\n", name, file);
        else
            fprintf(stderr,
                    "Error: `%s` exports no `_start` function; use --invoke NAME to call an "
                    "export\n",
                    file);
        goto out;
    }
    if (ext.kind != WEX_EXTERN_FUNC) {
        fprintf(stderr, "Error: export `%s` of `%s` is not a function\n", name, file);
        goto out;
    }
    wex_functype_t ft = wex_func_type(ext.of.func);
    if (!invoke) nguest = 0; /* the guest's argv went to WASI */
    if ((uint32_t)nguest != ft.nparams) {
        fprintf(stderr, "%s: `%s` takes %u argument%s, %d given\n", prog, name, ft.nparams,
                ft.nparams == 1 ? "" : "s", nguest);
        status = EXIT_USAGE;
        goto out;
    }
    args = calloc(ft.nparams + 1, sizeof *args);
    results = calloc(ft.nresults + 1, sizeof *results);
    if (!args || !results) {
        fprintf(stderr, "Error: out of memory\n");
        goto out;
    }
    for (uint32_t k = 0; k < ft.nparams; k++) {
        if (!cli_parse_value(guest[k], ft.params[k], &args[k])) {
            fprintf(stderr, "%s: argument %u of `%s`: '%s' is not a valid %s\n", prog, k + 1, name,
                    guest[k], cli_kind_name(ft.params[k]));
            status = EXIT_USAGE;
            goto out;
        }
    }
    err = wex_func_call(store, ext.of.func, args, ft.nparams, results, ft.nresults);
    if (err) {
        if (wex_error_code(err) == WEX_ERR_EXIT) {
            status = wex_error_exit_status(err);
        } else {
            print_call_error(file, name, err);
        }
        goto out;
    }
    if (invoke)
        for (uint32_t k = 0; k < ft.nresults; k++) {
            char buf[CLI_VALUE_BUF];
            results[k].kind = ft.results[k];
            cli_format_value(&results[k], buf, sizeof buf);
            printf("%s\n", buf);
        }
    status = 0;
out:
    /* Threads still running cannot be joined: end the process as a native
     * program's return from main does. */
    if (threads && wex_wasi_threads_running(threads) > 0) exit_process(status);
#if !CLI_FULL_TEARDOWN
    /* The process ends here: the kernel unmaps and closes everything at
     * once, cheaper than undoing memories, stacks, the artifact's mapping
     * and the engine piece by piece (about 15-20 us of a ~1 ms `wex run`).
     * stdio is flushed and the status is the same. The sanitizer builds
     * tear down fully, so that their leak and race checks still cover it. */
    exit_process(status);
#endif
    free(args);
    free(results);
    free(imports);
    wex_error_delete(err);
    if (store) wex_store_delete(store);
    wex_wasi_config_delete(wcfg);
    if (module) wex_module_delete(module);
    wex_engine_delete(engine); /* waits for finished threads to leave the pool */
    wex_wasi_threads_delete(threads);
    wex_wasi_delete(wasi);
    return status;
}

/*
 * The common front of the one-file subcommands (validate, inspect): their
 * options, FILE, its bytes and an engine. Returns -1 when all is ready (the
 * caller frees bytes and deletes the engine), else the exit status.
 */
static int one_file_setup(int argc, char **argv, common_opts_t *c, const char *cmd,
                          const char **file, uint8_t **bytes, size_t *len, wex_engine_t **engine) {
    *file = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] != '\0' && !*file) {
            char optbuf[256];
            a = join_opt(argc, argv, &i, optbuf, sizeof optbuf);
            bool exit_now = false;
            int h = common_option(a, c, &exit_now);
            if (h < 0) return EXIT_USAGE;
            if (exit_now) return 0;
            if (!h) return usage_error("unknown option '%s' for %s", a, cmd);
            continue;
        }
        if (*file) return usage_error("%s takes one file; extra argument '%s'", cmd, a);
        *file = a;
    }
    if (!*file) return usage_error("%s: missing FILE.wasm", cmd);
    if (!read_file(*file, bytes, len)) return 1;
    *engine = make_engine(c);
    if (!*engine) {
        free(*bytes);
        return 1;
    }
    return -1;
}

/* `wex validate`: decode and validate only. */
static int cmd_validate(int argc, char **argv, common_opts_t *c) {
    const char *file;
    uint8_t *bytes;
    size_t len;
    wex_engine_t *engine;
    int st = one_file_setup(argc, argv, c, "validate", &file, &bytes, &len, &engine);
    if (st >= 0) return st;
    wex_error_t *err = wex_module_validate(engine, bytes, len);
    free(bytes);
    int status = 0;
    if (err) {
        print_module_error(file, err);
        wex_error_delete(err);
        status = 1;
    }
    wex_engine_delete(engine);
    return status;
}

/* `wex wast`: run .json spec-test files; the last line is the total, which
 * CI reads: "N passed, N failed, N skipped". */
static int cmd_wast(int argc, char **argv, common_opts_t *c) {
    wast_options_t opts = {.verbose = false};
    int nfiles = 0;
    bool opts_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!opts_done && strcmp(a, "--") == 0) {
            opts_done = true;
            continue;
        }
        if (!opts_done && a[0] == '-' && a[1] != '\0') {
            if (strcmp(a, "-O") == 0 &&
                i + 1 < argc) { /* joined form only, keeps the 2nd pass simple */
                char optbuf[256];
                a = join_opt(argc, argv, &i, optbuf, sizeof optbuf);
                argv[i - 1] = NULL;
                argv[i] = NULL;
                int h = common_option(a, c, &(bool){false});
                if (h < 0) return EXIT_USAGE;
                continue;
            }
            bool exit_now = false;
            int h = common_option(a, c, &exit_now);
            if (h < 0) return EXIT_USAGE;
            if (exit_now) return 0;
            if (h) continue;
            if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
                opts.verbose = true;
            else
                return usage_error("unknown option '%s' for wast", a);
            argv[i] = NULL; /* consumed */
            continue;
        }
        nfiles++;
    }
    if (nfiles == 0) return usage_error("%s", "wast: missing FILE.json");
    cache_opt.off = true; /* thousands of tiny modules, each compiled once */
    wex_engine_t *engine = make_engine(c);
    if (!engine) return 1;
    wast_counts_t total = {0};
    opts_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!a) continue;
        if (!opts_done && strcmp(a, "--") == 0) {
            opts_done = true;
            continue;
        }
        if (!opts_done && a[0] == '-' && a[1] != '\0') continue;
        wast_run_file(engine, a, &opts, &total);
    }
    wex_engine_delete(engine);
    printf("message mismatches: %lu\n", total.msg_mismatches);
    printf("%lu passed, %lu failed, %lu skipped\n", total.passed, total.failed, total.skipped);
    return total.failed ? 1 : 0;
}

/* The name of an extern kind, for inspect. */
static const char *kind_name(wex_externkind_t k) {
    switch (k) {
    case WEX_EXTERN_FUNC: return "func";
    case WEX_EXTERN_TABLE: return "table";
    case WEX_EXTERN_MEMORY: return "memory";
    case WEX_EXTERN_GLOBAL: return "global";
    }
    return "?";
}

static void print_limits(const char *unit, wex_limits_t l) {
    printf("min %llu %s", (unsigned long long)l.min, unit);
    if (l.has_max) printf(", max %llu", (unsigned long long)l.max);
    if (l.shared) printf(", shared");
}

/* `wex inspect`: what a module needs and offers, and how it will be
 * instantiated (its memory image, or why there is none). */
static int cmd_inspect(int argc, char **argv, common_opts_t *c) {
    const char *file;
    uint8_t *bytes;
    size_t len;
    wex_engine_t *engine;
    int st = one_file_setup(argc, argv, c, "inspect", &file, &bytes, &len, &engine);
    if (st >= 0) return st;
    wex_module_t *m;
    /* An artifact of `wex compile` is loaded (mapped and its metadata
     * checked) but nothing of it runs, so inspecting one needs no
     * --allow-precompiled. */
    bool precompiled = len >= 8 && memcmp(bytes, "WEXCWASM", 8) == 0;
    wex_error_t *err = precompiled ? wex_module_deserialize_file(engine, file, &m)
                                   : wex_module_new(engine, bytes, len, &m);
    free(bytes);
    if (err) {
        print_module_error(file, err);
        wex_error_delete(err);
        wex_engine_delete(engine);
        return 1;
    }
    if (precompiled) printf("format: precompiled artifact (wex compile)\n");
    size_t n = wex_module_import_count(m);
    printf("imports: %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        wex_importdesc_t d;
        wex_module_import(m, i, &d);
        printf("  %s %.*s::%.*s\n", kind_name(d.kind), (int)d.module_len, d.module, (int)d.name_len,
               d.name);
    }
    n = wex_module_export_count(m);
    printf("exports: %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        wex_exportdesc_t d;
        wex_module_export(m, i, &d);
        printf("  %s %.*s (index %u)\n", kind_name(d.kind), (int)d.name_len, d.name, d.index);
    }
    wex_limits_t l;
    uint32_t nm = 0;
    while (wex_module_memory(m, nm, &l))
        nm++;
    printf("memories: %u\n", nm);
    for (uint32_t i = 0; i < nm; i++) {
        wex_module_memory(m, i, &l);
        printf("  memory %u: ", i);
        print_limits("pages", l);
        printf("\n");
    }
    const char *why;
    bool copied;
    uint64_t img = wex_module_image(m, &why, &copied);
    wex_instantiation_t s = wex_engine_instantiation_strategy(engine);
    printf("instantiation: %s\n", wex_instantiation_name(s));
    if (img)
        printf("image: %llu bytes%s\n", (unsigned long long)img,
               copied ? " (copied: no memfd)" : "");
    else
        printf("image: none (%s)\n", why);
    wex_module_delete(m);
    wex_engine_delete(engine);
    return 0;
}

/* `wex compile FILE.wasm [-o OUT]`: compile (never from the cache) and write
 * the artifact. */
static int cmd_compile(int argc, char **argv, common_opts_t *c) {
    const char *file = NULL, *out = NULL;
    for (int i = 0; i < argc; i++) {
        char joined[256];
        const char *a = join_opt(argc, argv, &i, joined, sizeof joined);
        if (strcmp(a, "-o") == 0) {
            if (i + 1 >= argc) return usage_error("%s needs a file name", a);
            out = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            bool exit_now = false;
            int h = common_option(a, c, &exit_now);
            if (h < 0) return EXIT_USAGE;
            if (exit_now) return 0;
            if (!h) return usage_error("unknown option '%s' for compile", a);
        } else if (file) {
            return usage_error("compile takes one file; extra argument '%s'", a);
        } else {
            file = a;
        }
    }
    if (!file) return usage_error("%s", "compile: missing FILE.wasm");
    char *def = NULL;
    if (!out) {
        size_t n = strlen(file);
        if (n > 5 && strcmp(file + n - 5, ".wasm") == 0) n -= 5;
        def = malloc(n + 7);
        if (!def) return 1;
        memcpy(def, file, n);
        memcpy(def + n, ".cwasm", 7);
        out = def;
    }
    uint8_t *bytes;
    size_t len;
    int status = 1;
    cache_opt.off = true;
    wex_engine_t *engine = NULL;
    if (read_file(file, &bytes, &len)) {
        engine = make_engine(c);
        wex_module_t *m = NULL;
        wex_error_t *err = engine ? wex_module_new(engine, bytes, len, &m) : NULL;
        free(bytes);
        if (err) {
            fprintf(stderr, "Error: failed to compile ");
            print_module_error(file, err);
        } else if (m && (err = wex_module_serialize(m, out))) {
            fprintf(stderr, "Error: failed to write `%s`: %s\n", out, wex_error_message(err));
        } else if (m) {
            status = 0;
        }
        wex_error_delete(err);
        wex_module_delete(m);
    }
    wex_engine_delete(engine);
    free(def);
    return status;
}

/* `wex cache stats|clean [--cache-dir DIR]`. */
static int cmd_cache(int argc, char **argv, common_opts_t *c) {
    const char *what = NULL, *dir = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--cache-dir") == 0) {
            if (i + 1 >= argc) return usage_error("%s needs a directory", a);
            dir = argv[++i];
        } else if (strncmp(a, "--cache-dir=", 12) == 0) {
            dir = a + 12;
        } else if (a[0] == '-') {
            bool exit_now = false;
            int h = common_option(a, c, &exit_now);
            if (h < 0) return EXIT_USAGE;
            if (exit_now) return 0;
            if (!h) return usage_error("unknown option '%s' for cache", a);
        } else if (!what && (strcmp(a, "stats") == 0 || strcmp(a, "clean") == 0)) {
            what = a;
        } else {
            return usage_error("cache: expected `stats` or `clean`, not '%s'", a);
        }
    }
    if (!what) return usage_error("%s", "cache: expected `stats` or `clean`");
    char buf[4096];
    if (!dir) {
        if (!wex_cache_default_dir(buf, sizeof buf)) {
            fprintf(stderr, "Error: no cache directory: set XDG_CACHE_HOME or HOME, or pass "
                            "--cache-dir\n");
            return 1;
        }
        dir = buf;
    }
    wex_error_t *err;
    if (strcmp(what, "stats") == 0) {
        wex_cache_stats_t st;
        err = wex_cache_dir_stats(dir, &st);
        if (!err) {
            cache_opt.off = true;
            wex_engine_t *e = make_engine(c);
            printf("directory: %s\n", dir);
            if (e) printf("engine id: %s\n", wex_engine_id(e));
            printf("entries: %llu\nbytes: %llu\n", (unsigned long long)st.entries,
                   (unsigned long long)st.bytes);
            wex_engine_delete(e);
        }
    } else {
        uint64_t removed = 0;
        err = wex_cache_dir_clean(dir, &removed);
        if (!err) printf("removed %llu files from %s\n", (unsigned long long)removed, dir);
    }
    if (err) {
        fprintf(stderr, "Error: %s\n", wex_error_message(err));
        wex_error_delete(err);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    common_opts_t c = {.have_bounds = false, .bounds = WEX_BOUNDS_GUARD_PAGES};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        bool exit_now = false;
        char optbuf[256];
        int h = common_option(join_opt(argc, argv, &i, optbuf, sizeof optbuf), &c, &exit_now);
        if (h < 0) return EXIT_USAGE;
        if (exit_now) return 0;
        if (!h) return usage_error("unknown option '%s'", argv[i]);
    }
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[i];
    int rest = argc - i - 1;
    char **rargv = argv + i + 1;
    if (strcmp(cmd, "run") == 0) return cmd_run(rest, rargv, &c);
    if (strcmp(cmd, "validate") == 0) return cmd_validate(rest, rargv, &c);
    if (strcmp(cmd, "wast") == 0) return cmd_wast(rest, rargv, &c);
    if (strcmp(cmd, "inspect") == 0) return cmd_inspect(rest, rargv, &c);
    if (strcmp(cmd, "compile") == 0) return cmd_compile(rest, rargv, &c);
    if (strcmp(cmd, "cache") == 0) return cmd_cache(rest, rargv, &c);
    if (strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    /* Like wasmtime, `wex FILE.wasm ...` means `wex run FILE.wasm ...`. */
    size_t n = strlen(cmd);
    if (n > 5 && strcmp(cmd + n - 5, ".wasm") == 0) return cmd_run(argc - i, argv + i, &c);
    return usage_error("unknown subcommand '%s'", cmd);
}
