/* The in-memory graph shared by the builder, the .etm reader/writer, the
 * folding pass and the planner. Internal: tools and users see only
 * include/edgetune.h. No kernels and no file formats here. */
#ifndef ET_MODEL_H
#define ET_MODEL_H

#include <stdarg.h>
#include <stdint.h>
#include "edgetune.h"

/* Sane maxima for anything read from a file or passed by a caller. */
#define ET_MAX_NODES 65536u
#define ET_MAX_INPUTS 256u      /* inputs of one node (concat) */
#define ET_MAX_DIM 65536u       /* any spatial or channel size */
#define ET_MAX_KERNEL 255u      /* kernel, stride, dilation */
#define ET_MAX_PAD 1024u
#define ET_MAX_NAME 127u        /* bytes of a node name, without NUL */
#define ET_MAX_LABELS 65536u
#define ET_MAX_PARAMS 4u
#define ET_ERR_LEN 256

/* One weight tensor of a node. Element counts follow from the node:
 *   conv2d:    0 weight [out_c][kh][kw][in_c/groups], 1 bias [out_c] (count 0 if absent)
 *   batchnorm: 0 gamma, 1 beta, 2 mean, 3 var, each [c]
 *   linear:    0 weight [out_c][in_c], 1 bias [out_c] (count 0 if absent)
 * data is either owned by the model (owned = 1, freed with it) or borrowed
 * from a loaded buffer (zero-copy). */
typedef struct et_param {
    const float *data;
    size_t count;
    int owned;
} et_param;

/* Node i produces value i + 1; value 0 is the graph input. So every input
 * id of node i is <= i, which makes the graph acyclic by construction. */
typedef struct et_node {
    et_op op;
    char *name;               /* owned, NUL-terminated, <= ET_MAX_NAME bytes */
    uint32_t n_in;
    uint32_t *in;             /* owned array of n_in value ids */
    et_act act;               /* fused activation (ET_OP_ACT: the activation) */

    /* conv2d and pools */
    uint32_t out_c;           /* conv2d, linear */
    uint32_t kh, kw, sh, sw, dh, dw, groups;
    uint32_t pad_t, pad_l, pad_b, pad_r;
    uint32_t ceil_mode, count_include_pad;
    /* reshape target (per batch item, NHWC) */
    uint32_t rh, rw, rc;
    /* batchnorm eps, dropout ratio */
    float eps, ratio;

    uint32_t n_params;
    et_param params[ET_MAX_PARAMS];
} et_node;

struct et_model {
    uint32_t n_nodes;
    et_node *nodes;           /* owned array */
    uint32_t in_c, in_h, in_w;/* graph input: channels and default size */
    uint32_t n_outputs;
    uint32_t *outputs;        /* owned array of value ids */

    /* metadata (strings owned) */
    et_layout source_layout;
    uint32_t norm_channels;
    float mean[ET_MAX_CHANNELS_META], std[ET_MAX_CHANNELS_META];
    uint32_t n_labels;
    char **labels;
    char *source;

    /* shapes from the last et_model_infer_shapes: n_nodes + 1 entries */
    et_shape *shapes;

    /* storage a loaded model keeps alive: a mapping or a copied file */
    void *map_base;
    size_t map_len;
    void *file_copy;

    /* et_model_load_static: every table above lives in caller memory, so the
     * model is read-only and et_model_free leaves it alone. plan_work holds
     * the planner's tables, so plan and prepare need no heap either. */
    int in_caller_mem;
    void *plan_work;

    char err[ET_ERR_LEN];
};

/* Allocation helpers (setup time only). */
et_model *et_model_alloc(void);
/* The field defaults of a fresh model (std 1, NHWC) on zeroed or any memory. */
void et_model_init(et_model *m);
et_status et_model_alloc_nodes(et_model *m, uint32_t n_nodes);
/* Give node a copy of name (or a generated "<op>_<index>" when NULL). */
et_status et_node_set_name(et_model *m, uint32_t i, const char *name);
/* Copy count floats into a new owned param. */
et_status et_param_copy(et_param *p, const float *src, size_t count);

/* Record a formatted message on the model and return st. */
et_status et_model_fail(et_model *m, et_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Same for any error buffer. */
et_status et_fail(char *err, size_t len, et_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Expected element count of param k of node i given the input channels of
 * the node's first input (in_c). Returns 0 for "absent allowed" slots. */
size_t et_node_param_expected(const et_node *nd, uint32_t k, size_t in_c);
/* Number of param slots an op uses (conv 2, bn 4, linear 2, others 0). */
uint32_t et_op_param_slots(et_op op);

/* Infer the shape of every value for input n x h x w (value 0 is the input).
 * shapes has n_nodes + 1 entries. Errors name the node and are written to err. */
et_status et_graph_infer(const et_model *m, size_t n, size_t h, size_t w,
                         et_shape *shapes, char *err, size_t err_len);

/* Full structural validation of a model (ids, attribute ranges, param
 * counts, shapes at the default size). Used by the loader and the builder. */
et_status et_model_validate(et_model *m);

/* Attribute, input-id and param-slot checks of one node (no shapes). */
et_status et_graph_check_node(const et_node *nd, uint32_t i, char *err, size_t err_len);

/* True when node i's output is a view of its first input (no copy). */
int et_node_is_view(const et_node *nd);

/* Overflow-checked size arithmetic: return 0 on overflow. */
static inline int et_mul_ok(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > (size_t)-1 / a) return 0;
    *out = a * b;
    return 1;
}
static inline int et_add_ok(size_t a, size_t b, size_t *out) {
    if (b > (size_t)-1 - a) return 0;
    *out = a + b;
    return 1;
}
static inline size_t et_shape_count(et_shape s) { return s.n * s.h * s.w * s.c; }

#endif /* ET_MODEL_H */
