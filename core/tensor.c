/* tensor: shapes, element access and owned buffers. */
#include "tensor.h"

#include <stdio.h>
#include <string.h>

#include "mem.h"

size_t tensor_type_size(tensor_type type)
{
    switch (type) {
    case TENSOR_F64:
    case TENSOR_I64:
        return 8;
    case TENSOR_F32:
    case TENSOR_I32:
        return 4;
    }
    return 8;
}

int tensor_shape_count(const size_t *shape, size_t rank, size_t *count)
{
    size_t n = 1;
    for (size_t i = 0; i < rank; i++)
        if (__builtin_mul_overflow(n, shape[i], &n))
            return -1;
    *count = n;
    return 0;
}

static int alloc_impl(tensor *t, tensor_type type, size_t rank, const size_t *shape, int zero)
{
    size_t count, bytes;
    memset(t, 0, sizeof *t);
    if (rank > TENSOR_MAX_RANK || tensor_shape_count(shape, rank, &count) != 0)
        return -1;
    if (__builtin_mul_overflow(count, tensor_type_size(type), &bytes))
        return -1;
    void *data = mem_alloc_aligned(bytes);
    if (data == NULL)
        return -1;
    if (zero)
        memset(data, 0, bytes);
    t->type = type;
    t->rank = rank;
    memcpy(t->shape, shape, rank * sizeof *shape);
    t->count = count;
    t->data = data;
    t->owned = 1;
    return 0;
}

int tensor_alloc(tensor *t, tensor_type type, size_t rank, const size_t *shape)
{
    return alloc_impl(t, type, rank, shape, 1);
}

int tensor_alloc_uninit(tensor *t, tensor_type type, size_t rank, const size_t *shape)
{
    return alloc_impl(t, type, rank, shape, 0);
}

void tensor_release(tensor *t)
{
    if (t == NULL)
        return;
    if (t->owned)
        mem_free_aligned(t->data);
    memset(t, 0, sizeof *t);
    t->count = 1;
}

double tensor_get(const tensor *t, size_t i)
{
    switch (t->type) {
    case TENSOR_F64:
        return ((const double *)t->data)[i];
    case TENSOR_F32:
        return (double)((const float *)t->data)[i];
    case TENSOR_I64:
        return (double)((const int64_t *)t->data)[i];
    case TENSOR_I32:
        return ((const int32_t *)t->data)[i];
    }
    return 0.0;
}

void tensor_shape_str(const tensor *t, char *buf, size_t len)
{
    size_t used = 0;
    int n = snprintf(buf, len, "(");
    used = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < t->rank && used < len; i++) {
        n = snprintf(buf + used, len - used, i ? ", %zu" : "%zu", t->shape[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used < len)
        snprintf(buf + used, len - used, ")");
}
