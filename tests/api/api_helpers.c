/* api_helpers: thin wrappers so that tests read as requests and answers. */
#include "api_helpers.h"

#include <criterion/criterion.h>
#include <string.h>

static api_call finish(api_reply r)
{
    api_call c = {.reply = r, .json = NULL};
    c.json = cJSON_ParseWithLength(r.body, r.len);
    cr_assert_not_null(c.json, "reply body is JSON: %.*s", (int)r.len, r.body);
    return c;
}

api_call post_loss(const char *name, const char *body)
{
    api_reply r;
    api_env env = {.workers = NULL, .max_elements = 0};
    api_v1_loss(&env, name, strlen(name), body, strlen(body), &r);
    return finish(r);
}

api_call post_evaluate(const char *body)
{
    api_reply r;
    api_env env = {.workers = NULL, .max_elements = 0};
    api_v1_evaluate(&env, body, strlen(body), &r);
    return finish(r);
}

api_call post_batch(const char *body)
{
    api_reply r;
    api_env env = {.workers = NULL, .max_elements = 0};
    api_v1_batch(&env, body, strlen(body), &r);
    return finish(r);
}

void api_call_free(api_call *c)
{
    cJSON_Delete(c->json);
    api_reply_release(&c->reply);
}

static const char *error_str(const cJSON *body, const char *key)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "error");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

const char *error_code(const cJSON *body)
{
    return error_str(body, "code");
}
const char *error_field(const cJSON *body)
{
    return error_str(body, "field");
}

double num_at(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    cr_assert(cJSON_IsNumber(v), "%s is a number", key);
    return v->valuedouble;
}
