/* The scoring CLI's file decoders: .npy (each dtype lossd reads, every refusal with a message
 * naming what was wrong) and delimited text (shape rules, header, ragged rows, non-numbers). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "mem.h"
#include "npy.h"

/* A .npy file: header for (type, shape) from npy_header, then data bytes. Caller frees. */
static unsigned char *npy_file(tensor_type type, size_t rank, const size_t *shape, const void *data,
                               size_t bytes, size_t *len)
{
    char head[320];
    size_t n = npy_header(type, rank, shape, head, sizeof head);
    cr_assert(n > 0 && n % 64 == 0, "header length %zu", n);
    unsigned char *f = mem_alloc_aligned(n + bytes);
    memcpy(f, head, n);
    if (bytes > 0)
        memcpy(f + n, data, bytes);
    *len = n + bytes;
    return f;
}

/* A .npy file from a header dict given as text (for malformed and foreign headers). */
static unsigned char *npy_raw(const char *dict, const void *data, size_t bytes, size_t *len)
{
    size_t d = strlen(dict);
    unsigned char *f = mem_alloc_aligned(10 + d + bytes);
    memcpy(f, "\x93NUMPY\x01\x00", 8);
    f[8] = (unsigned char)(d & 0xff);
    f[9] = (unsigned char)(d >> 8);
    memcpy(f + 10, dict, d);
    if (bytes > 0)
        memcpy(f + 10 + d, data, bytes);
    *len = 10 + d + bytes;
    return f;
}

Test(npy, each_supported_dtype_should_decode_in_place_with_its_shape)
{
    const double f64[6] = {1, 2, 3, 4, 5, 6};
    const float f32[6] = {1, 2, 3, 4, 5, 6};
    const int64_t i64[6] = {1, 2, 3, 4, 5, 6};
    const int32_t i32[6] = {1, 2, 3, 4, 5, 6};
    const struct {
        tensor_type type;
        const void *data;
        size_t size;
    } cases[] = {
        {TENSOR_F64, f64, 8}, {TENSOR_F32, f32, 4}, {TENSOR_I64, i64, 8}, {TENSOR_I32, i32, 4}};
    const size_t shape[2] = {2, 3};
    for (size_t c = 0; c < 4; c++) {
        size_t len;
        unsigned char *f =
            npy_file(cases[c].type, 2, shape, cases[c].data, 6 * cases[c].size, &len);
        tensor t;
        char msg[200];
        cr_assert_eq(npy_decode(f, len, &t, msg, sizeof msg), API_OK, "%s", msg);
        cr_expect_eq(t.type, cases[c].type);
        cr_expect_eq(t.rank, 2);
        cr_expect_eq(t.shape[0], 2);
        cr_expect_eq(t.shape[1], 3);
        cr_expect_eq(t.owned, 0, "aligned data is used in place");
        for (size_t i = 0; i < 6; i++)
            cr_expect_eq(tensor_get(&t, i), (double)(i + 1));
        tensor_release(&t);
        mem_free_aligned(f);
    }
}

Test(npy, scalar_empty_and_unaligned_data_should_decode)
{
    const double one = 2.5;
    size_t len;
    tensor t;
    char msg[200];
    unsigned char *f =
        npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (), }\n", &one, 8, &len);
    cr_assert_eq(npy_decode(f, len, &t, msg, sizeof msg), API_OK, "%s", msg);
    cr_expect_eq(t.rank, 0);
    cr_expect_eq(t.count, 1);
    cr_expect_eq(t.owned, 1, "data at offset %zu is copied to aligned memory", len - 8);
    cr_expect_eq(tensor_get(&t, 0), 2.5);
    tensor_release(&t);
    mem_free_aligned(f);
    f = npy_raw("{\"shape\": (0, 4), \"fortran_order\": False, \"descr\": \"<f4\"}", NULL, 0, &len);
    cr_assert_eq(npy_decode(f, len, &t, msg, sizeof msg), API_OK, "%s", msg);
    cr_expect_eq(t.count, 0);
    cr_expect_eq(t.shape[1], 4);
    tensor_release(&t);
    mem_free_aligned(f);
}

static void expect_refused(const char *dict, size_t bytes, api_code code, const char *words)
{
    static const unsigned char zeros[64];
    size_t len;
    tensor t;
    char msg[200] = "";
    unsigned char *f = npy_raw(dict, zeros, bytes, &len);
    cr_expect_eq(npy_decode(f, len, &t, msg, sizeof msg), code, "%s: %s", dict, msg);
    cr_expect(strstr(msg, words) != NULL, "'%s' in '%s'", words, msg);
    cr_expect_null(t.data);
    mem_free_aligned(f);
}

Test(npy, foreign_layouts_and_dtypes_should_be_refused_saying_what_to_save)
{
    expect_refused("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", 16,
                   API_ERR_INVALID_TYPE, "big-endian");
    expect_refused("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", 32,
                   API_ERR_INVALID_TYPE, "Fortran-order");
    expect_refused("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16,
                   API_ERR_INVALID_TYPE, "object arrays");
    expect_refused("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", 4,
                   API_ERR_INVALID_TYPE, "dtype '<f2' is not supported");
    expect_refused("{'descr': '<u4', 'fortran_order': False, 'shape': (2,), }", 8,
                   API_ERR_INVALID_TYPE, "float32, float64, int32 or int64");
}

Test(npy, malformed_or_truncated_files_should_be_invalid_binary)
{
    expect_refused("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 16,
                   API_ERR_INVALID_BINARY, "truncated .npy file");
    expect_refused("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", 16,
                   API_ERR_INVALID_BINARY, "trailing bytes");
    expect_refused("{'descr': '<f8', 'shape': (2,), }", 16, API_ERR_INVALID_BINARY, "malformed");
    expect_refused("{'descr': '<f8', 'fortran_order': False, 'shape': (2), }", 16,
                   API_ERR_INVALID_BINARY, "malformed");
    expect_refused("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", 16,
                   API_ERR_INVALID_BINARY, "malformed");
    expect_refused("{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1)}", 8,
                   API_ERR_INVALID_BINARY, "at most 8 dimensions");
    expect_refused("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", 8,
                   API_ERR_INVALID_BINARY, "too large");
    expect_refused("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1,)}", 8,
                   API_ERR_INVALID_BINARY, "malformed");

    char msg[200];
    tensor t;
    cr_expect_eq(npy_decode("PK\x03\x04 not npy", 14, &t, msg, sizeof msg), API_ERR_INVALID_BINARY);
    cr_expect(strstr(msg, "not a .npy file") != NULL, "%s", msg);
    cr_expect_eq(npy_decode("\x93NUMPY\x01\x00\xff\x00{", 11, &t, msg, sizeof msg),
                 API_ERR_INVALID_BINARY);
    cr_expect(strstr(msg, "truncated .npy header") != NULL, "%s", msg);
    cr_expect_eq(npy_decode("\x93NUMPY\x09\x00", 8, &t, msg, sizeof msg), API_ERR_INVALID_BINARY);
}

Test(npy, header_should_round_trip_through_the_decoder)
{
    const size_t shapes[][3] = {{5, 0, 0}, {2, 3, 0}, {2, 1, 4}};
    const size_t ranks[] = {1, 2, 3};
    for (size_t c = 0; c < 3; c++) {
        char head[320], msg[200];
        size_t n = npy_header(TENSOR_F32, ranks[c], shapes[c], head, sizeof head), count = 1;
        for (size_t d = 0; d < ranks[c]; d++)
            count *= shapes[c][d];
        unsigned char *f = mem_alloc_aligned(n + 4 * count);
        memcpy(f, head, n);
        memset(f + n, 0, 4 * count);
        tensor t;
        cr_assert_eq(npy_decode(f, n + 4 * count, &t, msg, sizeof msg), API_OK, "%s", msg);
        cr_expect_eq(t.rank, ranks[c]);
        cr_expect_eq(t.count, count);
        cr_expect_eq(head[n - 1], '\n');
        tensor_release(&t);
        mem_free_aligned(f);
    }
    cr_expect_eq(npy_header(TENSOR_F64, 1, shapes[0], (char[32]){0}, 32), 0, "too small a buffer");
}

static api_code csv(const char *text, char sep, tensor *t, char *msg)
{
    return csv_decode(text, strlen(text), sep, t, msg, 200);
}

Test(csv, one_column_should_be_1d_and_several_2d)
{
    tensor t;
    char msg[200];
    cr_assert_eq(csv("0.5\n1.5\r\n3\n\n", ',', &t, msg), API_OK, "%s", msg);
    cr_expect_eq(t.rank, 1);
    cr_expect_eq(t.shape[0], 3);
    cr_expect_eq(tensor_get(&t, 2), 3.0);
    tensor_release(&t);
    cr_assert_eq(csv("1, 2,3\n4,5,6e-1", ',', &t, msg), API_OK, "%s", msg);
    cr_expect_eq(t.rank, 2);
    cr_expect_eq(t.shape[0], 2);
    cr_expect_eq(t.shape[1], 3);
    cr_expect_eq(tensor_get(&t, 5), 0.6);
    tensor_release(&t);
    cr_assert_eq(csv("a\tb\n1\t2\n", '\t', &t, msg), API_OK, "%s", msg);
    cr_expect_eq(t.shape[0], 1, "the header line is skipped");
    cr_expect_eq(t.shape[1], 2);
    tensor_release(&t);
    cr_assert_eq(csv("", ',', &t, msg), API_OK, "%s", msg);
    cr_expect_eq(t.count, 0);
    tensor_release(&t);
}

static void csv_refused(const char *text, api_code code, const char *words)
{
    tensor t;
    char msg[200] = "";
    cr_expect_eq(csv(text, ',', &t, msg), code, "%s: %s", text, msg);
    cr_expect(strstr(msg, words) != NULL, "'%s' in '%s'", words, msg);
    cr_expect_null(t.data);
}

Test(csv, bad_tables_should_be_refused_with_line_and_column)
{
    csv_refused("1,2\n3\n", API_ERR_RAGGED_ARRAY, "line 2 has 1 fields");
    csv_refused("1\n\n2\n", API_ERR_RAGGED_ARRAY, "line 2 is empty");
    csv_refused("1\nNaN\n", API_ERR_NON_FINITE, "line 2, column 1");
    csv_refused("1,-inf\n", API_ERR_NON_FINITE, "\"-inf\"");
    csv_refused("1,1e400\n", API_ERR_NON_FINITE, "column 2");
    csv_refused("1,abc\n", API_ERR_INVALID_TYPE, "\"abc\" is not a number");
    csv_refused("1,0x10\n", API_ERR_INVALID_TYPE, "not a number");
    csv_refused("1,,2\n", API_ERR_INVALID_TYPE, "column 2 is empty");
    csv_refused("1\n1e\n", API_ERR_INVALID_TYPE, "not a number");
}

Test(csv, text_without_a_terminator_should_not_be_read_past)
{
    /* The field ends the buffer exactly: ASan catches any read past it. */
    char *text = malloc(3);
    memcpy(text, "1,2", 3);
    tensor t;
    char msg[200];
    cr_expect_eq(csv_decode(text, 3, ',', &t, msg, sizeof msg), API_OK, "%s", msg);
    cr_expect_eq(t.count, 2);
    tensor_release(&t);
    free(text);
}
