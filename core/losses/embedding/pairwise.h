/* pairwise: F.pairwise_distance between rows, d = ||u - v + eps||_p (eps is added to every
 * component of the difference, so d(x, x) = eps * D^(1/p) > 0), and its gradient, shared by
 * contrastive and triplet_margin. Rows are contiguous: every loop runs over the D components
 * of one row. The gradient of the norm follows torch's norm backward: 0 for a zero
 * distance, and 0 for a zero component (sign(0) = 0). Internal to core/losses/. */
#ifndef LOSSD_PAIRWISE_H
#define LOSSD_PAIRWISE_H

#include "loss_kernel.h"

typedef enum { PD_L1, PD_L2, PD_LP } pd_norm;

typedef struct {
    pd_norm norm;
    double p, eps;
} pd_spec;

static inline pd_spec pd_spec_make(double p, double eps)
{
    pd_spec s = {p == 1.0 ? PD_L1 : p == 2.0 ? PD_L2 : PD_LP, p, eps};
    return s;
}

/* Rows of a (N, D) or (D) tensor: N (1 for a vector) and D. */
static inline size_t pd_rows(const tensor *t)
{
    return t->rank == 1 ? 1 : t->shape[0];
}
static inline size_t pd_dim(const tensor *t)
{
    return t->shape[t->rank - 1];
}

/* |v|^p, the term of the norm's sum. */
static inline __attribute__((always_inline)) double pd_term(const pd_spec *s, double v)
{
    if (s->norm == PD_L2)
        return v * v;
    if (s->norm == PD_L1)
        return fabs(v);
    return pow(fabs(v), s->p);
}

/* d = ||u[off..off+D) - v[off..off+D) + eps||_p. */
static inline __attribute__((always_inline)) double
pd_distance(const pd_spec *s, const void *u, const void *v, loss_dtype dt, size_t off, size_t dim)
{
    double sum = 0.0;
    for (size_t k = off; k < off + dim; k++)
        sum += pd_term(s, loss_load(u, dt, k) - loss_load(v, dt, k) + s->eps);
    if (s->norm == PD_L2)
        return sqrt(sum);
    if (s->norm == PD_L1)
        return sum;
    return pow(sum, 1.0 / s->p);
}

/* The per-row factor of d d / d u: 1/d for p=2, 1/d^(p-1) in general; 0 when d = 0. */
static inline double pd_factor(const pd_spec *s, double d)
{
    if (!(d > 0.0))
        return 0.0;
    if (s->norm == PD_L2)
        return 1.0 / d;
    if (s->norm == PD_L1)
        return 1.0;
    return 1.0 / pow(d, s->p - 1.0);
}

/* d d / d u_k for the difference component w = u_k - v_k + eps and the row's factor. */
static inline __attribute__((always_inline)) double pd_grad(const pd_spec *s, double w,
                                                            double factor)
{
    if (s->norm == PD_L2)
        return w * factor;
    double sign = w > 0.0 ? 1.0 : w < 0.0 ? -1.0 : 0.0;
    if (s->norm == PD_L1)
        return sign * factor;
    return w == 0.0 ? 0.0 : sign * pow(fabs(w), s->p - 1.0) * factor;
}

/* Index of the first non-finite of D values at off in each of the n tensors, or (size_t)-1;
 * *which receives the tensor's position in `data`. */
static inline size_t pd_first_non_finite(const void *const *data, size_t n, loss_dtype dt,
                                         size_t off, size_t dim, size_t *which)
{
    for (size_t t = 0; t < n; t++)
        for (size_t k = off; k < off + dim; k++)
            if (!isfinite(loss_load(data[t], dt, k))) {
                *which = t;
                return k;
            }
    return (size_t)-1;
}

#endif
