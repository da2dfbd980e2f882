/* libFuzzer target for the ONNX importer: et_onnx_import_buffer with default
 * and with unusual options, then whatever loaded is run, saved as .etm,
 * reloaded and exported back to ONNX. */
#include "fuzz/fuzz_common.h"

static void onnx_exercise(et_model *m) {
    et_fuzz_run_model(m, 1, 0, 0);
    size_t len = 0;
    ET_FUZZ_ASSERT(et_model_save_buffer(m, NULL, 0, &len) == ET_OK);
    unsigned char *b = malloc(len ? len : 1);
    if (b && et_model_save_buffer(m, b, len, &len) == ET_OK) {
        et_model *m2 = NULL;
        char err[256];
        /* an imported model is a valid model: its .etm must load */
        ET_FUZZ_ASSERT(et_model_load_buffer(b, len, &m2, err, sizeof err) == ET_OK);
        et_model_free(m2);
    }
    free(b);
    char err[256];
    size_t olen = 0;
    if (et_onnx_export_buffer(m, NULL, 0, &olen, err, sizeof err) == ET_OK && olen < ((size_t)16 << 20)) {
        unsigned char *o = malloc(olen ? olen : 1);
        if (o && et_onnx_export_buffer(m, o, olen, &olen, err, sizeof err) == ET_OK) {
            et_model *m3 = NULL;
            /* what we export we must import again */
            et_status st = et_onnx_import_buffer(o, olen, NULL, &m3, err, sizeof err);
            ET_FUZZ_ASSERT(st == ET_OK);
            et_model_free(m3);
        }
        free(o);
    }
}

static int et_fuzz_onnx(const uint8_t *d, size_t n) {
    char err[512];
    et_model *m = NULL;
    et_status st = et_onnx_import_buffer(d, n, NULL, &m, err, sizeof err);
    ET_FUZZ_ASSERT((st == ET_OK) == (m != NULL));
    if (m) {
        onnx_exercise(m);
        et_model_free(m);
    }
    /* the options change which paths run: keep BN, collect every error, and
     * pin a small input (a byte of the input picks it, so it is fuzzed too) */
    et_onnx_options o;
    memset(&o, 0, sizeof o);
    o.keep_bn = 1;
    o.all_errors = 1;
    if (n) {
        o.input_n = 1 + (d[n - 1] & 1);
        o.input_h = o.input_w = 1 + (d[n - 1] >> 4);
    }
    m = NULL;
    st = et_onnx_import_buffer(d, n, &o, &m, err, sizeof err);
    ET_FUZZ_ASSERT((st == ET_OK) == (m != NULL));
    if (m) {
        et_fuzz_run_model(m, 1, 0, 0);
        et_model_free(m);
    }
    return 0;
}

#ifndef ET_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return et_fuzz_onnx(d, n); }
#endif
