/* /v1 handlers end to end (mse is the loss every branch has): replies, errors, evaluate and
 * batch mixing successes with failures. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "api_helpers.h"

Test(v1_loss, mse_mean_with_gradient_should_answer_value_denominator_and_gradient)
{
    api_call c = post_loss("mse", "{\"predictions\": [1, 3], \"targets\": [0, 0], "
                                  "\"gradient\": true}");
    cr_assert_eq(c.reply.status, 200, "%.*s", (int)c.reply.len, c.reply.body);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(c.json, "loss")->valuestring, "mse");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(c.json, "reduction")->valuestring, "mean");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(c.json, "dtype")->valuestring, "float64");
    cr_assert_eq(num_at(c.json, "value"), 5.0);
    cr_assert_eq(num_at(c.json, "denominator"), 2.0);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c.json, "shape")), 0);
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(c.json, "gradient"), "predictions");
    cr_assert_eq(cJSON_GetArraySize(g), 2);
    cr_assert_eq(cJSON_GetArrayItem(g, 0)->valuedouble, 1.0);
    cr_assert_eq(cJSON_GetArrayItem(g, 1)->valuedouble, 3.0);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(c.json, "gradient"), "targets"));
    api_call_free(&c);
}

Test(v1_loss, reply_body_should_be_exactly_the_documented_layout)
{
    api_call c = post_loss("mse", "{\"predictions\": [[1, 2], [3, 4]], \"targets\": "
                                  "[[0, 0], [0, 0]], \"reduction\": \"none\"}");
    const char *want = "{\"loss\":\"mse\",\"reduction\":\"none\",\"dtype\":\"float64\","
                       "\"value\":[[1,4],[9,16]],\"shape\":[2,2]}";
    cr_assert_eq(c.reply.len, strlen(want), "%.*s", (int)c.reply.len, c.reply.body);
    cr_assert(memcmp(c.reply.body, want, c.reply.len) == 0, "%.*s", (int)c.reply.len,
              c.reply.body);
    api_call_free(&c);
}
