/* Class activation maps for one input. A trainer for a single image (every
 * layer keeps gradients, batchnorm frozen, dropout off) runs the forward
 * and, for Grad-CAM, a backward from the class logit; a probe copies the
 * feature map and its gradient while their planned buffers still hold them
 * (the planner reuses a buffer once its value is dead). Setup-time code:
 * it allocates the arena and frees it before returning. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "train/cam.h"
#include "train/trainer.h"

typedef struct cam_probe {
    uint32_t feature;
    uint32_t fwd_node;   /* after this node's forward the feature map is final */
    uint32_t bwd_node;   /* after this node's backward its gradient is complete */
    size_t count;
    float *feat, *grad;
} cam_probe;

static void cam_visit(void *ctx, const et_trainer *t, uint32_t node, int phase) {
    cam_probe *p = ctx;
    if (phase == 0 && node == p->fwd_node) memcpy(p->feat, t->data[p->feature], p->count * sizeof(float));
    if (phase == 1 && node == p->bwd_node) {
        /* gradients are zeroed lazily: a buffer nobody wrote this batch holds stale data */
        if (et_train_grad_fresh(t, p->feature)) memcpy(p->grad, t->grad[p->feature], p->count * sizeof(float));
        else memset(p->grad, 0, p->count * sizeof(float));
    }
}

/* Where to look, from the trainer's plan: the node that writes the feature
 * map's buffer (folded nodes write through their producer) and the lowest
 * node whose backward adds to its gradient, directly or through a trained
 * flatten/reshape view (those share the buffer, as the planner lays out). */
static void place_probe(const et_trainer *t, cam_probe *p, uint8_t *shares) {
    const et_model *m = t->m;
    uint32_t r = p->feature;
    while (r > 0 && t->nodes[r - 1].role == ROLE_SKIP) r = m->nodes[r - 1].in[0];
    p->fwd_node = r - 1; /* r > 0: only nodes after conv/linear/add are folded */
    memset(shares, 0, t->n_values);
    shares[p->feature] = 1;
    p->bwd_node = UINT32_MAX;
    for (uint32_t i = t->first; i < t->n_exec; i++) {
        const et_node *nd = &m->nodes[i];
        if (t->nodes[i].role != ROLE_SUFFIX) continue;
        int reads = 0;
        for (uint32_t k = 0; k < nd->n_in; k++) reads |= shares[nd->in[k]];
        if (!reads) continue;
        if (p->bwd_node == UINT32_MAX) p->bwd_node = i;
        if ((nd->op == ET_OP_FLATTEN || nd->op == ET_OP_RESHAPE) && shares[nd->in[0]]) shares[i + 1] = 1;
    }
}

/* Min-max to [0, 1]; a (numerically) constant map becomes zeros. */
static int normalise(const double *raw, size_t n, float *map) {
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (raw[i] < lo) lo = raw[i];
        if (raw[i] > hi) hi = raw[i];
    }
    double mag = fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi);
    if (!(hi - lo > 1e-6 * mag)) {
        for (size_t i = 0; i < n; i++) map[i] = 0.0f;
        return 1;
    }
    for (size_t i = 0; i < n; i++) map[i] = (float)((raw[i] - lo) / (hi - lo));
    return 0;
}

static et_train_config cam_train_config(const et_cam_head *H) {
    et_train_config c;
    et_train_config_default(&c);
    c.batch = 1;
    c.height = H->in_h;
    c.width = H->in_w;
    c.threads = 1;
    c.loss = ET_LOSS_SOFTMAX_CE;      /* what makes the trainer skip a trailing softmax */
    c.optim.kind = ET_OPTIM_SGD;      /* no optimizer state: no step is ever taken */
    c.optim.lr = 1.0f;
    c.optim.momentum = 0.0f;
    c.optim.weight_decay = 0.0f;
    c.freeze_to = 0;                  /* every value on the way gets a gradient buffer */
    c.bn_mode = ET_BN_FROZEN;         /* running statistics, as at inference */
    return c;
}

/* The heap blocks of one call, freed together. */
typedef struct cam_mem {
    void *arena;
    float *feat, *logits;
    double *raw, *alpha;
    uint8_t *shares;
} cam_mem;

static void cam_mem_free(cam_mem *a) {
    free(a->arena); free(a->feat); free(a->logits); free(a->raw); free(a->alpha); free(a->shares);
}

/* map = sum_c W[k][c] f[.][c] (CAM) or ReLU(sum_c alpha_c f[.][c]) (Grad-CAM). */
static void weigh(const float *f, size_t cells, size_t C, const double *wc, const float *wf, int relu, double *raw) {
    for (size_t p = 0; p < cells; p++) {
        double s = 0.0;
        for (size_t c = 0; c < C; c++) s += (wc ? wc[c] : (double)wf[c]) * (double)f[p * C + c];
        raw[p] = relu && s < 0.0 ? 0.0 : s;
    }
}

static et_status run_cam(const et_model *m, const et_cam_head *H, const float *x, int class_id, float *map,
                         et_cam_result *res, cam_mem *a, char *err, size_t err_len) {
    et_train_config cfg = cam_train_config(H);
    et_plan plan;
    et_status st = et_model_plan_train(m, &cfg, &plan);
    if (st != ET_OK) return et_fail(err, err_len, st, "cam: %s", et_model_error(m));
    size_t C = H->fshape.c, cells = H->fshape.h * H->fshape.w, count = cells * C, K = H->classes;
    a->arena = malloc(plan.total);
    a->feat = calloc(2 * count, sizeof(float));
    a->logits = malloc(K * sizeof(float));
    a->raw = malloc(cells * sizeof(double));
    a->alpha = malloc(C * sizeof(double));
    a->shares = malloc((size_t)m->n_nodes + 1);
    if (!a->arena || !a->feat || !a->logits || !a->raw || !a->alpha || !a->shares)
        return et_fail(err, err_len, ET_ERR_NO_MEMORY, "cam: out of memory (a %zu-byte training arena)", plan.total);
    et_trainer *t;
    if ((st = et_trainer_prepare(m, &cfg, a->arena, plan.total, &t, NULL)) != ET_OK)
        return et_fail(err, err_len, st, "cam: %s", et_model_error(m));
    if (t->logits != H->logits) return et_fail(err, err_len, ET_ERR_STATE, "cam: internal: the trainer scores another value");
    t->dropout_off = 1;
    cam_probe p = {H->feature, 0, 0, count, a->feat, a->feat + count};
    place_probe(t, &p, a->shares);
    et_train_probe probe = {cam_visit, &p};
    t->probe = &probe;
    memcpy(t->data[0], x, et_shape_count(t->shapes[0]) * sizeof(float));
    if ((st = et_train_probe_pass(t, NULL, NULL, NULL)) != ET_OK) return et_fail(err, err_len, st, "cam: %s", t->err);
    memcpy(a->logits, t->data[t->logits], K * sizeof(float));
    size_t top = 0;
    for (size_t k = 0; k < K; k++) {
        if (!isfinite(a->logits[k])) return et_fail(err, err_len, ET_ERR_NUMERIC, "cam: class score %zu is %g", k, (double)a->logits[k]);
        if (a->logits[k] > a->logits[top]) top = k;
    }
    size_t k = class_id < 0 ? top : (size_t)class_id;
    double z = 0.0;
    for (size_t j = 0; j < K; j++) z += exp((double)a->logits[j] - (double)a->logits[top]);
    res->class_id = k;
    res->top_class = top;
    res->logit = a->logits[k];
    res->prob = (float)(exp((double)a->logits[k] - (double)a->logits[top]) / z);
    res->method = H->method;
    if (H->method == ET_CAM_CAM) {
        weigh(a->feat, cells, C, NULL, m->nodes[H->linear].params[0].data + k * C, 0, a->raw);
    } else {
        if (!t->grad[H->feature] || p.bwd_node == UINT32_MAX)
            return et_fail(err, err_len, ET_ERR_UNSUPPORTED,
                           "cam: Grad-CAM: no gradient reaches the feature map '%s' (it comes before the first layer with weights)",
                           m->nodes[H->feature - 1].name);
        float *onehot = a->logits; /* the logits were read already */
        memset(onehot, 0, K * sizeof(float));
        onehot[k] = 1.0f;
        if ((st = et_train_probe_pass(t, NULL, onehot, NULL)) != ET_OK) return et_fail(err, err_len, st, "cam: %s", t->err);
        for (size_t c = 0; c < C; c++) {
            double s = 0.0;
            for (size_t q = 0; q < cells; q++) s += (double)p.grad[q * C + c];
            a->alpha[c] = s / (double)cells;
        }
        weigh(a->feat, cells, C, a->alpha, NULL, 1, a->raw);
    }
    for (size_t q = 0; q < cells; q++)
        if (!isfinite(a->raw[q])) return et_fail(err, err_len, ET_ERR_NUMERIC, "cam: the map is not finite at cell %zu", q);
    res->height = H->fshape.h;
    res->width = H->fshape.w;
    res->constant = normalise(a->raw, cells, map);
    return ET_OK;
}

et_status et_model_cam(const et_model *m, const et_cam_options *opt, const float *x, int class_id,
                       float *map, size_t map_count, et_cam_result *res, char *err, size_t err_len) {
    if (err && err_len) err[0] = '\0';
    et_cam_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    if (!m || !x || !map) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "cam: NULL model, input or map");
    et_cam_head H;
    et_status st = et_cam_analyze(m, opt, &H, err, err_len);
    if (st != ET_OK) return st;
    size_t cells = H.fshape.h * H.fshape.w;
    if (map_count < cells)
        return et_fail(err, err_len, ET_ERR_INVALID_ARG, "cam: the map buffer holds %zu floats; the %zux%zu map needs %zu",
                       map_count, H.fshape.h, H.fshape.w, cells);
    if (class_id < -1 || (class_id >= 0 && (size_t)class_id >= H.classes))
        return et_fail(err, err_len, ET_ERR_INVALID_ARG, "cam: class %d is outside 0..%zu (or -1 for the top class)", class_id, H.classes - 1);
    cam_mem a;
    memset(&a, 0, sizeof a);
    st = run_cam(m, &H, x, class_id, map, res, &a, err, err_len);
    cam_mem_free(&a);
    if (st != ET_OK) memset(res, 0, sizeof *res);
    return st;
}
