/* multilabel_margin: F.multilabel_margin_loss. Each row of targets lists class indices up to
 * the first -1; every (listed j, unlisted i) pair adds max(0, 1 - (x_j - x_i)) / C. As in
 * PyTorch a pair counts only when strictly positive (a tie has zero gradient), a class
 * listed twice counts twice, and every target entry, even after the -1, must lie in
 * [-1, C). One unit per row; a chunk borrows one row of scratch (flags and counts). */
#include <string.h>

#include "mem.h"
#include "rows.h"

enum { IN_PRED, IN_TARGET };

typedef struct {
    unsigned char *listed; /* C flags: class is in the row's target list */
    double *count;         /* C: active pairs as non-target minus as target */
} mlm_scratch;

/* Validates the row's targets and marks the listed classes; returns the list length. */
static int mlm_mark(const loss_ctx *ctx, size_t row, size_t C, mlm_scratch *s, size_t *len,
                    loss_partial *part)
{
    const tensor *tt = ctx->in[IN_TARGET];
    *len = C;
    memset(s->listed, 0, C);
    for (size_t k = 0; k < C; k++) {
        int64_t t = loss_index(tt, row * C + k);
        if (t < -1 || t >= (int64_t)C)
            return loss_partial_fail(part, LOSS_ERR_DOMAIN, IN_TARGET, row * C + k, (double)t,
                                     "is not a class index in [-1, C)");
        if (t == -1 && *len == C)
            *len = k;
        if (*len == C)
            s->listed[t] = 1;
    }
    return 0;
}

/* Sum of the active hinge terms of one row (before / C); counts pairs for the gradient. */
static double mlm_row(const loss_ctx *ctx, size_t row, size_t C, size_t len, mlm_scratch *s)
{
    const void *xd = ctx->in[IN_PRED]->data;
    const size_t base = row * C;
    double sum = 0.0;
    if (s->count)
        memset(s->count, 0, C * sizeof *s->count);
    for (size_t k = 0; k < len; k++) {
        size_t j = (size_t)loss_index(ctx->in[IN_TARGET], base + k);
        double xj = loss_load(xd, ctx->dtype, base + j);
        for (size_t i = 0; i < C; i++) {
            if (s->listed[i])
                continue;
            double z = 1.0 - xj + loss_load(xd, ctx->dtype, base + i);
            if (z > 0) {
                sum += z;
                if (s->count) {
                    s->count[j] -= 1.0;
                    s->count[i] += 1.0;
                }
            }
        }
    }
    return sum;
}

static void mlm_rows(const loss_ctx *ctx, size_t begin, size_t end, mlm_scratch *s,
                     loss_partial *part)
{
    const size_t C = ctx->in[IN_PRED]->shape[ctx->in[IN_PRED]->rank - 1];
    const double g = ctx->scale[0] / (double)C;
    loss_acc acc = {0, 0};
    for (size_t i = begin; i < end; i++) {
        size_t len;
        if (mlm_mark(ctx, i, C, s, &len, part) ||
            rows_fail_non_finite(ctx, IN_PRED, i * C, (i + 1) * C, part))
            return;
        double l = mlm_row(ctx, i, C, len, s) / (double)C;
        for (size_t k = 0; s->count && k < C; k++)
            loss_store(ctx->grad[IN_PRED], ctx->dtype, i * C + k, g * s->count[k]);
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], ctx->dtype, i, l);
    }
    part->sum[0] = loss_acc_value(&acc);
}

static void mlm_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const size_t C = ctx->in[IN_PRED]->shape[ctx->in[IN_PRED]->rank - 1];
    mlm_scratch s = {NULL, NULL};
    s.listed = mem_alloc(C);
    if (ctx->grad[IN_PRED])
        s.count = mem_alloc_array(C, sizeof *s.count);
    if (s.listed == NULL || (ctx->grad[IN_PRED] && s.count == NULL))
        loss_partial_fail(part, LOSS_ERR_NOMEM, IN_PRED, begin * C, 0.0,
                          "could not be processed: out of memory");
    else
        mlm_rows(ctx, begin, end, &s, part);
    mem_free(s.listed);
    mem_free(s.count);
}

/* predictions (N, C) or (C) with integer targets of the same shape; `none` gives (N), or a
 * scalar for (C), as in PyTorch. */
static loss_status mlm_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *x = ctx->in[IN_PRED];
    if (x->rank < 1 || x->rank > 2 || x->shape[x->rank - 1] == 0)
        return rows_shape_error(ctx, IN_PRED, err, "expected (N, C) or (C) with C >= 1");
    loss_status st = rows_same_shape(ctx, IN_TARGET, IN_PRED, err);
    if (st != LOSS_OK)
        return st;
    const size_t C = x->shape[x->rank - 1];
    ctx->n_units = x->count / C;
    ctx->unit_cost = rows_cost(C, C);
    loss_plan_term_shape(ctx, 0, x);
    ctx->term_rank[0] = x->rank - 1;
    ctx->denom[0] = (double)ctx->n_units;
    return LOSS_OK;
}

static const loss_input_desc mlm_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(N), LOSS_N(C)), LOSS_DIMS(LOSS_N(C)))},
    {"targets", LOSS_IN_INDEX, 0, LOSS_RULE(": class indices, -1 terminated", LOSS_SAME(IN_PRED))},
};

const loss_desc loss_desc_multilabel_margin = {
    .name = "multilabel_margin",
    .family = "classification",
    .reference = "torch.nn.functional.multilabel_margin_loss",
    .inputs = mlm_inputs,
    .n_inputs = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = mlm_plan,
    .chunk = mlm_chunk,
};
