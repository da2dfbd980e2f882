/* Fused expand/depthwise/project blocks give the same bits as running each
 * node on its own, for every ISA, batch, input size and thread count. */
#include <stdlib.h>
#include "edgetune.h"
#include "fuse.h"
#include "harness.h"
#include "zoo/zoo.h"

static et_model *mnv2(size_t hw, float width) {
    et_model *raw = NULL, *m = NULL;
    if (et_zoo_mobilenet_v2(10, hw, hw, width, 5, 1, &raw) != ET_OK) return NULL;
    if (et_model_fold(raw, &m) != ET_OK) m = NULL;
    et_model_free(raw);
    return m;
}

/* All outputs of m for one configuration; *blocks: how many blocks fused. */
static float *run(et_model *m, et_isa isa, int unfused, size_t batch, size_t hw, size_t threads, et_threadpool *pool,
                  size_t *count, size_t *blocks) {
    et_config cfg = {batch, hw, hw, threads};
    et_exec_options opt = {isa, pool, unfused};
    et_plan p;
    et_session *s;
    float *out = NULL;
    if (et_model_plan_ex(m, &cfg, &opt, &p) != ET_OK) return NULL;
    void *arena = malloc(p.total);
    if (arena && et_session_prepare_ex(m, &cfg, &opt, arena, p.total, &s, NULL) == ET_OK) {
        et_tensor in, o;
        et_session_input(s, 0, &in);
        t_fill(in.data, batch * hw * hw * 3, (unsigned)(hw + batch));
        *blocks = 0; /* blocks are counted by the node that starts each */
        for (size_t i = 0; i < et_model_node_count(m); i++) *blocks += et_session_node_fused(s, i) == 1;
        if (et_session_run(s) == ET_OK && et_session_output(s, 0, &o) == ET_OK) {
            *count = o.shape.n * o.shape.h * o.shape.w * o.shape.c;
            out = malloc(*count * sizeof *out);
            if (out) memcpy(out, o.data, *count * sizeof *out);
        }
    }
    free(arena);
    return out;
}

static void test_fused_equals_unfused(void) {
    static const et_isa isas[] = {ET_ISA_GENERIC, ET_ISA_AVX2, ET_ISA_AVX512, ET_ISA_NEON};
    static const size_t sizes[] = {32, 45, 64};
    et_threadpool *pool;
    CHECK_OK(et_threadpool_create(3, &pool));
    for (size_t si = 0; si < 3; si++) {
        et_model *m = mnv2(sizes[si], si == 1 ? 0.35f : 1.0f);
        CHECK(m);
        for (size_t ii = 0; m && ii < 4; ii++) {
            if (!et_kernels_for((int)isas[ii], NULL, 0)) continue; /* not this CPU or build */
            for (size_t batch = 1; batch <= 2; batch++) {
                size_t n0 = 0, n1 = 0, b0 = 0, b1 = 0;
                float *ref = run(m, isas[ii], 1, batch, sizes[si], 1, NULL, &n0, &b0);
                CHECK(ref && b0 == 0);
                for (size_t threads = 1; ref && threads <= 3; threads++) {
                    float *got = run(m, isas[ii], 0, batch, sizes[si], threads, pool, &n1, &b1);
                    CHECKF(got && n1 == n0 && memcmp(got, ref, n0 * sizeof *ref) == 0,
                           "%s %zux%zu batch %zu, %zu threads: fused output differs", et_isa_name(isas[ii]), sizes[si],
                           sizes[si], batch, threads);
                    /* MobileNetV2 has 17 inverted-residual blocks (the first without an expand conv) */
                    CHECKF(b1 == 17, "%zu blocks fused", b1);
                    free(got);
                }
                free(ref);
            }
        }
        et_model_free(m);
    }
    et_threadpool_free(pool);
}

/* The intermediate tensors of fused blocks take no arena: MobileNetV2@224
 * plans a smaller activation pool fused than unfused. */
static void test_fused_plan_is_smaller(void) {
    et_model *m = mnv2(224, 1.0f);
    CHECK(m);
    et_config cfg = {1, 224, 224, 2};
    et_exec_options fused = {ET_ISA_AUTO, NULL, 0}, alone = {ET_ISA_AUTO, NULL, 1};
    et_plan pf, pu;
    CHECK_OK(et_model_plan_ex(m, &cfg, &fused, &pf));
    CHECK_OK(et_model_plan_ex(m, &cfg, &alone, &pu));
    printf("    MobileNetV2@224 activations: %zu bytes fused, %zu unfused\n", pf.activations, pu.activations);
    CHECK(pf.activations < pu.activations);
    et_model_free(m);
}

int main(void) {
    RUN(test_fused_equals_unfused);
    RUN(test_fused_plan_is_smaller);
    return t_summary(__FILE__);
}
