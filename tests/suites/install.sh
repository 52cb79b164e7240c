#!/usr/bin/env bash
# install.sh BUILD [...] - the installed wex, as an embedder and a user meet
# it: `cmake --install BUILD --prefix TMP`, then
#   1. the files: headers, libwex.a, libwex.so.0 (soname), wex.pc, the CMake
#      package, bin/wex and libexec/wex/wex-llvmc;
#   2. libwex.so exports the public API only (wex_*, no wex__*);
#   3. examples/embed.c built with pkg-config, against the shared library and
#      against the static one (pkg-config --static), and run;
#   4. the same with CMake's find_package(wex), both targets;
#   5. the installed `wex` runs a module, and compiles it natively with the
#      installed wex-llvmc (relative to itself).
# The prefix is a fresh temporary directory (not the configured one), so
# everything found there was found relative to the install. Last line:
# "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:-build}" && pwd)"
passed=0 failed=0
ok() { echo "PASS $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

if ! cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
    bad "cmake --install" "$(tail -n 3 "$tmp/install.log")"
    echo "$passed passed, $failed failed"
    exit 1
fi
ok "cmake --install $build --prefix (a temporary directory)"

# 1. the files (libdir as GNUInstallDirs chose it)
libdir="$(dirname "$(find "$prefix" -name libwex.a | head -n 1)")"
missing=""
for f in include/wex.h include/wex_wasi.h include/wex_cache.h include/wex_task.h bin/wex; do
    [ -e "$prefix/$f" ] || missing+=" $f"
done
for f in libwex.a libwex.so libwex.so.0 pkgconfig/wex.pc cmake/wex/wexConfig.cmake \
    cmake/wex/wexConfigVersion.cmake cmake/wex/wexTargets.cmake; do
    [ -e "$libdir/$f" ] || missing+=" $libdir/$f"
done
if [ -z "$missing" ]; then ok "installed files"; else bad "installed files" "missing$missing"; fi
soname="$(readelf -d "$libdir/libwex.so" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
if [ "$soname" = "libwex.so.0" ]; then ok "soname libwex.so.0"; else bad "soname" "'$soname'"; fi

# 2. exports
exports="$(nm -D --defined-only "$libdir/libwex.so" | awk '{print $3}')"
others="$(printf '%s\n' "$exports" | grep -v '^wex_[a-z]' | grep -v '^wasm_' | head -n 5)"
if [ -n "$exports" ] && [ -z "$others" ]; then
    ok "libwex.so exports $(printf '%s\n' "$exports" | wc -l) public symbols and nothing else"
else
    bad "libwex.so exports" "${others:-none at all}"
fi

want="$(printf 'print: 42\nrun(21) = 22')"
check_run() { # LABEL PROGRAM [ENV...]
    local label="$1" prog="$2" got
    shift 2
    got="$(env "$@" "$prog" 2>&1)"
    if [ "$got" = "$want" ]; then ok "$label"; else bad "$label" "$got"; fi
}

# 3. pkg-config
export PKG_CONFIG_PATH="$libdir/pkgconfig"
if ! command -v pkg-config >/dev/null 2>&1; then
    bad "pkg-config" "not installed (scripts/deps.sh installs it)"
else
    # shellcheck disable=SC2046
    if cc -std=c11 -Wall -Werror "$root/examples/embed.c" $(pkg-config --cflags --libs wex) \
        -o "$tmp/embed_shared" 2>"$tmp/cc.log"; then
        check_run "pkg-config, shared: examples/embed.c" "$tmp/embed_shared" \
            LD_LIBRARY_PATH="$libdir"
        if LD_LIBRARY_PATH="$libdir" ldd "$tmp/embed_shared" | grep -q "libwex.so.0 => $libdir"; then
            ok "the embedder loads the installed libwex.so.0"
        else
            bad "the embedder's libwex" "$(LD_LIBRARY_PATH="$libdir" ldd "$tmp/embed_shared" | grep wex)"
        fi
    else
        bad "pkg-config, shared: build" "$(head -n 5 "$tmp/cc.log")"
    fi
    # static: libwex.a by its path, the rest from Libs.private / Requires.private
    # shellcheck disable=SC2046
    if cc -std=c11 -Wall -Werror "$root/examples/embed.c" $(pkg-config --cflags wex) \
        "$libdir/libwex.a" $(pkg-config --static --libs wex | sed 's/-lwex//') \
        -o "$tmp/embed_static" 2>"$tmp/cc.log"; then
        if ldd "$tmp/embed_static" | grep -q libwex; then
            bad "pkg-config, static" "the program still needs libwex.so"
        else
            check_run "pkg-config, static: examples/embed.c" "$tmp/embed_static"
        fi
    else
        bad "pkg-config, static: build" "$(head -n 5 "$tmp/cc.log")"
    fi
fi

# 4. find_package(wex)
mkdir -p "$tmp/cm"
cat >"$tmp/cm/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(embed C)
find_package(wex 0.1 REQUIRED)
add_executable(embed_shared $root/examples/embed.c)
target_link_libraries(embed_shared PRIVATE wex::wex)
add_executable(embed_static $root/examples/embed.c)
target_link_libraries(embed_static PRIVATE wex::wex_static)
EOF
if cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/cm.log" 2>&1 &&
    cmake --build "$tmp/cm/build" >>"$tmp/cm.log" 2>&1; then
    check_run "find_package(wex), wex::wex" "$tmp/cm/build/embed_shared"
    check_run "find_package(wex), wex::wex_static" "$tmp/cm/build/embed_static"
else
    bad "find_package(wex)" "$(grep -m 3 -i 'error' "$tmp/cm.log")"
fi

# 5. the installed command, and its compiler found relative to it
wasm="$build/wat/fib.wasm"
if [ -f "$wasm" ]; then
    got="$("$prefix/bin/wex" run --no-cache -O tier=interp --invoke fib "$wasm" 20 2>&1)"
    if [ "$got" = "6765" ]; then ok "installed wex runs a module"; else bad "installed wex" "$got"; fi
    if [ -x "$build/wex-llvmc" ]; then
        got="$(WEX_LLVMC= "$prefix/bin/wex" run --no-cache -O tier=native --invoke fib "$wasm" 20 2>&1)"
        if [ "$got" = "6765" ]; then
            ok "installed wex compiles natively with libexec/wex/wex-llvmc"
        else
            bad "installed wex, native tier" "$got"
        fi
    fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
