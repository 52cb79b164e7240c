/*
 * util.c - small helpers shared by the CLI's commands.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Read a whole file into memory; on failure say why in why[0..whylen).
 * open/read with the buffer sized from fstat, not stdio with a doubling
 * buffer: `wex run` reads its module at every start, and one read into the
 * right size saves the copies and system calls of the growing buffer. Files
 * whose size fstat does not know (pipes, /proc) or that grow meanwhile still
 * read whole: the buffer doubles when it fills.
 * With stop_magic (8 bytes): if the file starts with it, stop there and set
 * *stopped (nothing returned): `wex run` tells artifacts from modules with
 * the same open.
 */
static bool read_file(const char *path, const char *stop_magic, bool *stopped, uint8_t **bytes,
                      size_t *len, char *why, size_t whylen) {
    if (stopped) *stopped = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
        return false;
    }
    struct stat st;
    size_t cap = 4096, n = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uint64_t)st.st_size < SIZE_MAX - 1)
        cap = (size_t)st.st_size + 1; /* + 1: the read that sees the end */
    uint8_t *buf = malloc(cap);
    int err = buf ? 0 : ENOMEM;
    while (buf) {
        /* The magic's 8 bytes first, when asked: an artifact is not read. */
        size_t want = stop_magic && n < 8 ? 8 - n : cap - n;
        ssize_t got = read(fd, buf + n, want);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            err = errno;
            break;
        }
        if (got == 0) break;
        n += (size_t)got;
        if (stop_magic && n == 8 && memcmp(buf, stop_magic, 8) == 0) {
            *stopped = true;
            break;
        }
        if (n < cap) continue;
        uint8_t *b = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
        if (!b) {
            err = ENOMEM;
            break;
        }
        buf = b;
        cap *= 2;
    }
    close(fd);
    if (err || (stopped && *stopped)) {
        free(buf);
        if (!err) return true;
        snprintf(why, whylen, "cannot read %s: %s", path, strerror(err));
        return false;
    }
    *bytes = buf;
    *len = n;
    return true;
}

bool cli_read_file(const char *path, uint8_t **bytes, size_t *len, char *why, size_t whylen) {
    return read_file(path, NULL, NULL, bytes, len, why, whylen);
}

bool cli_read_file_unless(const char *path, const char *magic, bool *found, uint8_t **bytes,
                          size_t *len, char *why, size_t whylen) {
    return read_file(path, magic, found, bytes, len, why, whylen);
}
