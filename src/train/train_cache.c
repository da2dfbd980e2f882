/* Feature cache entry points: run the frozen prefix once per sample and
 * later feed its output (the cut tensor) straight to the trained suffix.
 * Storage of the cached features is the caller's (memory or a file). */
#include <string.h>
#include "train/trainer.h"

/* The one value computed before the first trained node and read after it. */
static int cut_value(const et_trainer *t, uint32_t *cut) {
    int found = 0;
    for (uint32_t i = t->first; i < t->n_exec; i++) {
        const et_node *nd = &t->m->nodes[i];
        for (uint32_t k = 0; k < nd->n_in; k++) {
            uint32_t v = nd->in[k];
            if (v > t->first) continue; /* produced in the suffix */
            if (found && t->data[v] != t->data[*cut]) return 0;
            *cut = v;
            found = 1;
        }
    }
    return found;
}

static int live(const et_trainer *t) { return t && t->magic == ET_TRAINER_MAGIC; }

et_status et_trainer_feature_size(const et_trainer *t, size_t *floats) {
    uint32_t cut;
    if (!live(t) || !floats) return ET_ERR_INVALID_ARG;
    if (!cut_value(t, &cut))
        return et_fail(((et_trainer *)t)->err, sizeof t->err, ET_ERR_UNSUPPORTED,
                       "feature cache: the frozen layers feed the trained ones more than one tensor");
    *floats = et_shape_count(t->shapes[cut]) / t->shapes[cut].n;
    return ET_OK;
}

et_status et_trainer_features(et_trainer *t, const float *x, float *features) {
    uint32_t cut;
    size_t per;
    et_status st = et_trainer_feature_size(t, &per);
    if (st != ET_OK) return st;
    if (!x || !features) return et_fail(t->err, sizeof t->err, ET_ERR_INVALID_ARG, "features: NULL input or output");
    cut_value(t, &cut);
    memcpy(t->data[0], x, et_shape_count(t->shapes[0]) * sizeof *x);
    et_train_forward_prefix(t);
    memcpy(features, t->data[cut], per * t->shapes[cut].n * sizeof *features);
    return ET_OK;
}

et_status et_trainer_step_features(et_trainer *t, const float *features, const void *targets, float *loss) {
    uint32_t cut;
    size_t per;
    et_status st = et_trainer_feature_size(t, &per);
    if (st != ET_OK) return st;
    if (!features || !targets) return et_fail(t->err, sizeof t->err, ET_ERR_INVALID_ARG, "step: NULL features or targets");
    cut_value(t, &cut);
    memcpy(t->data[cut], features, per * t->shapes[cut].n * sizeof *features);
    return et_train_step_from(t, t->first, targets, loss);
}
