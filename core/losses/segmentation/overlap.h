/* overlap: the shared kernel of the soft mask losses (mask_iou, dice, tversky).
 * Each sample (all non-batch axes of predictions (N, ...)) is reduced to TP = sum(p*y),
 * FP = sum(p*(1-y)) and FN = sum((1-p)*y), summed directly so that 1 - ratio never
 * cancels; every such loss is then a function of the three sums whose derivative w.r.t.
 * p_k has the form a + b*y_k. One unit per sample; header-only, internal to core/losses/. */
#ifndef LOSSD_LOSSES_OVERLAP_H
#define LOSSD_LOSSES_OVERLAP_H

#include "rows.h"

enum { OVERLAP_PRED, OVERLAP_TARGET };

typedef struct {
    double tp, fp, fn;
} overlap_sums;

/* The loss of one sample from its sums; *a and *b receive d loss / d p_k = a + b*y_k. */
typedef double (*overlap_loss_fn)(const overlap_sums *s, const double *param, double *a, double *b);

#define OVERLAP_BLOCK 256

/* Checks [begin, end) of predictions and targets (finite, in [0, 1]) and accumulates the
 * sums: plain sums over blocks of OVERLAP_BLOCK, compensated across blocks. */
static inline int overlap_sum(const loss_ctx *ctx, size_t begin, size_t end, overlap_sums *out,
                              loss_partial *part)
{
    const void *pd = ctx->in[OVERLAP_PRED]->data, *yd = ctx->in[OVERLAP_TARGET]->data;
    loss_acc tp = {0, 0}, fp = {0, 0}, fn = {0, 0};
    for (size_t b0 = begin; b0 < end; b0 += OVERLAP_BLOCK) {
        size_t b1 = end - b0 < OVERLAP_BLOCK ? end : b0 + OVERLAP_BLOCK;
        double stp = 0, sfp = 0, sfn = 0;
        for (size_t k = b0; k < b1; k++) {
            double p = loss_load(pd, ctx->dtype, k), y = loss_load(yd, ctx->dtype, k);
            if (!(p >= 0.0 && p <= 1.0) || !(y >= 0.0 && y <= 1.0)) {
                int in = !(p >= 0.0 && p <= 1.0) ? OVERLAP_PRED : OVERLAP_TARGET;
                double v = in == OVERLAP_PRED ? p : y;
                int finite = isfinite(v);
                return loss_partial_fail(part, finite ? LOSS_ERR_DOMAIN : LOSS_ERR_NON_FINITE, in,
                                         k, v, finite ? "is outside [0, 1]" : "is not finite");
            }
            stp += p * y;
            sfp += p * (1.0 - y);
            sfn += (1.0 - p) * y;
        }
        loss_acc_add(&tp, stp);
        loss_acc_add(&fp, sfp);
        loss_acc_add(&fn, sfn);
    }
    *out = (overlap_sums){loss_acc_value(&tp), loss_acc_value(&fp), loss_acc_value(&fn)};
    return 0;
}

/* The chunk of an overlap loss: per sample, sums, loss, then the gradient a + b*y_k. */
static inline __attribute__((always_inline)) void
overlap_run(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part, overlap_loss_fn fn)
{
    const tensor *pt = ctx->in[OVERLAP_PRED];
    const size_t M = pt->shape[0] ? pt->count / pt->shape[0] : 0;
    void *grad = ctx->grad[OVERLAP_PRED];
    loss_acc acc = {0, 0};
    for (size_t i = begin; i < end; i++) {
        overlap_sums s;
        double a, b;
        if (overlap_sum(ctx, i * M, (i + 1) * M, &s, part))
            return;
        double l = fn(&s, ctx->param, &a, &b);
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], ctx->dtype, i, l);
        a *= ctx->scale[0];
        b *= ctx->scale[0];
        for (size_t k = i * M; grad && k < (i + 1) * M; k++)
            loss_store(grad, ctx->dtype, k,
                       a + b * loss_load(ctx->in[OVERLAP_TARGET]->data, ctx->dtype, k));
    }
    part->sum[0] = loss_acc_value(&acc);
}

/* predictions (N, ...) and targets of the same shape; `none` has shape (N). */
static inline loss_status overlap_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *p = ctx->in[OVERLAP_PRED];
    if (p->rank < 1)
        return rows_shape_error(ctx, OVERLAP_PRED, err, "expected (N, ...)");
    loss_status st = rows_same_shape(ctx, OVERLAP_TARGET, OVERLAP_PRED, err);
    if (st != LOSS_OK)
        return st;
    size_t N = p->shape[0];
    ctx->n_units = N;
    ctx->unit_cost = rows_cost(N ? p->count / N : 0, 2);
    ctx->term_rank[0] = 1;
    ctx->term_shape[0][0] = N;
    ctx->denom[0] = (double)N;
    return LOSS_OK;
}

/* The inputs every overlap loss takes. */
static const loss_input_desc overlap_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(" in [0, 1]", LOSS_DIMS_MORE(LOSS_N(N)))},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(", in [0, 1]", LOSS_SAME(OVERLAP_PRED))},
};

#endif
