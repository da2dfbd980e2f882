/* The trainer: whole-network gradients vs finite differences, frozen layers
 * untouched, discriminative learning rates, exact arena bytes, rejected
 * non-finite steps, a new head, and learning on a separable problem. */
#include <stdlib.h>
#include "edgetune.h"
#include "harness.h"

/* conv3x3(3->6)+BN+ReLU -> dw3x3 s2 (+bias, ReLU6) -> pw(6->8, SiLU) -> add
 * residual of a second pw -> maxpool -> GAP -> linear(8->4). */
static et_model *small_net(int with_bn, unsigned seed) {
    et_builder *b;
    if (et_builder_new(3, 8, 8, &b) != ET_OK) return NULL;
    float w1[6 * 27], g[8], be[8], mu[8], var[8], w2[6 * 9], b2[6], w3[8 * 6], b3[8], w4[8 * 8], fw[4 * 8], fb[4];
    t_fill(w1, 6 * 27, seed); t_fill(g, 8, seed + 1); t_fill(be, 8, seed + 2); t_fill(mu, 8, seed + 3); t_fill(var, 8, seed + 4);
    for (int i = 0; i < 8; i++) { g[i] += 1.5f; var[i] = var[i] * var[i] + 0.5f; mu[i] *= 0.1f; }
    t_fill(w2, 54, seed + 5); t_fill(b2, 6, seed + 6); t_fill(w3, 48, seed + 7); t_fill(b3, 8, seed + 8);
    t_fill(w4, 64, seed + 9); t_fill(fw, 32, seed + 10); t_fill(fb, 4, seed + 11);
    et_conv2d_desc c1 = {6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, {with_bn ? ET_ACT_NONE : ET_ACT_RELU, 0, 0}};
    et_conv2d_desc dw = {6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6, et_act_relu6()};
    et_conv2d_desc pw = {8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, et_act_of(ET_ACT_SILU)};
    et_conv2d_desc pw2 = {8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, et_act_none()};
    et_pool_desc mp = {2, 2, 1, 1, 0, 0, 0, 0, 0, 0};
    int v, bn, r, d, p, p2, a, m, gp, fc, ok = 1;
    ok &= et_builder_conv2d(b, "conv1", 0, &c1, w1, NULL, &v) == ET_OK;
    if (with_bn) {
        ok &= et_builder_batchnorm(b, "bn1", v, 1e-5f, g, be, mu, var, &bn) == ET_OK;
        ok &= et_builder_act(b, "relu1", bn, et_act_relu(), &r) == ET_OK;
    } else {
        r = v;
    }
    ok &= et_builder_conv2d(b, "dw", r, &dw, w2, b2, &d) == ET_OK;
    ok &= et_builder_conv2d(b, "pw", d, &pw, w3, b3, &p) == ET_OK;
    ok &= et_builder_conv2d(b, "pw2", p, &pw2, w4, NULL, &p2) == ET_OK;
    ok &= et_builder_add(b, "res", p, p2, et_act_none(), &a) == ET_OK;
    ok &= et_builder_maxpool(b, "mp", a, &mp, &m) == ET_OK;
    ok &= et_builder_global_avgpool(b, "gap", m, &gp) == ET_OK;
    ok &= et_builder_linear(b, "fc", gp, 4, fw, fb, et_act_none(), &fc) == ET_OK;
    et_model *out = NULL;
    if (ok) et_builder_finish(b, &out);
    et_builder_free(b);
    return out;
}

static et_train_config sgd_cfg(float lr, size_t batch) {
    et_train_config c;
    et_train_config_default(&c);
    c.batch = batch;
    c.optim.kind = ET_OPTIM_SGD;
    c.optim.lr = lr;
    c.optim.momentum = 0.0f;
    c.optim.weight_decay = 0.0f;
    c.freeze_to = 0;
    return c;
}

/* Scalar idx of all of node's parameter slots, in slot order. */
static et_status param_at(const et_model *m, size_t node, size_t idx, float *v, size_t *slot_out) {
    for (size_t slot = 0; slot < 4; slot++) {
        const float *d;
        size_t n;
        if (et_model_param(m, node, slot, &d, &n) != ET_OK) break;
        if (idx < n) { *v = d[idx]; if (slot_out) *slot_out = slot; return ET_OK; }
        idx -= n;
    }
    return ET_ERR_NOT_FOUND;
}

static et_status perturbed(const et_model *m, size_t node, size_t idx, float h, et_model **out) {
    et_status st = et_model_clone(m, out);
    for (size_t slot = 0; st == ET_OK && slot < 4; slot++) {
        const float *d;
        size_t n;
        if (et_model_param(*out, node, slot, &d, &n) != ET_OK) break;
        if (idx < n) {
            float *copy = malloc(n * sizeof *copy);
            memcpy(copy, d, n * sizeof *copy);
            copy[idx] += h;
            st = et_model_set_param(*out, node, slot, copy, n);
            free(copy);
            return st;
        }
        idx -= n;
    }
    return ET_ERR_NOT_FOUND;
}

typedef struct trainer_box { void *arena; et_trainer *t; } trainer_box;

static et_status open_trainer(const et_model *m, const et_train_config *c, trainer_box *tb) {
    et_plan p;
    et_status st = et_model_plan_train(m, c, &p);
    if (st != ET_OK) return st;
    tb->arena = malloc(p.total);
    return et_trainer_prepare(m, c, tb->arena, p.total, &tb->t, NULL);
}

static double eval_loss(const et_model *m, const et_train_config *c, const float *x, const int32_t *y) {
    trainer_box tb;
    float loss = NAN;
    if (open_trainer(m, c, &tb) == ET_OK) et_trainer_eval(tb.t, x, y, NULL, &loss);
    free(tb.arena);
    return loss;
}

/* One SGD step with lr h gives g = (w - w') / h for every weight; compare a
 * sample with central differences of the loss through the whole network. */
static void test_whole_network_gradient(void) {
    et_model *m = small_net(1, 3);
    CHECK(m);
    et_train_config c = sgd_cfg(1e-3f, 3);
    c.bn_mode = ET_BN_FROZEN; /* eval and train forward then agree exactly */
    float x[3 * 8 * 8 * 3];
    int32_t y[3] = {1, 3, 0};
    t_fill(x, sizeof x / 4, 77);
    trainer_box tb;
    CHECK_OK(open_trainer(m, &c, &tb));
    float loss;
    CHECK_OK(et_trainer_step(tb.t, x, y, &loss));
    CHECK(fabs(loss - eval_loss(m, &c, x, y)) < 1e-6);
    et_model *after;
    CHECK_OK(et_trainer_export(tb.t, &after));
    size_t checked = 0, nonzero = 0;
    for (size_t node = 0; node < et_model_node_count(m); node++) {
        et_node_info ni;
        CHECK_OK(et_model_node_info(m, node, &ni));
        if (ni.params == 0) continue;
        for (int k = 0; k < 3; k++) {
            size_t idx = (size_t)(k * 7919 + 3) % ni.params;
            /* perturb scalar idx of this node's parameters via a clone */
            float w0, w1;
            CHECK_OK(param_at(m, node, idx, &w0, NULL));
            CHECK_OK(param_at(after, node, idx, &w1, NULL));
            double g_step = ((double)w0 - (double)w1) / 1e-3;
            double h = 1e-3, lp, lm; /* small: larger steps cross ReLU/max-pool kinks */
            et_model *mp, *mm;
            CHECK_OK(perturbed(m, node, idx, (float)h, &mp));
            CHECK_OK(perturbed(m, node, idx, (float)-h, &mm));
            lp = eval_loss(mp, &c, x, y);
            lm = eval_loss(mm, &c, x, y);
            et_model_free(mp);
            et_model_free(mm);
            double g_fd = (lp - lm) / (2 * h);
            CHECKF(fabs(g_fd - g_step) <= 5e-4 + 2e-2 * fabs(g_fd), "node %zu '%s' param %zu: backward %.6g, finite difference %.6g",
                   node, ni.name, idx, g_step, g_fd);
            checked++;
            nonzero += fabs(g_fd) > 1e-3;
        }
    }
    printf("    %zu parameters checked against finite differences, %zu with a non-zero gradient\n", checked, nonzero);
    CHECK(checked >= 15 && nonzero >= 10);
    et_model_free(after);
    free(tb.arena);
    et_model_free(m);
}

/* Flatten and reshape share their input's gradient buffer. conv -> flatten
 * -> linear, plus conv -> reshape -> GAP -> linear, summed: the conv output
 * gets gradient through a view and directly, and neither may wipe the
 * other's. The conv weights' gradients against central differences. */
static et_model *view_net(void) {
    et_builder *b;
    if (et_builder_new(2, 4, 4, &b) != ET_OK) return NULL;
    float cw[4 * 9 * 2], cb[4], aw[3 * 64], bw[3 * 4];
    t_fill(cw, 72, 41); t_fill(cb, 4, 42); t_fill(aw, 192, 43); t_fill(bw, 12, 44);
    for (int i = 0; i < 192; i++) aw[i] *= 0.1f; /* both branches count: losing either shows */
    for (int i = 0; i < 12; i++) bw[i] *= 4.0f;
    et_conv2d_desc cd = {4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, et_act_none()};
    int c, f, la, r, g, lb, s, ok = 1;
    ok &= et_builder_conv2d(b, "conv", 0, &cd, cw, cb, &c) == ET_OK;
    ok &= et_builder_flatten(b, "flat", c, &f) == ET_OK;
    ok &= et_builder_linear(b, "fa", f, 3, aw, NULL, et_act_none(), &la) == ET_OK;
    ok &= et_builder_reshape(b, "re", c, 2, 8, 4, &r) == ET_OK;
    ok &= et_builder_global_avgpool(b, "gap", r, &g) == ET_OK;
    ok &= et_builder_linear(b, "fb", g, 3, bw, NULL, et_act_none(), &lb) == ET_OK;
    ok &= et_builder_add(b, "sum", la, lb, et_act_none(), &s) == ET_OK;
    et_model *m = NULL;
    if (ok) et_builder_finish(b, &m);
    et_builder_free(b);
    return m;
}

static void test_gradient_through_views(void) {
    et_model *m = view_net();
    CHECK(m);
    et_train_config c = sgd_cfg(1e-3f, 2);
    float x[2 * 4 * 4 * 2];
    int32_t y[2] = {2, 0};
    t_fill(x, sizeof x / 4, 45);
    trainer_box tb;
    CHECK_OK(open_trainer(m, &c, &tb));
    float loss;
    CHECK_OK(et_trainer_step(tb.t, x, y, &loss));
    et_model *after;
    CHECK_OK(et_trainer_export(tb.t, &after));
    for (size_t idx = 0; idx < 76; idx += 5) { /* conv weights and bias */
        float w0, w1;
        CHECK_OK(param_at(m, 0, idx, &w0, NULL));
        CHECK_OK(param_at(after, 0, idx, &w1, NULL));
        double g_step = ((double)w0 - (double)w1) / 1e-3, h = 1e-2;
        et_model *mp, *mm;
        CHECK_OK(perturbed(m, 0, idx, (float)h, &mp));
        CHECK_OK(perturbed(m, 0, idx, (float)-h, &mm));
        double g_fd = (eval_loss(mp, &c, x, y) - eval_loss(mm, &c, x, y)) / (2 * h);
        et_model_free(mp);
        et_model_free(mm);
        CHECKF(fabs(g_fd - g_step) <= 5e-4 + 1e-2 * fabs(g_fd), "conv param %zu: backward %.6g, finite difference %.6g", idx, g_step, g_fd);
    }
    et_model_free(after);
    free(tb.arena);
    et_model_free(m);
}

static void test_frozen_untouched_and_discriminative_lr(void) {
    et_model *m = small_net(1, 5);
    CHECK(m);
    et_train_config c = sgd_cfg(0.1f, 2);
    c.optim.lr_lo = 0.001f;
    c.freeze_to = 1; /* group 0 = conv1 + bn1 frozen */
    trainer_box tb;
    CHECK_OK(open_trainer(m, &c, &tb));
    size_t ng = et_trainer_group_count(tb.t);
    CHECK(ng == 5); /* conv1+bn1, dw, pw, pw2, fc */
    float lrs[8];
    for (size_t g = 0; g < ng; g++) {
        int tr;
        const char *first;
        CHECK_OK(et_trainer_group(tb.t, g, &first, &tr, &lrs[g]));
        CHECK(tr == (g >= 1));
    }
    /* geometric from 1e-3 to 1e-1 over the four trained groups */
    CHECK(fabs(lrs[1] - 0.001f) < 1e-9 && fabs(lrs[4] - 0.1f) < 1e-7);
    CHECK(fabs(lrs[2] / lrs[1] - lrs[3] / lrs[2]) < 1e-4 && fabs(lrs[3] / lrs[2] - lrs[4] / lrs[3]) < 1e-4);
    float x[2 * 8 * 8 * 3];
    int32_t y[2] = {2, 1};
    for (int s = 0; s < 4; s++) { t_fill(x, sizeof x / 4, 100 + s); CHECK_OK(et_trainer_step(tb.t, x, y, NULL)); }
    et_model *after;
    CHECK_OK(et_trainer_export(tb.t, &after));
    float a, b2;
    for (size_t i = 0; i < 6 * 27; i++) { CHECK_OK(param_at(m, 0, i, &a, NULL)); CHECK_OK(param_at(after, 0, i, &b2, NULL)); CHECK(a == b2); }
    int changed = 0;
    for (size_t i = 0; i < 32; i++) { CHECK_OK(param_at(m, 9, i, &a, NULL)); CHECK_OK(param_at(after, 9, i, &b2, NULL)); changed += a != b2; }
    CHECK(changed > 0);
    /* schedules move every group together */
    CHECK_OK(et_trainer_set_lr(tb.t, 0.05f, 0.0f));
    CHECK_OK(et_trainer_group(tb.t, 1, NULL, NULL, &lrs[1]));
    CHECK(fabs(lrs[1] - 0.0005f) < 1e-9);
    CHECK_ST(et_trainer_set_lr(tb.t, 0.05f, 0.9f), ET_ERR_STATE); /* no momentum buffers planned */
    et_model_free(after);
    free(tb.arena);
    et_model_free(m);
}

static void test_exact_arena_and_canary(void) {
    et_model *m = small_net(1, 7);
    CHECK(m);
    et_train_config c;
    et_train_config_default(&c);
    c.batch = 4;
    c.freeze_to = 0;
    et_plan p;
    CHECK_OK(et_model_plan_train(m, &c, &p));
    CHECK(p.activations <= p.activations_naive && p.activations >= p.activations_bound);
    unsigned char *mem = malloc(p.total + 4096 + ET_ALIGN);
    /* from a 64-byte boundary + 1, an arena needs the full ET_ALIGN - 1 slack */
    unsigned char *buf = (unsigned char *)(((uintptr_t)mem + ET_ALIGN - 1) & ~(uintptr_t)(ET_ALIGN - 1));
    memset(buf, 0xAB, p.total + 4096);
    et_trainer *t;
    size_t need;
    CHECK_ST(et_trainer_prepare(m, &c, buf + 1, p.total - 1, &t, &need), ET_ERR_ARENA_TOO_SMALL);
    CHECK(need == p.total && t == NULL);
    CHECK_OK(et_trainer_prepare(m, &c, buf, p.total, &t, NULL));
    float x[4 * 8 * 8 * 3], out[16], loss;
    int32_t y[4] = {0, 1, 2, 3};
    for (int s = 0; s < 3; s++) { t_fill(x, sizeof x / 4, 5 + s); CHECK_OK(et_trainer_step(t, x, y, &loss)); }
    CHECK_OK(et_trainer_eval(t, x, y, out, &loss));
    /* an aligned arena uses at most total - (ET_ALIGN - 1) bytes: nothing after that may change */
    size_t used = p.total - (ET_ALIGN - 1);
    for (size_t i = used; i < p.total + 4096; i++) CHECKF(buf[i] == 0xAB, "byte %zu past the planned arena was written", i - used);
    free(mem);
    et_model_free(m);
}

static void test_nonfinite_step_rejected(void) {
    et_model *m = small_net(1, 9);
    CHECK(m);
    et_train_config c = sgd_cfg(0.1f, 2);
    trainer_box tb;
    CHECK_OK(open_trainer(m, &c, &tb));
    float x[2 * 8 * 8 * 3], loss;
    int32_t y[2] = {0, 1};
    t_fill(x, sizeof x / 4, 3);
    x[17] = NAN;
    CHECK_ST(et_trainer_step(tb.t, x, y, &loss), ET_ERR_NUMERIC);
    CHECK(strstr(et_trainer_error(tb.t), "no weight changed"));
    CHECK(et_trainer_steps(tb.t) == 0);
    et_model *after;
    CHECK_OK(et_trainer_export(tb.t, &after));
    float a, b2;
    for (size_t node = 0; node < et_model_node_count(m); node++) {
        et_node_info ni;
        CHECK_OK(et_model_node_info(m, node, &ni));
        for (size_t i = 0; i < ni.params; i++) { CHECK_OK(param_at(m, node, i, &a, NULL)); CHECK_OK(param_at(after, node, i, &b2, NULL)); CHECK(a == b2); }
    }
    int32_t bad[2] = {0, 9};
    x[17] = 0.0f;
    CHECK_ST(et_trainer_step(tb.t, x, bad, &loss), ET_ERR_INVALID_ARG);
    CHECK_OK(et_trainer_step(tb.t, x, y, &loss));
    CHECK(et_trainer_steps(tb.t) == 1);
    et_model_free(after);
    free(tb.arena);
    et_model_free(m);
}

/* A fresh 3-class head learns a problem the features separate. */
static void test_new_head_learns(void) {
    et_model *base = small_net(0, 11), *m;
    CHECK(base);
    CHECK_OK(et_model_new_head(base, 3, 1, &m));
    et_train_config c;
    et_train_config_default(&c);
    c.batch = 6;
    c.optim.lr = 0.05f;
    c.freeze_to = -1; /* head only */
    trainer_box tb;
    CHECK_OK(open_trainer(m, &c, &tb));
    float x[6 * 8 * 8 * 3], first = 0, loss = 0;
    int32_t y[6];
    for (int s = 0; s < 150; s++) {
        for (int i = 0; i < 6; i++) {
            y[i] = (s + i) % 3;
            t_fill(x + i * 192, 192, (unsigned)(s * 6 + i + 1));
            for (int k = 0; k < 192; k++) x[i * 192 + k] = 0.3f * x[i * 192 + k] + (k % 3 == y[i] ? 1.0f : -0.5f);
        }
        CHECK_OK(et_trainer_step(tb.t, x, y, &loss));
        if (s == 0) first = loss;
    }
    printf("    head-only loss %.4f -> %.4f over 150 steps\n", first, loss);
    CHECK(loss < 0.5f * first);
    et_model_free(m);
    et_model_free(base);
    free(tb.arena);
}

static void train_steps(et_trainer *t, int from, int to) {
    float x[4 * 8 * 8 * 3];
    int32_t y[4];
    for (int s = from; s < to; s++) {
        t_fill(x, sizeof x / 4, (unsigned)(40 + s));
        for (int i = 0; i < 4; i++) y[i] = (s + i) % 4;
        et_trainer_step(t, x, y, NULL);
    }
}

static int same_weights(const et_model *a, const et_model *b) {
    for (size_t node = 0; node < et_model_node_count(a); node++)
        for (size_t slot = 0; slot < 4; slot++) {
            const float *da, *db;
            size_t na, nb;
            if (et_model_param(a, node, slot, &da, &na) != ET_OK) break;
            if (et_model_param(b, node, slot, &db, &nb) != ET_OK || na != nb || (na && memcmp(da, db, na * 4) != 0)) return 0;
        }
    return 1;
}

/* Save after 3 steps, load into a fresh trainer, 3 more steps: bit-identical
 * to 6 straight steps (Adam + momentum state + BN running stats + dropout-free). */
static void test_state_resume_bit_identical(void) {
    et_model *m = small_net(1, 13);
    CHECK(m);
    et_train_config c;
    et_train_config_default(&c);
    c.batch = 4;
    c.freeze_to = 0;
    c.accum_steps = 2; /* the save lands mid-accumulation */
    trainer_box a, b, d;
    CHECK_OK(open_trainer(m, &c, &a));
    train_steps(a.t, 0, 6);
    CHECK_OK(open_trainer(m, &c, &b));
    train_steps(b.t, 0, 3);
    size_t n;
    CHECK_OK(et_trainer_state_size(b.t, &n));
    unsigned char *state = malloc(n);
    CHECK_OK(et_trainer_state_save(b.t, state, n));
    CHECK_OK(open_trainer(m, &c, &d));
    CHECK_OK(et_trainer_state_load(d.t, state, n));
    train_steps(d.t, 3, 6);
    CHECK(et_trainer_steps(d.t) == et_trainer_steps(a.t));
    et_model *ma, *md;
    CHECK_OK(et_trainer_export(a.t, &ma));
    CHECK_OK(et_trainer_export(d.t, &md));
    CHECK(same_weights(ma, md));
    /* corrupt, truncated and foreign states are refused and change nothing */
    state[n / 2] ^= 1;
    CHECK_ST(et_trainer_state_load(d.t, state, n), ET_ERR_CRC);
    CHECK(strstr(et_trainer_error(d.t), "corrupt"));
    state[n / 2] ^= 1;
    CHECK_ST(et_trainer_state_load(d.t, state, n - 1), ET_ERR_FORMAT);
    CHECK_ST(et_trainer_state_load(d.t, state, 10), ET_ERR_FORMAT);
    et_train_config other = c;
    other.freeze_to = -1;
    trainer_box e;
    CHECK_OK(open_trainer(m, &other, &e));
    CHECK_ST(et_trainer_state_load(e.t, state, n), ET_ERR_INVALID_ARG);
    CHECK(strstr(et_trainer_error(e.t), "another model"));
    et_model *md2;
    CHECK_OK(et_trainer_export(d.t, &md2));
    CHECK(same_weights(md, md2));
    et_model_free(ma); et_model_free(md); et_model_free(md2);
    free(state); free(a.arena); free(b.arena); free(d.arena); free(e.arena);
    et_model_free(m);
}

/* Head-only training from cached features gives bit-identical weights to
 * training from the images. */
static void test_feature_cache_equivalent(void) {
    et_model *base = small_net(1, 21), *m;
    CHECK(base);
    CHECK_OK(et_model_new_head(base, 3, 2, &m));
    et_train_config c;
    et_train_config_default(&c);
    c.batch = 4;
    c.freeze_to = -1;
    trainer_box a, b;
    CHECK_OK(open_trainer(m, &c, &a));
    CHECK_OK(open_trainer(m, &c, &b));
    size_t per;
    CHECK_OK(et_trainer_feature_size(b.t, &per));
    CHECK(per == 8); /* the pooled features feeding the head */
    float x[4 * 8 * 8 * 3], feats[4 * 8];
    int32_t y[4];
    for (int s = 0; s < 5; s++) {
        t_fill(x, sizeof x / 4, (unsigned)(90 + s));
        for (int i = 0; i < 4; i++) y[i] = (s + i) % 3;
        CHECK_OK(et_trainer_step(a.t, x, y, NULL));
        CHECK_OK(et_trainer_features(b.t, x, feats));
        CHECK_OK(et_trainer_step_features(b.t, feats, y, NULL));
    }
    et_model *ma, *mb;
    CHECK_OK(et_trainer_export(a.t, &ma));
    CHECK_OK(et_trainer_export(b.t, &mb));
    CHECK(same_weights(ma, mb));
    /* whole-network training has no single cut that skips work */
    et_train_config all = c;
    all.freeze_to = 0;
    trainer_box d;
    CHECK_OK(open_trainer(m, &all, &d));
    CHECK_OK(et_trainer_feature_size(d.t, &per));
    CHECK(per == 8 * 8 * 3); /* the cut is the input itself */
    et_model_free(ma); et_model_free(mb); et_model_free(m); et_model_free(base);
    free(a.arena); free(b.arena); free(d.arena);
}

/* Group cuts by node name: each cut starts a group; freeze_to -1 then trains
 * from the last cut on. */
static void test_group_cuts(void) {
    et_model *m = small_net(1, 41);
    CHECK(m);
    static const char *const cuts[] = {"pw", "fc"};
    et_train_config c = sgd_cfg(0.1f, 2);
    c.group_cuts = cuts;
    c.n_group_cuts = 2;
    c.freeze_to = -2;
    trainer_box tb;
    CHECK_OK(open_trainer(m, &c, &tb));
    CHECK(et_trainer_group_count(tb.t) == 3);
    const char *first;
    int tr;
    CHECK_OK(et_trainer_group(tb.t, 0, &first, &tr, NULL));
    CHECK(strcmp(first, "conv1") == 0 && !tr);
    CHECK_OK(et_trainer_group(tb.t, 1, &first, &tr, NULL));
    CHECK(strcmp(first, "pw") == 0 && tr);
    CHECK_OK(et_trainer_group(tb.t, 2, &first, &tr, NULL));
    CHECK(strcmp(first, "fc") == 0 && tr);
    free(tb.arena);
    et_model_free(m);
}

/* TinyTL-style cheap modes: bias-only trains every bias (and BN beta) plus
 * the last group; BN-only trains every BN affine plus the last group. */
static void test_cheap_modes(void) {
    et_model *m = small_net(1, 31);
    CHECK(m);
    for (int mode = 0; mode < 2; mode++) {
        et_train_config c = sgd_cfg(0.1f, 2);
        c.freeze_to = -1;
        c.scope = mode == 0 ? ET_SCOPE_BIAS_ONLY : ET_SCOPE_BN_ONLY;
        trainer_box tb;
        CHECK_OK(open_trainer(m, &c, &tb));
        float x[2 * 8 * 8 * 3];
        int32_t y[2] = {0, 3};
        for (int s = 0; s < 3; s++) { t_fill(x, sizeof x / 4, (unsigned)(60 + s)); CHECK_OK(et_trainer_step(tb.t, x, y, NULL)); }
        et_model *after;
        CHECK_OK(et_trainer_export(tb.t, &after));
        /* node 0 conv1 (no bias), 1 bn1, 3 dw (weight, bias), 9 fc (last group) */
        const float *a, *b2;
        size_t n, n2;
        int changed[4] = {0, 0, 0, 0};
        const size_t nodes[4] = {3, 3, 1, 1}, slots[4] = {0, 1, 0, 1};
        for (int k = 0; k < 4; k++) {
            CHECK_OK(et_model_param(m, nodes[k], slots[k], &a, &n));
            CHECK_OK(et_model_param(after, nodes[k], slots[k], &b2, &n2));
            changed[k] = memcmp(a, b2, n * sizeof *a) != 0;
        }
        if (mode == 0) CHECK(!changed[0] && changed[1] && !changed[2] && changed[3]); /* dw bias, bn beta */
        else CHECK(!changed[0] && !changed[1] && changed[2] && changed[3]);           /* bn gamma and beta */
        CHECK_OK(et_model_param(m, 9, 0, &a, &n));
        CHECK_OK(et_model_param(after, 9, 0, &b2, &n2));
        CHECK(memcmp(a, b2, n * sizeof *a) != 0); /* the head trains in both */
        et_model_free(after);
        free(tb.arena);
    }
    et_model_free(m);
}

/* ---- trajectory parity with PyTorch (tests/fixtures/train/parity_*) ---- */

static float *load_npy(const char *dir, const char *name, size_t want) {
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/train/%s/%s.npy", dir, name);
    et_array a;
    char err[256];
    if (et_npy_read_file(path, &a, err, sizeof err) != ET_OK) { printf("    %s\n", err); return NULL; }
    if (a.count != want) { printf("    %s: %zu values, want %zu\n", path, a.count, want); et_array_free(&a); return NULL; }
    return a.data; /* owned by the caller (free) */
}

static const char *const tiny_names[] = {"conv1_w", "bn1_gamma", "bn1_beta", "bn1_running_mean", "bn1_running_var",
                                         "conv2_w", "conv2_b", "conv3_w", "conv3_b", "fc_w", "fc_b"};
static const size_t tiny_counts[] = {216, 8, 8, 8, 8, 72, 8, 128, 16, 80, 5};
/* (node, slot) of each tensor in the builder graph below */
static const int tiny_node[] = {0, 1, 1, 1, 1, 3, 3, 4, 4, 6, 6};
static const int tiny_slot[] = {0, 0, 1, 2, 3, 0, 1, 0, 1, 0, 1};

static et_model *tiny_net(const char *dir) {
    float *p[11];
    int ok = 1;
    for (int k = 0; k < 11; k++) {
        char nm[64];
        snprintf(nm, sizeof nm, "init_%s", tiny_names[k]);
        p[k] = load_npy(dir, nm, tiny_counts[k]);
        ok &= p[k] != NULL;
    }
    et_model *m = NULL;
    et_builder *b = NULL;
    if (ok && et_builder_new(3, 8, 8, &b) == ET_OK) {
        et_conv2d_desc c1 = {8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, et_act_none()};
        et_conv2d_desc c2 = {8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 8, et_act_relu6()};
        et_conv2d_desc c3 = {16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, et_act_of(ET_ACT_SILU)};
        int v[8];
        ok &= et_builder_conv2d(b, "conv1", 0, &c1, p[0], NULL, &v[0]) == ET_OK;
        ok &= et_builder_batchnorm(b, "bn1", v[0], 1e-5f, p[1], p[2], p[3], p[4], &v[1]) == ET_OK;
        ok &= et_builder_act(b, "relu", v[1], et_act_relu(), &v[2]) == ET_OK;
        ok &= et_builder_conv2d(b, "conv2", v[2], &c2, p[5], p[6], &v[3]) == ET_OK;
        ok &= et_builder_conv2d(b, "conv3", v[3], &c3, p[7], p[8], &v[4]) == ET_OK;
        ok &= et_builder_global_avgpool(b, "gap", v[4], &v[5]) == ET_OK;
        ok &= et_builder_linear(b, "fc", v[5], 5, p[9], p[10], et_act_none(), &v[6]) == ET_OK;
        if (ok) et_builder_finish(b, &m);
    }
    et_builder_free(b);
    for (int k = 0; k < 11; k++) free(p[k]);
    return m;
}

static void run_parity(const char *dir, et_train_config c) {
    et_model *m = tiny_net(dir);
    CHECK(m);
    c.batch = 4;
    c.freeze_to = 0;
    c.bn_mode = ET_BN_TRAIN;
    c.optim.clip_norm = 1.0f;
    trainer_box tb;
    CHECK_OK(open_trainer(m, &c, &tb));
    float *want_loss = load_npy(dir, "losses", 20);
    CHECK(want_loss);
    double worst_loss = 0.0;
    for (int s = 0; s < 20; s++) {
        char nm[32];
        snprintf(nm, sizeof nm, "x_%d", s);
        float *x = load_npy(dir, nm, 4 * 8 * 8 * 3);
        snprintf(nm, sizeof nm, "y_%d", s);
        float *yf = load_npy(dir, nm, 4);
        CHECK(x && yf);
        int32_t y[4];
        for (int i = 0; i < 4; i++) y[i] = (int32_t)yf[i];
        float loss;
        CHECK_OK(et_trainer_step(tb.t, x, y, &loss));
        double rel = fabs((double)loss - want_loss[s]) / fabs((double)want_loss[s]);
        if (rel > worst_loss) worst_loss = rel;
        free(x);
        free(yf);
    }
    et_model *after;
    CHECK_OK(et_trainer_export(tb.t, &after));
    double worst_w = 0.0;
    for (int k = 0; k < 11; k++) {
        char nm[64];
        snprintf(nm, sizeof nm, "final_%s", tiny_names[k]);
        float *want = load_npy(dir, nm, tiny_counts[k]);
        CHECK(want);
        const float *got;
        size_t n;
        CHECK_OK(et_model_param(after, (size_t)tiny_node[k], (size_t)tiny_slot[k], &got, &n));
        CHECK(n == tiny_counts[k]);
        double scale = 0.0;
        for (size_t i = 0; i < n; i++) if (fabs(want[i]) > scale) scale = fabs(want[i]);
        for (size_t i = 0; i < n; i++) {
            double rel = fabs((double)got[i] - want[i]) / (scale > 0 ? scale : 1.0);
            if (rel > worst_w) worst_w = rel;
        }
        free(want);
    }
    printf("    %s: 20 steps, worst loss rel err %.2e, worst final weight rel err %.2e\n", dir, worst_loss, worst_w);
    CHECK(worst_loss <= 1e-4);
    CHECK(worst_w <= 1e-4);
    free(want_loss);
    et_model_free(after);
    free(tb.arena);
    et_model_free(m);
}

static et_train_config parity_cfg(et_optim_kind kind, float lr, float wd) {
    et_train_config c;
    et_train_config_default(&c);
    c.optim.kind = kind;
    c.optim.lr = lr;
    c.optim.weight_decay = wd;
    c.optim.momentum = 0.0f;
    c.optim.beta1 = 0.9f;
    c.optim.beta2 = 0.999f;
    c.optim.eps = 1e-8f;
    return c;
}

static void test_parity_sgd_momentum(void) {
    et_train_config c = parity_cfg(ET_OPTIM_SGD, 0.1f, 1e-4f);
    c.optim.momentum = 0.9f;
    run_parity("parity_sgd_momentum", c);
}
static void test_parity_sgd_nesterov(void) {
    et_train_config c = parity_cfg(ET_OPTIM_SGD, 0.05f, 1e-4f);
    c.optim.momentum = 0.9f;
    c.optim.nesterov = 1;
    run_parity("parity_sgd_nesterov", c);
}
static void test_parity_adam(void) { run_parity("parity_adam", parity_cfg(ET_OPTIM_ADAM, 1e-3f, 1e-4f)); }
static void test_parity_adamw(void) { run_parity("parity_adamw", parity_cfg(ET_OPTIM_ADAMW, 1e-3f, 1e-2f)); }
static void test_parity_rmsprop(void) {
    et_train_config c = parity_cfg(ET_OPTIM_RMSPROP, 1e-3f, 1e-4f);
    c.optim.beta2 = 0.99f;
    c.optim.momentum = 0.9f;
    c.optim.centered = 1;
    run_parity("parity_rmsprop", c);
}

/* et_trainer_logits gives what the loss saw in the step (before a trailing
 * softmax): with a negligible lr and no batchnorm, the eval forward gives the same
 * values (softmax of them), however the trainer planned its buffers. */
static void test_logits_of_last_step(void) {
    et_builder *b;
    CHECK_OK(et_builder_new(3, 8, 8, &b));
    float w[4 * 27], bias[4], fw[3 * 4], fb[3];
    t_fill(w, 4 * 27, 3); t_fill(bias, 4, 4); t_fill(fw, 12, 5); t_fill(fb, 3, 6);
    et_conv2d_desc cd = {4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, et_act_relu()};
    int v, g, f, sm;
    CHECK_OK(et_builder_conv2d(b, "conv", 0, &cd, w, bias, &v));
    CHECK_OK(et_builder_global_avgpool(b, "gap", v, &g));
    CHECK_OK(et_builder_linear(b, "fc", g, 3, fw, fb, et_act_none(), &f));
    CHECK_OK(et_builder_softmax(b, "prob", f, &sm));
    CHECK_OK(et_builder_output(b, sm));
    et_model *m = NULL;
    CHECK_OK(et_builder_finish(b, &m));
    et_builder_free(b);
    et_train_config c = sgd_cfg(1e-30f, 4); /* too small to change a weight */
    trainer_box tb;
    et_status st = open_trainer(m, &c, &tb);
    CHECKF(st == ET_OK, "%s: %s", et_status_str(st), et_model_error(m));
    float x[4 * 8 * 8 * 3], lg[12], prob[12], loss;
    int32_t y[4] = {0, 1, 2, 1};
    t_fill(x, sizeof x / 4, 9);
    CHECK_OK(et_trainer_step(tb.t, x, y, &loss));
    CHECK_OK(et_trainer_logits(tb.t, lg, 12));
    CHECK_ST(et_trainer_logits(tb.t, lg, 11), ET_ERR_SHAPE);
    CHECK_OK(et_trainer_eval(tb.t, x, NULL, prob, NULL));
    double want_loss = 0;
    for (int i = 0; i < 4; i++) {
        double mx = lg[i * 3], sum = 0;
        for (int k = 1; k < 3; k++) if (lg[i * 3 + k] > mx) mx = lg[i * 3 + k];
        for (int k = 0; k < 3; k++) sum += exp(lg[i * 3 + k] - mx);
        for (int k = 0; k < 3; k++) CHECKF(fabs(exp(lg[i * 3 + k] - mx) / sum - prob[i * 3 + k]) < 1e-5, "item %d class %d", i, k);
        want_loss += -(lg[i * 3 + y[i]] - mx - log(sum)) / 4;
    }
    CHECKF(fabs(want_loss - loss) < 1e-5, "loss %g, from the logits %g", (double)loss, want_loss);
    free(tb.arena);
    et_model_free(m);
}

int main(void) {
    RUN(test_whole_network_gradient);
    RUN(test_gradient_through_views);
    RUN(test_frozen_untouched_and_discriminative_lr);
    RUN(test_exact_arena_and_canary);
    RUN(test_nonfinite_step_rejected);
    RUN(test_new_head_learns);
    RUN(test_state_resume_bit_identical);
    RUN(test_feature_cache_equivalent);
    RUN(test_cheap_modes);
    RUN(test_logits_of_last_step);
    RUN(test_group_cuts);
    RUN(test_parity_sgd_momentum);
    RUN(test_parity_sgd_nesterov);
    RUN(test_parity_adam);
    RUN(test_parity_adamw);
    RUN(test_parity_rmsprop);
    return t_summary(__FILE__);
}
