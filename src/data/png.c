/* PNG decoding and encoding through libpng's simplified API (built with
 * ET_HAVE_PNG, set by the Makefile when libpng is found). Without it both
 * report ET_ERR_UNSUPPORTED naming the file; nothing else here. */
#include <stdlib.h>
#include <string.h>
#include "data.h"

#ifdef ET_HAVE_PNG
#include <png.h>

et_status et_png_decode(const unsigned char *b, size_t len, const char *who, et_image *out,
                        char *err, size_t err_len) {
    memset(out, 0, sizeof *out);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    /* The simplified API reports failures in img.message instead of printing
     * or longjmp-ing into our frames. */
    if (!png_image_begin_read_from_memory(&img, b, len))
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: bad PNG: %s", who, img.message);
    size_t ch = (img.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1, bytes;
    /* Alpha is read and then dropped (like PIL's convert('RGB')): asking
     * libpng for a format without alpha would composite in linear light. */
    size_t rd = ch + ((img.format & PNG_FORMAT_FLAG_ALPHA) ? 1 : 0);
    img.format = ch == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    if (rd > ch) img.format |= PNG_FORMAT_FLAG_ALPHA;
    if (!img.width || !img.height || !et_img_bytes(img.height, img.width, rd, 1, &bytes) ||
        bytes > ET_IMAGE_MAX_BYTES) {
        png_image_free(&img);
        return et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: PNG of %lu x %lu pixels is too large",
                       who, (unsigned long)img.width, (unsigned long)img.height);
    }
    uint8_t *d = malloc(bytes);
    if (!d) {
        png_image_free(&img);
        return et_fail(err, err_len, ET_ERR_NO_MEMORY, "%s: out of memory for %zu bytes", who, bytes);
    }
    if (!png_image_finish_read(&img, NULL, d, 0, NULL)) {
        free(d);
        et_status st = et_fail(err, err_len, ET_ERR_FORMAT, "%s: bad PNG: %s", who, img.message);
        png_image_free(&img);
        return st;
    }
    if (rd > ch) {
        size_t px = bytes / rd;
        for (size_t i = 0; i < px; i++)
            for (size_t k = 0; k < ch; k++) d[i * ch + k] = d[i * rd + k];
    }
    out->data = d;
    out->height = img.height;
    out->width = img.width;
    out->channels = ch;
    return ET_OK;
}

et_status et_png_encode(const et_image *img, unsigned char **buf, size_t *len, const char *who,
                        char *err, size_t err_len) {
    *buf = NULL;
    *len = 0;
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    pi.width = (png_uint_32)img->width;
    pi.height = (png_uint_32)img->height;
    pi.format = img->channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    if ((size_t)pi.width != img->width || (size_t)pi.height != img->height || img->width > 0x7fffffffu / img->channels)
        return et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: %zu x %zu is too large for PNG", who, img->height, img->width);
    /* the first call sizes the file, the second writes it; each frees its
     * own libpng state, success or not */
    png_alloc_size_t n = 0;
    if (!png_image_write_to_memory(&pi, NULL, &n, 0, img->data, 0, NULL))
        return et_fail(err, err_len, ET_ERR_IO, "%s: PNG encoding failed: %s", who, pi.message);
    unsigned char *b = malloc(n ? n : 1);
    if (!b) return et_fail(err, err_len, ET_ERR_NO_MEMORY, "%s: out of memory for %zu bytes", who, (size_t)n);
    if (!png_image_write_to_memory(&pi, b, &n, 0, img->data, 0, NULL)) {
        free(b);
        return et_fail(err, err_len, ET_ERR_IO, "%s: PNG encoding failed: %s", who, pi.message);
    }
    *buf = b;
    *len = n;
    return ET_OK;
}

#else

et_status et_png_decode(const unsigned char *b, size_t len, const char *who, et_image *out,
                        char *err, size_t err_len) {
    (void)b;
    (void)len;
    memset(out, 0, sizeof *out);
    return et_fail(err, err_len, ET_ERR_UNSUPPORTED,
                   "%s: PNG support is not built in (install libpng-dev and rebuild)", who);
}

et_status et_png_encode(const et_image *img, unsigned char **buf, size_t *len, const char *who,
                        char *err, size_t err_len) {
    (void)img;
    *buf = NULL;
    *len = 0;
    return et_fail(err, err_len, ET_ERR_UNSUPPORTED,
                   "%s: PNG support is not built in (install libpng-dev and rebuild, or write .ppm)", who);
}

#endif
