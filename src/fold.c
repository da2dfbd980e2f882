/* Inference rewrites: batchnorm folded into the conv2d/linear before it, and
 * a standalone activation fused into the conv2d/linear/add before it.
 * Works on a deep copy; the source model is never changed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"

/* w[o][...] *= scale[o]; b[o] = (b[o] - mean[o]) * scale[o] + beta[o]. */
static et_status fold_bn(et_node *p, const et_node *bn) {
    size_t oc = p->out_c, per = p->params[0].count / oc;
    const float *gamma = bn->params[0].data, *beta = bn->params[1].data;
    const float *mean = bn->params[2].data, *var = bn->params[3].data;
    float *w = (float *)p->params[0].data;
    float *b = p->params[1].count ? (float *)p->params[1].data : NULL;
    if (!b) {
        et_param fresh;
        float *zeros = calloc(oc, sizeof *zeros);
        if (!zeros) return ET_ERR_NO_MEMORY;
        et_status st = et_param_copy(&fresh, zeros, oc);
        free(zeros);
        if (st != ET_OK) return st;
        p->params[1] = fresh;
        b = (float *)fresh.data;
    }
    for (size_t o = 0; o < oc; o++) {
        double scale = (double)gamma[o] / sqrt((double)var[o] + (double)bn->eps);
        for (size_t j = 0; j < per; j++) w[o * per + j] = (float)((double)w[o * per + j] * scale);
        b[o] = (float)(((double)b[o] - (double)mean[o]) * scale + (double)beta[o]);
    }
    return ET_OK;
}

static void free_node(et_node *nd) {
    free(nd->name);
    free(nd->in);
    for (uint32_t k = 0; k < ET_MAX_PARAMS; k++)
        if (nd->params[k].owned) free((void *)nd->params[k].data);
    memset(nd, 0, sizeof *nd);
}

et_status et_model_fold(const et_model *src, et_model **out) {
    if (!src || !out) return ET_ERR_INVALID_ARG;
    *out = NULL;
    et_model *m;
    et_status st = et_model_clone(src, &m);
    if (st != ET_OK) return st;
    uint32_t nv = m->n_nodes + 1;
    uint32_t *alias = malloc(nv * sizeof *alias), *uses = calloc(nv, sizeof *uses), *newid = malloc(nv * sizeof *newid);
    if (!alias || !uses || !newid) { st = ET_ERR_NO_MEMORY; goto done; }
    for (uint32_t v = 0; v < nv; v++) alias[v] = v;
    for (uint32_t i = 0; i < m->n_nodes; i++)
        for (uint32_t k = 0; k < m->nodes[i].n_in; k++) uses[m->nodes[i].in[k]]++;
    for (uint32_t k = 0; k < m->n_outputs; k++) uses[m->outputs[k]]++;

    for (uint32_t i = 0; i < m->n_nodes; i++) {
        et_node *nd = &m->nodes[i];
        if (nd->op != ET_OP_BATCHNORM && nd->op != ET_OP_ACT) continue;
        uint32_t v = alias[nd->in[0]];
        if (v == 0 || uses[v] != 1) continue; /* the producer's output is needed unchanged elsewhere */
        et_node *p = &m->nodes[v - 1];
        if (p->act.kind != ET_ACT_NONE) continue;
        if (nd->op == ET_OP_BATCHNORM) {
            if (p->op != ET_OP_CONV2D && p->op != ET_OP_LINEAR) continue;
            if ((st = fold_bn(p, nd)) != ET_OK) goto done;
        } else {
            if (p->op != ET_OP_CONV2D && p->op != ET_OP_LINEAR && p->op != ET_OP_ADD) continue;
            p->act = nd->act;
        }
        alias[i + 1] = v;
        uses[v] = uses[i + 1];
        nd->op = ET_OP_COUNT; /* marks the node removed */
    }

    /* compact: kept nodes get new value ids, removed ones map to their alias */
    uint32_t kept = 0;
    newid[0] = 0;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        et_node *nd = &m->nodes[i];
        if (nd->op == ET_OP_COUNT) {
            newid[i + 1] = newid[alias[i + 1]];
            free_node(nd);
            continue;
        }
        for (uint32_t k = 0; k < nd->n_in; k++) nd->in[k] = newid[nd->in[k]];
        newid[i + 1] = kept + 1;
        if (kept != i) { m->nodes[kept] = *nd; memset(nd, 0, sizeof *nd); }
        kept++;
    }
    m->n_nodes = kept;
    for (uint32_t k = 0; k < m->n_outputs; k++) m->outputs[k] = newid[m->outputs[k]];
    st = et_model_validate(m);
done:
    free(alias);
    free(uses);
    free(newid);
    if (st != ET_OK) { et_model_free(m); return st; }
    *out = m;
    return ET_OK;
}
