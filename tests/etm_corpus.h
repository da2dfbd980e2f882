/* Helpers for tests that corrupt .etm files on purpose (test_format.c,
 * test_static.c): where sections and records are in a file the writer
 * produced, and CRC repair so a patched file reaches the checks past them. */
#ifndef ET_TEST_ETM_CORPUS_H
#define ET_TEST_ETM_CORPUS_H

#include <stddef.h>
#include <stdint.h>
#include "format/crc32.h"
#include "format/etm.h"

static inline size_t sec_entry(const unsigned char *f, uint32_t type) {
    uint32_t n = et_le_u32(f + ET_ETM_H_SECTIONS);
    for (uint32_t i = 0; i < n && i < ET_ETM_MAX_SECTIONS; i++)
        if (et_le_u32(f + ET_ETM_TABLE_OFFSET + i * ET_ETM_ENTRY_SIZE) == type) return ET_ETM_TABLE_OFFSET + i * ET_ETM_ENTRY_SIZE;
    return 0;
}
static inline size_t sec_off(const unsigned char *f, uint32_t type) { return (size_t)et_le_u64(f + sec_entry(f, type) + ET_ETM_E_OFFSET); }
static inline size_t sec_size(const unsigned char *f, uint32_t type) { return (size_t)et_le_u64(f + sec_entry(f, type) + ET_ETM_E_SIZE); }
static inline size_t node_pos(const unsigned char *f, uint32_t i) {
    size_t g = sec_off(f, ET_ETM_SEC_GRAPH);
    size_t pos = g + ET_ETM_GRAPH_FIXED + 4 * (size_t)et_le_u32(f + g + ET_ETM_G_OUTPUTS);
    for (uint32_t k = 0; k < i; k++)
        pos += ET_ETM_NODE_FIXED + 4 * (size_t)et_le_u32(f + pos + ET_ETM_N_N_IN) + ET_ETM_PARAM_REC * (size_t)et_le_u32(f + pos + ET_ETM_N_N_PARAMS);
    return pos;
}
/* Byte of param k's record in node i. */
static inline size_t param_pos(const unsigned char *f, uint32_t i, uint32_t k) {
    size_t p = node_pos(f, i);
    return p + ET_ETM_NODE_FIXED + 4 * (size_t)et_le_u32(f + p + ET_ETM_N_N_IN) + ET_ETM_PARAM_REC * k;
}

/* Recompute every section CRC, the table CRC and the header CRC, so that a
 * patched file reaches the checks after the CRCs. */
static inline void fix_crcs(unsigned char *f, size_t len) {
    uint32_t n = et_le_u32(f + ET_ETM_H_SECTIONS);
    if (n > ET_ETM_MAX_SECTIONS || ET_ETM_TABLE_OFFSET + (size_t)n * ET_ETM_ENTRY_SIZE > len) n = 0;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char *e = f + ET_ETM_TABLE_OFFSET + i * ET_ETM_ENTRY_SIZE;
        uint64_t off = et_le_u64(e + ET_ETM_E_OFFSET), size = et_le_u64(e + ET_ETM_E_SIZE);
        if (off <= len && size <= len - off) et_put_u32(e + ET_ETM_E_CRC, et_crc32(f + off, (size_t)size));
    }
    if (n) et_put_u32(f + ET_ETM_H_TABLE_CRC, et_crc32(f + ET_ETM_TABLE_OFFSET, (size_t)n * ET_ETM_ENTRY_SIZE));
    et_put_u32(f + ET_ETM_H_CRC, et_crc32(f, ET_ETM_H_CRC));
}

#endif /* ET_TEST_ETM_CORPUS_H */
