/* The doctor's entry point and what its checks share: defaults, names, the
 * fixed batches drawn from the data, throw-away trainers, result text.
 * The checks themselves live in doctor_*.c. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/doctor.h"

void et_doctor_config_default(et_doctor_config *cfg) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    et_train_config_default(&cfg->train);
    et_batch_config_default(&cfg->batch);
    cfg->sample_batches = 4;
    cfg->overfit_steps = 200;
    cfg->grad_params = 8;
    cfg->lr_steps = 60;
    cfg->seed = 1;
}

const char *et_check_name(et_check_id id) {
    static const char *const names[ET_CHECK_COUNT] = {"data", "initial-loss", "activations", "nonfinite",
                                                      "gradients", "updates", "overfit-batch", "lr"};
    return (unsigned)id < ET_CHECK_COUNT ? names[id] : "unknown";
}

const char *et_check_status_name(et_check_status s) {
    static const char *const names[] = {"pass", "warn", "fail", "skip"};
    return (unsigned)s <= ET_CHECK_SKIP ? names[s] : "unknown";
}

void doc_set(et_check *out, et_check_status st, double value, double expected, const char *where) {
    out->status = st;
    out->value = value;
    out->expected = expected;
    snprintf(out->where, sizeof out->where, "%s", where ? where : "");
}

void doc_measured(et_check *out, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->measured, sizeof out->measured, fmt, ap);
    va_end(ap);
}

void doc_advice(et_check *out, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->advice, sizeof out->advice, fmt, ap);
    va_end(ap);
}

et_status doc_trainer(doc_ctx *c, const et_train_config *tc, et_trainer **t, void **arena) {
    et_plan p;
    *t = NULL;
    *arena = NULL;
    et_status st = et_model_plan_train(c->m, tc, &p);
    if (st != ET_OK) return et_fail(c->err, c->err_len, st, "doctor: cannot plan training: %s", et_model_error(c->m));
    *arena = malloc(p.total);
    if (!*arena) return et_fail(c->err, c->err_len, ET_ERR_NO_MEMORY, "doctor: no memory for a %zu-byte training arena", p.total);
    st = et_trainer_prepare(c->m, tc, *arena, p.total, t, NULL);
    if (st != ET_OK) {
        free(*arena);
        *arena = NULL;
        return et_fail(c->err, c->err_len, st, "doctor: cannot prepare training: %s", et_model_error(c->m));
    }
    return ET_OK;
}

void doc_free_trainer(doc_ctx *c, const et_trainer *t, void *arena, et_status st) {
    /* the trainer lives in the arena: keep its message before freeing */
    if (st != ET_OK && st != ET_ERR_NUMERIC && !c->err[0])
        et_fail(c->err, c->err_len, st, "doctor: %s", et_trainer_error(t));
    free(arena);
}

et_status doc_batch(doc_ctx *c, size_t b) {
    const size_t *idx = c->perm + (b % c->n_batches) * c->batch;
    et_status st = et_dataset_batch(c->train, &c->bc, 0, idx, c->batch, c->x, c->y);
    if (st != ET_OK) return et_fail(c->err, c->err_len, st, "doctor: cannot build a batch from the training data");
    return ET_OK;
}

double doc_accuracy(const doc_ctx *c, const float *lg) {
    size_t right = 0, total = 0, K = c->classes;
    for (size_t i = 0; i < c->batch; i++) {
        const float *row = lg + i * K;
        if (c->multi) {
            const float *y = (const float *)c->y + i * K;
            for (size_t k = 0; k < K; k++, total++) right += (row[k] > 0.0f) == (y[k] > 0.5f);
        } else {
            size_t best = 0;
            for (size_t k = 1; k < K; k++)
                if (row[k] > row[best]) best = k;
            right += (int32_t)best == ((const int32_t *)c->y)[i];
            total++;
        }
    }
    return total ? (double)right / (double)total : 0.0;
}

static et_status ctx_init(doc_ctx *c) {
    et_dataset_info di;
    et_status st = et_dataset_get_info(c->train, &di);
    if (st != ET_OK) return et_fail(c->err, c->err_len, st, "doctor: invalid training dataset");
    if (di.count == 0) return et_fail(c->err, c->err_len, ET_ERR_INVALID_ARG, "doctor: the training dataset is empty");
    c->tc = c->cfg->train;
    c->bc = c->cfg->batch;
    c->bc.augment = 0;
    if (!c->bc.height) c->bc.height = di.height;
    if (!c->bc.width) c->bc.width = di.width;
    if (!c->bc.height || !c->bc.width)
        return et_fail(c->err, c->err_len, ET_ERR_INVALID_ARG, "doctor: samples vary in size: set the batch config's height and width");
    c->tc.height = c->bc.height;
    c->tc.width = c->bc.width;
    c->count = di.count;
    c->batch = c->tc.batch && c->tc.batch < di.count ? c->tc.batch : di.count;
    c->tc.batch = c->batch;
    c->tc.accum_steps = 1;
    c->n_batches = di.count / c->batch;
    c->per = c->bc.height * c->bc.width * di.channels;
    c->classes = di.classes;
    c->multi = di.multi_label;
    c->perm = malloc(di.count * sizeof *c->perm);
    c->x = malloc(c->batch * c->per * sizeof *c->x);
    c->y = malloc(c->batch * (c->classes ? c->classes : 1) * sizeof(float));
    if (!c->perm || !c->x || !c->y) return et_fail(c->err, c->err_len, ET_ERR_NO_MEMORY, "doctor: no memory for a batch");
    et_shuffle(c->cfg->seed, 0, di.count, c->perm);
    return ET_OK;
}

et_status et_doctor_check(const et_model *m, const et_dataset *train, const et_dataset *valid,
                          const et_doctor_config *cfg, et_check_id id, et_check *out, char *err, size_t err_len) {
    char sink[ET_ERR_LEN];
    if (!err || !err_len) { err = sink; err_len = sizeof sink; }
    err[0] = '\0';
    if (!m || !train || !cfg || !out || (unsigned)id >= ET_CHECK_COUNT)
        return et_fail(err, err_len, ET_ERR_INVALID_ARG, "doctor: NULL argument or unknown check %d", (int)id);
    memset(out, 0, sizeof *out);
    out->id = id;
    out->status = ET_CHECK_SKIP;
    doc_ctx c;
    memset(&c, 0, sizeof c);
    c.m = m; c.train = train; c.valid = valid; c.cfg = cfg; c.err = err; c.err_len = err_len;
    et_status st = ctx_init(&c);
    if (st == ET_OK) {
        static et_status (*const run[ET_CHECK_COUNT])(doc_ctx *, et_check *) = {
            doc_check_data, doc_check_initial_loss, doc_check_activations, doc_check_nonfinite,
            doc_check_gradients, doc_check_updates, doc_check_overfit, doc_check_lr};
        st = run[id](&c, out);
    }
    if (st != ET_OK && !err[0]) et_fail(err, err_len, st, "doctor %s: %s", et_check_name(id), et_status_str(st));
    free(c.perm);
    free(c.x);
    free(c.y);
    return st;
}
