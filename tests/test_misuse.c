/* API misuse: NULL handles and out-parameters, wrong counts and shapes,
 * absurd configurations, calls out of order and after failed setup. Each
 * must return a status (and leave outs NULL), never crash. */
#include <stdlib.h>
#include <unistd.h>
#include "edgetune.h"
#include "harness.h"

/* absurd on 32- and 64-bit targets alike */
#define ABSURD ((size_t)-1 / 4)


/* conv 3x3 (3 -> 4) + BN + ReLU + global pool + linear (4 -> 3), input 6x6x3. */
static et_model *tiny(void) {
    float w[4 * 27], g[4] = {1, 1, 1, 1}, be[4] = {0}, mu[4] = {0}, var[4] = {1, 1, 1, 1}, fw[12], fb[3] = {0};
    t_fill(w, 108, 1);
    t_fill(fw, 12, 2);
    et_builder *b;
    if (et_builder_new(3, 6, 6, &b) != ET_OK) return NULL;
    et_conv2d_desc c = {4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, {ET_ACT_NONE, 0, 0}};
    int v, bn, r, gp, fc, ok = 1;
    ok &= et_builder_conv2d(b, "conv", 0, &c, w, NULL, &v) == ET_OK;
    ok &= et_builder_batchnorm(b, "bn", v, 1e-5f, g, be, mu, var, &bn) == ET_OK;
    ok &= et_builder_act(b, "relu", bn, et_act_relu(), &r) == ET_OK;
    ok &= et_builder_global_avgpool(b, "gap", r, &gp) == ET_OK;
    ok &= et_builder_linear(b, "fc", gp, 3, fw, fb, et_act_none(), &fc) == ET_OK;
    et_model *m = NULL;
    if (ok) et_builder_finish(b, &m);
    et_builder_free(b);
    return m;
}

static void test_status_and_names(void) {
    CHECK(et_status_str((et_status)-1) != NULL);
    CHECK(et_status_str((et_status)9999) != NULL);
    CHECK(et_op_name((et_op)9999) != NULL);
    CHECK(et_act_name((et_act_kind)-5) != NULL);
    CHECK(et_isa_name((et_isa)77) != NULL);
    CHECK(et_version() != NULL);
}

static void test_free_null(void) {
    et_model_free(NULL);
    et_builder_free(NULL);
    et_array_free(NULL);
    et_threadpool_free(NULL);
    et_dataset_free(NULL);
    et_image_free(NULL);
    et_array a;
    memset(&a, 0, sizeof a);
    et_array_free(&a);  /* an empty array, twice */
    et_array_free(&a);
    CHECK(1);
}

static void test_model_null(void) {
    et_model *m = (et_model *)1;
    char err[128];
    CHECK_ST(et_model_load_buffer(NULL, 10, &m, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK(m == NULL);
    CHECK(err[0] != 0);
    CHECK_ST(et_model_load_buffer("x", 1, NULL, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK(et_model_load_buffer(NULL, 0, &m, NULL, 0) != ET_OK && m == NULL);
    CHECK(et_model_load_buffer("garbage!", 8, &m, err, 0) != ET_OK && m == NULL);
    CHECK_ST(et_model_load_file(NULL, &m, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK_ST(et_model_load_file("/nonexistent/x.etm", NULL, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK_ST(et_model_load_file("/nonexistent/x.etm", &m, err, sizeof err), ET_ERR_IO);
    CHECK(m == NULL);
    CHECK_ST(et_model_load_file("/tmp", &m, err, sizeof err), ET_ERR_IO);
    CHECK(m == NULL);
    CHECK(et_model_error(NULL) != NULL || 1);  /* may be NULL or a message; must not crash */
    size_t len = 5;
    CHECK(et_model_save_buffer(NULL, NULL, 0, &len) != ET_OK);
    CHECK(et_model_save_file(NULL, "/tmp/x.etm") != ET_OK);
    CHECK(et_model_fold(NULL, &m) != ET_OK && m == NULL);
    CHECK(et_model_clone(NULL, &m) != ET_OK && m == NULL);
    CHECK(et_model_node_count(NULL) == 0);
    CHECK(et_model_param_count(NULL) == 0);
    et_metadata md;
    CHECK(et_model_metadata(NULL, &md) != ET_OK);
    CHECK(et_model_set_metadata(NULL, &md) != ET_OK);
    CHECK(et_model_infer_shapes(NULL, 1, 0, 0) != ET_OK);
    et_node_info ni;
    CHECK(et_model_node_info(NULL, 0, &ni) != ET_OK);
    et_shape s;
    CHECK(et_model_input_shape(NULL, &s) != ET_OK);
    const float *d;
    size_t n;
    CHECK(et_model_param(NULL, 0, 0, &d, &n) != ET_OK);
    float one = 1.0f;
    CHECK(et_model_set_param(NULL, 0, 0, &one, 1) != ET_OK);
    CHECK(et_model_new_head(NULL, 3, 1, &m) != ET_OK && m == NULL);
}

static void test_model_bad_args(void) {
    et_model *m = tiny(), *o = (et_model *)1;
    CHECK(m);
    size_t len = 0;
    CHECK(et_model_save_buffer(m, NULL, 0, NULL) != ET_OK);
    CHECK_OK(et_model_save_buffer(m, NULL, 0, &len));
    unsigned char *buf = malloc(len);
    CHECK(buf);
    CHECK(et_model_save_buffer(m, buf, len - 1, &len) != ET_OK);      /* one byte short */
    CHECK(et_model_save_buffer(m, NULL, 100, &len) == ET_OK || 1);    /* NULL buf: size query */
    free(buf);
    CHECK(et_model_save_file(m, NULL) != ET_OK);
    CHECK(et_model_save_file(m, "/nonexistent/dir/x.etm") == ET_ERR_IO);
    CHECK(et_model_fold(m, NULL) != ET_OK);
    CHECK(et_model_clone(m, NULL) != ET_OK);
    CHECK(et_model_metadata(m, NULL) != ET_OK);
    CHECK(et_model_set_metadata(m, NULL) != ET_OK);
    et_metadata md;
    CHECK_OK(et_model_metadata(m, &md));
    md.label_count = 2;
    md.labels = NULL;                       /* count without strings */
    CHECK(et_model_set_metadata(m, &md) != ET_OK);
    CHECK_OK(et_model_metadata(m, &md));
    md.norm_channels = ET_MAX_CHANNELS_META + 1;
    CHECK(et_model_set_metadata(m, &md) != ET_OK);
    /* a label the .etm writer would refuse is refused here already */
    CHECK_OK(et_model_metadata(m, &md));
    static char longl[5000];
    memset(longl, 'a', sizeof longl - 1);
    const char *labels[1] = {longl};
    md.label_count = 1;
    md.labels = labels;
    CHECK_ST(et_model_set_metadata(m, &md), ET_ERR_INVALID_ARG);
    CHECK(strstr(et_model_error(m), "longer than"));
    et_node_info ni;
    CHECK(et_model_node_info(m, 0, NULL) != ET_OK);
    CHECK(et_model_node_info(m, 99, &ni) != ET_OK);
    CHECK(et_model_node_info(m, (size_t)-1, &ni) != ET_OK);
    CHECK(et_model_input_shape(m, NULL) != ET_OK);
    const float *d = NULL;
    size_t n = 0;
    CHECK(et_model_param(m, 0, 0, NULL, &n) != ET_OK);
    CHECK(et_model_param(m, 0, 0, &d, NULL) != ET_OK);
    CHECK(et_model_param(m, 99, 0, &d, &n) != ET_OK);
    CHECK(et_model_param(m, 0, 99, &d, &n) != ET_OK);
    CHECK(et_model_param(m, 3, 0, &d, &n) != ET_OK || n == 0);       /* global pool: no weights */
    float w[200] = {0};
    CHECK_OK(et_model_param(m, 0, 0, &d, &n));
    CHECK(n == 108);
    CHECK(et_model_set_param(m, 0, 0, w, 107) != ET_OK);            /* wrong count */
    CHECK(et_model_set_param(m, 0, 0, w, 109) != ET_OK);
    CHECK(et_model_set_param(m, 0, 0, NULL, 108) != ET_OK);
    CHECK(et_model_set_param(m, 99, 0, w, 108) != ET_OK);
    CHECK(et_model_set_param(m, 0, 7, w, 108) != ET_OK);
    CHECK(et_model_set_param(m, 2, 0, w, 1) != ET_OK);              /* relu has no slot 0 */
    CHECK_OK(et_model_param(m, 0, 0, &d, &n));
    CHECK(n == 108);                                                 /* unchanged by the failures */
    CHECK(et_model_infer_shapes(m, 0, 6, 6) == ET_OK || 1);          /* batch 0: status either way */
    CHECK(et_model_infer_shapes(m, 1, ABSURD, 6) != ET_OK);
    CHECK(et_model_infer_shapes(m, (size_t)-1, 6, 6) != ET_OK);
    CHECK(et_model_new_head(m, 0, 1, &o) != ET_OK && o == NULL);
    CHECK(et_model_new_head(m, 3, 1, NULL) != ET_OK);
    et_model_free(m);
}

static void test_builder_misuse(void) {
    et_builder *b = (et_builder *)1;
    CHECK(et_builder_new(3, 8, 8, NULL) != ET_OK);
    CHECK(et_builder_new(0, 8, 8, &b) != ET_OK && b == NULL);
    CHECK(et_builder_new(ABSURD, 8, 8, &b) != ET_OK && b == NULL);
    CHECK(et_builder_error(NULL) != NULL || 1);
    int out = 0;
    float w[27] = {0};
    et_conv2d_desc c = {1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, {ET_ACT_NONE, 0, 0}};
    et_pool_desc p = {2, 2, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK(et_builder_conv2d(NULL, NULL, 0, &c, w, NULL, &out) != ET_OK);
    CHECK(et_builder_act(NULL, NULL, 0, et_act_relu(), &out) != ET_OK);
    CHECK(et_builder_output(NULL, 0) != ET_OK);
    et_model *m = (et_model *)1;
    CHECK(et_builder_finish(NULL, &m) != ET_OK);
    CHECK_OK(et_builder_new(3, 8, 8, &b));
    CHECK(et_builder_conv2d(b, NULL, 0, NULL, w, NULL, &out) != ET_OK);       /* no desc */
    CHECK(et_builder_conv2d(b, NULL, 0, &c, NULL, NULL, &out) != ET_OK);      /* no weight */
    (void)et_builder_conv2d(b, NULL, 0, &c, w, NULL, NULL);                    /* no out: optional or refused */
    CHECK(et_builder_conv2d(b, NULL, 5, &c, w, NULL, &out) != ET_OK);         /* unknown value */
    CHECK(et_builder_conv2d(b, NULL, -1, &c, w, NULL, &out) != ET_OK);
    et_conv2d_desc bad = c;
    bad.out_channels = 0;
    CHECK(et_builder_conv2d(b, NULL, 0, &bad, w, NULL, &out) != ET_OK);
    bad = c;
    bad.groups = 2;                                                            /* 3 channels, 2 groups */
    CHECK(et_builder_conv2d(b, NULL, 0, &bad, w, NULL, &out) != ET_OK);
    bad = c;
    bad.kh = 100000;
    CHECK(et_builder_conv2d(b, NULL, 0, &bad, w, NULL, &out) != ET_OK);
    CHECK(et_builder_maxpool(b, NULL, 0, NULL, &out) != ET_OK);
    p.kh = 0;
    CHECK(et_builder_maxpool(b, NULL, 0, &p, &out) != ET_OK);
    CHECK(et_builder_batchnorm(b, NULL, 0, 1e-5f, NULL, NULL, NULL, NULL, &out) != ET_OK);
    CHECK(et_builder_concat(b, NULL, NULL, 2, &out) != ET_OK);
    int ins[1] = {9};
    CHECK(et_builder_concat(b, NULL, ins, 1, &out) != ET_OK);
    CHECK(et_builder_linear(b, NULL, 0, 4, w, NULL, et_act_none(), &out) != ET_OK);  /* input not N x 1 x 1 x C */
    CHECK(et_builder_reshape(b, NULL, 0, 5, 5, 5, &out) != ET_OK);           /* element count differs */
    CHECK(et_builder_add(b, NULL, 0, 3, et_act_none(), &out) != ET_OK);
    CHECK(et_builder_output(b, 42) != ET_OK);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK(et_builder_act(b, longname, 0, et_act_relu(), &out) != ET_OK);
    et_act weird = {(et_act_kind)99, 0, 0};
    CHECK(et_builder_act(b, NULL, 0, weird, &out) != ET_OK);
    CHECK(et_builder_finish(b, NULL) != ET_OK);
    CHECK(et_builder_error(b) != NULL);
    et_builder_free(b);
}

static void test_plan_absurd(void) {
    et_model *m = tiny();
    CHECK(m);
    et_plan p, p1;
    et_config cfg = {0, 0, 0, 0};
    CHECK(et_model_plan(NULL, &cfg, &p) != ET_OK);
    CHECK(et_model_plan(m, &cfg, NULL) != ET_OK);
    CHECK(et_model_plan(m, NULL, &p) == ET_OK || 1);                 /* NULL config: defaults or a status */
    CHECK_OK(et_model_plan(m, &cfg, &p));                             /* zeros mean defaults */
    et_config one = {1, 6, 6, 1};
    CHECK_OK(et_model_plan(m, &one, &p1));
    CHECK(p.total == p1.total);                                       /* batch 0 is batch 1 */
    et_config huge_batch = {ABSURD, 0, 0, 1};
    CHECK(et_model_plan(m, &huge_batch, &p) != ET_OK);
    et_config max_batch = {(size_t)-1, 0, 0, 1};
    CHECK(et_model_plan(m, &max_batch, &p) != ET_OK);
    et_config huge_hw = {1, ABSURD, ABSURD, 1};
    CHECK(et_model_plan(m, &huge_hw, &p) != ET_OK);
    et_config h_only = {1, 8, 0, 1};                                  /* height without width */
    et_status st = et_model_plan(m, &h_only, &p);
    CHECK(st == ET_OK || st == ET_ERR_INVALID_ARG || st == ET_ERR_SHAPE);
    et_config w_only = {1, 0, 8, 1};
    st = et_model_plan(m, &w_only, &p);
    CHECK(st == ET_OK || st == ET_ERR_INVALID_ARG || st == ET_ERR_SHAPE);
    et_config tiny_in = {1, 1, 1, 1};                                 /* 3x3 conv, pad 1: 1x1 is fine */
    CHECK_OK(et_model_plan(m, &tiny_in, &p));
    et_config many_threads = {1, 0, 0, ABSURD};
    st = et_model_plan(m, &many_threads, &p);
    CHECK(st == ET_OK || st == ET_ERR_INVALID_ARG);
    et_exec_options bad_isa = {(et_isa)99, NULL, 0};
    CHECK(et_model_plan_ex(m, &cfg, &bad_isa, &p) != ET_OK);
    et_model_free(m);
}

static void test_session_misuse(void) {
    et_model *m = tiny();
    CHECK(m);
    et_config cfg = {1, 0, 0, 1};
    et_plan p;
    CHECK_OK(et_model_plan(m, &cfg, &p));
    void *arena = malloc(p.total);
    CHECK(arena);
    et_session *s = (et_session *)1;
    size_t needed = 0;
    CHECK(et_session_prepare(NULL, &cfg, arena, p.total, &s, &needed) != ET_OK && s == NULL);
    s = (et_session *)1;
    CHECK(et_session_prepare(m, &cfg, NULL, p.total, &s, &needed) != ET_OK && s == NULL);
    CHECK(et_session_prepare(m, &cfg, arena, p.total, NULL, &needed) != ET_OK);
    s = (et_session *)1;
    CHECK_ST(et_session_prepare(m, &cfg, arena, p.total / 2, &s, &needed), ET_ERR_ARENA_TOO_SMALL);
    CHECK(s == NULL && needed == p.total);
    CHECK_ST(et_session_prepare(m, &cfg, arena, 0, &s, NULL), ET_ERR_ARENA_TOO_SMALL);
    CHECK(s == NULL);
    et_config bad = {ABSURD, 0, 0, 1};
    CHECK(et_session_prepare(m, &bad, arena, p.total, &s, &needed) != ET_OK && s == NULL);

    /* every session call on the NULL a failed prepare left behind */
    et_tensor t;
    float in[108], out[3];
    double secs[5];
    CHECK(et_session_run(s) != ET_OK);
    CHECK(et_session_run_copy(s, in, 108, out, 3) != ET_OK);
    CHECK(et_session_input(s, 0, &t) != ET_OK);
    CHECK(et_session_output(s, 0, &t) != ET_OK);
    CHECK(et_session_input_count(s) == 0 && et_session_output_count(s) == 0);
    CHECK(et_session_run_profiled(s, secs, 5) != ET_OK);
    CHECK(et_session_set_threadpool(s, NULL) != ET_OK);
    CHECK(et_session_error(s) != NULL || 1);
    CHECK(et_session_isa(s) != NULL || 1);

    CHECK_OK(et_session_prepare(m, &cfg, arena, p.total, &s, &needed));
    t_fill(in, 108, 3);
    CHECK(et_session_input(s, 1, &t) != ET_OK);
    CHECK(et_session_input(s, 0, NULL) != ET_OK);
    CHECK(et_session_output(s, 5, &t) != ET_OK);
    CHECK(et_session_output(s, 0, NULL) != ET_OK);
    CHECK(et_session_run_copy(s, in, 107, out, 3) != ET_OK);         /* wrong input count */
    CHECK(et_session_run_copy(s, in, 109, out, 3) != ET_OK);
    CHECK(et_session_run_copy(s, in, 108, out, 2) != ET_OK);         /* wrong output count */
    CHECK(et_session_run_copy(s, in, 108, out, 4) != ET_OK);
    CHECK(et_session_run_copy(s, NULL, 108, out, 3) != ET_OK);
    CHECK(et_session_run_copy(s, in, 108, NULL, 3) != ET_OK);
    CHECK(et_session_run_copy(s, in, 0, out, 0) != ET_OK);
    CHECK(et_session_run_profiled(s, secs, 4) != ET_OK);             /* 5 nodes */
    CHECK(et_session_run_profiled(s, NULL, 5) != ET_OK);
    CHECK_OK(et_session_run_copy(s, in, 108, out, 3));               /* still usable after all that */
    CHECK_OK(et_session_run_profiled(s, secs, 5));
    free(arena);
    et_model_free(m);
}

static void test_trainer_misuse(void) {
    et_model *m = tiny();
    CHECK(m);
    et_train_config c;
    et_train_config_default(&c);
    c.batch = 2;
    et_plan p;
    CHECK(et_model_plan_train(NULL, &c, &p) != ET_OK);
    CHECK(et_model_plan_train(m, NULL, &p) != ET_OK);
    CHECK(et_model_plan_train(m, &c, NULL) != ET_OK);
    et_train_config bad = c;
    bad.loss = (et_loss_kind)42;
    CHECK(et_model_plan_train(m, &bad, &p) != ET_OK);
    bad = c;
    bad.optim.kind = (et_optim_kind)42;
    CHECK(et_model_plan_train(m, &bad, &p) != ET_OK);
    bad = c;
    bad.batch = ABSURD;
    CHECK(et_model_plan_train(m, &bad, &p) != ET_OK);
    bad = c;
    bad.freeze_to = 1000;                                             /* more groups than exist */
    et_status st = et_model_plan_train(m, &bad, &p);
    CHECK(st == ET_OK || st == ET_ERR_INVALID_ARG);
    bad = c;
    bad.n_group_cuts = 2;
    bad.group_cuts = NULL;
    CHECK(et_model_plan_train(m, &bad, &p) != ET_OK);
    static const char *const cuts[] = {"no_such_node"};
    bad.group_cuts = cuts;
    bad.n_group_cuts = 1;
    CHECK(et_model_plan_train(m, &bad, &p) != ET_OK);

    CHECK_OK(et_model_plan_train(m, &c, &p));
    void *arena = malloc(p.total);
    CHECK(arena);
    et_trainer *t = (et_trainer *)1;
    size_t needed = 0;
    CHECK(et_trainer_prepare(NULL, &c, arena, p.total, &t, &needed) != ET_OK && t == NULL);
    t = (et_trainer *)1;
    CHECK(et_trainer_prepare(m, NULL, arena, p.total, &t, &needed) != ET_OK && t == NULL);
    CHECK(et_trainer_prepare(m, &c, arena, p.total, NULL, &needed) != ET_OK);
    t = (et_trainer *)1;
    CHECK_ST(et_trainer_prepare(m, &c, arena, p.total / 2, &t, &needed), ET_ERR_ARENA_TOO_SMALL);
    CHECK(t == NULL && needed == p.total);

    /* after the failed prepare: every trainer call on the NULL it left */
    float x[2 * 108], out[6], loss;
    int32_t y[2] = {0, 2};
    t_fill(x, 2 * 108, 5);
    const char *first;
    int trainable;
    float lr;
    size_t sz;
    unsigned char st_buf[16] = {0};
    et_model *e = (et_model *)1;
    CHECK(et_trainer_step(t, x, y, &loss) != ET_OK);
    CHECK(et_trainer_eval(t, x, y, out, &loss) != ET_OK);
    CHECK(et_trainer_set_lr(t, 0.1f, 0.9f) != ET_OK);
    CHECK(et_trainer_group_count(t) == 0);
    CHECK(et_trainer_group(t, 0, &first, &trainable, &lr) != ET_OK);
    CHECK(et_trainer_steps(t) == 0);
    CHECK(et_trainer_export(t, &e) != ET_OK);  /* (e is left as it was, not set to NULL) */
    CHECK(et_trainer_error(t) != NULL || 1);
    CHECK(et_trainer_state_size(t, &sz) != ET_OK);
    CHECK(et_trainer_state_save(t, st_buf, sizeof st_buf) != ET_OK);
    CHECK(et_trainer_state_load(t, st_buf, sizeof st_buf) != ET_OK);

    /* a session handle is not a trainer: the trainer's magic check refuses it */
    et_config sc = {1, 0, 0, 1};
    et_plan sp;
    CHECK_OK(et_model_plan(m, &sc, &sp));
    void *sarena = calloc(1, sp.total > p.total ? sp.total : p.total);
    CHECK(sarena);
    et_session *s;
    CHECK_OK(et_session_prepare(m, &sc, sarena, sp.total, &s, NULL));
    et_trainer *fake = (et_trainer *)(void *)s;
    CHECK(et_trainer_step(fake, x, y, &loss) != ET_OK);
    CHECK(et_trainer_eval(fake, x, y, out, &loss) != ET_OK);
    CHECK(et_trainer_state_size(fake, &sz) != ET_OK);
    CHECK(et_trainer_export(fake, &e) != ET_OK);
    free(sarena);

    CHECK_OK(et_trainer_prepare(m, &c, arena, p.total, &t, &needed));
    CHECK(et_trainer_step(t, NULL, y, &loss) != ET_OK);
    CHECK(et_trainer_step(t, x, NULL, &loss) != ET_OK);
    CHECK(et_trainer_eval(t, NULL, NULL, out, &loss) != ET_OK);
    (void)et_trainer_eval(t, x, NULL, NULL, NULL);                   /* nothing asked for: any status */
    int32_t bad_y[2] = {0, 7};                                        /* class 7 of 3 */
    CHECK(et_trainer_step(t, x, bad_y, &loss) != ET_OK);
    int32_t neg_y[2] = {-1, 0};
    CHECK(et_trainer_step(t, x, neg_y, &loss) != ET_OK);
    CHECK(et_trainer_group(t, 999, &first, &trainable, &lr) != ET_OK);
    CHECK(et_trainer_export(t, NULL) != ET_OK);
    CHECK(et_trainer_state_size(t, NULL) != ET_OK);
    CHECK_OK(et_trainer_state_size(t, &sz));
    unsigned char *state = malloc(sz);
    CHECK(state);
    CHECK(et_trainer_state_save(t, NULL, sz) != ET_OK);
    CHECK(et_trainer_state_save(t, state, sz - 1) != ET_OK);
    CHECK_OK(et_trainer_state_save(t, state, sz));
    CHECK(et_trainer_state_load(t, NULL, sz) != ET_OK);
    CHECK(et_trainer_state_load(t, state, sz - 1) != ET_OK);
    CHECK(et_trainer_state_load(t, state, 3) != ET_OK);
    state[sz / 2] ^= 0x40;
    CHECK_ST(et_trainer_state_load(t, state, sz), ET_ERR_CRC);
    state[sz / 2] ^= 0x40;
    CHECK_OK(et_trainer_state_load(t, state, sz));
    CHECK(et_trainer_set_lr(t, -1.0f, 0.9f) != ET_OK || 1);           /* negative lr: status either way */
    CHECK_OK(et_trainer_step(t, x, y, &loss));                        /* usable after the misuse */
    free(state);
    free(arena);
    et_model_free(m);
}

static void test_npy_misuse(void) {
    et_array a;
    char err[128];
    CHECK_ST(et_npy_read_buffer(NULL, 10, &a, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK(a.data == NULL);
    CHECK_ST(et_npy_read_buffer("x", 1, NULL, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK(et_npy_read_buffer(NULL, 0, &a, NULL, 0) != ET_OK);
    CHECK(et_npy_read_file(NULL, &a, err, sizeof err) != ET_OK);
    CHECK(et_npy_read_file("/nonexistent.npy", &a, err, sizeof err) == ET_ERR_IO);
    CHECK(et_npy_read_file("/tmp", &a, err, sizeof err) != ET_OK);
    size_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    float v = 1.0f;
    CHECK(et_npy_write_file(NULL, &v, dims, 1) != ET_OK);
    CHECK(et_npy_write_file("/tmp/et_misuse.npy", &v, NULL, 1) != ET_OK);
    CHECK(et_npy_write_file("/tmp/et_misuse.npy", &v, dims, 9) != ET_OK);   /* > 8 dims */
    CHECK(et_npy_write_file("/tmp/et_misuse.npy", NULL, dims, 1) != ET_OK);
    size_t big[2] = {ABSURD, ABSURD};
    CHECK(et_npy_write_file("/tmp/et_misuse.npy", &v, big, 2) != ET_OK);
    CHECK(et_npy_write_file("/nonexistent/dir/x.npy", &v, dims, 1) != ET_OK);
}

static void test_files_onnx_misc(void) {
    CHECK(et_file_write_atomic(NULL, "x", 1) != ET_OK);
    CHECK(et_file_write_atomic("/tmp/et_misuse.bin", NULL, 5) != ET_OK);
    CHECK(et_file_write_atomic("/nonexistent/dir/x.bin", "x", 1) != ET_OK);
    et_model *m = (et_model *)1;
    char err[128];
    CHECK(et_onnx_import_buffer(NULL, 10, NULL, &m, err, sizeof err) != ET_OK && m == NULL);
    CHECK(et_onnx_import_buffer("x", 1, NULL, NULL, err, sizeof err) != ET_OK);
    CHECK(et_onnx_import_buffer(NULL, 0, NULL, &m, NULL, 0) != ET_OK && m == NULL);
    CHECK(et_onnx_import_file(NULL, NULL, &m, err, sizeof err) != ET_OK);
    CHECK(et_onnx_import_file("/nonexistent.onnx", NULL, &m, err, sizeof err) != ET_OK && m == NULL);
    size_t len;
    CHECK(et_onnx_export_buffer(NULL, NULL, 0, &len, err, sizeof err) != ET_OK);
    et_model *t = tiny();
    CHECK(t);
    CHECK(et_onnx_export_buffer(t, NULL, 0, NULL, err, sizeof err) != ET_OK);
    CHECK_OK(et_onnx_export_buffer(t, NULL, 0, &len, err, sizeof err));
    unsigned char small[8];
    CHECK(et_onnx_export_buffer(t, small, sizeof small, &len, err, sizeof err) != ET_OK);
    CHECK(et_onnx_export_file(NULL, "/tmp/x.onnx", err, sizeof err) != ET_OK);
    CHECK(et_onnx_export_file(t, NULL, err, sizeof err) != ET_OK);
    et_model_free(t);
    et_threadpool *p = (et_threadpool *)1;
    CHECK(et_threadpool_create(ABSURD, &p) != ET_OK && p == NULL);
    CHECK(et_threadpool_threads(NULL) == 0 || 1);
    float lr, mom;
    CHECK(et_schedule_at(NULL, 0, 10, &lr, &mom) != ET_OK);
    et_schedule s;
    et_schedule_default(&s, ET_SCHED_ONECYCLE, 1e-3f);
    CHECK(et_schedule_at(&s, 0, 10, NULL, NULL) != ET_OK || 1);
    CHECK(et_schedule_at(&s, 11, 10, &lr, &mom) != ET_OK || lr == lr);  /* past the end: status or a number */
    CHECK(et_lr_finder_init(NULL, 1e-7f, 10.0f, 100) != ET_OK);
    CHECK(et_lr_suggest(NULL, NULL, 5, 100, NULL) != ET_OK);
    CHECK(et_sched_parse("no-such-schedule") < 0);
}

static void test_data_misuse(void) {
    et_dataset *d = (et_dataset *)1;
    char err[128];
    CHECK(et_dataset_load_npy(NULL, NULL, NULL, &d, err, sizeof err) != ET_OK && d == NULL);
    d = (et_dataset *)1;
    CHECK(et_dataset_load_idx("/nonexistent-i", "/nonexistent-l", NULL, &d, err, sizeof err) != ET_OK && d == NULL);
    d = (et_dataset *)1;
    CHECK(et_dataset_load_folder("/nonexistent-root", NULL, &d, err, sizeof err) != ET_OK && d == NULL);
    CHECK(et_dataset_load_folder("/tmp", NULL, NULL, err, sizeof err) != ET_OK);
    et_dataset_info info;
    CHECK(et_dataset_get_info(NULL, &info) != ET_OK);
    int32_t label;
    CHECK(et_dataset_label(NULL, 0, &label) != ET_OK);
    et_sample smp;
    CHECK(et_dataset_sample(NULL, 0, &smp) != ET_OK);
    CHECK(et_dataset_class_name(NULL, 0) == NULL || 1);
    et_image img;
    CHECK(et_image_read_file(NULL, 3, &img, err, sizeof err) != ET_OK);
    CHECK(et_image_read_file("/nonexistent.png", 3, &img, err, sizeof err) != ET_OK);
    CHECK(et_image_read_file("/nonexistent.png", 3, NULL, err, sizeof err) != ET_OK);
}

int main(void) {
    RUN(test_status_and_names);
    RUN(test_free_null);
    RUN(test_model_null);
    RUN(test_model_bad_args);
    RUN(test_builder_misuse);
    RUN(test_plan_absurd);
    RUN(test_session_misuse);
    RUN(test_trainer_misuse);
    RUN(test_npy_misuse);
    RUN(test_files_onnx_misc);
    RUN(test_data_misuse);
    return t_summary(__FILE__);
}
