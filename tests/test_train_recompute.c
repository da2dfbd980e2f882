/* The trainer recomputes train-mode batchnorm (+ ReLU/clip) outputs for
 * backward instead of keeping them (issue 6): which values, that the plan
 * shrinks, that backward no longer reads their forward buffers, and that
 * trained weights are the bits of a trainer that keeps every value. */
#include <stdint.h>
#include <stdlib.h>
#include "edgetune.h"
#include "harness.h"
#include "train/trainer.h"
#include "zoo/zoo.h"

/* Value ids of the values the plan should recompute (filled by net()): the
 * batchnorm (+ act) outputs, then the depthwise conv's output. */
typedef struct ids { int v[9]; } ids;

static int conv(et_builder *b, int in, size_t ic, size_t oc, size_t k, size_t s, size_t groups, unsigned seed) {
    float w[8 * 9 * 8];
    t_fill(w, oc * k * k * (ic / groups), seed);
    size_t p = k / 2;
    et_conv2d_desc d = {oc, k, k, s, s, p, p, p, p, 1, 1, groups, et_act_none()};
    int out = -1;
    return et_builder_conv2d(b, NULL, in, &d, w, NULL, &out) == ET_OK ? out : -1;
}

static int bn(et_builder *b, int in, unsigned seed) {
    float g[8], be[8], mu[8], var[8];
    t_fill(g, 8, seed); t_fill(be, 8, seed + 1); t_fill(mu, 8, seed + 2); t_fill(var, 8, seed + 3);
    for (int i = 0; i < 8; i++) { g[i] += 1.5f; var[i] = var[i] * var[i] + 0.5f; }
    int out = -1;
    return in >= 0 && et_builder_batchnorm(b, NULL, in, 1e-5f, g, be, mu, var, &out) == ET_OK ? out : -1;
}

static int act(et_builder *b, int in, et_act a) {
    int out = -1;
    return in >= 0 && et_builder_act(b, NULL, in, a, &out) == ET_OK ? out : -1;
}

/* Every case of the plan, 8 channels throughout:
 *   conv -> BN+ReLU6 -> dw conv        (fused act output read by a depthwise weight gradient)
 *   -> BN+ReLU -> pw conv              (... by a pointwise one)
 *   -> BN (no act) -> conv, and add    (a batchnorm output, two readers: one in backward)
 *   conv -> BN -> SiLU                 (the batchnorm output SiLU's backward reads)
 *   add -> conv s2 -> BN+ReLU -> maxpool (read by the max pool's backward)
 *   -> conv -> BN+ReLU6 \ mul          (a mul reads both of its inputs in backward)
 *   -> conv -> BN       /
 *   -> GAP -> linear -> BN+ReLU -> flatten -> linear (read through a view) */
static et_model *net(ids *id) {
    et_builder *b = NULL;
    if (et_builder_new(3, 12, 12, &b) != ET_OK) return NULL;
    int a1 = act(b, bn(b, conv(b, 0, 3, 8, 3, 1, 1, 1), 10), et_act_relu6());
    int z2 = conv(b, a1, 8, 8, 3, 1, 8, 2);
    int a2 = act(b, bn(b, z2, 20), et_act_relu());
    int b3 = bn(b, conv(b, a2, 8, 8, 1, 1, 1, 3), 30);
    int z4 = bn(b, conv(b, b3, 8, 8, 1, 1, 1, 4), 40);
    int a4 = act(b, z4, et_act_of(ET_ACT_SILU));
    int s = -1, m = -1, q = -1, g = -1, l1 = -1, f = -1, out = -1;
    int ok = a4 >= 0 && et_builder_add(b, NULL, a4, b3, et_act_none(), &s) == ET_OK;
    int a5 = act(b, bn(b, conv(b, s, 8, 8, 3, 2, 1, 5), 50), et_act_relu());
    et_pool_desc mp = {2, 2, 2, 2, 0, 0, 0, 0, 0, 0};
    ok &= a5 >= 0 && et_builder_maxpool(b, NULL, a5, &mp, &m) == ET_OK;
    int a6 = act(b, bn(b, conv(b, m, 8, 8, 1, 1, 1, 6), 60), et_act_relu6());
    int b7 = bn(b, conv(b, m, 8, 8, 1, 1, 1, 7), 70);
    ok &= a6 >= 0 && b7 >= 0 && et_builder_mul(b, NULL, a6, b7, &q) == ET_OK;
    ok &= et_builder_global_avgpool(b, NULL, q, &g) == ET_OK;
    float w1[64], w2[32], b2[4];
    t_fill(w1, 64, 8); t_fill(w2, 32, 9); t_fill(b2, 4, 10);
    ok &= et_builder_linear(b, NULL, g, 8, w1, NULL, et_act_none(), &l1) == ET_OK;
    int a8 = act(b, bn(b, l1, 80), et_act_relu());
    ok &= a8 >= 0 && et_builder_flatten(b, NULL, a8, &f) == ET_OK;
    ok &= et_builder_linear(b, NULL, f, 4, w2, b2, et_act_none(), &out) == ET_OK;
    et_model *mdl = NULL;
    if (ok) et_builder_finish(b, &mdl);
    et_builder_free(b);
    ids want = {{a1, a2, b3, z4, a5, a6, b7, a8, z2}};
    *id = want;
    return mdl;
}

static et_train_config cfg_of(et_optim_kind kind, size_t accum) {
    et_train_config c;
    et_train_config_default(&c);
    c.batch = 4;
    c.freeze_to = 0;
    c.bn_mode = ET_BN_TRAIN;
    c.accum_steps = accum;
    c.optim.kind = kind;
    c.optim.lr = kind == ET_OPTIM_SGD ? 0.05f : 1e-3f;
    c.optim.momentum = 0.9f;
    c.optim.weight_decay = 1e-4f;
    return c;
}

typedef struct box { void *arena; et_trainer *t; et_plan p; } box;

/* A trainer, with recompute (keep = 0) or keeping every value (keep = 1). */
static et_status open_box(const et_model *m, const et_train_config *c, int keep, box *bx) {
    bx->arena = NULL;
    bx->t = NULL;
    et_train_debug_no_recompute(keep);
    et_status st = et_model_plan_train(m, c, &bx->p);
    if (st == ET_OK) {
        bx->arena = malloc(bx->p.total);
        st = bx->arena ? et_trainer_prepare(m, c, bx->arena, bx->p.total, &bx->t, NULL) : ET_ERR_NO_MEMORY;
    }
    et_train_debug_no_recompute(0);
    return st;
}

/* Per value: is it recomputed for backward (on some node's list)? Returns
 * the longest list. */
static size_t recomputed(const et_trainer *t, uint8_t *rc) {
    size_t longest = 0;
    memset(rc, 0, t->n_values);
    for (uint32_t i = 0; i < t->n_nodes; i++) {
        size_t n = 0;
        for (uint32_t v = t->nodes[i].recompute; v; v = t->nodes[v - 1].rc_next) rc[v] = 1, n++;
        if (n > longest) longest = n;
    }
    return longest;
}

/* Every trained parameter, batchnorm running statistic and the logits the same bits. */
static int same_state(const et_trainer *a, const et_trainer *b) {
    if (a->n_params != b->n_params) return 0;
    for (uint32_t k = 0; k < a->n_params; k++)
        if (a->params[k].trained && memcmp(a->params[k].w, b->params[k].w, a->params[k].count * sizeof(float)) != 0) {
            printf("    parameter %u of node %u differs\n", k, a->params[k].node);
            return 0;
        }
    for (uint32_t i = 0; i < a->n_nodes; i++) {
        const tnode *x = &a->nodes[i], *y = &b->nodes[i];
        size_t c = a->m->nodes[i].params[0].count * sizeof(float);
        if (x->run_mean && (memcmp(x->run_mean, y->run_mean, c) || memcmp(x->run_var, y->run_var, c))) return 0;
    }
    return memcmp(a->data[a->logits], b->data[b->logits], et_shape_count(a->shapes[a->logits]) * sizeof(float)) == 0;
}

/* The plan recomputes exactly the batchnorm (+ act) outputs a backward
 * reads and the depthwise conv's output, and needs fewer bytes. */
static void test_recomputed_values_and_plan(void) {
    ids id;
    et_model *m = net(&id);
    CHECK(m);
    et_train_config c = cfg_of(ET_OPTIM_SGD, 1);
    box r, k;
    CHECK_OK(open_box(m, &c, 0, &r));
    CHECK_OK(open_box(m, &c, 1, &k));
    uint8_t rc[64], rk[64];
    CHECK(r.t->n_values <= 64);
    size_t longest = recomputed(r.t, rc);
    CHECK(recomputed(k.t, rk) == 0);
    for (uint32_t v = 0; v < r.t->n_values; v++) {
        int want = 0;
        for (int q = 0; q < 9; q++) want |= (uint32_t)id.v[q] == v;
        CHECKF(rc[v] == want, "value %u: recomputed %d, want %d", v, rc[v], want);
        CHECKF(!rk[v], "value %u recomputed with recompute off", v);
        /* the flatten view of the last is read where its value is recomputed */
        if (want && v + 1 < r.t->n_values && r.t->m->nodes[v].op == ET_OP_FLATTEN) CHECK(r.t->back[v + 1] == r.t->back[v]);
    }
    /* the pointwise conv after the depthwise one recomputes its input from
     * the depthwise output, which it recomputes first from the depthwise
     * input; the mul recomputes both of its inputs */
    CHECK(longest == 3);
    uint32_t pw = (uint32_t)id.v[1], mul = (uint32_t)id.v[6];
    while (r.t->m->nodes[pw].op != ET_OP_CONV2D) pw++;
    while (r.t->m->nodes[mul].op != ET_OP_MUL) mul++;
    const tnode *tn = r.t->nodes;
    CHECK(tn[pw].recompute == (uint32_t)id.v[0] && tn[id.v[0] - 1].rc_next == (uint32_t)id.v[8] &&
          tn[id.v[8] - 1].rc_next == (uint32_t)id.v[1] && tn[id.v[1] - 1].rc_next == 0);
    CHECK(tn[mul].recompute == (uint32_t)id.v[5] && tn[id.v[5] - 1].rc_next == (uint32_t)id.v[6] && tn[id.v[6] - 1].rc_next == 0);
    printf("    training activations: %zu bytes recomputing, %zu keeping every value\n", r.p.activations, k.p.activations);
    CHECK(r.p.activations < k.p.activations);
    CHECK(r.p.activations >= r.p.activations_bound && r.p.activations <= r.p.activations_naive);
    /* a batchnorm fused with its activation has no output gradient buffer
     * (it runs the activation's backward), the activation's output has one */
    int fused = 0;
    for (uint32_t i = 0; i < r.t->n_nodes; i++)
        if (r.t->nodes[i].fuse_act) {
            fused++;
            CHECK(!r.t->grad[i + 1] && !k.t->grad[i + 1] && r.t->grad[r.t->nodes[i].fuse_act]);
        }
    CHECK(fused == 5);
    /* frozen statistics: no batchnorm output is recomputed (the depthwise
     * output, which the frozen backward reads for gamma's gradient, is) */
    et_train_config cf = c;
    cf.bn_mode = ET_BN_FROZEN;
    box f;
    CHECK_OK(open_box(m, &cf, 0, &f));
    recomputed(f.t, rc);
    for (uint32_t v = 0; v < f.t->n_values; v++) CHECK(rc[v] == ((uint32_t)id.v[8] == v));
    for (uint32_t i = 0; i < f.t->n_nodes; i++) CHECK(!f.t->nodes[i].stats);
    free(r.arena); free(k.arena); free(f.arena);
    et_model_free(m);
}

/* Steps with recompute land on the bits of steps keeping every value:
 * SGD with momentum, Adam accumulating over two batches, and Adam with
 * frozen batchnorm statistics (only the depthwise output is recomputed). */
static void test_steps_bit_identical(void) {
    ids id;
    et_model *m = net(&id);
    CHECK(m);
    for (int q = 0; q < 3; q++) {
        et_train_config c = cfg_of(q ? ET_OPTIM_ADAM : ET_OPTIM_SGD, q == 1 ? 2 : 1);
        if (q == 2) c.bn_mode = ET_BN_FROZEN; /* unnormalised activations: Adam's bounded steps */
        box r, k;
        CHECK_OK(open_box(m, &c, 0, &r));
        CHECK_OK(open_box(m, &c, 1, &k));
        float x[4 * 12 * 12 * 3], lr = 0.0f, lk = 0.0f;
        int32_t y[4] = {0, 1, 2, 3};
        for (int s = 0; s < 6; s++) {
            t_fill(x, sizeof x / 4, 100u + (unsigned)s);
            CHECK_OK(et_trainer_step(r.t, x, y, &lr));
            CHECK_OK(et_trainer_step(k.t, x, y, &lk));
            CHECKF(memcmp(&lr, &lk, sizeof lr) == 0, "step %d: loss %.9g vs %.9g", s, (double)lr, (double)lk);
        }
        CHECK(isfinite(lr) && r.t->steps == (q == 1 ? 3u : 6u));
        CHECKF(same_state(r.t, k.t), "case %d", q);
        free(r.arena); free(k.arena);
    }
    et_model_free(m);
}

/* Observers force the unfused forward and backward: after its last forward
 * reader each recomputed value's forward buffer is overwritten with NaN, and
 * the probe pass's gradients are still the bits of the keeping trainer's. */
typedef struct poison { uint32_t last[64]; } poison;

static void poison_visit(void *ctx, const et_trainer *t, uint32_t node, int phase) {
    const poison *p = ctx;
    if (phase != 0) return;
    for (uint32_t v = 0; v < t->n_values && v < 64; v++)
        if (p->last[v] == node + 1) {
            float *d = t->data[v];
            for (size_t e = 0; e < et_shape_count(t->shapes[v]); e++) d[e] = NAN;
        }
}

static void test_backward_never_reads_the_forward_buffer(void) {
    ids id;
    et_model *m = net(&id);
    CHECK(m);
    et_train_config c = cfg_of(ET_OPTIM_SGD, 1);
    box r, k;
    CHECK_OK(open_box(m, &c, 0, &r));
    CHECK_OK(open_box(m, &c, 1, &k));
    CHECK(r.t->n_values <= 64);
    /* 1 + the last node reading each recomputed value (or a view of it) in the forward */
    poison p;
    memset(&p, 0, sizeof p);
    uint8_t rc[64];
    recomputed(r.t, rc);
    int poisoned = 0;
    for (uint32_t v = 0; v < r.t->n_values; v++) {
        if (!rc[v]) continue;
        for (uint32_t i = 0; i < r.t->n_nodes; i++)
            for (uint32_t q = 0; q < r.t->m->nodes[i].n_in; q++) {
                uint32_t w = r.t->m->nodes[i].in[q];
                if (w == v || (w > 0 && r.t->m->nodes[w - 1].op == ET_OP_FLATTEN && r.t->m->nodes[w - 1].in[0] == v)) p.last[v] = i + 1;
            }
        poisoned += p.last[v] != 0;
    }
    CHECK(poisoned == 9);
    et_train_probe probe = {poison_visit, &p};
    r.t->probe = &probe;
    float x[4 * 12 * 12 * 3];
    int32_t y[4] = {3, 2, 1, 0};
    t_fill(x, sizeof x / 4, 77);
    double lr = 0.0, lk = 0.0;
    memcpy(r.t->data[0], x, sizeof x);
    memcpy(k.t->data[0], x, sizeof x);
    CHECK_OK(et_train_probe_pass(r.t, y, NULL, &lr));
    CHECK_OK(et_train_probe_pass(k.t, y, NULL, &lk));
    CHECK(lr == lk && isfinite(lr));
    for (uint32_t q = 0; q < r.t->n_params; q++)
        if (r.t->params[q].trained)
            CHECKF(memcmp(r.t->params[q].g, k.t->params[q].g, r.t->params[q].count * sizeof(float)) == 0, "gradient of parameter %u", q);
    /* and a whole step with the poison: the same weights */
    float sl = 0.0f, sk = 0.0f;
    CHECK_OK(et_trainer_step(r.t, x, y, &sl));
    CHECK_OK(et_trainer_step(k.t, x, y, &sk));
    r.t->probe = NULL;
    CHECK(same_state(r.t, k.t));
    free(r.arena); free(k.arena);
    et_model_free(m);
}

/* MobileNetV2 (width 0.5, 48x48, batch 4): the plan drops every expanded
 * activation and block output, and two steps are the keeping trainer's
 * bits, also recomputing on three threads (the depthwise convs over the pool). */
static void test_mobilenet_v2(void) {
    et_model *m = NULL;
    CHECK_OK(et_zoo_mobilenet_v2(10, 48, 48, 0.5f, 3, 1, &m));
    et_train_config c = cfg_of(ET_OPTIM_SGD, 1);
    c.height = c.width = 48;
    box r, k, p;
    CHECK_OK(open_box(m, &c, 0, &r));
    CHECK_OK(open_box(m, &c, 1, &k));
    c.threads = 3;
    CHECK_OK(open_box(m, &c, 0, &p));
    et_threadpool *pool = NULL;
    CHECK_OK(et_threadpool_create(3, &pool));
    CHECK_OK(et_trainer_set_threadpool(p.t, pool));
    printf("    activations: %.2f MiB recomputing, %.2f MiB keeping every value\n", (double)r.p.activations / 1048576.0,
           (double)k.p.activations / 1048576.0);
    CHECK(r.p.activations * 10 < k.p.activations * 7);
    CHECK(r.p.total < k.p.total);
    size_t nx = 4 * 48 * 48 * 3;
    float *x = malloc(nx * sizeof *x), lr = 0.0f, lk = 0.0f, lp = 0.0f;
    CHECK(x);
    int32_t y[4] = {1, 5, 7, 9};
    for (int s = 0; s < 2; s++) {
        t_fill(x, nx, 9u + (unsigned)s);
        CHECK_OK(et_trainer_step(r.t, x, y, &lr));
        CHECK_OK(et_trainer_step(k.t, x, y, &lk));
        CHECK_OK(et_trainer_step(p.t, x, y, &lp));
    }
    CHECK(lr == lk && lp == lk);
    CHECK(same_state(r.t, k.t));
    CHECK(same_state(p.t, k.t));
    et_threadpool_free(pool);
    free(x); free(r.arena); free(k.arena); free(p.arena);
    et_model_free(m);
}

/* The last blocks train and the peak is in the frozen prefix's forward:
 * recomputing would only add the statistics it keeps, so the plan keeps. */
static void test_only_when_smaller(void) {
    et_model *m = NULL;
    CHECK_OK(et_zoo_mobilenet_v2(10, 64, 64, 0.5f, 3, 1, &m));
    static const char *const cut[1] = {"features.15.conv.0.0"};
    et_train_config c = cfg_of(ET_OPTIM_SGD, 1);
    c.height = c.width = 64;
    c.group_cuts = cut;
    c.n_group_cuts = 1;
    c.freeze_to = -1;
    box r, k;
    CHECK_OK(open_box(m, &c, 0, &r));
    CHECK_OK(open_box(m, &c, 1, &k));
    uint8_t *rc = malloc(r.t->n_values);
    CHECK(rc);
    recomputed(r.t, rc);
    size_t n = 0;
    for (uint32_t v = 0; v < r.t->n_values; v++) n += rc[v];
    printf("    last blocks: %zu bytes, %zu values recomputed\n", r.p.total, n);
    CHECK(n == 0 && r.p.total == k.p.total);
    free(rc); free(r.arena); free(k.arena);
    et_model_free(m);
}

int main(void) {
    RUN(test_recomputed_values_and_plan);
    RUN(test_steps_bit_identical);
    RUN(test_backward_never_reads_the_forward_buffer);
    RUN(test_mobilenet_v2);
    RUN(test_only_when_smaller);
    return t_summary(__FILE__);
}
