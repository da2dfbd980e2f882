/* Image-folder datasets: root/<class>/<image>, one sub-folder per class in
 * sorted order. Lists folders, decodes every image (image.c) and packs the
 * pixels into one buffer; errors name the folder or file at fault. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "data.h"

typedef struct strv { char **v; size_t n, cap; } strv;

static void strv_free(strv *s) {
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int strv_push(strv *s, char *p) {
    if (!p) return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        char **v = cap > ((size_t)-1) / sizeof(char *) ? NULL : realloc(s->v, cap * sizeof(char *));
        if (!v) { free(p); return 0; }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = p;
    return 1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

static int has_image_ext(const char *name) {
    static const char *const ext[] = {".ppm", ".pgm", ".pnm", ".png", ".jpg", ".jpeg"};
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (size_t k = 0; k < sizeof ext / sizeof ext[0]; k++) {
        size_t i = 0;
        while (ext[k][i] && dot[i] && (dot[i] | 0x20) == ext[k][i]) i++;
        if (!ext[k][i] && !dot[i]) return 1;
    }
    return 0;
}

/* Sorted names of non-hidden entries of dir that are folders (want_dirs)
 * or image files. */
static et_status list_dir(const char *dir, int want_dirs, strv *out, char *err, size_t err_len) {
    DIR *d = opendir(dir);
    if (!d) {
        et_status st = (errno == ENOENT || errno == ENOTDIR) ? ET_ERR_NOT_FOUND : ET_ERR_IO;
        return et_fail(err, err_len, st, "%s: cannot open folder: %s", dir, strerror(errno));
    }
    et_status st = ET_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;  /* hidden files, "." and ".." */
        if (!want_dirs && !has_image_ext(e->d_name)) continue;
        char *p = join(dir, e->d_name);
        struct stat sb;
        if (!p) { st = ET_ERR_NO_MEMORY; break; }
        int ok = stat(p, &sb) == 0 && (want_dirs ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode));
        free(p);
        if (ok && !strv_push(out, et_ds_strdup(e->d_name))) { st = ET_ERR_NO_MEMORY; break; }
    }
    closedir(d);
    if (st != ET_OK) return et_fail(err, err_len, st, "%s: out of memory listing the folder", dir);
    if (out->n) qsort(out->v, out->n, sizeof(char *), cmp_str);
    return ET_OK;
}

/* Growing storage for decoded samples. */
typedef struct pack {
    unsigned char *data;
    size_t used, cap;
    size_t *off, *h, *w;
    int32_t *lab;
    size_t n, ncap;
} pack;

static int pack_add(pack *p, const et_image *img, int32_t label) {
    size_t bytes, need;
    if (!et_img_bytes(img->height, img->width, img->channels, 1, &bytes) || !et_add_ok(p->used, bytes, &need)) return 0;
    if (need > p->cap) {
        size_t cap = p->cap ? p->cap : 65536;
        while (cap < need) cap = cap > ((size_t)-1) / 2 ? need : 2 * cap;
        unsigned char *d = realloc(p->data, cap);
        if (!d) return 0;
        p->data = d;
        p->cap = cap;
    }
    if (p->n == p->ncap) {
        size_t nc = p->ncap ? 2 * p->ncap : 64;
        if (nc > ((size_t)-1) / sizeof(size_t)) return 0;
        size_t *o = realloc(p->off, nc * sizeof(size_t));
        if (o) p->off = o;
        size_t *h = realloc(p->h, nc * sizeof(size_t));
        if (h) p->h = h;
        size_t *w = realloc(p->w, nc * sizeof(size_t));
        if (w) p->w = w;
        int32_t *l = realloc(p->lab, nc * sizeof(int32_t));
        if (l) p->lab = l;
        if (!o || !h || !w || !l) return 0;
        p->ncap = nc;
    }
    memcpy(p->data + p->used, img->data, bytes);
    p->off[p->n] = p->used;
    p->h[p->n] = img->height;
    p->w[p->n] = img->width;
    p->lab[p->n] = label;
    p->n++;
    p->used = need;
    return 1;
}

static void pack_free(pack *p) {
    free(p->data);
    free(p->off);
    free(p->h);
    free(p->w);
    free(p->lab);
    memset(p, 0, sizeof *p);
}

et_status et_dataset_load_folder(const char *root, const et_dataset_options *opt,
                                 et_dataset **out, char *err, size_t err_len) {
    if (err && err_len) err[0] = '\0';
    if (!out) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "folder: out is NULL");
    *out = NULL;
    if (!root) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "folder: root is NULL");
    size_t channels = opt && opt->channels ? opt->channels : 3;
    if (channels != 1 && channels != 3)
        return et_fail(err, err_len, ET_ERR_INVALID_ARG, "%s: %zu channels requested (1 or 3)", root, channels);
    strv classes = {0}, files = {0}, names = {0};
    pack p;
    memset(&p, 0, sizeof p);
    et_dataset *d = NULL;
    et_status st = list_dir(root, 1, &classes, err, err_len);
    if (st != ET_OK) goto done;
    if (!classes.n) {
        st = et_fail(err, err_len, ET_ERR_NOT_FOUND, "%s: no class sub-folders (expected root/<class>/<image>)", root);
        goto done;
    }
    size_t nclasses = opt && opt->classes ? opt->classes : classes.n;
    if (nclasses < classes.n || nclasses > INT32_MAX) {
        st = et_fail(err, err_len, ET_ERR_SHAPE, "%s: %zu class folders, but %zu classes requested", root, classes.n,
                     nclasses);
        goto done;
    }
    for (size_t k = 0; k < classes.n && st == ET_OK; k++) {
        char *dir = join(root, classes.v[k]);
        if (!dir) { st = et_fail(err, err_len, ET_ERR_NO_MEMORY, "%s: out of memory", root); break; }
        strv_free(&files);
        st = list_dir(dir, 0, &files, err, err_len);
        if (st == ET_OK && !files.n)
            st = et_fail(err, err_len, ET_ERR_NOT_FOUND, "%s: empty class folder (no .ppm .pgm .pnm .png .jpg .jpeg files)", dir);
        for (size_t i = 0; i < files.n && st == ET_OK; i++) {
            char *path = join(dir, files.v[i]);
            et_image img;
            if (!path) { st = et_fail(err, err_len, ET_ERR_NO_MEMORY, "%s: out of memory", dir); break; }
            st = et_image_read_file(path, channels, &img, err, err_len);
            if (st == ET_OK) {
                if (!pack_add(&p, &img, (int32_t)k) || !strv_push(&names, path))
                    st = et_fail(err, err_len, ET_ERR_NO_MEMORY, "%s: out of memory storing the image", path);
                else path = NULL;  /* owned by names now */
                et_image_free(&img);
            }
            free(path);
        }
        free(dir);
    }
    if (st != ET_OK) goto done;
    if ((st = et_ds_new(0, nclasses, 0, &d)) != ET_OK) {
        st = et_fail(err, err_len, st, "%s: out of memory", root);
        goto done;
    }
    /* Hand the packed arrays over instead of copying them. */
    free(d->off); free(d->h); free(d->w); free(d->labels);
    d->data = p.data; d->off = p.off; d->h = p.h; d->w = p.w; d->labels = p.lab;
    d->count = p.n;
    memset(&p, 0, sizeof p);
    d->kind = ET_SAMPLE_U8;
    d->channels = channels;
    d->names = names.v;
    names.v = NULL; names.n = 0;
    d->class_names = calloc(nclasses, sizeof(char *));
    if (!d->class_names) { st = et_fail(err, err_len, ET_ERR_NO_MEMORY, "%s: out of memory", root); goto done; }
    for (size_t k = 0; k < classes.n; k++) { d->class_names[k] = classes.v[k]; classes.v[k] = NULL; }
    for (size_t i = 0; i < d->count; i++) {
        if (i == 0) { d->height = d->h[0]; d->width = d->w[0]; }
        else if (d->h[i] != d->height || d->w[i] != d->width) d->height = d->width = 0;
        if (d->h[i] > d->max_h) d->max_h = d->h[i];
        if (d->w[i] > d->max_w) d->max_w = d->w[i];
    }
done:
    strv_free(&classes);
    strv_free(&files);
    strv_free(&names);
    pack_free(&p);
    if (st != ET_OK) et_dataset_free(d);
    else *out = d;
    return st;
}
