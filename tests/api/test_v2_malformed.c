/* /v2 infer: every malformed request is a 4xx in the OIP error shape, naming what is wrong:
 * bad Inference-Header-Content-Length values, binary sizes that disagree with the shape or the
 * body, impossible shapes, mixed datatypes, non-finite data, and JSON header mistakes. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "v2_util.h"

#define PRED_FP32_BIN(size)                                                         \
    "{\"name\":\"predictions\",\"shape\":[2],\"datatype\":\"FP32\",\"parameters\":" \
    "{\"binary_data_size\":" #size "}}"
#define TARG_FP32_BIN(size)                                                     \
    "{\"name\":\"targets\",\"shape\":[2],\"datatype\":\"FP32\",\"parameters\":" \
    "{\"binary_data_size\":" #size "}}"
#define PRED_JSON "{\"name\":\"predictions\",\"shape\":[2],\"datatype\":\"FP64\",\"data\":[1,2]}"
#define TARG_JSON "{\"name\":\"targets\",\"shape\":[2],\"datatype\":\"FP64\",\"data\":[0,0]}"

static const float four_floats[4] = {0.5f, 1.0f, 1.0f, 1.0f};

/* Sends json + tail (tail_len bytes) with the given header value ("auto": the JSON's length)
 * and checks the status, the code and that the message mentions `needle`. */
static void expect_refusal(const char *header, const char *json, const void *tail, size_t tail_len,
                           int status, const char *code, const char *needle)
{
    v2_body b = {0};
    char hl[32];
    api_reply r;
    v2_body_json(&b, json);
    v2_body_bytes(&b, tail, tail_len);
    if (header != NULL && strcmp(header, "auto") == 0) {
        snprintf(hl, sizeof hl, "%zu", b.header_len);
        header = hl;
    }
    api_code c = v2_infer("mse", b.data, b.len, header, &r);
    cr_assert_neq(c, API_OK, "refused: %s", json);
    cr_assert(v2_reply_is_error(&r, status, code), "for %s", json);
    if (needle != NULL)
        cr_assert(v2_contains(r.body, r.len, needle), "message mentions \"%s\": %.*s", needle,
                  (int)r.len, r.body);
    api_reply_release(&r);
    v2_body_free(&b);
}

static const char binary_pair[] = "{\"inputs\":[" PRED_FP32_BIN(8) "," TARG_FP32_BIN(8) "]}";

Test(v2_malformed, header_length_past_the_body_should_be_invalid_binary)
{
    expect_refusal("1000", binary_pair, four_floats, 16, 400, "invalid_binary",
                   "Inference-Header-Content-Length");
}

Test(v2_malformed, negative_header_length_should_be_invalid_binary)
{
    expect_refusal("-12", binary_pair, four_floats, 16, 400, "invalid_binary", NULL);
}

Test(v2_malformed, non_numeric_header_length_should_be_invalid_binary)
{
    expect_refusal("ninety", binary_pair, four_floats, 16, 400, "invalid_binary", NULL);
}

Test(v2_malformed, header_length_with_trailing_junk_should_be_invalid_binary)
{
    char hl[32];
    snprintf(hl, sizeof hl, "%zuabc", strlen(binary_pair));
    expect_refusal(hl, binary_pair, four_floats, 16, 400, "invalid_binary", NULL);
}

Test(v2_malformed, header_length_cutting_the_json_should_be_invalid_json)
{
    char hl[32];
    snprintf(hl, sizeof hl, "%zu", strlen(binary_pair) - 5);
    expect_refusal(hl, binary_pair, four_floats, 16, 400, "invalid_json", NULL);
}

Test(v2_malformed, binary_body_without_the_header_should_be_invalid_json_with_a_hint)
{
    expect_refusal(NULL, binary_pair, four_floats, 16, 400, "invalid_json",
                   "Inference-Header-Content-Length");
}

Test(v2_malformed, binary_data_size_without_the_header_should_be_invalid_binary)
{
    expect_refusal(NULL, binary_pair, NULL, 0, 400, "invalid_binary",
                   "Inference-Header-Content-Length");
}

Test(v2_malformed, binary_data_size_not_matching_the_shape_should_be_invalid_binary)
{
    const char *json = "{\"inputs\":[" PRED_FP32_BIN(12) "," TARG_FP32_BIN(4) "]}";
    expect_refusal("auto", json, four_floats, 16, 400, "invalid_binary", "predictions");
}

Test(v2_malformed, sizes_summing_past_the_body_should_be_invalid_binary)
{
    expect_refusal("auto", binary_pair, four_floats, 12, 400, "invalid_binary", "targets");
}

Test(v2_malformed, bytes_left_after_the_last_tensor_should_be_invalid_binary)
{
    float five[5] = {0};
    expect_refusal("auto", binary_pair, five, 20, 400, "invalid_binary", "4 bytes");
}

Test(v2_malformed, negative_or_fractional_binary_data_size_should_be_invalid_binary)
{
    const char *neg = "{\"inputs\":[" PRED_FP32_BIN(-8) "," TARG_FP32_BIN(8) "]}";
    const char *frac = "{\"inputs\":[" PRED_FP32_BIN(8.5) "," TARG_FP32_BIN(8) "]}";
    const char *text = "{\"inputs\":[" PRED_FP32_BIN("8") "," TARG_FP32_BIN(8) "]}";
    expect_refusal("auto", neg, four_floats, 16, 400, "invalid_binary", "predictions");
    expect_refusal("auto", frac, four_floats, 16, 400, "invalid_binary", "predictions");
    expect_refusal("auto", text, four_floats, 16, 400, "invalid_binary", "predictions");
}

Test(v2_malformed, shape_whose_product_overflows_64_bits_should_be_refused)
{
    const char *json =
        "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[4294967296,4294967296,"
        "2],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":8}}," TARG_FP32_BIN(8) "]}";
    expect_refusal("auto", json, four_floats, 16, 400, "invalid_type", "64-bit");
}

Test(v2_malformed, shape_whose_byte_size_overflows_should_be_invalid_binary)
{
    const char *json =
        "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[4294967296,1073741824],"
        "\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":8}}," TARG_FP32_BIN(8) "]}";
    expect_refusal("auto", json, four_floats, 16, 400, "invalid_binary", "overflow");
}

Test(v2_malformed, negative_or_fractional_dimension_should_be_refused)
{
    const char *neg = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[-2],\"datatype\":"
                      "\"FP64\",\"data\":[1,2]}," TARG_JSON "]}";
    const char *frac = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[1.5],\"datatype\":"
                       "\"FP64\",\"data\":[1,2]}," TARG_JSON "]}";
    const char *text = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":\"2\",\"datatype\":"
                       "\"FP64\",\"data\":[1,2]}," TARG_JSON "]}";
    expect_refusal(NULL, neg, NULL, 0, 400, "invalid_type", "shape[0]");
    expect_refusal(NULL, frac, NULL, 0, 400, "invalid_type", "shape[0]");
    expect_refusal(NULL, text, NULL, 0, 400, "invalid_type", "predictions");
}

Test(v2_malformed, rank_above_eight_should_be_refused)
{
    const char *json = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[1,1,1,1,1,1,1,1,1],"
                       "\"datatype\":\"FP64\",\"data\":[1]}," TARG_JSON "]}";
    expect_refusal(NULL, json, NULL, 0, 400, "invalid_type", "8 dimensions");
}

Test(v2_malformed, mixed_fp32_and_fp64_should_be_refused_naming_both)
{
    const char *json = "{\"inputs\":[" PRED_FP32_BIN(
        8) ",{\"name\":\"targets\",\"shape\":[2],"
           "\"datatype\":\"FP64\",\"parameters\":{\"binary_data_size\":16}}]}";
    float tail[6] = {0};
    expect_refusal("auto", json, tail, 24, 400, "invalid_type", "targets is FP64");
}

Test(v2_malformed, nan_in_binary_data_should_be_non_finite_naming_tensor_and_index)
{
    float tail[4] = {0.5f, 1.0f, 1.0f, NAN};
    expect_refusal("auto", binary_pair, tail, 16, 400, "non_finite", "targets[1]");
}

Test(v2_malformed, infinity_in_binary_data_should_be_non_finite)
{
    float tail[4] = {-INFINITY, 1.0f, 1.0f, 1.0f};
    expect_refusal("auto", binary_pair, tail, 16, 400, "non_finite", "predictions[0]");
}

Test(v2_malformed, json_numbers_beyond_the_datatype_should_be_non_finite)
{
    const char *f32 = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[2],\"datatype\":\"FP32\","
                      "\"data\":[1,1e39]},{\"name\":\"targets\",\"shape\":[2],\"datatype\":"
                      "\"FP32\",\"data\":[0,0]}]}";
    const char *f64 = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[2],\"datatype\":\"FP64\","
                      "\"data\":[1e400,1]}," TARG_JSON "]}";
    expect_refusal(NULL, f32, NULL, 0, 400, "non_finite", "predictions[1]");
    expect_refusal(NULL, f64, NULL, 0, 400, "non_finite", "predictions[0]");
}

Test(v2_malformed, data_count_not_matching_the_shape_should_be_shape_mismatch)
{
    const char *json = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[3],\"datatype\":\"FP64\","
                       "\"data\":[1,2]}," TARG_JSON "]}";
    expect_refusal(NULL, json, NULL, 0, 400, "shape_mismatch", "(3)");
}

Test(v2_malformed, ragged_or_non_numeric_data_should_be_refused)
{
    const char *ragged = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[3],\"datatype\":"
                         "\"FP64\",\"data\":[[1,2],[3]]}," TARG_JSON "]}";
    const char *text = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[2],\"datatype\":"
                       "\"FP64\",\"data\":[\"1\",\"2\"]}," TARG_JSON "]}";
    expect_refusal(NULL, ragged, NULL, 0, 400, "ragged_array", "predictions");
    expect_refusal(NULL, text, NULL, 0, 400, "invalid_type", "predictions");
}

Test(v2_malformed, both_data_and_binary_data_size_should_be_invalid_binary)
{
    const char *json =
        "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[2],\"datatype\":\"FP32\","
        "\"data\":[1,2],\"parameters\":{\"binary_data_size\":8}}," TARG_FP32_BIN(8) "]}";
    expect_refusal("auto", json, four_floats, 16, 400, "invalid_binary", "both");
}

Test(v2_malformed, input_without_data_should_be_missing_field)
{
    const char *json = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[2],\"datatype\":"
                       "\"FP64\"}," TARG_JSON "]}";
    expect_refusal(NULL, json, NULL, 0, 400, "missing_field", "predictions");
}

Test(v2_malformed, missing_input_should_be_missing_field)
{
    expect_refusal(NULL, "{\"inputs\":[" PRED_JSON "]}", NULL, 0, 400, "missing_field", "targets");
    expect_refusal(NULL, "{\"id\":\"x\"}", NULL, 0, 400, "missing_field", "inputs");
}

Test(v2_malformed, unsupported_or_unknown_datatype_should_be_invalid_type)
{
    const char *fp16 = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[2],\"datatype\":\"FP16\","
                       "\"data\":[1,2]}," TARG_JSON "]}";
    const char *lower = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[2],\"datatype\":"
                        "\"fp64\",\"data\":[1,2]}," TARG_JSON "]}";
    const char *integer = "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[2],\"datatype\":"
                          "\"INT64\",\"data\":[1,2]}," TARG_JSON "]}";
    expect_refusal(NULL, fp16, NULL, 0, 400, "invalid_type", "FP16");
    expect_refusal(NULL, lower, NULL, 0, 400, "invalid_type", "fp64");
    expect_refusal(NULL, integer, NULL, 0, 400, "invalid_type", "FP32 or FP64");
}

Test(v2_malformed, unknown_or_repeated_input_should_be_refused)
{
    const char *unknown = "{\"inputs\":[" PRED_JSON "," TARG_JSON ",{\"name\":\"target\","
                          "\"shape\":[1],\"datatype\":\"FP64\",\"data\":[0]}]}";
    const char *twice = "{\"inputs\":[" PRED_JSON "," TARG_JSON "," PRED_JSON "]}";
    expect_refusal(NULL, unknown, NULL, 0, 400, "unknown_field", "target");
    expect_refusal(NULL, twice, NULL, 0, 400, "invalid_json", "twice");
}

Test(v2_malformed, unknown_fields_should_be_named)
{
    expect_refusal(NULL, "{\"inputs\":[" PRED_JSON "," TARG_JSON "],\"input\":[]}", NULL, 0, 400,
                   "unknown_field", "input");
    expect_refusal(NULL,
                   "{\"inputs\":[{\"name\":\"predictions\",\"shape\":[2],\"datatype\":\"FP64\","
                   "\"data\":[1,2],\"dtype\":\"x\"}," TARG_JSON "]}",
                   NULL, 0, 400, "unknown_field", "dtype");
    expect_refusal(NULL, "{\"inputs\":[" PRED_JSON "," TARG_JSON "],\"parameters\":{\"delta\":1}}",
                   NULL, 0, 400, "unknown_field", "delta");
    expect_refusal(NULL,
                   "{\"inputs\":[" PRED_JSON "," TARG_JSON "],\"outputs\":[{\"name\":\"loss\","
                   "\"parameters\":{\"classification\":2}}]}",
                   NULL, 0, 400, "unknown_field", "classification");
}

Test(v2_malformed, weight_in_parameters_should_point_to_inputs)
{
    expect_refusal(NULL,
                   "{\"inputs\":[" PRED_JSON "," TARG_JSON "],\"parameters\":{\"weight\":[1,1]}}",
                   NULL, 0, 400, "unknown_field", "inputs");
}

Test(v2_malformed, bad_request_parameters_should_be_refused)
{
    expect_refusal(NULL,
                   "{\"inputs\":[" PRED_JSON "," TARG_JSON "],\"parameters\":{\"reduction\":"
                   "\"avg\"}}",
                   NULL, 0, 400, "invalid_parameter", "reduction");
    expect_refusal(NULL,
                   "{\"inputs\":[" PRED_JSON "," TARG_JSON "],\"parameters\":{\"reduction\":"
                   "\"batchmean\"}}",
                   NULL, 0, 400, "invalid_parameter", "batchmean");
    expect_refusal(NULL,
                   "{\"inputs\":[" PRED_JSON "," TARG_JSON "],\"parameters\":{\"gradient\":1}}",
                   NULL, 0, 400, "invalid_type", "gradient");
    expect_refusal(NULL,
                   "{\"inputs\":[" PRED_JSON "," TARG_JSON "],\"parameters\":{\"empty_mean\":"
                   "\"one\"}}",
                   NULL, 0, 400, "invalid_parameter", "empty_mean");
}

Test(v2_malformed, gradient_false_with_a_gradient_output_should_be_refused)
{
    expect_refusal(NULL,
                   "{\"inputs\":[" PRED_JSON "," TARG_JSON "],\"parameters\":{\"gradient\":false},"
                   "\"outputs\":[{\"name\":\"grad_predictions\"}]}",
                   NULL, 0, 400, "invalid_parameter", "grad_predictions");
}

Test(v2_malformed, repeated_output_should_be_refused)
{
    expect_refusal(NULL,
                   "{\"inputs\":[" PRED_JSON "," TARG_JSON "],\"outputs\":[{\"name\":\"loss\"},"
                   "{\"name\":\"loss\"}]}",
                   NULL, 0, 400, "invalid_json", "twice");
}

Test(v2_malformed, wrong_json_types_should_be_invalid_type)
{
    expect_refusal(NULL, "[]", NULL, 0, 400, "invalid_type", "object");
    expect_refusal(NULL, "{\"inputs\":{}}", NULL, 0, 400, "invalid_type", "inputs");
    expect_refusal(NULL, "{\"inputs\":[7]}", NULL, 0, 400, "invalid_type", "inputs[0]");
    expect_refusal(NULL, "{\"id\":5,\"inputs\":[]}", NULL, 0, 400, "invalid_type", "id");
    expect_refusal(NULL, "{\"inputs\":[" PRED_JSON "," TARG_JSON "],\"outputs\":\"loss\"}", NULL, 0,
                   400, "invalid_type", "outputs");
}

Test(v2_malformed, invalid_json_should_be_invalid_json)
{
    expect_refusal(NULL, "{\"inputs\":[", NULL, 0, 400, "invalid_json", NULL);
    expect_refusal(NULL, "{\"inputs\":[]} x", NULL, 0, 400, "invalid_json", NULL);
    expect_refusal(NULL, "{\"inputs\":[NaN]}", NULL, 0, 400, "invalid_json", NULL);
}

Test(v2_malformed, core_refusals_should_come_back_in_the_oip_error_shape)
{
    const char *json = "{\"inputs\":[" PRED_JSON ",{\"name\":\"targets\",\"shape\":[3],"
                       "\"datatype\":\"FP64\",\"data\":[0,0,0]}]}";
    expect_refusal(NULL, json, NULL, 0, 400, "shape_mismatch", "targets");
}
