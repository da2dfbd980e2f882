/* NEON direct convolution for few input channels (first layers: RGB or grey
 * input, groups 1, ic 1..4). K = kh*kw*ic is so small that the GEMM path's
 * per-tile gather costs more than its FMAs, so broadcasts come straight from
 * the input rows. Included after gemm_tmpl.h, whose packed panels it reads. */

#define DC_MAX_IC 4
#define DC_MAX_KH 16
/* Pixels per tile, each NR = 8 channels = 2 q accumulators.
 * A64 (32 q regs): 10 pixels = 20 accumulators + 2 weights + 10 broadcasts.
 *   Not 12: GCC loads all of a step's broadcasts before its FMAs, and with
 *   12 it spills 6 accumulators to the stack inside the loop.
 * ARMv7 (16 q regs): 5 pixels = 10 accumulators + 2 weights + broadcasts.
 *   Not 6 (12 + 2 + 1 would fit): GCC keeps two broadcasts live and
 *   spills two accumulators, a store-to-load chain in every step. */
#if defined(__aarch64__)
#define DC_PX 10
#define DC_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9)
#define DCONV_NAME "et_f32_dconv_10x8__neon64"
#else
#define DC_PX 5
#define DC_ROWS(X) X(0) X(1) X(2) X(3) X(4)
#define DCONV_NAME "et_f32_dconv_5x8__neon32"
#endif

int ET_FN(et_f32_dconv_fits)(const et_conv_geom *g) {
    return g->groups == 1 && g->ic >= 1 && g->ic <= DC_MAX_IC && g->kh * g->kw > 1 && g->kh <= DC_MAX_KH &&
           g->oc > 0;
}

/* One task = one output row, all panels: the activation then runs once over
 * the whole row (ow * oc contiguous floats) instead of per 8 channels. */
static size_t dconv_tasks(const et_conv_geom *g) { return g->n * g->oh; }
static size_t dconv_scratch(const et_conv_geom *g) { (void)g; return 0; }

/* DC_PX interior pixels from ox0 for one panel: bias, then one FMA per tap
 * of each valid input row in (ky, kx, c) order, as dconv_pixel does. */
static void dconv_tile(const et_conv_geom *g, const float *const *rows, size_t ox0, const float *w, float *c,
                       size_t nc) {
    const size_t ic = g->ic, xs = g->sw * ic;
    const V b0 = vld1q_f32(w), b1 = vld1q_f32(w + 4);
#define DECL(i) V c##i##0 = b0, c##i##1 = b1;
    DC_ROWS(DECL)
#undef DECL
    for (size_t ky = 0; ky < g->kh; ky++) {
        if (!rows[ky]) continue;
        for (size_t kx = 0; kx < g->kw; kx++) {
            const float *xp = rows[ky] + (ox0 * g->sw + kx * g->dw - g->pad_l) * ic;
            const float *wk = w + NR + (ky * g->kw + kx) * ic * NR;
            for (size_t ch = 0; ch < ic; ch++, wk += NR) {
                V w0 = vld1q_f32(wk), w1 = vld1q_f32(wk + 4);
#define STEP(i) { V x = vld1q_dup_f32(xp + (i) * xs + ch); c##i##0 = vfmaq_f32(c##i##0, w0, x); c##i##1 = vfmaq_f32(c##i##1, w1, x); }
                DC_ROWS(STEP)
#undef STEP
            }
        }
    }
#define STORE(i) store_tile(c + (i) * g->oc, nc, c##i##0, c##i##1);
    DC_ROWS(STORE)
#undef STORE
}

/* One output pixel whose window may reach into the left/right padding. */
static void dconv_pixel(const et_conv_geom *g, const float *const *rows, size_t ox, const float *w, float *c,
                        size_t nc) {
    const size_t ic = g->ic;
    V s0 = vld1q_f32(w), s1 = vld1q_f32(w + 4);
    for (size_t ky = 0; ky < g->kh; ky++) {
        if (!rows[ky]) continue;
        for (size_t kx = 0; kx < g->kw; kx++) {
            size_t px = ox * g->sw + kx * g->dw;
            if (px < g->pad_l || px - g->pad_l >= g->iw) continue;
            const float *xp = rows[ky] + (px - g->pad_l) * ic;
            const float *wk = w + NR + (ky * g->kw + kx) * ic * NR;
            for (size_t ch = 0; ch < ic; ch++, wk += NR) {
                V x = vld1q_dup_f32(xp + ch);
                s0 = vfmaq_f32(s0, vld1q_f32(wk), x);
                s1 = vfmaq_f32(s1, vld1q_f32(wk + 4), x);
            }
        }
    }
    store_tile(c, nc, s0, s1);
}

static void dconv_run(const et_conv_args *a, size_t t0, size_t t1, void *scratch) {
    const et_conv_geom *g = a->g;
    size_t np = panels(g->oc), pf = panel_floats(gk(g)), lo, hi;
    const float *rows[DC_MAX_KH];
    (void)scratch;
    et_conv_interior_cols(g, &lo, &hi);
    for (size_t t = t0; t < t1; t++) {
        size_t oy = t % g->oh, n = t / g->oh;
        for (size_t ky = 0; ky < g->kh; ky++) {
            size_t py = oy * g->sh + ky * g->dh;
            rows[ky] = py >= g->pad_t && py - g->pad_t < g->ih ? a->x + (n * g->ih + py - g->pad_t) * g->iw * g->ic
                                                                : NULL;
        }
        float *yrow = a->y + t * g->ow * g->oc;
        for (size_t p = 0; p < np; p++) {
            const float *w = (const float *)a->packed + p * pf;
            float *c = yrow + p * NR;
            size_t nc = g->oc - p * NR < NR ? g->oc - p * NR : NR, ox = 0;
            for (; ox < lo; ox++) dconv_pixel(g, rows, ox, w, c + ox * g->oc, nc);
            for (; ox + DC_PX <= hi; ox += DC_PX) dconv_tile(g, rows, ox, w, c + ox * g->oc, nc);
            /* the row's last interior pixels: one tile overlapping the
             * previous one (a pixel's value does not depend on its tile) */
            if (ox < hi && hi - lo >= DC_PX) {
                dconv_tile(g, rows, hi - DC_PX, w, c + (hi - DC_PX) * g->oc, nc);
                ox = hi;
            }
            for (; ox < g->ow; ox++) dconv_pixel(g, rows, ox, w, c + ox * g->oc, nc);
        }
        if (a->act.kind != ET_ACT_NONE) ET_FN(et_f32_act)(g->ow * g->oc, a->act, yrow, yrow);
    }
}

const et_conv_impl ET_FN(et_f32_dconv_impl) = {DCONV_NAME, gemm_pack_bytes, gemm_pack, dconv_scratch, dconv_tasks,
                                               dconv_run};
