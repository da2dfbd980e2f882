/* Direct convolution for few input channels (the first layer of most CNNs:
 * RGB or grey input). With K = kh*kw*ic this small, the per-tile im2col of
 * the GEMM path costs more than the FMAs, so here the broadcasts come
 * straight from the input rows. Included after gemm_tmpl.h, whose packed
 * panels it reads; one task = one output row of one panel. */

#define DC_MAX_IC 4
#define DC_MAX_KH 16
/* Pixels per tile: 24 accumulators of 32 registers on AVX-512, 12 of 16 on
 * AVX2; the tile's fixed cost (bias, activation, stores) is paid per pixel
 * block, and K is small here, so wide tiles matter. */
#if defined(ET_X86_AVX512)
#define DC_PX 12
#define DC_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define DCONV_NAME "et_f32_dconv_12x32__avx512"
#else
#define DC_PX 6
#define DC_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define DCONV_NAME "et_f32_dconv_6x16__avx2"
#endif

int ET_FN(et_f32_dconv_fits)(const et_conv_geom *g) {
    return g->groups == 1 && g->ic >= 1 && g->ic <= DC_MAX_IC && g->kh * g->kw > 1 && g->kh <= DC_MAX_KH && g->oc > 0;
}

static size_t dconv_tasks(const et_conv_geom *g) { return g->n * g->oh * panels(g->oc); }
static size_t dconv_scratch(const et_conv_geom *g) { (void)g; return 0; }

static inline void dconv_store(float *c, V s0, V s1, size_t nc, et_act act) {
    if (nc == NR) {
        V_STORE(c, v_act(s0, act));
        V_STORE(c + VW, v_act(s1, act));
    } else {
        V_STOREM(c, V_TAIL(nc > VW ? VW : nc), v_act(s0, act));
        V_STOREM(c + VW, V_TAIL(nc > VW ? nc - VW : 0), v_act(s1, act));
    }
}

#if defined(ET_X86_AVX512)
/* DC_PX interior output pixels from ox0: bias, then one FMA per valid tap in
 * (ky, kx, c) order, exactly as dconv_pixel does for one pixel. */
static void dconv_tile(const et_conv_geom *g, const float *const *rows, size_t ox0, const float *w, float *c,
                       size_t nc, et_act act) {
    const size_t ic = g->ic, xs = g->sw * ic;
    V b0 = V_LOAD(w), b1 = V_LOAD(w + VW);
#define DECL(i) V c##i##0 = b0, c##i##1 = b1;
    DC_ROWS(DECL)
#undef DECL
    for (size_t ky = 0; ky < g->kh; ky++) {
        if (!rows[ky]) continue;
        for (size_t kx = 0; kx < g->kw; kx++) {
            const float *xp = rows[ky] + (ox0 * g->sw + kx * g->dw - g->pad_l) * ic;
            const float *wk = w + NR + (ky * g->kw + kx) * ic * NR;
            for (size_t ch = 0; ch < ic; ch++, wk += NR) {
                V w0 = V_LOAD(wk), w1 = V_LOAD(wk + VW);
#define STEP(i) { V x = V_SET1(xp[i * xs + ch]); c##i##0 = V_FMA(x, w0, c##i##0); c##i##1 = V_FMA(x, w1, c##i##1); }
                DC_ROWS(STEP)
#undef STEP
            }
        }
    }
#define STORE(i) dconv_store(c + (i) * g->oc, c##i##0, c##i##1, nc, act);
    DC_ROWS(STORE)
#undef STORE
}

#else
/* The same for AVX2, where the RGB stem (3x3, stride 2, 3 channels) runs
 * with those compiled in: 64% -> 78% of the AVX2 peak. Kept apart from the
 * AVX-512 one, which gcc compiles with spills (65% -> 40-52%) when written
 * this way, with or without the stem's constants. */
static inline __attribute__((always_inline)) void dconv_tile_k(const size_t IC, const size_t KH, const size_t KW,
                                                               const size_t SW, const size_t DW, const et_conv_geom *g,
                                                               const float *const *rows, size_t ox0, const float *w,
                                                               float *c, size_t nc, et_act act) {
    const size_t ic = IC, xs = SW * ic;
    V b0 = V_LOAD(w), b1 = V_LOAD(w + VW);
#define DECL(i) V c##i##0 = b0, c##i##1 = b1;
    DC_ROWS(DECL)
#undef DECL
    for (size_t ky = 0; ky < KH; ky++) {
        if (!rows[ky]) continue;
        for (size_t kx = 0; kx < KW; kx++) {
            const float *xp = rows[ky] + (ox0 * SW + kx * DW - g->pad_l) * ic;
            const float *wk = w + NR + (ky * KW + kx) * ic * NR;
            for (size_t ch = 0; ch < ic; ch++, wk += NR) {
                V w0 = V_LOAD(wk), w1 = V_LOAD(wk + VW);
#define STEP(i) { V x = V_SET1(xp[i * xs + ch]); c##i##0 = V_FMA(x, w0, c##i##0); c##i##1 = V_FMA(x, w1, c##i##1); }
                DC_ROWS(STEP)
#undef STEP
            }
        }
    }
#define STORE(i) dconv_store(c + (i) * g->oc, c##i##0, c##i##1, nc, act);
    DC_ROWS(STORE)
#undef STORE
}

/* The stem's shape as constants, anything else as read from g. */
static void dconv_tile(const et_conv_geom *g, const float *const *rows, size_t ox0, const float *w, float *c,
                       size_t nc, et_act act) {
    if (g->ic == 3 && g->kh == 3 && g->kw == 3 && g->sw == 2 && g->dw == 1)
        dconv_tile_k(3, 3, 3, 2, 1, g, rows, ox0, w, c, nc, act);
    else dconv_tile_k(g->ic, g->kh, g->kw, g->sw, g->dw, g, rows, ox0, w, c, nc, act);
}
#endif

/* One output pixel whose window may reach into the padding. */
static void dconv_pixel(const et_conv_geom *g, const float *const *rows, size_t ox, const float *w, float *c,
                        size_t nc, et_act act) {
    const size_t ic = g->ic;
    V s0 = V_LOAD(w), s1 = V_LOAD(w + VW);
    for (size_t ky = 0; ky < g->kh; ky++) {
        if (!rows[ky]) continue;
        for (size_t kx = 0; kx < g->kw; kx++) {
            size_t px = ox * g->sw + kx * g->dw;
            if (px < g->pad_l || px - g->pad_l >= g->iw) continue;
            const float *xp = rows[ky] + (px - g->pad_l) * ic;
            const float *wk = w + NR + (ky * g->kw + kx) * ic * NR;
            for (size_t ch = 0; ch < ic; ch++, wk += NR) {
                V x = V_SET1(xp[ch]);
                s0 = V_FMA(x, V_LOAD(wk), s0);
                s1 = V_FMA(x, V_LOAD(wk + VW), s1);
            }
        }
    }
    dconv_store(c, s0, s1, nc, act);
}

static void dconv_run(const et_conv_args *a, size_t t0, size_t t1, void *scratch) {
    const et_conv_geom *g = a->g;
    size_t np = panels(g->oc), pf = panel_floats(gk(g)), lo, hi;
    const float *rows[DC_MAX_KH];
    (void)scratch;
    et_conv_interior_cols(g, &lo, &hi);
    for (size_t t = t0; t < t1; t++) {
        size_t p = t % np, r = t / np, oy = r % g->oh, n = r / g->oh;
        for (size_t ky = 0; ky < g->kh; ky++) {
            size_t py = oy * g->sh + ky * g->dh;
            rows[ky] = py >= g->pad_t && py - g->pad_t < g->ih ? a->x + (n * g->ih + py - g->pad_t) * g->iw * g->ic : NULL;
        }
        const float *w = (const float *)a->packed + p * pf;
        float *c = a->y + (n * g->oh + oy) * g->ow * g->oc + p * NR;
        size_t nc = g->oc - p * NR < NR ? g->oc - p * NR : NR, ox = 0;
        for (; ox < lo; ox++) dconv_pixel(g, rows, ox, w, c + ox * g->oc, nc, a->act);
        for (; ox + DC_PX <= hi; ox += DC_PX) dconv_tile(g, rows, ox, w, c + ox * g->oc, nc, a->act);
        /* the last interior pixels: one tile overlapping the previous one
         * (a pixel's value does not depend on which tile computes it) */
        if (ox < hi && hi - lo >= DC_PX) { dconv_tile(g, rows, hi - DC_PX, w, c + (hi - DC_PX) * g->oc, nc, a->act); ox = hi; }
        for (; ox < g->ow; ox++) dconv_pixel(g, rows, ox, w, c + ox * g->oc, nc, a->act);
    }
}

const et_conv_impl ET_FN(et_f32_dconv_impl) = {DCONV_NAME, gemm_pack_bytes, gemm_pack, dconv_scratch, dconv_tasks, dconv_run};
