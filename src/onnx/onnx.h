/* The decoded ONNX model (just the parts a CNN importer needs) shared by the
 * parser, the constant folder and the converter. Internal; no protobuf
 * wire details (pb.h) and no edgetune graph building (onnx_import.c). */
#ifndef ET_ONNX_H
#define ET_ONNX_H

#include <stddef.h>
#include <stdint.h>
#include "edgetune.h"

#define OX_MAX_RANK 8
#define OX_MAX_NODES 65536u
#define OX_MAX_IO 256u              /* inputs or outputs of one node */
#define OX_MAX_ATTRS 64u
#define OX_MAX_ELEMS ((size_t)1 << 28)  /* elements of one tensor */
/* Elements constant folding may compute in one import: shape arithmetic is
 * tiny, and a hostile file must not make the importer spin for minutes. */
#define OX_MAX_FOLDED ((size_t)1 << 24)
#define OX_MAX_DIMV ((int64_t)1 << 31)

enum { OX_FLOAT = 1, OX_INT32 = 6, OX_INT64 = 7, OX_DOUBLE = 11, OX_BOOL = 9 };

/* A constant tensor. Float tensors fill f, integer ones (int32/int64) fill i. */
typedef struct ox_tensor {
    char *name;
    int dtype;                 /* OX_FLOAT or OX_INT64 once decoded */
    size_t ndim;
    int64_t dims[OX_MAX_RANK];
    size_t count;
    float *f;
    int64_t *i;
} ox_tensor;

enum { OXA_FLOAT = 1, OXA_INT = 2, OXA_STRING = 3, OXA_TENSOR = 4, OXA_FLOATS = 6, OXA_INTS = 7 };

typedef struct ox_attr {
    char *name;
    int type;
    float f;
    int64_t i;
    char *s;
    ox_tensor *t;
    size_t n;                  /* entries of floats / ints */
    float *floats;
    int64_t *ints;
} ox_attr;

typedef struct ox_node {
    char *name, *op, *domain;
    size_t n_in, n_out, n_attr;
    char **in, **out;          /* "" marks an omitted optional input */
    ox_attr *attr;
} ox_node;

typedef struct ox_value_info {
    char *name;
    int elem_type;
    int has_shape;
    size_t ndim;
    int64_t dims[OX_MAX_RANK]; /* -1: symbolic or unknown */
} ox_value_info;

typedef struct ox_model {
    int64_t ir_version, opset;
    char *producer;
    size_t n_nodes, n_init, n_inputs, n_outputs, n_props;
    ox_node *nodes;
    ox_tensor *inits;
    ox_value_info *inputs, *outputs;
    char **prop_keys, **prop_values;
} ox_model;

/* Decode buf into *m (all strings and arrays owned by m). Errors give the
 * byte offset and the message being decoded. */
et_status ox_parse(const void *buf, size_t len, ox_model *m, char *err, size_t err_len);
void ox_model_free(ox_model *m);
void ox_tensor_free(ox_tensor *t);

/* Attribute lookups: NULL / default when absent. */
const ox_attr *ox_attr_find(const ox_node *n, const char *name);
int64_t ox_attr_int(const ox_node *n, const char *name, int64_t def);
float ox_attr_float(const ox_node *n, const char *name, float def);

#endif /* ET_ONNX_H */
