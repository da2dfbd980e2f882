/* Proof that the example makes no heap call: linked in with -Wl,--wrap for
 * malloc, calloc, realloc, free, aligned_alloc and main, it counts the heap
 * calls made while main runs (by the program, libedgetune.a and, in static
 * builds, libc on their behalf) and prints the count when main returns.
 * libc's own start-up and exit are not counted. Not part of a firmware. */
#include <stddef.h>
#include <stdio.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void __real_free(void *p);
int __real_main(void);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);
void __wrap_free(void *p);
int __wrap_main(void);

static int in_main;
static unsigned long calls;
void *__wrap_malloc(size_t n) { calls += in_main; return __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t s) { calls += in_main; return __real_calloc(n, s); }
void *__wrap_realloc(void *p, size_t n) { calls += in_main; return __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t a, size_t n) { calls += in_main; return __real_aligned_alloc(a, n); }
void __wrap_free(void *p) { calls += in_main && p; __real_free(p); }

int __wrap_main(void) {
    in_main = 1;
    int rc = __real_main();
    in_main = 0;
    printf("heap calls: %lu\n", calls);
    return rc;
}
