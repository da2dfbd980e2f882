/* Reference 2-D convolution (NHWC activations, OHWI weights, groups, dilation,
 * four-sided padding, fused bias and activation). No packing, tiling or
 * im2col here: those belong to the arch/ kernels tested against this one. */
#include "ops/ops.h"

/* Input coordinate of output position o, kernel tap k along one axis, or
 * `limit` when the tap lands in the padding. Unsigned arithmetic throughout:
 * the padding is subtracted only once we know the result is not negative. */
static size_t tap(size_t o, size_t stride, size_t k, size_t dil, size_t pad, size_t limit) {
    size_t p = o * stride + k * dil;
    if (p < pad || p - pad >= limit) return limit;
    return p - pad;
}

void et_f32_conv2d__ref(const et_conv_geom *g, const float *x, const float *w,
                        const float *bias, et_act act, float *y) {
    if (g->groups == 0) return;
    const size_t icg = g->ic / g->groups; /* input channels seen by one filter */
    const size_t ocg = g->oc / g->groups; /* filters per group */
    if (ocg == 0) return;
    for (size_t n = 0; n < g->n; n++) {
        for (size_t oy = 0; oy < g->oh; oy++) {
            for (size_t ox = 0; ox < g->ow; ox++) {
                float *out = y + ((n * g->oh + oy) * g->ow + ox) * g->oc;
                for (size_t oc = 0; oc < g->oc; oc++) {
                    const size_t c0 = (oc / ocg) * icg;
                    /* double: the sum is then independent of summation order
                     * up to one final rounding, a firm target for SIMD. */
                    double acc = bias ? (double)bias[oc] : 0.0;
                    for (size_t ky = 0; ky < g->kh; ky++) {
                        size_t iy = tap(oy, g->sh, ky, g->dh, g->pad_t, g->ih);
                        if (iy == g->ih) continue;
                        for (size_t kx = 0; kx < g->kw; kx++) {
                            size_t ix = tap(ox, g->sw, kx, g->dw, g->pad_l, g->iw);
                            if (ix == g->iw) continue;
                            const float *xp = x + ((n * g->ih + iy) * g->iw + ix) * g->ic + c0;
                            const float *wp = w + ((oc * g->kh + ky) * g->kw + kx) * icg;
                            for (size_t c = 0; c < icg; c++)
                                acc += (double)xp[c] * (double)wp[c];
                        }
                    }
                    out[oc] = et_act_apply(act, (float)acc);
                }
            }
        }
    }
}
