/* Reading one image file: whole-file reads, format detection by content
 * (PNM, PNG, JPEG signatures) and grey/colour conversion. The decoders
 * themselves live in pnm.c, png.c and jpeg.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "data.h"

et_status et_read_all(const char *path, unsigned char **buf, size_t *len, char *err, size_t err_len) {
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        et_status st = errno == ENOENT ? ET_ERR_NOT_FOUND : ET_ERR_IO;
        return et_fail(err, err_len, st, "%s: cannot open: %s", path, strerror(errno));
    }
    struct stat sb;
    et_status st = ET_OK;
    if (fstat(fileno(f), &sb) != 0)
        st = et_fail(err, err_len, ET_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = et_fail(err, err_len, ET_ERR_IO, "%s: not a regular file", path);
    else if ((unsigned long long)sb.st_size >= (unsigned long long)(size_t)-1)
        st = et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: file of %lld bytes is too large", path, (long long)sb.st_size);
    if (st == ET_OK) {
        size_t n = (size_t)sb.st_size;
        unsigned char *b = malloc(n ? n : 1);
        if (!b) st = et_fail(err, err_len, ET_ERR_NO_MEMORY, "%s: out of memory for %zu bytes", path, n);
        else if (n && fread(b, 1, n, f) != n) {
            st = et_fail(err, err_len, ET_ERR_IO, "%s: read failed at byte %zu", path, (size_t)ftell(f));
            free(b);
        } else {
            *buf = b;
            *len = n;
        }
    }
    fclose(f);
    return st;
}

et_status et_image_convert(et_image *img, size_t channels, const char *who, char *err, size_t err_len) {
    if (channels == 0 || channels == img->channels) return ET_OK;
    size_t px;
    if (!et_mul_ok(img->height, img->width, &px))
        return et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: image size overflows", who);
    if (img->channels == 3 && channels == 1) {
        /* Shrinks in place: pixel i is read before it can be overwritten. */
        for (size_t i = 0; i < px; i++) {
            const uint8_t *p = img->data + 3 * i;
            img->data[i] = (uint8_t)((299u * p[0] + 587u * p[1] + 114u * p[2] + 500u) / 1000u);
        }
        img->channels = 1;
        return ET_OK;
    }
    if (img->channels == 1 && channels == 3) {
        size_t bytes;
        if (!et_mul_ok(px, 3, &bytes))
            return et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: image size overflows", who);
        uint8_t *d = realloc(img->data, bytes ? bytes : 1);
        if (!d) return et_fail(err, err_len, ET_ERR_NO_MEMORY, "%s: out of memory", who);
        img->data = d;
        for (size_t i = px; i-- > 0;) d[3 * i] = d[3 * i + 1] = d[3 * i + 2] = d[i];
        img->channels = 3;
        return ET_OK;
    }
    return et_fail(err, err_len, ET_ERR_UNSUPPORTED, "%s: cannot convert %zu channels to %zu (1 and 3 are supported)",
                   who, img->channels, channels);
}

/* Decode an in-memory file by its signature. */
static et_status decode(const unsigned char *b, size_t len, const char *who, et_image *out, char *err, size_t err_len) {
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    if (len >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '7') return et_pnm_decode(b, len, who, out, err, err_len);
    if (len >= 4 && memcmp(b, png_sig, 4) == 0) return et_png_decode(b, len, who, out, err, err_len);
    if (len >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) return et_jpeg_decode(b, len, who, out, err, err_len);
    return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte 0: not a PPM/PGM, PNG or JPEG image (unknown signature)", who);
}

et_status et_image_read_file(const char *path, size_t channels, et_image *out, char *err, size_t err_len) {
    if (err && err_len) err[0] = '\0';
    if (!out) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "image: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "image: path is NULL");
    if (channels != 0 && channels != 1 && channels != 3)
        return et_fail(err, err_len, ET_ERR_INVALID_ARG, "%s: %zu channels requested (1 or 3)", path, channels);
    unsigned char *b;
    size_t len;
    et_status st = et_read_all(path, &b, &len, err, err_len);
    if (st != ET_OK) return st;
    st = decode(b, len, path, out, err, err_len);
    free(b);
    if (st == ET_OK) st = et_image_convert(out, channels, path, err, err_len);
    if (st != ET_OK) et_image_free(out);
    return st;
}

void et_image_free(et_image *img) {
    if (!img) return;
    free(img->data);
    memset(img, 0, sizeof *img);
}
