/* NEON GEMM microkernel and the conv/linear impl built on it (pointwise convs
 * read input rows in place; any other groups=1 conv gathers each tile's
 * receptive fields into worker scratch). Template included once per ISA.
 * Tiling and packing only; op semantics live in src/ops. */
#include <string.h>
#include "simd.h"
#include "arm.h"

/* Register tile MR x NR, NR = 8 = two q registers per row.
 * A64 (32 q regs): 8x8 = 16 accumulators + 8 A rows (4 k each, used by lane)
 *   + 2 B = 26 registers; per 4 k: 16 loads feed 64 FMAs.
 * ARMv7 (16 q regs, no by-lane FMA with VFPv4 intrinsics): 6x8 = 12
 *   accumulators + 2 B + 1 broadcast A = 15 registers. */
#if defined(__aarch64__)
#define MR 8
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define GEMM_NAME "et_f32_gemm_8x8__neon64"
#else
#define MR 6
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define GEMM_NAME "et_f32_gemm_6x8__neon32"
#endif
#define NR 8

/* Packed weights, per panel of NR output channels: [bias NR][K][NR],
 * zero-padded past oc, so the microkernel never branches on a short panel. */
static size_t panel_floats(size_t k) { return (k + 1) * NR; }
static size_t panels(size_t n) { return (n + NR - 1) / NR; }

static void store_tile(float *c, size_t nc, V lo, V hi) {
    if (nc == NR) {
        vst1q_f32(c, lo);
        vst1q_f32(c + 4, hi);
    } else {
        float t[NR];
        vst1q_f32(t, lo);
        vst1q_f32(t + 4, hi);
        memcpy(c, t, nc * sizeof(float));
    }
}

/* C[mr x nc] = bias + A B with A rows a[0..MR) (rows past mr repeat a valid
 * row and are not stored), B one packed panel. Each output is the bias then
 * one fused multiply-add per k in increasing k, whatever mr or the tile:
 * that keeps results bit-identical for any thread split. */
static void ukernel(size_t mr, size_t kc, const float *const *a, const float *w, float *c, size_t ldc,
                    size_t nc) {
#define DECL(i) const float *a##i = a[i]; V c##i##0 = vld1q_f32(w), c##i##1 = vld1q_f32(w + 4);
    ROWS(DECL)
#undef DECL
    w += NR;
    size_t k = 0;
#if defined(__aarch64__)
    /* 4 k per step: one q load per A row, then FMAs by lane */
    for (; k + 4 <= kc; k += 4) {
#define LOADA(i) V x##i = vld1q_f32(a##i + k);
        ROWS(LOADA)
#undef LOADA
#define STEP(i) c##i##0 = vfmaq_laneq_f32(c##i##0, b0, x##i, LN); c##i##1 = vfmaq_laneq_f32(c##i##1, b1, x##i, LN);
#define LN 0
        { V b0 = vld1q_f32(w), b1 = vld1q_f32(w + 4); ROWS(STEP) }
#undef LN
#define LN 1
        { V b0 = vld1q_f32(w + 8), b1 = vld1q_f32(w + 12); ROWS(STEP) }
#undef LN
#define LN 2
        { V b0 = vld1q_f32(w + 16), b1 = vld1q_f32(w + 20); ROWS(STEP) }
#undef LN
#define LN 3
        { V b0 = vld1q_f32(w + 24), b1 = vld1q_f32(w + 28); ROWS(STEP) }
#undef LN
#undef STEP
        w += 4 * NR;
    }
#define BCAST(p) vdupq_n_f32(*(p))
#else
#define BCAST(p) vld1q_dup_f32(p)
#endif
    for (; k < kc; k++) {
        V b0 = vld1q_f32(w), b1 = vld1q_f32(w + 4);
        w += NR;
#define STEP(i) { V x = BCAST(a##i + k); c##i##0 = vfmaq_f32(c##i##0, b0, x); c##i##1 = vfmaq_f32(c##i##1, b1, x); }
        ROWS(STEP)
#undef STEP
    }
#undef BCAST
#define STORE(i) if (i < mr) store_tile(c + i * ldc, nc, c##i##0, c##i##1);
    ROWS(STORE)
#undef STORE
}

/* One row (batch-1 linear, 1x1 outputs): same arithmetic per output as
 * ukernel, without computing MR copies of the row. */
static void ukernel_1(size_t kc, const float *a, const float *w, float *c, size_t nc) {
    V c0 = vld1q_f32(w), c1 = vld1q_f32(w + 4);
    w += NR;
    for (size_t k = 0; k < kc; k++, w += NR) {
        V x = vdupq_n_f32(a[k]);
        c0 = vfmaq_f32(c0, vld1q_f32(w), x);
        c1 = vfmaq_f32(c1, vld1q_f32(w + 4), x);
    }
    store_tile(c, nc, c0, c1);
}

/* A 1x1 conv is a plain GEMM over pixels only when no output pixel falls in
 * the (bottom/right) padding, which the geometry implies through oh/ow. */
static int is_pointwise(const et_conv_geom *g) { return g->kh == 1 && g->kw == 1 && g->pad_t == 0 && g->pad_l == 0 && (g->oh - 1) * g->sh < g->ih && (g->ow - 1) * g->sw < g->iw; }
static size_t gk(const et_conv_geom *g) { return g->kh * g->kw * g->ic; }
static size_t rows_of(const et_conv_geom *g) { return g->n * g->oh * g->ow; }

static size_t gemm_pack_bytes(const et_conv_geom *g) { return panels(g->oc) * panel_floats(gk(g)) * sizeof(float); }

static void gemm_pack(const et_conv_geom *g, const float *w, const float *bias, void *dst) {
    size_t K = gk(g), np = panels(g->oc);
    float *d = dst;
    memset(d, 0, gemm_pack_bytes(g));
    for (size_t p = 0; p < np; p++) {
        float *pan = d + p * panel_floats(K);
        for (size_t j = 0; j < NR && p * NR + j < g->oc; j++) {
            size_t oc = p * NR + j;
            pan[j] = bias ? bias[oc] : 0.0f;
            for (size_t k = 0; k < K; k++) pan[(k + 1) * NR + j] = w[oc * K + k];
        }
    }
}

/* Work units: (tile of MR rows, chunk of panels). With few row tiles
 * (batch-1 linear, 7x7 maps) panels are split too so every worker gets work. */
typedef struct gsplit { size_t mt, np, pchunk, nchunks; } gsplit;
static gsplit gsplit_of(const et_conv_geom *g) {
    gsplit s;
    s.mt = (rows_of(g) + MR - 1) / MR;
    s.np = panels(g->oc);
    s.pchunk = s.mt >= 8 ? s.np : (s.np + 7) / 8;
    if (s.pchunk == 0) s.pchunk = 1;
    s.nchunks = (s.np + s.pchunk - 1) / s.pchunk;
    return s;
}
static size_t gemm_tasks(const et_conv_geom *g) { gsplit s = gsplit_of(g); return s.mt * s.nchunks; }

/* Receptive field of output pixel m flattened to [kh][kw][ic] in dst;
 * taps in the padding are zeros. */
static void gather_row(const et_conv_geom *g, const float *x, size_t m, float *dst) {
    size_t ox = m % g->ow, t = m / g->ow, oy = t % g->oh, n = t / g->oh;
    for (size_t ky = 0; ky < g->kh; ky++) {
        size_t py = oy * g->sh + ky * g->dh;
        int vy = py >= g->pad_t && py - g->pad_t < g->ih;
        for (size_t kx = 0; kx < g->kw; kx++, dst += g->ic) {
            size_t px = ox * g->sw + kx * g->dw;
            if (!vy || px < g->pad_l || px - g->pad_l >= g->iw) memset(dst, 0, g->ic * sizeof *dst);
            else memcpy(dst, x + ((n * g->ih + py - g->pad_t) * g->iw + px - g->pad_l) * g->ic, g->ic * sizeof *dst);
        }
    }
}

static size_t gemm_scratch(const et_conv_geom *g) { return is_pointwise(g) ? 0 : MR * gk(g) * sizeof(float); }

static void gemm_run(const et_conv_args *a, size_t t0, size_t t1, void *scratch) {
    const et_conv_geom *g = a->g;
    gsplit s = gsplit_of(g);
    size_t K = gk(g), M = rows_of(g), pf = panel_floats(K);
    int pw = is_pointwise(g);
    size_t have = (size_t)-1; /* row tile whose rows are set up */
    const float *rowp[MR];
    for (size_t t = t0; t < t1; t++) {
        size_t chunk = t % s.nchunks, mt = t / s.nchunks;
        size_t m0 = mt * MR, mr = M - m0 < MR ? M - m0 : MR;
        if (mt != have) {
            for (size_t i = 0; i < MR; i++) {
                if (i >= mr) { rowp[i] = rowp[mr - 1]; continue; }
                size_t m = m0 + i;
                if (pw && g->oh == g->ih && g->ow == g->iw) {
                    rowp[i] = a->x + m * g->ic; /* stride 1: no divisions, which cost more than a small-K tile's FMAs */
                } else if (pw) {
                    size_t ox = m % g->ow, q = m / g->ow, oy = q % g->oh, n = q / g->oh;
                    rowp[i] = a->x + ((n * g->ih + oy * g->sh) * g->iw + ox * g->sw) * g->ic;
                } else {
                    float *dst = (float *)scratch + i * K;
                    gather_row(g, a->x, m, dst);
                    rowp[i] = dst;
                }
            }
            have = mt;
        }
        size_t p0 = chunk * s.pchunk, p1 = p0 + s.pchunk < s.np ? p0 + s.pchunk : s.np;
        const float *wp = a->packed;
        float *c = a->y + m0 * g->oc;
        for (size_t p = p0; p < p1; p++) {
            size_t nc = g->oc - p * NR < NR ? g->oc - p * NR : NR;
            if (mr == 1) ukernel_1(K, rowp[0], wp + p * pf, c + p * NR, nc);
            else ukernel(mr, K, rowp, wp + p * pf, c + p * NR, g->oc, nc);
        }
        /* activation on the columns this unit wrote, while they are in cache */
        size_t c0 = p0 * NR, c1 = p1 * NR < g->oc ? p1 * NR : g->oc;
        if (a->act.kind != ET_ACT_NONE)
            for (size_t i = 0; i < mr; i++) ET_FN(et_f32_act)(c1 - c0, a->act, c + i * g->oc + c0, c + i * g->oc + c0);
    }
}

const et_conv_impl ET_FN(et_f32_gemm_impl) = {GEMM_NAME, gemm_pack_bytes, gemm_pack, gemm_scratch, gemm_tasks,
                                              gemm_run};
