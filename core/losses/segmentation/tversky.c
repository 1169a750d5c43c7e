/* tversky: focal Tversky loss per sample, (1 - (TP+s)/(TP + alpha FP + beta FN + s))^gamma.
 * 1 - T is formed as (alpha FP + beta FN)/den, so it never cancels. At T == 1 with
 * gamma < 1 the true slope is infinite; the loss is at its minimum 0 there and lossd returns
 * the zero gradient rather than inf/NaN. */
#include <math.h>

#include "overlap.h"

enum { P_ALPHA, P_BETA, P_GAMMA, P_SMOOTH };

/* dT/dp_k = (y_k den - (TP+s)(alpha + y_k (1 - alpha - beta))) / den^2. */
static double tversky_loss(const overlap_sums *s, const double *param, double *a, double *b)
{
    const double al = param[P_ALPHA], be = param[P_BETA], ga = param[P_GAMMA];
    const double num = s->tp + param[P_SMOOTH];
    const double den = num + al * s->fp + be * s->fn, base = (al * s->fp + be * s->fn) / den;
    double slope = 0.0; /* d loss / d (1 - T) */
    if (ga != 0.0 && (base > 0.0 || ga >= 1.0))
        slope = ga * pow(base, ga - 1.0);
    *a = slope * num * al / (den * den);
    *b = -slope * (den - num * (1.0 - al - be)) / (den * den);
    return pow(base, ga);
}

static void tversky_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    overlap_run(ctx, begin, end, part, tversky_loss);
}

static const loss_param_desc tversky_params[] = {
    {"alpha", LOSS_PARAM_FLOAT, 0.5, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
    {"beta", LOSS_PARAM_FLOAT, 0.5, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
    {"gamma", LOSS_PARAM_FLOAT, 1.0, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
    {"smooth", LOSS_PARAM_FLOAT, 1e-6, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
};

const loss_desc loss_desc_tversky = {
    .name = "tversky",
    .family = "segmentation",
    .reference = "focal Tversky per sample: (1 - (TP+s)/(TP + alpha*FP + beta*FN + s))^gamma",
    .inputs = overlap_inputs,
    .n_inputs = 2,
    .params = tversky_params,
    .n_params = 4,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = overlap_plan,
    .chunk = tversky_chunk,
};
