/* Backward of max, average and global average pooling (NHWC), the windows
 * defined exactly as in src/ops/pool.c. Written as gathers: each dx element
 * sums, in double, the windows that contain it. */
#include "train/grad_ops.h"


/* Outputs [*o_lo, *o_hi) whose raw window [o*stride, o*stride + k) holds
 * padded position p. Raw and clamped windows agree on real positions. */
static void outputs_of(size_t p, size_t stride, size_t k, size_t out, size_t *o_lo, size_t *o_hi) {
    *o_hi = p / stride + 1;
    if (*o_hi > out) *o_hi = out;
    *o_lo = p + 1 > k ? (p + 1 - k + stride - 1) / stride : 0;
    if (*o_lo > *o_hi) *o_lo = *o_hi;
}

/* Padded position (y, x) of the element the max picks in window (wy, wx),
 * with the forward's comparison: strictly greater wins, so ties go to the
 * first in row-major order; NaN always wins (the last NaN, as PyTorch's
 * index). Returns 0 for a window with no real element. */
static int argmax_at(const et_pool_geom *g, const float *xn, size_t c, et_pool_window wy, et_pool_window wx,
                     size_t *ay, size_t *ax) {
    int found = 0;
    float m = 0.0f;
    for (size_t py = wy.lo; py < wy.hi; py++)
        for (size_t px = wx.lo; px < wx.hi; px++) {
            float v = xn[((py - g->pad_t) * g->iw + (px - g->pad_l)) * g->c + c];
            if (!found || v > m || v != v) {
                m = v;
                *ay = py;
                *ax = px;
                found = 1;
            }
        }
    return found;
}

void et_f32_maxpool_backward__ref(const et_pool_geom *g, const float *x, const float *dy, float *dx) {
    if (g->sh == 0 || g->sw == 0) return;
    for (size_t n = 0; n < g->n; n++) {
        const float *xn = x + n * g->ih * g->iw * g->c;
        for (size_t iy = 0; iy < g->ih; iy++) {
            size_t py = iy + g->pad_t, oy0, oy1;
            outputs_of(py, g->sh, g->kh, g->oh, &oy0, &oy1);
            for (size_t ix = 0; ix < g->iw; ix++) {
                size_t px = ix + g->pad_l, ox0, ox1;
                outputs_of(px, g->sw, g->kw, g->ow, &ox0, &ox1);
                for (size_t c = 0; c < g->c; c++) {
                    double acc = 0.0;
                    for (size_t oy = oy0; oy < oy1; oy++) {
                        et_pool_window wy = et_pool_window_at(oy, g->sh, g->kh, g->pad_t, g->pad_b, g->ih);
                        for (size_t ox = ox0; ox < ox1; ox++) {
                            et_pool_window wx = et_pool_window_at(ox, g->sw, g->kw, g->pad_l, g->pad_r, g->iw);
                            size_t ay = 0, ax = 0;
                            if (argmax_at(g, xn, c, wy, wx, &ay, &ax) && ay == py && ax == px)
                                acc += (double)dy[((n * g->oh + oy) * g->ow + ox) * g->c + c];
                        }
                    }
                    float *p = dx + ((n * g->ih + iy) * g->iw + ix) * g->c + c;
                    *p = (float)((double)*p + acc);
                }
            }
        }
    }
}

void et_f32_avgpool_backward__ref(const et_pool_geom *g, const float *dy, float *dx) {
    if (g->sh == 0 || g->sw == 0) return;
    for (size_t n = 0; n < g->n; n++)
        for (size_t iy = 0; iy < g->ih; iy++) {
            size_t oy0, oy1;
            outputs_of(iy + g->pad_t, g->sh, g->kh, g->oh, &oy0, &oy1);
            for (size_t ix = 0; ix < g->iw; ix++) {
                size_t ox0, ox1;
                outputs_of(ix + g->pad_l, g->sw, g->kw, g->ow, &ox0, &ox1);
                for (size_t c = 0; c < g->c; c++) {
                    double acc = 0.0;
                    for (size_t oy = oy0; oy < oy1; oy++) {
                        et_pool_window wy = et_pool_window_at(oy, g->sh, g->kh, g->pad_t, g->pad_b, g->ih);
                        for (size_t ox = ox0; ox < ox1; ox++) {
                            et_pool_window wx = et_pool_window_at(ox, g->sw, g->kw, g->pad_l, g->pad_r, g->iw);
                            /* The forward's divisor, same rule. */
                            size_t div = g->count_include_pad ? wy.full * wx.full
                                                              : (wy.hi - wy.lo) * (wx.hi - wx.lo);
                            if (div == 0) continue;
                            acc += (double)dy[((n * g->oh + oy) * g->ow + ox) * g->c + c] / (double)div;
                        }
                    }
                    float *p = dx + ((n * g->ih + iy) * g->iw + ix) * g->c + c;
                    *p = (float)((double)*p + acc);
                }
            }
        }
}

void et_f32_global_avgpool_backward__ref(size_t n, size_t hw, size_t c, const float *dy, float *dx) {
    if (hw == 0) return;
    for (size_t b = 0; b < n; b++)
        for (size_t i = 0; i < hw; i++)
            for (size_t k = 0; k < c; k++) {
                float *p = dx + (b * hw + i) * c + k;
                *p = (float)((double)*p + (double)dy[b * c + k] / (double)hw);
            }
}
