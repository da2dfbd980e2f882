/* x86 vectorized max/avg pooling and inference batchnorm over NHWC,
 * included once per ISA after simd.h: vectors run along channels, tails
 * use masked loads and stores. Same windows and divisors as the reference
 * (et_pool_window_at); a NaN in a max window wins, as in the reference. */
#include <math.h>
#include "dispatch.h"
#include "x86.h"

/* Sticky NaN flags across a window and lane masks: AVX-512 has k-masks,
 * AVX2 vectors of all-ones lanes. */
#if VW == 16
typedef __mmask16 lane_mask;
typedef __mmask16 nan_flags;
#define NAN_NONE ((__mmask16)0)
#define NAN_ADD(f, v) ((__mmask16)((f) | V_UNORD(v)))
#else
typedef V lane_mask;
typedef V nan_flags;
#define NAN_NONE V_ZERO()
#define NAN_ADD(f, v) V_OR((f), V_UNORD(v))
#endif

static inline const float *pool_px(const et_pool_geom *g, const float *x, size_t n, size_t py, size_t px) {
    return x + ((n * g->ih + py - g->pad_t) * g->iw + px - g->pad_l) * g->c;
}

void ET_FN(et_f32_maxpool)(const et_pool_geom *g, const float *x, float *y) {
    const size_t C = g->c;
    for (size_t n = 0; n < g->n; n++)
        for (size_t oy = 0; oy < g->oh; oy++) {
            et_pool_window wy = et_pool_window_at(oy, g->sh, g->kh, g->pad_t, g->pad_b, g->ih);
            for (size_t ox = 0; ox < g->ow; ox++) {
                et_pool_window wx = et_pool_window_at(ox, g->sw, g->kw, g->pad_l, g->pad_r, g->iw);
                float *out = y + ((n * g->oh + oy) * g->ow + ox) * C;
                for (size_t c = 0; c < C; c += VW) {
                    size_t w = C - c < VW ? C - c : VW;
                    lane_mask mask = V_TAIL(w);
                    V m = V_SET1(-INFINITY);
                    nan_flags nanf = NAN_NONE;
                    for (size_t py = wy.lo; py < wy.hi; py++)
                        for (size_t px = wx.lo; px < wx.hi; px++) {
                            V v = V_LOADM(pool_px(g, x, n, py, px) + c, mask);
                            nanf = NAN_ADD(nanf, v);
                            m = V_MAX(m, v);
                        }
                    V_STOREM(out + c, mask, V_BLEND(nanf, m, V_SET1(NAN)));
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
                V inv = V_SET1(divisor ? 1.0f / (float)divisor : 0.0f);
                for (size_t c = 0; c < C; c += VW) {
                    size_t w = C - c < VW ? C - c : VW;
                    lane_mask mask = V_TAIL(w);
                    V s = V_ZERO();
                    for (size_t py = wy.lo; py < wy.hi; py++)
                        for (size_t px = wx.lo; px < wx.hi; px++)
                            s = V_ADD(s, V_LOADM(pool_px(g, x, n, py, px) + c, mask));
                    V_STOREM(out + c, mask, V_MUL(s, inv));
                }
            }
        }
}

/* Inference batchnorm: per-channel scale and shift computed once per block
 * of channels, then (x - mean) * scale + beta over every row. */
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
            for (size_t k = 0; k < cb; k += VW) {
                size_t w = cb - k < VW ? cb - k : VW;
                lane_mask mask = V_TAIL(w);
                V v = V_SUB(V_LOADM(xr + k, mask), V_LOADM(mean + c0 + k, mask));
                V_STOREM(yr + k, mask,
                         V_FMA(v, V_LOADM(scale + k, mask), V_LOADM(beta + c0 + k, mask)));
            }
        }
    }
}
