/* The doctor's fitting checks: a single batch must be learnt (overfit),
 * and the configured learning rate is placed on a short LR-finder curve. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/doctor.h"

et_status doc_check_overfit(doc_ctx *c, et_check *out) {
    /* memorising one batch is a test of capacity and plumbing: no regularisation */
    et_train_config tc = c->tc;
    tc.optim.weight_decay = 0.0f;
    tc.label_smoothing = 0.0f;
    et_trainer *t;
    void *arena;
    et_status st = doc_trainer(c, &tc, &t, &arena);
    if (st != ET_OK) return st;
    float *lg = malloc(c->batch * c->classes * sizeof *lg);
    if (!lg) { doc_free_trainer(c, t, arena, st); return et_fail(c->err, c->err_len, ET_ERR_NO_MEMORY, "doctor: no memory"); }
    size_t steps = c->cfg->overfit_steps ? c->cfg->overfit_steps : 200, done = 0;
    float first = NAN, last = NAN, eval_loss = NAN;
    st = doc_batch(c, 0);
    for (; st == ET_OK && done < steps; done++) {
        st = et_trainer_step(t, c->x, c->y, &last);
        if (done == 0) first = last;
    }
    char why[ET_ERR_LEN];
    snprintf(why, sizeof why, "%s", et_trainer_error(t));
    double acc = 0.0;
    if (st == ET_OK) st = et_trainer_eval(t, c->x, c->y, lg, &eval_loss);
    if (st == ET_OK) acc = doc_accuracy(c, lg);
    free(lg);
    doc_free_trainer(c, t, arena, st);
    if (st == ET_ERR_NUMERIC) {
        doc_set(out, ET_CHECK_FAIL, NAN, 0.0, "");
        doc_measured(out, "training on one batch diverged after %zu steps: %s", done, why);
        doc_advice(out, "lower the learning rate; see the nonfinite check");
        return ET_OK;
    }
    if (st != ET_OK) return st;
    int classify = c->tc.loss == ET_LOSS_SOFTMAX_CE || c->tc.loss == ET_LOSS_BCE_LOGITS;
    int low_loss = eval_loss <= 0.1 * first || eval_loss < 0.02;
    et_check_status res;
    if (classify) res = acc >= 0.99 && low_loss ? ET_CHECK_PASS : acc >= 0.9 ? ET_CHECK_WARN : ET_CHECK_FAIL;
    else res = low_loss ? ET_CHECK_PASS : eval_loss < first ? ET_CHECK_WARN : ET_CHECK_FAIL;
    doc_set(out, res, classify ? acc : (double)eval_loss, classify ? 1.0 : 0.0, "");
    doc_measured(out, "one batch of %zu, %zu steps: loss %.4g -> %.4g (evaluation mode %.4g)%s%.1f%%",
                 c->batch, done, (double)first, (double)last, (double)eval_loss, classify ? ", accuracy " : "",
                 classify ? 100.0 * acc : 0.0);
    if (res != ET_CHECK_PASS)
        doc_advice(out, "the model cannot learn even one batch: check that labels match inputs, that enough layers train (--freeze-to), that the learning rate is not far too low or high, and that the head is not saturated");
    return ET_OK;
}

et_status doc_check_lr(doc_ctx *c, et_check *out) {
    size_t n = c->cfg->lr_steps ? c->cfg->lr_steps : 60;
    if (n < 20) n = 20;
    if (n > 4096) n = 4096;
    et_trainer *t;
    void *arena;
    et_status st = doc_trainer(c, &c->tc, &t, &arena);
    if (st != ET_OK) return st;
    float *lrs = malloc(n * sizeof *lrs), *sm = malloc(n * sizeof *sm);
    et_lr_finder f;
    st = lrs && sm ? et_lr_finder_init(&f, 1e-7f, 10.0f, n) : ET_ERR_NO_MEMORY;
    float mom = c->tc.optim.kind == ET_OPTIM_ADAM || c->tc.optim.kind == ET_OPTIM_ADAMW ? c->tc.optim.beta1 : c->tc.optim.momentum;
    size_t k = 0;
    for (int stop = 0; st == ET_OK && !stop && k < n; k++) {
        float lr = et_lr_finder_lr(&f, k), l = NAN;
        st = et_trainer_set_lr(t, lr, mom);
        if (st == ET_OK) st = doc_batch(c, k);
        if (st == ET_OK) {
            et_status s2 = et_trainer_step(t, c->x, c->y, &l);
            if (s2 != ET_OK && s2 != ET_ERR_NUMERIC) st = s2;
        }
        lrs[k] = lr;
        if (st == ET_OK) st = et_lr_finder_record(&f, l, &sm[k], &stop);
    }
    doc_free_trainer(c, t, arena, st);
    et_lr_suggestions s;
    float lr = c->tc.optim.lr;
    if (st == ET_OK && et_lr_suggest(lrs, sm, k, n, &s) != ET_OK) {
        doc_set(out, ET_CHECK_SKIP, lr, NAN, "");
        doc_measured(out, "the LR-finder sweep stopped after %zu of %zu steps: too few points to read", k, n);
        free(lrs); free(sm);
        return ET_OK;
    }
    free(lrs);
    free(sm);
    if (st != ET_OK) return st == ET_ERR_NO_MEMORY ? et_fail(c->err, c->err_len, st, "doctor: no memory") : st;
    float lr_min = s.minimum_div10 * 10.0f;
    et_check_status res = ET_CHECK_PASS;
    /* past the minimum, and well past the valley (a noisy curve can put its
     * minimum early, so the minimum alone does not condemn a rate) */
    if (lr > lr_min && lr > 10.0f * s.valley) {
        res = ET_CHECK_WARN;
        doc_advice(out, "lr %.3g is past the curve's minimum (%.3g), where the loss already grows: use about the valley %.3g (between steep %.3g and minimum/10 %.3g)",
                   (double)lr, (double)lr_min, (double)s.valley, (double)s.steep, (double)s.minimum_div10);
    } else if (lr < s.valley / 30.0f) {
        res = ET_CHECK_WARN;
        doc_advice(out, "lr %.3g is far below the valley %.3g: training will crawl; try about %.3g", (double)lr, (double)s.valley, (double)s.valley);
    }
    doc_set(out, res, lr, s.valley, "");
    doc_measured(out, "LR finder (%zu steps, 1e-7 -> 10): valley %.3g, steep %.3g, minimum %.3g; configured lr %.3g",
                 k, (double)s.valley, (double)s.steep, (double)lr_min, (double)lr);
    return ET_OK;
}
