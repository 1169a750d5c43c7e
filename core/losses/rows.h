/* rows: helpers shared by the row-wise losses (in several families), which work on rows
 * (samples) of their inputs rather than on independent elements. Header-only, internal to
 * core/losses/. */
#ifndef LOSSD_LOSSES_ROWS_H
#define LOSSD_LOSSES_ROWS_H

#include <stdio.h>

#include "loss_kernel.h"

/* Fails `part` with LOSS_ERR_NON_FINITE at the first non-finite element of input `in` in
 * [begin, end) and returns 1; returns 0 if all are finite. */
static inline int rows_fail_non_finite(const loss_ctx *ctx, int in, size_t begin, size_t end,
                                       loss_partial *part)
{
    const tensor *t = ctx->in[in];
    for (size_t i = begin; i < end; i++) {
        double v = loss_load(t->data, ctx->dtype, i);
        if (!isfinite(v))
            return loss_partial_fail(part, LOSS_ERR_NON_FINITE, in, i, v, "is not finite");
    }
    return 0;
}

/* Plan-time finiteness check of a small float input (weights): LOSS_ERR_NON_FINITE naming it
 * in the same words as a chunk's error. Absent inputs pass. */
static inline loss_status rows_plan_finite(const loss_ctx *ctx, int in, loss_error *err)
{
    const tensor *t = ctx->in[in];
    const char *name = ctx->desc->inputs[in].name;
    for (size_t i = 0; t != NULL && i < t->count; i++) {
        double v = loss_load(t->data, ctx->dtype, i);
        if (!isfinite(v))
            return loss_error_set(err, LOSS_ERR_NON_FINITE, name, "%s[%zu] = %.17g is not finite",
                                  name, i, v);
    }
    return LOSS_OK;
}

/* LOSS_ERR_SHAPE naming input `in`, whose shape is quoted before `rule`. */
static inline loss_status rows_shape_error(const loss_ctx *ctx, int in, loss_error *err,
                                           const char *rule)
{
    char shape[96];
    const char *name = ctx->desc->inputs[in].name;
    tensor_shape_str(ctx->in[in], shape, sizeof shape);
    return loss_error_set(err, LOSS_ERR_SHAPE, name, "%s has shape %s; %s", name, shape, rule);
}

/* Requires input `in` (if present) to have exactly input `ref`'s shape. */
static inline loss_status rows_same_shape(const loss_ctx *ctx, int in, int ref, loss_error *err)
{
    const tensor *a = ctx->in[in], *b = ctx->in[ref];
    if (a == NULL)
        return LOSS_OK;
    int same = a->rank == b->rank;
    for (size_t k = 0; same && k < a->rank; k++)
        same = a->shape[k] == b->shape[k];
    if (same)
        return LOSS_OK;
    char want[96], rule[128];
    tensor_shape_str(b, want, sizeof want);
    snprintf(rule, sizeof rule, "expected %s like %s", want, ctx->desc->inputs[ref].name);
    return rows_shape_error(ctx, in, err, rule);
}

/* Requires a present input `in` to be a vector of n elements: shape (n). */
static inline loss_status rows_vector(const loss_ctx *ctx, int in, size_t n, loss_error *err)
{
    const tensor *t = ctx->in[in];
    if (t == NULL || (t->rank == 1 && t->shape[0] == n))
        return LOSS_OK;
    char rule[64];
    snprintf(rule, sizeof rule, "expected (%zu)", n);
    return rows_shape_error(ctx, in, err, rule);
}

/* a*b saturated at SIZE_MAX: a chunk-size hint that must not wrap. */
static inline size_t rows_cost(size_t a, size_t b)
{
    size_t r;
    return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : (r ? r : 1);
}

#endif
