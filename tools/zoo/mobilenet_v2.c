/* torchvision MobileNetV2 rebuilt with the public builder API and random,
 * seed-deterministic weights scaled so activations stay O(1). Topology and
 * names only: no pretrained weights and no file I/O here. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zoo/zoo.h"

typedef struct zoo_ctx {
    et_builder *b;
    uint64_t rng;
    int with_bn;
    float *buf;       /* scratch for one layer's weights; the builder copies them */
    size_t cap;
    char *err;
    size_t err_len;
} zoo_ctx;

size_t et_zoo_make_divisible(double v, size_t divisor) {
    double d = (double)divisor;
    double r = floor((v + d / 2.0) / d) * d;
    if (r < d) r = d;
    if (r < 0.9 * v) r += d;
    return (size_t)r;
}

/* Uniform in [-1, 1) from splitmix64: same numbers on every platform. */
static float urand(zoo_ctx *z) {
    uint64_t x = (z->rng += 0x9E3779B97F4A7C15ull);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    return (float)(x >> 40) / (float)(1u << 23) - 1.0f;
}

static et_status fail(zoo_ctx *z, et_status st, const char *what) {
    if (z->err && z->err_len)
        snprintf(z->err, z->err_len, "mobilenet_v2: %s: %s", what,
                 z->b ? et_builder_error(z->b) : et_status_str(st));
    return st;
}

static float *scratch(zoo_ctx *z, size_t n) {
    if (n > z->cap) {
        float *p = realloc(z->buf, n * sizeof *p);
        if (!p) return NULL;
        z->buf = p;
        z->cap = n;
    }
    return z->buf;
}

/* conv [+ batchnorm] [+ act]. Names: base.i for the conv, base.(i+1) for the
 * batchnorm and base.(i+2) for the activation, like torchvision's
 * Conv2dNormActivation (or a bare Conv2d + BatchNorm2d when relu6 = 0). */
static et_status conv_unit(zoo_ctx *z, const char *base, int idx, int in, size_t in_c,
                           size_t out_c, size_t k, size_t stride, size_t groups,
                           int relu6, int *out) {
    char name[3][96];
    for (int j = 0; j < 3; j++) snprintf(name[j], sizeof name[j], "%s.%d", base, idx + j);
    et_conv2d_desc d;
    memset(&d, 0, sizeof d);
    d.out_channels = out_c;
    d.kh = d.kw = k;
    d.sh = d.sw = stride;
    d.pad_t = d.pad_l = d.pad_b = d.pad_r = (k - 1) / 2;
    d.groups = groups;
    d.act = (relu6 && !z->with_bn) ? et_act_relu6() : et_act_none();

    size_t fan_in = k * k * (in_c / groups), wn = out_c * fan_in;
    float *wb = scratch(z, wn + 4 * out_c);
    if (!wb) return fail(z, ET_ERR_NO_MEMORY, name[0]);
    /* Kaiming-uniform: variance 2/fan_in before a ReLU6, 1/fan_in before none. */
    float bound = sqrtf((relu6 ? 6.0f : 3.0f) / (float)fan_in);
    for (size_t i = 0; i < wn; i++) wb[i] = bound * urand(z);
    float *bias = NULL;
    if (!z->with_bn) {
        bias = wb + wn;
        for (size_t i = 0; i < out_c; i++) bias[i] = 0.05f * urand(z);
    }
    int v;
    et_status st = et_builder_conv2d(z->b, name[0], in, &d, wb, bias, &v);
    if (st != ET_OK) return fail(z, st, name[0]);
    if (z->with_bn) {
        float *g = wb, *be = wb + out_c, *mu = wb + 2 * out_c, *var = wb + 3 * out_c;
        for (size_t i = 0; i < out_c; i++) {
            g[i] = 1.0f + 0.1f * urand(z);
            be[i] = 0.1f * urand(z);
            mu[i] = 0.1f * urand(z);
            var[i] = 1.0f + 0.1f * urand(z);
        }
        if ((st = et_builder_batchnorm(z->b, name[1], v, 1e-5f, g, be, mu, var, &v)) != ET_OK)
            return fail(z, st, name[1]);
        if (relu6 && (st = et_builder_act(z->b, name[2], v, et_act_relu6(), &v)) != ET_OK)
            return fail(z, st, name[2]);
    }
    *out = v;
    return ET_OK;
}

/* One InvertedResidual block at features.<fi>. */
static et_status inverted_residual(zoo_ctx *z, int fi, int in, size_t in_c, size_t out_c,
                                   size_t stride, size_t t, int *out) {
    char base[64];
    snprintf(base, sizeof base, "features.%d.conv", fi);
    size_t hidden = in_c * t;
    int v = in, idx = 0;
    et_status st;
    if (t != 1) {
        /* conv.0 is a Conv2dNormActivation: conv.0.0, conv.0.1, conv.0.2 */
        char sub[80];
        snprintf(sub, sizeof sub, "%s.%d", base, idx++);
        if ((st = conv_unit(z, sub, 0, v, in_c, hidden, 1, 1, 1, 1, &v)) != ET_OK) return st;
    }
    char sub[80];
    snprintf(sub, sizeof sub, "%s.%d", base, idx++);
    if ((st = conv_unit(z, sub, 0, v, hidden, hidden, 3, stride, hidden, 1, &v)) != ET_OK) return st;
    /* projection: bare Conv2d at conv.idx, BatchNorm2d at conv.idx+1 */
    if ((st = conv_unit(z, base, idx, v, hidden, out_c, 1, 1, 1, 0, &v)) != ET_OK) return st;
    if (stride == 1 && in_c == out_c) {
        char name[64];
        snprintf(name, sizeof name, "features.%d.add", fi);
        if ((st = et_builder_add(z->b, name, in, v, et_act_none(), &v)) != ET_OK) return fail(z, st, name);
    }
    *out = v;
    return ET_OK;
}

static et_status build(zoo_ctx *z, size_t classes, size_t h, size_t w, float width_mult,
                       unsigned seed, et_model **out) {
    static const size_t cfg[7][4] = {
        {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
        {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1},
    };
    et_status st = et_builder_new(3, h, w, &z->b);
    if (st != ET_OK) return fail(z, st, "builder");
    size_t c = et_zoo_make_divisible(32.0 * width_mult, 8);
    size_t last = et_zoo_make_divisible(1280.0 * (width_mult > 1.0f ? width_mult : 1.0), 8);
    int v;
    if ((st = conv_unit(z, "features.0", 0, 0, 3, c, 3, 2, 1, 1, &v)) != ET_OK) return st;
    int fi = 1;
    for (int r = 0; r < 7; r++) {
        size_t oc = et_zoo_make_divisible((double)cfg[r][1] * width_mult, 8);
        for (size_t i = 0; i < cfg[r][2]; i++, fi++) {
            st = inverted_residual(z, fi, v, c, oc, i == 0 ? cfg[r][3] : 1, cfg[r][0], &v);
            if (st != ET_OK) return st;
            c = oc;
        }
    }
    char base[32];
    snprintf(base, sizeof base, "features.%d", fi);
    if ((st = conv_unit(z, base, 0, v, c, last, 1, 1, 1, 1, &v)) != ET_OK) return st;
    if ((st = et_builder_global_avgpool(z->b, "avgpool", v, &v)) != ET_OK) return fail(z, st, "avgpool");
    if ((st = et_builder_dropout(z->b, "classifier.0", v, 0.2f, &v)) != ET_OK) return fail(z, st, "classifier.0");

    float *wb = scratch(z, classes * last + classes);
    if (!wb) return fail(z, ET_ERR_NO_MEMORY, "classifier.1");
    float bound = sqrtf(3.0f / (float)last);
    for (size_t i = 0; i < classes * last; i++) wb[i] = bound * urand(z);
    for (size_t i = 0; i < classes; i++) wb[classes * last + i] = 0.01f * urand(z);
    st = et_builder_linear(z->b, "classifier.1", v, classes, wb, wb + classes * last, et_act_none(), &v);
    if (st != ET_OK) return fail(z, st, "classifier.1");
    if ((st = et_builder_output(z->b, v)) != ET_OK) return fail(z, st, "output");
    if ((st = et_builder_finish(z->b, out)) != ET_OK) return fail(z, st, "finish");

    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    char source[128];
    snprintf(source, sizeof source, "edgetune zoo mobilenet_v2 (random weights, width %g, seed %u%s)",
             (double)width_mult, seed, z->with_bn ? "" : ", no batchnorm");
    et_metadata md;
    memset(&md, 0, sizeof md);
    md.source_layout = ET_LAYOUT_NHWC;
    md.input_h = h;
    md.input_w = w;
    md.norm_channels = 3;
    memcpy(md.mean, mean, sizeof mean);
    memcpy(md.std, std, sizeof std);
    md.source = source;
    if ((st = et_model_set_metadata(*out, &md)) != ET_OK) {
        if (z->err && z->err_len) snprintf(z->err, z->err_len, "mobilenet_v2: metadata: %s", et_model_error(*out));
        et_model_free(*out);
        *out = NULL;
    }
    return st;
}

et_status et_zoo_mobilenet_v2_err(size_t classes, size_t h, size_t w, float width_mult,
                                  unsigned seed, int with_bn, et_model **out,
                                  char *err, size_t err_len) {
    if (err && err_len) err[0] = '\0';
    if (!out) return ET_ERR_INVALID_ARG;
    *out = NULL;
    /* bounds keep every size product below far-from-overflow values */
    if (classes == 0 || classes > 1000000 || h == 0 || w == 0 || h > 65536 || w > 65536 ||
        !(width_mult > 0.0f && width_mult <= 16.0f)) {
        if (err && err_len)
            snprintf(err, err_len, "mobilenet_v2: bad arguments (classes %zu, size %zux%zu, width %g)",
                     classes, h, w, (double)width_mult);
        return ET_ERR_INVALID_ARG;
    }
    zoo_ctx z;
    memset(&z, 0, sizeof z);
    z.rng = 0x5EEDull ^ ((uint64_t)seed << 32) ^ seed;
    z.with_bn = with_bn != 0;
    z.err = err;
    z.err_len = err_len;
    et_status st = build(&z, classes, h, w, width_mult, seed, out);
    if (st != ET_OK && *out) { et_model_free(*out); *out = NULL; }
    if (z.b) et_builder_free(z.b);
    free(z.buf);
    return st;
}

et_status et_zoo_mobilenet_v2(size_t classes, size_t h, size_t w, float width_mult,
                              unsigned seed, int with_bn, et_model **out) {
    return et_zoo_mobilenet_v2_err(classes, h, w, width_mult, seed, with_bn, out, NULL, 0);
}
