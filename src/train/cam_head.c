/* Class activation maps, graph side: find the class scores, the last
 * spatial feature map they depend on, and whether the head between them is
 * CAM's global average pool + linear. Pure analysis of the graph at one
 * input size; the maps themselves are computed in cam.c. */
#include <stdlib.h>
#include <string.h>
#include "train/cam.h"

const char *et_cam_method_name(et_cam_method k) {
    switch (k) {
    case ET_CAM_AUTO: return "auto";
    case ET_CAM_CAM: return "cam";
    case ET_CAM_GRADCAM: return "grad-cam";
    }
    return "unknown";
}

int et_cam_method_parse(const char *s) {
    if (!s) return -1;
    if (strcmp(s, "auto") == 0) return ET_CAM_AUTO;
    if (strcmp(s, "cam") == 0) return ET_CAM_CAM;
    if (strcmp(s, "grad-cam") == 0 || strcmp(s, "gradcam") == 0) return ET_CAM_GRADCAM;
    return -1;
}

static const char *value_name(const et_model *m, uint32_t v) {
    return v == 0 ? "input" : m->nodes[v - 1].name ? m->nodes[v - 1].name : "?";
}

/* Back from value v over nodes that keep the element order and values at
 * inference (flatten, reshape, dropout). */
static uint32_t skip_views(const et_model *m, uint32_t v) {
    while (v > 0) {
        et_op op = m->nodes[v - 1].op;
        if (op != ET_OP_FLATTEN && op != ET_OP_RESHAPE && op != ET_OP_DROPOUT) break;
        v = m->nodes[v - 1].in[0];
    }
    return v;
}

/* The linear node when scores = linear(gap(f)) up to views, else UINT32_MAX.
 * Then score_k = sum_c W[k][c] mean_hw f[h][w][c] + b_k exactly, which is
 * what makes sum_c W[k][c] f[h][w][c] the class's map. */
static uint32_t cam_linear(const et_model *m, uint32_t logits, uint32_t f) {
    uint32_t v = skip_views(m, logits);
    if (v == 0) return UINT32_MAX;
    const et_node *lin = &m->nodes[v - 1];
    if (lin->op != ET_OP_LINEAR || lin->act.kind != ET_ACT_NONE) return UINT32_MAX;
    uint32_t p = skip_views(m, lin->in[0]);
    if (p == 0) return UINT32_MAX;
    const et_node *gap = &m->nodes[p - 1];
    if (gap->op != ET_OP_GLOBAL_AVGPOOL || gap->act.kind != ET_ACT_NONE || gap->in[0] != f) return UINT32_MAX;
    return v - 1;
}

et_status et_cam_analyze(const et_model *m, const et_cam_options *opt, et_cam_head *out,
                         char *err, size_t err_len) {
    if (!m || !out) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "cam: NULL model or output");
    memset(out, 0, sizeof *out);
    et_cam_method want = opt ? opt->method : ET_CAM_AUTO;
    if ((unsigned)want > ET_CAM_GRADCAM) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "cam: unknown method %d", (int)want);
    if (m->n_outputs != 1)
        return et_fail(err, err_len, ET_ERR_UNSUPPORTED, "cam: the model has %u outputs; class activation maps need exactly one", m->n_outputs);
    uint32_t n = m->n_nodes;
    if (n == 0) return et_fail(err, err_len, ET_ERR_UNSUPPORTED, "cam: the model has no nodes");
    size_t h = opt && opt->height ? opt->height : m->in_h, w = opt && opt->width ? opt->width : m->in_w;
    et_shape *shapes = malloc(((size_t)n + 1) * sizeof *shapes);
    uint8_t *anc = calloc((size_t)n + 1, 1);
    if (!shapes || !anc) {
        free(shapes); free(anc);
        return et_fail(err, err_len, ET_ERR_NO_MEMORY, "cam: out of memory");
    }
    char why[ET_ERR_LEN];
    et_status st = et_graph_infer(m, 1, h, w, shapes, why, sizeof why);
    if (st != ET_OK) {
        et_fail(err, err_len, st, "cam: input %zux%zu: %s", h, w, why);
        goto done;
    }
    /* a trailing softmax is skipped so that the score is a logit, as the
     * trainer's loss does (cam.c relies on the two agreeing) */
    uint32_t logits = m->outputs[0];
    if (logits == n && m->nodes[n - 1].op == ET_OP_SOFTMAX) logits = m->nodes[n - 1].in[0];
    et_shape ls = shapes[logits];
    if (ls.h * ls.w != 1) {
        st = et_fail(err, err_len, ET_ERR_UNSUPPORTED, "cam: the output '%s' is %zux%zux%zu, not a vector of class scores",
                     value_name(m, logits), ls.h, ls.w, ls.c);
        goto done;
    }
    anc[logits] = 1;
    for (uint32_t i = n; i-- > 0;)
        if (anc[i + 1])
            for (uint32_t k = 0; k < m->nodes[i].n_in; k++) anc[m->nodes[i].in[k]] = 1;
    /* the input itself does not count: a map of it says nothing the image does not */
    uint32_t f = 0;
    for (uint32_t v = logits; v >= 1 && !f; v--)
        if (anc[v] && shapes[v].h * shapes[v].w > 1) f = v;
    if (!f) {
        st = et_fail(err, err_len, ET_ERR_UNSUPPORTED,
                     "cam: no spatial feature map at input %zux%zu: every value between the input and the class scores ('%s') is 1x1",
                     h, w, value_name(m, logits));
        goto done;
    }
    uint32_t lin = cam_linear(m, logits, f);
    if (want == ET_CAM_CAM && lin == UINT32_MAX) {
        st = et_fail(err, err_len, ET_ERR_UNSUPPORTED,
                     "cam: CAM needs a global average pool -> linear head on the last feature map ('%s'); this model's head is different, use Grad-CAM",
                     value_name(m, f));
        goto done;
    }
    out->logits = logits;
    out->feature = f;
    out->linear = want == ET_CAM_GRADCAM ? UINT32_MAX : lin;
    out->fshape = shapes[f];
    out->classes = ls.c;
    out->in_h = h;
    out->in_w = w;
    out->method = out->linear != UINT32_MAX ? ET_CAM_CAM : ET_CAM_GRADCAM;
done:
    free(shapes);
    free(anc);
    return st;
}

et_status et_model_cam_info(const et_model *m, const et_cam_options *opt, et_cam_info *out,
                            char *err, size_t err_len) {
    if (err && err_len) err[0] = '\0';
    if (!out) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "cam: NULL info");
    memset(out, 0, sizeof *out);
    et_cam_head H;
    et_status st = et_cam_analyze(m, opt, &H, err, err_len);
    if (st != ET_OK) return st;
    out->height = H.fshape.h;
    out->width = H.fshape.w;
    out->channels = H.fshape.c;
    out->classes = H.classes;
    out->feature_node = H.feature - 1;
    out->linear_node = H.linear == UINT32_MAX ? (size_t)-1 : H.linear;
    out->method = H.method;
    return ET_OK;
}
