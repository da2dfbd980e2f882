/* One core's measured FMA peak in GFLOP/s (2 flops per lane per FMA), for
 * benchmark reports. Benchmark support only; the library never uses it. */
#ifndef ET_BENCH_FMA_PEAK_H
#define ET_BENCH_FMA_PEAK_H

/* avx512: 0 for 256-bit AVX2+FMA, 1 for 512-bit AVX-512. 0.0 when this CPU
 * or build has no such unit. */
double et_bench_fma_peak(int avx512);

#endif
