/* Transfer-learning setup helpers: a fresh classifier head and the default
 * training configuration (fastai's defaults). No training logic here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"

void et_train_config_default(et_train_config *cfg) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->batch = 16;
    cfg->threads = 1;
    cfg->loss = ET_LOSS_SOFTMAX_CE;
    cfg->optim.kind = ET_OPTIM_ADAM;
    cfg->optim.lr = 1e-3f;
    cfg->optim.momentum = 0.9f;
    cfg->optim.beta1 = 0.9f;
    cfg->optim.beta2 = 0.99f;
    cfg->optim.eps = 1e-5f;
    cfg->optim.weight_decay = 0.01f;
    cfg->freeze_to = -1;
    cfg->bn_mode = ET_BN_TRAIN;
    cfg->accum_steps = 1;
    cfg->seed = 42;
}

/* splitmix64 -> uniform in [-1, 1): the same weights on every platform */
static float urand(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(z >> 40) / (float)(1u << 23) - 1.0f;
}

et_status et_model_new_head(const et_model *src, size_t classes, uint64_t seed, et_model **out) {
    if (out) *out = NULL;
    if (!src || !out || classes == 0 || classes > (1u << 24)) return ET_ERR_INVALID_ARG;
    uint32_t h = src->n_nodes;
    while (h > 0 && src->nodes[h - 1].op != ET_OP_LINEAR) h--;
    if (h == 0) return et_model_fail((et_model *)src, ET_ERR_UNSUPPORTED, "new head: the model has no linear layer to replace");
    h--;
    for (uint32_t i = h + 1; i < src->n_nodes; i++) {
        et_op op = src->nodes[i].op;
        if (op != ET_OP_SOFTMAX && op != ET_OP_ACT && op != ET_OP_DROPOUT && op != ET_OP_FLATTEN && op != ET_OP_RESHAPE)
            return et_model_fail((et_model *)src, ET_ERR_UNSUPPORTED, "new head: node %u '%s' (%s) follows the last linear layer",
                                 i, src->nodes[i].name, et_op_name(op));
        if (op == ET_OP_RESHAPE) return et_model_fail((et_model *)src, ET_ERR_UNSUPPORTED, "new head: reshape after the head");
    }
    et_model *m;
    et_status st = et_model_clone(src, &m);
    if (st != ET_OK) return st;
    et_node *nd = &m->nodes[h];
    size_t in_c = m->shapes[nd->in[0]].c, nw = classes * in_c;
    float *w = malloc(nw * sizeof *w), *b = calloc(classes, sizeof *b);
    if (!w || !b) { free(w); free(b); et_model_free(m); return ET_ERR_NO_MEMORY; }
    /* Kaiming-uniform as nn.Linear: bound = 1/sqrt(fan_in) (a = sqrt(5)) */
    float bound = 1.0f / sqrtf((float)in_c);
    uint64_t s = seed;
    for (size_t i = 0; i < nw; i++) w[i] = bound * urand(&s);
    for (uint32_t k = 0; k < 2; k++)
        if (nd->params[k].owned) free((void *)nd->params[k].data);
    nd->params[0].data = w; nd->params[0].count = nw; nd->params[0].owned = 1;
    nd->params[1].data = b; nd->params[1].count = classes; nd->params[1].owned = 1;
    nd->out_c = (uint32_t)classes;
    if (m->n_labels != classes) {
        for (uint32_t i = 0; i < m->n_labels; i++) free(m->labels[i]);
        free(m->labels);
        m->labels = NULL;
        m->n_labels = 0;
    }
    st = et_model_validate(m);
    if (st != ET_OK) { et_model_free(m); return st; }
    *out = m;
    return ET_OK;
}
