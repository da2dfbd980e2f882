/* Training options shared by `edgetune finetune` and `edgetune lr-find`,
 * and the setup both need: model + new head, trainer configuration, the
 * arena (the CLI's one malloc per trainer) under a memory budget. */
#ifndef ET_CLI_FT_H
#define ET_CLI_FT_H

#include <stdio.h>
#include "edgetune.h"
#include "cli/data_opts.h"

enum { RECIPE_NONE = 0, RECIPE_FINE_TUNE = 1 };

typedef struct ft_opts {
    const char *model, *out, *log, *run_dir, *resume, *plot;
    data_opts data;
    size_t new_head;           /* 0: automatic */
    int multi_label;
    size_t epochs, batch;
    et_optim_kind optim;
    float lr, lr_lo;
    int lr_set;
    float momentum;
    int momentum_set, nesterov;
    float beta1, beta2, eps, wd, clip, label_smoothing, threshold;
    int freeze_to, freeze_set, freeze_auto, train_bn;
    et_bn_mode bn;
    int sched, recipe;
    float pct_start, div, div_final, gamma;
    int pct_set, div_set;
    size_t step_epochs;
    uint64_t seed;
    int shuffle;
    size_t threads;
    size_t budget;             /* 0: none */
    int feature_cache;
    size_t cache_budget;      /* bytes of cached features kept in memory */
    size_t patience, ckpt_every;
    size_t monitor_every;      /* --monitor N: statistics into the log every N steps (0: off) */
    uint64_t stop_after;       /* test hook: stop after this many steps */
} ft_opts;

void ft_defaults(ft_opts *o);
void ft_train_usage(FILE *f);
/* 1 consumed, 0 not a training option, CLI_USAGE on a bad value (printed). */
int ft_parse(int argc, char **argv, int *i, ft_opts *o, const char *cmd, void (*usage)(FILE *));
/* Cross-option checks after parsing (usage error printed). */
int ft_check(ft_opts *o, const char *cmd, void (*usage)(FILE *));

/* The model to train: m itself (*owned NULL) or a copy with a new head of
 * the data's class count, with the data's labels in its metadata. */
int ft_model_for_data(const ft_opts *o, const et_model *m, const data_set *d, et_model **train_model);

/* Trainer configuration of a phase: lr is the phase's last-group rate,
 * lr_lo its discriminative low end (0: none), freeze_to its freezing. */
void ft_train_config(const ft_opts *o, const data_set *d, size_t batch, float lr, float lr_lo, int freeze_to,
                     et_train_config *cfg);

/* Plans (checking the budget), mallocs the arena and prepares. With
 * freeze_auto, picks the most trainable groups that fit the budget. */
int ft_prepare(const ft_opts *o, const et_model *m, et_train_config *cfg, void **arena, et_trainer **t,
               size_t *arena_bytes);

/* Canonical "key=value\n" text of everything a resumed run must share. */
void ft_hparams_text(const ft_opts *o, const data_set *d, uint64_t model_hash, char *buf, size_t cap);

/* FNV-1a 64 of a file's bytes (0 if unreadable). */
uint64_t ft_file_hash(const char *path);

#endif
