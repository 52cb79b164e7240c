/* args_env.c - arguments (after argv[0]) and the environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("argc %d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("arg %d '%s'\n", i, argv[i]);
    const char *v = getenv("WEX_T1");
    printf("WEX_T1 %s\n", v ? v : "(unset)");
    v = getenv("WEX_T2");
    printf("WEX_T2 '%s'\n", v ? v : "(unset)");
    v = getenv("HOME");
    printf("HOME %s\n", v ? "set" : "(unset)");
    int n = 0;
    for (char **e = environ; *e; e++)
        n++;
    printf("environ entries %d\n", n);
    return 0;
}
