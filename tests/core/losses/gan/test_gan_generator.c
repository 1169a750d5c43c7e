/* gan_generator: values and gradients against numbers printed by PyTorch in float64 (each constant
 * names the torch call), and edge cases. */
#include "../lcase.h"

Test(gan_generator, non_saturating_probability_form_should_be_bce_with_one)
{
    /* F.binary_cross_entropy(f, ones(4)) */
    double f[] = {1e-4, .5, .9999, 0.0};
    const double g[] = {-2500, -0.5, -0.25002500250025, -250000000998.95071};
    lcase c;
    lc_init(&c, "gan_generator", LOSS_REDUCE_MEAN);
    lc_input(&c, "fake", f, 4);
    lc_run(&c);
    expect_value(&c, 27.475896889384117, TOL64);
    expect_grad(&c, "fake", g, 4, TOL64);
    lc_done(&c);
}

Test(gan_generator, saturating_probability_form_should_be_minus_bce_with_zero)
{
    /* -F.binary_cross_entropy(f, zeros(4)) */
    double f[] = {1e-4, .5, .9999, 1.0};
    const double g[] = {-0.25002500250025, -0.5, -2500.0000000002751, -250000000998.95071};
    lcase c;
    lc_init(&c, "gan_generator", LOSS_REDUCE_MEAN);
    lc_input(&c, "fake", f, 4);
    lc_param(&c, "saturating", 1);
    lc_run(&c);
    expect_value(&c, -27.475896889384142, TOL64);
    expect_grad(&c, "fake", g, 4, TOL64);
    lc_done(&c);
}

Test(gan_generator, logit_forms_should_be_exact_at_plus_minus_1000)
{
    /* F.binary_cross_entropy_with_logits(f, ones(4), reduction='none'), grad of .sum();
     * saturating: -F.softplus(f).mean() */
    double f[] = {-1000.0, 0.0, 1000.0, 2.0};
    const double l[] = {1000, 0.69314718055994529, 0, 0.1269280110429726};
    const double g[] = {-1, -0.5, 0, -0.11920292202211769};
    const double gs[] = {0, -0.125, -0.25, -0.22019926949447061};
    lcase c;
    lc_init(&c, "gan_generator", LOSS_REDUCE_NONE);
    lc_input(&c, "fake", f, 4);
    lc_param(&c, "from_logits", 1);
    lc_run(&c);
    expect_tensor("terms[0]", &c.res.terms[0], l, 4, TOL64);
    expect_grad(&c, "fake", g, 4, TOL64);
    lc_done(&c);
    c.call.reduction = LOSS_REDUCE_MEAN;
    lc_param(&c, "saturating", 1);
    lc_run(&c);
    expect_value(&c, -250.70501879790072, TOL64);
    expect_grad(&c, "fake", gs, 4, TOL64);
    lc_done(&c);
}
