/* Double-lane vocabulary for the NEON kernels that must round like the
 * double reference kernels (train-mode batchnorm, piecewise activation
 * derivatives): VDW doubles at a time, float memory widened on load and
 * narrowed on store, n < VDW lanes touching only p[0..n). A64 has
 * float64x2_t; ARMv7 NEON has no double lanes, so there VD is one scalar
 * double on the VFP unit (which, unlike ARMv7 NEON, keeps subnormals).
 * Include after simd.h. Macros and helpers only; no kernels here. */
#ifndef ET_ARCH_ARM_SIMD_F64_H
#define ET_ARCH_ARM_SIMD_F64_H

#include <stdint.h>
#include "simd.h"

#if defined(__aarch64__)
#define VDW 2
typedef float64x2_t VD;
typedef uint64x2_t VDM;
static inline VD vd_loadf(const float *p, size_t n) {
    if (n >= 2) return vcvt_f64_f32(vld1_f32(p));
    return vcvt_f64_f32(vset_lane_f32(n ? p[0] : 0.0f, vdup_n_f32(0.0f), 0));
}
static inline void vd_storef(float *p, size_t n, VD v) {
    float32x2_t f = vcvt_f32_f64(v);
    if (n >= 2) vst1_f32(p, f);
    else if (n) vst1_lane_f32(p, f, 0);
}
#define VD_LOAD(p) vld1q_f64(p)
#define VD_STORE(p, v) vst1q_f64((p), (v))
#define VD_SET1(x) vdupq_n_f64(x)
#define VD_ADD(a, b) vaddq_f64((a), (b))
#define VD_SUB(a, b) vsubq_f64((a), (b))
#define VD_MUL(a, b) vmulq_f64((a), (b))
#define VD_DIV(a, b) vdivq_f64((a), (b))
#define VD_GT(a, b) vcgtq_f64((a), (b))
#define VD_LT(a, b) vcltq_f64((a), (b))
#define VD_LE(a, b) vcleq_f64((a), (b))
#define VD_EQ(a, b) vceqq_f64((a), (b))
#define VDM_AND(a, b) vandq_u64((a), (b))
/* m ? b : a, as the x86 blend */
#define VD_BLEND(m, a, b) vbslq_f64((m), (b), (a))
/* Lane l on where bit l of b is set. */
static inline VDM vd_lanes(unsigned b) {
    const uint64_t t[2] = {0 - (uint64_t)(b & 1u), 0 - (uint64_t)((b >> 1) & 1u)};
    return vld1q_u64(t);
}
#else
#define VDW 1
typedef double VD;
typedef int VDM;
static inline VD vd_loadf(const float *p, size_t n) { return n ? (double)p[0] : 0.0; }
static inline void vd_storef(float *p, size_t n, VD v) { if (n) p[0] = (float)v; }
#define VD_LOAD(p) (*(p))
#define VD_STORE(p, v) (*(p) = (v))
#define VD_SET1(x) ((double)(x))
#define VD_ADD(a, b) ((a) + (b))
#define VD_SUB(a, b) ((a) - (b))
#define VD_MUL(a, b) ((a) * (b))
#define VD_DIV(a, b) ((a) / (b))
#define VD_GT(a, b) ((a) > (b))
#define VD_LT(a, b) ((a) < (b))
#define VD_LE(a, b) ((a) <= (b))
#define VD_EQ(a, b) ((a) == (b))
#define VDM_AND(a, b) ((a) && (b))
#define VD_BLEND(m, a, b) ((m) ? (b) : (a))
static inline VDM vd_lanes(unsigned b) { return (int)(b & 1u); }
#endif
#define VD_ZERO() VD_SET1(0.0)

/* Lanes for bits i .. i+n-1 (n <= VDW) of a bit mask (bit i of p[i/8]);
 * reads no byte past the one holding bit i+n-1. */
static inline VDM vd_bits(const uint8_t *p, size_t i, size_t n) {
    unsigned b = (unsigned)p[i / 8] >> (i % 8);
    if (i % 8 + n > 8) b |= (unsigned)p[i / 8 + 1] << (8 - i % 8);
    return vd_lanes(b);
}

#endif
