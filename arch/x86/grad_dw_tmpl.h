/* Backward of depthwise conv (groups == ic == oc), any kernel/stride/dilation/
 * padding, vectorized over channels with masked tails; a template included once
 * per ISA after simd.h. No scratch: weight blocks are transposed on the stack. */
#include <stddef.h>
#include "ops/ops.h"

/* Largest kernel (taps) handled here; bigger ones go to the reference. */
#define DW_MAXT 49
/* Channels per input-gradient block: four vectors share one tap list. */
#define DCB (4 * VW)

#if defined(__GNUC__)
#define DW_INLINE static inline __attribute__((always_inline))
#else
#define DW_INLINE static inline
#endif

/* Output position whose tap k reads input position i along one axis, or
 * `limit` when none does (o * stride + k * dil - pad = i exactly). */
static size_t dw_out_of_tap(size_t i, size_t k, size_t stride, size_t dil, size_t pad, size_t limit) {
    size_t p = i + pad, off = k * dil;
    if (p < off) return limit;
    p -= off;
    if (p % stride) return limit;
    return p / stride < limit ? p / stride : limit;
}

/* Rows (of width w pixels, C channels) per block: the block's data stays in
 * L2 while the channel blocks sweep it (a sweep of the whole tensor per
 * channel block would stride through DRAM), and a block has at least 256
 * pixels to amortize the per-block weight transpose / tap scatter. */
static size_t dw_rows_per_block(size_t w, size_t C) {
    size_t wc = w * C, r = 32768 / (wc ? wc : 1), m = (256 + w - 1) / (w ? w : 1);
    return r > m ? r : m;
}

/* dx[pixel][c0 .. c0 + cb) += its taps' dy times their weights wt [tap][DCB]:
 * each dx vector is loaded once, gets one FMA per (tap, output) that read
 * it, stored once. */
DW_INLINE void dw_input_block(float *dp, size_t ne, const size_t *tl, const float *const *dl, size_t c0,
                              const float *wt, size_t cb) {
    if (cb == DCB) {
        V a0 = V_LOAD(dp), a1 = V_LOAD(dp + VW), a2 = V_LOAD(dp + 2 * VW), a3 = V_LOAD(dp + 3 * VW);
        for (size_t e = 0; e < ne; e++) {
            const float *s = dl[e] + c0, *wv = wt + tl[e] * DCB;
            a0 = V_FMA(V_LOAD(s), V_LOAD(wv), a0);
            a1 = V_FMA(V_LOAD(s + VW), V_LOAD(wv + VW), a1);
            a2 = V_FMA(V_LOAD(s + 2 * VW), V_LOAD(wv + 2 * VW), a2);
            a3 = V_FMA(V_LOAD(s + 3 * VW), V_LOAD(wv + 3 * VW), a3);
        }
        V_STORE(dp, a0); V_STORE(dp + VW, a1); V_STORE(dp + 2 * VW, a2); V_STORE(dp + 3 * VW, a3);
        return;
    }
    const size_t nv = (cb + VW - 1) / VW;
    for (size_t v = 0; v < nv; v++) { /* channel tail block */
        VM m = v + 1 < nv ? V_TAIL(VW) : V_TAIL(cb - v * VW);
        V a = V_LOADM(dp + v * VW, m);
        for (size_t e = 0; e < ne; e++) a = V_FMA(V_LOADM(dl[e] + c0 + v * VW, m), V_LOAD(wt + tl[e] * DCB + v * VW), a);
        V_STOREM(dp + v * VW, m, a);
    }
}

/* Weights of every channel block transposed, [block][tap][DCB], when they
 * fit: then each input pixel streams all its channels (contiguous in NHWC)
 * instead of one block per sweep, which touches a few lines in each row,
 * each from memory (MobileNetV2@160 batch 16, every depthwise input
 * gradient: 21-23 -> 14-16 ms). */
#define DW_WT_MAX 9216

/* dx += transposed depthwise conv, written as a gather. */
static void dw_input(const et_conv_geom *g, const float *dy, const float *w, float *dx) {
    const size_t C = g->ic, taps = g->kh * g->kw, nb = (C + DCB - 1) / DCB;
    float wt[DW_WT_MAX > DW_MAXT * DCB ? DW_WT_MAX : DW_MAXT * DCB];
    size_t tl[DW_MAXT];        /* tap index per valid entry of one input pixel */
    const float *dl[DW_MAXT];  /* the dy pixel that tap read from */
    size_t kyl[DW_MAXT], oyl[DW_MAXT];
    const int all = nb * taps * DCB <= DW_WT_MAX; /* every block's weights at once */
    const size_t RB = all ? g->n * g->ih : dw_rows_per_block(g->iw, C), rows = g->n * g->ih;
    for (size_t r0 = 0; r0 < rows; r0 += RB) /* row blocks outermost: see dw_rows_per_block */
    for (size_t b0 = 0; b0 < nb; b0 += all ? nb : 1) {
        const size_t b1 = all ? nb : b0 + 1;
        for (size_t b = b0; b < b1; b++)
            for (size_t t = 0; t < taps; t++)
                for (size_t j = 0; j < DCB; j++) {
                    size_t c = b * DCB + j;
                    wt[((b - b0) * taps + t) * DCB + j] = c < C ? w[c * taps + t] : 0.0f;
                }
        for (size_t r = r0; r < rows && r < r0 + RB; r++) {
            const size_t n = r / g->ih, iy = r % g->ih;
            size_t nky = 0;
            for (size_t ky = 0; ky < g->kh; ky++) {
                size_t oy = dw_out_of_tap(iy, ky, g->sh, g->dh, g->pad_t, g->oh);
                if (oy < g->oh) { kyl[nky] = ky; oyl[nky++] = oy; }
            }
            float *dxr = dx + (n * g->ih + iy) * g->iw * C;
            for (size_t ix = 0; ix < g->iw; ix++) {
                size_t ne = 0;
                for (size_t kx = 0; kx < g->kw; kx++) {
                    size_t ox = dw_out_of_tap(ix, kx, g->sw, g->dw, g->pad_l, g->ow);
                    if (ox == g->ow) continue;
                    for (size_t q = 0; q < nky; q++) {
                        tl[ne] = kyl[q] * g->kw + kx;
                        dl[ne++] = dy + ((n * g->oh + oyl[q]) * g->ow + ox) * C;
                    }
                }
                if (!ne) continue;
                for (size_t b = b0; b < b1; b++) {
                    const size_t c0 = b * DCB;
                    dw_input_block(dxr + ix * C + c0, ne, tl, dl, c0, wt + (b - b0) * taps * DCB, C - c0 < DCB ? C - c0 : DCB);
                }
            }
        }
    }
}

/* One output row's contribution to the tap accumulators acc[KH*KW] for the
 * channel vector at c (mask m): outputs [lo, hi) have every tap inside along
 * x and skip the checks; rows with a tap in the padding have it skipped by
 * the caller through kv. Always inlined so that 3x3 and 5x5 get constant
 * trip counts and the accumulators live in registers. */
DW_INLINE void dw_weight_row(const et_conv_geom *g, size_t KH, size_t KW, const float *dyr,
                             const float *const *xr, const int *kv, size_t lo, size_t hi, size_t c, VM m, V *acc) {
    const size_t C = g->ic;
    for (size_t ox = 0; ox < g->ow; ox++) {
        V d = V_LOADM(dyr + ox * C + c, m);
        int inside = ox >= lo && ox < hi;
        for (size_t ky = 0; ky < KH; ky++) {
            if (!kv[ky]) continue;
            for (size_t kx = 0; kx < KW; kx++) {
                size_t px = ox * g->sw + kx * g->dw;
                if (!inside && (px < g->pad_l || px - g->pad_l >= g->iw)) continue;
                acc[ky * KW + kx] = V_FMA(V_LOADM(xr[ky] + (px - g->pad_l) * C + c, m), d, acc[ky * KW + kx]);
            }
        }
    }
}

/* dw[c][tap] += sum over batch and positions of x * dy, per block of output
 * rows and one channel vector at a time; each block is summed from zero and
 * then added to dw (a two-level sum whose blocks depend on the geometry alone). */
DW_INLINE void dw_weight_k(const et_conv_geom *g, size_t KH, size_t KW, const float *x, const float *dy, float *dw,
                           size_t c_lo, size_t c_hi) {
    const size_t C = g->ic, taps = KH * KW;
    size_t lo = (g->pad_l + g->sw - 1) / g->sw, hi = 0, span = (KW - 1) * g->dw;
    if (g->iw + g->pad_l > span) hi = (g->iw + g->pad_l - span - 1) / g->sw + 1;
    if (hi > g->ow) hi = g->ow;
    if (lo > hi) lo = hi;
    const size_t RB = dw_rows_per_block(g->ow, C), rows = g->n * g->oh;
    for (size_t r0 = 0; r0 < rows; r0 += RB) /* row blocks outermost: see dw_rows_per_block */
    for (size_t c = c_lo; c < c_hi; c += VW) {
        VM m = V_TAIL(C - c < VW ? C - c : VW);
        V acc[DW_MAXT];
        for (size_t t = 0; t < taps; t++) acc[t] = V_ZERO();
        for (size_t r = r0; r < rows && r < r0 + RB; r++) {
            const size_t n = r / g->oh, oy = r % g->oh;
            const float *xr[DW_MAXT];
            int kv[DW_MAXT];
            for (size_t ky = 0; ky < KH; ky++) {
                size_t py = oy * g->sh + ky * g->dh;
                kv[ky] = py >= g->pad_t && py - g->pad_t < g->ih;
                xr[ky] = kv[ky] ? x + (n * g->ih + (py - g->pad_t)) * g->iw * C : x;
            }
            dw_weight_row(g, KH, KW, dy + (n * g->oh + oy) * g->ow * C, xr, kv, lo, hi, c, m, acc);
        }
        for (size_t t = 0; t < taps; t++) {
            float lane[VW];
            V_STORE(lane, acc[t]);
            for (size_t j = 0; j < VW && c + j < C; j++) dw[(c + j) * taps + t] += lane[j];
        }
    }
}

/* The 3x3 (dilation 1) case with its nine accumulators named, so that they
 * stay in registers: the compiler keeps dw_weight_k's array on the stack, one
 * store-forwarded load per FMA (MobileNetV2@160 batch 16's depthwise weight
 * gradients: 32-37 -> 16-17 ms in all). The same FMAs in the same order as
 * dw_weight_k. */
#define DW3_TAP(ky, kx, A) A = V_FMA(V_LOADM(x##ky + (px + kx) * C + c, m), d, A);
#define DW3_ROW(ky, A0, A1, A2)                                                  \
    if (x##ky) {                                                                 \
        if (inside) { DW3_TAP(ky, 0, A0) DW3_TAP(ky, 1, A1) DW3_TAP(ky, 2, A2) } \
        else {                                                                   \
            if (ok0) DW3_TAP(ky, 0, A0)                                          \
            if (ok1) DW3_TAP(ky, 1, A1)                                          \
            if (ok2) DW3_TAP(ky, 2, A2)                                          \
        }                                                                        \
    }

static void dw_weight_3x3(const et_conv_geom *g, const float *x, const float *dy, float *dw, size_t c_lo,
                          size_t c_hi) {
    const size_t C = g->ic;
    size_t lo = (g->pad_l + g->sw - 1) / g->sw, hi = 0;
    if (g->iw + g->pad_l > 2) hi = (g->iw + g->pad_l - 2 - 1) / g->sw + 1;
    if (hi > g->ow) hi = g->ow;
    if (lo > hi) lo = hi;
    const size_t RB = dw_rows_per_block(g->ow, C), rows = g->n * g->oh, nvec = (c_hi - c_lo + VW - 1) / VW;
    for (size_t r0 = 0; r0 < rows; r0 += RB) { /* row blocks outermost: see dw_rows_per_block */
    /* The next block's dy rows and x rows are two runs of memory. Each channel
     * vector's sweep touches one line in C / VW of them, each from memory
     * unless fetched: fetch them into L2 a slice per sweep of this block. */
    const char *pd = NULL, *px = NULL;
    size_t nd = 0, nx = 0;
    if (r0 + RB < rows) {
        const size_t ra = r0 + RB, rb = (r0 + 2 * RB < rows ? r0 + 2 * RB : rows) - 1;
        const size_t ya = (ra / g->oh) * g->ih + (ra % g->oh * g->sh > g->pad_t ? ra % g->oh * g->sh - g->pad_t : 0);
        size_t yb = (rb / g->oh) * g->ih + rb % g->oh * g->sh + 2 - g->pad_t + 1; /* one past the last input row */
        if (yb > (rb / g->oh + 1) * g->ih) yb = (rb / g->oh + 1) * g->ih;
        pd = (const char *)(dy + ra * g->ow * C); nd = (rb + 1 - ra) * g->ow * C * sizeof(float);
        if (yb > ya) { px = (const char *)(x + ya * g->iw * C); nx = (yb - ya) * g->iw * C * sizeof(float); }
    }
    for (size_t c = c_lo; c < c_hi; c += VW) {
        const size_t sl = (c - c_lo) / VW;
        for (size_t b = nd * sl / nvec / 64 * 64; pd && b < nd * (sl + 1) / nvec; b += 64) _mm_prefetch(pd + b, _MM_HINT_T1);
        for (size_t b = nx * sl / nvec / 64 * 64; px && b < nx * (sl + 1) / nvec; b += 64) _mm_prefetch(px + b, _MM_HINT_T1);
        const VM m = V_TAIL(C - c < VW ? C - c : VW);
        V a0 = V_ZERO(), a1 = V_ZERO(), a2 = V_ZERO(), a3 = V_ZERO(), a4 = V_ZERO(), a5 = V_ZERO(), a6 = V_ZERO(),
          a7 = V_ZERO(), a8 = V_ZERO();
        for (size_t r = r0; r < rows && r < r0 + RB; r++) {
            const size_t n = r / g->oh, oy = r % g->oh;
            const float *x0 = NULL, *x1 = NULL, *x2 = NULL; /* input rows of the taps (NULL: padding) */
            for (size_t ky = 0; ky < 3; ky++) {
                size_t py = oy * g->sh + ky;
                const float *row = py >= g->pad_t && py - g->pad_t < g->ih ? x + (n * g->ih + (py - g->pad_t)) * g->iw * C : NULL;
                if (ky == 0) x0 = row; else if (ky == 1) x1 = row; else x2 = row;
            }
            const float *dyr = dy + (n * g->oh + oy) * g->ow * C;
            for (size_t ox = 0; ox < g->ow; ox++) {
                const V d = V_LOADM(dyr + ox * C + c, m);
                const int inside = ox >= lo && ox < hi;
                /* tap kx reads input column q + kx - pad_l; px + kx wraps (unsigned) only where ok is 0 */
                const size_t q = ox * g->sw, px = q - g->pad_l;
                const int ok0 = q >= g->pad_l && q - g->pad_l < g->iw, ok1 = q + 1 >= g->pad_l && q + 1 - g->pad_l < g->iw,
                          ok2 = q + 2 >= g->pad_l && q + 2 - g->pad_l < g->iw;
                DW3_ROW(0, a0, a1, a2)
                DW3_ROW(1, a3, a4, a5)
                DW3_ROW(2, a6, a7, a8)
            }
        }
        const V acc[9] = {a0, a1, a2, a3, a4, a5, a6, a7, a8};
        for (size_t t = 0; t < 9; t++) {
            float lane[VW];
            V_STORE(lane, acc[t]);
            for (size_t j = 0; j < VW && c + j < C; j++) dw[(c + j) * 9 + t] += lane[j];
        }
    }
    }
}
#undef DW3_ROW
#undef DW3_TAP

/* Threads split the weight gradient by channel vectors (units of VW). */
static size_t dw_weight_units(const et_conv_geom *g) { return (g->ic + VW - 1) / VW; }

static void dw_weight_part(const et_conv_geom *g, const float *x, const float *dy, float *dw, size_t u0, size_t u1) {
    size_t c_lo = u0 * VW, c_hi = u1 * VW < g->ic ? u1 * VW : g->ic;
    if (g->kh == 3 && g->kw == 3 && g->dh == 1 && g->dw == 1) dw_weight_3x3(g, x, dy, dw, c_lo, c_hi);
    else if (g->kh == 3 && g->kw == 3) dw_weight_k(g, 3, 3, x, dy, dw, c_lo, c_hi);
    else if (g->kh == 5 && g->kw == 5) dw_weight_k(g, 5, 5, x, dy, dw, c_lo, c_hi);
    else dw_weight_k(g, g->kh, g->kw, x, dy, dw, c_lo, c_hi);
}
