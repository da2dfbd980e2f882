/* The three kinds of storage behind et_arena_alloc (see arena.h). A bump
 * region and a count of the same requests give the same byte totals, which
 * is what lets et_model_load_static tell the exact size before it loads. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "arena.h"
#include "edgetune.h"

void et_arena_heap(et_arena *a) {
    memset(a, 0, sizeof *a);
    a->kind = ET_ARENA_HEAP;
}

void et_arena_count(et_arena *a) {
    memset(a, 0, sizeof *a);
    a->kind = ET_ARENA_COUNT;
}

void et_arena_bump(et_arena *a, void *mem, size_t bytes) {
    memset(a, 0, sizeof *a);
    a->kind = ET_ARENA_BUMP;
    uintptr_t p = (uintptr_t)mem, up = (p + (ET_ALIGN - 1)) & ~(uintptr_t)(ET_ALIGN - 1);
    size_t lead = (size_t)(up - p);
    if (mem && bytes >= lead) {
        a->base = (unsigned char *)mem + lead;
        a->cap = bytes - lead;
    }
}

/* Offset of the next n bytes at alignment align, or 0 with *ok = 0 on overflow. */
static size_t reserve(et_arena *a, size_t n, size_t align, int *ok) {
    size_t at = (a->used + (align - 1)) & ~(align - 1);
    *ok = at >= a->used && n <= (size_t)-1 - at;
    if (*ok) a->used = at + n;
    return at;
}

void *et_arena_alloc(et_arena *a, size_t n, size_t align) {
    int ok;
    if (a->kind == ET_ARENA_HEAP) {
        if (align <= _Alignof(max_align_t)) return calloc(n ? n : 1, 1);
        size_t cap = (n + (align - 1)) & ~(align - 1);
        void *p = cap >= n && cap ? aligned_alloc(align, cap) : NULL;
        if (p) memset(p, 0, cap);
        return p;
    }
    if (a->kind == ET_ARENA_COUNT) {
        reserve(a, n, align, &ok);
        if (!ok) a->overflow = 1;
        return NULL;
    }
    size_t before = a->used, at = reserve(a, n, align, &ok);
    if (!ok || !a->base || a->used > a->cap) {
        a->used = before;
        return NULL;
    }
    memset(a->base + at, 0, n);
    return a->base + at;
}
