/* A bounds-checked reader and a growable writer for the protobuf wire format
 * (varint, 64-bit, length-delimited, 32-bit). No schema knowledge here: the
 * ONNX message layouts live in onnx_parse.c and onnx_export.c. */
#ifndef ET_ONNX_PB_H
#define ET_ONNX_PB_H

#include <stddef.h>
#include <stdint.h>
#include "edgetune.h"

enum { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

/* A view of one message's bytes; base is the start of the whole file, so
 * errors can give absolute byte offsets. */
typedef struct pb_reader {
    const uint8_t *p, *end, *base;
} pb_reader;

/* One decoded field. For PB_LEN, ptr/len view the payload; otherwise u holds
 * the raw bits (fixed32/fixed64 little endian, or the varint). */
typedef struct pb_field {
    uint32_t num;
    int wt;
    uint64_t u;
    const uint8_t *ptr;
    size_t len;
    size_t offset;  /* file offset of the field's tag */
} pb_field;

/* Returns 1 with *f filled, 0 at the end of the message, -1 on malformed data
 * (msg, if given, receives a description with the byte offset). */
int pb_next(pb_reader *r, pb_field *f, char *msg, size_t msg_len);
/* A reader over a length-delimited field's payload. */
pb_reader pb_sub(const pb_reader *r, const pb_field *f);
/* Decode one varint from [*p, end); 0 on truncation or > 10 bytes. */
int pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *out);

/* Growable output buffer; any failed append sets failed and later ones no-op. */
typedef struct pb_buf {
    uint8_t *data;
    size_t len, cap;
    int failed;
} pb_buf;

void pb_buf_free(pb_buf *b);
void pb_put_bytes(pb_buf *b, const void *p, size_t n);
void pb_put_varint(pb_buf *b, uint64_t v);
void pb_put_tag(pb_buf *b, uint32_t num, int wt);
void pb_put_int(pb_buf *b, uint32_t num, int64_t v);        /* varint field */
void pb_put_float(pb_buf *b, uint32_t num, float v);        /* fixed32 field */
void pb_put_str(pb_buf *b, uint32_t num, const char *s);    /* string field */
void pb_put_len(pb_buf *b, uint32_t num, const void *p, size_t n); /* bytes / submessage */
/* Append sub as a submessage field and free it. */
void pb_put_msg(pb_buf *b, uint32_t num, pb_buf *sub);

#endif /* ET_ONNX_PB_H */
