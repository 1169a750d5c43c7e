/* reserve: what a decoded request will hold once computed, asked of the daemon's memory
 * budget before core allocates any of it. The figure is an upper bound from shapes alone:
 * every gradient the call asks for, the per-element values of reduction "none" (one or two
 * terms, never more elements than the largest input), and every input core must convert to
 * the compute dtype. Scratch inside a kernel is bounded by core's own plans. */
#include "api_internal.h"

static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t mul_sat(size_t a, size_t b)
{
    size_t r;
    return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

size_t api_call_memory(const loss_call *call)
{
    const loss_desc *desc = call->desc;
    size_t ds = call->dtype == LOSS_DTYPE_F32 ? 4 : 8, largest = 0, bytes = 0;
    tensor_type compute = call->dtype == LOSS_DTYPE_F32 ? TENSOR_F32 : TENSOR_F64;
    for (size_t i = 0; i < desc->n_inputs; i++) {
        const tensor *t = &call->input[i];
        if (!call->present[i])
            continue;
        largest = t->count > largest ? t->count : largest;
        if (t->type != compute) /* converted once (index inputs: at most 8 bytes each) */
            bytes = add_sat(bytes, mul_sat(t->count, 8));
        if (call->want_gradient && (desc->inputs[i].flags & LOSS_INPUT_GRAD))
            bytes = add_sat(bytes, mul_sat(t->count, ds));
    }
    if (call->reduction == LOSS_REDUCE_NONE)
        bytes = add_sat(bytes,
                        mul_sat(mul_sat(largest, ds), (desc->flags & LOSS_FLAG_PER_TERM) ? 2 : 1));
    return bytes;
}

api_code api_reserve_call(const api_env *env, size_t held, const loss_call *call, api_err *err)
{
    if (env == NULL || env->reserve == NULL)
        return API_OK;
    size_t want = add_sat(held, api_call_memory(call));
    int rc = env->reserve(env->budget_ctx, want);
    if (rc == API_RESERVE_OK)
        return API_OK;
    if (rc == API_RESERVE_NEVER)
        return api_err_set(err, API_ERR_PAYLOAD_TOO_LARGE, NULL,
                           "computing this request needs about %zu bytes of memory, more than "
                           "this server's budget (--max-memory)",
                           want);
    return api_err_set(err, API_ERR_OVERLOADED, NULL,
                       "the server's memory budget has no room for this request now; retry "
                       "later");
}
