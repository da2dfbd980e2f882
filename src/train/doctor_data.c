/* The doctor's data check: class balance, label range vs the head, input
 * statistics after preprocessing vs the normalisation the model expects,
 * and training samples repeated in the validation set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/doctor.h"

/* FNV-1a 64 of a sample's size and bytes: equal samples hash equal. */
static uint64_t sample_hash(const et_sample *s) {
    size_t bytes = s->height * s->width * s->channels * (s->kind == ET_SAMPLE_U8 ? 1 : sizeof(float));
    uint64_t h = 1469598103934665603ull;
    size_t dims[3] = {s->height, s->width, s->channels};
    const unsigned char *p = (const unsigned char *)dims;
    for (size_t i = 0; i < sizeof dims; i++) h = (h ^ p[i]) * 1099511628211ull;
    p = s->data;
    for (size_t i = 0; i < bytes; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int same_sample(const et_sample *a, const et_sample *b) {
    if (a->kind != b->kind || a->height != b->height || a->width != b->width || a->channels != b->channels) return 0;
    size_t bytes = a->height * a->width * a->channels * (a->kind == ET_SAMPLE_U8 ? 1 : sizeof(float));
    return memcmp(a->data, b->data, bytes) == 0;
}

/* Validation samples equal to a training sample; *first gets one's index. */
static et_status count_duplicates(doc_ctx *c, size_t *dups, size_t *first) {
    *dups = 0;
    et_dataset_info vi;
    if (!c->valid || et_dataset_get_info(c->valid, &vi) != ET_OK) return ET_OK;
    uint64_t *h = malloc(c->count * 2 * sizeof *h);
    if (!h) return et_fail(c->err, c->err_len, ET_ERR_NO_MEMORY, "doctor: no memory to hash the samples");
    et_sample s, t;
    for (size_t i = 0; i < c->count; i++) {
        if (et_dataset_sample(c->train, i, &s) != ET_OK) { free(h); return et_fail(c->err, c->err_len, ET_ERR_STATE, "doctor: cannot read training sample %zu", i); }
        h[2 * i] = sample_hash(&s);
        h[2 * i + 1] = i;
    }
    qsort(h, c->count, 2 * sizeof *h, cmp_u64);
    for (size_t j = 0; j < vi.count; j++) {
        if (et_dataset_sample(c->valid, j, &s) != ET_OK) continue;
        uint64_t key = sample_hash(&s);
        size_t lo = 0, hi = c->count;
        while (lo < hi) { size_t mid = (lo + hi) / 2; if (h[2 * mid] < key) lo = mid + 1; else hi = mid; }
        for (; lo < c->count && h[2 * lo] == key; lo++)
            if (et_dataset_sample(c->train, (size_t)h[2 * lo + 1], &t) == ET_OK && same_sample(&s, &t)) {
                if (!*dups) *first = j;
                ++*dups;
                break;
            }
    }
    free(h);
    return ET_OK;
}

/* Per-channel mean and std of the preprocessed inputs over the sample batches. */
static et_status input_stats(doc_ctx *c, size_t ch, double *mean, double *std) {
    double s[ET_MAX_CHANNELS_META] = {0}, q[ET_MAX_CHANNELS_META] = {0};
    size_t nb = c->cfg->sample_batches ? c->cfg->sample_batches : 1, n = 0;
    if (nb > c->n_batches) nb = c->n_batches;
    for (size_t b = 0; b < nb; b++) {
        et_status st = doc_batch(c, b);
        if (st != ET_OK) return st;
        size_t vals = c->batch * c->per;
        for (size_t i = 0; i < vals; i++) { double v = c->x[i]; s[i % ch] += v; q[i % ch] += v * v; }
        n += vals / ch;
    }
    for (size_t k = 0; k < ch; k++) {
        mean[k] = s[k] / (double)n;
        double var = q[k] / (double)n - mean[k] * mean[k];
        std[k] = var > 0 ? sqrt(var) : 0.0;
    }
    return ET_OK;
}

static size_t head_classes(const et_model *m) {
    et_model *cl = NULL;
    et_node_info ni;
    size_t k = 0, n = et_model_node_count(m);
    if (n && et_model_clone(m, &cl) == ET_OK && et_model_infer_shapes(cl, 1, 0, 0) == ET_OK &&
        et_model_node_info(cl, n - 1, &ni) == ET_OK)
        k = ni.out_shape.h * ni.out_shape.w * ni.out_shape.c;
    et_model_free(cl);
    return k;
}

et_status doc_check_data(doc_ctx *c, et_check *out) {
    et_dataset_info di;
    et_dataset_get_info(c->train, &di);
    size_t ch = di.channels;
    if (ch == 0 || ch > ET_MAX_CHANNELS_META) return et_fail(c->err, c->err_len, ET_ERR_UNSUPPORTED, "doctor: %zu input channels", ch);
    /* class balance */
    size_t K = c->classes, *counts = calloc(K ? K : 1, sizeof *counts);
    if (!counts) return et_fail(c->err, c->err_len, ET_ERR_NO_MEMORY, "doctor: no memory");
    for (size_t i = 0; i < c->count && !c->multi; i++) {
        int32_t y;
        if (et_dataset_label(c->train, i, &y) == ET_OK && y >= 0 && (size_t)y < K) counts[y]++;
    }
    size_t lo = (size_t)-1, hi = 0, lo_k = 0;
    for (size_t k = 0; k < K && !c->multi; k++) {
        if (counts[k] < lo) { lo = counts[k]; lo_k = k; }
        if (counts[k] > hi) hi = counts[k];
    }
    free(counts);
    double imbalance = c->multi || !lo ? (c->multi ? 1.0 : INFINITY) : (double)hi / (double)lo;
    size_t head = head_classes(c->m), dups = 0, dup_first = 0;
    double mean[ET_MAX_CHANNELS_META], sd[ET_MAX_CHANNELS_META];
    et_status st = input_stats(c, ch, mean, sd);
    if (st == ET_OK) st = count_duplicates(c, &dups, &dup_first);
    if (st != ET_OK) return st;
    et_metadata md;
    et_model_metadata(c->m, &md);
    int norm_expected = c->bc.norm_channels > 0 || md.norm_channels > 0;
    double worst_mean = 0.0, worst_std = 1.0;
    size_t wc = 0;
    for (size_t k = 0; k < ch; k++) {
        double dev = fabs(log(sd[k] > 1e-12 ? sd[k] : 1e-12));
        if (fabs(mean[k]) > fabs(worst_mean) || dev > fabs(log(worst_std))) { worst_mean = mean[k]; worst_std = sd[k]; wc = k; }
    }
    int inputs_off = norm_expected ? (fabs(worst_mean) > 0.75 || worst_std > 2.0 || worst_std < 0.5)
                                   : (fabs(worst_mean) > 3.0 || worst_std > 3.0);
    int unnormalised_for_model = md.norm_channels > 0 && c->bc.norm_channels == 0;
    char where[96] = "";
    et_check_status res = ET_CHECK_PASS;
    if (head && K > head) { res = ET_CHECK_FAIL; snprintf(where, sizeof where, "labels"); }
    else if (dups) { res = ET_CHECK_WARN; snprintf(where, sizeof where, "%s", et_dataset_sample_name(c->valid, dup_first)); }
    else if (inputs_off || unnormalised_for_model) { res = ET_CHECK_WARN; snprintf(where, sizeof where, "input channel %zu", wc); }
    else if (imbalance > 5.0) { res = ET_CHECK_WARN; snprintf(where, sizeof where, "class %zu", lo_k); }
    else if (head && K < head) res = ET_CHECK_WARN;
    doc_set(out, res, (double)dups, 0.0, where);
    doc_measured(out, "%zu samples, %zu %s (head %zu), largest/smallest class %.3g; inputs after preprocessing: channel %zu mean %.3g std %.3g%s; %zu validation samples repeat training samples",
                 c->count, K, c->multi ? "labels" : "classes", head, imbalance, wc, worst_mean, worst_std,
                 norm_expected ? " (expected about 0 and 1)" : "", dups);
    if (res == ET_CHECK_PASS) return ET_OK;
    if (head && K > head) doc_advice(out, "the data has %zu classes but the head only %zu outputs: give the model a new head (--new-head %zu)", K, head, K);
    else if (dups) doc_advice(out, "%zu validation samples (first: %s) also occur in the training set: validation accuracy is inflated; deduplicate before splitting", dups, where);
    else if (unnormalised_for_model) doc_advice(out, "the model was trained on inputs normalised with its mean/std but these batches are not normalised: pass the model's mean/std (or --mean/--std)");
    else if (inputs_off) doc_advice(out, "inputs are far from the expected scale: check the /255 scaling and --mean/--std (channel %zu)", wc);
    else if (imbalance > 5.0) doc_advice(out, "class %zu has %zu samples, %.3gx fewer than the largest: collect more, oversample it or use class weights", lo_k, lo, imbalance);
    else doc_advice(out, "the head has %zu outputs but the data only %zu classes: outputs without samples are never trained", head, K);
    return ET_OK;
}
