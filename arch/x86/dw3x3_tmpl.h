/* 3x3 depthwise bands of rows (dilation 1, stride 1 or 2, whole channel
 * vectors); part of the dwconv template. A channel block's 9 weight vectors
 * stay in registers for the whole band, neighbouring pixels share input
 * loads, the border pixels skip their padding taps by compile-time tap
 * ranges, and the common activations are chosen once per band, not per store. Per pixel the
 * order is the general path's (bias, then one FMA per tap inside the image,
 * rows then columns), so the results are the same bits. */
#if defined(__GNUC__)
#define DW3_INLINE static inline __attribute__((always_inline))
/* pins a loaded vector in a register: without it gcc folds each reuse back
 * into a memory operand and the shared loads are repeated */
#define DW3_KEEP(v) __asm__("" : "+v"(v))
#else
#define DW3_INLINE static inline
#define DW3_KEEP(v) (void)(v)
#endif

/* Pixels per tile: accumulators + 9 weights + inputs fit the register file. */
#if defined(ET_X86_AVX512)
#define DW3_PX 8
#else
#define DW3_PX 2
#endif

/* v_act with the kind known at compile time for the usual three (the same
 * expressions as v_act); any other kind goes through v_act. */
DW3_INLINE V dw3_act(V x, const int kind, et_act act) {
    if (kind == ET_ACT_NONE) return x;
    if (kind == ET_ACT_RELU) return V_MAX(V_ZERO(), x);
    if (kind == ET_ACT_CLIP) return V_MIN(V_SET1(act.b), V_MAX(V_SET1(act.a), x));
    return v_act(x, act);
}

/* NP pixels whose taps in rows [R0, R1) and columns [K0, K1) are inside;
 * x[r] is tap row r's input row (only those rows are read); col0 is the
 * input column of tap 0 of the first pixel (-1 for a left border pixel). */
DW3_INLINE void dw3_tile(const size_t NP, const size_t S, const size_t R0, const size_t R1, const size_t K0,
                         const size_t K1, const float *const *x, ptrdiff_t col0, size_t C, const V *w, V b, float *yp,
                         const int kind, et_act act) {
    V acc[DW3_PX];
    for (size_t p = 0; p < NP; p++) acc[p] = b;
    for (size_t r = R0; r < R1; r++) {
        if (S == 1 && K0 == 0 && K1 == 3) {
            /* each input column once: NP + 2 loads for 3 * NP FMAs */
            const float *base = x[r] + (size_t)col0 * C;
            V in[DW3_PX + 2];
            for (size_t i = 0; i < NP + 2; i++) {
                in[i] = V_LOAD(base + i * C);
                DW3_KEEP(in[i]);
            }
            for (size_t p = 0; p < NP; p++)
                for (size_t kx = 0; kx < 3; kx++) acc[p] = V_FMA(in[p + kx], w[r * 3 + kx], acc[p]);
        } else if (S == 2 && K0 == 0 && K1 == 3) {
            /* a pixel's last column is the next pixel's first: 2 * NP + 1 loads */
            const float *base = x[r] + (size_t)col0 * C;
            V first = V_LOAD(base);
            DW3_KEEP(first);
            for (size_t p = 0; p < NP; p++) {
                V mid = V_LOAD(base + (2 * p + 1) * C), last = V_LOAD(base + (2 * p + 2) * C);
                DW3_KEEP(mid);
                DW3_KEEP(last);
                acc[p] = V_FMA(first, w[r * 3], acc[p]);
                acc[p] = V_FMA(mid, w[r * 3 + 1], acc[p]);
                acc[p] = V_FMA(last, w[r * 3 + 2], acc[p]);
                first = last;
            }
        } else {
            for (size_t p = 0; p < NP; p++)
                for (size_t kx = K0; kx < K1; kx++)
                    acc[p] = V_FMA(V_LOAD(x[r] + (size_t)(col0 + (ptrdiff_t)(p * S + kx)) * C), w[r * 3 + kx], acc[p]);
        }
    }
    for (size_t p = 0; p < NP; p++) V_STORE(yp + p * C, dw3_act(acc[p], kind, act));
}

/* One border pixel with its own column tap validity (any padding). */
DW3_INLINE void dw3_edge(const size_t S, const size_t R0, const size_t R1, const float *const *x, size_t ox, size_t pad_l,
                         size_t iw, size_t C, const V *w, V b, float *yp, const int kind, et_act act) {
    V acc = b;
    size_t p0 = ox * S; /* padded column of tap 0 */
    for (size_t r = R0; r < R1; r++)
        for (size_t kx = 0; kx < 3; kx++)
            if (p0 + kx >= pad_l && p0 + kx - pad_l < iw) acc = V_FMA(V_LOAD(x[r] + (p0 + kx - pad_l) * C), w[r * 3 + kx], acc);
    V_STORE(yp, dw3_act(acc, kind, act));
}

/* Output rows [0, rows) of a band whose tap rows [R0, R1) are inside (all
 * three, or two for the top / bottom row next to one row of padding). x0
 * is output row 0's input row for tap row R0; xs steps between input rows,
 * xj between two output rows' first input rows, ys between output rows;
 * columns [lo, hi) have all taps inside. Channel vectors are outermost: one
 * vector's three input rows stay in L1 from row to row, so each input line
 * comes from L2 once instead of three times (1.1-1.35x on MobileNetV2's
 * stride-1 layers). */
DW3_INLINE void dw3_band_act(const size_t S, const size_t R0, const size_t R1, const float *x0, size_t xs, size_t xj,
                             float *y0, size_t ys, size_t rows, size_t lo, size_t hi, size_t ow, size_t pad_l,
                             size_t iw, size_t C, const float *wt, size_t cp, const float *bias, const int kind,
                             et_act act) {
    /* the usual border: one pixel each side whose first / last tap is padding */
    const int left1 = lo == 1 && pad_l == 1 && iw >= 2;
    const int right1 = hi + 1 == ow && (ow - 1) * S + 2 == pad_l + iw && (ow - 1) * S >= pad_l;
    for (size_t c = 0; c + VW <= C; c += VW) {
        V w[9];
        for (size_t t = R0 * 3; t < R1 * 3; t++) w[t] = V_LOAD(wt + t * cp + c);
        V b = V_LOAD(bias + c);
        for (size_t j = 0; j < rows; j++) {
            const float *xr = x0 + j * xj + c;
            const float *x[3] = {NULL, NULL, NULL};
            for (size_t r = R0; r < R1; r++) x[r] = xr + (r - R0) * xs;
            float *y = y0 + j * ys + c;
            if (left1) dw3_tile(1, S, R0, R1, 1, 3, x, -1, C, w, b, y, kind, act);
            else
                for (size_t ox = 0; ox < lo; ox++) dw3_edge(S, R0, R1, x, ox, pad_l, iw, C, w, b, y + ox * C, kind, act);
            size_t ox = lo;
#define DW3_TILE(np) dw3_tile(np, S, R0, R1, 0, 3, x, (ptrdiff_t)(ox * S - pad_l), C, w, b, y + ox * C, kind, act)
            for (; ox + DW3_PX <= hi; ox += DW3_PX) DW3_TILE(DW3_PX);
#if DW3_PX > 4
            if (ox + 4 <= hi) { DW3_TILE(4); ox += 4; }
#endif
#if DW3_PX > 2
            if (ox + 2 <= hi) { DW3_TILE(2); ox += 2; }
#endif
            if (ox < hi) DW3_TILE(1);
#undef DW3_TILE
            if (right1) dw3_tile(1, S, R0, R1, 0, 2, x, (ptrdiff_t)(hi * S - pad_l), C, w, b, y + hi * C, kind, act);
            else
                for (ox = hi; ox < ow; ox++) dw3_edge(S, R0, R1, x, ox, pad_l, iw, C, w, b, y + ox * C, kind, act);
        }
    }
}

DW3_INLINE void dw3_band_s(const size_t S, size_t r0, size_t r1, const float *x0, size_t xs, size_t xj, float *y0,
                           size_t ys, size_t rows, size_t lo, size_t hi, size_t ow, size_t pad_l, size_t iw, size_t C,
                           const float *wt, size_t cp, const float *bias, et_act act) {
#define DW3_BAND(R0, R1, kind) \
    dw3_band_act(S, R0, R1, x0, xs, xj, y0, ys, rows, lo, hi, ow, pad_l, iw, C, wt, cp, bias, kind, act)
    /* border rows are few: only their row range is compiled in, not the activation */
    if (r0 == 1) DW3_BAND(1, 3, ET_ACT_COUNT);
    else if (r1 == 2) DW3_BAND(0, 2, ET_ACT_COUNT);
    else switch (act.kind) {
        case ET_ACT_NONE: DW3_BAND(0, 3, ET_ACT_NONE); break;
        case ET_ACT_RELU: DW3_BAND(0, 3, ET_ACT_RELU); break;
        case ET_ACT_CLIP: DW3_BAND(0, 3, ET_ACT_CLIP); break;
        default: DW3_BAND(0, 3, ET_ACT_COUNT); break;
        }
#undef DW3_BAND
}

/* Tap rows [r0, r1): (0, 3), or (1, 3) / (0, 2) next to one row of padding. */
static void dw3_band(size_t S, size_t r0, size_t r1, const float *x0, size_t xs, size_t xj, float *y0, size_t ys,
                     size_t rows, size_t lo, size_t hi, size_t ow, size_t pad_l, size_t iw, size_t C, const float *wt,
                     size_t cp, const float *bias, et_act act) {
    if (S == 1) dw3_band_s(1, r0, r1, x0, xs, xj, y0, ys, rows, lo, hi, ow, pad_l, iw, C, wt, cp, bias, act);
    else dw3_band_s(2, r0, r1, x0, xs, xj, y0, ys, rows, lo, hi, ow, pad_l, iw, C, wt, cp, bias, act);
}

/* Output rows per band: its input rows stay within about a third of L2. */
static size_t dw3_band_rows(const et_conv_geom *g) {
    size_t row = g->iw * g->ic * sizeof(float), in_rows = row ? (384u << 10) / row : 0;
    return in_rows > 3 ? (in_rows - 3) / g->sh + 1 : 1;
}

/* The tap rows [r0, r1) of output row oy that are inside the image, when
 * the band code has them: all three, or two beside one row of padding. */
static int dw3_tap_rows(const et_conv_geom *g, size_t oy, size_t *r0, size_t *r1) {
    size_t top = oy * g->sh; /* padded row of tap row 0 */
    *r0 = top >= g->pad_t ? 0 : top + 1 == g->pad_t ? 1 : 3;
    *r1 = top + 3 <= g->pad_t + g->ih ? 3 : top + 2 == g->pad_t + g->ih ? 2 : 0;
    return *r0 < *r1 && *r1 - *r0 >= 2;
}

static int dw3_applies(const et_conv_geom *g) {
    return g->kh == 3 && g->kw == 3 && g->dh == 1 && g->dw == 1 && (g->sw == 1 || g->sw == 2) && g->oc % VW == 0;
}
