/* HTTP tests: the /v1 API end to end through the real daemon: every endpoint, and every
 * /v1 error of docs/api.md's table that a client can reach over HTTP. Values are checked against
 * numbers worked out by hand (mse of [1, 2] against [1, 3] is (0 + 1) / 2). */
#include "http_fixture.h"

TestSuite(http_v1, .init = NULL, .fini = srv_teardown);

static void has(const http_response *r, const char *needle)
{
    cr_assert(strstr(r->body, needle) != NULL, "expected %s in %s", needle, r->body);
}

/* Skips the test when the build's registry lacks `loss` (its kernel lands elsewhere). */
static void need_loss(const char *loss)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/losses/%s", loss);
    http_response r = get(path);
    int present = r.status == 200;
    http_response_free(&r);
    if (!present)
        srv_skip("%s is not registered in this build", loss);
}

Test(http_v1, post_loss_mse_yields_value_and_denominator)
{
    srv_start(NULL);
    http_response r = post("/v1/loss/mse", "{\"predictions\": [1, 2], \"targets\": [1, 3]}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strncmp(hdr(&r, "Content-Type"), "application/json", 16) == 0);
    has(&r, "\"loss\":\"mse\"");
    has(&r, "\"reduction\":\"mean\"");
    has(&r, "\"dtype\":\"float64\"");
    has(&r, "\"value\":0.5");
    has(&r, "\"denominator\":2");
    cr_assert(strstr(r.body, "\"gradient\"") == NULL, "gradient: false sends no gradient");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, post_loss_with_gradient_yields_gradient_of_predictions)
{
    srv_start(NULL);
    http_response r = post("/v1/loss/mse", "{\"predictions\": [1, 2], \"targets\": [1, 3], "
                                           "\"reduction\": \"sum\", \"gradient\": true}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    has(&r, "\"value\":1");
    has(&r, "\"gradient\":{\"predictions\":[0,-2]}");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, post_loss_with_reduction_none_yields_per_element_values)
{
    srv_start(NULL);
    http_response r =
        post("/v1/loss/mse", "{\"predictions\": [[1, 2], [3, 4]], "
                             "\"targets\": [[1, 3], [3, 2]], \"reduction\": \"none\"}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    has(&r, "\"value\":[[0,1],[0,4]]");
    has(&r, "\"shape\":[2,2]");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, post_loss_with_malformed_json_yields_400_invalid_json)
{
    static const char *const bodies[] = {"{\"predictions\": [1, 2",
                                         "{\"predictions\": [NaN]}",
                                         "{\"predictions\": [01], \"targets\": [1]}",
                                         "{\"predictions\": [.5], \"targets\": [1]}",
                                         "{\"predictions\": [+1], \"targets\": [1]}",
                                         "{\"predictions\": [1], \"targets\": [1]} x",
                                         "{\"a\": 1, \"a\": 2}",
                                         ""};
    srv_start(NULL);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        http_response r = post("/v1/loss/mse", bodies[i]);
        expect_error(&r, 400, "invalid_json");
        http_response_free(&r);
    }
    srv_stop();
}

Test(http_v1, post_loss_with_overflowing_number_yields_400_non_finite)
{
    srv_start(NULL);
    http_response r = post("/v1/loss/mse", "{\"predictions\": [1e400], \"targets\": [1]}");
    expect_error(&r, 400, "non_finite");
    has(&r, "\"field\":\"predictions\"");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, post_loss_with_ragged_targets_yields_400)
{
    srv_start(NULL);
    http_response r = post("/v1/loss/mse", "{\"predictions\": [[1, 2], [3, 4]], "
                                           "\"targets\": [[1, 2], [3]]}");
    expect_error(&r, 400, "ragged_array");
    has(&r, "\"field\":\"targets\"");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, post_loss_with_shape_mismatch_yields_400_naming_targets)
{
    srv_start(NULL);
    http_response r = post("/v1/loss/mse", "{\"predictions\": [1, 2], \"targets\": [1, 2, 3]}");
    expect_error(&r, 400, "shape_mismatch");
    has(&r, "\"field\":\"targets\"");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, post_loss_with_wrong_types_or_missing_tensor_yields_400)
{
    srv_start(NULL);
    http_response type = post("/v1/loss/mse", "{\"predictions\": \"abc\", \"targets\": [1]}");
    http_response flag = post("/v1/loss/mse", "{\"predictions\": [1], \"targets\": [1], "
                                              "\"gradient\": \"yes\"}");
    http_response missing = post("/v1/loss/mse", "{\"predictions\": [1, 2]}");
    expect_error(&type, 400, "invalid_type");
    expect_error(&flag, 400, "invalid_type");
    expect_error(&missing, 400, "missing_field");
    has(&missing, "\"field\":\"targets\"");
    http_response_free(&type);
    http_response_free(&flag);
    http_response_free(&missing);
    srv_stop();
}

Test(http_v1, post_loss_with_unknown_field_yields_400_naming_it)
{
    srv_start(NULL);
    http_response r = post("/v1/loss/mse", "{\"predictions\": [1], \"targets\": [1], "
                                           "\"delat\": 1}");
    expect_error(&r, 400, "unknown_field");
    has(&r, "\"field\":\"delat\"");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, post_loss_with_bad_reduction_yields_400_invalid_parameter)
{
    srv_start(NULL);
    http_response r = post("/v1/loss/mse", "{\"predictions\": [1], \"targets\": [1], "
                                           "\"reduction\": \"avg\"}");
    expect_error(&r, 400, "invalid_parameter");
    has(&r, "\"field\":\"reduction\"");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, post_loss_with_out_of_domain_probability_yields_400)
{
    srv_start(NULL);
    need_loss("bce");
    http_response r = post("/v1/loss/bce", "{\"predictions\": [0.5, 1.5], \"targets\": [1, 0]}");
    expect_error(&r, 400, "out_of_domain");
    has(&r, "\"field\":\"predictions\"");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, post_loss_with_hinge_target_outside_its_set_yields_400)
{
    srv_start(NULL);
    need_loss("hinge_embedding");
    http_response r =
        post("/v1/loss/hinge_embedding", "{\"predictions\": [1, 2], \"targets\": [1, 0.5]}");
    expect_error(&r, 400, "out_of_domain");
    has(&r, "\"field\":\"targets\"");
    has(&r, "targets[1]");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, post_loss_with_parameter_out_of_range_yields_400_naming_it)
{
    srv_start(NULL);
    need_loss("smooth_l1");
    http_response r =
        post("/v1/loss/smooth_l1", "{\"predictions\": [1, 2], \"targets\": [1, 0], \"beta\": -1}");
    expect_error(&r, 400, "invalid_parameter");
    has(&r, "\"field\":\"beta\"");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, post_unknown_loss_yields_404_with_suggestion)
{
    srv_start(NULL);
    http_response r = post("/v1/loss/mes", "{\"predictions\": [1], \"targets\": [1]}");
    expect_error(&r, 404, "unknown_loss");
    has(&r, "mse");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, empty_tensors_give_null_mean_and_zero_denominator)
{
    srv_start(NULL);
    http_response r = post("/v1/loss/mse", "{\"predictions\": [], \"targets\": []}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    has(&r, "\"value\":null");
    has(&r, "\"denominator\":0");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, get_losses_lists_the_catalogue)
{
    srv_start(NULL);
    http_response r = get("/v1/losses");
    cr_assert_eq(r.status, 200, "%s", r.body);
    has(&r, "{\"losses\":[");
    has(&r, "\"name\":\"mse\"");
    has(&r, "\"reductions\":[");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, get_one_loss_yields_its_entry_and_unknown_yields_404)
{
    srv_start(NULL);
    http_response ok = get("/v1/losses/mse"), missing = get("/v1/losses/msx");
    cr_assert_eq(ok.status, 200, "%s", ok.body);
    has(&ok, "\"name\":\"mse\"");
    has(&ok, "\"inputs\":[");
    expect_error(&missing, 404, "unknown_loss");
    http_response_free(&ok);
    http_response_free(&missing);
    srv_stop();
}

Test(http_v1, post_evaluate_yields_one_result_per_loss_in_order)
{
    srv_start(NULL);
    http_response r = post("/v1/evaluate", "{\"predictions\": [1, 2], \"targets\": [1, 3], "
                                           "\"losses\": [\"mse\", \"nope\", {\"name\": \"mse\", "
                                           "\"reduction\": \"sum\"}]}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    const char *first = strstr(r.body, "\"value\":0.5"), *bad = strstr(r.body, "\"status\":404");
    const char *third = strstr(r.body, "\"reduction\":\"sum\"");
    cr_assert(first && bad && third, "%s", r.body);
    cr_assert(first < bad && bad < third, "results out of order: %s", r.body);
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, post_batch_items_succeed_or_fail_alone)
{
    srv_start(NULL);
    http_response r =
        post("/v1/batch", "{\"requests\": ["
                          "{\"loss\": \"mse\", \"predictions\": [1], \"targets\": [3]},"
                          "{\"loss\": \"mse\", \"predictions\": [1], \"targets\": [1, 2]},"
                          "{\"loss\": \"zz\"}]}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    has(&r, "{\"responses\":[{\"status\":200");
    has(&r, "\"value\":4");
    has(&r, "\"status\":400");
    has(&r, "\"shape_mismatch\"");
    has(&r, "\"status\":404");
    http_response_free(&r);
    srv_stop();
}

Test(http_v1, computed_requests_are_counted_by_loss_in_metrics)
{
    srv_start(NULL);
    http_response a = post("/v1/loss/mse", "{\"predictions\": [1, 2, 3], \"targets\": [1, 2, 3]}");
    cr_assert_eq(a.status, 200);
    http_response m = get("/metrics");
    for (int i = 0;
         i < 100 && !strstr(m.body, "lossd_requests_total{route=\"/v1/loss\",status=\"200\"} 1\n");
         i++) {
        http_response_free(&m);
        m = get("/metrics");
    }
    has(&m, "lossd_requests_total{route=\"/v1/loss\",status=\"200\"} 1\n");
    has(&m, "lossd_loss_computations_total{loss=\"mse\",status=\"200\"} 1\n");
    const char *el = strstr(m.body, "\nlossd_elements_total ");
    cr_assert(el && strtoull(el + 22, NULL, 10) >= 3, "elements not counted:\n%s", m.body);
    http_response_free(&a);
    http_response_free(&m);
    srv_stop();
}

/* Answers for the same requests from a server configured with `args`. */
static void answers(const char *const *args, const char *const *bodies, const char *const *paths,
                    size_t n, char **out)
{
    srv_start(args);
    for (size_t i = 0; i < n; i++) {
        http_response r = post(paths[i], bodies[i]);
        cr_assert_eq(r.status, 200, "%s: %s", paths[i], r.body);
        out[i] = strdup(r.body);
        http_response_free(&r);
    }
    srv_stop();
}

Test(http_v1, job_queue_and_inline_paths_give_identical_bytes)
{
    static const char *const paths[] = {"/v1/loss/mse", "/v1/evaluate", "/v1/batch"};
    static const char *const bodies[] = {
        "{\"predictions\": [0.1, 0.7, 2.5], \"targets\": [0.3, 0.2, 2], \"gradient\": true}",
        "{\"predictions\": [0.1, 0.7], \"targets\": [0.3, 0.2], \"losses\": [\"mse\", "
        "{\"name\": \"mse\", \"reduction\": \"none\"}]}",
        "{\"requests\": [{\"loss\": \"mse\", \"predictions\": [1.5], \"targets\": [0.25]}]}"};
    char *queued[3], *inlined[3];
    answers((const char *[]){"--inline-max", "0", NULL}, bodies, paths, 3, queued);
    lossd_kill(&srv);
    answers(NULL, bodies, paths, 3, inlined);
    for (int i = 0; i < 3; i++) {
        cr_assert_str_eq(queued[i], inlined[i]);
        free(queued[i]);
        free(inlined[i]);
    }
}

/* A body of n predictions/targets (and CE rows when ce) with varied, non-round numbers. */
static char *large_body(size_t n, int ce)
{
    size_t cap = n * (ce ? 200 : 64) + 256, len = 0;
    char *b = malloc(cap);
    unsigned long s = 99;
    len += (size_t)sprintf(b + len, "{\"gradient\": true, \"predictions\": [");
    for (size_t i = 0; i < n; i++) {
        if (ce)
            len += (size_t)sprintf(b + len, "%s[", i ? "," : "");
        for (int c = 0; c < (ce ? 10 : 1); c++) {
            s = s * 6364136223846793005UL + 1442695040888963407UL;
            len += (size_t)sprintf(b + len, "%s%.9g", (c || (!ce && i)) ? "," : "",
                                   (double)(s >> 11) / 9007199254740992.0 * 6 - 3);
        }
        if (ce)
            len += (size_t)sprintf(b + len, "]");
    }
    len += (size_t)sprintf(b + len, "], \"targets\": [");
    for (size_t i = 0; i < n; i++) {
        if (ce)
            len += (size_t)sprintf(b + len, "%s%zu", i ? "," : "", i * 7 % 10);
        else
            len += (size_t)sprintf(b + len, "%s%.3f", i ? "," : "", (double)(i % 17) / 4);
    }
    sprintf(b + len, "]}");
    return b;
}

Test(http_v1, a_large_request_gives_identical_bytes_with_1_2_and_7_workers)
{
    static const char *const paths[] = {"/v1/loss/mse", "/v1/loss/cross_entropy"};
    char *owned[] = {large_body(300000, 0), large_body(40000, 1)};
    const char *bodies[] = {owned[0], owned[1]};
    char *first[2], *again[2];
    answers((const char *[]){"--workers", "1", NULL}, bodies, paths, 2, first);
    const char *counts[] = {"2", "7"};
    for (int k = 0; k < 2; k++) {
        lossd_kill(&srv);
        answers((const char *[]){"--workers", counts[k], NULL}, bodies, paths, 2, again);
        for (int i = 0; i < 2; i++) {
            cr_assert(strlen(first[i]) > 100000, "%s: a large reply", paths[i]);
            cr_assert_str_eq(first[i], again[i], "%s with %s workers", paths[i], counts[k]);
            free(again[i]);
        }
    }
    for (int i = 0; i < 2; i++) {
        free(first[i]);
        free(owned[i]);
    }
}

/* Sends one request on the kept-alive connection c and reads its response into *r. */
static void keepalive_post(http_conn *c, const char *path, const char *body, http_response *r)
{
    cr_assert_eq(http_send_request(c, "POST", path, "Content-Type: application/json\r\n", body,
                                   strlen(body)),
                 0);
    cr_assert_eq(http_read(c, r, 0), 0, "no response to %s on the kept-alive connection", path);
}

/* A large /v1 mse body (each prediction 3.25 against 1.25: value 4, gradient 4 / n each),
 * well past the small body buffer a connection keeps between its requests. */
static char *large_mse_body(size_t n)
{
    char *body = malloc(n * 10 + 64), *p = body;
    cr_assert(body != NULL);
    p += sprintf(p, "{\"gradient\": true, \"predictions\": [");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s3.25", i ? "," : "");
    p += sprintf(p, "], \"targets\": [");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s1.25", i ? "," : "");
    sprintf(p, "]}");
    return body;
}

/* The server reuses a connection's request context from one request to the next: nothing of
 * a large, a failed or a long-path request may leak into the next answer on that connection. */
Test(http_v1, a_kept_alive_connection_answers_each_request_alone)
{
    char *large = large_mse_body(5000);
    char long_path[300] = "/v1/loss/";
    memset(long_path + 9, 'a', 250);
    srv_start(NULL);
    http_conn c;
    cr_assert_eq(http_open(&c, srv.port), 0);
    for (int k = 1; k <= 3; k++) {
        char small[128], value[64];
        http_response r;
        snprintf(small, sizeof small, "{\"predictions\": [%d, %d], \"targets\": [0, 0]}", k, 2 * k);
        keepalive_post(&c, "/v1/loss/mse", small, &r);
        cr_expect_eq(r.status, 200, "%s", r.body);
        snprintf(value, sizeof value, "\"value\":%g,", 2.5 * k * k);
        has(&r, value);
        http_response_free(&r);

        keepalive_post(&c, "/v1/loss/mse", large, &r);
        cr_expect_eq(r.status, 200, "%s", r.body);
        has(&r, "\"value\":4,");
        has(&r, "\"predictions\":[8e-04,8e-04,");
        http_response_free(&r);

        keepalive_post(&c, "/v1/loss/mse", "{\"predictions\": [1, 2], \"targets\": [0, \"x\"]}",
                       &r);
        cr_expect_eq(r.status, 400, "%s", r.body);
        has(&r, "\"field\":\"targets\"");
        http_response_free(&r);

        keepalive_post(&c, long_path, small, &r);
        cr_expect_eq(r.status, 404, "%s", r.body);
        http_response_free(&r);
    }
    http_response r;
    keepalive_post(&c, "/v1/loss/mae", "{\"predictions\": [1, 2], \"targets\": [1, 3]}", &r);
    cr_expect_eq(r.status, 200, "%s", r.body);
    has(&r, "\"loss\":\"mae\"");
    has(&r, "\"value\":0.5,");
    http_response_free(&r);
    http_close(&c);
    free(large);
    srv_stop();
}
