/* tensor: a typed, shaped view of contiguous row-major data.
 * A tensor never owns its data unless `owned` is set; tensor_release frees only owned data. */
#ifndef LOSSD_TENSOR_H
#define LOSSD_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define TENSOR_MAX_RANK 8

typedef enum { TENSOR_F64 = 0, TENSOR_F32, TENSOR_I64, TENSOR_I32 } tensor_type;

typedef struct {
    tensor_type type;
    size_t rank;
    size_t shape[TENSOR_MAX_RANK];
    size_t count; /* product of shape; 1 for rank 0 */
    void *data;   /* count elements of `type`; may be NULL when count == 0 */
    int owned;    /* data was allocated with mem_alloc_aligned and is freed by tensor_release */
} tensor;

/* Bytes per element of `type`. */
size_t tensor_type_size(tensor_type type);

/* Product of shape[0..rank) into *count. Returns 0 on success, -1 on size_t overflow. */
int tensor_shape_count(const size_t *shape, size_t rank, size_t *count);

/* Sets rank/shape/count and allocates zeroed owned data of `type`.
 * Returns 0, or -1 on overflow or allocation failure (t is then left empty). */
int tensor_alloc(tensor *t, tensor_type type, size_t rank, const size_t *shape);

/* As tensor_alloc, but the data is left uninitialised: for outputs that every element of
 * is written before anyone reads them (saves a pass over memory). */
int tensor_alloc_uninit(tensor *t, tensor_type type, size_t rank, const size_t *shape);

/* Frees owned data and resets t to an empty rank-0 tensor. Accepts NULL. */
void tensor_release(tensor *t);

/* Element i as double, whatever the type. */
double tensor_get(const tensor *t, size_t i);

/* Formats the shape as "(2, 3)" into buf (always NUL-terminated). */
void tensor_shape_str(const tensor *t, char *buf, size_t len);

#endif
