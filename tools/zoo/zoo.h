/* Model zoo: well-known topologies built with the public builder API and
 * filled with deterministic random weights, for tests, benchmarks and demos.
 * Uses only include/edgetune.h; no pretrained weights and no file I/O here. */
#ifndef ET_ZOO_H
#define ET_ZOO_H

#include <stddef.h>
#include "edgetune.h"

/* torchvision's MobileNetV2 (node names follow its module paths, e.g.
 * "features.3.conv.1.0") for an h x w x 3 input and `classes` outputs.
 * Channel counts are _make_divisible(c * width_mult, 8). with_bn = 1 adds
 * conv -> batchnorm -> ReLU6 as in PyTorch (fold it with et_model_fold);
 * with_bn = 0 gives convs with a bias and the activation fused. The same
 * seed gives the same weights. */
et_status et_zoo_mobilenet_v2(size_t classes, size_t h, size_t w, float width_mult,
                              unsigned seed, int with_bn, et_model **out);

/* Same, writing the builder's message to err on failure. */
et_status et_zoo_mobilenet_v2_err(size_t classes, size_t h, size_t w, float width_mult,
                                  unsigned seed, int with_bn, et_model **out,
                                  char *err, size_t err_len);

/* torchvision's _make_divisible(v, divisor): round to the nearest multiple of
 * divisor, at least divisor, never more than 10% below v. */
size_t et_zoo_make_divisible(double v, size_t divisor);

#endif /* ET_ZOO_H */
