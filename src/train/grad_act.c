/* Backward of the element-wise activations: dx += dy * act'(x), x being the
 * pre-activation. The forward's definition lives in src/ops/act.c; this file
 * holds only derivatives, with PyTorch's choices at the kinks. */
#include <math.h>

#include "train/grad_ops.h"

/* Same branch structure as the forward's sigmoid so exp never overflows. */
static double sigmoid_d(double x) {
    if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* Derivative at x. At the kinks the value is PyTorch's: relu'(0) = 0 (it
 * tests the output > 0), leaky_relu'(0) = alpha, clip/relu6 (hardtanh) and
 * hardsigmoid are 0 on the edges (strict inequalities), hardswish follows
 * hardswish_backward (x < -3: 0, x <= 3: x/3 + 1/2, else 1). NaN inputs give
 * NaN through the arithmetic or 0 through the comparisons, as PyTorch. */
static double act_grad(et_act act, double x) {
    switch (act.kind) {
    case ET_ACT_NONE: return 1.0;
    case ET_ACT_RELU: return x > 0.0 ? 1.0 : 0.0;
    case ET_ACT_CLIP: return (x > (double)act.a && x < (double)act.b) ? 1.0 : 0.0;
    case ET_ACT_LEAKY_RELU: return x > 0.0 ? 1.0 : (double)act.a;
    case ET_ACT_SIGMOID: {
        double s = sigmoid_d(x);
        return s * (1.0 - s);
    }
    case ET_ACT_TANH: {
        double t = tanh(x);
        return 1.0 - t * t;
    }
    case ET_ACT_SILU: {
        double s = sigmoid_d(x);
        return s * (1.0 + x * (1.0 - s));
    }
    case ET_ACT_HARDSWISH:
        if (x < -3.0) return 0.0;
        if (x <= 3.0) return x / 3.0 + 0.5;
        return 1.0;
    case ET_ACT_HARDSIGMOID: {
        /* In double: with PyTorch's alpha = float(1/6) this puts x = -3 and
         * x = 3 exactly outside (0, 1), as hardsigmoid_backward's test on x. */
        double z = (double)act.a * x + (double)act.b;
        return (z > 0.0 && z < 1.0) ? (double)act.a : 0.0;
    }
    case ET_ACT_COUNT: break;
    }
    /* Unknown kind: the forward passes x through, so its derivative is 1. */
    return 1.0;
}

void et_f32_act_backward__ref(size_t count, et_act act, const float *x, const float *dy, float *dx) {
    for (size_t i = 0; i < count; i++) {
        double d = act_grad(act, (double)x[i]);
        /* A zero derivative selects rather than multiplies, as PyTorch's
         * masked backward: an infinite dy stays out instead of making NaN. */
        if (d == 0.0) continue;
        dx[i] = (float)((double)dx[i] + (double)dy[i] * d);
    }
}

/* The identity branch of a mask kind; NaN is on none. */
static int on_branch(et_act act, float z) {
    if (act.kind == ET_ACT_CLIP) return z > act.a && z < act.b;
    return z > 0.0f;
}

void et_f32_act_mask__ref(size_t count, et_act act, const float *z, uint8_t *mask) {
    for (size_t i = 0; i < (count + 7) / 8; i++) mask[i] = 0;
    for (size_t i = 0; i < count; i++)
        if (on_branch(act, z[i])) mask[i / 8] = (uint8_t)(mask[i / 8] | (1u << (i % 8)));
}

void et_f32_act_forward_mask__ref(size_t count, et_act act, const float *x, float *y, uint8_t *mask) {
    et_f32_act_mask__ref(count, act, x, mask); /* first: x may be y */
    et_f32_act__ref(count, act, x, y);
}

void et_f32_act_backward_mask__ref(size_t count, et_act act, const uint8_t *mask, const float *dy, float *dx) {
    for (size_t i = 0; i < count; i++) {
        int on = (mask[i / 8] >> (i % 8)) & 1;
        double d = on ? 1.0 : act.kind == ET_ACT_LEAKY_RELU ? (double)act.a : 0.0;
        if (d == 0.0) continue;
        dx[i] = (float)((double)dx[i] + (double)dy[i] * d);
    }
}
