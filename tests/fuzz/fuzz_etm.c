/* libFuzzer target for the .etm loader: each input is loaded as it is and
 * once more with its CRCs and file size repaired (so mutations reach the
 * section parsers), then planned, run, folded and saved back. */
#include "fuzz/fuzz_common.h"

/* Fixed layout facts from docs/FORMAT.md, restated here rather than taken
 * from src/format/etm.h so the harness does not trust the reader's header. */
#define ETMF_HEADER 64u
#define ETMF_ENTRY 32u
#define ETMF_MAX_SECTIONS 16u

/* Everything a user may do with a model that loaded from untrusted bytes. */
static void etm_exercise(et_model *m) {
    et_metadata md;
    ET_FUZZ_ASSERT(et_model_metadata(m, &md) == ET_OK);
    (void)et_model_param_count(m);
    et_shape in;
    (void)et_model_input_shape(m, &in);
    et_fuzz_run_model(m, 1, 0, 0);
    et_fuzz_run_model(m, 2, 5, 3);   /* odd sizes reach the kernels' tails */

    /* a loaded model must save, and the saved bytes must load and save the same */
    size_t len = 0;
    ET_FUZZ_ASSERT(et_model_save_buffer(m, NULL, 0, &len) == ET_OK);
    unsigned char *a = malloc(len ? len : 1), *b = malloc(len ? len : 1);
    if (a && b && et_model_save_buffer(m, a, len, &len) == ET_OK) {
        et_model *m2 = NULL;
        char err[256];
        et_status st = et_model_load_buffer(a, len, &m2, err, sizeof err);
        ET_FUZZ_ASSERT(st == ET_OK);
        size_t len2 = 0;
        if (st == ET_OK) {
            ET_FUZZ_ASSERT(et_model_save_buffer(m2, b, len, &len2) == ET_OK && len2 == len && memcmp(a, b, len) == 0);
            et_model_free(m2);
        }
        if (len >= 2) ET_FUZZ_ASSERT(et_model_save_buffer(m, a, len - 1, &len2) != ET_OK);
    }
    free(a);
    free(b);

    et_model *f = NULL;
    if (et_model_fold(m, &f) == ET_OK) {
        et_fuzz_run_model(f, 1, 0, 0);
        et_model_free(f);
    }
    size_t olen = 0;
    char err[256];
    (void)et_onnx_export_buffer(m, NULL, 0, &olen, err, sizeof err);
    et_train_config tc;
    et_train_config_default(&tc);
    tc.batch = 2;
    et_plan tp;
    (void)et_model_plan_train(m, &tc, &tp);
}

static void etm_load(const unsigned char *d, size_t n) {
    et_model *m = NULL;
    char err[256];
    et_status st = et_model_load_buffer(d, n, &m, err, sizeof err);
    ET_FUZZ_ASSERT((st == ET_OK) == (m != NULL));
    if (st != ET_OK) {
        ET_FUZZ_ASSERT(memchr(err, 0, sizeof err) != NULL && err[0] != 0);
        return;
    }
    etm_exercise(m);
    et_model_free(m);
}

/* Recompute every checksum a mutation broke: section CRCs, table CRC, file
 * size and header CRC, in that order (each covers the ones before it). */
static void etm_repair(unsigned char *b, size_t n) {
    if (n < ETMF_HEADER) return;
    et_fuzz_put64(b + 16, (uint64_t)n);
    uint32_t ns = et_fuzz_u32(b + 24);
    if (ns > ETMF_MAX_SECTIONS || ETMF_HEADER + (size_t)ns * ETMF_ENTRY > n) ns = 0;
    for (uint32_t i = 0; i < ns; i++) {
        unsigned char *e = b + ETMF_HEADER + (size_t)i * ETMF_ENTRY;
        uint64_t off = et_fuzz_u64(e + 8), sz = et_fuzz_u64(e + 16);
        if (off <= n && sz <= n - off) et_fuzz_put32(e + 24, et_fuzz_crc32(b + off, (size_t)sz));
    }
    et_fuzz_put32(b + 32, et_fuzz_crc32(b + ETMF_HEADER, (size_t)ns * ETMF_ENTRY));
    et_fuzz_put32(b + 60, et_fuzz_crc32(b, 60));
}

static int et_fuzz_etm(const uint8_t *d, size_t n) {
    etm_load(d, n);
    if (n >= ETMF_HEADER) {
        /* a 64-aligned copy: the loader then uses the weights in place */
        unsigned char *c = aligned_alloc(64, (n + 63) / 64 * 64);
        if (!c) return 0;
        memcpy(c, d, n);
        etm_repair(c, n);
        etm_load(c, n);
        /* and one unaligned copy, which the loader must copy itself */
        unsigned char *u = malloc(n + 1);
        if (u) {
            memcpy(u + 1, c, n);
            etm_load(u + 1, n);
        }
        free(u);
        free(c);
    }
    return 0;
}

#ifndef ET_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return et_fuzz_etm(d, n); }
#endif
