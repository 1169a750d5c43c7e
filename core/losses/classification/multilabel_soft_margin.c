/* multilabel_soft_margin: F.multilabel_soft_margin_loss, one logistic loss per class averaged
 * over the last axis (C), with class weights. Computed with softplus, so logits of any size
 * stay exact (no overflow at |x| = 1000). One unit per row. */
#include "rows.h"

enum { IN_PRED, IN_TARGET, IN_WEIGHT };

/* One element: w (y softplus(-x) + (1-y) softplus(x)), and w (sigmoid(x) - y) into *g. Both
 * softplus terms and the sigmoid share one exp and one log1p, and nothing cancels. */
static inline double mlsm_elem(double x, double y, double w, double *g)
{
    const double e = exp(-fabs(x)), l1p = log1p(e);
    const double sp_pos = fmax(x, 0.0) + l1p, sp_neg = fmax(-x, 0.0) + l1p;
    const double sig = x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    *g = w * (sig - y);
    return w * (y * sp_neg + (1.0 - y) * sp_pos);
}

static void mlsm_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const tensor *xt = ctx->in[IN_PRED], *yt = ctx->in[IN_TARGET], *wt = ctx->in[IN_WEIGHT];
    const loss_dtype dt = ctx->dtype;
    const size_t C = xt->shape[xt->rank - 1];
    const double gs = ctx->scale[0] / (double)C;
    loss_acc acc = {0, 0};
    for (size_t i = begin; i < end; i++) {
        if (rows_fail_non_finite(ctx, IN_PRED, i * C, (i + 1) * C, part) ||
            rows_fail_non_finite(ctx, IN_TARGET, i * C, (i + 1) * C, part))
            return;
        double sum = 0.0, g;
        for (size_t c = 0, k = i * C; c < C; c++, k++) {
            double w = wt ? loss_load(wt->data, dt, c) : 1.0;
            sum += mlsm_elem(loss_load(xt->data, dt, k), loss_load(yt->data, dt, k), w, &g);
            if (ctx->grad[IN_PRED])
                loss_store(ctx->grad[IN_PRED], dt, k, g * gs);
        }
        double l = sum / (double)C;
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], dt, i, l);
    }
    part->sum[0] = loss_acc_value(&acc);
}

/* Classes are the last axis; `none` has the shape of the other axes. */
static loss_status mlsm_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *x = ctx->in[IN_PRED];
    if (x->rank < 1 || x->shape[x->rank - 1] == 0)
        return rows_shape_error(ctx, IN_PRED, err, "expected (N, C) or (C) with C >= 1");
    const size_t C = x->shape[x->rank - 1];
    loss_status st = rows_same_shape(ctx, IN_TARGET, IN_PRED, err);
    if (st == LOSS_OK)
        st = rows_vector(ctx, IN_WEIGHT, C, err);
    if (st == LOSS_OK)
        st = rows_plan_finite(ctx, IN_WEIGHT, err);
    if (st != LOSS_OK)
        return st;
    ctx->n_units = x->count / C;
    ctx->unit_cost = C;
    loss_plan_term_shape(ctx, 0, x);
    ctx->term_rank[0] = x->rank - 1;
    ctx->denom[0] = (double)ctx->n_units;
    return LOSS_OK;
}

static const loss_input_desc mlsm_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(" logits", LOSS_DIMS(LOSS_N(N), LOSS_N(C)))},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(", in {0, 1}", LOSS_SAME(IN_PRED))},
    {"weight", LOSS_IN_FLOAT, LOSS_INPUT_OPTIONAL | LOSS_INPUT_PARAM,
     LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(C)))},
};

const loss_desc loss_desc_multilabel_soft_margin = {
    .name = "multilabel_soft_margin",
    .family = "classification",
    .reference = "torch.nn.functional.multilabel_soft_margin_loss (softplus form)",
    .inputs = mlsm_inputs,
    .n_inputs = 3,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = mlsm_plan,
    .chunk = mlsm_chunk,
};
