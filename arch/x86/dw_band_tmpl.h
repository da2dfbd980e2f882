/* 3x3 and 5x5 depthwise bands of rows (dilation 1, stride 1 or 2, whole
 * channel vectors); part of the dwconv template. Neighbouring pixels share
 * input loads, a 3x3 channel block's 9 weight vectors stay in registers for
 * the whole band (a 5x5's 25 do not fit: 5 per tap row), border pixels and
 * rows skip their padding taps by tap ranges, and the common activations
 * are chosen once per band, not per store. Per pixel the order is the
 * general path's (bias, then one FMA per tap inside the image, rows then
 * columns), so the results are the same bits. */
#if defined(__GNUC__)
#define DWB_INLINE static inline __attribute__((always_inline))
/* pins a loaded vector in a register: without it gcc folds each reuse back
 * into a memory operand and the shared loads are repeated */
#define DWB_KEEP(v) __asm__("" : "+v"(v))
#else
#define DWB_INLINE static inline
#define DWB_KEEP(v) (void)(v)
#endif

/* Pixels per tile: accumulators + weights + inputs fit the register file. */
#if defined(ET_X86_AVX512)
#define DWB_PX 8
#else
#define DWB_PX 2
#endif

#if defined(__GNUC__)
#define DWB_NOINLINE __attribute__((noinline))
#else
#define DWB_NOINLINE
#endif

/* The usual three activations are applied as the tiles store; the others
 * (dwb_rare) in a pass over each finished row. Inlined at every store of
 * every tile variant they doubled the library's size, and a call there
 * made the tiles spill (all vector registers are caller-saved). */
static int dwb_rare(et_act act) { return act.kind != ET_ACT_NONE && act.kind != ET_ACT_RELU && act.kind != ET_ACT_CLIP; }

static DWB_NOINLINE void dwb_act_row(float *y, size_t n, size_t C, et_act act) {
    for (size_t i = 0; i < n; i++) V_STORE(y + i * C, v_act(V_LOAD(y + i * C), act));
}

/* v_act with the kind known at compile time (the same expressions as
 * v_act), or at run time (ET_ACT_COUNT), where a rare kind stores x as is
 * for dwb_act_row. */
DWB_INLINE V dwb_act(V x, const int kind, et_act act) {
    const int k = kind == ET_ACT_COUNT ? (int)act.kind : kind;
    if (k == ET_ACT_RELU) return V_MAX(V_ZERO(), x);
    if (k == ET_ACT_CLIP) return V_MIN(V_SET1(act.b), V_MAX(V_SET1(act.a), x));
    return x;
}

/* Weight of tap (r, kx): from registers (3x3) or from the packed weights. */
DWB_INLINE V dwb_w(const size_t K, const V *w, const float *wp, size_t cp, size_t r, size_t kx) {
    return K == 3 ? w[r * 3 + kx] : V_LOAD(wp + (r * K + kx) * cp);
}

/* NP pixels of a KxK kernel whose taps in rows [R0, R1) and columns
 * [K0, K1) are inside; x[r] is tap row r's input row (only those rows are
 * read); col0 is the input column of tap 0 of the first pixel (-1 for a 3x3
 * left border pixel). */
DWB_INLINE void dwb_tile(const size_t NP, const size_t K, const size_t S, const size_t R0, const size_t R1,
                         const size_t K0, const size_t K1, const float *const *x, ptrdiff_t col0, size_t C, const V *w,
                         const float *wp, size_t cp, V b, float *yp, const int kind, et_act act) {
    V acc[DWB_PX];
    for (size_t p = 0; p < NP; p++) acc[p] = b;
    for (size_t r = R0; r < R1; r++) {
        V wr[5]; /* 5x5: this tap row's weights (3x3 reads w directly) */
        for (size_t kx = K0; K == 5 && kx < K1; kx++) wr[kx] = dwb_w(K, w, wp, cp, r, kx);
#define DWB_WR(kx) (K == 3 ? w[r * 3 + (kx)] : wr[kx])
        if (S == 1 && K0 == 0 && K1 == K) {
            /* each input column once: NP + K - 1 loads for K * NP FMAs */
            const float *base = x[r] + (size_t)col0 * C;
            V in[DWB_PX + 4];
            for (size_t i = 0; i < NP + K - 1; i++) {
                in[i] = V_LOAD(base + i * C);
                DWB_KEEP(in[i]);
            }
            for (size_t p = 0; p < NP; p++)
                for (size_t kx = 0; kx < K; kx++) acc[p] = V_FMA(in[p + kx], DWB_WR(kx), acc[p]);
        } else if (S == 2 && K == 3 && K0 == 0 && K1 == 3) {
            /* a pixel's last column is the next pixel's first: 2 * NP + 1 loads */
            const float *base = x[r] + (size_t)col0 * C;
            V first = V_LOAD(base);
            DWB_KEEP(first);
            for (size_t p = 0; p < NP; p++) {
                V mid = V_LOAD(base + (2 * p + 1) * C), last = V_LOAD(base + (2 * p + 2) * C);
                DWB_KEEP(mid);
                DWB_KEEP(last);
                acc[p] = V_FMA(first, DWB_WR(0), acc[p]);
                acc[p] = V_FMA(mid, DWB_WR(1), acc[p]);
                acc[p] = V_FMA(last, DWB_WR(2), acc[p]);
                first = last;
            }
        } else {
            for (size_t p = 0; p < NP; p++)
                for (size_t kx = K0; kx < K1; kx++)
                    acc[p] = V_FMA(V_LOAD(x[r] + (size_t)(col0 + (ptrdiff_t)(p * S + kx)) * C), DWB_WR(kx), acc[p]);
        }
    }
#undef DWB_WR
    for (size_t p = 0; p < NP; p++) V_STORE(yp + p * C, dwb_act(acc[p], kind, act));
}

/* One border pixel with its own column tap validity (any padding). */
DWB_INLINE void dwb_edge(const size_t K, const size_t S, const size_t R0, const size_t R1, const float *const *x,
                         size_t ox, size_t pad_l, size_t iw, size_t C, const V *w, const float *wp, size_t cp, V b,
                         float *yp, const int kind, et_act act) {
    V acc = b;
    size_t p0 = ox * S; /* padded column of tap 0 */
    for (size_t r = R0; r < R1; r++)
        for (size_t kx = 0; kx < K; kx++)
            if (p0 + kx >= pad_l && p0 + kx - pad_l < iw)
                acc = V_FMA(V_LOAD(x[r] + (p0 + kx - pad_l) * C), dwb_w(K, w, wp, cp, r, kx), acc);
    V_STORE(yp, dwb_act(acc, kind, act));
}

/* Output rows [0, rows) of a band whose tap rows [R0, R1) are inside. x0 is
 * output row 0's input row for tap row R0; xs steps between input rows, xj
 * between two output rows' first input rows, ys between output rows;
 * columns [lo, hi) have all taps inside. Channel vectors are outermost: one
 * vector's input rows stay in L1 from row to row, so each input line comes
 * from L2 once instead of K times (1.1-1.35x on MobileNetV2's stride-1
 * layers). */
DWB_INLINE void dwb_band_act(const size_t K, const size_t S, const size_t R0, const size_t R1, const float *x0,
                             size_t xs, size_t xj, float *y0, size_t ys, size_t rows, size_t lo, size_t hi, size_t ow,
                             size_t pad_l, size_t iw, size_t C, const float *wt, size_t cp, const float *bias,
                             const int kind, et_act act) {
    /* 3x3's usual border: one pixel each side whose first / last tap is padding */
    const int left1 = K == 3 && lo == 1 && pad_l == 1 && iw >= 2;
    const int right1 = K == 3 && hi + 1 == ow && (ow - 1) * S + 2 == pad_l + iw && (ow - 1) * S >= pad_l;
    const int rare = dwb_rare(act);
    for (size_t c = 0; c + VW <= C; c += VW) {
        V w[9];
        for (size_t t = R0 * 3; K == 3 && t < R1 * 3; t++) w[t] = V_LOAD(wt + t * cp + c);
        const float *wp = wt + c;
        V b = V_LOAD(bias + c);
        for (size_t j = 0; j < rows; j++) {
            const float *xr = x0 + j * xj + c;
            const float *x[5] = {NULL, NULL, NULL, NULL, NULL};
            for (size_t r = R0; r < R1; r++) x[r] = xr + (r - R0) * xs;
            float *y = y0 + j * ys + c;
            if (left1) dwb_tile(1, K, S, R0, R1, 1, 3, x, -1, C, w, wp, cp, b, y, kind, act);
            else
                for (size_t ox = 0; ox < lo; ox++)
                    dwb_edge(K, S, R0, R1, x, ox, pad_l, iw, C, w, wp, cp, b, y + ox * C, kind, act);
            size_t ox = lo;
#define DWB_TILE(np) \
    dwb_tile(np, K, S, R0, R1, 0, K, x, (ptrdiff_t)(ox * S - pad_l), C, w, wp, cp, b, y + ox * C, kind, act)
            for (; ox + DWB_PX <= hi; ox += DWB_PX) DWB_TILE(DWB_PX);
#if DWB_PX > 4
            if (ox + 4 <= hi) { DWB_TILE(4); ox += 4; }
#endif
#if DWB_PX > 2
            if (ox + 2 <= hi) { DWB_TILE(2); ox += 2; }
#endif
            if (ox < hi) DWB_TILE(1);
#undef DWB_TILE
            if (right1) dwb_tile(1, K, S, R0, R1, 0, 2, x, (ptrdiff_t)(hi * S - pad_l), C, w, wp, cp, b, y + hi * C, kind, act);
            else
                for (ox = hi; ox < ow; ox++) dwb_edge(K, S, R0, R1, x, ox, pad_l, iw, C, w, wp, cp, b, y + ox * C, kind, act);
            if (kind == ET_ACT_COUNT && rare) dwb_act_row(y, ow, C, act);
        }
    }
}

#define DWB_BAND(K, R0, R1, kind) \
    dwb_band_act(K, S, R0, R1, x0, xs, xj, y0, ys, rows, lo, hi, ow, pad_l, iw, C, wt, cp, bias, kind, act)
#define DWB_BAND_ACTS(K)                                          \
    switch (act.kind) {                                           \
    case ET_ACT_NONE: DWB_BAND(K, 0, K, ET_ACT_NONE); break;      \
    case ET_ACT_RELU: DWB_BAND(K, 0, K, ET_ACT_RELU); break;      \
    case ET_ACT_CLIP: DWB_BAND(K, 0, K, ET_ACT_CLIP); break;      \
    default: DWB_BAND(K, 0, K, ET_ACT_COUNT); break;              \
    }

/* Border rows are few: only their tap-row range is compiled in (3x3) or
 * taken at run time (5x5), not the activation. Only 3x3 stride 1 compiles
 * the activation into its interior bands: elsewhere a per-store test costs
 * little against 25 FMAs (5x5) or memory-bound stride-2 rows, and each
 * compiled-in activation adds a whole band's code. */
DWB_INLINE void dw3_band_s(const size_t S, size_t r0, size_t r1, const float *x0, size_t xs, size_t xj, float *y0,
                           size_t ys, size_t rows, size_t lo, size_t hi, size_t ow, size_t pad_l, size_t iw, size_t C,
                           const float *wt, size_t cp, const float *bias, et_act act) {
    if (r0 == 1) DWB_BAND(3, 1, 3, ET_ACT_COUNT);
    else if (r1 == 2) DWB_BAND(3, 0, 2, ET_ACT_COUNT);
    else if (S == 2) DWB_BAND(3, 0, 3, ET_ACT_COUNT);
    else DWB_BAND_ACTS(3)
}

DWB_INLINE void dw5_band_s(const size_t S, size_t r0, size_t r1, const float *x0, size_t xs, size_t xj, float *y0,
                           size_t ys, size_t rows, size_t lo, size_t hi, size_t ow, size_t pad_l, size_t iw, size_t C,
                           const float *wt, size_t cp, const float *bias, et_act act) {
    if (r0 != 0 || r1 != 5) DWB_BAND(5, r0, r1, ET_ACT_COUNT);
    else DWB_BAND(5, 0, 5, ET_ACT_COUNT);
}
#undef DWB_BAND_ACTS
#undef DWB_BAND

/* One function per kernel size and stride: kept apart, each is compiled as
 * well as the 3x3 one alone was (one function of all four was 1.3x slower
 * on 7x7x960). */
#define DWB_ENTRY(name, fn, S)                                                                                        \
    static DWB_NOINLINE void name(size_t r0, size_t r1, const float *x0, size_t xs, size_t xj, float *y0, size_t ys, \
                                  size_t rows, size_t lo, size_t hi, size_t ow, size_t pad_l, size_t iw, size_t C,    \
                                  const float *wt, size_t cp, const float *bias, et_act act) {                        \
        fn(S, r0, r1, x0, xs, xj, y0, ys, rows, lo, hi, ow, pad_l, iw, C, wt, cp, bias, act);                        \
    }
DWB_ENTRY(dw3_band_s1, dw3_band_s, 1)
DWB_ENTRY(dw3_band_s2, dw3_band_s, 2)
DWB_ENTRY(dw5_band_s1, dw5_band_s, 1)
DWB_ENTRY(dw5_band_s2, dw5_band_s, 2)
#undef DWB_ENTRY

/* A band of a KxK kernel with tap rows [r0, r1) inside (dwb_tap_rows). */
static void dwb_band(size_t K, size_t S, size_t r0, size_t r1, const float *x0, size_t xs, size_t xj, float *y0,
                     size_t ys, size_t rows, size_t lo, size_t hi, size_t ow, size_t pad_l, size_t iw, size_t C,
                     const float *wt, size_t cp, const float *bias, et_act act) {
    if (K == 3 && S == 1) dw3_band_s1(r0, r1, x0, xs, xj, y0, ys, rows, lo, hi, ow, pad_l, iw, C, wt, cp, bias, act);
    else if (K == 3) dw3_band_s2(r0, r1, x0, xs, xj, y0, ys, rows, lo, hi, ow, pad_l, iw, C, wt, cp, bias, act);
    else if (S == 1) dw5_band_s1(r0, r1, x0, xs, xj, y0, ys, rows, lo, hi, ow, pad_l, iw, C, wt, cp, bias, act);
    else dw5_band_s2(r0, r1, x0, xs, xj, y0, ys, rows, lo, hi, ow, pad_l, iw, C, wt, cp, bias, act);
}

/* Output rows per band: its input rows stay within about a third of L2. */
static size_t dwb_band_rows(const et_conv_geom *g) {
    size_t row = g->iw * g->ic * sizeof(float), in_rows = row ? (384u << 10) / row : 0;
    return in_rows > g->kh ? (in_rows - g->kh) / g->sh + 1 : 1;
}

/* The tap rows [r0, r1) of output row oy that are inside the image, when
 * the band code has them: for 3x3 all three, or two beside one row of
 * padding; for 5x5 any. */
static int dwb_tap_rows(const et_conv_geom *g, size_t oy, size_t *r0, size_t *r1) {
    size_t top = oy * g->sh, K = g->kh; /* top: padded row of tap row 0 */
    *r0 = top >= g->pad_t ? 0 : g->pad_t - top;
    *r1 = top + K <= g->pad_t + g->ih ? K : g->pad_t + g->ih > top ? g->pad_t + g->ih - top : 0;
    if (*r0 >= *r1) return 0;
    return K == 5 || *r1 - *r0 >= 2;
}

static int dwb_applies(const et_conv_geom *g) {
    return (g->kh == 3 || g->kh == 5) && g->kw == g->kh && g->dh == 1 && g->dw == 1 && (g->sw == 1 || g->sw == 2) &&
           g->oc % VW == 0;
}
