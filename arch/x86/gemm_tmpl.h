/* GEMM microkernels and the conv/linear impls built on them (pointwise with
 * any stride via row gather, general KxK/grouped conv via per-tile im2col in
 * worker scratch), as a template included once per ISA after simd.h.
 * Packing and tiling only; op semantics live in src/ops. */
#include <string.h>
#include "dispatch.h"
#include "vmath.h"

/* Register tile: MR rows x NR = 2 vectors. AVX2 has 16 registers (12 accumulators
 * + 2 B + 1 broadcast); AVX-512 has 32, so it can afford more rows. */
#if defined(ET_X86_AVX512)
#define MR 8
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define ROWS2(X, F) X(0, F) X(1, F) X(2, F) X(3, F) X(4, F) X(5, F) X(6, F) X(7, F)
#define FULL_WIDE gemm_wide_7
#define FULL_NARROW gemm_narrow_7
#define GEMM_NAME "et_f32_gemm_8x32__avx512"
#define IGEMM_NAME "et_f32_conv_im2col_8x32__avx512"
#else
#define MR 6
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define ROWS2(X, F) X(0, F) X(1, F) X(2, F) X(3, F) X(4, F) X(5, F)
#define FULL_WIDE gemm_wide_5
#define FULL_NARROW gemm_narrow_5
#define GEMM_NAME "et_f32_gemm_6x16__avx2"
#define IGEMM_NAME "et_f32_conv_im2col_6x16__avx2"
#endif
#define NR (2 * VW)

/* Packed weights, per group and per panel of NR output channels:
 * [bias NR][K][NR], zero-padded past the group's channels. Every panel has the
 * same stride; a last panel of at most VW channels is run by the narrow
 * kernel, which reads only the first VW floats of each row. */
static size_t panel_floats(size_t k) { return (k + 1) * NR; }
static size_t panels(size_t n) { return (n + NR - 1) / NR; }

/* Stores with the activation switched once per tile, not per vector (with
 * small K a per-store switch shows): none, ReLU and clip (ReLU6) get their
 * own blocks, the rest use v_act. STORE_ROW(i, F) stores row i through F. */
#define ACT_NONE(x) (x)
#define ACT_RELU(x) V_MAX(V_ZERO(), (x))
#define ACT_CLIP(x) V_MIN(hi_, V_MAX(lo_, (x)))
#define ACT_ANY(x) v_act((x), act)
#define STORES_BY_ACT(STORE_ROW)                                                     \
    if (act.kind == ET_ACT_NONE) {                                                   \
        ROWS2(STORE_ROW, ACT_NONE)                                                   \
    } else if (act.kind == ET_ACT_RELU) {                                            \
        ROWS2(STORE_ROW, ACT_RELU)                                                   \
    } else if (act.kind == ET_ACT_CLIP) {                                            \
        V lo_ = V_SET1(act.a), hi_ = V_SET1(act.b);                                  \
        ROWS2(STORE_ROW, ACT_CLIP)                                                   \
    } else {                                                                         \
        ROWS2(STORE_ROW, ACT_ANY)                                                    \
    }

/* C[R x nc] = act(bias + A B): A rows a[0..R), K = kc, B one packed panel.
 * R is a compile-time constant in each instantiation below, so a tile of
 * fewer rows (the last tile of a 7x7 layer's 49 rows) does only its own
 * FMAs. Each output element is bias then one FMA per k in order, whatever
 * R: the bit-identity contract. */
static inline __attribute__((always_inline)) void gemm_wide_r(const size_t R, size_t kc, const float *const *a,
                                                              const float *w, float *c, size_t ldc, size_t nc, et_act act) {
    V b0 = V_LOAD(w), b1 = V_LOAD(w + VW);
#define DECL(i) const float *a##i = a[i < R ? i : 0]; V c##i##0 = b0, c##i##1 = b1;
    ROWS(DECL)
#undef DECL
    w += NR;
    for (size_t k = 0; k < kc; k++) {
        b0 = V_LOAD(w);
        b1 = V_LOAD(w + VW);
        w += NR;
#define STEP(i) if (i < R) { V x = V_SET1(a##i[k]); c##i##0 = V_FMA(x, b0, c##i##0); c##i##1 = V_FMA(x, b1, c##i##1); }
        ROWS(STEP)
#undef STEP
    }
    if (nc == NR) {
#define STORE_ROW(i, F) if (i < R) { V_STORE(c + i * ldc, F(c##i##0)); V_STORE(c + i * ldc + VW, F(c##i##1)); }
        STORES_BY_ACT(STORE_ROW)
#undef STORE_ROW
    } else {
        VM m0 = V_TAIL(nc > VW ? VW : nc), m1 = V_TAIL(nc > VW ? nc - VW : 0);
#define STORE_ROW(i, F) if (i < R) { V_STOREM(c + i * ldc, m0, F(c##i##0)); V_STOREM(c + i * ldc + VW, m1, F(c##i##1)); }
        STORES_BY_ACT(STORE_ROW)
#undef STORE_ROW
    }
}

/* Same for a last panel of nc <= VW channels: half the FMAs of the wide one. */
static inline __attribute__((always_inline)) void gemm_narrow_r(const size_t R, size_t kc, const float *const *a,
                                                                const float *w, float *c, size_t ldc, size_t nc, et_act act) {
    V b0 = V_LOAD(w);
#define DECL(i) const float *a##i = a[i < R ? i : 0]; V c##i##0 = b0;
    ROWS(DECL)
#undef DECL
    w += NR;
    for (size_t k = 0; k < kc; k++) {
        b0 = V_LOAD(w);
        w += NR;
#define STEP(i) if (i < R) c##i##0 = V_FMA(V_SET1(a##i[k]), b0, c##i##0);
        ROWS(STEP)
#undef STEP
    }
    VM m0 = V_TAIL(nc);
#define STORE_ROW(i, F) if (i < R) V_STOREM(c + i * ldc, m0, F(c##i##0));
    STORES_BY_ACT(STORE_ROW)
#undef STORE_ROW
}

typedef void (*gemm_fn)(size_t kc, const float *const *a, const float *w, float *c, size_t ldc, size_t nc, et_act act);
#define GEMM_R(i)                                                                                              \
    static void gemm_wide_##i(size_t kc, const float *const *a, const float *w, float *c, size_t ldc, size_t nc, \
                              et_act act) { gemm_wide_r(i + 1, kc, a, w, c, ldc, nc, act); }                     \
    static void gemm_narrow_##i(size_t kc, const float *const *a, const float *w, float *c, size_t ldc,          \
                                size_t nc, et_act act) { gemm_narrow_r(i + 1, kc, a, w, c, ldc, nc, act); }
ROWS(GEMM_R)
#undef GEMM_R
#define WIDE_ENTRY(i) gemm_wide_##i,
#define NARROW_ENTRY(i) gemm_narrow_##i,
static const gemm_fn gemm_wide_of[MR] = {ROWS(WIDE_ENTRY)}, gemm_narrow_of[MR] = {ROWS(NARROW_ENTRY)};
#undef WIDE_ENTRY
#undef NARROW_ENTRY

/* The kernel for mr rows (1..MR) of a panel of nc columns: full tiles by a
 * direct call (small-K layers feel an indirect one), partial ones by table. */
static inline void gemm_tile(size_t mr, size_t kc, const float *const *a, const float *w, float *c, size_t ldc, size_t nc,
                      et_act act) {
    if (mr == MR) {
        if (nc > VW) FULL_WIDE(kc, a, w, c, ldc, nc, act);
        else FULL_NARROW(kc, a, w, c, ldc, nc, act);
        return;
    }
    if (nc <= VW) gemm_narrow_of[mr - 1](kc, a, w, c, ldc, nc, act);
    else gemm_wide_of[mr - 1](kc, a, w, c, ldc, nc, act);
}

/* One row (GEMV, batch-1 linear): four panels at once so eight independent
 * accumulator chains hide the FMA latency; per element still bias + FMAs in k order. */
static void gemv_panels(size_t np, size_t kc, const float *a, const float *w, size_t pstride, float *c,
                        size_t ncols, et_act act) {
    size_t p = 0;
    for (; p + 4 <= np; p += 4) {
        const float *w0 = w + p * pstride, *w1 = w0 + pstride, *w2 = w1 + pstride, *w3 = w2 + pstride;
        V s00 = V_LOAD(w0), s01 = V_LOAD(w0 + VW), s10 = V_LOAD(w1), s11 = V_LOAD(w1 + VW);
        V s20 = V_LOAD(w2), s21 = V_LOAD(w2 + VW), s30 = V_LOAD(w3), s31 = V_LOAD(w3 + VW);
        for (size_t k = 0; k < kc; k++) {
            V x = V_SET1(a[k]);
            size_t o = (k + 1) * NR;
            s00 = V_FMA(x, V_LOAD(w0 + o), s00); s01 = V_FMA(x, V_LOAD(w0 + o + VW), s01);
            s10 = V_FMA(x, V_LOAD(w1 + o), s10); s11 = V_FMA(x, V_LOAD(w1 + o + VW), s11);
            s20 = V_FMA(x, V_LOAD(w2 + o), s20); s21 = V_FMA(x, V_LOAD(w2 + o + VW), s21);
            s30 = V_FMA(x, V_LOAD(w3 + o), s30); s31 = V_FMA(x, V_LOAD(w3 + o + VW), s31);
        }
        V s[8] = {s00, s01, s10, s11, s20, s21, s30, s31};
        for (size_t j = 0; j < 8; j++) {
            size_t c0 = (p + j / 2) * NR + (j % 2) * VW;
            if (c0 >= ncols) break;
            size_t n = ncols - c0 < VW ? ncols - c0 : VW;
            if (n == VW) V_STORE(c + c0, v_act(s[j], act));
            else V_STOREM(c + c0, V_TAIL(n), v_act(s[j], act));
        }
    }
    for (; p < np; p++) {
        const float *row[MR];
        for (size_t i = 0; i < MR; i++) row[i] = a;
        size_t nc = ncols - p * NR < NR ? ncols - p * NR : NR;
        gemm_tile(1, kc, row, w + p * pstride, c + p * NR, 0, nc, act);
    }
}

/* ---- geometry helpers shared by the pointwise and im2col impls ---- */

/* A 1x1 conv is a plain GEMM over pixels only when no output pixel falls in
 * the (bottom/right) padding, which the geometry implies through oh/ow. */
static int is_pointwise(const et_conv_geom *g) { return g->kh == 1 && g->kw == 1 && g->pad_t == 0 && g->pad_l == 0 && (g->oh - 1) * g->sh < g->ih && (g->ow - 1) * g->sw < g->iw; }
static size_t gk(const et_conv_geom *g) { return g->kh * g->kw * (g->ic / g->groups); }
static size_t rows_of(const et_conv_geom *g) { return g->n * g->oh * g->ow; }

static size_t gemm_pack_bytes(const et_conv_geom *g) {
    return g->groups * panels(g->oc / g->groups) * panel_floats(gk(g)) * sizeof(float);
}

static void gemm_pack(const et_conv_geom *g, const float *w, const float *bias, void *dst) {
    size_t K = gk(g), ocg = g->oc / g->groups, np = panels(ocg);
    float *d = dst;
    memset(d, 0, gemm_pack_bytes(g));
    for (size_t grp = 0; grp < g->groups; grp++)
        for (size_t p = 0; p < np; p++) {
            float *pan = d + (grp * np + p) * panel_floats(K);
            for (size_t j = 0; j < NR && p * NR + j < ocg; j++) {
                size_t oc = grp * ocg + p * NR + j;
                pan[j] = bias ? bias[oc] : 0.0f;
                for (size_t k = 0; k < K; k++) pan[(k + 1) * NR + j] = w[oc * K + k];
            }
        }
}

/* Work units: (group, tile of MR rows, chunk of panels). Panels are split too
 * only when there are few row tiles (batch-1 linear, 7x7 layers), so both
 * threads get work. */
typedef struct split { size_t mt, np, pchunk, nchunks; } split;
static split split_of(const et_conv_geom *g) {
    split s;
    s.mt = (rows_of(g) + MR - 1) / MR;
    s.np = panels(g->oc / g->groups);
    s.pchunk = s.mt >= 16 ? s.np : (s.np + 3) / 4;
    if (s.pchunk == 0) s.pchunk = 1;
    s.nchunks = (s.np + s.pchunk - 1) / s.pchunk;
    return s;
}
static size_t gemm_tasks(const et_conv_geom *g) { split s = split_of(g); return g->groups * s.mt * s.nchunks; }

/* Input row of output pixel m (pointwise conv: stride only, no padding).
 * Stride 1 over the whole input is plain row m: no divisions, which cost
 * more than the FMAs of a small-K tile. */
static const float *pw_row(const et_conv_geom *g, const float *x, size_t m) {
    if (g->oh == g->ih && g->ow == g->iw) return x + m * g->ic;
    size_t ox = m % g->ow, t = m / g->ow, oy = t % g->oh, n = t / g->oh;
    return x + ((n * g->ih + oy * g->sh) * g->iw + ox * g->sw) * g->ic;
}

/* im2col of output pixel m's receptive field (group grp) into dst[K]; padding taps are zeros. */
static void im2col_row(const et_conv_geom *g, const float *x, size_t m, size_t grp, float *dst) {
    size_t icg = g->ic / g->groups;
    size_t ox = m % g->ow, t = m / g->ow, oy = t % g->oh, n = t / g->oh;
    for (size_t ky = 0; ky < g->kh; ky++) {
        size_t py = oy * g->sh + ky * g->dh;
        int vy = py >= g->pad_t && py - g->pad_t < g->ih;
        for (size_t kx = 0; kx < g->kw; kx++, dst += icg) {
            size_t px = ox * g->sw + kx * g->dw;
            if (!vy || px < g->pad_l || px - g->pad_l >= g->iw) { memset(dst, 0, icg * sizeof *dst); continue; }
            const float *s = x + ((n * g->ih + (py - g->pad_t)) * g->iw + (px - g->pad_l)) * g->ic + grp * icg;
            if (icg == 3) { dst[0] = s[0]; dst[1] = s[1]; dst[2] = s[2]; }
            else memcpy(dst, s, icg * sizeof *dst);
        }
    }
}

static size_t gemm_scratch(const et_conv_geom *g) { return is_pointwise(g) ? 0 : MR * gk(g) * sizeof(float); }

static void gemm_run(const et_conv_args *a, size_t t0, size_t t1, void *scratch) {
    const et_conv_geom *g = a->g;
    split s = split_of(g);
    size_t K = gk(g), M = rows_of(g), ocg = g->oc / g->groups, pf = panel_floats(K);
    int pw = is_pointwise(g);
    size_t last_tile = (size_t)-1;
    const float *rowp[MR];
    for (size_t t = t0; t < t1; t++) {
        size_t chunk = t % s.nchunks, rest = t / s.nchunks, mt = rest % s.mt, grp = rest / s.mt;
        size_t m0 = mt * MR, mr = M - m0 < MR ? M - m0 : MR;
        if (rest != last_tile) { /* the im2col of a tile is reused across its panel chunks */
            for (size_t i = 0; i < MR; i++) {
                size_t m = m0 + (i < mr ? i : mr - 1);
                if (pw) rowp[i] = pw_row(g, a->x, m) + grp * (g->ic / g->groups);
                else if (i < mr) { im2col_row(g, a->x, m, grp, (float *)scratch + i * K); rowp[i] = (float *)scratch + i * K; }
                else rowp[i] = rowp[mr - 1];
            }
            last_tile = rest;
        }
        const float *wp = (const float *)a->packed + grp * s.np * pf;
        size_t p0 = chunk * s.pchunk, p1 = p0 + s.pchunk < s.np ? p0 + s.pchunk : s.np;
        float *c = a->y + m0 * g->oc + grp * ocg;
        if (mr == 1 && M == 1) { /* batch-1 linear and 1x1-output convs */
            gemv_panels(p1 - p0, K, rowp[0], wp + p0 * pf, pf, c + p0 * NR, ocg - p0 * NR < (p1 - p0) * NR ? ocg - p0 * NR : (p1 - p0) * NR, a->act);
            continue;
        }
        for (size_t p = p0; p < p1; p++) {
            size_t nc = ocg - p * NR < NR ? ocg - p * NR : NR;
            gemm_tile(mr, K, rowp, wp + p * pf, c + p * NR, g->oc, nc, a->act);
        }
    }
}

const et_conv_impl ET_FN(et_f32_gemm_impl) = {GEMM_NAME, gemm_pack_bytes, gemm_pack, gemm_scratch, gemm_tasks, gemm_run};
const et_conv_impl ET_FN(et_f32_igemm_impl) = {IGEMM_NAME, gemm_pack_bytes, gemm_pack, gemm_scratch, gemm_tasks, gemm_run};
