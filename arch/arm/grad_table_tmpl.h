/* The et_grad_kernels table of one NEON ISA: geometry checks and the choice
 * between the depthwise and the per-tap GEMM backward kernels; a template
 * included once per ISA after the other grad templates. Policy only. */
#include "simd.h"
#include "arm.h"
#include "train/grad_ops.h"

/* db += column sums of dy [rows][c]: per block of rows from zero, then added
 * to the total (two-level, fixed by the shape alone). */
static void g_colsum(size_t rows, size_t c, const float *dy, float *db) {
    for (size_t j = 0; j < c; j += 4) {
        const size_t nl = c - j;
        V tot = vdupq_n_f32(0.0f);
        for (size_t r0 = 0; r0 < rows; r0 += 256) {
            V part = vdupq_n_f32(0.0f);
            for (size_t r = r0; r < rows && r < r0 + 256; r++) part = vaddq_f32(part, v_loadn(dy + r * c + j, nl));
            tot = vaddq_f32(tot, part);
        }
        v_storen(db + j, nl, vaddq_f32(v_loadn(db + j, nl), tot));
    }
}

static int g_bad(const et_conv_geom *g) {
    return g->groups == 0 || g->ic % g->groups || g->oc % g->groups || g->ic == 0 || g->oc == 0 || g->sh == 0 ||
           g->sw == 0;
}
static int g_depthwise(const et_conv_geom *g) { return g->groups > 1 && g->groups == g->ic && g->groups == g->oc; }

static void conv_input(const et_conv_geom *g, const float *dy, const float *w, float *dx) {
    if (g_bad(g)) et_f32_conv2d_backward_input__ref(g, dy, w, dx);
    else if (!g_depthwise(g)) gconv_input(g, dy, w, dx);
    else if (g->kh * g->kw <= DW_MAXT) dw_input(g, dy, w, dx);
    else et_f32_conv2d_backward_input__ref(g, dy, w, dx);
}

static int g_weight_ref(const et_conv_geom *g) { return g_bad(g) || (g_depthwise(g) && g->kh * g->kw > DW_MAXT); }

static size_t conv_weight_units(const et_conv_geom *g) {
    if (g_weight_ref(g)) return et_f32_conv2d_backward_weight_units__ref(g);
    return g_depthwise(g) ? dw_weight_units(g) : gconv_weight_units(g);
}

static void conv_weight_part(const et_conv_geom *g, const float *x, const float *dy, float *dw, size_t u0, size_t u1) {
    if (g_weight_ref(g)) et_f32_conv2d_backward_weight_part__ref(g, x, dy, dw, u0, u1);
    else if (g_depthwise(g)) dw_weight_part(g, x, dy, dw, u0, u1);
    else gconv_weight_part(g, x, dy, dw, u0, u1);
}

static void conv_weight(const et_conv_geom *g, const float *x, const float *dy, float *dw, float *db) {
    if (g_weight_ref(g)) {
        et_f32_conv2d_backward_weight__ref(g, x, dy, dw, db);
        return;
    }
    if (db) g_colsum(g->n * g->oh * g->ow, g->oc, dy, db);
    conv_weight_part(g, x, dy, dw, 0, conv_weight_units(g));
}

/* Linear is a 1x1 conv over n x 1 x 1 x in. */
static et_conv_geom lin_geom(size_t n, size_t in, size_t out) {
    et_conv_geom g = {n, 1, 1, in, 1, 1, out, 1, 1, 1, 1, 1, 1, 0, 0, 1};
    return g;
}
static void linear_input(size_t n, size_t in, size_t out, const float *dy, const float *w, float *dx) {
    et_conv_geom g = lin_geom(n, in, out);
    conv_input(&g, dy, w, dx);
}
static void linear_weight(size_t n, size_t in, size_t out, const float *x, const float *dy, float *dw, float *db) {
    et_conv_geom g = lin_geom(n, in, out);
    conv_weight(&g, x, dy, dw, db);
}

/* Every kernel here works in registers and small stack buffers (<= 8 KB). */
static size_t grad_scratch(const et_conv_geom *g) { (void)g; return 0; }

static const et_grad_kernels grad_table = {
    ET_ISA_STR, conv_input, conv_weight, linear_input, linear_weight, grad_scratch,
    bn_frozen_backward, act_backward, act_mask, act_backward_mask, act_forward_mask, conv_weight_units,
    conv_weight_part, bn_sums, bn_out, bn_grad_sums, bn_grad_dx,
};

const et_grad_kernels *ET_FN(et_grad_kernels)(void) { return &grad_table; }
