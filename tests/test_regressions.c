/* Replays every committed fuzz input (tests/fuzz/regressions/<target>/, crash
 * inputs, and tests/fuzz/corpus/<target>/, the seeds) through the fuzz
 * targets themselves, so a fixed crash stays fixed in plain `make test`. */
#define ET_FUZZ_REPLAY 1
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "fuzz/fuzz_ckpt.c"
#include "fuzz/fuzz_cli_args.h"
#include "fuzz/fuzz_data.c"
#include "fuzz/fuzz_etm.c"
#include "fuzz/fuzz_npy.c"
#include "fuzz/fuzz_onnx.c"

typedef int (*fuzz_fn)(const uint8_t *, size_t);

static unsigned char *slurp_file(const char *path, size_t *len) {
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            unsigned char *nb = realloc(b, cap *= 2);
            if (!nb) { free(b); b = NULL; }
            else b = nb;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

/* Calls fn on every regular file in dir (a missing dir holds nothing);
 * returns the number of files replayed, or -1 if one could not be read. */
static int replay_dir(const char *dir, fuzz_fn fn) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n >= 0) {
        if (e->d_name[0] == '.') continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        size_t len;
        unsigned char *b = slurp_file(path, &len);
        if (!b) { n = -1; break; }
        int before = et_fuzz_failures;
        /* libFuzzer hands over an exact-size heap copy; so do we, so that
         * ASan sees any read past the end */
        unsigned char *exact = malloc(len ? len : 1);
        if (exact) {
            memcpy(exact, b, len);
            fn(len ? exact : NULL, len);
        }
        free(exact);
        free(b);
        if (et_fuzz_failures != before) printf("    replaying %s failed\n", path);
        n++;
    }
    closedir(d);
    return n;
}

static void replay(const char *target, fuzz_fn fn) {
    char dir[128];
    int before = et_fuzz_failures, total = 0;
    snprintf(dir, sizeof dir, "tests/fuzz/regressions/%s", target);
    int r = replay_dir(dir, fn);
    CHECKF(r >= 0, "%s: unreadable regression input", target);
    total += r;
    snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", target);
    int c = replay_dir(dir, fn);
    CHECKF(c > 0, "%s: no seed corpus found (run from the repo root)", target);
    total += c;
    printf("    %s: %d inputs (%d crash regressions)\n", target, total, r);
    CHECK(et_fuzz_failures == before);
}

static void test_replay_etm(void) { replay("etm", et_fuzz_etm); }
static void test_replay_npy(void) { replay("npy", et_fuzz_npy); }
static void test_replay_onnx(void) { replay("onnx", et_fuzz_onnx); }
static void test_replay_data(void) { replay("data", et_fuzz_data); }
static void test_replay_ckpt(void) {
    replay("ckpt", et_fuzz_ckpt);
    ckpt_teardown();
}

/* ---- the CLI: the same argv as the fuzz target, run through the real
 * binary (ET_BUILD/edgetune, under ET_RUNNER when cross-built) */

static char cli_scratch[64], cli_bin[2 * PATH_MAX + 2];

/* Exit status of one command line, or -1 when it died on a signal or a
 * sanitizer report (their exit code is set to 99 to tell them from 1). */
static int run_cli(clif_argv *a, const clif_fixtures *fx) {
    pid_t pid = fork();
    if (pid < 0) return -2;
    if (pid == 0) {
        if (chdir(cli_scratch) != 0) _exit(120);
        clif_fixtures_restore(fx);
        FILE *nul = freopen("/dev/null", "w", stdout);
        if (nul) (void)!freopen("/dev/null", "w", stderr);
        char asan[512], ubsan[512];
        const char *ea = getenv("ASAN_OPTIONS"), *eu = getenv("UBSAN_OPTIONS");
        snprintf(asan, sizeof asan, "%s%sexitcode=99", ea ? ea : "", ea && *ea ? ":" : "");
        snprintf(ubsan, sizeof ubsan, "%s%sexitcode=99", eu ? eu : "", eu && *eu ? ":" : "");
        setenv("ASAN_OPTIONS", asan, 1);
        setenv("UBSAN_OPTIONS", ubsan, 1);
        /* positional parameters: no fuzzed byte is ever parsed by the shell */
        char *argv[CLIF_MAX_ARGS + 6];
        int k = 0;
        argv[k++] = "sh";
        argv[k++] = "-c";
        argv[k++] = "exec ${ET_RUNNER:-} \"$0\" \"$@\"";
        argv[k++] = cli_bin;
        for (int i = 1; i < a->argc; i++) argv[k++] = a->argv[i];
        argv[k] = NULL;
        execv("/bin/sh", argv);
        _exit(121);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

static int cli_fuzz_one(const uint8_t *d, size_t n);
static clif_fixtures cli_fx;
static int cli_fuzz_one(const uint8_t *d, size_t n) {
    clif_argv a;
    if (!clif_split(d, n, &a)) return 0;
    int rc = run_cli(&a, &cli_fx);
    ET_FUZZ_ASSERT(rc == 0 || rc == 1 || rc == 2);
    if (rc < 0 || rc > 2) printf("    edgetune exited with %d on:%s%s%s%s\n", rc, a.argc > 1 ? " " : "",
                                 a.argc > 1 ? a.argv[1] : "", a.argc > 2 ? " " : "", a.argc > 2 ? a.argv[2] : "");
    return 0;
}

static void rm_scratch(void) {
    DIR *d = opendir(cli_scratch);
    if (!d) return;
    struct dirent *e;
    char p[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
        snprintf(p, sizeof p, "%s/%s", cli_scratch, e->d_name);
        if (remove(p) != 0) {  /* a folder a command made (finetune run dirs): one level deep */
            DIR *s = opendir(p);
            struct dirent *f;
            char q[PATH_MAX + 256];
            while (s && (f = readdir(s)) != NULL) {
                if (f->d_name[0] == '.' && (!f->d_name[1] || (f->d_name[1] == '.' && !f->d_name[2]))) continue;
                snprintf(q, sizeof q, "%s/%s", p, f->d_name);
                remove(q);
            }
            if (s) closedir(s);
            remove(p);
        }
    }
    closedir(d);
    rmdir(cli_scratch);
}

static void test_replay_cli(void) {
    const char *bd = getenv("ET_BUILD");
    char rel[256], cwd[PATH_MAX];
    snprintf(rel, sizeof rel, "%s/edgetune", bd && *bd ? bd : "build");
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    /* absolute, since each command runs in the scratch folder */
    snprintf(cli_bin, sizeof cli_bin, "%s%s%s", rel[0] == '/' ? "" : cwd, rel[0] == '/' ? "" : "/", rel);
    CHECKF(access(cli_bin, X_OK) == 0, "%s not found (make cli first)", cli_bin);
    snprintf(cli_scratch, sizeof cli_scratch, "/tmp/et_regress_cli_XXXXXX");
    CHECK(mkdtemp(cli_scratch) != NULL);
    int made = chdir(cli_scratch) == 0 && clif_fixtures_make(&cli_fx);
    CHECK(chdir(cwd) == 0);
    if (made) replay("cli", cli_fuzz_one);
    clif_fixtures_free(&cli_fx);
    rm_scratch();
    CHECK(made);
}

int main(void) {
    RUN(test_replay_etm);
    RUN(test_replay_npy);
    RUN(test_replay_onnx);
    RUN(test_replay_ckpt);
    RUN(test_replay_data);
    RUN(test_replay_cli);
    return t_summary(__FILE__);
}
