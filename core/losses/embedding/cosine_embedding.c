/* cosine_embedding: F.cosine_embedding_loss over rows of x1 and x2 (N, D), targets +-1.
 * cos adds Loss.cpp's EPSILON (1e-12f) to each squared norm, so a zero vector gives cos 0 and
 * a finite gradient (about -1e6 times the other unit vector). The y = -1 branch is a
 * clamp_min: at cos == margin the gradient passes. One unit per row; the three dot products
 * of a row run in four independent lanes so the compiler can vectorise them. */
#include "rows.h"

enum { IN_X1, IN_X2, IN_TARGET };
enum { P_MARGIN };

/* Loss.cpp's EPSILON is a float: 1e-12f = 9.999999960041972e-13 in double, which moves a
 * zero vector's gradient by 2e-9 relative (visible against PyTorch float64). */
#define COS_EPSILON ((double)1e-12f)

/* Defines name(a, b, n, dots): dots = {a.b, a.a, b.b} over n elements of type T, summed in
 * four independent lanes (a fixed order, so results do not depend on the thread). */
#define COS_DEFINE_DOTS(name, T)                                                 \
    static void name(const T *a, const T *b, size_t n, double dots[3])           \
    {                                                                            \
        double ab[4] = {0, 0, 0, 0}, aa[4] = {0, 0, 0, 0}, bb[4] = {0, 0, 0, 0}; \
        size_t k = 0;                                                            \
        for (; k + 4 <= n; k += 4)                                               \
            for (size_t j = 0; j < 4; j++) {                                     \
                double u = (double)a[k + j], v = (double)b[k + j];               \
                ab[j] += u * v;                                                  \
                aa[j] += u * u;                                                  \
                bb[j] += v * v;                                                  \
            }                                                                    \
        for (; k < n; k++) {                                                     \
            double u = (double)a[k], v = (double)b[k];                           \
            ab[0] += u * v;                                                      \
            aa[0] += u * u;                                                      \
            bb[0] += v * v;                                                      \
        }                                                                        \
        dots[0] = (ab[0] + ab[1]) + (ab[2] + ab[3]);                             \
        dots[1] = (aa[0] + aa[1]) + (aa[2] + aa[3]);                             \
        dots[2] = (bb[0] + bb[1]) + (bb[2] + bb[3]);                             \
    }

/* Defines name(a, b, out, n, ca, cb): out = ca*b - cb*a, the gradient of one row. */
#define COS_DEFINE_GRAD(name, T)                                                     \
    static void name(const T *a, const T *b, T *out, size_t n, double ca, double cb) \
    {                                                                                \
        for (size_t k = 0; k < n; k++)                                               \
            out[k] = (T)(ca * (double)b[k] - cb * (double)a[k]);                     \
    }

COS_DEFINE_DOTS(cos_dots_f64, double)
COS_DEFINE_DOTS(cos_dots_f32, float)
COS_DEFINE_GRAD(cos_grad_f64, double)
COS_DEFINE_GRAD(cos_grad_f32, float)

/* The chunk is skewed by one row: row i's dot products, then its scalar math (a sqrt and four
 * divisions), then row i - 1's gradients, which do not wait on that math, so the CPU overlaps
 * the two; row at a time, each gradient pass waited on its own row's divisions. Blocks of
 * rows overlapped more but reread their rows after they left the cache when the other
 * hyperthread was busy. Each row's arithmetic and the order of the loss sum are those of a
 * row-at-a-time loop, so results do not depend on the skew. */

/* The float32 row loops of the ISA (kern.h, kern_rows), or NULL: looked up once per chunk. */
typedef struct {
    void (*dots3)(const float *a, const float *b, size_t n, double out[3]);
    void (*grad)(const float *a, const float *b, float *ga, float *gb, size_t n, const double c[4]);
} cos_fast;

/* Row i's dot products. A non-finite sum of squares means a non-finite element (reported)
 * or an overflow (computed on, as PyTorch does); returns 1 after reporting. */
static int cos_row_dots(const loss_ctx *ctx, const cos_fast *fast, size_t i, size_t D,
                        double dots[3], loss_partial *part)
{
    const void *a = ctx->in[IN_X1]->data, *b = ctx->in[IN_X2]->data;
    if (ctx->dtype == LOSS_DTYPE_F64)
        cos_dots_f64((const double *)a + i * D, (const double *)b + i * D, D, dots);
    else
        (fast->dots3 ? fast->dots3 : cos_dots_f32)((const float *)a + i * D,
                                                   (const float *)b + i * D, D, dots);
    if (isfinite(dots[1]) && isfinite(dots[2]))
        return 0;
    return rows_fail_non_finite(ctx, IN_X1, i * D, (i + 1) * D, part) ||
           rows_fail_non_finite(ctx, IN_X2, i * D, (i + 1) * D, part);
}

/* d/dx1 of g*cos is (g/denom) x2 - (g cos/m1) x1; x2's is the same with the roles swapped. */
static void cos_row_grad(const loss_ctx *ctx, int in, size_t i, size_t D, double ca, double cb)
{
    const void *a = ctx->in[in]->data, *b = ctx->in[in == IN_X1 ? IN_X2 : IN_X1]->data;
    void *out = ctx->grad[in];
    if (out == NULL)
        return;
    if (ctx->dtype == LOSS_DTYPE_F64)
        cos_grad_f64((const double *)a + i * D, (const double *)b + i * D, (double *)out + i * D, D,
                     ca, cb);
    else
        cos_grad_f32((const float *)a + i * D, (const float *)b + i * D, (float *)out + i * D, D,
                     ca, cb);
}

/* Both gradient rows, c as kern_rows.cos_grad takes it: one pass where the ISA has it. */
static void cos_grads(const loss_ctx *ctx, const cos_fast *fast, size_t i, size_t D,
                      const double c[4])
{
    if (fast->grad == NULL) {
        cos_row_grad(ctx, IN_X1, i, D, c[0], c[1]);
        cos_row_grad(ctx, IN_X2, i, D, c[2], c[3]);
        return;
    }
    if (ctx->grad[IN_X1] == NULL && ctx->grad[IN_X2] == NULL)
        return;
    float *ga = ctx->grad[IN_X1], *gb = ctx->grad[IN_X2];
    fast->grad((const float *)ctx->in[IN_X1]->data + i * D,
               (const float *)ctx->in[IN_X2]->data + i * D, ga ? ga + i * D : NULL,
               gb ? gb + i * D : NULL, D, c);
}

/* Loss of one row for target y; *g receives d loss / d cos (0 where inactive). */
static double cos_row_loss(double cosv, double y, double margin, double *g)
{
    if (y == 1.0) {
        *g = -1.0;
        return 1.0 - cosv;
    }
    double z = cosv - margin;
    *g = z >= 0 ? 1.0 : 0.0;
    return z >= 0 ? z : 0.0;
}

/* Row i's target y and dot products, target first, as the checks always ran: returns 1 after
 * reporting a bad row. */
static int cos_row_check(const loss_ctx *ctx, const cos_fast *fast, size_t i, size_t D, double *y,
                         double dots[3], loss_partial *part)
{
    *y = loss_load(ctx->in[IN_TARGET]->data, ctx->dtype, i);
    if (*y != 1.0 && *y != -1.0) {
        loss_status bad = isfinite(*y) ? LOSS_ERR_DOMAIN : LOSS_ERR_NON_FINITE;
        loss_partial_fail(part, bad, IN_TARGET, i, *y,
                          bad == LOSS_ERR_DOMAIN ? "is not -1 or 1" : "is not finite");
        return 1;
    }
    return cos_row_dots(ctx, fast, i, D, dots, part);
}

/* A row's loss and gradient coefficients (kern_rows.cos_grad's), pending until written. */
typedef struct {
    size_t i;
    double l, c[4];
} cos_row;

static cos_row cos_row_math(const loss_ctx *ctx, size_t i, double y, const double dots[3])
{
    double m1 = dots[1] + COS_EPSILON, m2 = dots[2] + COS_EPSILON, g;
    double denom = sqrt(m1 * m2), cosv = dots[0] / denom;
    cos_row r = {i, cos_row_loss(cosv, y, ctx->param[P_MARGIN], &g), {0}};
    g *= ctx->scale[0];
    r.c[0] = g / denom;
    r.c[1] = g * cosv / m1;
    r.c[2] = g / denom;
    r.c[3] = g * cosv / m2;
    return r;
}

static void cos_row_write(const loss_ctx *ctx, const cos_fast *fast, size_t D, const cos_row *r,
                          loss_acc *acc)
{
    cos_grads(ctx, fast, r->i, D, r->c);
    loss_acc_add(acc, r->l);
    if (ctx->values[0])
        loss_store(ctx->values[0], ctx->dtype, r->i, r->l);
}

static void cos_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const tensor *x1 = ctx->in[IN_X1];
    const size_t D = x1->shape[x1->rank - 1];
    const kern_rows *kr = ctx->dtype == LOSS_DTYPE_F32 ? &kern_get()->rows_f32 : NULL;
    const cos_fast fast = {kr ? kr->dots3 : NULL, kr ? kr->cos_grad : NULL};
    loss_acc acc = {0, 0};
    cos_row prev = {0, 0, {0}};
    for (size_t i = begin; i < end; i++) {
        double y, dots[3];
        if (cos_row_check(ctx, &fast, i, D, &y, dots, part)) {
            if (i > begin) /* the rows before a bad one are written, as row at a time */
                cos_row_write(ctx, &fast, D, &prev, &acc);
            return;
        }
        const cos_row cur = cos_row_math(ctx, i, y, dots);
        if (i > begin)
            cos_row_write(ctx, &fast, D, &prev, &acc);
        prev = cur;
    }
    if (end > begin)
        cos_row_write(ctx, &fast, D, &prev, &acc);
    part->sum[0] = loss_acc_value(&acc);
}

/* As Loss.cpp: targets (N) go with inputs (N, D), a 0-d target with inputs (D). */
static loss_status cos_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *x1 = ctx->in[IN_X1], *y = ctx->in[IN_TARGET];
    if (x1->rank < 1 || x1->rank > 2)
        return rows_shape_error(ctx, IN_X1, err, "expected (N, D) or (D)");
    loss_status st = rows_same_shape(ctx, IN_X2, IN_X1, err);
    if (st != LOSS_OK)
        return st;
    const size_t N = x1->rank == 2 ? x1->shape[0] : 1;
    if (y->rank != x1->rank - 1 || y->count != N)
        return rows_shape_error(ctx, IN_TARGET, err,
                                x1->rank == 2 ? "expected (N) for x1 (N, D)"
                                              : "expected a scalar for x1 (D)");
    ctx->n_units = N;
    ctx->unit_cost = rows_cost(x1->shape[x1->rank - 1], 2);
    loss_plan_term_shape(ctx, 0, y);
    ctx->denom[0] = (double)N;
    return LOSS_OK;
}

static const loss_input_desc cos_inputs[] = {
    {"x1", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(N), LOSS_N(D)), LOSS_DIMS(LOSS_N(D)))},
    {"x2", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_SAME(IN_X1))},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(", in {-1, 1}", LOSS_DIMS(LOSS_N(N)), LOSS_SCALAR)},
};

static const loss_param_desc cos_params[] = {
    {"margin", LOSS_PARAM_FLOAT, 0.0, LOSS_PARAM_HAS_MIN | LOSS_PARAM_HAS_MAX, -1.0, 1.0, NULL, 0},
};

const loss_desc loss_desc_cosine_embedding = {
    .name = "cosine_embedding",
    .aliases = (const char *const[]){"CosineEmbeddingLoss", NULL},
    .family = "embedding",
    .reference = "torch.nn.functional.cosine_embedding_loss",
    .inputs = cos_inputs,
    .n_inputs = 3,
    .params = cos_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = cos_plan,
    .chunk = cos_chunk,
};
