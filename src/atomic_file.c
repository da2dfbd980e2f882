/* Atomic, durable file replacement (temporary file, fsync, rename, folder
 * fsync) with injectable I/O. Nothing format-specific here. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "atomic_file.h"
#include "model.h"

static const et_io real_io = {write, fsync, rename};

et_status et_atomic_begin(et_atomic *w, const char *path, const et_io *io, char *err, size_t err_len) {
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->io = io ? io : &real_io;
    if (!path || !*path) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "write: empty path");
    size_t n = strlen(path);
    if (n + 5 > sizeof w->tmp) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "write: path longer than %zu bytes", sizeof w->tmp - 5);
    memcpy(w->path, path, n + 1);
    memcpy(w->tmp, path, n);
    memcpy(w->tmp + n, ".tmp", 5);
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (w->fd < 0) return et_fail(err, err_len, ET_ERR_IO, "create '%s': %s", w->tmp, strerror(errno));
    return ET_OK;
}

void et_atomic_write(et_atomic *w, const void *buf, size_t n) {
    const unsigned char *p = buf;
    while (n && !w->failed) {
        ssize_t k = w->io->write(w->fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) { w->failed = k < 0 ? errno : ENOSPC; w->what = "write"; break; } /* 0 bytes: a full disk */
        p += k;
        n -= (size_t)k;
    }
}

void et_atomic_abort(et_atomic *w) {
    if (w->fd >= 0) close(w->fd);
    w->fd = -1;
    if (w->tmp[0]) unlink(w->tmp);
}

/* Make the rename durable. Some file systems cannot fsync a folder (EINVAL). */
static int sync_dir(const et_atomic *w) {
    char dir[4096];
    const char *slash = strrchr(w->path, '/');
    if (!slash) memcpy(dir, ".", 2);
    else if (slash == w->path) memcpy(dir, "/", 2);
    else { memcpy(dir, w->path, (size_t)(slash - w->path)); dir[slash - w->path] = 0; }
    int fd = open(dir, O_RDONLY);
    if (fd < 0) return errno;
    int e = w->io->fsync(fd) != 0 && errno != EINVAL ? errno : 0;
    close(fd);
    return e;
}

et_status et_atomic_commit(et_atomic *w, char *err, size_t err_len) {
    if (!w->failed && w->io->fsync(w->fd) != 0) { w->failed = errno; w->what = "fsync"; }
    if (close(w->fd) != 0 && !w->failed) { w->failed = errno; w->what = "close"; }
    w->fd = -1;
    if (!w->failed && w->io->rename(w->tmp, w->path) != 0) { w->failed = errno; w->what = "rename"; }
    if (w->failed) {
        unlink(w->tmp);
        return et_fail(err, err_len, ET_ERR_IO, "%s '%s': %s ('%s' is unchanged)", w->what, w->tmp, strerror(w->failed), w->path);
    }
    int e = sync_dir(w);
    if (e) return et_fail(err, err_len, ET_ERR_IO, "fsync of the folder of '%s': %s", w->path, strerror(e));
    return ET_OK;
}

et_status et_file_write_atomic_io(const char *path, const void *buf, size_t len, const et_io *io, char *err, size_t err_len) {
    if (!buf && len) return et_fail(err, err_len, ET_ERR_INVALID_ARG, "write: NULL buffer");
    et_atomic w;
    et_status st = et_atomic_begin(&w, path, io, err, err_len);
    if (st != ET_OK) return st;
    et_atomic_write(&w, buf, len);
    return et_atomic_commit(&w, err, err_len);
}

et_status et_file_write_atomic(const char *path, const void *buf, size_t len) {
    return et_file_write_atomic_io(path, buf, len, NULL, NULL, 0);
}
