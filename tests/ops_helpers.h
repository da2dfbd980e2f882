/* Helpers shared by the reference-kernel tests (test_ops.c with the
 * PyTorch fixtures, test_ops_props.c with fixture-free properties):
 * element-wise error, bit equality and small constructors. Header-only. */
#ifndef ET_TEST_OPS_HELPERS_H
#define ET_TEST_OPS_HELPERS_H

#include <math.h>
#include <string.h>
#include "ops/ops.h"

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

#endif
