/* NumPy datasets: X (uint8 NHWC kept as bytes, or float arrays through
 * et_npy_read_file) and y (class ids or a 0/1 multi-label matrix). The
 * uint8 path has its own small header reader so X never grows 4x in memory. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data.h"

typedef struct u8_npy { int is_u8; size_t ndim, dims[ET_NPY_MAX_DIMS], data_off; } u8_npy;

/* Find 'key' in the header dict and return the offset just past its ':'. */
static const char *find_key(const char *d, size_t n, const char *key) {
    size_t k = strlen(key);
    for (size_t i = 0; i + k + 2 <= n; i++) {
        if ((d[i] == '\'' || d[i] == '"') && memcmp(d + i + 1, key, k) == 0 && d[i + 1 + k] == d[i]) {
            for (size_t j = i + k + 2; j < n; j++) {
                if (d[j] == ':') return d + j + 1;
                if (d[j] != ' ') return NULL;
            }
        }
    }
    return NULL;
}

/* Header of a .npy file: only what the uint8 path needs (dtype, C order,
 * shape, data offset). Other dtypes are left to et_npy_read_file, which
 * validates everything. */
static et_status sniff(const char *path, const unsigned char *buf, size_t got, u8_npy *h, char *err, size_t err_len) {
    memset(h, 0, sizeof *h);
    if (got < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) return ET_OK;  /* et_npy_read_file names the fault */
    size_t pre = buf[6] == 1 ? 10 : 12;
    if (got < pre) return ET_OK;
    size_t hl = buf[6] == 1 ? (size_t)buf[8] | (size_t)buf[9] << 8
                            : (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
    if (hl > got - pre) return ET_OK;
    const char *d = (const char *)buf + pre, *v = find_key(d, hl, "descr");
    const char *end = d + hl;
    while (v && v < end && *v == ' ') v++;
    if (!v || end - v < 5 || !(memcmp(v + 1, "|u1", 3) == 0 || memcmp(v + 1, "<u1", 3) == 0) || v[4] != v[0]) return ET_OK;
    const char *fo = find_key(d, hl, "fortran_order");
    while (fo && fo < end && *fo == ' ') fo++;
    if (!fo || end - fo < 5 || memcmp(fo, "False", 5) != 0)
        return et_fail(err, err_len, ET_ERR_UNSUPPORTED, "%s: only C-order (fortran_order False) arrays are supported", path);
    const char *s = find_key(d, hl, "shape");
    while (s && s < end && *s == ' ') s++;
    if (!s || s >= end || *s != '(')
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte %zu: header has no 'shape' tuple", path, pre);
    size_t count = 1;
    for (s++;;) {
        while (s < end && (*s == ' ' || *s == ',')) s++;
        if (s >= end) return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte %zu: unterminated 'shape'", path, pre);
        if (*s == ')') break;
        if (*s < '0' || *s > '9' || h->ndim == ET_NPY_MAX_DIMS)
            return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte %zu: bad 'shape' entry", path, (size_t)(s - (const char *)buf));
        size_t x = 0;
        while (s < end && *s >= '0' && *s <= '9') {
            if (!et_mul_ok(x, 10, &x) || !et_add_ok(x, (size_t)(*s - '0'), &x))
                return et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: byte %zu: 'shape' entry overflows", path,
                               (size_t)(s - (const char *)buf));
            s++;
        }
        if (!et_mul_ok(count, x, &count))
            return et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: 'shape' element count overflows size_t", path);
        h->dims[h->ndim++] = x;
    }
    h->data_off = pre + hl;
    if (count > got - h->data_off)
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte %zu: data truncated: %zu bytes needed, %zu present", path,
                       h->data_off, count, got - h->data_off);
    h->is_u8 = 1;
    return ET_OK;
}

/* N, H, W, C of an X shape: [N][H][W][C], [N][H][W] (C = 1) or [N][F]
 * (1 x 1 x F); NCHW swaps the meaning of the last three. */
static et_status x_shape(const char *path, size_t ndim, const size_t *dims, et_layout lay, size_t s[4],
                         char *err, size_t err_len) {
    if (ndim == 4) {
        s[0] = dims[0];
        if (lay == ET_LAYOUT_NCHW) { s[3] = dims[1]; s[1] = dims[2]; s[2] = dims[3]; }
        else { s[1] = dims[1]; s[2] = dims[2]; s[3] = dims[3]; }
    } else if (ndim == 3) { s[0] = dims[0]; s[1] = dims[1]; s[2] = dims[2]; s[3] = 1; }
    else if (ndim == 2) { s[0] = dims[0]; s[1] = 1; s[2] = 1; s[3] = dims[1]; }
    else return et_fail(err, err_len, ET_ERR_SHAPE, "%s: X has %zu dimensions (expected [N][H][W][C], [N][H][W] or [N][F])",
                        path, ndim);
    if (!s[0]) return et_fail(err, err_len, ET_ERR_NOT_FOUND, "%s: no samples (N is 0)", path);
    if (!s[1] || !s[2] || !s[3]) return et_fail(err, err_len, ET_ERR_SHAPE, "%s: empty sample shape", path);
    return ET_OK;
}

/* Labels from y: ids [N] or a 0/1 matrix [N][K]. */
static et_status load_y(const char *y_path, const char *x_path, size_t n, size_t want_classes, et_dataset **out,
                        char *err, size_t err_len) {
    et_array y;
    FILE *f = fopen(y_path, "rb");
    if (!f) return et_fail(err, err_len, errno == ENOENT ? ET_ERR_NOT_FOUND : ET_ERR_IO, "%s: cannot open: %s",
                           y_path, strerror(errno));
    fclose(f);
    et_status st = et_npy_read_file(y_path, &y, err, err_len);
    if (st != ET_OK) return st;
    if (y.ndim < 1 || y.ndim > 2 || y.dims[0] != n) {
        st = et_fail(err, err_len, ET_ERR_SHAPE, "%s: %zu labels (shape with %zu dims), but %s holds %zu samples",
                     y_path, y.ndim ? y.dims[0] : 0, y.ndim, x_path, n);
        et_array_free(&y);
        return st;
    }
    int multi = y.ndim == 2;
    size_t classes = multi ? y.dims[1] : want_classes;
    if (multi && want_classes && want_classes != classes) {
        st = et_fail(err, err_len, ET_ERR_SHAPE, "%s: %zu label columns, %zu classes requested", y_path, classes, want_classes);
        et_array_free(&y);
        return st;
    }
    for (size_t i = 0; i < y.count && st == ET_OK; i++) {
        float v = y.data[i];
        if (multi ? (v != 0.0f && v != 1.0f) : (!(v >= 0.0f) || v != floorf(v) || v >= 2147483648.0f))
            st = et_fail(err, err_len, ET_ERR_FORMAT, "%s: label %g at element %zu is not %s", y_path, (double)v, i,
                         multi ? "0 or 1 (multi-label matrix)" : "a non-negative integer class id");
        else if (!multi && !want_classes && (size_t)v + 1 > classes) classes = (size_t)v + 1;
    }
    if (st == ET_OK && !multi)
        for (size_t i = 0; i < n && st == ET_OK; i++)
            if ((size_t)y.data[i] >= classes)
                st = et_fail(err, err_len, ET_ERR_FORMAT, "%s: label %zu of sample %zu is out of range (%zu classes)",
                             y_path, (size_t)y.data[i], i, classes);
    if (st == ET_OK && (st = et_ds_new(n, classes, multi, out)) != ET_OK)
        st = et_fail(err, err_len, st, "%s: out of memory", y_path);
    if (st == ET_OK)
        for (size_t i = 0; i < y.count; i++) {
            if (multi) (*out)->mlabels[i] = y.data[i] != 0.0f;
            else (*out)->labels[i] = (int32_t)y.data[i];
        }
    et_array_free(&y);
    return st;
}

et_status et_dataset_load_npy(const char *x_path, const char *y_path, const et_dataset_options *opt,
                              et_dataset **out, char *err, size_t err_len) {
    if (err && err_len) err[0] = '\0';
    if (!out) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "npy dataset: out is NULL");
    *out = NULL;
    if (!x_path || !y_path) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "npy dataset: path is NULL");
    et_dataset_options o;
    memset(&o, 0, sizeof o);
    if (opt) o = *opt;
    unsigned char *raw = NULL;
    size_t raw_len = 0, s[4] = {0, 0, 0, 0};
    u8_npy h;
    et_array xf;
    memset(&xf, 0, sizeof xf);
    et_dataset *d = NULL;
    /* Whole-file read first: it names a missing file, and the uint8 path
     * keeps the bytes. Float files are read again by et_npy_read_file. */
    et_status st = et_read_all(x_path, &raw, &raw_len, err, err_len);
    if (st == ET_OK) st = sniff(x_path, raw, raw_len, &h, err, err_len);
    if (st == ET_OK && !h.is_u8) {
        free(raw);
        raw = NULL;
        st = et_npy_read_file(x_path, &xf, err, err_len);
        if (st == ET_OK) { h.ndim = xf.ndim; memcpy(h.dims, xf.dims, sizeof h.dims); }
    }
    if (st == ET_OK) st = x_shape(x_path, h.ndim, h.dims, h.is_u8 ? ET_LAYOUT_NHWC : o.layout, s, err, err_len);
    if (st == ET_OK && o.channels && o.channels != s[3])
        st = et_fail(err, err_len, ET_ERR_SHAPE, "%s: samples have %zu channels, %zu requested", x_path, s[3], o.channels);
    if (st == ET_OK) st = load_y(y_path, x_path, s[0], o.classes, &d, err, err_len);
    if (st != ET_OK) goto done;
    size_t per = s[1] * s[2] * s[3], elem = h.is_u8 ? 1 : sizeof(float);  /* checked by the readers */
    if (!(d->source = et_ds_strdup(x_path))) { st = et_fail(err, err_len, ET_ERR_NO_MEMORY, "%s: out of memory", x_path); goto done; }
    if (h.is_u8) {
        /* Keep the file buffer and point past the header: no copy. */
        d->data = raw;
        raw = NULL;
        for (size_t i = 0; i < s[0]; i++) d->off[i] = h.data_off + i * per;
    } else {
        if (o.layout == ET_LAYOUT_NCHW && h.ndim == 4) {
            float *t = malloc(per * s[0] * elem);
            if (!t) { st = et_fail(err, err_len, ET_ERR_NO_MEMORY, "%s: out of memory", x_path); goto done; }
            size_t hw = s[1] * s[2];
            for (size_t i = 0; i < s[0]; i++)
                for (size_t c = 0; c < s[3]; c++)
                    for (size_t p = 0; p < hw; p++) t[i * per + p * s[3] + c] = xf.data[i * per + c * hw + p];
            free(xf.data);
            xf.data = t;
        }
        d->data = (unsigned char *)xf.data;
        xf.data = NULL;
        for (size_t i = 0; i < s[0]; i++) d->off[i] = i * per * elem;
    }
    for (size_t i = 0; i < s[0]; i++) { d->h[i] = s[1]; d->w[i] = s[2]; }
    d->kind = h.is_u8 ? ET_SAMPLE_U8 : ET_SAMPLE_F32;
    d->channels = s[3];
    d->height = d->max_h = s[1];
    d->width = d->max_w = s[2];
done:
    free(raw);
    et_array_free(&xf);
    if (st != ET_OK) et_dataset_free(d);
    else *out = d;
    return st;
}
