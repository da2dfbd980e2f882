/* Activation backward (dx += dy * act'(x)) from the pre-activation or from a
 * one-bit mask, and the mask itself; a template included once per ISA after
 * simd.h. The piecewise-linear kinds give the reference's bits (float where a
 * float add is exact-rounded, double lanes where the reference's double
 * product matters); sigmoid, tanh and SiLU use the vector exp. */
#include "simd_f64.h"
#include "vmath.h"
#include "train/grad_ops.h"

#if defined(ET_X86_AVX512)
#define GA_AND(a, b) ((VM)((a) & (b)))
#define GA_EQ(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_EQ_OQ)
static inline unsigned ga_bits_of(VM m) { return (unsigned)m; }
/* Lanes from bits i.. of a bit mask; n valid elements from i (bytes past them are not read). */
static inline VM ga_mask_of(const uint8_t *p, size_t i, size_t n) {
    unsigned b = p[i / 8];
    if (n > 8) b |= (unsigned)p[i / 8 + 1] << 8;
    return (VM)b;
}
#else
#define GA_AND(a, b) V_AND((a), (b))
#define GA_EQ(a, b) _mm256_cmp_ps((a), (b), _CMP_EQ_OQ)
static inline unsigned ga_bits_of(VM m) { return (unsigned)_mm256_movemask_ps(m); }
static inline VM ga_mask_of(const uint8_t *p, size_t i, size_t n) {
    (void)n;
    const __m256i sel = _mm256_set_epi32(128, 64, 32, 16, 8, 4, 2, 1);
    __m256i b = _mm256_set1_epi32(p[i / 8]);
    return _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(b, sel), sel));
}
#endif

/* Lanes on the identity branch: x > 0 (ReLU, LeakyReLU), a < x < b (clip);
 * every lane for the other kinds. NaN is on no branch, as in the reference. */
static inline VM ga_on(V x, et_act act) {
    switch (act.kind) {
    case ET_ACT_RELU: case ET_ACT_LEAKY_RELU: return V_LT(V_ZERO(), x);
    case ET_ACT_CLIP: return GA_AND(V_LT(V_SET1(act.a), x), V_LT(x, V_SET1(act.b)));
    default: return GA_EQ(x, x) ; /* unused by callers; any defined value */
    }
}

/* dx + dy * d for a derivative d of float accuracy; d == 0 leaves dx (an
 * infinite dy stays out). Where the reference's double derivative rounds to 0
 * (|x| above ~19 for tanh, ~37 for sigmoid) this d is tiny but not 0. */
static inline V ga_smooth(V x, V dy, V dx, et_act act) {
    V d;
    if (act.kind == ET_ACT_TANH) {
        /* 1 - tanh^2 = 4e / (1 + e)^2 with e = exp(-2|x|): no cancellation for large |x| */
        V e = v_exp(V_MUL(V_OR(x, V_SET1(-0.0f)), V_SET1(2.0f)));
        V q = V_ADD(V_SET1(1.0f), e);
        d = V_DIV(V_MUL(V_SET1(4.0f), e), V_MUL(q, q));
    } else {
        /* sigmoid' = s(x) s(-x); silu' = s(x) (1 + x s(-x)): 1 - s never cancels */
        V s = v_sigmoid(x), sm = v_sigmoid(V_SUB(V_ZERO(), x));
        d = act.kind == ET_ACT_SIGMOID ? V_MUL(s, sm) : V_MUL(s, V_FMA(x, sm, V_SET1(1.0f)));
    }
    return V_BLEND(GA_EQ(d, V_ZERO()), V_FMA(dy, d, dx), dx);
}

/* dx + dy * d in double (the reference's rounding) for LeakyReLU, hardswish,
 * hardsigmoid; on: LeakyReLU's identity branch (from x or from the mask). */
static inline VD ga_piecewise(VD x, VDM on, VD dy, VD dx, et_act act) {
    VD d;
    if (act.kind == ET_ACT_LEAKY_RELU) {
        d = VD_BLEND(on, VD_SET1((double)act.a), VD_SET1(1.0));
    } else if (act.kind == ET_ACT_HARDSWISH) {
        d = VD_BLEND(VD_LE(x, VD_SET1(3.0)), VD_SET1(1.0), VD_ADD(VD_DIV(x, VD_SET1(3.0)), VD_SET1(0.5)));
        d = VD_BLEND(VD_LT(x, VD_SET1(-3.0)), d, VD_ZERO());
    } else { /* hardsigmoid: the slope inside (0, 1) */
        VD z = VD_ADD(VD_MUL(VD_SET1((double)act.a), x), VD_SET1((double)act.b));
        VDM in = VDM_AND(VD_GT(z, VD_ZERO()), VD_LT(z, VD_SET1(1.0)));
        d = VD_BLEND(in, VD_ZERO(), VD_SET1((double)act.a));
    }
    return VD_BLEND(VD_EQ(d, VD_ZERO()), VD_ADD(dx, VD_MUL(dy, d)), dx);
}

static int ga_double_kind(et_act act) {
    return act.kind == ET_ACT_LEAKY_RELU || act.kind == ET_ACT_HARDSWISH || act.kind == ET_ACT_HARDSIGMOID;
}

static void act_backward(size_t count, et_act act, const float *x, const float *dy, float *dx) {
    if (ga_double_kind(act)) {
        for (size_t i = 0; i < count; i += VDW) {
            const VDT tm = VD_TAIL(count - i < VDW ? count - i : VDW);
            VD xv = VD_LOADFM(x + i, tm);
            VD r = ga_piecewise(xv, VD_GT(xv, VD_ZERO()), VD_LOADFM(dy + i, tm), VD_LOADFM(dx + i, tm), act);
            VD_STOREFM(dx + i, tm, r);
        }
        return;
    }
    const int smooth = act.kind == ET_ACT_SIGMOID || act.kind == ET_ACT_TANH || act.kind == ET_ACT_SILU;
    const int gated = act.kind == ET_ACT_RELU || act.kind == ET_ACT_CLIP;
    for (size_t i = 0; i < count; i += VW) {
        const VM tm = V_TAIL(count - i < VW ? count - i : VW);
        V xv = V_LOADM(x + i, tm), d = V_LOADM(dy + i, tm), a = V_LOADM(dx + i, tm), r;
        if (smooth) r = ga_smooth(xv, d, a, act);
        else if (gated) r = V_BLEND(ga_on(xv, act), a, V_ADD(a, d));
        else r = V_ADD(a, d); /* identity (and unknown kinds, which the forward passes through) */
        V_STOREM(dx + i, tm, r);
    }
}

/* Bit i of mask[i/8]: z[i] on the identity branch; the bits past count in the last byte are 0. */
static void act_mask(size_t count, et_act act, const float *z, uint8_t *mask) {
    for (size_t i = 0; i < count; i += VW) {
        const size_t n = count - i < VW ? count - i : VW;
        const VM tm = V_TAIL(n);
        unsigned b = ga_bits_of(GA_AND(ga_on(V_LOADM(z + i, tm), act), tm));
        for (size_t k = 0; k < (n + 7) / 8; k++) mask[i / 8 + k] = (uint8_t)(b >> (8 * k));
    }
}

/* y = act(x), the same lanes as this ISA's forward act kernel, and the mask
 * of x, in one pass over x (which may be y). */
static void act_forward_mask(size_t count, et_act act, const float *x, float *y, uint8_t *mask) {
    for (size_t i = 0; i < count; i += VW) {
        const size_t n = count - i < VW ? count - i : VW;
        const VM tm = V_TAIL(n);
        V xv = V_LOADM(x + i, tm);
        unsigned b = ga_bits_of(GA_AND(ga_on(xv, act), tm));
        V_STOREM(y + i, tm, v_act(xv, act));
        for (size_t k = 0; k < (n + 7) / 8; k++) mask[i / 8 + k] = (uint8_t)(b >> (8 * k));
    }
}

static void act_backward_mask(size_t count, et_act act, const uint8_t *mask, const float *dy, float *dx) {
    if (act.kind == ET_ACT_LEAKY_RELU) {
        for (size_t i = 0; i < count; i += VDW) {
            const size_t n = count - i < VDW ? count - i : VDW;
            const VDT tm = VD_TAIL(n);
            VD r = ga_piecewise(VD_ZERO(), vd_bits(mask, i, n), VD_LOADFM(dy + i, tm), VD_LOADFM(dx + i, tm), act);
            VD_STOREFM(dx + i, tm, r);
        }
        return;
    }
    for (size_t i = 0; i < count; i += VW) {
        const size_t n = count - i < VW ? count - i : VW;
        const VM tm = V_TAIL(n);
        V a = V_LOADM(dx + i, tm);
        V_STOREM(dx + i, tm, V_BLEND(ga_mask_of(mask, i, n), a, V_ADD(a, V_LOADM(dy + i, tm))));
    }
}
