/* gan_cases: the real and fake discriminator outputs the wgan and lsgan losses are checked on,
 * and the checks of a scalar and of per-term results. Header-only test support. */
#ifndef LOSSD_TESTS_GAN_CASES_H
#define LOSSD_TESTS_GAN_CASES_H

#include "../tcase.h"

static const double gan_real[] = {1.0, 0.0, 3.0, 2.0}; /* shape (2, 2) */
static const double gan_fake[] = {0.5, -1.0, 0.25};

static inline void expect_scalar(const tcase *tc, loss_reduction red, double want)
{
    loss_result r;
    compute(tc, LOSS_DTYPE_F64, red, &r);
    cr_expect(near(r.value, want, 1e-15, 0), "%s %s = %.17g, expected %.17g", tc->loss,
              loss_reduction_name(red), r.value, want);
    loss_result_release(&r);
}

/* Checks both terms of reduction none and the gradients of mean for a two-term GAN loss. */
static inline void expect_terms(const tcase *tc, const double *real_l, const double *fake_l,
                                const double *real_g, const double *fake_g)
{
    loss_result r;
    compute(tc, LOSS_DTYPE_F64, LOSS_REDUCE_NONE, &r);
    cr_assert_eq(r.n_terms, 2);
    cr_expect_eq(r.terms[0].rank, 2, "the real term keeps real's shape");
    expect_tensor("real term", &r.terms[0], real_l, 4, 1.0, 1e-15, 0);
    expect_tensor("fake term", &r.terms[1], fake_l, 3, 1.0, 1e-15, 0);
    expect_tensor("real gradient", &r.grad[0], real_g, 4, 1.0, 1e-15, 0);
    expect_tensor("fake gradient", &r.grad[1], fake_g, 3, 1.0, 1e-15, 0);
    loss_result_release(&r);
    compute(tc, LOSS_DTYPE_F64, LOSS_REDUCE_MEAN, &r);
    cr_expect_eq(r.denominator, 7.0, "each term's denominator, summed");
    expect_tensor("real gradient (mean)", &r.grad[0], real_g, 4, 0.25, 1e-15, 0);
    expect_tensor("fake gradient (mean)", &r.grad[1], fake_g, 3, 1.0 / 3.0, 1e-15, 0);
    loss_result_release(&r);
}

#endif
