/* box_iou: the IoU loss, 1 - I/(U+eps), with torchvision's intersection (0 unless the
 * boxes overlap by a positive amount in both dims, and then no gradient through it).
 * The geometry, tie rules and gradient are shared with the other box losses in box.c. */
#include "box.h"

static void box_iou_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    box_run(ctx, begin, end, part, BOX_IOU);
}

static const loss_input_desc box_iou_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(" boxes (x1, y1, x2, y2)", LOSS_DIMS(LOSS_N(N), LOSS_K(4)), LOSS_DIMS(LOSS_K(4)))},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(0))},
};

static const loss_param_desc box_iou_params[] = {
    [BOX_P_EPS] = {"eps", LOSS_PARAM_FLOAT, 1e-7, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
};

const loss_desc loss_desc_box_iou = {
    .name = "box_iou",
    .family = "detection",
    .reference = "IoU loss 1 - I/(U+eps), I as torchvision's _loss_inter_union",
    .inputs = box_iou_inputs,
    .n_inputs = 2,
    .params = box_iou_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD,
    .plan = box_plan,
    .chunk = box_iou_chunk,
    .flags = LOSS_FLAG_DENSE,
};
