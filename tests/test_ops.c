/* Tests of the reference kernels in src/ops/ against PyTorch fixtures made
 * by tools/gen_fixtures.py (tests/fixtures/ops/); fixture-free properties
 * are in test_ops_props.c. It reads .npy with its own small reader. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops_helpers.h"

#define FIXDIR "tests/fixtures/ops/"
#define TOL 1e-5

/* ------------------------------------------------------------ .npy reader */

#define NPY_MAX_DIMS 8

typedef struct npy {
    size_t ndim;
    size_t dims[NPY_MAX_DIMS];
    size_t count;
    float *data;
} npy;

static void npy_free(npy *a) {
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* Reads '<f4' C-order arrays only: the fixtures are written that way, and
 * anything else is a broken fixture to be reported, not converted.
 * Returns 0 on success; otherwise a message in err. */
static int npy_load(const char *path, npy *out, char *err, size_t err_len) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "%s: cannot open", path);
        return -1;
    }
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            unsigned char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, err_len, "%s: out of memory", path);
                return -1;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    fclose(f);

    int rc = -1;
    size_t hdr_len, hdr_off;
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        snprintf(err, err_len, "%s: not a .npy file", path);
        goto out;
    }
    if (buf[6] == 1) {
        hdr_len = (size_t)buf[8] | (size_t)buf[9] << 8;
        hdr_off = 10;
    } else if ((buf[6] == 2 || buf[6] == 3) && len >= 12) {
        hdr_len = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
                  (size_t)buf[11] << 24;
        hdr_off = 12;
    } else {
        snprintf(err, err_len, "%s: unknown .npy version %u", path, (unsigned)buf[6]);
        goto out;
    }
    if (hdr_len > len - hdr_off) {
        snprintf(err, err_len, "%s: header longer than the file", path);
        goto out;
    }
    char hdr[1024];
    if (hdr_len >= sizeof hdr) {
        snprintf(err, err_len, "%s: header too long", path);
        goto out;
    }
    memcpy(hdr, buf + hdr_off, hdr_len);
    hdr[hdr_len] = '\0';
    if (!strstr(hdr, "'descr': '<f4'")) {
        snprintf(err, err_len, "%s: dtype is not '<f4': %.200s", path, hdr);
        goto out;
    }
    if (!strstr(hdr, "'fortran_order': False")) {
        snprintf(err, err_len, "%s: not C order", path);
        goto out;
    }
    const char *p = strstr(hdr, "'shape': (");
    if (!p) {
        snprintf(err, err_len, "%s: no shape", path);
        goto out;
    }
    p += strlen("'shape': (");
    out->count = 1;
    while (*p != ')') {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        if (*p < '0' || *p > '9' || out->ndim == NPY_MAX_DIMS) {
            snprintf(err, err_len, "%s: bad shape in header: %.200s", path, hdr);
            goto out;
        }
        char *end;
        unsigned long long d = strtoull(p, &end, 10);
        p = end;
        out->dims[out->ndim++] = (size_t)d;
        if (d != 0 && out->count > SIZE_MAX / 4 / d) {
            snprintf(err, err_len, "%s: shape overflows", path);
            goto out;
        }
        out->count *= (size_t)d;
    }
    if (len - hdr_off - hdr_len != out->count * 4) {
        snprintf(err, err_len, "%s: %zu data bytes for %zu elements", path,
                 len - hdr_off - hdr_len, out->count);
        goto out;
    }
    out->data = malloc(out->count ? out->count * sizeof(float) : 1);
    if (!out->data) {
        snprintf(err, err_len, "%s: out of memory", path);
        goto out;
    }
    /* Assemble little-endian words by hand so the reader works on any host. */
    const unsigned char *d = buf + hdr_off + hdr_len;
    for (size_t i = 0; i < out->count; i++) {
        uint32_t u = (uint32_t)d[4 * i] | (uint32_t)d[4 * i + 1] << 8 |
                     (uint32_t)d[4 * i + 2] << 16 | (uint32_t)d[4 * i + 3] << 24;
        memcpy(&out->data[i], &u, sizeof u);
    }
    rc = 0;
out:
    free(buf);
    if (rc) npy_free(out);
    return rc;
}

/* ------------------------------------------------------------ fixture index */

#define MAX_ATTRS 24
#define MAX_CASES 256

typedef struct fcase {
    char name[64];
    char op[32];
    size_t nattr;
    char key[MAX_ATTRS][16];
    char val[MAX_ATTRS][40];
} fcase;

static fcase cases[MAX_CASES];
static size_t n_cases;
static int index_state; /* 0 not read, 1 read, -1 failed */

static int index_load(void) {
    if (index_state) return index_state;
    index_state = -1;
    FILE *f = fopen(FIXDIR "index.txt", "r");
    if (!f) {
        printf("    cannot open " FIXDIR "index.txt (run tests from the repo root)\n");
        return -1;
    }
    char line[1024];
    int ok = 1;
    while (fgets(line, sizeof line, f)) {
        char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);
        if (!tok || tok[0] == '#') continue;
        if (n_cases == MAX_CASES) {
            printf("    index.txt: more than %d cases\n", MAX_CASES);
            ok = 0;
            break;
        }
        fcase *c = &cases[n_cases++];
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", tok);
        tok = strtok_r(NULL, " \t\r\n", &save);
        if (!tok) {
            printf("    index.txt: case %s has no op\n", c->name);
            ok = 0;
            continue;
        }
        snprintf(c->op, sizeof c->op, "%s", tok);
        while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
            char *eq = strchr(tok, '=');
            if (!eq || c->nattr == MAX_ATTRS) {
                printf("    index.txt: case %s: bad attribute '%s'\n", c->name, tok);
                ok = 0;
                break;
            }
            *eq = '\0';
            snprintf(c->key[c->nattr], sizeof c->key[0], "%s", tok);
            snprintf(c->val[c->nattr], sizeof c->val[0], "%s", eq + 1);
            c->nattr++;
        }
    }
    fclose(f);
    index_state = ok ? 1 : -1;
    return index_state;
}

/* Attribute lookups record a missing or malformed attribute in *bad, so a
 * runner can read them all and then check once. */
static const char *attr_str(const fcase *c, const char *key, int *bad) {
    for (size_t i = 0; i < c->nattr; i++)
        if (strcmp(c->key[i], key) == 0) return c->val[i];
    printf("    %s: missing attribute %s\n", c->name, key);
    *bad = 1;
    return "";
}

static size_t attr_size(const fcase *c, const char *key, int *bad) {
    const char *s = attr_str(c, key, bad);
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || *s == '-') {
        if (*s) printf("    %s: attribute %s=%s is not a size\n", c->name, key, s);
        *bad = 1;
        return 0;
    }
    return (size_t)v;
}

static float attr_float(const fcase *c, const char *key, int *bad) {
    const char *s = attr_str(c, key, bad);
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0') {
        if (*s) printf("    %s: attribute %s=%s is not a number\n", c->name, key, s);
        *bad = 1;
        return 0.0f;
    }
    return (float)v;
}

static et_act attr_act(const fcase *c, int *bad) {
    static const char *const names[ET_ACT_COUNT] = {
        "none", "relu", "clip", "leaky_relu", "sigmoid",
        "tanh", "silu", "hardswish", "hardsigmoid",
    };
    const char *s = attr_str(c, "act", bad);
    float a = attr_float(c, "a", bad), b = attr_float(c, "b", bad);
    for (int k = 0; k < ET_ACT_COUNT; k++)
        if (strcmp(s, names[k]) == 0) return mkact((et_act_kind)k, a, b);
    printf("    %s: unknown activation %s\n", c->name, s);
    *bad = 1;
    return mkact(ET_ACT_NONE, 0.0f, 0.0f);
}

/* Loads <case>_<tensor>.npy and checks its rank. */
static int load(const fcase *c, const char *tensor, size_t ndim, npy *a) {
    char path[256], err[512];
    snprintf(path, sizeof path, FIXDIR "%s_%s.npy", c->name, tensor);
    if (npy_load(path, a, err, sizeof err)) {
        printf("    %s\n", err);
        return -1;
    }
    if (ndim && a->ndim != ndim) {
        printf("    %s: rank %zu, want %zu\n", path, a->ndim, ndim);
        npy_free(a);
        return -1;
    }
    return 0;
}

/* Output buffers carry a guard zone after the end and start as NaN, so a
 * kernel that skips an element or writes past the end fails the comparison. */
#define GUARD 16
static const float guard_val = 12345.678f;

static float *out_alloc(size_t count) {
    float *p = malloc((count + GUARD) * sizeof *p);
    if (!p) return NULL;
    for (size_t i = 0; i < count; i++) p[i] = NAN;
    for (size_t i = 0; i < GUARD; i++) p[count + i] = guard_val;
    return p;
}

/* Compares the kernel's output against the fixture; 0 when they agree. */
static int compare(const fcase *c, const float *got, const npy *want) {
    for (size_t i = 0; i < GUARD; i++)
        if (got[want->count + i] != guard_val) {
            printf("    %s: kernel wrote past the output\n", c->name);
            return -1;
        }
    for (size_t i = 0; i < want->count; i++)
        if (got[i] != got[i] && want->data[i] == want->data[i]) {
            printf("    %s: element %zu is NaN (not written?), want %g\n", c->name, i,
                   (double)want->data[i]);
            return -1;
        }
    double e = elem_err(got, want->data, want->count);
    if (!(e <= TOL)) {
        size_t worst = 0;
        double we = -1.0;
        for (size_t i = 0; i < want->count; i++) {
            double ei = elem_err(&got[i], &want->data[i], 1);
            if (ei > we) {
                we = ei;
                worst = i;
            }
        }
        printf("    %s: relative error %.3g > %.0e (element %zu: got %.9g, want %.9g)\n",
               c->name, e, TOL, worst, (double)got[worst], (double)want->data[worst]);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ fixture runners */

/* Each runner returns 0 when the case passes, printing why when it fails. */

static int run_act(const fcase *c) {
    int bad = 0, rc = -1;
    et_act act = attr_act(c, &bad);
    npy x, y;
    if (bad || load(c, "x", 1, &x)) return -1;
    if (load(c, "y", 1, &y)) {
        npy_free(&x);
        return -1;
    }
    float *out = out_alloc(y.count);
    if (!out || x.count != y.count) {
        printf("    %s: shapes or memory\n", c->name);
        goto done;
    }
    et_f32_act__ref(x.count, act, x.data, out);
    if (compare(c, out, &y)) goto done;
    /* The scalar definition and the array kernel must agree bit for bit, and
     * so must the in-place call. */
    for (size_t i = 0; i < x.count; i++) {
        float s = et_act_apply(act, x.data[i]);
        if (memcmp(&s, &out[i], sizeof s) != 0) {
            printf("    %s: et_act_apply(%g) = %g, array kernel %g\n", c->name,
                   (double)x.data[i], (double)s, (double)out[i]);
            goto done;
        }
    }
    et_f32_act__ref(x.count, act, x.data, x.data);
    if (!same_bits(x.data, out, x.count)) {
        printf("    %s: in-place result differs\n", c->name);
        goto done;
    }
    rc = 0;
done:
    free(out);
    npy_free(&x);
    npy_free(&y);
    return rc;
}

static int run_conv2d(const fcase *c) {
    int bad = 0, rc = -1;
    size_t kh = attr_size(c, "kh", &bad), kw = attr_size(c, "kw", &bad);
    size_t sh = attr_size(c, "sh", &bad), sw = attr_size(c, "sw", &bad);
    size_t dh = attr_size(c, "dh", &bad), dw = attr_size(c, "dw", &bad);
    size_t pt = attr_size(c, "pt", &bad), pl = attr_size(c, "pl", &bad);
    size_t pb = attr_size(c, "pb", &bad), pr = attr_size(c, "pr", &bad);
    size_t groups = attr_size(c, "groups", &bad);
    size_t has_bias = attr_size(c, "bias", &bad);
    et_act act = attr_act(c, &bad);
    if (bad) return -1;
    npy x = {0}, w = {0}, b = {0}, y = {0};
    float *out = NULL;
    if (load(c, "x", 4, &x) || load(c, "w", 4, &w) || load(c, "y", 4, &y) ||
        (has_bias && load(c, "b", 1, &b)))
        goto done;
    et_conv_geom g = conv_geom(x.dims[0], x.dims[1], x.dims[2], x.dims[3], w.dims[0], kh, kw,
                               sh, sw, dh, dw, pt, pl, pb, pr, groups);
    if (w.dims[1] != kh || w.dims[2] != kw || groups == 0 || w.dims[3] * groups != g.ic ||
        g.oc % groups != 0 || (has_bias && b.count != g.oc)) {
        printf("    %s: weight shape disagrees with the index\n", c->name);
        goto done;
    }
    if (y.dims[0] != g.n || y.dims[1] != g.oh || y.dims[2] != g.ow || y.dims[3] != g.oc) {
        printf("    %s: output %zux%zux%zux%zu, et_window_out gives %zux%zux%zux%zu\n", c->name,
               y.dims[0], y.dims[1], y.dims[2], y.dims[3], g.n, g.oh, g.ow, g.oc);
        goto done;
    }
    out = out_alloc(y.count);
    if (!out) goto done;
    et_f32_conv2d__ref(&g, x.data, w.data, has_bias ? b.data : NULL, act, out);
    rc = compare(c, out, &y);
done:
    free(out);
    npy_free(&x);
    npy_free(&w);
    npy_free(&b);
    npy_free(&y);
    return rc;
}

static int run_pool(const fcase *c, int is_max) {
    int bad = 0, rc = -1;
    size_t kh = attr_size(c, "kh", &bad), kw = attr_size(c, "kw", &bad);
    size_t sh = attr_size(c, "sh", &bad), sw = attr_size(c, "sw", &bad);
    size_t pt = attr_size(c, "pt", &bad), pl = attr_size(c, "pl", &bad);
    size_t pb = attr_size(c, "pb", &bad), pr = attr_size(c, "pr", &bad);
    int ceil_mode = (int)attr_size(c, "ceil", &bad);
    int cip = (int)attr_size(c, "cip", &bad);
    if (bad) return -1;
    npy x = {0}, y = {0};
    float *out = NULL;
    if (load(c, "x", 4, &x) || load(c, "y", 4, &y)) goto done;
    et_pool_geom g = pool_geom(x.dims[0], x.dims[1], x.dims[2], x.dims[3], kh, kw, sh, sw, pt,
                               pl, pb, pr, ceil_mode, cip);
    if (y.dims[0] != g.n || y.dims[1] != g.oh || y.dims[2] != g.ow || y.dims[3] != g.c) {
        printf("    %s: output %zux%zux%zux%zu, et_window_out gives %zux%zux%zux%zu\n", c->name,
               y.dims[0], y.dims[1], y.dims[2], y.dims[3], g.n, g.oh, g.ow, g.c);
        goto done;
    }
    out = out_alloc(y.count);
    if (!out) goto done;
    if (is_max)
        et_f32_maxpool__ref(&g, x.data, out);
    else
        et_f32_avgpool__ref(&g, x.data, out);
    rc = compare(c, out, &y);
done:
    free(out);
    npy_free(&x);
    npy_free(&y);
    return rc;
}

static int run_maxpool(const fcase *c) { return run_pool(c, 1); }
static int run_avgpool(const fcase *c) { return run_pool(c, 0); }

static int run_global_avgpool(const fcase *c) {
    int rc = -1;
    npy x = {0}, y = {0};
    float *out = NULL;
    if (load(c, "x", 4, &x) || load(c, "y", 4, &y)) goto done;
    if (y.dims[0] != x.dims[0] || y.dims[1] != 1 || y.dims[2] != 1 || y.dims[3] != x.dims[3]) {
        printf("    %s: output shape\n", c->name);
        goto done;
    }
    out = out_alloc(y.count);
    if (!out) goto done;
    et_f32_global_avgpool__ref(x.dims[0], x.dims[1] * x.dims[2], x.dims[3], x.data, out);
    rc = compare(c, out, &y);
done:
    free(out);
    npy_free(&x);
    npy_free(&y);
    return rc;
}

static int run_linear(const fcase *c) {
    int bad = 0, rc = -1;
    size_t has_bias = attr_size(c, "bias", &bad);
    et_act act = attr_act(c, &bad);
    if (bad) return -1;
    npy x = {0}, w = {0}, b = {0}, y = {0};
    float *out = NULL;
    if (load(c, "x", 2, &x) || load(c, "w", 2, &w) || load(c, "y", 2, &y) ||
        (has_bias && load(c, "b", 1, &b)))
        goto done;
    size_t n = x.dims[0], in = x.dims[1], o = w.dims[0];
    if (w.dims[1] != in || y.dims[0] != n || y.dims[1] != o || (has_bias && b.count != o)) {
        printf("    %s: shapes disagree\n", c->name);
        goto done;
    }
    out = out_alloc(y.count);
    if (!out) goto done;
    et_f32_linear__ref(n, in, o, x.data, w.data, has_bias ? b.data : NULL, act, out);
    rc = compare(c, out, &y);
done:
    free(out);
    npy_free(&x);
    npy_free(&w);
    npy_free(&b);
    npy_free(&y);
    return rc;
}

static int run_batchnorm(const fcase *c) {
    int bad = 0, rc = -1;
    float eps = attr_float(c, "eps", &bad);
    if (bad) return -1;
    npy x = {0}, ga = {0}, be = {0}, me = {0}, va = {0}, y = {0};
    float *out = NULL;
    if (load(c, "x", 4, &x) || load(c, "gamma", 1, &ga) || load(c, "beta", 1, &be) ||
        load(c, "mean", 1, &me) || load(c, "var", 1, &va) || load(c, "y", 4, &y))
        goto done;
    size_t ch = x.dims[3];
    if (ga.count != ch || be.count != ch || me.count != ch || va.count != ch ||
        y.count != x.count) {
        printf("    %s: shapes disagree\n", c->name);
        goto done;
    }
    out = out_alloc(y.count);
    if (!out) goto done;
    et_f32_batchnorm__ref(x.count / ch, ch, x.data, ga.data, be.data, me.data, va.data, eps,
                          out);
    rc = compare(c, out, &y);
done:
    free(out);
    npy_free(&x);
    npy_free(&ga);
    npy_free(&be);
    npy_free(&me);
    npy_free(&va);
    npy_free(&y);
    return rc;
}

static int run_softmax(const fcase *c) {
    int rc = -1;
    npy x = {0}, y = {0};
    float *out = NULL;
    if (load(c, "x", 0, &x) || load(c, "y", 0, &y)) goto done;
    if (x.ndim == 0 || x.count != y.count || x.dims[x.ndim - 1] == 0) {
        printf("    %s: shapes disagree\n", c->name);
        goto done;
    }
    out = out_alloc(y.count);
    if (!out) goto done;
    size_t cols = x.dims[x.ndim - 1];
    et_f32_softmax__ref(x.count / cols, cols, x.data, out);
    rc = compare(c, out, &y);
done:
    free(out);
    npy_free(&x);
    npy_free(&y);
    return rc;
}

static int run_binary(const fcase *c, et_binary_kind kind) {
    int bad = 0, rc = -1;
    et_act act = attr_act(c, &bad);
    if (bad) return -1;
    npy x = {0}, y = {0}, z = {0};
    float *out = NULL;
    if (load(c, "x", 4, &x) || load(c, "y", 4, &y) || load(c, "z", 4, &z)) goto done;
    for (size_t d = 0; d < 4; d++) {
        size_t want = x.dims[d] == 1 ? y.dims[d] : x.dims[d];
        if ((x.dims[d] != want && x.dims[d] != 1) || (y.dims[d] != want && y.dims[d] != 1) ||
            z.dims[d] != want) {
            printf("    %s: dim %zu does not broadcast\n", c->name, d);
            goto done;
        }
    }
    out = out_alloc(z.count);
    if (!out) goto done;
    et_f32_binary__ref(kind, mkshape(x.dims[0], x.dims[1], x.dims[2], x.dims[3]), x.data,
                       mkshape(y.dims[0], y.dims[1], y.dims[2], y.dims[3]), y.data,
                       mkshape(z.dims[0], z.dims[1], z.dims[2], z.dims[3]), act, out);
    rc = compare(c, out, &z);
done:
    free(out);
    npy_free(&x);
    npy_free(&y);
    npy_free(&z);
    return rc;
}

static int run_add(const fcase *c) { return run_binary(c, ET_BINARY_ADD); }
static int run_mul(const fcase *c) { return run_binary(c, ET_BINARY_MUL); }

static int run_concat(const fcase *c) {
    int bad = 0, rc = -1;
    size_t k = attr_size(c, "inputs", &bad);
    if (bad || k == 0 || k > 8) return -1;
    npy xs[8], y = {0};
    memset(xs, 0, sizeof xs);
    size_t cs[8];
    const float *ptrs[8];
    float *out = NULL;
    if (load(c, "y", 4, &y)) goto done;
    size_t sum = 0;
    for (size_t i = 0; i < k; i++) {
        char t[8];
        snprintf(t, sizeof t, "x%zu", i);
        if (load(c, t, 4, &xs[i])) goto done;
        if (xs[i].dims[0] != y.dims[0] || xs[i].dims[1] != y.dims[1] ||
            xs[i].dims[2] != y.dims[2]) {
            printf("    %s: input %zu shape\n", c->name, i);
            goto done;
        }
        cs[i] = xs[i].dims[3];
        ptrs[i] = xs[i].data;
        sum += cs[i];
    }
    if (sum != y.dims[3]) {
        printf("    %s: channels add up to %zu, output has %zu\n", c->name, sum, y.dims[3]);
        goto done;
    }
    out = out_alloc(y.count);
    if (!out) goto done;
    et_f32_concat__ref(y.dims[0] * y.dims[1] * y.dims[2], k, cs, ptrs, out);
    rc = compare(c, out, &y);
done:
    free(out);
    for (size_t i = 0; i < k; i++) npy_free(&xs[i]);
    npy_free(&y);
    return rc;
}

typedef struct op_runner {
    const char *op;
    int (*run)(const fcase *c);
    size_t min_cases; /* fewer cases than this means the index lost some */
} op_runner;

static const op_runner runners[] = {
    {"act", run_act, 12},
    {"conv2d", run_conv2d, 35},
    {"maxpool", run_maxpool, 12},
    {"avgpool", run_avgpool, 16},
    {"global_avgpool", run_global_avgpool, 3},
    {"linear", run_linear, 5},
    {"batchnorm", run_batchnorm, 3},
    {"softmax", run_softmax, 5},
    {"add", run_add, 6},
    {"mul", run_mul, 4},
    {"concat", run_concat, 4},
};

static void check_op(const char *op) {
    CHECK(index_load() == 1);
    const op_runner *r = NULL;
    for (size_t i = 0; i < sizeof runners / sizeof runners[0]; i++)
        if (strcmp(runners[i].op, op) == 0) r = &runners[i];
    CHECK(r != NULL);
    size_t ran = 0, failed = 0;
    for (size_t i = 0; i < n_cases; i++) {
        if (strcmp(cases[i].op, op) != 0) continue;
        ran++;
        if (r->run(&cases[i])) {
            printf("    FAIL case %s\n", cases[i].name);
            failed++;
        }
    }
    CHECKF(failed == 0, "%zu of %zu %s cases failed", failed, ran, op);
    CHECKF(ran >= r->min_cases, "only %zu %s cases in index.txt, want >= %zu", ran, op,
           r->min_cases);
}

static void test_fixture_index(void) {
    CHECK(index_load() == 1);
    /* Every case must belong to a runner; a typo would otherwise skip it. */
    for (size_t i = 0; i < n_cases; i++) {
        int known = 0;
        for (size_t j = 0; j < sizeof runners / sizeof runners[0]; j++)
            if (strcmp(runners[j].op, cases[i].op) == 0) known = 1;
        CHECKF(known, "case %s has unknown op %s", cases[i].name, cases[i].op);
        for (size_t j = 0; j < i; j++)
            CHECKF(strcmp(cases[i].name, cases[j].name) != 0, "case %s twice", cases[i].name);
    }
    CHECK(n_cases >= 100);
}

static void test_fixture_act(void) { check_op("act"); }
static void test_fixture_conv2d(void) { check_op("conv2d"); }
static void test_fixture_maxpool(void) { check_op("maxpool"); }
static void test_fixture_avgpool(void) { check_op("avgpool"); }
static void test_fixture_global_avgpool(void) { check_op("global_avgpool"); }
static void test_fixture_linear(void) { check_op("linear"); }
static void test_fixture_batchnorm(void) { check_op("batchnorm"); }
static void test_fixture_softmax(void) { check_op("softmax"); }
static void test_fixture_add(void) { check_op("add"); }
static void test_fixture_mul(void) { check_op("mul"); }
static void test_fixture_concat(void) { check_op("concat"); }

int main(void) {
    RUN(test_fixture_index);
    RUN(test_fixture_act);
    RUN(test_fixture_conv2d);
    RUN(test_fixture_maxpool);
    RUN(test_fixture_avgpool);
    RUN(test_fixture_global_avgpool);
    RUN(test_fixture_linear);
    RUN(test_fixture_batchnorm);
    RUN(test_fixture_softmax);
    RUN(test_fixture_add);
    RUN(test_fixture_mul);
    RUN(test_fixture_concat);
    return t_summary(__FILE__);
}
