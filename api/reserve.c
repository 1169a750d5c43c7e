/* reserve: what a decoded request will hold once computed, asked of the daemon's memory
 * budget before core allocates any of it. The figure is core's own upper bound from shapes
 * alone (loss_plan_cost's peak bytes: converted inputs, plan and chunk scratch, values and
 * gradients), so a small body that plans a large scratch (ntxent's 2N x 2N similarities)
 * is charged for it. */
#include "api_internal.h"

static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

api_code api_reserve_call(const api_env *env, size_t held, const loss_cost *cost, api_err *err)
{
    if (env == NULL || env->reserve == NULL)
        return API_OK;
    size_t want = add_sat(held, cost->bytes);
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
