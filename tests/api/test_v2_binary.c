/* v2_binary: the Inference-Header-Content-Length value, binary tail slicing and tensors made
 * from raw little-endian bytes (alignment, copies, non-finite data). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "mem.h"
#include "v2_binary.h"

static api_code header(const char *value, size_t body_len, size_t *json_len)
{
    api_err err;
    *json_len = (size_t)-1;
    api_code c = v2_binary_header_len(value, body_len, json_len, &err);
    if (c != API_OK)
        cr_assert_str_eq(err.field, "Inference-Header-Content-Length", "%s", err.message);
    return c;
}

Test(v2_header_len, absent_header_should_make_the_whole_body_json)
{
    size_t n;
    cr_assert_eq(header(NULL, 42, &n), API_OK);
    cr_assert_eq(n, 42);
}

Test(v2_header_len, decimal_value_within_the_body_should_be_accepted)
{
    size_t n;
    cr_assert_eq(header("298", 314, &n), API_OK);
    cr_assert_eq(n, 298);
    cr_assert_eq(header(" 7\t", 7, &n), API_OK, "blanks around the value are HTTP whitespace");
    cr_assert_eq(n, 7);
}

Test(v2_header_len, value_equal_to_the_body_should_mean_json_only)
{
    size_t n;
    cr_assert_eq(header("314", 314, &n), API_OK);
    cr_assert_eq(n, 314);
}

Test(v2_header_len, malformed_values_should_be_invalid_binary)
{
    static const char *const bad[] = {"",    " ",    "-5",  "+5",  "abc", "12x",
                                      "1 2", "0x10", "3.0", "1e2", "\xff"};
    size_t n;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(header(bad[i], 100, &n), API_ERR_INVALID_BINARY, "value \"%s\"", bad[i]);
}

Test(v2_header_len, value_past_the_body_should_be_invalid_binary)
{
    size_t n;
    cr_assert_eq(header("315", 314, &n), API_ERR_INVALID_BINARY);
    cr_assert_eq(header("18446744073709551615", 314, &n), API_ERR_INVALID_BINARY);
}

Test(v2_header_len, value_overflowing_64_bits_should_be_invalid_binary)
{
    size_t n;
    cr_assert_eq(header("18446744073709551616", (size_t)-1, &n), API_ERR_INVALID_BINARY);
    cr_assert_eq(header("99999999999999999999999999", (size_t)-1, &n), API_ERR_INVALID_BINARY);
}

Test(v2_header_len, zero_raw_binary_request_should_be_refused)
{
    size_t n;
    cr_assert_eq(header("0", 8, &n), API_ERR_INVALID_BINARY);
}

Test(v2_tail, takes_should_slice_in_order_and_finish_exactly)
{
    const char body[] = "{}ABCDEFGHIJKL"; /* 2 bytes of JSON, 12 of tail */
    v2_tail tail;
    api_err err;
    const unsigned char *a, *b;
    v2_binary_tail_init(&tail, body, 14, 2);
    cr_assert_eq(v2_binary_tail_take(&tail, "x", V2_FP32, 1, 4, &a, &err), API_OK);
    cr_assert_eq(v2_binary_tail_take(&tail, "y", V2_FP64, 1, 8, &b, &err), API_OK);
    cr_assert_eq((const char *)a, body + 2);
    cr_assert_eq((const char *)b, body + 6);
    cr_assert_eq(v2_binary_tail_finish(&tail, &err), API_OK);
}

Test(v2_tail, size_not_matching_shape_should_be_refused_before_reading)
{
    v2_tail tail;
    api_err err;
    const unsigned char *a = NULL;
    v2_binary_tail_init(&tail, "{}12345678", 10, 2);
    cr_assert_eq(v2_binary_tail_take(&tail, "predictions", V2_FP32, 2, 4, &a, &err),
                 API_ERR_INVALID_BINARY);
    cr_assert_str_eq(err.field, "predictions");
    cr_assert_null(a);
    cr_assert_eq(tail.left, 8, "nothing consumed");
}

Test(v2_tail, size_past_the_body_should_be_refused)
{
    v2_tail tail;
    api_err err;
    const unsigned char *a;
    v2_binary_tail_init(&tail, "{}1234", 6, 2);
    cr_assert_eq(v2_binary_tail_take(&tail, "targets", V2_FP64, 1, 8, &a, &err),
                 API_ERR_INVALID_BINARY);
    cr_assert_str_eq(err.field, "targets");
}

Test(v2_tail, element_count_overflowing_bytes_should_be_refused)
{
    v2_tail tail;
    api_err err;
    const unsigned char *a;
    v2_binary_tail_init(&tail, "{}1234", 6, 2);
    cr_assert_eq(v2_binary_tail_take(&tail, "x", V2_FP64, (size_t)1 << 62, 0, &a, &err),
                 API_ERR_INVALID_BINARY);
    cr_assert(strstr(err.message, "overflow") != NULL, "%s", err.message);
}

Test(v2_tail, unclaimed_bytes_should_be_refused)
{
    v2_tail tail;
    api_err err;
    const unsigned char *a;
    v2_binary_tail_init(&tail, "{}123456789", 11, 2);
    cr_assert_eq(v2_binary_tail_take(&tail, "x", V2_FP32, 2, 8, &a, &err), API_OK);
    cr_assert_eq(v2_binary_tail_finish(&tail, &err), API_ERR_INVALID_BINARY);
    cr_assert(strstr(err.message, "1 bytes") != NULL, "%s", err.message);
}

Test(v2_tensor, aligned_data_should_be_borrowed_in_place)
{
    _Alignas(8) double buf[3] = {1.5, -2, 0.25};
    size_t shape[] = {3};
    tensor t;
    api_err err;
    cr_assert_eq(v2_binary_tensor("x", V2_FP64, shape, 1, 3, (const unsigned char *)buf, &t, &err),
                 API_OK);
    cr_assert_eq(t.data, (void *)buf);
    cr_assert_eq(t.owned, 0);
    cr_assert_eq(t.type, TENSOR_F64);
    tensor_release(&t);
}

Test(v2_tensor, misaligned_data_should_be_copied_once_into_aligned_memory)
{
    _Alignas(8) unsigned char raw[1 + 2 * sizeof(double)];
    double want[2] = {3.0, -0.125};
    memcpy(raw + 1, want, sizeof want);
    size_t shape[] = {1, 2};
    tensor t;
    api_err err;
    cr_assert_eq(v2_binary_tensor("x", V2_FP64, shape, 2, 2, raw + 1, &t, &err), API_OK);
    cr_assert_eq(t.owned, 1);
    cr_assert_eq((uintptr_t)t.data % 64, 0);
    cr_assert_eq(memcmp(t.data, want, sizeof want), 0);
    cr_assert_eq(t.rank, 2);
    cr_assert_eq(t.shape[1], 2);
    tensor_release(&t);
}

Test(v2_tensor, nan_should_be_refused_naming_tensor_and_index)
{
    float f[4] = {0.5f, 1.0f, NAN, 2.0f};
    size_t shape[] = {4};
    tensor t;
    api_err err;
    cr_assert_eq(
        v2_binary_tensor("targets", V2_FP32, shape, 1, 4, (const unsigned char *)f, &t, &err),
        API_ERR_NON_FINITE);
    cr_assert_str_eq(err.field, "targets");
    cr_assert(strstr(err.message, "targets[2]") != NULL, "%s", err.message);
    cr_assert_null(t.data);
}

Test(v2_tensor, infinity_in_a_copied_tensor_should_be_refused_without_a_leak)
{
    _Alignas(8) unsigned char raw[1 + 3 * sizeof(double)];
    double d[3] = {1, 2, -INFINITY};
    memcpy(raw + 1, d, sizeof d);
    size_t shape[] = {3};
    tensor t;
    api_err err;
    cr_assert_eq(v2_binary_tensor("x1", V2_FP64, shape, 1, 3, raw + 1, &t, &err),
                 API_ERR_NON_FINITE);
    cr_assert(strstr(err.message, "x1[2] = -Infinity") != NULL, "%s", err.message);
}

Test(v2_tensor, integer_data_should_keep_its_type)
{
    int32_t k[2] = {3, -1};
    size_t shape[] = {2};
    tensor t;
    api_err err;
    cr_assert_eq(
        v2_binary_tensor("targets", V2_INT32, shape, 1, 2, (const unsigned char *)k, &t, &err),
        API_OK);
    cr_assert_eq(t.type, TENSOR_I32);
    cr_assert_eq(tensor_get(&t, 1), -1.0);
}

Test(v2_tensor, copy_failure_should_be_out_of_memory)
{
    _Alignas(8) unsigned char raw[1 + sizeof(double)] = {0};
    size_t shape[] = {1};
    tensor t;
    api_err err;
    mem_fail_after(0);
    api_code c = v2_binary_tensor("x", V2_FP64, shape, 1, 1, raw + 1, &t, &err);
    mem_fail_reset();
    cr_assert_eq(c, API_ERR_NOMEM);
}

Test(v2_datatype, names_should_round_trip_and_only_four_be_supported)
{
    v2_datatype dt;
    size_t supported = 0;
    for (int i = 0; i < V2_DATATYPE_COUNT; i++) {
        const char *name = v2_binary_datatype_name((v2_datatype)i);
        cr_assert_eq(v2_binary_datatype_parse(name, strlen(name), &dt), 0, "%s", name);
        cr_assert_eq(dt, (v2_datatype)i);
        supported += (size_t)v2_binary_datatype_supported(dt);
    }
    cr_assert_eq(supported, 4);
    cr_assert_eq(v2_binary_datatype_parse("fp32", 4, &dt), -1, "names are case-sensitive");
    cr_assert_eq(v2_binary_datatype_parse("FP3", 3, &dt), -1);
}
