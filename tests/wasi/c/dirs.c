/* dirs.c - directories: mkdir, readdir (sorted), rmdir, errors.
 * argv[1] is a scratch directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char d[512], p[600];

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *err(void) {
    switch (errno) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ENOTDIR: return "ENOTDIR";
    default: return "other";
    }
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    snprintf(d, sizeof d, "%s/dirs.d", argv[1]);
    printf("mkdir: %d\n", mkdir(d, 0755));
    int r = mkdir(d, 0755);
    printf("mkdir again: %d %s\n", r, err());
    const char *names[] = {"c", "a", "bb", "sub"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", d, names[i]);
        if (i == 3)
            mkdir(p, 0755);
        else
            close(open(p, O_CREAT | O_WRONLY, 0644));
    }
    DIR *dir = opendir(d);
    printf("opendir: %s\n", dir ? "ok" : "fail");
    char *seen[16];
    int n = 0;
    struct dirent *e;
    while (dir && (e = readdir(dir)) && n < 16)
        seen[n++] = strdup(e->d_name);
    if (dir) closedir(dir);
    qsort(seen, (size_t)n, sizeof *seen, cmp);
    for (int i = 0; i < n; i++) {
        printf("entry %s\n", seen[i]);
        free(seen[i]);
    }
    r = rmdir(d);
    printf("rmdir nonempty: %d %s\n", r, err());
    snprintf(p, sizeof p, "%s/a/x", d);
    r = open(p, O_RDONLY);
    printf("open through file: %d %s\n", r, err());
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", d, names[i]);
        printf("remove %s: %d\n", names[i], i == 3 ? rmdir(p) : unlink(p));
    }
    printf("rmdir: %d\n", rmdir(d));
    dir = opendir(d);
    printf("opendir missing: %s %s\n", dir ? "ok" : "fail", err());
    return 0;
}
