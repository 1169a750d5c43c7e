/* wgan_critic: values and gradients against PyTorch (or the Keras / written formula), with the call
 * that produced each number; edge cases, domain and shape errors. */
#include "gan_cases.h"

Test(wgan_critic, should_be_mean_fake_minus_mean_real_with_per_term_none)
{
    static const double rl[] = {-1, 0, -3, -2}, fl[] = {0.5, -1, 0.25};
    static const double rg[] = {-1, -1, -1, -1}, fg[] = {1, 1, 1};
    tcase tc = {.loss = "wgan_critic",
                .in = {{"real", 2, {2, 2}, gan_real}, {"fake", 1, {3}, gan_fake}}};
    expect_scalar(&tc, LOSS_REDUCE_MEAN, -0.25 / 3.0 - 1.5);
    expect_scalar(&tc, LOSS_REDUCE_SUM, -0.25 - 6.0);
    expect_terms(&tc, rl, fl, rg, fg);
}

Test(wgan_critic, an_empty_term_should_make_the_mean_nan_with_zero_gradient)
{
    loss_call c;
    loss_result r;
    loss_error e;
    tcase tc = {.loss = "wgan_critic",
                .in = {{"real", 1, {0}, gan_real}, {"fake", 1, {3}, gan_fake}}};
    build(&c, &tc, LOSS_DTYPE_F64, LOSS_REDUCE_MEAN, 1);
    cr_assert_eq(loss_compute(&c, NULL, &r, &e), LOSS_OK, "%s", e.message);
    cr_expect(isnan(r.value));
    loss_result_release(&r);
    c.empty_mean_zero = 1;
    cr_assert_eq(loss_compute(&c, NULL, &r, &e), LOSS_OK, "%s", e.message);
    cr_expect(near(r.value, -0.25 / 3.0, 1e-15, 0), "only the fake term: %.17g", r.value);
    loss_result_release(&r);
}
