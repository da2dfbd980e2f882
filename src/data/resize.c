/* Sample preprocessing for batches: crop box and flip (augment draws), the
 * bilinear resize (PyTorch align_corners=False, antialias=False), scaling,
 * fastai-style lighting and normalisation. Pure functions, no allocation. */
#include <math.h>
#include <string.h>
#include "data.h"

void et_batch_config_default(et_batch_config *cfg) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->center_crop = 1;
    cfg->crop = ET_CROP_RANDOM_RESIZED;
    cfg->scale_lo = 0.35f;
    cfg->scale_hi = 1.0f;
    cfg->ratio_lo = 3.0f / 4.0f;
    cfg->ratio_hi = 4.0f / 3.0f;
    cfg->pad = 4;
    cfg->flip_p = 0.5f;
    cfg->max_lighting = 0.2f;
    cfg->lighting_p = 0.75f;
}

/* A crop box in source pixels; it may reach outside the image (pad crops),
 * where pixels read as zero. */
typedef struct box { long y0, x0; size_t h, w; } box;

static size_t round_pos(double v) { return v < 0.5 ? 0 : (size_t)(v + 0.5); }

/* torchvision's RandomResizedCrop.get_params: ten tries at an area and a
 * log-uniform aspect ratio, then a centred crop clamped to the ratio range. */
static box random_resized(et_rng *r, size_t sh, size_t sw, const et_batch_config *cfg) {
    double area = (double)sh * (double)sw;
    double lr0 = log((double)cfg->ratio_lo), lr1 = log((double)cfg->ratio_hi);
    for (int t = 0; t < 10; t++) {
        double ta = area * ((double)cfg->scale_lo + et_rng_unit(r) * (double)(cfg->scale_hi - cfg->scale_lo));
        double ar = exp(lr0 + et_rng_unit(r) * (lr1 - lr0));
        size_t w = round_pos(sqrt(ta * ar)), h = round_pos(sqrt(ta / ar));
        if (w > 0 && w <= sw && h > 0 && h <= sh) {
            box b = {(long)et_rng_below(r, sh - h + 1), 0, h, w};
            b.x0 = (long)et_rng_below(r, sw - w + 1);
            return b;
        }
    }
    double in_ratio = (double)sw / (double)sh;
    size_t w = sw, h = sh;
    if (in_ratio < (double)cfg->ratio_lo) h = round_pos((double)w / (double)cfg->ratio_lo);
    else if (in_ratio > (double)cfg->ratio_hi) w = round_pos((double)h * (double)cfg->ratio_hi);
    if (h < 1) h = 1;
    if (w < 1) w = 1;
    if (h > sh) h = sh;
    if (w > sw) w = sw;
    box b = {(long)((sh - h) / 2), (long)((sw - w) / 2), h, w};
    return b;
}

/* The largest centred box with the output's aspect ratio (fastai's
 * Resize(method='crop') on the validation set). */
static box centre_box(size_t sh, size_t sw, size_t oh, size_t ow) {
    size_t h = sh, w = sw;
    if ((double)sw * (double)oh > (double)sh * (double)ow) w = round_pos((double)sh * (double)ow / (double)oh);
    else h = round_pos((double)sw * (double)oh / (double)ow);
    if (h < 1) h = 1;
    if (w < 1) w = 1;
    box b = {(long)((sh - h) / 2), (long)((sw - w) / 2), h, w};
    return b;
}

static et_status check_cfg(const et_batch_config *cfg, size_t c) {
    if (cfg->norm_channels) {
        if (cfg->norm_channels != c || c > ET_MAX_CHANNELS_META) return ET_ERR_SHAPE;
        for (size_t k = 0; k < c; k++)
            if (!(cfg->std[k] != 0.0f) || !isfinite(cfg->std[k]) || !isfinite(cfg->mean[k])) return ET_ERR_INVALID_ARG;
    }
    if (!cfg->augment) return ET_OK;
    if (cfg->crop == ET_CROP_RANDOM_RESIZED &&
        !(cfg->scale_lo > 0.0f && cfg->scale_lo <= cfg->scale_hi && cfg->scale_hi <= 1.0f &&
          cfg->ratio_lo > 0.0f && cfg->ratio_lo <= cfg->ratio_hi && isfinite(cfg->ratio_hi)))
        return ET_ERR_INVALID_ARG;
    if (cfg->crop != ET_CROP_NONE && cfg->crop != ET_CROP_RANDOM_RESIZED && cfg->crop != ET_CROP_PAD)
        return ET_ERR_INVALID_ARG;
    if (cfg->crop == ET_CROP_PAD && cfg->pad > 1u << 20) return ET_ERR_INVALID_ARG;
    if (!(cfg->max_lighting >= 0.0f && cfg->max_lighting < 1.0f) || !(cfg->flip_p >= 0.0f && cfg->flip_p <= 1.0f) ||
        !(cfg->lighting_p >= 0.0f && cfg->lighting_p <= 1.0f))
        return ET_ERR_INVALID_ARG;
    return ET_OK;
}

/* One source element at (y, x) of the box, zero outside the image. */
static inline float px(const void *src, et_sample_kind kind, size_t sh, size_t sw, size_t c,
                       long y, long x, size_t k) {
    if (y < 0 || x < 0 || (size_t)y >= sh || (size_t)x >= sw) return 0.0f;
    size_t i = ((size_t)y * sw + (size_t)x) * c + k;
    return kind == ET_SAMPLE_U8 ? (float)((const uint8_t *)src)[i] : ((const float *)src)[i];
}

/* Source index and weights for output coordinate o of a resize from n to m
 * (PyTorch's area_pixel_compute_source_index, align_corners=False). */
static inline void taps(size_t o, float scale, size_t n, size_t *i0, size_t *i1, float *l0, float *l1) {
    float s = scale * ((float)o + 0.5f) - 0.5f;
    if (s < 0.0f) s = 0.0f;
    size_t i = (size_t)s;
    if (i > n - 1) i = n - 1;
    *i0 = i;
    *i1 = i + (i < n - 1);
    *l1 = s - (float)i;
    *l0 = 1.0f - *l1;
}

static inline float logit(float v) {
    if (v < 1e-7f) v = 1e-7f;
    if (v > 1.0f - 1e-7f) v = 1.0f - 1e-7f;
    return logf(v / (1.0f - v));
}

et_status et_sample_preprocess(const void *src, et_sample_kind kind, size_t sh, size_t sw, size_t c,
                               const et_batch_config *cfg, size_t oh, size_t ow,
                               uint64_t epoch, uint64_t key, float *out) {
    if (!sh || !sw || !c || !oh || !ow) return ET_ERR_INVALID_ARG;
    et_status st = check_cfg(cfg, c);
    if (st != ET_OK) return st;
    box b = {0, 0, sh, sw};
    int flip = 0, bright = 0, contrast = 0;
    float badd = 0.0f, cmul = 1.0f;
    if (cfg->augment) {
        /* Draws in a fixed order from a stream keyed by (seed, epoch, sample). */
        et_rng r = {et_rng_key(ET_RNG_AUGMENT, cfg->seed, epoch, key), 0};
        if (cfg->crop == ET_CROP_RANDOM_RESIZED) b = random_resized(&r, sh, sw, cfg);
        else if (cfg->crop == ET_CROP_PAD) {
            b.y0 = (long)et_rng_below(&r, 2 * (uint64_t)cfg->pad + 1) - (long)cfg->pad;
            b.x0 = (long)et_rng_below(&r, 2 * (uint64_t)cfg->pad + 1) - (long)cfg->pad;
        } else if (cfg->center_crop) b = centre_box(sh, sw, oh, ow);
        flip = et_rng_unit(&r) < (double)cfg->flip_p;
        double m = (double)cfg->max_lighting;
        if (et_rng_unit(&r) < (double)cfg->lighting_p) {
            bright = 1;
            badd = logit((float)(0.5 * (1.0 - m) + et_rng_unit(&r) * m));
        }
        if (et_rng_unit(&r) < (double)cfg->lighting_p) {
            contrast = 1;
            double lo = log(1.0 - m);
            cmul = (float)exp(lo + et_rng_unit(&r) * (-2.0 * lo));
        }
        if (kind != ET_SAMPLE_U8) bright = contrast = 0;  /* lighting is defined on [0, 1] pixels */
    } else if (cfg->center_crop) {
        b = centre_box(sh, sw, oh, ow);
    }
    float sy = (float)b.h / (float)oh, sx = (float)b.w / (float)ow;
    int norm = cfg->norm_channels != 0;
    for (size_t oy = 0; oy < oh; oy++) {
        size_t y0, y1;
        float ly0, ly1;
        taps(oy, sy, b.h, &y0, &y1, &ly0, &ly1);
        long Y0 = b.y0 + (long)y0, Y1 = b.y0 + (long)y1;
        for (size_t ox = 0; ox < ow; ox++) {
            size_t x0, x1;
            float lx0, lx1;
            /* A flip after the resize equals sampling the mirrored column,
             * since the align_corners=False grid is symmetric. */
            taps(flip ? ow - 1 - ox : ox, sx, b.w, &x0, &x1, &lx0, &lx1);
            long X0 = b.x0 + (long)x0, X1 = b.x0 + (long)x1;
            float *o = out + (oy * ow + ox) * c;
            for (size_t k = 0; k < c; k++) {
                float v = ly0 * (lx0 * px(src, kind, sh, sw, c, Y0, X0, k) + lx1 * px(src, kind, sh, sw, c, Y0, X1, k)) +
                          ly1 * (lx0 * px(src, kind, sh, sw, c, Y1, X0, k) + lx1 * px(src, kind, sh, sw, c, Y1, X1, k));
                if (kind == ET_SAMPLE_U8) v /= 255.0f;
                if (bright || contrast) {
                    /* fastai composes lighting in logit space: brightness
                     * adds logit(b), contrast then multiplies. */
                    float l = (logit(v) + badd) * cmul;
                    v = 1.0f / (1.0f + expf(-l));
                }
                if (norm) v = (v - cfg->mean[k]) / cfg->std[k];
                o[k] = v;
            }
        }
    }
    return ET_OK;
}

et_status et_image_preprocess(const et_image *img, const et_batch_config *cfg, uint64_t epoch,
                              uint64_t key, float *out) {
    if (!img || !img->data || !cfg || !out || !cfg->height || !cfg->width) return ET_ERR_INVALID_ARG;
    return et_sample_preprocess(img->data, ET_SAMPLE_U8, img->height, img->width, img->channels, cfg,
                                cfg->height, cfg->width, epoch, key, out);
}
