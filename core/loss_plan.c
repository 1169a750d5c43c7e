/* loss_plan: shape checks and work splits shared by many losses' plan functions. */
#include <stdio.h>
#include <string.h>

#include "kern.h"
#include "loss_kernel.h"

void loss_plan_term_shape(loss_ctx *ctx, size_t term, const tensor *t)
{
    ctx->term_rank[term] = t->rank;
    memcpy(ctx->term_shape[term], t->shape, t->rank * sizeof t->shape[0]);
}

static int same_shape(const tensor *a, const tensor *b)
{
    return a->rank == b->rank && memcmp(a->shape, b->shape, a->rank * sizeof a->shape[0]) == 0;
}

loss_status loss_plan_require_same_shape(const loss_ctx *ctx, loss_error *err)
{
    const tensor *first = ctx->in[0];
    for (size_t i = 1; i < ctx->desc->n_inputs; i++) {
        const tensor *t = ctx->in[i];
        if (t == NULL || same_shape(first, t))
            continue;
        char a[96], b[96];
        tensor_shape_str(t, a, sizeof a);
        tensor_shape_str(first, b, sizeof b);
        return loss_error_set(err, LOSS_ERR_SHAPE, ctx->desc->inputs[i].name,
                              "%s has shape %s, %s has shape %s", ctx->desc->inputs[i].name, a,
                              ctx->desc->inputs[0].name, b);
    }
    return LOSS_OK;
}

loss_status loss_plan_elementwise(loss_ctx *ctx, loss_error *err, int weight_input,
                                  int weighted_mean)
{
    loss_status st = loss_plan_require_same_shape(ctx, err);
    if (st != LOSS_OK)
        return st;
    const tensor *p = ctx->in[0];
    ctx->n_units = p->count;
    ctx->unit_cost = 1;
    ctx->unit_work = LOSS_WORK_PER_ELEMENT;
    loss_plan_term_shape(ctx, 0, p);
    ctx->denom[0] = (double)p->count;
    const tensor *w = weight_input >= 0 ? ctx->in[weight_input] : NULL;
    if (w && weighted_mean && !ctx->plan_only) {
        loss_acc acc = {0, 0};
        for (size_t i = 0; i < w->count; i++)
            loss_acc_add(&acc, loss_load(w->data, ctx->dtype, i));
        ctx->denom[0] = loss_acc_value(&acc);
    }
    return LOSS_OK;
}

void loss_fast_select(loss_ctx *ctx)
{
    const loss_fast_desc *fd = &ctx->desc->fast;
    ctx->fast = NULL;
    if (fd->kernel <= KERN_NONE || fd->kernel >= KERN_COUNT || ctx->n_units == 0)
        return;
    for (size_t i = 0; i < ctx->desc->n_inputs; i++)
        if ((fd->absent & LOSS_INPUT_BIT(i)) && ctx->in[i] != NULL)
            return;
    if (fd->accepts && !fd->accepts(ctx))
        return;
    const kern_table *kt = kern_get();
    ctx->fast = ctx->dtype == LOSS_DTYPE_F64 ? kt->f64[fd->kernel] : kt->f32[fd->kernel];
    ctx->fast_width = ctx->in[0]->count / ctx->n_units;
}

int loss_fast_run(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    if (ctx->fast == NULL)
        return -1;
    const size_t esz = ctx->dtype == LOSS_DTYPE_F64 ? 8 : 4, w = ctx->fast_width;
    const size_t ysz = tensor_type_size(ctx->in[1]->type);
    kern_args a = {
        .p = (const char *)ctx->in[0]->data + begin * w * esz,
        .y = (const char *)ctx->in[1]->data + begin * ysz,
        .values = ctx->values[0] ? (char *)ctx->values[0] + begin * esz : NULL,
        .grad = ctx->grad[0] ? (char *)ctx->grad[0] + begin * w * esz : NULL,
        .scale = ctx->scale[0],
        .param = ctx->param,
        .n = end - begin,
        .width = w,
    };
    return ctx->fast(&a, &part->sum[0]) == 0 ? 0 : -1;
}
