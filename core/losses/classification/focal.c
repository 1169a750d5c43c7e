/* focal: torchvision's sigmoid_focal_loss with sigmoid(x) replaced by the given probability p:
 * ce = BCE(p, y) (logs clamped at -100), p_t = p*y + (1-p)(1-y), l = alpha_t * ce * (1-p_t)^gamma,
 * alpha_t = alpha*y + (1-alpha)(1-y), and alpha < 0 drops alpha_t. q = 1 - p_t is computed as
 * p(1-y) + y(1-p): the same value without torch's cancellation (docs/decisions.md). Where 1 - p_t =
 * 0 the factor's gradient gamma*(1-p_t)^(gamma-1) is infinite for gamma < 1 while ce is 0: the
 * limit, 0, is returned instead of torch's NaN. */
#include "bce_terms.h"
#include "loss_kernel.h"

enum { IN_PRED, IN_TARGET };
enum { P_ALPHA, P_GAMMA };

/* q^gamma and d/dq of it, with the limits at q = 0 (0^0 = 1, derivative 0 there). */
static void focal_pow(double q, double gamma, double *f, double *df)
{
    if (q <= 0.0) {
        *f = gamma == 0.0 ? 1.0 : 0.0;
        *df = 0.0;
        return;
    }
    *f = pow(q, gamma);
    *df = gamma == 0.0 ? 0.0 : gamma * pow(q, gamma - 1.0);
}

static int focal_elem(double p, double y, const double *param, double *l, double *g)
{
    if (!bce_is_probability(p))
        return 1;
    if (!(y >= 0.0 && y <= 1.0))
        return 2;
    double alpha = param[P_ALPHA], gamma = param[P_GAMMA];
    double ce = bce_term_value(p, y), dce = bce_term_grad(p, y);
    double q = p * (1.0 - y) + y * (1.0 - p), f, df; /* 1 - p_t, no cancellation */
    focal_pow(q, gamma, &f, &df);
    /* dq/dp = 1 - 2y; where q = 0, ce = 0 and df = 0, so the product rule stays finite. */
    double a = alpha >= 0.0 ? alpha * y + (1.0 - alpha) * (1.0 - y) : 1.0;
    *l = a * (ce * f);
    *g = a * (dce * f + ce * df * (1.0 - 2.0 * y));
    return 0;
}

static const char *const focal_reasons[2] = {"is outside [0, 1]", "is outside [0, 1]"};

static void focal_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, focal_elem, -1, focal_reasons);
}

static loss_status focal_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, -1, 0);
}

static const loss_input_desc focal_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE("; probabilities in [0, 1]", LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE("; in [0, 1]", LOSS_SAME(IN_PRED))},
};

static const loss_param_desc focal_params[] = {
    {"alpha", LOSS_PARAM_FLOAT, 0.25, 0, 0.0, 0.0, NULL, 0},
    {"gamma", LOSS_PARAM_FLOAT, 2.0, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
};

const loss_desc loss_desc_focal = {
    .name = "focal",
    .family = "classification",
    .reference = "torchvision.ops.sigmoid_focal_loss with sigmoid(x) replaced by the given "
                 "probability (BCE logs clamped at -100; alpha < 0 disables alpha)",
    .inputs = focal_inputs,
    .n_inputs = 2,
    .params = focal_params,
    .n_params = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = focal_plan,
    .chunk = focal_chunk,
    .fast = {.kernel = KERN_FOCAL},
};
