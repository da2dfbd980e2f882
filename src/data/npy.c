/* NumPy .npy arrays (format 1.0-3.0, C order) read into float32 and written
 * as '<f4'. Every size taken from a file is checked before use. No other
 * dataset formats here, and nothing here prints or exits. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "model.h"
#include "atomic_file.h"

typedef enum npy_dtype { DT_F4, DT_F8, DT_U1, DT_I1, DT_B1, DT_I4, DT_I8 } npy_dtype;

typedef struct npy_hdr {
    npy_dtype dt;
    size_t itemsize;
    size_t ndim, dims[ET_NPY_MAX_DIMS];
    size_t count;
    size_t data_off, data_bytes;
} npy_hdr;

/* Where errors go and how they name the source. */
typedef struct npy_src {
    const char *who;
    char *err;
    size_t err_len;
} npy_src;

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static et_status bad(const npy_src *s, et_status st, size_t off, const char *fmt, ...) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return et_fail(s->err, s->err_len, st, "%s: byte %zu: %s", s->who, off, msg);
}

static uint32_t rd_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd_u64(const unsigned char *p) {
    return (uint64_t)rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32;
}

/* Magic, version and header length from the first `have` bytes of a
 * `total`-byte file: sets where the dict starts and how long it is. */
static et_status npy_preamble(const npy_src *s, const unsigned char *b, size_t have,
                              size_t total, size_t *dict_off, size_t *dict_len) {
    if (memcmp(b, npy_magic, have < 6 ? have : 6) != 0)
        return bad(s, ET_ERR_FORMAT, 0, "not a .npy file (magic is not \\x93NUMPY)");
    if (have < 8) return bad(s, ET_ERR_FORMAT, have, "truncated: %zu bytes, the .npy preamble needs 10", have);
    unsigned major = b[6], minor = b[7];
    size_t lenbytes;
    if (major == 1) lenbytes = 2;
    else if (major == 2 || major == 3) lenbytes = 4;
    else return bad(s, ET_ERR_VERSION, 6, "format version %u.%u not supported (1.0, 2.0, 3.0 are)", major, minor);
    if (have < 8 + lenbytes)
        return bad(s, ET_ERR_FORMAT, have, "truncated: %zu bytes, the version %u preamble needs %zu",
                   have, major, 8 + lenbytes);
    size_t hl = lenbytes == 2 ? (size_t)b[8] | (size_t)b[9] << 8 : (size_t)rd_u32(b + 8);
    size_t off = 8 + lenbytes;
    if (hl > total - off)
        return bad(s, ET_ERR_FORMAT, 8, "header length %zu runs past the end (%zu bytes after the preamble)",
                   hl, total - off);
    *dict_off = off;
    *dict_len = hl;
    return ET_OK;
}

/* ---- the header: a Python dict literal such as
 * {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }          */

typedef struct cursor {
    const char *p;
    size_t n, i;
    size_t base;        /* file offset of p[0], for messages */
    const npy_src *src;
} cursor;

static size_t at(const cursor *c) { return c->base + c->i; }
static void skip_ws(cursor *c) {
    while (c->i < c->n && (c->p[c->i] == ' ' || c->p[c->i] == '\t' || c->p[c->i] == '\n' || c->p[c->i] == '\r'))
        c->i++;
}
static int peek(const cursor *c) { return c->i < c->n ? (unsigned char)c->p[c->i] : -1; }

static et_status expect(cursor *c, char ch, const char *where) {
    skip_ws(c);
    if (peek(c) != ch)
        return bad(c->src, ET_ERR_FORMAT, at(c), "header: expected '%c' %s", ch, where);
    c->i++;
    return ET_OK;
}

static et_status parse_str(cursor *c, char *out, size_t cap, const char *what) {
    skip_ws(c);
    int q = peek(c);
    if (q != '\'' && q != '"')
        return bad(c->src, ET_ERR_FORMAT, at(c), "header: expected a quoted string for %s", what);
    size_t start = ++c->i, len = 0;
    while (c->i < c->n && c->p[c->i] != q) {
        if (c->p[c->i] == '\\') return bad(c->src, ET_ERR_FORMAT, at(c), "header: escape in %s", what);
        c->i++;
    }
    if (c->i >= c->n) return bad(c->src, ET_ERR_FORMAT, c->base + start - 1, "header: unterminated string");
    len = c->i - start;
    if (len >= cap) return bad(c->src, ET_ERR_FORMAT, c->base + start, "header: %s is too long", what);
    memcpy(out, c->p + start, len);
    out[len] = '\0';
    c->i++;
    return ET_OK;
}

static et_status parse_descr(cursor *c, npy_hdr *h) {
    skip_ws(c);
    size_t off = at(c);
    if (peek(c) == '[' || peek(c) == '{')
        return bad(c->src, ET_ERR_UNSUPPORTED, off, "'descr': structured dtypes are not supported");
    char d[32];
    et_status st = parse_str(c, d, sizeof d, "'descr'");
    if (st != ET_OK) return st;
    static const struct { const char *name; npy_dtype dt; size_t size; } known[] = {
        {"<f4", DT_F4, 4}, {"<f8", DT_F8, 8}, {"|u1", DT_U1, 1}, {"<u1", DT_U1, 1},
        {"|i1", DT_I1, 1}, {"<i1", DT_I1, 1}, {"|b1", DT_B1, 1}, {"<i4", DT_I4, 4}, {"<i8", DT_I8, 8},
    };
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        if (strcmp(d, known[k].name) == 0) {
            h->dt = known[k].dt;
            h->itemsize = known[k].size;
            return ET_OK;
        }
    if (d[0] == '>')
        return bad(c->src, ET_ERR_UNSUPPORTED, off, "'descr': big-endian dtype '%s' is not supported", d);
    return bad(c->src, ET_ERR_UNSUPPORTED, off,
               "'descr': dtype '%s' is not supported (<f4, <f8, |u1, |i1, |b1, <i4, <i8 are)", d);
}

static et_status parse_bool(cursor *c, int *out) {
    skip_ws(c);
    size_t rest = c->n - c->i;
    if (rest >= 4 && memcmp(c->p + c->i, "True", 4) == 0) { c->i += 4; *out = 1; return ET_OK; }
    if (rest >= 5 && memcmp(c->p + c->i, "False", 5) == 0) { c->i += 5; *out = 0; return ET_OK; }
    return bad(c->src, ET_ERR_FORMAT, at(c), "header: 'fortran_order' must be True or False");
}

static et_status parse_shape(cursor *c, npy_hdr *h) {
    et_status st = expect(c, '(', "to open 'shape'");
    if (st != ET_OK) return st;
    h->ndim = 0;
    for (;;) {
        skip_ws(c);
        if (peek(c) == ')') { c->i++; break; }
        int ch = peek(c);
        if (ch < '0' || ch > '9')
            return bad(c->src, ET_ERR_FORMAT, at(c), "header: 'shape' entry %zu is not a non-negative integer", h->ndim);
        if (h->ndim == ET_NPY_MAX_DIMS)
            return bad(c->src, ET_ERR_UNSUPPORTED, at(c), "'shape' has more than %d dimensions", ET_NPY_MAX_DIMS);
        size_t v = 0, start = at(c);
        while ((ch = peek(c)) >= '0' && ch <= '9') {
            if (!et_mul_ok(v, 10, &v) || !et_add_ok(v, (size_t)(ch - '0'), &v))
                return bad(c->src, ET_ERR_OVERFLOW, start, "'shape' entry %zu does not fit in size_t", h->ndim);
            c->i++;
        }
        if (peek(c) == 'L') c->i++;  /* Python 2 long literal */
        h->dims[h->ndim++] = v;
        skip_ws(c);
        if (peek(c) == ',') { c->i++; continue; }
        if (peek(c) == ')') { c->i++; break; }
        return bad(c->src, ET_ERR_FORMAT, at(c), "header: expected ',' or ')' in 'shape'");
    }
    return ET_OK;
}

static et_status npy_dict(const npy_src *s, const char *p, size_t n, size_t base, npy_hdr *h) {
    cursor c = {p, n, 0, base, s};
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0, fortran = 0;
    et_status st = expect(&c, '{', "at the start of the header");
    if (st != ET_OK) return st;
    for (;;) {
        skip_ws(&c);
        if (peek(&c) == '}') { c.i++; break; }
        char key[32];
        size_t koff = at(&c);
        if ((st = parse_str(&c, key, sizeof key, "a key")) != ET_OK) return st;
        if ((st = expect(&c, ':', "after a key")) != ET_OK) return st;
        int *seen;
        if (strcmp(key, "descr") == 0) { seen = &seen_descr; st = parse_descr(&c, h); }
        else if (strcmp(key, "fortran_order") == 0) {
            seen = &seen_fortran;
            size_t voff = (skip_ws(&c), at(&c));
            if ((st = parse_bool(&c, &fortran)) == ET_OK && fortran)
                st = bad(s, ET_ERR_UNSUPPORTED, voff, "'fortran_order': True is not supported (save C-order arrays)");
        } else if (strcmp(key, "shape") == 0) { seen = &seen_shape; st = parse_shape(&c, h); }
        else return bad(s, ET_ERR_FORMAT, koff, "header: unknown key '%s'", key);
        if (st != ET_OK) return st;
        if (*seen) return bad(s, ET_ERR_FORMAT, koff, "header: key '%s' appears twice", key);
        *seen = 1;
        skip_ws(&c);
        if (peek(&c) == ',') { c.i++; continue; }
        if (peek(&c) == '}') { c.i++; break; }
        return bad(s, ET_ERR_FORMAT, at(&c), "header: expected ',' or '}' after '%s'", key);
    }
    skip_ws(&c);
    if (c.i != c.n) return bad(s, ET_ERR_FORMAT, at(&c), "header: unexpected text after the dict");
    const char *missing = !seen_descr ? "descr" : !seen_fortran ? "fortran_order" : !seen_shape ? "shape" : NULL;
    if (missing) return bad(s, ET_ERR_FORMAT, base, "header: key '%s' is missing", missing);
    return ET_OK;
}

/* Element count and data bytes; the data must lie within `total` bytes. */
static et_status npy_sizes(const npy_src *s, npy_hdr *h, size_t total) {
    size_t count = 1, fbytes;
    for (size_t d = 0; d < h->ndim; d++)
        if (!et_mul_ok(count, h->dims[d], &count))
            return bad(s, ET_ERR_OVERFLOW, 8, "'shape': element count overflows size_t (at dimension %zu)", d);
    if (!et_mul_ok(count, h->itemsize, &h->data_bytes) || !et_mul_ok(count, sizeof(float), &fbytes))
        return bad(s, ET_ERR_OVERFLOW, 8, "'shape': %zu elements overflow size_t in bytes", count);
    h->count = count;
    if (h->data_bytes > total - h->data_off)
        return bad(s, ET_ERR_FORMAT, h->data_off, "data truncated: %zu elements need %zu bytes, %zu are present",
                   count, h->data_bytes, total - h->data_off);
    return ET_OK;
}

static void npy_convert(npy_dtype dt, const unsigned char *b, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) {
        switch (dt) {
        case DT_F4: { uint32_t u = rd_u32(b + 4 * i); memcpy(&out[i], &u, 4); break; }
        case DT_F8: { uint64_t u = rd_u64(b + 8 * i); double v; memcpy(&v, &u, 8); out[i] = (float)v; break; }
        case DT_U1: out[i] = (float)b[i]; break;
        case DT_I1: out[i] = (float)(int8_t)b[i]; break;
        case DT_B1: out[i] = b[i] ? 1.0f : 0.0f; break;
        case DT_I4: out[i] = (float)(int32_t)rd_u32(b + 4 * i); break;
        case DT_I8: out[i] = (float)(int64_t)rd_u64(b + 8 * i); break;
        }
    }
}

static et_status npy_alloc(const npy_src *s, const npy_hdr *h, et_array *out) {
    out->data = malloc(h->count ? h->count * sizeof(float) : sizeof(float));
    if (!out->data) return bad(s, ET_ERR_NO_MEMORY, h->data_off, "out of memory for %zu floats", h->count);
    out->ndim = h->ndim;
    memcpy(out->dims, h->dims, sizeof out->dims);
    out->count = h->count;
    return ET_OK;
}

static et_status read_buf(const npy_src *s, const unsigned char *b, size_t len, et_array *out) {
    npy_hdr h;
    memset(&h, 0, sizeof h);
    size_t off, hl;
    et_status st = npy_preamble(s, b, len, len, &off, &hl);
    if (st == ET_OK) st = npy_dict(s, (const char *)b + off, hl, off, &h);
    if (st != ET_OK) return st;
    h.data_off = off + hl;
    if ((st = npy_sizes(s, &h, len)) != ET_OK || (st = npy_alloc(s, &h, out)) != ET_OK) return st;
    npy_convert(h.dt, b + h.data_off, h.count, out->data);
    return ET_OK;
}

et_status et_npy_read_buffer(const void *buf, size_t len, et_array *out, char *err, size_t err_len) {
    npy_src s = {"npy buffer", err, err_len};
    if (err && err_len) err[0] = '\0';
    if (!out) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "npy: out is NULL");
    memset(out, 0, sizeof *out);
    if (!buf && len) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "npy: buffer is NULL");
    et_status st = read_buf(&s, buf ? buf : "", len, out);
    if (st != ET_OK) et_array_free(out);
    return st;
}

/* Read exactly n bytes at file offset off, or fail naming the offset. */
static et_status read_at(const npy_src *s, FILE *f, size_t off, void *dst, size_t n) {
    if (n && fread(dst, 1, n, f) != n) {
        if (ferror(f)) return bad(s, ET_ERR_IO, off, "read failed: %s", strerror(errno));
        return bad(s, ET_ERR_FORMAT, off, "file ended while reading %zu bytes", n);
    }
    return ET_OK;
}

/* The data is read in chunks straight into the float array, so a large file
 * never needs a second full-size buffer. */
static et_status read_stream(const npy_src *s, FILE *f, size_t total, et_array *out) {
    unsigned char pre[12];
    size_t have = total < sizeof pre ? total : sizeof pre;
    et_status st = read_at(s, f, 0, pre, have);
    if (st != ET_OK) return st;
    size_t off, hl;
    if ((st = npy_preamble(s, pre, have, total, &off, &hl)) != ET_OK) return st;
    if (fseek(f, (long)off, SEEK_SET) != 0) return bad(s, ET_ERR_IO, off, "seek failed: %s", strerror(errno));
    char *dict = malloc(hl ? hl : 1);
    if (!dict) return bad(s, ET_ERR_NO_MEMORY, off, "out of memory for a %zu-byte header", hl);
    npy_hdr h;
    memset(&h, 0, sizeof h);
    if ((st = read_at(s, f, off, dict, hl)) == ET_OK) st = npy_dict(s, dict, hl, off, &h);
    free(dict);
    if (st != ET_OK) return st;
    h.data_off = off + hl;
    if ((st = npy_sizes(s, &h, total)) != ET_OK || (st = npy_alloc(s, &h, out)) != ET_OK) return st;
    unsigned char chunk[8192];
    size_t per = sizeof chunk / h.itemsize;
    for (size_t done = 0; done < h.count;) {
        size_t n = h.count - done < per ? h.count - done : per;
        if ((st = read_at(s, f, h.data_off + done * h.itemsize, chunk, n * h.itemsize)) != ET_OK) return st;
        npy_convert(h.dt, chunk, n, out->data + done);
        done += n;
    }
    return ET_OK;
}

et_status et_npy_read_file(const char *path, et_array *out, char *err, size_t err_len) {
    if (err && err_len) err[0] = '\0';
    if (!out) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "npy: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "npy: path is NULL");
    npy_src s = {path, err, err_len};
    FILE *f = fopen(path, "rb");
    if (!f) return et_fail(err, err_len, ET_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    et_status st = ET_OK;
    if (fstat(fileno(f), &sb) != 0)
        st = et_fail(err, err_len, ET_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = et_fail(err, err_len, ET_ERR_IO, "%s: not a regular file", path);
    else if ((unsigned long long)sb.st_size > (unsigned long long)(size_t)-1)
        st = et_fail(err, err_len, ET_ERR_OVERFLOW, "%s: file of %lld bytes is too large", path, (long long)sb.st_size);
    else
        st = read_stream(&s, f, (size_t)sb.st_size, out);
    fclose(f);
    if (st != ET_OK) et_array_free(out);
    return st;
}

void et_array_free(et_array *a) {
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* ---- writing */

/* Header for '<f4' C order, padded with spaces and ended by '\n' so the data
 * starts at a multiple of 64 bytes. Returns the preamble + header length. */
static size_t npy_header(char *buf, size_t cap, const size_t *dims, size_t ndim) {
    char shape[ET_NPY_MAX_DIMS * 24 + 4];
    size_t k = 0;
    shape[k++] = '(';
    for (size_t d = 0; d < ndim; d++)
        k += (size_t)snprintf(shape + k, sizeof shape - k, d ? ", %zu" : "%zu", dims[d]);
    if (ndim == 1) shape[k++] = ',';
    shape[k++] = ')';
    shape[k] = '\0';
    int n = snprintf(buf + 10, cap - 10, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shape);
    size_t total = 10 + (size_t)n + 1;
    total = (total + 63) / 64 * 64;
    memset(buf + 10 + n, ' ', total - 10 - (size_t)n - 1);
    buf[total - 1] = '\n';
    memcpy(buf, npy_magic, 6);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (char)((total - 10) & 0xff);
    buf[9] = (char)((total - 10) >> 8);
    return total;
}

static void write_data(et_atomic *w, const float *data, size_t count) {
    unsigned char chunk[4096];
    for (size_t done = 0; done < count;) {
        size_t n = count - done < sizeof chunk / 4 ? count - done : sizeof chunk / 4;
        for (size_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &data[done + i], 4);
            chunk[4 * i] = (unsigned char)u;
            chunk[4 * i + 1] = (unsigned char)(u >> 8);
            chunk[4 * i + 2] = (unsigned char)(u >> 16);
            chunk[4 * i + 3] = (unsigned char)(u >> 24);
        }
        et_atomic_write(w, chunk, 4 * n);
        done += n;
    }
}

et_status et_npy_write_file(const char *path, const float *data, const size_t *dims, size_t ndim) {
    if (!path || (ndim && !dims) || ndim > ET_NPY_MAX_DIMS) return ET_ERR_INVALID_ARG;
    size_t count = 1, bytes;
    for (size_t d = 0; d < ndim; d++)
        if (!et_mul_ok(count, dims[d], &count)) return ET_ERR_OVERFLOW;
    if (!et_mul_ok(count, sizeof(float), &bytes)) return ET_ERR_OVERFLOW;
    if (count && !data) return ET_ERR_INVALID_ARG;

    char hdr[512];
    size_t hlen = npy_header(hdr, sizeof hdr, dims, ndim);
    et_atomic w;
    if (et_atomic_begin(&w, path, NULL, NULL, 0) != ET_OK) return ET_ERR_IO;
    et_atomic_write(&w, hdr, hlen);
    write_data(&w, data, count);
    return et_atomic_commit(&w, NULL, 0);
}
