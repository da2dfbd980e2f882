/* Activation backward (dx += dy * act'(x)) from the pre-activation or from a
 * one-bit mask, the mask itself, and the forward fused with the mask; a
 * template included once per NEON ISA, twin of arch/x86/grad_act_tmpl.h.
 * Piecewise kinds give the reference's bits: double lanes where its double
 * product matters, float lanes where a float add rounds the same. ARMv7 NEON
 * flushes subnormals, so neon32 runs every piecewise kind and the masks on
 * scalar VFP code instead (exact); sigmoid/tanh/SiLU use the vector exp. */
#include "simd.h"
#include "simd_f64.h"
#include "arm.h"
#include "train/grad_ops.h"

#if defined(__aarch64__)
#define GA_FLOAT_LANES 1 /* A64 NEON keeps subnormals: float lanes are exact */
#else
#define GA_FLOAT_LANES 0
#endif

/* The smooth kinds: dx + dy * d with d of float accuracy; d == 0 keeps dx
 * (an infinite dy stays out, as the reference's select). */
static inline V ga_smooth(V x, V dy, V dx, et_act act) {
    V d;
    if (act.kind == ET_ACT_TANH) {
        /* 1 - tanh^2 = 4e / (1 + e)^2 with e = exp(-2|x|): no cancellation */
        V e = v_exp(vmulq_f32(vabsq_f32(x), vdupq_n_f32(-2.0f)));
        V q = vaddq_f32(vdupq_n_f32(1.0f), e);
        d = v_div(vmulq_f32(vdupq_n_f32(4.0f), e), vmulq_f32(q, q));
    } else {
        /* sigmoid' = s(x) s(-x); silu' = s(x) (1 + x s(-x)): 1 - s never cancels */
        V s = v_sigmoid(x), sm = v_sigmoid(vnegq_f32(x));
        d = act.kind == ET_ACT_SIGMOID ? vmulq_f32(s, sm) : vmulq_f32(s, vfmaq_f32(vdupq_n_f32(1.0f), x, sm));
    }
    return vbslq_f32(vceqq_f32(d, vdupq_n_f32(0.0f)), dx, vfmaq_f32(dx, dy, d));
}

/* dx + dy * act'(x) in double for every piecewise kind (unknown kinds pass
 * through, derivative 1); on: the identity branch, from x or from a mask. */
static inline VD ga_piecewise(VD x, VDM on, VD dy, VD dx, et_act act) {
    VD d;
    switch (act.kind) {
    case ET_ACT_RELU: case ET_ACT_CLIP: d = VD_BLEND(on, VD_ZERO(), VD_SET1(1.0)); break;
    case ET_ACT_LEAKY_RELU: d = VD_BLEND(on, VD_SET1((double)act.a), VD_SET1(1.0)); break;
    case ET_ACT_HARDSWISH:
        d = VD_BLEND(VD_LE(x, VD_SET1(3.0)), VD_SET1(1.0), VD_ADD(VD_DIV(x, VD_SET1(3.0)), VD_SET1(0.5)));
        d = VD_BLEND(VD_LT(x, VD_SET1(-3.0)), d, VD_ZERO());
        break;
    case ET_ACT_HARDSIGMOID: {
        VD z = VD_ADD(VD_MUL(VD_SET1((double)act.a), x), VD_SET1((double)act.b));
        d = VD_BLEND(VDM_AND(VD_GT(z, VD_ZERO()), VD_LT(z, VD_SET1(1.0))), VD_ZERO(), VD_SET1((double)act.a));
        break;
    }
    default: d = VD_SET1(1.0); break;
    }
    return VD_BLEND(VD_EQ(d, VD_ZERO()), VD_ADD(dx, VD_MUL(dy, d)), dx);
}

/* The identity branch in double: x > 0, or a < x < b for clip (NaN on none). */
static inline VDM ga_on_d(VD x, et_act act) {
    if (act.kind == ET_ACT_CLIP) return VDM_AND(VD_GT(x, VD_SET1((double)act.a)), VD_LT(x, VD_SET1((double)act.b)));
    return VD_GT(x, VD_ZERO());
}

static int ga_smooth_kind(et_act act) {
    return act.kind == ET_ACT_SIGMOID || act.kind == ET_ACT_TANH || act.kind == ET_ACT_SILU;
}

#if GA_FLOAT_LANES
/* The identity branch in float lanes, as ga_on_d. */
static inline uint32x4_t ga_on(V x, et_act act) {
    if (act.kind == ET_ACT_CLIP) return vandq_u32(vcgtq_f32(x, vdupq_n_f32(act.a)), vcltq_f32(x, vdupq_n_f32(act.b)));
    return vcgtq_f32(x, vdupq_n_f32(0.0f));
}
/* Four lanes from bits i..i+3 of a mask (i a multiple of 4: one byte). */
static inline uint32x4_t ga_mask_of(const uint8_t *p, size_t i) {
    const uint32_t sel[4] = {1, 2, 4, 8};
    const uint32x4_t s = vld1q_u32(sel);
    return vtstq_u32(vdupq_n_u32((uint32_t)p[i / 8] >> (i % 8)), s);
}
/* Bits 0..3 from four lanes. */
static inline unsigned ga_bits_of(uint32x4_t m) {
    const uint32_t sel[4] = {1, 2, 4, 8};
    return (unsigned)vaddvq_u32(vandq_u32(m, vld1q_u32(sel)));
}
#endif

static void act_backward(size_t count, et_act act, const float *x, const float *dy, float *dx) {
    if (ga_smooth_kind(act)) {
        for (size_t i = 0; i < count; i += 4) {
            const size_t n = count - i;
            v_storen(dx + i, n, ga_smooth(v_loadn(x + i, n), v_loadn(dy + i, n), v_loadn(dx + i, n), act));
        }
        return;
    }
#if GA_FLOAT_LANES
    if (act.kind == ET_ACT_NONE || act.kind == ET_ACT_RELU || act.kind == ET_ACT_CLIP) {
        const uint32x4_t all = vdupq_n_u32(~0u);
        for (size_t i = 0; i < count; i += 4) {
            const size_t n = count - i;
            V a = v_loadn(dx + i, n), d = v_loadn(dy + i, n);
            uint32x4_t on = act.kind == ET_ACT_NONE ? all : ga_on(v_loadn(x + i, n), act);
            v_storen(dx + i, n, vbslq_f32(on, vaddq_f32(a, d), a));
        }
        return;
    }
#endif
    for (size_t i = 0; i < count; i += VDW) {
        const size_t n = count - i < VDW ? count - i : VDW;
        VD xv = vd_loadf(x + i, n);
        vd_storef(dx + i, n, ga_piecewise(xv, ga_on_d(xv, act), vd_loadf(dy + i, n), vd_loadf(dx + i, n), act));
    }
}

/* One mask byte from z[0..n), n <= 8; bits past n are 0. */
static inline unsigned ga_byte(const float *z, size_t n, et_act act) {
#if GA_FLOAT_LANES
    unsigned b = ga_bits_of(ga_on(v_loadn(z, n), act));
    if (n > 4) b |= ga_bits_of(ga_on(v_loadn(z + 4, n - 4), act)) << 4;
    return b & ((1u << n) - 1u); /* tail lanes are 0.0f, inside a clip's range */
#else
    unsigned b = 0;
    for (size_t k = 0; k < n; k++) b |= (unsigned)(act.kind == ET_ACT_CLIP ? z[k] > act.a && z[k] < act.b : z[k] > 0.0f) << k;
    return b;
#endif
}

/* Bit i of mask[i/8]: z[i] on the identity branch; the bits past count in the last byte are 0. */
static void act_mask(size_t count, et_act act, const float *z, uint8_t *mask) {
    for (size_t i = 0; i < count; i += 8) mask[i / 8] = (uint8_t)ga_byte(z + i, count - i < 8 ? count - i : 8, act);
}

/* The mask of x, then y = act(x) by this ISA's forward act kernel, per block
 * (x may be y; blocks of whole mask bytes). */
static void act_forward_mask(size_t count, et_act act, const float *x, float *y, uint8_t *mask) {
    for (size_t i = 0; i < count; i += 512) {
        const size_t n = count - i < 512 ? count - i : 512;
        act_mask(n, act, x + i, mask + i / 8);
        ET_FN(et_f32_act)(n, act, x + i, y + i);
    }
}

static void act_backward_mask(size_t count, et_act act, const uint8_t *mask, const float *dy, float *dx) {
#if GA_FLOAT_LANES
    if (act.kind != ET_ACT_LEAKY_RELU) {
        for (size_t i = 0; i < count; i += 4) {
            const size_t n = count - i;
            V a = v_loadn(dx + i, n);
            v_storen(dx + i, n, vbslq_f32(ga_mask_of(mask, i), vaddq_f32(a, v_loadn(dy + i, n)), a));
        }
        return;
    }
#endif
    /* the mask replaces x: relu's branch stands for every non-leaky kind */
    const et_act a = act.kind == ET_ACT_LEAKY_RELU ? act : et_act_relu();
    for (size_t i = 0; i < count; i += VDW) {
        const size_t n = count - i < VDW ? count - i : VDW;
        vd_storef(dx + i, n, ga_piecewise(VD_ZERO(), vd_bits(mask, i, n), vd_loadf(dy + i, n), vd_loadf(dx + i, n), a));
    }
}
