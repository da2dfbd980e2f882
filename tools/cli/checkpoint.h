/* The finetune checkpoint container: a small CLI header (where the run is,
 * what it was started with) around the library's trainer-state blob, closed
 * by a CRC32. Only file layout and validation live here, no training. */
#ifndef ET_CLI_CHECKPOINT_H
#define ET_CLI_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

/* Where a run stands; everything the loop needs besides the trainer blob. */
typedef struct ckpt_pos {
    uint32_t phase;          /* recipe phase (fine_tune: 0 frozen, 1 unfrozen) */
    uint32_t epoch;          /* global epoch index of the next batch */
    uint64_t batch;          /* batches of that epoch already done */
    uint64_t log_step;       /* steps logged so far (all phases) */
    uint64_t data_seed;      /* seed of the shuffles and augmentation */
    double loss_sum;         /* train loss summed over the epoch's done batches */
    uint64_t loss_count;
    double best_loss;        /* early stopping: best valid loss of the phase */
    uint32_t best_epoch, bad_epochs;
    double acc_sum;          /* train accuracy over the epoch's done batches: right answers */
    uint64_t acc_count;      /* and answers (samples, or samples x classes for multi-label) */
    double lr_scale;         /* divergence guard: the phase's learning-rate factor (1 = none) */
    uint32_t diverged;       /* and its count of consecutive skipped steps */
} ckpt_pos;

typedef struct ckpt_data {
    ckpt_pos pos;
    char *hparams;           /* "key=value\n" lines that must match to resume */
    unsigned char *state;    /* et_trainer_state blob */
    size_t state_len;
    unsigned char *best;     /* trainer state of the best epoch (may be NULL) */
    size_t best_len;
} ckpt_data;

uint32_t ckpt_crc32(const void *buf, size_t len);

/* Serialise and write atomically to path after renaming an existing path
 * to path.prev. Returns 0 or prints an error naming the file and returns -1. */
int ckpt_write(const char *path, const ckpt_data *d);

/* Read path; on a CRC mismatch, truncation or bad magic, say so and try
 * path.prev. *used_path is path or the .prev one (static storage). The
 * caller frees with ckpt_free. */
int ckpt_read(const char *path, ckpt_data *d, const char **used_path);
void ckpt_free(ckpt_data *d);

/* Compares hyper-parameter lines; prints the first differing key. 0 if equal. */
int ckpt_check_hparams(const char *path, const char *saved, const char *now);

#endif
