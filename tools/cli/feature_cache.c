/* Feature cache storage for finetune: memory first, a spill file beyond the
 * budget. The trainer computes the features (et_trainer_features) and
 * trains from them (et_trainer_step_features). */
#include <stdlib.h>
#include <string.h>
#include "cli/feature_cache.h"

int feature_cache_open(feature_cache *fc, size_t count, size_t floats, size_t budget, const char *spill_path) {
    memset(fc, 0, sizeof *fc);
    fc->count = count;
    fc->floats = floats;
    size_t per = floats * sizeof(float);
    fc->in_memory = per ? budget / per : count;
    if (fc->in_memory > count) fc->in_memory = count;
    fc->filled = calloc(count ? count : 1, 1);
    fc->mem = fc->in_memory ? malloc(fc->in_memory * per) : NULL;
    if (!fc->filled || (fc->in_memory && !fc->mem)) return -1;
    if (fc->in_memory < count) {
        fc->spill = fopen(spill_path, "w+b");
        if (!fc->spill) return -1;
    }
    return 0;
}

void feature_cache_close(feature_cache *fc) {
    free(fc->mem);
    free(fc->filled);
    if (fc->spill) fclose(fc->spill);
    memset(fc, 0, sizeof *fc);
}

static int io(feature_cache *fc, size_t i, float *f, int store) {
    size_t per = fc->floats;
    if (i < fc->in_memory) {
        if (store) memcpy(fc->mem + i * per, f, per * sizeof *f);
        else memcpy(f, fc->mem + i * per, per * sizeof *f);
        return 0;
    }
    long off = (long)((i - fc->in_memory) * per * sizeof *f);
    if (fseek(fc->spill, off, SEEK_SET) != 0) return -1;
    size_t n = store ? fwrite(f, sizeof *f, per, fc->spill) : fread(f, sizeof *f, per, fc->spill);
    return n == per ? 0 : -1;
}

et_status feature_cache_step(feature_cache *fc, et_trainer *t, const size_t *idx, size_t n, const float *x,
                             float *feats, const void *targets, float *loss) {
    int all = 1;
    for (size_t k = 0; k < n && all; k++) all = fc->filled[idx[k]];
    if (all) {
        for (size_t k = 0; k < n; k++)
            if (io(fc, idx[k], feats + k * fc->floats, 0) != 0) all = 0;
    }
    if (all) {
        fc->hits += n;
    } else {
        et_status st = et_trainer_features(t, x, feats);
        if (st != ET_OK) return st;
        for (size_t k = 0; k < n; k++)
            if (io(fc, idx[k], feats + k * fc->floats, 1) == 0) fc->filled[idx[k]] = 1;
        fc->misses += n;
    }
    return et_trainer_step_features(t, feats, targets, loss);
}
