/* Reference conv2d backward: input gradient (a transposed convolution written
 * as a gather) and weight/bias gradients, same geometry as et_f32_conv2d__ref.
 * No packing or tiling: the arch/ backward kernels are tested against these. */
#include "train/grad_ops.h"

/* Output position whose tap k reads input position i along one axis, or
 * `limit` (= the output size) when no output position does: o * stride + k *
 * dil - pad = i must hold exactly for some o in [0, limit). */
static size_t out_of_tap(size_t i, size_t k, size_t stride, size_t dil, size_t pad, size_t limit) {
    size_t p = i + pad;
    size_t off = k * dil;
    if (p < off) return limit;
    p -= off;
    if (p % stride != 0) return limit;
    size_t o = p / stride;
    return o < limit ? o : limit;
}

void et_f32_conv2d_backward_input__ref(const et_conv_geom *g, const float *dy, const float *w, float *dx) {
    if (g->groups == 0 || g->sh == 0 || g->sw == 0) return;
    const size_t icg = g->ic / g->groups;
    const size_t ocg = g->oc / g->groups;
    if (icg == 0 || ocg == 0) return;
    /* Gather: each dx element sums, in double, every (output, tap, filter)
     * that read it, so it is rounded once whatever the stride overlap. */
    for (size_t n = 0; n < g->n; n++)
        for (size_t iy = 0; iy < g->ih; iy++)
            for (size_t ix = 0; ix < g->iw; ix++) {
                float *dxp = dx + ((n * g->ih + iy) * g->iw + ix) * g->ic;
                for (size_t ci = 0; ci < g->ic; ci++) {
                    const size_t grp = ci / icg, c = ci % icg;
                    double acc = 0.0;
                    for (size_t ky = 0; ky < g->kh; ky++) {
                        size_t oy = out_of_tap(iy, ky, g->sh, g->dh, g->pad_t, g->oh);
                        if (oy == g->oh) continue;
                        for (size_t kx = 0; kx < g->kw; kx++) {
                            size_t ox = out_of_tap(ix, kx, g->sw, g->dw, g->pad_l, g->ow);
                            if (ox == g->ow) continue;
                            const float *dyp = dy + ((n * g->oh + oy) * g->ow + ox) * g->oc;
                            for (size_t oc = grp * ocg; oc < (grp + 1) * ocg; oc++)
                                acc += (double)dyp[oc] *
                                       (double)w[((oc * g->kh + ky) * g->kw + kx) * icg + c];
                        }
                    }
                    dxp[ci] = (float)((double)dxp[ci] + acc);
                }
            }
}

/* Input coordinate read by output o through tap k, or `limit` in the padding
 * (the forward's rule, repeated here because the forward keeps it private). */
static size_t tap(size_t o, size_t stride, size_t k, size_t dil, size_t pad, size_t limit) {
    size_t p = o * stride + k * dil;
    if (p < pad || p - pad >= limit) return limit;
    return p - pad;
}

size_t et_f32_conv2d_backward_weight_units__ref(const et_conv_geom *g) { return g->groups ? g->oc : 0; }

void et_f32_conv2d_backward_weight_part__ref(const et_conv_geom *g, const float *x, const float *dy, float *dw,
                                             size_t oc_lo, size_t oc_hi) {
    if (g->groups == 0) return;
    const size_t icg = g->ic / g->groups;
    const size_t ocg = g->oc / g->groups;
    if (ocg == 0) return;
    for (size_t oc = oc_lo; oc < oc_hi && oc < g->oc; oc++) {
        const size_t c0 = (oc / ocg) * icg;
        for (size_t ky = 0; ky < g->kh; ky++)
            for (size_t kx = 0; kx < g->kw; kx++)
                for (size_t c = 0; c < icg; c++) {
                    /* One weight's gradient is one reduction over batch and
                     * positions: summed in double, rounded once. */
                    double acc = 0.0;
                    for (size_t n = 0; n < g->n; n++)
                        for (size_t oy = 0; oy < g->oh; oy++) {
                            size_t iy = tap(oy, g->sh, ky, g->dh, g->pad_t, g->ih);
                            if (iy == g->ih) continue;
                            for (size_t ox = 0; ox < g->ow; ox++) {
                                size_t ix = tap(ox, g->sw, kx, g->dw, g->pad_l, g->iw);
                                if (ix == g->iw) continue;
                                acc += (double)x[((n * g->ih + iy) * g->iw + ix) * g->ic + c0 + c] *
                                       (double)dy[((n * g->oh + oy) * g->ow + ox) * g->oc + oc];
                            }
                        }
                    float *dwp = dw + ((oc * g->kh + ky) * g->kw + kx) * icg + c;
                    *dwp = (float)((double)*dwp + acc);
                }
    }
}

void et_f32_conv2d_backward_weight__ref(const et_conv_geom *g, const float *x, const float *dy,
                                        float *dw, float *db) {
    if (g->groups == 0 || g->oc / g->groups == 0) return;
    for (size_t oc = 0; db && oc < g->oc; oc++) {
        double acc = 0.0;
        for (size_t p = 0; p < g->n * g->oh * g->ow; p++) acc += (double)dy[p * g->oc + oc];
        db[oc] = (float)((double)db[oc] + acc);
    }
    et_f32_conv2d_backward_weight_part__ref(g, x, dy, dw, 0, g->oc);
}
