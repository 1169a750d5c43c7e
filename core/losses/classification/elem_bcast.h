/* elem_bcast: walks a tensor broadcast (NumPy rules) to an output shape, for weight-like
 * inputs. The source never enlarges the output: every source dimension, aligned to the
 * right, equals the output's or is 1. Positions advance in O(1) amortised per element. */
#ifndef LOSSD_LOSSES_ELEM_BCAST_H
#define LOSSD_LOSSES_ELEM_BCAST_H

#include <stddef.h>

#include "tensor.h"

typedef struct {
    size_t rank;                    /* the output's */
    size_t shape[TENSOR_MAX_RANK];  /* the output's */
    size_t stride[TENSOR_MAX_RANK]; /* source elements per output step; 0 where broadcast */
} elem_bcast;

typedef struct {
    size_t idx[TENSOR_MAX_RANK];
    size_t off; /* flat index in the source */
} elem_bcast_pos;

/* Fills m for src broadcast to out's shape. Returns 0, or -1 if it does not broadcast. */
static inline int elem_bcast_init(elem_bcast *m, const tensor *src, const tensor *out)
{
    if (src->rank > out->rank)
        return -1;
    m->rank = out->rank;
    size_t stride = 1, lead = out->rank - src->rank;
    for (size_t d = out->rank; d-- > 0;) {
        size_t s = d >= lead ? src->shape[d - lead] : 1;
        m->shape[d] = out->shape[d];
        if (s != out->shape[d] && s != 1)
            return -1;
        m->stride[d] = s == 1 ? 0 : stride;
        stride *= s;
    }
    return 0;
}

/* Positions pos at output element `flat`. */
static inline void elem_bcast_seek(const elem_bcast *m, elem_bcast_pos *pos, size_t flat)
{
    pos->off = 0;
    for (size_t d = m->rank; d-- > 0;) {
        pos->idx[d] = m->shape[d] ? flat % m->shape[d] : 0;
        flat = m->shape[d] ? flat / m->shape[d] : 0;
        pos->off += pos->idx[d] * m->stride[d];
    }
}

/* Moves pos to the next output element (meaningless after the last one). */
static inline void elem_bcast_next(const elem_bcast *m, elem_bcast_pos *pos)
{
    size_t d = m->rank;
    while (d-- > 0) {
        pos->off += m->stride[d];
        if (++pos->idx[d] < m->shape[d] || d == 0)
            return;
        pos->off -= m->stride[d] * m->shape[d];
        pos->idx[d] = 0;
    }
}

#endif
