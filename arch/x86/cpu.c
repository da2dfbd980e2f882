/* CPUID + XGETBV detection of AVX2/FMA and AVX-512, compiled without ISA
 * flags so it runs on any x86-64. No kernels here; the result is recomputed
 * on each call (cheap, only at plan/prepare time) so there is no state. */
#include <cpuid.h>
#include <stdint.h>
#include "x86.h"

static uint64_t xcr0(void) {
    uint32_t lo, hi;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

int et_x86_level(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!fma || !osxsave || !avx) return 0;
    uint64_t x = xcr0();
    if ((x & 6) != 6) return 0; /* the OS must save XMM and YMM state */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b >> 5) & 1;
    if (!avx2) return 0;
    int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    if (f && dq && bw && vl && (x & 0xe0) == 0xe0) return 3; /* opmask and ZMM state */
    return 2;
}
