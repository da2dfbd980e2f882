/* ONNX export: writes a model as an opset-13 ModelProto with an NCHW
 * interface (weights transposed back from edgetune's OHWI / NHWC order),
 * holding the model's current weights. Uses the protobuf writer in pb.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "onnx/pb.h"
#include "model.h"

typedef struct xctx {
    const et_model *m;
    pb_buf g;                  /* GraphProto being written */
    char **name;               /* tensor name of each value */
    unsigned char *rank;       /* 2 or 4: ONNX rank of each value */
    char tmp[ET_MAX_NAME + 64];
    unsigned tmp_n;
} xctx;

static const char *tmpname(xctx *x, const char *base, const char *suffix) {
    snprintf(x->tmp, sizeof x->tmp, "%s#%s%u", base, suffix, x->tmp_n++);
    return x->tmp;
}

static void put_le_floats(pb_buf *b, const float *v, size_t n) {
    uint8_t chunk[1024];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        for (int j = 0; j < 4; j++) chunk[k++] = (uint8_t)(u >> (8 * j));
        if (k == sizeof chunk) { pb_put_bytes(b, chunk, k); k = 0; }
    }
    pb_put_bytes(b, chunk, k);
}

static void init_f(xctx *x, const char *name, const int64_t *dims, size_t nd, const float *v, size_t n) {
    pb_buf t = {0};
    for (size_t k = 0; k < nd; k++) pb_put_int(&t, 1, dims[k]);
    pb_put_int(&t, 2, 1);
    pb_put_str(&t, 8, name);
    pb_put_tag(&t, 9, PB_LEN);
    pb_put_varint(&t, (uint64_t)n * 4);
    put_le_floats(&t, v, n);
    pb_put_msg(&x->g, 5, &t);
}

static void init_i64(xctx *x, const char *name, const int64_t *v, size_t n) {
    pb_buf t = {0};
    pb_put_int(&t, 1, (int64_t)n);
    pb_put_int(&t, 2, 7);
    pb_put_str(&t, 8, name);
    for (size_t k = 0; k < n; k++) pb_put_int(&t, 7, v[k]);
    pb_put_msg(&x->g, 5, &t);
}

typedef struct xattr { const char *name; int type; int64_t i; float f; const int64_t *ints; size_t n; } xattr;

static void node(xctx *x, const char *op, const char *const *in, size_t n_in, const char *out, const xattr *at, size_t n_at) {
    pb_buf nb = {0};
    for (size_t k = 0; k < n_in; k++) pb_put_str(&nb, 1, in[k]);
    pb_put_str(&nb, 2, out);
    pb_put_str(&nb, 3, out);
    pb_put_str(&nb, 4, op);
    for (size_t k = 0; k < n_at; k++) {
        pb_buf a = {0};
        pb_put_str(&a, 1, at[k].name);
        pb_put_int(&a, 20, at[k].type);
        if (at[k].type == 1) pb_put_float(&a, 2, at[k].f);
        else if (at[k].type == 2) pb_put_int(&a, 3, at[k].i);
        else for (size_t j = 0; j < at[k].n; j++) pb_put_int(&a, 8, at[k].ints[j]);
        pb_put_msg(&nb, 5, &a);
    }
    pb_put_msg(&x->g, 1, &nb);
}

static void node1(xctx *x, const char *op, const char *in, const char *out) { node(x, op, &in, 1, out, NULL, 0); }

/* The value as a rank-4 NCHW tensor name (a rank-2 [N,C] gets [N,C,1,1]). */
static const char *as4(xctx *x, uint32_t v, char *buf, size_t cap) {
    if (x->rank[v] == 4) return x->name[v];
    snprintf(buf, cap, "%s", tmpname(x, x->name[v], "r4_"));
    int64_t shp[4] = {0, -1, 1, 1};
    char sname[ET_MAX_NAME + 80];
    snprintf(sname, sizeof sname, "%s#shape", buf);
    init_i64(x, sname, shp, 4);
    const char *in[2] = {x->name[v], sname};
    node(x, "Reshape", in, 2, buf, NULL, 0);
    return buf;
}

/* The value flattened to [N, H*W*C] in edgetune's NHWC element order, into
 * tensor `into` (NULL: a new temporary name written to buf). */
static const char *as2(xctx *x, uint32_t v, char *buf, size_t cap, const char *into) {
    if (x->rank[v] == 2 && !into) return x->name[v];
    et_shape s = x->m->shapes[v];
    const char *src = x->name[v];
    char tb[ET_MAX_NAME + 64];
    if (s.h * s.w > 1 && s.c > 1) {
        snprintf(tb, sizeof tb, "%s", tmpname(x, x->name[v], "nhwc"));
        int64_t perm[4] = {0, 2, 3, 1};
        xattr a = {"perm", 7, 0, 0, perm, 4};
        node(x, "Transpose", &src, 1, tb, &a, 1);
        src = tb;
    }
    snprintf(buf, cap, "%s", into ? into : tmpname(x, x->name[v], "flat"));
    xattr a = {"axis", 2, 1, 0, NULL, 0};
    node(x, "Flatten", &src, 1, buf, &a, 1);
    return buf;
}

static void act(xctx *x, et_act a, const char *in, const char *out) {
    char t[ET_MAX_NAME + 64], lo[ET_MAX_NAME + 80], hi[ET_MAX_NAME + 80];
    int64_t none = 0;
    switch (a.kind) {
    case ET_ACT_RELU: node1(x, "Relu", in, out); return;
    case ET_ACT_SIGMOID: node1(x, "Sigmoid", in, out); return;
    case ET_ACT_TANH: node1(x, "Tanh", in, out); return;
    case ET_ACT_LEAKY_RELU: { xattr at = {"alpha", 1, 0, a.a, NULL, 0}; node(x, "LeakyRelu", &in, 1, out, &at, 1); return; }
    case ET_ACT_HARDSIGMOID: {
        xattr at[2] = {{"alpha", 1, 0, a.a, NULL, 0}, {"beta", 1, 0, a.b, NULL, 0}};
        node(x, "HardSigmoid", &in, 1, out, at, 2);
        return;
    }
    case ET_ACT_CLIP: {
        snprintf(lo, sizeof lo, "%s#min", out);
        snprintf(hi, sizeof hi, "%s#max", out);
        init_f(x, lo, &none, 0, &a.a, 1);
        init_f(x, hi, &none, 0, &a.b, 1);
        const char *ins[3] = {in, lo, hi};
        node(x, "Clip", ins, 3, out, NULL, 0);
        return;
    }
    case ET_ACT_SILU: case ET_ACT_HARDSWISH: {
        /* opset 13 has no HardSwish: x * HardSigmoid(x; 1/6, 1/2) */
        snprintf(t, sizeof t, "%s", tmpname(x, out, "gate"));
        if (a.kind == ET_ACT_SILU) node1(x, "Sigmoid", in, t);
        else {
            xattr at[2] = {{"alpha", 1, 0, 1.0f / 6.0f, NULL, 0}, {"beta", 1, 0, 0.5f, NULL, 0}};
            node(x, "HardSigmoid", &in, 1, t, at, 2);
        }
        const char *ins[2] = {in, t};
        node(x, "Mul", ins, 2, out, NULL, 0);
        return;
    }
    default: node1(x, "Identity", in, out); return;
    }
}

static int is_output(const et_model *m, uint32_t v) {
    for (uint32_t k = 0; k < m->n_outputs; k++)
        if (m->outputs[k] == v) return 1;
    return 0;
}

static et_status emit_node(xctx *x, uint32_t i, char *err, size_t err_len) {
    const et_model *m = x->m;
    const et_node *nd = &m->nodes[i];
    uint32_t v = i + 1, in0 = nd->in[0];
    const char *out = x->name[v];
    char fin[ET_MAX_NAME + 64], pre[ET_MAX_NAME + 64], b0[ET_MAX_NAME + 64], b1[ET_MAX_NAME + 64], wn[ET_MAX_NAME + 80], bn[ET_MAX_NAME + 80];
    int has_act = nd->act.kind != ET_ACT_NONE && nd->op != ET_OP_ACT;
    /* a fused activation becomes a second node. The node's own name goes on
     * the tensor that re-imports as this node: the pre-activation one, except
     * for graph outputs, whose final tensor must keep the output name. */
    const char *main_out = out;
    int out_node = is_output(m, v);
    if (has_act) {
        snprintf(pre, sizeof pre, "%s#pre", out);
        snprintf(fin, sizeof fin, "%s%s", out, out_node ? "" : "#act");
        if (out_node) main_out = pre;
    }
    et_shape xs = m->shapes[in0];
    x->rank[v] = 4;
    switch (nd->op) {
    case ET_OP_CONV2D: {
        size_t O = nd->out_c, I = xs.c / nd->groups, kh = nd->kh, kw = nd->kw;
        float *w = malloc(O * I * kh * kw * sizeof *w);
        if (!w) return et_fail(err, err_len, ET_ERR_NO_MEMORY, "out of memory");
        const float *s = nd->params[0].data;
        for (size_t o = 0; o < O; o++)
            for (size_t c = 0; c < I; c++)
                for (size_t y = 0; y < kh; y++)
                    for (size_t z = 0; z < kw; z++) w[((o * I + c) * kh + y) * kw + z] = s[((o * kh + y) * kw + z) * I + c];
        int64_t dims[4] = {(int64_t)O, (int64_t)I, (int64_t)kh, (int64_t)kw}, d1 = (int64_t)O;
        snprintf(wn, sizeof wn, "%s#W", out);
        snprintf(bn, sizeof bn, "%s#B", out);
        init_f(x, wn, dims, 4, w, O * I * kh * kw);
        free(w);
        if (nd->params[1].count) init_f(x, bn, &d1, 1, nd->params[1].data, O);
        const char *ins[3] = {as4(x, in0, b0, sizeof b0), wn, bn};
        int64_t ks[2] = {nd->kh, nd->kw}, st[2] = {nd->sh, nd->sw}, dl[2] = {nd->dh, nd->dw};
        int64_t pads[4] = {nd->pad_t, nd->pad_l, nd->pad_b, nd->pad_r};
        xattr at[5] = {{"kernel_shape", 7, 0, 0, ks, 2}, {"strides", 7, 0, 0, st, 2}, {"dilations", 7, 0, 0, dl, 2},
                       {"pads", 7, 0, 0, pads, 4}, {"group", 2, nd->groups, 0, NULL, 0}};
        node(x, "Conv", ins, nd->params[1].count ? 3 : 2, main_out, at, 5);
        break;
    }
    case ET_OP_LINEAR: {
        size_t K = xs.c, M = nd->out_c;
        int64_t dims[2] = {(int64_t)M, (int64_t)K}, d1 = (int64_t)M;
        snprintf(wn, sizeof wn, "%s#W", out);
        snprintf(bn, sizeof bn, "%s#B", out);
        /* flattening an NHWC tensor as2() keeps edgetune's element order, so the weight needs no permutation */
        init_f(x, wn, dims, 2, nd->params[0].data, M * K);
        if (nd->params[1].count) init_f(x, bn, &d1, 1, nd->params[1].data, M);
        const char *ins[3] = {as2(x, in0, b0, sizeof b0, NULL), wn, bn};
        xattr at = {"transB", 2, 1, 0, NULL, 0};
        node(x, "Gemm", ins, nd->params[1].count ? 3 : 2, main_out, &at, 1);
        x->rank[v] = 2;
        break;
    }
    case ET_OP_BATCHNORM: {
        static const char *const pn[4] = {"scale", "B", "mean", "var"};
        const char *ins[5];
        char names[4][ET_MAX_NAME + 80];
        int64_t d1 = (int64_t)xs.c;
        ins[0] = x->name[in0];
        for (int k = 0; k < 4; k++) {
            snprintf(names[k], sizeof names[k], "%s#%s", out, pn[k]);
            init_f(x, names[k], &d1, 1, nd->params[k].data, xs.c);
            ins[k + 1] = names[k];
        }
        xattr at = {"epsilon", 1, 0, nd->eps, NULL, 0};
        node(x, "BatchNormalization", ins, 5, main_out, &at, 1);
        x->rank[v] = x->rank[in0];
        break;
    }
    case ET_OP_ACT:
        act(x, nd->act, x->name[in0], out);
        x->rank[v] = x->rank[in0];
        return ET_OK;
    case ET_OP_ADD: case ET_OP_MUL: case ET_OP_CONCAT: {
        int all2 = 1;
        for (uint32_t k = 0; k < nd->n_in; k++) all2 &= x->rank[nd->in[k]] == 2;
        const char **ins = malloc(nd->n_in * sizeof *ins);
        char (*bufs)[ET_MAX_NAME + 64] = malloc(nd->n_in * sizeof *bufs);
        if (!ins || !bufs) { free(ins); free(bufs); return et_fail(err, err_len, ET_ERR_NO_MEMORY, "out of memory"); }
        for (uint32_t k = 0; k < nd->n_in; k++) ins[k] = all2 ? x->name[nd->in[k]] : as4(x, nd->in[k], bufs[k], sizeof bufs[k]);
        xattr at = {"axis", 2, 1, 0, NULL, 0};
        node(x, nd->op == ET_OP_ADD ? "Add" : nd->op == ET_OP_MUL ? "Mul" : "Concat", ins, nd->n_in, main_out, &at, nd->op == ET_OP_CONCAT);
        free(ins);
        free(bufs);
        x->rank[v] = all2 ? 2 : 4;
        break;
    }
    case ET_OP_MAXPOOL: case ET_OP_AVGPOOL: {
        int64_t ks[2] = {nd->kh, nd->kw}, st[2] = {nd->sh, nd->sw}, pads[4] = {nd->pad_t, nd->pad_l, nd->pad_b, nd->pad_r};
        xattr at[5] = {{"kernel_shape", 7, 0, 0, ks, 2}, {"strides", 7, 0, 0, st, 2}, {"pads", 7, 0, 0, pads, 4},
                       {"ceil_mode", 2, nd->ceil_mode, 0, NULL, 0}, {"count_include_pad", 2, nd->count_include_pad, 0, NULL, 0}};
        const char *in = as4(x, in0, b0, sizeof b0);
        node(x, nd->op == ET_OP_MAXPOOL ? "MaxPool" : "AveragePool", &in, 1, main_out, at, nd->op == ET_OP_MAXPOOL ? 4 : 5);
        break;
    }
    case ET_OP_GLOBAL_AVGPOOL: { const char *in = as4(x, in0, b0, sizeof b0); node1(x, "GlobalAveragePool", in, main_out); break; }
    case ET_OP_FLATTEN: {
        as2(x, in0, b0, sizeof b0, main_out);
        x->rank[v] = 2;
        break;
    }
    case ET_OP_RESHAPE: {
        /* edgetune reshapes in NHWC element order: go there, reshape, come back to NCHW */
        int64_t perm_in[4] = {0, 2, 3, 1}, perm_out[4] = {0, 3, 1, 2}, shp[4] = {0, nd->rh, nd->rw, nd->rc};
        const char *src = as4(x, in0, b1, sizeof b1);
        snprintf(b0, sizeof b0, "%s", tmpname(x, out, "nhwc"));
        xattr a = {"perm", 7, 0, 0, perm_in, 4};
        node(x, "Transpose", &src, 1, b0, &a, 1);
        snprintf(wn, sizeof wn, "%s#shape", out);
        init_i64(x, wn, shp, 4);
        snprintf(b1, sizeof b1, "%s", tmpname(x, out, "r"));
        const char *ins[2] = {b0, wn};
        node(x, "Reshape", ins, 2, b1, NULL, 0);
        xattr a2 = {"perm", 7, 0, 0, perm_out, 4};
        const char *tin = b1;
        node(x, "Transpose", &tin, 1, main_out, &a2, 1);
        break;
    }
    case ET_OP_SOFTMAX: {
        xattr at = {"axis", 2, 1, 0, NULL, 0};
        const char *in = x->name[in0];
        node(x, "Softmax", &in, 1, main_out, &at, 1);
        x->rank[v] = x->rank[in0];
        break;
    }
    case ET_OP_DROPOUT: {
        node1(x, "Identity", x->name[in0], main_out);
        x->rank[v] = x->rank[in0];
        break;
    }
    default:
        return et_fail(err, err_len, ET_ERR_UNSUPPORTED, "node %u '%s': op %s cannot be exported", i, nd->name, et_op_name(nd->op));
    }
    if (has_act) {
        act(x, nd->act, main_out, fin);
        if (!out_node) {
            char *d = malloc(strlen(fin) + 1);
            if (!d) return et_fail(err, err_len, ET_ERR_NO_MEMORY, "out of memory");
            strcpy(d, fin);
            free(x->name[v]);
            x->name[v] = d;
        }
    }
    return ET_OK;
}

static void value_info(pb_buf *g, uint32_t field, const char *name, int rank, et_shape s) {
    pb_buf vi = {0}, tp = {0}, tt = {0}, sh = {0};
    int64_t d[4] = {-1, (int64_t)s.c, (int64_t)s.h, (int64_t)s.w};
    for (int k = 0; k < rank; k++) {
        pb_buf dim = {0};
        if (k == 0) pb_put_str(&dim, 2, "N");
        else pb_put_int(&dim, 1, d[k]);
        pb_put_msg(&sh, 1, &dim);
    }
    pb_put_int(&tt, 1, 1);
    pb_put_msg(&tt, 2, &sh);
    pb_put_msg(&tp, 1, &tt);
    pb_put_str(&vi, 1, name);
    pb_put_msg(&vi, 2, &tp);
    pb_put_msg(g, field, &vi);
}

static char *dupn(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static et_status build(const et_model *m, pb_buf *out, char *err, size_t err_len) {
    xctx x;
    memset(&x, 0, sizeof x);
    x.m = m;
    uint32_t nv = m->n_nodes + 1;
    x.name = calloc(nv, sizeof *x.name);
    x.rank = calloc(nv, 1);
    et_status st = ET_OK;
    if (!x.name || !x.rank) st = ET_ERR_NO_MEMORY;
    for (uint32_t v = 0; st == ET_OK && v < nv; v++) {
        char gen[32];
        const char *nm = v == 0 ? "input" : m->nodes[v - 1].name;
        int clash = !nm || !*nm || strchr(nm, '#') != NULL || (v > 0 && strcmp(nm, "input") == 0);
        for (uint32_t u = 0; !clash && u < v && nv <= 8192; u++) clash = strcmp(x.name[u], nm) == 0;
        if (clash || nv > 8192) { snprintf(gen, sizeof gen, "v%u", v); nm = gen; }
        if (!(x.name[v] = dupn(nm))) st = ET_ERR_NO_MEMORY;
    }
    x.rank[0] = 4;
    for (uint32_t i = 0; st == ET_OK && i < m->n_nodes; i++) st = emit_node(&x, i, err, err_len);
    if (st == ET_OK) {
        pb_put_str(&x.g, 2, "edgetune");
        value_info(&x.g, 11, "input", 4, m->shapes[0]);
        for (uint32_t k = 0; k < m->n_outputs; k++) {
            uint32_t v = m->outputs[k];
            value_info(&x.g, 12, x.name[v], x.rank[v], m->shapes[v]);
        }
        pb_put_int(out, 1, 7);
        pb_put_str(out, 2, "edgetune");
        pb_put_str(out, 3, ET_VERSION_STRING);
        pb_buf op = {0};
        pb_put_str(&op, 1, "");
        pb_put_int(&op, 2, 13);
        pb_put_msg(out, 8, &op);
        pb_put_msg(out, 7, &x.g);
        char buf[64 * ET_MAX_CHANNELS_META];
        const float *arr[2] = {m->mean, m->std};
        for (int a = 0; a < 2 && m->norm_channels; a++) {
            size_t k = 0;
            for (uint32_t c = 0; c < m->norm_channels; c++) k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%.9g", c ? "," : "", (double)arr[a][c]);
            pb_buf e = {0};
            pb_put_str(&e, 1, a ? "std" : "mean");
            pb_put_str(&e, 2, buf);
            pb_put_msg(out, 14, &e);
        }
        if (m->n_labels) {
            pb_buf e = {0}, lv = {0};
            for (uint32_t k = 0; k < m->n_labels; k++) {
                if (k) pb_put_bytes(&lv, "\n", 1);
                pb_put_bytes(&lv, m->labels[k], strlen(m->labels[k]));
            }
            pb_put_str(&e, 1, "labels");
            pb_put_len(&e, 2, lv.data, lv.len);
            pb_buf_free(&lv);
            pb_put_msg(out, 14, &e);
        }
        if (out->failed) st = ET_ERR_NO_MEMORY;
    }
    if (st == ET_ERR_NO_MEMORY) et_fail(err, err_len, st, "out of memory while writing ONNX");
    pb_buf_free(&x.g);
    for (uint32_t v = 0; x.name && v < nv; v++) free(x.name[v]);
    free(x.name);
    free(x.rank);
    return st;
}

et_status et_onnx_export_buffer(const et_model *m, void *buf, size_t cap, size_t *len_out, char *err, size_t err_len) {
    if (!m || !len_out) return ET_ERR_INVALID_ARG;
    pb_buf b = {0};
    et_status st = build(m, &b, err, err_len);
    if (st == ET_OK) {
        *len_out = b.len;
        if (buf && cap < b.len) st = et_fail(err, err_len, ET_ERR_INVALID_ARG, "buffer of %zu bytes is smaller than the %zu-byte model", cap, b.len);
        else if (buf) memcpy(buf, b.data, b.len);
    }
    pb_buf_free(&b);
    return st;
}

et_status et_onnx_export_file(const et_model *m, const char *path, char *err, size_t err_len) {
    if (!m || !path) return ET_ERR_INVALID_ARG;
    pb_buf b = {0};
    et_status st = build(m, &b, err, err_len);
    if (st != ET_OK) { pb_buf_free(&b); return st; }
    size_t n = strlen(path);
    char *tmp = malloc(n + 5);
    if (!tmp) { pb_buf_free(&b); return et_fail(err, err_len, ET_ERR_NO_MEMORY, "out of memory"); }
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) st = et_fail(err, err_len, ET_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    for (size_t off = 0; st == ET_OK && off < b.len;) {
        ssize_t k = write(fd, b.data + off, b.len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) st = et_fail(err, err_len, ET_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
        else off += (size_t)k;
    }
    if (st == ET_OK && fsync(fd) != 0) st = et_fail(err, err_len, ET_ERR_IO, "%s: fsync failed: %s", tmp, strerror(errno));
    if (fd >= 0 && close(fd) != 0 && st == ET_OK) st = et_fail(err, err_len, ET_ERR_IO, "%s: close failed", tmp);
    if (st == ET_OK && rename(tmp, path) != 0) st = et_fail(err, err_len, ET_ERR_IO, "rename %s to %s: %s", tmp, path, strerror(errno));
    if (st != ET_OK) unlink(tmp);
    free(tmp);
    pb_buf_free(&b);
    return st;
}
