/* NEON backward of depthwise conv (groups == ic == oc), any kernel, stride,
 * dilation and padding, over channels in q vectors with short loads on the
 * tails; a template included once per ISA. No scratch: weight blocks are
 * transposed on the stack. */
#include <stddef.h>
#include "simd.h"
#include "ops/ops.h"

/* Largest kernel (taps) handled here; bigger ones go to the reference. */
#define DW_MAXT 49
/* Tap rows and columns of the unrolled weight-gradient kernels (5x5). */
#define DW_ROWS_MAX 5

/* Channel vectors per input-gradient block, all sharing one tap list: 8
 * accumulators (+ 16 operands in flight) on A64, 4 (+ 8) in ARMv7's 16 q. */
#if defined(__aarch64__)
#define DVN 8
#define DVECS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#else
#define DVN 4
#define DVECS(X) X(0) X(1) X(2) X(3)
#endif
#define DCB (4 * DVN)

/* Tap rows a 5x5 weight-gradient pass keeps in registers (a divisor of 5):
 * all 25 accumulators fit A64's 32 q registers; ARMv7 does one row (5) at
 * a time. */
#if defined(__aarch64__)
#define DW_ROWS5 5
#else
#define DW_ROWS5 1
#endif

#if defined(__GNUC__)
#define DW_INLINE static inline __attribute__((always_inline))
#else
#define DW_INLINE static inline
#endif
/* GCC at -O2 does not fully unroll the 3x3 / 5x5 tap loops (constant trip
 * counts: every copy of them is for one of those sizes) on its own, which
 * would leave the accumulators in memory; clang does without being asked. */
#if defined(__GNUC__) && !defined(__clang__)
#define DW_UNROLL _Pragma("GCC unroll 25")
#else
#define DW_UNROLL
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

/* Rows (of w pixels, C channels) per block: the block's data stays in cache
 * while the channel blocks sweep it (a sweep of the whole tensor per channel
 * block would stream from DRAM), and a block has at least 256 pixels to
 * amortize the per-block weight transpose / tap lists. */
static size_t dw_rows_per_block(size_t w, size_t C) {
    size_t wc = w * C, r = 32768 / (wc ? wc : 1), m = (256 + w - 1) / (w ? w : 1);
    return r > m ? r : m;
}

/* dx += transposed depthwise conv, written as a gather: each dx vector is
 * loaded once, gets one FMA per (tap, output) that read it, stored once. */
static void dw_input(const et_conv_geom *g, const float *dy, const float *w, float *dx) {
    const size_t C = g->ic, taps = g->kh * g->kw;
    float wt[DW_MAXT * DCB];
    size_t tl[DW_MAXT];        /* tap index per valid entry of one input pixel */
    const float *dl[DW_MAXT];  /* the dy pixel that tap read from */
    size_t kyl[DW_MAXT], oyl[DW_MAXT];
    const size_t RB = dw_rows_per_block(g->iw, C), rows = g->n * g->ih;
    for (size_t r0 = 0; r0 < rows; r0 += RB) /* row blocks outermost: see dw_rows_per_block */
    for (size_t c0 = 0; c0 < C; c0 += DCB) {
        const size_t cb = C - c0 < DCB ? C - c0 : DCB, nv = (cb + 3) / 4;
        for (size_t t = 0; t < taps; t++)
            for (size_t j = 0; j < DCB; j++) wt[t * DCB + j] = j < cb ? w[(c0 + j) * taps + t] : 0.0f;
        for (size_t r = r0; r < rows && r < r0 + RB; r++) {
            const size_t n = r / g->ih, iy = r % g->ih;
            size_t nky = 0;
            for (size_t ky = 0; ky < g->kh; ky++) {
                size_t oy = dw_out_of_tap(iy, ky, g->sh, g->dh, g->pad_t, g->oh);
                if (oy < g->oh) { kyl[nky] = ky; oyl[nky++] = oy; }
            }
            if (!nky) continue;
            float *dxr = dx + (n * g->ih + iy) * g->iw * C + c0;
            for (size_t ix = 0; ix < g->iw; ix++) {
                size_t ne = 0;
                for (size_t kx = 0; kx < g->kw; kx++) {
                    size_t ox = dw_out_of_tap(ix, kx, g->sw, g->dw, g->pad_l, g->ow);
                    if (ox == g->ow) continue;
                    for (size_t q = 0; q < nky; q++) {
                        tl[ne] = kyl[q] * g->kw + kx;
                        dl[ne++] = dy + ((n * g->oh + oyl[q]) * g->ow + ox) * C + c0;
                    }
                }
                if (!ne) continue;
                float *dp = dxr + ix * C;
                if (cb == DCB) {
#define DECL(v) V a##v = vld1q_f32(dp + 4 * v);
                    DVECS(DECL)
#undef DECL
                    for (size_t e = 0; e < ne; e++) {
                        const float *s = dl[e], *wv = wt + tl[e] * DCB;
#define STEP(v) a##v = vfmaq_f32(a##v, vld1q_f32(s + 4 * v), vld1q_f32(wv + 4 * v));
                        DVECS(STEP)
#undef STEP
                    }
#define STORE(v) vst1q_f32(dp + 4 * v, a##v);
                    DVECS(STORE)
#undef STORE
                    continue;
                }
                for (size_t v = 0; v < nv; v++) { /* channel tail block */
                    const size_t nl = cb - 4 * v; /* >= 4 loads a whole vector */
                    V a = v_loadn(dp + 4 * v, nl);
                    for (size_t e = 0; e < ne; e++)
                        a = vfmaq_f32(a, v_loadn(dl[e] + 4 * v, nl), vld1q_f32(wt + tl[e] * DCB + 4 * v));
                    v_storen(dp + 4 * v, nl, a);
                }
            }
        }
    }
}

/* Output pixel ox's contribution to the accumulators of tap rows
 * [ky0, ky0 + KP) (acc[(ky - ky0) * KW + kx]) for the 4 channels at c, nl
 * of them real; taps in the padding are skipped (rows through kv). For the
 * pixels near a border and rows with a tap row outside. */
DW_INLINE void dw_weight_px(const et_conv_geom *g, size_t KP, size_t KW, size_t ky0, const float *dyr,
                            const float *const *xr, const int *kv, size_t ox, size_t c, size_t nl, int full, V *acc) {
    const size_t C = g->ic;
    const V d = full ? vld1q_f32(dyr + ox * C + c) : v_loadn(dyr + ox * C + c, nl);
    DW_UNROLL
    for (size_t kk = 0; kk < KP; kk++) {
        if (!kv[ky0 + kk]) continue;
        const float *xk = xr[ky0 + kk] + c;
        DW_UNROLL
        for (size_t kx = 0; kx < KW; kx++) {
            size_t px = ox * g->sw + kx * g->dw;
            if (px < g->pad_l || px - g->pad_l >= g->iw) continue;
            const float *p = xk + (px - g->pad_l) * C;
            acc[kk * KW + kx] = vfmaq_f32(acc[kk * KW + kx], full ? vld1q_f32(p) : v_loadn(p, nl), d);
        }
    }
}

/* Outputs [lo, hi) of a row whose tap rows all lie inside (most rows):
 * every tap is inside, so no checks, and each tap's address moves by
 * sw * C per output (one pointer per tap row, a fixed offset per column). */
DW_INLINE void dw_weight_inner(const et_conv_geom *g, size_t KP, size_t KW, size_t ky0, const float *dyr,
                               const float *const *xr, size_t lo, size_t hi, size_t c, V *acc) {
    const size_t C = g->ic, step = g->sw * C, col = g->dw * C;
    const float *xp[DW_ROWS_MAX];
    DW_UNROLL
    for (size_t kk = 0; kk < KP; kk++) xp[kk] = xr[ky0 + kk] + (lo * g->sw - g->pad_l) * C + c;
    const float *d = dyr + lo * C + c;
    for (size_t ox = lo; ox < hi; ox++, d += C) {
        const V dv = vld1q_f32(d);
        DW_UNROLL
        for (size_t kk = 0; kk < KP; kk++) {
            DW_UNROLL
            for (size_t kx = 0; kx < KW; kx++)
                acc[kk * KW + kx] = vfmaq_f32(acc[kk * KW + kx], vld1q_f32(xp[kk] + kx * col), dv);
            xp[kk] += step;
        }
    }
}

/* One output row. The FMAs into each accumulator come in ox order whichever
 * path a pixel takes, so the paths do not change any sum. */
DW_INLINE void dw_weight_row(const et_conv_geom *g, size_t KP, size_t KW, size_t ky0, const float *dyr,
                             const float *const *xr, const int *kv, size_t lo, size_t hi, size_t c, size_t nl,
                             int full, V *acc) {
    int rows_in = full;
    for (size_t kk = 0; kk < KP; kk++) rows_in &= kv[ky0 + kk];
    if (!rows_in) lo = hi = g->ow; /* the checked path for the whole row */
    for (size_t ox = 0; ox < lo; ox++) dw_weight_px(g, KP, KW, ky0, dyr, xr, kv, ox, c, nl, full, acc);
    if (lo < hi) dw_weight_inner(g, KP, KW, ky0, dyr, xr, lo, hi, c, acc);
    for (size_t ox = hi; ox < g->ow; ox++) dw_weight_px(g, KP, KW, ky0, dyr, xr, kv, ox, c, nl, full, acc);
}

/* Tap rows [ky0, ky0 + KP) of the 4 channels at c over output rows
 * [r0, r1): summed from zero, then added to dw. */
DW_INLINE void dw_weight_pass(const et_conv_geom *g, size_t KH, size_t KW, size_t KP, size_t ky0, size_t r0,
                              size_t r1, size_t lo, size_t hi, size_t c, size_t nl, int full, const float *x,
                              const float *dy, float *dw) {
    const size_t C = g->ic, taps = KH * KW;
    V acc[DW_ROWS_MAX * DW_ROWS_MAX];
    DW_UNROLL
    for (size_t t = 0; t < KP * KW; t++) acc[t] = vdupq_n_f32(0.0f);
    for (size_t r = r0; r < r1; r++) {
        const size_t n = r / g->oh, oy = r % g->oh;
        const float *xr[DW_ROWS_MAX];
        int kv[DW_ROWS_MAX];
        for (size_t ky = ky0; ky < ky0 + KP; ky++) {
            size_t py = oy * g->sh + ky * g->dh;
            kv[ky] = py >= g->pad_t && py - g->pad_t < g->ih;
            xr[ky] = kv[ky] ? x + (n * g->ih + (py - g->pad_t)) * g->iw * C : x;
        }
        dw_weight_row(g, KP, KW, ky0, dy + r * g->ow * C, xr, kv, lo, hi, c, nl, full, acc);
    }
    DW_UNROLL
    for (size_t kk = 0; kk < KP; kk++)
        DW_UNROLL
        for (size_t kx = 0; kx < KW; kx++) {
            float lane[4];
            vst1q_f32(lane, acc[kk * KW + kx]);
            for (size_t j = 0; j < nl; j++) dw[(c + j) * taps + (ky0 + kk) * KW + kx] += lane[j];
        }
}

/* dw[c][tap] += sum over batch and positions of x * dy for a KH x KW kernel
 * known at compile time (3x3, 5x5), per block of output rows, 4 channels
 * and KP tap rows (KP divides KH) at a time; each block is summed from
 * zero and then added to dw (a two-level sum fixed by the geometry alone;
 * KP changes only which accumulators share a pass, not any sum). */
DW_INLINE void dw_weight_k(const et_conv_geom *g, size_t KH, size_t KW, size_t KP, const float *x, const float *dy,
                           float *dw, size_t c_lo, size_t c_hi) {
    const size_t C = g->ic;
    /* outputs whose kx taps all land inside: ox*sw >= pad_l and
     * ox*sw + (KW-1)*dw - pad_l < iw */
    size_t lo = (g->pad_l + g->sw - 1) / g->sw, hi = 0, span = (KW - 1) * g->dw;
    if (g->iw + g->pad_l > span) hi = (g->iw + g->pad_l - span - 1) / g->sw + 1;
    if (hi > g->ow) hi = g->ow;
    if (lo > hi) lo = hi;
    const size_t RB = dw_rows_per_block(g->ow, C), rows = g->n * g->oh;
    for (size_t r0 = 0; r0 < rows; r0 += RB) { /* row blocks outermost: see dw_rows_per_block */
        const size_t r1 = rows - r0 < RB ? rows : r0 + RB;
        for (size_t c = c_lo; c < c_hi; c += 4)
            for (size_t ky0 = 0; ky0 < KH; ky0 += KP) {
                if (C - c >= 4) dw_weight_pass(g, KH, KW, KP, ky0, r0, r1, lo, hi, c, 4, 1, x, dy, dw);
                else dw_weight_pass(g, KH, KW, KP, ky0, r0, r1, lo, hi, c, C - c, 0, x, dy, dw);
            }
    }
}

/* Other kernel sizes: one tap at a time with its accumulator in a register,
 * so no unrolled copy is spent on rare sizes. Same two-level sums: per
 * block of output rows from zero, in row order, then added to dw. */
static void dw_weight_any(const et_conv_geom *g, const float *x, const float *dy, float *dw, size_t c_lo, size_t c_hi) {
    const size_t C = g->ic, taps = g->kh * g->kw;
    const size_t RB = dw_rows_per_block(g->ow, C), rows = g->n * g->oh;
    for (size_t r0 = 0; r0 < rows; r0 += RB) {
        const size_t r1 = rows - r0 < RB ? rows : r0 + RB;
        for (size_t c = c_lo; c < c_hi; c += 4) {
            const size_t nl = C - c; /* lanes; >= 4 loads whole vectors */
            for (size_t ky = 0; ky < g->kh; ky++)
                for (size_t kx = 0; kx < g->kw; kx++) {
                    V acc = vdupq_n_f32(0.0f);
                    for (size_t r = r0; r < r1; r++) {
                        const size_t n = r / g->oh, oy = r % g->oh, py = oy * g->sh + ky * g->dh;
                        if (py < g->pad_t || py - g->pad_t >= g->ih) continue;
                        const float *xr = x + (n * g->ih + (py - g->pad_t)) * g->iw * C + c;
                        const float *dyr = dy + r * g->ow * C + c;
                        for (size_t ox = 0; ox < g->ow; ox++) {
                            size_t px = ox * g->sw + kx * g->dw;
                            if (px < g->pad_l || px - g->pad_l >= g->iw) continue;
                            acc = vfmaq_f32(acc, v_loadn(xr + (px - g->pad_l) * C, nl), v_loadn(dyr + ox * C, nl));
                        }
                    }
                    float lane[4];
                    vst1q_f32(lane, acc);
                    for (size_t j = 0; j < nl && j < 4; j++) dw[(c + j) * taps + ky * g->kw + kx] += lane[j];
                }
        }
    }
}

/* Threads split the weight gradient by groups of 4 channels. */
static size_t dw_weight_units(const et_conv_geom *g) { return (g->ic + 3) / 4; }

static void dw_weight_part(const et_conv_geom *g, const float *x, const float *dy, float *dw, size_t u0, size_t u1) {
    size_t c_lo = u0 * 4, c_hi = u1 * 4 < g->ic ? u1 * 4 : g->ic;
    if (g->kh == 3 && g->kw == 3) dw_weight_k(g, 3, 3, 3, x, dy, dw, c_lo, c_hi);
    else if (g->kh == 5 && g->kw == 5) dw_weight_k(g, 5, 5, DW_ROWS5, x, dy, dw, c_lo, c_hi);
    else dw_weight_any(g, x, dy, dw, c_lo, c_hi);
}
