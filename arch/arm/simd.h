/* NEON helpers shared by the neon64 (A64) and neon32 (ARMv7 + VFPv4) kernels:
 * the few operations whose intrinsics differ between the two (division,
 * rounding, horizontal reductions) and the vectorized exp/sigmoid/tanh.
 * No kernels and no op semantics here. */
#ifndef ET_ARCH_ARM_SIMD_H
#define ET_ARCH_ARM_SIMD_H

#include <arm_neon.h>
#include "dispatch.h"

#if defined(__aarch64__)
#define ET_FN(name) name##__neon64
#define ET_ISA_STR "neon64"
#else
#if !defined(__ARM_NEON) || !defined(__ARM_FEATURE_FMA)
#error "arch/arm/neon32 needs -mfpu=neon-vfpv4 (NEON with fused multiply-add)"
#endif
#define ET_FN(name) name##__neon32
#define ET_ISA_STR "neon32"
#endif

typedef float32x4_t V;

static inline V v_div(V a, V b) {
#if defined(__aarch64__)
    return vdivq_f32(a, b);
#else
    /* ARMv7 has no vector divide: a reciprocal estimate (8 bits) and two
     * Newton steps give ~1 ulp; one correction of the quotient itself
     * then brings a/b within ~0.5 ulp, well inside the 1e-6 budget. */
    V r = vrecpeq_f32(b);
    r = vmulq_f32(r, vrecpsq_f32(b, r));
    r = vmulq_f32(r, vrecpsq_f32(b, r));
    V q = vmulq_f32(a, r);
    V q2 = vfmaq_f32(q, r, vfmsq_f32(a, b, q));
    /* infinite a or zero b make the correction inf - inf: keep q then */
    return vbslq_f32(vceqq_f32(q2, q2), q2, q);
#endif
}

/* p[0..n) into the low lanes, zeros above; never touches p[n] or beyond,
 * which is how channel tails stay inside their buffers (NEON has no masked
 * loads). n >= 4 is one plain load. */
static inline V v_loadn(const float *p, size_t n) {
    if (n >= 4) return vld1q_f32(p);
    const V z = vdupq_n_f32(0.0f);
    switch (n) {
    case 3: return vcombine_f32(vld1_f32(p), vset_lane_f32(p[2], vget_low_f32(z), 0));
    case 2: return vcombine_f32(vld1_f32(p), vget_low_f32(z));
    case 1: return vsetq_lane_f32(p[0], z, 0);
    default: return z;
    }
}

/* The low n lanes of v to p[0..n); n >= 4 is one plain store. */
static inline void v_storen(float *p, size_t n, V v) {
    if (n >= 4) { vst1q_f32(p, v); return; }
    if (n >= 2) vst1_f32(p, vget_low_f32(v));
    if (n == 3) vst1q_lane_f32(p + 2, v, 2);
    if (n == 1) vst1q_lane_f32(p, v, 0);
}

/* Round to nearest integer (ties to even), for |x| < 2^22. */
static inline V v_round(V x) {
#if defined(__aarch64__)
    return vrndnq_f32(x);
#else
    /* Adding 1.5 * 2^23 pushes the fraction bits out of the mantissa in
     * the current (nearest) rounding mode; subtracting restores the value. */
    const V magic = vdupq_n_f32(12582912.0f);
    return vsubq_f32(vaddq_f32(x, magic), magic);
#endif
}

static inline float v_hsum(V v) {
#if defined(__aarch64__)
    return vaddvq_f32(v);
#else
    float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpadd_f32(s, s), 0);
#endif
}

/* Max of the lanes; a NaN lane gives NaN (FMAX/VMAX propagate NaN). */
static inline float v_hmax(V v) {
#if defined(__aarch64__)
    return vmaxvq_f32(v);
#else
    float32x2_t m = vmax_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpmax_f32(m, m), 0);
#endif
}

/* exp(x), max relative error ~2e-7 in the normal range. Cody-Waite range
 * reduction x = n ln2 + r, |r| <= ln2/2, then a degree-7 Taylor polynomial
 * (truncation 5e-9 there); 2^n is applied as two factors so results down to
 * the subnormal range (n = -150) and up to overflow come out right. NaN
 * survives the clamps (FMAX/FMIN propagate it) and the polynomial. */
static inline V v_exp(V x) {
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-104.0f)), vdupq_n_f32(88.8f));
    V n = v_round(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
    V r = vfmsq_f32(x, n, vdupq_n_f32(0.693145751953125f));      /* ln2 high bits: n*hi is exact */
    r = vfmsq_f32(r, n, vdupq_n_f32(1.42860682030941723e-6f));   /* ln2 - hi */
    V p = vdupq_n_f32(1.0f / 5040.0f);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 720.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 120.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 24.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 6.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(0.5f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    int32x4_t ni = vcvtq_s32_f32(n);
    int32x4_t n1 = vshrq_n_s32(ni, 1), n2 = vsubq_s32(ni, n1);
    V s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, vdupq_n_s32(127)), 23));
    V s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, vdupq_n_s32(127)), 23));
    return vmulq_f32(vmulq_f32(p, s1), s2);
}

/* sigmoid as the reference writes it: exp only of -|x|, so nothing
 * overflows; 1/(1+e) for x >= 0, e/(1+e) below. */
static inline V v_sigmoid(V x) {
    V e = v_exp(vnegq_f32(vabsq_f32(x)));
    V num = vbslq_f32(vcltq_f32(x, vdupq_n_f32(0.0f)), e, vdupq_n_f32(1.0f));
    return v_div(num, vaddq_f32(vdupq_n_f32(1.0f), e));
}

/* tanh: (1-e)/(1+e) with e = exp(-2|x|) loses relative precision to
 * cancellation near 0, so |x| < 0.25 uses the odd Taylor series through
 * x^11 (next term < 1e-10 relative there). Sign restored last. */
static inline V v_tanh(V x) {
    V ax = vabsq_f32(x);
    V e = v_exp(vmulq_f32(ax, vdupq_n_f32(-2.0f)));
    V big = v_div(vsubq_f32(vdupq_n_f32(1.0f), e), vaddq_f32(vdupq_n_f32(1.0f), e));
    V z = vmulq_f32(ax, ax);
    V p = vdupq_n_f32(-1382.0f / 155925.0f);
    p = vfmaq_f32(vdupq_n_f32(62.0f / 2835.0f), p, z);
    p = vfmaq_f32(vdupq_n_f32(-17.0f / 315.0f), p, z);
    p = vfmaq_f32(vdupq_n_f32(2.0f / 15.0f), p, z);
    p = vfmaq_f32(vdupq_n_f32(-1.0f / 3.0f), p, z);
    V small = vfmaq_f32(ax, vmulq_f32(p, z), ax);
    V t = vbslq_f32(vcltq_f32(ax, vdupq_n_f32(0.25f)), small, big);
    const uint32x4_t sign = vdupq_n_u32(0x80000000u);
    return vbslq_f32(sign, x, t);
}

#endif
