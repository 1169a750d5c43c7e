/* poisson_nll: F.poisson_nll_loss. log_input: exp(x) - y x; else the rate form
 * x - y log(x + eps), which needs x >= 0. full adds Stirling's y log y - y + log(2 pi y)/2
 * only where y > 1 (PyTorch masks the rest); it does not depend on x. */
#include "loss_kernel.h"

enum { P_LOG_INPUT, P_FULL, P_EPS };

static double stirling(double y)
{
    return y > 1.0 ? y * log(y) - y + 0.5 * log(2.0 * M_PI * y) : 0.0;
}

static int poisson_nll_elem(double x, double y, const double *param, double *l, double *g)
{
    if (param[P_LOG_INPUT] != 0.0) {
        double e = exp(x);
        *l = e - y * x;
        *g = e - y;
    } else {
        if (x < 0)
            return 1;
        double r = x + param[P_EPS];
        *l = x - y * log(r);
        *g = 1.0 - y / r;
    }
    if (param[P_FULL] != 0.0)
        *l += stirling(y);
    return 0;
}

static const char *const poisson_nll_reasons[2] = {
    "is negative (with log_input=false predictions are rates >= 0)", ""};

static void poisson_nll_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, poisson_nll_elem, -1, poisson_nll_reasons);
}

static loss_status poisson_nll_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, -1, 0);
}

static const loss_input_desc poisson_nll_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(0))},
};

static const loss_param_desc poisson_nll_params[] = {
    {"log_input", LOSS_PARAM_BOOL, 1.0, 0, 0.0, 0.0, NULL, 0},
    {"full", LOSS_PARAM_BOOL, 0.0, 0, 0.0, 0.0, NULL, 0},
    {"eps", LOSS_PARAM_FLOAT, 1e-8, LOSS_PARAM_HAS_MIN | LOSS_PARAM_MIN_EXCLUSIVE, 0.0, 0.0, NULL,
     0},
};

const loss_desc loss_desc_poisson_nll = {
    .name = "poisson_nll",
    .family = "regression",
    .reference = "torch.nn.functional.poisson_nll_loss",
    .inputs = poisson_nll_inputs,
    .n_inputs = 2,
    .params = poisson_nll_params,
    .n_params = 3,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = poisson_nll_plan,
    .chunk = poisson_nll_chunk,
};
