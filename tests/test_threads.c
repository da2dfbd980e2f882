/* Thread pool and threaded runs: bit-identical MobileNetV2 outputs for 1..4
 * threads at every ISA level, two sessions running in two threads at once,
 * pool misuse, and idle workers that block instead of spinning. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <stdatomic.h>
#include "edgetune.h"
#include "harness.h"
#include "parallel.h"
#include "zoo/zoo.h"

static et_model *mnv2(size_t hw) {
    et_model *raw = NULL, *m = NULL;
    if (et_zoo_mobilenet_v2(100, hw, hw, 1.0f, 5, 1, &raw) != ET_OK) return NULL;
    if (et_model_fold(raw, &m) != ET_OK) m = NULL;
    et_model_free(raw);
    return m;
}

/* Output of m on input seed 4 with `threads` workers from pool at level isa. */
static int run(et_model *m, et_isa isa, size_t threads, et_threadpool *pool, size_t hw, float *out) {
    et_config cfg = {1, hw, hw, threads};
    et_exec_options opt = {isa, pool, 0};
    et_plan p;
    if (et_model_plan_ex(m, &cfg, &opt, &p) != ET_OK) return 0;
    void *arena = malloc(p.total);
    et_session *s;
    int ok = arena && et_session_prepare_ex(m, &cfg, &opt, arena, p.total, &s, NULL) == ET_OK;
    if (ok) {
        et_tensor in, o;
        et_session_input(s, 0, &in);
        t_fill(in.data, hw * hw * 3, 4);
        ok = et_session_run(s) == ET_OK && et_session_output(s, 0, &o) == ET_OK;
        if (ok) memcpy(out, o.data, 100 * sizeof *out);
    }
    free(arena);
    return ok;
}

static void test_bit_identical_1_to_4_threads(void) {
    et_model *m = mnv2(64);
    CHECK(m);
    et_threadpool *pool;
    CHECK_OK(et_threadpool_create(4, &pool));
    CHECK(et_threadpool_threads(pool) == 4);
    for (int isa = ET_ISA_GENERIC; isa < ET_ISA_COUNT; isa++) {
        float ref[100], out[100];
        if (!run(m, (et_isa)isa, 1, NULL, 64, ref)) continue; /* level not on this CPU */
        for (size_t t = 1; t <= 4; t++) {
            CHECK(run(m, (et_isa)isa, t, pool, 64, out));
            CHECKF(memcmp(ref, out, sizeof ref) == 0, "%s: %zu threads differ from 1", et_isa_name((et_isa)isa), t);
        }
    }
    et_threadpool_free(pool);
    et_model_free(m);
}

typedef struct two_arg { et_model *m; et_threadpool *pool; float out[100]; int ok; } two_arg;
static void *two_main(void *p) {
    two_arg *a = p;
    a->ok = 1;
    for (int r = 0; r < 3 && a->ok; r++) a->ok = run(a->m, ET_ISA_AUTO, 2, a->pool, 48, a->out);
    return NULL;
}

/* Two sessions in two threads, once with separate pools and once sharing one. */
static void test_two_sessions_two_threads(void) {
    et_model *m = mnv2(48);
    CHECK(m);
    float ref[100];
    CHECK(run(m, ET_ISA_AUTO, 1, NULL, 48, ref));
    et_threadpool *p1, *p2;
    CHECK_OK(et_threadpool_create(2, &p1));
    CHECK_OK(et_threadpool_create(2, &p2));
    for (int shared = 0; shared < 2; shared++) {
        two_arg a = {m, p1, {0}, 0}, b = {m, shared ? p1 : p2, {0}, 0};
        pthread_t ta, tb;
        CHECK(pthread_create(&ta, NULL, two_main, &a) == 0);
        CHECK(pthread_create(&tb, NULL, two_main, &b) == 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        CHECK(a.ok && b.ok);
        CHECK(memcmp(a.out, ref, sizeof ref) == 0 && memcmp(b.out, ref, sizeof ref) == 0);
    }
    et_threadpool_free(p1);
    et_threadpool_free(p2);
    et_model_free(m);
}

static void test_pool_misuse(void) {
    et_threadpool *p = (et_threadpool *)1;
    CHECK_ST(et_threadpool_create(0, &p), ET_ERR_INVALID_ARG);
    CHECK(p == NULL);
    CHECK_ST(et_threadpool_create(2, NULL), ET_ERR_INVALID_ARG);
    CHECK_OK(et_threadpool_create(1, &p));
    et_threadpool_free(p);
    et_threadpool_free(NULL);
    CHECK_ST(et_session_set_threadpool(NULL, NULL), ET_ERR_INVALID_ARG);
}

/* Whole-network training (conv, depthwise, pointwise, train-mode BN,
 * residual adds, linear) of a small MobileNetV2, batch 3, three SGD steps:
 * the trained weights and the losses are bit-identical for 1, 2 and 3
 * threads (and for 3 threads asked of a pool of 2). */
static int train_mnv2(size_t threads, size_t pool_threads, float *losses, et_model **out) {
    et_model *raw = NULL, *m = NULL;
    *out = NULL;
    if (et_zoo_mobilenet_v2(10, 32, 32, 0.5f, 9, 1, &raw) != ET_OK) return 0;
    et_status st = et_model_new_head(raw, 4, 3, &m);
    et_model_free(raw);
    if (st != ET_OK) return 0;
    et_train_config c;
    et_train_config_default(&c);
    c.batch = 3; c.height = 32; c.width = 32; c.threads = threads; c.freeze_to = 0;
    c.optim.kind = ET_OPTIM_SGD; c.optim.lr = 0.05f; c.optim.momentum = 0.9f;
    et_plan p;
    et_trainer *t = NULL;
    et_threadpool *pool = NULL;
    void *arena = NULL;
    int ok = et_model_plan_train(m, &c, &p) == ET_OK && (arena = malloc(p.total)) != NULL &&
             et_trainer_prepare(m, &c, arena, p.total, &t, NULL) == ET_OK;
    if (ok && pool_threads > 1) ok = et_threadpool_create(pool_threads, &pool) == ET_OK && et_trainer_set_threadpool(t, pool) == ET_OK;
    float x[3 * 32 * 32 * 3];
    int32_t y[3];
    for (int s = 0; ok && s < 3; s++) {
        t_fill(x, sizeof x / sizeof *x, (unsigned)(70 + s));
        for (int i = 0; i < 3; i++) y[i] = (s + i) % 4;
        ok = et_trainer_step(t, x, y, &losses[s]) == ET_OK;
    }
    if (ok) ok = et_trainer_export(t, out) == ET_OK;
    et_threadpool_free(pool);
    free(arena);
    et_model_free(m);
    return ok;
}

static void test_training_bit_identical_any_threads(void) {
    float l1[3], ln[3];
    et_model *one = NULL, *many = NULL;
    CHECK(train_mnv2(1, 1, l1, &one));
    const size_t cases[3][2] = {{2, 2}, {3, 4}, {3, 2}};
    for (int k = 0; k < 3 && one; k++) {
        CHECK(train_mnv2(cases[k][0], cases[k][1], ln, &many));
        CHECK(many && memcmp(l1, ln, sizeof l1) == 0);
        int same = many != NULL;
        for (size_t node = 0; same && node < et_model_node_count(one); node++)
            for (size_t slot = 0; slot < 4; slot++) {
                const float *a, *b;
                size_t na, nb;
                if (et_model_param(one, node, slot, &a, &na) != ET_OK) break;
                same = et_model_param(many, node, slot, &b, &nb) == ET_OK && na == nb && (!na || memcmp(a, b, na * 4) == 0);
                if (!same) break;
            }
        CHECK(same);
        et_model_free(many);
        many = NULL;
    }
    et_model_free(one);
}

/* et_parallel_for: every unit runs exactly once and worker ids stay below
 * the thread count, for more threads than units, more threads than the
 * pool has, and more threads than there are shares (16). */
#define PAR_UNITS_MAX 1000
typedef struct par_count { atomic_int hits[PAR_UNITS_MAX]; size_t threads; atomic_int bad_worker; } par_count;

static void count_units(void *ctx, size_t t0, size_t t1, size_t wk) {
    par_count *c = ctx;
    if (wk >= c->threads || t0 >= t1) atomic_fetch_add(&c->bad_worker, 1);
    for (size_t t = t0; t < t1; t++) atomic_fetch_add(&c->hits[t], 1);
}

static void test_parallel_for_covers_each_unit_once(void) {
    static par_count c;
    size_t pool_sizes[] = {1, 2, 20}, task_counts[] = {0, 1, 3, 17, 64, 1000}, thread_counts[] = {1, 2, 4, 20, 40};
    for (size_t ip = 0; ip < 3; ip++) {
        et_threadpool *p;
        CHECK_OK(et_threadpool_create(pool_sizes[ip], &p));
        for (size_t it = 0; it < 6; it++)
            for (size_t ith = 0; ith < 5; ith++) {
                for (size_t u = 0; u < PAR_UNITS_MAX; u++) atomic_init(&c.hits[u], 0);
                atomic_init(&c.bad_worker, 0);
                c.threads = thread_counts[ith];
                et_parallel_for(p, thread_counts[ith], task_counts[it], count_units, &c);
                int once = 1;
                for (size_t u = 0; u < PAR_UNITS_MAX; u++) once &= atomic_load(&c.hits[u]) == (u < task_counts[it]);
                CHECK(once);
                CHECK(atomic_load(&c.bad_worker) == 0);
            }
        et_threadpool_free(p);
    }
}

/* An idle pool must block: over 300 ms of wall time its three workers may
 * burn only their short post-job spin, far below one core. */
static void test_idle_workers_block(void) {
    et_threadpool *p;
    CHECK_OK(et_threadpool_create(4, &p));
    et_model *m = mnv2(32);
    CHECK(m);
    float out[100];
    CHECK(run(m, ET_ISA_AUTO, 4, p, 32, out));
    struct timespec c0, c1, d = {0, 300000000};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    nanosleep(&d, NULL);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
    printf("    idle pool of 4: %.1f ms CPU over 300 ms\n", cpu * 1e3);
    CHECK(cpu < 0.1);
    et_threadpool_free(p);
    et_model_free(m);
}

int main(void) {
    RUN(test_pool_misuse);
    RUN(test_parallel_for_covers_each_unit_once);
    RUN(test_training_bit_identical_any_threads);
    RUN(test_bit_identical_1_to_4_threads);
    RUN(test_two_sessions_two_threads);
    RUN(test_idle_workers_block);
    return t_summary(__FILE__);
}
