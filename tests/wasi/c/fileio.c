/* fileio.c - file I/O through libc: create, write, read, seek, pread/pwrite,
 * truncate, append, stat, rename, unlink. argv[1] is a scratch directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[512], path2[512];

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    snprintf(path, sizeof path, "%s/fileio.txt", argv[1]);
    snprintf(path2, sizeof path2, "%s/fileio2.txt", argv[1]);
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    printf("open: %s\n", fd >= 0 ? "ok" : strerror(errno));
    if (fd < 0) return 1;
    printf("write: %zd\n", write(fd, "hello, world\n", 13));
    printf("lseek end: %ld\n", (long)lseek(fd, 0, SEEK_END));
    printf("lseek set: %ld\n", (long)lseek(fd, 7, SEEK_SET));
    char buf[64] = {0};
    ssize_t k = read(fd, buf, 5);
    printf("read: %zd '%.*s'\n", k, 5, buf);
    printf("pwrite: %zd\n", pwrite(fd, "W", 1, 7));
    memset(buf, 0, sizeof buf);
    k = pread(fd, buf, 12, 0);
    printf("pread: %zd '%s'\n", k, buf);
    printf("tell after pread: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    printf("ftruncate: %d\n", ftruncate(fd, 5));
    struct stat st;
    int r = fstat(fd, &st);
    printf("fstat: %d size %ld reg %d\n", r, (long)st.st_size, S_ISREG(st.st_mode));
    long o = (long)lseek(fd, -100, SEEK_SET);
    printf("lseek negative: %ld errno %s\n", o, errno == EINVAL ? "EINVAL" : "other");
    close(fd);
    fd = open(path, O_WRONLY | O_APPEND);
    printf("append write: %zd\n", write(fd, "++", 2));
    close(fd);
    FILE *f = fopen(path, "r");
    memset(buf, 0, sizeof buf);
    size_t z = fread(buf, 1, sizeof buf - 1, f);
    printf("fread: %zu '%s'\n", z, buf);
    fclose(f);
    printf("rename: %d\n", rename(path, path2));
    r = stat(path, &st);
    printf("stat old: %d %s\n", r, errno == ENOENT ? "ENOENT" : "other");
    r = stat(path2, &st);
    printf("stat new: %d size %ld\n", r, (long)st.st_size);
    r = open(path2, O_CREAT | O_EXCL | O_WRONLY, 0644);
    printf("open excl existing: %d %s\n", r, errno == EEXIST ? "EEXIST" : "other");
    printf("unlink: %d\n", unlink(path2));
    r = unlink(path2);
    printf("unlink again: %d %s\n", r, errno == ENOENT ? "ENOENT" : "other");
    r = open(path2, O_RDONLY);
    printf("open missing: %d %s\n", r, errno == ENOENT ? "ENOENT" : "other");
    return 0;
}
