/* Losses with their gradients, PyTorch semantics and mean reduction: softmax
 * cross-entropy (label smoothing, class weights), BCE with logits, MSE, L1.
 * All sums in double; nothing here knows about graphs or the trainer. */
#include <math.h>

#include "train/grad_ops.h"

double et_loss_softmax_ce(size_t n, size_t c, const float *logits, const int32_t *target,
                          float smoothing, const float *class_weight, float *dlogits) {
    /* torch.nn.functional.cross_entropy with weight w and smoothing e:
     *   loss = [(1-e) sum_i w[t_i] nll_i + (e/C) sum_i sum_k w[k] nll_ik] / W,
     *   W = sum_i w[t_i]  (n without weights), nll_ik = -log softmax_ik.
     * Hence d/dz_ik = [(1-e) w[t_i] (p_ik - [k=t_i]) + (e/C)(Sw p_ik - w[k])] / W
     * with Sw = sum_k w[k]. A target outside [0, c) contributes nothing
     * (like PyTorch's ignore_index; PyTorch would raise instead). */
    const double e = (double)smoothing;
    double sw = 0.0, wsum = 0.0;
    for (size_t k = 0; k < c; k++) sw += class_weight ? (double)class_weight[k] : 1.0;
    for (size_t i = 0; i < n; i++)
        if (target[i] >= 0 && (size_t)target[i] < c)
            wsum += class_weight ? (double)class_weight[target[i]] : 1.0;
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float *z = logits + i * c;
        float *dz = dlogits ? dlogits + i * c : NULL;
        int valid = target[i] >= 0 && (size_t)target[i] < c && c > 0;
        if (!valid || wsum == 0.0) {
            if (dz)
                for (size_t k = 0; k < c; k++) dz[k] = 0.0f;
            continue;
        }
        const size_t t = (size_t)target[i];
        /* log-sum-exp around the max: exp() <= 1, so logits of +-1000 work. */
        double m = (double)z[0];
        for (size_t k = 1; k < c; k++)
            if ((double)z[k] > m) m = (double)z[k];
        double s = 0.0;
        for (size_t k = 0; k < c; k++) s += exp((double)z[k] - m);
        const double lse = m + log(s);
        const double wt = class_weight ? (double)class_weight[t] : 1.0;
        double smooth = 0.0;
        for (size_t k = 0; k < c; k++)
            smooth += (class_weight ? (double)class_weight[k] : 1.0) * (lse - (double)z[k]);
        total += (1.0 - e) * wt * (lse - (double)z[t]) + e / (double)c * smooth;
        if (dz)
            for (size_t k = 0; k < c; k++) {
                double p = exp((double)z[k] - lse);
                double wk = class_weight ? (double)class_weight[k] : 1.0;
                double g = (1.0 - e) * wt * (p - (k == t ? 1.0 : 0.0)) + e / (double)c * (sw * p - wk);
                dz[k] = (float)(g / wsum);
            }
    }
    /* No counted sample: PyTorch's mean over nothing is NaN; the gradient
     * was written as zeros so that nothing is learned from the batch. */
    if (wsum == 0.0) return NAN;
    return total / wsum;
}

double et_loss_bce_logits(size_t n, size_t c, const float *logits, const float *target, float *dlogits) {
    const size_t count = n * c;
    double total = 0.0;
    for (size_t i = 0; i < count; i++) {
        const double z = (double)logits[i], t = (double)target[i];
        /* max(z,0) - z t + log(1 + exp(-|z|)): never exponentiates a
         * positive number, so logits of +-1e4 stay finite. */
        total += (z > 0.0 ? z : 0.0) - z * t + log1p(exp(-fabs(z)));
        if (dlogits) {
            double s = z >= 0.0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
            dlogits[i] = (float)((s - t) / (double)count);
        }
    }
    return count ? total / (double)count : NAN;
}

double et_loss_mse(size_t count, const float *pred, const float *target, float *dpred) {
    double total = 0.0;
    for (size_t i = 0; i < count; i++) {
        double d = (double)pred[i] - (double)target[i];
        total += d * d;
        if (dpred) dpred[i] = (float)(2.0 * d / (double)count);
    }
    return count ? total / (double)count : NAN;
}

double et_loss_l1(size_t count, const float *pred, const float *target, float *dpred) {
    double total = 0.0;
    for (size_t i = 0; i < count; i++) {
        double d = (double)pred[i] - (double)target[i];
        total += fabs(d);
        /* sign(0) = 0, as PyTorch's l1_loss backward (sgn). */
        if (dpred) dpred[i] = (float)((d > 0.0 ? 1.0 : d < 0.0 ? -1.0 : 0.0) / (double)count);
    }
    return count ? total / (double)count : NAN;
}
