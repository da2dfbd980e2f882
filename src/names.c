/* Static names for statuses, ops and activations, and the et_act
 * constructors. Pure functions over constant tables; no state. */
#include "edgetune.h"

const char *et_version(void) { return ET_VERSION_STRING; }

const char *et_status_str(et_status s) {
    switch (s) {
    case ET_OK: return "ET_OK: success";
    case ET_ERR_INVALID_ARG: return "ET_ERR_INVALID_ARG: invalid argument";
    case ET_ERR_SHAPE: return "ET_ERR_SHAPE: shape mismatch";
    case ET_ERR_UNSUPPORTED: return "ET_ERR_UNSUPPORTED: not supported";
    case ET_ERR_ARENA_TOO_SMALL: return "ET_ERR_ARENA_TOO_SMALL: arena too small";
    case ET_ERR_NO_MEMORY: return "ET_ERR_NO_MEMORY: out of memory";
    case ET_ERR_IO: return "ET_ERR_IO: input/output error";
    case ET_ERR_FORMAT: return "ET_ERR_FORMAT: malformed file";
    case ET_ERR_CRC: return "ET_ERR_CRC: checksum mismatch";
    case ET_ERR_VERSION: return "ET_ERR_VERSION: unsupported format version";
    case ET_ERR_OVERFLOW: return "ET_ERR_OVERFLOW: size overflow";
    case ET_ERR_STATE: return "ET_ERR_STATE: call out of order";
    case ET_ERR_NOT_FOUND: return "ET_ERR_NOT_FOUND: not found";
    case ET_ERR_NUMERIC: return "ET_ERR_NUMERIC: non-finite loss or gradient";
    }
    return "ET_ERR_?: unknown status";
}

const char *et_op_name(et_op op) {
    static const char *const names[ET_OP_COUNT] = {
        "input", "conv2d", "batchnorm", "act", "add", "mul", "concat", "maxpool",
        "avgpool", "global_avgpool", "linear", "flatten", "reshape", "softmax", "dropout",
    };
    return (unsigned)op < ET_OP_COUNT ? names[op] : "unknown";
}

const char *et_act_name(et_act_kind kind) {
    static const char *const names[ET_ACT_COUNT] = {
        "none", "relu", "clip", "leaky_relu", "sigmoid", "tanh", "silu", "hardswish", "hardsigmoid",
    };
    return (unsigned)kind < ET_ACT_COUNT ? names[kind] : "unknown";
}

et_act et_act_of(et_act_kind kind) {
    et_act a = {kind, 0.0f, 0.0f};
    if (kind == ET_ACT_CLIP) a.b = 6.0f;
    if (kind == ET_ACT_LEAKY_RELU) a.a = 0.01f;
    if (kind == ET_ACT_HARDSIGMOID) { a.a = 1.0f / 6.0f; a.b = 0.5f; }
    return a;
}
et_act et_act_none(void) { return et_act_of(ET_ACT_NONE); }
et_act et_act_relu(void) { return et_act_of(ET_ACT_RELU); }
et_act et_act_relu6(void) { return et_act_clip(0.0f, 6.0f); }
et_act et_act_clip(float lo, float hi) { et_act a = {ET_ACT_CLIP, lo, hi}; return a; }
et_act et_act_leaky_relu(float alpha) { et_act a = {ET_ACT_LEAKY_RELU, alpha, 0.0f}; return a; }
