/* /v1 handlers end to end (mse is the loss every branch has): replies, errors, evaluate and
 * batch mixing successes with failures. */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "api_helpers.h"
#include "loss_registry.h"

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
    cr_assert(memcmp(c.reply.body, want, c.reply.len) == 0, "%.*s", (int)c.reply.len, c.reply.body);
    api_call_free(&c);
}

static void expect_error(api_call *c, int status, const char *code, const char *field)
{
    cr_assert_eq(c->reply.status, status, "%.*s", (int)c->reply.len, c->reply.body);
    cr_assert_str_eq(error_code(c->json), code, "%.*s", (int)c->reply.len, c->reply.body);
    cr_assert_str_eq(error_field(c->json), field, "%.*s", (int)c->reply.len, c->reply.body);
    api_call_free(c);
}

Test(v1_loss, unknown_loss_should_be_404_suggesting_the_closest_name)
{
    api_call c = post_loss("mes", "{}");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(c.json, "error"), "message");
    cr_assert_str_eq(msg->valuestring, "unknown loss 'mes'; did you mean 'mse'?");
    expect_error(&c, 404, "unknown_loss", "loss");
}

Test(v1_loss, unknown_field_should_be_400_naming_it)
{
    api_call c = post_loss("mse", "{\"predictions\": [1], \"targets\": [1], \"detla\": 1}");
    expect_error(&c, 400, "unknown_field", "detla");
}

Test(v1_loss, wrong_json_types_should_be_invalid_type_naming_the_field)
{
    api_call c = post_loss("mse", "{\"predictions\": \"1\", \"targets\": [1]}");
    expect_error(&c, 400, "invalid_type", "predictions");
    c = post_loss("mse", "{\"predictions\": [1], \"targets\": [true]}");
    expect_error(&c, 400, "invalid_type", "targets");
    c = post_loss("mse", "{\"predictions\": [1], \"targets\": [1], \"gradient\": 1}");
    expect_error(&c, 400, "invalid_type", "gradient");
    c = post_loss("mse", "{\"predictions\": [1], \"targets\": [1], \"reduction\": 2}");
    expect_error(&c, 400, "invalid_type", "reduction");
    c = post_loss("mse", "{\"predictions\": [1], \"targets\": [1], \"dtype\": null}");
    expect_error(&c, 400, "invalid_type", "dtype");
    c = post_loss("mse", "[1, 2]");
    expect_error(&c, 400, "invalid_type", "");
}

Test(v1_loss, bad_option_values_should_be_invalid_parameter_naming_the_option)
{
    api_call c = post_loss("mse", "{\"predictions\": [1], \"targets\": [1], \"reduction\": "
                                  "\"batchmean\"}");
    expect_error(&c, 400, "invalid_parameter", "reduction");
    c = post_loss("mse", "{\"predictions\": [1], \"targets\": [1], \"dtype\": \"float16\"}");
    expect_error(&c, 400, "invalid_parameter", "dtype");
    c = post_loss("mse", "{\"predictions\": [1], \"targets\": [1], \"empty_mean\": \"one\"}");
    expect_error(&c, 400, "invalid_parameter", "empty_mean");
}

Test(v1_loss, missing_targets_should_be_missing_field)
{
    api_call c = post_loss("mse", "{\"predictions\": [1, 2]}");
    expect_error(&c, 400, "missing_field", "targets");
}

Test(v1_loss, ragged_targets_should_be_ragged_array_naming_them)
{
    api_call c = post_loss("mse", "{\"predictions\": [[1, 2], [3, 4]], \"targets\": "
                                  "[[1, 2], [3]]}");
    expect_error(&c, 400, "ragged_array", "targets");
    c = post_loss("mse", "{\"predictions\": [[1, 2], [3, 4]], \"targets\": [[1, 2], 3]}");
    expect_error(&c, 400, "ragged_array", "targets");
}

Test(v1_loss, shape_mismatch_should_name_the_second_tensor)
{
    api_call c = post_loss("mse", "{\"predictions\": [1, 2, 3], \"targets\": [1, 2, 3, 4]}");
    expect_error(&c, 400, "shape_mismatch", "targets");
}

Test(v1_loss, invalid_json_should_be_400_invalid_json)
{
    const char *bad[] = {"",
                         "{",
                         "{\"predictions\": [NaN], \"targets\": [1]}",
                         "{\"predictions\": [1], \"targets\": [01]}",
                         "{\"predictions\": [1], \"predictions\": [1], \"targets\": [1]}",
                         "{\"predictions\": [1], \"targets\": [1]} x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        api_call c = post_loss("mse", bad[i]);
        expect_error(&c, 400, "invalid_json", "");
    }
}

Test(v1_loss, overflowing_number_should_be_non_finite_and_underflow_zero)
{
    api_call c = post_loss("mse", "{\"predictions\": [1, 1e400], \"targets\": [1, 1]}");
    expect_error(&c, 400, "non_finite", "predictions");
    c = post_loss("mse", "{\"predictions\": [1e-400], \"targets\": [0], \"reduction\": \"sum\"}");
    cr_assert_eq(c.reply.status, 200);
    cr_assert_eq(num_at(c.json, "value"), 0.0);
    api_call_free(&c);
}

Test(v1_loss, non_finite_results_should_be_null)
{
    api_call c = post_loss("mse", "{\"predictions\": [1e200], \"targets\": [-1e200], "
                                  "\"reduction\": \"none\", \"gradient\": true}");
    cr_assert_eq(c.reply.status, 200);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c.json, "value");
    cr_assert(cJSON_IsNull(cJSON_GetArrayItem(v, 0)), "%.*s", (int)c.reply.len, c.reply.body);
    api_call_free(&c);
}

Test(v1_loss, empty_tensors_should_sum_to_zero_and_average_to_null_unless_asked_for_zero)
{
    api_call c = post_loss("mse", "{\"predictions\": [], \"targets\": [], \"reduction\": \"sum\"}");
    cr_assert_eq(num_at(c.json, "value"), 0.0);
    api_call_free(&c);
    c = post_loss("mse", "{\"predictions\": [], \"targets\": [], \"gradient\": true}");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c.json, "value")));
    cr_assert_eq(num_at(c.json, "denominator"), 0.0);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                     cJSON_GetObjectItemCaseSensitive(c.json, "gradient"), "predictions")),
                 0);
    api_call_free(&c);
    c = post_loss("mse", "{\"predictions\": [], \"targets\": [], \"empty_mean\": \"zero\"}");
    cr_assert_eq(num_at(c.json, "value"), 0.0);
    api_call_free(&c);
}

Test(v1_loss, float32_results_should_print_as_shortest_floats)
{
    api_call c = post_loss("mse", "{\"predictions\": [0.1, 0.2], \"targets\": [0, 0], "
                                  "\"dtype\": \"float32\", \"reduction\": \"none\"}");
    cr_assert_eq(c.reply.status, 200);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(c.json, "dtype")->valuestring, "float32");
    float p = 0.1f;
    float want = (float)((double)p * (double)p);
    cr_assert_eq((float)cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c.json, "value"), 0)
                     ->valuedouble,
                 want);
    cr_assert(memmem(c.reply.body, c.reply.len, "0.010000001", 11) != NULL, "%.*s",
              (int)c.reply.len, c.reply.body);
    api_call_free(&c);
}

Test(v1_loss, gradient_false_should_carry_no_gradient_key)
{
    api_call c = post_loss("mse", "{\"predictions\": [1], \"targets\": [0], \"gradient\": false}");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(c.json, "gradient"));
    api_call_free(&c);
}

Test(v1_loss, weight_should_be_accepted_as_an_array_parameter)
{
    api_call c = post_loss("mse", "{\"predictions\": [1, 2], \"targets\": [0, 0], "
                                  "\"weight\": [3, 1]}");
    cr_assert_eq(c.reply.status, 200, "%.*s", (int)c.reply.len, c.reply.body);
    cr_assert_eq(num_at(c.json, "value"), (3.0 * 1 + 1.0 * 4) / 4.0);
    cr_assert_eq(num_at(c.json, "denominator"), 4.0);
    api_call_free(&c);
}

Test(v1_loss, element_cap_should_be_413)
{
    api_reply r;
    api_env env = {.workers = NULL, .max_elements = 3};
    const char *body = "{\"predictions\": [1, 2], \"targets\": [0, 0]}";
    api_v1_loss(&env, "mse", 3, body, strlen(body), &r);
    cr_assert_eq(r.status, 413);
    cr_assert_eq(r.code, API_ERR_PAYLOAD_TOO_LARGE);
    api_reply_release(&r);
}

Test(v1_loss, scalar_tensors_should_have_an_empty_shape)
{
    api_call c = post_loss("mse", "{\"predictions\": 3, \"targets\": 1, \"reduction\": \"none\", "
                                  "\"gradient\": true}");
    cr_assert_eq(c.reply.status, 200, "%.*s", (int)c.reply.len, c.reply.body);
    cr_assert_eq(num_at(c.json, "value"), 4.0);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c.json, "shape")), 0);
    api_call_free(&c);
}

Test(v1_loss, printed_values_should_round_trip_exactly)
{
    api_call c = post_loss("mse", "{\"predictions\": [0.1, 0.7, 1e-300], \"targets\": "
                                  "[0.3, 0.2, 0], \"reduction\": \"none\"}");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c.json, "value");
    double p[] = {0.1, 0.7, 1e-300}, y[] = {0.3, 0.2, 0};
    for (int i = 0; i < 3; i++) {
        double d = p[i] - y[i];
        cr_assert_eq(cJSON_GetArrayItem(v, i)->valuedouble, d * d);
    }
    api_call_free(&c);
}

Test(v1_evaluate, results_should_follow_the_list_with_failures_in_place)
{
    api_call c = post_evaluate("{\"predictions\": [1, 2], \"targets\": [0, 0], "
                               "\"losses\": [\"mse\", \"nope\", {\"name\": \"mse\", "
                               "\"reduction\": \"sum\"}, {\"name\": \"mse\", \"bogus\": 1}, 7]}");
    cr_assert_eq(c.reply.status, 200, "%.*s", (int)c.reply.len, c.reply.body);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(c.json, "results");
    cr_assert_eq(cJSON_GetArraySize(r), 5);
    cr_assert_eq(num_at(cJSON_GetArrayItem(r, 0), "value"), 2.5);
    cr_assert_eq(num_at(cJSON_GetArrayItem(r, 1), "status"), 404);
    cr_assert_str_eq(error_code(cJSON_GetArrayItem(r, 1)), "unknown_loss");
    cr_assert_eq(num_at(cJSON_GetArrayItem(r, 2), "value"), 5.0);
    cr_assert_eq(num_at(cJSON_GetArrayItem(r, 3), "status"), 400);
    cr_assert_str_eq(error_field(cJSON_GetArrayItem(r, 3)), "bogus");
    cr_assert_str_eq(error_code(cJSON_GetArrayItem(r, 4)), "invalid_type");
    api_call_free(&c);
}

Test(v1_evaluate, top_level_options_should_apply_to_every_loss)
{
    api_call c = post_evaluate("{\"predictions\": [1, 2], \"targets\": [0, 0], \"gradient\": "
                               "true, \"reduction\": \"sum\", \"losses\": [\"mse\", "
                               "{\"name\": \"mse\", \"gradient\": true}]}");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(c.json, "results");
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(num_at(cJSON_GetArrayItem(r, i), "value"), 5.0);
        cr_assert_not_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(r, i), "gradient"));
    }
    api_call_free(&c);
}

Test(v1_evaluate, a_top_level_key_no_loss_takes_should_be_unknown_field)
{
    api_call c = post_evaluate("{\"predictions\": [1], \"targets\": [0], \"delta\": 1, "
                               "\"losses\": [\"mse\"]}");
    expect_error(&c, 400, "unknown_field", "delta");
    c = post_evaluate("{\"predictions\": [1], \"targets\": [0]}");
    expect_error(&c, 400, "missing_field", "losses");
}

Test(v1_batch, items_should_succeed_or_fail_alone)
{
    api_call c = post_batch("{\"requests\": ["
                            "{\"loss\": \"mse\", \"predictions\": [1, 3], \"targets\": [0, 0]},"
                            "{\"loss\": \"mse\", \"predictions\": [1], \"targets\": [[1], 2]},"
                            "{\"loss\": \"msee\", \"predictions\": [1], \"targets\": [1]},"
                            "{\"predictions\": [1]}, 3,"
                            "{\"loss\": \"mse\", \"predictions\": [2], \"targets\": [0], "
                            "\"reduction\": \"sum\"}]}");
    cr_assert_eq(c.reply.status, 200);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(c.json, "responses");
    cr_assert_eq(cJSON_GetArraySize(r), 6);
    cr_assert_eq(num_at(cJSON_GetArrayItem(r, 0), "status"), 200);
    cr_assert_eq(num_at(cJSON_GetArrayItem(r, 0), "value"), 5.0);
    cr_assert_eq(num_at(cJSON_GetArrayItem(r, 1), "status"), 400);
    cr_assert_str_eq(error_code(cJSON_GetArrayItem(r, 1)), "ragged_array");
    cr_assert_eq(num_at(cJSON_GetArrayItem(r, 2), "status"), 404);
    cr_assert_str_eq(error_code(cJSON_GetArrayItem(r, 3)), "missing_field");
    cr_assert_str_eq(error_code(cJSON_GetArrayItem(r, 4)), "invalid_type");
    cr_assert_eq(num_at(cJSON_GetArrayItem(r, 5), "value"), 4.0);
    api_call_free(&c);
}

Test(v1_evaluate, an_empty_list_should_answer_empty_results)
{
    api_call c = post_evaluate("{\"predictions\": [1], \"targets\": [0], \"losses\": []}");
    cr_assert_eq(c.reply.status, 200, "%.*s", (int)c.reply.len, c.reply.body);
    cr_assert_eq(c.reply.len, strlen("{\"results\":[]}"));
    cr_assert(memcmp(c.reply.body, "{\"results\":[]}", c.reply.len) == 0);
    api_call_free(&c);
}

Test(v1_batch, an_empty_list_should_answer_empty_responses)
{
    api_call c = post_batch("{\"requests\": []}");
    cr_assert_eq(c.reply.status, 200, "%.*s", (int)c.reply.len, c.reply.body);
    cr_assert_eq(c.reply.len, strlen("{\"responses\":[]}"));
    cr_assert(memcmp(c.reply.body, "{\"responses\":[]}", c.reply.len) == 0);
    api_call_free(&c);
}

Test(v1_batch, keys_beside_requests_should_be_unknown_field)
{
    api_call c = post_batch("{\"requests\": [], \"extra\": 1}");
    expect_error(&c, 400, "unknown_field", "extra");
}

Test(v1_catalogue, every_entry_should_have_the_documented_fields)
{
    api_reply r;
    api_v1_catalogue(&r);
    cr_assert_eq(r.status, 200);
    cJSON *doc = cJSON_ParseWithLength(r.body, r.len);
    const cJSON *losses = cJSON_GetObjectItemCaseSensitive(doc, "losses"), *e;
    cr_assert_geq(cJSON_GetArraySize(losses), 1);
    cJSON_ArrayForEach(e, losses)
    {
        const char *keys[] = {"name",       "aliases",    "family",    "inputs",
                              "parameters", "reductions", "gradients", "reference"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            cr_assert_not_null(cJSON_GetObjectItemCaseSensitive(e, keys[k]), "%s", keys[k]);
        const cJSON *in;
        cJSON_ArrayForEach(in, cJSON_GetObjectItemCaseSensitive(e, "inputs"))
        {
            const char *kind = cJSON_GetObjectItemCaseSensitive(in, "kind")->valuestring;
            cr_assert(strcmp(kind, "float") == 0 || strcmp(kind, "index") == 0);
        }
    }
    cJSON_Delete(doc);
    api_reply_release(&r);
}

Test(v1_catalogue, mse_entry_should_list_weight_as_an_array_parameter)
{
    api_reply r;
    api_v1_catalogue_entry("mse", 3, &r);
    cJSON *e = cJSON_ParseWithLength(r.body, r.len);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring, "mse");
    const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "parameters"), 0);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(p, "name")->valuestring, "weight");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(p, "type")->valuestring, "array");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "inputs")), 2);
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(e, "gradients");
    cr_assert_eq(cJSON_GetArraySize(g), 1);
    cr_assert_str_eq(cJSON_GetArrayItem(g, 0)->valuestring, "predictions");
    cJSON_Delete(e);
    api_reply_release(&r);
    api_v1_catalogue_entry("mes", 3, &r);
    cr_assert_eq(r.status, 404);
    cr_assert_eq(r.code, API_ERR_UNKNOWN_LOSS);
    api_reply_release(&r);
}

Test(v1_evaluate, the_element_cap_should_count_every_listed_loss)
{
    api_reply r;
    api_env env = {.workers = NULL, .max_elements = 5};
    const char *body = "{\"predictions\": [1, 2], \"targets\": [0, 0], \"losses\": [\"mse\", "
                       "{\"name\": \"mse\", \"reduction\": \"mean\"}]}";
    api_v1_evaluate(&env, body, strlen(body), &r);
    cJSON *doc = cJSON_ParseWithLength(r.body, r.len);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "results");
    cr_assert_eq(r.status, 200);
    cr_assert_eq(num_at(cJSON_GetArrayItem(res, 0), "value"), 2.5);
    cr_assert_eq(num_at(cJSON_GetArrayItem(res, 1), "status"), 413);
    cr_assert_str_eq(error_code(cJSON_GetArrayItem(res, 1)), "payload_too_large");
    cJSON_Delete(doc);
    api_reply_release(&r);
}

Test(v1_loss, per_term_none_should_give_value_and_shape_by_term)
{
    if (loss_registry_find("wgan_critic", 11) == NULL)
        cr_skip_test("wgan_critic is not registered in this build");
    api_call c = post_loss("wgan_critic", "{\"real\": [0.5, 1], \"fake\": [2], \"reduction\": "
                                          "\"none\", \"gradient\": true}");
    const char *want = "{\"loss\":\"wgan_critic\",\"reduction\":\"none\",\"dtype\":\"float64\","
                       "\"value\":{\"real\":[-0.5,-1],\"fake\":[2]},"
                       "\"shape\":{\"real\":[2],\"fake\":[1]},"
                       "\"gradient\":{\"real\":[-1,-1],\"fake\":[1]}}";
    cr_assert_eq(c.reply.len, strlen(want), "%.*s", (int)c.reply.len, c.reply.body);
    cr_assert(memcmp(c.reply.body, want, c.reply.len) == 0, "%.*s", (int)c.reply.len, c.reply.body);
    api_call_free(&c);
}

Test(v1_loss, an_alias_should_answer_with_the_canonical_name)
{
    if (loss_registry_find("l1", 2) == NULL)
        cr_skip_test("mae (alias l1) is not registered in this build");
    api_call c = post_loss("l1", "{\"predictions\": [1, -3], \"targets\": [0, 0]}");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(c.json, "loss")->valuestring, "mae");
    cr_assert_eq(num_at(c.json, "value"), 2.0);
    api_call_free(&c);
}
