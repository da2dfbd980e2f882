/* Writes the committed seed corpora under tests/fuzz/corpus/<target>/ (run
 * from the repo root: `make fuzz-seeds`). Seeds are small valid inputs that
 * reach deep into each parser; the fuzzer mutates from there. */
#define ET_FUZZ_REPLAY 1
#include <sys/stat.h>
#include "fuzz/fuzz_ckpt.c"

static int put(const char *dir, const char *name, const void *p, size_t n) {
    char path[256];
    snprintf(path, sizeof path, "tests/fuzz/corpus/%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); return 0; }
    int ok = fwrite(p, 1, n, f) == n;
    ok &= fclose(f) == 0;
    printf("%s: %zu bytes\n", path, n);
    return ok;
}

/* A model touching most ops: conv (grouped, strided, padded) + BN + act,
 * concat, pools, mul, add, flatten, reshape, linear, dropout, softmax. */
static et_model *seed_model(int variant) {
    unsigned s = 3 + (unsigned)variant;
    float w[8 * 3 * 3 * 3], g[8], be[8], mu[8], var[8], dw[8 * 9], fw[5 * 32], fb[5];
    for (size_t i = 0; i < sizeof w / sizeof *w; i++) w[i] = ckpt_rand(&s);
    for (int i = 0; i < 8; i++) { g[i] = 1.0f; be[i] = ckpt_rand(&s); mu[i] = 0.0f; var[i] = 1.0f; }
    for (int i = 0; i < 72; i++) dw[i] = ckpt_rand(&s);
    for (int i = 0; i < 160; i++) fw[i] = ckpt_rand(&s);
    for (int i = 0; i < 5; i++) fb[i] = ckpt_rand(&s);
    et_builder *b;
    if (et_builder_new(3, 8, 8, &b) != ET_OK) return NULL;
    et_conv2d_desc c1 = {8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, {ET_ACT_NONE, 0, 0}};
    et_conv2d_desc c2 = {8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 8, et_act_relu6()};
    et_pool_desc mp = {2, 2, 2, 2, 0, 0, 0, 0, 1, 0}, ap = {3, 3, 1, 1, 1, 1, 1, 1, 0, 1};
    int v, bn, a, d, m, p, mul, add, gp, fl, rs, fc, dr, sm, ok = 1;
    ok &= et_builder_conv2d(b, "conv", 0, &c1, w, NULL, &v) == ET_OK;
    ok &= et_builder_batchnorm(b, "bn", v, 1e-5f, g, be, mu, var, &bn) == ET_OK;
    ok &= et_builder_act(b, "act", bn, variant ? et_act_of(ET_ACT_HARDSWISH) : et_act_leaky_relu(0.1f), &a) == ET_OK;
    ok &= et_builder_conv2d(b, "dw", a, &c2, dw, fb, &d) == ET_OK;
    ok &= et_builder_maxpool(b, "mp", a, &mp, &m) == ET_OK;
    ok &= et_builder_avgpool(b, "ap", m, &ap, &p) == ET_OK;
    ok &= et_builder_mul(b, "gate", d, p, &mul) == ET_OK;
    ok &= et_builder_add(b, "res", mul, d, et_act_relu(), &add) == ET_OK;
    if (variant) {
        int ins[2] = {add, p}, cat;
        ok &= et_builder_concat(b, "cat", ins, 2, &cat) == ET_OK;
        ok &= et_builder_global_avgpool(b, "gap", cat, &gp) == ET_OK;
        ok &= et_builder_reshape(b, "rs", gp, 1, 1, 16, &rs) == ET_OK;
        ok &= et_builder_linear(b, "fc", rs, 5, fw, fb, et_act_none(), &fc) == ET_OK;
    } else {
        ok &= et_builder_flatten(b, "flat", add, &fl) == ET_OK;
        ok &= et_builder_reshape(b, "rs", fl, 1, 1, 128, &rs) == ET_OK;
        ok &= et_builder_global_avgpool(b, "gap", add, &gp) == ET_OK;
        ok &= et_builder_linear(b, "fc", gp, 5, fw, fb, et_act_none(), &fc) == ET_OK;
    }
    ok &= et_builder_dropout(b, "drop", fc, 0.2f, &dr) == ET_OK;
    ok &= et_builder_softmax(b, "prob", dr, &sm) == ET_OK;
    ok &= et_builder_output(b, sm) == ET_OK;
    if (!variant) ok &= et_builder_output(b, rs) == ET_OK;
    et_model *out = NULL;
    if (ok && et_builder_finish(b, &out) != ET_OK) printf("seed model %d: %s\n", variant, et_builder_error(b));
    et_builder_free(b);
    return out;
}

static int save_etm(const et_model *m, const char *name) {
    size_t n = 0;
    if (et_model_save_buffer(m, NULL, 0, &n) != ET_OK) return 0;
    unsigned char *b = malloc(n);
    int ok = b && et_model_save_buffer(m, b, n, &n) == ET_OK && put("etm", name, b, n);
    free(b);
    return ok;
}

static int save_onnx(const et_model *m, const char *name) {
    size_t n = 0;
    char err[256];
    if (et_onnx_export_buffer(m, NULL, 0, &n, err, sizeof err) != ET_OK) { printf("onnx: %s\n", err); return 0; }
    unsigned char *b = malloc(n);
    int ok = b && et_onnx_export_buffer(m, b, n, &n, err, sizeof err) == ET_OK && put("onnx", name, b, n);
    free(b);
    return ok;
}

/* .npy v1/v2 with the given dict and data bytes. */
static int save_npy(const char *name, int major, const char *dict, const void *data, size_t n) {
    unsigned char b[512];
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    if (major == 1) { b[8] = (unsigned char)dl; b[9] = 0; }
    else et_fuzz_put32(b + 8, (uint32_t)dl);
    memcpy(b + pre, dict, dl);
    memcpy(b + pre + dl, data, n);
    return put("npy", name, b, pre + dl + n);
}

static int save_cli(const char *name, const char *args) {
    return put("cli", name, args, strlen(args));
}


/* data target seeds: selector byte, then the file(s); pairs carry a
 * two-byte big-endian length of the first file */
static int save_data(const char *name, unsigned char sel, const void *a, size_t na, const void *b, size_t nb) {
    unsigned char buf[1024];
    size_t k = 0;
    buf[k++] = sel;
    if (b) { buf[k++] = (unsigned char)(na >> 8); buf[k++] = (unsigned char)na; }
    memcpy(buf + k, a, na);
    k += na;
    if (b) { memcpy(buf + k, b, nb); k += nb; }
    return put("data", name, buf, k);
}

static size_t npy_bytes(unsigned char *b, const char *dict, const void *data, size_t n) {
    size_t dl = strlen(dict);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)dl;
    b[9] = 0;
    memcpy(b + 10, dict, dl);
    memcpy(b + 10 + dl, data, n);
    return 10 + dl + n;
}

static int data_seeds(void) {
    unsigned char px[64], img[128], lbl[16], x[256], y[128];
    for (int i = 0; i < 64; i++) px[i] = (unsigned char)(i * 37);
    int ok = 1;
    size_t n = (size_t)snprintf((char *)img, sizeof img, "P6\n4 3\n255\n");
    memcpy(img + n, px, 36);
    ok &= save_data("ppm", 0, img, n + 36, NULL, 0);
    n = (size_t)snprintf((char *)img, sizeof img, "P5\n# grey\n3 2\n255\n");
    memcpy(img + n, px, 6);
    ok &= save_data("pgm", 1, img, n + 6, NULL, 0);
    static const unsigned char ih[16] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 4};
    static const unsigned char lh[8] = {0, 0, 8, 1, 0, 0, 0, 2};
    memcpy(img, ih, 16);
    memcpy(img + 16, px, 32);
    memcpy(lbl, lh, 8);
    lbl[8] = 1;
    lbl[9] = 0;
    ok &= save_data("idx_pair", 2, img, 48, lbl, 10);
    int64_t ids[2] = {0, 1};
    size_t nx = npy_bytes(x, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 4, 4, 1), }", px, 32);
    size_t ny = npy_bytes(y, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", ids, sizeof ids);
    ok &= save_data("npy_pair", 3, x, nx, y, ny);
    return ok;
}

int main(void) {
    int ok = 1;
    for (int v = 0; v < 2 && ok; v++) {
        et_model *m = seed_model(v), *f = NULL;
        ok = m != NULL;
        if (ok) ok = save_etm(m, v ? "ops_b.etm" : "ops_a.etm") && save_onnx(m, v ? "ops_b.onnx" : "ops_a.onnx");
        if (ok && et_model_fold(m, &f) == ET_OK) {
            ok = save_etm(f, v ? "folded_b.etm" : "folded_a.etm");
            et_model_free(f);
        }
        et_model_free(m);
    }
    float f4[6] = {1, -2, 3.5f, 0, 1e30f, -0.0f};
    double f8[3] = {1.0, -1e300, 0.5};
    unsigned char u1[12] = {0, 1, 2, 255, 4, 5, 6, 7, 8, 9, 10, 11};
    int64_t i8[2] = {-5, 1LL << 40};
    int32_t i4[4] = {1, -1, 7, 2147483647};
    ok &= save_npy("f4_2x3.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", f4, sizeof f4);
    ok &= save_npy("f8_3.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n", f8, sizeof f8);
    ok &= save_npy("u1_nhwc.npy", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 2, 3), }\n", u1, sizeof u1);
    ok &= save_npy("i8_v2.npy", 2, "{\"descr\": \"<i8\", \"fortran_order\": False, \"shape\": (2L,)}", i8, sizeof i8);
    ok &= save_npy("i4_scalar.npy", 3, "{'shape': (), 'descr': '<i4', 'fortran_order': False}", i4, 4);
    ok &= save_npy("b1_empty.npy", 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (0, 4), }", "", 0);
    (void)i4;
    if (ok && ckpt_setup()) ok = put("ckpt", "state.bin", ckpt_fx.ref, ckpt_fx.ref_len);
    else ok = 0;
    /* the seed must pass its own target */
    if (ok) ok = et_fuzz_ckpt(ckpt_fx.ref, ckpt_fx.ref_len) == 0 && et_fuzz_failures == 0;
    ckpt_teardown();
    ok &= save_cli("info", "info\nm.etm");
    ok &= save_cli("info_opts", "info\nm.etm\n--size\n8x7\n--batch\n3\n--threads=2");
    ok &= save_cli("run", "run\nm.etm\n--input\nx.npy\n--output\no.npy\n--top\n2\n--threads\n2");
    ok &= save_cli("run_batch", "run\nm.etm\n--input=x.npy\n--batch-size=1");
    ok &= save_cli("convert", "convert\nm.onnx\nc.etm\n--keep-bn");
    ok &= save_cli("convert_check", "convert\nm.onnx\n--check\n--input-shape\n1,3,6,6");
    ok &= save_cli("export", "export-onnx\nm.etm\ne.onnx");
    ok &= save_cli("help", "help\nrun");
    ok &= save_cli("cam", "cam\nm.etm\nx.ppm\n-o\no.ppm\n--class\n1\n--alpha=0.3\n--map\nmap.npy\n--method\ngrad-cam");
    ok &= data_seeds();
    printf(ok ? "seeds written\n" : "seed generation FAILED\n");
    return ok ? 0 : 1;
}
