/* class_layout: the shape of class-scored predictions, shared by cross_entropy and nll.
 * Predictions are (C), (N, C) or (N, C, d1, ..., dK); a "position" is one (n, d1, ..., dK)
 * cell and its C scores lie `inner` elements apart (inner = d1*...*dK, 1 without trailing
 * dims). Position p is also the flat index of its class-index target and of its `none`
 * output. Internal to core/losses/. */
#ifndef LOSSD_CLASS_LAYOUT_H
#define LOSSD_CLASS_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "loss_kernel.h"

typedef struct {
    size_t classes;       /* C, >= 1 */
    size_t inner;         /* d1*...*dK; 1 when predictions have no trailing dims */
    int index_targets;    /* targets are int64 class indices (else probabilities) */
    int64_t ignore_index; /* index targets equal to this contribute nothing */
    double weight_sum;    /* sum of the class weights (C without `weight`) */
    double weight[];      /* C class weights as double; all 1 without `weight` */
} class_layout;

/* Plan shared by cross_entropy and nll: checks predictions (rank >= 1, C >= 1), targets
 * (class indices shaped like predictions without the class dim, or, when `allow_probs`,
 * probabilities shaped like predictions) and the optional class weights (input
 * `weight_input`, shape (C), finite). Index targets are checked against [0, C) and
 * `ignore_index` here, and the mean denominator is their weight sum over non-ignored
 * positions; probability targets average over positions. Sets n_units (one per position),
 * unit_cost, the `none` shape and denom[0]. On LOSS_OK, ctx->scratch holds a class_layout
 * owned by ctx; free it with class_layout_release (also after errors). */
loss_status class_layout_plan(loss_ctx *ctx, loss_error *err, int weight_input, int allow_probs,
                              int64_t ignore_index);

/* Frees the class_layout that class_layout_plan put in ctx->scratch (NULL is fine). */
void class_layout_release(loss_ctx *ctx);

/* Flat index of class 0 of position `pos` in predictions. */
static inline size_t class_layout_base(const class_layout *cl, size_t pos)
{
    if (cl->inner == 1)
        return pos * cl->classes;
    return (pos / cl->inner) * cl->classes * cl->inner + pos % cl->inner;
}

#endif
