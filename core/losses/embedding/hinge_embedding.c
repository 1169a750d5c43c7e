/* hinge_embedding: F.hinge_embedding_loss, x where y = 1 and max(0, margin - x) where
 * y = -1. Like PyTorch's clamp_min, the margin tie (x == margin) passes the gradient -1.
 * Targets other than -1 and 1 are refused (PyTorch would silently add both branches). */
#include "loss_kernel.h"

enum { P_MARGIN };

static int hinge_embedding_elem(double x, double y, const double *param, double *l, double *g)
{
    if (y == 1.0) {
        *l = x;
        *g = 1.0;
    } else if (y == -1.0) {
        double z = param[P_MARGIN] - x;
        *l = z >= 0 ? z : 0.0;
        *g = z >= 0 ? -1.0 : 0.0;
    } else {
        return 2;
    }
    return 0;
}

static const char *const hinge_embedding_reasons[2] = {"", "is not -1 or 1"};

static void hinge_embedding_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, hinge_embedding_elem, -1, hinge_embedding_reasons);
}

static loss_status hinge_embedding_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, -1, 0);
}

static const loss_input_desc hinge_embedding_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(", in {-1, 1}", LOSS_SAME(0))},
};

static const loss_param_desc hinge_embedding_params[] = {
    {"margin", LOSS_PARAM_FLOAT, 1.0, 0, 0.0, 0.0, NULL, 0},
};

const loss_desc loss_desc_hinge_embedding = {
    .name = "hinge_embedding",
    .family = "embedding",
    .reference = "torch.nn.functional.hinge_embedding_loss (targets must be -1 or 1)",
    .inputs = hinge_embedding_inputs,
    .n_inputs = 2,
    .params = hinge_embedding_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = hinge_embedding_plan,
    .chunk = hinge_embedding_chunk,
};
