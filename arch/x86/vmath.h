/* Vectorized exp, expm1-based tanh, sigmoid, SiLU and the fused activation
 * epilogue shared by every x86 kernel (include after simd.h). Accuracy goal:
 * <= 1e-6 relative to double over all floats; NaN propagates, +-inf and
 * denormals give the limits the reference gives. No kernels here. */
#ifndef ET_X86_VMATH_H
#define ET_X86_VMATH_H

#include "edgetune.h"
#include "simd.h"

#if defined(ET_USE_SLEEF)
/* make ET_USE_SLEEF=1: SLEEF's 1-ULP vector exp and tanh (libsleef-dev)
 * replace ours; sigmoid and SiLU are built on that exp as below. */
#include <sleef.h>
#if VW == 16
static inline V v_exp(V x) { return Sleef_expf16_u10avx512f(x); }
static inline V v_tanh(V x) { return Sleef_tanhf16_u10avx512f(x); }
#else
static inline V v_exp(V x) { return Sleef_expf8_u10avx2(x); }
static inline V v_tanh(V x) { return Sleef_tanhf8_u10avx2(x); }
#endif
#else
/* exp(x): Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, degree-7 Taylor
 * (truncation 5e-9 relative), then 2^n applied in two halves so results in
 * the denormal range are rounded once, at the last multiply. */
static inline V v_exp(V x) {
    /* max/min return their second operand for NaN: x stays NaN through the clamp */
    V t = V_MIN(V_SET1(88.8f), V_MAX(V_SET1(-104.0f), x));
    V n = V_ROUND(V_MUL(t, V_SET1(1.44269504088896341f)));
    V r = V_FMA(n, V_SET1(-0.693359375f), t);
    r = V_FMA(n, V_SET1(2.12194440e-4f), r);
    V p = V_SET1(1.0f / 5040.0f);
    p = V_FMA(p, r, V_SET1(1.0f / 720.0f));
    p = V_FMA(p, r, V_SET1(1.0f / 120.0f));
    p = V_FMA(p, r, V_SET1(1.0f / 24.0f));
    p = V_FMA(p, r, V_SET1(1.0f / 6.0f));
    p = V_FMA(p, r, V_SET1(0.5f));
    p = V_FMA(p, r, V_SET1(1.0f));
    p = V_FMA(p, r, V_SET1(1.0f));
    V n1 = V_ROUND(V_MUL(n, V_SET1(0.5f)));
    V n2 = V_SUB(n, n1);
    V res = V_MUL(V_MUL(p, V_POW2I(n1)), V_POW2I(n2));
    return V_BLEND(V_UNORD(x), res, x);
}

/* expm1(y) for y <= 0 (tanh needs no more): 2^n * expm1(r) + (2^n - 1), which
 * keeps full relative accuracy near 0 where exp(y) - 1 would cancel. */
static inline V v_expm1_neg(V y) {
    V t = V_MAX(V_SET1(-30.0f), y); /* expm1(-30) is -1 in float */
    V n = V_ROUND(V_MUL(t, V_SET1(1.44269504088896341f)));
    V r = V_FMA(n, V_SET1(-0.693359375f), t);
    r = V_FMA(n, V_SET1(2.12194440e-4f), r);
    /* r + r^2/2! + ... + r^9/9!: truncation below 1e-10 relative on |r| <= ln2/2 */
    V q = V_SET1(1.0f / 362880.0f);
    q = V_FMA(q, r, V_SET1(1.0f / 40320.0f));
    q = V_FMA(q, r, V_SET1(1.0f / 5040.0f));
    q = V_FMA(q, r, V_SET1(1.0f / 720.0f));
    q = V_FMA(q, r, V_SET1(1.0f / 120.0f));
    q = V_FMA(q, r, V_SET1(1.0f / 24.0f));
    q = V_FMA(q, r, V_SET1(1.0f / 6.0f));
    q = V_FMA(q, r, V_SET1(0.5f));
    q = V_FMA(q, r, V_SET1(1.0f));
    q = V_MUL(q, r);
    V s = V_POW2I(n); /* n in [-44, 0] */
    return V_FMA(s, q, V_SUB(s, V_SET1(1.0f)));
}

static inline V v_tanh(V x) {
    V sign = V_AND(x, V_SET1(-0.0f));
    V ax = V_XOR(x, sign);
    V t = v_expm1_neg(V_MUL(ax, V_SET1(-2.0f)));
    /* tanh|x| = -expm1(-2|x|) / (expm1(-2|x|) + 2): no cancellation anywhere */
    V th = V_DIV(V_XOR(t, V_SET1(-0.0f)), V_ADD(t, V_SET1(2.0f)));
    return V_BLEND(V_UNORD(x), V_OR(th, sign), x);
}

#endif /* ET_USE_SLEEF */

/* As the reference: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below, so exp never overflows. */
static inline V v_sigmoid(V x) {
    V e = v_exp(V_OR(x, V_SET1(-0.0f))); /* exp(-|x|) */
    V num = V_BLEND(V_LT(x, V_ZERO()), V_SET1(1.0f), e);
    return V_DIV(num, V_ADD(V_SET1(1.0f), e));
}

static inline V v_silu(V x) { return V_MUL(x, v_sigmoid(x)); }

/* The fused activation, lane-exact with et_act_apply except for the
 * transcendental ones (within their accuracy goal). max/min keep their
 * NaN-propagating operand order: x is always the second operand. */
static inline V v_act(V x, et_act act) {
    switch (act.kind) {
    case ET_ACT_NONE: return x;
    case ET_ACT_RELU: return V_MAX(V_ZERO(), x);
    case ET_ACT_CLIP: return V_MIN(V_SET1(act.b), V_MAX(V_SET1(act.a), x));
    case ET_ACT_LEAKY_RELU: return V_BLEND(V_LT(x, V_ZERO()), x, V_MUL(x, V_SET1(act.a)));
    case ET_ACT_SIGMOID: return v_sigmoid(x);
    case ET_ACT_TANH: return v_tanh(x);
    case ET_ACT_SILU: return v_silu(x);
    case ET_ACT_HARDSWISH: {
        V t = V_MIN(V_SET1(6.0f), V_MAX(V_ZERO(), V_ADD(x, V_SET1(3.0f))));
        return V_DIV(V_MUL(x, t), V_SET1(6.0f));
    }
    case ET_ACT_HARDSIGMOID:
        return V_MIN(V_SET1(1.0f), V_MAX(V_ZERO(), V_ADD(V_MUL(V_SET1(act.a), x), V_SET1(act.b))));
    default: return x;
    }
}

#endif
