/* The finetune training loop (tools/cli/fit.c): phases of the recipe,
 * epochs, validation, early stopping, log lines, progress and checkpoints.
 * Option parsing and file output stay in cmd_finetune.c. */
#ifndef ET_CLI_FIT_H
#define ET_CLI_FIT_H

#include <stdio.h>
#include "cli/checkpoint.h"
#include "cli/ft.h"

typedef struct fit_ctx {
    const ft_opts *o;
    const data_set *d;
    const et_model *base;       /* model with the head for the data */
    const char *ckpt_path;
    ckpt_data *resume;          /* NULL for a fresh run */
    FILE *log;
    uint64_t model_hash;
    char hparams[4096];
} fit_ctx;

void fit_log_header(fit_ctx *c, const char *type);
/* Trains every phase; *out is the final model (trained weights, unfolded). */
int fit_run(fit_ctx *c, et_model **out);

/* Validation metrics of a trainer over a dataset. */
typedef struct fit_metrics {
    double loss, accuracy, f1;
    double *class_acc;          /* multi-label: per-class accuracy [classes] (caller frees) */
} fit_metrics;
int fit_validate(et_trainer *t, const data_set *d, const et_dataset *ds, size_t batch, float threshold,
                 float label_smoothing, int probs_out, fit_metrics *mt);

#endif
