/* exitcode.c - exit status through exit() after buffered output. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    (void)argv;
    printf("before exit (buffered)");
    exit(argc > 3 ? 42 : 7);
}
