/* v2_binary: datatype table and binary-tail framing for /v2.
 * Invariant: no byte of the tail is read, and nothing is allocated, before the size that
 * covers it has been checked against what the body still holds; so a request can never make
 * lossd read past its body or allocate more than the body's own size. */
#include "v2_binary.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

/* The tail is read as the host's own float/int layout. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the binary extension is little-endian");

static const struct {
    const char *name;
    size_t size; /* bytes per element; 0 where lossd carries no such tensors */
} datatypes[V2_DATATYPE_COUNT] = {
    [V2_FP32] = {"FP32", 4},     [V2_FP64] = {"FP64", 8},     [V2_INT32] = {"INT32", 4},
    [V2_INT64] = {"INT64", 8},   [V2_BOOL] = {"BOOL", 0},     [V2_UINT8] = {"UINT8", 0},
    [V2_UINT16] = {"UINT16", 0}, [V2_UINT32] = {"UINT32", 0}, [V2_UINT64] = {"UINT64", 0},
    [V2_INT8] = {"INT8", 0},     [V2_INT16] = {"INT16", 0},   [V2_FP16] = {"FP16", 0},
    [V2_BF16] = {"BF16", 0},     [V2_BYTES] = {"BYTES", 0},
};

int v2_binary_datatype_parse(const char *name, size_t len, v2_datatype *out)
{
    for (size_t i = 0; i < V2_DATATYPE_COUNT; i++) {
        if (strlen(datatypes[i].name) == len && memcmp(datatypes[i].name, name, len) == 0) {
            *out = (v2_datatype)i;
            return 0;
        }
    }
    return -1;
}

const char *v2_binary_datatype_name(v2_datatype dt)
{
    return dt < V2_DATATYPE_COUNT ? datatypes[dt].name : "?";
}

int v2_binary_datatype_supported(v2_datatype dt)
{
    return dt < V2_DATATYPE_COUNT && datatypes[dt].size != 0;
}

size_t v2_binary_datatype_size(v2_datatype dt)
{
    return dt < V2_DATATYPE_COUNT ? datatypes[dt].size : 0;
}

tensor_type v2_binary_tensor_type(v2_datatype dt)
{
    switch (dt) {
    case V2_FP32:
        return TENSOR_F32;
    case V2_INT32:
        return TENSOR_I32;
    case V2_INT64:
        return TENSOR_I64;
    case V2_FP64:
        return TENSOR_F64;
    case V2_BOOL: /* not supported (refused before any tensor is made): no core type */
    case V2_UINT8:
    case V2_UINT16:
    case V2_UINT32:
    case V2_UINT64:
    case V2_INT8:
    case V2_INT16:
    case V2_FP16:
    case V2_BF16:
    case V2_BYTES:
    case V2_DATATYPE_COUNT:
        break;
    }
    return TENSOR_F64;
}

v2_datatype v2_binary_datatype_of(tensor_type type)
{
    switch (type) {
    case TENSOR_F32:
        return V2_FP32;
    case TENSOR_I32:
        return V2_INT32;
    case TENSOR_I64:
        return V2_INT64;
    case TENSOR_F64:
        break;
    }
    return V2_FP64;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

api_code v2_binary_header_len(const char *value, size_t body_len, size_t *json_len, api_err *err)
{
    static const char field[] = "Inference-Header-Content-Length";
    if (value == NULL) {
        *json_len = body_len;
        return API_OK;
    }
    const char *p = value;
    while (is_blank(*p))
        p++;
    uint64_t n = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        if (__builtin_mul_overflow(n, 10u, &n) ||
            __builtin_add_overflow(n, (uint64_t)(*p - '0'), &n))
            return api_err_set(err, API_ERR_INVALID_BINARY, field, "%s is too large", field);
    while (is_blank(*p))
        p++;
    if (digits == 0 || *p != '\0')
        return api_err_set(err, API_ERR_INVALID_BINARY, field,
                           "%s must be a non-negative decimal byte count", field);
    if (n > body_len)
        return api_err_set(err, API_ERR_INVALID_BINARY, field,
                           "%s is %llu but the body has only %zu bytes", field,
                           (unsigned long long)n, body_len);
    if (n == 0)
        return api_err_set(err, API_ERR_INVALID_BINARY, field,
                           "%s is 0 (a raw binary request); a loss needs a JSON header naming "
                           "its inputs",
                           field);
    *json_len = (size_t)n;
    return API_OK;
}

void v2_binary_tail_init(v2_tail *tail, const char *body, size_t body_len, size_t json_len)
{
    tail->at = (const unsigned char *)body + json_len;
    tail->left = body_len - json_len;
}

api_code v2_binary_tail_take(v2_tail *tail, const char *name, v2_datatype dt, size_t count,
                             uint64_t size, const unsigned char **bytes, api_err *err)
{
    size_t want;
    if (__builtin_mul_overflow(count, v2_binary_datatype_size(dt), &want))
        return api_err_set(err, API_ERR_INVALID_BINARY, name,
                           "%s: shape times datatype size overflows", name);
    if (size != (uint64_t)want)
        return api_err_set(err, API_ERR_INVALID_BINARY, name,
                           "%s: binary_data_size is %llu but %zu elements of %s take %zu bytes",
                           name, (unsigned long long)size, count, v2_binary_datatype_name(dt),
                           want);
    if (want > tail->left)
        return api_err_set(err, API_ERR_INVALID_BINARY, name,
                           "%s: needs %zu bytes of binary data but only %zu remain in the body",
                           name, want, tail->left);
    *bytes = tail->at;
    tail->at += want;
    tail->left -= want;
    return API_OK;
}

api_code v2_binary_tail_finish(const v2_tail *tail, api_err *err)
{
    if (tail->left == 0)
        return API_OK;
    return api_err_set(err, API_ERR_INVALID_BINARY, "binary_data_size",
                       "%zu bytes after the JSON header belong to no input (the binary_data_size "
                       "values must add up to the body length minus the header length)",
                       tail->left);
}

/* Index of the first non-finite element, or count if all are finite. */
static size_t first_non_finite(v2_datatype dt, const void *data, size_t count)
{
    if (dt == V2_FP32) {
        const float *f = data;
        for (size_t i = 0; i < count; i++)
            if (!isfinite(f[i]))
                return i;
    } else if (dt == V2_FP64) {
        const double *d = data;
        for (size_t i = 0; i < count; i++)
            if (!isfinite(d[i]))
                return i;
    }
    return count;
}

api_code v2_binary_tensor(const char *name, v2_datatype dt, const size_t *shape, size_t rank,
                          size_t count, const unsigned char *bytes, tensor *out, api_err *err)
{
    size_t esize = v2_binary_datatype_size(dt);
    memset(out, 0, sizeof *out);
    out->type = v2_binary_tensor_type(dt);
    out->rank = rank;
    memcpy(out->shape, shape, rank * sizeof *shape);
    out->count = count;
    if (count == 0)
        return API_OK;
    if (((uintptr_t)bytes % esize) == 0) {
        out->data = (void *)(uintptr_t)bytes; /* borrowed: the tensor is only ever read */
    } else {
        /* count * esize was checked against the body by v2_binary_tail_take. */
        if ((out->data = mem_alloc_aligned(count * esize)) == NULL)
            return api_err_set(err, API_ERR_NOMEM, name, "out of memory copying %s", name);
        memcpy(out->data, bytes, count * esize);
        out->owned = 1;
    }
    size_t bad = first_non_finite(dt, out->data, count);
    if (bad < count) {
        double v = dt == V2_FP32 ? (double)((const float *)out->data)[bad]
                                 : ((const double *)out->data)[bad];
        tensor_release(out);
        return api_err_set(err, API_ERR_NON_FINITE, name, "%s[%zu] = %s is not finite", name, bad,
                           isnan(v) ? "NaN"
                           : v > 0  ? "Infinity"
                                    : "-Infinity");
    }
    return API_OK;
}
