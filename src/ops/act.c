/* Scalar activation semantics and the reference element-wise activation kernel.
 * Every fused or SIMD activation must match et_act_apply; nothing here knows
 * about tensors' shapes, graphs or other ops. */
#include <math.h>

#include "ops/ops.h"

/* Comparisons are written so that NaN falls through to `x` and propagates,
 * as it does in PyTorch (clamp, relu, hardtanh all return NaN for NaN). */
static float clip(float x, float lo, float hi) {
    if (x < lo) return lo;
    if (x > hi) return hi;
    return x;
}

/* exp is only ever taken of a non-positive number, so it cannot overflow:
 * sigmoid(-inf) = 0, sigmoid(+inf) = 1, and NaN reaches exp and stays NaN. */
static float sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

float et_act_apply(et_act act, float x) {
    switch (act.kind) {
    case ET_ACT_NONE: return x;
    case ET_ACT_RELU: return x < 0.0f ? 0.0f : x;
    case ET_ACT_CLIP: return clip(x, act.a, act.b);
    case ET_ACT_LEAKY_RELU: return x < 0.0f ? act.a * x : x;
    case ET_ACT_SIGMOID: return sigmoid(x);
    case ET_ACT_TANH: return tanhf(x);
    /* Written as PyTorch evaluates it, so silu(-inf) is NaN there and here. */
    case ET_ACT_SILU: return x * sigmoid(x);
    /* Product before the division, as PyTorch, so overflow happens alike. */
    case ET_ACT_HARDSWISH: return x * clip(x + 3.0f, 0.0f, 6.0f) / 6.0f;
    case ET_ACT_HARDSIGMOID: return clip(act.a * x + act.b, 0.0f, 1.0f);
    case ET_ACT_COUNT: break;
    }
    /* An unknown kind is a caller bug; the library never aborts, so the
     * value passes through unchanged. */
    return x;
}

void et_f32_act__ref(size_t count, et_act act, const float *x, float *y) {
    for (size_t i = 0; i < count; i++) y[i] = et_act_apply(act, x[i]);
}
