/* class_cases: class weights, a K-dimensional input and a large random problem shared by the
 * cross_entropy and nll suites (both run core/losses/classification/class_layout.c).
 * Header-only test support. */
#ifndef LOSSD_TESTS_CLASS_CASES_H
#define LOSSD_TESTS_CLASS_CASES_H

#include "../shaped_call.h"

/* Class weights for (3, 4) inputs. */
static double ce_w[] = {0.5, 2.0, 1.5, 1.0};

/* XK: a (2, 3, 2, 2) input and WK its class weights. */
static double ce_xk[] = {0.1, -0.3, 1.2,  0.7, -1.1, 0.4,  0.0, 2.2, 0.9,  -0.8, 0.3,  -0.5,
                         1.4, 0.2,  -0.6, 0.8, 0.5,  -1.7, 1.0, 0.3, -0.2, 0.6,  -1.3, 0.05};
static double ce_wk[] = {1.0, 0.5, 2.0};

/* A mean cross_entropy over n x classes (x inner) random logits with ignored targets, class
 * weights and label smoothing 0.1 (callers switch the loss to nll where they need it). */
static inline void ce_big(loss_call *c, double *x, int64_t *t, double *w, size_t n, size_t classes,
                          size_t inner)
{
    uint64_t s = 42;
    for (size_t i = 0; i < n * classes * inner; i++)
        x[i] = rnd(&s, -4, 4);
    for (size_t i = 0; i < n * inner; i++)
        t[i] = i % 13 == 5 ? -100 : (int64_t)(rnd(&s, 0, (double)classes));
    for (size_t k = 0; k < classes; k++)
        w[k] = rnd(&s, 0.1, 3);
    start(c, "cross_entropy", LOSS_REDUCE_MEAN);
    if (inner == 1) {
        put_f(c, "predictions", x, 2, SHAPE(n, classes));
        put_i(c, "targets", t, 1, SHAPE(n));
    } else {
        put_f(c, "predictions", x, 3, SHAPE(n, classes, inner));
        put_i(c, "targets", t, 2, SHAPE(n, inner));
    }
    put_f(c, "weight", w, 1, SHAPE(classes));
    set_param(c, "label_smoothing", 0.1);
}

#endif
