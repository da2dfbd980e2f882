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

void et_f32_batchnorm_train_stats__ref(size_t rows, size_t c, const float *x, const float *gamma,
                                       const float *beta, float eps, float momentum, float *running_mean,
                                       float *running_var, float *save_mean, float *save_inv_std, double *stats,
                                       et_act act, uint8_t *mask, float *y) {
    const double m = (double)momentum;
    for (size_t k = 0; k < c; k++) {
        /* Two passes in double: the mean first, then the squared deviations,
         * which stays accurate when |mean| >> std. */
        double sum = 0.0;
        for (size_t r = 0; r < rows; r++) sum += (double)x[r * c + k];
        double mean = rows ? sum / (double)rows : 0.0;
        double ss = 0.0;
        for (size_t r = 0; r < rows; r++) {
            double d = (double)x[r * c + k] - mean;
            ss += d * d;
        }
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
        /* The two per-channel reductions every dx element depends on. */
        double sdy = 0.0, sdyx = 0.0;
        for (size_t r = 0; r < rows; r++) {
            double d = masked_dy(mask, dy, r * c + k);
            sdy += d;
            sdyx += d * ((double)x[r * c + k] - mean) * is;
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
