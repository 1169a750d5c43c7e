/* HTTP tests: names people type reach the loss they mean (case, separators, PyTorch and Keras
 * aliases) and the reply says the canonical name; wrong names and wrong input names say what
 * would have worked; a compressed body is 415, never mistaken for malformed JSON. */
#include "http_fixture.h"

TestSuite(http_names, .init = NULL, .fini = srv_teardown);

static void has(const http_response *r, const char *needle)
{
    cr_assert(strstr(r->body, needle) != NULL, "expected %s in %s", needle, r->body);
}

Test(http_names, post_loss_by_pytorch_class_name_answers_with_canonical_name)
{
    srv_start(NULL);
    http_response r = post("/v1/loss/MSELoss", "{\"predictions\": [1, 2], \"targets\": [1, 3]}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    has(&r, "\"loss\":\"mse\"");
    has(&r, "\"value\":0.5");
    http_response_free(&r);
    r = post("/v1/loss/mean-squared-error", "{\"predictions\": [1, 2], \"targets\": [1, 3]}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    has(&r, "\"loss\":\"mse\"");
    http_response_free(&r);
    srv_stop();
}

Test(http_names, v2_infer_by_alias_answers_with_canonical_model_name)
{
    srv_start(NULL);
    http_response r = post("/v2/models/BCEWithLogitsLoss/infer",
                           "{\"inputs\": [{\"name\": \"predictions\", \"shape\": [2], "
                           "\"datatype\": \"FP64\", \"data\": [0, 0]}, {\"name\": \"targets\", "
                           "\"shape\": [2], \"datatype\": \"FP64\", \"data\": [1, 0]}]}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    has(&r, "\"model_name\":\"bce_with_logits\"");
    http_response_free(&r);
    srv_stop();
}

Test(http_names, catalogue_entries_list_every_alias)
{
    srv_start(NULL);
    http_response r = get("/v1/losses");
    cr_assert_eq(r.status, 200);
    has(&r, "\"name\":\"mse\",\"aliases\":[\"MSELoss\",\"mean_squared_error\",\"l2\"]");
    has(&r, "\"aliases\":[\"CrossEntropyLoss\"]");
    http_response_free(&r);
    r = get("/v1/losses/CrossEntropyLoss");
    cr_assert_eq(r.status, 200, "%s", r.body);
    has(&r, "\"name\":\"cross_entropy\"");
    http_response_free(&r);
    srv_stop();
}

Test(http_names, misspelled_loss_yields_404_suggesting_the_closest_name)
{
    srv_start(NULL);
    http_response r = post("/v1/loss/MSELos", "{}");
    expect_error(&r, 404, "unknown_loss");
    has(&r, "did you mean 'MSELoss'?");
    http_response_free(&r);
    r = post("/v2/models/BCEWithLogitLoss/infer", "{}");
    expect_error(&r, 404, "unknown_loss");
    has(&r, "did you mean \\\"BCEWithLogitsLoss\\\"?");
    http_response_free(&r);
    srv_stop();
}

Test(http_names, unknown_input_name_yields_400_listing_the_inputs_the_loss_takes)
{
    srv_start(NULL);
    http_response r = post("/v1/loss/mse", "{\"preds\": [1], \"targets\": [1]}");
    expect_error(&r, 400, "unknown_field");
    has(&r, "\"field\":\"preds\"");
    has(&r, "inputs: predictions, targets, weight");
    http_response_free(&r);
    r = post("/v1/loss/mse", "{\"predictions\": [1]}");
    expect_error(&r, 400, "missing_field");
    has(&r, "mse takes predictions, targets, weight");
    http_response_free(&r);
    r = post("/v2/models/triplet_margin/infer",
             "{\"inputs\": [{\"name\": \"x1\", \"shape\": [1], \"datatype\": \"FP64\", "
             "\"data\": [0]}]}");
    expect_error(&r, 400, "unknown_field");
    has(&r, "its inputs are anchor, positive, negative");
    http_response_free(&r);
    srv_stop();
}

Test(http_names, gzip_body_yields_415_not_invalid_json_on_v1_and_v2)
{
    static const char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03";
    srv_start(NULL);
    http_response r;
    cr_assert_eq(http_do(srv.port, "POST", "/v1/loss/mse",
                         "Content-Type: application/json\r\nContent-Encoding: gzip\r\n", gz,
                         sizeof gz - 1, &r),
                 0);
    expect_error(&r, 415, "unsupported_media_type");
    cr_assert(strncmp(r.body, "{\"error\":{\"code\":", 17) == 0, "v1 error shape: %s", r.body);
    has(&r, "Content-Encoding gzip");
    http_response_free(&r);
    cr_assert_eq(http_do(srv.port, "POST", "/v2/models/mse/infer",
                         "Content-Type: application/octet-stream\r\n"
                         "Inference-Header-Content-Length: 5\r\nContent-Encoding: br\r\n",
                         gz, sizeof gz - 1, &r),
                 0);
    expect_error(&r, 415, "unsupported_media_type");
    cr_assert(strncmp(r.body, "{\"error\":\"", 10) == 0, "v2 error shape: %s", r.body);
    http_response_free(&r);
    r = req("POST", "/v1/loss/mse", "Content-Encoding: identity\r\n",
            "{\"predictions\": [1, 2], \"targets\": [1, 3]}");
    cr_assert_eq(r.status, 200, "identity is no encoding: %s", r.body);
    http_response_free(&r);
    srv_stop();
}
