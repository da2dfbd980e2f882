/* The .etm byte layout shared by the reader and the writer: magic, version,
 * section types, record sizes, field offsets, limits and little-endian byte
 * helpers. docs/FORMAT.md is the prose twin of this file. No I/O here. */
#ifndef ET_FORMAT_ETM_H
#define ET_FORMAT_ETM_H

#include <stdint.h>
#include <string.h>
#include "model.h"

/* 0x89 catches 7-bit transfers, CR LF catches newline conversion, 0x1A stops
 * `type` on DOS, the final LF catches LF -> CR LF. */
#define ET_ETM_MAGIC "\x89" "ETM\r\n\x1a\n"
#define ET_ETM_MAGIC_LEN 8u
#define ET_ETM_VERSION 1u

/* File header: 64 bytes at offset 0. */
#define ET_ETM_HEADER_SIZE 64u
enum {
    ET_ETM_H_MAGIC = 0,        /* 8 bytes */
    ET_ETM_H_VERSION = 8,      /* u32 */
    ET_ETM_H_HEADER_SIZE = 12, /* u32, = 64 */
    ET_ETM_H_FILE_SIZE = 16,   /* u64 */
    ET_ETM_H_SECTIONS = 24,    /* u32 section count */
    ET_ETM_H_FLAGS = 28,       /* u32, = 0 */
    ET_ETM_H_TABLE_CRC = 32,   /* u32 CRC of the section table */
    ET_ETM_H_RESERVED = 36,    /* 24 bytes of zero */
    ET_ETM_H_CRC = 60          /* u32 CRC of bytes 0..59 */
};

/* Section table: section count entries of 32 bytes at offset 64. */
#define ET_ETM_TABLE_OFFSET 64u
#define ET_ETM_ENTRY_SIZE 32u
#define ET_ETM_MAX_SECTIONS 16u
enum {
    ET_ETM_E_TYPE = 0,      /* u32 */
    ET_ETM_E_FLAGS = 4,     /* u32, = 0 */
    ET_ETM_E_OFFSET = 8,    /* u64 from file start */
    ET_ETM_E_SIZE = 16,     /* u64 */
    ET_ETM_E_CRC = 24,      /* u32 CRC of the section's bytes */
    ET_ETM_E_RESERVED = 28  /* u32, = 0 */
};

/* Section types. A reader skips unknown types with the ancillary bit set and
 * rejects any other unknown type. */
#define ET_ETM_SEC_META 1u
#define ET_ETM_SEC_GRAPH 2u
#define ET_ETM_SEC_STRINGS 3u
#define ET_ETM_SEC_BLOB 4u
#define ET_ETM_SEC_ANCILLARY 0x80000000u

/* META: 152 fixed bytes, then label_count label records. */
#define ET_ETM_META_FIXED 152u
#define ET_ETM_STRREF_SIZE 8u /* u32 offset into STRINGS, u32 length */
enum {
    ET_ETM_M_LAYOUT = 0,       /* u32 et_layout */
    ET_ETM_M_NORM = 4,         /* u32 channels used in mean/std, <= 16 */
    ET_ETM_M_MEAN = 8,         /* 16 x f32 */
    ET_ETM_M_STD = 72,         /* 16 x f32 */
    ET_ETM_M_LABELS = 136,     /* u32 label count */
    ET_ETM_M_SOURCE = 140,     /* string ref (8 bytes) */
    ET_ETM_M_RESERVED = 148    /* u32, = 0 */
};

/* GRAPH: 32 fixed bytes, output ids (u32 each), then node records. */
#define ET_ETM_GRAPH_FIXED 32u
enum {
    ET_ETM_G_IN_C = 0, ET_ETM_G_IN_H = 4, ET_ETM_G_IN_W = 8,
    ET_ETM_G_NODES = 12, ET_ETM_G_OUTPUTS = 16,
    ET_ETM_G_RESERVED = 20     /* 12 bytes of zero */
};

/* Node record: 112 fixed bytes, n_in u32 input ids, n_params param records. */
#define ET_ETM_NODE_FIXED 112u
#define ET_ETM_PARAM_REC 16u   /* u64 element count, u64 byte offset in BLOB */
enum {
    ET_ETM_N_OP = 0, ET_ETM_N_ACT = 4, ET_ETM_N_ACT_A = 8, ET_ETM_N_ACT_B = 12,
    ET_ETM_N_NAME = 16,        /* string ref (8 bytes) */
    ET_ETM_N_OUT_C = 24, ET_ETM_N_KH = 28, ET_ETM_N_KW = 32, ET_ETM_N_SH = 36,
    ET_ETM_N_SW = 40, ET_ETM_N_DH = 44, ET_ETM_N_DW = 48, ET_ETM_N_GROUPS = 52,
    ET_ETM_N_PAD_T = 56, ET_ETM_N_PAD_L = 60, ET_ETM_N_PAD_B = 64, ET_ETM_N_PAD_R = 68,
    ET_ETM_N_CEIL = 72, ET_ETM_N_COUNT_PAD = 76,
    ET_ETM_N_RH = 80, ET_ETM_N_RW = 84, ET_ETM_N_RC = 88,
    ET_ETM_N_EPS = 92, ET_ETM_N_RATIO = 96,
    ET_ETM_N_N_IN = 100, ET_ETM_N_N_PARAMS = 104, ET_ETM_N_RESERVED = 108
};

/* The 17 u32 node attributes, stored from ET_ETM_N_OUT_C on in this order
 * (out_c, kh, kw, sh, sw, dh, dw, groups, pad_t, pad_l, pad_b, pad_r,
 * ceil_mode, count_include_pad, rh, rw, rc), with the largest value the
 * reader accepts. The writer refuses what the reader would refuse. */
#define ET_ETM_N_ATTRS 17u
typedef struct et_etm_attr { const char *name; uint32_t max; } et_etm_attr;
static inline et_etm_attr et_etm_attr_rule(unsigned a) {
    static const et_etm_attr rules[ET_ETM_N_ATTRS] = {
        {"out_c", 1u << 24}, {"kh", ET_MAX_KERNEL}, {"kw", ET_MAX_KERNEL}, {"sh", ET_MAX_KERNEL},
        {"sw", ET_MAX_KERNEL}, {"dh", ET_MAX_KERNEL}, {"dw", ET_MAX_KERNEL}, {"groups", ET_MAX_DIM},
        {"pad_t", ET_MAX_PAD}, {"pad_l", ET_MAX_PAD}, {"pad_b", ET_MAX_PAD}, {"pad_r", ET_MAX_PAD},
        {"ceil_mode", 1}, {"count_include_pad", 1},
        {"rh", 1u << 30}, {"rw", 1u << 30}, {"rc", 1u << 30},
    };
    return rules[a];
}

/* BLOB: f32 weights; the section and every param start 64-byte aligned. */
#define ET_ETM_BLOB_ALIGN 64u

/* Limits beyond those in model.h. */
#define ET_ETM_MAX_LABEL_LEN 4095u
#define ET_ETM_MAX_SOURCE_LEN (1u << 20)

/* Byte-wise little-endian access: correct on any host and any alignment. */
static inline uint32_t et_le_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t et_le_u64(const unsigned char *p) {
    return (uint64_t)et_le_u32(p) | (uint64_t)et_le_u32(p + 4) << 32;
}
static inline float et_le_f32(const unsigned char *p) {
    uint32_t u = et_le_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static inline void et_put_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}
static inline void et_put_u64(unsigned char *p, uint64_t v) {
    et_put_u32(p, (uint32_t)v);
    et_put_u32(p + 4, (uint32_t)(v >> 32));
}
static inline void et_put_f32(unsigned char *p, float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    et_put_u32(p, u);
}

/* 1 when the host stores integers (and, we assume, IEEE-754 floats) little-endian. */
static inline int et_host_is_le(void) {
    const uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static inline const char *et_etm_section_name(uint32_t type) {
    switch (type) {
    case ET_ETM_SEC_META: return "META";
    case ET_ETM_SEC_GRAPH: return "GRAPH";
    case ET_ETM_SEC_STRINGS: return "STRINGS";
    case ET_ETM_SEC_BLOB: return "BLOB";
    default: return (type & ET_ETM_SEC_ANCILLARY) ? "ancillary" : "unknown";
    }
}

#endif /* ET_FORMAT_ETM_H */
