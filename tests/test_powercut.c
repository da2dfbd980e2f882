/* Power-cut test: `edgetune finetune` is killed with SIGKILL at random
 * moments (200 times by default, checkpoints every step, so many kills land
 * inside checkpoint writes); the newest checkpoint must always load, and
 * resuming after every kill must end with the same bytes as a run that was
 * never interrupted. ET_POWERCUT_KILLS overrides the count. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "edgetune.h"
#include "harness.h"
#include "cli/checkpoint.c"

static char dir[64], cmd_base[512];

static const char *path(const char *name) {
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static int put_file(const char *p, const void *data, size_t n) {
    FILE *f = fopen(p, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* 1-channel 8x8 -> conv3x3(6, ReLU) -> GAP -> linear(3) */
static int tiny_model(const char *file) {
    et_builder *b = NULL;
    et_model *m = NULL;
    float w[6 * 9], bias[6], fw[3 * 6], fb[3] = {0};
    t_fill(w, 54, 1); t_fill(bias, 6, 2); t_fill(fw, 18, 3);
    et_conv2d_desc d = {6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, et_act_relu()};
    int v, g, o;
    et_status st = et_builder_new(1, 8, 8, &b);
    if (st == ET_OK) st = et_builder_conv2d(b, "conv", 0, &d, w, bias, &v);
    if (st == ET_OK) st = et_builder_global_avgpool(b, "gap", v, &g);
    if (st == ET_OK) st = et_builder_linear(b, "fc", g, 3, fw, fb, et_act_none(), &o);
    if (st == ET_OK) st = et_builder_finish(b, &m);
    et_builder_free(b);
    if (st == ET_OK) st = et_model_save_file(m, file);
    et_model_free(m);
    return st == ET_OK;
}

/* IDX images [n][8][8] whose brightness depends on the label, and labels. */
static int make_idx(size_t n) {
    static unsigned char img[16 + 4096 * 64], lbl[8 + 4096];
    unsigned s = 7;
    const unsigned char hi[4] = {0, 0, 8, 3}, hl[4] = {0, 0, 8, 1};
    memcpy(img, hi, 4); memcpy(lbl, hl, 4);
    for (int i = 0; i < 4; i++) { img[4 + i] = (unsigned char)(n >> (24 - 8 * i)); lbl[4 + i] = img[4 + i]; }
    img[11] = 8; img[15] = 8;
    for (size_t i = 0; i < n; i++) {
        lbl[8 + i] = (unsigned char)(i % 3);
        for (size_t p = 0; p < 64; p++) img[16 + i * 64 + p] = (unsigned char)(40 + 80 * (i % 3) + t_rand(&s) % 50);
    }
    return put_file(path("x.idx"), img, 16 + n * 64) && put_file(path("y.idx"), lbl, 8 + n);
}

static int same_file(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

static int exists(const char *p) { return access(p, F_OK) == 0; }

/* Start finetune (fresh or resumed) and kill it after delay_us; returns the
 * exit code if it finished first, -1 if it was killed. */
static int run_and_kill(long delay_us) {
    char cmd[1400];
    int resume = exists(path("run/ckpt.etck")) || exists(path("run/ckpt.etck.prev"));
    snprintf(cmd, sizeof cmd, "exec %s %s >'%s' 2>&1 </dev/null", cmd_base,
             resume ? "--resume '%s/run/ckpt.etck'" : "--run-dir '%s/run'", path("log.txt"));
    char full[1700];
    snprintf(full, sizeof full, cmd, dir);
    pid_t pid = fork();
    if (pid == 0) { execl("/bin/sh", "sh", "-c", full, (char *)NULL); _exit(127); }
    if (delay_us >= 0) {
        struct timespec ts = {delay_us / 1000000, (delay_us % 1000000) * 1000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_power_cut(void) {
    const char *r = getenv("ET_RUNNER"), *b = getenv("ET_BUILD"), *k = getenv("ET_POWERCUT_KILLS");
    int kills = k ? atoi(k) : (r && *r ? 30 : 200);
    CHECK(tiny_model(path("m.etm")) && make_idx(240));
    snprintf(cmd_base, sizeof cmd_base,
             "%s%s'%s/edgetune' finetune '%s/m.etm' -o '%s/out.etm' --train-idx '%s/x.idx' '%s/y.idx' --valid-pct 0.25"
             " --epochs 3 --batch-size 6 --lr 0.05 --augment off --seed 5 --checkpoint-every 1",
             r && *r ? r : "", r && *r ? " " : "", b ? b : "build", dir, dir, dir, dir);
    /* the uninterrupted reference, and how long it takes */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(run_and_kill(-1) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long total_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    CHECK(rename(path("out.etm"), path("ref.etm")) == 0);
    char rm[300];
    snprintf(rm, sizeof rm, "rm -rf '%s/run'", dir);
    CHECK(system(rm) == 0);
    unsigned s = 12345;
    int killed = 0, finished = 0, loads = 0;
    for (int i = 0; i < kills; i++) {
        /* short delays: each resume advances a little, and kills fall everywhere, checkpoint writes included */
        long delay = (long)(t_rand(&s) % (unsigned)(total_us / 2 + 1));
        int rc = run_and_kill(delay);
        if (rc == 0) { /* finished before the kill: it must match, then start over */
            CHECKF(same_file(path("out.etm"), path("ref.etm")), "kill %d: a resumed run finished with other weights", i);
            finished++;
            CHECK(system(rm) == 0);
            continue;
        }
        CHECKF(rc == -1, "kill %d: finetune failed on its own (exit %d), see %s", i, rc, path("log.txt"));
        killed++;
        if (exists(path("run/ckpt.etck")) || exists(path("run/ckpt.etck.prev"))) {
            ckpt_data d;
            const char *used;
            CHECKF(ckpt_read(path("run/ckpt.etck"), &d, &used) == 0, "kill %d: no checkpoint loads", i);
            ckpt_free(&d);
            loads++;
        }
    }
    /* finish the interrupted run */
    if (exists(path("run/ckpt.etck")) || exists(path("run/ckpt.etck.prev"))) {
        CHECK(run_and_kill(-1) == 0);
        CHECK(same_file(path("out.etm"), path("ref.etm")));
    }
    printf("    %d kills (%d during a run, %d runs finished first), checkpoint loaded after %d; "
           "uninterrupted run %.2f s; every finished run bit-identical\n", kills, killed, finished, loads, (double)total_us / 1e6);
    CHECK(killed > 0 && loads > 0);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/et_powercut_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    /* ckpt_read explains every fallback to .prev on stderr; the count is what matters here */
    if (!freopen("/dev/null", "w", stderr)) return 1;
    RUN(test_power_cut);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (t_failed == 0 && system(cmd) != 0) printf("could not remove %s\n", dir);
    return t_summary(__FILE__);
}
