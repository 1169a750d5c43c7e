/* contrastive: Hadsell et al.'s contrastive loss with label 0 = similar:
 * l = (1-t) d^2 + t max(0, margin - d)^2, d = F.pairwise_distance(x1, x2, eps=eps).
 * One work unit is one row pair; d l / d x1 = (2(1-t) d - 2t max(0, margin - d)) w/d with
 * w = x1 - x2 + eps, and d l / d x2 is its negation. */
#include <string.h>

#include "pairwise.h"

enum { IN_X1, IN_X2, IN_TARGET };
enum { P_MARGIN, P_EPS };

/* Checks the row's inputs; returns 0 after failing part. */
static int check_row(const loss_ctx *ctx, size_t i, size_t dim, double t, loss_partial *part)
{
    const void *rows[2] = {ctx->in[IN_X1]->data, ctx->in[IN_X2]->data};
    size_t which, bad = pd_first_non_finite(rows, 2, ctx->dtype, i * dim, dim, &which);
    if (bad != (size_t)-1)
        return !loss_partial_fail(part, LOSS_ERR_NON_FINITE, (int)which, bad,
                                  loss_load(rows[which], ctx->dtype, bad), "is not finite");
    if (!isfinite(t))
        return !loss_partial_fail(part, LOSS_ERR_NON_FINITE, IN_TARGET, i, t, "is not finite");
    if (t != 0.0 && t != 1.0)
        return !loss_partial_fail(part, LOSS_ERR_DOMAIN, IN_TARGET, i, t,
                                  "is not 0 (similar) or 1 (dissimilar)");
    return 1;
}

static inline __attribute__((always_inline)) void write_row_grad(const loss_ctx *ctx,
                                                                 const pd_spec *s, size_t off,
                                                                 size_t dim, double coef,
                                                                 loss_dtype dt)
{
    const void *x1 = ctx->in[IN_X1]->data, *x2 = ctx->in[IN_X2]->data;
    void *g1 = ctx->grad[IN_X1], *g2 = ctx->grad[IN_X2];
    for (size_t k = off; k < off + dim; k++) {
        double g = coef * pd_grad(s, loss_load(x1, dt, k) - loss_load(x2, dt, k) + s->eps, 1.0);
        loss_store(g1, dt, k, g);
        loss_store(g2, dt, k, -g);
    }
}

static inline __attribute__((always_inline)) void
contrastive_run(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part, loss_dtype dt)
{
    const pd_spec s = pd_spec_make(2.0, ctx->param[P_EPS]);
    const double margin = ctx->param[P_MARGIN];
    const size_t dim = pd_dim(ctx->in[IN_X1]);
    loss_acc acc = {0, 0};
    for (size_t i = begin; i < end; i++) {
        double t = loss_load(ctx->in[IN_TARGET]->data, dt, i);
        if (!check_row(ctx, i, dim, t, part))
            return;
        double d = pd_distance(&s, ctx->in[IN_X1]->data, ctx->in[IN_X2]->data, dt, i * dim, dim);
        double hinge = fmax(margin - d, 0.0);
        double l = (1.0 - t) * (d * d) + t * (hinge * hinge);
        double dl_dd = 2.0 * (1.0 - t) * d - 2.0 * t * hinge;
        if (ctx->grad[IN_X1])
            write_row_grad(ctx, &s, i * dim, dim, dl_dd * pd_factor(&s, d) * ctx->scale[0], dt);
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], dt, i, l);
    }
    part->sum[0] = loss_acc_value(&acc);
}

static void contrastive_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    if (ctx->dtype == LOSS_DTYPE_F64)
        contrastive_run(ctx, begin, end, part, LOSS_DTYPE_F64);
    else
        contrastive_run(ctx, begin, end, part, LOSS_DTYPE_F32);
}

static loss_status contrastive_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *x1 = ctx->in[IN_X1], *x2 = ctx->in[IN_X2], *t = ctx->in[IN_TARGET];
    char a[96], b[96];
    if (x1->rank != 1 && x1->rank != 2)
        return loss_error_set(err, LOSS_ERR_SHAPE, "x1", "x1 must have shape (N, D) or (D)");
    tensor_shape_str(x1, a, sizeof a);
    tensor_shape_str(x2, b, sizeof b);
    if (x2->rank != x1->rank || memcmp(x2->shape, x1->shape, x1->rank * sizeof x1->shape[0]))
        return loss_error_set(err, LOSS_ERR_SHAPE, "x2", "x2 has shape %s, x1 has shape %s", b, a);
    size_t rows = pd_rows(x1);
    if (t->rank != x1->rank - 1 || (t->rank == 1 && t->shape[0] != rows)) {
        tensor_shape_str(t, b, sizeof b);
        return loss_error_set(err, LOSS_ERR_SHAPE, "targets",
                              "targets has shape %s, x1 %s needs one target per row", b, a);
    }
    ctx->n_units = rows;
    ctx->unit_cost = pd_dim(x1) ? 2 * pd_dim(x1) : 1;
    loss_plan_term_shape(ctx, 0, t);
    ctx->denom[0] = (double)rows;
    return LOSS_OK;
}

static const loss_input_desc contrastive_inputs[] = {
    {"x1", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(N), LOSS_N(D)), LOSS_DIMS(LOSS_N(D)))},
    {"x2", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_SAME(IN_X1))},
    {"targets", LOSS_IN_FLOAT, 0,
     LOSS_RULE(", 0 = similar, 1 = dissimilar", LOSS_DIMS(LOSS_N(N)), LOSS_SCALAR)},
};

static const loss_param_desc contrastive_params[] = {
    [P_MARGIN] = {"margin", LOSS_PARAM_FLOAT, 1.0, 0, 0, 0, NULL, 0},
    [P_EPS] = {"eps", LOSS_PARAM_FLOAT, 1e-6, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
};

const loss_desc loss_desc_contrastive = {
    .name = "contrastive",
    .family = "embedding",
    .reference = "Hadsell et al. 2006: (1-t) d^2 + t max(0, margin - d)^2, "
                 "d = F.pairwise_distance(x1, x2, eps=eps), t = 0 similar",
    .inputs = contrastive_inputs,
    .n_inputs = 3,
    .params = contrastive_params,
    .n_params = 2,
    .reductions = LOSS_RED_STANDARD,
    .plan = contrastive_plan,
    .chunk = contrastive_chunk,
    .flags = LOSS_FLAG_DENSE,
};
