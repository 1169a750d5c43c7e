/* mse: squared error, F.mse_loss with PyTorch 2.x's `weight` (mean = sum(w*l)/sum(w)).
 * Unweighted chunks take the ISA fast path; anything unusual falls back to the reference. */
#include "loss_kernel.h"

enum { IN_PRED, IN_TARGET, IN_WEIGHT };

static int mse_elem(double p, double y, const double *param, double *l, double *g)
{
    (void)param;
    double d = p - y;
    *l = d * d;
    *g = 2.0 * d;
    return 0;
}

static const char *const mse_reasons[2] = {"", ""};

static void mse_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, mse_elem, ctx->in[IN_WEIGHT] ? IN_WEIGHT : -1,
                         mse_reasons);
}

static loss_status mse_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, IN_WEIGHT, 1);
}

static const loss_input_desc mse_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(IN_PRED))},
    {"weight", LOSS_IN_FLOAT, LOSS_INPUT_OPTIONAL | LOSS_INPUT_PARAM,
     LOSS_RULE(NULL, LOSS_SAME(IN_PRED))},
};

const loss_desc loss_desc_mse = {
    .name = "mse",
    .aliases = (const char *const[]){"MSELoss", "mean_squared_error", "l2", NULL},
    .family = "regression",
    .reference = "torch.nn.functional.mse_loss (2.x weight: mean = sum(w*l)/sum(w))",
    .inputs = mse_inputs,
    .n_inputs = 3,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = mse_plan,
    .chunk = mse_chunk,
    .fast = {.kernel = KERN_MSE, .absent = LOSS_INPUT_BIT(IN_WEIGHT)},
};
