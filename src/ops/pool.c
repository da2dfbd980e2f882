/* Sliding-window sizes (et_window_out) and reference max, average and global
 * average pooling over NHWC. Pool geometry checks belong to the graph; the
 * kernels here trust the geometry they are given. */
#include <math.h>
#include <stdint.h>

#include "ops/ops.h"

size_t et_window_out(size_t in, size_t k, size_t stride, size_t dil,
                     size_t pad_lo, size_t pad_hi, int ceil_mode) {
    /* Degenerate or overflowing parameters give 0 ("does not fit") rather
     * than a bogus size: the callers treat 0 as a shape error. */
    if (k == 0 || stride == 0 || dil == 0) return 0;
    if (k - 1 > (SIZE_MAX - 1) / dil) return 0;
    size_t eff = (k - 1) * dil + 1;
    if (pad_lo > SIZE_MAX - in || pad_hi > SIZE_MAX - in - pad_lo) return 0;
    size_t total = in + pad_lo + pad_hi;
    if (total < eff) return 0;
    size_t span = total - eff;
    size_t out = span / stride + 1;
    if (ceil_mode && span % stride != 0) {
        out++;
        /* PyTorch drops a last window that would start in the trailing
         * padding: it would see no input element. */
        if ((out - 1) * stride >= in + pad_lo) out--;
    }
    return out;
}


void et_f32_maxpool__ref(const et_pool_geom *g, const float *x, float *y) {
    for (size_t n = 0; n < g->n; n++)
        for (size_t oy = 0; oy < g->oh; oy++) {
            et_pool_window wy = et_pool_window_at(oy, g->sh, g->kh, g->pad_t, g->pad_b, g->ih);
            for (size_t ox = 0; ox < g->ow; ox++) {
                et_pool_window wx = et_pool_window_at(ox, g->sw, g->kw, g->pad_l, g->pad_r, g->iw);
                float *out = y + ((n * g->oh + oy) * g->ow + ox) * g->c;
                for (size_t c = 0; c < g->c; c++) {
                    /* -inf is the identity of max: a window holding only
                     * padding (impossible with PyTorch's limits) gives -inf. */
                    float m = -INFINITY;
                    for (size_t py = wy.lo; py < wy.hi; py++)
                        for (size_t px = wx.lo; px < wx.hi; px++) {
                            size_t iy = py - g->pad_t, ix = px - g->pad_l;
                            float v = x[((n * g->ih + iy) * g->iw + ix) * g->c + c];
                            /* NaN wins and then sticks (nothing compares
                             * greater than NaN), as in PyTorch. */
                            if (v > m || v != v) m = v;
                        }
                    out[c] = m;
                }
            }
        }
}

void et_f32_avgpool__ref(const et_pool_geom *g, const float *x, float *y) {
    for (size_t n = 0; n < g->n; n++)
        for (size_t oy = 0; oy < g->oh; oy++) {
            et_pool_window wy = et_pool_window_at(oy, g->sh, g->kh, g->pad_t, g->pad_b, g->ih);
            for (size_t ox = 0; ox < g->ow; ox++) {
                et_pool_window wx = et_pool_window_at(ox, g->sw, g->kw, g->pad_l, g->pad_r, g->iw);
                float *out = y + ((n * g->oh + oy) * g->ow + ox) * g->c;
                /* PyTorch counts padding only up to the padded input's edge:
                 * with ceil_mode, the part of a window past pad_b/pad_r is
                 * never in the divisor, even with count_include_pad. */
                size_t divisor = g->count_include_pad
                                     ? wy.full * wx.full
                                     : (wy.hi - wy.lo) * (wx.hi - wx.lo);
                for (size_t c = 0; c < g->c; c++) {
                    double sum = 0.0;
                    for (size_t py = wy.lo; py < wy.hi; py++)
                        for (size_t px = wx.lo; px < wx.hi; px++) {
                            size_t iy = py - g->pad_t, ix = px - g->pad_l;
                            sum += (double)x[((n * g->ih + iy) * g->iw + ix) * g->c + c];
                        }
                    /* An empty window (impossible with PyTorch's limits)
                     * gives 0 rather than 0/0. */
                    out[c] = divisor ? (float)(sum / (double)divisor) : 0.0f;
                }
            }
        }
}

void et_f32_global_avgpool__ref(size_t n, size_t hw, size_t c, const float *x, float *y) {
    for (size_t b = 0; b < n; b++)
        for (size_t k = 0; k < c; k++) {
            double sum = 0.0;
            for (size_t i = 0; i < hw; i++) sum += (double)x[(b * hw + i) * c + k];
            /* The mean of nothing is NaN, as torch.mean of an empty tensor. */
            y[b * c + k] = hw ? (float)(sum / (double)hw) : NAN;
        }
}
