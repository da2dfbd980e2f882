/* Buffers that end exactly where a PROT_NONE page starts, for kernel tests:
 * a tail done with a whole-vector load or store past the end faults instead
 * of passing unnoticed. The including file defines _DEFAULT_SOURCE (for
 * MAP_ANONYMOUS) before any system header. */
#ifndef ET_TEST_GUARD_H
#define ET_TEST_GUARD_H

#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

static inline size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }
static inline size_t guard_data_bytes(size_t n) {
    size_t pg = page_size(), bytes = (n ? n : 1) * sizeof(float);
    return (bytes + pg - 1) / pg * pg;
}
static inline float *gbuf(size_t n) {
    size_t pg = page_size(), data = guard_data_bytes(n), bytes = (n ? n : 1) * sizeof(float);
    char *p = mmap(NULL, data + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    if (mprotect(p + data, pg, PROT_NONE) != 0) { munmap(p, data + pg); return NULL; }
    return (float *)(void *)(p + data - bytes);
}
static inline void gfree(float *f, size_t n) {
    if (!f) return;
    size_t data = guard_data_bytes(n), bytes = (n ? n : 1) * sizeof(float);
    munmap((char *)f + bytes - data, data + page_size());
}

#endif
