/* Liveness of activation buffers and their placement in one pool, greedy by
 * size as in TensorFlow Lite Micro's planner: biggest first, each at the
 * lowest offset that does not collide with a buffer live at the same time. */
#include <stdlib.h>
#include "plan.h"

et_status et_plan_values(const et_model *m, const et_shape *shapes, et_buf *bufs, uint32_t *root) {
    uint32_t nv = m->n_nodes + 1;
    for (uint32_t v = 0; v < nv; v++) {
        size_t bytes;
        if (!et_mul_ok(et_shape_count(shapes[v]), sizeof(float), &bytes) || bytes > (size_t)-1 - ET_ALIGN)
            return ET_ERR_OVERFLOW;
        root[v] = v;
        if (v > 0 && et_node_is_view(&m->nodes[v - 1])) root[v] = root[m->nodes[v - 1].in[0]];
        bufs[v].bytes = et_align_up(bytes);
        bufs[v].first = bufs[v].last = v;
        bufs[v].offset = 0;
    }
    /* a buffer lives until the last step that reads it or any view of it */
    for (uint32_t i = 0; i < m->n_nodes; i++)
        for (uint32_t k = 0; k < m->nodes[i].n_in; k++) {
            uint32_t r = root[m->nodes[i].in[k]];
            if (bufs[r].last < i + 1) bufs[r].last = i + 1;
        }
    for (uint32_t k = 0; k < m->n_outputs; k++) bufs[root[m->outputs[k]]].last = nv;
    for (uint32_t v = 0; v < nv; v++)
        if (root[v] != v) bufs[v].bytes = 0; /* views own nothing */
    return ET_OK;
}

static void sort_by_size(const et_buf *bufs, uint32_t *order, size_t n) {
    /* insertion sort keeps the planner free of global state and is fast for graph sizes */
    for (size_t i = 1; i < n; i++) {
        uint32_t v = order[i];
        size_t j = i;
        while (j > 0) {
            const et_buf *x = &bufs[order[j - 1]], *y = &bufs[v];
            int before = x->bytes > y->bytes || (x->bytes == y->bytes && (x->first < y->first || (x->first == y->first && order[j - 1] < v)));
            if (before) break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
}

size_t et_plan_place(et_buf *bufs, size_t n, uint32_t *order) {
    size_t placed = 0, pool = 0;
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    sort_by_size(bufs, order, n);
    for (size_t i = 0; i < n; i++) {
        et_buf *b = &bufs[order[i]];
        if (b->bytes == 0) { b->offset = 0; continue; }
        /* try offset 0, then the end of every conflicting placed buffer: the
         * lowest candidate that collides with none is the answer */
        size_t best = (size_t)-1;
        for (size_t c = 0; c <= placed; c++) {
            size_t cand;
            if (c == placed) cand = 0;
            else {
                const et_buf *p = &bufs[order[c]];
                if (p->last < b->first || p->first > b->last) continue;
                cand = p->offset + p->bytes;
            }
            if (cand >= best) continue;
            int ok = 1;
            for (size_t q = 0; q < placed && ok; q++) {
                const et_buf *p = &bufs[order[q]];
                if (p->last < b->first || p->first > b->last) continue;
                if (cand < p->offset + p->bytes && p->offset < cand + b->bytes) ok = 0;
            }
            if (ok) best = cand;
        }
        b->offset = best;
        if (best + b->bytes > pool) pool = best + b->bytes;
        placed = i + 1;
    }
    return pool;
}

size_t et_plan_bound(const et_buf *bufs, size_t n, uint32_t steps) {
    size_t worst = 0;
    for (uint32_t s = 0; s <= steps; s++) {
        size_t live = 0;
        for (size_t i = 0; i < n; i++)
            if (bufs[i].first <= s && s <= bufs[i].last) live += bufs[i].bytes;
        if (live > worst) worst = live;
    }
    return worst;
}
