/* gaussian_nll: F.gaussian_nll_loss, (log v + (p - y)^2 / v) / 2 with v = max(var, eps).
 * var has the predictions' shape, or broadcasts along their last dimension (last dim 1, or
 * one dimension fewer), exactly as PyTorch allows. A work unit is one element of var and
 * the k = count(predictions) / count(var) predictions it covers, so each var gradient is
 * summed inside one unit. As in PyTorch, the clamp is not differentiated: d/dvar is taken
 * at the clamped value (straight through), also where var < eps. */
#include <string.h>

#include "loss_kernel.h"

enum { IN_PRED, IN_TARGET, IN_VAR };
enum { P_FULL, P_EPS };

static int dims_eq(const size_t *a, const size_t *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

/* Whether var's shape is one PyTorch accepts for predictions p. */
static int var_shape_ok(const tensor *p, const tensor *v)
{
    if (v->rank == p->rank && dims_eq(v->shape, p->shape, p->rank))
        return 1;
    if (p->rank == 0)
        return 0;
    if (v->rank + 1 == p->rank && dims_eq(v->shape, p->shape, v->rank))
        return 1;
    return v->rank == p->rank && v->shape[v->rank - 1] == 1 &&
           dims_eq(v->shape, p->shape, p->rank - 1);
}

static loss_status gaussian_nll_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *p = ctx->in[IN_PRED], *y = ctx->in[IN_TARGET], *v = ctx->in[IN_VAR];
    char a[96], b[96];
    tensor_shape_str(p, b, sizeof b);
    if (y->rank != p->rank || !dims_eq(y->shape, p->shape, p->rank)) {
        tensor_shape_str(y, a, sizeof a);
        return loss_error_set(err, LOSS_ERR_SHAPE, "targets",
                              "targets has shape %s, predictions has shape %s", a, b);
    }
    if (!var_shape_ok(p, v)) {
        tensor_shape_str(v, a, sizeof a);
        return loss_error_set(err, LOSS_ERR_SHAPE, "var",
                              "var has shape %s; predictions has shape %s (var must have that "
                              "shape, or it with the last dimension 1, or without it)",
                              a, b);
    }
    size_t k = v->count ? p->count / v->count : 0;
    ctx->n_units = v->count;
    ctx->unit_cost = k ? k : 1;
    loss_plan_term_shape(ctx, 0, p);
    ctx->denom[0] = (double)p->count;
    return LOSS_OK;
}

/* Checks prediction and target i; returns 0, or 1 after recording the failure in part. */
static int bad_pair(size_t i, double p, double y, loss_partial *part)
{
    if (!isfinite(p))
        return loss_partial_fail(part, LOSS_ERR_NON_FINITE, IN_PRED, i, p, "is not finite");
    if (!isfinite(y))
        return loss_partial_fail(part, LOSS_ERR_NON_FINITE, IN_TARGET, i, y, "is not finite");
    return 0;
}

static int bad_var(size_t u, double var, loss_partial *part)
{
    if (!isfinite(var))
        return loss_partial_fail(part, LOSS_ERR_NON_FINITE, IN_VAR, u, var, "is not finite");
    if (var < 0)
        return loss_partial_fail(part, LOSS_ERR_DOMAIN, IN_VAR, u, var, "is negative");
    return 0;
}

static void gaussian_nll_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const tensor *pt = ctx->in[IN_PRED], *yt = ctx->in[IN_TARGET], *vt = ctx->in[IN_VAR];
    const loss_dtype dt = ctx->dtype;
    const size_t k = vt->count ? pt->count / vt->count : 0;
    const double scale = ctx->scale[0];
    const double constant = ctx->param[P_FULL] != 0.0 ? 0.5 * log(2.0 * M_PI) : 0.0;
    loss_acc acc = {0, 0};
    for (size_t u = begin; u < end; u++) {
        double var = loss_load(vt->data, dt, u);
        if (bad_var(u, var, part))
            return;
        double v = fmax(var, ctx->param[P_EPS]), log_v = log(v);
        loss_acc gvar = {0, 0};
        for (size_t i = u * k; i < (u + 1) * k; i++) {
            double p = loss_load(pt->data, dt, i), y = loss_load(yt->data, dt, i);
            if (bad_pair(i, p, y, part))
                return;
            double d = p - y, q = d * d / v;
            double l = 0.5 * (log_v + q) + constant;
            loss_acc_add(&acc, l);
            loss_acc_add(&gvar, 0.5 * (1.0 - q) / v);
            if (ctx->values[0])
                loss_store(ctx->values[0], dt, i, l);
            if (ctx->grad[IN_PRED])
                loss_store(ctx->grad[IN_PRED], dt, i, d / v * scale);
        }
        if (ctx->grad[IN_VAR])
            loss_store(ctx->grad[IN_VAR], dt, u, loss_acc_value(&gvar) * scale);
    }
    part->sum[0] = loss_acc_value(&acc);
}

static const loss_input_desc gaussian_nll_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(IN_PRED))},
    {"var", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(", or with the last dimension 1, or without it", LOSS_SAME(IN_PRED))},
};

static const loss_param_desc gaussian_nll_params[] = {
    {"full", LOSS_PARAM_BOOL, 0.0, 0, 0.0, 0.0, NULL, 0},
    {"eps", LOSS_PARAM_FLOAT, 1e-6, LOSS_PARAM_HAS_MIN | LOSS_PARAM_MIN_EXCLUSIVE, 0.0, 0.0, NULL,
     0},
};

const loss_desc loss_desc_gaussian_nll = {
    .name = "gaussian_nll",
    .family = "regression",
    .reference = "torch.nn.functional.gaussian_nll_loss (mean over every prediction)",
    .inputs = gaussian_nll_inputs,
    .n_inputs = 3,
    .params = gaussian_nll_params,
    .n_params = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = gaussian_nll_plan,
    .chunk = gaussian_nll_chunk,
};
