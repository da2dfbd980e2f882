/* JPEG decoding through libjpeg / libjpeg-turbo (built with ET_HAVE_JPEG, set
 * by the Makefile when the library is found). libjpeg's fatal errors come
 * back through longjmp; warnings (e.g. truncated data) are treated as errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data.h"

#ifdef ET_HAVE_JPEG
#include <jpeglib.h>
#include <setjmp.h>

typedef struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jb;
    int warnings;
    char msg[JMSG_LENGTH_MAX];
} jerr;

static void on_error(j_common_ptr cinfo) {
    jerr *e = (jerr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jb, 1);
}

/* Replaces libjpeg's default, which prints to stderr. */
static void on_message(j_common_ptr cinfo, int level) {
    jerr *e = (jerr *)cinfo->err;
    if (level < 0 && !e->warnings++) (*cinfo->err->format_message)(cinfo, e->msg);
}

static void on_output(j_common_ptr cinfo) { (void)cinfo; }

et_status et_jpeg_decode(const unsigned char *b, size_t len, const char *who, et_image *out,
                         char *err, size_t err_len) {
    memset(out, 0, sizeof *out);
    struct jpeg_decompress_struct cinfo;
    jerr e;
    memset(&e, 0, sizeof e);
    cinfo.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = on_error;
    e.mgr.emit_message = on_message;
    e.mgr.output_message = on_output;
    /* volatile: read after a longjmp back into this frame. */
    uint8_t *volatile d = NULL;
    if (setjmp(e.jb)) {
        jpeg_destroy_decompress(&cinfo);
        free(d);
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: bad JPEG: %s", who, e.msg);
    }
    jpeg_create_decompress(&cinfo);
    if ((unsigned long long)len > (unsigned long)-1) {
        jpeg_destroy_decompress(&cinfo);
        return et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: JPEG too large", who);
    }
    jpeg_mem_src(&cinfo, b, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    size_t ch;
    if (cinfo.jpeg_color_space == JCS_GRAYSCALE) ch = 1, cinfo.out_color_space = JCS_GRAYSCALE;
    else if (cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_RGB) ch = 3, cinfo.out_color_space = JCS_RGB;
    else {
        jpeg_destroy_decompress(&cinfo);
        return et_fail(err, err_len, ET_ERR_UNSUPPORTED, "%s: JPEG colour space %d (CMYK/YCCK) is not supported",
                       who, (int)cinfo.jpeg_color_space);
    }
    jpeg_start_decompress(&cinfo);
    size_t w = cinfo.output_width, h = cinfo.output_height, bytes, row;
    if (cinfo.output_components != (int)ch || !w || !h || !et_img_bytes(h, w, ch, 1, &bytes)) {
        jpeg_destroy_decompress(&cinfo);
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: bad JPEG: unexpected %zu x %zu x %d output", who, h, w,
                       cinfo.output_components);
    }
    if (bytes > ET_IMAGE_MAX_BYTES) {
        jpeg_destroy_decompress(&cinfo);
        return et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: JPEG of %zu x %zu pixels is too large", who, w, h);
    }
    row = w * ch;
    d = malloc(bytes);
    if (!d) {
        jpeg_destroy_decompress(&cinfo);
        return et_fail(err, err_len, ET_ERR_NO_MEMORY, "%s: out of memory for %zu bytes", who, bytes);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW r = d + (size_t)cinfo.output_scanline * row;
        jpeg_read_scanlines(&cinfo, &r, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    if (e.warnings) {
        free(d);
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: corrupt JPEG: %s", who, e.msg);
    }
    out->data = d;
    out->height = h;
    out->width = w;
    out->channels = ch;
    return ET_OK;
}

#else

et_status et_jpeg_decode(const unsigned char *b, size_t len, const char *who, et_image *out,
                         char *err, size_t err_len) {
    (void)b;
    (void)len;
    memset(out, 0, sizeof *out);
    return et_fail(err, err_len, ET_ERR_UNSUPPORTED,
                   "%s: JPEG support is not built in (install libjpeg-dev and rebuild)", who);
}

#endif
