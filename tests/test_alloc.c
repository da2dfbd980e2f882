/* Promise 1: after prepare, running a model performs zero heap allocations.
 * This binary is linked with --wrap for malloc/calloc/realloc/free so every
 * heap call made anywhere in the process is counted. */
#include <stdlib.h>
#include "edgetune.h"
#include "harness.h"
#include "zoo/zoo.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

static unsigned long heap_calls;
void *__wrap_malloc(size_t n) { heap_calls++; return __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t s) { heap_calls++; return __real_calloc(n, s); }
void *__wrap_realloc(void *p, size_t n) { heap_calls++; return __real_realloc(p, n); }
void __wrap_free(void *p) { if (p) heap_calls++; __real_free(p); }

/* The counter sees the library's own heap calls (planning allocates). */
static void test_wrapper_counts(void) {
    et_model *m = NULL;
    CHECK_OK(et_zoo_mobilenet_v2(10, 32, 32, 0.5f, 3, 0, &m));
    unsigned long before = heap_calls;
    et_plan p;
    CHECK_OK(et_model_plan(m, NULL, &p));
    CHECK(heap_calls > before);
    et_model_free(m);
}

static void run_zero_alloc(int with_bn, size_t batch, size_t hw) {
    et_model *m = NULL;
    CHECK_OK(et_zoo_mobilenet_v2(10, hw, hw, 0.5f, 3, with_bn, &m));
    et_config cfg = {batch, hw, hw, 1};
    et_plan p;
    CHECK_OK(et_model_plan(m, &cfg, &p));
    void *arena = malloc(p.total);
    CHECK(arena);
    et_session *s;
    CHECK_OK(et_session_prepare(m, &cfg, arena, p.total, &s, NULL));
    et_tensor in, out;
    CHECK_OK(et_session_input(s, 0, &in));
    CHECK_OK(et_session_output(s, 0, &out));
    size_t n_in = batch * hw * hw * 3, n_out = batch * 10;
    t_fill(in.data, n_in, 11);
    float host_in[2 * 48 * 48 * 3], host_out[20];
    t_fill(host_in, n_in, 12);
    unsigned long before = heap_calls;
    for (int r = 0; r < 3; r++) {
        CHECK_OK(et_session_run(s));
        CHECK_OK(et_session_run_copy(s, host_in, n_in, host_out, n_out));
    }
    unsigned long during = heap_calls - before;
    CHECKF(during == 0, "%lu heap calls during 6 runs", during);
    free(arena);
    et_model_free(m);
}

static void test_zero_alloc_folded(void) { run_zero_alloc(0, 1, 48); }
static void test_zero_alloc_unfolded_batch2(void) { run_zero_alloc(1, 2, 48); }

/* Training steps (forward, backward, optimizer) allocate nothing either. */
static void test_zero_alloc_training(void) {
    et_model *m = NULL;
    CHECK_OK(et_zoo_mobilenet_v2(10, 32, 32, 0.35f, 3, 1, &m));
    et_train_config c;
    et_train_config_default(&c);
    c.batch = 2;
    c.freeze_to = -3;
    c.optim.clip_norm = 1.0f;
    et_plan p;
    CHECK_OK(et_model_plan_train(m, &c, &p));
    void *arena = malloc(p.total);
    CHECK(arena);
    et_trainer *t;
    CHECK_OK(et_trainer_prepare(m, &c, arena, p.total, &t, NULL));
    float x[2 * 32 * 32 * 3], out[20], loss;
    int32_t y[2] = {1, 7};
    t_fill(x, sizeof x / 4, 4);
    unsigned long before = heap_calls;
    for (int s = 0; s < 3; s++) CHECK_OK(et_trainer_step(t, x, y, &loss));
    CHECK_OK(et_trainer_eval(t, x, y, out, &loss));
    CHECK_OK(et_trainer_set_lr(t, 1e-4f, 0.9f));
    unsigned long during = heap_calls - before;
    CHECKF(during == 0, "%lu heap calls during 3 training steps", during);
    /* an attached monitor (finetune --monitor) keeps it that way */
    et_monitor *mon;
    static et_group_update u[128];
    CHECK_OK(et_monitor_new(t, &mon));
    CHECK(et_trainer_group_count(t) <= 128);
    before = heap_calls;
    CHECK_OK(et_trainer_set_monitor(t, mon));
    CHECK_OK(et_monitor_snapshot(mon));
    for (int s = 0; s < 2; s++) CHECK_OK(et_trainer_step(t, x, y, &loss));
    CHECK_OK(et_monitor_updates(mon, u, 128));
    et_monitor_reset(mon);
    during = heap_calls - before;
    CHECKF(during == 0, "%lu heap calls during 2 monitored training steps", during);
    et_monitor_free(mon);
    free(arena);
    et_model_free(m);
}

int main(void) {
    RUN(test_wrapper_counts);
    RUN(test_zero_alloc_folded);
    RUN(test_zero_alloc_unfolded_batch2);
    RUN(test_zero_alloc_training);
    return t_summary(__FILE__);
}
