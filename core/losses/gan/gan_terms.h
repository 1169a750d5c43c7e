/* gan_terms: the per-element terms of the GAN losses and the loop that runs one term over one
 * discriminator-output tensor. Probability forms are PyTorch's BCE against a constant label
 * (logs clamped at -100, as F.binary_cross_entropy does); logit forms are the stable
 * softplus identities, exact at +-1000. Internal to core/losses/. */
#ifndef LOSSD_GAN_TERMS_H
#define LOSSD_GAN_TERMS_H

#include "bce_terms.h"
#include "loss_kernel.h"

/* Value *l and derivative *g of one term at discriminator output x; returns 1 if x is outside
 * the term's domain, else 0. */
typedef int (*gan_term_fn)(double x, double *l, double *g);

/* -log D: BCE(D, 1). */
static inline int gan_prob_minus_log(double x, double *l, double *g)
{
    if (!bce_is_probability(x))
        return 1;
    *l = bce_term_value(x, 1.0);
    *g = bce_term_grad(x, 1.0);
    return 0;
}

/* -log(1 - D): BCE(D, 0). */
static inline int gan_prob_minus_log1m(double x, double *l, double *g)
{
    if (!bce_is_probability(x))
        return 1;
    *l = bce_term_value(x, 0.0);
    *g = bce_term_grad(x, 0.0);
    return 0;
}

/* -log sigmoid(x) = softplus(-x). */
static inline int gan_logit_minus_log(double x, double *l, double *g)
{
    *l = loss_softplus(-x);
    *g = -loss_sigmoid(-x);
    return 0;
}

/* -log(1 - sigmoid(x)) = softplus(x). */
static inline int gan_logit_minus_log1m(double x, double *l, double *g)
{
    *l = loss_softplus(x);
    *g = loss_sigmoid(x);
    return 0;
}

/* Runs fn over elements [begin, end) of input `input`, as term `term`: values go to
 * values[term], gradients (times scale[term]) to grad[input], the compensated sum to
 * part->sum[term]. `negate` flips the term's sign (the saturating generator's log(1 - D)).
 * On bad input, part->status is set and the loop stops. */
static inline __attribute__((always_inline)) void gan_term_run(const loss_ctx *ctx, int input,
                                                               size_t term, size_t begin,
                                                               size_t end, loss_partial *part,
                                                               gan_term_fn fn, int negate)
{
    const tensor *xt = ctx->in[input];
    const loss_dtype dt = ctx->dtype;
    const double sign = negate ? -1.0 : 1.0, gscale = sign * ctx->scale[term];
    void *values = ctx->values[term], *grad = ctx->grad[input];
    loss_acc acc = {0, 0};
    for (size_t i = begin; i < end; i++) {
        double x = loss_load(xt->data, dt, i), l, g;
        if (!isfinite(x)) {
            loss_partial_fail(part, LOSS_ERR_NON_FINITE, input, i, x, "is not finite");
            return;
        }
        if (fn(x, &l, &g)) {
            loss_partial_fail(part, LOSS_ERR_DOMAIN, input, i, x, "is outside [0, 1]");
            return;
        }
        loss_acc_add(&acc, sign * l);
        if (values)
            loss_store(values, dt, i, sign * l);
        if (grad)
            loss_store(grad, dt, i, g * gscale);
    }
    part->sum[term] = loss_acc_value(&acc);
}

#endif
