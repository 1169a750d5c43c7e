/* nll: F.nll_loss on log-probabilities with class-index targets, weight and ignore_index;
 * mean = sum / sum of the targets' weights (NaN when every target is ignored). One work
 * unit is one position: l = -w_y x_y, and its gradient row is -w_y * scale at y, 0 elsewhere.
 * Every score is checked for finiteness, not only the one picked. */
#include "class_layout.h"

enum { IN_PRED, IN_TARGET, IN_WEIGHT };
enum { P_IGNORE_INDEX };

static void fail_first_non_finite(loss_partial *part, const void *x, loss_dtype dt, size_t base,
                                  size_t cs, size_t classes)
{
    for (size_t c = 0; c < classes; c++) {
        double v = loss_load(x, dt, base + c * cs);
        if (!isfinite(v)) {
            loss_partial_fail(part, LOSS_ERR_NON_FINITE, IN_PRED, base + c * cs, v,
                              "is not finite");
            return;
        }
    }
}

/* Checks one position's scores and writes its gradient row (y < 0: ignored, all zero).
 * Returns 0 when a score is not finite. */
static inline __attribute__((always_inline)) int nll_row(const loss_ctx *ctx,
                                                         const class_layout *cl, size_t base,
                                                         size_t cs, int64_t y, loss_dtype dt)
{
    const void *x = ctx->in[IN_PRED]->data;
    void *grad = ctx->grad[IN_PRED];
    const double gy = y < 0 ? 0.0 : -cl->weight[y] * ctx->scale[0];
    int finite = 1;
    for (size_t c = 0; c < cl->classes; c++) {
        finite &= isfinite(loss_load(x, dt, base + c * cs));
        if (grad)
            loss_store(grad, dt, base + c * cs, (int64_t)c == y ? gy : 0.0);
    }
    return finite;
}

static inline __attribute__((always_inline)) void nll_run(const loss_ctx *ctx, size_t begin,
                                                          size_t end, loss_partial *part,
                                                          loss_dtype dt, int contiguous)
{
    const class_layout *cl = ctx->scratch;
    const size_t cs = contiguous ? 1 : cl->inner;
    const void *x = ctx->in[IN_PRED]->data;
    loss_acc acc = {0, 0};
    for (size_t pos = begin; pos < end; pos++) {
        size_t base = contiguous ? pos * cl->classes : class_layout_base(cl, pos);
        int64_t y = loss_index(ctx->in[IN_TARGET], pos);
        if (y == cl->ignore_index) /* plan checked every other index against [0, C) */
            y = -1;
        if (!nll_row(ctx, cl, base, cs, y, dt)) {
            fail_first_non_finite(part, x, dt, base, cs, cl->classes);
            return;
        }
        double l = y < 0 ? 0.0 : -cl->weight[y] * loss_load(x, dt, base + (size_t)y * cs);
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], dt, pos, l);
    }
    part->sum[0] = loss_acc_value(&acc);
}

static void nll_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const class_layout *cl = ctx->scratch;
    if (ctx->dtype == LOSS_DTYPE_F64) {
        if (cl->inner == 1)
            nll_run(ctx, begin, end, part, LOSS_DTYPE_F64, 1);
        else
            nll_run(ctx, begin, end, part, LOSS_DTYPE_F64, 0);
    } else {
        if (cl->inner == 1)
            nll_run(ctx, begin, end, part, LOSS_DTYPE_F32, 1);
        else
            nll_run(ctx, begin, end, part, LOSS_DTYPE_F32, 0);
    }
}

static loss_status nll_plan(loss_ctx *ctx, loss_error *err)
{
    return class_layout_plan(ctx, err, IN_WEIGHT, 0, (int64_t)ctx->param[P_IGNORE_INDEX]);
}

static const loss_input_desc nll_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(" log-probs", LOSS_DIMS(LOSS_N(C)), LOSS_DIMS(LOSS_N(N), LOSS_N(C)),
               LOSS_DIMS_MORE(LOSS_N(N), LOSS_N(C), LOSS_N(d1)))},
    {"targets", LOSS_IN_INDEX, 0, LOSS_RULE(" (class indices)", LOSS_DROP(IN_PRED, C))},
    {"weight", LOSS_IN_FLOAT, LOSS_INPUT_OPTIONAL | LOSS_INPUT_PARAM,
     LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(C)))},
};

static const loss_param_desc nll_params[] = {
    [P_IGNORE_INDEX] = {"ignore_index", LOSS_PARAM_INT, -100, 0, 0, 0, NULL, 0},
};

const loss_desc loss_desc_nll = {
    .name = "nll",
    .aliases = (const char *const[]){"NLLLoss", NULL},
    .family = "classification",
    .reference = "torch.nn.functional.nll_loss",
    .inputs = nll_inputs,
    .n_inputs = 3,
    .params = nll_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD,
    .plan = nll_plan,
    .chunk = nll_chunk,
    .flags = LOSS_FLAG_DENSE,
    .release = class_layout_release,
};
