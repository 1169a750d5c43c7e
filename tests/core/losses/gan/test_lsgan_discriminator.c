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
