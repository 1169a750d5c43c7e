/* mape: keras.losses.MeanAbsolutePercentageError per element (no mean over the last axis),
 * 100 |p - y| / max(|y|, 1e-7). The gradient takes sign(0) = 0, as abs does in PyTorch. */
#include "loss_kernel.h"

#define MAPE_EPS 1e-7

static int mape_elem(double p, double y, const double *param, double *l, double *g)
{
    (void)param;
    double d = p - y, scale = 100.0 / fmax(fabs(y), MAPE_EPS);
    *l = fabs(d) * scale;
    *g = ((d > 0) - (d < 0)) * scale;
    return 0;
}

static const char *const mape_reasons[2] = {"", ""};

static void mape_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, mape_elem, -1, mape_reasons);
}

static loss_status mape_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, -1, 0);
}

static const loss_input_desc mape_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(0))},
};

const loss_desc loss_desc_mape = {
    .name = "mape",
    .family = "regression",
    .reference = "keras.losses.MeanAbsolutePercentageError, elementwise: "
                 "100*|d|/max(|y|,1e-7)",
    .inputs = mape_inputs,
    .n_inputs = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = mape_plan,
    .chunk = mape_chunk,
};
