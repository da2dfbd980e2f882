/* Trainer monitor: per-layer activation statistics, the first non-finite
 * value, per-group gradient norms and update ratios, fed by the trainer's
 * probe hook. Everything is allocated in et_monitor_new, so an attached
 * monitor keeps training steps allocation-free. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "train/trainer.h"

#define MON_MAGIC 0x45544d4eu /* "ETMN" */

typedef struct layer_acc {
    uint32_t node;
    et_act act;
    double sum, sumsq, min, max;
    uint64_t count, zero, saturated, nonfinite;
    size_t channels;
    uint8_t *ever_positive;  /* [channels] */
    uint32_t hist[ET_HIST_BINS];
} layer_acc;

struct et_monitor {
    uint32_t magic;
    et_trainer *t;
    et_train_probe probe;
    size_t n_layers;
    layer_acc *layers;
    int32_t *layer_of_node;
    double *group_gsq;
    uint64_t gsq_gen;
    float *snap;
    size_t snap_count;
    int has_snap;
    int found;
    uint32_t bad_node;
    uint64_t bad_batch;
    int bad_backward;
};

static int is_view(et_op op) { return op == ET_OP_FLATTEN || op == ET_OP_RESHAPE; }

static int relu_like(et_act a) { return a.kind == ET_ACT_RELU || (a.kind == ET_ACT_CLIP && a.a == 0.0f); }

static int saturates(et_act a, float y) {
    switch (a.kind) {
    case ET_ACT_SIGMOID: case ET_ACT_HARDSIGMOID: return y < 0.01f || y > 0.99f;
    case ET_ACT_TANH: return fabsf(y) > 0.99f;
    default: return 0;
    }
}

static void layer_clear(layer_acc *L) {
    L->sum = L->sumsq = 0.0;
    L->min = INFINITY; L->max = -INFINITY;
    L->count = L->zero = L->saturated = L->nonfinite = 0;
    memset(L->ever_positive, 0, L->channels);
    memset(L->hist, 0, sizeof L->hist);
}

static int has_nonfinite(const float *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) return 1;
    return 0;
}

static void trap(et_monitor *mon, uint32_t node, int backward) {
    if (mon->found) return;
    mon->found = 1;
    mon->bad_node = node;
    mon->bad_batch = mon->t->batches;
    mon->bad_backward = backward;
}

static void observe_forward(et_monitor *mon, uint32_t node) {
    const et_trainer *t = mon->t;
    int32_t li = mon->layer_of_node[node];
    if (li < 0) return;
    layer_acc *L = &mon->layers[li];
    const float *y = t->data[node + 1];
    size_t cnt = et_shape_count(t->shapes[node + 1]), c = L->channels;
    float lo = relu_like(L->act) ? 0.0f : -10.0f, hi = 10.0f, scale = (float)ET_HIST_BINS / (hi - lo);
    double sum = 0.0, sumsq = 0.0;
    uint64_t bad = 0;
    for (size_t i = 0; i < cnt; i++) {
        float v = y[i];
        if (!isfinite(v)) { bad++; continue; }
        sum += v;
        sumsq += (double)v * v;
        if (v < L->min) L->min = v;
        if (v > L->max) L->max = v;
        if (fabsf(v) < 1e-6f) L->zero++;
        if (v > 0.0f) L->ever_positive[i % c] = 1;
        if (saturates(L->act, v)) L->saturated++;
        float b = (v - lo) * scale;
        L->hist[b <= 0.0f ? 0 : b >= (float)(ET_HIST_BINS - 1) ? ET_HIST_BINS - 1 : (size_t)b]++;
    }
    L->sum += sum;
    L->sumsq += sumsq;
    L->count += cnt - bad;
    L->nonfinite += bad;
    if (bad) trap(mon, node, 0);
}

static void observe_backward(et_monitor *mon, uint32_t node) {
    et_trainer *t = mon->t;
    if (t->batch_gen != mon->gsq_gen) {
        memset(mon->group_gsq, 0, t->n_groups * sizeof *mon->group_gsq);
        mon->gsq_gen = t->batch_gen;
    }
    uint32_t v = node + 1;
    if (t->grad[v] && et_train_grad_fresh(t, v) && has_nonfinite(t->grad[v], et_shape_count(t->shapes[v])))
        trap(mon, node, 1);
    const tnode *tn = &t->nodes[node];
    for (uint32_t k = 0; k < ET_MAX_PARAMS; k++) {
        int32_t p = tn->p[k];
        if (p < 0 || !t->params[p].trained) continue;
        const tparam *tp = &t->params[p];
        double sq = et_grad_sq_norm(tp->count, tp->g);
        if (!isfinite(sq)) trap(mon, node, 1);
        mon->group_gsq[tp->group] += sq;
    }
}

static void visit(void *ctx, const et_trainer *t, uint32_t node, int phase) {
    et_monitor *mon = ctx;
    (void)t;
    if (phase == 0) observe_forward(mon, node);
    else observe_backward(mon, node);
}

et_status et_monitor_new(const et_trainer *tc, et_monitor **out) {
    if (out) *out = NULL;
    if (!tc || tc->magic != ET_TRAINER_MAGIC || !out) return ET_ERR_INVALID_ARG;
    et_trainer *t = (et_trainer *)tc; /* attached later through et_trainer_set_monitor */
    et_monitor *mon = calloc(1, sizeof *mon);
    if (!mon) return ET_ERR_NO_MEMORY;
    mon->magic = MON_MAGIC;
    mon->t = t;
    mon->probe.visit = visit;
    mon->probe.ctx = mon;
    mon->layer_of_node = malloc(t->n_nodes * sizeof *mon->layer_of_node);
    mon->layers = calloc(t->n_nodes ? t->n_nodes : 1, sizeof *mon->layers);
    mon->group_gsq = calloc(t->n_groups ? t->n_groups : 1, sizeof *mon->group_gsq);
    for (uint32_t p = 0; p < t->n_params; p++)
        if (t->params[p].trained) mon->snap_count += t->params[p].count;
    mon->snap = malloc((mon->snap_count ? mon->snap_count : 1) * sizeof *mon->snap);
    if (!mon->layer_of_node || !mon->layers || !mon->group_gsq || !mon->snap) { et_monitor_free(mon); return ET_ERR_NO_MEMORY; }
    for (uint32_t i = 0; i < t->n_nodes; i++) {
        const et_node *nd = &t->m->nodes[i];
        mon->layer_of_node[i] = -1;
        if (i >= t->n_exec || t->nodes[i].role == ROLE_SKIP || is_view(nd->op)) continue;
        layer_acc *L = &mon->layers[mon->n_layers];
        L->node = i;
        L->act = nd->op == ET_OP_ACT ? nd->act : t->nodes[i].act;
        L->channels = t->shapes[i + 1].c ? t->shapes[i + 1].c : 1;
        L->ever_positive = malloc(L->channels);
        if (!L->ever_positive) { et_monitor_free(mon); return ET_ERR_NO_MEMORY; }
        layer_clear(L);
        mon->layer_of_node[i] = (int32_t)mon->n_layers++;
    }
    *out = mon;
    return ET_OK;
}

void et_monitor_free(et_monitor *mon) {
    if (!mon || mon->magic != MON_MAGIC) return;
    if (mon->t->magic == ET_TRAINER_MAGIC && mon->t->probe == &mon->probe) mon->t->probe = NULL;
    for (size_t i = 0; i < mon->n_layers; i++) free(mon->layers[i].ever_positive);
    free(mon->layers);
    free(mon->layer_of_node);
    free(mon->group_gsq);
    free(mon->snap);
    mon->magic = 0;
    free(mon);
}

et_status et_trainer_set_monitor(et_trainer *t, et_monitor *mon) {
    if (!t || t->magic != ET_TRAINER_MAGIC) return ET_ERR_INVALID_ARG;
    if (!mon) { t->probe = NULL; return ET_OK; }
    if (mon->magic != MON_MAGIC || mon->t != t)
        return et_fail(t->err, sizeof t->err, ET_ERR_INVALID_ARG, "set_monitor: the monitor was created for another trainer");
    t->probe = &mon->probe;
    return ET_OK;
}

void et_monitor_reset(et_monitor *mon) {
    if (!mon || mon->magic != MON_MAGIC) return;
    for (size_t i = 0; i < mon->n_layers; i++) layer_clear(&mon->layers[i]);
}

size_t et_monitor_layer_count(const et_monitor *mon) { return mon && mon->magic == MON_MAGIC ? mon->n_layers : 0; }

et_status et_monitor_layer(const et_monitor *mon, size_t i, et_layer_stats *out) {
    if (!mon || mon->magic != MON_MAGIC || !out) return ET_ERR_INVALID_ARG;
    if (i >= mon->n_layers) return ET_ERR_NOT_FOUND;
    const layer_acc *L = &mon->layers[i];
    const et_node *nd = &mon->t->m->nodes[L->node];
    memset(out, 0, sizeof *out);
    out->name = nd->name;
    out->node = L->node;
    out->op = nd->op;
    out->act = L->act.kind;
    out->count = L->count;
    out->nonfinite = L->nonfinite;
    out->channels = L->channels;
    if (L->count) {
        double n = (double)L->count, mean = L->sum / n, var = L->sumsq / n - mean * mean;
        out->mean = mean;
        out->std = var > 0.0 ? sqrt(var) : 0.0;
        out->min = L->min;
        out->max = L->max;
        out->frac_zero = (double)L->zero / n;
        out->frac_saturated = (double)L->saturated / n;
        if (relu_like(L->act))
            for (size_t c = 0; c < L->channels; c++) out->dead_channels += !L->ever_positive[c];
    }
    out->hist_lo = relu_like(L->act) ? 0.0f : -10.0f;
    out->hist_hi = 10.0f;
    memcpy(out->hist, L->hist, sizeof out->hist);
    return ET_OK;
}

et_status et_monitor_nonfinite(const et_monitor *mon, const char **layer, uint64_t *batch, int *backward) {
    if (!mon || mon->magic != MON_MAGIC) return ET_ERR_INVALID_ARG;
    if (!mon->found) return ET_ERR_NOT_FOUND;
    if (layer) *layer = mon->t->m->nodes[mon->bad_node].name;
    if (batch) *batch = mon->bad_batch;
    if (backward) *backward = mon->bad_backward;
    return ET_OK;
}

et_status et_monitor_snapshot(et_monitor *mon) {
    if (!mon || mon->magic != MON_MAGIC) return ET_ERR_INVALID_ARG;
    const et_trainer *t = mon->t;
    size_t off = 0;
    for (uint32_t p = 0; p < t->n_params; p++) {
        if (!t->params[p].trained) continue;
        memcpy(mon->snap + off, t->params[p].w, t->params[p].count * sizeof(float));
        off += t->params[p].count;
    }
    mon->has_snap = 1;
    return ET_OK;
}

et_status et_monitor_updates(const et_monitor *mon, et_group_update *out, size_t n) {
    if (!mon || mon->magic != MON_MAGIC || !out) return ET_ERR_INVALID_ARG;
    const et_trainer *t = mon->t;
    if (n < t->n_groups) return ET_ERR_INVALID_ARG;
    if (!mon->has_snap) return ET_ERR_STATE;
    memset(out, 0, t->n_groups * sizeof *out);
    size_t off = 0;
    for (uint32_t p = 0; p < t->n_params; p++) {
        const tparam *tp = &t->params[p];
        if (!tp->trained) continue;
        et_group_update *u = &out[tp->group];
        u->trainable = 1;
        for (size_t i = 0; i < tp->count; i++) {
            double w = tp->w[i], d = w - (double)mon->snap[off + i];
            u->weight_norm += w * w;
            u->update_norm += d * d;
        }
        off += tp->count;
    }
    for (uint32_t g = 0; g < t->n_groups; g++) {
        et_group_update *u = &out[g];
        u->grad_norm = sqrt(mon->group_gsq[g]);
        u->weight_norm = sqrt(u->weight_norm);
        u->update_norm = sqrt(u->update_norm);
        u->ratio = u->weight_norm > 0.0 ? u->update_norm / u->weight_norm : 0.0;
    }
    return ET_OK;
}
