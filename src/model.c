/* Model lifetime, error messages and introspection. Setup-time code: the
 * allocations here never happen on the run path. No shape rules here
 * (graph_shape.c) and no file formats (format/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "model.h"
#include "format/etm.h"

et_status et_fail(char *err, size_t len, et_status st, const char *fmt, ...) {
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return st;
}

et_status et_model_fail(et_model *m, et_status st, const char *fmt, ...) {
    if (m) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m->err, sizeof m->err, fmt, ap);
        va_end(ap);
    }
    return st;
}

const char *et_model_error(const et_model *m) { return m ? m->err : "no model"; }

void et_model_init(et_model *m) {
    memset(m, 0, sizeof *m);
    m->source_layout = ET_LAYOUT_NHWC;
    for (size_t i = 0; i < ET_MAX_CHANNELS_META; i++) m->std[i] = 1.0f;
}

et_model *et_model_alloc(void) {
    et_model *m = malloc(sizeof *m);
    if (m) et_model_init(m);
    return m;
}

et_status et_model_alloc_nodes(et_model *m, uint32_t n_nodes) {
    if (n_nodes > ET_MAX_NODES) return et_model_fail(m, ET_ERR_INVALID_ARG, "%u nodes exceed the limit %u", n_nodes, ET_MAX_NODES);
    m->nodes = calloc(n_nodes ? n_nodes : 1, sizeof *m->nodes);
    m->shapes = calloc((size_t)n_nodes + 1, sizeof *m->shapes);
    if (!m->nodes || !m->shapes) return et_model_fail(m, ET_ERR_NO_MEMORY, "out of memory for %u nodes", n_nodes);
    m->n_nodes = n_nodes;
    return ET_OK;
}

et_status et_node_set_name(et_model *m, uint32_t i, const char *name) {
    char gen[48];
    if (!name || !*name) {
        snprintf(gen, sizeof gen, "%s_%u", et_op_name(m->nodes[i].op), i);
        name = gen;
    }
    size_t len = strlen(name);
    if (len > ET_MAX_NAME) return et_model_fail(m, ET_ERR_INVALID_ARG, "node %u: name longer than %u bytes", i, ET_MAX_NAME);
    char *copy = malloc(len + 1);
    if (!copy) return et_model_fail(m, ET_ERR_NO_MEMORY, "out of memory");
    memcpy(copy, name, len + 1);
    free(m->nodes[i].name);
    m->nodes[i].name = copy;
    return ET_OK;
}

et_status et_param_copy(et_param *p, const float *src, size_t count) {
    float *d = NULL;
    if (count) {
        size_t bytes;
        if (!et_mul_ok(count, sizeof(float), &bytes)) return ET_ERR_OVERFLOW;
        d = malloc(bytes);
        if (!d) return ET_ERR_NO_MEMORY;
        memcpy(d, src, bytes);
    }
    p->data = d;
    p->count = count;
    p->owned = d != NULL;
    return ET_OK;
}

void et_model_free(et_model *m) {
    if (!m || m->in_caller_mem) return; /* the caller owns that memory */
    for (uint32_t i = 0; i < m->n_nodes && m->nodes; i++) {
        et_node *nd = &m->nodes[i];
        free(nd->name);
        free(nd->in);
        for (uint32_t k = 0; k < ET_MAX_PARAMS; k++)
            if (nd->params[k].owned) free((void *)nd->params[k].data);
    }
    free(m->nodes);
    free(m->outputs);
    for (uint32_t i = 0; i < m->n_labels && m->labels; i++) free(m->labels[i]);
    free(m->labels);
    free(m->source);
    free(m->shapes);
    if (m->map_base) munmap(m->map_base, m->map_len);
    free(m->file_copy);
    free(m);
}

uint32_t et_op_param_slots(et_op op) {
    switch (op) {
    case ET_OP_CONV2D: case ET_OP_LINEAR: return 2;
    case ET_OP_BATCHNORM: return 4;
    default: return 0;
    }
}

size_t et_node_param_expected(const et_node *nd, uint32_t k, size_t in_c) {
    switch (nd->op) {
    case ET_OP_CONV2D:
        if (k == 0) {
            size_t g = nd->groups ? nd->groups : 1, n;
            if (!et_mul_ok((size_t)nd->out_c, (size_t)nd->kh * nd->kw, &n) || !et_mul_ok(n, in_c / g, &n)) return 0;
            return n;
        }
        return k == 1 ? nd->out_c : 0;
    case ET_OP_LINEAR:
        if (k == 0) { size_t n; return et_mul_ok(nd->out_c, in_c, &n) ? n : 0; }
        return k == 1 ? nd->out_c : 0;
    case ET_OP_BATCHNORM: return k < 4 ? in_c : 0;
    default: return 0;
    }
}

int et_node_is_view(const et_node *nd) {
    return nd->op == ET_OP_FLATTEN || nd->op == ET_OP_RESHAPE || nd->op == ET_OP_DROPOUT;
}

size_t et_model_node_count(const et_model *m) { return m ? m->n_nodes : 0; }

size_t et_model_param_count(const et_model *m) {
    size_t total = 0;
    for (uint32_t i = 0; m && i < m->n_nodes; i++)
        for (uint32_t k = 0; k < m->nodes[i].n_params; k++) total += m->nodes[i].params[k].count;
    return total;
}

et_status et_model_input_shape(const et_model *m, et_shape *out) {
    if (!m || !out) return ET_ERR_INVALID_ARG;
    out->n = 1; out->h = m->in_h; out->w = m->in_w; out->c = m->in_c;
    return ET_OK;
}

et_status et_model_metadata(const et_model *m, et_metadata *out) {
    if (!m || !out) return ET_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    out->source_layout = m->source_layout;
    out->input_h = m->in_h;
    out->input_w = m->in_w;
    out->norm_channels = m->norm_channels;
    memcpy(out->mean, m->mean, sizeof out->mean);
    memcpy(out->std, m->std, sizeof out->std);
    out->label_count = m->n_labels;
    out->labels = (const char *const *)m->labels;
    out->source = m->source ? m->source : "";
    return ET_OK;
}

/* Changing a table of a static model would mean freeing caller memory. */
#define READ_ONLY "a model loaded with et_model_load_static is read-only (et_model_clone makes a heap copy)"

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

et_status et_model_set_metadata(et_model *m, const et_metadata *md) {
    if (!m || !md) return ET_ERR_INVALID_ARG;
    if (m->in_caller_mem) return et_model_fail(m, ET_ERR_STATE, "set_metadata: %s", READ_ONLY);
    if (md->norm_channels > ET_MAX_CHANNELS_META)
        return et_model_fail(m, ET_ERR_INVALID_ARG, "metadata: norm_channels %zu exceeds %d", md->norm_channels, ET_MAX_CHANNELS_META);
    if (md->label_count > ET_MAX_LABELS || (md->label_count && !md->labels))
        return et_model_fail(m, ET_ERR_INVALID_ARG, "metadata: bad label list");
    /* what the .etm writer accepts, so a model that takes metadata can be saved */
    for (size_t i = 0; i < md->label_count; i++)
        if (md->labels[i] && strlen(md->labels[i]) > ET_ETM_MAX_LABEL_LEN)
            return et_model_fail(m, ET_ERR_INVALID_ARG, "metadata: label %zu is longer than %u bytes", i, ET_ETM_MAX_LABEL_LEN);
    if (md->source_layout != ET_LAYOUT_NHWC && md->source_layout != ET_LAYOUT_NCHW)
        return et_model_fail(m, ET_ERR_INVALID_ARG, "metadata: unknown source layout %d", (int)md->source_layout);
    for (size_t i = 0; i < md->norm_channels; i++)
        if (!(md->std[i] > 0.0f)) return et_model_fail(m, ET_ERR_INVALID_ARG, "metadata: std[%zu] must be > 0", i);
    char **labels = NULL;
    char *source = md->source ? dup_str(md->source) : NULL;
    if (md->source && !source) return et_model_fail(m, ET_ERR_NO_MEMORY, "out of memory");
    if (md->label_count) {
        labels = calloc(md->label_count, sizeof *labels);
        int ok = labels != NULL;
        for (size_t i = 0; ok && i < md->label_count; i++) ok = (labels[i] = dup_str(md->labels[i] ? md->labels[i] : "")) != NULL;
        if (!ok) {
            for (size_t i = 0; labels && i < md->label_count; i++) free(labels[i]);
            free(labels);
            free(source);
            return et_model_fail(m, ET_ERR_NO_MEMORY, "out of memory");
        }
    }
    for (uint32_t i = 0; i < m->n_labels; i++) free(m->labels[i]);
    free(m->labels);
    free(m->source);
    m->labels = labels;
    m->n_labels = (uint32_t)md->label_count;
    m->source = source;
    m->source_layout = md->source_layout;
    if (md->input_h && md->input_w) { m->in_h = (uint32_t)md->input_h; m->in_w = (uint32_t)md->input_w; }
    m->norm_channels = (uint32_t)md->norm_channels;
    memcpy(m->mean, md->mean, sizeof m->mean);
    memcpy(m->std, md->std, sizeof m->std);
    return ET_OK;
}

et_status et_model_infer_shapes(et_model *m, size_t batch, size_t h, size_t w) {
    if (!m) return ET_ERR_INVALID_ARG;
    return et_graph_infer(m, batch ? batch : 1, h ? h : m->in_h, w ? w : m->in_w, m->shapes, m->err, sizeof m->err);
}

static uint64_t node_macs(const et_model *m, uint32_t i) {
    const et_node *nd = &m->nodes[i];
    et_shape o = m->shapes[i + 1], x = m->shapes[nd->in[0]];
    uint64_t outs = (uint64_t)o.n * o.h * o.w * o.c;
    switch (nd->op) {
    case ET_OP_CONV2D: return outs * nd->kh * nd->kw * (x.c / (nd->groups ? nd->groups : 1));
    case ET_OP_LINEAR: return outs * x.c;
    case ET_OP_MAXPOOL: case ET_OP_AVGPOOL: return outs * nd->kh * nd->kw;
    case ET_OP_GLOBAL_AVGPOOL: return (uint64_t)x.n * x.h * x.w * x.c;
    default: return 0;
    }
}

et_status et_model_node_info(const et_model *m, size_t i, et_node_info *out) {
    if (!m || !out) return ET_ERR_INVALID_ARG;
    if (i >= m->n_nodes) return ET_ERR_NOT_FOUND;
    const et_node *nd = &m->nodes[i];
    memset(out, 0, sizeof *out);
    out->name = nd->name;
    out->op = nd->op;
    out->act = nd->act;
    out->n_inputs = nd->n_in;
    out->out_shape = m->shapes[i + 1];
    for (uint32_t k = 0; k < nd->n_params; k++) out->params += nd->params[k].count;
    out->macs = node_macs(m, (uint32_t)i);
    if (nd->op == ET_OP_CONV2D || nd->op == ET_OP_MAXPOOL || nd->op == ET_OP_AVGPOOL) {
        out->kh = nd->kh; out->kw = nd->kw; out->sh = nd->sh; out->sw = nd->sw;
        out->dh = nd->dh; out->dw = nd->dw; out->groups = nd->groups;
        out->pad_t = nd->pad_t; out->pad_l = nd->pad_l; out->pad_b = nd->pad_b; out->pad_r = nd->pad_r;
    }
    return ET_OK;
}

static et_status clone_node(et_node *d, const et_node *s) {
    *d = *s;
    d->name = NULL;
    d->in = NULL;
    for (uint32_t k = 0; k < ET_MAX_PARAMS; k++) d->params[k].owned = 0, d->params[k].data = NULL;
    if (s->name && !(d->name = dup_str(s->name))) return ET_ERR_NO_MEMORY;
    if (!(d->in = malloc((s->n_in ? s->n_in : 1) * sizeof *d->in))) return ET_ERR_NO_MEMORY;
    if (s->n_in) memcpy(d->in, s->in, s->n_in * sizeof *d->in);
    for (uint32_t k = 0; k < s->n_params; k++) {
        et_status st = et_param_copy(&d->params[k], s->params[k].data, s->params[k].count);
        if (st != ET_OK) return st;
    }
    return ET_OK;
}

et_status et_model_clone(const et_model *m, et_model **out) {
    if (out) *out = NULL;
    if (!m || !out) return ET_ERR_INVALID_ARG;
    et_model *c = et_model_alloc();
    if (!c) return ET_ERR_NO_MEMORY;
    et_status st = et_model_alloc_nodes(c, m->n_nodes);
    for (uint32_t i = 0; st == ET_OK && i < m->n_nodes; i++) st = clone_node(&c->nodes[i], &m->nodes[i]);
    if (st == ET_OK && !(c->outputs = malloc((m->n_outputs ? m->n_outputs : 1) * sizeof *c->outputs))) st = ET_ERR_NO_MEMORY;
    if (st == ET_OK) {
        if (m->n_outputs) memcpy(c->outputs, m->outputs, m->n_outputs * sizeof *c->outputs);
        c->n_outputs = m->n_outputs;
        c->in_c = m->in_c; c->in_h = m->in_h; c->in_w = m->in_w;
        memcpy(c->shapes, m->shapes, ((size_t)m->n_nodes + 1) * sizeof *c->shapes);
        et_metadata md;
        et_model_metadata(m, &md);
        md.source = m->source; /* keep NULL as NULL */
        st = et_model_set_metadata(c, &md);
    }
    if (st != ET_OK) { et_model_free(c); return st; }
    *out = c;
    return ET_OK;
}

et_status et_model_param(const et_model *m, size_t node, size_t slot, const float **data, size_t *count) {
    if (!m || !data || !count) return ET_ERR_INVALID_ARG;
    if (node >= m->n_nodes || slot >= m->nodes[node].n_params)
        return et_model_fail((et_model *)m, ET_ERR_NOT_FOUND, "node %zu has no parameter slot %zu", node, slot);
    *data = m->nodes[node].params[slot].data;
    *count = m->nodes[node].params[slot].count;
    return ET_OK;
}

et_status et_model_set_param(et_model *m, size_t node, size_t slot, const float *data, size_t count) {
    if (!m || (!data && count)) return ET_ERR_INVALID_ARG;
    if (m->in_caller_mem) return et_model_fail(m, ET_ERR_STATE, "set_param: %s", READ_ONLY);
    if (node >= m->n_nodes || slot >= m->nodes[node].n_params)
        return et_model_fail(m, ET_ERR_NOT_FOUND, "node %zu has no parameter slot %zu", node, slot);
    et_node *nd = &m->nodes[node];
    size_t want = et_node_param_expected(nd, (uint32_t)slot, m->shapes[nd->in[0]].c);
    int optional_bias = slot == 1 && nd->op != ET_OP_BATCHNORM && count == 0;
    if (count != want && !optional_bias)
        return et_model_fail(m, ET_ERR_SHAPE, "node %zu '%s': slot %zu takes %zu values, got %zu", node, nd->name, slot, want, count);
    et_param fresh;
    if (et_param_copy(&fresh, data, count) != ET_OK) return et_model_fail(m, ET_ERR_NO_MEMORY, "out of memory");
    if (nd->params[slot].owned) free((void *)nd->params[slot].data);
    nd->params[slot] = fresh;
    return ET_OK;
}
