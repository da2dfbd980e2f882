/* 3x3 depthwise rows (dilation 1, stride 1 or 2, whole channel vectors)
 * over the columns whose taps are all inside; part of the dwconv template.
 * A channel block's 9 weight vectors stay in registers for the whole row
 * and neighbouring pixels share input loads. Per pixel the order is the
 * general path's (bias, then one FMA per tap, rows then columns), so the
 * results are the same bits. */
#if defined(__GNUC__)
#define DW3_INLINE static inline __attribute__((always_inline))
#else
#define DW3_INLINE static inline
#endif

/* Pixels per tile: accumulators + 9 weights + inputs fit the register file. */
#if defined(ET_X86_AVX512)
#define DW3_PX 8
#else
#define DW3_PX 2
#endif

DW3_INLINE void dw3_tile(const size_t NP, const size_t S, const float *const *xr, size_t ix0, size_t C, size_t c,
                         const V *w, V b, float *yp, et_act act) {
    V acc[DW3_PX];
    for (size_t p = 0; p < NP; p++) acc[p] = b;
    for (size_t r = 0; r < 3; r++) {
        const float *base = xr[r] + ix0 * C + c;
        for (size_t p = 0; p < NP; p++)
            for (size_t kx = 0; kx < 3; kx++) acc[p] = V_FMA(V_LOAD(base + (p * S + kx) * C), w[r * 3 + kx], acc[p]);
    }
    for (size_t p = 0; p < NP; p++) V_STORE(yp + p * C, v_act(acc[p], act));
}

/* One border pixel: the taps in the padding are skipped, the others run in
 * the same order as everywhere else. */
DW3_INLINE void dw3_edge(const size_t S, const float *const *xr, size_t ox, size_t pad_l, size_t iw, size_t C, size_t c,
                         const V *w, V b, float *yp, et_act act) {
    V acc = b;
    size_t p0 = ox * S; /* padded column of tap 0 */
    int v0 = p0 >= pad_l && p0 - pad_l < iw, v1 = p0 + 1 >= pad_l && p0 + 1 - pad_l < iw,
        v2 = p0 + 2 >= pad_l && p0 + 2 - pad_l < iw;
    for (size_t r = 0; r < 3; r++) {
        const float *base = xr[r] + c;
        if (v0) acc = V_FMA(V_LOAD(base + (p0 - pad_l) * C), w[r * 3], acc);
        if (v1) acc = V_FMA(V_LOAD(base + (p0 + 1 - pad_l) * C), w[r * 3 + 1], acc);
        if (v2) acc = V_FMA(V_LOAD(base + (p0 + 2 - pad_l) * C), w[r * 3 + 2], acc);
    }
    V_STORE(yp, v_act(acc, act));
}

/* Every output column of one row whose three input rows are xr; columns
 * [lo, hi) have all taps inside. */
DW3_INLINE void dw3_row(const size_t S, const float *const *xr, size_t lo, size_t hi, size_t ow, size_t pad_l, size_t iw,
                        size_t C, const float *wt, size_t cp, const float *bias, float *yrow, et_act act) {
    for (size_t c = 0; c + VW <= C; c += VW) {
        V w[9];
        for (size_t t = 0; t < 9; t++) w[t] = V_LOAD(wt + t * cp + c);
        V b = V_LOAD(bias + c);
        for (size_t ox = 0; ox < lo; ox++) dw3_edge(S, xr, ox, pad_l, iw, C, c, w, b, yrow + ox * C + c, act);
        for (size_t ox = hi; ox < ow; ox++) dw3_edge(S, xr, ox, pad_l, iw, C, c, w, b, yrow + ox * C + c, act);
        size_t ox = lo;
        for (; ox + DW3_PX <= hi; ox += DW3_PX) dw3_tile(DW3_PX, S, xr, ox * S - pad_l, C, c, w, b, yrow + ox * C + c, act);
#if DW3_PX > 4
        if (ox + 4 <= hi) { dw3_tile(4, S, xr, ox * S - pad_l, C, c, w, b, yrow + ox * C + c, act); ox += 4; }
#endif
#if DW3_PX > 2
        if (ox + 2 <= hi) { dw3_tile(2, S, xr, ox * S - pad_l, C, c, w, b, yrow + ox * C + c, act); ox += 2; }
#endif
        if (ox < hi) dw3_tile(1, S, xr, ox * S - pad_l, C, c, w, b, yrow + ox * C + c, act);
    }
}

static int dw3_applies(const et_conv_geom *g) {
    return g->kh == 3 && g->kw == 3 && g->dh == 1 && g->dw == 1 && (g->sw == 1 || g->sw == 2) && g->oc % VW == 0;
}
