/* bce: F.binary_cross_entropy on probabilities, logs clamped at -100 and the gradient's
 * denominator at 1e-12, as PyTorch computes them. `weight` broadcasts to the predictions'
 * shape as PyTorch allows (trailing dimensions aligned, each 1 or equal) and its mean is
 * PyTorch's mean(w*l) over the elements, not sum(w*l)/sum(w). Predictions outside [0, 1]
 * are out of domain; targets are not checked beyond finiteness (PyTorch accepts y = 1.5). */
#include <stdio.h>
#include <string.h>

#include "bce_terms.h"
#include "loss_kernel.h"
#include "mem.h"

enum { IN_PRED, IN_TARGET, IN_WEIGHT };

/* How element i of the predictions finds its weight: weight index = sum_d coord_d * wstride_d,
 * with wstride_d = 0 along broadcast dimensions. */
typedef struct {
    size_t rank;
    size_t shape[TENSOR_MAX_RANK];
    size_t wstride[TENSOR_MAX_RANK];
} bce_weight_map;

/* Coordinates of flat index i, and the matching weight index. */
static size_t weight_map_start(const bce_weight_map *m, size_t i, size_t *coord)
{
    size_t w = 0;
    for (size_t d = m->rank; d-- > 0;) {
        coord[d] = i % m->shape[d];
        i /= m->shape[d];
        w += coord[d] * m->wstride[d];
    }
    return w;
}

/* Steps coord to the next element in row-major order and returns its weight index. */
static size_t weight_map_next(const bce_weight_map *m, size_t *coord, size_t w)
{
    for (size_t d = m->rank; d-- > 0;) {
        w += m->wstride[d];
        if (++coord[d] < m->shape[d])
            return w;
        w -= coord[d] * m->wstride[d];
        coord[d] = 0;
    }
    return w;
}

static int bce_check(size_t i, double p, double y, loss_partial *part)
{
    if (!isfinite(p))
        return loss_partial_fail(part, LOSS_ERR_NON_FINITE, IN_PRED, i, p, "is not finite");
    if (!isfinite(y))
        return loss_partial_fail(part, LOSS_ERR_NON_FINITE, IN_TARGET, i, y, "is not finite");
    if (!bce_is_probability(p))
        return loss_partial_fail(part, LOSS_ERR_DOMAIN, IN_PRED, i, p, "is outside [0, 1]");
    return 0;
}

static void bce_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const tensor *pt = ctx->in[IN_PRED], *yt = ctx->in[IN_TARGET], *wt = ctx->in[IN_WEIGHT];
    const bce_weight_map *map = ctx->scratch;
    const loss_dtype dt = ctx->dtype;
    size_t coord[TENSOR_MAX_RANK];
    size_t wi = wt && begin < end ? weight_map_start(map, begin, coord) : 0;
    loss_acc acc = {0, 0};
    for (size_t i = begin; i < end; i++) {
        double p = loss_load(pt->data, dt, i), y = loss_load(yt->data, dt, i);
        if (bce_check(i, p, y, part))
            return;
        double w = 1.0;
        if (wt) {
            w = loss_load(wt->data, dt, wi);
            wi = weight_map_next(map, coord, wi);
        }
        double l = w * bce_term_value(p, y);
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], dt, i, l);
        if (ctx->grad[0])
            loss_store(ctx->grad[0], dt, i, w * bce_term_grad(p, y) * ctx->scale[0]);
    }
    part->sum[0] = loss_acc_value(&acc);
}

static loss_status weight_shape_error(const tensor *w, const tensor *p, loss_error *err)
{
    char a[96], b[96];
    tensor_shape_str(w, a, sizeof a);
    tensor_shape_str(p, b, sizeof b);
    return loss_error_set(err, LOSS_ERR_SHAPE, "weight",
                          "weight has shape %s, which does not broadcast to predictions' %s", a, b);
}

/* Fills the map, or fails when w does not broadcast to p's shape. */
static loss_status weight_map_build(bce_weight_map *m, const tensor *w, const tensor *p,
                                    loss_error *err)
{
    if (w->rank > p->rank)
        return weight_shape_error(w, p, err);
    m->rank = p->rank;
    size_t stride = 1, off = p->rank - w->rank;
    for (size_t d = p->rank; d-- > 0;) {
        m->shape[d] = p->shape[d];
        size_t wd = d >= off ? w->shape[d - off] : 1;
        if (wd != 1 && wd != p->shape[d])
            return weight_shape_error(w, p, err);
        m->wstride[d] = wd == 1 ? 0 : stride;
        stride *= wd;
    }
    return LOSS_OK;
}

static loss_status check_weight_finite(const tensor *w, loss_dtype dt, loss_error *err)
{
    for (size_t i = 0; i < w->count; i++) {
        double v = loss_load(w->data, dt, i);
        if (!isfinite(v))
            return loss_error_set(err, LOSS_ERR_NON_FINITE, "weight",
                                  "weight[%zu] = %.17g is not finite", i, v);
    }
    return LOSS_OK;
}

static loss_status bce_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *p = ctx->in[IN_PRED], *y = ctx->in[IN_TARGET], *w = ctx->in[IN_WEIGHT];
    if (y->rank != p->rank || memcmp(y->shape, p->shape, p->rank * sizeof p->shape[0]) != 0) {
        char a[96], b[96];
        tensor_shape_str(y, a, sizeof a);
        tensor_shape_str(p, b, sizeof b);
        return loss_error_set(err, LOSS_ERR_SHAPE, "targets",
                              "targets has shape %s, predictions has shape %s", a, b);
    }
    ctx->n_units = p->count;
    ctx->unit_cost = 1;
    ctx->unit_work = LOSS_WORK_PER_ELEMENT;
    ctx->denom[0] = (double)p->count;
    loss_plan_term_shape(ctx, 0, p);
    if (w == NULL)
        return LOSS_OK;
    ctx->plan_bytes = sizeof(bce_weight_map);
    if (ctx->plan_only) {
        bce_weight_map shape_only;
        return weight_map_build(&shape_only, w, p, err);
    }
    loss_status st = check_weight_finite(w, ctx->dtype, err);
    if (st != LOSS_OK)
        return st;
    bce_weight_map *map = mem_alloc(sizeof *map);
    if (map == NULL)
        return loss_error_set(err, LOSS_ERR_NOMEM, "", "out of memory");
    ctx->scratch = map;
    return weight_map_build(map, w, p, err);
}

static void bce_release(loss_ctx *ctx)
{
    mem_free(ctx->scratch);
    ctx->scratch = NULL;
}

static const loss_input_desc bce_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE("; probabilities in [0, 1]", LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(IN_PRED))},
    {"weight", LOSS_IN_FLOAT, LOSS_INPUT_OPTIONAL | LOSS_INPUT_PARAM,
     LOSS_RULE(NULL, LOSS_BROADCAST(IN_PRED))},
};

const loss_desc loss_desc_bce = {
    .name = "bce",
    .aliases = (const char *const[]){"BCELoss", "binary_cross_entropy", NULL},
    .family = "classification",
    .reference = "torch.nn.functional.binary_cross_entropy (logs clamped at -100; "
                 "weight: mean = mean(w*l))",
    .inputs = bce_inputs,
    .n_inputs = 3,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = bce_plan,
    .chunk = bce_chunk,
    .fast = {.kernel = KERN_BCE, .absent = LOSS_INPUT_BIT(IN_WEIGHT)},
    .release = bce_release,
};
