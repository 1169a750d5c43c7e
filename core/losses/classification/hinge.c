/* hinge: the binary hinge max(0, 1 - y*p) with targets in {-1, 1} (Keras Hinge,
 * elementwise). As Keras does, targets that are all in {0, 1} are read as {-1, 1}; that
 * choice is made once, in plan, over the whole tensor, so every chunk agrees. At the tie
 * 1 - y*p = 0 the gradient -y is passed, as torch.clamp(min=0) does. */
#include "loss_kernel.h"
#include "mem.h"

enum { IN_PRED, IN_TARGET };

typedef struct {
    int zero_one; /* targets are all 0/1 and are mapped to -1/1 */
} hinge_plan_data;

static int hinge_elem(double p, double y, const double *param, double *l, double *g)
{
    (void)param;
    if (y != 1.0 && y != -1.0)
        return 2;
    double t = 1.0 - y * p;
    *l = t > 0 ? t : 0.0;
    *g = t >= 0 ? -y : 0.0;
    return 0;
}

static int hinge01_elem(double p, double y, const double *param, double *l, double *g)
{
    return hinge_elem(p, 2.0 * y - 1.0, param, l, g);
}

static const char *const hinge_reasons[2] = {"", "is not -1 or 1"};

static void hinge_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const hinge_plan_data *pd = ctx->scratch;
    if (pd->zero_one) {
        loss_elementwise_run(ctx, begin, end, part, hinge01_elem, -1, hinge_reasons);
        return;
    }
    loss_elementwise_run(ctx, begin, end, part, hinge_elem, -1, hinge_reasons);
}

/* The fast path takes {-1, 1} targets only. */
static int hinge_fast_accepts(const loss_ctx *ctx)
{
    const hinge_plan_data *pd = ctx->scratch;
    return !pd->zero_one;
}

/* Keras's rule: map iff every target is 0 or 1. Stops at the first other value, so {-1, 1}
 * targets cost one or two reads. */
static int targets_are_zero_one(const tensor *y, loss_dtype dt)
{
    for (size_t i = 0; i < y->count; i++) {
        double v = loss_load(y->data, dt, i);
        if (v != 0.0 && v != 1.0)
            return 0;
    }
    return 1;
}

static loss_status hinge_plan(loss_ctx *ctx, loss_error *err)
{
    loss_status st = loss_plan_elementwise(ctx, err, -1, 0);
    if (st != LOSS_OK)
        return st;
    ctx->plan_bytes = sizeof(hinge_plan_data);
    if (ctx->plan_only)
        return LOSS_OK;
    hinge_plan_data *pd = mem_alloc(sizeof *pd);
    if (pd == NULL)
        return loss_error_set(err, LOSS_ERR_NOMEM, "", "out of memory");
    pd->zero_one = targets_are_zero_one(ctx->in[IN_TARGET], ctx->dtype);
    ctx->scratch = pd;
    return LOSS_OK;
}

static void hinge_release(loss_ctx *ctx)
{
    mem_free(ctx->scratch);
    ctx->scratch = NULL;
}

static const loss_input_desc hinge_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_ANY)},
    {"targets", LOSS_IN_FLOAT, 0,
     LOSS_RULE("; -1/1 (all-0/1 targets are mapped)", LOSS_SAME(IN_PRED))},
};

const loss_desc loss_desc_hinge = {
    .name = "hinge",
    .family = "classification",
    .reference = "keras.losses.Hinge, elementwise: max(0, 1 - y*p)",
    .inputs = hinge_inputs,
    .n_inputs = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = hinge_plan,
    .chunk = hinge_chunk,
    .fast = {.kernel = KERN_HINGE, .accepts = hinge_fast_accepts},
    .release = hinge_release,
};
