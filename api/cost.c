/* cost: what a request will cost, decided before anything is allocated. Core's plan-only pass
 * gives each loss call's work, output elements and peak bytes from its shapes; the handlers
 * sum them over /v1/evaluate and /v1/batch entries and refuse the request (413
 * too_much_work) or defer it to a worker here. */
#include "api_internal.h"

static loss_limits limits_of(const api_env *env)
{
    return (loss_limits){.max_work = env ? env->max_work : 0,
                         .max_output = env ? env->max_output : 0};
}

api_code api_cost_add(const api_env *env, const loss_call *call, loss_cost *sum, api_err *err)
{
    loss_cost cost;
    loss_error le;
    loss_limits lim = limits_of(env);
    if (loss_plan_cost(call, env ? env->workers : NULL, &cost, &le) != LOSS_OK ||
        loss_cost_check(&cost, &lim, &le) != LOSS_OK)
        return api_err_from_loss(err, &le);
    loss_cost_add(sum, &cost);
    return API_OK;
}

api_code api_cost_admit(const api_env *env, const loss_cost *sum, api_err *err)
{
    loss_error le;
    loss_limits lim = limits_of(env);
    if (loss_cost_check(sum, &lim, &le) != LOSS_OK)
        return api_err_from_loss(err, &le);
    return API_OK;
}

int api_cost_defer(const api_env *env, const loss_cost *sum, api_reply *reply)
{
    reply->deferred = env != NULL && env->defer_work != 0 && sum->work > env->defer_work;
    return reply->deferred;
}
