/* libFuzzer target for trainer checkpoint state (et_trainer_state_load): the
 * raw input, then the input grafted onto a valid header with its CRC fixed
 * (so the payload is reached), then a training step on what was loaded. */
#include "fuzz/fuzz_common.h"

/* One small trainer for the whole process: conv + BN (running statistics in
 * the state) + linear, Adam (two moments in the state), every group trained. */
typedef struct ckpt_fixture {
    et_model *m;
    void *arena;
    et_trainer *t;
    unsigned char *ref;   /* a valid state of t */
    size_t ref_len;
    float x[2 * 6 * 6 * 3];
    int32_t y[2];
} ckpt_fixture;
static ckpt_fixture ckpt_fx;

static float ckpt_rand(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return (float)(*s >> 8) / (float)(1u << 24) - 0.5f;
}

static et_model *ckpt_model(void) {
    float w1[4 * 3 * 3 * 3], g[4], be[4], mu[4], var[4], fw[3 * 4], fb[3];
    unsigned s = 7;
    for (size_t i = 0; i < sizeof w1 / sizeof *w1; i++) w1[i] = ckpt_rand(&s);
    for (int i = 0; i < 4; i++) { g[i] = 1.0f + ckpt_rand(&s); be[i] = ckpt_rand(&s); mu[i] = 0.1f * ckpt_rand(&s); var[i] = 1.0f; }
    for (int i = 0; i < 12; i++) fw[i] = ckpt_rand(&s);
    for (int i = 0; i < 3; i++) fb[i] = 0.0f;
    et_builder *b;
    if (et_builder_new(3, 6, 6, &b) != ET_OK) return NULL;
    et_conv2d_desc c = {4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, {ET_ACT_NONE, 0, 0}};
    int v, bn, r, gp, fc, ok = 1;
    ok &= et_builder_conv2d(b, "conv", 0, &c, w1, NULL, &v) == ET_OK;
    ok &= et_builder_batchnorm(b, "bn", v, 1e-5f, g, be, mu, var, &bn) == ET_OK;
    ok &= et_builder_act(b, "relu", bn, et_act_relu(), &r) == ET_OK;
    ok &= et_builder_global_avgpool(b, "gap", r, &gp) == ET_OK;
    ok &= et_builder_linear(b, "fc", gp, 3, fw, fb, et_act_none(), &fc) == ET_OK;
    et_model *m = NULL;
    if (ok) et_builder_finish(b, &m);
    et_builder_free(b);
    return m;
}

static et_train_config ckpt_cfg(void) {
    et_train_config c;
    et_train_config_default(&c);
    c.batch = 2;
    c.freeze_to = 0;
    return c;
}

static int ckpt_setup(void) {
    if (ckpt_fx.t) return 1;
    ckpt_fixture *f = &ckpt_fx;
    et_train_config c = ckpt_cfg();
    et_plan p;
    if (!(f->m = ckpt_model()) || et_model_plan_train(f->m, &c, &p) != ET_OK) return 0;
    if (!(f->arena = calloc(1, p.total))) return 0;
    if (et_trainer_prepare(f->m, &c, f->arena, p.total, &f->t, NULL) != ET_OK) return 0;
    unsigned s = 11;
    for (size_t i = 0; i < sizeof f->x / sizeof *f->x; i++) f->x[i] = ckpt_rand(&s);
    f->y[0] = 1;
    f->y[1] = 2;
    float loss;
    /* one step first, so optimizer moments in the reference are non-zero */
    if (et_trainer_step(f->t, f->x, f->y, &loss) != ET_OK) return 0;
    if (et_trainer_state_size(f->t, &f->ref_len) != ET_OK || f->ref_len < 52) return 0;
    if (!(f->ref = malloc(f->ref_len))) return 0;
    return et_trainer_state_save(f->t, f->ref, f->ref_len) == ET_OK;
}

#ifdef ET_FUZZ_REPLAY
/* For the replay test: free what ckpt_setup made (a fuzzer never exits). */
static void ckpt_teardown(void) {
    free(ckpt_fx.ref);
    free(ckpt_fx.arena);
    et_model_free(ckpt_fx.m);
    memset(&ckpt_fx, 0, sizeof ckpt_fx);
}
#endif

static int et_fuzz_ckpt(const uint8_t *d, size_t n) {
    if (!ckpt_setup()) {
        ET_FUZZ_ASSERT(!"checkpoint fixture could not be set up");
        return 0;
    }
    ckpt_fixture *f = &ckpt_fx;
    float loss, out[2 * 3];
    /* libFuzzer may pass NULL for an empty input; the API wants a buffer */
    (void)et_trainer_state_load(f->t, n ? d : (const uint8_t *)"", n);

    /* graft: valid magic, version and layout hash (16 bytes), fuzzed rest,
     * exact length, CRC repaired */
    unsigned char *g = malloc(f->ref_len);
    if (!g) return 0;
    memcpy(g, f->ref, f->ref_len);
    size_t k = n < f->ref_len - 20 ? n : f->ref_len - 20;
    if (k) memcpy(g + 16, d, k);
    et_fuzz_put32(g + f->ref_len - 4, et_fuzz_crc32(g, f->ref_len - 4));
    if (et_trainer_state_load(f->t, g, f->ref_len) == ET_OK) {
        /* garbage weights, moments and rates: statuses, never a crash */
        (void)et_trainer_step(f->t, f->x, f->y, &loss);
        (void)et_trainer_eval(f->t, f->x, f->y, out, &loss);
        et_model *e = NULL;
        if (et_trainer_export(f->t, &e) == ET_OK) et_model_free(e);
        size_t sz = 0;
        ET_FUZZ_ASSERT(et_trainer_state_size(f->t, &sz) == ET_OK && sz == f->ref_len);
        /* non-finite garbage weights are refused, anything else is saved */
        et_status st = et_trainer_state_save(f->t, g, f->ref_len);
        ET_FUZZ_ASSERT(st == ET_OK || st == ET_ERR_NUMERIC);
    }
    free(g);
    /* back to the reference, so every input starts from the same trainer */
    ET_FUZZ_ASSERT(et_trainer_state_load(f->t, f->ref, f->ref_len) == ET_OK);
    return 0;
}

#ifndef ET_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return et_fuzz_ckpt(d, n); }
#endif
