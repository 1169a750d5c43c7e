/* sigmoid_focal: torchvision.ops.sigmoid_focal_loss on logits x with targets y in [0, 1]:
 * alpha_t ce q^gamma, ce = BCE-with-logits, q = 1 - p_t = sigmoid(x)(1 - y) + sigmoid(-x) y.
 * Everything comes from logistic_of (softplus forms, no 1 - p cancellation). Where q = 0 the
 * gamma term of the gradient is its limit, 0, so gamma < 1 gives no NaN at p_t = 1. */
#include "logistic.h"
#include "loss_kernel.h"

enum { P_ALPHA, P_GAMMA };

static int sigmoid_focal_elem(double x, double y, const double *param, double *l, double *g)
{
    if (!(y >= 0.0 && y <= 1.0))
        return 2;
    const double alpha = param[P_ALPHA], gamma = param[P_GAMMA];
    logistic_parts s = logistic_of(x);
    double ce = (1.0 - y) * s.sp_pos + y * s.sp_neg;
    double q = s.sig_pos * (1.0 - y) + s.sig_neg * y;
    double at = alpha >= 0 ? alpha * y + (1.0 - alpha) * (1.0 - y) : 1.0;
    double qg = pow(q, gamma); /* pow(0, 0) = 1 */
    /* d(ce)/dx = sigmoid(x) - y without cancellation */
    double dce = (1.0 - y) * s.sig_pos - y * s.sig_neg;
    /* d(q^gamma)/dx = gamma q^gamma (p(1-p)/q)(1-2y); p(1-p) <= q, so the ratio is <= 1 */
    double dqg =
        q > 0 && gamma != 0 ? gamma * qg * (s.sig_pos * s.sig_neg / q) * (1.0 - 2.0 * y) : 0.0;
    *l = at * ce * qg;
    *g = at * (dce * qg + ce * dqg);
    return 0;
}

static const char *const sigmoid_focal_reasons[2] = {"", "is outside [0, 1]"};

static void sigmoid_focal_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, sigmoid_focal_elem, -1, sigmoid_focal_reasons);
}

static loss_status sigmoid_focal_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, -1, 0);
}

static const loss_input_desc sigmoid_focal_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(" (logits)", LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(", in [0, 1]", LOSS_SAME(0))},
};

static const loss_param_desc sigmoid_focal_params[] = {
    {"alpha", LOSS_PARAM_FLOAT, 0.25, 0, 0.0, 0.0, NULL, 0},
    {"gamma", LOSS_PARAM_FLOAT, 2.0, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
};

const loss_desc loss_desc_sigmoid_focal = {
    .name = "sigmoid_focal",
    .aliases = (const char *const[]){"sigmoid_focal_loss", NULL},
    .family = "classification",
    .reference = "torchvision.ops.sigmoid_focal_loss (alpha < 0 disables alpha; "
                 "no NaN at p_t = 1 for gamma < 1)",
    .inputs = sigmoid_focal_inputs,
    .n_inputs = 2,
    .params = sigmoid_focal_params,
    .n_params = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = sigmoid_focal_plan,
    .chunk = sigmoid_focal_chunk,
    .fast = {.kernel = KERN_SIGMOID_FOCAL},
};
