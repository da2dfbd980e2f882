/* Atomic file replacement: a failing write (short write, ENOSPC, EIO on
 * fsync, failed rename) reports an error and leaves the old file intact. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "atomic_file.h"
#include "harness.h"

static int fail_mode;
static ssize_t short_write(int fd, const void *b, size_t n) {
    if (fail_mode == 1) { errno = ENOSPC; return n > 3 ? write(fd, b, 3) : -1; } /* first chunk short, then ENOSPC */
    return write(fd, b, n);
}
static ssize_t enospc_write(int fd, const void *b, size_t n) { (void)fd; (void)b; (void)n; errno = ENOSPC; return -1; }
static int eio_fsync(int fd) { (void)fd; errno = EIO; return -1; }
static int bad_rename(const char *a, const char *b) { (void)a; (void)b; errno = EXDEV; return -1; }

static char dir[64];

static int file_is(const char *path, const char *want) {
    FILE *f = fopen(path, "rb");
    char buf[64] = {0};
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    return f && n == strlen(want) && memcmp(buf, want, n) == 0;
}

static void test_failures_keep_old_file(void) {
    char path[128], tmp[140], err[256];
    snprintf(path, sizeof path, "%s/ckpt", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CHECK_OK(et_file_write_atomic(path, "old contents", 12));
    CHECK(file_is(path, "old contents"));
    et_io ios[4] = {{short_write, fsync, rename}, {enospc_write, fsync, rename}, {write, eio_fsync, rename}, {write, fsync, bad_rename}};
    const char *want[4] = {"No space", "No space", "Input/output", "rename"};
    for (int k = 0; k < 4; k++) {
        fail_mode = k == 0;
        err[0] = 0;
        CHECK_ST(et_file_write_atomic_io(path, "new contents!", 13, &ios[k], err, sizeof err), ET_ERR_IO);
        CHECKF(strstr(err, want[k]) && strstr(err, "unchanged"), "case %d: %s", k, err);
        CHECK(file_is(path, "old contents"));
        CHECK(access(tmp, F_OK) != 0); /* no temporary left behind */
    }
    CHECK_OK(et_file_write_atomic(path, "new contents!", 13));
    CHECK(file_is(path, "new contents!"));
    CHECK_ST(et_file_write_atomic_io("/nonexistent-dir/x", "a", 1, NULL, err, sizeof err), ET_ERR_IO);
    CHECK(strstr(err, "nonexistent-dir"));
    unlink(path);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/et_atomic_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    RUN(test_failures_keep_old_file);
    rmdir(dir);
    return t_summary(__FILE__);
}
