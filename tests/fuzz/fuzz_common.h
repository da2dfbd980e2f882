/* Shared by the libFuzzer targets in tests/fuzz and by tests/test_regressions.c,
 * which #includes the targets with ET_FUZZ_REPLAY defined so committed crash
 * inputs replay through exactly the code the fuzzer ran. */
#ifndef ET_FUZZ_COMMON_H
#define ET_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "edgetune.h"

/* An invariant the library promises (a round trip reproduces its input, a
 * loaded model plans). The fuzzer must stop on it like on a crash, so it
 * aborts; the replay test counts it as a failure and carries on. */
#ifdef ET_FUZZ_REPLAY
static int et_fuzz_failures;
#define ET_FUZZ_ASSERT(c) do { if (!(c)) { et_fuzz_failures++; \
    printf("    %s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #c); } } while (0)
#else
#define ET_FUZZ_ASSERT(c) do { if (!(c)) { \
    fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #c); abort(); } } while (0)
#endif

/* Runs on a fuzzed model are bounded so that one input costs milliseconds:
 * the point is to reach every kernel with odd shapes, not to do real work. */
#define ET_FUZZ_ARENA_CAP ((size_t)8 << 20)
#define ET_FUZZ_MAC_CAP ((uint64_t)4 << 20)

/* Plan, prepare and run m once on zeros (when small enough) with cfg. Every
 * status is acceptable; only crashes, leaks and UB are bugs. */
static inline void et_fuzz_run_model(et_model *m, size_t batch, size_t h, size_t w) {
    if (et_model_infer_shapes(m, batch, h, w) != ET_OK) return;
    uint64_t macs = 0;
    for (size_t i = 0; i < et_model_node_count(m); i++) {
        et_node_info ni;
        if (et_model_node_info(m, i, &ni) != ET_OK) return;
        macs += ni.macs;
    }
    if (macs > ET_FUZZ_MAC_CAP) return;
    et_config cfg = {batch, h, w, 1};
    et_plan p;
    if (et_model_plan(m, &cfg, &p) != ET_OK || p.total > ET_FUZZ_ARENA_CAP) return;
    void *arena = calloc(1, p.total ? p.total : 1);
    if (!arena) return;
    et_session *s = NULL;
    size_t needed = 0;
    /* ET_ALIGN bytes short is too small for any arena address: it must be
     * refused with a status, never overrun */
    if (p.total >= ET_ALIGN)
        ET_FUZZ_ASSERT(et_session_prepare(m, &cfg, arena, p.total - ET_ALIGN, &s, &needed) == ET_ERR_ARENA_TOO_SMALL);
    if (et_session_prepare(m, &cfg, arena, p.total, &s, &needed) == ET_OK) {
        (void)et_session_run(s);
        et_tensor t;
        for (size_t i = 0; i < et_session_output_count(s); i++) (void)et_session_output(s, i, &t);
    }
    free(arena);
}

/* Load-time CRC32 (IEEE, reflected), so targets can repair checksums of
 * mutated inputs and reach the parsers behind them. Independent of the
 * library's copy on purpose: a harness must not share the code it checks. */
static inline uint32_t et_fuzz_crc32(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}
static inline uint32_t et_fuzz_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t et_fuzz_u64(const unsigned char *p) {
    return (uint64_t)et_fuzz_u32(p) | (uint64_t)et_fuzz_u32(p + 4) << 32;
}
static inline void et_fuzz_put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline void et_fuzz_put64(unsigned char *p, uint64_t v) {
    et_fuzz_put32(p, (uint32_t)v);
    et_fuzz_put32(p + 4, (uint32_t)(v >> 32));
}

#endif /* ET_FUZZ_COMMON_H */
