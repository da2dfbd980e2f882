/* Reference softmax over the last axis. Log-softmax and the loss gradients
 * belong to train/, not here. */
#include <math.h>

#include "ops/ops.h"

void et_f32_softmax__ref(size_t rows, size_t c, const float *x, float *y) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * c;
        float *yr = y + r * c;
        if (c == 0) continue;
        /* Subtracting the max keeps exp() <= 1, so logits of +-1000 work.
         * A NaN anywhere becomes the max and makes the whole row NaN, as in
         * PyTorch. */
        float m = xr[0];
        for (size_t i = 1; i < c; i++)
            if (xr[i] > m || xr[i] != xr[i]) m = xr[i];
        double sum = 0.0;
        for (size_t i = 0; i < c; i++) sum += exp((double)xr[i] - (double)m);
        for (size_t i = 0; i < c; i++) yr[i] = (float)(exp((double)xr[i] - (double)m) / sum);
    }
}
