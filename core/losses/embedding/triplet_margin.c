/* triplet_margin: F.triplet_margin_loss, l = max(0, margin + d(a, p) - d(a, n)) with
 * d = F.pairwise_distance(., ., p, eps); `swap` replaces d(a, n) by min(d(a, n), d(p, n)),
 * whose tie splits the gradient 1/2-1/2 as torch.min does; the hinge passes the gradient at
 * its tie (clamp_min). One work unit is one triplet of rows; the three gradient rows are
 * written in one pass over D. The Euclidean norm (the default) has its own chunk: the
 * squared distances of a row are summed in TRIPLET_LANES fixed lanes (a fixed order the
 * compiler vectorises), and the typed loops store the gradient directly. */
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
write_row_grad(const loss_ctx *ctx, const pd_spec *s, const triplet_dist *d, size_t off, size_t dim,
               double g, loss_dtype dt)
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

/* ---- the Euclidean chunk ---- */

#define TRIPLET_LANES 8

/* Two doubles: GNU C vector extensions at the target's baseline width (one SSE2 register on
 * x86-64), so the row loops run packed on every build. */
typedef double triplet_v2d __attribute__((vector_size(16)));
typedef float triplet_v2f __attribute__((vector_size(8)));

static inline triplet_v2d triplet_load2_f64(const double *x)
{
    triplet_v2d v;
    memcpy(&v, x, sizeof v);
    return v;
}

static inline triplet_v2d triplet_load2_f32(const float *x)
{
    triplet_v2f v;
    memcpy(&v, x, sizeof v);
    return __builtin_convertvector(v, triplet_v2d);
}

static inline void triplet_store2_f64(double *x, triplet_v2d v)
{
    memcpy(x, &v, sizeof v);
}

static inline void triplet_store2_f32(float *x, triplet_v2d v)
{
    triplet_v2f f = __builtin_convertvector(v, triplet_v2f);
    memcpy(x, &f, sizeof f);
}

/* The 8 lanes' sum (lane j in acc[j / 2][j % 2]) in a fixed pairwise order. */
static inline double triplet_lanes_sum(const triplet_v2d acc[4])
{
    triplet_v2d s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    return s[0] + s[1];
}

/* Defines name(a, p, n, dim, eps, swap, sq): the squared distances |a-p+eps|^2, |a-n+eps|^2
 * and, when swap, |p-n+eps|^2 of one row, each summed in TRIPLET_LANES lanes (element k in
 * lane k mod 8) then pairwise. */
#define TRIPLET_DEFINE_SQ(name, T)                                                          \
    static inline __attribute__((always_inline)) void name##_any(                           \
        const T *a, const T *p, const T *n, size_t dim, double eps, int swap, double sq[3]) \
    {                                                                                       \
        triplet_v2d acc[3][4] = {{{0}}}, ve = {eps, eps};                                   \
        size_t k = 0;                                                                       \
        for (; k + TRIPLET_LANES <= dim; k += TRIPLET_LANES)                                \
            for (size_t h = 0; h < 4; h++) {                                                \
                triplet_v2d u = triplet_load2_##T(a + k + 2 * h);                           \
                triplet_v2d v = triplet_load2_##T(p + k + 2 * h);                           \
                triplet_v2d w = triplet_load2_##T(n + k + 2 * h);                           \
                triplet_v2d dp = u - v + ve, dn = u - w + ve;                               \
                acc[0][h] += dp * dp;                                                       \
                acc[1][h] += dn * dn;                                                       \
                if (swap) {                                                                 \
                    triplet_v2d dq = v - w + ve;                                            \
                    acc[2][h] += dq * dq;                                                   \
                }                                                                           \
            }                                                                               \
        for (size_t j = 0; k < dim; k++, j++) {                                             \
            double u = (double)a[k], v = (double)p[k], w = (double)n[k];                    \
            double dp = u - v + eps, dn = u - w + eps, dq = v - w + eps;                    \
            acc[0][j / 2][j % 2] += dp * dp;                                                \
            acc[1][j / 2][j % 2] += dn * dn;                                                \
            acc[2][j / 2][j % 2] += dq * dq;                                                \
        }                                                                                   \
        sq[0] = triplet_lanes_sum(acc[0]);                                                  \
        sq[1] = triplet_lanes_sum(acc[1]);                                                  \
        sq[2] = swap ? triplet_lanes_sum(acc[2]) : 0.0;                                     \
    }                                                                                       \
    /* swap a constant in each copy: without it, d(p, n) is not computed at all */          \
    static void name(const T *a, const T *p, const T *n, size_t dim, double eps, int swap,  \
                     double sq[3])                                                          \
    {                                                                                       \
        if (swap)                                                                           \
            name##_any(a, p, n, dim, eps, 1, sq);                                           \
        else                                                                                \
            name##_any(a, p, n, dim, eps, 0, sq);                                           \
    }

/* Defines name(...): the gradient rows of one triplet for the Euclidean norm, u_xy =
 * (x - y + eps) f_xy (pd_grad), in one pass; u_pn is 0 without swap's weight. */
#define TRIPLET_DEFINE_GRAD(name, T)                                                      \
    static inline __attribute__((always_inline)) void name##_any(                         \
        const T *a, const T *p, const T *n, T *ga, T *gp, T *gn, size_t dim, double eps,  \
        double f_ap, double f_an, double f_pn, int pn)                                    \
    {                                                                                     \
        const triplet_v2d ve = {eps, eps}, fap = {f_ap, f_ap}, fan = {f_an, f_an};        \
        const triplet_v2d fpn = {f_pn, f_pn}, zero = {0, 0};                              \
        size_t k = 0;                                                                     \
        for (; k + 2 <= dim; k += 2) {                                                    \
            triplet_v2d u = triplet_load2_##T(a + k), v = triplet_load2_##T(p + k);       \
            triplet_v2d w = triplet_load2_##T(n + k);                                     \
            triplet_v2d u_ap = (u - v + ve) * fap, u_an = (u - w + ve) * fan;             \
            triplet_v2d u_pn = pn ? (v - w + ve) * fpn : zero;                            \
            triplet_store2_##T(ga + k, u_ap - u_an);                                      \
            triplet_store2_##T(gp + k, -u_ap - u_pn);                                     \
            triplet_store2_##T(gn + k, u_an + u_pn);                                      \
        }                                                                                 \
        for (; k < dim; k++) {                                                            \
            double u = (double)a[k], v = (double)p[k], w = (double)n[k];                  \
            double u_ap = (u - v + eps) * f_ap, u_an = (u - w + eps) * f_an;              \
            double u_pn = pn ? (v - w + eps) * f_pn : 0.0;                                \
            ga[k] = (T)(u_ap - u_an);                                                     \
            gp[k] = (T)(-u_ap - u_pn);                                                    \
            gn[k] = (T)(u_an + u_pn);                                                     \
        }                                                                                 \
    }                                                                                     \
    /* u_pn's presence a constant in each copy */                                         \
    static void name(const T *a, const T *p, const T *n, T *ga, T *gp, T *gn, size_t dim, \
                     double eps, double f_ap, double f_an, double f_pn)                   \
    {                                                                                     \
        if (f_pn != 0.0)                                                                  \
            name##_any(a, p, n, ga, gp, gn, dim, eps, f_ap, f_an, f_pn, 1);               \
        else                                                                              \
            name##_any(a, p, n, ga, gp, gn, dim, eps, f_ap, f_an, f_pn, 0);               \
    }

typedef double f64;
typedef float f32;
TRIPLET_DEFINE_SQ(triplet_sq_f64, f64)
TRIPLET_DEFINE_SQ(triplet_sq_f32, f32)
TRIPLET_DEFINE_GRAD(triplet_grad_f64, f64)
TRIPLET_DEFINE_GRAD(triplet_grad_f32, f32)

/* The weights of d(a, n) and d(p, n) in the negative distance, as distances() sets them. */
static void swap_weights(triplet_dist *d, int swap)
{
    d->w_an = 1.0, d->w_pn = 0.0;
    if (swap) {
        d->w_an = d->an < d->pn ? 1.0 : d->an == d->pn ? 0.5 : 0.0;
        d->w_pn = 1.0 - d->w_an;
    }
}

/* Row i's distances; returns 0 when a squared distance is not finite (a non-finite input, or
 * an overflow) and the reference must judge the chunk. */
static int l2_distances(const loss_ctx *ctx, size_t i, size_t dim, int swap, triplet_dist *d)
{
    const size_t off = i * dim;
    const double eps = ctx->param[P_EPS];
    double sq[3];
    if (ctx->dtype == LOSS_DTYPE_F64)
        triplet_sq_f64((const double *)ctx->in[IN_ANCHOR]->data + off,
                       (const double *)ctx->in[IN_POSITIVE]->data + off,
                       (const double *)ctx->in[IN_NEGATIVE]->data + off, dim, eps, swap, sq);
    else /* the ISA's row loop where it has one (kern.h, kern_rows) */
        (kern_get()->rows_f32.triplet_sq ? kern_get()->rows_f32.triplet_sq : triplet_sq_f32)(
            (const float *)ctx->in[IN_ANCHOR]->data + off,
            (const float *)ctx->in[IN_POSITIVE]->data + off,
            (const float *)ctx->in[IN_NEGATIVE]->data + off, dim, eps, swap, sq);
    if (!isfinite(sq[0]) || !isfinite(sq[1]) || !isfinite(sq[2]))
        return 0;
    d->ap = sqrt(sq[0]), d->an = sqrt(sq[1]), d->pn = sqrt(sq[2]);
    swap_weights(d, swap);
    return 1;
}

static void l2_row_grad(const loss_ctx *ctx, size_t i, size_t dim, const triplet_dist *d, double g)
{
    const pd_spec s = pd_spec_make(2.0, ctx->param[P_EPS]);
    const double f_ap = g * pd_factor(&s, d->ap), f_an = g * d->w_an * pd_factor(&s, d->an);
    const double f_pn = g * d->w_pn * pd_factor(&s, d->pn);
    const size_t off = i * dim;
    if (ctx->dtype == LOSS_DTYPE_F64)
        triplet_grad_f64((const double *)ctx->in[IN_ANCHOR]->data + off,
                         (const double *)ctx->in[IN_POSITIVE]->data + off,
                         (const double *)ctx->in[IN_NEGATIVE]->data + off,
                         (double *)ctx->grad[IN_ANCHOR] + off,
                         (double *)ctx->grad[IN_POSITIVE] + off,
                         (double *)ctx->grad[IN_NEGATIVE] + off, dim, s.eps, f_ap, f_an, f_pn);
    else if (kern_get()->rows_f32.triplet_grad)
        kern_get()->rows_f32.triplet_grad(
            (const float *)ctx->in[IN_ANCHOR]->data + off,
            (const float *)ctx->in[IN_POSITIVE]->data + off,
            (const float *)ctx->in[IN_NEGATIVE]->data + off, (float *)ctx->grad[IN_ANCHOR] + off,
            (float *)ctx->grad[IN_POSITIVE] + off, (float *)ctx->grad[IN_NEGATIVE] + off, dim,
            s.eps, (const double[3]){f_ap, f_an, f_pn});
    else
        triplet_grad_f32((const float *)ctx->in[IN_ANCHOR]->data + off,
                         (const float *)ctx->in[IN_POSITIVE]->data + off,
                         (const float *)ctx->in[IN_NEGATIVE]->data + off,
                         (float *)ctx->grad[IN_ANCHOR] + off, (float *)ctx->grad[IN_POSITIVE] + off,
                         (float *)ctx->grad[IN_NEGATIVE] + off, dim, s.eps, f_ap, f_an, f_pn);
}

/* The Euclidean chunk. Returns 0, or -1 (nothing reported) when a row needs the reference. */
static int triplet_l2_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const size_t dim = pd_dim(ctx->in[IN_ANCHOR]);
    const int swap = ctx->param[P_SWAP] != 0.0;
    loss_acc acc = {0, 0};
    for (size_t i = begin; i < end; i++) {
        triplet_dist d;
        if (!l2_distances(ctx, i, dim, swap, &d))
            return -1;
        double neg = d.w_an * d.an + d.w_pn * d.pn; /* the min, as weights are 1/0 or 1/2 */
        double z = ctx->param[P_MARGIN] + d.ap - neg, l = z > 0.0 ? z : 0.0;
        if (ctx->grad[IN_ANCHOR])
            l2_row_grad(ctx, i, dim, &d, z >= 0.0 ? ctx->scale[0] : 0.0);
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], ctx->dtype, i, l);
    }
    part->sum[0] = loss_acc_value(&acc);
    return 0;
}

/* ---- the general chunk ---- */

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
    if (ctx->param[P_P] == 2.0 && triplet_l2_chunk(ctx, begin, end, part) == 0)
        return;
    if (ctx->dtype == LOSS_DTYPE_F64)
        triplet_run(ctx, begin, end, part, LOSS_DTYPE_F64);
    else
        triplet_run(ctx, begin, end, part, LOSS_DTYPE_F32);
}

static loss_status triplet_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *a = ctx->in[IN_ANCHOR];
    if (a->rank != 1 && a->rank != 2)
        return loss_error_set(err, LOSS_ERR_SHAPE, "anchor",
                              "anchor must have shape (N, D) or (D)");
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
    {"anchor", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(N), LOSS_N(D)), LOSS_DIMS(LOSS_N(D)))},
    {"positive", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_SAME(IN_ANCHOR))},
    {"negative", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_SAME(IN_ANCHOR))},
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
    .aliases = (const char *const[]){"TripletMarginLoss", NULL},
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
