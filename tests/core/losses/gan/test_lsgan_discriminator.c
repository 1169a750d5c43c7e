/* lsgan_discriminator: values and gradients against PyTorch (or the Keras / written formula), with
 * the call that produced each number; edge cases, domain and shape errors. */
#include "gan_cases.h"

Test(lsgan_discriminator, should_average_each_term_over_its_own_tensor)
{
    /* 0.5*mean((real-1)^2) + 0.5*mean(fake^2) */
    static const double rl[] = {0, 0.5, 2, 0.5}, fl[] = {0.125, 0.5, 0.03125};
    static const double rg[] = {0, -1, 2, 1}, fg[] = {0.5, -1, 0.25};
    tcase tc = {.loss = "lsgan_discriminator",
                .in = {{"real", 2, {2, 2}, gan_real}, {"fake", 1, {3}, gan_fake}}};
    expect_scalar(&tc, LOSS_REDUCE_MEAN, 3.0 / 4.0 + 0.65625 / 3.0);
    expect_scalar(&tc, LOSS_REDUCE_SUM, 3.0 + 0.65625);
    expect_terms(&tc, rl, fl, rg, fg);
}

Test(lsgan_discriminator, non_finite_inputs_should_name_their_tensor)
{
    const double fake[] = {0.5, NAN, 0.25};
    tcase tc = {.loss = "lsgan_discriminator",
                .in = {{"real", 2, {2, 2}, gan_real}, {"fake", 1, {3}, fake}}};
    expect_error(&tc, LOSS_ERR_NON_FINITE, "fake");
    tc.in[0].data = fake; /* real's index 1 is NaN too: the real term comes first */
    tc.in[0].shape[0] = 1;
    tc.in[0].shape[1] = 3;
    expect_error(&tc, LOSS_ERR_NON_FINITE, "real");
}

/* Each term is its own mean: with `real` empty only the real term is a mean over nothing, and
 * fake keeps its gradient fake / N_fake (PyTorch's autograd of 0.5 * mean(fake^2)). */
Test(lsgan_discriminator, an_empty_term_should_make_only_its_own_mean_nan)
{
    static const double fake[] = {0.2, 0.4}, gf[] = {0.1, 0.2};
    loss_call c;
    loss_result r;
    loss_error e;
    tcase tc = {.loss = "lsgan_discriminator",
                .in = {{"real", 1, {0}, gan_real}, {"fake", 1, {2}, fake}}};
    build(&c, &tc, LOSS_DTYPE_F64, LOSS_REDUCE_MEAN, 1);
    cr_assert_eq(loss_compute(&c, NULL, &r, &e), LOSS_OK, "%s", e.message);
    cr_expect(isnan(r.value));
    expect_tensor("fake gradient", &r.grad[1], gf, 2, 1.0, 1e-15, 0);
    loss_result_release(&r);
    c.empty_mean_zero = 1;
    cr_assert_eq(loss_compute(&c, NULL, &r, &e), LOSS_OK, "%s", e.message);
    cr_expect(near(r.value, 0.5 * (0.04 + 0.16) / 2.0, 1e-15, 0), "only the fake term: %.17g",
              r.value);
    expect_tensor("fake gradient", &r.grad[1], gf, 2, 1.0, 1e-15, 0);
    loss_result_release(&r);
}
