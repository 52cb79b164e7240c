#!/usr/bin/env bash
# deps.sh - install what building and testing wex needs, on Debian 12.
# Idempotent: installs only what is missing, and runs `apt-get update` only
# then. Needs root (or sudo) only when something is missing.
#
#   cmake, make, gcc, clang   build (clang: the second compiler CI checks with)
#   ninja-build               optional faster builds
#   wabt                      wat2wasm (examples) and wast2json (spec tests)
#   git                       the repository itself
#   python3                   the WASI suite runner (tests/wasi/run.py)
#   wasi-libc, libclang-rt-14-dev-wasm32
#                             clang --target=wasm32-wasi for the WASI C tests
#   libssl-dev                libcrypto: SHA-256 of modules, the compiled-module cache's key
#   llvm-19-dev               LLVM's C API for the native tier's compiler, wex-llvmc (the only
#                             program linking LLVM; the runtime runs it as a child process)
#   libclang-rt-14-dev        libFuzzer (clang -fsanitize=fuzzer) for tests/fuzz's harnesses
#   binaryen                  wasm-opt -ttf: random valid modules for the differential test
#   nodejs                    node (V8): the other engine of the differential test (and bench)
#   valgrind                  memcheck over the unit tests (tests/suites/memcheck.sh)
#   pkg-config                the install test builds an embedder with wex.pc
#                             (tests/suites/install.sh)
#   musl-tools                musl-gcc: bench/run's native-musl reference (native code with
#                             the C library wasi-libc is made from)
# The library links libc, libm (part of libc6-dev, pulled in by gcc) and libcrypto.
set -euo pipefail

# command -> Debian package
declare -A pkg_of=(
    [cmake]=cmake
    [make]=make
    [gcc]=gcc
    [clang]=clang
    [ninja]=ninja-build
    [wat2wasm]=wabt
    [wast2json]=wabt
    [git]=git
    [python3]=python3
    [wasm-ld]=lld
    [wasm-opt]=binaryen
    [node]=nodejs
    [valgrind]=valgrind
    [musl-gcc]=musl-tools
    [pkg-config]=pkg-config
)

# file -> Debian package, for packages without a command
declare -A pkg_of_file=(
    [/usr/lib/wasm32-wasi/libc.a]=wasi-libc
    [/usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi/libclang_rt.builtins-wasm32.a]=libclang-rt-14-dev-wasm32
    [/usr/include/openssl/evp.h]=libssl-dev
    [/usr/lib/llvm-19/include/llvm-c/Core.h]=llvm-19-dev
    [/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a]=libclang-rt-14-dev
)

missing=()
for cmd in "${!pkg_of[@]}"; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        missing+=("${pkg_of[$cmd]}")
    fi
done

for f in "${!pkg_of_file[@]}"; do
    [ -e "$f" ] || missing+=("${pkg_of_file[$f]}")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all present"
    exit 0
fi

# Deduplicate (wabt provides two commands).
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "deps: installing ${missing[*]}"

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "deps: missing packages (${missing[*]}) and not root; install them and rerun" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "deps: done"
