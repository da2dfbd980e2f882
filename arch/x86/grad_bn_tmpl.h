/* Train-mode batchnorm in row blocks (the sums, the output pass, the
 * gradient sums and the input gradient; src/train/train_bn.c runs them over
 * threads) and the frozen-statistics backward over NHWC rows, vectorised
 * across channels in double lanes; a template included once per ISA after
 * simd.h. Each channel's sums run over the rows in order in double, with
 * the reference's expression order, so the results are the reference's
 * bits; rows stream through memory once per pass instead of once per
 * channel (a register-blocked sweep of row tiles measured 2-3x slower on
 * MobileNetV2's large tensors). */
#include <math.h>
#include "simd_f64.h"
#include "train/grad_ops.h"

/* Channels per chunk: the per-channel doubles of one chunk stay in L1 and
 * one row's chunk is a contiguous run of memory. */
#define BN_CH 256

/* acc[j] += f(row r, channel c0 + j) over rows [R0, R1) for one pass; cb
 * channels, the last nl < VDW lanes masked. */
#define BN_PASS(R0, R1, CB, BODY)                                                                 \
    for (size_t r = (R0); r < (R1); r++) {                                                        \
        size_t j = 0, o = r * c + c0;                                                             \
        for (; j + VDW <= (CB); j += VDW) { const size_t nl = VDW; const VDT tm = VD_TAIL(VDW); (void)nl; BODY } \
        if (j < (CB)) { const size_t nl = (CB) - j; const VDT tm = VD_TAIL(nl); (void)nl; BODY }            \
    }

#define BN_CHUNKS for (size_t c0 = 0, cb; c0 < c && (cb = c - c0 < BN_CH ? c - c0 : BN_CH) != 0; c0 += BN_CH)

#if defined(__GNUC__)
#define BN_INLINE static inline __attribute__((always_inline))
#else
#define BN_INLINE static inline
#endif

static void bn_sums(size_t r0, size_t r1, size_t c, const float *x, const double *mu, double *out) {
    double acc[BN_CH];
    BN_CHUNKS {
        for (size_t j = 0; j < BN_CH; j++) acc[j] = 0.0;
        if (!mu) {
            BN_PASS(r0, r1, cb, VD_STORE(acc + j, VD_ADD(VD_LOAD(acc + j), VD_LOADFM(x + o + j, tm)));)
        } else {
            const double *m = mu + c0; /* padded: whole vectors past cb read zeros */
            BN_PASS(r0, r1, cb, {
                VD d = VD_SUB(VD_LOADFM(x + o + j, tm), VD_LOAD(m + j));
                VD_STORE(acc + j, VD_ADD(VD_LOAD(acc + j), VD_MUL(d, d)));
            })
        }
        for (size_t j = 0; j < cb; j++) out[c0 + j] = acc[j];
    }
}

/* y from the double mean, inverse std, gamma and beta. With a ReLU/clip
 * act (gate 1 / 2), y = act(batchnorm), lane-exact with the float forward
 * act on the rounded output (its comparisons and bounds are the same in
 * float), and mask (if not NULL) gets the act's bits. Each case is its own
 * loop: tested per element, the flags cost as much as the arithmetic. */
BN_INLINE void bn_out_rows(const int gate, const int with_mask, size_t r0, size_t r1, size_t c, size_t c0, size_t cb,
                           const float *x, const double *mu, const double *is, const double *ga, const double *be,
                           et_act act, uint8_t *mask, float *y) {
    const VDF lo = VDF_SET1(gate == 2 ? act.a : 0.0f), hi = VDF_SET1(gate == 2 ? act.b : 0.0f);
    BN_PASS(r0, r1, cb, {
        VD v = VD_MUL(VD_SUB(VD_LOADFM(x + o + j, tm), VD_LOAD(mu + j)), VD_LOAD(is + j));
        VDF z = VD_TOF(VD_ADD(VD_MUL(v, VD_LOAD(ga + j)), VD_LOAD(be + j)));
        if (gate) {
            unsigned on = VDF_LT_BITS(lo, z);
            if (gate == 2) on &= VDF_LT_BITS(z, hi);
            z = VDF_MAX(lo, z);
            if (gate == 2) z = VDF_MIN(hi, z);
            if (with_mask) vd_bits_put(mask, o + j, nl, on);
        }
        VDF_STOREM(y + o + j, tm, z);
    })
}

static void bn_out(size_t r0, size_t r1, size_t c, const float *x, const double *coef, et_act act, uint8_t *mask,
                   float *y) {
    const size_t cp = et_bn_pad(c);
    const int gate = act.kind == ET_ACT_CLIP ? 2 : act.kind == ET_ACT_RELU;
    BN_CHUNKS {
        const double *mu = coef + c0, *is = mu + cp, *ga = is + cp, *be = ga + cp;
#define BN_OUT(G, M) bn_out_rows(G, M, r0, r1, c, c0, cb, x, mu, is, ga, be, act, mask, y)
        if (!gate) BN_OUT(0, 0);
        else if (gate == 1) { if (mask) BN_OUT(1, 1); else BN_OUT(1, 0); }
        else if (mask) BN_OUT(2, 1);
        else BN_OUT(2, 0);
#undef BN_OUT
    }
}

/* dy of the batchnorm, or (with_mask) the gradient a ReLU/clip after it
 * passes back into a zeroed buffer: 0 + dy where the bit is set, else +0. */
BN_INLINE VD bn_dy(const int with_mask, const float *dy, const uint8_t *mask, size_t i, size_t n, VDT tm) {
    VD d = VD_LOADFM(dy + i, tm);
    return with_mask ? VD_BLEND(vd_bits(mask, i, n), VD_ZERO(), VD_ADD(VD_ZERO(), d)) : d;
}

BN_INLINE void bn_grad_sums_rows(const int with_mask, size_t r0, size_t r1, size_t c, size_t c0, size_t cb,
                                 const float *x, const double *mu, const double *is, const uint8_t *mask,
                                 const float *dy, double *s1, double *s2) {
    BN_PASS(r0, r1, cb, {
        VD d = bn_dy(with_mask, dy, mask, o + j, nl, tm);
        VD xc = VD_SUB(VD_LOADFM(x + o + j, tm), VD_LOAD(mu + j));
        VD_STORE(s1 + j, VD_ADD(VD_LOAD(s1 + j), d));
        VD_STORE(s2 + j, VD_ADD(VD_LOAD(s2 + j), VD_MUL(VD_MUL(d, xc), VD_LOAD(is + j))));
    })
}

static void bn_grad_sums(size_t r0, size_t r1, size_t c, const float *x, const double *coef, const uint8_t *mask,
                         const float *dy, double *sdy, double *sdyx) {
    const size_t cp = et_bn_pad(c);
    double s1[BN_CH], s2[BN_CH];
    BN_CHUNKS {
        const double *mu = coef + c0, *is = mu + cp;
        for (size_t j = 0; j < BN_CH; j++) s1[j] = s2[j] = 0.0;
        if (mask) bn_grad_sums_rows(1, r0, r1, c, c0, cb, x, mu, is, mask, dy, s1, s2);
        else bn_grad_sums_rows(0, r0, r1, c, c0, cb, x, mu, is, mask, dy, s1, s2);
        for (size_t j = 0; j < cb; j++) { sdy[c0 + j] = s1[j]; sdyx[c0 + j] = s2[j]; }
    }
}

/* dx += gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat)) */
BN_INLINE void bn_grad_dx_rows(const int with_mask, const int overwrite, size_t r0, size_t r1, size_t c, size_t c0,
                               size_t cb, const float *x, const double *coef, size_t cp, VD vrn, const uint8_t *mask,
                               const float *dy, float *dx) {
    const double *mu = coef + c0, *is = mu + cp, *a = is + cp, *sdyx = a + cp, *sc = sdyx + cp;
    BN_PASS(r0, r1, cb, {
        VD xh = VD_MUL(VD_SUB(VD_LOADFM(x + o + j, tm), VD_LOAD(mu + j)), VD_LOAD(is + j));
        VD d = bn_dy(with_mask, dy, mask, o + j, nl, tm);
        VD t = VD_SUB(VD_SUB(d, VD_LOAD(a + j)), VD_MUL(VD_MUL(xh, VD_LOAD(sdyx + j)), vrn));
        VD acc = overwrite ? VD_ZERO() : VD_LOADFM(dx + o + j, tm);
        VD_STOREFM(dx + o + j, tm, VD_ADD(acc, VD_MUL(VD_LOAD(sc + j), t)));
    })
}

static void bn_grad_dx(size_t r0, size_t r1, size_t c, const float *x, const double *coef, double rn,
                       const uint8_t *mask, const float *dy, int overwrite, float *dx) {
    const size_t cp = et_bn_pad(c);
    const VD vrn = VD_SET1(rn);
    BN_CHUNKS {
#define BN_DX(M, W) bn_grad_dx_rows(M, W, r0, r1, c, c0, cb, x, coef, cp, vrn, mask, dy, dx)
        if (mask) { if (overwrite) BN_DX(1, 1); else BN_DX(1, 0); }
        else if (overwrite) BN_DX(0, 1);
        else BN_DX(0, 0);
#undef BN_DX
    }
}

static void bn_frozen_backward(size_t rows, size_t c, const float *x, const float *gamma, const float *mean,
                               const float *var, float eps, const float *dy, float *dx, float *dgamma, float *dbeta) {
    double sdy[BN_CH], sdyx[BN_CH], mu[BN_CH], is[BN_CH], ga[BN_CH];
    for (size_t c0 = 0; c0 < c; c0 += BN_CH) {
        const size_t cb = c - c0 < BN_CH ? c - c0 : BN_CH;
        for (size_t j = 0; j < BN_CH; j++) {
            sdy[j] = sdyx[j] = 0.0;
            is[j] = j < cb ? 1.0 / sqrt((double)var[c0 + j] + (double)eps) : 0.0;
            mu[j] = j < cb ? (double)mean[c0 + j] : 0.0;
            ga[j] = j < cb ? (double)gamma[c0 + j] : 0.0;
        }
        /* frozen statistics are constants: an affine map per channel */
        BN_PASS(0, rows, cb, {
            VD d = VD_LOADFM(dy + o + j, tm);
            VD xc = VD_SUB(VD_LOADFM(x + o + j, tm), VD_LOAD(mu + j));
            VD_STORE(sdy + j, VD_ADD(VD_LOAD(sdy + j), d));
            VD_STORE(sdyx + j, VD_ADD(VD_LOAD(sdyx + j), VD_MUL(VD_MUL(d, xc), VD_LOAD(is + j))));
            if (dx) VD_STOREFM(dx + o + j, tm, VD_ADD(VD_LOADFM(dx + o + j, tm), VD_MUL(VD_MUL(d, VD_LOAD(ga + j)), VD_LOAD(is + j))));
        })
        for (size_t j = 0; j < cb; j++) {
            if (dbeta) dbeta[c0 + j] = (float)((double)dbeta[c0 + j] + sdy[j]);
            if (dgamma) dgamma[c0 + j] = (float)((double)dgamma[c0 + j] + sdyx[j]);
        }
    }
}
