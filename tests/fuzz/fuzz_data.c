/* libFuzzer target for the data readers: images (PPM/PGM, PNG and JPEG when
 * built), IDX image+label pairs and .npy X/Y datasets, each through a
 * scratch file, then preprocessed into a batch like training would. */
#include <unistd.h>
#include "fuzz/fuzz_common.h"

#define DATA_OUT 8   /* every batch is resized to 8x8: cheap, still resamples */

static char data_dir[64];

static const char *data_path(const char *name) {
    static char p[2][128];
    static int k;
    if (!data_dir[0]) snprintf(data_dir, sizeof data_dir, "/tmp/et_fuzz_data_%ld", (long)getpid());
    k ^= 1;
    snprintf(p[k], sizeof p[k], "%s_%s", data_dir, name);
    return p[k];
}

static int data_put(const char *path, const uint8_t *d, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(d, 1, n, f) == n;
    return (fclose(f) == 0) & ok;
}

static void data_image(const uint8_t *d, size_t n, size_t channels) {
    const char *p = data_path("img");
    if (!data_put(p, d, n)) return;
    et_image img;
    char err[256];
    if (et_image_read_file(p, channels, &img, err, sizeof err) == ET_OK) {
        ET_FUZZ_ASSERT(img.data && img.height && img.width && (img.channels == 1 || img.channels == 3));
        et_batch_config cfg;
        et_batch_config_default(&cfg);
        cfg.height = cfg.width = DATA_OUT;
        float out[DATA_OUT * DATA_OUT * 3];
        (void)et_image_preprocess(&img, &cfg, 0, 1, out);
        cfg.augment = 1;
        cfg.seed = 5;
        (void)et_image_preprocess(&img, &cfg, 1, 2, out);
        et_image_free(&img);
    } else {
        ET_FUZZ_ASSERT(img.data == NULL);
    }
    remove(p);
}

/* A loaded dataset: info, labels, samples and one augmented batch. */
static void data_use(et_dataset *ds) {
    et_dataset_info info;
    ET_FUZZ_ASSERT(et_dataset_get_info(ds, &info) == ET_OK);
    if (!info.count) return;
    int32_t label;
    et_sample s;
    (void)et_dataset_label(ds, info.count - 1, &label);
    (void)et_dataset_sample(ds, 0, &s);
    (void)et_dataset_class_name(ds, 0);
    if (info.channels > 16 || info.classes > 4096) return;
    et_batch_config cfg;
    et_batch_config_default(&cfg);
    cfg.height = cfg.width = DATA_OUT;
    cfg.augment = 1;
    size_t idx[2] = {0, info.count - 1};
    float *x = malloc(2 * DATA_OUT * DATA_OUT * info.channels * sizeof *x + 1);
    float *t = malloc(2 * (info.classes + 1) * sizeof *t);
    if (x && t) (void)et_dataset_batch(ds, &cfg, 0, idx, 2, x, t);
    free(x);
    free(t);
}

/* Two files from one input: the first two bytes say where to split. */
static void data_pair(const uint8_t *d, size_t n, int npy) {
    if (n < 2) return;
    size_t k = ((size_t)d[0] << 8 | d[1]) % (n - 1);
    const char *a = data_path(npy ? "x.npy" : "img.idx"), *b = data_path(npy ? "y.npy" : "lbl.idx");
    char pa[128], pb[128];
    snprintf(pa, sizeof pa, "%s", a);
    snprintf(pb, sizeof pb, "%s", b);
    if (!data_put(pa, d + 2, k) || !data_put(pb, d + 2 + k, n - 2 - k)) return;
    et_dataset *ds = NULL;
    char err[256];
    et_status st = npy ? et_dataset_load_npy(pa, pb, NULL, &ds, err, sizeof err)
                       : et_dataset_load_idx(pa, pb, NULL, &ds, err, sizeof err);
    ET_FUZZ_ASSERT((st == ET_OK) == (ds != NULL));
    if (ds) {
        data_use(ds);
        et_dataset *tr = NULL, *va = NULL;
        if (et_dataset_split(ds, 0.5f, 3, &tr, &va, err, sizeof err) == ET_OK) {
            if (tr) data_use(tr);
            if (va) data_use(va);
        }
        et_dataset_free(tr);
        et_dataset_free(va);
        et_dataset_free(ds);
    }
    remove(pa);
    remove(pb);
}

/* The first byte picks the reader, so one corpus covers all of them. */
static int et_fuzz_data(const uint8_t *d, size_t n) {
    if (!n) return 0;
    switch (d[0] % 4) {
    case 0: data_image(d + 1, n - 1, 0); break;
    case 1: data_image(d + 1, n - 1, d[0] & 4 ? 1 : 3); break;
    case 2: data_pair(d + 1, n - 1, 0); break;
    default: data_pair(d + 1, n - 1, 1); break;
    }
    return 0;
}

#ifndef ET_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return et_fuzz_data(d, n); }
#endif
