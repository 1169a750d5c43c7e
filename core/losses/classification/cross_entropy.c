/* cross_entropy: F.cross_entropy with PyTorch 2.x semantics: class-index targets (with
 * weight, ignore_index, label_smoothing; mean = sum / sum of the targets' weights) or
 * probability targets (mean over positions). One work unit is one position: its
 * log-softmax is computed once (max, then exp-sum with the exps kept for the gradient) and
 * its gradient (softmax * A - a) * scale, a = the weighted smoothed target, is written final
 * in the same pass, since plan already summed the mean's denominator. */
#include "class_layout.h"

enum { IN_PRED, IN_TARGET, IN_WEIGHT };
enum { P_IGNORE_INDEX, P_LABEL_SMOOTHING };

/* Rows up to this many classes keep their exps on the stack (16 KiB); wider rows recompute
 * them in the gradient pass. */
#define CE_ROW_BUF 2048

/* One position's view: its scores x[base + c*cs] and the log-sum-exp over them. */
typedef struct {
    const void *x;
    size_t base, cs;
    double lse;
    double inv_sum;  /* 1 / sum_c exp(x_c - max) */
    const double *e; /* exp(x_c - max) for each c, or NULL to recompute */
} ce_row;

static inline __attribute__((always_inline)) double row_prob(const ce_row *r, loss_dtype dt,
                                                             size_t c)
{
    if (r->e)
        return r->e[c] * r->inv_sum;
    return exp(loss_load(r->x, dt, r->base + c * r->cs) - r->lse);
}

/* Reports the first non-finite of the C values at base, base+cs, ... of input `input`. */
static void fail_first_non_finite(loss_partial *part, int input, const void *data, loss_dtype dt,
                                  size_t base, size_t cs, size_t classes)
{
    for (size_t c = 0; c < classes; c++) {
        double v = loss_load(data, dt, base + c * cs);
        if (!isfinite(v)) {
            loss_partial_fail(part, LOSS_ERR_NON_FINITE, input, base + c * cs, v, "is not finite");
            return;
        }
    }
}

/* The row's maximum, or NaN if a score is not finite. */
static inline __attribute__((always_inline)) double row_max(const ce_row *r, loss_dtype dt,
                                                            size_t classes)
{
    double m = -(double)INFINITY;
    int finite = 1;
    for (size_t c = 0; c < classes; c++) {
        double v = loss_load(r->x, dt, r->base + c * r->cs);
        finite &= isfinite(v);
        m = v > m ? v : m;
    }
    return finite ? m : (double)NAN;
}

/* Fills lse and inv_sum; keeps the exps in ebuf when it is given (the gradient pass then
 * needs no second exp per score). */
static inline __attribute__((always_inline)) void
row_logsumexp(ce_row *r, loss_dtype dt, size_t classes, double m, double *ebuf)
{
    double s = 0.0;
    if (ebuf) {
        for (size_t c = 0; c < classes; c++)
            ebuf[c] = exp(loss_load(r->x, dt, r->base + c * r->cs) - m);
        for (size_t c = 0; c < classes; c++)
            s += ebuf[c];
    } else {
        for (size_t c = 0; c < classes; c++)
            s += exp(loss_load(r->x, dt, r->base + c * r->cs) - m);
    }
    r->lse = m + log(s);
    r->inv_sum = 1.0 / s;
    r->e = ebuf;
}

/* Index target y: l = (1-eps) w_y (lse - x_y) + eps/C sum_c w_c (lse - x_c);
 * d l / d x_c = p_c A - eps/C w_c - [c == y] (1-eps) w_y, A = (1-eps) w_y + eps/C sum w. */
static inline __attribute__((always_inline)) double
index_row(const loss_ctx *ctx, const class_layout *cl, const ce_row *r, size_t y, loss_dtype dt)
{
    const size_t classes = cl->classes;
    const double eps = ctx->param[P_LABEL_SMOOTHING], spread = eps / (double)classes;
    const double keep = (1.0 - eps) * cl->weight[y], scale = ctx->scale[0];
    const double big_a = keep + spread * cl->weight_sum;
    void *grad = ctx->grad[IN_PRED];
    double smooth = 0.0;
    for (size_t c = 0; eps > 0.0 && c < classes; c++)
        smooth += cl->weight[c] * (r->lse - loss_load(r->x, dt, r->base + c * r->cs));
    for (size_t c = 0; grad && c < classes; c++) {
        double g = row_prob(r, dt, c) * big_a - spread * cl->weight[c] - (c == y ? keep : 0.0);
        loss_store(grad, dt, r->base + c * r->cs, g * scale);
    }
    double xy = loss_load(r->x, dt, r->base + y * r->cs);
    return keep * (r->lse - xy) + spread * smooth;
}

/* The smoothed weighted target a_c = w_c (t_c (1-eps) + eps/C). */
static inline __attribute__((always_inline)) double
prob_coef(const loss_ctx *ctx, const class_layout *cl, const ce_row *r, loss_dtype dt, size_t c)
{
    const double eps = ctx->param[P_LABEL_SMOOTHING];
    double t = loss_load(ctx->in[IN_TARGET]->data, dt, r->base + c * r->cs);
    return cl->weight[c] * (t * (1.0 - eps) + eps / (double)cl->classes);
}

/* Probability targets: l = sum_c a_c (lse - x_c); d l / d x_c = p_c sum_k a_k - a_c.
 * Returns 0 (and fails part) on a non-finite target. */
static inline __attribute__((always_inline)) int prob_row(const loss_ctx *ctx,
                                                          const class_layout *cl, const ce_row *r,
                                                          loss_dtype dt, double *l,
                                                          loss_partial *part)
{
    double big_a = 0.0, sum = 0.0;
    for (size_t c = 0; c < cl->classes; c++) {
        double a = prob_coef(ctx, cl, r, dt, c);
        big_a += a;
        sum += a * (r->lse - loss_load(r->x, dt, r->base + c * r->cs));
    }
    if (!isfinite(big_a) || !isfinite(sum)) {
        fail_first_non_finite(part, IN_TARGET, ctx->in[IN_TARGET]->data, dt, r->base, r->cs,
                              cl->classes);
        if (part->status != LOSS_OK)
            return 0;
    }
    void *grad = ctx->grad[IN_PRED];
    for (size_t c = 0; grad && c < cl->classes; c++) {
        double g = row_prob(r, dt, c) * big_a - prob_coef(ctx, cl, r, dt, c);
        loss_store(grad, dt, r->base + c * r->cs, g * ctx->scale[0]);
    }
    *l = sum;
    return 1;
}

static inline __attribute__((always_inline)) void zero_row(void *grad, const ce_row *r,
                                                           loss_dtype dt, size_t classes)
{
    for (size_t c = 0; grad && c < classes; c++)
        loss_store(grad, dt, r->base + c * r->cs, 0.0);
}

/* One position: its loss in *l. Returns 0 after failing part on a non-finite input. */
static inline __attribute__((always_inline)) int
ce_position(const loss_ctx *ctx, const class_layout *cl, ce_row *r, size_t pos, loss_dtype dt,
            double *ebuf, double *l, loss_partial *part)
{
    double m = row_max(r, dt, cl->classes);
    if (isnan(m)) {
        fail_first_non_finite(part, IN_PRED, r->x, dt, r->base, r->cs, cl->classes);
        return 0;
    }
    if (cl->index_targets) {
        int64_t y = loss_index(ctx->in[IN_TARGET], pos);
        if (y == cl->ignore_index) { /* plan checked every other index against [0, C) */
            zero_row(ctx->grad[IN_PRED], r, dt, cl->classes);
            *l = 0.0;
            return 1;
        }
        row_logsumexp(r, dt, cl->classes, m, ebuf);
        *l = index_row(ctx, cl, r, (size_t)y, dt);
        return 1;
    }
    row_logsumexp(r, dt, cl->classes, m, ebuf);
    return prob_row(ctx, cl, r, dt, l, part);
}

/* The chunk for one dtype; `contiguous` (no trailing dims) makes the class stride 1 at
 * compile time so the row loops run over contiguous memory. */
static inline __attribute__((always_inline)) void ce_run(const loss_ctx *ctx, size_t begin,
                                                         size_t end, loss_partial *part,
                                                         loss_dtype dt, int contiguous)
{
    const class_layout *cl = ctx->scratch;
    double ebuf_store[CE_ROW_BUF];
    double *ebuf = cl->classes <= CE_ROW_BUF ? ebuf_store : NULL;
    ce_row r = {.x = ctx->in[IN_PRED]->data, .cs = contiguous ? 1 : cl->inner};
    loss_acc acc = {0, 0};
    for (size_t pos = begin; pos < end; pos++) {
        double l;
        r.base = contiguous ? pos * cl->classes : class_layout_base(cl, pos);
        if (!ce_position(ctx, cl, &r, pos, dt, ebuf, &l, part))
            return;
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], dt, pos, l);
    }
    part->sum[0] = loss_acc_value(&acc);
}

/* The ISA's row kernel takes plain calls: contiguous rows, class indices, no class weights,
 * no smoothing, and an ignore_index no target can equal without being out of range (the
 * kernel declines those). */
static int ce_fast_accepts(const loss_ctx *ctx)
{
    const class_layout *cl = ctx->scratch;
    return cl->index_targets && cl->inner == 1 && ctx->param[P_LABEL_SMOOTHING] == 0.0 &&
           !(cl->ignore_index >= 0 && (uint64_t)cl->ignore_index < cl->classes);
}

static void ce_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const class_layout *cl = ctx->scratch;
    if (ctx->dtype == LOSS_DTYPE_F64) {
        if (cl->inner == 1)
            ce_run(ctx, begin, end, part, LOSS_DTYPE_F64, 1);
        else
            ce_run(ctx, begin, end, part, LOSS_DTYPE_F64, 0);
    } else {
        if (cl->inner == 1)
            ce_run(ctx, begin, end, part, LOSS_DTYPE_F32, 1);
        else
            ce_run(ctx, begin, end, part, LOSS_DTYPE_F32, 0);
    }
}

static loss_status ce_plan(loss_ctx *ctx, loss_error *err)
{
    return class_layout_plan(ctx, err, IN_WEIGHT, 1, (int64_t)ctx->param[P_IGNORE_INDEX]);
}

static const loss_input_desc ce_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(" logits", LOSS_DIMS(LOSS_N(C)), LOSS_DIMS(LOSS_N(N), LOSS_N(C)),
               LOSS_DIMS_MORE(LOSS_N(N), LOSS_N(C), LOSS_N(d1)))},
    {"targets", LOSS_IN_INDEX_OR_FLOAT, 0,
     LOSS_RULE(
         NULL,
         {.kind = LOSS_SHAPE_DROP, .of = IN_PRED, .dim = {LOSS_N(C)}, .note = " (class indices)"},
         {.kind = LOSS_SHAPE_SAME, .of = IN_PRED, .note = " (probabilities)"})},
    {"weight", LOSS_IN_FLOAT, LOSS_INPUT_OPTIONAL | LOSS_INPUT_PARAM,
     LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(C)))},
};

static const loss_param_desc ce_params[] = {
    [P_IGNORE_INDEX] = {"ignore_index", LOSS_PARAM_INT, -100, 0, 0, 0, NULL, 0},
    [P_LABEL_SMOOTHING] = {"label_smoothing", LOSS_PARAM_FLOAT, 0.0,
                           LOSS_PARAM_HAS_MIN | LOSS_PARAM_HAS_MAX, 0.0, 1.0, NULL, 0},
};

const loss_desc loss_desc_cross_entropy = {
    .name = "cross_entropy",
    .aliases = (const char *const[]){"CrossEntropyLoss", NULL},
    .family = "classification",
    .reference = "torch.nn.functional.cross_entropy",
    .inputs = ce_inputs,
    .n_inputs = 3,
    .params = ce_params,
    .n_params = 2,
    .reductions = LOSS_RED_STANDARD,
    .plan = ce_plan,
    .chunk = ce_chunk,
    .fast = {.kernel = KERN_CROSS_ENTROPY,
             .absent = LOSS_INPUT_BIT(IN_WEIGHT),
             .accepts = ce_fast_accepts},
    .flags = LOSS_FLAG_DENSE,
    .release = class_layout_release,
};
