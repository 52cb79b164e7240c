/*
 * wast.c - the spec-test runner. It drives the library only through the
 * public API (wex.h), the way any embedder would, so it also tests the API.
 *
 * Per .json file: one store; the `spectest` host module built into it; the
 * modules named `$M` and the instances registered under an `as` name, which
 * later modules import from by (module name, field name).
 */
#include "wast.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

typedef enum { OUT_PASS, OUT_FAIL, OUT_SKIP } outcome_t;

/* What a name (a `$M` module name or a registered `as` name) refers to. A
 * module that failed or was skipped still binds its name, so that commands
 * on it fail or are skipped instead of silently using an older module. */
typedef enum { SLOT_NONE, SLOT_OK, SLOT_FAILED, SLOT_SKIPPED } slot_state_t;

typedef struct {
    char *name;
    size_t name_len;
    slot_state_t state;
    wex_instance_t *inst;
} binding_t;

typedef struct {
    binding_t *items;
    size_t len, cap;
} bindings_t;

typedef struct {
    const char *name;
    wex_extern_t ext;
} host_export_t;

#define SPECTEST_MAX 16

typedef struct {
    wex_engine_t *engine;
    wex_store_t *store;
    const wast_options_t *opts;
    char *dir; /* the .json's directory, for module file names */
    wex_module_t **modules;
    size_t nmodules, capmodules;
    bindings_t named;      /* $M -> instance */
    bindings_t registered; /* "as" name -> instance */
    slot_state_t current_state;
    wex_instance_t *current;
    host_export_t spectest[SPECTEST_MAX];
    size_t nspectest;
    wast_counts_t counts;
    char why[1024];    /* why the current command failed or was skipped */
    char msgnote[512]; /* message mismatch detail for the current command */
} runner_t;

/* Record why a command failed (or was skipped) for the report line. */
static void note(runner_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(runner_t *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

/* Keep every module until the store is gone: the API requires modules to
 * outlive the store that uses them. */
static bool keep_module(runner_t *r, wex_module_t *m) {
    if (r->nmodules == r->capmodules) {
        size_t cap = r->capmodules ? r->capmodules * 2 : 16;
        wex_module_t **p = realloc(r->modules, cap * sizeof *p);
        if (!p) return false;
        r->modules = p;
        r->capmodules = cap;
    }
    r->modules[r->nmodules++] = m;
    return true;
}

/* Bind a name; a later binding of the same name shadows the earlier one
 * because lookups search from the end. */
static bool bind(bindings_t *b, const char *name, size_t len, slot_state_t st, wex_instance_t *i) {
    if (b->len == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        binding_t *p = realloc(b->items, cap * sizeof *p);
        if (!p) return false;
        b->items = p;
        b->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return false;
    memcpy(copy, name, len);
    copy[len] = '\0';
    b->items[b->len++] = (binding_t){copy, len, st, i};
    return true;
}

/* Latest binding of a name, or NULL. */
static const binding_t *lookup(const bindings_t *b, const char *name, size_t len) {
    for (size_t i = b->len; i-- > 0;)
        if (b->items[i].name_len == len && memcmp(b->items[i].name, name, len) == 0)
            return &b->items[i];
    return NULL;
}

static void free_bindings(bindings_t *b) {
    for (size_t i = 0; i < b->len; i++)
        free(b->items[i].name);
    free(b->items);
    b->items = NULL;
    b->len = b->cap = 0;
}

/* ---------------------------------------------------------------- spectest */

/* The signature of one spectest print function; also the env of its host
 * function, so that -v can print the arguments. */
typedef struct {
    const char *name;
    uint32_t nparams;
    wex_valkind_t params[2];
} print_sig_t;

static const print_sig_t print_sigs[] = {
    {"print", 0, {WEX_I32, WEX_I32}},         {"print_i32", 1, {WEX_I32, WEX_I32}},
    {"print_i64", 1, {WEX_I64, WEX_I32}},     {"print_f32", 1, {WEX_F32, WEX_I32}},
    {"print_f64", 1, {WEX_F64, WEX_I32}},     {"print_i32_f32", 2, {WEX_I32, WEX_F32}},
    {"print_f64_f64", 2, {WEX_F64, WEX_F64}},
};

/* Format a value for messages: the kind, the value, and for floats the bits,
 * since NaN payloads matter. */
static void format_val(char *buf, size_t n, wex_valkind_t kind, const wex_val_t *v) {
    switch (kind) {
    case WEX_I32:
        snprintf(buf, n, "i32:%" PRId32 " (0x%" PRIx32 ")", v->of.i32, (uint32_t)v->of.i32);
        break;
    case WEX_I64:
        snprintf(buf, n, "i64:%" PRId64 " (0x%" PRIx64 ")", v->of.i64, (uint64_t)v->of.i64);
        break;
    case WEX_F32: {
        float f;
        memcpy(&f, &v->of.f32_bits, 4);
        snprintf(buf, n, "f32:%.9g (0x%08" PRIx32 ")", (double)f, v->of.f32_bits);
        break;
    }
    case WEX_F64: {
        double d;
        memcpy(&d, &v->of.f64_bits, 8);
        snprintf(buf, n, "f64:%.17g (0x%016" PRIx64 ")", d, v->of.f64_bits);
        break;
    }
    case WEX_FUNCREF: snprintf(buf, n, "funcref:%s", v->of.funcref ? "non-null" : "null"); break;
    case WEX_EXTERNREF:
        if (v->of.externref)
            snprintf(buf, n, "externref:%" PRIuPTR, (uintptr_t)v->of.externref - 1);
        else
            snprintf(buf, n, "externref:null");
        break;
    default: snprintf(buf, n, "kind 0x%x", (unsigned)kind); break;
    }
}

/* spectest.print*: print nothing, or under -v the call and its arguments. */
static wex_error_t *spectest_print(void *env, wex_store_t *store, const wex_val_t *args,
                                   wex_val_t *results) {
    const print_sig_t *sig = env;
    const runner_t *r = wex_store_data(store);
    if (r && r->opts->verbose) {
        printf("spectest.%s(", sig->name);
        for (uint32_t i = 0; i < sig->nparams; i++) {
            char buf[96];
            format_val(buf, sizeof buf, sig->params[i], &args[i]);
            printf("%s%s", i ? ", " : "", buf);
        }
        printf(")\n");
    }
    return NULL;
}

/* Add one export to the spectest table. */
static void spectest_add(runner_t *r, const char *name, wex_extern_t ext) {
    if (r->nspectest < SPECTEST_MAX) r->spectest[r->nspectest++] = (host_export_t){name, ext};
}

/* An immutable spectest global. */
static bool spectest_global(runner_t *r, const char *name, wex_valkind_t kind, uint64_t bits) {
    wex_val_t v;
    memset(&v, 0, sizeof v);
    v.kind = kind;
    if (kind == WEX_I32)
        v.of.i32 = (int32_t)bits;
    else if (kind == WEX_F32)
        v.of.f32_bits = (uint32_t)bits;
    else
        v.of.i64 = (int64_t)bits; /* i64 and f64 share the 64-bit slot */
    if (kind == WEX_F64) v.of.f64_bits = bits;
    wex_global_t *g;
    wex_error_t *err = wex_global_new(r->store, v, false, &g);
    if (err) {
        fprintf(stderr, "spectest: cannot make global %s: %s\n", name, wex_error_message(err));
        wex_error_delete(err);
        return false;
    }
    wex_extern_t ext = {.kind = WEX_EXTERN_GLOBAL, .of.global = g};
    spectest_add(r, name, ext);
    return true;
}

/* Build the spectest host module in the runner's store, through the public
 * API. Its exact limits matter: the unlinkable tests check them. */
static bool spectest_build(runner_t *r) {
    bool ok = true;
    r->nspectest = 0;
    for (size_t i = 0; i < sizeof print_sigs / sizeof print_sigs[0]; i++) {
        const print_sig_t *sig = &print_sigs[i];
        wex_functype_t ft = {sig->nparams, 0, sig->params, NULL};
        wex_func_t *f = wex_func_new(r->store, &ft, spectest_print, (void *)sig, NULL);
        if (!f) {
            fprintf(stderr, "spectest: cannot make function %s\n", sig->name);
            ok = false;
            continue;
        }
        wex_extern_t ext = {.kind = WEX_EXTERN_FUNC, .of.func = f};
        spectest_add(r, sig->name, ext);
    }
    ok &= spectest_global(r, "global_i32", WEX_I32, 666);
    ok &= spectest_global(r, "global_i64", WEX_I64, 666);
    ok &= spectest_global(r, "global_f32", WEX_F32, 0x4426A666u);
    ok &= spectest_global(r, "global_f64", WEX_F64, 0x4084D4CCCCCCCCCDull);

    wex_val_t null_ref;
    memset(&null_ref, 0, sizeof null_ref);
    null_ref.kind = WEX_FUNCREF;
    wex_table_t *t;
    wex_limits_t tl = {.min = 10, .max = 20, .has_max = true, .shared = false};
    wex_error_t *err = wex_table_new(r->store, WEX_FUNCREF, tl, null_ref, &t);
    if (err) {
        fprintf(stderr, "spectest: cannot make table: %s\n", wex_error_message(err));
        wex_error_delete(err);
        ok = false;
    } else {
        wex_extern_t ext = {.kind = WEX_EXTERN_TABLE, .of.table = t};
        spectest_add(r, "table", ext);
    }

    wex_memory_t *m;
    wex_limits_t ml = {.min = 1, .max = 2, .has_max = true, .shared = false};
    err = wex_memory_new(r->store, ml, &m);
    if (err) {
        fprintf(stderr, "spectest: cannot make memory: %s\n", wex_error_message(err));
        wex_error_delete(err);
        ok = false;
    } else {
        wex_extern_t ext = {.kind = WEX_EXTERN_MEMORY, .of.memory = m};
        spectest_add(r, "memory", ext);
    }
    /* The threads proposal's tests import a shared one too. */
    ml.shared = true;
    err = wex_memory_new(r->store, ml, &m);
    if (err) {
        fprintf(stderr, "spectest: cannot make shared memory: %s\n", wex_error_message(err));
        wex_error_delete(err);
        ok = false;
    } else {
        wex_extern_t ext = {.kind = WEX_EXTERN_MEMORY, .of.memory = m};
        spectest_add(r, "shared_memory", ext);
    }
    return ok;
}

/* ---------------------------------------------------------------- linking */

/* Find the extern for one import: registered instances first (the latest
 * registration of a name wins), then the spectest module. */
static bool resolve_import(runner_t *r, const wex_importdesc_t *d, wex_extern_t *out) {
    const binding_t *b = lookup(&r->registered, d->module, d->module_len);
    if (b) {
        if (b->state != SLOT_OK) return false;
        return wex_instance_export(b->inst, d->name, d->name_len, out);
    }
    if (d->module_len == 8 && memcmp(d->module, "spectest", 8) == 0) {
        for (size_t i = 0; i < r->nspectest; i++)
            if (strlen(r->spectest[i].name) == d->name_len &&
                memcmp(r->spectest[i].name, d->name, d->name_len) == 0) {
                *out = r->spectest[i].ext;
                return true;
            }
    }
    return false;
}

/* Resolve all imports of m by name into a new array (*out, freed by the
 * caller). Type checking is the library's job. On an unknown name, returns
 * false with the reason noted: the runner itself finds it unlinkable. */
static bool link_imports(runner_t *r, const wex_module_t *m, wex_extern_t **out, size_t *n) {
    size_t count = wex_module_import_count(m);
    wex_extern_t *ext = calloc(count ? count : 1, sizeof *ext);
    if (!ext) {
        note(r, "out of memory");
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        wex_importdesc_t d;
        wex_module_import(m, i, &d);
        if (!resolve_import(r, &d, &ext[i])) {
            note(r, "unknown import %.*s::%.*s", (int)d.module_len, d.module, (int)d.name_len,
                 d.name);
            free(ext);
            return false;
        }
    }
    *out = ext;
    *n = count;
    return true;
}

/* ---------------------------------------------------------------- modules */

/* Load and compile the module file a command names. Returns the library's
 * error (caller owns) and sets *out on success; a file that cannot be read
 * sets *io_failed instead. */
static wex_error_t *load_module(runner_t *r, const json_t *cmd, wex_module_t **out,
                                bool *io_failed) {
    *out = NULL;
    *io_failed = false;
    const char *file = json_get_string(cmd, "filename", NULL);
    if (!file) {
        note(r, "command has no filename");
        *io_failed = true;
        return NULL;
    }
    size_t plen = strlen(r->dir) + strlen(file) + 2;
    char *path = malloc(plen);
    if (!path) {
        note(r, "out of memory");
        *io_failed = true;
        return NULL;
    }
    snprintf(path, plen, "%s/%s", r->dir, file);
    uint8_t *bytes;
    size_t len;
    bool ok = cli_read_file(path, &bytes, &len, r->why, sizeof r->why);
    free(path);
    if (!ok) {
        *io_failed = true;
        return NULL;
    }
    wex_error_t *err = wex_module_new(r->engine, bytes, len, out);
    free(bytes);
    if (!err && *out && !keep_module(r, *out)) {
        wex_module_delete(*out);
        *out = NULL;
        note(r, "out of memory");
        *io_failed = true;
    }
    return err;
}

/* Is the command's module in text form (.wat)? Those need a text parser,
 * which wex does not have: skipped. */
static bool is_text_module(const json_t *cmd) {
    const char *mt = json_get_string(cmd, "module_type", NULL);
    if (mt && strcmp(mt, "text") == 0) return true;
    const char *file = json_get_string(cmd, "filename", NULL);
    size_t n = file ? strlen(file) : 0;
    return n > 4 && strcmp(file + n - 4, ".wat") == 0;
}

/* Compare the expected text with our message: the spec interpreter's rule is
 * that the expected text is a prefix of the actual message. For traps, the
 * canonical message of the trap code counts too. Mismatches are counted and
 * shown under -v, never failures. */
static void check_message(runner_t *r, const json_t *cmd, const wex_error_t *err) {
    const char *text = json_get_string(cmd, "text", NULL);
    if (!text || !err) return;
    size_t n = strlen(text);
    const char *msg = wex_error_message(err);
    if (msg && strncmp(msg, text, n) == 0) return;
    wex_trapcode_t tc = wex_error_trap_code(err);
    if (tc != WEX_TRAP_NONE) {
        const char *tm = wex_trap_message(tc);
        if (tm && strncmp(tm, text, n) == 0) return;
    }
    r->counts.msg_mismatches++;
    snprintf(r->msgnote, sizeof r->msgnote, "expected \"%s\", got \"%s\"", text,
             msg ? msg : "(null)");
}

/* Name of an error code, for failure reasons. */
static const char *code_name(const wex_error_t *err) {
    return err ? wex_errcode_name(wex_error_code(err)) : "success";
}

/* `module`: compile, link, instantiate; it becomes the current module and,
 * if named, binds its name. */
static outcome_t cmd_module(runner_t *r, const json_t *cmd) {
    size_t name_len = 0;
    const char *name = json_get_string(cmd, "name", &name_len);
    slot_state_t state = SLOT_FAILED;
    wex_instance_t *inst = NULL;
    outcome_t out = OUT_FAIL;

    if (is_text_module(cmd)) {
        note(r, "text module");
        state = SLOT_SKIPPED;
        out = OUT_SKIP;
    } else {
        wex_module_t *m;
        bool io_failed;
        wex_error_t *err = load_module(r, cmd, &m, &io_failed);
        if (err && wex_error_code(err) == WEX_ERR_UNSUPPORTED) {
            note(r, "unsupported: %s", wex_error_message(err));
            state = SLOT_SKIPPED;
            out = OUT_SKIP;
        } else if (err) {
            note(r, "compile failed: %s: %s", code_name(err), wex_error_message(err));
        } else if (!io_failed) {
            wex_extern_t *imports;
            size_t n;
            if (link_imports(r, m, &imports, &n)) {
                err = wex_instance_new(r->store, m, imports, n, &inst);
                free(imports);
                if (err) {
                    note(r, "instantiation failed: %s: %s", code_name(err), wex_error_message(err));
                    inst = NULL;
                } else {
                    state = SLOT_OK;
                    out = OUT_PASS;
                }
            }
        }
        wex_error_delete(err);
    }
    r->current_state = state;
    r->current = inst;
    if (name && !bind(&r->named, name, name_len, state, inst)) {
        note(r, "out of memory");
        out = OUT_FAIL;
    }
    return out;
}

/* `register`: make an instance importable under the `as` name. */
static outcome_t cmd_register(runner_t *r, const json_t *cmd) {
    size_t as_len, name_len;
    const char *as = json_get_string(cmd, "as", &as_len);
    const char *name = json_get_string(cmd, "name", &name_len);
    if (!as) {
        note(r, "register without \"as\"");
        return OUT_FAIL;
    }
    slot_state_t state = r->current_state;
    wex_instance_t *inst = r->current;
    if (name) {
        const binding_t *b = lookup(&r->named, name, name_len);
        state = b ? b->state : SLOT_NONE;
        inst = b ? b->inst : NULL;
    }
    if (!bind(&r->registered, as, as_len, state, inst)) {
        note(r, "out of memory");
        return OUT_FAIL;
    }
    if (state == SLOT_SKIPPED) {
        note(r, "module was skipped");
        return OUT_SKIP;
    }
    if (state != SLOT_OK) {
        note(r, "no module to register (%s)", state == SLOT_NONE ? "none" : "it failed");
        return OUT_FAIL;
    }
    return OUT_PASS;
}

/* ---------------------------------------------------------------- values */

/* Map a JSON type name to a value kind. v128 is recognised so that callers
 * can skip it. Returns false for an unknown name. */
static bool kind_of(const char *t, wex_valkind_t *out) {
    static const struct {
        const char *name;
        wex_valkind_t kind;
    } map[] = {{"i32", WEX_I32},
               {"i64", WEX_I64},
               {"f32", WEX_F32},
               {"f64", WEX_F64},
               {"v128", WEX_V128},
               {"funcref", WEX_FUNCREF},
               {"externref", WEX_EXTERNREF}};
    for (size_t i = 0; t && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(t, map[i].name) == 0) {
            *out = map[i].kind;
            return true;
        }
    return false;
}

/* Does a list of {type, value} objects mention v128 (SIMD: skipped)? */
static bool has_v128(const json_t *list) {
    for (size_t i = 0; i < json_array_len(list); i++) {
        const char *t = json_get_string(json_array_at(list, i), "type", NULL);
        if (t && strcmp(t, "v128") == 0) return true;
    }
    return false;
}

/* Parse an unsigned decimal string up to max; wast2json writes all integer
 * and float values as their bit patterns in decimal. */
static bool parse_bits(const char *s, uint64_t max, uint64_t *out) {
    if (!s || *s < '0' || *s > '9') return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) return false;
    *out = v;
    return true;
}

/* An argument value from the JSON: {"type": "i32", "value": "4294967295"}.
 * externref ids map to (void *)(id + 1), so that id 0 is not NULL. */
static bool parse_arg(runner_t *r, const json_t *j, wex_val_t *out) {
    const char *t = json_get_string(j, "type", NULL);
    const char *v = json_get_string(j, "value", NULL);
    wex_valkind_t kind;
    uint64_t bits;
    memset(out, 0, sizeof *out);
    if (!kind_of(t, &kind) || kind == WEX_V128) {
        note(r, "unsupported argument type %s", t ? t : "(none)");
        return false;
    }
    out->kind = kind;
    bool is_null = v && strcmp(v, "null") == 0;
    switch (kind) {
    case WEX_I32:
        if (!parse_bits(v, UINT32_MAX, &bits)) break;
        out->of.i32 = (int32_t)(uint32_t)bits;
        return true;
    case WEX_I64:
        if (!parse_bits(v, UINT64_MAX, &bits)) break;
        out->of.i64 = (int64_t)bits;
        return true;
    case WEX_F32:
        if (!parse_bits(v, UINT32_MAX, &bits)) break;
        out->of.f32_bits = (uint32_t)bits;
        return true;
    case WEX_F64:
        if (!parse_bits(v, UINT64_MAX, &bits)) break;
        out->of.f64_bits = bits;
        return true;
    case WEX_EXTERNREF:
        if (is_null) return true;
        if (!parse_bits(v, UINTPTR_MAX - 1, &bits)) break;
        out->of.externref = (void *)(uintptr_t)(bits + 1);
        return true;
    case WEX_FUNCREF:
        if (is_null) return true;
        break; /* only null funcrefs can be written in a .wast */
    default: break;
    }
    note(r, "bad %s argument value \"%s\"", t, v ? v : "(none)");
    return false;
}

/* Check one result against its expectation. Floats compare by bits, except
 * the NaN patterns: nan:canonical is exactly the quiet bit in the payload
 * (either sign), nan:arithmetic is any NaN with the quiet bit set. A
 * reference expectation other than "null" (or with no value) only asks for a
 * non-null reference, except externrefs with an id, which must match. */
static bool match_result(runner_t *r, size_t i, const json_t *exp, wex_valkind_t kind,
                         const wex_val_t *got) {
    const char *t = json_get_string(exp, "type", NULL);
    const char *v = json_get_string(exp, "value", NULL);
    wex_valkind_t ek;
    char gotbuf[128];
    format_val(gotbuf, sizeof gotbuf, kind, got);
    if (!kind_of(t, &ek) || ek != kind) {
        note(r, "result %zu: expected type %s, got %s", i, t ? t : "(none)", gotbuf);
        return false;
    }
    uint64_t bits = 0;
    bool ok = false;
    switch (kind) {
    case WEX_I32: ok = parse_bits(v, UINT32_MAX, &bits) && (uint32_t)got->of.i32 == bits; break;
    case WEX_I64: ok = parse_bits(v, UINT64_MAX, &bits) && (uint64_t)got->of.i64 == bits; break;
    case WEX_F32:
        if (v && strcmp(v, "nan:canonical") == 0)
            ok = (got->of.f32_bits & 0x7FFFFFFFu) == 0x7FC00000u;
        else if (v && strcmp(v, "nan:arithmetic") == 0)
            ok = (got->of.f32_bits & 0x7FC00000u) == 0x7FC00000u;
        else
            ok = parse_bits(v, UINT32_MAX, &bits) && got->of.f32_bits == bits;
        break;
    case WEX_F64:
        if (v && strcmp(v, "nan:canonical") == 0)
            ok = (got->of.f64_bits & 0x7FFFFFFFFFFFFFFFull) == 0x7FF8000000000000ull;
        else if (v && strcmp(v, "nan:arithmetic") == 0)
            ok = (got->of.f64_bits & 0x7FF8000000000000ull) == 0x7FF8000000000000ull;
        else
            ok = parse_bits(v, UINT64_MAX, &bits) && got->of.f64_bits == bits;
        break;
    case WEX_FUNCREF:
        if (v && strcmp(v, "null") == 0)
            ok = got->of.funcref == NULL;
        else
            ok = got->of.funcref != NULL;
        break;
    case WEX_EXTERNREF:
        if (v && strcmp(v, "null") == 0)
            ok = got->of.externref == NULL;
        else if (v && parse_bits(v, UINTPTR_MAX - 1, &bits))
            ok = got->of.externref == (void *)(uintptr_t)(bits + 1);
        else
            ok = got->of.externref != NULL;
        break;
    default: break;
    }
    if (!ok) note(r, "result %zu: expected %s:%s, got %s", i, t, v ? v : "(any)", gotbuf);
    return ok;
}

/* ---------------------------------------------------------------- actions */

/* The outcome of running an action. */
typedef struct {
    wex_val_t *vals;
    wex_valkind_t *kinds;
    size_t n;
    wex_error_t *err; /* the call's error (a trap...), owned */
} action_result_t;

typedef enum { ACT_RAN, ACT_BROKEN, ACT_SKIPPED } act_status_t;

static void free_action_result(action_result_t *res) {
    free(res->vals);
    free(res->kinds);
    wex_error_delete(res->err);
    memset(res, 0, sizeof *res);
}

/* Find the instance an action addresses: its "module" name, or the current
 * module. */
static act_status_t action_instance(runner_t *r, const json_t *action, wex_instance_t **out) {
    size_t len;
    const char *name = json_get_string(action, "module", &len);
    slot_state_t st = r->current_state;
    wex_instance_t *inst = r->current;
    if (name) {
        const binding_t *b = lookup(&r->named, name, len);
        st = b ? b->state : SLOT_NONE;
        inst = b ? b->inst : NULL;
    }
    if (st == SLOT_SKIPPED) {
        note(r, "module was skipped");
        return ACT_SKIPPED;
    }
    if (st != SLOT_OK) {
        note(r, "no module %s(%s)", name ? name : "", st == SLOT_NONE ? "none" : "it failed");
        return ACT_BROKEN;
    }
    *out = inst;
    return ACT_RAN;
}

/* Run an `invoke` or `get` action. ACT_RAN means the call happened (its
 * error, if any, is in res->err); ACT_BROKEN means the action could not even
 * be attempted (no such export, bad arguments): always a failure. */
static act_status_t run_action(runner_t *r, const json_t *action, action_result_t *res) {
    memset(res, 0, sizeof *res);
    const char *type = json_get_string(action, "type", NULL);
    size_t flen;
    const char *field = json_get_string(action, "field", &flen);
    if (!type || !field) {
        note(r, "malformed action");
        return ACT_BROKEN;
    }
    const json_t *args = json_get(action, "args");
    if (has_v128(args)) {
        note(r, "v128 argument (SIMD)");
        return ACT_SKIPPED;
    }
    wex_instance_t *inst;
    act_status_t st = action_instance(r, action, &inst);
    if (st != ACT_RAN) return st;
    wex_extern_t ext;
    if (!wex_instance_export(inst, field, flen, &ext)) {
        note(r, "no export \"%s\"", field);
        return ACT_BROKEN;
    }

    if (strcmp(type, "get") == 0) {
        if (ext.kind != WEX_EXTERN_GLOBAL) {
            note(r, "export \"%s\" is not a global", field);
            return ACT_BROKEN;
        }
        res->vals = malloc(sizeof *res->vals);
        res->kinds = malloc(sizeof *res->kinds);
        if (!res->vals || !res->kinds) {
            note(r, "out of memory");
            return ACT_BROKEN;
        }
        res->vals[0] = wex_global_get(ext.of.global);
        res->kinds[0] = wex_global_kind(ext.of.global);
        res->n = 1;
        return ACT_RAN;
    }
    if (strcmp(type, "invoke") != 0) {
        note(r, "unknown action type %s", type);
        return ACT_BROKEN;
    }
    if (ext.kind != WEX_EXTERN_FUNC) {
        note(r, "export \"%s\" is not a function", field);
        return ACT_BROKEN;
    }
    wex_functype_t ft = wex_func_type(ext.of.func);
    size_t nargs = json_array_len(args);
    if (nargs != ft.nparams) {
        note(r, "\"%s\" takes %u arguments, the test gives %zu", field, ft.nparams, nargs);
        return ACT_BROKEN;
    }
    for (uint32_t i = 0; i < ft.nresults; i++)
        if (ft.results[i] == WEX_V128) {
            note(r, "v128 result (SIMD)");
            return ACT_SKIPPED;
        }
    wex_val_t *argv = calloc(nargs ? nargs : 1, sizeof *argv);
    res->vals = calloc(ft.nresults ? ft.nresults : 1, sizeof *res->vals);
    res->kinds = calloc(ft.nresults ? ft.nresults : 1, sizeof *res->kinds);
    if (!argv || !res->vals || !res->kinds) {
        free(argv);
        note(r, "out of memory");
        return ACT_BROKEN;
    }
    for (size_t i = 0; i < nargs; i++) {
        if (!parse_arg(r, json_array_at(args, i), &argv[i])) {
            free(argv);
            return ACT_BROKEN;
        }
        if (argv[i].kind != ft.params[i]) {
            note(r, "argument %zu has the wrong type", i);
            free(argv);
            return ACT_BROKEN;
        }
    }
    res->n = ft.nresults;
    for (uint32_t i = 0; i < ft.nresults; i++)
        res->kinds[i] = ft.results[i];
    res->err = wex_func_call(r->store, ext.of.func, argv, nargs, res->vals, res->n);
    free(argv);
    return ACT_RAN;
}

/* `action`: run it; only an error fails it. */
static outcome_t cmd_action(runner_t *r, const json_t *cmd) {
    action_result_t res;
    act_status_t st = run_action(r, json_get(cmd, "action"), &res);
    outcome_t out = st == ACT_SKIPPED ? OUT_SKIP : OUT_FAIL;
    if (st == ACT_RAN) {
        if (res.err)
            note(r, "%s: %s", code_name(res.err), wex_error_message(res.err));
        else
            out = OUT_PASS;
    }
    free_action_result(&res);
    return out;
}

/* `assert_return`: run and compare every result. */
static outcome_t cmd_assert_return(runner_t *r, const json_t *cmd) {
    const json_t *expected = json_get(cmd, "expected");
    if (has_v128(expected)) {
        note(r, "v128 result (SIMD)");
        return OUT_SKIP;
    }
    action_result_t res;
    act_status_t st = run_action(r, json_get(cmd, "action"), &res);
    outcome_t out = st == ACT_SKIPPED ? OUT_SKIP : OUT_FAIL;
    if (st == ACT_RAN) {
        if (res.err) {
            note(r, "unexpected %s: %s", code_name(res.err), wex_error_message(res.err));
        } else if (res.n != json_array_len(expected)) {
            note(r, "%zu results, expected %zu", res.n, json_array_len(expected));
        } else {
            out = OUT_PASS;
            for (size_t i = 0; i < res.n && out == OUT_PASS; i++)
                if (!match_result(r, i, json_array_at(expected, i), res.kinds[i], &res.vals[i]))
                    out = OUT_FAIL;
        }
    }
    free_action_result(&res);
    return out;
}

/* Instantiate a compiled module expecting a failure with code `want`
 * (UNLINKABLE or TRAP). An import the runner cannot find by name is itself
 * an unlinkable outcome. */
static outcome_t expect_instantiation_failure(runner_t *r, const json_t *cmd, wex_module_t *m,
                                              wex_errcode_t want) {
    wex_extern_t *imports;
    size_t n;
    if (!link_imports(r, m, &imports, &n)) {
        if (want == WEX_ERR_UNLINKABLE) return OUT_PASS;
        return OUT_FAIL; /* reason noted by link_imports */
    }
    wex_instance_t *inst = NULL;
    wex_error_t *err = wex_instance_new(r->store, m, imports, n, &inst);
    free(imports);
    outcome_t out = OUT_FAIL;
    if (err && wex_error_code(err) == want) {
        check_message(r, cmd, err);
        out = OUT_PASS;
    } else if (err) {
        note(r, "expected %s, got %s: %s", wex_errcode_name(want), code_name(err),
             wex_error_message(err));
    } else {
        note(r, "expected %s, but instantiation succeeded", wex_errcode_name(want));
    }
    wex_error_delete(err);
    return out;
}

/* assert_invalid / assert_malformed / assert_unlinkable /
 * assert_uninstantiable (and assert_trap on a module): compile, and expect
 * the failure at the right stage with the right code. */
static outcome_t cmd_assert_module(runner_t *r, const json_t *cmd, wex_errcode_t want) {
    if (is_text_module(cmd)) {
        note(r, "text module");
        return OUT_SKIP;
    }
    wex_module_t *m;
    bool io_failed;
    wex_error_t *err = load_module(r, cmd, &m, &io_failed);
    if (io_failed) return OUT_FAIL;
    outcome_t out = OUT_FAIL;
    if (want == WEX_ERR_MALFORMED || want == WEX_ERR_INVALID) {
        if (err && wex_error_code(err) == want) {
            check_message(r, cmd, err);
            out = OUT_PASS;
        } else if (err) {
            note(r, "expected %s, got %s: %s", wex_errcode_name(want), code_name(err),
                 wex_error_message(err));
        } else {
            note(r, "expected %s, but the module compiled", wex_errcode_name(want));
        }
    } else if (err) {
        note(r, "expected %s at instantiation, but compiling failed: %s: %s",
             wex_errcode_name(want), code_name(err), wex_error_message(err));
    } else {
        out = expect_instantiation_failure(r, cmd, m, want);
    }
    wex_error_delete(err);
    return out;
}

/* assert_trap / assert_exhaustion on an action: the call must trap. */
static outcome_t cmd_assert_trap(runner_t *r, const json_t *cmd) {
    if (!json_get(cmd, "action")) return cmd_assert_module(r, cmd, WEX_ERR_TRAP);
    action_result_t res;
    act_status_t st = run_action(r, json_get(cmd, "action"), &res);
    outcome_t out = st == ACT_SKIPPED ? OUT_SKIP : OUT_FAIL;
    if (st == ACT_RAN) {
        if (res.err && wex_error_code(res.err) == WEX_ERR_TRAP) {
            check_message(r, cmd, res.err);
            out = OUT_PASS;
        } else if (res.err) {
            note(r, "expected a trap, got %s: %s", code_name(res.err), wex_error_message(res.err));
        } else {
            note(r, "expected a trap (\"%s\"), but the call returned",
                 json_get_string(cmd, "text", NULL) ? json_get_string(cmd, "text", NULL) : "");
        }
    }
    free_action_result(&res);
    return out;
}

/* Dispatch one command by its type. */
static outcome_t run_command(runner_t *r, const json_t *cmd) {
    const char *type = json_get_string(cmd, "type", NULL);
    r->why[0] = '\0';
    r->msgnote[0] = '\0';
    if (!type) {
        note(r, "command without a type");
        return OUT_FAIL;
    }
    if (strcmp(type, "module") == 0) return cmd_module(r, cmd);
    if (strcmp(type, "register") == 0) return cmd_register(r, cmd);
    if (strcmp(type, "action") == 0) return cmd_action(r, cmd);
    if (strcmp(type, "assert_return") == 0) return cmd_assert_return(r, cmd);
    if (strcmp(type, "assert_trap") == 0 || strcmp(type, "assert_exhaustion") == 0)
        return cmd_assert_trap(r, cmd);
    if (strcmp(type, "assert_invalid") == 0) return cmd_assert_module(r, cmd, WEX_ERR_INVALID);
    if (strcmp(type, "assert_malformed") == 0) return cmd_assert_module(r, cmd, WEX_ERR_MALFORMED);
    if (strcmp(type, "assert_unlinkable") == 0)
        return cmd_assert_module(r, cmd, WEX_ERR_UNLINKABLE);
    if (strcmp(type, "assert_uninstantiable") == 0) return cmd_assert_module(r, cmd, WEX_ERR_TRAP);
    note(r, "unknown command type %s", type);
    return OUT_FAIL;
}

/* ---------------------------------------------------------------- files */

/* The directory part of a path ("." if none), malloc'ed. */
static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* The file name part of a path, for the report lines. */
static const char *base_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Print the per-file line and add the file's counts to the total. */
static void report_file(const char *path, const wast_counts_t *c, wast_counts_t *total) {
    if (c->failed)
        printf("FAIL %s (%lu passed, %lu failed", base_of(path), c->passed, c->failed);
    else
        printf("PASS %s (%lu passed", base_of(path), c->passed);
    if (c->skipped) printf(", %lu skipped", c->skipped);
    printf(")\n");
    total->passed += c->passed;
    total->failed += c->failed;
    total->skipped += c->skipped;
    total->msg_mismatches += c->msg_mismatches;
}

bool wast_run_file(wex_engine_t *engine, const char *path, const wast_options_t *opts,
                   wast_counts_t *total) {
    runner_t r;
    memset(&r, 0, sizeof r);
    r.engine = engine;
    r.opts = opts;
    r.current_state = SLOT_NONE;

    uint8_t *text;
    size_t len;
    char err[256];
    if (!cli_read_file(path, &text, &len, err, sizeof err)) {
        printf("  %s: %s\n", base_of(path), err);
        r.counts.failed++;
        report_file(path, &r.counts, total);
        return false;
    }
    json_t *doc = json_parse((const char *)text, len, err, sizeof err);
    free(text);
    const json_t *cmds = json_get(doc, "commands");
    if (!doc || !cmds || cmds->type != JSON_ARRAY) {
        printf("  %s: not a wast2json command list: %s\n", base_of(path),
               doc ? "no \"commands\" array" : err);
        json_free(doc);
        r.counts.failed++;
        report_file(path, &r.counts, total);
        return false;
    }

    r.dir = dir_of(path);
    r.store = wex_store_new(engine);
    if (!r.dir || !r.store) {
        printf("  %s: cannot create a store\n", base_of(path));
        r.counts.failed++;
    } else {
        wex_store_set_data(r.store, &r);
        if (!spectest_build(&r)) printf("  %s: the spectest module is incomplete\n", base_of(path));
        for (size_t i = 0; i < json_array_len(cmds); i++) {
            const json_t *cmd = json_array_at(cmds, i);
            outcome_t o = run_command(&r, cmd);
            long line = (long)json_get_number(cmd, "line", 0);
            const char *type = json_get_string(cmd, "type", NULL);
            if (o == OUT_PASS)
                r.counts.passed++;
            else if (o == OUT_SKIP)
                r.counts.skipped++;
            else
                r.counts.failed++;
            if (o == OUT_FAIL)
                printf("  %s:%ld: %s: %s\n", base_of(path), line, type ? type : "?", r.why);
            else if (o == OUT_SKIP && opts->verbose)
                printf("  %s:%ld: skipped %s: %s\n", base_of(path), line, type ? type : "?", r.why);
            if (r.msgnote[0] && opts->verbose)
                printf("  %s:%ld: message mismatch: %s\n", base_of(path), line, r.msgnote);
            fflush(stdout);
        }
        wex_store_delete(r.store);
    }
    for (size_t i = 0; i < r.nmodules; i++)
        wex_module_delete(r.modules[i]);
    free(r.modules);
    free_bindings(&r.named);
    free_bindings(&r.registered);
    free(r.dir);
    json_free(doc);
    report_file(path, &r.counts, total);
    return r.counts.failed == 0;
}
