/* The doctor's checks that run training: initial loss, activation
 * statistics, the non-finite trap, update sizes, overfitting one batch and
 * where the learning rate sits on an LR-finder curve. Each uses its own
 * throw-away trainer, so the model and the caller's trainers never change. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/doctor.h"

static double expected_initial_loss(const doc_ctx *c) {
    if (c->tc.loss == ET_LOSS_BCE_LOGITS) return log(2.0);
    if (c->tc.loss == ET_LOSS_SOFTMAX_CE && c->classes > 1) return log((double)c->classes);
    return NAN;
}

et_status doc_check_initial_loss(doc_ctx *c, et_check *out) {
    et_trainer *t;
    void *arena;
    et_status st = doc_trainer(c, &c->tc, &t, &arena);
    if (st != ET_OK) return st;
    float *lg = malloc(c->batch * c->classes * sizeof *lg);
    double sum = 0.0, lsum = 0.0, lsq = 0.0;
    size_t nb = c->cfg->sample_batches ? c->cfg->sample_batches : 1, vals = 0;
    if (nb > c->n_batches) nb = c->n_batches;
    for (size_t b = 0; lg && b < nb && st == ET_OK; b++) {
        float l = 0.0f;
        st = doc_batch(c, b);
        if (st == ET_OK) st = et_trainer_eval(t, c->x, c->y, lg, &l);
        sum += l;
        for (size_t i = 0; i < c->batch * c->classes; i++) { lsum += lg[i]; lsq += (double)lg[i] * lg[i]; vals++; }
    }
    doc_free_trainer(c, t, arena, st);
    free(lg);
    if (!lg) return et_fail(c->err, c->err_len, ET_ERR_NO_MEMORY, "doctor: no memory");
    if (st != ET_OK) return st;
    double loss = sum / (double)nb, want = expected_initial_loss(c);
    double lmean = lsum / (double)vals, lstd = sqrt(fmax(0.0, lsq / (double)vals - lmean * lmean));
    if (isnan(want)) {
        doc_set(out, ET_CHECK_SKIP, loss, want, "");
        doc_measured(out, "initial loss %.4g (no reference value for this loss)", loss);
        return ET_OK;
    }
    et_check_status res = !isfinite(loss) ? ET_CHECK_FAIL : loss > 1.5 * want + 0.1 ? ET_CHECK_WARN : ET_CHECK_PASS;
    doc_set(out, res, loss, want, "");
    doc_measured(out, "initial loss %.4g over %zu batches; a fresh head gives %.4g (%s); logits mean %.3g std %.3g",
                 loss, nb, want, c->tc.loss == ET_LOSS_BCE_LOGITS ? "ln 2" : "-ln(1/C)", lmean, lstd);
    if (loss < want * 0.5)
        doc_measured(out, "initial loss %.4g, well below %.4g for a fresh head: the head already knows these classes (or labels leak into the inputs)", loss, want);
    if (res != ET_CHECK_PASS)
        doc_advice(out, "logits are %s (std %.3g): check that inputs are normalised as in pretraining, that the new head is initialised small (Kaiming/Xavier), and that labels match the classes",
                   lstd > 3.0 ? "large" : "off", lstd);
    return ET_OK;
}

/* A throw-away trainer for the check's configuration with a monitor attached. */
static et_status doc_monitored(doc_ctx *c, et_trainer **t, void **arena, et_monitor **mon) {
    et_status st = doc_trainer(c, &c->tc, t, arena);
    if (st != ET_OK) return st;
    st = et_monitor_new(*t, mon);
    if (st == ET_OK) st = et_trainer_set_monitor(*t, *mon);
    if (st != ET_OK) {
        et_monitor_free(*mon);
        *mon = NULL;
        doc_free_trainer(c, *t, *arena, st);
    }
    return st;
}

et_status doc_check_activations(doc_ctx *c, et_check *out) {
    et_trainer *t;
    void *arena;
    et_monitor *mon = NULL;
    et_status st = doc_monitored(c, &t, &arena, &mon);
    if (st != ET_OK) return st;
    size_t nb = c->cfg->sample_batches ? c->cfg->sample_batches : 1;
    if (nb > c->n_batches) nb = c->n_batches;
    for (size_t b = 0; b < nb && st == ET_OK; b++) {
        st = doc_batch(c, b);
        if (st == ET_OK) st = et_trainer_eval(t, c->x, NULL, NULL, NULL);
    }
    if (st != ET_OK) { et_monitor_free(mon); doc_free_trainer(c, t, arena, st); return st; }
    /* the worst layer of each kind */
    double dead_frac = 0.0, sat = 0.0, big = 0.0;
    et_layer_stats L, dead_l, sat_l, big_l;
    size_t n = et_monitor_layer_count(mon), dead_layers = 0;
    memset(&dead_l, 0, sizeof dead_l); sat_l = big_l = dead_l;
    for (size_t i = 0; i < n; i++) {
        et_monitor_layer(mon, i, &L);
        double f = L.channels > 1 ? (double)L.dead_channels / (double)L.channels : 0.0;
        if (f >= 0.5) dead_layers++;
        if (f > dead_frac) { dead_frac = f; dead_l = L; }
        if (L.frac_saturated > sat) { sat = L.frac_saturated; sat_l = L; }
        double mag = fmax(fabs(L.min), fabs(L.max));
        if (mag > big) { big = mag; big_l = L; }
    }
    et_monitor_free(mon);
    doc_free_trainer(c, t, arena, st);
    et_check_status res = ET_CHECK_PASS;
    if (dead_frac >= 0.5) {
        res = ET_CHECK_WARN;
        doc_set(out, res, dead_frac, 0.0, dead_l.name);
        doc_advice(out, "layer '%s' has %zu of %zu channels that never fire (ReLU output 0 on every sample): a large negative bias or a too-high learning rate killed them; reinitialise that layer or lower the rate",
                   dead_l.name, dead_l.dead_channels, dead_l.channels);
    } else if (sat >= 0.5) {
        res = ET_CHECK_WARN;
        doc_set(out, res, sat, 0.0, sat_l.name);
        doc_advice(out, "%.0f%% of layer '%s' outputs sit at the limits of its %s: its gradients vanish; normalise its inputs or lower the weights' scale",
                   100.0 * sat, sat_l.name, et_act_name(sat_l.act));
    } else if (big > 1e4) {
        res = ET_CHECK_WARN;
        doc_set(out, res, big, 0.0, big_l.name);
        doc_advice(out, "layer '%s' outputs reach %.3g: activations explode; check the input scaling and the weights' initialisation", big_l.name, big);
    } else {
        doc_set(out, res, dead_frac, 0.0, "");
    }
    doc_measured(out, "%zu layers over %zu batches: most dead channels %.0f%% ('%s'; %zu layers at least half dead), most saturated %.0f%%, largest |value| %.3g ('%s')",
                 n, nb, 100.0 * dead_frac, dead_l.name ? dead_l.name : "-", dead_layers, 100.0 * sat, big, big_l.name ? big_l.name : "-");
    return ET_OK;
}

et_status doc_check_nonfinite(doc_ctx *c, et_check *out) {
    et_trainer *t;
    void *arena;
    et_monitor *mon = NULL;
    et_status st = doc_monitored(c, &t, &arena, &mon);
    if (st != ET_OK) return st;
    size_t nb = c->cfg->sample_batches ? c->cfg->sample_batches : 1, steps = 0;
    et_status numeric = ET_OK;
    for (size_t b = 0; b < nb && st == ET_OK; b++) {
        st = doc_batch(c, b);
        float l;
        if (st == ET_OK) {
            et_status s2 = et_trainer_step(t, c->x, c->y, &l);
            if (s2 == ET_ERR_NUMERIC) numeric = s2; else st = s2;
        }
        steps++;
    }
    const char *layer = NULL;
    uint64_t batch = 0;
    int backward = 0;
    int found = st == ET_OK && et_monitor_nonfinite(mon, &layer, &batch, &backward) == ET_OK;
    char what[ET_ERR_LEN];
    snprintf(what, sizeof what, "%s", et_trainer_error(t));
    et_monitor_free(mon);
    doc_free_trainer(c, t, arena, st);
    if (st != ET_OK) return st;
    if (found) {
        doc_set(out, ET_CHECK_FAIL, (double)batch, 0.0, layer);
        doc_measured(out, "first non-finite value in the %s of layer '%s' at batch %llu (of %zu training steps)",
                     backward ? "gradient" : "output", layer, (unsigned long long)batch, steps);
        doc_advice(out, "inspect layer '%s': a NaN/Inf weight, a division by a zero variance, an overflowing input, or a learning rate so high that weights diverged", layer);
    } else if (numeric != ET_OK) {
        doc_set(out, ET_CHECK_FAIL, 0.0, 0.0, "loss");
        doc_measured(out, "every layer stayed finite but the loss did not: %s", what);
        doc_advice(out, "check the targets (labels in range, 0/1 for multi-label) and the loss configuration");
    } else {
        doc_set(out, ET_CHECK_PASS, 0.0, 0.0, "");
        doc_measured(out, "every value and gradient finite over %zu training steps", steps);
    }
    return ET_OK;
}

et_status doc_check_updates(doc_ctx *c, et_check *out) {
    et_trainer *t;
    void *arena;
    et_monitor *mon = NULL;
    et_status st = doc_monitored(c, &t, &arena, &mon);
    if (st != ET_OK) return st;
    size_t ng = et_trainer_group_count(t);
    et_group_update *u = calloc(ng ? ng : 1, sizeof *u);
    if (!u) st = et_fail(c->err, c->err_len, ET_ERR_NO_MEMORY, "doctor: no memory");
    if (st == ET_OK) st = doc_batch(c, 0);
    if (st == ET_OK) st = et_monitor_snapshot(mon);
    float l = 0.0f;
    if (st == ET_OK) st = et_trainer_step(t, c->x, c->y, &l);
    if (st == ET_OK) st = et_monitor_updates(mon, u, ng);
    double worst = 0.0, worst_dist = -1.0, gmax = 0.0;
    size_t wg = 0, trained = 0;
    for (size_t g = 0; st == ET_OK && g < ng; g++) {
        if (!u[g].trainable) continue;
        trained++;
        double dist = fabs(log10(u[g].ratio > 1e-30 ? u[g].ratio : 1e-30) + 3.0);
        if (dist > worst_dist) { worst_dist = dist; worst = u[g].ratio; wg = g; }
        if (u[g].grad_norm > gmax) gmax = u[g].grad_norm;
    }
    const char *name = "";
    if (trained) et_trainer_group(t, wg, &name, NULL, NULL);
    char where[96];
    snprintf(where, sizeof where, "group %zu (%s)", wg, name ? name : "?");
    double gnorm = trained ? u[wg].grad_norm : 0.0;
    char why[ET_ERR_LEN];
    snprintf(why, sizeof why, "%s", et_trainer_error(t));
    et_monitor_free(mon);
    free(u);
    doc_free_trainer(c, t, arena, st);
    if (st == ET_ERR_NUMERIC) {
        doc_set(out, ET_CHECK_FAIL, NAN, 1e-3, "");
        doc_measured(out, "the first step was rejected: %s", why);
        doc_advice(out, "see the nonfinite check");
        return ET_OK;
    }
    if (st != ET_OK) return st;
    if (!trained) {
        doc_set(out, ET_CHECK_FAIL, 0.0, 1e-3, "");
        doc_measured(out, "no parameter group trains");
        doc_advice(out, "unfreeze at least one group (--freeze-to)");
        return ET_OK;
    }
    /* Karpathy's rule of thumb is updates of about 1e-3 of the weights (SGD).
     * Adam's first step moves every weight by about lr, so a fresh head at a
     * good rate shows 1e-2..0.3: warn above 0.5 (diverging) or below 1e-6. */
    et_check_status res = worst > 0.5 || worst < 1e-6 ? ET_CHECK_WARN : ET_CHECK_PASS;
    doc_set(out, res, worst, 1e-3, where);
    doc_measured(out, "%zu trainable groups after one step at lr %.3g: update/weight ratio furthest from 1e-3 is %.3g in %s (gradient norm %.3g; largest group gradient norm %.3g)",
                 trained, (double)c->tc.optim.lr, worst, where, gnorm, gmax);
    if (res != ET_CHECK_PASS)
        doc_advice(out, worst > 0.5 ? "updates are %.3g of the weights in %s: the learning rate is probably too high; lower it (see the lr check)"
                                     : "updates are only %.3g of the weights in %s: the learning rate is probably too low, or the gradient vanishes there",
                   worst, where);
    return ET_OK;
}
