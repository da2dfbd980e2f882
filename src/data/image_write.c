/* Writing one image file: the format chosen by the path's extension, binary
 * PPM/PGM encoded here, PNG in png.c, and the atomic write shared by every
 * writer. No decoding here (image.c, pnm.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "atomic_file.h"
#include "data.h"

et_status et_pnm_encode(const et_image *img, int grey, unsigned char **buf, size_t *len, const char *who,
                        char *err, size_t err_len) {
    *buf = NULL;
    *len = 0;
    size_t px, bytes;
    size_t oc = grey ? 1 : 3;
    if (!et_mul_ok(img->height, img->width, &px) || !et_img_bytes(img->height, img->width, oc, 1, &bytes) || bytes > (size_t)-1 - 64)
        return et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: %zu x %zu image is too large", who, img->height, img->width);
    char head[64];
    int hn = snprintf(head, sizeof head, "P%c\n%zu %zu\n255\n", grey ? '5' : '6', img->width, img->height);
    unsigned char *b = malloc((size_t)hn + bytes);
    if (!b) return et_fail(err, err_len, ET_ERR_NO_MEMORY, "%s: out of memory for %zu bytes", who, (size_t)hn + bytes);
    memcpy(b, head, (size_t)hn);
    unsigned char *d = b + hn;
    if (img->channels == oc) memcpy(d, img->data, bytes);
    else
        for (size_t i = 0; i < px; i++) d[3 * i] = d[3 * i + 1] = d[3 * i + 2] = img->data[i]; /* grey as RGB */
    *buf = b;
    *len = (size_t)hn + bytes;
    return ET_OK;
}

/* Case-insensitive: does path end with ext (".png")? */
static int ends_with(const char *path, const char *ext) {
    size_t n = strlen(path), k = strlen(ext);
    if (n <= k) return 0;
    for (size_t i = 0; i < k; i++) {
        char c = path[n - k + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != ext[i]) return 0;
    }
    return 1;
}

et_status et_image_write_file(const char *path, const et_image *img, char *err, size_t err_len) {
    if (err && err_len) err[0] = '\0';
    if (!path || !img || !img->data || !img->height || !img->width)
        return et_fail(err, err_len, ET_ERR_INVALID_ARG, "image write %s: NULL path or empty image", path ? path : "(null)");
    if (img->channels != 1 && img->channels != 3)
        return et_fail(err, err_len, ET_ERR_UNSUPPORTED, "%s: cannot write %zu channels (1 or 3)", path, img->channels);
    unsigned char *b = NULL;
    size_t len = 0;
    et_status st;
    if (ends_with(path, ".ppm")) {
        st = et_pnm_encode(img, 0, &b, &len, path, err, err_len);
    } else if (ends_with(path, ".pgm")) {
        if (img->channels != 1)
            return et_fail(err, err_len, ET_ERR_INVALID_ARG, "%s: PGM holds grey images; this one has 3 channels (write .ppm or .png)", path);
        st = et_pnm_encode(img, 1, &b, &len, path, err, err_len);
    } else if (ends_with(path, ".png")) {
        st = et_png_encode(img, &b, &len, path, err, err_len);
    } else {
        const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
        return et_fail(err, err_len, ET_ERR_INVALID_ARG, "%s: unsupported extension '%s' (write .ppm, .pgm or .png)", path,
                       dot && (!slash || dot > slash) ? dot : "");
    }
    if (st != ET_OK) return st;
    st = et_file_write_atomic_io(path, b, len, NULL, err, err_len);
    free(b);
    return st;
}
