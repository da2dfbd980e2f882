/* Structural rules of a graph: attribute ranges, parameter counts and shape
 * inference. Every error names the node. Shared by the builder, the loader
 * and the planner; no memory layout and no kernels here. */
#include <string.h>
#include "model.h"
#include "ops/ops.h"

#define MAX_ELEMS ((size_t)-1 / 64) /* any one tensor; keeps byte sizes far from overflow on 32- and 64-bit */

static const char *nname(const et_node *nd) { return nd->name ? nd->name : "?"; }

#define FAIL(st, ...) et_fail(err, err_len, st, __VA_ARGS__)

static et_status shape_ok(const et_node *nd, uint32_t i, et_shape s, char *err, size_t err_len) {
    size_t n;
    if (!s.n || !s.h || !s.w || !s.c)
        return FAIL(ET_ERR_SHAPE, "node %u '%s' (%s): empty output %zux%zux%zux%zu", i, nname(nd), et_op_name(nd->op), s.n, s.h, s.w, s.c);
    if (!et_mul_ok(s.n, s.h, &n) || !et_mul_ok(n, s.w, &n) || !et_mul_ok(n, s.c, &n) || n > MAX_ELEMS)
        return FAIL(ET_ERR_OVERFLOW, "node %u '%s' (%s): output %zux%zux%zux%zu is too large", i, nname(nd), et_op_name(nd->op), s.n, s.h, s.w, s.c);
    return ET_OK;
}

static et_status infer_window(const et_node *nd, uint32_t i, et_shape x, int is_conv, et_shape *o,
                              char *err, size_t err_len) {
    size_t dh = is_conv ? nd->dh : 1, dw = is_conv ? nd->dw : 1;
    size_t oh = et_window_out(x.h, nd->kh, nd->sh, dh, nd->pad_t, nd->pad_b, !is_conv && nd->ceil_mode);
    size_t ow = et_window_out(x.w, nd->kw, nd->sw, dw, nd->pad_l, nd->pad_r, !is_conv && nd->ceil_mode);
    if (!oh || !ow)
        return FAIL(ET_ERR_SHAPE, "node %u '%s' (%s): %zux%zu window (dilation %zux%zu) does not fit the padded %zux%zu input",
                    i, nname(nd), et_op_name(nd->op), (size_t)nd->kh, (size_t)nd->kw, dh, dw, x.h, x.w);
    o->n = x.n; o->h = oh; o->w = ow; o->c = x.c;
    return ET_OK;
}

static et_status infer_node(const et_node *nd, uint32_t i, const et_shape *shapes, et_shape *o,
                            char *err, size_t err_len) {
    et_shape x = shapes[nd->in[0]];
    *o = x;
    switch (nd->op) {
    case ET_OP_CONV2D: {
        if (x.c % nd->groups)
            return FAIL(ET_ERR_SHAPE, "node %u '%s' (conv2d): %zu input channels are not divisible by groups %u", i, nname(nd), x.c, nd->groups);
        et_status st = infer_window(nd, i, x, 1, o, err, err_len);
        o->c = nd->out_c;
        return st;
    }
    case ET_OP_MAXPOOL: case ET_OP_AVGPOOL:
        return infer_window(nd, i, x, 0, o, err, err_len);
    case ET_OP_ADD: case ET_OP_MUL: {
        et_shape y = shapes[nd->in[1]];
        size_t xd[4] = {x.n, x.h, x.w, x.c}, yd[4] = {y.n, y.h, y.w, y.c}, od[4];
        for (int k = 0; k < 4; k++) {
            if (xd[k] != yd[k] && xd[k] != 1 && yd[k] != 1)
                return FAIL(ET_ERR_SHAPE, "node %u '%s' (%s): cannot broadcast %zux%zux%zux%zu with %zux%zux%zux%zu (NHWC)",
                            i, nname(nd), et_op_name(nd->op), x.n, x.h, x.w, x.c, y.n, y.h, y.w, y.c);
            od[k] = xd[k] > yd[k] ? xd[k] : yd[k];
        }
        o->n = od[0]; o->h = od[1]; o->w = od[2]; o->c = od[3];
        return ET_OK;
    }
    case ET_OP_CONCAT:
        o->c = 0;
        for (uint32_t k = 0; k < nd->n_in; k++) {
            et_shape y = shapes[nd->in[k]];
            if (y.n != x.n || y.h != x.h || y.w != x.w)
                return FAIL(ET_ERR_SHAPE, "node %u '%s' (concat): input %u is %zux%zux%zu, input 0 is %zux%zux%zu (N,H,W must match)",
                            i, nname(nd), k, y.n, y.h, y.w, x.n, x.h, x.w);
            o->c += y.c;
        }
        return ET_OK;
    case ET_OP_GLOBAL_AVGPOOL:
        o->h = o->w = 1;
        return ET_OK;
    case ET_OP_LINEAR:
        if (x.h != 1 || x.w != 1)
            return FAIL(ET_ERR_SHAPE, "node %u '%s' (linear): input is %zux%zux%zux%zu; linear needs N x 1 x 1 x C (add flatten or global_avgpool first)",
                        i, nname(nd), x.n, x.h, x.w, x.c);
        o->c = nd->out_c;
        return ET_OK;
    case ET_OP_FLATTEN:
        o->c = x.h * x.w * x.c;
        o->h = o->w = 1;
        return ET_OK;
    case ET_OP_RESHAPE:
        if ((size_t)nd->rh * nd->rw * nd->rc != x.h * x.w * x.c)
            return FAIL(ET_ERR_SHAPE, "node %u '%s' (reshape): %zux%zux%zu has %zu elements per item, target %ux%ux%u has %zu",
                        i, nname(nd), x.h, x.w, x.c, x.h * x.w * x.c, nd->rh, nd->rw, nd->rc, (size_t)nd->rh * nd->rw * nd->rc);
        o->h = nd->rh; o->w = nd->rw; o->c = nd->rc;
        return ET_OK;
    default:
        return ET_OK; /* batchnorm, act, softmax, dropout keep the shape */
    }
}

et_status et_graph_infer(const et_model *m, size_t n, size_t h, size_t w, et_shape *shapes,
                         char *err, size_t err_len) {
    if (!n || !h || !w || n > ET_MAX_DIM || h > ET_MAX_DIM || w > ET_MAX_DIM)
        return FAIL(ET_ERR_INVALID_ARG, "input size %zux%zux%zu is outside 1..%u", n, h, w, ET_MAX_DIM);
    shapes[0].n = n; shapes[0].h = h; shapes[0].w = w; shapes[0].c = m->in_c;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const et_node *nd = &m->nodes[i];
        et_status st = infer_node(nd, i, shapes, &shapes[i + 1], err, err_len);
        if (st == ET_OK) st = shape_ok(nd, i, shapes[i + 1], err, err_len);
        if (st != ET_OK) return st;
        /* weights were sized for the channel count they were built with */
        for (uint32_t k = 0; k < nd->n_params; k++) {
            size_t want = et_node_param_expected(nd, k, shapes[nd->in[0]].c), have = nd->params[k].count;
            int bias_absent = k == 1 && have == 0 && nd->op != ET_OP_BATCHNORM;
            if (have != want && !bias_absent)
                return FAIL(ET_ERR_SHAPE, "node %u '%s' (%s): param %u has %zu values, input with %zu channels needs %zu",
                            i, nname(nd), et_op_name(nd->op), k, have, shapes[nd->in[0]].c, want);
        }
    }
    return ET_OK;
}

static int in_range(uint32_t v, uint32_t lo, uint32_t hi) { return v >= lo && v <= hi; }

et_status et_graph_check_node(const et_node *nd, uint32_t i, char *err, size_t err_len) {
    const char *nm = nname(nd);
    if ((unsigned)nd->op >= ET_OP_COUNT || nd->op == ET_OP_INPUT)
        return FAIL(ET_ERR_FORMAT, "node %u '%s': unknown op %d", i, nm, (int)nd->op);
    const char *op = et_op_name(nd->op);
    if ((unsigned)nd->act.kind >= ET_ACT_COUNT)
        return FAIL(ET_ERR_FORMAT, "node %u '%s' (%s): unknown activation %d", i, nm, op, (int)nd->act.kind);
    if (nd->act.kind != ET_ACT_NONE && nd->op != ET_OP_ACT && nd->op != ET_OP_CONV2D && nd->op != ET_OP_LINEAR && nd->op != ET_OP_ADD)
        return FAIL(ET_ERR_FORMAT, "node %u '%s' (%s): this op cannot carry a fused activation", i, nm, op);
    if (nd->act.kind == ET_ACT_CLIP && !(nd->act.a <= nd->act.b))
        return FAIL(ET_ERR_INVALID_ARG, "node %u '%s' (%s): clip min %g > max %g", i, nm, op, (double)nd->act.a, (double)nd->act.b);
    if (nd->act.a != nd->act.a || nd->act.b != nd->act.b)
        return FAIL(ET_ERR_INVALID_ARG, "node %u '%s' (%s): activation parameter is NaN", i, nm, op);
    uint32_t want_in = nd->op == ET_OP_ADD || nd->op == ET_OP_MUL ? 2 : 1;
    if (nd->op == ET_OP_CONCAT ? !in_range(nd->n_in, 1, ET_MAX_INPUTS) : nd->n_in != want_in)
        return FAIL(ET_ERR_FORMAT, "node %u '%s' (%s): %u inputs", i, nm, op, nd->n_in);
    if (!nd->in) return FAIL(ET_ERR_FORMAT, "node %u '%s' (%s): no input list", i, nm, op);
    for (uint32_t k = 0; k < nd->n_in; k++)
        if (nd->in[k] > i)
            return FAIL(ET_ERR_FORMAT, "node %u '%s' (%s): input %u refers to value %u, which is not computed before it (cycle or forward reference)",
                        i, nm, op, k, nd->in[k]);
    if (nd->op == ET_OP_CONV2D || nd->op == ET_OP_MAXPOOL || nd->op == ET_OP_AVGPOOL) {
        if (!in_range(nd->kh, 1, ET_MAX_KERNEL) || !in_range(nd->kw, 1, ET_MAX_KERNEL) ||
            !in_range(nd->sh, 1, ET_MAX_KERNEL) || !in_range(nd->sw, 1, ET_MAX_KERNEL))
            return FAIL(ET_ERR_INVALID_ARG, "node %u '%s' (%s): kernel %ux%u / stride %ux%u outside 1..%u", i, nm, op, nd->kh, nd->kw, nd->sh, nd->sw, ET_MAX_KERNEL);
        if (nd->pad_t > ET_MAX_PAD || nd->pad_l > ET_MAX_PAD || nd->pad_b > ET_MAX_PAD || nd->pad_r > ET_MAX_PAD)
            return FAIL(ET_ERR_INVALID_ARG, "node %u '%s' (%s): padding above %u", i, nm, op, ET_MAX_PAD);
    }
    if (nd->op == ET_OP_CONV2D) {
        if (!in_range(nd->dh, 1, ET_MAX_KERNEL) || !in_range(nd->dw, 1, ET_MAX_KERNEL))
            return FAIL(ET_ERR_INVALID_ARG, "node %u '%s' (conv2d): dilation %ux%u outside 1..%u", i, nm, nd->dh, nd->dw, ET_MAX_KERNEL);
        if (!in_range(nd->groups, 1, ET_MAX_DIM) || !in_range(nd->out_c, 1, ET_MAX_DIM) || nd->out_c % nd->groups)
            return FAIL(ET_ERR_INVALID_ARG, "node %u '%s' (conv2d): %u output channels, groups %u (need 1..%u, divisible)", i, nm, nd->out_c, nd->groups, ET_MAX_DIM);
    }
    if (nd->op == ET_OP_MAXPOOL || nd->op == ET_OP_AVGPOOL) {
        /* as in PyTorch: every window then holds at least one real element */
        if (nd->pad_t > nd->kh / 2 || nd->pad_b > nd->kh / 2 || nd->pad_l > nd->kw / 2 || nd->pad_r > nd->kw / 2)
            return FAIL(ET_ERR_INVALID_ARG, "node %u '%s' (%s): padding must be at most half the %ux%u kernel", i, nm, op, nd->kh, nd->kw);
    }
    if (nd->op == ET_OP_LINEAR && !in_range(nd->out_c, 1, 1u << 24))
        return FAIL(ET_ERR_INVALID_ARG, "node %u '%s' (linear): %u output features", i, nm, nd->out_c);
    if (nd->op == ET_OP_RESHAPE && (!in_range(nd->rh, 1, 1u << 30) || !in_range(nd->rw, 1, 1u << 30) || !in_range(nd->rc, 1, 1u << 30)))
        return FAIL(ET_ERR_INVALID_ARG, "node %u '%s' (reshape): target %ux%ux%u", i, nm, nd->rh, nd->rw, nd->rc);
    if (nd->op == ET_OP_BATCHNORM && !(nd->eps > 0.0f && nd->eps < 1.0f))
        return FAIL(ET_ERR_INVALID_ARG, "node %u '%s' (batchnorm): eps %g outside (0, 1)", i, nm, (double)nd->eps);
    if (nd->op == ET_OP_DROPOUT && !(nd->ratio >= 0.0f && nd->ratio < 1.0f))
        return FAIL(ET_ERR_INVALID_ARG, "node %u '%s' (dropout): ratio %g outside [0, 1)", i, nm, (double)nd->ratio);
    if (nd->n_params != et_op_param_slots(nd->op))
        return FAIL(ET_ERR_FORMAT, "node %u '%s' (%s): %u param slots, expected %u", i, nm, op, nd->n_params, et_op_param_slots(nd->op));
    for (uint32_t k = 0; k < nd->n_params; k++)
        if (nd->params[k].count && !nd->params[k].data)
            return FAIL(ET_ERR_FORMAT, "node %u '%s' (%s): param %u has no data", i, nm, op, k);
    return ET_OK;
}

et_status et_model_validate(et_model *m) {
    char *err = m->err;
    size_t err_len = sizeof m->err;
    if (!in_range(m->in_c, 1, ET_MAX_DIM) || !in_range(m->in_h, 1, ET_MAX_DIM) || !in_range(m->in_w, 1, ET_MAX_DIM))
        return FAIL(ET_ERR_INVALID_ARG, "graph input %ux%ux%u (HxWxC) outside 1..%u", m->in_h, m->in_w, m->in_c, ET_MAX_DIM);
    if (m->n_nodes == 0) return FAIL(ET_ERR_INVALID_ARG, "graph has no nodes");
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        et_status st = et_graph_check_node(&m->nodes[i], i, err, err_len);
        if (st != ET_OK) return st;
    }
    if (m->n_outputs == 0 || !m->outputs) return FAIL(ET_ERR_FORMAT, "graph has no outputs");
    for (uint32_t k = 0; k < m->n_outputs; k++)
        if (m->outputs[k] == 0 || m->outputs[k] > m->n_nodes)
            return FAIL(ET_ERR_FORMAT, "output %u refers to value %u, outside 1..%u", k, m->outputs[k], m->n_nodes);
    if (m->norm_channels > ET_MAX_CHANNELS_META) return FAIL(ET_ERR_FORMAT, "metadata: %u normalisation channels", m->norm_channels);
    return et_graph_infer(m, 1, m->in_h, m->in_w, m->shapes, err, err_len);
}
