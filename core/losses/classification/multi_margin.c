/* multi_margin: F.multi_margin_loss, the multi-class hinge over rows of (N, C) logits.
 * One unit per row. As in PyTorch a margin term counts only when strictly positive, so a tie
 * gives it zero gradient; class weights scale a row by w[y] yet `mean` still divides by N. */
#include "rows.h"

enum { IN_PRED, IN_TARGET, IN_WEIGHT };
enum { P_P, P_MARGIN };

/* One row: loss w*sum(z^p)/C over classes c != y with z = margin - x[y] + x[c] > 0; writes
 * the gradient of g times that loss when grad is not NULL. */
static double mm_row(const loss_ctx *ctx, size_t row, size_t y, double w, double g, void *grad)
{
    const loss_dtype dt = ctx->dtype;
    const void *x = ctx->in[IN_PRED]->data;
    const size_t C = ctx->in[IN_PRED]->shape[ctx->in[IN_PRED]->rank - 1], base = row * C;
    const int squared = ctx->param[P_P] == 2.0;
    const double margin = ctx->param[P_MARGIN], xy = loss_load(x, dt, base + y);
    const double gs = g * w / (double)C;
    double sum = 0.0, gy = 0.0;
    for (size_t c = 0; c < C; c++) {
        if (c == y)
            continue;
        double z = margin - xy + loss_load(x, dt, base + c), gc = 0.0;
        if (z > 0) {
            sum += squared ? z * z : z;
            gc = gs * (squared ? 2.0 * z : 1.0);
            gy -= gc;
        }
        if (grad)
            loss_store(grad, dt, base + c, gc);
    }
    if (grad)
        loss_store(grad, dt, base + y, gy);
    return w * sum / (double)C;
}

static void mm_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const tensor *xt = ctx->in[IN_PRED], *yt = ctx->in[IN_TARGET], *wt = ctx->in[IN_WEIGHT];
    const size_t C = xt->shape[xt->rank - 1];
    loss_acc acc = {0, 0};
    for (size_t i = begin; i < end; i++) {
        int64_t y = loss_index(yt, i);
        if (y < 0 || (uint64_t)y >= C) {
            loss_partial_fail(part, LOSS_ERR_DOMAIN, IN_TARGET, i, (double)y,
                              "is not a class index in [0, C)");
            return;
        }
        if (rows_fail_non_finite(ctx, IN_PRED, i * C, (i + 1) * C, part))
            return;
        double w = wt ? loss_load(wt->data, ctx->dtype, (size_t)y) : 1.0;
        double l = mm_row(ctx, i, (size_t)y, w, ctx->scale[0], ctx->grad[IN_PRED]);
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], ctx->dtype, i, l);
    }
    part->sum[0] = loss_acc_value(&acc);
}

/* predictions (N, C) with targets (N), or (C) with one target; weight (C). `none` has the
 * targets' shape, as in PyTorch. */
static loss_status mm_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *x = ctx->in[IN_PRED], *y = ctx->in[IN_TARGET];
    if (x->rank < 1 || x->rank > 2 || x->shape[x->rank - 1] == 0)
        return rows_shape_error(ctx, IN_PRED, err, "expected (N, C) or (C) with C >= 1");
    const size_t C = x->shape[x->rank - 1], N = x->rank == 2 ? x->shape[0] : 1;
    if (y->rank > 1 || y->count != N) {
        char rule[64];
        snprintf(rule, sizeof rule, "expected %zu class indices", N);
        return rows_shape_error(ctx, IN_TARGET, err, rule);
    }
    loss_status st = rows_vector(ctx, IN_WEIGHT, C, err);
    if (st == LOSS_OK)
        st = rows_plan_finite(ctx, IN_WEIGHT, err);
    if (st != LOSS_OK)
        return st;
    ctx->n_units = N;
    ctx->unit_cost = C;
    loss_plan_term_shape(ctx, 0, y);
    ctx->denom[0] = (double)N;
    return LOSS_OK;
}

static const loss_input_desc mm_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(N), LOSS_N(C)), LOSS_DIMS(LOSS_N(C)))},
    {"targets", LOSS_IN_INDEX, 0, LOSS_RULE(", class indices", LOSS_DIMS(LOSS_N(N)), LOSS_SCALAR)},
    {"weight", LOSS_IN_FLOAT, LOSS_INPUT_OPTIONAL | LOSS_INPUT_PARAM,
     LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(C)))},
};

static const double mm_p_choices[] = {1.0, 2.0};

static const loss_param_desc mm_params[] = {
    {"p", LOSS_PARAM_INT, 1.0, LOSS_PARAM_ENUM, 0, 0, mm_p_choices, 2},
    {"margin", LOSS_PARAM_FLOAT, 1.0, 0, 0, 0, NULL, 0},
};

const loss_desc loss_desc_multi_margin = {
    .name = "multi_margin",
    .family = "classification",
    .reference = "torch.nn.functional.multi_margin_loss",
    .inputs = mm_inputs,
    .n_inputs = 3,
    .params = mm_params,
    .n_params = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = mm_plan,
    .chunk = mm_chunk,
};
