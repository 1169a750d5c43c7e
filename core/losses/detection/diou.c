/* diou: torchvision.ops.distance_box_iou_loss: 1 - IoU + rho^2/(c^2 + eps), rho the
 * distance of the centres, c the diagonal of the smallest enclosing box.
 * The geometry, tie rules and gradient are shared with the other box losses in box.c. */
#include "box.h"

static void diou_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    box_run(ctx, begin, end, part, BOX_DIOU);
}

static const loss_input_desc diou_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(" boxes (x1, y1, x2, y2)", LOSS_DIMS(LOSS_N(N), LOSS_K(4)), LOSS_DIMS(LOSS_K(4)))},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(0))},
};

static const loss_param_desc diou_params[] = {
    [BOX_P_EPS] = {"eps", LOSS_PARAM_FLOAT, 1e-7, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
};

const loss_desc loss_desc_diou = {
    .name = "diou",
    .family = "detection",
    .reference = "torchvision.ops.distance_box_iou_loss",
    .inputs = diou_inputs,
    .n_inputs = 2,
    .params = diou_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD,
    .plan = box_plan,
    .chunk = diou_chunk,
    .flags = LOSS_FLAG_DENSE,
};
