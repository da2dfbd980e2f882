/* Reference inference batchnorm over the channel (last) axis. Folding into a
 * preceding conv/linear and the training-mode statistics live elsewhere. */
#include <math.h>

#include "ops/ops.h"

void et_f32_batchnorm__ref(size_t rows, size_t c, const float *x, const float *gamma,
                           const float *beta, const float *mean, const float *var,
                           float eps, float *y) {
    for (size_t r = 0; r < rows; r++) {
        for (size_t k = 0; k < c; k++) {
            /* The formula as written, in double, rather than the folded
             * scale/shift form: folding is what this kernel checks. */
            double v = ((double)x[r * c + k] - (double)mean[k]) /
                       sqrt((double)var[k] + (double)eps);
            y[r * c + k] = (float)(v * (double)gamma[k] + (double)beta[k]);
        }
    }
}
