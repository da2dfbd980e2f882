/* IDX files (the MNIST / Fashion-MNIST format, uncompressed): images u8
 * [N][H][W] or [N][H][W][C] and labels u8 [N] into an et_dataset. Magic,
 * dimensions and counts are checked before any size is used. */
#include <stdlib.h>
#include <string.h>
#include "data.h"

typedef struct idx_hdr {
    size_t ndim, dims[4], count, data_off;
} idx_hdr;

/* Parse and check an IDX header of a whole file in memory: unsigned byte
 * data, ndim in [min_dims, max_dims], data size matching the file. */
static et_status idx_header(const unsigned char *b, size_t len, const char *who, size_t min_dims,
                            size_t max_dims, idx_hdr *h, char *err, size_t err_len) {
    memset(h, 0, sizeof *h);
    if (len < 4)
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte %zu: truncated: an IDX header needs 4 bytes", who, len);
    if (b[0] != 0 || b[1] != 0)
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte 0: not an IDX file (magic must start with two zero bytes;"
                       " gzip-compressed? decompress with gunzip first)", who);
    if (b[2] != 0x08)
        return et_fail(err, err_len, ET_ERR_UNSUPPORTED, "%s: byte 2: IDX data type 0x%02x is not supported "
                       "(0x08, unsigned byte, is)", who, b[2]);
    h->ndim = b[3];
    if (h->ndim < min_dims || h->ndim > max_dims)
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte 3: %zu dimensions, expected %zu..%zu",
                       who, h->ndim, min_dims, max_dims);
    h->data_off = 4 + 4 * h->ndim;
    if (len < h->data_off)
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte %zu: truncated: the header needs %zu bytes",
                       who, len, h->data_off);
    h->count = 1;
    for (size_t d = 0; d < h->ndim; d++) {
        const unsigned char *p = b + 4 + 4 * d;
        h->dims[d] = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        if (!et_mul_ok(h->count, h->dims[d], &h->count))
            return et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: byte %zu: dimensions overflow size_t", who, 4 + 4 * d);
    }
    if (h->count > len - h->data_off)
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte %zu: truncated: %zu data bytes expected, %zu present",
                       who, h->data_off, h->count, len - h->data_off);
    return ET_OK;
}

et_status et_dataset_load_idx(const char *images, const char *labels, const et_dataset_options *opt,
                              et_dataset **out, char *err, size_t err_len) {
    if (err && err_len) err[0] = '\0';
    if (!out) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "idx: out is NULL");
    *out = NULL;
    if (!images || !labels) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "idx: path is NULL");
    et_dataset_options o;
    memset(&o, 0, sizeof o);
    if (opt) o = *opt;
    unsigned char *ib = NULL, *lb = NULL;
    size_t il, ll;
    idx_hdr ih, lh;
    et_dataset *d = NULL;
    et_status st = et_read_all(images, &ib, &il, err, err_len);
    if (st == ET_OK) st = et_read_all(labels, &lb, &ll, err, err_len);
    if (st == ET_OK) st = idx_header(ib, il, images, 3, 4, &ih, err, err_len);
    if (st == ET_OK) st = idx_header(lb, ll, labels, 1, 1, &lh, err, err_len);
    if (st != ET_OK) goto done;
    size_t n = ih.dims[0], hh = ih.dims[1], ww = ih.dims[2], cc = ih.ndim == 4 ? ih.dims[3] : 1;
    if (lh.dims[0] != n) {
        st = et_fail(err, err_len, ET_ERR_SHAPE, "%s: %zu labels, but %s holds %zu images", labels, lh.dims[0], images, n);
        goto done;
    }
    if (n == 0) {
        st = et_fail(err, err_len, ET_ERR_NOT_FOUND, "%s: no images (count is 0)", images);
        goto done;
    }
    if (!hh || !ww || !cc) {
        st = et_fail(err, err_len, ET_ERR_FORMAT, "%s: image size %zu x %zu x %zu is empty", images, hh, ww, cc);
        goto done;
    }
    if (o.channels && o.channels != cc) {
        st = et_fail(err, err_len, ET_ERR_SHAPE, "%s: images have %zu channels, %zu requested", images, cc, o.channels);
        goto done;
    }
    size_t classes = o.classes;
    if (!classes) {
        for (size_t i = 0; i < n; i++)
            if ((size_t)lb[lh.data_off + i] + 1 > classes) classes = (size_t)lb[lh.data_off + i] + 1;
    }
    for (size_t i = 0; i < n; i++)
        if (lb[lh.data_off + i] >= classes) {
            st = et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte %zu: label %u of image %zu is out of range (%zu classes)",
                         labels, lh.data_off + i, lb[lh.data_off + i], i, classes);
            goto done;
        }
    if ((st = et_ds_new(n, classes, 0, &d)) != ET_OK || !(d->source = et_ds_strdup(images))) {
        st = et_fail(err, err_len, st != ET_OK ? st : ET_ERR_NO_MEMORY, "%s: out of memory", images);
        goto done;
    }
    /* The file buffer becomes the pixel storage (samples start after the
     * header): a 60000-image file is never held twice. */
    d->data = ib;
    ib = NULL;
    size_t per = hh * ww * cc;  /* cannot overflow: the product was checked */
    for (size_t i = 0; i < n; i++) {
        d->off[i] = ih.data_off + i * per;
        d->h[i] = hh;
        d->w[i] = ww;
        d->labels[i] = lb[lh.data_off + i];
    }
    d->kind = ET_SAMPLE_U8;
    d->channels = cc;
    d->height = d->max_h = hh;
    d->width = d->max_w = ww;
done:
    free(ib);
    free(lb);
    if (st != ET_OK) et_dataset_free(d);
    else *out = d;
    return st;
}
