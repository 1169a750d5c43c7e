/* mbe: mean bias error, the signed metric mean(targets - predictions).
 * Each element's gradient is -1 (times the reduction scale), whatever the data. */
#include "loss_kernel.h"

enum { IN_PRED, IN_TARGET };

static int mbe_elem(double p, double y, const double *param, double *l, double *g)
{
    (void)param;
    *l = y - p;
    *g = -1.0;
    return 0;
}

static const char *const mbe_reasons[2] = {"", ""};

static void mbe_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, mbe_elem, -1, mbe_reasons);
}

static loss_status mbe_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, -1, 0);
}

static const loss_input_desc mbe_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(IN_PRED))},
};

const loss_desc loss_desc_mbe = {
    .name = "mbe",
    .family = "regression",
    .reference = "mean bias error: mean(targets - predictions)",
    .inputs = mbe_inputs,
    .n_inputs = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = mbe_plan,
    .chunk = mbe_chunk,
    .fast = {.kernel = KERN_MBE},
};
