/* The et_dataset object: allocation, views (subset/split), accessors,
 * epoch shuffles and et_dataset_batch. File formats live in idx.c, pnm.c,
 * folder.c, npy_data.c...; pixel maths in resize.c. */
#include <stdlib.h>
#include <string.h>
#include "data.h"

char *et_ds_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

et_status et_ds_new(size_t n, size_t classes, int multi_label, et_dataset **out) {
    *out = NULL;
    et_dataset *d = calloc(1, sizeof *d);
    if (!d) return ET_ERR_NO_MEMORY;
    d->count = n;
    d->classes = classes;
    d->multi_label = multi_label;
    size_t k = n ? n : 1, lb;
    if (!et_mul_ok(k, multi_label ? (classes ? classes : 1) : sizeof(int32_t), &lb)) {
        free(d);
        return ET_ERR_OVERFLOW;
    }
    d->off = calloc(k, sizeof(size_t));
    d->h = calloc(k, sizeof(size_t));
    d->w = calloc(k, sizeof(size_t));
    if (multi_label) d->mlabels = calloc(lb, 1);
    else d->labels = calloc(k, sizeof(int32_t));
    if (!d->off || !d->h || !d->w || (multi_label ? !d->mlabels : !d->labels)) {
        et_dataset_free(d);
        return ET_ERR_NO_MEMORY;
    }
    *out = d;
    return ET_OK;
}

static void free_strs(char **v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void et_dataset_free(et_dataset *ds) {
    if (!ds) return;
    free(ds->map);
    if (!ds->root) {
        free(ds->data);
        free(ds->off);
        free(ds->h);
        free(ds->w);
        free(ds->labels);
        free(ds->mlabels);
        free_strs(ds->class_names, ds->classes);
        free_strs(ds->names, ds->count);
        free(ds->source);
    }
    free(ds);
}

/* The root dataset and root index of sample i (i < ds->count). */
static const et_dataset *resolve(const et_dataset *ds, size_t i, size_t *ri) {
    if (ds->root) { *ri = ds->map[i]; return ds->root; }
    *ri = i;
    return ds;
}

et_status et_dataset_subset(const et_dataset *ds, const size_t *idx, size_t n, et_dataset **out) {
    if (!out) return ET_ERR_INVALID_ARG;
    *out = NULL;
    if (!ds || (n && !idx)) return ET_ERR_INVALID_ARG;
    for (size_t i = 0; i < n; i++)
        if (idx[i] >= ds->count) return ET_ERR_INVALID_ARG;
    et_dataset *v = calloc(1, sizeof *v);
    if (!v) return ET_ERR_NO_MEMORY;
    *v = *ds;
    v->root = ds->root ? ds->root : ds;
    v->count = n;
    v->map = malloc((n ? n : 1) * sizeof(size_t));
    if (!v->map) { free(v); return ET_ERR_NO_MEMORY; }
    /* The common size and largest size of the view: recomputed so a view of
     * same-sized images out of a mixed folder reports its common size. */
    v->height = v->width = v->max_h = v->max_w = 0;
    for (size_t i = 0; i < n; i++) {
        size_t r;
        const et_dataset *root = resolve(ds, idx[i], &r);
        v->map[i] = r;
        if (i == 0) { v->height = root->h[r]; v->width = root->w[r]; }
        else if (v->height != root->h[r] || v->width != root->w[r]) v->height = v->width = 0;
        if (root->h[r] > v->max_h) v->max_h = root->h[r];
        if (root->w[r] > v->max_w) v->max_w = root->w[r];
    }
    *out = v;
    return ET_OK;
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

et_status et_dataset_split(const et_dataset *ds, float valid_pct, uint64_t seed,
                           et_dataset **train, et_dataset **valid, char *err, size_t err_len) {
    if (train) *train = NULL;
    if (valid) *valid = NULL;
    if (!ds || !train || !valid)
        return et_fail(err, err_len, ET_ERR_INVALID_ARG, "dataset split: NULL argument");
    if (!(valid_pct >= 0.0f && valid_pct < 1.0f))
        return et_fail(err, err_len, ET_ERR_INVALID_ARG, "dataset split: valid_pct %g is not in [0, 1)",
                       (double)valid_pct);
    size_t n = ds->count, nv = (size_t)((double)valid_pct * (double)n);
    size_t *perm = malloc((n ? n : 1) * sizeof(size_t));
    if (!perm) return et_fail(err, err_len, ET_ERR_NO_MEMORY, "dataset split: out of memory");
    et_perm_from_key(et_rng_key(ET_RNG_SPLIT, seed, 0, 0), n, perm);
    /* Ascending order inside each part keeps batches of a view cache-friendly
     * and makes the split independent of how the parts are later shuffled. */
    qsort(perm, nv, sizeof(size_t), cmp_size);
    qsort(perm + nv, n - nv, sizeof(size_t), cmp_size);
    et_status st = et_dataset_subset(ds, perm, nv, valid);
    if (st == ET_OK) st = et_dataset_subset(ds, perm + nv, n - nv, train);
    free(perm);
    if (st != ET_OK) {
        et_dataset_free(*valid);
        *valid = NULL;
        return et_fail(err, err_len, st, "dataset split: out of memory");
    }
    return ET_OK;
}

et_status et_dataset_get_info(const et_dataset *ds, et_dataset_info *out) {
    if (!ds || !out) return ET_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    out->count = ds->count;
    out->classes = ds->classes;
    out->multi_label = ds->multi_label;
    out->kind = ds->kind;
    out->channels = ds->channels;
    out->height = ds->height;
    out->width = ds->width;
    out->max_height = ds->max_h;
    out->max_width = ds->max_w;
    return ET_OK;
}

const char *et_dataset_class_name(const et_dataset *ds, size_t k) {
    if (!ds) return NULL;
    const et_dataset *r = ds->root ? ds->root : ds;
    if (!r->class_names || k >= r->classes) return NULL;
    return r->class_names[k];
}

et_status et_dataset_set_class_names(et_dataset *ds, const char *const *names, size_t n) {
    if (!ds || !names) return ET_ERR_INVALID_ARG;
    /* Views share the root's names; only the owner may change them. */
    if (ds->root) return ET_ERR_STATE;
    if (n != ds->classes) return ET_ERR_SHAPE;
    char **v = calloc(n ? n : 1, sizeof(char *));
    if (!v) return ET_ERR_NO_MEMORY;
    for (size_t k = 0; k < n; k++) {
        if (!names[k] || !(v[k] = et_ds_strdup(names[k]))) {
            free_strs(v, n);
            return names[k] ? ET_ERR_NO_MEMORY : ET_ERR_INVALID_ARG;
        }
    }
    free_strs(ds->class_names, ds->classes);
    ds->class_names = v;
    return ET_OK;
}

const char *et_dataset_sample_name(const et_dataset *ds, size_t i) {
    if (!ds || i >= ds->count) return "";
    size_t r;
    const et_dataset *root = resolve(ds, i, &r);
    if (root->names) return root->names[r];
    return root->source ? root->source : "";
}

et_status et_dataset_label(const et_dataset *ds, size_t i, int32_t *label) {
    if (!ds || !label || i >= ds->count) return ET_ERR_INVALID_ARG;
    if (ds->multi_label) return ET_ERR_STATE;
    size_t r;
    const et_dataset *root = resolve(ds, i, &r);
    *label = root->labels[r];
    return ET_OK;
}

et_status et_dataset_sample(const et_dataset *ds, size_t i, et_sample *out) {
    if (!ds || !out || i >= ds->count) return ET_ERR_INVALID_ARG;
    size_t r;
    const et_dataset *root = resolve(ds, i, &r);
    out->kind = root->kind;
    out->height = root->h[r];
    out->width = root->w[r];
    out->channels = root->channels;
    out->data = root->data + root->off[r];
    return ET_OK;
}

void et_perm_from_key(uint64_t key, size_t n, size_t *perm) {
    et_rng r = {key, 0};
    for (size_t i = 0; i < n; i++) perm[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)et_rng_below(&r, (uint64_t)i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

void et_shuffle(uint64_t seed, uint64_t epoch, size_t n, size_t *perm) {
    if (!perm) return;
    et_perm_from_key(et_rng_key(ET_RNG_SHUFFLE, seed, epoch, 0), n, perm);
}

et_status et_dataset_batch(const et_dataset *ds, const et_batch_config *cfg, uint64_t epoch,
                           const size_t *idx, size_t n, float *x, void *targets) {
    if (!ds || !cfg || (n && (!idx || !x))) return ET_ERR_INVALID_ARG;
    size_t oh = cfg->height ? cfg->height : ds->height;
    size_t ow = cfg->width ? cfg->width : ds->width;
    if (!oh || !ow) return ET_ERR_INVALID_ARG;  /* sizes vary: the caller must choose */
    if (cfg->norm_channels && cfg->norm_channels != ds->channels) return ET_ERR_SHAPE;
    size_t per;
    if (!et_img_bytes(oh, ow, ds->channels, 1, &per)) return ET_ERR_OVERFLOW;
    for (size_t b = 0; b < n; b++)
        if (idx[b] >= ds->count) return ET_ERR_INVALID_ARG;
    for (size_t b = 0; b < n; b++) {
        size_t r;
        const et_dataset *root = resolve(ds, idx[b], &r);
        et_status st = et_sample_preprocess(root->data + root->off[r], root->kind, root->h[r], root->w[r],
                                            root->channels, cfg, oh, ow, epoch, r, x + b * per);
        if (st != ET_OK) return st;
        if (!targets) continue;
        if (ds->multi_label) {
            float *t = (float *)targets + b * ds->classes;
            for (size_t k = 0; k < ds->classes; k++) t[k] = root->mlabels[r * ds->classes + k] ? 1.0f : 0.0f;
        } else {
            ((int32_t *)targets)[b] = root->labels[r];
        }
    }
    return ET_OK;
}
