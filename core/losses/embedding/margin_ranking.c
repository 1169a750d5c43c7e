/* margin_ranking: F.margin_ranking_loss, max(0, -y (x1 - x2) + margin) for three tensors
 * of one shape, y in {-1, 1}. Like PyTorch's clamp_min, the tie (value exactly 0) passes
 * the gradient. One work unit per element; gradients for x1 and x2. */
#include "loss_kernel.h"

enum { IN_X1, IN_X2, IN_TARGET };
enum { P_MARGIN };

/* Checks element i of the three inputs; returns 0, or 1 after recording the failure. */
static int bad_element(size_t i, const double v[3], loss_partial *part)
{
    for (int k = 0; k < 3; k++)
        if (!isfinite(v[k]))
            return loss_partial_fail(part, LOSS_ERR_NON_FINITE, k, i, v[k], "is not finite");
    if (v[IN_TARGET] != 1.0 && v[IN_TARGET] != -1.0)
        return loss_partial_fail(part, LOSS_ERR_DOMAIN, IN_TARGET, i, v[IN_TARGET],
                                 "is not -1 or 1");
    return 0;
}

static void margin_ranking_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const loss_dtype dt = ctx->dtype;
    const double scale = ctx->scale[0], margin = ctx->param[P_MARGIN];
    loss_acc acc = {0, 0};
    for (size_t i = begin; i < end; i++) {
        double v[3];
        for (int k = 0; k < 3; k++)
            v[k] = loss_load(ctx->in[k]->data, dt, i);
        if (bad_element(i, v, part))
            return;
        double y = v[IN_TARGET], z = -y * (v[IN_X1] - v[IN_X2]) + margin;
        double l = z >= 0 ? z : 0.0, g = z >= 0 ? -y * scale : 0.0;
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], dt, i, l);
        if (ctx->grad[IN_X1])
            loss_store(ctx->grad[IN_X1], dt, i, g);
        if (ctx->grad[IN_X2])
            loss_store(ctx->grad[IN_X2], dt, i, -g);
    }
    part->sum[0] = loss_acc_value(&acc);
}

static loss_status margin_ranking_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, -1, 0);
}

static const loss_input_desc margin_ranking_inputs[] = {
    {"x1", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"x2", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_SAME(IN_X1))},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(", in {-1, 1}", LOSS_SAME(IN_X1))},
};

static const loss_param_desc margin_ranking_params[] = {
    {"margin", LOSS_PARAM_FLOAT, 0.0, 0, 0.0, 0.0, NULL, 0},
};

const loss_desc loss_desc_margin_ranking = {
    .name = "margin_ranking",
    .family = "embedding",
    .reference = "torch.nn.functional.margin_ranking_loss (targets must be -1 or 1)",
    .inputs = margin_ranking_inputs,
    .n_inputs = 3,
    .params = margin_ranking_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = margin_ranking_plan,
    .chunk = margin_ranking_chunk,
};
