/* class_layout: shape rules, class weights and the weighted-mean denominator of
 * cross_entropy and nll. The denominator needs every target, so it is summed here, before
 * any chunk runs: chunks can then write final gradients in their single pass. */
#include "class_layout.h"

#include <string.h>

#include "mem.h"

/* The shape of predictions without its class dim: the shape of index targets and of `none`. */
static void position_shape(const tensor *pred, tensor *out)
{
    memset(out, 0, sizeof *out);
    if (pred->rank == 1)
        return;
    out->rank = pred->rank - 1;
    out->shape[0] = pred->shape[0];
    for (size_t i = 2; i < pred->rank; i++)
        out->shape[i - 1] = pred->shape[i];
}

static int same_shape(const tensor *a, const tensor *b)
{
    return a->rank == b->rank && memcmp(a->shape, b->shape, a->rank * sizeof a->shape[0]) == 0;
}

static loss_status check_targets(const loss_ctx *ctx, loss_error *err, int allow_probs)
{
    const tensor *pred = ctx->in[0], *tgt = ctx->in[1];
    tensor pos;
    position_shape(pred, &pos);
    int index = tgt->type == TENSOR_I64;
    if (index ? same_shape(tgt, &pos) : allow_probs && same_shape(tgt, pred))
        return LOSS_OK;
    char got[96], want_idx[96], want_prob[96];
    tensor_shape_str(tgt, got, sizeof got);
    tensor_shape_str(&pos, want_idx, sizeof want_idx);
    tensor_shape_str(pred, want_prob, sizeof want_prob);
    if (!allow_probs)
        return loss_error_set(err, LOSS_ERR_SHAPE, "targets",
                              "targets has shape %s, class indices for predictions %s need %s", got,
                              want_prob, want_idx);
    return loss_error_set(err, LOSS_ERR_SHAPE, "targets",
                          "targets has shape %s, expected %s (class indices) or %s "
                          "(probabilities)",
                          got, want_idx, want_prob);
}

static loss_status check_weight_shape(const loss_ctx *ctx, loss_error *err, int weight_input,
                                      size_t classes)
{
    const tensor *w = weight_input >= 0 ? ctx->in[weight_input] : NULL;
    if (w && (w->rank != 1 || w->shape[0] != classes))
        return loss_error_set(err, LOSS_ERR_SHAPE, "weight",
                              "weight has %zu elements in %zu dims, predictions have %zu classes",
                              w->count, w->rank, classes);
    return LOSS_OK;
}

static loss_status load_weights(const loss_ctx *ctx, loss_error *err, int weight_input,
                                class_layout *cl)
{
    const tensor *w = weight_input >= 0 ? ctx->in[weight_input] : NULL;
    loss_acc acc = {0, 0};
    for (size_t c = 0; c < cl->classes; c++) {
        double v = w ? loss_load(w->data, ctx->dtype, c) : 1.0;
        if (!isfinite(v))
            return loss_error_set(err, LOSS_ERR_NON_FINITE, "weight",
                                  "weight[%zu] = %.17g is not finite", c, v);
        cl->weight[c] = v;
        loss_acc_add(&acc, v);
    }
    cl->weight_sum = loss_acc_value(&acc);
    return LOSS_OK;
}

/* Without weights (all 1) the denominator is the count of the targets not ignored, which the
 * compensated sum of ones gives exactly too: one branch-free pass, the request's second over
 * its targets, costs little beside the kernel's. Returns 0 if some index is out of range
 * (index_denominator's loop then names it). */
static int count_kept(const int64_t *y, size_t n, size_t classes, int64_t ignore, size_t *kept)
{
    size_t count = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        size_t skip = y[i] == ignore;
        count += 1 - skip;
        bad |= (1 - skip) & ((uint64_t)y[i] >= classes);
    }
    *kept = count;
    return bad == 0;
}

/* Checks every index target and returns in *denom the weight sum of the non-ignored ones. */
static loss_status index_denominator(const loss_ctx *ctx, loss_error *err, const class_layout *cl,
                                     int weighted, double *denom)
{
    const tensor *tgt = ctx->in[1];
    loss_acc acc = {0, 0};
    size_t kept;
    if (!weighted && count_kept(tgt->data, tgt->count, cl->classes, cl->ignore_index, &kept)) {
        *denom = (double)kept;
        return LOSS_OK;
    }
    for (size_t i = 0; i < tgt->count; i++) {
        int64_t y = loss_index(tgt, i);
        if (y == cl->ignore_index)
            continue;
        if (y < 0 || (uint64_t)y >= cl->classes)
            return loss_error_set(err, LOSS_ERR_DOMAIN, "targets",
                                  "targets[%zu] = %lld is outside [0, %zu) and is not "
                                  "ignore_index (%lld)",
                                  i, (long long)y, cl->classes, (long long)cl->ignore_index);
        loss_acc_add(&acc, cl->weight[y]);
    }
    *denom = loss_acc_value(&acc);
    return LOSS_OK;
}

/* States the layout's size in plan_bytes; allocates it unless plan-only. */
static loss_status alloc_layout(loss_ctx *ctx, loss_error *err, size_t classes)
{
    size_t bytes;
    if (__builtin_mul_overflow(classes, sizeof(double), &bytes) ||
        __builtin_add_overflow(bytes, sizeof(class_layout), &bytes))
        return loss_error_set(err, LOSS_ERR_LIMIT, "predictions",
                              "predictions has too many classes");
    ctx->plan_bytes = bytes;
    if (ctx->plan_only)
        return LOSS_OK;
    class_layout *cl = mem_alloc(bytes);
    if (cl == NULL)
        return loss_error_set(err, LOSS_ERR_NOMEM, "", "out of memory");
    memset(cl, 0, sizeof *cl);
    cl->classes = classes;
    ctx->scratch = cl;
    return LOSS_OK;
}

loss_status class_layout_plan(loss_ctx *ctx, loss_error *err, int weight_input, int allow_probs,
                              int64_t ignore_index)
{
    const tensor *pred = ctx->in[0];
    loss_status st;
    if (pred->rank == 0)
        return loss_error_set(err, LOSS_ERR_SHAPE, "predictions",
                              "predictions must have shape (C), (N, C) or (N, C, d1, ...)");
    size_t classes = pred->shape[pred->rank == 1 ? 0 : 1];
    if (classes == 0)
        return loss_error_set(err, LOSS_ERR_SHAPE, "predictions",
                              "predictions must have at least one class");
    if ((st = check_targets(ctx, err, allow_probs)) != LOSS_OK ||
        (st = check_weight_shape(ctx, err, weight_input, classes)) != LOSS_OK ||
        (st = alloc_layout(ctx, err, classes)) != LOSS_OK)
        return st;
    tensor pos;
    position_shape(pred, &pos);
    ctx->n_units = pred->count / classes;
    ctx->unit_cost = classes;
    ctx->term_rank[0] = pos.rank;
    memcpy(ctx->term_shape[0], pos.shape, sizeof pos.shape);
    ctx->denom[0] = (double)ctx->n_units;
    if (ctx->plan_only) /* the weights and the targets' denominator need the data */
        return LOSS_OK;

    class_layout *cl = ctx->scratch;
    cl->inner = 1;
    for (size_t i = 2; i < pred->rank; i++)
        cl->inner *= pred->shape[i]; /* <= count / classes: cannot overflow */
    cl->index_targets = ctx->in[1]->type == TENSOR_I64;
    cl->ignore_index = ignore_index;
    if ((st = load_weights(ctx, err, weight_input, cl)) != LOSS_OK)
        return st;
    if (cl->index_targets)
        return index_denominator(ctx, err, cl, weight_input >= 0 && ctx->in[weight_input],
                                 &ctx->denom[0]);
    return LOSS_OK;
}

void class_layout_release(loss_ctx *ctx)
{
    mem_free(ctx->scratch);
    ctx->scratch = NULL;
}
