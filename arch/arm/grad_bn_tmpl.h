/* Train-mode batchnorm forward and backward (alone or fused with a ReLU/clip
 * after it) and the frozen-statistics backward over NHWC rows; a template
 * included once per NEON ISA after grad_act_tmpl.h, twin of
 * arch/x86/grad_bn_tmpl.h. Each channel's sums run over the rows in order in
 * double with the reference's expression order, so the results are the
 * reference's bits, while rows stream through memory once per pass. Double
 * lanes are float64x2_t on A64 and one VFP double on ARMv7 (no NEON doubles). */
#include <math.h>
#include "simd_f64.h"
#include "train/grad_ops.h"

/* Channels per chunk: a chunk's per-channel doubles stay in L1. A multiple of VDW. */
#define BN_CH 256

/* acc[j] += f(row r, channel c0 + j) for one pass; cb channels, nl valid
 * lanes (lanes past cb load 0 and are never stored to memory). */
#define BN_PASS(ROWS, CB, BODY)                                                        \
    for (size_t r = 0; r < (ROWS); r++) {                                              \
        const size_t o = r * c + c0;                                                   \
        for (size_t j = 0; j < (CB); j += VDW) {                                       \
            const size_t nl = (CB) - j < VDW ? (CB) - j : VDW;                         \
            BODY                                                                       \
        }                                                                              \
    }

#if defined(__GNUC__)
#define BN_INLINE static inline __attribute__((always_inline))
#else
#define BN_INLINE static inline
#endif

/* The last pass of the forward over one chunk of cb channels from c0: y from
 * the chunk's double mean, inverse std, gamma and beta. The forward and the
 * recompute (bn_apply) share it, so their bits agree. */
BN_INLINE void bn_out_pass(size_t rows, size_t c, size_t c0, size_t cb, const float *x, const double *mu,
                           const double *is, const double *ga, const double *be, float *y) {
    BN_PASS(rows, cb, {
        VD v = VD_MUL(VD_SUB(vd_loadf(x + o + j, nl), VD_LOAD(mu + j)), VD_LOAD(is + j));
        vd_storef(y + o + j, nl, VD_ADD(VD_MUL(v, VD_LOAD(ga + j)), VD_LOAD(be + j)));
    })
}

/* stats (if not NULL) gets the double mean and inverse std [2c] that
 * bn_apply recomputes y from. */
static void bn_forward(size_t rows, size_t c, const float *x, const float *gamma, const float *beta, float eps,
                       float momentum, float *running_mean, float *running_var, float *save_mean,
                       float *save_inv_std, double *stats, float *y) {
    double acc[BN_CH], mu[BN_CH], is[BN_CH], ga[BN_CH], be[BN_CH];
    const double m = (double)momentum;
    for (size_t c0 = 0; c0 < c; c0 += BN_CH) {
        const size_t cb = c - c0 < BN_CH ? c - c0 : BN_CH;
        for (size_t j = 0; j < BN_CH; j++) acc[j] = mu[j] = is[j] = ga[j] = be[j] = 0.0;
        BN_PASS(rows, cb, VD_STORE(acc + j, VD_ADD(VD_LOAD(acc + j), vd_loadf(x + o + j, nl)));)
        for (size_t j = 0; j < cb; j++) mu[j] = rows ? acc[j] / (double)rows : 0.0;
        for (size_t j = 0; j < BN_CH; j++) acc[j] = 0.0;
        /* squared deviations from the mean: accurate when |mean| >> std */
        BN_PASS(rows, cb, {
            VD d = VD_SUB(vd_loadf(x + o + j, nl), VD_LOAD(mu + j));
            VD_STORE(acc + j, VD_ADD(VD_LOAD(acc + j), VD_MUL(d, d)));
        })
        for (size_t j = 0; j < cb; j++) {
            const size_t k = c0 + j;
            is[j] = 1.0 / sqrt((rows ? acc[j] / (double)rows : 0.0) + (double)eps);
            ga[j] = (double)gamma[k];
            be[j] = (double)beta[k];
            save_mean[k] = (float)mu[j];
            save_inv_std[k] = (float)is[j];
            if (stats) { stats[k] = mu[j]; stats[c + k] = is[j]; }
            /* unbiased variance for the running stats; one row leaves them as they are */
            if (rows < 2) continue;
            if (running_mean) running_mean[k] = (float)((1.0 - m) * (double)running_mean[k] + m * mu[j]);
            if (running_var)
                running_var[k] = (float)((1.0 - m) * (double)running_var[k] + m * acc[j] / (double)(rows - 1));
        }
        bn_out_pass(rows, c, c0, cb, x, mu, is, ga, be, y);
    }
}

static void bn_train(size_t rows, size_t c, const float *x, const float *gamma, const float *beta, float eps,
                     float momentum, float *running_mean, float *running_var, float *save_mean,
                     float *save_inv_std, float *y) {
    bn_forward(rows, c, x, gamma, beta, eps, momentum, running_mean, running_var, save_mean, save_inv_std, NULL, y);
}

/* With mask: fused with the ReLU/clip forward that follows, y is the
 * activation's output by this ISA's forward act (an extra pass over y,
 * cache-warm for small tensors), mask its bits; without, act is ignored. */
static void bn_train_stats(size_t rows, size_t c, const float *x, const float *gamma, const float *beta, float eps,
                           float momentum, float *running_mean, float *running_var, float *save_mean,
                           float *save_inv_std, double *stats, et_act act, uint8_t *mask, float *y) {
    bn_forward(rows, c, x, gamma, beta, eps, momentum, running_mean, running_var, save_mean, save_inv_std, stats, y);
    if (mask) act_forward_mask(rows * c, act, y, y, mask);
}

static void bn_train_act(size_t rows, size_t c, const float *x, const float *gamma, const float *beta, float eps,
                         float momentum, float *running_mean, float *running_var, float *save_mean,
                         float *save_inv_std, et_act act, uint8_t *mask, float *y) {
    bn_train_stats(rows, c, x, gamma, beta, eps, momentum, running_mean, running_var, save_mean, save_inv_std, NULL,
                   act, mask, y);
}

/* y of bn_train_stats again from its stats: its last pass, then the act
 * act_forward_mask applies (per element, so without its mask and blocks). */
static void bn_apply(size_t rows, size_t c, const float *x, const float *gamma, const float *beta,
                     const double *stats, et_act act, float *y) {
    double mu[BN_CH], is[BN_CH], ga[BN_CH], be[BN_CH];
    for (size_t c0 = 0; c0 < c; c0 += BN_CH) {
        const size_t cb = c - c0 < BN_CH ? c - c0 : BN_CH;
        for (size_t j = 0; j < BN_CH; j++) {
            mu[j] = j < cb ? stats[c0 + j] : 0.0;
            is[j] = j < cb ? stats[c + c0 + j] : 0.0;
            ga[j] = j < cb ? (double)gamma[c0 + j] : 0.0;
            be[j] = j < cb ? (double)beta[c0 + j] : 0.0;
        }
        bn_out_pass(rows, c, c0, cb, x, mu, is, ga, be, y);
    }
    if (act.kind != ET_ACT_NONE) ET_FN(et_f32_act)(rows * c, act, y, y);
}

/* dy of the batchnorm, or (mask given) the gradient a ReLU/clip after it
 * passes back into a zeroed buffer: 0 + dy where the bit is set, else +0. */
BN_INLINE VD bn_dy(const float *dy, const uint8_t *mask, size_t i, size_t n) {
    VD d = vd_loadf(dy + i, n);
    return mask ? VD_BLEND(vd_bits(mask, i, n), VD_ZERO(), VD_ADD(VD_ZERO(), d)) : d;
}

BN_INLINE void bn_backward(size_t rows, size_t c, const float *x, const float *gamma, const float *save_mean,
                           const float *save_inv_std, const uint8_t *mask, const float *dy, float *dx,
                           int overwrite, float *dgamma, float *dbeta) {
    double sdy[BN_CH], sdyx[BN_CH], mu[BN_CH], is[BN_CH], sc[BN_CH], a[BN_CH];
    if (rows == 0) return;
    const double rn = 1.0 / (double)rows;
    for (size_t c0 = 0; c0 < c; c0 += BN_CH) {
        const size_t cb = c - c0 < BN_CH ? c - c0 : BN_CH;
        for (size_t j = 0; j < BN_CH; j++) {
            sdy[j] = sdyx[j] = sc[j] = a[j] = 0.0;
            mu[j] = j < cb ? (double)save_mean[c0 + j] : 0.0;
            is[j] = j < cb ? (double)save_inv_std[c0 + j] : 0.0;
        }
        /* the two per-channel reductions every dx element depends on */
        BN_PASS(rows, cb, {
            VD d = bn_dy(dy, mask, o + j, nl);
            VD xc = VD_SUB(vd_loadf(x + o + j, nl), VD_LOAD(mu + j));
            VD_STORE(sdy + j, VD_ADD(VD_LOAD(sdy + j), d));
            VD_STORE(sdyx + j, VD_ADD(VD_LOAD(sdyx + j), VD_MUL(VD_MUL(d, xc), VD_LOAD(is + j))));
        })
        for (size_t j = 0; j < cb; j++) {
            const size_t k = c0 + j;
            if (dbeta) dbeta[k] = (float)((double)dbeta[k] + sdy[j]);
            if (dgamma) dgamma[k] = (float)((double)dgamma[k] + sdyx[j]);
            sc[j] = (double)gamma[k] * is[j];
            a[j] = sdy[j] * rn;
        }
        if (!dx) continue;
        /* dx += gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat)) */
        const VD vrn = VD_SET1(rn);
        BN_PASS(rows, cb, {
            VD xh = VD_MUL(VD_SUB(vd_loadf(x + o + j, nl), VD_LOAD(mu + j)), VD_LOAD(is + j));
            VD t = VD_SUB(VD_SUB(bn_dy(dy, mask, o + j, nl), VD_LOAD(a + j)), VD_MUL(VD_MUL(xh, VD_LOAD(sdyx + j)), vrn));
            VD base = overwrite ? VD_ZERO() : vd_loadf(dx + o + j, nl);
            vd_storef(dx + o + j, nl, VD_ADD(base, VD_MUL(VD_LOAD(sc + j), t)));
        })
    }
}

static void bn_train_backward(size_t rows, size_t c, const float *x, const float *gamma, const float *save_mean,
                              const float *save_inv_std, const float *dy, float *dx, float *dgamma, float *dbeta) {
    bn_backward(rows, c, x, gamma, save_mean, save_inv_std, NULL, dy, dx, 0, dgamma, dbeta);
}

/* Fused with the backward of the ReLU/clip that follows (the mask only selects). */
static void bn_train_backward_mask(size_t rows, size_t c, const float *x, const float *gamma,
                                   const float *save_mean, const float *save_inv_std, const uint8_t *mask,
                                   const float *dy, float *dx, int overwrite, float *dgamma, float *dbeta) {
    bn_backward(rows, c, x, gamma, save_mean, save_inv_std, mask, dy, dx, overwrite, dgamma, dbeta);
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
        BN_PASS(rows, cb, {
            VD d = vd_loadf(dy + o + j, nl);
            VD xc = VD_SUB(vd_loadf(x + o + j, nl), VD_LOAD(mu + j));
            VD_STORE(sdy + j, VD_ADD(VD_LOAD(sdy + j), d));
            VD_STORE(sdyx + j, VD_ADD(VD_LOAD(sdyx + j), VD_MUL(VD_MUL(d, xc), VD_LOAD(is + j))));
            if (dx) vd_storef(dx + o + j, nl, VD_ADD(vd_loadf(dx + o + j, nl), VD_MUL(VD_MUL(d, VD_LOAD(ga + j)), VD_LOAD(is + j))));
        })
        for (size_t j = 0; j < cb; j++) {
            if (dbeta) dbeta[c0 + j] = (float)((double)dbeta[c0 + j] + sdy[j]);
            if (dgamma) dgamma[c0 + j] = (float)((double)dgamma[c0 + j] + sdyx[j]);
        }
    }
}
