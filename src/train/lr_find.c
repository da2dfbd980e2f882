/* LR finder bookkeeping (fastai's lr_find): the exponential sweep, the
 * debiased smoothed loss, the divergence stop and the three suggestions.
 * Pure functions: the caller owns the trainer and runs the steps. */
#include <math.h>
#include <string.h>
#include "edgetune.h"

#define MAX_POINTS 4096

et_status et_lr_finder_init(et_lr_finder *f, float start_lr, float end_lr, uint64_t num_it) {
    if (!f || !(start_lr > 0.0f) || !(end_lr > start_lr) || !isfinite(end_lr) || num_it == 0) return ET_ERR_INVALID_ARG;
    memset(f, 0, sizeof *f);
    f->start_lr = start_lr;
    f->end_lr = end_lr;
    f->num_it = num_it;
    f->beta = 0.98;
    f->div_factor = 4.0;
    f->best = INFINITY;
    return ET_OK;
}

float et_lr_finder_lr(const et_lr_finder *f, uint64_t i) {
    if (!f || f->num_it == 0) return 0.0f;
    double p = (double)i / (double)f->num_it;
    return (float)(f->start_lr * pow(f->end_lr / f->start_lr, p));
}

et_status et_lr_finder_record(et_lr_finder *f, float loss, float *smoothed, int *stop) {
    if (!f || f->num_it == 0) return ET_ERR_INVALID_ARG;
    /* fastai's AvgSmoothLoss: avg = beta avg + (1 - beta) loss from 0, so
     * dividing by 1 - beta^count removes the bias toward the zero start. */
    f->avg = f->beta * f->avg + (1.0 - f->beta) * (double)loss;
    f->count++;
    double s = f->avg / (1.0 - pow(f->beta, (double)f->count));
    if (s < f->best) f->best = s;
    if (smoothed) *smoothed = (float)s;
    if (stop) *stop = !isfinite(s) || s > f->div_factor * f->best || f->count >= f->num_it;
    return ET_OK;
}

et_status et_lr_suggest(const float *lrs, const float *losses, size_t n, uint64_t num_it, et_lr_suggestions *out) {
    if (!lrs || !losses || !out || n > MAX_POINTS) return ET_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    /* fastai looks at points [num_it / 10, len - 5): the start is noise at
     * tiny rates, the end is the divergence that stopped the sweep. */
    size_t lo = (size_t)(num_it / 10), hi = n > 5 ? n - 5 : 0;
    for (size_t i = lo; i < hi; i++)
        if (losses[i] != losses[i]) { hi = i; break; }
    if (hi < lo + 2) return ET_ERR_INVALID_ARG;
    const float *L = losses + lo, *R = lrs + lo;
    size_t m = hi - lo;

    size_t imin = 0;
    for (size_t i = 1; i < m; i++) if (L[i] < L[imin]) imin = i;
    out->minimum_idx = lo + imin;
    out->minimum_div10 = R[imin] / 10.0f;

    /* steep: the most negative slope of loss against log(lr) */
    size_t isteep = 0;
    double best_g = INFINITY;
    for (size_t i = 0; i + 1 < m; i++) {
        double g = ((double)L[i + 1] - (double)L[i]) / (log((double)R[i + 1]) - log((double)R[i]));
        if (g < best_g) { best_g = g; isteep = i; }
    }
    out->steep_idx = lo + isteep;
    out->steep = R[isteep];

    /* valley: the longest run of points with strictly decreasing losses
     * (longest decreasing subsequence ending at each point); suggest a
     * point a half-third of the way into it. The best end is updated as
     * each predecessor is examined, so its start comes from the length at
     * that moment, matching fastai's figures. */
    uint16_t lds[MAX_POINTS];
    long max_start = 0; /* may be -1 when the run starts at point 0, as in fastai */
    size_t max_end = 0;
    for (size_t i = 0; i < m; i++) lds[i] = 1;
    for (size_t i = 1; i < m; i++)
        for (size_t j = 0; j < i; j++) {
            if (L[i] < L[j] && lds[i] < lds[j] + 1) lds[i] = (uint16_t)(lds[j] + 1);
            if (lds[max_end] < lds[i]) {
                max_end = i;
                max_start = (long)max_end - (long)lds[max_end];
            }
        }
    double sections = (double)((long)max_end - max_start) / 3.0;
    long li = max_start + (long)sections + (long)(sections / 2.0);
    size_t idx = li < 0 ? 0 : (size_t)li >= m ? m - 1 : (size_t)li;
    out->valley_idx = lo + idx;
    out->valley = R[idx];
    return ET_OK;
}
