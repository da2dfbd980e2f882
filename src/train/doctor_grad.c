/* The doctor's gradient check: in every trainable layer, the backward pass
 * against central finite differences of the real model's loss (the loss
 * and the difference quotient in double), at the parameters with the
 * largest gradients, where a wrong backward shows most clearly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/doctor.h"

typedef struct pick { uint32_t p; size_t i; float g; } pick;

/* The k entries of node's trained parameters with the largest |gradient|. */
static size_t pick_largest(const et_trainer *t, uint32_t node, pick *best, size_t k) {
    size_t n = 0;
    for (uint32_t s = 0; s < ET_MAX_PARAMS; s++) {
        int32_t p = t->nodes[node].p[s];
        if (p < 0 || !t->params[p].trained) continue;
        const tparam *tp = &t->params[p];
        for (size_t i = 0; i < tp->count; i++) {
            float a = fabsf(tp->g[i]);
            if (n == k && a <= fabsf(best[n - 1].g)) continue;
            size_t j = n < k ? n++ : n - 1;
            while (j > 0 && fabsf(best[j - 1].g) < a) { best[j] = best[j - 1]; j--; }
            best[j] = (pick){(uint32_t)p, i, tp->g[i]};
        }
    }
    return n;
}

static et_status loss_at(et_trainer *t, uint32_t node, float *w, float v, const float *x, const void *y, double *loss) {
    *w = v;
    et_train_repack_node(t, node);
    return et_train_probe_loss(t, x, y, loss);
}

et_status doc_check_gradients(doc_ctx *c, et_check *out) {
    et_trainer *t;
    void *arena;
    et_status st = doc_trainer(c, &c->tc, &t, &arena);
    if (st != ET_OK) return st;
    size_t k = c->cfg->grad_params ? c->cfg->grad_params : 8;
    pick *picks = malloc(k * sizeof *picks);
    double l0 = 0.0;
    st = picks ? doc_batch(c, 0) : ET_ERR_NO_MEMORY;
    if (st == ET_OK) {
        memcpy(t->data[0], c->x, c->batch * c->per * sizeof *c->x);
        st = et_train_probe_pass(t, c->y, NULL, &l0);
    }
    if (st == ET_OK && !isfinite(l0)) {
        free(picks);
        doc_free_trainer(c, t, arena, st);
        doc_set(out, ET_CHECK_FAIL, NAN, 0.0, "loss");
        doc_measured(out, "the loss is %g: nothing to compare", l0);
        doc_advice(out, "see the nonfinite check");
        return ET_OK;
    }
    /* Float forward: the loss carries rounding noise of a few 1e-8 |loss|,
     * so a difference quotient over 2h is trusted to about gtol. */
    const double h_base = 1e-3, gtol = 4e-7 * fmax(1.0, fabs(l0)) / h_base, rtol = 2e-2;
    size_t layers = 0, bad_layers = 0, checked = 0, judged = 0;
    double worst_frac = 1.0, worst_err = 0.0, worst_a = 0.0, worst_n = 0.0;
    const char *worst_name = "";
    for (uint32_t node = t->first; st == ET_OK && node < t->n_exec; node++) {
        if (t->nodes[node].role != ROLE_SUFFIX) continue;
        size_t n = pick_largest(t, node, picks, k);
        if (!n) continue;
        layers++;
        size_t agree = 0, here = 0;
        double layer_err = 0.0, la = 0.0, ln = 0.0;
        for (size_t j = 0; j < n && st == ET_OK; j++) {
            float *w = &t->params[picks[j].p].w[picks[j].i], w0 = *w;
            double h = h_base * fmax(1.0, fabs((double)w0)), lp = 0.0, lm = 0.0;
            st = loss_at(t, node, w, (float)(w0 + h), c->x, c->y, &lp);
            if (st == ET_OK) st = loss_at(t, node, w, (float)(w0 - h), c->x, c->y, &lm);
            double hp = (double)(float)(w0 + h) - (double)w0, hm = (double)w0 - (double)(float)(w0 - h);
            *w = w0;
            et_train_repack_node(t, node);
            double num = (lp - lm) / (hp + hm), ana = picks[j].g;
            checked++;
            double scale = fmax(fabs(num), fabs(ana));
            if (scale <= 5.0 * gtol) continue; /* below the noise floor: cannot judge */
            here++;
            double e = fabs(num - ana) / scale;
            if (e <= rtol || fabs(num - ana) <= gtol) agree++;
            if (e > layer_err) { layer_err = e; la = ana; ln = num; }
        }
        judged += here;
        double frac = here ? (double)agree / (double)here : 1.0;
        if (here && frac < 0.75) bad_layers++;
        if (here && (frac < worst_frac || (frac == worst_frac && layer_err > worst_err))) {
            worst_frac = frac; worst_err = layer_err; worst_a = la; worst_n = ln;
            worst_name = t->m->nodes[node].name ? t->m->nodes[node].name : "?";
        }
    }
    free(picks);
    doc_free_trainer(c, t, arena, st);
    if (st != ET_OK) return st == ET_ERR_NO_MEMORY ? et_fail(c->err, c->err_len, st, "doctor: no memory") : st;
    if (!judged) {
        doc_set(out, ET_CHECK_SKIP, 0.0, 0.0, "");
        doc_measured(out, "%zu parameters in %zu layers checked, every gradient below the noise floor %.2g: nothing to judge", checked, layers, 5.0 * gtol);
        return ET_OK;
    }
    et_check_status res = bad_layers ? ET_CHECK_FAIL : ET_CHECK_PASS;
    doc_set(out, res, worst_err, 0.0, bad_layers ? worst_name : "");
    doc_measured(out, "%zu parameters in %zu trainable layers (%zu above the noise floor): worst layer '%s' agrees on %.0f%%, largest relative error %.3g (backward %.4g, finite difference %.4g)",
                 checked, layers, judged, worst_name, 100.0 * worst_frac, worst_err, worst_a, worst_n);
    if (res != ET_CHECK_PASS)
        doc_advice(out, "the backward pass of '%s' disagrees with finite differences in %zu layer(s): a bug in that layer's backward (or custom weights it shares)", worst_name, bad_layers);
    return ET_OK;
}
