/* The graph builder: users (and importers) append nodes one by one and get
 * an et_model. Each call validates its node at once so errors point at the
 * call that caused them. No shape rules of its own: graph_validate.c. */
#include <stdlib.h>
#include <string.h>
#include "model.h"

struct et_builder {
    et_model *m;
    uint32_t cap;
};

et_status et_builder_new(size_t channels, size_t h, size_t w, et_builder **out) {
    if (!out) return ET_ERR_INVALID_ARG;
    *out = NULL;
    if (!channels || !h || !w || channels > ET_MAX_DIM || h > ET_MAX_DIM || w > ET_MAX_DIM) return ET_ERR_INVALID_ARG;
    et_builder *b = calloc(1, sizeof *b);
    if (!b || !(b->m = et_model_alloc()) || et_model_alloc_nodes(b->m, 0) != ET_OK) {
        if (b) et_model_free(b->m);
        free(b);
        return ET_ERR_NO_MEMORY;
    }
    b->m->in_c = (uint32_t)channels;
    b->m->in_h = (uint32_t)h;
    b->m->in_w = (uint32_t)w;
    b->m->shapes[0].n = 1; b->m->shapes[0].h = h; b->m->shapes[0].w = w; b->m->shapes[0].c = channels;
    *out = b;
    return ET_OK;
}

void et_builder_free(et_builder *b) {
    if (!b) return;
    et_model_free(b->m);
    free(b);
}

const char *et_builder_error(const et_builder *b) { return b ? b->m->err : "no builder"; }

static void drop_last(et_model *m) {
    et_node *nd = &m->nodes[--m->n_nodes];
    free(nd->name);
    free(nd->in);
    for (uint32_t k = 0; k < ET_MAX_PARAMS; k++)
        if (nd->params[k].owned) free((void *)nd->params[k].data);
    memset(nd, 0, sizeof *nd);
}

/* Append a node with the given inputs; the caller fills attributes, then commit(). */
static et_status begin(et_builder *b, et_op op, const char *name, const int *ins, size_t n_in, et_node **out) {
    if (!b) return ET_ERR_INVALID_ARG;
    et_model *m = b->m;
    if (m->n_nodes >= ET_MAX_NODES) return et_model_fail(m, ET_ERR_INVALID_ARG, "more than %u nodes", ET_MAX_NODES);
    if (n_in == 0 || n_in > ET_MAX_INPUTS || !ins) return et_model_fail(m, ET_ERR_INVALID_ARG, "%s: %zu inputs", et_op_name(op), n_in);
    for (size_t k = 0; k < n_in; k++)
        if (ins[k] < 0 || (uint32_t)ins[k] > m->n_nodes)
            return et_model_fail(m, ET_ERR_INVALID_ARG, "%s node %u: input %zu is value %d, which does not exist yet (values 0..%u)",
                                 et_op_name(op), m->n_nodes, k, ins[k], m->n_nodes);
    if (m->n_nodes == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 16;
        et_node *nodes = realloc(m->nodes, cap * sizeof *nodes);
        if (!nodes) return et_model_fail(m, ET_ERR_NO_MEMORY, "out of memory");
        m->nodes = nodes;
        et_shape *shapes = realloc(m->shapes, ((size_t)cap + 1) * sizeof *shapes);
        if (!shapes) return et_model_fail(m, ET_ERR_NO_MEMORY, "out of memory");
        m->shapes = shapes;
        b->cap = cap;
    }
    et_node *nd = &m->nodes[m->n_nodes++];
    memset(nd, 0, sizeof *nd);
    nd->op = op;
    nd->n_params = et_op_param_slots(op);
    nd->in = malloc(n_in * sizeof *nd->in);
    if (!nd->in) { drop_last(m); return et_model_fail(m, ET_ERR_NO_MEMORY, "out of memory"); }
    for (size_t k = 0; k < n_in; k++) nd->in[k] = (uint32_t)ins[k];
    nd->n_in = (uint32_t)n_in;
    et_status st = et_node_set_name(m, m->n_nodes - 1, name);
    if (st != ET_OK) { drop_last(m); return st; }
    *out = nd;
    return ET_OK;
}

static et_status commit(et_builder *b, et_status st, int *out) {
    et_model *m = b->m;
    uint32_t i = m->n_nodes - 1;
    if (st == ET_OK) st = et_graph_check_node(&m->nodes[i], i, m->err, sizeof m->err);
    if (st == ET_OK) st = et_graph_infer(m, 1, m->in_h, m->in_w, m->shapes, m->err, sizeof m->err);
    if (st != ET_OK) {
        if (st == ET_ERR_NO_MEMORY) et_model_fail(m, st, "node %u: out of memory", i);
        drop_last(m);
        return st;
    }
    if (out) *out = (int)i + 1;
    return ET_OK;
}

static et_status copy_param(et_node *nd, uint32_t k, const float *src, size_t count) {
    if (!src) return count && k != 1 ? ET_ERR_INVALID_ARG : ET_OK;
    return et_param_copy(&nd->params[k], src, count);
}

static size_t or1(size_t v) { return v ? v : 1; }

static int fits(size_t v) { return v <= 0xffffffffu; }

et_status et_builder_conv2d(et_builder *b, const char *name, int in, const et_conv2d_desc *d,
                            const float *weight, const float *bias, int *out) {
    et_node *nd;
    if (!d || !weight) return b ? et_model_fail(b->m, ET_ERR_INVALID_ARG, "conv2d: NULL desc or weight") : ET_ERR_INVALID_ARG;
    et_status st = begin(b, ET_OP_CONV2D, name, &in, 1, &nd);
    if (st != ET_OK) return st;
    size_t vals[] = {d->out_channels, d->kh, d->kw, d->sh, d->sw, d->dh, d->dw, d->groups, d->pad_t, d->pad_l, d->pad_b, d->pad_r};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++)
        if (!fits(vals[k])) st = ET_ERR_INVALID_ARG;
    nd->out_c = (uint32_t)d->out_channels;
    nd->kh = (uint32_t)d->kh; nd->kw = (uint32_t)d->kw;
    nd->sh = (uint32_t)or1(d->sh); nd->sw = (uint32_t)or1(d->sw);
    nd->dh = (uint32_t)or1(d->dh); nd->dw = (uint32_t)or1(d->dw);
    nd->groups = (uint32_t)or1(d->groups);
    nd->pad_t = (uint32_t)d->pad_t; nd->pad_l = (uint32_t)d->pad_l;
    nd->pad_b = (uint32_t)d->pad_b; nd->pad_r = (uint32_t)d->pad_r;
    nd->act = d->act;
    if (st == ET_OK) st = et_graph_check_node(nd, b->m->n_nodes - 1, b->m->err, sizeof b->m->err);
    if (st == ET_OK) {
        size_t in_c = b->m->shapes[in].c;
        st = copy_param(nd, 0, weight, et_node_param_expected(nd, 0, in_c));
        if (st == ET_OK) st = copy_param(nd, 1, bias, nd->out_c);
    }
    return commit(b, st, out);
}

et_status et_builder_batchnorm(et_builder *b, const char *name, int in, float eps, const float *gamma,
                               const float *beta, const float *mean, const float *var, int *out) {
    et_node *nd;
    if (!gamma || !beta || !mean || !var) return b ? et_model_fail(b->m, ET_ERR_INVALID_ARG, "batchnorm: NULL parameter") : ET_ERR_INVALID_ARG;
    et_status st = begin(b, ET_OP_BATCHNORM, name, &in, 1, &nd);
    if (st != ET_OK) return st;
    nd->eps = eps;
    size_t c = b->m->shapes[in].c;
    const float *src[4] = {gamma, beta, mean, var};
    for (uint32_t k = 0; k < 4 && st == ET_OK; k++) st = copy_param(nd, k, src[k], c);
    for (size_t k = 0; st == ET_OK && k < c; k++)
        if (!(var[k] >= 0.0f)) st = et_model_fail(b->m, ET_ERR_INVALID_ARG, "batchnorm node %u: var[%zu] = %g is negative or NaN", b->m->n_nodes - 1, k, (double)var[k]);
    return commit(b, st, out);
}

static et_status simple(et_builder *b, et_op op, const char *name, const int *ins, size_t n, et_act act, int *out) {
    et_node *nd;
    et_status st = begin(b, op, name, ins, n, &nd);
    if (st != ET_OK) return st;
    nd->act = act;
    return commit(b, ET_OK, out);
}

et_status et_builder_act(et_builder *b, const char *name, int in, et_act act, int *out) {
    if (act.kind == ET_ACT_NONE || (unsigned)act.kind >= ET_ACT_COUNT)
        return b ? et_model_fail(b->m, ET_ERR_INVALID_ARG, "act: kind %d is not an activation", (int)act.kind) : ET_ERR_INVALID_ARG;
    return simple(b, ET_OP_ACT, name, &in, 1, act, out);
}
et_status et_builder_add(et_builder *b, const char *name, int x, int y, et_act act, int *out) {
    int ins[2] = {x, y};
    return simple(b, ET_OP_ADD, name, ins, 2, act, out);
}
et_status et_builder_mul(et_builder *b, const char *name, int x, int y, int *out) {
    int ins[2] = {x, y};
    return simple(b, ET_OP_MUL, name, ins, 2, et_act_none(), out);
}
et_status et_builder_concat(et_builder *b, const char *name, const int *ins, size_t n, int *out) {
    return simple(b, ET_OP_CONCAT, name, ins, n, et_act_none(), out);
}
et_status et_builder_global_avgpool(et_builder *b, const char *name, int in, int *out) {
    return simple(b, ET_OP_GLOBAL_AVGPOOL, name, &in, 1, et_act_none(), out);
}
et_status et_builder_flatten(et_builder *b, const char *name, int in, int *out) {
    return simple(b, ET_OP_FLATTEN, name, &in, 1, et_act_none(), out);
}
et_status et_builder_softmax(et_builder *b, const char *name, int in, int *out) {
    return simple(b, ET_OP_SOFTMAX, name, &in, 1, et_act_none(), out);
}

et_status et_builder_dropout(et_builder *b, const char *name, int in, float ratio, int *out) {
    et_node *nd;
    et_status st = begin(b, ET_OP_DROPOUT, name, &in, 1, &nd);
    if (st != ET_OK) return st;
    nd->ratio = ratio;
    return commit(b, ET_OK, out);
}

et_status et_builder_reshape(et_builder *b, const char *name, int in, size_t h, size_t w, size_t c, int *out) {
    et_node *nd;
    et_status st = begin(b, ET_OP_RESHAPE, name, &in, 1, &nd);
    if (st != ET_OK) return st;
    if (!fits(h) || !fits(w) || !fits(c)) st = et_model_fail(b->m, ET_ERR_INVALID_ARG, "reshape: target too large");
    nd->rh = (uint32_t)h; nd->rw = (uint32_t)w; nd->rc = (uint32_t)c;
    return commit(b, st, out);
}

static et_status pool(et_builder *b, et_op op, const char *name, int in, const et_pool_desc *d, int *out) {
    et_node *nd;
    if (!d) return b ? et_model_fail(b->m, ET_ERR_INVALID_ARG, "%s: NULL desc", et_op_name(op)) : ET_ERR_INVALID_ARG;
    et_status st = begin(b, op, name, &in, 1, &nd);
    if (st != ET_OK) return st;
    size_t vals[] = {d->kh, d->kw, d->sh, d->sw, d->pad_t, d->pad_l, d->pad_b, d->pad_r};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++)
        if (!fits(vals[k])) st = et_model_fail(b->m, ET_ERR_INVALID_ARG, "%s: attribute too large", et_op_name(op));
    nd->kh = (uint32_t)d->kh; nd->kw = (uint32_t)d->kw;
    nd->sh = (uint32_t)(d->sh ? d->sh : d->kh); nd->sw = (uint32_t)(d->sw ? d->sw : d->kw);
    nd->dh = nd->dw = nd->groups = 1;
    nd->pad_t = (uint32_t)d->pad_t; nd->pad_l = (uint32_t)d->pad_l;
    nd->pad_b = (uint32_t)d->pad_b; nd->pad_r = (uint32_t)d->pad_r;
    nd->ceil_mode = d->ceil_mode != 0;
    nd->count_include_pad = d->count_include_pad != 0;
    return commit(b, st, out);
}
et_status et_builder_maxpool(et_builder *b, const char *name, int in, const et_pool_desc *d, int *out) {
    return pool(b, ET_OP_MAXPOOL, name, in, d, out);
}
et_status et_builder_avgpool(et_builder *b, const char *name, int in, const et_pool_desc *d, int *out) {
    return pool(b, ET_OP_AVGPOOL, name, in, d, out);
}

et_status et_builder_linear(et_builder *b, const char *name, int in, size_t out_features,
                            const float *weight, const float *bias, et_act act, int *out) {
    et_node *nd;
    if (!weight) return b ? et_model_fail(b->m, ET_ERR_INVALID_ARG, "linear: NULL weight") : ET_ERR_INVALID_ARG;
    et_status st = begin(b, ET_OP_LINEAR, name, &in, 1, &nd);
    if (st != ET_OK) return st;
    if (!fits(out_features)) st = et_model_fail(b->m, ET_ERR_INVALID_ARG, "linear: %zu output features", out_features);
    nd->out_c = (uint32_t)out_features;
    nd->act = act;
    if (st == ET_OK) st = et_graph_check_node(nd, b->m->n_nodes - 1, b->m->err, sizeof b->m->err);
    if (st == ET_OK) st = copy_param(nd, 0, weight, et_node_param_expected(nd, 0, b->m->shapes[in].c));
    if (st == ET_OK) st = copy_param(nd, 1, bias, nd->out_c);
    return commit(b, st, out);
}

et_status et_builder_output(et_builder *b, int value) {
    if (!b) return ET_ERR_INVALID_ARG;
    et_model *m = b->m;
    if (value <= 0 || (uint32_t)value > m->n_nodes)
        return et_model_fail(m, ET_ERR_INVALID_ARG, "output: value %d is not a node output (1..%u)", value, m->n_nodes);
    uint32_t *o = realloc(m->outputs, (m->n_outputs + 1) * sizeof *o);
    if (!o) return et_model_fail(m, ET_ERR_NO_MEMORY, "out of memory");
    o[m->n_outputs++] = (uint32_t)value;
    m->outputs = o;
    return ET_OK;
}

et_status et_builder_finish(et_builder *b, et_model **out) {
    if (!b || !out) return ET_ERR_INVALID_ARG;
    *out = NULL;
    et_model *m = b->m;
    /* no explicit output: the last node is the output */
    if (m->n_outputs == 0 && m->n_nodes && et_builder_output(b, (int)m->n_nodes) != ET_OK) return ET_ERR_NO_MEMORY;
    et_status st = et_model_validate(m);
    if (st != ET_OK) return st;
    return et_model_clone(m, out);
}
