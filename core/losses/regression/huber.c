/* huber: F.huber_loss(delta), with an optional per-element `weight` whose mean is the true
 * weighted mean sum(w*l)/sum(w), as for mse and mae. The loss is C1 at |d| = delta, so the
 * breakpoint needs no tie rule. Unweighted chunks take the ISA fast path. */
#include "loss_kernel.h"

enum { IN_PRED, IN_TARGET, IN_WEIGHT };
enum { P_DELTA };

static int huber_elem(double p, double y, const double *param, double *l, double *g)
{
    double delta = param[P_DELTA], d = p - y, z = fabs(d);
    if (z < delta) {
        *l = 0.5 * d * d;
        *g = d;
    } else {
        *l = delta * (z - 0.5 * delta);
        *g = d > 0 ? delta : -delta;
    }
    return 0;
}

static const char *const huber_reasons[2] = {"", ""};

static void huber_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, huber_elem, ctx->in[IN_WEIGHT] ? IN_WEIGHT : -1,
                         huber_reasons);
}

static loss_status huber_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, IN_WEIGHT, 1);
}

static const loss_input_desc huber_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(IN_PRED))},
    {"weight", LOSS_IN_FLOAT, LOSS_INPUT_OPTIONAL | LOSS_INPUT_PARAM,
     LOSS_RULE(NULL, LOSS_SAME(IN_PRED))},
};

static const loss_param_desc huber_params[] = {
    {"delta", LOSS_PARAM_FLOAT, 1.0, LOSS_PARAM_HAS_MIN | LOSS_PARAM_MIN_EXCLUSIVE, 0.0, 0.0, NULL,
     0},
};

const loss_desc loss_desc_huber = {
    .name = "huber",
    .aliases = (const char *const[]){"HuberLoss", NULL},
    .family = "regression",
    .reference = "torch.nn.functional.huber_loss (weight: mean = sum(w*l)/sum(w))",
    .inputs = huber_inputs,
    .n_inputs = 3,
    .params = huber_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = huber_plan,
    .chunk = huber_chunk,
    .fast = {.kernel = KERN_HUBER, .absent = LOSS_INPUT_BIT(IN_WEIGHT)},
};
