/*
 * trap.wasi.c - a WASI program that traps three calls below main, for the
 * CLI backtrace check (tests/suites/backtrace.sh). Built for WASI only: a
 * native build would just die of SIGILL. clang keeps function names in the
 * name section, which the backtrace prints.
 */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static int innermost(int x) {
    if (x > 0) __builtin_trap(); /* `unreachable` */
    return x;
}

__attribute__((noinline)) static int middle(int x) {
    return innermost(x + 1) * 3;
}

__attribute__((noinline)) static int outer(int x) {
    return middle(x * 2) + 1;
}

int main(int argc, char **argv) {
    (void)argv;
    printf("before the trap\n");
    fflush(stdout);
    return outer(argc);
}
