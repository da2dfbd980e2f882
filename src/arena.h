/* Where a loader puts a model's tables: the heap (one allocation per table,
 * released one by one by et_model_free), a bump region of caller memory
 * (nothing to release), or nowhere (only counting what a bump region would
 * need). One parser writes through this; no parsing here. */
#ifndef ET_ARENA_H
#define ET_ARENA_H

#include <stddef.h>

typedef enum et_arena_kind { ET_ARENA_HEAP = 0, ET_ARENA_BUMP, ET_ARENA_COUNT } et_arena_kind;

typedef struct et_arena {
    et_arena_kind kind;
    unsigned char *base;  /* BUMP: first ET_ALIGN-aligned byte of the caller's memory */
    size_t cap;           /* BUMP: bytes usable from base */
    size_t used;          /* BUMP and COUNT: bytes taken so far, alignment included */
    int overflow;         /* COUNT: the total no longer fits in size_t */
} et_arena;

void et_arena_heap(et_arena *a);
void et_arena_count(et_arena *a);
/* mem may have any alignment; the region starts at its first ET_ALIGN boundary. */
void et_arena_bump(et_arena *a, void *mem, size_t bytes);

/* n zeroed bytes aligned to align (a power of two, at most ET_ALIGN). NULL
 * when the heap is exhausted, the region is full, or always when counting. */
void *et_arena_alloc(et_arena *a, size_t n, size_t align);

#endif /* ET_ARENA_H */
