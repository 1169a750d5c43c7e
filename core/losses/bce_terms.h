/* bce_terms: PyTorch's binary cross-entropy on one probability, shared by bce, focal and the
 * GAN losses so that all of them inherit the same clamps: each log is clamped at -100 and the
 * gradient's denominator p(1-p) at 1e-12 (aten's EPSILON), exactly as F.binary_cross_entropy
 * computes its value and backward. Internal to core/losses/. */
#ifndef LOSSD_BCE_TERMS_H
#define LOSSD_BCE_TERMS_H

#include <math.h>

/* -(y log p + (1-y) log(1-p)) with both logs clamped at -100 (so p = 0 or 1 stays finite). */
static inline double bce_term_value(double p, double y)
{
    double log_p = fmax(log(p), -100.0), log_q = fmax(log1p(-p), -100.0);
    return (y - 1.0) * log_q - y * log_p;
}

/* aten's EPSILON is a float constant, so in double the floor is 9.99999996e-13, not 1e-12. */
#define BCE_GRAD_FLOOR ((double)1e-12f)

/* d/dp of bce_term_value as PyTorch's backward computes it: the clamp is not differentiated,
 * the denominator is floored instead (p = 0, y = 1 gives about -1e12, not -inf). */
static inline double bce_term_grad(double p, double y)
{
    return (p - y) / fmax((1.0 - p) * p, BCE_GRAD_FLOOR);
}

/* Whether p is a probability; NaN is not. */
static inline int bce_is_probability(double p)
{
    return p >= 0.0 && p <= 1.0;
}

#endif
