/* Learning-rate / momentum schedules (fastai's one-cycle, flat-cos, step,
 * constant) as pure functions of the step index, so a resumed run replays
 * exactly the same values. No trainer state and no I/O here. */
#include <math.h>
#include <string.h>
#include "edgetune.h"

static const double PI = 3.14159265358979323846;

void et_schedule_default(et_schedule *s, et_sched_kind kind, float lr) {
    if (!s) return;
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->lr = lr;
    s->div = 25.0f;
    s->div_final = 1e5f;
    s->pct_start = kind == ET_SCHED_FLATCOS ? 0.75f : 0.25f;
    s->mom_max = 0.95f;
    s->mom_min = 0.85f;
    s->momentum = 0.9f;
    s->gamma = 0.1f;
    s->step_size = 0;
}

/* fastai's SchedCos: from a at p = 0 to b at p = 1. */
static double cos_anneal(double a, double b, double p) { return b + (a - b) / 2.0 * (1.0 + cos(PI * p)); }

/* Two-phase schedule (fastai's combine_scheds with pcts [pct, 1 - pct]):
 * which phase position p falls in and where inside it. p = 1 is the end of
 * the last phase, as fastai special-cases. */
static int phase(double p, double pct, double *q) {
    if (p >= 1.0) { *q = 1.0; return 1; }
    if (p >= pct) { *q = pct >= 1.0 ? 1.0 : (p - pct) / (1.0 - pct); return 1; }
    *q = p / pct;
    return 0;
}

et_status et_schedule_at(const et_schedule *s, uint64_t i, uint64_t n, float *lr, float *momentum) {
    if (!s || n == 0 || !(s->lr >= 0.0f) || !isfinite(s->lr)) return ET_ERR_INVALID_ARG;
    double p = i >= n ? 1.0 : (double)i / (double)n, q, r, m;
    double base = (double)s->lr;
    switch (s->kind) {
    case ET_SCHED_CONSTANT:
        r = base;
        m = (double)s->momentum;
        break;
    case ET_SCHED_ONECYCLE:
        if (!(s->div > 0.0f) || !(s->div_final > 0.0f) || !(s->pct_start >= 0.0f && s->pct_start <= 1.0f))
            return ET_ERR_INVALID_ARG;
        if (phase(p, (double)s->pct_start, &q) == 0) {
            r = cos_anneal(base / (double)s->div, base, q);
            m = cos_anneal((double)s->mom_max, (double)s->mom_min, q);
        } else {
            r = cos_anneal(base, base / (double)s->div_final, q);
            m = cos_anneal((double)s->mom_min, (double)s->mom_max, q);
        }
        break;
    case ET_SCHED_FLATCOS:
        if (!(s->div_final > 0.0f) || !(s->pct_start >= 0.0f && s->pct_start <= 1.0f)) return ET_ERR_INVALID_ARG;
        r = phase(p, (double)s->pct_start, &q) == 0 ? base : cos_anneal(base, base / (double)s->div_final, q);
        m = (double)s->momentum;
        break;
    case ET_SCHED_STEP: {
        if (!(s->gamma > 0.0f)) return ET_ERR_INVALID_ARG;
        uint64_t k = s->step_size ? (i < n ? i : n - 1) / s->step_size : 0;
        r = base * pow((double)s->gamma, (double)k);
        m = (double)s->momentum;
        break;
    }
    default:
        return ET_ERR_INVALID_ARG;
    }
    if (lr) *lr = (float)r;
    if (momentum) *momentum = (float)m;
    return ET_OK;
}

static const char *const names[] = {"constant", "onecycle", "flatcos", "step"};

const char *et_sched_name(et_sched_kind kind) {
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}

int et_sched_parse(const char *name) {
    if (!name) return -1;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcmp(names[k], name) == 0) return (int)k;
    return -1;
}
