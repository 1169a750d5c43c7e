/* logistic: softplus and sigmoid of x and of -x from one exp and one log1p, each exact to
 * a few ulps for every finite x (no cancellation, no overflow). Shared by the logit-based
 * losses of this group. */
#ifndef LOSSD_LOSSES_LOGISTIC_H
#define LOSSD_LOSSES_LOGISTIC_H

#include <math.h>

typedef struct {
    double sp_pos;  /* softplus(x) = log(1 + e^x) */
    double sp_neg;  /* softplus(-x) */
    double sig_pos; /* sigmoid(x) */
    double sig_neg; /* sigmoid(-x) = 1 - sigmoid(x) */
} logistic_parts;

static inline logistic_parts logistic_of(double x)
{
    double e = exp(-fabs(x)), t = log1p(e), big = 1.0 / (1.0 + e), small = e / (1.0 + e);
    logistic_parts r;
    r.sp_pos = fmax(x, 0.0) + t;
    r.sp_neg = fmax(-x, 0.0) + t;
    r.sig_pos = x >= 0 ? big : small;
    r.sig_neg = x >= 0 ? small : big;
    return r;
}

#endif
