/* log_cosh: keras.losses.LogCosh per element (no mean over the last axis), log(cosh(d)).
 * Near 0 it is log1p(2 sinh(d/2)^2), exact where the overflow-free form
 * |d| + softplus(-2|d|) - log 2 loses digits to cancellation; beyond |d| = 1 that form. */
#include "loss_kernel.h"

static int log_cosh_elem(double p, double y, const double *param, double *l, double *g)
{
    (void)param;
    double d = p - y, ad = fabs(d);
    if (ad < 1.0) {
        double s = sinh(0.5 * d);
        *l = log1p(2.0 * s * s);
    } else {
        *l = ad + log1p(exp(-2.0 * ad)) - M_LN2;
    }
    *g = tanh(d);
    return 0;
}

static const char *const log_cosh_reasons[2] = {"", ""};

static void log_cosh_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, log_cosh_elem, -1, log_cosh_reasons);
}

static loss_status log_cosh_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, -1, 0);
}

static const loss_input_desc log_cosh_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(0))},
};

const loss_desc loss_desc_log_cosh = {
    .name = "log_cosh",
    .family = "regression",
    .reference = "keras.losses.LogCosh, elementwise (no last-axis mean)",
    .inputs = log_cosh_inputs,
    .n_inputs = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = log_cosh_plan,
    .chunk = log_cosh_chunk,
    .fast = {.kernel = KERN_LOG_COSH},
};
