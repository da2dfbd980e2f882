/* Crash-safe file replacement shared by every writer (.etm, .npy,
 * checkpoints): write a temporary file in the same folder, fsync it, rename
 * it over the target, fsync the folder. The I/O calls are injectable so
 * tests can simulate short writes, ENOSPC and EIO. */
#ifndef ET_ATOMIC_FILE_H
#define ET_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>
#include "edgetune.h"

typedef struct et_io {
    ssize_t (*write)(int fd, const void *buf, size_t n);
    int (*fsync)(int fd);
    int (*rename)(const char *from, const char *to);
} et_io;

typedef struct et_atomic {
    int fd;
    int failed;       /* errno of the first failure, 0 if none */
    const char *what; /* the call that failed */
    const et_io *io;
    char tmp[4096];
    char path[4096];
} et_atomic;

/* io NULL: the real system calls. On failure err gets "what 'file': reason". */
et_status et_atomic_begin(et_atomic *w, const char *path, const et_io *io, char *err, size_t err_len);
/* Append bytes; errors are remembered and reported by commit. */
void et_atomic_write(et_atomic *w, const void *buf, size_t n);
/* fsync, rename, fsync the folder; on any failure the temporary file is
 * removed and the target is untouched. */
et_status et_atomic_commit(et_atomic *w, char *err, size_t err_len);
void et_atomic_abort(et_atomic *w);

/* The whole buffer in one go, with an injectable io (tests). */
et_status et_file_write_atomic_io(const char *path, const void *buf, size_t len, const et_io *io,
                                  char *err, size_t err_len);

#endif
