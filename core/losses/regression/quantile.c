/* quantile: pinball loss (tfa.losses.pinball_loss with tau = quantile), per element
 * max(q (y - p), (q - 1)(y - p)). At the tie p == y the gradient is 0. */
#include "loss_kernel.h"

enum { P_QUANTILE };

static int quantile_elem(double p, double y, const double *param, double *l, double *g)
{
    double u = y - p, q = param[P_QUANTILE];
    if (u > 0) {
        *l = q * u;
        *g = -q;
    } else if (u < 0) {
        *l = (q - 1.0) * u;
        *g = 1.0 - q;
    } else {
        *l = 0.0;
        *g = 0.0;
    }
    return 0;
}

static const char *const quantile_reasons[2] = {"", ""};

static void quantile_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, quantile_elem, -1, quantile_reasons);
}

static loss_status quantile_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, -1, 0);
}

static const loss_input_desc quantile_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(0))},
};

static const loss_param_desc quantile_params[] = {
    {"quantile", LOSS_PARAM_FLOAT, 0.5,
     LOSS_PARAM_HAS_MIN | LOSS_PARAM_HAS_MAX | LOSS_PARAM_MIN_EXCLUSIVE | LOSS_PARAM_MAX_EXCLUSIVE,
     0.0, 1.0, NULL, 0},
};

const loss_desc loss_desc_quantile = {
    .name = "quantile",
    .family = "regression",
    .reference = "pinball: max(q*(y-p), (q-1)*(y-p)) (tfa.losses.pinball_loss), "
                 "gradient 0 at the tie",
    .inputs = quantile_inputs,
    .n_inputs = 2,
    .params = quantile_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = quantile_plan,
    .chunk = quantile_chunk,
};
