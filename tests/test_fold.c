/* BN folding and activation fusion: the folded graph computes what the
 * unfolded one does (1e-5 relative) and has fewer nodes. */
#include <stdlib.h>
#include "edgetune.h"
#include "harness.h"
#include "zoo/zoo.h"

static size_t shape_n(et_shape s) { return s.n * s.h * s.w * s.c; }

/* Run m on `in` (batch 2, model's default size) and return a malloc'd copy of output 0. */
static float *run(const et_model *m, const float *in, size_t n_in, size_t *n_out) {
    et_config cfg = {2, 0, 0, 1};
    et_plan p;
    if (et_model_plan(m, &cfg, &p) != ET_OK) return NULL;
    void *arena = malloc(p.total);
    et_session *s;
    et_tensor ti, to;
    float *res = NULL;
    if (et_session_prepare(m, &cfg, arena, p.total, &s, NULL) == ET_OK && et_session_input(s, 0, &ti) == ET_OK &&
        shape_n(ti.shape) == n_in && et_session_output(s, 0, &to) == ET_OK) {
        memcpy(ti.data, in, n_in * sizeof *in);
        et_session_run(s);
        *n_out = shape_n(to.shape);
        res = malloc(*n_out * sizeof *res);
        memcpy(res, to.data, *n_out * sizeof *res);
    }
    free(arena);
    return res;
}

static void check_same(const et_model *a, const et_model *b, size_t n_in) {
    float *in = malloc(n_in * sizeof *in);
    t_fill(in, n_in, 21);
    size_t na = 0, nb = 0;
    float *ya = run(a, in, n_in, &na), *yb = run(b, in, n_in, &nb);
    CHECK(ya && yb && na == nb);
    double err = t_max_rel_err(yb, ya, na);
    printf("    folded vs unfolded: max rel err %.3g over %zu outputs\n", err, na);
    CHECK(err <= 1e-5);
    free(in); free(ya); free(yb);
}

static void test_mobilenet_v2_fold(void) {
    et_model *raw = NULL, *folded = NULL;
    CHECK_OK(et_zoo_mobilenet_v2(16, 64, 64, 1.0f, 5, 1, &raw));
    CHECK_OK(et_model_fold(raw, &folded));
    size_t bn = 0;
    for (size_t i = 0; i < et_model_node_count(folded); i++) {
        et_node_info ni;
        CHECK_OK(et_model_node_info(folded, i, &ni));
        if (ni.op == ET_OP_BATCHNORM || ni.op == ET_OP_ACT) bn++;
    }
    CHECK(bn == 0);
    CHECK(et_model_node_count(folded) < et_model_node_count(raw));
    check_same(raw, folded, 2 * 64 * 64 * 3);
    et_model_free(raw);
    et_model_free(folded);
}

static void fill_bn(float *g, float *b, float *mu, float *var, size_t c, unsigned seed) {
    t_fill(g, c, seed); t_fill(b, c, seed + 1); t_fill(mu, c, seed + 2); t_fill(var, c, seed + 3);
    for (size_t i = 0; i < c; i++) { g[i] += 1.5f; var[i] = var[i] * var[i] + 0.5f; }
}

/* conv(no bias)->bn->relu, a conv whose output is also a graph output (must
 * stay unfolded), linear->bn->sigmoid, add->relu6, leaky relu after act. */
static void test_small_graph_rules(void) {
    et_builder *b;
    CHECK_OK(et_builder_new(3, 9, 7, &b));
    float w[8 * 3 * 3 * 3], g[8], be[8], mu[8], var[8], lw[8 * 8], lb[8];
    t_fill(w, sizeof w / 4, 1);
    fill_bn(g, be, mu, var, 8, 3);
    t_fill(lw, 64, 4); t_fill(lb, 8, 5);
    et_conv2d_desc d = {8, 3, 3, 2, 1, 1, 0, 0, 1, 0, 0, 1, {ET_ACT_NONE, 0, 0}};
    int c1, bn1, r1, c2, bn2, add, r6, gap, lin, bn3, sg, lk;
    CHECK_OK(et_builder_conv2d(b, "c1", 0, &d, w, NULL, &c1));
    CHECK_OK(et_builder_batchnorm(b, "bn1", c1, 1e-3f, g, be, mu, var, &bn1));
    CHECK_OK(et_builder_act(b, "r1", bn1, et_act_relu(), &r1));
    CHECK_OK(et_builder_conv2d(b, "c2", 0, &d, w, lb, &c2));
    CHECK_OK(et_builder_batchnorm(b, "bn2", c2, 1e-5f, g, be, mu, var, &bn2));
    CHECK_OK(et_builder_add(b, "add", r1, bn2, et_act_none(), &add));
    CHECK_OK(et_builder_act(b, "r6", add, et_act_relu6(), &r6));
    CHECK_OK(et_builder_global_avgpool(b, "gap", r6, &gap));
    CHECK_OK(et_builder_linear(b, "fc", gap, 8, lw, lb, et_act_none(), &lin));
    CHECK_OK(et_builder_batchnorm(b, "bn3", lin, 1e-5f, g, be, mu, var, &bn3));
    CHECK_OK(et_builder_act(b, "sig", bn3, et_act_of(ET_ACT_SIGMOID), &sg));
    CHECK_OK(et_builder_act(b, "leaky", sg, et_act_leaky_relu(0.2f), &lk));
    CHECK_OK(et_builder_output(b, lk));
    CHECK_OK(et_builder_output(b, c2)); /* c2 is needed unfolded: bn2 cannot fold into it */
    et_model *raw, *folded;
    CHECK_OK(et_builder_finish(b, &raw));
    CHECK_OK(et_model_fold(raw, &folded));
    /* left: c1(+bn1+relu), c2, bn2, add(+relu6), gap, fc(+bn3+sigmoid), leaky */
    CHECKF(et_model_node_count(folded) == 7, "%zu nodes", et_model_node_count(folded));
    et_node_info ni;
    CHECK_OK(et_model_node_info(folded, 0, &ni));
    CHECK(ni.op == ET_OP_CONV2D && ni.act.kind == ET_ACT_RELU);
    CHECK_OK(et_model_node_info(folded, 3, &ni));
    CHECK(ni.op == ET_OP_ADD && ni.act.kind == ET_ACT_CLIP);
    CHECK_OK(et_model_node_info(folded, 5, &ni));
    CHECK(ni.op == ET_OP_LINEAR && ni.act.kind == ET_ACT_SIGMOID);
    check_same(raw, folded, 2 * 9 * 7 * 3);
    et_builder_free(b);
    et_model_free(raw);
    et_model_free(folded);
}

int main(void) {
    RUN(test_mobilenet_v2_fold);
    RUN(test_small_graph_rules);
    return t_summary(__FILE__);
}
