/* Shared by the doctor's checks: one context holding the model, the data
 * drawn in fixed batches, and throw-away trainers. Not public. */
#ifndef ET_DOCTOR_H
#define ET_DOCTOR_H

#include "train/trainer.h"

typedef struct doc_ctx {
    const et_model *m;
    const et_dataset *train, *valid;
    const et_doctor_config *cfg;
    et_train_config tc;       /* cfg->train with the batch and input size settled */
    et_batch_config bc;       /* cfg->batch without augmentation */
    size_t count, batch, n_batches, per, classes;
    int multi;
    size_t *perm;             /* sample order drawn from cfg->seed */
    float *x;                 /* one batch of inputs */
    void *y;                  /* its targets */
    char *err;
    size_t err_len;
} doc_ctx;

/* A throw-away trainer for tc in a malloc'ed arena (doc_free_trainer). */
et_status doc_trainer(doc_ctx *c, const et_train_config *tc, et_trainer **t, void **arena);
/* Frees it; when st is an error, its message becomes the check's error. */
void doc_free_trainer(doc_ctx *c, const et_trainer *t, void *arena, et_status st);
/* Fill c->x / c->y with batch b (mod the batch count) of the fixed order. */
et_status doc_batch(doc_ctx *c, size_t b);
/* Fraction of correct predictions for logits [batch][classes] vs c->y. */
double doc_accuracy(const doc_ctx *c, const float *logits);

/* Result helpers: status, value, expected, where, then printf-style text. */
void doc_set(et_check *out, et_check_status st, double value, double expected, const char *where);
void doc_measured(et_check *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void doc_advice(et_check *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

et_status doc_check_data(doc_ctx *c, et_check *out);
et_status doc_check_initial_loss(doc_ctx *c, et_check *out);
et_status doc_check_activations(doc_ctx *c, et_check *out);
et_status doc_check_nonfinite(doc_ctx *c, et_check *out);
et_status doc_check_gradients(doc_ctx *c, et_check *out);
et_status doc_check_updates(doc_ctx *c, et_check *out);
et_status doc_check_overfit(doc_ctx *c, et_check *out);
et_status doc_check_lr(doc_ctx *c, et_check *out);

#endif
