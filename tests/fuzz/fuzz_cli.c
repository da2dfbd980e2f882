/* libFuzzer target for the CLI's option parsing: the bytes become an argv
 * for the real main (tools/cli/main.c compiled as et_cli_main), run in a
 * scratch folder with a tiny model; plus the cli.h number parsers directly. */
#include <unistd.h>
#include "cli/cli.h"
#include "fuzz/fuzz_cli_args.h"
#include "fuzz/fuzz_common.h"

int et_cli_main(int argc, char **argv);

static clif_fixtures clif_fx;
static int clif_ready;

static int clif_setup(void) {
    if (clif_ready) return clif_ready > 0;
    char tmpl[] = "/tmp/et_fuzz_cli_XXXXXX";
    clif_ready = -1;
    if (!mkdtemp(tmpl) || chdir(tmpl) != 0 || !clif_fixtures_make(&clif_fx)) return 0;
    clif_ready = 1;
    return 1;
}

static int et_fuzz_cli(const uint8_t *d, size_t n) {
    if (!clif_setup()) abort();  /* no scratch folder: nothing would be tested */
    clif_argv a;
    int runnable = clif_split(d, n, &a);
    /* the pure parsers see every argument unfiltered, long numbers included */
    for (int i = 1; i < a.argc; i++) {
        size_t s, h, w;
        float f;
        const char *v;
        int k = i;
        (void)cli_parse_size(a.argv[i], &s);
        (void)cli_parse_hw(a.argv[i], &h, &w);
        (void)cli_parse_float(a.argv[i], &f);
        (void)cli_opt(a.argc, a.argv, &k, "--size", &v);
        ET_FUZZ_ASSERT(k <= a.argc);
    }
    if (!runnable) return 0;
    clif_fixtures_restore(&clif_fx);
    int rc = et_cli_main(a.argc, a.argv);
    ET_FUZZ_ASSERT(rc == CLI_OK || rc == CLI_ERR || rc == CLI_USAGE);
    fflush(stdout);
    return 0;
}

#ifndef ET_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return et_fuzz_cli(d, n); }
#endif
