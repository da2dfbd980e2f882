/* Drawing class activation maps: the bilinear upsampling of a map to the
 * image size, a jet-like colour scale and the alpha blend over the image.
 * Pure pixel arithmetic; computing the maps lives in src/train/cam.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "data.h"

/* Source cell and weights of output o in a resize from n to m cells,
 * align_corners=False with clamped edges (the grid et_dataset_batch uses). */
static void tap(size_t o, size_t n, size_t m, size_t *i0, size_t *i1, double *l1) {
    double s = ((double)o + 0.5) * (double)n / (double)m - 0.5;
    if (s < 0.0) s = 0.0;
    size_t i = (size_t)s;
    if (i > n - 1) i = n - 1;
    *i0 = i;
    *i1 = i + (i < n - 1);
    *l1 = s - (double)i;
}

et_status et_cam_upsample(const float *map, size_t fh, size_t fw, float *out, size_t h, size_t w) {
    if (!map || !out || !fh || !fw || !h || !w) return ET_ERR_INVALID_ARG;
    size_t cells;
    if (!et_mul_ok(h, w, &cells)) return ET_ERR_OVERFLOW;
    for (size_t y = 0; y < h; y++) {
        size_t y0, y1, x0, x1;
        double ly, lx;
        tap(y, fh, h, &y0, &y1, &ly);
        for (size_t x = 0; x < w; x++) {
            tap(x, fw, w, &x0, &x1, &lx);
            double top = (1.0 - lx) * map[y0 * fw + x0] + lx * map[y0 * fw + x1];
            double bot = (1.0 - lx) * map[y1 * fw + x0] + lx * map[y1 * fw + x1];
            out[y * w + x] = (float)((1.0 - ly) * top + ly * bot);
        }
    }
    return ET_OK;
}

static double ramp(double v) { return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v; }

/* Each channel is a tent over the scale, offset by a quarter: blue peaks at
 * 1/4, green at 1/2, red at 3/4, and the ends fade to half brightness. */
void et_cam_color(float v, uint8_t rgb[3]) {
    double t = v == v ? ramp((double)v) : 0.0;
    double r = ramp(1.5 - fabs(4.0 * t - 3.0)), g = ramp(1.5 - fabs(4.0 * t - 2.0)), b = ramp(1.5 - fabs(4.0 * t - 1.0));
    rgb[0] = (uint8_t)lrint(255.0 * r);
    rgb[1] = (uint8_t)lrint(255.0 * g);
    rgb[2] = (uint8_t)lrint(255.0 * b);
}

et_status et_cam_overlay(const et_image *img, const float *heat, float alpha, et_image *out) {
    if (out) memset(out, 0, sizeof *out);
    if (!img || !img->data || !heat || !out || !img->height || !img->width) return ET_ERR_INVALID_ARG;
    if (img->channels != 1 && img->channels != 3) return ET_ERR_UNSUPPORTED;
    if (!(alpha >= 0.0f && alpha <= 1.0f)) return ET_ERR_INVALID_ARG;
    size_t px, bytes;
    if (!et_mul_ok(img->height, img->width, &px) || !et_img_bytes(img->height, img->width, 3, 1, &bytes))
        return ET_ERR_OVERFLOW;
    uint8_t *d = malloc(bytes);
    if (!d) return ET_ERR_NO_MEMORY;
    double a = (double)alpha;
    for (size_t i = 0; i < px; i++) {
        uint8_t col[3];
        et_cam_color(heat[i], col);
        for (size_t k = 0; k < 3; k++) {
            double p = img->data[i * img->channels + (img->channels == 3 ? k : 0)];
            d[3 * i + k] = (uint8_t)lrint((1.0 - a) * p + a * (double)col[k]);
        }
    }
    out->data = d;
    out->height = img->height;
    out->width = img->width;
    out->channels = 3;
    return ET_OK;
}
