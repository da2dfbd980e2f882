/* Helpers shared by the two files of ONNX runtime-op conversion
 * (onnx_ops.c, onnx_ops2.c). Internal to src/onnx/. */
#ifndef ET_ONNX_OPS_H
#define ET_ONNX_OPS_H

#include "onnx/onnx_conv.h"

/* Runtime input k (NULL with an error if constant, missing or pending a Pad
 * that only a Conv may absorb). */
ox_val *ox_run_in(ox_ctx *c, const ox_node *n, size_t k, int allow_pad);
/* Binds out_name to builder value id with the logical shape of *shape, or
 * reports the builder's error. */
et_status ox_bind(ox_ctx *c, const ox_node *n, const char *out_name, et_status st, int id, const ox_val *shape);
/* ONNX (logical) feature index of storage index j of value v. */
size_t ox_logical(const ox_val *v, size_t j);
/* INTS attribute of exactly want values (def when absent); 0 when malformed. */
int ox_ints(const ox_node *n, const char *name, int64_t *out, size_t want, int64_t def);
/* Conv, BN, activations, binary ops, pools; ET_ERR_NOT_FOUND for other ops. */
et_status ox_ops_part1(ox_ctx *c, size_t i);
et_status ox_resolve_shape(ox_ctx *c, const ox_node *n, const int64_t *in, size_t in_rank, const ox_tensor *shape, int64_t *out, size_t *out_rank);
et_status ox_squeeze_dims(ox_ctx *c, const ox_node *n, const int64_t *in, size_t r, int64_t *out, size_t *out_r);

#endif /* ET_ONNX_OPS_H */
