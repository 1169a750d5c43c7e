/* kl_div: F.kl_div on log-probabilities q and targets p (or log p with log_target).
 * Elementwise with xlogy semantics (a p of exactly 0 contributes 0); the gradient is taken
 * w.r.t. predictions only. `batchmean` divides the sum by input.size(0) as PyTorch does. */
#include "loss_kernel.h"

enum { IN_PRED, IN_TARGET };
enum { P_LOG_TARGET };

static int kl_elem(double x, double t, const double *param, double *l, double *g)
{
    if (param[P_LOG_TARGET] != 0.0) {
        double p = exp(t);
        *l = p * (t - x);
        *g = -p;
        return 0;
    }
    if (t < 0.0)
        return 2;
    *l = (t > 0.0 ? t * log(t) : 0.0) - t * x;
    *g = -t;
    return 0;
}

static const char *const kl_reasons[2] = {"", "is negative (targets are probabilities)"};

static void kl_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, kl_elem, -1, kl_reasons);
}

/* PyTorch's batchmean divides by input.size(0), and leaves a 0-d input's sum alone. */
static loss_status kl_plan(loss_ctx *ctx, loss_error *err)
{
    loss_status st = loss_plan_elementwise(ctx, err, -1, 0);
    if (st != LOSS_OK)
        return st;
    if (ctx->reduction == LOSS_REDUCE_BATCHMEAN) {
        const tensor *x = ctx->in[IN_PRED];
        ctx->denom[0] = x->rank > 0 ? (double)x->shape[0] : 1.0;
    }
    return LOSS_OK;
}

static const loss_input_desc kl_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(" (log-probabilities)", LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(IN_PRED))},
};

static const loss_param_desc kl_params[] = {
    {"log_target", LOSS_PARAM_BOOL, 0.0, 0, 0, 0, NULL, 0},
};

const loss_desc loss_desc_kl_div = {
    .name = "kl_div",
    .family = "classification",
    .reference = "torch.nn.functional.kl_div",
    .inputs = kl_inputs,
    .n_inputs = 2,
    .params = kl_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD | LOSS_RED_BIT(LOSS_REDUCE_BATCHMEAN),
    .flags = LOSS_FLAG_DENSE,
    .plan = kl_plan,
    .chunk = kl_chunk,
};
