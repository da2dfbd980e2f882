/* `edgetune cam`: where the model looks. One image is preprocessed as
 * finetune's validation images are, the library computes the class
 * activation map (CAM or Grad-CAM), and the map is drawn in jet colours over
 * the original image at its original size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"

void cmd_cam_usage(FILE *f) {
    fputs("usage: edgetune cam MODEL.etm IMAGE -o OUT.ppm|OUT.png [--class K] [--alpha A]\n"
          "                    [--method auto|cam|grad-cam] [--map MAP.npy]\n"
          "\n"
          "Draws a class activation map over IMAGE: where the model looks for a\n"
          "class. CAM when the model's head is global average pool + linear,\n"
          "Grad-CAM for other heads. IMAGE (PPM/PGM; PNG/JPEG in builds with\n"
          "libpng/libjpeg) is resized to the model's input size and normalised with\n"
          "the model's mean/std; the map is drawn over the original image.\n"
          "Prints the class, its probability, the method and the output path.\n"
          "\n"
          "  -o, --output OUT  overlay image: .ppm, or .png in builds with libpng\n"
          "  --class K         class to map (default: the top class)\n"
          "  --alpha A         opacity of the heat map in [0, 1] (default 0.5)\n"
          "  --method M        auto (default), cam or grad-cam\n"
          "  --map MAP.npy     also write the normalised map [H, W] (feature-map size)\n", f);
}

typedef struct cam_opts {
    const char *model, *image, *out, *map;
    long class_id;
    float alpha;
    int method;
} cam_opts;

static int has_ext(const char *p, const char *ext) {
    size_t n = strlen(p), k = strlen(ext);
    if (n <= k) return 0;
    for (size_t i = 0; i < k; i++) {
        char c = p[n - k + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != ext[i]) return 0;
    }
    return 1;
}

static int parse(int argc, char **argv, cam_opts *o) {
    memset(o, 0, sizeof *o);
    o->class_id = -1;
    o->alpha = 0.5f;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) { cmd_cam_usage(stdout); return -1; }
        if ((r = cli_opt(argc, argv, &i, "--output", &v)) != 0 || (r = cli_opt(argc, argv, &i, "-o", &v)) != 0) {
            if (r < 0) return cli_usage_error("cam", cmd_cam_usage, "-o needs a file");
            o->out = v;
        } else if ((r = cli_opt(argc, argv, &i, "--class", &v)) != 0) {
            size_t k;
            if (r < 0 || !cli_parse_size(v, &k) || k > 0x7fffffff)
                return cli_usage_error("cam", cmd_cam_usage, "--class needs a class number (0, 1, ...)");
            o->class_id = (long)k;
        } else if ((r = cli_opt(argc, argv, &i, "--alpha", &v)) != 0) {
            if (r < 0 || !cli_parse_float(v, &o->alpha) || !(o->alpha >= 0.0f && o->alpha <= 1.0f))
                return cli_usage_error("cam", cmd_cam_usage, "--alpha needs a number in [0, 1]");
        } else if ((r = cli_opt(argc, argv, &i, "--method", &v)) != 0) {
            if (r < 0 || (o->method = et_cam_method_parse(v)) < 0)
                return cli_usage_error("cam", cmd_cam_usage, "--method needs auto, cam or grad-cam");
        } else if ((r = cli_opt(argc, argv, &i, "--map", &v)) != 0) {
            if (r < 0) return cli_usage_error("cam", cmd_cam_usage, "--map needs a file");
            o->map = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("cam", cmd_cam_usage, "unknown option '%s'", argv[i]);
        } else if (!o->model) {
            o->model = argv[i];
        } else if (!o->image) {
            o->image = argv[i];
        } else {
            return cli_usage_error("cam", cmd_cam_usage, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!o->model) return cli_usage_error("cam", cmd_cam_usage, "missing MODEL.etm");
    if (!o->image) return cli_usage_error("cam", cmd_cam_usage, "missing IMAGE");
    if (!o->out) return cli_usage_error("cam", cmd_cam_usage, "missing -o OUT.ppm or OUT.png");
    if (!has_ext(o->out, ".ppm") && !has_ext(o->out, ".png"))
        return cli_usage_error("cam", cmd_cam_usage, "%s: the overlay is written as .ppm or .png", o->out);
    if (o->map && !has_ext(o->map, ".npy"))
        return cli_usage_error("cam", cmd_cam_usage, "%s: --map writes a .npy file", o->map);
    return CLI_OK;
}

/* The model's input for the image: resized (squished, so the map covers the
 * whole image) and normalised with the model's mean/std when it has them. */
static int model_input(const cam_opts *o, const et_image *img, const et_metadata *md, size_t h, size_t w, float *x) {
    et_batch_config bc;
    et_batch_config_default(&bc);
    bc.height = h;
    bc.width = w;
    bc.center_crop = 0;
    if (md->norm_channels == img->channels) {
        bc.norm_channels = md->norm_channels;
        memcpy(bc.mean, md->mean, sizeof bc.mean);
        memcpy(bc.std, md->std, sizeof bc.std);
    }
    et_status st = et_image_preprocess(img, &bc, 0, 0, x);
    if (st != ET_OK) return cli_error("%s: preprocessing for %s: %s (check the model's mean/std)", o->image, o->model, et_status_str(st));
    return CLI_OK;
}

static void report(const cam_opts *o, const et_model *m, const et_metadata *md, const et_cam_info *info,
                   const et_cam_result *r, const et_image *img) {
    const char *label = md->labels && md->label_count == info->classes ? md->labels[r->class_id] : NULL;
    printf("class %zu%s%s%s: probability %.4f, logit %.4f%s\n", r->class_id, label ? " (" : "", label ? label : "",
           label ? ")" : "", (double)r->prob, (double)r->logit, r->class_id == r->top_class ? " (top class)" : "");
    et_node_info ni;
    const char *fname = et_model_node_info(m, info->feature_node, &ni) == ET_OK && ni.name ? ni.name : "?";
    printf("method: %s on '%s' (%zux%zux%zu)\n", r->method == ET_CAM_CAM ? "CAM" : "Grad-CAM", fname,
           info->height, info->width, info->channels);
    if (r->constant)
        printf("note: the map is constant (no location stands out for this class); the overlay shows no heat\n");
    printf("wrote %s (%zux%zu)\n", o->out, img->width, img->height);
}

/* Map -> image size -> overlay -> file (and the raw map when asked). */
static int draw(const cam_opts *o, const float *map, const et_cam_info *info, const et_image *img) {
    char err[512] = "";
    size_t px = img->height * img->width; /* the decoder caps images at 1 GiB */
    float *heat = px <= (size_t)-1 / sizeof *heat ? malloc(px * sizeof *heat) : NULL;
    if (!heat) return cli_error("out of memory for a %zux%zu heat map", img->height, img->width);
    et_image over;
    memset(&over, 0, sizeof over);
    et_status st = et_cam_upsample(map, info->height, info->width, heat, img->height, img->width);
    if (st == ET_OK) st = et_cam_overlay(img, heat, o->alpha, &over);
    free(heat);
    if (st != ET_OK) return cli_error("%s: drawing the map: %s", o->image, et_status_str(st));
    st = et_image_write_file(o->out, &over, err, sizeof err);
    et_image_free(&over);
    if (st != ET_OK) return cli_lib_error(o->out, st, err);
    if (o->map) {
        size_t dims[2] = {info->height, info->width};
        if ((st = et_npy_write_file(o->map, map, dims, 2)) != ET_OK) return cli_error("%s: cannot write: %s", o->map, et_status_str(st));
    }
    return CLI_OK;
}

static int cam_image(const cam_opts *o, const et_model *m, const et_metadata *md, const et_shape *ms) {
    if (ms->c != 1 && ms->c != 3) return cli_error("%s: the model takes %zu channels; images give 1 or 3", o->model, ms->c);
    char err[512] = "";
    et_image in, orig;
    et_status st = et_image_read_file(o->image, ms->c, &in, err, sizeof err);
    if (st != ET_OK) return cli_lib_error(o->image, st, err);
    if ((st = et_image_read_file(o->image, 0, &orig, err, sizeof err)) != ET_OK) {
        et_image_free(&in);
        return cli_lib_error(o->image, st, err);
    }
    et_cam_options co = {ms->h ? ms->h : in.height, ms->w ? ms->w : in.width, (et_cam_method)o->method};
    et_cam_info info;
    et_cam_result res;
    float *x = NULL, *map = NULL;
    int rc = CLI_OK;
    if ((st = et_model_cam_info(m, &co, &info, err, sizeof err)) != ET_OK) { rc = cli_lib_error(o->model, st, err); goto done; }
    if (o->class_id >= 0 && (size_t)o->class_id >= info.classes) {
        rc = cli_error("--class %ld: %s has %zu classes (0..%zu)", o->class_id, o->model, info.classes, info.classes - 1);
        goto done;
    }
    x = malloc(co.height * co.width * ms->c * sizeof *x);
    map = malloc(info.height * info.width * sizeof *map);
    if (!x || !map) { rc = cli_error("out of memory"); goto done; }
    if ((rc = model_input(o, &in, md, co.height, co.width, x)) != CLI_OK) goto done;
    st = et_model_cam(m, &co, x, (int)o->class_id, map, info.height * info.width, &res, err, sizeof err);
    if (st != ET_OK) { rc = cli_lib_error(o->model, st, err); goto done; }
    if ((rc = draw(o, map, &info, &orig)) == CLI_OK) report(o, m, md, &info, &res, &orig);
done:
    free(x);
    free(map);
    et_image_free(&in);
    et_image_free(&orig);
    return rc;
}

int cmd_cam(int argc, char **argv) {
    cam_opts o;
    int rc = parse(argc, argv, &o);
    if (rc < 0) return CLI_OK;
    if (rc != CLI_OK) return rc;
    et_model *m = NULL;
    char err[512] = "";
    et_status st = et_model_load_file(o.model, &m, err, sizeof err);
    if (st != ET_OK) return cli_lib_error(o.model, st, err);
    et_metadata md;
    et_shape ms;
    if ((st = et_model_metadata(m, &md)) != ET_OK || (st = et_model_input_shape(m, &ms)) != ET_OK) rc = cli_lib_error(o.model, st, NULL);
    else rc = cam_image(&o, m, &md, &ms);
    et_model_free(m);
    return rc;
}
