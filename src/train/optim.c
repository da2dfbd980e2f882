/* Optimizer updates for one parameter tensor (SGD, Adam/AdamW, RMSprop) and
 * the gradient-clipping helpers, matching torch.optim's update order. State
 * is float like PyTorch's; each element's arithmetic is done in double. */
#include <math.h>

#include "train/grad_ops.h"

/* The usual step (momentum, no Nesterov, not the first step) without
 * branches and with restrict pointers, so the compiler vectorizes it: the
 * same double arithmetic per element as the general loop below. */
static void sgd_momentum(size_t count, double lr, double mom, double damp, double wd, float *restrict w,
                         const float *restrict g, float *restrict buf) {
    if (wd != 0.0) {
        for (size_t i = 0; i < count; i++) {
            double d = (double)g[i] + wd * (double)w[i];
            buf[i] = (float)(mom * (double)buf[i] + (1.0 - damp) * d);
            w[i] = (float)((double)w[i] - lr * (double)buf[i]);
        }
    } else {
        for (size_t i = 0; i < count; i++) {
            buf[i] = (float)(mom * (double)buf[i] + (1.0 - damp) * (double)g[i]);
            w[i] = (float)((double)w[i] - lr * (double)buf[i]);
        }
    }
}

void et_sgd_update(size_t count, const et_sgd_hp *hp, int first_step, float *w, const float *g, float *buf) {
    const double lr = (double)hp->lr, mom = (double)hp->momentum, wd = (double)hp->weight_decay;
    const double damp = (double)hp->dampening;
    if (mom != 0.0 && !first_step && !hp->nesterov && buf != w && buf != g) {
        sgd_momentum(count, lr, mom, damp, wd, w, g, buf);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        double d = (double)g[i];
        if (wd != 0.0) d += wd * (double)w[i];
        if (mom != 0.0) {
            /* torch.optim.SGD: the buffer starts as the gradient itself,
             * undamped, then buf = m buf + (1 - dampening) g. */
            double b = first_step ? d : mom * (double)buf[i] + (1.0 - damp) * d;
            buf[i] = (float)b;
            b = (double)buf[i]; /* continue from the stored value, as PyTorch */
            d = hp->nesterov ? d + mom * b : b;
        }
        w[i] = (float)((double)w[i] - lr * d);
    }
}

void et_adam_update(size_t count, const et_adam_hp *hp, uint64_t step, float *w, const float *g,
                    float *m, float *v) {
    const double lr = (double)hp->lr, b1 = (double)hp->beta1, b2 = (double)hp->beta2;
    const double eps = (double)hp->eps, wd = (double)hp->weight_decay;
    const double t = (double)(step ? step : 1);
    const double bc1 = 1.0 - pow(b1, t);
    const double bc2_sqrt = sqrt(1.0 - pow(b2, t));
    const double step_size = lr / bc1;
    for (size_t i = 0; i < count; i++) {
        double gi = (double)g[i];
        double wi = (double)w[i];
        if (hp->decoupled) {
            /* AdamW decays the weight itself, before and apart from the
             * moment estimates. */
            if (wd != 0.0) wi = (double)(float)(wi * (1.0 - lr * wd));
        } else if (wd != 0.0) {
            gi += wd * wi; /* Adam: L2 penalty folded into the gradient */
        }
        m[i] = (float)(b1 * (double)m[i] + (1.0 - b1) * gi);
        v[i] = (float)(b2 * (double)v[i] + (1.0 - b2) * gi * gi);
        /* eps is added after the bias-corrected sqrt, as torch.optim.Adam. */
        double denom = sqrt((double)v[i]) / bc2_sqrt + eps;
        w[i] = (float)(wi - step_size * (double)m[i] / denom);
    }
}

void et_rmsprop_update(size_t count, const et_rmsprop_hp *hp, float *w, const float *g,
                       float *sq, float *mom, float *gavg) {
    const double lr = (double)hp->lr, a = (double)hp->alpha, eps = (double)hp->eps;
    const double wd = (double)hp->weight_decay, mo = (double)hp->momentum;
    for (size_t i = 0; i < count; i++) {
        double gi = (double)g[i];
        if (wd != 0.0) gi += wd * (double)w[i];
        sq[i] = (float)(a * (double)sq[i] + (1.0 - a) * gi * gi);
        double avg = (double)sq[i];
        if (hp->centered) {
            /* Centered: divide by an estimate of the gradient's standard
             * deviation instead of its root mean square. */
            gavg[i] = (float)(a * (double)gavg[i] + (1.0 - a) * gi);
            avg -= (double)gavg[i] * (double)gavg[i];
        }
        /* eps after the sqrt, as torch.optim.RMSprop (not inside it). A
         * centered estimate rounded below zero gives NaN, as in PyTorch. */
        avg = sqrt(avg) + eps;
        if (mo > 0.0) {
            mom[i] = (float)(mo * (double)mom[i] + gi / avg);
            w[i] = (float)((double)w[i] - lr * (double)mom[i]);
        } else {
            w[i] = (float)((double)w[i] - lr * gi / avg);
        }
    }
}

double et_grad_sq_norm(size_t count, const float *g) {
    double s = 0.0;
    for (size_t i = 0; i < count; i++) s += (double)g[i] * (double)g[i];
    return s;
}

void et_grad_scale(size_t count, float s, float *g) {
    for (size_t i = 0; i < count; i++) g[i] *= s;
}

void et_grad_accumulate(size_t count, const float *dy, float *dx) {
    for (size_t i = 0; i < count; i++) dx[i] += dy[i];
}

void et_grad_clip_value(size_t count, float limit, float *g) {
    /* Comparisons let NaN through unchanged, as torch.clamp_. */
    for (size_t i = 0; i < count; i++) {
        if (g[i] > limit) g[i] = limit;
        else if (g[i] < -limit) g[i] = -limit;
    }
}
