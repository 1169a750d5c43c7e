/* gan_pointwise: the shared plan and chunk loop of the elementwise GAN losses. Term t is a sum
 * over input t (real, then fake for two-term losses; fake alone for generators), each with
 * its own per-element shape and its own mean. Work units are the elements of input 0
 * followed by those of input 1, so a chunk may straddle the two terms. */
#ifndef LOSSD_LOSSES_GAN_POINTWISE_H
#define LOSSD_LOSSES_GAN_POINTWISE_H

#include "loss_kernel.h"

/* Loss *l of one element x of a term and its derivative *g. */
typedef void (*gan_pointwise_fn)(double x, double *l, double *g);

/* Plan for n_terms (1 or 2) terms, term t over input t. Inputs of any shapes. */
static inline loss_status gan_pointwise_plan(loss_ctx *ctx, size_t n_terms)
{
    ctx->n_terms = n_terms;
    ctx->n_units = 0;
    ctx->unit_cost = 1;
    for (size_t t = 0; t < n_terms; t++) {
        const tensor *x = ctx->in[t];
        loss_plan_term_shape(ctx, t, x);
        ctx->denom[t] = (double)x->count;
        ctx->n_units += x->count; /* each <= LOSS_MAX_ELEMENTS: no overflow */
    }
    return LOSS_OK;
}

/* Runs fn over units [begin, end) of term t (whose units start at `first`). */
static inline __attribute__((always_inline)) int gan_pointwise_term(const loss_ctx *ctx, size_t t,
                                                                    size_t first, size_t begin,
                                                                    size_t end, loss_partial *part,
                                                                    gan_pointwise_fn fn)
{
    const tensor *xt = ctx->in[t];
    const loss_dtype dt = ctx->dtype;
    const double scale = ctx->scale[t];
    size_t lo = begin > first ? begin - first : 0;
    size_t hi = end - first < xt->count ? end - first : xt->count;
    loss_acc acc = {0, 0};
    for (size_t i = lo; i < hi; i++) {
        double x = loss_load(xt->data, dt, i), l, g;
        if (!isfinite(x))
            return loss_partial_fail(part, LOSS_ERR_NON_FINITE, (int)t, i, x, "is not finite");
        fn(x, &l, &g);
        loss_acc_add(&acc, l);
        if (ctx->values[t])
            loss_store(ctx->values[t], dt, i, l);
        if (ctx->grad[t])
            loss_store(ctx->grad[t], dt, i, g * scale);
    }
    part->sum[t] = loss_acc_value(&acc);
    return 0;
}

/* The chunk of a GAN loss: fns[t] is term t's element function. */
static inline __attribute__((always_inline)) void gan_pointwise_run(const loss_ctx *ctx,
                                                                    size_t begin, size_t end,
                                                                    loss_partial *part,
                                                                    const gan_pointwise_fn fns[2])
{
    size_t first = 0;
    for (size_t t = 0; t < ctx->n_terms; t++) {
        size_t count = ctx->in[t]->count;
        if (begin < first + count && end > first &&
            gan_pointwise_term(ctx, t, first, begin, end, part, fns[t]))
            return;
        first += count;
    }
}

#endif
