/* Depthwise conv (groups == ic == oc) of any kernel size, stride, dilation and
 * padding, vectorized over channels with masked tails, bias and activation
 * fused; a template included once per ISA after simd.h. Nothing else here. */
#include <string.h>
#include "dispatch.h"
#include "vmath.h"

/* Output pixels computed together: each weight vector loaded once serves PX
 * pixels, which takes the kernel from load-bound to nearly FMA-bound. */
#define PX 4

static size_t cpad(size_t c) { return (c + VW - 1) / VW * VW; }

/* [taps][Cp] weights, then [Cp] bias, zero-padded channels. */
static size_t dw_pack_bytes(const et_conv_geom *g) { return (g->kh * g->kw + 1) * cpad(g->oc) * sizeof(float); }

static void dw_pack(const et_conv_geom *g, const float *w, const float *bias, void *dst) {
    size_t taps = g->kh * g->kw, cp = cpad(g->oc);
    float *d = dst;
    memset(d, 0, dw_pack_bytes(g));
    for (size_t c = 0; c < g->oc; c++) {
        for (size_t t = 0; t < taps; t++) d[t * cp + c] = w[c * taps + t];
        d[taps * cp + c] = bias ? bias[c] : 0.0f;
    }
}

#include "dw_band_tmpl.h"

static size_t dw_scratch(const et_conv_geom *g) { (void)g; return 0; }

/* One output pixel, skipping taps in the padding (same order as the tiles). */
static void dw_pixel(const et_conv_geom *g, const float *const *xrow, const size_t *kys, size_t nky, const float *wt,
                     const float *bias, size_t ox, float *yrow, et_act act) {
    const size_t C = g->oc, cp = cpad(C);
    for (size_t c = 0; c < C; c += VW) {
        VM m = V_TAIL(C - c < VW ? C - c : VW);
        V acc = V_LOAD(bias + c);
        for (size_t r = 0; r < nky; r++) {
            const float *wr = wt + kys[r] * g->kw * cp + c;
            for (size_t kx = 0; kx < g->kw; kx++) {
                size_t px = ox * g->sw + kx * g->dw;
                if (px < g->pad_l || px - g->pad_l >= g->iw) continue;
                acc = V_FMA(V_LOADM(xrow[r] + (px - g->pad_l) * C + c, m), V_LOAD(wr + kx * cp), acc);
            }
        }
        V_STOREM(yrow + ox * C + c, m, v_act(acc, act));
    }
}
static size_t dw_tasks(const et_conv_geom *g) { return g->n * g->oh; }

static void dw_run(const et_conv_args *a, size_t t0, size_t t1, void *scratch) {
    (void)scratch;
    const et_conv_geom *g = a->g;
    const size_t C = g->oc, cp = cpad(C), taps = g->kh * g->kw;
    const float *wt = a->packed, *bias = wt + taps * cp;
    size_t xlo, xhi;
    et_conv_interior_cols(g, &xlo, &xhi);
    const size_t sxs = g->sw * C; /* input step between neighbouring output pixels */
    const int banded = dwb_applies(g);
    const size_t band = banded ? dwb_band_rows(g) : 1;
    for (size_t t = t0; t < t1; t++) {
        size_t oy = t % g->oh, n = t / g->oh;
        size_t r0, r1;
        if (banded && dwb_tap_rows(g, oy, &r0, &r1)) {
            /* a band of rows with the same tap rows inside */
            size_t rows = 1, q0, q1;
            while (rows < band && t + rows < t1 && oy + rows < g->oh && dwb_tap_rows(g, oy + rows, &q0, &q1) && q0 == r0 &&
                   q1 == r1)
                rows++;
            const size_t xs = g->iw * C;
            dwb_band(g->kh, g->sw, r0, r1, a->x + (n * g->ih + oy * g->sh + r0 - g->pad_t) * xs, xs, g->sh * xs,
                     a->y + (n * g->oh + oy) * g->ow * C, g->ow * C, rows, xlo, xhi, g->ow, g->pad_l, g->iw, C, wt, cp,
                     bias, a->act);
            t += rows - 1;
            continue;
        }
        /* valid kernel rows for this output row, in order */
        size_t kys[256], nky = 0;
        const float *xrow[256];
        for (size_t ky = 0; ky < g->kh; ky++) {
            size_t py = oy * g->sh + ky * g->dh;
            if (py < g->pad_t || py - g->pad_t >= g->ih) continue;
            kys[nky] = ky;
            xrow[nky++] = a->x + (n * g->ih + (py - g->pad_t)) * g->iw * C;
        }
        float *yrow = a->y + (n * g->oh + oy) * g->ow * C;
        size_t ox = 0;
        while (ox < g->ow) {
            if (ox >= xlo && ox + PX <= xhi) {
                /* PX pixels whose taps are all inside along x */
                size_t ix0 = ox * g->sw - g->pad_l;
                size_t c = 0;
                for (; c + VW <= C; c += VW) { /* full vectors: plain loads */
                    V acc0 = V_LOAD(bias + c), acc1 = acc0, acc2 = acc0, acc3 = acc0;
                    for (size_t r = 0; r < nky; r++) {
                        const float *wr = wt + kys[r] * g->kw * cp + c;
                        const float *xr = xrow[r] + ix0 * C + c;
                        for (size_t kx = 0; kx < g->kw; kx++, wr += cp, xr += g->dw * C) {
                            V wv = V_LOAD(wr);
                            acc0 = V_FMA(V_LOAD(xr), wv, acc0);
                            acc1 = V_FMA(V_LOAD(xr + sxs), wv, acc1);
                            acc2 = V_FMA(V_LOAD(xr + 2 * sxs), wv, acc2);
                            acc3 = V_FMA(V_LOAD(xr + 3 * sxs), wv, acc3);
                        }
                    }
                    float *yp = yrow + ox * C + c;
                    V_STORE(yp, v_act(acc0, a->act));
                    V_STORE(yp + C, v_act(acc1, a->act));
                    V_STORE(yp + 2 * C, v_act(acc2, a->act));
                    V_STORE(yp + 3 * C, v_act(acc3, a->act));
                }
                if (c < C) { /* channel tail: masked loads never read past C */
                    VM m = V_TAIL(C - c);
                    V acc0 = V_LOAD(bias + c), acc1 = acc0, acc2 = acc0, acc3 = acc0;
                    for (size_t r = 0; r < nky; r++) {
                        const float *wr = wt + kys[r] * g->kw * cp + c;
                        const float *xr = xrow[r] + ix0 * C + c;
                        for (size_t kx = 0; kx < g->kw; kx++, wr += cp, xr += g->dw * C) {
                            V wv = V_LOAD(wr);
                            acc0 = V_FMA(V_LOADM(xr, m), wv, acc0);
                            acc1 = V_FMA(V_LOADM(xr + sxs, m), wv, acc1);
                            acc2 = V_FMA(V_LOADM(xr + 2 * sxs, m), wv, acc2);
                            acc3 = V_FMA(V_LOADM(xr + 3 * sxs, m), wv, acc3);
                        }
                    }
                    float *yp = yrow + ox * C + c;
                    V_STOREM(yp, m, v_act(acc0, a->act));
                    V_STOREM(yp + C, m, v_act(acc1, a->act));
                    V_STOREM(yp + 2 * C, m, v_act(acc2, a->act));
                    V_STOREM(yp + 3 * C, m, v_act(acc3, a->act));
                }
                ox += PX;
                continue;
            }
            dw_pixel(g, xrow, kys, nky, wt, bias, ox, yrow, a->act);
            ox++;
        }
    }
}

const et_conv_impl ET_FN(et_f32_dwconv_impl) = {"et_f32_dwconv_4px__" ET_ISA_STR, dw_pack_bytes, dw_pack, dw_scratch, dw_tasks, dw_run};
