/* Netpbm decoder: PGM (P2 ASCII, P5 binary) and PPM (P3 ASCII, P6 binary),
 * maxval 1..65535 scaled to 8 bits. Works on a whole file in memory; every
 * read is bounds-checked and errors name the file and byte offset. */
#include <stdlib.h>
#include <string.h>
#include "data.h"

typedef struct pnm_cur {
    const unsigned char *b;
    size_t n, i;
    const char *who;
    char *err;
    size_t err_len;
} pnm_cur;

static int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Skip whitespace and, in the header, '#' comments running to end of line. */
static void skip(pnm_cur *c, int comments) {
    while (c->i < c->n) {
        if (is_ws(c->b[c->i])) c->i++;
        else if (comments && c->b[c->i] == '#') {
            while (c->i < c->n && c->b[c->i] != '\n' && c->b[c->i] != '\r') c->i++;
        } else break;
    }
}

/* A decimal number no larger than `max`. */
static et_status number(pnm_cur *c, int comments, size_t max, const char *what, size_t *out) {
    skip(c, comments);
    if (c->i >= c->n)
        return et_fail(c->err, c->err_len, ET_ERR_FORMAT, "%s: byte %zu: truncated: the file ends before the %s",
                       c->who, c->i, what);
    if (c->b[c->i] < '0' || c->b[c->i] > '9')
        return et_fail(c->err, c->err_len, ET_ERR_FORMAT, "%s: byte %zu: expected a decimal number for the %s",
                       c->who, c->i, what);
    size_t v = 0, start = c->i;
    while (c->i < c->n && c->b[c->i] >= '0' && c->b[c->i] <= '9') {
        if (!et_mul_ok(v, 10, &v) || !et_add_ok(v, (size_t)(c->b[c->i] - '0'), &v) || v > max)
            return et_fail(c->err, c->err_len, ET_ERR_FORMAT, "%s: byte %zu: %s is larger than %zu",
                           c->who, start, what, max);
        c->i++;
    }
    *out = v;
    return ET_OK;
}

static uint8_t to8(size_t v, size_t maxval) {
    return maxval == 255 ? (uint8_t)v : (uint8_t)((v * 255 + maxval / 2) / maxval);
}

et_status et_pnm_decode(const unsigned char *b, size_t len, const char *who, et_image *out,
                        char *err, size_t err_len) {
    memset(out, 0, sizeof *out);
    pnm_cur c = {b, len, 0, who, err, err_len};
    if (len < 2 || b[0] != 'P')
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte 0: not a PNM file (no 'P' magic)", who);
    char kind = (char)b[1];
    if (kind == '1' || kind == '4' || kind == '7')
        return et_fail(err, err_len, ET_ERR_UNSUPPORTED, "%s: byte 0: P%c (bitmap/PAM) is not supported (P2, P3, P5, P6 are)",
                       who, kind);
    if (kind != '2' && kind != '3' && kind != '5' && kind != '6')
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte 1: unknown PNM kind 'P%c'", who, kind);
    c.i = 2;
    if (c.i < len && !is_ws(b[c.i]) && b[c.i] != '#')
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte 2: expected whitespace after the magic", who);
    size_t ch = (kind == '3' || kind == '6') ? 3 : 1, w, h, maxval;
    /* A sane cap on each side keeps absurd headers from reaching malloc. */
    const size_t side_max = (size_t)1 << 24;
    et_status st = number(&c, 1, side_max, "width", &w);
    if (st == ET_OK) st = number(&c, 1, side_max, "height", &h);
    if (st == ET_OK) st = number(&c, 1, 65535, "maxval", &maxval);
    if (st != ET_OK) return st;
    if (!w || !h) return et_fail(err, err_len, ET_ERR_FORMAT, "%s: image is %zu x %zu (empty)", who, w, h);
    if (!maxval) return et_fail(err, err_len, ET_ERR_FORMAT, "%s: maxval is 0", who);
    size_t count, bytes;
    if (!et_img_bytes(h, w, ch, 1, &count))
        return et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: %zu x %zu x %zu overflows size_t", who, h, w, ch);
    size_t bps = maxval > 255 ? 2 : 1;
    if (kind == '5' || kind == '6') {
        /* Exactly one whitespace byte separates the header from the raster. */
        if (c.i >= len)
            return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte %zu: truncated: the file ends after the header", who, c.i);
        if (!is_ws(b[c.i]))
            return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte %zu: expected whitespace after maxval", who, c.i);
        c.i++;
        if (!et_mul_ok(count, bps, &bytes))
            return et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: raster size overflows size_t", who);
        if (bytes > len - c.i)
            return et_fail(err, err_len, ET_ERR_FORMAT,
                           "%s: byte %zu: truncated: %zu x %zu x %zu raster needs %zu bytes, %zu are present",
                           who, c.i, h, w, ch, bytes, len - c.i);
    } else if (count > (len - c.i) / 2 + 1) {
        /* Each ASCII sample takes at least a digit and a separator. */
        return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte %zu: truncated: %zu samples cannot fit in %zu bytes",
                       who, c.i, count, len - c.i);
    }
    uint8_t *d = malloc(count);
    if (!d) return et_fail(err, err_len, ET_ERR_NO_MEMORY, "%s: out of memory for %zu bytes", who, count);
    for (size_t k = 0; k < count; k++) {
        size_t v;
        if (kind == '5' || kind == '6') {
            const unsigned char *p = b + c.i + k * bps;
            v = bps == 2 ? ((size_t)p[0] << 8 | p[1]) : p[0];
            if (v > maxval) {
                free(d);
                return et_fail(err, err_len, ET_ERR_FORMAT, "%s: byte %zu: sample %zu exceeds maxval %zu",
                               who, c.i + k * bps, v, maxval);
            }
        } else if ((st = number(&c, 0, maxval, "sample", &v)) != ET_OK) {
            free(d);
            return st;
        }
        d[k] = to8(v, maxval);
    }
    out->data = d;
    out->height = h;
    out->width = w;
    out->channels = ch;
    return ET_OK;
}
