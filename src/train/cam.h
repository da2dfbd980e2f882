/* Class activation maps, internal: which value of the graph is the feature
 * map, which value holds the class scores, and whether the head is the
 * global-average-pool + linear shape that plain CAM needs. Shared by
 * cam_head.c (graph analysis) and cam.c (the maps). */
#ifndef ET_CAM_H
#define ET_CAM_H

#include "model.h"

typedef struct et_cam_head {
    uint32_t logits;     /* value with the class scores (before a trailing softmax) */
    uint32_t feature;    /* value of the feature map */
    uint32_t linear;     /* CAM: the linear node, else UINT32_MAX */
    et_shape fshape;     /* feature map shape at the analysed input size */
    size_t classes;
    size_t in_h, in_w;   /* the input size analysed */
    et_cam_method method;/* resolved: ET_CAM_CAM or ET_CAM_GRADCAM */
} et_cam_head;

/* Analyse m at opt's input size (opt may be NULL). Errors name the node. */
et_status et_cam_analyze(const et_model *m, const et_cam_options *opt, et_cam_head *out,
                         char *err, size_t err_len);

#endif
