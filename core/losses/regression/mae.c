/* mae: absolute error, F.l1_loss with PyTorch 2.x's `weight` (mean = sum(w*l)/sum(w)).
 * The subgradient at d = 0 is 0 (torch's sgn). Unweighted chunks take the ISA fast path;
 * anything it declines is recomputed here. */
#include "loss_kernel.h"

enum { IN_PRED, IN_TARGET, IN_WEIGHT };

static int mae_elem(double p, double y, const double *param, double *l, double *g)
{
    (void)param;
    double d = p - y;
    *l = fabs(d);
    *g = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;
    return 0;
}

static const char *const mae_reasons[2] = {"", ""};

static void mae_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, mae_elem, ctx->in[IN_WEIGHT] ? IN_WEIGHT : -1,
                         mae_reasons);
}

static loss_status mae_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, IN_WEIGHT, 1);
}

static const loss_input_desc mae_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(IN_PRED))},
    {"weight", LOSS_IN_FLOAT, LOSS_INPUT_OPTIONAL | LOSS_INPUT_PARAM,
     LOSS_RULE(NULL, LOSS_SAME(IN_PRED))},
};

static const char *const mae_aliases[] = {"l1", "L1Loss", "mean_absolute_error", NULL};

const loss_desc loss_desc_mae = {
    .name = "mae",
    .aliases = mae_aliases,
    .family = "regression",
    .reference = "torch.nn.functional.l1_loss (sign(0) = 0; 2.x weight: mean = sum(w*l)/sum(w))",
    .inputs = mae_inputs,
    .n_inputs = 3,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = mae_plan,
    .chunk = mae_chunk,
    .fast = {.kernel = KERN_MAE, .absent = LOSS_INPUT_BIT(IN_WEIGHT)},
};
