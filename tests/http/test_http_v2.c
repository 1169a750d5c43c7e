/* HTTP tests: the Open Inference Protocol (/v2) routes through the real daemon, JSON and
 * Triton's binary tensor extension. Health is the server's own; the rest needs the api
 * layer's /v2 handlers, and those tests skip (visibly) in a build without them. */
#include <stdint.h>

#include "http_fixture.h"

TestSuite(http_v2, .fini = srv_teardown);

#define INFER_JSON                                                                        \
    "{\"inputs\": [{\"name\": \"predictions\", \"shape\": [2], \"datatype\": \"FP64\", "  \
    "\"data\": [1, 2]}, {\"name\": \"targets\", \"shape\": [2], \"datatype\": \"FP64\", " \
    "\"data\": [1, 3]}]}"

/* Starts lossd and skips unless its api layer serves /v2. */
static void start_v2(void)
{
    srv_start(NULL);
    http_response r = get("/v2");
    int wired = r.status != 404;
    http_response_free(&r);
    if (!wired)
        srv_skip("the api layer has no /v2 handlers in this build");
}

Test(http_v2, health_live_and_ready_are_open_with_an_api_key)
{
    srv_start((const char *[]){"--api-key", "k", NULL});
    http_response live = get("/v2/health/live"), ready = get("/v2/health/ready");
    cr_assert_eq(live.status, 200);
    cr_assert_eq(ready.status, 200);
    http_response_free(&live);
    http_response_free(&ready);
    srv_stop();
}

Test(http_v2, server_metadata_and_model_metadata_yield_200)
{
    start_v2();
    http_response server = get("/v2"), model = get("/v2/models/mse");
    http_response versioned = get("/v2/models/mse/versions/1");
    cr_assert_eq(server.status, 200, "%s", server.body);
    cr_assert_eq(model.status, 200, "%s", model.body);
    cr_assert(strstr(model.body, "\"mse\"") != NULL, "%s", model.body);
    cr_assert_eq(versioned.status, 200, "%s", versioned.body);
    http_response_free(&server);
    http_response_free(&model);
    http_response_free(&versioned);
    srv_stop();
}

Test(http_v2, model_ready_yields_200_and_unknown_model_404_in_v2_style)
{
    start_v2();
    http_response ready = get("/v2/models/mse/ready"), missing = get("/v2/models/nope/ready");
    http_response version = get("/v2/models/mse/versions/2");
    cr_assert_eq(ready.status, 200, "%s", ready.body);
    cr_assert_eq(missing.status, 404, "%s", missing.body);
    cr_assert(strstr(missing.body, "\"error\":\"") != NULL, "v2 errors are strings: %s",
              missing.body);
    cr_assert_eq(version.status, 404, "only version 1 exists");
    http_response_free(&ready);
    http_response_free(&missing);
    http_response_free(&version);
    srv_stop();
}

Test(http_v2, json_infer_yields_the_loss_output)
{
    start_v2();
    http_response r = post("/v2/models/mse/infer", INFER_JSON);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, "\"outputs\"") != NULL, "%s", r.body);
    cr_assert(strstr(r.body, "\"loss\"") != NULL, "%s", r.body);
    cr_assert(strstr(r.body, "0.5") != NULL, "%s", r.body);
    cr_assert(!has_hdr(&r, "Inference-Header-Content-Length"), "no binary output asked");
    http_response_free(&r);
    srv_stop();
}

Test(http_v2, versioned_infer_path_is_the_same_model)
{
    start_v2();
    http_response r = post("/v2/models/mse/versions/1/infer", INFER_JSON);
    cr_assert_eq(r.status, 200, "%s", r.body);
    http_response_free(&r);
    srv_stop();
}

Test(http_v2, get_on_infer_yields_405_in_v2_style)
{
    start_v2();
    http_response r = get("/v2/models/mse/infer");
    cr_assert_eq(r.status, 405);
    cr_assert_str_eq(hdr(&r, "Allow"), "POST, OPTIONS");
    cr_assert(strstr(r.body, "\"error\":\"") != NULL, "%s", r.body);
    http_response_free(&r);
    srv_stop();
}

/* A binary request: JSON header, then predictions [1, 2] and targets [1, 3] as FP64. */
static size_t binary_request(char *buf, size_t cap, size_t *header_len)
{
    static const double tensors[4] = {1, 2, 1, 3};
    int n =
        snprintf(buf, cap,
                 "{\"inputs\": [{\"name\": \"predictions\", \"shape\": [2], \"datatype\": "
                 "\"FP64\", \"parameters\": {\"binary_data_size\": 16}}, {\"name\": "
                 "\"targets\", \"shape\": [2], \"datatype\": \"FP64\", \"parameters\": "
                 "{\"binary_data_size\": 16}}], \"parameters\": {\"binary_data_output\": true}}");
    cr_assert(n > 0 && (size_t)n + sizeof tensors <= cap);
    memcpy(buf + n, tensors, sizeof tensors); /* little-endian on every target we build */
    *header_len = (size_t)n;
    return (size_t)n + sizeof tensors;
}

Test(http_v2, binary_infer_replies_binary_with_inference_header_content_length)
{
    char body[1024], headers[160];
    size_t header_len, len = binary_request(body, sizeof body, &header_len);
    http_response r;
    double loss;
    start_v2();
    snprintf(headers, sizeof headers,
             "Content-Type: application/octet-stream\r\nInference-Header-Content-Length: %zu\r\n",
             header_len);
    cr_assert_eq(http_do(srv.port, "POST", "/v2/models/mse/infer", headers, body, len, &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    size_t reply_header = strtoull(hdr(&r, "Inference-Header-Content-Length"), NULL, 10);
    cr_assert_eq(r.body_len, reply_header + sizeof loss, "one FP64 output after the header");
    memcpy(&loss, r.body + reply_header, sizeof loss);
    cr_assert_float_eq(loss, 0.5, 1e-15, "loss %g", loss);
    http_response_free(&r);
    srv_stop();
}
