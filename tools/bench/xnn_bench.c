/* xnn_bench: torchvision's MobileNetV2-1.0 (224x224, batch 1, f32 NHWC, BN
 * folded, random weights) built from XNNPACK's C operator API, timed the way
 * `edgetune bench` times edgetune, so docs/PERFORMANCE.md can put the two side
 * by side. A peer benchmark only: not part of the library or of `make all`. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthreadpool.h>
#include <xnnpack.h>
#include "et_side.h"

enum { K_CONV, K_ADD, K_GAP, K_FC };
static const char *const kind_op[] = {"conv2d", "add", "global_avgpool", "linear"};

#define MAX_LAYERS 80
#define MAX_SLOTS 8

typedef struct layer {
    char name[32], desc[64];
    int kind, relu6;
    int in1, in2;                /* producing layer, -1 = network input, in2 only for add */
    size_t ih, iw, ic, oh, ow, oc;
    uint32_t k, stride, groups;
    double macs;
    int slot;                    /* activation buffer this layer writes */
    xnn_operator_t op;
} layer;

typedef struct net {
    layer l[MAX_LAYERS];
    int n;
    float *input, *slot[MAX_SLOTS];
    int nslots;
    size_t slot_floats;
} net;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint32_t seed = 12345u;
static float urand(void) { /* uniform in [-0.5, 0.5): fixed seed, so every run builds the same net */
    seed = seed * 1103515245u + 12345u;
    return (float)(seed >> 8) / (float)(1u << 24) - 0.5f;
}

/* Appends a layer; shapes follow from its input as in torchvision (pad = k/2). */
static layer *add_layer(net *nt, int kind, int in1, size_t h, size_t w, size_t c) {
    layer *L = &nt->l[nt->n];
    memset(L, 0, sizeof *L);
    L->kind = kind;
    L->in1 = in1;
    L->in2 = -1;
    L->ih = h; L->iw = w; L->ic = c;
    L->oh = h; L->ow = w; L->oc = c;
    L->k = 1; L->stride = 1; L->groups = 1;
    L->slot = -1;
    nt->n++;
    return L;
}

static int conv(net *nt, int in, size_t h, size_t w, size_t cin, size_t cout, uint32_t k, uint32_t s, int dw,
                int relu6, const char *name) {
    layer *L = add_layer(nt, K_CONV, in, h, w, cin);
    L->k = k; L->stride = s; L->relu6 = relu6;
    L->groups = dw ? (uint32_t)cin : 1;
    L->oh = (h + 2 * (k / 2) - k) / s + 1;
    L->ow = (w + 2 * (k / 2) - k) / s + 1;
    L->oc = cout;
    L->macs = (double)L->oh * (double)L->ow * (double)cout * k * k * (double)(dw ? 1 : cin);
    snprintf(L->name, sizeof L->name, "%s", name);
    if (dw) snprintf(L->desc, sizeof L->desc, "dw %ux%u s%u %zuch %zux%zu", k, k, s, cin, h, w);
    else if (k == 1) snprintf(L->desc, sizeof L->desc, "pw %zu->%zu %zux%zu", cin, cout, h, w);
    else snprintf(L->desc, sizeof L->desc, "conv %ux%u s%u %zu->%zu %zux%zu", k, k, s, cin, cout, h, w);
    return nt->n - 1;
}

/* torchvision's mobilenet_v2(width_mult=1.0): features.0 .. features.18, avgpool, classifier.1 */
static void build_mobilenet_v2(net *nt) {
    static const int cfg[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                                  {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    char nm[32];
    size_t h = 112, w = 112, c = 32;
    int x = conv(nt, -1, 224, 224, 3, 32, 3, 2, 0, 1, "features.0.0"), f = 1;
    for (int g = 0; g < 7; g++)
        for (int r = 0; r < cfg[g][2]; r++, f++) {
            size_t hid = c * (size_t)cfg[g][0], out = (size_t)cfg[g][1];
            uint32_t s = r == 0 ? (uint32_t)cfg[g][3] : 1;
            int y = x, j = 0; /* j: index of the next module in the block's `conv` Sequential */
            if (cfg[g][0] != 1) {
                snprintf(nm, sizeof nm, "features.%d.conv.%d.0", f, j++);
                y = conv(nt, y, h, w, c, hid, 1, 1, 0, 1, nm);
            }
            snprintf(nm, sizeof nm, "features.%d.conv.%d.0", f, j++);
            y = conv(nt, y, h, w, hid, hid, 3, s, 1, 1, nm);
            size_t oh = nt->l[y].oh, ow = nt->l[y].ow;
            snprintf(nm, sizeof nm, "features.%d.conv.%d", f, j);
            y = conv(nt, y, oh, ow, hid, out, 1, 1, 0, 0, nm);
            if (s == 1 && c == out) { /* residual: x + conv(x) */
                layer *A = add_layer(nt, K_ADD, x, oh, ow, out);
                A->in2 = y;
                snprintf(A->name, sizeof A->name, "features.%d.add", f);
                snprintf(A->desc, sizeof A->desc, "add %zux%zux%zu", oh, ow, out);
                y = nt->n - 1;
            }
            x = y; h = oh; w = ow; c = out;
        }
    x = conv(nt, x, h, w, c, 1280, 1, 1, 0, 1, "features.18.0");
    layer *G = add_layer(nt, K_GAP, x, h, w, 1280);
    G->oh = G->ow = 1;
    G->macs = (double)h * (double)w * 1280.0; /* counted as edgetune counts it: one add per input */
    snprintf(G->name, sizeof G->name, "avgpool");
    snprintf(G->desc, sizeof G->desc, "global avg %zux%zux1280", h, w);
    layer *F = add_layer(nt, K_FC, nt->n - 1, 1, 1, 1280);
    F->oc = 1000;
    F->macs = 1280.0 * 1000.0;
    snprintf(F->name, sizeof F->name, "classifier.1");
    snprintf(F->desc, sizeof F->desc, "fc 1280->1000");
}

/* Reuses activation buffers like a memory planner would (a layer's output goes
 * to a buffer whose last reader has run), so the working set is realistic. */
static int plan_buffers(net *nt) {
    int last_use[MAX_LAYERS], slot_busy_until[MAX_SLOTS];
    size_t most = 0;
    for (int i = 0; i < nt->n; i++) last_use[i] = i;
    for (int i = 0; i < nt->n; i++) {
        layer *L = &nt->l[i];
        if (L->in1 >= 0) last_use[L->in1] = i;
        if (L->in2 >= 0) last_use[L->in2] = i;
        size_t sz = L->oh * L->ow * L->oc;
        if (sz > most) most = sz;
    }
    for (int i = 0; i < nt->n; i++) {
        int s = 0;
        while (s < nt->nslots && slot_busy_until[s] >= i) s++;
        if (s == MAX_SLOTS) return 0;
        if (s == nt->nslots) nt->nslots++;
        slot_busy_until[s] = last_use[i];
        nt->l[i].slot = s;
    }
    nt->slot_floats = most;
    return 1;
}

static float *alloc_floats(size_t n) {
    size_t bytes = (n * sizeof(float) + XNN_EXTRA_BYTES + 63) / 64 * 64; /* XNNPACK may read a little past the end */
    float *p = aligned_alloc(64, bytes);
    if (p) memset(p, 0, bytes); /* fault the pages in before timing */
    return p;
}

static const float *src(const net *nt, int i) { return i < 0 ? nt->input : nt->slot[nt->l[i].slot]; }

/* Random weights with torchvision's init statistics (kaiming-normal fan_out
 * variance for convs, std 0.01 for the classifier; biases 0 as after folding
 * a fresh BN), so activations stay in range and no subnormals slow a layer. */
static float *random_weights(size_t n, double std) {
    float *p = malloc(n * sizeof *p);
    if (p)
        for (size_t i = 0; i < n; i++) p[i] = (float)(urand() * sqrt(12.0) * std);
    return p;
}

/* fc_flags go to the fully connected operator, the network's last. */
static enum xnn_status create_op(layer *L, uint32_t fc_flags) {
    float lo = L->relu6 ? 0.0f : -INFINITY, hi = L->relu6 ? 6.0f : INFINITY;
    enum xnn_status st = xnn_status_out_of_memory;
    if (L->kind == K_ADD) return xnn_create_add_nd_f32(-INFINITY, INFINITY, 0, &L->op);
    if (L->kind == K_GAP) return xnn_create_global_average_pooling_nwc_f32(L->ic, L->ic, L->ic, -INFINITY, INFINITY, 0, &L->op);
    size_t gin = L->ic / L->groups, gout = L->oc / L->groups;
    size_t nw = L->kind == K_FC ? L->ic * L->oc : (size_t)L->groups * gout * L->k * L->k * gin;
    double std = L->kind == K_FC ? 0.01 : sqrt(2.0 / (double)(gout * L->k * L->k));
    float *wt = random_weights(nw, std), *bias = calloc(L->oc, sizeof *bias);
    if (wt && bias) {
        if (L->kind == K_FC)
            st = xnn_create_fully_connected_nc_f32(L->ic, L->oc, L->ic, L->oc, wt, bias, lo, hi, fc_flags, &L->op);
        else {
            uint32_t p = L->k / 2;
            /* kernel layout [groups][gout][k][k][gin]; a conv with one input and
             * one output channel per group is depthwise and gets XNNPACK's dwconv */
            st = xnn_create_convolution2d_nhwc_f32(p, p, p, p, L->k, L->k, L->stride, L->stride, 1, 1, L->groups, gin, gout,
                                                   L->ic, L->oc, wt, bias, lo, hi, 0, &L->op);
        }
    }
    free(wt);
    free(bias); /* XNNPACK packs its own copy at create time */
    return st;
}

/* The threadpool is bound at setup in this XNNPACK version, so the
 * 1-thread and N-thread runs set every operator up again. */
static enum xnn_status setup_op(const net *nt, const layer *L, pthreadpool_t pool) {
    float *out = nt->slot[L->slot];
    const float *in = src(nt, L->in1);
    if (L->kind == K_CONV) return xnn_setup_convolution2d_nhwc_f32(L->op, 1, L->ih, L->iw, in, out, pool);
    if (L->kind == K_FC) return xnn_setup_fully_connected_nc_f32(L->op, 1, in, out, pool);
    if (L->kind == K_GAP) return xnn_setup_global_average_pooling_nwc_f32(L->op, 1, L->ih * L->iw, in, out, pool);
    size_t shape[4] = {1, L->oh, L->ow, L->oc};
    return xnn_setup_add_nd_f32(L->op, 4, shape, 4, shape, in, src(nt, L->in2), out, pool);
}

static int setup_all(const net *nt, pthreadpool_t pool) {
    for (int i = 0; i < nt->n; i++) {
        enum xnn_status st = setup_op(nt, &nt->l[i], pool);
        if (st != xnn_status_success) {
            fprintf(stderr, "xnn_bench: setting up %s (%s) failed: status %d\n", nt->l[i].name, nt->l[i].desc, (int)st);
            return 0;
        }
    }
    return 1;
}

static int run_all(const net *nt, pthreadpool_t pool) {
    for (int i = 0; i < nt->n; i++)
        if (xnn_run_operator(nt->l[i].op, pool) != xnn_status_success) {
            fprintf(stderr, "xnn_bench: running %s failed\n", nt->l[i].name);
            return 0;
        }
    return 1;
}

/* Interleaving: each side runs blocks of BLOCK timed runs, after one untimed
 * run. No pause between the sides: on this VM a vCPU idle for some
 * milliseconds is often slow to come back, which would hit threaded runs. */
#define BLOCK 5

static size_t block_len(size_t done, size_t repeats) { return repeats - done < BLOCK ? repeats - done : BLOCK; }

/* Whole-network median latency of XNNPACK on pool (NULL: 1 thread) and, when
 * e is given, of edgetune's sessions sides[0..nsides) in turn with it. */
static int latencies(const net *nt, pthreadpool_t pool, et_side *e, const int *sides, int nsides, size_t repeats,
                     double *buf, double *xnn_out, double *et_out) {
    if (!setup_all(nt, pool)) return 0;
    for (int w = 0; w < 5; w++) {
        if (!run_all(nt, pool)) return 0;
        for (int s = 0; e && s < nsides; s++)
            if (!et_side_run(e, sides[s], NULL)) return 0;
    }
    double *col[1 + ET_SIDE_COUNT]; /* buf holds 1 + nsides columns with e, else 1 */
    for (int s = 0; s <= (e ? nsides : 0); s++) col[s] = buf + (size_t)s * repeats;
    for (size_t done = 0; done < repeats; done += BLOCK) {
        size_t k = block_len(done, repeats);
        for (int s = -1; s < (e ? nsides : 0); s++) { /* s = -1: XNNPACK */
            int ok = s < 0 ? run_all(nt, pool) : et_side_run(e, sides[s], NULL);
            for (size_t j = 0; ok && j < k; j++) {
                double t0 = now();
                ok = s < 0 ? run_all(nt, pool) : et_side_run(e, sides[s], NULL);
                col[s + 1][done + j] = now() - t0;
            }
            if (!ok) return 0;
        }
    }
    *xnn_out = median(col[0], repeats);
    for (int s = 0; e && s < nsides; s++) et_out[s] = median(col[s + 1], repeats);
    return 1;
}

/* Counts non-finite and subnormal values each layer writes (one untimed
 * pass): a check that random weights did not push a layer onto a slow path. */
static void scan_outputs(const net *nt, size_t *nonfinite, size_t *subnormal) {
    *nonfinite = *subnormal = 0;
    for (int i = 0; i < nt->n; i++) {
        const layer *L = &nt->l[i];
        xnn_run_operator(L->op, NULL);
        const float *o = nt->slot[L->slot];
        for (size_t j = 0, n = L->oh * L->ow * L->oc; j < n; j++) {
            int c = fpclassify(o[j]);
            *nonfinite += c == FP_NAN || c == FP_INFINITE;
            *subnormal += c == FP_SUBNORMAL;
        }
    }
}

static void usage(FILE *f) {
    fputs("usage: xnn_bench [--threads N] [--repeats R] [--json] [--edgetune MODEL.etm]\n"
          "\n"
          "MobileNetV2-1.0 @224x224, batch 1, f32 NHWC, from XNNPACK operators (random\n"
          "weights, fixed seed). Per operator: median over R runs of its own\n"
          "xnn_run_operator (1 thread); whole network: median latency with 1 thread\n"
          "and with N threads (pthreadpool). Same fields as `edgetune bench --json`.\n"
          "\n"
          "--edgetune MODEL.etm also times edgetune on that model in this process, in\n"
          "blocks of 5 runs turn by turn with XNNPACK (per layer: every node on its own\n"
          "and fused; whole network: 1 and N threads), and prints JSON\n"
          "{\"xnn\": ..., \"et\": ..., \"etf\": ...} (et unfused, etf fused).\n", f);
}

static int parse_size(const char *s, size_t lo, size_t hi, size_t *out) {
    char *end;
    unsigned long long v = s ? strtoull(s, &end, 10) : 0;
    if (!s || !*s || *end || v < lo || v > hi) return 0;
    *out = (size_t)v;
    return 1;
}

int main(int argc, char **argv) {
    size_t threads = 2, repeats = 50;
    int json = 0;
    const char *et_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--threads") == 0 && parse_size(i + 1 < argc ? argv[i + 1] : NULL, 1, 256, &threads)) i++;
        else if (strcmp(argv[i], "--repeats") == 0 && parse_size(i + 1 < argc ? argv[i + 1] : NULL, 1, 100000, &repeats)) i++;
        else if (strcmp(argv[i], "--edgetune") == 0 && i + 1 < argc) et_path = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
    }
    enum xnn_status st = xnn_initialize(NULL);
    if (st != xnn_status_success) {
        fprintf(stderr, "xnn_bench: xnn_initialize failed: status %d%s\n", (int)st,
                st == xnn_status_unsupported_hardware ? " (this CPU is not supported)" : "");
        return 1;
    }
    static net nt;
    build_mobilenet_v2(&nt);
    if (!plan_buffers(&nt)) { fputs("xnn_bench: too many live buffers\n", stderr); return 1; }
    nt.input = alloc_floats(224 * 224 * 3);
    for (int s = 0; s < nt.nslots; s++) nt.slot[s] = alloc_floats(nt.slot_floats);
    double *times = malloc((size_t)nt.n * repeats * sizeof *times), *buf = malloc(repeats * sizeof *buf);
    double med[MAX_LAYERS], total_macs = 0.0, sum_layers = 0.0, lat1 = 0.0, latn = 0.0;
    pthreadpool_t pool = pthreadpool_create(threads);
    int ok = nt.input && times && buf && pool;
    for (int s = 0; ok && s < nt.nslots; s++) ok = nt.slot[s] != NULL;
    if (!ok) { fputs("xnn_bench: out of memory or no threads\n", stderr); return 1; }
    for (size_t i = 0; i < 224 * 224 * 3; i++) nt.input[i] = urand();
    for (int i = 0; i < nt.n; i++) {
        /* interleaved, XNNPACK's workers sleep after each network run as
         * edgetune's do: spinning they would take the core edgetune runs on */
        if ((st = create_op(&nt.l[i], et_path ? XNN_FLAG_YIELD_WORKERS : 0)) != xnn_status_success) {
            fprintf(stderr, "xnn_bench: creating %s (%s) failed: status %d\n", nt.l[i].name, nt.l[i].desc, (int)st);
            return 1;
        }
        total_macs += nt.l[i].macs;
    }

    et_side *e = NULL;
    double *et_times[2] = {NULL, NULL}, *et_node = NULL;
    size_t enodes = 0;
    if (et_path) {
        if (!(e = et_side_open(et_path, threads))) return 1;
        enodes = et_side_nodes(e);
        et_times[0] = malloc(enodes * repeats * sizeof(double));
        et_times[1] = malloc(enodes * repeats * sizeof(double));
        et_node = malloc(enodes * sizeof(double));
        buf = realloc(buf, (1 + ET_SIDE_COUNT) * repeats * sizeof *buf);
        if (!et_times[0] || !et_times[1] || !et_node || !buf) { fputs("xnn_bench: out of memory\n", stderr); return 1; }
        json = 1;
    }

    /* profiling pass, one thread, as edgetune bench: each operator timed on
     * its own; with e, edgetune's unfused and fused runs take turns with it */
    if (!setup_all(&nt, NULL)) return 1;
    for (int w = 0; w < 5; w++)
        if (!run_all(&nt, NULL)) return 1;
    for (size_t done = 0; done < repeats; done += BLOCK) {
        size_t k = block_len(done, repeats);
        if (!run_all(&nt, NULL)) return 1;
        for (size_t r = done; r < done + k; r++)
            for (int i = 0; i < nt.n; i++) {
                double t0 = now();
                xnn_run_operator(nt.l[i].op, NULL);
                times[(size_t)i * repeats + r] = now() - t0;
            }
        for (int side = 0; e && side < 2; side++) {
            if (!et_side_run(e, side, NULL)) return 1;
            for (size_t r = done; r < done + k; r++) {
                if (!et_side_run(e, side, et_node)) return 1;
                for (size_t i = 0; i < enodes; i++) et_times[side][i * repeats + r] = et_node[i];
            }
        }
    }
    for (int i = 0; i < nt.n; i++) { med[i] = median(times + (size_t)i * repeats, repeats); sum_layers += med[i]; }
    size_t nonfinite, subnormal;
    scan_outputs(&nt, &nonfinite, &subnormal);
    static const int sides1[2] = {ET_SIDE_FUSED, ET_SIDE_UNFUSED}, sidesn[1] = {ET_SIDE_THREADS};
    double et1[2] = {0.0, 0.0}, etn = 0.0;
    if (!latencies(&nt, NULL, e, sides1, 2, repeats, buf, &lat1, et1) ||
        !latencies(&nt, pool, e, sidesn, 1, repeats, buf, &latn, &etn)) return 1;

    if (e) printf("{\"interleaved_blocks\": %d, \"xnn\": ", BLOCK);
    if (json) printf("{\"runtime\": \"xnnpack (operator API)\", \"model\": \"mobilenet_v2 224x224 batch 1\", \"layers\": [");
    else printf("XNNPACK operators, MobileNetV2-1.0 224x224 batch 1, median of %zu runs\n\n%-3s %-22s %-15s %-30s %-14s %10s %9s %9s\n",
                repeats, "#", "layer", "op", "what", "output NHWC", "MACs", "ms", "GFLOP/s");
    for (int i = 0; i < nt.n; i++) {
        const layer *L = &nt.l[i];
        double gf = med[i] > 0 ? 2.0 * L->macs / med[i] * 1e-9 : 0.0;
        if (json)
            printf("%s{\"name\": \"%s\", \"op\": \"%s\", \"desc\": \"%s\", \"out\": [1, %zu, %zu, %zu], \"macs\": %.0f, \"ms\": %.5f, "
                   "\"gflops\": %.2f}", i ? ", " : "", L->name, kind_op[L->kind], L->desc, L->oh, L->ow, L->oc, L->macs, med[i] * 1e3, gf);
        else {
            char shape[32];
            snprintf(shape, sizeof shape, "1x%zux%zux%zu", L->oh, L->ow, L->oc);
            printf("%-3d %-22s %-15s %-30s %-14s %10.0f %9.4f %9.1f\n", i, L->name, kind_op[L->kind], L->desc, shape, L->macs,
                   med[i] * 1e3, gf);
        }
    }
    double gf1 = 2.0 * total_macs / lat1 * 1e-9;
    if (json)
        printf("], \"total_macs\": %.0f, \"nonfinite_outputs\": %zu, \"subnormal_outputs\": %zu, \"sum_of_layers_ms\": %.4f, "
               "\"latency_ms_1_thread\": %.4f, \"threads\": %zu, \"latency_ms_n_threads\": %.4f, \"gflops_1_thread\": %.2f, "
               "\"speedup\": %.3f}%s", total_macs, nonfinite, subnormal, sum_layers * 1e3, lat1 * 1e3, threads, latn * 1e3, gf1,
               lat1 / latn, e ? "" : "\n");
    else
        printf("\n%.0f MACs; %zu non-finite, %zu subnormal outputs\nsum of layers %.3f ms; whole network: 1 thread %.3f ms "
               "(%.1f GFLOP/s), %zu threads %.3f ms (%.2fx)\n", total_macs, nonfinite, subnormal, sum_layers * 1e3, lat1 * 1e3, gf1,
               threads, latn * 1e3, lat1 / latn);
    for (int side = 0; e && side < 2; side++) {
        for (size_t i = 0; i < enodes; i++) et_node[i] = median(et_times[side] + i * repeats, repeats) * 1e3;
        printf(side ? ", \"etf\": " : ", \"et\": ");
        /* as `edgetune bench [--unfused]`: the 1-thread latency of that session */
        et_side_json(e, stdout, side, et_node, et1[side ? 0 : 1] * 1e3, et1[1] * 1e3, etn * 1e3);
    }
    if (e) printf("}\n");
    et_side_close(e);
    free(et_times[0]); free(et_times[1]); free(et_node);

    for (int i = 0; i < nt.n; i++) xnn_delete_operator(nt.l[i].op);
    pthreadpool_destroy(pool);
    for (int s = 0; s < nt.nslots; s++) free(nt.slot[s]);
    free(nt.input); free(times); free(buf);
    return 0;
}
