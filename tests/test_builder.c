/* The graph builder: every op builds and runs through a session exactly as
 * its reference kernel computes it, and every bad call gets an error that
 * names the node. */
#include <stdlib.h>
#include "edgetune.h"
#include "harness.h"
#include "ops/ops.h"

static size_t count(et_shape s) { return s.n * s.h * s.w * s.c; }

/* Prepare b's model for batch n, fill the input from seed, run; returns the
 * session (arena in *arena, model in *mo). */
static et_session *build_run(et_builder *b, size_t n, unsigned seed, void **arena, et_model **mo, float **in) {
    et_session *s = NULL;
    et_config cfg = {n, 0, 0, 1};
    /* wiring is checked bit-exactly against the reference kernels, so run
     * those; SIMD kernels are checked in test_kernels_x86.c */
    et_exec_options opt = {ET_ISA_GENERIC, NULL, 0};
    et_plan p;
    et_tensor ti;
    if (et_builder_finish(b, mo) != ET_OK || et_model_plan_ex(*mo, &cfg, &opt, &p) != ET_OK) return NULL;
    *arena = malloc(p.total);
    if (et_session_prepare_ex(*mo, &cfg, &opt, *arena, p.total, &s, NULL) != ET_OK) return NULL;
    et_session_input(s, 0, &ti);
    t_fill(ti.data, count(ti.shape), seed);
    *in = malloc(count(ti.shape) * sizeof(float));
    memcpy(*in, ti.data, count(ti.shape) * sizeof(float));
    et_session_run(s);
    return s;
}

static void test_conv_wiring(void) {
    /* asymmetric pads, stride 2x1, dilation 2x3, groups 3 */
    et_builder *b;
    CHECK_OK(et_builder_new(6, 11, 13, &b));
    et_conv2d_desc d = {9, 3, 2, 2, 1, 2, 0, 1, 3, 2, 3, 3, et_act_clip(-0.5f, 0.7f)};
    float w[9 * 3 * 2 * 2], bias[9];
    t_fill(w, sizeof w / 4, 3);
    t_fill(bias, 9, 4);
    int y;
    CHECK_OK(et_builder_conv2d(b, "conv", 0, &d, w, bias, &y));
    void *arena = NULL; et_model *m = NULL; float *in = NULL;
    et_session *s = build_run(b, 2, 8, &arena, &m, &in);
    CHECK(s);
    et_tensor to;
    CHECK_OK(et_session_output(s, 0, &to));
    size_t oh = et_window_out(11, 3, 2, 2, 2, 1, 0), ow = et_window_out(13, 2, 1, 3, 0, 3, 0);
    CHECK(to.shape.h == oh && to.shape.w == ow && to.shape.c == 9 && to.shape.n == 2);
    et_conv_geom g = {2, 11, 13, 6, oh, ow, 9, 3, 2, 2, 1, 2, 3, 2, 0, 3};
    float *want = malloc(count(to.shape) * sizeof *want);
    et_f32_conv2d__ref(&g, in, w, bias, d.act, want);
    CHECK(memcmp(want, to.data, count(to.shape) * sizeof *want) == 0);
    free(want); free(in); free(arena); et_model_free(m); et_builder_free(b);
}

static void test_pool_concat_broadcast_wiring(void) {
    et_builder *b;
    CHECK_OK(et_builder_new(5, 7, 8, &b));
    et_pool_desc pd = {3, 3, 2, 2, 1, 0, 1, 1, 1, 0};
    int mp, ap, cat, gap, mul, add, fl, lin, sm, rs, dr;
    CHECK_OK(et_builder_maxpool(b, "mp", 0, &pd, &mp));
    pd.count_include_pad = 1;
    CHECK_OK(et_builder_avgpool(b, "ap", 0, &pd, &ap));
    int ins[3] = {mp, ap, mp};
    CHECK_OK(et_builder_concat(b, "cat", ins, 3, &cat));
    CHECK_OK(et_builder_global_avgpool(b, "gap", cat, &gap));
    CHECK_OK(et_builder_mul(b, "se", cat, gap, &mul));
    CHECK_OK(et_builder_add(b, "res", mul, cat, et_act_relu(), &add));
    CHECK_OK(et_builder_flatten(b, "flat", add, &fl));
    float w[4 * 15 * 4 * 4];
    t_fill(w, 4 * 240, 2);
    CHECK_OK(et_builder_dropout(b, "drop", fl, 0.5f, &dr));
    CHECK_OK(et_builder_linear(b, "fc", dr, 4, w, NULL, et_act_none(), &lin));
    CHECK_OK(et_builder_reshape(b, "rs", lin, 2, 1, 2, &rs));
    CHECK_OK(et_builder_softmax(b, "sm", rs, &sm));
    void *arena = NULL; et_model *m = NULL; float *in = NULL;
    et_session *s = build_run(b, 3, 5, &arena, &m, &in);
    CHECK(s);
    et_tensor to;
    CHECK_OK(et_session_output(s, 0, &to));
    CHECK(to.shape.n == 3 && to.shape.h == 2 && to.shape.w == 1 && to.shape.c == 2);
    /* the same chain through the reference kernels */
    size_t oh = et_window_out(7, 3, 2, 1, 1, 1, 1), ow = et_window_out(8, 3, 2, 1, 0, 1, 1);
    size_t n = 3, rows = n * oh * ow;
    et_pool_geom g = {n, 7, 8, 5, oh, ow, 3, 3, 2, 2, 1, 0, 1, 1, 0};
    float *a = malloc(rows * 5 * 4), *c = malloc(rows * 5 * 4), *cat_y = malloc(rows * 15 * 4);
    float *gp = malloc(n * 15 * 4), *mu = malloc(rows * 15 * 4), *ad = malloc(rows * 15 * 4), *fc = malloc(n * 4 * 4), *want = malloc(n * 4 * 4);
    et_f32_maxpool__ref(&g, in, a);
    g.count_include_pad = 1;
    et_f32_avgpool__ref(&g, in, c);
    const float *xs[3] = {a, c, a};
    size_t cs[3] = {5, 5, 5};
    et_f32_concat__ref(rows, 3, cs, xs, cat_y);
    et_f32_global_avgpool__ref(n, oh * ow, 15, cat_y, gp);
    et_shape s_cat = {n, oh, ow, 15}, s_gp = {n, 1, 1, 15};
    et_f32_binary__ref(ET_BINARY_MUL, s_cat, cat_y, s_gp, gp, s_cat, et_act_none(), mu);
    et_f32_binary__ref(ET_BINARY_ADD, s_cat, mu, s_cat, cat_y, s_cat, et_act_relu(), ad);
    CHECK(oh * ow * 15 == 240);
    et_f32_linear__ref(n, 240, 4, ad, w, NULL, et_act_none(), fc);
    et_f32_softmax__ref(n * 2, 2, fc, want);
    CHECK(t_max_rel_err(to.data, want, n * 4) == 0.0);
    free(a); free(c); free(cat_y); free(gp); free(mu); free(ad); free(fc); free(want);
    free(in); free(arena); et_model_free(m); et_builder_free(b);
}

/* Each bad call fails with its status and a message naming the node. */
static void test_errors_name_the_node(void) {
    et_builder *b;
    CHECK_OK(et_builder_new(4, 8, 8, &b));
    static float w[6 * 11 * 11 * 4]; /* big enough for every conv tried below, including the 11x11 one */
    float g[16] = {1, 1, 1, 1}, z[16] = {0}, negvar[4] = {1, -1, 1, 1};
    et_conv2d_desc d = {6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, et_act_none()};
    int y, c;
    CHECK_ST(et_builder_conv2d(b, "grouped", 0, &d, w, NULL, &y), ET_ERR_INVALID_ARG); /* 6 % 4 */
    CHECK(strstr(et_builder_error(b), "grouped") != NULL);
    d.groups = 3;
    d.out_channels = 6;
    CHECK_ST(et_builder_conv2d(b, "g3", 0, &d, w, NULL, &y), ET_ERR_SHAPE); /* 4 % 3 */
    CHECK(strstr(et_builder_error(b), "'g3'") && strstr(et_builder_error(b), "groups"));
    d.groups = 1;
    d.kh = d.kw = 11;
    d.pad_t = d.pad_l = d.pad_b = d.pad_r = 0;
    CHECK_ST(et_builder_conv2d(b, "big", 0, &d, w, NULL, &y), ET_ERR_SHAPE);
    CHECK(strstr(et_builder_error(b), "'big'") && strstr(et_builder_error(b), "does not fit"));
    d.kh = d.kw = 3;
    d.sh = 300;
    CHECK_ST(et_builder_conv2d(b, "stride", 0, &d, w, NULL, &y), ET_ERR_INVALID_ARG);
    CHECK(strstr(et_builder_error(b), "'stride'"));
    d.sh = 1;
    CHECK_ST(et_builder_conv2d(b, "fwd", 5, &d, w, NULL, &y), ET_ERR_INVALID_ARG);
    CHECK(strstr(et_builder_error(b), "does not exist"));
    CHECK_OK(et_builder_conv2d(b, "ok", 0, &d, w, NULL, &c));
    CHECK(c == 1);
    CHECK_ST(et_builder_batchnorm(b, "bn", 0, 1e-5f, g, z, z, negvar, &y), ET_ERR_INVALID_ARG);
    CHECK(strstr(et_builder_error(b), "var[1]"));
    CHECK_ST(et_builder_batchnorm(b, "bn", 0, 0.0f, g, z, z, g, &y), ET_ERR_INVALID_ARG);
    CHECK(strstr(et_builder_error(b), "eps"));
    CHECK_ST(et_builder_add(b, "res", 0, c, et_act_none(), &y), ET_ERR_SHAPE); /* 4 vs 6 channels */
    CHECK(strstr(et_builder_error(b), "'res'") && strstr(et_builder_error(b), "broadcast"));
    CHECK_ST(et_builder_linear(b, "fc", c, 3, w, NULL, et_act_none(), &y), ET_ERR_SHAPE);
    CHECK(strstr(et_builder_error(b), "'fc'") && strstr(et_builder_error(b), "flatten"));
    CHECK_ST(et_builder_reshape(b, "rs", c, 5, 5, 5, &y), ET_ERR_SHAPE);
    CHECK(strstr(et_builder_error(b), "'rs'"));
    et_pool_desc pd = {2, 2, 2, 2, 2, 0, 0, 0, 0, 0};
    CHECK_ST(et_builder_maxpool(b, "mp", c, &pd, &y), ET_ERR_INVALID_ARG);
    CHECK(strstr(et_builder_error(b), "'mp'") && strstr(et_builder_error(b), "half"));
    int ins[2] = {0, c};
    et_pool_desc p2 = {2, 2, 2, 2, 0, 0, 0, 0, 0, 0};
    int pooled;
    CHECK_OK(et_builder_maxpool(b, "p2", c, &p2, &pooled));
    ins[1] = pooled;
    CHECK_ST(et_builder_concat(b, "cat", ins, 2, &y), ET_ERR_SHAPE);
    CHECK(strstr(et_builder_error(b), "'cat'"));
    CHECK_ST(et_builder_act(b, "clip", c, et_act_clip(2.0f, 1.0f), &y), ET_ERR_INVALID_ARG);
    CHECK_ST(et_builder_act(b, "none", c, et_act_none(), &y), ET_ERR_INVALID_ARG);
    CHECK_ST(et_builder_dropout(b, "drop", c, 1.0f, &y), ET_ERR_INVALID_ARG);
    char longname[200];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK_ST(et_builder_softmax(b, longname, c, &y), ET_ERR_INVALID_ARG);
    CHECK_ST(et_builder_output(b, 99), ET_ERR_INVALID_ARG);
    CHECK_ST(et_builder_conv2d(NULL, "x", 0, &d, w, NULL, &y), ET_ERR_INVALID_ARG);
    et_builder *b2 = (et_builder *)1;
    CHECK_ST(et_builder_new(0, 8, 8, &b2), ET_ERR_INVALID_ARG);
    CHECK(b2 == NULL);
    /* failed calls left nothing behind: two good nodes only */
    et_model *m;
    et_status st = et_builder_finish(b, &m);
    CHECKF(st == ET_OK, "%s", et_builder_error(b));
    CHECK(et_model_node_count(m) == 2);
    et_model_free(m);
    et_builder_free(b);
}

static void test_odd_shapes(void) {
    /* 1x1 image, C=1, stride > kernel, padding larger than the kernel */
    et_builder *b;
    CHECK_OK(et_builder_new(1, 1, 1, &b));
    float w[67 * 2 * 2];
    t_fill(w, 67 * 4, 6);
    et_conv2d_desc d = {67, 2, 2, 3, 3, 3, 3, 3, 3, 1, 1, 1, et_act_of(ET_ACT_HARDSWISH)};
    int y;
    CHECK_OK(et_builder_conv2d(b, "pad_gt_k", 0, &d, w, NULL, &y));
    void *arena = NULL; et_model *m = NULL; float *in = NULL;
    et_session *s = build_run(b, 1, 3, &arena, &m, &in);
    CHECK(s);
    et_tensor to;
    CHECK_OK(et_session_output(s, 0, &to));
    CHECK(to.shape.h == 2 && to.shape.w == 2 && to.shape.c == 67);
    et_conv_geom g = {1, 1, 1, 1, 2, 2, 67, 2, 2, 3, 3, 1, 1, 3, 3, 1};
    float want[2 * 2 * 67];
    et_f32_conv2d__ref(&g, in, w, NULL, d.act, want);
    CHECK(memcmp(want, to.data, sizeof want) == 0);
    free(in); free(arena); et_model_free(m); et_builder_free(b);
}

int main(void) {
    RUN(test_conv_wiring);
    RUN(test_pool_concat_broadcast_wiring);
    RUN(test_errors_name_the_node);
    RUN(test_odd_shapes);
    return t_summary(__FILE__);
}
