/* NEON depthwise convolution (groups == ic == oc, any kernel size, stride,
 * dilation and padding) with fused bias and activation; 3x3 and 5x5 get
 * fully unrolled interiors. Template included once per ISA. */
#include <string.h>
#include <math.h>
#include "simd.h"
#include "arm.h"

static size_t cpad4(size_t c) { return (c + 3) / 4 * 4; }

/* Packed: [1 + taps][cpad4(oc)]: bias row, then one row per tap (ky, kx),
 * so a tap's weights for 4 channels are one q load. */
static size_t dw_pack_bytes(const et_conv_geom *g) { return (g->kh * g->kw + 1) * cpad4(g->oc) * sizeof(float); }

static void dw_pack(const et_conv_geom *g, const float *w, const float *bias, void *dst) {
    size_t taps = g->kh * g->kw, cp = cpad4(g->oc);
    float *d = dst;
    memset(d, 0, dw_pack_bytes(g));
    for (size_t c = 0; c < g->oc; c++) {
        d[c] = bias ? bias[c] : 0.0f;
        for (size_t t = 0; t < taps; t++) d[(1 + t) * cp + c] = w[c * taps + t];
    }
}

static size_t dw_scratch(const et_conv_geom *g) { (void)g; return 0; }
static size_t dw_tasks(const et_conv_geom *g) { return g->n * g->oh; }

/* Output pixels [ox0, ox1) of one row whose taps are all inside the input;
 * x0 is the top-left tap of pixel ox0. Channels in blocks of 4: the block's
 * KH*KW weight vectors stay in registers across the pixels, so each FMA
 * costs one input load (bound by loads, not shuffles), and two pixels run
 * at once so in-order cores see two independent FMA chains. Every output:
 * bias, then one FMA per tap in (ky, kx) order, as on the border path.
 * Generated per kernel size so the tap loops are compile-time constants. */
#define DW_INTERIOR(NAME, KH, KW)                                                                   \
    static void NAME(const et_conv_geom *g, const float *x0, const float *pk, size_t ox0, size_t ox1, \
                     float *yrow) {                                                                 \
        const size_t C = g->oc, cp = cpad4(C);                                                      \
        const size_t sx = g->sw * C, dx = g->dw * C, dy = g->dh * g->iw * C;                        \
        size_t c = 0;                                                                               \
        for (; c + 4 <= C; c += 4) {                                                                \
            V wv[(KH) * (KW)];                                                                      \
            for (size_t t = 0; t < (KH) * (KW); t++) wv[t] = vld1q_f32(pk + (1 + t) * cp + c);      \
            const V b = vld1q_f32(pk + c);                                                          \
            const float *xp = x0 + c;                                                               \
            size_t ox = ox0;                                                                        \
            for (; ox + 2 <= ox1; ox += 2, xp += 2 * sx) {                                          \
                V a0 = b, a1 = b;                                                                   \
                for (size_t ky = 0; ky < (KH); ky++)                                                \
                    for (size_t kx = 0; kx < (KW); kx++) {                                          \
                        const float *q = xp + ky * dy + kx * dx;                                    \
                        a0 = vfmaq_f32(a0, vld1q_f32(q), wv[ky * (KW) + kx]);                       \
                        a1 = vfmaq_f32(a1, vld1q_f32(q + sx), wv[ky * (KW) + kx]);                  \
                    }                                                                               \
                vst1q_f32(yrow + ox * C + c, a0);                                                   \
                vst1q_f32(yrow + (ox + 1) * C + c, a1);                                             \
            }                                                                                       \
            if (ox < ox1) {                                                                         \
                V a0 = b;                                                                           \
                for (size_t ky = 0; ky < (KH); ky++)                                                \
                    for (size_t kx = 0; kx < (KW); kx++)                                            \
                        a0 = vfmaq_f32(a0, vld1q_f32(xp + ky * dy + kx * dx), wv[ky * (KW) + kx]);  \
                vst1q_f32(yrow + ox * C + c, a0);                                                   \
            }                                                                                       \
        }                                                                                           \
        for (; c < C; c++) {                                                                        \
            const float *xp = x0 + c;                                                               \
            for (size_t ox = ox0; ox < ox1; ox++, xp += sx) {                                       \
                float acc = pk[c];                                                                  \
                for (size_t ky = 0; ky < (KH); ky++)                                                \
                    for (size_t kx = 0; kx < (KW); kx++)                                            \
                        acc = fmaf(xp[ky * dy + kx * dx], pk[(1 + ky * (KW) + kx) * cp + c], acc);  \
                yrow[ox * C + c] = acc;                                                             \
            }                                                                                       \
        }                                                                                           \
    }
DW_INTERIOR(dw_interior_3x3, 3, 3)
DW_INTERIOR(dw_interior_5x5, 5, 5)

/* One output pixel near a border: taps in the padding are skipped. */
static void dw_border(const et_conv_geom *g, const float *xn, const float *pk, size_t oy, size_t ox, float *out) {
    const size_t C = g->oc, cp = cpad4(C);
    size_t c = 0;
    for (; c + 4 <= C; c += 4) {
        V acc = vld1q_f32(pk + c);
        for (size_t ky = 0; ky < g->kh; ky++) {
            size_t py = oy * g->sh + ky * g->dh;
            if (py < g->pad_t || py - g->pad_t >= g->ih) continue;
            for (size_t kx = 0; kx < g->kw; kx++) {
                size_t px = ox * g->sw + kx * g->dw;
                if (px < g->pad_l || px - g->pad_l >= g->iw) continue;
                const float *xp = xn + ((py - g->pad_t) * g->iw + px - g->pad_l) * C + c;
                acc = vfmaq_f32(acc, vld1q_f32(xp), vld1q_f32(pk + (1 + ky * g->kw + kx) * cp + c));
            }
        }
        vst1q_f32(out + c, acc);
    }
    for (; c < C; c++) {
        float acc = pk[c];
        for (size_t ky = 0; ky < g->kh; ky++) {
            size_t py = oy * g->sh + ky * g->dh;
            if (py < g->pad_t || py - g->pad_t >= g->ih) continue;
            for (size_t kx = 0; kx < g->kw; kx++) {
                size_t px = ox * g->sw + kx * g->dw;
                if (px < g->pad_l || px - g->pad_l >= g->iw) continue;
                acc = fmaf(xn[((py - g->pad_t) * g->iw + px - g->pad_l) * C + c], pk[(1 + ky * g->kw + kx) * cp + c], acc);
            }
        }
        out[c] = acc;
    }
}

static void dw_run(const et_conv_args *a, size_t t0, size_t t1, void *scratch) {
    (void)scratch;
    const et_conv_geom *g = a->g;
    const size_t C = g->oc;
    const float *pk = a->packed;
    size_t ox_lo, ox_hi;
    et_conv_interior_cols(g, &ox_lo, &ox_hi);
    for (size_t t = t0; t < t1; t++) {
        size_t n = t / g->oh, oy = t % g->oh;
        const float *xn = a->x + n * g->ih * g->iw * C;
        float *yrow = a->y + (n * g->oh + oy) * g->ow * C;
        size_t top = oy * g->sh, bot = top + (g->kh - 1) * g->dh;
        int rows_in = top >= g->pad_t && bot - g->pad_t < g->ih;
        size_t lo = rows_in ? ox_lo : g->ow, hi = rows_in ? ox_hi : g->ow;
        for (size_t ox = 0; ox < lo; ox++) dw_border(g, xn, pk, oy, ox, yrow + ox * C);
        for (size_t ox = hi; ox < g->ow; ox++) dw_border(g, xn, pk, oy, ox, yrow + ox * C);
        if (lo < hi) {
            /* top-left tap of pixel lo; dw_interior steps it by sw per pixel */
            const float *x0 = xn + ((top - g->pad_t) * g->iw + lo * g->sw - g->pad_l) * C;
            if (g->kh == 3 && g->kw == 3) dw_interior_3x3(g, x0, pk, lo, hi, yrow);
            else if (g->kh == 5 && g->kw == 5) dw_interior_5x5(g, x0, pk, lo, hi, yrow);
            else for (size_t ox = lo; ox < hi; ox++) dw_border(g, xn, pk, oy, ox, yrow + ox * C);
        }
        if (a->act.kind != ET_ACT_NONE) ET_FN(et_f32_act)(g->ow * C, a->act, yrow, yrow);
    }
}

const et_conv_impl ET_FN(et_f32_dwconv_impl) = {"et_f32_dwconv_4c__" ET_ISA_STR, dw_pack_bytes, dw_pack, dw_scratch,
                                                dw_tasks, dw_run};
