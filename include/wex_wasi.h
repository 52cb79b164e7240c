/*
 * wex_wasi.h - WASI preview1 (`wasi_snapshot_preview1`) for wex.
 *
 * Use
 *   1. Make a wex_wasi_config_t, add arguments, environment variables,
 *      preopened directories and stdio choices, then wex_wasi_new().
 *   2. wex_wasi_link() fills, for each import of the module whose module name
 *      is "wasi_snapshot_preview1", the matching slot of an imports array with a
 *      host function. Other imports are left untouched for the embedder.
 *   3. wex_instance_new() with that array, then wex_wasi_bind_memory() so that
 *      the functions can reach the guest's exported "memory".
 *   4. wex_wasi_run_start() calls `_start` and turns proc_exit into an exit code.
 *
 * Ownership
 *   - wex_wasi_new() takes ownership of the config, whatever it returns.
 *   - A wex_wasi_t owns its descriptor table: every host file it opened (the
 *     preopens, the files the guest opens, duplicates of inherited stdio fds)
 *     is closed by wex_wasi_delete(). Inherited host fds themselves stay open.
 *   - The wex_wasi_t must outlive every call into the functions it linked; it
 *     may be deleted before or after the store (the host functions only hold a
 *     small record of their own, freed with the store).
 *   - Captured output (wex_wasi_captured) points into the context and is valid
 *     until the next guest call or wex_wasi_delete().
 *
 * Threads
 *   - A wex_wasi_t is used by one thread at a time, like the store it is linked
 *     into. Separate contexts are independent.
 *
 * Sandbox
 *   - The guest sees small integers naming entries of the context's own table,
 *     never host descriptor numbers.
 *   - Every path is resolved beneath the directory descriptor it is relative
 *     to: absolute paths, `..` above it and symlinks leading out of it fail with
 *     ENOTCAPABLE (76) or ELOOP. On Linux >= 5.6 the kernel's openat2 with
 *     RESOLVE_BENEATH does the resolution; elsewhere a component-by-component
 *     walk with O_NOFOLLOW does.
 *   - Rights (fdstat rights base / inheriting) are enforced on every call.
 *   - Every guest pointer and length is checked against the current memory
 *     size; a bad one gives EFAULT (21).
 */
#ifndef WEX_WASI_H
#define WEX_WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wex.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wex_wasi_config wex_wasi_config_t;
typedef struct wex_wasi wex_wasi_t;

/* A new configuration: no arguments, no environment, no preopens, stdio
 * inherited from the host's fds 0, 1 and 2. NULL when out of memory. */
wex_wasi_config_t *wex_wasi_config_new(void);
void wex_wasi_config_delete(wex_wasi_config_t *config);
/* Append one argument (the first is the program name, argv[0]). Strings are
 * copied. These return false when out of memory. */
bool wex_wasi_config_arg(wex_wasi_config_t *config, const char *arg);
/* Add an environment variable; the guest sees exactly the ones added. */
bool wex_wasi_config_env(wex_wasi_config_t *config, const char *name, const char *value);
/* Preopen host directory host_path under the guest name guest_path (e.g.
 * "/" or "."). The directory is opened by wex_wasi_new(). */
bool wex_wasi_config_preopen(wex_wasi_config_t *config, const char *host_path,
                             const char *guest_path);
/* Guest fd 0, 1 or 2 uses host fd host_fd (duplicated by wex_wasi_new()). */
bool wex_wasi_config_inherit_stdio(wex_wasi_config_t *config, int guest_fd, int host_fd);
/* Guest fd 0 reads these bytes (copied), then end of file. */
bool wex_wasi_config_stdin_bytes(wex_wasi_config_t *config, const void *data, size_t len);
/* Guest fd 1 or 2 writes into a buffer in memory; see wex_wasi_captured(). */
bool wex_wasi_config_capture(wex_wasi_config_t *config, int guest_fd);

/* Make a context. Takes ownership of config. Fails (WEX_ERR_IO) when a
 * preopen cannot be opened as a directory. */
wex_error_t *wex_wasi_new(wex_wasi_config_t *config, wex_wasi_t **out);
void wex_wasi_delete(wex_wasi_t *wasi);

/* For every import of `module` from "wasi_snapshot_preview1", create a host
 * function in `store` and put it in imports_out[i] (i = the import's index;
 * the array has wex_module_import_count() slots). Returns WEX_ERR_UNLINKABLE
 * naming the import when the name is not a preview1 function, the type is
 * wrong, or the import is not a function. */
wex_error_t *wex_wasi_link(wex_wasi_t *wasi, wex_store_t *store, const wex_module_t *module,
                           wex_extern_t *imports_out);
/* True if `module` imports anything from "wasi_snapshot_preview1". */
bool wex_wasi_module_uses_wasi(const wex_module_t *module);
/* Use the instance's exported "memory" as the guest memory. Fails
 * (WEX_ERR_NOT_FOUND) if there is no such memory export. */
wex_error_t *wex_wasi_bind_memory(wex_wasi_t *wasi, const wex_instance_t *instance);
/* Use this memory as the guest memory. */
void wex_wasi_set_memory(wex_wasi_t *wasi, wex_memory_t *memory);

/* Call the instance's `_start`. Returns NULL and sets *exit_code (0 when
 * _start returns, the proc_exit status otherwise), or the error (a trap,
 * WEX_ERR_NOT_FOUND when there is no _start function). */
wex_error_t *wex_wasi_run_start(wex_wasi_t *wasi, wex_store_t *store,
                                const wex_instance_t *instance, int *exit_code);

/* The bytes the guest wrote to fd 1 or 2 when it was captured, else NULL. */
const uint8_t *wex_wasi_captured(const wex_wasi_t *wasi, int guest_fd, size_t *len);

/*
 * wasi-threads: a module that imports `wasi` `thread-spawn` (param i32)
 * (result i32) and a shared `env` `memory` runs with threads. The memory is
 * built through the engine's task manager (build_memory); each thread-spawn
 * starts the module's `wasi_thread_start(tid, arg)` in a new instance, in a
 * store of its own, through task_wasm. All threads share one wex_wasi_t
 * (calls into it are serialised, so a call that blocks, such as a read from
 * stdin, holds up other threads' WASI calls meanwhile).
 *
 * When a thread calls proc_exit or traps, `on_exit(env, status, err)` runs
 * on that thread, once for the whole program (err is NULL for proc_exit);
 * an embedder that wants the process semantics of a native program ends the
 * process there, as `wex run` does. The main thread's own exit or return is
 * the embedder's to handle: threads still running then cannot be joined.
 */
typedef struct wex_wasi_threads wex_wasi_threads_t;
typedef void (*wex_wasi_exit_fn_t)(void *env, int status, const wex_error_t *err);

/* True if `module` imports `wasi` `thread-spawn`. */
bool wex_wasi_threads_needed(const wex_module_t *module);
/* Set up threads for `module` with the context `wasi`, whose memory becomes
 * the shared memory made here, in `store` (the main thread's). */
wex_error_t *wex_wasi_threads_new(wex_engine_t *engine, const wex_module_t *module,
                                  wex_wasi_t *wasi, wex_store_t *store, wex_wasi_exit_fn_t on_exit,
                                  void *env, wex_wasi_threads_t **out);
/* Fill every import of the module for instantiation in `store`: the shared
 * memory, thread-spawn, and the preview1 functions (wex_wasi_link). Other
 * imports are refused (WEX_ERR_UNLINKABLE). */
wex_error_t *wex_wasi_threads_link(wex_wasi_threads_t *threads, wex_store_t *store,
                                   wex_extern_t *imports_out);
/* Threads started and not yet finished. */
unsigned wex_wasi_threads_running(const wex_wasi_threads_t *threads);
/* Once no thread runs: after wex_engine_delete() (which waits for its task
 * threads to leave) and before wex_wasi_delete(). */
void wex_wasi_threads_delete(wex_wasi_threads_t *threads);

#ifdef __cplusplus
}
#endif
#endif /* WEX_WASI_H */
