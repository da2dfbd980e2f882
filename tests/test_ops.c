/* Tests of the reference kernels in src/ops/: PyTorch fixtures made by
 * tools/gen_fixtures.py (tests/fixtures/ops/), plus properties that need no
 * fixtures. Depends on src/ops/ only; it reads .npy with its own small reader. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/ops.h"

#define FIXDIR "tests/fixtures/ops/"
#define TOL 1e-5

/* ------------------------------------------------------------ helpers */

/* Worst element-wise relative error |a-b| / max(1, |b|). Per element, not
 * against the largest |b| as t_max_rel_err does, because the activation
 * fixtures put 1e30 next to 0.5 and a global scale would hide errors on the
 * small values. Equal values (including equal infinities) and NaN against NaN
 * count as 0; NaN against a number counts as infinite. */
static double elem_err(const float *a, const float *b, size_t n) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (a[i] == b[i]) continue;
        if (a[i] != a[i] && b[i] != b[i]) continue;
        double d = fabs((double)a[i] - (double)b[i]);
        double s = fabs((double)b[i]);
        d = d / (s > 1.0 ? s : 1.0);
        if (d != d) return INFINITY;
        if (d > worst) worst = d;
    }
    return worst;
}

static int same_bits(const float *a, const float *b, size_t n) {
    return memcmp(a, b, n * sizeof *a) == 0;
}

static et_act mkact(et_act_kind kind, float a, float b) {
    et_act act;
    act.kind = kind;
    act.a = a;
    act.b = b;
    return act;
}

static et_shape mkshape(size_t n, size_t h, size_t w, size_t c) {
    et_shape s;
    s.n = n;
    s.h = h;
    s.w = w;
    s.c = c;
    return s;
}

static et_conv_geom conv_geom(size_t n, size_t ih, size_t iw, size_t ic, size_t oc,
                              size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw,
                              size_t pt, size_t pl, size_t pb, size_t pr, size_t groups) {
    et_conv_geom g;
    g.n = n;
    g.ih = ih;
    g.iw = iw;
    g.ic = ic;
    g.oc = oc;
    g.kh = kh;
    g.kw = kw;
    g.sh = sh;
    g.sw = sw;
    g.dh = dh;
    g.dw = dw;
    g.pad_t = pt;
    g.pad_l = pl;
    g.groups = groups;
    g.oh = et_window_out(ih, kh, sh, dh, pt, pb, 0);
    g.ow = et_window_out(iw, kw, sw, dw, pl, pr, 0);
    return g;
}

static et_pool_geom pool_geom(size_t n, size_t ih, size_t iw, size_t c, size_t kh, size_t kw,
                              size_t sh, size_t sw, size_t pt, size_t pl, size_t pb, size_t pr,
                              int ceil_mode, int cip) {
    et_pool_geom g;
    g.n = n;
    g.ih = ih;
    g.iw = iw;
    g.c = c;
    g.kh = kh;
    g.kw = kw;
    g.sh = sh;
    g.sw = sw;
    g.pad_t = pt;
    g.pad_l = pl;
    g.pad_b = pb;
    g.pad_r = pr;
    g.count_include_pad = cip;
    g.oh = et_window_out(ih, kh, sh, 1, pt, pb, ceil_mode);
    g.ow = et_window_out(iw, kw, sw, 1, pl, pr, ceil_mode);
    return g;
}

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

/* ------------------------------------------------------------ properties */

static void test_window_out_edges(void) {
    /* Windows that do not fit give 0. */
    CHECK(et_window_out(3, 5, 1, 1, 0, 0, 0) == 0);
    CHECK(et_window_out(3, 5, 1, 1, 0, 0, 1) == 0);
    CHECK(et_window_out(4, 3, 1, 2, 0, 0, 0) == 0); /* dilated extent 5 > 4 */
    CHECK(et_window_out(0, 1, 1, 1, 0, 0, 0) == 0);
    CHECK(et_window_out(1, 2, 1, 1, 0, 0, 0) == 0);
    /* ...unless padding makes room. */
    CHECK(et_window_out(3, 5, 1, 1, 1, 1, 0) == 1);
    CHECK(et_window_out(3, 5, 1, 1, 2, 0, 0) == 1);
    CHECK(et_window_out(5, 3, 1, 2, 0, 0, 0) == 1);
    CHECK(et_window_out(1, 3, 2, 1, 1, 1, 0) == 1);
    CHECK(et_window_out(1, 1, 1, 1, 0, 0, 0) == 1);
    /* Degenerate parameters and overflow give 0 instead of nonsense. */
    CHECK(et_window_out(8, 0, 1, 1, 0, 0, 0) == 0);
    CHECK(et_window_out(8, 3, 0, 1, 0, 0, 0) == 0);
    CHECK(et_window_out(8, 3, 1, 0, 0, 0, 0) == 0);
    CHECK(et_window_out(SIZE_MAX, 1, 1, 1, 1, 0, 0) == 0);
    CHECK(et_window_out(SIZE_MAX - 1, 1, 1, 1, 1, 1, 0) == 0);
    CHECK(et_window_out(10, SIZE_MAX, 1, 2, 0, 0, 0) == 0);
    CHECK(et_window_out(10, SIZE_MAX / 2, 1, 3, 0, 0, 0) == 0);
    /* Floor and ceil. */
    CHECK(et_window_out(8, 3, 2, 1, 0, 0, 0) == 3);
    CHECK(et_window_out(8, 3, 2, 1, 0, 0, 1) == 4);
    CHECK(et_window_out(7, 3, 2, 1, 0, 0, 1) == 3); /* exact: ceil changes nothing */
    CHECK(et_window_out(10, 2, 3, 1, 0, 0, 0) == 3);
    CHECK(et_window_out(10, 2, 3, 1, 0, 0, 1) == 4);
    CHECK(et_window_out(224, 3, 2, 1, 1, 1, 0) == 112);
    CHECK(et_window_out(112, 3, 2, 1, 0, 0, 1) == 56);
    /* PyTorch drops a ceil window starting in the trailing padding:
     * in 5, k 2, s 2, pad 1+1: a naive ceil gives 4, the 4th window starts at
     * padded index 6 = in + pad_lo, past the input. */
    CHECK(et_window_out(5, 2, 2, 1, 1, 1, 1) == 3);
    CHECK(et_window_out(6, 3, 2, 1, 1, 1, 1) == 4);
    CHECK(et_window_out(1, 1, 2, 1, 0, 1, 1) == 1);
    /* Dilation. */
    CHECK(et_window_out(9, 3, 1, 2, 2, 2, 0) == 9);
    CHECK(et_window_out(11, 3, 2, 3, 1, 1, 0) == 4);
}

static void test_act_specials(void) {
    const float inf = INFINITY, nan = NAN;
    et_act sig = mkact(ET_ACT_SIGMOID, 0, 0), th = mkact(ET_ACT_TANH, 0, 0);
    et_act silu = mkact(ET_ACT_SILU, 0, 0), hs = mkact(ET_ACT_HARDSWISH, 0, 0);
    et_act hsig = mkact(ET_ACT_HARDSIGMOID, 1.0f / 6.0f, 0.5f);
    et_act relu = mkact(ET_ACT_RELU, 0, 0), relu6 = mkact(ET_ACT_CLIP, 0, 6);
    et_act leaky = mkact(ET_ACT_LEAKY_RELU, 0.1f, 0), none = mkact(ET_ACT_NONE, 0, 0);

    CHECK(et_act_apply(sig, inf) == 1.0f);
    CHECK(et_act_apply(sig, -inf) == 0.0f);
    CHECK(et_act_apply(sig, 1e30f) == 1.0f);
    CHECK(et_act_apply(sig, -1e30f) == 0.0f);
    CHECK(et_act_apply(sig, 0.0f) == 0.5f);
    CHECK(isnan(et_act_apply(sig, nan)));
    CHECK(et_act_apply(th, inf) == 1.0f);
    CHECK(et_act_apply(th, -inf) == -1.0f);
    CHECK(et_act_apply(th, 1e30f) == 1.0f);
    CHECK(et_act_apply(th, -1e30f) == -1.0f);
    CHECK(isnan(et_act_apply(th, nan)));
    CHECK(et_act_apply(silu, 1e30f) == 1e30f);
    CHECK(et_act_apply(silu, -1e30f) == 0.0f);
    CHECK(et_act_apply(silu, inf) == inf);
    CHECK(isnan(et_act_apply(silu, -inf))); /* -inf * 0, as in PyTorch */
    CHECK(isnan(et_act_apply(silu, nan)));
    CHECK(fabs((double)et_act_apply(hs, 1e30f) - 1e30) <= 1e30 * 1e-6);
    CHECK(et_act_apply(hs, -1e30f) == 0.0f);
    CHECK(et_act_apply(hs, -3.0f) == 0.0f);
    CHECK(et_act_apply(hs, 3.0f) == 3.0f);
    CHECK(isnan(et_act_apply(hs, nan)));
    CHECK(et_act_apply(hsig, inf) == 1.0f);
    CHECK(et_act_apply(hsig, -inf) == 0.0f);
    CHECK(et_act_apply(hsig, 0.0f) == 0.5f);
    CHECK(isnan(et_act_apply(hsig, nan)));
    CHECK(isnan(et_act_apply(relu, nan)));
    CHECK(isnan(et_act_apply(relu6, nan)));
    CHECK(isnan(et_act_apply(leaky, nan)));
    CHECK(isnan(et_act_apply(none, nan)));
    CHECK(et_act_apply(relu, -inf) == 0.0f);
    CHECK(et_act_apply(relu6, inf) == 6.0f);
    CHECK(et_act_apply(leaky, -inf) == -inf);
    CHECK(et_act_apply(leaky, -10.0f) == -1.0f);
    /* Unknown kinds pass the value through rather than crash. */
    CHECK(et_act_apply(mkact(ET_ACT_COUNT, 0, 0), 2.5f) == 2.5f);

    /* sigmoid stays in [0, 1], is monotone, and sigmoid(x) + sigmoid(-x) = 1. */
    float prev = 0.0f;
    for (int i = -2000; i <= 2000; i++) {
        float x = (float)i * 0.05f;
        float s = et_act_apply(sig, x);
        CHECK(s >= 0.0f && s <= 1.0f && s >= prev);
        CHECK(fabs((double)s + (double)et_act_apply(sig, -x) - 1.0) < 1e-6);
        float t = et_act_apply(th, x);
        CHECK(t >= -1.0f && t <= 1.0f);
        prev = s;
    }
}

static void test_act_inplace(void) {
    float x[64], y[64];
    t_fill(x, 64, 7);
    for (int i = 0; i < 64; i++) x[i] *= 8.0f;
    for (int k = 0; k < ET_ACT_COUNT; k++) {
        et_act act = mkact((et_act_kind)k, k == ET_ACT_HARDSIGMOID ? 0.2f : -1.0f,
                           k == ET_ACT_HARDSIGMOID ? 0.5f : 1.0f);
        float z[64];
        et_f32_act__ref(64, act, x, y);
        memcpy(z, x, sizeof z);
        et_f32_act__ref(64, act, z, z);
        CHECK(same_bits(y, z, 64));
    }
}

/* Runs one conv group by hand: slices the input channels, filters and bias of
 * group `gi` and convolves them with groups = 1. */
static void test_conv_groups_equal_per_group(void) {
    enum { N = 2, IH = 6, IW = 5, IC = 6, OC = 9, K = 3, G = 3 };
    float x[N * IH * IW * IC], w[OC * K * K * (IC / G)], b[OC];
    t_fill(x, sizeof x / sizeof x[0], 11);
    t_fill(w, sizeof w / sizeof w[0], 12);
    t_fill(b, OC, 13);
    et_conv_geom g = conv_geom(N, IH, IW, IC, OC, K, K, 2, 1, 1, 2, 1, 2, 1, 2, G);
    CHECK(g.oh > 0 && g.ow > 0);
    float y[N * IH * IW * OC];
    et_f32_conv2d__ref(&g, x, w, b, mkact(ET_ACT_RELU, 0, 0), y);

    enum { ICG = IC / G, OCG = OC / G };
    for (size_t gi = 0; gi < G; gi++) {
        float xs[N * IH * IW * ICG], ys[N * IH * IW * OCG];
        for (size_t p = 0; p < N * IH * IW; p++)
            for (size_t c = 0; c < ICG; c++) xs[p * ICG + c] = x[p * IC + gi * ICG + c];
        const float *ws = w + gi * OCG * K * K * ICG; /* filters of a group are contiguous */
        et_conv_geom g1 = g;
        g1.ic = ICG;
        g1.oc = OCG;
        g1.groups = 1;
        et_f32_conv2d__ref(&g1, xs, ws, b + gi * OCG, mkact(ET_ACT_RELU, 0, 0), ys);
        for (size_t p = 0; p < g.n * g.oh * g.ow; p++)
            for (size_t c = 0; c < OCG; c++)
                CHECK(ys[p * OCG + c] == y[p * OC + gi * OCG + c]);
    }
}

static void test_conv_depthwise_per_channel(void) {
    enum { IH = 7, IW = 6, C = 5, K = 5 };
    float x[IH * IW * C], w[C * K * K], y[IH * IW * C];
    t_fill(x, sizeof x / sizeof x[0], 21);
    t_fill(w, sizeof w / sizeof w[0], 22);
    et_conv_geom g = conv_geom(1, IH, IW, C, C, K, K, 2, 2, 1, 1, 2, 2, 2, 2, C);
    et_f32_conv2d__ref(&g, x, w, NULL, mkact(ET_ACT_NONE, 0, 0), y);
    /* Direct definition, written out independently of the kernel. */
    for (size_t oy = 0; oy < g.oh; oy++)
        for (size_t ox = 0; ox < g.ow; ox++)
            for (size_t c = 0; c < C; c++) {
                double s = 0.0;
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++) {
                        int iy = (int)oy * 2 - 2 + ky, ix = (int)ox * 2 - 2 + kx;
                        if (iy < 0 || iy >= IH || ix < 0 || ix >= IW) continue;
                        s += (double)x[(iy * IW + ix) * C + (int)c] *
                             (double)w[(c * K + (size_t)ky) * K + (size_t)kx];
                    }
                CHECK(y[(oy * g.ow + ox) * C + c] == (float)s);
            }
}

static void test_conv_1x1_equals_linear(void) {
    enum { N = 2, H = 3, W = 4, IC = 67, OC = 5 };
    float x[N * H * W * IC], w[OC * IC], b[OC], y1[N * H * W * OC], y2[N * H * W * OC];
    t_fill(x, sizeof x / sizeof x[0], 31);
    t_fill(w, sizeof w / sizeof w[0], 32);
    t_fill(b, OC, 33);
    et_conv_geom g = conv_geom(N, H, W, IC, OC, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1);
    et_act act = mkact(ET_ACT_SILU, 0, 0);
    et_f32_conv2d__ref(&g, x, w, b, act, y1);
    et_f32_linear__ref(N * H * W, IC, OC, x, w, b, act, y2);
    CHECK(same_bits(y1, y2, N * H * W * OC));
}

/* Padding must behave exactly like zeros around the input, on all four
 * sides independently. */
static void test_conv_pad_equals_zero_border(void) {
    enum { IH = 5, IW = 6, C = 3, OC = 4, K = 3, PT = 2, PL = 0, PB = 1, PR = 3 };
    enum { PH = IH + PT + PB, PW = IW + PL + PR };
    float x[IH * IW * C], xp[PH * PW * C], w[OC * K * K * C], b[OC];
    float y1[PH * PW * OC], y2[PH * PW * OC];
    t_fill(x, sizeof x / sizeof x[0], 41);
    t_fill(w, sizeof w / sizeof w[0], 42);
    t_fill(b, OC, 43);
    memset(xp, 0, sizeof xp);
    for (size_t r = 0; r < IH; r++)
        memcpy(&xp[((r + PT) * PW + PL) * C], &x[r * IW * C], IW * C * sizeof(float));
    et_conv_geom g1 = conv_geom(1, IH, IW, C, OC, K, K, 2, 1, 1, 1, PT, PL, PB, PR, 1);
    et_conv_geom g2 = conv_geom(1, PH, PW, C, OC, K, K, 2, 1, 1, 1, 0, 0, 0, 0, 1);
    CHECK(g1.oh == g2.oh && g1.ow == g2.ow);
    et_f32_conv2d__ref(&g1, x, w, b, mkact(ET_ACT_NONE, 0, 0), y1);
    et_f32_conv2d__ref(&g2, xp, w, b, mkact(ET_ACT_NONE, 0, 0), y2);
    CHECK(elem_err(y1, y2, g1.oh * g1.ow * OC) <= 1e-7);
}

/* A dilated kernel equals the dense kernel with zeros between its taps. */
static void test_conv_dilation_equals_sparse_kernel(void) {
    enum { IH = 9, IW = 8, C = 2, OC = 3, K = 3, DH = 3, DW = 2 };
    enum { EKH = (K - 1) * DH + 1, EKW = (K - 1) * DW + 1 };
    float x[IH * IW * C], w[OC * K * K * C], we[OC * EKH * EKW * C];
    float y1[IH * IW * OC], y2[IH * IW * OC];
    t_fill(x, sizeof x / sizeof x[0], 51);
    t_fill(w, sizeof w / sizeof w[0], 52);
    memset(we, 0, sizeof we);
    for (size_t o = 0; o < OC; o++)
        for (size_t ky = 0; ky < K; ky++)
            for (size_t kx = 0; kx < K; kx++)
                for (size_t c = 0; c < C; c++)
                    we[((o * EKH + ky * DH) * EKW + kx * DW) * C + c] =
                        w[((o * K + ky) * K + kx) * C + c];
    et_conv_geom g1 = conv_geom(1, IH, IW, C, OC, K, K, 1, 2, DH, DW, 3, 1, 2, 2, 1);
    et_conv_geom g2 = conv_geom(1, IH, IW, C, OC, EKH, EKW, 1, 2, 1, 1, 3, 1, 2, 2, 1);
    CHECK(g1.oh == g2.oh && g1.ow == g2.ow && g1.oh > 0);
    et_f32_conv2d__ref(&g1, x, w, NULL, mkact(ET_ACT_NONE, 0, 0), y1);
    et_f32_conv2d__ref(&g2, x, we, NULL, mkact(ET_ACT_NONE, 0, 0), y2);
    CHECK(elem_err(y1, y2, g1.oh * g1.ow * OC) <= 1e-7);
}

/* Stride s picks every s-th output of the stride-1 convolution. */
static void test_conv_stride_subsamples(void) {
    enum { IH = 9, IW = 10, C = 3, OC = 2, K = 3 };
    float x[IH * IW * C], w[OC * K * K * C], b[OC], y1[IH * IW * OC], y3[IH * IW * OC];
    t_fill(x, sizeof x / sizeof x[0], 61);
    t_fill(w, sizeof w / sizeof w[0], 62);
    t_fill(b, OC, 63);
    et_conv_geom g1 = conv_geom(1, IH, IW, C, OC, K, K, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    et_conv_geom g3 = conv_geom(1, IH, IW, C, OC, K, K, 3, 2, 1, 1, 1, 1, 1, 1, 1);
    et_f32_conv2d__ref(&g1, x, w, b, mkact(ET_ACT_NONE, 0, 0), y1);
    et_f32_conv2d__ref(&g3, x, w, b, mkact(ET_ACT_NONE, 0, 0), y3);
    for (size_t oy = 0; oy < g3.oh; oy++)
        for (size_t ox = 0; ox < g3.ow; ox++)
            for (size_t o = 0; o < OC; o++)
                CHECK(y3[(oy * g3.ow + ox) * OC + o] == y1[(oy * 3 * g1.ow + ox * 2) * OC + o]);
}

static void test_linear_null_bias(void) {
    float x[3 * 7], w[4 * 7], zero[4] = {0}, y1[12], y2[12];
    t_fill(x, 21, 71);
    t_fill(w, 28, 72);
    et_f32_linear__ref(3, 7, 4, x, w, NULL, mkact(ET_ACT_NONE, 0, 0), y1);
    et_f32_linear__ref(3, 7, 4, x, w, zero, mkact(ET_ACT_NONE, 0, 0), y2);
    CHECK(same_bits(y1, y2, 12));
}

static void test_maxpool_padding_never_wins(void) {
    enum { IH = 4, IW = 5, C = 2 };
    float x[IH * IW * C], y[IH * IW * C];
    t_fill(x, sizeof x / sizeof x[0], 81);
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = -10.0f + x[i]; /* all < 0 */
    et_pool_geom g = pool_geom(1, IH, IW, C, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0);
    et_f32_maxpool__ref(&g, x, y);
    for (size_t i = 0; i < g.oh * g.ow * C; i++) CHECK(y[i] < -8.0f);
    /* The corner window sees exactly the 2x2 real elements at the corner. */
    for (size_t c = 0; c < C; c++) {
        float m = x[c];
        m = fmaxf(m, x[C + c]);
        m = fmaxf(m, x[IW * C + c]);
        m = fmaxf(m, x[(IW + 1) * C + c]);
        CHECK(y[c] == m);
    }
    /* NaN propagates to every window that contains it, and only those. */
    x[(1 * IW + 1) * C] = NAN;
    et_f32_maxpool__ref(&g, x, y);
    for (size_t oy = 0; oy < g.oh; oy++)
        for (size_t ox = 0; ox < g.ow; ox++) {
            int has = oy <= 2 && ox <= 2;
            CHECK((isnan(y[(oy * g.ow + ox) * C]) != 0) == has);
            CHECK(!isnan(y[(oy * g.ow + ox) * C + 1]));
        }
}

static void test_avgpool_divisors(void) {
    /* 6x1 column of ones, k 3x1, stride 2, pad 1 top and bottom, ceil mode:
     * windows cover padded rows [0,3) [2,5) [4,7) and [6,9) cut to [6,8). */
    float x[6], y[8];
    for (int i = 0; i < 6; i++) x[i] = 1.0f;
    et_pool_geom g = pool_geom(1, 6, 1, 1, 3, 1, 2, 1, 1, 0, 1, 0, 1, 1);
    CHECK(g.oh == 4 && g.ow == 1);
    et_f32_avgpool__ref(&g, x, y);
    /* count_include_pad: window 0 has 1 pad + 2 real; the last one is cut at
     * the padded edge (2 rows: 1 real, 1 pad), not at the kernel size. */
    CHECK(fabsf(y[0] - 2.0f / 3.0f) < 1e-7f);
    CHECK(y[1] == 1.0f && y[2] == 1.0f);
    CHECK(y[3] == 0.5f);
    g.count_include_pad = 0;
    et_f32_avgpool__ref(&g, x, y);
    for (int i = 0; i < 4; i++) CHECK(y[i] == 1.0f);

    /* 2-D: ones with pad 1, k 3, stride 1: interior 1, edges 6/9, corners 4/9. */
    float x2[16], y2[16];
    for (int i = 0; i < 16; i++) x2[i] = 1.0f;
    et_pool_geom g2 = pool_geom(1, 4, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1);
    et_f32_avgpool__ref(&g2, x2, y2);
    CHECK(fabsf(y2[0] - 4.0f / 9.0f) < 1e-7f);
    CHECK(fabsf(y2[1] - 6.0f / 9.0f) < 1e-7f);
    CHECK(y2[5] == 1.0f);
}

static void test_global_avgpool_equals_full_window(void) {
    enum { N = 2, H = 3, W = 5, C = 4 };
    float x[N * H * W * C], y1[N * C], y2[N * C];
    t_fill(x, sizeof x / sizeof x[0], 91);
    et_f32_global_avgpool__ref(N, H * W, C, x, y1);
    et_pool_geom g = pool_geom(N, H, W, C, H, W, 1, 1, 0, 0, 0, 0, 0, 0);
    CHECK(g.oh == 1 && g.ow == 1);
    et_f32_avgpool__ref(&g, x, y2);
    CHECK(same_bits(y1, y2, N * C));
    float z;
    et_f32_global_avgpool__ref(1, 0, 1, x, &z);
    CHECK(isnan(z));
}

static void test_binary_broadcast_equals_expanded(void) {
    enum { N = 2, H = 3, W = 4, C = 5 };
    float x[N * W], y[H * C], xe[N * H * W * C], ye[N * H * W * C];
    float z1[N * H * W * C], z2[N * H * W * C], z3[N * H * W * C];
    t_fill(x, sizeof x / sizeof x[0], 101);
    t_fill(y, sizeof y / sizeof y[0], 102);
    for (size_t n = 0; n < N; n++)
        for (size_t h = 0; h < H; h++)
            for (size_t w = 0; w < W; w++)
                for (size_t c = 0; c < C; c++) {
                    size_t i = ((n * H + h) * W + w) * C + c;
                    xe[i] = x[n * W + w]; /* x is N x 1 x W x 1 */
                    ye[i] = y[h * C + c]; /* y is 1 x H x 1 x C */
                }
    et_shape xs = mkshape(N, 1, W, 1), ys = mkshape(1, H, 1, C), zs = mkshape(N, H, W, C);
    for (int k = 0; k < 2; k++) {
        et_binary_kind kind = k ? ET_BINARY_MUL : ET_BINARY_ADD;
        et_act act = mkact(ET_ACT_LEAKY_RELU, 0.25f, 0);
        et_f32_binary__ref(kind, xs, x, ys, y, zs, act, z1);
        et_f32_binary__ref(kind, zs, xe, zs, ye, zs, act, z2);
        et_f32_binary__ref(kind, ys, y, xs, x, zs, act, z3); /* commutes */
        CHECK(same_bits(z1, z2, N * H * W * C));
        CHECK(same_bits(z1, z3, N * H * W * C));
        for (size_t i = 0; i < N * H * W * C; i++)
            CHECK(z2[i] == et_act_apply(act, k ? xe[i] * ye[i] : xe[i] + ye[i]));
    }
}

static void test_concat_splits_back(void) {
    enum { R = 6 };
    float a[R * 1], b[R * 3], c[R * 2], y[R * 6];
    t_fill(a, R, 111);
    t_fill(b, R * 3, 112);
    t_fill(c, R * 2, 113);
    const size_t cs[3] = {1, 3, 2};
    const float *const xs[3] = {a, b, c};
    et_f32_concat__ref(R, 3, cs, xs, y);
    for (size_t r = 0; r < R; r++) {
        CHECK(y[r * 6] == a[r]);
        for (size_t k = 0; k < 3; k++) CHECK(y[r * 6 + 1 + k] == b[r * 3 + k]);
        for (size_t k = 0; k < 2; k++) CHECK(y[r * 6 + 4 + k] == c[r * 2 + k]);
    }
}

static void test_batchnorm_identity(void) {
    enum { R = 5, C = 3 };
    float x[R * C], y[R * C], gamma[C], beta[C], mean[C], var[C] = {0.5f, 2.0f, 0.01f};
    const float eps = 1e-3f;
    t_fill(x, R * C, 121);
    t_fill(mean, C, 122);
    for (size_t c = 0; c < C; c++) {
        gamma[c] = (float)sqrt((double)var[c] + (double)eps);
        beta[c] = mean[c];
    }
    et_f32_batchnorm__ref(R, C, x, gamma, beta, mean, var, eps, y);
    CHECK(elem_err(y, x, R * C) <= 1e-6);
}

static void test_softmax_properties(void) {
    enum { R = 4, C = 9 };
    float x[R * C], xs[R * C], y[R * C], ys[R * C];
    t_fill(x, R * C, 131);
    for (size_t i = 0; i < R * C; i++) {
        x[i] *= 20.0f;
        xs[i] = x[i] + 1000.0f;
    }
    et_f32_softmax__ref(R, C, x, y);
    et_f32_softmax__ref(R, C, xs, ys);
    for (size_t r = 0; r < R; r++) {
        double s = 0.0;
        for (size_t c = 0; c < C; c++) s += y[r * C + c];
        CHECK(fabs(s - 1.0) < 1e-6);
    }
    /* Shift invariance up to the rounding of x + 1000 in float. */
    CHECK(elem_err(y, ys, R * C) <= 1e-4);

    float big[6] = {1000.0f, -1000.0f, 0.0f, -INFINITY, 5.0f, NAN};
    float out[6];
    et_f32_softmax__ref(3, 2, big, out);
    CHECK(out[0] == 1.0f && out[1] == 0.0f);
    CHECK(out[2] == 1.0f && out[3] == 0.0f);
    CHECK(isnan(out[4]) && isnan(out[5]));
    float one = 123.0f, o;
    et_f32_softmax__ref(1, 1, &one, &o);
    CHECK(o == 1.0f);
}

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
    RUN(test_window_out_edges);
    RUN(test_act_specials);
    RUN(test_act_inplace);
    RUN(test_conv_groups_equal_per_group);
    RUN(test_conv_depthwise_per_channel);
    RUN(test_conv_1x1_equals_linear);
    RUN(test_conv_pad_equals_zero_border);
    RUN(test_conv_dilation_equals_sparse_kernel);
    RUN(test_conv_stride_subsamples);
    RUN(test_linear_null_bias);
    RUN(test_maxpool_padding_never_wins);
    RUN(test_avgpool_divisors);
    RUN(test_global_avgpool_equals_full_window);
    RUN(test_binary_broadcast_equals_expanded);
    RUN(test_concat_splits_back);
    RUN(test_batchnorm_identity);
    RUN(test_softmax_properties);
    return t_summary(__FILE__);
}
