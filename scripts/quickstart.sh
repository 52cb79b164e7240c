#!/usr/bin/env bash
# quickstart.sh - from a fresh Debian 12 (as root) to a running wex:
# install dependencies, build Release into build/, compile examples/fib.wat
# and run it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "${JOBS:-2}" --target wex
wat2wasm examples/fib.wat -o build/fib.wasm
echo "\$ build/wex run --invoke fib build/fib.wasm 25"
build/wex run --invoke fib build/fib.wasm 25
