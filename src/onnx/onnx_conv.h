/* State shared by the ONNX → edgetune converter files: the table of named
 * values (constants or builder values with their logical NCHW shape) and the
 * error list. Internal to src/onnx/. */
#ifndef ET_ONNX_CONV_H
#define ET_ONNX_CONV_H

#include "onnx/onnx.h"
#include "model.h"

enum { V_CONST = 1, V_RUN = 2, V_BAD = 3 };

/* A named value. Runtime values carry the ONNX shape (rank 2 [N,F] or rank 4
 * [N,C,H,W]) next to the builder id whose storage is NHWC. */
typedef struct ox_val {
    const char *name;
    int kind;
    ox_tensor *c;              /* V_CONST */
    int id;                    /* V_RUN: builder value id */
    int rank;
    int64_t dims[4];
    /* rank 2 made by flattening a C x H x W tensor: features stored in
     * H, W, C order instead of ONNX's C, H, W order */
    int chw;
    int64_t cdim, hdim, wdim;
    uint32_t pad[4];           /* pending zero Pad (t, l, b, r) for the next Conv */
    /* rank 4 transposed to N,H,W,C (dims in that order): storage is
     * unchanged, and a flatten or reshape of it needs no reordering */
    int nhwc;
} ox_val;

typedef struct ox_ctx {
    const ox_model *om;
    et_builder *b;
    int64_t opset;
    ox_val *vals;              /* hash table, cap entries */
    size_t cap, n_vals;
    unsigned char *skip;       /* nodes already handled by a pattern */
    ox_tensor **owned;         /* constants made during import */
    size_t n_owned, cap_owned;
    size_t folded_elems;      /* elements computed by constant folding so far */
    const et_onnx_options *opt;
    char *err;
    size_t err_len, err_used;
    int n_errors;
    et_status first;
} ox_ctx;

/* Records an error about node n (NULL: the graph) and returns st. In
 * all-errors mode messages are appended one per line. */
et_status ox_err(ox_ctx *c, const ox_node *n, et_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

ox_val *ox_get(ox_ctx *c, const char *name);         /* NULL when unknown or "" */
et_status ox_set(ox_ctx *c, const char *name, const ox_val *v);
/* A new constant owned by the context (dims copied, data zeroed). */
ox_tensor *ox_new_const(ox_ctx *c, int dtype, size_t ndim, const int64_t *dims);
/* Number of consumers of a tensor name among nodes after index i, plus graph outputs. */
size_t ox_consumers(const ox_ctx *c, const char *name, size_t after, size_t *first);
/* Constant input k of node n, or NULL (with an error unless optional). */
const ox_tensor *ox_const_in(ox_ctx *c, const ox_node *n, size_t k, int optional);
/* A builder-safe node name from an ONNX tensor name. */
const char *ox_et_name(const char *onnx_name, char *buf, size_t cap);

/* Constant folding of node n whose inputs are all constants (Shape needs
 * only its input's shape). Returns ET_ERR_NOT_FOUND when the op does not fold. */
et_status ox_fold_const(ox_ctx *c, const ox_node *n);
/* Converts node i with runtime inputs into builder calls. */
et_status ox_convert_node(ox_ctx *c, size_t i);

#endif /* ET_ONNX_CONV_H */
