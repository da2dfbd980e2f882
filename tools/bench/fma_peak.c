/* Measures one core's FMA throughput (AVX2 and AVX-512 separately) with a
 * loop of independent FMA chains, so benchmarks report "% of peak" against
 * this machine rather than a datasheet. Benchmark support only. */
#include <stddef.h>
#include <time.h>
#include "bench/fma_peak.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

/* 12 chains: enough to cover FMA latency x pipes on current x86 cores. */
#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

__attribute__((target("avx2,fma"))) static double run_avx2(size_t iters) {
    __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
#define D(i) __m256 c##i = _mm256_set1_ps((float)(i));
    CHAINS(D)
#undef D
    for (size_t k = 0; k < iters; k++) {
#define F(i) c##i = _mm256_fmadd_ps(c##i, m, a);
        CHAINS(F)
#undef F
        __asm__ __volatile__("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5));
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                             _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
    float out[8];
    _mm256_storeu_ps(out, s);
    return (double)out[0];
}

__attribute__((target("avx512f"))) static double run_avx512(size_t iters) {
    __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
#define D(i) __m512 c##i = _mm512_set1_ps((float)(i));
    CHAINS(D)
#undef D
    for (size_t k = 0; k < iters; k++) {
#define F(i) c##i = _mm512_fmadd_ps(c##i, m, a);
        CHAINS(F)
#undef F
        __asm__ __volatile__("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5));
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                             _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
    return (double)_mm512_reduce_add_ps(s);
}

static int has(int avx512) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return avx512 ? (int)((b >> 16) & 1) : (int)((b >> 5) & 1);
}

double et_bench_fma_peak(int avx512) {
    if (!has(avx512)) return 0.0;
    /* many short runs, best kept: a run the OS preempts only loses itself */
    size_t iters = 400000;
    double best = 0.0, sink = 0.0;
    for (int r = 0; r < 40; r++) {
        double t0 = now();
        sink += avx512 ? run_avx512(iters) : run_avx2(iters);
        double dt = now() - t0;
        double gf = (double)iters * 12.0 * (avx512 ? 16.0 : 8.0) * 2.0 / dt * 1e-9;
        if (gf > best) best = gf;
    }
    return sink == 12345.0 ? 0.0 : best; /* keeps sink observable */
}
#else
double et_bench_fma_peak(int avx512) { (void)avx512; (void)now; return 0.0; }
#endif
