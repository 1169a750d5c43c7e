/* mask_iou: mask IoU made differentiable (soft Jaccard), per sample
 * 1 - (TP + s)/(U + s) with U = sum(p + y - p*y) = TP + FP + FN. */
#include "overlap.h"

enum { P_SMOOTH };

/* 1 - J = (FP + FN)/(U + s); dJ/dp_k = (y_k (U+s) - (TP+s)(1-y_k)) / (U+s)^2. */
static double iou_loss(const overlap_sums *s, const double *param, double *a, double *b)
{
    double sm = param[P_SMOOTH], u = s->tp + s->fp + s->fn + sm, i = s->tp + sm;
    *a = i / (u * u);
    *b = -(u + i) / (u * u);
    return (s->fp + s->fn) / u;
}

static void iou_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    overlap_run(ctx, begin, end, part, iou_loss);
}

static const loss_param_desc iou_params[] = {
    {"smooth", LOSS_PARAM_FLOAT, 1e-6, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
};

const loss_desc loss_desc_mask_iou = {
    .name = "mask_iou",
    .family = "segmentation",
    .reference = "mask IoU made differentiable (soft Jaccard): "
                 "1 - (sum(p*y)+s)/(sum(p+y-p*y)+s) per sample",
    .inputs = overlap_inputs,
    .n_inputs = 2,
    .params = iou_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = overlap_plan,
    .chunk = iou_chunk,
};
