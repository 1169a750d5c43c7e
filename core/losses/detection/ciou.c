/* ciou: torchvision.ops.complete_box_iou_loss: DIoU (with torchvision's fixed eps 1e-7)
 * + alpha*v, alpha = v/(1 - IoU + v + eps) held constant; 0x0 boxes give no NaN.
 * The geometry, tie rules and gradient are shared with the other box losses in box.c. */
#include "box.h"

static void ciou_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    box_run(ctx, begin, end, part, BOX_CIOU);
}

static const loss_input_desc ciou_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(" boxes (x1, y1, x2, y2)", LOSS_DIMS(LOSS_N(N), LOSS_K(4)), LOSS_DIMS(LOSS_K(4)))},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(0))},
};

static const loss_param_desc ciou_params[] = {
    [BOX_P_EPS] = {"eps", LOSS_PARAM_FLOAT, 1e-7, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
};

const loss_desc loss_desc_ciou = {
    .name = "ciou",
    .aliases = (const char *const[]){"complete_box_iou_loss", NULL},
    .family = "detection",
    .reference =
        "torchvision.ops.complete_box_iou_loss (alpha constant; atan(w/h) = 0 for 0x0 boxes)",
    .inputs = ciou_inputs,
    .n_inputs = 2,
    .params = ciou_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD,
    .plan = box_plan,
    .chunk = ciou_chunk,
    .flags = LOSS_FLAG_DENSE,
};
