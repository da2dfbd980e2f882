/* NEON backward of conv2d (any kernel, stride, dilation, padding, groups) and
 * linear as GEMMs over one kernel tap at a time, reading the model's OHWI
 * weights in place; a template included once per ISA. No scratch, no op
 * semantics (those are the reference kernels in src/train/grad_conv.c). */
#include <stddef.h>
#include "simd.h"
#include "ops/ops.h"

/* Register tiles: XMR rows (input gradient: dx pixels) or GMR rows (weight
 * gradient: output channels) x GNR = 8 columns, two q registers per row.
 * A64 (32 q regs): 8 rows = 16 accumulators + 2 B + 8 A vectors (4 k each
 *   for dx, used by lane) or 2 (8 channels of one dy row for dw) = 26 or 20;
 *   16 loads feed 64 FMAs (dx), 4 loads feed 16 (dw).
 * ARMv7 (16 q regs, no by-lane fused multiply-add): A is broadcast. dw
 *   keeps 6 rows = 12 accumulators + 2 B + 1 broadcast. dx keeps 4 rows:
 *   its rows come from as many pointers, and GCC's induction variables and
 *   scheduling then keep every row's broadcast live at once, which spills
 *   a 6-row tile; 4 rows (8 + 2 + 4) cannot spill. */
#if defined(__aarch64__)
#define GMR 8
#define GROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define XMR 8
#define XROWS(X) GROWS(X)
#else
#define GMR 6
#define GROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define XMR 4
#define XROWS(X) X(0) X(1) X(2) X(3)
#endif
#define GNR 8

#if defined(__GNUC__)
#define G_INLINE static inline __attribute__((always_inline))
#else
#define G_INLINE static inline
#endif

static size_t gmin(size_t a, size_t b) { return a < b ? a : b; }

/* Input coordinate read by output o through tap k, or `limit` in the padding. */
static size_t g_tap(size_t o, size_t stride, size_t k, size_t dil, size_t pad, size_t limit) {
    size_t p = o * stride + k * dil;
    if (p < pad || p - pad >= limit) return limit;
    return p - pad;
}

/* Columns [0, nc) of a row as vectors 0 and 1. `two` (nc > 4) and `full`
 * (nc == 8) are constants at every inlined call, so the full tile has no
 * tail code and tails never read past column nc. */
#define LD0(p) (two || full ? vld1q_f32(p) : v_loadn((p), nc))
#define LD1(p) (full ? vld1q_f32((p) + 4) : v_loadn((p) + 4, nc - 4))
#define ST0(p, v) do { if (two || full) vst1q_f32((p), (v)); else v_storen((p), nc, (v)); } while (0)
#define ST1(p, v) do { if (full) vst1q_f32((p) + 4, (v)); else v_storen((p) + 4, nc - 4, (v)); } while (0)

/* d[i][0..nc) += sum_k a[i][k] * b[k * ldb + 0..nc) for rows i < mr (rows
 * past mr repeat a valid row and are not stored). Each output element gets
 * its current value plus one FMA per k in increasing k: the result does not
 * depend on mr or on where the tile sits. */
G_INLINE void dx_body(size_t mr, size_t kc, const float *const *a, const float *b, size_t ldb, float *const *d,
                      size_t nc, int two, int full) {
    const size_t last = mr ? mr - 1 : 0; /* mr >= 1 always; this only tells the compiler */
#define DECL(i) const float *a##i = a[i < mr ? i : last]; float *d##i = d[i < mr ? i : last]; \
    V c##i##0 = LD0(d##i), c##i##1 = two ? LD1(d##i) : vdupq_n_f32(0.0f);
    XROWS(DECL)
#undef DECL
    size_t k = 0;
#if defined(__aarch64__)
    /* 4 k per step: one q load per A row, then FMAs by lane */
    for (; k + 4 <= kc; k += 4) {
#define LOADA(i) const V x##i = vld1q_f32(a##i + k);
        XROWS(LOADA)
#undef LOADA
#define STEP(i) c##i##0 = vfmaq_laneq_f32(c##i##0, b0, x##i, LN); if (two) c##i##1 = vfmaq_laneq_f32(c##i##1, b1, x##i, LN);
#define LN 0
        { V b0 = LD0(b), b1 = two ? LD1(b) : b0; b += ldb; XROWS(STEP) }
#undef LN
#define LN 1
        { V b0 = LD0(b), b1 = two ? LD1(b) : b0; b += ldb; XROWS(STEP) }
#undef LN
#define LN 2
        { V b0 = LD0(b), b1 = two ? LD1(b) : b0; b += ldb; XROWS(STEP) }
#undef LN
#define LN 3
        { V b0 = LD0(b), b1 = two ? LD1(b) : b0; b += ldb; XROWS(STEP) }
#undef LN
#undef STEP
    }
#define BCAST(p) vdupq_n_f32(*(p))
#else
#define BCAST(p) vld1q_dup_f32(p)
#endif
    for (; k < kc; k++, b += ldb) {
        V b0 = LD0(b), b1 = two ? LD1(b) : b0;
#define STEP(i) { V x = BCAST(a##i + k); c##i##0 = vfmaq_f32(c##i##0, b0, x); if (two) c##i##1 = vfmaq_f32(c##i##1, b1, x); }
        XROWS(STEP)
#undef STEP
    }
#undef BCAST
#define STORE(i) if (i < mr) { ST0(d##i, c##i##0); if (two) ST1(d##i, c##i##1); }
    XROWS(STORE)
#undef STORE
}

static void dx_tile(size_t mr, size_t kc, const float *const *a, const float *b, size_t ldb, float *const *d,
                    size_t nc) {
    if (nc == GNR) dx_body(mr, kc, a, b, ldb, d, nc, 1, 1);
    else if (nc > 4) dx_body(mr, kc, a, b, ldb, d, nc, 1, 0);
    else dx_body(mr, kc, a, b, ldb, d, nc, 0, 0);
}

/* dw[i * ldw + 0..nc) += sum_j dy[j][aoff + i] * x[j][xoff + 0..nc) for
 * i < mr: a weight-gradient tile (mr output x nc input channels) over nr
 * pixel rows. The rows' partial sum starts from zero and is added to dw
 * once (a two-level sum whose split the caller fixes from the geometry). */
G_INLINE void dw_body(size_t mr, size_t nr, const float *const *dy, size_t aoff, const float *const *x, size_t xoff,
                      float *dw, size_t ldw, size_t nc, int two, int full, int rows_full) {
#define DECL(i) V c##i##0 = vdupq_n_f32(0.0f), c##i##1 = vdupq_n_f32(0.0f);
    GROWS(DECL)
#undef DECL
#if defined(__aarch64__)
    /* the tile's 8 output channels are contiguous in a dy row: two q loads
     * (short ones past mr, whose lanes are zero and never stored), by lane */
    const size_t m0 = gmin(mr, 4), m1 = mr > 4 ? mr - 4 : 0;
    for (size_t j = 0; j < nr; j++) {
        const float *xr = x[j] + xoff, *ar = dy[j] + aoff;
        const V b0 = LD0(xr), b1 = two ? LD1(xr) : b0;
        const V s0 = rows_full ? vld1q_f32(ar) : v_loadn(ar, m0);
        const V s1 = rows_full ? vld1q_f32(ar + 4) : v_loadn(ar + 4, m1);
#define STEP(i) c##i##0 = vfmaq_laneq_f32(c##i##0, b0, i < 4 ? s0 : s1, i & 3); \
        if (two) c##i##1 = vfmaq_laneq_f32(c##i##1, b1, i < 4 ? s0 : s1, i & 3);
        GROWS(STEP)
#undef STEP
    }
#else
    (void)rows_full;
#define DECL(i) const size_t o##i = i < mr ? i : mr - 1; /* rows past mr: any valid channel */
    GROWS(DECL)
#undef DECL
    for (size_t j = 0; j < nr; j++) {
        const float *xr = x[j] + xoff, *ar = dy[j] + aoff;
        const V b0 = LD0(xr), b1 = two ? LD1(xr) : b0;
#define STEP(i) { V s = vld1q_dup_f32(ar + o##i); c##i##0 = vfmaq_f32(c##i##0, b0, s); if (two) c##i##1 = vfmaq_f32(c##i##1, b1, s); }
        GROWS(STEP)
#undef STEP
    }
#endif
#define STORE(i) if (i < mr) { float *p = dw + i * ldw; ST0(p, vaddq_f32(LD0(p), c##i##0)); \
    if (two) ST1(p, vaddq_f32(LD1(p), c##i##1)); }
    GROWS(STORE)
#undef STORE
}

static void dw_tile(size_t mr, size_t nr, const float *const *dy, size_t aoff, const float *const *x, size_t xoff,
                    float *dw, size_t ldw, size_t nc) {
#if defined(__aarch64__)
    /* A64 loads the tile's dy channels as vectors: short ones for a last,
     * partial tile of output channels get their own copy */
    if (mr < GMR) {
        if (nc > 4) dw_body(mr, nr, dy, aoff, x, xoff, dw, ldw, nc, 1, nc == GNR, 0);
        else dw_body(mr, nr, dy, aoff, x, xoff, dw, ldw, nc, 0, 0, 0);
        return;
    }
#endif
    if (nc == GNR) dw_body(mr, nr, dy, aoff, x, xoff, dw, ldw, nc, 1, 1, 1);
    else if (nc > 4) dw_body(mr, nr, dy, aoff, x, xoff, dw, ldw, nc, 1, 0, 1);
    else dw_body(mr, nr, dy, aoff, x, xoff, dw, ldw, nc, 0, 0, 1);
}
#undef LD0
#undef LD1
#undef ST0
#undef ST1

/* The collected rows of one tap against every input-channel panel. */
static void gi_flush(size_t mr, const float *const *a, float *const *d, const float *wt, size_t ldb, size_t icg,
                     size_t ocg) {
    float *dd[XMR];
    for (size_t c0 = 0; c0 < icg; c0 += GNR) {
        for (size_t i = 0; i < mr; i++) dd[i] = d[i] + c0;
        dx_tile(mr, ocg, a, wt + c0, ldb, dd, gmin(GNR, icg - c0));
    }
}

/* dx += conv_transpose(dy, w), one tap at a time: for a fixed tap the map
 * output pixel -> input pixel is one-to-one, so XMR valid output pixels
 * update XMR distinct dx rows, each as dx_row += dy_row . W[:, tap, :]. */
static void gconv_input(const et_conv_geom *g, const float *dy, const float *w, float *dx) {
    const size_t icg = g->ic / g->groups, ocg = g->oc / g->groups, taps = g->kh * g->kw;
    const size_t ldb = taps * icg; /* step between output channels in OHWI */
    for (size_t grp = 0; grp < g->groups; grp++)
        for (size_t ky = 0; ky < g->kh; ky++)
            for (size_t kx = 0; kx < g->kw; kx++) {
                const float *wt = w + grp * ocg * ldb + (ky * g->kw + kx) * icg;
                const float *a[XMR];
                float *d[XMR];
                size_t mr = 0;
                for (size_t n = 0; n < g->n; n++)
                    for (size_t oy = 0; oy < g->oh; oy++) {
                        size_t iy = g_tap(oy, g->sh, ky, g->dh, g->pad_t, g->ih);
                        if (iy == g->ih) continue;
                        for (size_t ox = 0; ox < g->ow; ox++) {
                            size_t ix = g_tap(ox, g->sw, kx, g->dw, g->pad_l, g->iw);
                            if (ix == g->iw) continue;
                            a[mr] = dy + ((n * g->oh + oy) * g->ow + ox) * g->oc + grp * ocg;
                            d[mr] = dx + ((n * g->ih + iy) * g->iw + ix) * g->ic + grp * icg;
                            if (++mr < XMR) continue;
                            gi_flush(mr, a, d, wt, ldb, icg, ocg);
                            mr = 0;
                        }
                    }
                if (mr) gi_flush(mr, a, d, wt, ldb, icg, ocg);
            }
}

/* Output pixels per weight-gradient chunk: the chunk's dy and x rows (128 KB,
 * a core's share of the 512 KB L2 of a Cortex-A53 cluster) stay in cache
 * while every (output-channel tile, input panel) pair sweeps them. A
 * function of the geometry only, so the summation order never changes. */
#define WCHUNK_MAX 512
static size_t wchunk(const et_conv_geom *g) {
    size_t per = (g->ic / g->groups + g->oc / g->groups) * sizeof(float);
    size_t r = (128u * 1024u) / (per ? per : 1);
    return r < 32 ? 32 : r > WCHUNK_MAX ? WCHUNK_MAX : r;
}

/* dw += sum over batch and positions of x * dy (db is left to the caller). */
/* Threads split the weight gradient by units of GMR output channels of a
 * group; each weight's sum is the same whichever units a call covers. */
static size_t gconv_weight_units(const et_conv_geom *g) { return g->groups * ((g->oc / g->groups + GMR - 1) / GMR); }

static void gconv_weight_part(const et_conv_geom *g, const float *x, const float *dy, float *dw, size_t u0, size_t u1) {
    const size_t icg = g->ic / g->groups, ocg = g->oc / g->groups, taps = g->kh * g->kw;
    const size_t M = g->n * g->oh * g->ow, RC = wchunk(g), ldw = taps * icg, tpg = (ocg + GMR - 1) / GMR;
    const float *ar[WCHUNK_MAX], *xr[WCHUNK_MAX];
    for (size_t grp = u0 / tpg; grp < g->groups && grp * tpg < u1; grp++) {
        const size_t o_lo = (u0 > grp * tpg ? u0 - grp * tpg : 0) * GMR, o_hi = gmin(ocg, (u1 - grp * tpg) * GMR);
        for (size_t m0 = 0; m0 < M; m0 += RC) {
            size_t m1 = gmin(M, m0 + RC);
            for (size_t ky = 0; ky < g->kh; ky++)
                for (size_t kx = 0; kx < g->kw; kx++) {
                    size_t nr = 0, ox = m0 % g->ow, oy = m0 / g->ow % g->oh, n = m0 / g->ow / g->oh;
                    for (size_t m = m0; m < m1; m++) {
                        size_t iy = g_tap(oy, g->sh, ky, g->dh, g->pad_t, g->ih);
                        size_t ix = g_tap(ox, g->sw, kx, g->dw, g->pad_l, g->iw);
                        if (iy < g->ih && ix < g->iw) {
                            ar[nr] = dy + m * g->oc + grp * ocg;
                            xr[nr++] = x + ((n * g->ih + iy) * g->iw + ix) * g->ic + grp * icg;
                        }
                        if (++ox == g->ow) { ox = 0; if (++oy == g->oh) { oy = 0; n++; } }
                    }
                    if (!nr) continue;
                    float *dwt = dw + grp * ocg * ldw + (ky * g->kw + kx) * icg;
                    for (size_t o0 = o_lo; o0 < o_hi; o0 += GMR)
                        for (size_t c0 = 0; c0 < icg; c0 += GNR)
                            dw_tile(gmin(GMR, ocg - o0), nr, ar, o0, xr, c0, dwt + o0 * ldw + c0, ldw,
                                    gmin(GNR, icg - c0));
                }
        }
    }
}
