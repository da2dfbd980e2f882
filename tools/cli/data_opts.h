/* Data options shared by `edgetune finetune` and `edgetune lr-find`: where
 * the samples come from, the validation split, size, normalisation and
 * augmentation. Parsing and loading only; no training here. */
#ifndef ET_CLI_DATA_OPTS_H
#define ET_CLI_DATA_OPTS_H

#include <stdio.h>
#include "edgetune.h"

typedef struct data_opts {
    const char *train_dir, *valid_dir;
    const char *train_idx[2], *valid_idx[2];
    const char *train_x, *train_y, *valid_x, *valid_y;
    float valid_pct;          /* < 0: default (0.2 without a valid set) */
    size_t size_h, size_w;    /* 0: the model's input size */
    size_t n_mean, n_std;
    float mean[ET_MAX_CHANNELS_META], std[ET_MAX_CHANNELS_META];
    int augment;              /* -1: on for uint8 images, off for float arrays */
    int crop;                 /* -1 auto, else et_crop_mode */
} data_opts;

void data_opts_init(data_opts *o);
void data_opts_usage(FILE *f);
/* 1: argv[*i] was a data option (consumed), 0: not one, CLI_USAGE: bad value (printed). */
int data_opts_parse(int argc, char **argv, int *i, data_opts *o, const char *cmd, void (*usage)(FILE *));
/* Usage error (printed) unless exactly one training source was given. */
int data_opts_check(const data_opts *o, const char *cmd, void (*usage)(FILE *));

typedef struct data_set {
    et_dataset *train, *valid;       /* valid may be NULL */
    et_dataset *owned[4];            /* what to free (views first) */
    et_dataset_info train_info;
    size_t valid_count;
    size_t classes;
    int multi_label;
    et_batch_config bc_train, bc_valid;
    char summary[768];               /* JSON object describing the data */
} data_set;

/* Loads the data for model m (its channels, layout, size and mean/std).
 * Errors are printed naming the file; returns CLI_OK or CLI_ERR. */
int data_load(const data_opts *o, const et_model *m, uint64_t seed, data_set *d);
void data_free(data_set *d);

#endif
