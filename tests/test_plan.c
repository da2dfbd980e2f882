/* Planner and session: exact arena bytes, reuse ratio on MobileNetV2,
 * too-small arenas, misaligned arenas and resolution changes. */
#include <stdlib.h>
#include "edgetune.h"
#include "harness.h"
#include "zoo/zoo.h"

static et_model *mnv2(size_t classes, size_t hw) {
    et_model *raw = NULL, *m = NULL;
    if (et_zoo_mobilenet_v2(classes, hw, hw, 1.0f, 7, 1, &raw) != ET_OK) return NULL;
    if (et_model_fold(raw, &m) != ET_OK) m = NULL;
    et_model_free(raw);
    return m;
}

static void test_mobilenet_v2_planner_ratio(void) {
    et_model *m = mnv2(1000, 224);
    CHECK(m);
    et_plan p;
    et_config cfg = {1, 224, 224, 1};
    /* the liveness planner over every tensor (fusion drops some: test_fuse.c) */
    et_exec_options alone = {ET_ISA_AUTO, NULL, 1};
    CHECK_OK(et_model_plan_ex(m, &cfg, &alone, &p));
    double ratio = (double)p.activations / (double)p.activations_bound;
    printf("    MobileNetV2-1.0@224 b1: planned %zu B, bound %zu B, naive %zu B, ratio %.4f, total arena %zu B\n",
           p.activations, p.activations_bound, p.activations_naive, ratio, p.total);
    CHECK(p.activations >= p.activations_bound);
    CHECK(ratio <= 1.10);
    CHECK(p.activations_naive > 3 * p.activations);
#ifdef ET_DEBUG_ARENA
    CHECK(p.total == ET_ALIGN - 1 + p.header + p.weights + p.activations + ET_ALIGN); /* + the guard */
#else
    CHECK(p.total == ET_ALIGN - 1 + p.header + p.weights + p.activations);
#endif
    et_model_free(m);
}

static void test_exact_bytes_any_alignment(void) {
    et_model *m = mnv2(10, 32);
    CHECK(m);
    et_config cfg = {2, 32, 32, 1};
    et_plan p;
    CHECK_OK(et_model_plan(m, &cfg, &p));
    unsigned char *buf = malloc(p.total + ET_ALIGN);
    CHECK(buf);
    unsigned char *aligned = (unsigned char *)(((uintptr_t)buf + ET_ALIGN - 1) & ~(uintptr_t)(ET_ALIGN - 1));
    float *ref = NULL;
    size_t out_n = 0;
    for (size_t mis = 0; mis < ET_ALIGN; mis++) {
        et_session *s = NULL;
        size_t need = 0;
        CHECK_OK(et_session_prepare(m, &cfg, aligned + mis, p.total, &s, &need));
        CHECK(need == p.total);
        et_tensor in, out;
        CHECK_OK(et_session_input(s, 0, &in));
        CHECK(in.shape.n == 2 && in.shape.h == 32 && in.shape.c == 3);
        /* every buffer the session hands out lies inside the caller's arena */
        CHECK((unsigned char *)in.data >= aligned + mis && (unsigned char *)(in.data + 2 * 32 * 32 * 3) <= aligned + mis + p.total);
        CHECK(((uintptr_t)in.data % ET_ALIGN) == 0);
        t_fill(in.data, 2 * 32 * 32 * 3, 5);
        CHECK_OK(et_session_run(s));
        CHECK_OK(et_session_output(s, 0, &out));
        CHECK(out.shape.n == 2 && out.shape.c == 10);
        if (!ref) {
            out_n = 20;
            ref = malloc(out_n * sizeof *ref);
            memcpy(ref, out.data, out_n * sizeof *ref);
        } else {
            CHECK(memcmp(ref, out.data, out_n * sizeof *ref) == 0);
        }
    }
    /* one byte short at the worst alignment fails and reports the need */
    et_session *s = (et_session *)1;
    size_t need = 0;
    CHECK_ST(et_session_prepare(m, &cfg, aligned + 1, p.total - 1, &s, &need), ET_ERR_ARENA_TOO_SMALL);
    CHECK(s == NULL && need == p.total);
    CHECK(strstr(et_model_error(m), "too small") != NULL);
    free(ref);
    free(buf);
    et_model_free(m);
}

static void test_other_resolution_and_batch(void) {
    et_model *m = mnv2(5, 64);
    CHECK(m);
    et_plan small, big;
    et_config c1 = {1, 64, 64, 1}, c2 = {3, 96, 128, 1};
    CHECK_OK(et_model_plan(m, &c1, &small));
    CHECK_OK(et_model_plan(m, &c2, &big));
    CHECK(big.activations > small.activations);
    void *arena = malloc(big.total);
    et_session *s;
    CHECK_OK(et_session_prepare(m, &c2, arena, big.total, &s, NULL));
    et_tensor out;
    CHECK_OK(et_session_output(s, 0, &out));
    CHECK(out.shape.n == 3 && out.shape.h == 1 && out.shape.w == 1 && out.shape.c == 5);
    et_tensor in;
    CHECK_OK(et_session_input(s, 0, &in));
    t_fill(in.data, 3 * 96 * 128 * 3, 9);
    CHECK_OK(et_session_run(s));
    for (size_t i = 0; i < 15; i++) CHECK(isfinite(out.data[i]));
    /* a resolution the graph cannot take is a shape error naming a node */
    et_config tiny = {1, 1, 1, 1};
    et_plan p;
    et_status st = et_model_plan(m, &tiny, &p);
    CHECK(st == ET_OK || st == ET_ERR_SHAPE);
    et_config half = {1, 64, 0, 1};
    CHECK_ST(et_model_plan(m, &half, &p), ET_ERR_INVALID_ARG);
    free(arena);
    et_model_free(m);
}

static void test_misuse(void) {
    et_plan p;
    CHECK_ST(et_model_plan(NULL, NULL, &p), ET_ERR_INVALID_ARG);
    CHECK_ST(et_session_run(NULL), ET_ERR_INVALID_ARG);
    et_tensor t;
    CHECK_ST(et_session_input(NULL, 0, &t), ET_ERR_INVALID_ARG);
    CHECK(et_session_output_count(NULL) == 0);
    et_model *m = mnv2(4, 32);
    CHECK(m);
    CHECK_OK(et_model_plan(m, NULL, &p));
    void *arena = malloc(p.total);
    et_session *s;
    CHECK_ST(et_session_prepare(m, NULL, NULL, p.total, &s, NULL), ET_ERR_INVALID_ARG);
    CHECK_OK(et_session_prepare(m, NULL, arena, p.total, &s, NULL));
    CHECK_ST(et_session_input(s, 1, &t), ET_ERR_NOT_FOUND);
    CHECK_ST(et_session_output(s, 3, &t), ET_ERR_NOT_FOUND);
    float in[10], out[4];
    CHECK_ST(et_session_run_copy(s, in, 10, out, 4), ET_ERR_SHAPE);
    CHECK(strstr(et_session_error(s), "32") != NULL || strstr(et_session_error(s), "3072") != NULL);
    /* a failed prepare leaves no usable handle */
    CHECK_ST(et_session_prepare(m, NULL, arena, 10, &s, NULL), ET_ERR_ARENA_TOO_SMALL);
    CHECK(s == NULL);
    CHECK_ST(et_session_run(s), ET_ERR_INVALID_ARG);
    free(arena);
    et_model_free(m);
}

/* Debug builds (make sanitize) guard the bytes after the pool: a write
 * there is reported with the node that made it. */
static void test_debug_arena_guard(void) {
#ifdef ET_DEBUG_ARENA
    et_model *m = mnv2(4, 32);
    CHECK(m);
    et_plan p;
    CHECK_OK(et_model_plan(m, NULL, &p));
    unsigned char *mem = malloc(p.total + ET_ALIGN);
    unsigned char *base = (unsigned char *)(((uintptr_t)mem + ET_ALIGN - 1) & ~(uintptr_t)(ET_ALIGN - 1));
    et_session *s;
    CHECK_OK(et_session_prepare(m, NULL, base, p.total, &s, NULL));
    CHECK_OK(et_session_run(s));
    /* the guard is the last ET_ALIGN bytes of the used arena; simulate an overrun */
    base[p.total - (ET_ALIGN - 1) - 3] ^= 0xff;
    CHECK_ST(et_session_run(s), ET_ERR_STATE);
    CHECK(strstr(et_session_error(s), "arena") != NULL);
    free(mem);
    et_model_free(m);
#else
    printf("    built without ET_DEBUG_ARENA (make sanitize builds with it)\n");
#endif
}

int main(void) {
    RUN(test_mobilenet_v2_planner_ratio);
    RUN(test_exact_bytes_any_alignment);
    RUN(test_other_resolution_and_batch);
    RUN(test_misuse);
    RUN(test_debug_arena_guard);
    return t_summary(__FILE__);
}
