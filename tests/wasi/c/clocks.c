/* clocks.c - clocks and sleeping: monotonic never goes back, realtime is
 * after 2020, a 20 ms nanosleep takes at least 20 ms. */
#include <stdio.h>
#include <time.h>

static long long ns(clockid_t c) {
    struct timespec t;
    if (clock_gettime(c, &t)) return -1;
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void) {
    long long a = ns(CLOCK_MONOTONIC), b = ns(CLOCK_MONOTONIC);
    printf("monotonic ordered: %d\n", a > 0 && b >= a);
    printf("realtime after 2020: %d\n", ns(CLOCK_REALTIME) > 1577836800LL * 1000000000LL);
    struct timespec res;
    int r = clock_getres(CLOCK_MONOTONIC, &res);
    printf("getres monotonic: %d positive %d\n", r, res.tv_sec > 0 || res.tv_nsec > 0);
    struct timespec d = {0, 20000000};
    long long t0 = ns(CLOCK_MONOTONIC);
    printf("nanosleep: %d\n", nanosleep(&d, NULL));
    printf("slept at least 20 ms: %d\n", ns(CLOCK_MONOTONIC) - t0 >= 20000000LL);
    printf("time() sane: %d\n", time(NULL) > 1577836800);
    return 0;
}
