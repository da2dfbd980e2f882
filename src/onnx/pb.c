/* Protobuf wire format: a reader that checks every length against the end of
 * its message before touching a byte, and a writer used by the ONNX export.
 * Nothing here knows ONNX field numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "onnx/pb.h"

int pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
    uint64_t v = 0;
    const uint8_t *q = *p;
    for (int shift = 0; shift < 70; shift += 7) {
        if (q >= end) return 0;
        uint8_t c = *q++;
        if (shift == 63 && (c & 0x7e)) return 0; /* bits beyond 64 */
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) { *p = q; *out = v; return 1; }
    }
    return 0;
}

static uint64_t load_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

int pb_next(pb_reader *r, pb_field *f, char *msg, size_t msg_len) {
    if (r->p >= r->end) return 0;
    size_t off = (size_t)(r->p - r->base);
    uint64_t tag;
    memset(f, 0, sizeof *f);
    f->offset = off;
    if (!pb_varint(&r->p, r->end, &tag)) {
        if (msg) snprintf(msg, msg_len, "byte %zu: truncated or overlong field tag", off);
        return -1;
    }
    f->num = (uint32_t)(tag >> 3);
    f->wt = (int)(tag & 7);
    if (f->num == 0 || tag >> 3 > 0x1fffffff) {
        if (msg) snprintf(msg, msg_len, "byte %zu: invalid field number %llu", off, (unsigned long long)(tag >> 3));
        return -1;
    }
    size_t left;
    switch (f->wt) {
    case PB_VARINT:
        if (!pb_varint(&r->p, r->end, &f->u)) {
            if (msg) snprintf(msg, msg_len, "byte %zu: field %u: truncated varint", off, f->num);
            return -1;
        }
        return 1;
    case PB_I64: case PB_I32: {
        int n = f->wt == PB_I64 ? 8 : 4;
        if ((size_t)(r->end - r->p) < (size_t)n) {
            if (msg) snprintf(msg, msg_len, "byte %zu: field %u: %d-byte value past the end of its message", off, f->num, n);
            return -1;
        }
        f->u = load_le(r->p, n);
        r->p += n;
        return 1;
    }
    case PB_LEN:
        if (!pb_varint(&r->p, r->end, &f->u)) {
            if (msg) snprintf(msg, msg_len, "byte %zu: field %u: truncated length", off, f->num);
            return -1;
        }
        left = (size_t)(r->end - r->p);
        if (f->u > left) {
            if (msg) snprintf(msg, msg_len, "byte %zu: field %u: length %llu runs past the end of its message (%zu bytes left)",
                              off, f->num, (unsigned long long)f->u, left);
            return -1;
        }
        f->ptr = r->p;
        f->len = (size_t)f->u;
        r->p += f->len;
        return 1;
    default:
        if (msg) snprintf(msg, msg_len, "byte %zu: field %u: unsupported wire type %d (groups or invalid)", off, f->num, f->wt);
        return -1;
    }
}

pb_reader pb_sub(const pb_reader *r, const pb_field *f) {
    pb_reader s;
    s.p = f->ptr;
    s.end = f->ptr + f->len;
    s.base = r->base;
    return s;
}

void pb_buf_free(pb_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

void pb_put_bytes(pb_buf *b, const void *p, size_t n) {
    if (b->failed || n == 0) return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) {
            if (cap > (size_t)-1 / 2) { b->failed = 1; return; }
            cap *= 2;
        }
        uint8_t *d = realloc(b->data, cap);
        if (!d) { b->failed = 1; return; }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void pb_put_varint(pb_buf *b, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        tmp[n++] = (uint8_t)(c | (v ? 0x80 : 0));
    } while (v);
    pb_put_bytes(b, tmp, n);
}

void pb_put_tag(pb_buf *b, uint32_t num, int wt) { pb_put_varint(b, (uint64_t)num << 3 | (uint64_t)wt); }

void pb_put_int(pb_buf *b, uint32_t num, int64_t v) {
    pb_put_tag(b, num, PB_VARINT);
    pb_put_varint(b, (uint64_t)v);
}

void pb_put_float(pb_buf *b, uint32_t num, float v) {
    uint32_t u;
    uint8_t le[4];
    memcpy(&u, &v, 4);
    for (int i = 0; i < 4; i++) le[i] = (uint8_t)(u >> (8 * i));
    pb_put_tag(b, num, PB_I32);
    pb_put_bytes(b, le, 4);
}

void pb_put_len(pb_buf *b, uint32_t num, const void *p, size_t n) {
    pb_put_tag(b, num, PB_LEN);
    pb_put_varint(b, n);
    pb_put_bytes(b, p, n);
}

void pb_put_str(pb_buf *b, uint32_t num, const char *s) { pb_put_len(b, num, s, strlen(s)); }

void pb_put_msg(pb_buf *b, uint32_t num, pb_buf *sub) {
    if (sub->failed) b->failed = 1;
    pb_put_len(b, num, sub->data, sub->len);
    pb_buf_free(sub);
}
