/* smooth_l1: F.smooth_l1_loss, quadratic inside |d| < beta and linear outside (C1 at the
 * breakpoint). beta = 0 is L1 with gradient 0 at d = 0 (PyTorch >= 2.1; 1.13 returned -1).
 * Chunks take the ISA fast path when one is installed; the reference handles the rest. */
#include "loss_kernel.h"

enum { IN_PRED, IN_TARGET };
enum { P_BETA };

static int smooth_l1_elem(double p, double y, const double *param, double *l, double *g)
{
    double d = p - y, ad = fabs(d), beta = param[P_BETA];
    if (ad < beta) {
        *l = 0.5 * d * d / beta;
        *g = d / beta;
    } else {
        /* sign(0) = 0 keeps the lowest-norm subgradient when beta = 0 */
        *l = ad - 0.5 * beta;
        *g = (d > 0) - (d < 0);
    }
    return 0;
}

static const char *const smooth_l1_reasons[2] = {"", ""};

static void smooth_l1_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, smooth_l1_elem, -1, smooth_l1_reasons);
}

static loss_status smooth_l1_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, -1, 0);
}

static const loss_input_desc smooth_l1_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(IN_PRED))},
};

static const loss_param_desc smooth_l1_params[] = {
    {"beta", LOSS_PARAM_FLOAT, 1.0, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
};

const loss_desc loss_desc_smooth_l1 = {
    .name = "smooth_l1",
    .aliases = (const char *const[]){"SmoothL1Loss", NULL},
    .family = "regression",
    .reference = "torch.nn.functional.smooth_l1_loss (beta=0 is l1_loss, gradient 0 at d=0)",
    .inputs = smooth_l1_inputs,
    .n_inputs = 2,
    .params = smooth_l1_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = smooth_l1_plan,
    .chunk = smooth_l1_chunk,
    .fast = {.kernel = KERN_SMOOTH_L1},
};
