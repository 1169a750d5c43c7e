/* msle: keras.losses.MeanSquaredLogarithmicError per element (no mean over the last axis),
 * (log1p(max(p, 1e-7)) - log1p(max(y, 1e-7)))^2. The clip holds p constant at or below
 * 1e-7, so the gradient there is 0. */
#include "loss_kernel.h"

#define MSLE_EPS 1e-7

static int msle_elem(double p, double y, const double *param, double *l, double *g)
{
    (void)param;
    double delta = log1p(fmax(p, MSLE_EPS)) - log1p(fmax(y, MSLE_EPS));
    *l = delta * delta;
    *g = p > MSLE_EPS ? 2.0 * delta / (1.0 + p) : 0.0;
    return 0;
}

static const char *const msle_reasons[2] = {"", ""};

static void msle_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, msle_elem, -1, msle_reasons);
}

static loss_status msle_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, -1, 0);
}

static const loss_input_desc msle_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(0))},
};

const loss_desc loss_desc_msle = {
    .name = "msle",
    .family = "regression",
    .reference = "keras.losses.MeanSquaredLogarithmicError, elementwise",
    .inputs = msle_inputs,
    .n_inputs = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = msle_plan,
    .chunk = msle_chunk,
};
