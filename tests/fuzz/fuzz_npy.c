/* libFuzzer target for the .npy reader: et_npy_read_buffer on the raw bytes,
 * then the same bytes through et_npy_read_file (the streaming path), whose
 * result must match the buffer path exactly. */
#include <unistd.h>
#include "fuzz/fuzz_common.h"

static char npy_path[64];

/* One scratch file per process: libFuzzer runs inputs one at a time. */
static const char *npy_scratch(void) {
    if (!npy_path[0]) snprintf(npy_path, sizeof npy_path, "/tmp/et_fuzz_npy_%ld.npy", (long)getpid());
    return npy_path;
}

static int et_fuzz_npy(const uint8_t *d, size_t n) {
    et_array a, f;
    char err[256], err2[256];
    et_status st = et_npy_read_buffer(d, n, &a, err, sizeof err);
    if (st == ET_OK) {
        ET_FUZZ_ASSERT(a.ndim <= ET_NPY_MAX_DIMS);
        size_t count = 1;
        for (size_t i = 0; i < a.ndim; i++) count *= a.dims[i];
        ET_FUZZ_ASSERT(count == a.count && (a.data || !a.count));
        volatile float sink = 0.0f;  /* touch every element ASan should see */
        for (size_t i = 0; i < a.count; i++) sink += a.data[i];
        (void)sink;
    } else {
        ET_FUZZ_ASSERT(a.data == NULL && err[0] != 0);
    }
    FILE *fp = fopen(npy_scratch(), "wb");
    if (fp) {
        size_t w = fwrite(d, 1, n, fp);
        fclose(fp);
        if (w == n) {
            et_status st2 = et_npy_read_file(npy_scratch(), &f, err2, sizeof err2);
            ET_FUZZ_ASSERT(st2 == st);
            if (st == ET_OK && st2 == ET_OK) {
                ET_FUZZ_ASSERT(f.ndim == a.ndim && f.count == a.count &&
                               memcmp(f.dims, a.dims, sizeof a.dims) == 0 &&
                               (!a.count || memcmp(f.data, a.data, a.count * sizeof(float)) == 0));
            }
            et_array_free(&f);
        }
        remove(npy_scratch());
    }
    et_array_free(&a);
    return 0;
}

#ifndef ET_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return et_fuzz_npy(d, n); }
#endif
