/* Data options of finetune / lr-find: parsing, loading through the public
 * datasets API (image folders, IDX, .npy), the seeded validation split and
 * the batch configurations. Every error names the file at fault. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/data_opts.h"

void data_opts_init(data_opts *o) {
    memset(o, 0, sizeof *o);
    o->valid_pct = -1.0f;
    o->augment = -1;
    o->crop = -1;
}

void data_opts_usage(FILE *f) {
    fputs("data (one training source):\n"
          "  --train DIR            image folder: DIR/<class>/<image> (PPM/PGM; PNG/JPEG when built in)\n"
          "  --valid DIR            validation image folder (same class folders)\n"
          "  --train-idx IMG LBL    IDX files (MNIST / Fashion-MNIST format); --valid-idx IMG LBL\n"
          "  --train-x X.npy --train-y Y.npy   uint8 NHWC or float32 (model layout) samples; integer\n"
          "                         ids or a 0/1 matrix (multi-label); --valid-x / --valid-y\n"
          "  --valid-pct P          seeded random validation split when no valid set is given\n"
          "                         (default 0.2; 0 trains on everything, without validation)\n"
          "preprocessing:\n"
          "  --size S|HxW           input size (default: the model's); bilinear resize\n"
          "  --mean A,B,C --std A,B,C   normalisation (default: the model's metadata)\n"
          "  --augment on|off       random crop, flip, brightness/contrast, all seeded\n"
          "                         (default on for uint8 images, off for float arrays)\n"
          "  --crop resized|pad|none    augmentation crop (default: pad up to 64 px, else resized)\n", f);
}

static int parse_floats(const char *s, float *out, size_t cap, size_t *n) {
    *n = 0;
    char buf[64];
    while (*s) {
        size_t k = strcspn(s, ",");
        if (k == 0 || k >= sizeof buf || *n >= cap) return 0;
        memcpy(buf, s, k);
        buf[k] = '\0';
        if (!cli_parse_float(buf, &out[(*n)++])) return 0;
        s += k + (s[k] == ',');
    }
    return *n > 0;
}

/* The second value of a two-value option. */
static int second(int argc, char **argv, int *i, const char **v) {
    if (*i + 1 >= argc) return 0;
    *v = argv[++*i];
    return 1;
}

int data_opts_parse(int argc, char **argv, int *i, data_opts *o, const char *cmd, void (*usage)(FILE *)) {
    const char *v = NULL;
    int r;
#define NEED(cond, msg) do { if (r < 0 || !(cond)) return cli_usage_error(cmd, usage, msg); } while (0)
    if ((r = cli_opt(argc, argv, i, "--train", &v)) != 0) { NEED(1, "--train needs a folder"); o->train_dir = v; return 1; }
    if ((r = cli_opt(argc, argv, i, "--valid", &v)) != 0) { NEED(1, "--valid needs a folder"); o->valid_dir = v; return 1; }
    if ((r = cli_opt(argc, argv, i, "--train-idx", &v)) != 0) {
        NEED(1, "--train-idx needs IMAGES LABELS");
        o->train_idx[0] = v;
        if (!second(argc, argv, i, &o->train_idx[1])) return cli_usage_error(cmd, usage, "--train-idx needs IMAGES LABELS");
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--valid-idx", &v)) != 0) {
        NEED(1, "--valid-idx needs IMAGES LABELS");
        o->valid_idx[0] = v;
        if (!second(argc, argv, i, &o->valid_idx[1])) return cli_usage_error(cmd, usage, "--valid-idx needs IMAGES LABELS");
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--train-x", &v)) != 0) { NEED(1, "--train-x needs a file"); o->train_x = v; return 1; }
    if ((r = cli_opt(argc, argv, i, "--train-y", &v)) != 0) { NEED(1, "--train-y needs a file"); o->train_y = v; return 1; }
    if ((r = cli_opt(argc, argv, i, "--valid-x", &v)) != 0) { NEED(1, "--valid-x needs a file"); o->valid_x = v; return 1; }
    if ((r = cli_opt(argc, argv, i, "--valid-y", &v)) != 0) { NEED(1, "--valid-y needs a file"); o->valid_y = v; return 1; }
    if ((r = cli_opt(argc, argv, i, "--valid-pct", &v)) != 0) {
        NEED(cli_parse_float(v, &o->valid_pct) && o->valid_pct >= 0.0f && o->valid_pct < 1.0f, "--valid-pct needs 0 <= P < 1");
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--size", &v)) != 0) { NEED(cli_parse_hw(v, &o->size_h, &o->size_w), "--size needs S or HxW"); return 1; }
    if ((r = cli_opt(argc, argv, i, "--mean", &v)) != 0) {
        NEED(parse_floats(v, o->mean, ET_MAX_CHANNELS_META, &o->n_mean), "--mean needs comma-separated numbers");
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--std", &v)) != 0) {
        NEED(parse_floats(v, o->std, ET_MAX_CHANNELS_META, &o->n_std), "--std needs comma-separated numbers");
        for (size_t k = 0; k < o->n_std; k++) NEED(o->std[k] > 0.0f, "--std values must be positive");
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--augment", &v)) != 0) {
        NEED(strcmp(v, "on") == 0 || strcmp(v, "off") == 0, "--augment needs on or off");
        o->augment = strcmp(v, "on") == 0;
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--crop", &v)) != 0) {
        NEED(strcmp(v, "resized") == 0 || strcmp(v, "pad") == 0 || strcmp(v, "none") == 0, "--crop needs resized, pad or none");
        o->crop = strcmp(v, "resized") == 0 ? ET_CROP_RANDOM_RESIZED : strcmp(v, "pad") == 0 ? ET_CROP_PAD : ET_CROP_NONE;
        return 1;
    }
#undef NEED
    return 0;
}

int data_opts_check(const data_opts *o, const char *cmd, void (*usage)(FILE *)) {
    int sources = (o->train_dir != NULL) + (o->train_idx[0] != NULL) + (o->train_x != NULL || o->train_y != NULL);
    if (sources == 0) return cli_usage_error(cmd, usage, "no training data: give --train DIR, --train-idx or --train-x/--train-y");
    if (sources > 1) return cli_usage_error(cmd, usage, "give one training source (--train, --train-idx or --train-x/--train-y)");
    if ((o->train_x != NULL) != (o->train_y != NULL)) return cli_usage_error(cmd, usage, "--train-x and --train-y go together");
    if ((o->valid_x != NULL) != (o->valid_y != NULL)) return cli_usage_error(cmd, usage, "--valid-x and --valid-y go together");
    int valids = (o->valid_dir != NULL) + (o->valid_idx[0] != NULL) + (o->valid_x != NULL);
    if (valids > 1) return cli_usage_error(cmd, usage, "give at most one validation source");
    if (valids && o->valid_pct > 0.0f) return cli_usage_error(cmd, usage, "--valid-pct splits the training data; not with a validation set");
    if (o->n_mean != o->n_std) return cli_usage_error(cmd, usage, "--mean and --std need the same number of values");
    return CLI_OK;
}

static int load_one(const char *dir, const char *const idx[2], const char *x, const char *y,
                    const et_dataset_options *opt, et_dataset **out) {
    char err[512] = "";
    et_status st;
    const char *name;
    if (dir) { name = dir; st = et_dataset_load_folder(dir, opt, out, err, sizeof err); }
    else if (idx[0]) { name = idx[0]; st = et_dataset_load_idx(idx[0], idx[1], opt, out, err, sizeof err); }
    else { name = x; st = et_dataset_load_npy(x, y, opt, out, err, sizeof err); }
    if (st != ET_OK) return cli_lib_error(name, st, err);
    return CLI_OK;
}

void data_free(data_set *d) {
    for (size_t k = 0; k < 4; k++) et_dataset_free(d->owned[k]);
    memset(d, 0, sizeof *d);
}

int data_load(const data_opts *o, const et_model *m, uint64_t seed, data_set *d) {
    memset(d, 0, sizeof *d);
    et_metadata md;
    et_shape in;
    if (et_model_metadata(m, &md) != ET_OK || et_model_input_shape(m, &in) != ET_OK)
        return cli_error("cannot read the model's input shape");
    et_dataset_options dopt = {in.c, 0, md.source_layout};
    et_dataset *all = NULL, *valid = NULL;
    if (load_one(o->train_dir, o->train_idx, o->train_x, o->train_y, &dopt, &all) != CLI_OK) return CLI_ERR;
    d->owned[2] = all;
    et_dataset_info ai;
    et_dataset_get_info(all, &ai);
    const char *tname = o->train_dir ? o->train_dir : o->train_idx[0] ? o->train_idx[0] : o->train_x;
    if (ai.count == 0) { data_free(d); return cli_error("%s: no samples", tname); }
    if (o->valid_dir || o->valid_idx[0] || o->valid_x) {
        dopt.classes = ai.classes;
        const char *vname = o->valid_dir ? o->valid_dir : o->valid_idx[0] ? o->valid_idx[0] : o->valid_x;
        if (load_one(o->valid_dir, o->valid_idx, o->valid_x, o->valid_y, &dopt, &valid) != CLI_OK) { data_free(d); return CLI_ERR; }
        d->owned[3] = valid;
        et_dataset_info vi;
        et_dataset_get_info(valid, &vi);
        if (vi.classes != ai.classes || vi.multi_label != ai.multi_label || vi.channels != ai.channels) {
            data_free(d);
            return cli_error("%s: %zu classes x %zu channels, but %s has %zu x %zu", vname, vi.classes, vi.channels,
                             tname, ai.classes, ai.channels);
        }
        for (size_t k = 0; k < ai.classes; k++) {
            const char *a = et_dataset_class_name(all, k), *b = et_dataset_class_name(valid, k);
            if (a && b && strcmp(a, b) != 0) {
                data_free(d);
                return cli_error("%s: class %zu is '%s', but in %s it is '%s'", vname, k, b, tname, a);
            }
        }
        d->train = all;
        d->valid = valid;
    } else {
        float pct = o->valid_pct < 0.0f ? (ai.count >= 10 ? 0.2f : 0.0f) : o->valid_pct;
        if (pct > 0.0f) {
            char err[256] = "";
            et_status st = et_dataset_split(all, pct, seed, &d->train, &d->valid, err, sizeof err);
            if (st != ET_OK) { data_free(d); return cli_lib_error(tname, st, err); }
            d->owned[0] = d->train;
            d->owned[1] = d->valid;
        } else {
            d->train = all;
        }
    }
    et_dataset_get_info(d->train, &d->train_info);
    if (d->valid) {
        et_dataset_info vi;
        et_dataset_get_info(d->valid, &vi);
        d->valid_count = vi.count;
    }
    d->classes = ai.classes;
    d->multi_label = ai.multi_label;

    /* batch configurations */
    size_t h = o->size_h ? o->size_h : md.input_h ? md.input_h : ai.height;
    size_t w = o->size_w ? o->size_w : md.input_w ? md.input_w : ai.width;
    if (!h || !w) { data_free(d); return cli_error("%s: images of varying sizes and no model input size: give --size", tname); }
    et_batch_config bc;
    et_batch_config_default(&bc);
    bc.height = h;
    bc.width = w;
    if (o->n_mean) {
        if (o->n_mean != ai.channels) { data_free(d); return cli_error("--mean has %zu values, the data %zu channels", o->n_mean, ai.channels); }
        bc.norm_channels = o->n_mean;
        memcpy(bc.mean, o->mean, sizeof bc.mean);
        memcpy(bc.std, o->std, sizeof bc.std);
    } else if (md.norm_channels == ai.channels && ai.kind == ET_SAMPLE_U8) {
        bc.norm_channels = md.norm_channels;
        memcpy(bc.mean, md.mean, sizeof bc.mean);
        memcpy(bc.std, md.std, sizeof bc.std);
    }
    bc.seed = seed;
    d->bc_valid = bc;
    bc.augment = o->augment >= 0 ? o->augment : ai.kind == ET_SAMPLE_U8;
    bc.crop = o->crop >= 0 ? (et_crop_mode)o->crop : (h <= 64 && w <= 64 ? ET_CROP_PAD : ET_CROP_RANDOM_RESIZED);
    d->bc_train = bc;

    size_t k = (size_t)snprintf(d->summary, sizeof d->summary,
        "{\"source\":\"%s\",\"kind\":\"%s\",\"train\":%zu,\"valid\":%zu,\"classes\":%zu,\"multi_label\":%s,"
        "\"channels\":%zu,\"size\":[%zu,%zu],\"augment\":%s,\"class_names\":[",
        o->train_dir ? "folder" : o->train_idx[0] ? "idx" : "npy", ai.kind == ET_SAMPLE_U8 ? "uint8" : "float32",
        d->train_info.count, d->valid_count, ai.classes, ai.multi_label ? "true" : "false", ai.channels, h, w,
        bc.augment ? "true" : "false");
    for (size_t c = 0; c < ai.classes && k + 80 < sizeof d->summary; c++) {
        const char *nm = et_dataset_class_name(all, c);
        char clean[64];
        size_t j = 0;
        for (; nm && nm[j] && j < sizeof clean - 1; j++) clean[j] = nm[j] == '"' || nm[j] == '\\' || (unsigned char)nm[j] < 32 ? '_' : nm[j];
        clean[j] = '\0';
        k += (size_t)snprintf(d->summary + k, sizeof d->summary - k, "%s\"%s\"", c ? "," : "", nm ? clean : "");
    }
    if (k + 3 < sizeof d->summary) snprintf(d->summary + k, sizeof d->summary - k, "]}");
    return CLI_OK;
}
