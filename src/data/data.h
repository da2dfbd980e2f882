/* Internal to src/data: the et_dataset layout, image decoders by format, the
 * counter-based RNG used by shuffles and augmentation, and small helpers.
 * Nothing here prints or keeps global state; the public API is edgetune.h. */
#ifndef ET_DATA_H
#define ET_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "model.h"

struct et_dataset {
    /* A view (subset/split) borrows the root's storage: root != NULL, and
     * map[i] is the index of sample i in the root. The root has map NULL. */
    const struct et_dataset *root;
    size_t *map;

    size_t count, classes, channels;
    int multi_label;
    et_sample_kind kind;
    size_t height, width;          /* common size, 0 if sizes vary */
    size_t max_h, max_w;

    /* Root only. Sample i is at bytes off[i] of data, h[i] x w[i] x channels
     * elements (uint8 or float per kind). */
    unsigned char *data;
    size_t *off, *h, *w;
    int32_t *labels;               /* [count] single-label */
    uint8_t *mlabels;              /* [count][classes] multi-label */
    char **class_names;            /* [classes] or NULL */
    char **names;                  /* per-sample source (folders) or NULL */
    char *source;                  /* file the samples came from (IDX/.npy) */
};

/* Allocate a root dataset with zeroed fields and the per-sample arrays for
 * n samples (off/h/w; labels or mlabels per multi_label). */
et_status et_ds_new(size_t n, size_t classes, int multi_label, et_dataset **out);
char *et_ds_strdup(const char *s);

/* Decoded uint8 HWC image. Each decoder reads a whole file's bytes `b`,
 * writes an owned image with the file's channels (1 or 3; PNG/JPEG alpha is
 * dropped) and names `who` and the byte offset in errors. */
et_status et_pnm_decode(const unsigned char *b, size_t len, const char *who, et_image *out,
                        char *err, size_t err_len);
et_status et_png_decode(const unsigned char *b, size_t len, const char *who, et_image *out,
                        char *err, size_t err_len);
et_status et_jpeg_decode(const unsigned char *b, size_t len, const char *who, et_image *out,
                         char *err, size_t err_len);
/* Encoders: a whole file in a new buffer (*buf, *len), named `who` in errors.
 * img has 1 or 3 channels. */
et_status et_pnm_encode(const et_image *img, int grey, unsigned char **buf, size_t *len, const char *who,
                        char *err, size_t err_len);
et_status et_png_encode(const et_image *img, unsigned char **buf, size_t *len, const char *who,
                        char *err, size_t err_len);
/* Whole-file read (regular files only), size checked against size_t. */
et_status et_read_all(const char *path, unsigned char **buf, size_t *len, char *err, size_t err_len);
/* Convert img in place to `channels` (1 or 3): grey is replicated, colour
 * becomes ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B, rounded). */
et_status et_image_convert(et_image *img, size_t channels, const char *who, char *err, size_t err_len);

/* Decoded PNG/JPEG images above this are refused: a tiny compressed file
 * can claim gigapixels, and the board would rather fail than swap. */
#define ET_IMAGE_MAX_BYTES ((size_t)1 << 30)

/* h x w x c bytes with overflow checking. */
static inline int et_img_bytes(size_t h, size_t w, size_t c, size_t elem, size_t *out) {
    size_t t;
    return et_mul_ok(h, w, &t) && et_mul_ok(t, c, &t) && et_mul_ok(t, elem, out);
}

/* ---- counter-based random numbers: every draw is a pure function of a key
 * and a counter, so results never depend on call order or thread count. */
static inline uint64_t et_mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
/* Streams are separated by domain so a shuffle and an augmentation with the
 * same seed never share draws. */
enum { ET_RNG_SHUFFLE = 1, ET_RNG_SPLIT = 2, ET_RNG_AUGMENT = 3 };
static inline uint64_t et_rng_key(uint64_t domain, uint64_t seed, uint64_t epoch, uint64_t index) {
    return et_mix64(et_mix64(et_mix64(et_mix64(domain) ^ seed) ^ epoch) ^ index);
}
typedef struct et_rng { uint64_t key, ctr; } et_rng;
static inline uint64_t et_rng_u64(et_rng *r) { return et_mix64(r->key ^ et_mix64(++r->ctr)); }
/* Uniform in [0, 1) with 53 bits. */
static inline double et_rng_unit(et_rng *r) { return (double)(et_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }
/* Uniform integer in [0, m), m > 0, without modulo bias. */
static inline uint64_t et_rng_below(et_rng *r, uint64_t m) {
    uint64_t lim = UINT64_MAX - UINT64_MAX % m, v;
    do v = et_rng_u64(r); while (v >= lim);
    return v % m;
}
/* Fisher-Yates permutation of 0..n-1 from a key. */
void et_perm_from_key(uint64_t key, size_t n, size_t *perm);

/* Preprocess one HWC sample (uint8 or float) into out [oh][ow][c]. `key` is
 * the sample's augmentation key (its index in the loaded dataset). */
et_status et_sample_preprocess(const void *src, et_sample_kind kind, size_t sh, size_t sw, size_t c,
                               const et_batch_config *cfg, size_t oh, size_t ow,
                               uint64_t epoch, uint64_t key, float *out);

#endif /* ET_DATA_H */
