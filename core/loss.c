/* loss: validation, dtype conversion, deterministic chunked execution and reduction.
 * Determinism: chunk boundaries depend only on the problem (never on the thread count), each
 * chunk sums in a fixed order, and chunk partials are added in chunk order. */
#include "loss.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "loss_kernel.h"
#include "mem.h"
#include "pool.h"

#define CHUNK_ELEMS ((size_t)1 << 14)

void loss_call_init(loss_call *call, const loss_desc *desc)
{
    memset(call, 0, sizeof *call);
    call->desc = desc;
    call->dtype = LOSS_DTYPE_F64;
    call->reduction = LOSS_REDUCE_MEAN;
}

void loss_result_release(loss_result *result)
{
    if (result == NULL)
        return;
    for (size_t t = 0; t < 2; t++)
        tensor_release(&result->terms[t]);
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++)
        tensor_release(&result->grad[i]);
    memset(result, 0, sizeof *result);
}

static loss_status check_param(const loss_param_desc *pd, double v, loss_error *err)
{
    if (!isfinite(v))
        return loss_error_set(err, LOSS_ERR_PARAM, pd->name, "%s must be finite", pd->name);
    if (pd->type == LOSS_PARAM_BOOL && v != 0.0 && v != 1.0)
        return loss_error_set(err, LOSS_ERR_PARAM, pd->name, "%s must be a boolean", pd->name);
    if (pd->type == LOSS_PARAM_INT && (v != floor(v) || fabs(v) > 9007199254740992.0))
        return loss_error_set(err, LOSS_ERR_PARAM, pd->name, "%s must be an integer", pd->name);
    if ((pd->flags & LOSS_PARAM_HAS_MIN) &&
        ((pd->flags & LOSS_PARAM_MIN_EXCLUSIVE) ? !(v > pd->min) : !(v >= pd->min)))
        return loss_error_set(err, LOSS_ERR_PARAM, pd->name, "%s must be %s %.17g", pd->name,
                              (pd->flags & LOSS_PARAM_MIN_EXCLUSIVE) ? ">" : ">=", pd->min);
    if ((pd->flags & LOSS_PARAM_HAS_MAX) &&
        ((pd->flags & LOSS_PARAM_MAX_EXCLUSIVE) ? !(v < pd->max) : !(v <= pd->max)))
        return loss_error_set(err, LOSS_ERR_PARAM, pd->name, "%s must be %s %.17g", pd->name,
                              (pd->flags & LOSS_PARAM_MAX_EXCLUSIVE) ? "<" : "<=", pd->max);
    if (pd->flags & LOSS_PARAM_ENUM) {
        for (size_t i = 0; i < pd->n_choices; i++)
            if (v == pd->choices[i])
                return LOSS_OK;
        return loss_error_set(err, LOSS_ERR_PARAM, pd->name, "%s has an unsupported value",
                              pd->name);
    }
    return LOSS_OK;
}

static loss_status resolve_params(const loss_call *call, loss_ctx *ctx, loss_error *err)
{
    const loss_desc *desc = call->desc;
    for (size_t i = 0; i < desc->n_params; i++) {
        const loss_param_desc *pd = &desc->params[i];
        double v = call->param_set[i] ? call->param[i] : pd->def;
        loss_status st = check_param(pd, v, err);
        if (st != LOSS_OK)
            return st;
        if (pd->type == LOSS_PARAM_FLOAT && call->dtype == LOSS_DTYPE_F32)
            v = (double)(float)v;
        ctx->param[i] = v;
    }
    return LOSS_OK;
}

/* Converts src to an index tensor (int64), refusing non-integral values. */
static loss_status to_index(const tensor *src, tensor *dst, const char *name, loss_error *err)
{
    if (src->type == TENSOR_I64) {
        *dst = *src;
        dst->owned = 0;
        return LOSS_OK;
    }
    if (tensor_alloc(dst, TENSOR_I64, src->rank, src->shape) != 0)
        return loss_error_set(err, LOSS_ERR_NOMEM, name, "out of memory");
    int64_t *out = dst->data;
    for (size_t i = 0; i < src->count; i++) {
        double v = tensor_get(src, i);
        if (!(v == floor(v)) || fabs(v) > 9007199254740992.0) {
            tensor_release(dst);
            return loss_error_set(err, LOSS_ERR_TYPE, name,
                                  "%s[%zu] = %.17g is not an integer index", name, i, v);
        }
        out[i] = (int64_t)v;
    }
    return LOSS_OK;
}

/* Converts src to the compute dtype (borrowing it when it already is). */
static loss_status to_float(const tensor *src, tensor *dst, loss_dtype dt, const char *name,
                            loss_error *err)
{
    tensor_type want = dt == LOSS_DTYPE_F64 ? TENSOR_F64 : TENSOR_F32;
    if (src->type == want) {
        *dst = *src;
        dst->owned = 0;
        return LOSS_OK;
    }
    if (tensor_alloc(dst, want, src->rank, src->shape) != 0)
        return loss_error_set(err, LOSS_ERR_NOMEM, name, "out of memory");
    for (size_t i = 0; i < src->count; i++)
        loss_store(dst->data, dt, i, tensor_get(src, i));
    return LOSS_OK;
}

/* Whether input i is present, within the caps, and which type core computes it in (int64
 * indices or the compute dtype). Returns LOSS_OK with *skip set for an absent optional one. */
static loss_status check_input(const loss_call *call, size_t i, int *skip, tensor_type *type,
                               loss_error *err)
{
    const loss_input_desc *in = &call->desc->inputs[i];
    const tensor *src = &call->input[i];
    *skip = !call->present[i];
    if (!call->present[i] && (in->flags & LOSS_INPUT_OPTIONAL))
        return LOSS_OK;
    if (!call->present[i]) {
        char names[160];
        loss_desc_input_names(call->desc, names, sizeof names);
        return loss_error_set(err, LOSS_ERR_MISSING, in->name, "%s is required (%s takes %s)",
                              in->name, call->desc->name, names);
    }
    if (src->rank > TENSOR_MAX_RANK || src->count > LOSS_MAX_ELEMENTS)
        return loss_error_set(err, LOSS_ERR_LIMIT, in->name, "%s is too large", in->name);
    int as_index =
        in->kind == LOSS_IN_INDEX || (in->kind == LOSS_IN_INDEX_OR_FLOAT && call->present[0] &&
                                      src->rank + 1 == call->input[0].rank);
    *type = as_index ? TENSOR_I64 : call->dtype == LOSS_DTYPE_F64 ? TENSOR_F64 : TENSOR_F32;
    return LOSS_OK;
}

static loss_status convert_inputs(const loss_call *call, tensor *conv, loss_ctx *ctx,
                                  loss_error *err)
{
    const loss_desc *desc = call->desc;
    for (size_t i = 0; i < desc->n_inputs; i++) {
        const loss_input_desc *in = &desc->inputs[i];
        const tensor *src = &call->input[i];
        int skip;
        tensor_type type;
        loss_status st = check_input(call, i, &skip, &type, err);
        if (st != LOSS_OK || skip) {
            if (st != LOSS_OK)
                return st;
            continue;
        }
        st = type == TENSOR_I64 ? to_index(src, &conv[i], in->name, err)
                                : to_float(src, &conv[i], call->dtype, in->name, err);
        if (st != LOSS_OK)
            return st;
        ctx->in[i] = &conv[i];
    }
    return LOSS_OK;
}

static loss_status alloc_outputs(const loss_call *call, loss_ctx *ctx, loss_result *res,
                                 loss_error *err)
{
    tensor_type ft = call->dtype == LOSS_DTYPE_F64 ? TENSOR_F64 : TENSOR_F32;
    int (*alloc)(tensor *, tensor_type, size_t, const size_t *) =
        (call->desc->flags & LOSS_FLAG_DENSE) ? tensor_alloc_uninit : tensor_alloc;
    if (call->reduction == LOSS_REDUCE_NONE) {
        for (size_t t = 0; t < ctx->n_terms; t++) {
            if (alloc(&res->terms[t], ft, ctx->term_rank[t], ctx->term_shape[t]) != 0)
                return loss_error_set(err, LOSS_ERR_NOMEM, "", "out of memory");
            ctx->values[t] = res->terms[t].data;
        }
    }
    if (!call->want_gradient)
        return LOSS_OK;
    for (size_t i = 0; i < call->desc->n_inputs; i++) {
        if (!(call->desc->inputs[i].flags & LOSS_INPUT_GRAD) || ctx->in[i] == NULL)
            continue;
        const tensor *in = ctx->in[i];
        if (alloc(&res->grad[i], ft, in->rank, in->shape) != 0)
            return loss_error_set(err, LOSS_ERR_NOMEM, "", "out of memory");
        ctx->grad[i] = res->grad[i].data;
    }
    return LOSS_OK;
}

typedef struct {
    const loss_ctx *ctx;
    loss_partial *parts;
    size_t units_per_chunk;
} chunk_job;

/* A cancelled call skips its remaining chunks: each returns at once, so the workers are free
 * within one chunk's time. */
static void run_chunk(void *arg, size_t c)
{
    const chunk_job *job = arg;
    size_t begin = c * job->units_per_chunk;
    size_t end = begin + job->units_per_chunk;
    if (end > job->ctx->n_units)
        end = job->ctx->n_units;
    if (loss_cancelled(job->ctx)) {
        job->parts[c].status = LOSS_ERR_CANCELLED;
        return;
    }
    if (loss_fast_run(job->ctx, begin, end, &job->parts[c]) != 0)
        job->ctx->desc->chunk(job->ctx, begin, end, &job->parts[c]);
}

/* Units per chunk: about CHUNK_ELEMS elements, at least one unit. */
static size_t chunk_units(const loss_ctx *ctx)
{
    size_t per = CHUNK_ELEMS / (ctx->unit_cost ? ctx->unit_cost : 1);
    return per ? per : 1;
}

static size_t chunk_count(const loss_ctx *ctx)
{
    size_t per = chunk_units(ctx);
    return ctx->n_units / per + (ctx->n_units % per != 0);
}

static loss_status cancelled_error(loss_error *err)
{
    return loss_error_set(err, LOSS_ERR_CANCELLED, "",
                          "the computation was stopped before it finished (deadline or shutdown)");
}

static loss_status run_chunks(loss_ctx *ctx, struct pool *workers, double sums[2], loss_error *err)
{
    size_t per = chunk_units(ctx);
    size_t n_chunks = chunk_count(ctx);
    loss_partial one, *parts = &one;
    if (n_chunks > 1 && (parts = mem_calloc(n_chunks, sizeof *parts)) == NULL)
        return loss_error_set(err, LOSS_ERR_NOMEM, "", "out of memory");
    memset(&one, 0, sizeof one);
    chunk_job job = {ctx, parts, per};
    pool_parallel_for(workers, n_chunks, run_chunk, &job);

    loss_status st = LOSS_OK;
    loss_acc acc[2] = {{0, 0}, {0, 0}};
    for (size_t c = 0; c < n_chunks; c++) {
        const loss_partial *pp = &parts[c];
        if (pp->status == LOSS_ERR_CANCELLED) {
            st = cancelled_error(err);
            break;
        }
        if (pp->status != LOSS_OK) {
            const char *name = ctx->desc->inputs[pp->bad_input].name;
            st = loss_error_set(err, pp->status, name, "%s[%zu] = %.17g %s", name, pp->bad_index,
                                pp->bad_value, pp->reason ? pp->reason : "");
            break;
        }
        loss_acc_add(&acc[0], pp->sum[0]);
        loss_acc_add(&acc[1], pp->sum[1]);
    }
    sums[0] = loss_acc_value(&acc[0]);
    sums[1] = loss_acc_value(&acc[1]);
    if (parts != &one)
        mem_free(parts);
    return st;
}

static void set_scales(const loss_call *call, loss_ctx *ctx)
{
    int is_mean = call->reduction == LOSS_REDUCE_MEAN || call->reduction == LOSS_REDUCE_BATCHMEAN;
    for (size_t t = 0; t < 2; t++)
        ctx->scale[t] = !is_mean ? 1.0 : ctx->denom[t] != 0 ? 1.0 / ctx->denom[t] : 0.0;
}

static double reduce_value(const loss_call *call, const loss_ctx *ctx, const double sums[2])
{
    int is_mean = call->reduction == LOSS_REDUCE_MEAN || call->reduction == LOSS_REDUCE_BATCHMEAN;
    double v = 0.0;
    for (size_t t = 0; t < ctx->n_terms; t++) {
        if (!is_mean)
            v += sums[t];
        else if (ctx->denom[t] != 0)
            v += sums[t] / ctx->denom[t];
        else
            v += call->empty_mean_zero ? 0.0 : (double)NAN;
    }
    return call->dtype == LOSS_DTYPE_F32 ? (double)(float)v : v;
}

/* What both passes share: the context of a call, its reduction checked and its parameters
 * resolved. */
static loss_status start_ctx(const loss_call *call, loss_ctx *ctx, loss_error *err)
{
    const loss_desc *desc = call->desc;
    memset(ctx, 0, sizeof *ctx);
    ctx->desc = desc;
    ctx->dtype = call->dtype;
    ctx->reduction = call->reduction;
    ctx->want_gradient = call->want_gradient;
    ctx->n_terms = 1;
    ctx->cancelled = call->cancelled;
    ctx->cancel_arg = call->cancel_arg;
    if (call->reduction >= LOSS_REDUCE_COUNT || !(desc->reductions & LOSS_RED_BIT(call->reduction)))
        return loss_error_set(err, LOSS_ERR_PARAM, "reduction", "%s does not support reduction %s",
                              desc->name, loss_reduction_name(call->reduction));
    return resolve_params(call, ctx, err);
}

loss_status loss_compute(const loss_call *call, struct pool *workers, loss_result *result,
                         loss_error *err)
{
    const loss_desc *desc = call->desc;
    tensor conv[LOSS_MAX_INPUTS];
    loss_ctx ctx;
    double sums[2] = {0, 0};
    loss_status st;

    memset(result, 0, sizeof *result);
    memset(conv, 0, sizeof conv);
    if ((st = start_ctx(call, &ctx, err)) != LOSS_OK)
        goto cleanup;
    if (loss_cancelled(&ctx)) {
        st = cancelled_error(err);
        goto cleanup;
    }
    if ((st = convert_inputs(call, conv, &ctx, err)) != LOSS_OK)
        goto cleanup;
    if ((st = desc->plan(&ctx, err)) != LOSS_OK)
        goto cleanup;
    loss_fast_select(&ctx);
    set_scales(call, &ctx);
    if ((st = alloc_outputs(call, &ctx, result, err)) != LOSS_OK)
        goto cleanup;
    if ((st = run_chunks(&ctx, workers, sums, err)) != LOSS_OK)
        goto cleanup;
    if (desc->finish && (st = desc->finish(&ctx, err)) != LOSS_OK)
        goto cleanup;

    result->dtype = call->dtype;
    result->reduction = call->reduction;
    result->n_terms = call->reduction == LOSS_REDUCE_NONE ? ctx.n_terms : 0;
    result->value =
        call->reduction == LOSS_REDUCE_NONE ? (double)NAN : reduce_value(call, &ctx, sums);
    result->denominator = ctx.denom[0] + (ctx.n_terms > 1 ? ctx.denom[1] : 0.0);
    for (size_t i = 0; i < desc->n_inputs; i++)
        result->elements += ctx.in[i] ? ctx.in[i]->count : 0;

cleanup:
    if (desc->release)
        desc->release(&ctx);
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++)
        tensor_release(&conv[i]);
    if (st != LOSS_OK)
        loss_result_release(result);
    return st;
}

/* ---- the cost pass: loss_compute's validation and plan on shapes alone ---- */

static size_t sat_add(size_t a, size_t b)
{
    size_t r;
    return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}

static size_t sat_mul(size_t a, size_t b)
{
    size_t r;
    return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

/* What tensor_alloc takes from the heap for count elements of type. */
static size_t buffer_bytes(tensor_type type, size_t count)
{
    return mem_aligned_footprint(sat_mul(count, tensor_type_size(type)));
}

/* The product of t's dims with each 0 counted as 1: what loops over the other dims of an
 * empty tensor still cost. Refuses a product over LOSS_MAX_ELEMENTS (overflow included). */
static loss_status effective_count(const tensor *t, const char *name, size_t *out, loss_error *err)
{
    size_t n = 1;
    for (size_t d = 0; d < t->rank; d++)
        if (__builtin_mul_overflow(n, t->shape[d] ? t->shape[d] : 1, &n) || n > LOSS_MAX_ELEMENTS) {
            char shape[96];
            tensor_shape_str(t, shape, sizeof shape);
            return loss_error_set(err, LOSS_ERR_WORK, name,
                                  "%s has shape %s: its dimensions multiply to more than %zu "
                                  "(a dimension of 0 counts as 1)",
                                  name, shape, (size_t)LOSS_MAX_ELEMENTS);
        }
    *out = n;
    return LOSS_OK;
}

/* Points ctx->in at data-less copies of the inputs in their compute types; counts what is
 * read and what converting them would allocate. */
static loss_status shape_inputs(const loss_call *call, tensor *shapes, loss_ctx *ctx,
                                loss_cost *cost, loss_error *err)
{
    for (size_t i = 0; i < call->desc->n_inputs; i++) {
        const tensor *src = &call->input[i];
        const char *name = call->desc->inputs[i].name;
        int skip;
        tensor_type type = TENSOR_F64;
        size_t eff = 0;
        loss_status st = check_input(call, i, &skip, &type, err);
        if (st == LOSS_OK && !skip)
            st = effective_count(src, name, &eff, err);
        if (st != LOSS_OK)
            return st;
        if (skip)
            continue;
        cost->read = sat_add(cost->read, eff);
        if (src->type != type)
            cost->scratch = sat_add(cost->scratch, buffer_bytes(type, src->count));
        shapes[i] = *src;
        shapes[i].type = type;
        shapes[i].data = NULL;
        shapes[i].owned = 0;
        ctx->in[i] = &shapes[i];
    }
    return LOSS_OK;
}

/* The `none` values and gradients alloc_outputs would allocate: elements into cost->output,
 * heap bytes into *bytes. */
static loss_status count_outputs(const loss_call *call, const loss_ctx *ctx, loss_cost *cost,
                                 size_t *bytes, loss_error *err)
{
    tensor_type ft = call->dtype == LOSS_DTYPE_F64 ? TENSOR_F64 : TENSOR_F32;
    for (size_t t = 0; call->reduction == LOSS_REDUCE_NONE && t < ctx->n_terms; t++) {
        size_t n;
        if (tensor_shape_count(ctx->term_shape[t], ctx->term_rank[t], &n) != 0)
            return loss_error_set(err, LOSS_ERR_WORK, "", "the output is too large");
        cost->output = sat_add(cost->output, n);
        *bytes = sat_add(*bytes, buffer_bytes(ft, n));
    }
    for (size_t i = 0; call->want_gradient && i < call->desc->n_inputs; i++) {
        if (!(call->desc->inputs[i].flags & LOSS_INPUT_GRAD) || ctx->in[i] == NULL)
            continue;
        cost->output = sat_add(cost->output, ctx->in[i]->count);
        *bytes = sat_add(*bytes, buffer_bytes(ft, ctx->in[i]->count));
    }
    return LOSS_OK;
}

/* Work: reading every input once, writing every output once, and the plan's units; bytes:
 * conversions, plan scratch, chunk partials, per-thread chunk buffers, outputs. */
static void total_cost(const loss_ctx *ctx, struct pool *workers, size_t out_bytes, loss_cost *cost)
{
    size_t per_unit = ctx->unit_work ? ctx->unit_work
                                     : sat_add(sat_mul(ctx->unit_cost, LOSS_WORK_PER_ELEMENT),
                                               LOSS_WORK_PER_UNIT);
    size_t n_chunks = chunk_count(ctx), threads = pool_threads(workers) + 1;
    /* Outputs are written to fresh pages: a few ns an element. */
    size_t written = sat_mul(cost->output, LOSS_WORK_PER_ELEMENT);
    cost->work = sat_add(sat_add(cost->read, written), sat_mul(ctx->n_units, per_unit));
    cost->scratch = sat_add(cost->scratch, ctx->plan_bytes);
    if (n_chunks > 1)
        cost->scratch = sat_add(cost->scratch, sat_mul(n_chunks, sizeof(loss_partial)));
    cost->scratch =
        sat_add(cost->scratch, sat_mul(ctx->chunk_bytes, n_chunks < threads ? n_chunks : threads));
    cost->bytes = sat_add(sat_add(cost->scratch, out_bytes), LOSS_COST_SLACK);
}

loss_status loss_plan_cost(const loss_call *call, struct pool *workers, loss_cost *cost,
                           loss_error *err)
{
    tensor shapes[LOSS_MAX_INPUTS];
    loss_ctx ctx;
    size_t out_bytes = 0;
    loss_status st;

    memset(cost, 0, sizeof *cost);
    memset(shapes, 0, sizeof shapes);
    if ((st = start_ctx(call, &ctx, err)) != LOSS_OK)
        return st;
    ctx.plan_only = 1;
    if ((st = shape_inputs(call, shapes, &ctx, cost, err)) != LOSS_OK)
        return st;
    st = call->desc->plan(&ctx, err);
    if (call->desc->release) /* a plan-only plan allocates nothing; this only proves it */
        call->desc->release(&ctx);
    if (st == LOSS_OK)
        st = count_outputs(call, &ctx, cost, &out_bytes, err);
    if (st == LOSS_OK)
        total_cost(&ctx, workers, out_bytes, cost);
    return st;
}

void loss_cost_add(loss_cost *sum, const loss_cost *c)
{
    sum->read = sat_add(sum->read, c->read);
    sum->output = sat_add(sum->output, c->output);
    sum->work = sat_add(sum->work, c->work);
    if (c->scratch > sum->scratch)
        sum->scratch = c->scratch;
    if (c->bytes > sum->bytes)
        sum->bytes = c->bytes;
}

loss_status loss_cost_check(const loss_cost *cost, const loss_limits *lim, loss_error *err)
{
    if (lim->max_output && cost->output > lim->max_output)
        return loss_error_set(err, LOSS_ERR_WORK, "",
                              "the result would hold %zu elements (values and gradients); "
                              "the limit is %zu",
                              cost->output, lim->max_output);
    if (lim->max_work && cost->work > lim->max_work)
        return loss_error_set(err, LOSS_ERR_WORK, "",
                              "the computation needs about %zu work units; the limit is %zu",
                              cost->work, lim->max_work);
    return LOSS_OK;
}
