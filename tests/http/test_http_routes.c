/* HTTP tests: routing, health, readiness, metrics, request ids, CORS, OPTIONS and HEAD:
 * everything the daemon answers itself. */
#include <unistd.h>

#include "http_fixture.h"

TestSuite(http_routes, .fini = srv_teardown);

Test(http_routes, get_healthz_yields_200_status_ok)
{
    srv_start(NULL);
    http_response r = get("/healthz");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "{\"status\":\"ok\"}");
    cr_assert(strncmp(hdr(&r, "Content-Type"), "application/json", 16) == 0);
    http_response_free(&r);
    srv_stop();
}

Test(http_routes, get_readyz_yields_200_while_serving)
{
    srv_start(NULL);
    http_response r = get("/readyz");
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, "\"ready\"") != NULL, "%s", r.body);
    http_response_free(&r);
    srv_stop();
}

Test(http_routes, v2_health_live_and_ready_yield_200)
{
    srv_start(NULL);
    http_response live = get("/v2/health/live"), ready = get("/v2/health/ready");
    cr_assert_eq(live.status, 200);
    cr_assert_eq(ready.status, 200);
    http_response_free(&live);
    http_response_free(&ready);
    srv_stop();
}

Test(http_routes, unknown_path_yields_404_not_found_json)
{
    srv_start(NULL);
    http_response r = get("/no/such/thing");
    expect_error(&r, 404, "not_found");
    cr_assert(strstr(r.body, "\"error\":{") != NULL, "v1 style expected: %s", r.body);
    http_response_free(&r);
    srv_stop();
}

Test(http_routes, unknown_v2_path_yields_404_in_v2_style)
{
    srv_start(NULL);
    http_response r = get("/v2/nothing/here");
    cr_assert_eq(r.status, 404);
    cr_assert(strstr(r.body, "\"error\":\"") != NULL, "v2 style expected: %s", r.body);
    http_response_free(&r);
    srv_stop();
}

Test(http_routes, trailing_slash_and_empty_name_yield_404)
{
    srv_start(NULL);
    http_response a = get("/healthz/"), b = post("/v1/loss/", "{}");
    cr_assert_eq(a.status, 404);
    cr_assert_eq(b.status, 404);
    http_response_free(&a);
    http_response_free(&b);
    srv_stop();
}

Test(http_routes, post_to_healthz_yields_405_with_allow)
{
    srv_start(NULL);
    http_response r = post("/healthz", "{}");
    expect_error(&r, 405, "method_not_allowed");
    cr_assert_str_eq(hdr(&r, "Allow"), "GET, HEAD, OPTIONS");
    http_response_free(&r);
    srv_stop();
}

Test(http_routes, get_on_loss_endpoint_yields_405_allowing_post)
{
    srv_start(NULL);
    http_response r = get("/v1/loss/mse");
    expect_error(&r, 405, "method_not_allowed");
    cr_assert_str_eq(hdr(&r, "Allow"), "POST, OPTIONS");
    http_response_free(&r);
    srv_stop();
}

Test(http_routes, delete_yields_405)
{
    srv_start(NULL);
    http_response r = req("DELETE", "/v1/losses", NULL, NULL);
    expect_error(&r, 405, "method_not_allowed");
    cr_assert_str_eq(hdr(&r, "Allow"), "GET, HEAD, OPTIONS");
    http_response_free(&r);
    srv_stop();
}

Test(http_routes, head_healthz_yields_headers_without_body)
{
    srv_start(NULL);
    http_response r = req("HEAD", "/healthz", NULL, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, 0);
    cr_assert_str_eq(hdr(&r, "Content-Length"), "15");
    http_response_free(&r);
    srv_stop();
}

Test(http_routes, request_id_is_echoed_and_sanitised)
{
    srv_start(NULL);
    http_response a = req("GET", "/healthz", "X-Request-Id: abc-123.x:y_z\r\n", NULL);
    http_response b = req("GET", "/healthz", "X-Request-Id: a\"b<c>d e\r\n", NULL);
    cr_assert_str_eq(hdr(&a, "X-Request-Id"), "abc-123.x:y_z");
    cr_assert_str_eq(hdr(&b, "X-Request-Id"), "abcde");
    http_response_free(&a);
    http_response_free(&b);
    srv_stop();
}

Test(http_routes, missing_request_id_is_generated_and_unique)
{
    srv_start(NULL);
    http_response a = get("/healthz"), b = get("/healthz");
    char first[64];
    snprintf(first, sizeof first, "%s", hdr(&a, "X-Request-Id"));
    cr_assert_eq(strlen(first), 16);
    cr_assert_str_neq(first, hdr(&b, "X-Request-Id"));
    http_response_free(&a);
    http_response_free(&b);
    srv_stop();
}

Test(http_routes, options_yields_204_with_allow)
{
    srv_start(NULL);
    http_response r = req("OPTIONS", "/v1/loss/mse", NULL, NULL);
    cr_assert_eq(r.status, 204);
    cr_assert_str_eq(hdr(&r, "Allow"), "POST, OPTIONS");
    cr_assert(!has_hdr(&r, "Access-Control-Allow-Origin"), "no CORS unless configured");
    http_response_free(&r);
    srv_stop();
}

Test(http_routes, cors_preflight_yields_204_with_cors_headers)
{
    srv_start((const char *[]){"--cors-origin", "https://app.example", NULL});
    http_response r = req("OPTIONS", "/v1/evaluate",
                          "Origin: https://app.example\r\n"
                          "Access-Control-Request-Method: POST\r\n",
                          NULL);
    cr_assert_eq(r.status, 204);
    cr_assert_str_eq(hdr(&r, "Access-Control-Allow-Origin"), "https://app.example");
    cr_assert(strstr(hdr(&r, "Access-Control-Allow-Methods"), "POST") != NULL);
    cr_assert(strstr(hdr(&r, "Access-Control-Allow-Headers"), "Content-Type") != NULL);
    cr_assert_str_eq(hdr(&r, "Vary"), "Origin");
    http_response_free(&r);
    srv_stop();
}

Test(http_routes, cors_origin_is_sent_on_every_response)
{
    srv_start((const char *[]){"--cors-origin", "*", NULL});
    http_response ok = get("/healthz"), missing = get("/missing");
    cr_assert_str_eq(hdr(&ok, "Access-Control-Allow-Origin"), "*");
    cr_assert_str_eq(hdr(&missing, "Access-Control-Allow-Origin"), "*");
    cr_assert(strstr(hdr(&ok, "Access-Control-Expose-Headers"), "X-Request-Id") != NULL);
    http_response_free(&ok);
    http_response_free(&missing);
    srv_stop();
}

/* The value of one exposition line ("name{labels}"), or -1 if absent. */
static double metric(const char *text, const char *series)
{
    char key[256];
    const char *at;
    snprintf(key, sizeof key, "\n%s ", series);
    at = strstr(text, key);
    return at ? strtod(at + strlen(key), NULL) : -1;
}

/* Polls /metrics until series reaches at least `least` (completion callbacks run just after
 * a response is sent, so counters may lag the client by a moment). Returns the last text. */
static http_response metrics_when(const char *series, double least)
{
    http_response r = get("/metrics");
    for (int i = 0; i < 200 && metric(r.body, series) < least; i++) {
        http_response_free(&r);
        usleep(5000);
        r = get("/metrics");
    }
    cr_assert_geq(metric(r.body, series), least, "%s < %g in:\n%s", series, least, r.body);
    return r;
}

Test(http_routes, metrics_expose_prometheus_text)
{
    srv_start(NULL);
    http_response warm = get("/healthz"), missing = get("/missing");
    /* lossd_start's own /healthz probe + ours. */
    http_response first = metrics_when("lossd_requests_total{route=\"other\",status=\"404\"}", 1);
    /* lossd_start's /healthz and ours. */
    http_response r = metrics_when("lossd_requests_total{route=\"/health\",status=\"200\"}", 2);
    cr_assert_eq(metric(r.body, "lossd_requests_total{route=\"other\",status=\"404\"}"), 1);
    http_response_free(&first);
    cr_assert(strncmp(hdr(&r, "Content-Type"), "text/plain; version=0.0.4", 25) == 0);
    cr_assert(strstr(r.body, "# TYPE lossd_requests_total counter") != NULL);
    cr_assert_eq(metric(r.body, "lossd_requests_total{route=\"/v1/loss\",status=\"200\"}"), 0,
                 "every route's series starts at 0");
    cr_assert_eq(metric(r.body, "lossd_loss_computations_total{loss=\"mse\",status=\"200\"}"), 0,
                 "every loss's series starts at 0");
    cr_assert(strstr(r.body, "# TYPE lossd_request_duration_seconds histogram") != NULL);
    cr_assert_geq(
        metric(r.body, "lossd_request_duration_seconds_bucket{route=\"/health\",le=\"+Inf\"}"), 2);
    /* An earlier /metrics request is counted when its completion runs, which can come after
     * the client has its reply: wait for it like the series above. */
    http_response timed =
        metrics_when("lossd_request_duration_seconds_count{route=\"/metrics\"}", 1);
    http_response_free(&timed);
    cr_assert_eq(metric(r.body, "lossd_rejected_total{reason=\"memory\"}"), 0);
    cr_assert_geq(metric(r.body, "lossd_memory_budget_bytes"), 1);
    cr_assert_geq(metric(r.body, "process_resident_memory_bytes"), 1 << 20);
    cr_assert_geq(metric(r.body, "process_open_fds"), 3);
    cr_assert_geq(metric(r.body, "process_start_time_seconds"), 1e9);
    cr_assert_geq(metric(r.body, "lossd_in_flight"), 1, "the /metrics request itself");
    cr_assert_eq(metric(r.body, "lossd_queue_depth"), 0);
    cr_assert_geq(metric(r.body, "lossd_response_bytes_total"), 30);
    cr_assert_geq(metric(r.body, "lossd_request_bytes_total"), 0);
    cr_assert_geq(metric(r.body, "lossd_elements_total"), 0);
    cr_assert(strstr(r.body, "\nlossd_build_info{version=\"") != NULL);
    http_response_free(&warm);
    http_response_free(&missing);
    http_response_free(&r);
    srv_stop();
}

Test(http_routes, keep_alive_serves_several_requests_on_one_connection)
{
    http_conn c;
    http_response r;
    srv_start(NULL);
    cr_assert_eq(http_open(&c, srv.port), 0);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(http_send_request(&c, "GET", i % 2 ? "/nope" : "/healthz", NULL, NULL, 0), 0);
        cr_assert_eq(http_read(&c, &r, 0), 0);
        cr_assert_eq(r.status, i % 2 ? 404 : 200);
        cr_assert(!r.closed, "connection must stay open after %d", r.status);
        http_response_free(&r);
    }
    http_close(&c);
    srv_stop();
}

Test(http_routes, pipelined_requests_are_answered_in_order)
{
    static const char pipeline[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                                   "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n"
                                   "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n";
    static const int expected[] = {200, 404, 200};
    http_conn c;
    http_response r;
    srv_start(NULL);
    cr_assert_eq(http_open(&c, srv.port), 0);
    cr_assert_eq(http_send(&c, pipeline, sizeof pipeline - 1), 0);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(http_read(&c, &r, 0), 0, "response %d missing", i);
        cr_assert_eq(r.status, expected[i]);
        http_response_free(&r);
    }
    http_close(&c);
    srv_stop();
}
