/* Schedules and LR-finder bookkeeping against values worked out by hand from
 * fastai's formulas (cosine from a to b: b + (a - b) / 2 * (1 + cos(pi p)),
 * position p = i / n, AvgSmoothLoss debiasing, the suggestion rules). */
#include <stdlib.h>
#include "edgetune.h"
#include "harness.h"

static const double M_PI_ = 3.14159265358979323846;

static int near(float got, double want, double tol) {
    double d = fabs((double)got - want);
    if (d <= tol * (fabs(want) > 1 ? fabs(want) : 1)) return 1;
    printf("    got %.9g, want %.9g\n", (double)got, want);
    return 0;
}

static void test_onecycle(void) {
    et_schedule s;
    et_schedule_default(&s, ET_SCHED_ONECYCLE, 1.0f);
    CHECK(s.div == 25.0f && s.div_final == 1e5f && s.pct_start == 0.25f && s.mom_max == 0.95f && s.mom_min == 0.85f);
    float lr, mom;
    CHECK_OK(et_schedule_at(&s, 0, 8, &lr, &mom));     /* start: lr / div, mom_max */
    CHECK(near(lr, 0.04, 1e-6) && near(mom, 0.95, 1e-6));
    CHECK_OK(et_schedule_at(&s, 1, 8, &lr, &mom));     /* p 0.125: half-way up */
    CHECK(near(lr, 0.52, 1e-6) && near(mom, 0.90, 1e-6));
    CHECK_OK(et_schedule_at(&s, 2, 8, &lr, &mom));     /* p 0.25: the peak */
    CHECK(near(lr, 1.0, 1e-6) && near(mom, 0.85, 1e-6));
    CHECK_OK(et_schedule_at(&s, 5, 8, &lr, &mom));     /* p 0.625: half-way down */
    CHECK(near(lr, 1e-5 + (1 - 1e-5) / 2, 1e-6) && near(mom, 0.90, 1e-6));
    CHECK_OK(et_schedule_at(&s, 8, 8, &lr, &mom));     /* the end: lr / div_final */
    CHECK(near(lr, 1e-5, 1e-6) && near(mom, 0.95, 1e-6));
    /* a general point of the anneal, with fine_tune's second-phase settings */
    s.lr = 2e-3f; s.div = 5.0f; s.pct_start = 0.3f;
    CHECK_OK(et_schedule_at(&s, 57, 100, &lr, &mom));
    double q = (0.57 - 0.3) / 0.7, want = 2e-8 + (2e-3 - 2e-8) / 2 * (1 + cos(M_PI_ * q));
    CHECK(near(lr, want, 1e-6));
    CHECK(near(mom, 0.95 + (0.85 - 0.95) / 2 * (1 + cos(M_PI_ * q)), 1e-6));
    CHECK_OK(et_schedule_at(&s, 0, 100, &lr, NULL));
    CHECK(near(lr, 4e-4, 1e-6));
    /* pct_start 0.99 (fine_tune's frozen epoch): still rising at p 0.5 */
    s.pct_start = 0.99f;
    CHECK_OK(et_schedule_at(&s, 50, 100, &lr, NULL));
    CHECK(near(lr, 2e-3 + (4e-4 - 2e-3) / 2 * (1 + cos(M_PI_ * 0.5 / 0.99)), 1e-6));
}

static void test_flatcos_step_constant(void) {
    et_schedule s;
    float lr, mom;
    et_schedule_default(&s, ET_SCHED_FLATCOS, 2.0f);
    CHECK(s.pct_start == 0.75f);
    for (uint64_t i = 0; i <= 6; i++) {
        CHECK_OK(et_schedule_at(&s, i, 8, &lr, &mom));
        CHECK(lr == 2.0f && mom == 0.9f);
    }
    CHECK_OK(et_schedule_at(&s, 7, 8, &lr, NULL));
    CHECK(near(lr, 2e-5 + (2 - 2e-5) / 2, 1e-6));
    CHECK_OK(et_schedule_at(&s, 8, 8, &lr, NULL));
    CHECK(near(lr, 2e-5, 1e-6));

    et_schedule_default(&s, ET_SCHED_STEP, 1.0f);
    s.step_size = 3;
    s.gamma = 0.1f;
    const double want[] = {1, 1, 1, 0.1, 0.1, 0.1, 0.01};
    for (uint64_t i = 0; i < 7; i++) {
        CHECK_OK(et_schedule_at(&s, i, 10, &lr, &mom));
        CHECK(near(lr, want[i], 1e-6) && mom == 0.9f);
    }
    et_schedule_default(&s, ET_SCHED_CONSTANT, 0.5f);
    s.momentum = 0.0f;
    CHECK_OK(et_schedule_at(&s, 3, 10, &lr, &mom));
    CHECK(lr == 0.5f && mom == 0.0f);
    CHECK_ST(et_schedule_at(&s, 0, 0, &lr, &mom), ET_ERR_INVALID_ARG);
    CHECK_ST(et_schedule_at(NULL, 0, 1, &lr, &mom), ET_ERR_INVALID_ARG);
    s.kind = (et_sched_kind)9;
    CHECK_ST(et_schedule_at(&s, 0, 1, &lr, &mom), ET_ERR_INVALID_ARG);
    CHECK(et_sched_parse("onecycle") == ET_SCHED_ONECYCLE && et_sched_parse("flatcos") == ET_SCHED_FLATCOS);
    CHECK(et_sched_parse("step") == ET_SCHED_STEP && et_sched_parse("constant") == ET_SCHED_CONSTANT);
    CHECK(et_sched_parse("linear") == -1 && strcmp(et_sched_name(ET_SCHED_FLATCOS), "flatcos") == 0);
}

static void test_lr_finder(void) {
    et_lr_finder f;
    CHECK_OK(et_lr_finder_init(&f, 1e-7f, 10.0f, 100));
    CHECK(near(et_lr_finder_lr(&f, 0), 1e-7, 1e-6));
    CHECK(near(et_lr_finder_lr(&f, 50), 1e-3, 1e-5));
    CHECK(near(et_lr_finder_lr(&f, 100), 10.0, 1e-5));
    float sm;
    int stop;
    /* debiased: a constant loss smooths to itself from the first step */
    CHECK_OK(et_lr_finder_record(&f, 2.0f, &sm, &stop));
    CHECK(near(sm, 2.0, 1e-6) && !stop);
    CHECK_OK(et_lr_finder_record(&f, 1.0f, &sm, &stop));
    CHECK(near(sm, (0.98 * 0.04 + 0.02) / (1 - 0.98 * 0.98), 1e-6) && !stop);
    /* a jump above 4x the best smoothed loss stops the sweep */
    CHECK_OK(et_lr_finder_record(&f, 300.0f, &sm, &stop));
    CHECK(sm > 4 * 1.494949 && stop);
    CHECK_OK(et_lr_finder_init(&f, 1e-7f, 10.0f, 3));
    for (int i = 0; i < 3; i++) CHECK_OK(et_lr_finder_record(&f, 1.0f, &sm, &stop));
    CHECK(stop); /* num_it steps done */
    CHECK_ST(et_lr_finder_init(&f, 1.0f, 0.5f, 10), ET_ERR_INVALID_ARG);
}

/* 100 points: losses fall 0.1 per step from point 10 to 60 with an extra
 * drop of 1 between points 39 and 40, then rise 1 per step. */
static void test_lr_suggest(void) {
    float lrs[100], losses[100];
    for (int g = 0; g < 100; g++) {
        lrs[g] = (float)(1e-7 * pow(1e8, g / 100.0));
        int i = g - 10;
        if (g < 10) losses[g] = 20.0f;
        else if (i <= 50) losses[g] = 10.0f - 0.1f * (float)i - (i >= 30 ? 1.0f : 0.0f);
        else losses[g] = 4.0f + (float)(i - 50);
    }
    et_lr_suggestions s;
    CHECK_OK(et_lr_suggest(lrs, losses, 100, 100, &s));
    CHECKF(s.minimum_idx == 60, "minimum at %zu", s.minimum_idx);
    CHECK(s.minimum_div10 == lrs[60] / 10.0f);
    CHECKF(s.steep_idx == 39, "steep at %zu", s.steep_idx);
    CHECK(s.steep == lrs[39]);
    /* valley: the decreasing run covers local points 0..50 (start -1 as in
     * fastai), sections 17, point -1 + 17 + 8 = 24, i.e. 34 */
    CHECKF(s.valley_idx == 34, "valley at %zu", s.valley_idx);
    CHECK(s.valley == lrs[34]);
    /* a NaN cuts the points short; too few left is an error */
    losses[11] = NAN;
    CHECK_ST(et_lr_suggest(lrs, losses, 100, 100, &s), ET_ERR_INVALID_ARG);
    losses[11] = 9.9f;
    CHECK_ST(et_lr_suggest(lrs, losses, 6, 100, &s), ET_ERR_INVALID_ARG);
}

int main(void) {
    RUN(test_onecycle);
    RUN(test_flatcos_step_constant);
    RUN(test_lr_finder);
    RUN(test_lr_suggest);
    return t_summary(__FILE__);
}
