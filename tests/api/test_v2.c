/* /v2 infer: the byte-level worked example (examples/README.md), JSON
 * and binary requests, output selection, every malformed framing and header the decoder must
 * refuse, and allocation failure at every step. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loss_registry.h"
#include "mem.h"
#include "v2_util.h"

/* The worked example: MSE of two FP32 tensors, binary in and out. The reference text asks for
 * an output "grad"; lossd names gradients grad_<input>, so this header asks for
 * grad_predictions and is 12 bytes longer than the reference's 298. */
static const char example_header[] =
    "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[2],\"datatype\":\"FP32\","
    "\"parameters\":{\"binary_data_size\":8}},{\"name\":\"targets\",\"shape\":[2],"
    "\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":8}}],\"outputs\":[{\"name\":"
    "\"loss\",\"parameters\":{\"binary_data\":true}},{\"name\":\"grad_predictions\","
    "\"parameters\":{\"binary_data\":true}}]}";
static const unsigned char example_tail[16] = {
    0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x80, 0x3f, /* predictions = [0.5, 1.0] */
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x80, 0x3f, /* targets = [1.0, 1.0] */
};
static const char expected_header[] =
    "{\"model_name\":\"mse\",\"model_version\":\"1\",\"parameters\":{\"reduction\":\"mean\","
    "\"denominator\":2},\"outputs\":[{\"name\":\"loss\",\"datatype\":\"FP32\",\"shape\":[1],"
    "\"parameters\":{\"binary_data_size\":4}},{\"name\":\"grad_predictions\",\"datatype\":"
    "\"FP32\",\"shape\":[2],\"parameters\":{\"binary_data_size\":8}}]}";
static const unsigned char expected_tail[12] = {
    0x00, 0x00, 0x00, 0x3e,                         /* loss = 0.125 */
    0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x00, 0x00, /* grad = [-0.5, 0.0] */
};

static void example_body(v2_body *b)
{
    memset(b, 0, sizeof *b);
    v2_body_json(b, example_header);
    v2_body_bytes(b, example_tail, sizeof example_tail);
}

Test(v2_infer, worked_example_should_answer_the_exact_bytes)
{
    v2_body b;
    api_reply r;
    example_body(&b);
    cr_assert_eq(b.header_len, 310);
    cr_assert_eq(b.len, 326);
    cr_assert_eq(v2_infer("mse", b.data, b.len, "310", &r), API_OK, "%.*s", (int)r.len, r.body);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.binary, 1);
    cr_assert_str_eq(r.content_type, "application/octet-stream");
    cr_assert_eq(r.inference_header_len, strlen(expected_header), "%.*s", (int)r.len, r.body);
    cr_assert_eq(r.len, strlen(expected_header) + sizeof expected_tail);
    cr_assert_eq(memcmp(r.body, expected_header, strlen(expected_header)), 0, "%.*s",
                 (int)r.inference_header_len, r.body);
    cr_assert_eq(memcmp(r.body + r.inference_header_len, expected_tail, sizeof expected_tail), 0);
    cr_assert_str_eq(r.desc->name, "mse");
    api_reply_release(&r);
    v2_body_free(&b);
}

Test(v2_infer, reference_output_name_grad_should_be_refused_listing_the_real_names)
{
    const char *h = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[1],\"datatype\":\"FP64\","
                    "\"data\":[1]},{\"name\":\"targets\",\"shape\":[1],\"datatype\":\"FP64\","
                    "\"data\":[0]}],\"outputs\":[{\"name\":\"grad\"}]}";
    api_reply r;
    v2_infer("mse", h, strlen(h), NULL, &r);
    cr_assert(v2_reply_is_error(&r, 400, "unknown_field"));
    cr_assert(v2_contains(r.body, r.len, "grad_predictions"), "%.*s", (int)r.len, r.body);
    api_reply_release(&r);
}

Test(v2_infer, misaligned_binary_data_should_give_the_same_bytes)
{
    /* An 11-byte id makes the header odd-length, so the FP32 tail starts misaligned. */
    char header[512];
    snprintf(header, sizeof header, "{\"id\":\"abc\",%s", example_header + 1);
    v2_body b = {0};
    api_reply r;
    v2_body_json(&b, header);
    v2_body_bytes(&b, example_tail, sizeof example_tail);
    cr_assert_eq(b.header_len % 4, 1);
    cr_assert_eq(v2_infer_body("mse", &b, &r), API_OK, "%.*s", (int)r.len, r.body);
    cr_assert_eq(r.len - r.inference_header_len, sizeof expected_tail);
    cr_assert_eq(memcmp(r.body + r.inference_header_len, expected_tail, sizeof expected_tail), 0);
    cr_assert(v2_contains(r.body, r.inference_header_len, "\"id\":\"abc\""));
    api_reply_release(&r);
    v2_body_free(&b);
}

Test(v2_infer, fp64_binary_should_compute_and_answer_in_fp64)
{
    double p[3] = {0.1, 0.2, 0.3}, t[3] = {0.0, 0.5, 1.0}, got[4];
    v2_body b = {0};
    api_reply r;
    v2_body_json(&b, "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[3],\"datatype\":\"FP64\","
                     "\"parameters\":{\"binary_data_size\":24}},{\"name\":\"targets\",\"shape\":"
                     "[3],\"datatype\":\"FP64\",\"parameters\":{\"binary_data_size\":24}}],"
                     "\"parameters\":{\"reduction\":\"sum\",\"binary_data_output\":true}}");
    v2_body_bytes(&b, p, sizeof p);
    v2_body_bytes(&b, t, sizeof t);
    cr_assert_eq(v2_infer_body("mse", &b, &r), API_OK, "%.*s", (int)r.len, r.body);
    cJSON *j = v2_reply_json(&r);
    cr_assert_eq(v2_output_values(&r, j, "loss", got, 4), 1);
    double want = (0.1 * 0.1) + (0.3 * 0.3) + (0.7 * 0.7);
    cr_assert(fabs(got[0] - want) <= 1e-15, "%.17g vs %.17g", got[0], want);
    cr_assert_str_eq(cJSON_GetObjectItem(v2_reply_output(j, "loss"), "datatype")->valuestring,
                     "FP64");
    cr_assert_null(v2_reply_output(j, "grad_predictions"), "no gradient unless asked");
    cJSON_Delete(j);
    api_reply_release(&r);
    v2_body_free(&b);
}

Test(v2_infer, json_request_with_nested_data_and_reduction_none_should_keep_the_shape)
{
    const char *h = "{\"id\":\"q\\\"1\",\"inputs\":[{\"name\":\"predictions\",\"shape\":[2,2],"
                    "\"datatype\":\"FP64\",\"data\":[[1,2],[3,4]]},{\"name\":\"targets\","
                    "\"shape\":[2,2],\"datatype\":\"FP64\",\"data\":[0,0,0,1]}],"
                    "\"parameters\":{\"reduction\":\"none\",\"gradient\":true}}";
    api_reply r;
    double v[8];
    cr_assert_eq(v2_infer("mse", h, strlen(h), NULL, &r), API_OK, "%.*s", (int)r.len, r.body);
    cr_assert_str_eq(r.content_type, "application/json");
    cr_assert_eq(r.binary, 0);
    cJSON *j = v2_reply_json(&r);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "id")->valuestring, "q\"1");
    const cJSON *loss = v2_reply_output(j, "loss");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(loss, "shape")), 2);
    cr_assert_eq(v2_output_values(&r, j, "loss", v, 8), 4);
    cr_assert(v[0] == 1 && v[1] == 4 && v[2] == 9 && v[3] == 9);
    cr_assert_eq(v2_output_values(&r, j, "grad_predictions", v, 8), 4);
    cr_assert(v[0] == 2 && v[1] == 4 && v[2] == 6 && v[3] == 6);
    cJSON_Delete(j);
    api_reply_release(&r);
}

Test(v2_infer, per_output_binary_data_should_override_binary_data_output)
{
    const char *h = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[2],\"datatype\":\"FP32\","
                    "\"data\":[1,3]},{\"name\":\"targets\",\"shape\":[2],\"datatype\":\"FP32\","
                    "\"data\":[0,0]}],\"parameters\":{\"binary_data_output\":true},"
                    "\"outputs\":[{\"name\":\"grad_predictions\"},{\"name\":\"loss\","
                    "\"parameters\":{\"binary_data\":false}}]}";
    api_reply r;
    double v[4];
    cr_assert_eq(v2_infer("mse", h, strlen(h), NULL, &r), API_OK, "%.*s", (int)r.len, r.body);
    cr_assert_eq(r.binary, 1);
    cr_assert_eq(r.len - r.inference_header_len, 8, "only the FP32 gradient is binary");
    cJSON *j = v2_reply_json(&r);
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "outputs"), 0)->child->valuestring,
                     "grad_predictions", "outputs in the requested order");
    cr_assert_not_null(cJSON_GetObjectItem(v2_reply_output(j, "loss"), "data"));
    cr_assert_eq(v2_output_values(&r, j, "loss", v, 4), 1);
    cr_assert_eq(v[0], 5.0);
    cr_assert_eq(v2_output_values(&r, j, "grad_predictions", v, 4), 2);
    cr_assert(v[0] == 1.0 && v[1] == 3.0);
    cJSON_Delete(j);
    api_reply_release(&r);
}

Test(v2_infer, weight_should_travel_as_an_input_tensor)
{
    const char *h = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[2],\"datatype\":\"FP64\","
                    "\"data\":[1,3]},{\"name\":\"targets\",\"shape\":[2],\"datatype\":\"FP64\","
                    "\"data\":[0,0]},{\"name\":\"weight\",\"shape\":[2],\"datatype\":\"FP64\","
                    "\"data\":[1,3]}]}";
    api_reply r;
    double v[2];
    cr_assert_eq(v2_infer("mse", h, strlen(h), NULL, &r), API_OK, "%.*s", (int)r.len, r.body);
    cJSON *j = v2_reply_json(&r);
    cr_assert_eq(v2_output_values(&r, j, "loss", v, 2), 1);
    cr_assert_eq(v[0], 7.0, "sum(w*l)/sum(w) = 28/4");
    cr_assert_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "parameters"), "denominator")->valuedouble, 4.0);
    cJSON_Delete(j);
    api_reply_release(&r);
}

Test(v2_infer, json_only_body_with_header_equal_to_its_length_should_be_accepted)
{
    const char *h = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[1],\"datatype\":\"FP64\","
                    "\"data\":[2]},{\"name\":\"targets\",\"shape\":[1],\"datatype\":\"FP64\","
                    "\"data\":[0]}]}";
    char hl[32];
    api_reply r;
    snprintf(hl, sizeof hl, "%zu", strlen(h));
    cr_assert_eq(v2_infer("mse", h, strlen(h), hl, &r), API_OK, "%.*s", (int)r.len, r.body);
    cr_assert_eq(r.binary, 0);
    api_reply_release(&r);
}

Test(v2_infer, empty_mean_zero_should_apply)
{
    const char *h = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[0],\"datatype\":\"FP64\","
                    "\"data\":[]},{\"name\":\"targets\",\"shape\":[0],\"datatype\":\"FP64\","
                    "\"data\":[]}],\"parameters\":{\"empty_mean\":\"zero\"}}";
    api_reply r;
    double v[1];
    cr_assert_eq(v2_infer("mse", h, strlen(h), NULL, &r), API_OK, "%.*s", (int)r.len, r.body);
    cJSON *j = v2_reply_json(&r);
    cr_assert_eq(v2_output_values(&r, j, "loss", v, 1), 1);
    cr_assert_eq(v[0], 0.0);
    cJSON_Delete(j);
    api_reply_release(&r);
}

Test(v2_infer, empty_mean_should_be_nan_exactly_in_binary_and_null_in_json)
{
    const char *h = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[0],\"datatype\":\"FP32\","
                    "\"data\":[]},{\"name\":\"targets\",\"shape\":[0],\"datatype\":\"FP32\","
                    "\"data\":[]}],\"outputs\":[{\"name\":\"loss\",\"parameters\":"
                    "{\"binary_data\":true}},{\"name\":\"grad_predictions\"}]}";
    api_reply r;
    float f;
    cr_assert_eq(v2_infer("mse", h, strlen(h), NULL, &r), API_OK, "%.*s", (int)r.len, r.body);
    cr_assert_eq(r.len - r.inference_header_len, 4);
    memcpy(&f, r.body + r.inference_header_len, 4);
    cr_assert(isnan(f));
    cr_assert(v2_contains(r.body, r.inference_header_len, "\"shape\":[0],\"data\":[]"), "%.*s",
              (int)r.inference_header_len, r.body);
    api_reply_release(&r);

    h = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[0],\"datatype\":\"FP32\",\"data\":[]},"
        "{\"name\":\"targets\",\"shape\":[0],\"datatype\":\"FP32\",\"data\":[]}]}";
    cr_assert_eq(v2_infer("mse", h, strlen(h), NULL, &r), API_OK);
    cr_assert(v2_contains(r.body, r.len, "\"data\":[null]"), "%.*s", (int)r.len, r.body);
    api_reply_release(&r);
}

Test(v2_infer, max_elements_should_cap_the_inputs_total)
{
    const char *h = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[2],\"datatype\":\"FP64\","
                    "\"data\":[1,2]},{\"name\":\"targets\",\"shape\":[2],\"datatype\":\"FP64\","
                    "\"data\":[0,0]}]}";
    api_env env = {.workers = NULL, .max_elements = 3};
    api_reply r;
    api_v2_infer(&env, "mse", 3, h, strlen(h), NULL, &r);
    cr_assert(v2_reply_is_error(&r, 413, "payload_too_large"));
    api_reply_release(&r);
}

Test(v2_infer, unknown_model_should_be_404_with_a_suggestion)
{
    api_reply r;
    v2_infer("mes", "{}", 2, NULL, &r);
    cr_assert(v2_reply_is_error(&r, 404, "unknown_loss"));
    cr_assert(v2_contains(r.body, r.len, "\\\"mse\\\""), "%.*s", (int)r.len, r.body);
    api_reply_release(&r);
}

Test(v2_infer, every_allocation_failure_should_end_in_a_clean_503)
{
    v2_body b;
    example_body(&b);
    for (long n = 0;; n++) {
        api_reply r;
        mem_fail_after(n);
        api_code c = v2_infer("mse", b.data, b.len, "310", &r);
        mem_fail_reset();
        if (c == API_OK) {
            cr_assert_eq(memcmp(r.body + r.inference_header_len, expected_tail, 12), 0);
            api_reply_release(&r);
            cr_assert_gt(n, 0);
            break;
        }
        cr_assert_eq(c, API_ERR_NOMEM, "after %ld allocations: %s", n, api_code_name(c));
        cr_assert_eq(r.status, 503);
        api_reply_release(&r);
    }
    v2_body_free(&b);
}

/* The worked example's numbers through /v1, /v2 JSON and /v2 binary: the same float32 bits. */
Test(v2_infer, v1_v2_json_and_v2_binary_should_give_identical_numbers)
{
    const char *v1 = "{\"predictions\":[0.5,1.0],\"targets\":[1.0,1.0],\"gradient\":true,"
                     "\"dtype\":\"float32\"}";
    const char *v2 = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[2],\"datatype\":\"FP32\","
                     "\"data\":[0.5,1.0]},{\"name\":\"targets\",\"shape\":[2],\"datatype\":"
                     "\"FP32\",\"data\":[1.0,1.0]}],\"parameters\":{\"gradient\":true}}";
    api_env env = {.workers = NULL, .max_elements = 0};
    api_reply r1, r2, r3;
    v2_body b;
    double loss[3][2], grad[3][3];
    example_body(&b);
    cr_assert_eq(api_v1_loss(&env, "mse", 3, v1, strlen(v1), &r1), API_OK);
    cr_assert_eq(v2_infer("mse", v2, strlen(v2), NULL, &r2), API_OK);
    cr_assert_eq(v2_infer("mse", b.data, b.len, "310", &r3), API_OK);

    cJSON *j1 = cJSON_ParseWithLength(r1.body, r1.len), *j2 = v2_reply_json(&r2),
          *j3 = v2_reply_json(&r3);
    loss[0][0] = cJSON_GetObjectItem(j1, "value")->valuedouble;
    const cJSON *g1 = cJSON_GetObjectItem(cJSON_GetObjectItem(j1, "gradient"), "predictions");
    grad[0][0] = cJSON_GetArrayItem(g1, 0)->valuedouble;
    grad[0][1] = cJSON_GetArrayItem(g1, 1)->valuedouble;
    cr_assert_eq(v2_output_values(&r2, j2, "loss", loss[1], 2), 1);
    cr_assert_eq(v2_output_values(&r3, j3, "loss", loss[2], 2), 1);
    cr_assert_eq(v2_output_values(&r2, j2, "grad_predictions", grad[1], 3), 2);
    cr_assert_eq(v2_output_values(&r3, j3, "grad_predictions", grad[2], 3), 2);
    for (int k = 0; k < 3; k++) {
        cr_expect_eq(loss[k][0], 0.125, "path %d", k);
        cr_expect_eq(grad[k][0], -0.5, "path %d", k);
        cr_expect_eq(grad[k][1], 0.0, "path %d", k);
    }
    cJSON_Delete(j1);
    cJSON_Delete(j2);
    cJSON_Delete(j3);
    api_reply_release(&r1);
    api_reply_release(&r2);
    api_reply_release(&r3);
    v2_body_free(&b);
}

/* Random float64 data, larger than one compute chunk: /v1 and /v2 binary agree bit for bit. */
Test(v2_infer, large_binary_request_should_match_v1_bit_for_bit)
{
    enum { N = 40000 };
    static double p[N], t[N];
    unsigned s = 12345;
    for (size_t i = 0; i < N; i++) {
        s = s * 1103515245u + 12345u;
        p[i] = (double)(s >> 8) / (1 << 24) - 0.5;
        s = s * 1103515245u + 12345u;
        t[i] = (double)(s >> 8) / (1 << 24);
    }
    char header[512];
    snprintf(header, sizeof header,
             "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[%d],\"datatype\":\"FP64\","
             "\"parameters\":{\"binary_data_size\":%zu}},{\"name\":\"targets\",\"shape\":[%d],"
             "\"datatype\":\"FP64\",\"parameters\":{\"binary_data_size\":%zu}}],"
             "\"outputs\":[{\"name\":\"loss\",\"parameters\":{\"binary_data\":true}}]}",
             N, sizeof p, N, sizeof t);
    v2_body b = {0};
    v2_body_json(&b, header);
    v2_body_bytes(&b, p, sizeof p);
    v2_body_bytes(&b, t, sizeof t);

    /* The same tensors as /v1 JSON, printed to round-trip exactly. */
    size_t cap = (size_t)N * 2 * 26 + 64, len = 0;
    char *v1 = malloc(cap);
    len += (size_t)snprintf(v1 + len, cap - len, "{\"predictions\":[");
    for (size_t i = 0; i < N; i++)
        len += (size_t)snprintf(v1 + len, cap - len, "%s%.17g", i ? "," : "", p[i]);
    len += (size_t)snprintf(v1 + len, cap - len, "],\"targets\":[");
    for (size_t i = 0; i < N; i++)
        len += (size_t)snprintf(v1 + len, cap - len, "%s%.17g", i ? "," : "", t[i]);
    len += (size_t)snprintf(v1 + len, cap - len, "]}");

    api_env env = {.workers = NULL, .max_elements = 0};
    api_reply r1, r2;
    double v2v;
    cr_assert_eq(api_v1_loss(&env, "mse", 3, v1, len, &r1), API_OK);
    cr_assert_eq(v2_infer_body("mse", &b, &r2), API_OK, "%.*s", (int)r2.len, r2.body);
    cJSON *j1 = cJSON_ParseWithLength(r1.body, r1.len);
    cr_assert_eq(r2.len - r2.inference_header_len, 8);
    memcpy(&v2v, r2.body + r2.inference_header_len, 8);
    cr_assert_eq(v2v, cJSON_GetObjectItem(j1, "value")->valuedouble, "%.17g", v2v);
    cJSON_Delete(j1);
    api_reply_release(&r1);
    api_reply_release(&r2);
    v2_body_free(&b);
    free(v1);
}

/* KServe's Python client puts model_name (and an id) in every request body. */
Test(v2_infer, model_name_in_the_body_should_be_accepted_when_it_matches_the_path)
{
#define MODEL_BODY(name, version)                                                               \
    "{\"model_name\":\"" name "\",\"model_version\":\"" version "\",\"id\":\"u-1\",\"inputs\":" \
    "[{\"name\":\"predictions\",\"shape\":[1],\"datatype\":\"FP64\",\"data\":[3]},"             \
    "{\"name\":\"targets\",\"shape\":[1],\"datatype\":\"FP64\",\"data\":[1]}]}"
    char body[512];
    api_reply r;
    snprintf(body, sizeof body, "%s", MODEL_BODY("mse", "1"));
    cr_assert_eq(v2_infer("mse", body, strlen(body), NULL, &r), API_OK, "%.*s", (int)r.len, r.body);
    api_reply_release(&r);
    snprintf(body, sizeof body, "%s", MODEL_BODY("mae", "1"));
    v2_infer("mse", body, strlen(body), NULL, &r);
    cr_assert(v2_reply_is_error(&r, 400, "invalid_parameter"));
    api_reply_release(&r);
    snprintf(body, sizeof body, "%s", MODEL_BODY("mse", "2"));
    v2_infer("mse", body, strlen(body), NULL, &r);
    cr_assert(v2_reply_is_error(&r, 404, "not_found"));
    api_reply_release(&r);
}
