/* bce_with_logits: F.binary_cross_entropy_with_logits with weight and pos_weight, both
 * broadcast to the predictions' shape as PyTorch allows (pos_weight usually (C), along the
 * last dimension). The loss is written (1 - y) softplus(x) + pw y softplus(-x), which equals
 * PyTorch's (1 - y) x + (1 + (pw - 1) y) softplus(-x) but never cancels, so it stays exact
 * from -1000 to 1000. mean = mean(w l) over all elements, as in PyTorch. */
#include <string.h>

#include "elem_bcast.h"
#include "logistic.h"
#include "loss_kernel.h"

enum { IN_PRED, IN_TARGET, IN_WEIGHT, IN_POS_WEIGHT };

/* Refuses a weight-like input that does not broadcast to p or holds a non-finite value. */
static loss_status check_weight(const loss_ctx *ctx, int input, loss_error *err)
{
    const tensor *w = ctx->in[input], *p = ctx->in[IN_PRED];
    const char *name = ctx->desc->inputs[input].name;
    elem_bcast m;
    if (w == NULL)
        return LOSS_OK;
    if (elem_bcast_init(&m, w, p) != 0) {
        char a[96], b[96];
        tensor_shape_str(w, a, sizeof a);
        tensor_shape_str(p, b, sizeof b);
        return loss_error_set(err, LOSS_ERR_SHAPE, name,
                              "%s has shape %s, which does not broadcast to predictions' %s", name,
                              a, b);
    }
    for (size_t i = 0; !ctx->plan_only && i < w->count; i++) {
        double v = loss_load(w->data, ctx->dtype, i);
        if (!isfinite(v))
            return loss_error_set(err, LOSS_ERR_NON_FINITE, name, "%s[%zu] = %.17g is not finite",
                                  name, i, v);
    }
    return LOSS_OK;
}

static int same_shape(const tensor *a, const tensor *b)
{
    return a->rank == b->rank &&
           (a->rank == 0 || memcmp(a->shape, b->shape, a->rank * sizeof a->shape[0]) == 0);
}

static loss_status bce_with_logits_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *p = ctx->in[IN_PRED], *y = ctx->in[IN_TARGET];
    loss_status st;
    if (!same_shape(p, y)) {
        char a[96], b[96];
        tensor_shape_str(y, a, sizeof a);
        tensor_shape_str(p, b, sizeof b);
        return loss_error_set(err, LOSS_ERR_SHAPE, "targets",
                              "targets has shape %s, predictions has shape %s", a, b);
    }
    if ((st = check_weight(ctx, IN_WEIGHT, err)) != LOSS_OK ||
        (st = check_weight(ctx, IN_POS_WEIGHT, err)) != LOSS_OK)
        return st;
    ctx->n_units = p->count;
    ctx->unit_cost = 1;
    ctx->unit_work = LOSS_WORK_PER_ELEMENT;
    loss_plan_term_shape(ctx, 0, p);
    ctx->denom[0] = (double)p->count;
    return LOSS_OK;
}

/* A broadcast weight-like input of the chunk: its walker, or none (the constant 1). */
typedef struct {
    const tensor *t;
    elem_bcast map;
    elem_bcast_pos pos;
} chunk_weight;

static void chunk_weight_start(chunk_weight *cw, const loss_ctx *ctx, int input, size_t begin)
{
    cw->t = ctx->in[input];
    if (cw->t == NULL)
        return;
    elem_bcast_init(&cw->map, cw->t, ctx->in[IN_PRED]); /* checked by plan */
    elem_bcast_seek(&cw->map, &cw->pos, begin);
}

/* The current value, then advances. */
static inline double chunk_weight_take(chunk_weight *cw, loss_dtype dt)
{
    if (cw->t == NULL)
        return 1.0;
    double v = loss_load(cw->t->data, dt, cw->pos.off);
    elem_bcast_next(&cw->map, &cw->pos);
    return v;
}

static void bce_with_logits_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const tensor *pt = ctx->in[IN_PRED], *yt = ctx->in[IN_TARGET];
    const loss_dtype dt = ctx->dtype;
    const double scale = ctx->scale[0];
    chunk_weight w, pw;
    loss_acc acc = {0, 0};
    chunk_weight_start(&w, ctx, IN_WEIGHT, begin);
    chunk_weight_start(&pw, ctx, IN_POS_WEIGHT, begin);
    for (size_t i = begin; i < end; i++) {
        double x = loss_load(pt->data, dt, i), y = loss_load(yt->data, dt, i);
        double wi = chunk_weight_take(&w, dt), pwi = chunk_weight_take(&pw, dt);
        if (!isfinite(x)) {
            loss_partial_fail(part, LOSS_ERR_NON_FINITE, IN_PRED, i, x, "is not finite");
            return;
        }
        if (!isfinite(y)) {
            loss_partial_fail(part, LOSS_ERR_NON_FINITE, IN_TARGET, i, y, "is not finite");
            return;
        }
        logistic_parts s = logistic_of(x);
        double l = wi * ((1.0 - y) * s.sp_pos + pwi * y * s.sp_neg);
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], dt, i, l);
        if (ctx->grad[IN_PRED])
            loss_store(ctx->grad[IN_PRED], dt, i,
                       wi * ((1.0 - y) * s.sig_pos - pwi * y * s.sig_neg) * scale);
    }
    part->sum[0] = loss_acc_value(&acc);
}

static const loss_input_desc bce_with_logits_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(" (logits)", LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_SAME(IN_PRED))},
    {"weight", LOSS_IN_FLOAT, LOSS_INPUT_OPTIONAL | LOSS_INPUT_PARAM,
     LOSS_RULE(NULL, LOSS_BROADCAST(IN_PRED))},
    {"pos_weight", LOSS_IN_FLOAT, LOSS_INPUT_OPTIONAL | LOSS_INPUT_PARAM,
     LOSS_RULE(", usually (C) along the last dimension", LOSS_BROADCAST(IN_PRED))},
};

const loss_desc loss_desc_bce_with_logits = {
    .name = "bce_with_logits",
    .aliases = (const char *const[]){"BCEWithLogitsLoss", "binary_cross_entropy_with_logits", NULL},
    .family = "classification",
    .reference = "torch.nn.functional.binary_cross_entropy_with_logits (mean = mean(w*l))",
    .inputs = bce_with_logits_inputs,
    .n_inputs = 4,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = bce_with_logits_plan,
    .chunk = bce_with_logits_chunk,
    .fast = {.kernel = KERN_BCE_WITH_LOGITS,
             .absent = LOSS_INPUT_BIT(IN_WEIGHT) | LOSS_INPUT_BIT(IN_POS_WEIGHT)},
};
