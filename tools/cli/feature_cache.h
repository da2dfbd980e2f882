/* The finetune command's feature cache: each training sample's features at
 * the cut between the frozen prefix and the trained layers, kept in memory
 * up to a budget and spilled to a file beyond it. Storage only. */
#ifndef ET_CLI_FEATURE_CACHE_H
#define ET_CLI_FEATURE_CACHE_H

#include <stdio.h>
#include "edgetune.h"

typedef struct feature_cache {
    size_t count, floats;       /* samples, floats per sample */
    size_t in_memory;           /* samples [0, in_memory) live in mem */
    float *mem;
    FILE *spill;                /* samples beyond the memory budget */
    unsigned char *filled;      /* one flag per sample */
    size_t hits, misses;
} feature_cache;

/* budget: bytes of memory for features; spill_path: file for the rest. */
int feature_cache_open(feature_cache *fc, size_t count, size_t floats, size_t budget, const char *spill_path);
void feature_cache_close(feature_cache *fc);
/* One training batch through the cache: features from the cache when every
 * sample of the batch is there, else from the frozen prefix (then stored). */
et_status feature_cache_step(feature_cache *fc, et_trainer *t, const size_t *idx, size_t n, const float *x,
                             float *feats, const void *targets, float *loss);

#endif
