/* ONNX import driver: parses the file, sets up the value table, walks the
 * nodes in order (constants fold, the rest become builder calls), then folds
 * BatchNorm and activations and records metadata. The per-op rules live in
 * onnx_ops.c and onnx_const.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data/data.h"
#include "onnx/onnx_conv.h"

et_status ox_err(ox_ctx *c, const ox_node *n, et_status st, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char line[600];
    if (n) {
        const char *nm = n->name && *n->name ? n->name : n->n_out ? n->out[0] : "";
        snprintf(line, sizeof line, "node '%s' (%s): %s", nm, n->op, msg);
    } else {
        snprintf(line, sizeof line, "%s", msg);
    }
    if (c->n_errors == 0) c->first = st;
    c->n_errors++;
    if (c->err && c->err_len) {
        int all = c->opt && c->opt->all_errors;
        if (!all) {
            snprintf(c->err, c->err_len, "%s", line);
        } else if (c->err_used < c->err_len) {
            int k = snprintf(c->err + c->err_used, c->err_len - c->err_used, "%s%s", c->err_used ? "\n" : "", line);
            if (k > 0) c->err_used += (size_t)k < c->err_len - c->err_used ? (size_t)k : c->err_len - c->err_used - 1;
        }
    }
    return st;
}

static size_t hash_str(const char *s) {
    size_t h = 1469598103u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

ox_val *ox_get(ox_ctx *c, const char *name) {
    if (!name || !*name) return NULL;
    for (size_t k = hash_str(name) & (c->cap - 1);; k = (k + 1) & (c->cap - 1)) {
        if (!c->vals[k].name) return NULL;
        if (strcmp(c->vals[k].name, name) == 0) return &c->vals[k];
    }
}

et_status ox_set(ox_ctx *c, const char *name, const ox_val *v) {
    if (!name || !*name) return ET_OK; /* an omitted optional output */
    ox_val *old = ox_get(c, name);
    if (old) { *old = *v; old->name = name; return ET_OK; }
    if (c->n_vals + 1 > c->cap / 2) return ox_err(c, NULL, ET_ERR_NO_MEMORY, "value table full");
    size_t k = hash_str(name) & (c->cap - 1);
    while (c->vals[k].name) k = (k + 1) & (c->cap - 1);
    c->vals[k] = *v;
    c->vals[k].name = name;
    c->n_vals++;
    return ET_OK;
}

ox_tensor *ox_new_const(ox_ctx *c, int dtype, size_t ndim, const int64_t *dims) {
    size_t count = 1;
    if (ndim > OX_MAX_RANK) return NULL;
    for (size_t k = 0; k < ndim; k++)
        if (dims[k] < 0 || !et_mul_ok(count, (size_t)dims[k], &count) || count > OX_MAX_ELEMS) return NULL;
    if (count > OX_MAX_FOLDED - c->folded_elems) return NULL; /* reported as an absurd shape by the caller */
    c->folded_elems += count;
    if (c->n_owned == c->cap_owned) {
        size_t cap = c->cap_owned ? c->cap_owned * 2 : 64;
        ox_tensor **o = realloc(c->owned, cap * sizeof *o);
        if (!o) return NULL;
        c->owned = o;
        c->cap_owned = cap;
    }
    ox_tensor *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->dtype = dtype;
    t->ndim = ndim;
    for (size_t k = 0; k < ndim; k++) t->dims[k] = dims[k];
    t->count = count;
    if (dtype == OX_FLOAT) t->f = calloc(count ? count : 1, sizeof *t->f);
    else t->i = calloc(count ? count : 1, sizeof *t->i);
    if (!t->f && !t->i) { free(t); return NULL; }
    c->owned[c->n_owned++] = t;
    return t;
}

size_t ox_consumers(const ox_ctx *c, const char *name, size_t after, size_t *first) {
    size_t n = 0;
    *first = (size_t)-1;
    for (size_t i = after + 1; i < c->om->n_nodes; i++) {
        const ox_node *nd = &c->om->nodes[i];
        for (size_t k = 0; k < nd->n_in; k++)
            if (strcmp(nd->in[k], name) == 0) {
                if (*first == (size_t)-1) *first = i;
                n++;
            }
    }
    for (size_t k = 0; k < c->om->n_outputs; k++)
        if (strcmp(c->om->outputs[k].name, name) == 0) n++;
    return n;
}

const ox_tensor *ox_const_in(ox_ctx *c, const ox_node *n, size_t k, int optional) {
    if (k >= n->n_in || !*n->in[k]) {
        if (!optional) ox_err(c, n, ET_ERR_UNSUPPORTED, "input %zu is missing", k);
        return NULL;
    }
    ox_val *v = ox_get(c, n->in[k]);
    if (!v || v->kind != V_CONST) {
        ox_err(c, n, ET_ERR_UNSUPPORTED, "input %zu ('%s') must be a constant (initializer or foldable shape arithmetic)", k, n->in[k]);
        return NULL;
    }
    return v->c;
}

const char *ox_et_name(const char *s, char *buf, size_t cap) {
    size_t n = strlen(s);
    if (n <= ET_MAX_NAME) return s;
    /* keep the tail: exporters put the distinguishing part at the end */
    size_t keep = cap - 1 < ET_MAX_NAME ? cap - 1 : ET_MAX_NAME;
    memcpy(buf, s + n - keep, keep);
    buf[keep] = '\0';
    return buf;
}

/* "a,b,c" into up to max floats; returns the count or 0 on a bad list. */
static size_t parse_floats(const char *s, float *out, size_t max) {
    size_t n = 0;
    while (s && *s && n < max) {
        char *end;
        double v = strtod(s, &end);
        if (end == s) return 0;
        out[n++] = (float)v;
        s = end;
        while (*s == ',' || *s == ' ' || *s == '[' || *s == ']') s++;
    }
    return n;
}

static et_status set_metadata(ox_ctx *c, et_model *m, const char *input_name) {
    et_metadata md;
    et_model_metadata(m, &md);
    md.source_layout = ET_LAYOUT_NCHW;
    char src[300];
    snprintf(src, sizeof src, "onnx: producer '%s', opset %lld, input '%s'", c->om->producer ? c->om->producer : "",
             (long long)c->opset, input_name);
    md.source = src;
    float mean[ET_MAX_CHANNELS_META], std[ET_MAX_CHANNELS_META];
    size_t nm = 0, ns = 0;
    char **labels = NULL;
    size_t n_labels = 0;
    for (size_t k = 0; k < c->om->n_props; k++) {
        const char *key = c->om->prop_keys[k], *val = c->om->prop_values[k];
        if (!key || !val) continue;
        if (strcmp(key, "mean") == 0) nm = parse_floats(val, mean, ET_MAX_CHANNELS_META);
        if (strcmp(key, "std") == 0) ns = parse_floats(val, std, ET_MAX_CHANNELS_META);
        if (strcmp(key, "labels") == 0 && !labels) {
            /* one label per line */
            size_t lines = 1;
            for (const char *p = val; *p; p++) lines += *p == '\n';
            if (lines > ET_MAX_LABELS || !(labels = calloc(lines, sizeof *labels))) continue;
            const char *p = val;
            for (size_t j = 0; j < lines; j++) {
                const char *e = strchr(p, '\n');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                labels[j] = malloc(len + 1);
                if (labels[j]) { memcpy(labels[j], p, len); labels[j][len] = '\0'; }
                n_labels = j + 1;
                if (!labels[j]) break;
                p = e ? e + 1 : p + len;
            }
        }
    }
    if (nm && nm == ns && nm == m->in_c) {
        md.norm_channels = nm;
        memcpy(md.mean, mean, nm * sizeof *mean);
        memcpy(md.std, std, nm * sizeof *std);
    }
    int labels_ok = 1;
    for (size_t j = 0; j < n_labels; j++) labels_ok &= labels[j] != NULL;
    if (labels_ok && n_labels) { md.label_count = n_labels; md.labels = (const char *const *)labels; }
    et_status st = et_model_set_metadata(m, &md);
    for (size_t j = 0; j < n_labels; j++) free(labels[j]);
    free(labels);
    return st;
}

static int is_init(const ox_model *om, const char *name) {
    for (size_t k = 0; k < om->n_init; k++)
        if (strcmp(om->inits[k].name, name) == 0) return 1;
    return 0;
}

/* Finds the one runtime input and its fixed N, C, H, W. */
static et_status pick_input(ox_ctx *c, const ox_value_info **in, int64_t d[4]) {
    const ox_model *om = c->om;
    const et_onnx_options *o = c->opt;
    *in = NULL;
    for (size_t k = 0; k < om->n_inputs; k++) {
        if (is_init(om, om->inputs[k].name)) continue;
        if (*in) return ox_err(c, NULL, ET_ERR_UNSUPPORTED, "graph has more than one runtime input ('%s' and '%s'); edgetune models take one image input",
                               (*in)->name, om->inputs[k].name);
        *in = &om->inputs[k];
    }
    if (!*in) return ox_err(c, NULL, ET_ERR_UNSUPPORTED, "graph has no runtime input");
    const ox_value_info *v = *in;
    if (v->elem_type != OX_FLOAT) return ox_err(c, NULL, ET_ERR_UNSUPPORTED, "input '%s': element type %d is not float32", v->name, v->elem_type);
    if (v->has_shape && v->ndim != 4) return ox_err(c, NULL, ET_ERR_UNSUPPORTED, "input '%s': rank %zu; edgetune needs an N,C,H,W image input", v->name, v->ndim);
    size_t ov[4] = {o ? o->input_n : 0, o ? o->input_c : 0, o ? o->input_h : 0, o ? o->input_w : 0};
    static const char *const nm[4] = {"N", "C", "H", "W"};
    for (int k = 0; k < 4; k++) {
        int64_t md = v->has_shape ? v->dims[k] : -1;
        if (ov[k] && md > 0 && (size_t)md != ov[k])
            return ox_err(c, NULL, ET_ERR_SHAPE, "input '%s': --input-shape gives %s = %zu, the model fixes it to %lld", v->name, nm[k], ov[k], (long long)md);
        d[k] = ov[k] ? (int64_t)ov[k] : md;
        if (k == 0) d[0] = 1; /* shapes fold at batch 1; sessions choose their own batch */
        if (d[k] <= 0) return ox_err(c, NULL, ET_ERR_UNSUPPORTED, "input '%s': dimension %s is dynamic; give --input-shape 1,C,H,W", v->name, nm[k]);
        if (d[k] > (int64_t)ET_MAX_DIM) return ox_err(c, NULL, ET_ERR_UNSUPPORTED, "input '%s': %s = %lld is too large", v->name, nm[k], (long long)d[k]);
    }
    return ET_OK;
}

static void ctx_free(ox_ctx *c) {
    for (size_t k = 0; k < c->n_owned; k++) { ox_tensor_free(c->owned[k]); free(c->owned[k]); }
    free(c->owned);
    free(c->vals);
    free(c->skip);
    et_builder_free(c->b);
}

static et_status convert(ox_ctx *c, et_model **out) {
    const ox_model *om = c->om;
    c->opset = om->opset;
    if (c->opset < 9 || c->opset > 18)
        return ox_err(c, NULL, ET_ERR_UNSUPPORTED, "opset %lld is not supported (9 to 18 are)", (long long)c->opset);
    /* every node has an output: fusions read a later node's before it runs */
    for (size_t i = 0; i < om->n_nodes; i++)
        if (om->nodes[i].n_out < 1) return ox_err(c, &om->nodes[i], ET_ERR_FORMAT, "node has no outputs");
    size_t want = 2 * (om->n_init + om->n_inputs + 2 * OX_MAX_IO);
    for (size_t i = 0; i < om->n_nodes; i++) want += 2 * om->nodes[i].n_out;
    c->cap = 64;
    while (c->cap < want) c->cap *= 2;
    c->vals = calloc(c->cap, sizeof *c->vals);
    c->skip = calloc(om->n_nodes ? om->n_nodes : 1, 1);
    if (!c->vals || !c->skip) return ox_err(c, NULL, ET_ERR_NO_MEMORY, "out of memory");
    for (size_t k = 0; k < om->n_init; k++) {
        ox_val v = {0};
        v.kind = V_CONST;
        v.c = &om->inits[k];
        ox_set(c, om->inits[k].name, &v);
    }
    const ox_value_info *in;
    int64_t d[4];
    et_status st = pick_input(c, &in, d);
    if (st != ET_OK) return st;
    if ((st = et_builder_new((size_t)d[1], (size_t)d[2], (size_t)d[3], &c->b)) != ET_OK)
        return ox_err(c, NULL, st, "input '%s': cannot build a %lldx%lldx%lld input", in->name, (long long)d[1], (long long)d[2], (long long)d[3]);
    ox_val iv = {0};
    iv.kind = V_RUN;
    iv.id = 0;
    iv.rank = 4;
    memcpy(iv.dims, d, sizeof iv.dims);
    ox_set(c, in->name, &iv);

    for (size_t i = 0; i < om->n_nodes; i++) {
        if (c->skip[i]) continue;
        const ox_node *n = &om->nodes[i];
        int bad = 0;
        for (size_t k = 0; k < n->n_in; k++) {
            ox_val *v = ox_get(c, n->in[k]);
            if (*n->in[k] && !v) {
                ox_err(c, n, ET_ERR_FORMAT, "input '%s' is not produced by any earlier node (graph not topologically sorted?)", n->in[k]);
                bad = 1;
            } else if (v && v->kind == V_BAD) {
                bad = 1; /* already reported upstream */
            }
        }
        if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx") != 0) {
            ox_err(c, n, ET_ERR_UNSUPPORTED, "domain '%s' is not supported", n->domain);
            bad = 1;
        }
        if (!bad) {
            int before = c->n_errors;
            st = ox_fold_const(c, n);
            if (st == ET_ERR_NOT_FOUND) st = ox_convert_node(c, i);
            if (st != ET_OK && c->n_errors == before) ox_err(c, n, st, "%s", et_status_str(st));
            bad = st != ET_OK;
            if (st == ET_ERR_NO_MEMORY) return st;
        }
        if (bad) {
            ox_val bv = {0};
            bv.kind = V_BAD;
            for (size_t k = 0; k < n->n_out; k++) ox_set(c, n->out[k], &bv);
            if (!(c->opt && c->opt->all_errors)) return c->first;
        }
    }
    for (size_t k = 0; k < om->n_outputs; k++) {
        ox_val *v = ox_get(c, om->outputs[k].name);
        if (!v) { ox_err(c, NULL, ET_ERR_FORMAT, "graph output '%s' is not produced by any node", om->outputs[k].name); continue; }
        if (v->kind == V_BAD) continue;
        if (v->kind != V_RUN || v->id == 0)
            ox_err(c, NULL, ET_ERR_UNSUPPORTED, "graph output '%s' is a constant or the input itself", om->outputs[k].name);
        else if (v->chw)
            ox_err(c, NULL, ET_ERR_UNSUPPORTED, "graph output '%s' is a flattened C,H,W tensor, which edgetune stores in H,W,C order", om->outputs[k].name);
        else if (v->pad[0] || v->pad[1] || v->pad[2] || v->pad[3])
            ox_err(c, NULL, ET_ERR_UNSUPPORTED, "graph output '%s' comes from a Pad that no Conv consumes", om->outputs[k].name);
        else if ((st = et_builder_output(c->b, v->id)) != ET_OK)
            ox_err(c, NULL, st, "graph output '%s': %s", om->outputs[k].name, et_builder_error(c->b));
    }
    if (c->n_errors) return c->first;
    et_model *raw = NULL, *m = NULL;
    if ((st = et_builder_finish(c->b, &raw)) != ET_OK) return ox_err(c, NULL, st, "%s", et_builder_error(c->b));
    if (c->opt && c->opt->keep_bn) {
        m = raw;
    } else {
        st = et_model_fold(raw, &m);
        et_model_free(raw);
        if (st != ET_OK) return ox_err(c, NULL, st, "folding BatchNorm and activations: %s", et_status_str(st));
    }
    /* the fused node keeps its own name; give output nodes the graph output names */
    char buf[ET_MAX_NAME + 1];
    for (size_t k = 0; k < om->n_outputs && k < m->n_outputs; k++) {
        uint32_t v = m->outputs[k];
        if (v && et_node_set_name(m, v - 1, ox_et_name(om->outputs[k].name, buf, sizeof buf)) != ET_OK) break;
    }
    if ((st = set_metadata(c, m, in->name)) != ET_OK) {
        ox_err(c, NULL, st, "metadata: %s", et_model_error(m));
        et_model_free(m);
        return st;
    }
    *out = m;
    return ET_OK;
}

et_status et_onnx_import_buffer(const void *buf, size_t len, const et_onnx_options *opt,
                                et_model **out, char *err, size_t err_len) {
    if (!out) return ET_ERR_INVALID_ARG;
    *out = NULL;
    if (err && err_len) err[0] = '\0';
    ox_model om;
    et_status st = ox_parse(buf, len, &om, err, err_len);
    if (st != ET_OK) return st;
    ox_ctx c;
    memset(&c, 0, sizeof c);
    c.om = &om;
    c.opt = opt;
    c.err = err;
    c.err_len = err_len;
    st = convert(&c, out);
    ctx_free(&c);
    ox_model_free(&om);
    return st;
}

et_status et_onnx_import_file(const char *path, const et_onnx_options *opt,
                              et_model **out, char *err, size_t err_len) {
    if (!path || !out) return ET_ERR_INVALID_ARG;
    *out = NULL;
    /* a regular file only: a directory's "size" from ftell can be LONG_MAX (found by fuzz_cli) */
    unsigned char *buf;
    size_t len;
    et_status st = et_read_all(path, &buf, &len, err, err_len);
    if (st != ET_OK) return st;
    st = et_onnx_import_buffer(buf, len, opt, out, err, err_len);
    free(buf);
    return st;
}
