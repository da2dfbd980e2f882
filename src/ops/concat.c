/* Reference channel concatenation of NHWC tensors. Other axes are not
 * supported here: the graph reshapes rather than concatenating along them. */
#include "ops/ops.h"

void et_f32_concat__ref(size_t rows, size_t n, const size_t *cs, const float *const *xs,
                        float *y) {
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < cs[i]; c++)
                *y++ = xs[i][r * cs[i] + c];
}
