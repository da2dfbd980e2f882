/* NEON max/avg/global-average pooling and inference batchnorm over NHWC, a
 * template included once per ISA (neon64/pool.c, neon32/pool.c): vectors
 * run along channels. Windows and divisors are the reference's
 * (et_pool_window_at); a NaN in a max window wins, as in the reference. */
#include <math.h>
#include "simd.h"
#include "arm.h"

void ET_FN(et_f32_maxpool)(const et_pool_geom *g, const float *x, float *y) {
    const size_t C = g->c;
    for (size_t n = 0; n < g->n; n++)
        for (size_t oy = 0; oy < g->oh; oy++) {
            et_pool_window wy = et_pool_window_at(oy, g->sh, g->kh, g->pad_t, g->pad_b, g->ih);
            for (size_t ox = 0; ox < g->ow; ox++) {
                et_pool_window wx = et_pool_window_at(ox, g->sw, g->kw, g->pad_l, g->pad_r, g->iw);
                float *out = y + ((n * g->oh + oy) * g->ow + ox) * C;
                size_t c = 0;
                /* vmaxq returns NaN when either side is NaN: a NaN in the
                 * window wins and sticks, as in the reference */
                for (; c + 4 <= C; c += 4) {
                    V m = vdupq_n_f32(-INFINITY);
                    for (size_t py = wy.lo; py < wy.hi; py++)
                        for (size_t px = wx.lo; px < wx.hi; px++)
                            m = vmaxq_f32(m, vld1q_f32(x + ((n * g->ih + py - g->pad_t) * g->iw + px - g->pad_l) * C + c));
                    vst1q_f32(out + c, m);
                }
                for (; c < C; c++) {
                    float m = -INFINITY;
                    for (size_t py = wy.lo; py < wy.hi; py++)
                        for (size_t px = wx.lo; px < wx.hi; px++) {
                            float v = x[((n * g->ih + py - g->pad_t) * g->iw + px - g->pad_l) * C + c];
                            if (v > m || v != v) m = v;
                        }
                    out[c] = m;
                }
            }
        }
}

void ET_FN(et_f32_avgpool)(const et_pool_geom *g, const float *x, float *y) {
    const size_t C = g->c;
    for (size_t n = 0; n < g->n; n++)
        for (size_t oy = 0; oy < g->oh; oy++) {
            et_pool_window wy = et_pool_window_at(oy, g->sh, g->kh, g->pad_t, g->pad_b, g->ih);
            for (size_t ox = 0; ox < g->ow; ox++) {
                et_pool_window wx = et_pool_window_at(ox, g->sw, g->kw, g->pad_l, g->pad_r, g->iw);
                float *out = y + ((n * g->oh + oy) * g->ow + ox) * C;
                size_t divisor = g->count_include_pad ? wy.full * wx.full : (wy.hi - wy.lo) * (wx.hi - wx.lo);
                /* an empty window gives 0, not 0/0, as the reference */
                float inv = divisor ? 1.0f / (float)divisor : 0.0f;
                size_t c = 0;
                for (; c + 4 <= C; c += 4) {
                    V s = vdupq_n_f32(0.0f);
                    for (size_t py = wy.lo; py < wy.hi; py++)
                        for (size_t px = wx.lo; px < wx.hi; px++)
                            s = vaddq_f32(s, vld1q_f32(x + ((n * g->ih + py - g->pad_t) * g->iw + px - g->pad_l) * C + c));
                    vst1q_f32(out + c, vmulq_n_f32(s, inv));
                }
                for (; c < C; c++) {
                    float s = 0.0f;
                    for (size_t py = wy.lo; py < wy.hi; py++)
                        for (size_t px = wx.lo; px < wx.hi; px++)
                            s += x[((n * g->ih + py - g->pad_t) * g->iw + px - g->pad_l) * C + c];
                    out[c] = s * inv;
                }
            }
        }
}

void ET_FN(et_f32_global_avgpool)(size_t n, size_t hw, size_t c, const float *x, float *y) {
    /* the mean of nothing is NaN, as torch.mean of an empty tensor */
    float inv = hw ? 1.0f / (float)hw : NAN;
    for (size_t b = 0; b < n; b++) {
        const float *xb = x + b * hw * c;
        size_t k = 0;
        for (; k + 4 <= c; k += 4) {
            /* two partial sums halve the add latency chain */
            V s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
            size_t i = 0;
            for (; i + 2 <= hw; i += 2) {
                s0 = vaddq_f32(s0, vld1q_f32(xb + i * c + k));
                s1 = vaddq_f32(s1, vld1q_f32(xb + (i + 1) * c + k));
            }
            if (i < hw) s0 = vaddq_f32(s0, vld1q_f32(xb + i * c + k));
            vst1q_f32(y + b * c + k, vmulq_n_f32(vaddq_f32(s0, s1), inv));
        }
        for (; k < c; k++) {
            float s = 0.0f;
            for (size_t i = 0; i < hw; i++) s += xb[i * c + k];
            y[b * c + k] = hw ? s * inv : NAN;
        }
    }
}

/* Inference batchnorm: the per-channel scale gamma / sqrt(var + eps) in
 * double (as the reference) once per block of channels, then
 * (x - mean) * scale + beta over every row. Channel tails use short loads
 * and stores, and each row is read before it is written, so y == x works. */
void ET_FN(et_f32_batchnorm)(size_t rows, size_t c, const float *x, const float *gamma, const float *beta,
                             const float *mean, const float *var, float eps, float *y) {
    enum { BLOCK = 256 };
    float scale[BLOCK];
    for (size_t c0 = 0; c0 < c; c0 += BLOCK) {
        size_t cb = c - c0 < BLOCK ? c - c0 : BLOCK;
        for (size_t k = 0; k < cb; k++) scale[k] = (float)((double)gamma[c0 + k] / sqrt((double)var[c0 + k] + (double)eps));
        for (size_t r = 0; r < rows; r++) {
            const float *xr = x + r * c + c0;
            float *yr = y + r * c + c0;
            for (size_t k = 0; k < cb; k += 4) {
                size_t w = cb - k;
                V v = vsubq_f32(v_loadn(xr + k, w), v_loadn(mean + c0 + k, w));
                v_storen(yr + k, w, vfmaq_f32(v_loadn(beta + c0 + k, w), v, v_loadn(scale + k, w)));
            }
        }
    }
}
