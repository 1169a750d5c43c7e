/* dice: soft Dice loss per sample, 1 - (2 TP + s)/(sum(p) + sum(y) + s). */
#include "overlap.h"

enum { P_SMOOTH };

/* 1 - D = (FP + FN)/Q with Q = 2TP + FP + FN + s; dD/dp_k = (2 y_k Q - (2TP + s)) / Q^2. */
static double dice_loss(const overlap_sums *s, const double *param, double *a, double *b)
{
    double q = 2.0 * s->tp + s->fp + s->fn + param[P_SMOOTH];
    *a = (2.0 * s->tp + param[P_SMOOTH]) / (q * q);
    *b = -2.0 / q;
    return (s->fp + s->fn) / q;
}

static void dice_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    overlap_run(ctx, begin, end, part, dice_loss);
}

static const loss_param_desc dice_params[] = {
    {"smooth", LOSS_PARAM_FLOAT, 1e-6, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
};

const loss_desc loss_desc_dice = {
    .name = "dice",
    .family = "segmentation",
    .reference = "soft Dice per sample: 1 - (2*sum(p*y)+s)/(sum(p)+sum(y)+s)",
    .inputs = overlap_inputs,
    .n_inputs = 2,
    .params = dice_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = overlap_plan,
    .chunk = dice_chunk,
};
