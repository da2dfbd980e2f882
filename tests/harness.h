/* A tiny test harness: each tests/test_<module>.c is one program whose main
 * calls RUN() per test and returns t_summary(). A test fails at its first
 * failed CHECK; SKIP ends one this build or CPU cannot run. The summary line
 * is "<file>: N passed, N failed", then ", N skipped" when any were. */
#ifndef ET_TEST_HARNESS_H
#define ET_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int t_passed, t_failed, t_skipped, t_cur_failed, t_cur_skipped;

static inline void t_report(const char *file, int line, const char *what) {
    if (!t_cur_failed) t_cur_failed = 1;
    printf("    %s:%d: check failed: %s\n", file, line, what);
}

#define CHECK(c) do { if (!(c)) { t_report(__FILE__, __LINE__, #c); return; } } while (0)
/* CHECK with a formatted explanation printed on failure. */
#define CHECKF(c, ...) do { if (!(c)) { printf("    "); printf(__VA_ARGS__); printf("\n"); \
    t_report(__FILE__, __LINE__, #c); return; } } while (0)
#define CHECK_OK(expr) do { et_status st_ = (expr); if (st_ != ET_OK) { \
    printf("    status %s\n", et_status_str(st_)); t_report(__FILE__, __LINE__, #expr); return; } } while (0)
#define CHECK_ST(expr, want) do { et_status st_ = (expr); if (st_ != (want)) { \
    printf("    got %s, want %s\n", et_status_str(st_), et_status_str(want)); \
    t_report(__FILE__, __LINE__, #expr); return; } } while (0)

/* Ends the current test as skipped, neither passed nor failed, saying why
 * (a kernel level this build or CPU lacks): a skip must not read as a pass. */
#define SKIP(...) do { printf("    skipped: "); printf(__VA_ARGS__); printf("\n"); \
    t_cur_skipped = 1; return; } while (0)

static inline void t_run(const char *name, void (*fn)(void)) {
    t_cur_failed = t_cur_skipped = 0;
    fn();
    if (t_cur_failed) t_failed++; else if (t_cur_skipped) t_skipped++; else t_passed++;
    printf("%s %s\n", t_cur_failed ? "FAIL" : t_cur_skipped ? "skip" : "ok  ", name);
    fflush(stdout);
}
#define RUN(fn) t_run(#fn, fn)

static inline int t_summary(const char *file) {
    printf("%s: %d passed, %d failed", file, t_passed, t_failed);
    if (t_skipped) printf(", %d skipped", t_skipped);
    printf("\n");
    return t_failed ? 1 : 0;
}

/* Max relative error |a-b| / max(1, max|b|) over n elements (NaN -> inf). */
static inline double t_max_rel_err(const float *a, const float *b, size_t n) {
    double scale = 1.0, worst = 0.0;
    for (size_t i = 0; i < n; i++) if (fabs((double)b[i]) > scale) scale = fabs((double)b[i]);
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d != d) return INFINITY;
        if (d > worst) worst = d;
    }
    return worst / scale;
}

/* Deterministic xorshift random numbers for test data. */
static inline unsigned t_rand(unsigned *s) { *s ^= *s << 13; *s ^= *s >> 17; *s ^= *s << 5; return *s; }
static inline float t_randf(unsigned *s) { return (float)(t_rand(s) & 0xffffff) / (float)0x800000 - 1.0f; }
static inline void t_fill(float *p, size_t n, unsigned seed) {
    unsigned s = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) p[i] = t_randf(&s);
}

#endif
