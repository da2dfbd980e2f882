/* Backward of conv2d (any kernel, stride, dilation, padding, groups) and
 * linear as GEMMs over one kernel tap at a time, reading the model's OHWI
 * weights in place; a template included once per ISA after simd.h. No scratch. */
#include <stddef.h>
#include "ops/ops.h"

/* Register tile: GMR rows x 2 vectors, as the forward GEMM (16 vs 32 registers). */
#if defined(ET_X86_AVX512)
#define GMR 8
#define GROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#else
#define GMR 6
#define GROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#endif
#define GNR (2 * VW)

static size_t gmin(size_t a, size_t b) { return a < b ? a : b; }

/* Input coordinate read by output o through tap k, or `limit` in the padding. */
static size_t g_tap(size_t o, size_t stride, size_t k, size_t dil, size_t pad, size_t limit) {
    size_t p = o * stride + k * dil;
    if (p < pad || p - pad >= limit) return limit;
    return p - pad;
}

/* d[i][0..nc) += sum_k a[i][k] * b[k * ldb + 0..nc) for rows i < mr (rows past
 * mr repeat a valid row and are not stored). Each output element gets its
 * current value plus one FMA per k in order: no dependence on mr or tiling. */
static void dx_tile(size_t mr, size_t kc, const float *const *a, const float *b, size_t ldb, float *const *d,
                    size_t nc) {
    if (nc > VW) {
        VM m1 = V_TAIL(nc - VW);
        int full = nc == GNR;
#define DECL(i) const float *a##i = a[i < mr ? i : mr - 1]; float *d##i = d[i < mr ? i : mr - 1]; \
        V c##i##0 = V_LOAD(d##i), c##i##1 = full ? V_LOAD(d##i + VW) : V_LOADM(d##i + VW, m1);
        GROWS(DECL)
#undef DECL
        for (size_t k = 0; k < kc; k++, b += ldb) {
            V b0 = V_LOAD(b), b1 = full ? V_LOAD(b + VW) : V_LOADM(b + VW, m1);
#define STEP(i) { V x = V_SET1(a##i[k]); c##i##0 = V_FMA(x, b0, c##i##0); c##i##1 = V_FMA(x, b1, c##i##1); }
            GROWS(STEP)
#undef STEP
        }
#define STORE(i) if (i < mr) { V_STORE(d##i, c##i##0); if (full) V_STORE(d##i + VW, c##i##1); else V_STOREM(d##i + VW, m1, c##i##1); }
        GROWS(STORE)
#undef STORE
    } else {
        VM m0 = V_TAIL(nc);
        int full = nc == VW;
#define DECL(i) const float *a##i = a[i < mr ? i : mr - 1]; float *d##i = d[i < mr ? i : mr - 1]; \
        V c##i##0 = full ? V_LOAD(d##i) : V_LOADM(d##i, m0);
        GROWS(DECL)
#undef DECL
        for (size_t k = 0; k < kc; k++, b += ldb) {
            V b0 = full ? V_LOAD(b) : V_LOADM(b, m0);
#define STEP(i) c##i##0 = V_FMA(V_SET1(a##i[k]), b0, c##i##0);
            GROWS(STEP)
#undef STEP
        }
#define STORE(i) if (i < mr) { if (full) V_STORE(d##i, c##i##0); else V_STOREM(d##i, m0, c##i##0); }
        GROWS(STORE)
#undef STORE
    }
}

/* dw[i * ldw + 0..nc) += sum_j dy[j][i] * x[j][0..nc) for i < mr: a weight
 * gradient tile (mr output channels x nc input channels) over nr rows. The
 * rows' partial sum is formed from zero, then added once: a two-level sum. */
static void dw_tile(size_t mr, size_t nr, const float *const *dy, size_t aoff, const float *const *x, size_t xoff,
                    float *dw, size_t ldw, size_t nc) {
    if (nc > VW) {
        VM m1 = V_TAIL(nc - VW);
        int full = nc == GNR;
#define DECL(i) V c##i##0 = V_ZERO(), c##i##1 = V_ZERO(); const size_t o##i = i < mr ? i : mr - 1;
        GROWS(DECL)
#undef DECL
        for (size_t j = 0; j < nr; j++) {
            const float *xr = x[j] + xoff, *ar = dy[j] + aoff;
            V b0 = V_LOAD(xr), b1 = full ? V_LOAD(xr + VW) : V_LOADM(xr + VW, m1);
#define STEP(i) { V s = V_SET1(ar[o##i]); c##i##0 = V_FMA(s, b0, c##i##0); c##i##1 = V_FMA(s, b1, c##i##1); }
            GROWS(STEP)
#undef STEP
        }
#define STORE(i) if (i < mr) { float *p = dw + i * ldw; V_STORE(p, V_ADD(V_LOAD(p), c##i##0)); \
        if (full) V_STORE(p + VW, V_ADD(V_LOAD(p + VW), c##i##1)); \
        else V_STOREM(p + VW, m1, V_ADD(V_LOADM(p + VW, m1), c##i##1)); }
        GROWS(STORE)
#undef STORE
    } else {
        VM m0 = V_TAIL(nc);
        int full = nc == VW;
#define DECL(i) V c##i##0 = V_ZERO(); const size_t o##i = i < mr ? i : mr - 1;
        GROWS(DECL)
#undef DECL
        for (size_t j = 0; j < nr; j++) {
            const float *ar = dy[j] + aoff, *xr = x[j] + xoff;
            V b0 = full ? V_LOAD(xr) : V_LOADM(xr, m0);
#define STEP(i) c##i##0 = V_FMA(V_SET1(ar[o##i]), b0, c##i##0);
            GROWS(STEP)
#undef STEP
        }
#define STORE(i) if (i < mr) { float *p = dw + i * ldw; \
        if (full) V_STORE(p, V_ADD(V_LOAD(p), c##i##0)); else V_STOREM(p, m0, V_ADD(V_LOADM(p, m0), c##i##0)); }
        GROWS(STORE)
#undef STORE
    }
}

/* dx += conv_transpose(dy, w), one tap at a time: for a fixed tap the map
 * output pixel -> input pixel is one-to-one, so a tile of GMR valid output
 * pixels updates GMR distinct dx rows, each as dx_row += dy_row . W[:, tap, :]. */
static void gconv_input(const et_conv_geom *g, const float *dy, const float *w, float *dx) {
    const size_t icg = g->ic / g->groups, ocg = g->oc / g->groups, taps = g->kh * g->kw;
    const size_t ldb = taps * icg; /* step between output channels in OHWI */
    for (size_t grp = 0; grp < g->groups; grp++)
        for (size_t ky = 0; ky < g->kh; ky++)
            for (size_t kx = 0; kx < g->kw; kx++) {
                const float *wt = w + grp * ocg * ldb + (ky * g->kw + kx) * icg;
                const float *a[GMR];
                float *d[GMR];
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
                            if (++mr < GMR) continue;
                            for (size_t c0 = 0; c0 < icg; c0 += GNR) {
                                float *dd[GMR];
                                for (size_t i = 0; i < GMR; i++) dd[i] = d[i] + c0;
                                dx_tile(GMR, ocg, a, wt + c0, ldb, dd, gmin(GNR, icg - c0));
                            }
                            mr = 0;
                        }
                    }
                if (mr)
                    for (size_t c0 = 0; c0 < icg; c0 += GNR) {
                        float *dd[GMR];
                        for (size_t i = 0; i < mr; i++) dd[i] = d[i] + c0;
                        dx_tile(mr, ocg, a, wt + c0, ldb, dd, gmin(GNR, icg - c0));
                    }
            }
}

/* Output pixels per weight-gradient chunk: the chunk's dy and x rows stay in
 * L2 while every (output-channel tile, input panel) pair sweeps them, and
 * at most 128 rows, so that a narrow x (few input channels) stays in L1
 * across the tiles. A function of the geometry only, so the summation order
 * never changes. */
static size_t wchunk(const et_conv_geom *g) {
    size_t per = (g->ic / g->groups + g->oc / g->groups) * sizeof(float);
    size_t r = (192u * 1024u) / (per ? per : 1);
    return r < 32 ? 32 : r > 128 ? 128 : r;
}

/* Slice s of `slices` of the bytes [p, p + n) into L2. */
static void prefetch_slice(const char *p, size_t n, size_t s, size_t slices) {
    for (size_t b = n * s / slices / 64 * 64; b < n * (s + 1) / slices; b += 64) _mm_prefetch(p + b, _MM_HINT_T1);
}

/* Threads split the weight gradient by units of GMR output channels of a
 * group; each weight's sum is the same whichever units a call covers. */
static size_t gconv_weight_units(const et_conv_geom *g) { return g->groups * ((g->oc / g->groups + GMR - 1) / GMR); }

/* Receptive fields of at most PATCH_MAX values (the first 3x3 conv over RGB:
 * 27) are gathered per chunk, so that one tile sweep covers every tap
 * instead of one sweep per tap with 3 of 16 lanes busy (MobileNetV2@160
 * batch 16: 12.4 -> 2.6-4.1 ms on AVX-512). Taps in the padding are zeros. */
#define PATCH_MAX 32
#define PATCH_ROWS 128

static int use_patches(const et_conv_geom *g) { return g->groups == 1 && g->kh * g->kw > 1 && g->kh * g->kw * g->ic <= PATCH_MAX; }

static void gconv_weight_patches(const et_conv_geom *g, const float *x, const float *dy, float *dw, size_t o_lo,
                                 size_t o_hi) {
    const size_t K = g->kh * g->kw * g->ic, M = g->n * g->oh * g->ow;
    float patch[PATCH_ROWS * PATCH_MAX];
    const float *ar[PATCH_ROWS], *xr[PATCH_ROWS];
    size_t ox = 0, oy = 0, n = 0; /* output pixel m, kept without divisions */
    for (size_t m0 = 0; m0 < M; m0 += PATCH_ROWS) {
        const size_t nr = gmin(M - m0, PATCH_ROWS);
        for (size_t j = 0; j < nr; j++) {
            float *p = patch + j * K;
            const size_t x0 = ox * g->sw; /* first tap's column + pad_l */
            const int inside = g->dw == 1 && x0 >= g->pad_l && x0 - g->pad_l + g->kw <= g->iw;
            for (size_t ky = 0; ky < g->kh; ky++) {
                size_t iy = g_tap(oy, g->sh, ky, g->dh, g->pad_t, g->ih);
                if (inside && iy < g->ih) { /* the row's taps are one run of kw * ic values */
                    const float *src = x + ((n * g->ih + iy) * g->iw + x0 - g->pad_l) * g->ic;
                    const size_t len = g->kw * g->ic; /* <= PATCH_MAX: a vector or two, not a memcpy call */
                    for (size_t c = 0; c < len; c += VW) {
                        const VM m = V_TAIL(len - c < VW ? len - c : VW);
                        V_STOREM(p + c, m, V_LOADM(src + c, m));
                    }
                    p += len;
                    continue;
                }
                for (size_t kx = 0; kx < g->kw; kx++, p += g->ic) {
                    size_t ix = g_tap(ox, g->sw, kx, g->dw, g->pad_l, g->iw);
                    const float *src = x + ((n * g->ih + iy) * g->iw + ix) * g->ic;
                    for (size_t c = 0; c < g->ic; c++) p[c] = iy == g->ih || ix == g->iw ? 0.0f : src[c];
                }
            }
            ar[j] = dy + (m0 + j) * g->oc;
            xr[j] = patch + j * K;
            if (++ox == g->ow) { ox = 0; if (++oy == g->oh) { oy = 0; n++; } }
        }
        for (size_t o0 = o_lo; o0 < o_hi; o0 += GMR)
            for (size_t c0 = 0; c0 < K; c0 += GNR)
                dw_tile(gmin(GMR, g->oc - o0), nr, ar, o0, xr, c0, dw + o0 * K + c0, K, gmin(GNR, K - c0));
    }
}

/* dw += sum over batch and positions of x * dy for units [u0, u1) (db is left to the caller). */
static void gconv_weight_part(const et_conv_geom *g, const float *x, const float *dy, float *dw, size_t u0, size_t u1) {
    const size_t icg = g->ic / g->groups, ocg = g->oc / g->groups, taps = g->kh * g->kw;
    const size_t M = g->n * g->oh * g->ow, RC = wchunk(g), ldw = taps * icg, tpg = (ocg + GMR - 1) / GMR;
    const float *ar[128], *xr[128];
    const int contiguous = taps == 1 && g->groups == 1 && g->oh == g->ih && g->ow == g->iw && g->pad_t == 0 && g->pad_l == 0;
    if (use_patches(g)) {
        gconv_weight_patches(g, x, dy, dw, u0 * GMR, gmin(ocg, u1 * GMR));
        return;
    }
    /* tensors far beyond L2 come from memory: fetch ahead (cached ones lose by it) */
    const int stream = contiguous && M * (g->ic + g->oc) * sizeof(float) > ((size_t)4 << 20);
    for (size_t grp = u0 / tpg; grp < g->groups && grp * tpg < u1; grp++) {
        const size_t o_lo = (u0 > grp * tpg ? u0 - grp * tpg : 0) * GMR, o_hi = gmin(ocg, (u1 - grp * tpg) * GMR);
        for (size_t m0 = 0; m0 < M; m0 += RC) {
            size_t m1 = gmin(M, m0 + RC);
            for (size_t ky = 0; ky < g->kh; ky++)
                for (size_t kx = 0; kx < g->kw; kx++) {
                    size_t nr = 0;
                    for (size_t m = m0; m < m1 && contiguous; m++) { /* no divisions */
                        ar[nr] = dy + m * g->oc;
                        xr[nr++] = x + m * g->ic;
                    }
                    for (size_t m = m0; m < m1 && !contiguous; m++) {
                        size_t ox = m % g->ow, t = m / g->ow, oy = t % g->oh, n = t / g->oh;
                        size_t iy = g_tap(oy, g->sh, ky, g->dh, g->pad_t, g->ih);
                        size_t ix = g_tap(ox, g->sw, kx, g->dw, g->pad_l, g->iw);
                        if (iy == g->ih || ix == g->iw) continue;
                        ar[nr] = dy + m * g->oc + grp * ocg;
                        xr[nr++] = x + ((n * g->ih + iy) * g->iw + ix) * g->ic + grp * icg;
                    }
                    if (!nr) continue;
                    float *dwt = dw + grp * ocg * ldw + (ky * g->kw + kx) * icg;
                    /* A stride-1 pointwise conv's next chunk is one run of dy and one of
                     * x: fetch it into L2 a slice per tile while this one computes (the
                     * tiles alone touch a row's lines in separate strided sweeps). The
                     * 80x80 16->96 of MobileNetV2@160 batch 16: 5.2 -> 3.6 ms. */
                    const size_t m2 = gmin(M, m1 + RC), slices = (o_hi - o_lo + GMR - 1) / GMR;
                    for (size_t o0 = o_lo, sl = 0; o0 < o_hi; o0 += GMR, sl++) {
                        for (size_t c0 = 0; c0 < icg; c0 += GNR)
                            dw_tile(gmin(GMR, ocg - o0), nr, ar, o0, xr, c0, dwt + o0 * ldw + c0, ldw, gmin(GNR, icg - c0));
                        if (stream && m1 < M) {
                            prefetch_slice((const char *)(dy + m1 * g->oc), (m2 - m1) * g->oc * sizeof(float), sl, slices);
                            prefetch_slice((const char *)(x + m1 * g->ic), (m2 - m1) * g->ic * sizeof(float), sl, slices);
                        }
                    }
                }
        }
    }
}
