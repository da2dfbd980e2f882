/* Tests for src/data/npy.c: round trips, dtype conversion and one expected
 * status per kind of malformed file. Headers are written by hand here from
 * the NumPy format spec so the tests never need Python. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "edgetune.h"
#include "harness.h"

static char tmpdir[64];

/* Rotates through a few buffers so several paths can be alive at once. */
static const char *tmp_path(const char *name) {
    static char buf[4][160];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

/* Build a .npy image in buf: version major, the dict text, then data bytes.
 * Returns the total length. */
static size_t mk_npy(unsigned char *buf, int major, const char *dict, const void *data, size_t nbytes) {
    size_t dl = strlen(dict), pre = major == 1 ? 10 : 12;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    if (major == 1) { buf[8] = (unsigned char)dl; buf[9] = (unsigned char)(dl >> 8); }
    else { buf[8] = (unsigned char)dl; buf[9] = (unsigned char)(dl >> 8); buf[10] = 0; buf[11] = 0; }
    memcpy(buf + pre, dict, dl);
    if (nbytes) memcpy(buf + pre + dl, data, nbytes);
    return pre + dl + nbytes;
}

static et_status read_dict(const char *dict, const void *data, size_t nbytes, et_array *a, char *err) {
    static unsigned char buf[4096];
    size_t n = mk_npy(buf, 1, dict, data, nbytes);
    return et_npy_read_buffer(buf, n, a, err, 256);
}

static int contains(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

static void test_round_trip(void) {
    float x[2 * 3 * 5];
    t_fill(x, 30, 7);
    x[0] = -0.0f;
    x[1] = 1e-40f; /* subnormal survives */
    size_t dims[3] = {2, 3, 5};
    const char *p = tmp_path("rt.npy");
    CHECK_OK(et_npy_write_file(p, x, dims, 3));
    CHECK(access(tmp_path("rt.npy.tmp"), F_OK) != 0);
    et_array a;
    char err[256];
    CHECK_OK(et_npy_read_file(p, &a, err, sizeof err));
    CHECK(a.ndim == 3 && a.dims[0] == 2 && a.dims[1] == 3 && a.dims[2] == 5 && a.count == 30);
    CHECK(memcmp(a.data, x, sizeof x) == 0);
    et_array_free(&a);
    CHECK(a.data == NULL && a.count == 0);

    /* the data starts at a multiple of 64 and the header ends in '\n' */
    FILE *f = fopen(p, "rb");
    CHECK(f != NULL);
    unsigned char head[256];
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    CHECK(got >= 10 && head[6] == 1 && head[7] == 0);
    size_t hl = (size_t)head[8] | (size_t)head[9] << 8, off = 10 + hl;
    CHECK(off % 64 == 0 && off <= got);
    CHECK(head[off - 1] == '\n');
    CHECK(memcmp(head + 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 5), }", 62) == 0);
}

static void test_round_trip_1d_and_scalar(void) {
    float v[4] = {1, 2, 3, 4};
    size_t d1[1] = {4};
    et_array a;
    char err[256];
    CHECK_OK(et_npy_write_file(tmp_path("v.npy"), v, d1, 1));
    CHECK_OK(et_npy_read_file(tmp_path("v.npy"), &a, err, sizeof err));
    CHECK(a.ndim == 1 && a.dims[0] == 4 && a.data[3] == 4.0f);
    et_array_free(&a);

    float s = 2.5f;
    CHECK_OK(et_npy_write_file(tmp_path("s.npy"), &s, NULL, 0));
    CHECK_OK(et_npy_read_file(tmp_path("s.npy"), &a, err, sizeof err));
    CHECK(a.ndim == 0 && a.count == 1 && a.data[0] == 2.5f);
    et_array_free(&a);

    size_t d0[2] = {0, 7};
    CHECK_OK(et_npy_write_file(tmp_path("e.npy"), NULL, d0, 2));
    CHECK_OK(et_npy_read_file(tmp_path("e.npy"), &a, err, sizeof err));
    CHECK(a.ndim == 2 && a.count == 0 && a.dims[1] == 7);
    et_array_free(&a);
}

static void test_overwrite(void) {
    float v[2] = {1, 2}, w[3] = {5, 6, 7};
    size_t d2[1] = {2}, d3[1] = {3};
    et_array a;
    char err[256];
    CHECK_OK(et_npy_write_file(tmp_path("o.npy"), v, d2, 1));
    CHECK_OK(et_npy_write_file(tmp_path("o.npy"), w, d3, 1));
    CHECK_OK(et_npy_read_file(tmp_path("o.npy"), &a, err, sizeof err));
    CHECK(a.count == 3 && a.data[2] == 7.0f);
    et_array_free(&a);
}

static void test_write_errors(void) {
    float v[1] = {0};
    size_t d[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK_ST(et_npy_write_file(tmp_path("x.npy"), v, d, 9), ET_ERR_INVALID_ARG);
    size_t big[2] = {(size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4)};
    CHECK_ST(et_npy_write_file(tmp_path("x.npy"), v, big, 2), ET_ERR_OVERFLOW);
    CHECK_ST(et_npy_write_file(tmp_path("no/such/dir/x.npy"), v, d, 1), ET_ERR_IO);
    CHECK_ST(et_npy_write_file(NULL, v, d, 1), ET_ERR_INVALID_ARG);
}

static void test_dtype_f8(void) {
    unsigned char d[3 * 8];
    double v[3] = {1.5, -2.25, 1e300};
    for (int i = 0; i < 3; i++) {
        uint64_t u;
        memcpy(&u, &v[i], 8);
        for (int b = 0; b < 8; b++) d[8 * i + b] = (unsigned char)(u >> (8 * b));
    }
    et_array a;
    char err[256];
    CHECK_OK(read_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", d, sizeof d, &a, err));
    CHECK(a.count == 3 && a.data[0] == 1.5f && a.data[1] == -2.25f && isinf(a.data[2]));
    et_array_free(&a);
}

static void test_dtype_u1_i1_b1(void) {
    unsigned char d[4] = {0, 1, 128, 255};
    et_array a;
    char err[256];
    CHECK_OK(read_dict("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", d, 4, &a, err));
    CHECK(a.ndim == 2 && a.data[0] == 0.0f && a.data[2] == 128.0f && a.data[3] == 255.0f);
    et_array_free(&a);
    CHECK_OK(read_dict("{'descr': '|i1', 'fortran_order': False, 'shape': (4,), }", d, 4, &a, err));
    CHECK(a.data[1] == 1.0f && a.data[2] == -128.0f && a.data[3] == -1.0f);
    et_array_free(&a);
    CHECK_OK(read_dict("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", d, 4, &a, err));
    CHECK(a.data[0] == 0.0f && a.data[1] == 1.0f && a.data[3] == 1.0f);
    et_array_free(&a);
}

static void test_dtype_i4_i8(void) {
    unsigned char d4[8] = {0xff, 0xff, 0xff, 0xff, 0x10, 0x27, 0, 0};  /* -1, 10000 */
    et_array a;
    char err[256];
    CHECK_OK(read_dict("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", d4, 8, &a, err));
    CHECK(a.data[0] == -1.0f && a.data[1] == 10000.0f);
    et_array_free(&a);
    unsigned char d8[16] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0};
    CHECK_OK(read_dict("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", d8, 16, &a, err));
    CHECK(a.data[0] == -2.0f && a.data[1] == 4294967296.0f);
    et_array_free(&a);
}

static void test_header_variants(void) {
    float v[2] = {3, 4};
    et_array a;
    char err[256];
    static unsigned char buf[512];
    /* key order, double quotes, no trailing comma, Python 2 longs, v2 and v3 */
    CHECK_OK(read_dict("{\"shape\": (1L, 2L), \"fortran_order\": False, \"descr\": \"<f4\"}\n", v, 8, &a, err));
    CHECK(a.ndim == 2 && a.dims[1] == 2 && a.data[1] == 4.0f);
    et_array_free(&a);
    size_t n = mk_npy(buf, 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }   \n", v, 8);
    CHECK_OK(et_npy_read_buffer(buf, n, &a, err, sizeof err));
    CHECK(a.count == 2 && a.data[0] == 3.0f);
    et_array_free(&a);
    n = mk_npy(buf, 3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", v, 8);
    CHECK_OK(et_npy_read_buffer(buf, n, &a, err, sizeof err));
    et_array_free(&a);
    /* trailing bytes after the data are ignored, as NumPy does */
    n = mk_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", v, 8);
    CHECK_OK(et_npy_read_buffer(buf, n, &a, err, sizeof err));
    CHECK(a.count == 1);
    et_array_free(&a);
}

/* Each malformed case: the status, and a message naming the byte. */
#define BAD(dict_, bytes_, nbytes_, want_) do { et_array a_; char e_[256]; \
    CHECK_ST(read_dict(dict_, bytes_, nbytes_, &a_, e_), want_); \
    CHECKF(contains(e_, "npy buffer: byte "), "message: %s", e_); \
    CHECK(a_.data == NULL); } while (0)

static void test_bad_magic(void) {
    unsigned char buf[256];
    float v = 0;
    size_t n = mk_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", &v, 4);
    buf[1] = 'X';
    et_array a;
    char err[256];
    CHECK_ST(et_npy_read_buffer(buf, n, &a, err, sizeof err), ET_ERR_FORMAT);
    CHECK(contains(err, "byte 0") && contains(err, "magic"));
    CHECK_ST(et_npy_read_buffer("PK\3\4", 4, &a, err, sizeof err), ET_ERR_FORMAT);
    CHECK_ST(et_npy_read_buffer("", 0, &a, err, sizeof err), ET_ERR_FORMAT);
}

static void test_bad_version(void) {
    unsigned char buf[256];
    size_t n = mk_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", "abcd", 4);
    buf[6] = 4;
    et_array a;
    char err[256];
    CHECK_ST(et_npy_read_buffer(buf, n, &a, err, sizeof err), ET_ERR_VERSION);
    CHECK(contains(err, "byte 6"));
}

static void test_truncated_header(void) {
    unsigned char buf[256];
    size_t n = mk_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", "abcd", 4);
    et_array a;
    char err[256];
    CHECK_ST(et_npy_read_buffer(buf, 9, &a, err, sizeof err), ET_ERR_FORMAT);
    CHECK(contains(err, "truncated"));
    CHECK_ST(et_npy_read_buffer(buf, 30, &a, err, sizeof err), ET_ERR_FORMAT);
    /* every prefix of a valid file fails cleanly */
    for (size_t k = 0; k < n; k++) {
        unsigned char *exact = malloc(k ? k : 1); /* so a sanitizer sees any overread */
        CHECK(exact != NULL);
        memcpy(exact, buf, k);
        et_status st = et_npy_read_buffer(exact, k, &a, err, sizeof err);
        free(exact);
        CHECKF(st == ET_ERR_FORMAT, "prefix %zu: %s", k, et_status_str(st));
        CHECK(a.data == NULL);
    }
    /* a dict cut short inside its header length */
    BAD("{'descr': '<f4', 'fortran_order': False, 'shape': (2", NULL, 0, ET_ERR_FORMAT);
    BAD("{'descr': '<f4", NULL, 0, ET_ERR_FORMAT);
}

static void test_truncated_data(void) {
    float v[3] = {1, 2, 3};
    et_array a;
    char err[256];
    CHECK_ST(read_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", v, 12, &a, err), ET_ERR_FORMAT);
    CHECK(contains(err, "truncated") && contains(err, "16 bytes"));
}

static void test_header_len_past_end(void) {
    unsigned char buf[256];
    size_t n = mk_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", "abcd", 4);
    buf[8] = 0xff;
    buf[9] = 0xff;
    et_array a;
    char err[256];
    CHECK_ST(et_npy_read_buffer(buf, n, &a, err, sizeof err), ET_ERR_FORMAT);
    CHECK(contains(err, "byte 8") && contains(err, "65535"));
    n = mk_npy(buf, 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", "abcd", 4);
    buf[11] = 0xff;
    CHECK_ST(et_npy_read_buffer(buf, n, &a, err, sizeof err), ET_ERR_FORMAT);
}

static void test_fortran_order(void) {
    float v[4] = {0};
    BAD("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", v, 16, ET_ERR_UNSUPPORTED);
    BAD("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 2), }", v, 16, ET_ERR_FORMAT);
}

static void test_big_endian(void) {
    float v[4] = {0};
    BAD("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", v, 16, ET_ERR_UNSUPPORTED);
    et_array a;
    char err[256];
    CHECK_ST(read_dict("{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }", v, 16, &a, err), ET_ERR_UNSUPPORTED);
    CHECK(contains(err, "big-endian"));
}

static void test_unknown_dtype(void) {
    float v[4] = {0};
    BAD("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", v, 16, ET_ERR_UNSUPPORTED);
    BAD("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", v, 16, ET_ERR_UNSUPPORTED);
    BAD("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", v, 16, ET_ERR_UNSUPPORTED);
    BAD("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", v, 16, ET_ERR_UNSUPPORTED);
}

static void test_absurd_dims(void) {
    float v[4] = {0};
    /* each fits in size_t, the product does not */
    BAD("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }",
        v, 16, ET_ERR_OVERFLOW);
    /* the element count fits, the byte count does not */
    BAD("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }", v, 16, ET_ERR_OVERFLOW);
    /* one entry does not fit at all */
    BAD("{'descr': '<f4', 'fortran_order': False, 'shape': (123456789012345678901234567890,), }",
        v, 16, ET_ERR_OVERFLOW);
    /* large but representable: the data is simply missing */
    BAD("{'descr': '|u1', 'fortran_order': False, 'shape': (10000, 10000), }", v, 16, ET_ERR_FORMAT);
    BAD("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", v, 16, ET_ERR_FORMAT);
}

static void test_too_many_dims(void) {
    float v[1] = {0};
    BAD("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }", v, 4, ET_ERR_UNSUPPORTED);
    et_array a;
    char err[256];
    CHECK_OK(read_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1), }", v, 4, &a, err));
    CHECK(a.ndim == 8);
    et_array_free(&a);
}

static void test_missing_and_bad_keys(void) {
    float v[2] = {0};
    BAD("{'descr': '<f4', 'fortran_order': False, }", v, 8, ET_ERR_FORMAT);
    BAD("{'fortran_order': False, 'shape': (2,), }", v, 8, ET_ERR_FORMAT);
    BAD("{'descr': '<f4', 'shape': (2,), }", v, 8, ET_ERR_FORMAT);
    BAD("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", v, 8, ET_ERR_FORMAT);
    BAD("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", v, 8, ET_ERR_FORMAT);
    BAD("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk", v, 8, ET_ERR_FORMAT);
    BAD("['descr', '<f4']", v, 8, ET_ERR_FORMAT);
    BAD("{'descr': '<f4' 'fortran_order': False, 'shape': (2,), }", v, 8, ET_ERR_FORMAT);
    BAD("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", v, 8, ET_ERR_FORMAT);
    BAD("{'descr: '<f4', 'fortran_order': False, 'shape': (2,), }", v, 8, ET_ERR_FORMAT);
    char err[256];
    et_array a;
    CHECK_ST(read_dict("{'descr': '<f4', 'fortran_order': False, }", v, 8, &a, err), ET_ERR_FORMAT);
    CHECK(contains(err, "'shape' is missing"));
}

static void test_file_errors(void) {
    et_array a;
    char err[256];
    const char *p = tmp_path("missing.npy");
    CHECK_ST(et_npy_read_file(p, &a, err, sizeof err), ET_ERR_IO);
    CHECK(contains(err, p));
    CHECK_ST(et_npy_read_file(tmpdir, &a, err, sizeof err), ET_ERR_IO);

    /* a file whose data is cut short names the file and the byte */
    float x[8];
    t_fill(x, 8, 3);
    size_t d[1] = {8};
    const char *q = tmp_path("cut.npy");
    CHECK_OK(et_npy_write_file(q, x, d, 1));
    /* a 1-D header is 68 bytes unpadded, so the data starts at 128 */
    CHECK(truncate(q, 128 + 20) == 0);
    CHECK_ST(et_npy_read_file(q, &a, err, sizeof err), ET_ERR_FORMAT);
    CHECKF(contains(err, q) && contains(err, "byte 128"), "message: %s", err);
    CHECK(a.data == NULL);
    CHECK(truncate(q, 40) == 0);
    CHECK_ST(et_npy_read_file(q, &a, err, sizeof err), ET_ERR_FORMAT);
    CHECK(truncate(q, 5) == 0);
    CHECK_ST(et_npy_read_file(q, &a, err, sizeof err), ET_ERR_FORMAT);
    CHECK_ST(et_npy_read_file(NULL, &a, err, sizeof err), ET_ERR_INVALID_ARG);
    CHECK_ST(et_npy_read_buffer(NULL, 4, &a, err, sizeof err), ET_ERR_INVALID_ARG);
}

static void test_large_file_chunks(void) {
    /* more elements than one read chunk, with a tail */
    size_t n = 3 * 2048 + 17;
    float *x = malloc(n * sizeof *x);
    CHECK(x != NULL);
    t_fill(x, n, 11);
    size_t d[2] = {1, n};
    et_array a;
    char err[256];
    et_status st = et_npy_write_file(tmp_path("big.npy"), x, d, 2);
    if (st == ET_OK) st = et_npy_read_file(tmp_path("big.npy"), &a, err, sizeof err);
    int same = st == ET_OK && a.count == n && memcmp(a.data, x, n * sizeof *x) == 0;
    free(x);
    CHECK_OK(st);
    et_array_free(&a);
    CHECK(same);
}

static void test_corruption_never_crashes(void) {
    float x[6] = {1, 2, 3, 4, 5, 6};
    static unsigned char good[256];
    size_t n = mk_npy(good, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", x, 24);
    unsigned char *buf = malloc(n); /* exact size, so a sanitizer sees any overread */
    CHECK(buf != NULL);
    unsigned s = 99;
    for (int it = 0; it < 20000; it++) {
        memcpy(buf, good, n);
        int flips = 1 + (int)(t_rand(&s) % 4);
        for (int f = 0; f < flips; f++) buf[t_rand(&s) % n] = (unsigned char)t_rand(&s);
        et_array a;
        char err[64];
        et_status st = et_npy_read_buffer(buf, n, &a, err, sizeof err);
        int sane = st == ET_OK ? a.count <= 24 && a.data != NULL : a.data == NULL && err[0] != '\0';
        et_array_free(&a);
        if (!sane) free(buf);
        CHECKF(sane, "iteration %d: %s", it, et_status_str(st));
    }
    free(buf);
}

int main(void) {
    strcpy(tmpdir, "/tmp/et_npy_XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    RUN(test_round_trip);
    RUN(test_round_trip_1d_and_scalar);
    RUN(test_overwrite);
    RUN(test_write_errors);
    RUN(test_dtype_f8);
    RUN(test_dtype_u1_i1_b1);
    RUN(test_dtype_i4_i8);
    RUN(test_header_variants);
    RUN(test_bad_magic);
    RUN(test_bad_version);
    RUN(test_truncated_header);
    RUN(test_truncated_data);
    RUN(test_header_len_past_end);
    RUN(test_fortran_order);
    RUN(test_big_endian);
    RUN(test_unknown_dtype);
    RUN(test_absurd_dims);
    RUN(test_too_many_dims);
    RUN(test_missing_and_bad_keys);
    RUN(test_file_errors);
    RUN(test_large_file_chunks);
    RUN(test_corruption_never_crashes);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) printf("could not remove %s\n", tmpdir);
    return t_summary(__FILE__);
}
