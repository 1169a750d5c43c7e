/* soft_margin: F.soft_margin_loss, log(1 + exp(-y x)) with y in {-1, 1}, computed as
 * softplus(-y x) so it never overflows (PyTorch 1.13 gives inf/NaN beyond -y x ~ 88). */
#include "loss_kernel.h"

static int soft_margin_elem(double x, double y, const double *param, double *l, double *g)
{
    (void)param;
    if (y != 1.0 && y != -1.0)
        return 2;
    double z = -y * x;
    *l = loss_softplus(z);
    *g = -y * loss_sigmoid(z);
    return 0;
}

static const char *const soft_margin_reasons[2] = {"", "is not -1 or 1"};

static void soft_margin_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, soft_margin_elem, -1, soft_margin_reasons);
}

static loss_status soft_margin_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, -1, 0);
}

static const loss_input_desc soft_margin_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(", in {-1, 1}", LOSS_SAME(0))},
};

const loss_desc loss_desc_soft_margin = {
    .name = "soft_margin",
    .aliases = (const char *const[]){"SoftMarginLoss", NULL},
    .family = "classification",
    .reference = "torch.nn.functional.soft_margin_loss, computed as softplus(-y*x)",
    .inputs = soft_margin_inputs,
    .n_inputs = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = soft_margin_plan,
    .chunk = soft_margin_chunk,
    .fast = {.kernel = KERN_SOFT_MARGIN},
};
