/* categorical_hinge: keras.losses.CategoricalHinge over the last axis,
 * max(0, 1 + max_c((1 - t_c) p_c) - sum_c t_c p_c). Tie rules are torch's: the outer
 * clamp_min passes the gradient at 0, and the max (amax) splits its gradient equally among
 * all tied maxima. Targets are one-hot by convention but, as in Keras, not checked. */
#include "rows.h"

enum { IN_PRED, IN_TARGET };

/* The row's max of (1 - t) p, how many classes attain it, and sum(t p). */
static void ch_scan(const loss_ctx *ctx, size_t base, size_t C, double *neg, size_t *ties,
                    double *pos)
{
    const void *pd = ctx->in[IN_PRED]->data, *td = ctx->in[IN_TARGET]->data;
    double best = -(double)INFINITY, sum = 0.0;
    size_t n = 0;
    for (size_t k = base; k < base + C; k++) {
        double p = loss_load(pd, ctx->dtype, k), t = loss_load(td, ctx->dtype, k);
        double v = (1.0 - t) * p;
        sum += t * p;
        if (v > best) {
            best = v;
            n = 1;
        } else if (v == best) {
            n++;
        }
    }
    *neg = best;
    *ties = n;
    *pos = sum;
}

/* d/dp_c = g * ((1 - t_c) [c attains the max] / ties - t_c). */
static void ch_grad(const loss_ctx *ctx, size_t base, size_t C, double neg, size_t ties, double g)
{
    const void *pd = ctx->in[IN_PRED]->data, *td = ctx->in[IN_TARGET]->data;
    for (size_t k = base; k < base + C; k++) {
        double p = loss_load(pd, ctx->dtype, k), t = loss_load(td, ctx->dtype, k);
        double share = (1.0 - t) * p == neg ? (1.0 - t) / (double)ties : 0.0;
        loss_store(ctx->grad[IN_PRED], ctx->dtype, k, g * (share - t));
    }
}

static void ch_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const tensor *xt = ctx->in[IN_PRED];
    const size_t C = xt->shape[xt->rank - 1];
    loss_acc acc = {0, 0};
    for (size_t i = begin; i < end; i++) {
        if (rows_fail_non_finite(ctx, IN_PRED, i * C, (i + 1) * C, part) ||
            rows_fail_non_finite(ctx, IN_TARGET, i * C, (i + 1) * C, part))
            return;
        double neg, pos;
        size_t ties;
        ch_scan(ctx, i * C, C, &neg, &ties, &pos);
        double z = neg - pos + 1.0, l = z >= 0 ? z : 0.0;
        if (ctx->grad[IN_PRED])
            ch_grad(ctx, i * C, C, neg, ties, z >= 0 ? ctx->scale[0] : 0.0);
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], ctx->dtype, i, l);
    }
    part->sum[0] = loss_acc_value(&acc);
}

/* Classes are the last axis; `none` has the shape of the other axes. */
static loss_status ch_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *x = ctx->in[IN_PRED];
    if (x->rank < 1 || x->shape[x->rank - 1] == 0)
        return rows_shape_error(ctx, IN_PRED, err, "expected (N, C) or (C) with C >= 1");
    loss_status st = rows_same_shape(ctx, IN_TARGET, IN_PRED, err);
    if (st != LOSS_OK)
        return st;
    const size_t C = x->shape[x->rank - 1];
    ctx->n_units = x->count / C;
    ctx->unit_cost = rows_cost(C, 2);
    loss_plan_term_shape(ctx, 0, x);
    ctx->term_rank[0] = x->rank - 1;
    ctx->denom[0] = (double)ctx->n_units;
    return LOSS_OK;
}

static const loss_input_desc ch_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(N), LOSS_N(C)))},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(", one-hot", LOSS_SAME(IN_PRED))},
};

const loss_desc loss_desc_categorical_hinge = {
    .name = "categorical_hinge",
    .family = "classification",
    .reference = "keras.losses.CategoricalHinge (torch tie rules: clamp_min, amax)",
    .inputs = ch_inputs,
    .n_inputs = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = ch_plan,
    .chunk = ch_chunk,
};
