/* triplet_margin: F.triplet_margin_loss, l = max(0, margin + d(a, p) - d(a, n)) with
 * d = F.pairwise_distance(., ., p, eps); `swap` replaces d(a, n) by min(d(a, n), d(p, n)),
 * whose tie splits the gradient 1/2-1/2 as torch.min does; the hinge passes the gradient at
 * its tie (clamp_min). One work unit is one triplet of rows; the three gradient rows are
 * written in one pass over D. */
#include <string.h>

#include "pairwise.h"

enum { IN_ANCHOR, IN_POSITIVE, IN_NEGATIVE };
enum { P_MARGIN, P_P, P_EPS, P_SWAP };

/* One triplet's distances and the weights of d(a, n) and d(p, n) in the negative distance. */
typedef struct {
    double ap, an, pn;
    double w_an, w_pn;
} triplet_dist;

static int check_row(const loss_ctx *ctx, size_t off, size_t dim, loss_partial *part)
{
    const void *rows[3] = {ctx->in[IN_ANCHOR]->data, ctx->in[IN_POSITIVE]->data,
                           ctx->in[IN_NEGATIVE]->data};
    size_t which, bad = pd_first_non_finite(rows, 3, ctx->dtype, off, dim, &which);
    if (bad == (size_t)-1)
        return 1;
    return !loss_partial_fail(part, LOSS_ERR_NON_FINITE, (int)which, bad,
                              loss_load(rows[which], ctx->dtype, bad), "is not finite");
}

static inline __attribute__((always_inline)) triplet_dist
distances(const loss_ctx *ctx, const pd_spec *s, size_t off, size_t dim, loss_dtype dt)
{
    const void *a = ctx->in[IN_ANCHOR]->data, *p = ctx->in[IN_POSITIVE]->data,
               *n = ctx->in[IN_NEGATIVE]->data;
    triplet_dist d = {pd_distance(s, a, p, dt, off, dim), pd_distance(s, a, n, dt, off, dim), 0,
                      1.0, 0.0};
    if (ctx->param[P_SWAP] != 0.0) {
        d.pn = pd_distance(s, p, n, dt, off, dim);
        d.w_an = d.an < d.pn ? 1.0 : d.an == d.pn ? 0.5 : 0.0;
        d.w_pn = 1.0 - d.w_an;
    }
    return d;
}

/* d a = g (u_ap - w_an u_an), d p = g (-u_ap - w_pn u_pn), d n = g (w_an u_an + w_pn u_pn),
 * u_xy = d d(x, y) / d x. */
static inline __attribute__((always_inline)) void
write_row_grad(const loss_ctx *ctx, const pd_spec *s, const triplet_dist *d, size_t off,
               size_t dim, double g, loss_dtype dt)
{
    const void *a = ctx->in[IN_ANCHOR]->data, *p = ctx->in[IN_POSITIVE]->data,
               *n = ctx->in[IN_NEGATIVE]->data;
    const double f_ap = g * pd_factor(s, d->ap), f_an = g * d->w_an * pd_factor(s, d->an);
    const double f_pn = g * d->w_pn * pd_factor(s, d->pn);
    for (size_t k = off; k < off + dim; k++) {
        double av = loss_load(a, dt, k), pv = loss_load(p, dt, k), nv = loss_load(n, dt, k);
        double u_ap = pd_grad(s, av - pv + s->eps, f_ap), u_an = pd_grad(s, av - nv + s->eps, f_an);
        double u_pn = f_pn != 0.0 ? pd_grad(s, pv - nv + s->eps, f_pn) : 0.0;
        loss_store(ctx->grad[IN_ANCHOR], dt, k, u_ap - u_an);
        loss_store(ctx->grad[IN_POSITIVE], dt, k, -u_ap - u_pn);
        loss_store(ctx->grad[IN_NEGATIVE], dt, k, u_an + u_pn);
    }
}

static inline __attribute__((always_inline)) void
triplet_run(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part, loss_dtype dt)
{
    const pd_spec s = pd_spec_make(ctx->param[P_P], ctx->param[P_EPS]);
    const size_t dim = pd_dim(ctx->in[IN_ANCHOR]);
    loss_acc acc = {0, 0};
    for (size_t i = begin; i < end; i++) {
        if (!check_row(ctx, i * dim, dim, part))
            return;
        triplet_dist d = distances(ctx, &s, i * dim, dim, dt);
        double neg = d.w_an * d.an + d.w_pn * d.pn; /* the min, as weights are 1/0 or 1/2 */
        double z = ctx->param[P_MARGIN] + d.ap - neg, l = z > 0.0 ? z : 0.0;
        if (ctx->grad[IN_ANCHOR])
            write_row_grad(ctx, &s, &d, i * dim, dim, z >= 0.0 ? ctx->scale[0] : 0.0, dt);
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], dt, i, l);
    }
    part->sum[0] = loss_acc_value(&acc);
}

static void triplet_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    if (ctx->dtype == LOSS_DTYPE_F64)
        triplet_run(ctx, begin, end, part, LOSS_DTYPE_F64);
    else
        triplet_run(ctx, begin, end, part, LOSS_DTYPE_F32);
}

static loss_status triplet_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *a = ctx->in[IN_ANCHOR];
    if (a->rank != 1 && a->rank != 2)
        return loss_error_set(err, LOSS_ERR_SHAPE, "anchor", "anchor must have shape (N, D) or (D)");
    loss_status st = loss_plan_require_same_shape(ctx, err);
    if (st != LOSS_OK)
        return st;
    ctx->n_units = pd_rows(a);
    ctx->unit_cost = pd_dim(a) ? 3 * pd_dim(a) : 1;
    ctx->term_rank[0] = a->rank - 1;
    ctx->term_shape[0][0] = ctx->n_units;
    ctx->denom[0] = (double)ctx->n_units;
    return LOSS_OK;
}

static const loss_input_desc triplet_inputs[] = {
    {"anchor", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, "(N, D) or (D)"},
    {"positive", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, "same as anchor"},
    {"negative", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, "same as anchor"},
};

static const loss_param_desc triplet_params[] = {
    [P_MARGIN] = {"margin", LOSS_PARAM_FLOAT, 1.0, 0, 0, 0, NULL, 0},
    [P_P] = {"p", LOSS_PARAM_FLOAT, 2.0, LOSS_PARAM_HAS_MIN | LOSS_PARAM_MIN_EXCLUSIVE, 0.0, 0.0,
             NULL, 0},
    [P_EPS] = {"eps", LOSS_PARAM_FLOAT, 1e-6, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
    [P_SWAP] = {"swap", LOSS_PARAM_BOOL, 0, 0, 0, 0, NULL, 0},
};

const loss_desc loss_desc_triplet_margin = {
    .name = "triplet_margin",
    .family = "embedding",
    .reference = "torch.nn.functional.triplet_margin_loss",
    .inputs = triplet_inputs,
    .n_inputs = 3,
    .params = triplet_params,
    .n_params = 4,
    .reductions = LOSS_RED_STANDARD,
    .plan = triplet_plan,
    .chunk = triplet_chunk,
    .flags = LOSS_FLAG_DENSE,
};
