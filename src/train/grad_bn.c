/* Train-mode batchnorm over the last axis (batch statistics, running-stat
 * update) and the backward of the train-mode and frozen-statistics forms.
 * Inference batchnorm and folding live in src/ops and src/fold.c. */
#include <math.h>

#include "train/grad_ops.h"

/* One output element from the statistics the forward normalised with: the
 * forward and the recompute share it, so their bits agree. */
static float bn_out(float x, double mean, double inv_std, float gamma, float beta) {
    double v = ((double)x - mean) * inv_std;
    return (float)(v * (double)gamma + (double)beta);
}

size_t et_bn_pad(size_t c) { return (c + 7) / 8 * 8; }

size_t et_bn_blocks(size_t rows) {
    size_t nb = rows / ET_BN_BLOCK_MIN;
    return nb < 1 ? 1 : nb > ET_BN_MAX_BLOCKS ? ET_BN_MAX_BLOCKS : nb;
}

size_t et_bn_block_row(size_t rows, size_t b) {
    size_t nb = et_bn_blocks(rows);
    return b >= nb ? rows : (rows / nb * b) / 8 * 8;
}

/* Sum of f over channel k's rows, block by block as et_bn_blocks says. */
static double block_sum(size_t rows, size_t c, size_t k, const float *x, double mu, int squares) {
    double tot = 0.0;
    for (size_t b = 0, nb = et_bn_blocks(rows); b < nb; b++) {
        double s = 0.0;
        for (size_t r = et_bn_block_row(rows, b), r1 = et_bn_block_row(rows, b + 1); r < r1; r++) {
            double d = (double)x[r * c + k] - mu;
            s += squares ? d * d : (double)x[r * c + k];
        }
        tot += s;
    }
    return tot;
}

void et_f32_batchnorm_train_stats__ref(size_t rows, size_t c, const float *x, const float *gamma,
                                       const float *beta, float eps, float momentum, float *running_mean,
                                       float *running_var, float *save_mean, float *save_inv_std, double *stats,
                                       et_act act, uint8_t *mask, float *y) {
    const double m = (double)momentum;
    for (size_t k = 0; k < c; k++) {
        /* Two passes in double: the mean first, then the squared deviations,
         * which stays accurate when |mean| >> std. */
        double mean = rows ? block_sum(rows, c, k, x, 0.0, 0) / (double)rows : 0.0;
        double ss = block_sum(rows, c, k, x, mean, 1);
        double var = rows ? ss / (double)rows : 0.0; /* biased: what normalises */
        double inv_std = 1.0 / sqrt(var + (double)eps);
        save_mean[k] = (float)mean;
        save_inv_std[k] = (float)inv_std;
        if (stats) { stats[k] = mean; stats[c + k] = inv_std; }
        for (size_t r = 0; r < rows; r++) y[r * c + k] = bn_out(x[r * c + k], mean, inv_std, gamma[k], beta[k]);
        /* Running stats get the UNBIASED variance, as PyTorch. With a single
         * row it is undefined (PyTorch refuses such a batch): the running
         * stats are then left as they are rather than poisoned with NaN. */
        if (rows < 2) continue;
        if (running_mean)
            running_mean[k] = (float)((1.0 - m) * (double)running_mean[k] + m * mean);
        if (running_var)
            running_var[k] = (float)((1.0 - m) * (double)running_var[k] +
                                     m * ss / (double)(rows - 1));
    }
    if (mask) et_f32_act_forward_mask__ref(rows * c, act, y, y, mask);
}

void et_f32_batchnorm_train__ref(size_t rows, size_t c, const float *x, const float *gamma,
                                 const float *beta, float eps, float momentum,
                                 float *running_mean, float *running_var,
                                 float *save_mean, float *save_inv_std, float *y) {
    et_f32_batchnorm_train_stats__ref(rows, c, x, gamma, beta, eps, momentum, running_mean, running_var, save_mean,
                                      save_inv_std, NULL, et_act_none(), NULL, y);
}

void et_f32_batchnorm_train_act__ref(size_t rows, size_t c, const float *x, const float *gamma,
                                     const float *beta, float eps, float momentum, float *running_mean,
                                     float *running_var, float *save_mean, float *save_inv_std, et_act act,
                                     uint8_t *mask, float *y) {
    et_f32_batchnorm_train_stats__ref(rows, c, x, gamma, beta, eps, momentum, running_mean, running_var, save_mean,
                                      save_inv_std, NULL, act, mask, y);
}

void et_f32_batchnorm_apply__ref(size_t rows, size_t c, const float *x, const float *gamma, const float *beta,
                                 const double *stats, et_act act, float *y) {
    for (size_t k = 0; k < c; k++)
        for (size_t r = 0; r < rows; r++) y[r * c + k] = bn_out(x[r * c + k], stats[k], stats[c + k], gamma[k], beta[k]);
    /* the y of et_f32_act_forward_mask__ref, without its mask */
    if (act.kind != ET_ACT_NONE) et_f32_act__ref(rows * c, act, y, y);
}

/* dy[i] as the batchnorm sees it: with a mask, what a ReLU/clip after it
 * passes back into a zeroed buffer (0 + dy where the bit is set, else 0). */
static double masked_dy(const uint8_t *mask, const float *dy, size_t i) {
    if (!mask) return (double)dy[i];
    return (mask[i / 8] >> (i % 8)) & 1 ? 0.0 + (double)dy[i] : 0.0;
}

static void train_backward(size_t rows, size_t c, const float *x, const float *gamma, const float *save_mean,
                           const float *save_inv_std, const uint8_t *mask, const float *dy, float *dx,
                           int overwrite, float *dgamma, float *dbeta) {
    if (rows == 0) return;
    for (size_t k = 0; k < c; k++) {
        const double mean = (double)save_mean[k], is = (double)save_inv_std[k];
        /* The two per-channel reductions every dx element depends on, block
         * by block as the forward's. */
        double sdy = 0.0, sdyx = 0.0;
        for (size_t b = 0, nb = et_bn_blocks(rows); b < nb; b++) {
            double s1 = 0.0, s2 = 0.0;
            for (size_t r = et_bn_block_row(rows, b), r1 = et_bn_block_row(rows, b + 1); r < r1; r++) {
                double d = masked_dy(mask, dy, r * c + k);
                s1 += d;
                s2 += d * ((double)x[r * c + k] - mean) * is;
            }
            sdy += s1;
            sdyx += s2;
        }
        if (dbeta) dbeta[k] = (float)((double)dbeta[k] + sdy);
        if (dgamma) dgamma[k] = (float)((double)dgamma[k] + sdyx);
        if (!dx) continue;
        /* dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat)):
         * the mean and variance depend on every x, hence the two terms. */
        const double scale = (double)gamma[k] * is, rn = 1.0 / (double)rows;
        for (size_t r = 0; r < rows; r++) {
            double xhat = ((double)x[r * c + k] - mean) * is;
            double v = scale * (masked_dy(mask, dy, r * c + k) - sdy * rn - xhat * sdyx * rn);
            dx[r * c + k] = (float)((overwrite ? 0.0 : (double)dx[r * c + k]) + v);
        }
    }
}

void et_f32_batchnorm_train_backward__ref(size_t rows, size_t c, const float *x, const float *gamma,
                                          const float *save_mean, const float *save_inv_std,
                                          const float *dy, float *dx, float *dgamma, float *dbeta) {
    train_backward(rows, c, x, gamma, save_mean, save_inv_std, NULL, dy, dx, 0, dgamma, dbeta);
}

void et_f32_batchnorm_train_backward_mask__ref(size_t rows, size_t c, const float *x, const float *gamma,
                                               const float *save_mean, const float *save_inv_std,
                                               const uint8_t *mask, const float *dy, float *dx, int overwrite,
                                               float *dgamma, float *dbeta) {
    train_backward(rows, c, x, gamma, save_mean, save_inv_std, mask, dy, dx, overwrite, dgamma, dbeta);
}

/* ---- the row-block pieces ---------------------------------------------- */

void et_f32_bn_sums__ref(size_t r0, size_t r1, size_t c, const float *x, const double *mu, double *acc) {
    for (size_t k = 0; k < c; k++) {
        double s = 0.0;
        for (size_t r = r0; r < r1; r++) {
            double d = (double)x[r * c + k] - (mu ? mu[k] : 0.0);
            s += mu ? d * d : (double)x[r * c + k];
        }
        acc[k] = s;
    }
}

void et_f32_bn_out__ref(size_t r0, size_t r1, size_t c, const float *x, const double *coef, et_act act,
                        uint8_t *mask, float *y) {
    const size_t cp = et_bn_pad(c), n = (r1 - r0) * c;
    for (size_t r = r0; r < r1; r++)
        for (size_t k = 0; k < c; k++) {
            double v = ((double)x[r * c + k] - coef[k]) * coef[cp + k];
            y[r * c + k] = (float)(v * coef[2 * cp + k] + coef[3 * cp + k]);
        }
    if (mask) et_f32_act_forward_mask__ref(n, act, y + r0 * c, y + r0 * c, mask + r0 * c / 8);
    else if (act.kind != ET_ACT_NONE) et_f32_act__ref(n, act, y + r0 * c, y + r0 * c);
}

void et_f32_bn_grad_sums__ref(size_t r0, size_t r1, size_t c, const float *x, const double *coef,
                              const uint8_t *mask, const float *dy, double *sdy, double *sdyx) {
    const size_t cp = et_bn_pad(c);
    for (size_t k = 0; k < c; k++) {
        double s1 = 0.0, s2 = 0.0;
        for (size_t r = r0; r < r1; r++) {
            double d = masked_dy(mask, dy, r * c + k);
            s1 += d;
            s2 += d * ((double)x[r * c + k] - coef[k]) * coef[cp + k];
        }
        sdy[k] = s1;
        sdyx[k] = s2;
    }
}

void et_f32_bn_grad_dx__ref(size_t r0, size_t r1, size_t c, const float *x, const double *coef, double rn,
                            const uint8_t *mask, const float *dy, int overwrite, float *dx) {
    const size_t cp = et_bn_pad(c);
    for (size_t r = r0; r < r1; r++)
        for (size_t k = 0; k < c; k++) {
            size_t i = r * c + k;
            double xhat = ((double)x[i] - coef[k]) * coef[cp + k];
            double v = coef[4 * cp + k] * (masked_dy(mask, dy, i) - coef[2 * cp + k] - xhat * coef[3 * cp + k] * rn);
            dx[i] = (float)((overwrite ? 0.0 : (double)dx[i]) + v);
        }
}

void et_f32_batchnorm_frozen_backward__ref(size_t rows, size_t c, const float *x, const float *gamma,
                                           const float *mean, const float *var, float eps,
                                           const float *dy, float *dx, float *dgamma, float *dbeta) {
    for (size_t k = 0; k < c; k++) {
        /* Frozen statistics are constants: BN is an affine map per channel. */
        const double is = 1.0 / sqrt((double)var[k] + (double)eps);
        const double mu = (double)mean[k];
        double sdy = 0.0, sdyx = 0.0;
        for (size_t r = 0; r < rows; r++) {
            double d = (double)dy[r * c + k];
            sdy += d;
            sdyx += d * ((double)x[r * c + k] - mu) * is;
            if (dx) dx[r * c + k] = (float)((double)dx[r * c + k] + d * (double)gamma[k] * is);
        }
        if (dbeta) dbeta[k] = (float)((double)dbeta[k] + sdy);
        if (dgamma) dgamma[k] = (float)((double)dgamma[k] + sdyx);
    }
}
