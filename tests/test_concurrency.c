/* Two different models in two threads at once (own pools and one shared
 * pool), concurrent loads of one read-only .etm buffer, and two trainers
 * stepping in parallel. Built by `make tsan` under ThreadSanitizer. */
#include <pthread.h>
#include <stdlib.h>
#include "edgetune.h"
#include "harness.h"
#include "zoo/zoo.h"

static et_model *mnv2(size_t hw) {
    et_model *raw = NULL, *m = NULL;
    if (et_zoo_mobilenet_v2(10, hw, hw, 0.5f, 5, 1, &raw) != ET_OK) return NULL;
    if (et_model_fold(raw, &m) != ET_OK) m = NULL;
    et_model_free(raw);
    return m;
}

/* conv + BN + ReLU + global pool + linear: small and different from mnv2. */
static et_model *small(void) {
    float w[8 * 27], g[8], be[8] = {0}, mu[8] = {0}, var[8], fw[10 * 8], fb[10] = {0};
    t_fill(w, 8 * 27, 3);
    t_fill(fw, 80, 4);
    for (int i = 0; i < 8; i++) { g[i] = 1.0f; var[i] = 1.0f; }
    et_builder *b;
    if (et_builder_new(3, 16, 16, &b) != ET_OK) return NULL;
    et_conv2d_desc c = {8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, {ET_ACT_NONE, 0, 0}};
    int v, bn, r, gp, fc, ok = 1;
    ok &= et_builder_conv2d(b, "conv", 0, &c, w, NULL, &v) == ET_OK;
    ok &= et_builder_batchnorm(b, "bn", v, 1e-5f, g, be, mu, var, &bn) == ET_OK;
    ok &= et_builder_act(b, "relu", bn, et_act_relu(), &r) == ET_OK;
    ok &= et_builder_global_avgpool(b, "gap", r, &gp) == ET_OK;
    ok &= et_builder_linear(b, "fc", gp, 10, fw, fb, et_act_none(), &fc) == ET_OK;
    et_model *m = NULL;
    if (ok) et_builder_finish(b, &m);
    et_builder_free(b);
    return m;
}

typedef struct job {
    const et_model *m;
    et_threadpool *pool;
    size_t threads, hw;
    float out[10];
    int ok;
} job;

/* Plan, prepare and run m three times on a fixed input; keeps output 0. */
static void *run_job(void *p) {
    job *j = p;
    et_config cfg = {1, j->hw, j->hw, j->threads};
    et_exec_options opt = {ET_ISA_AUTO, j->pool, 0};
    et_plan pl;
    j->ok = 0;
    if (et_model_plan_ex(j->m, &cfg, &opt, &pl) != ET_OK) return NULL;
    void *arena = malloc(pl.total);
    et_session *s;
    if (arena && et_session_prepare_ex(j->m, &cfg, &opt, arena, pl.total, &s, NULL) == ET_OK) {
        et_tensor in, o;
        j->ok = et_session_input(s, 0, &in) == ET_OK;
        for (int r = 0; r < 3 && j->ok; r++) {
            t_fill(in.data, j->hw * j->hw * 3, 9);
            j->ok = et_session_run(s) == ET_OK && et_session_output(s, 0, &o) == ET_OK;
            if (j->ok) memcpy(j->out, o.data, sizeof j->out);
        }
    }
    free(arena);
    return NULL;
}

static void test_two_models_two_threads(void) {
    et_model *a = mnv2(32), *b = small();
    CHECK(a && b);
    job ra = {a, NULL, 1, 32, {0}, 0}, rb = {b, NULL, 1, 16, {0}, 0};
    run_job(&ra);
    run_job(&rb);
    CHECK(ra.ok && rb.ok);
    et_threadpool *p1, *p2;
    CHECK_OK(et_threadpool_create(3, &p1));
    CHECK_OK(et_threadpool_create(2, &p2));
    for (int shared = 0; shared < 3; shared++) {
        /* 0: own pools, 1: one shared pool, 2: no pool (caller threads only) */
        et_threadpool *pa = shared == 2 ? NULL : p1, *pb = shared == 0 ? p2 : shared == 1 ? p1 : NULL;
        job ja = {a, pa, 3, 32, {0}, 0}, jb = {b, pb, 2, 16, {0}, 0};
        pthread_t ta, tb;
        CHECK(pthread_create(&ta, NULL, run_job, &ja) == 0);
        CHECK(pthread_create(&tb, NULL, run_job, &jb) == 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        CHECKF(ja.ok && jb.ok, "pool mode %d", shared);
        CHECKF(memcmp(ja.out, ra.out, sizeof ra.out) == 0 && memcmp(jb.out, rb.out, sizeof rb.out) == 0,
               "pool mode %d: outputs differ from the single-threaded run", shared);
    }
    et_threadpool_free(p1);
    et_threadpool_free(p2);
    et_model_free(a);
    et_model_free(b);
}

typedef struct load_job { const unsigned char *buf; size_t len; int ok; } load_job;
static void *load_main(void *p) {
    load_job *j = p;
    j->ok = 1;
    for (int r = 0; r < 5 && j->ok; r++) {
        et_model *m = NULL;
        char err[128];
        j->ok = et_model_load_buffer(j->buf, j->len, &m, err, sizeof err) == ET_OK;
        if (j->ok) {
            job run = {m, NULL, 1, 16, {0}, 0};
            run_job(&run);
            j->ok = run.ok;
        }
        et_model_free(m);
    }
    return NULL;
}

/* Zero-copy loads share the caller's buffer: many readers, no writer. */
static void test_concurrent_loads_of_one_buffer(void) {
    et_model *m = small();
    CHECK(m);
    size_t len = 0;
    CHECK_OK(et_model_save_buffer(m, NULL, 0, &len));
    unsigned char *buf = aligned_alloc(64, (len + 63) / 64 * 64);
    CHECK(buf);
    CHECK_OK(et_model_save_buffer(m, buf, len, &len));
    load_job j[3] = {{buf, len, 0}, {buf, len, 0}, {buf, len, 0}};
    pthread_t t[3];
    for (int i = 0; i < 3; i++) CHECK(pthread_create(&t[i], NULL, load_main, &j[i]) == 0);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 3; i++) CHECK(j[i].ok);
    free(buf);
    et_model_free(m);
}

typedef struct train_job { const et_model *m; float loss; int ok; } train_job;
static void *train_main(void *p) {
    train_job *j = p;
    et_train_config c;
    et_train_config_default(&c);
    c.batch = 4;
    c.freeze_to = 0;
    et_plan pl;
    j->ok = 0;
    if (et_model_plan_train(j->m, &c, &pl) != ET_OK) return NULL;
    void *arena = malloc(pl.total);
    et_trainer *t;
    if (arena && et_trainer_prepare(j->m, &c, arena, pl.total, &t, NULL) == ET_OK) {
        float x[4 * 16 * 16 * 3];
        int32_t y[4] = {0, 3, 5, 9};
        t_fill(x, sizeof x / sizeof *x, 21);
        j->ok = 1;
        for (int s = 0; s < 5 && j->ok; s++) j->ok = et_trainer_step(t, x, y, &j->loss) == ET_OK;
    }
    free(arena);
    return NULL;
}

/* Two trainers of one (shared, read-only) model step at the same time and
 * reach the same loss: training keeps all its state in its own arena. */
static void test_two_trainers_one_model(void) {
    et_model *m = small();
    CHECK(m);
    train_job a = {m, 0, 0}, b = {m, 0, 0};
    pthread_t ta, tb;
    CHECK(pthread_create(&ta, NULL, train_main, &a) == 0);
    CHECK(pthread_create(&tb, NULL, train_main, &b) == 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(a.ok && b.ok);
    CHECK(memcmp(&a.loss, &b.loss, sizeof a.loss) == 0);
    et_model_free(m);
}

int main(void) {
    RUN(test_two_models_two_threads);
    RUN(test_concurrent_loads_of_one_buffer);
    RUN(test_two_trainers_one_model);
    return t_summary(__FILE__);
}
