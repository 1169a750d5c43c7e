/* squared_hinge: keras.losses.SquaredHinge per element (no mean over the last axis),
 * max(0, 1 - y p)^2 with y in {-1, 1}; when every target is 0 or 1 they are read as
 * 2y - 1, as Keras does. That whole-tensor fact is found by plan and handed to the chunks
 * (and the ISA fast path) as param[SQH_MAPPED]: 1.0 when targets are mapped, else 0.0.
 * The loss is C1, so the margin needs no tie rule. */
#include "loss_kernel.h"

enum { IN_PRED, IN_TARGET };
enum { SQH_MAPPED }; /* plan-derived slot of ctx->param; the loss has no user parameters */

static int squared_hinge_elem(double p, double y, const double *param, double *l, double *g)
{
    double t = param[SQH_MAPPED] != 0.0 ? 2.0 * y - 1.0 : y;
    if (t != 1.0 && t != -1.0)
        return 2;
    double m = 1.0 - t * p;
    *l = m > 0 ? m * m : 0.0;
    *g = m > 0 ? -2.0 * t * m : 0.0;
    return 0;
}

static const char *const squared_hinge_reasons[2] = {
    "", "is not -1 or 1 (targets may also be all 0 or 1)"};

static void squared_hinge_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    loss_elementwise_run(ctx, begin, end, part, squared_hinge_elem, -1, squared_hinge_reasons);
}

/* Whether every target is 0 or 1 (Keras then maps them to -1 and 1). */
static int targets_are_binary(const loss_ctx *ctx)
{
    const tensor *y = ctx->in[IN_TARGET];
    for (size_t i = 0; i < y->count; i++) {
        double v = loss_load(y->data, ctx->dtype, i);
        if (v != 0.0 && v != 1.0)
            return 0;
    }
    return 1;
}

static loss_status squared_hinge_plan(loss_ctx *ctx, loss_error *err)
{
    loss_status st = loss_plan_elementwise(ctx, err, -1, 0);
    if (st == LOSS_OK && !ctx->plan_only)
        ctx->param[SQH_MAPPED] = targets_are_binary(ctx) ? 1.0 : 0.0;
    return st;
}

static const loss_input_desc squared_hinge_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0, LOSS_RULE(", in {-1, 1} (or all in {0, 1})", LOSS_SAME(IN_PRED))},
};

const loss_desc loss_desc_squared_hinge = {
    .name = "squared_hinge",
    .family = "classification",
    .reference = "keras.losses.SquaredHinge, elementwise: max(0, 1 - y*p)^2",
    .inputs = squared_hinge_inputs,
    .n_inputs = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = squared_hinge_plan,
    .chunk = squared_hinge_chunk,
    .fast = {.kernel = KERN_SQUARED_HINGE},
};
