/* gan_discriminator: values and gradients against numbers printed by PyTorch in float64 (each
 * constant names the torch call), and edge cases. */
#include "../lcase.h"

Test(gan_discriminator, probability_form_should_be_bce_real_one_plus_bce_fake_zero)
{
    /* F.binary_cross_entropy(r, ones(5)) + F.binary_cross_entropy(f, zeros(3)) */
    double r[] = {1e-4, .5, .9999, 1.0, 0.0}, f[] = {0.3, 0.0, 1.0};
    const double gr[] = {-2000, -0.40000000000000002, -0.20002000200020001, 0, -200000000799.16058};
    const double gf[] = {0.47619047619047622, 0, 333333334665.26764};
    lcase c;
    lc_init(&c, "gan_discriminator", LOSS_REDUCE_MEAN);
    lc_input(&c, "real", r, 5);
    lc_input(&c, "fake", f, 3);
    lc_run(&c);
    expect_value(&c, 55.432942492820203, TOL64);
    expect_grad(&c, "real", gr, 5, TOL64);
    expect_grad(&c, "fake", gf, 3, TOL64);
    cr_assert_float_eq(c.res.denominator, 8.0, 0);
    lc_done(&c);
}

Test(gan_discriminator, logits_at_plus_minus_1000_should_stay_exact_per_term)
{
    /* F.binary_cross_entropy_with_logits(r, ones(4), reduction='none') and
     * F.binary_cross_entropy_with_logits(f, zeros(3), reduction='none'), grad of both sums */
    double r[] = {-1000.0, 0.0, 1000.0, 3.5}, f[] = {1000.0, -1000.0, -2.0};
    const double lr[] = {1000, 0.69314718055994529, 0, 0.029750418272620652};
    const double lf[] = {1000, 0, 0.1269280110429726};
    const double gr[] = {-1, -0.5, 0, -0.029312230751356361};
    const double gf[] = {1, 0, 0.11920292202211755};
    for (size_t k = 0; k < N_OF(DTYPES); k++) {
        lcase c;
        lc_init(&c, "gan_discriminator", LOSS_REDUCE_NONE);
        c.call.dtype = DTYPES[k];
        lc_input(&c, "real", r, 4);
        lc_input(&c, "fake", f, 3);
        lc_param(&c, "from_logits", 1);
        lc_run(&c);
        cr_assert_eq(c.res.n_terms, 2);
        expect_tensor("terms[real]", &c.res.terms[0], lr, 4, tol_of(DTYPES[k]));
        expect_tensor("terms[fake]", &c.res.terms[1], lf, 3, tol_of(DTYPES[k]));
        expect_grad(&c, "real", gr, 4, tol_of(DTYPES[k]));
        expect_grad(&c, "fake", gf, 3, tol_of(DTYPES[k]));
        lc_done(&c);
    }
}

Test(gan_discriminator, mean_should_average_each_term_over_its_own_tensor)
{
    double r[] = {0.5, 0.5}, f[] = {0.5, 0.5, 0.5, 0.5};
    const double gr[] = {-1.0, -1.0}, gf[] = {0.5, 0.5, 0.5, 0.5};
    lcase c;
    lc_init(&c, "gan_discriminator", LOSS_REDUCE_MEAN);
    lc_input(&c, "real", r, 2);
    lc_input(&c, "fake", f, 4);
    lc_run(&c);
    expect_value(&c, 2.0 * log(2.0), TOL64);
    expect_grad(&c, "real", gr, 2, TOL64);
    expect_grad(&c, "fake", gf, 4, TOL64);
    lc_done(&c);
}

Test(gan_discriminator, an_empty_term_should_make_the_mean_nan_with_zero_gradients)
{
    double f[] = {0.25, 0.75};
    const double zero[] = {0.0, 0.0};
    lcase c;
    lc_init(&c, "gan_discriminator", LOSS_REDUCE_MEAN);
    lc_input(&c, "real", NULL, 0);
    lc_input(&c, "fake", f, 2);
    lc_run(&c);
    cr_assert(isnan(c.res.value));
    expect_grad(&c, "fake", zero, 2, 0);
    lc_done(&c);
    c.call.reduction = LOSS_REDUCE_SUM;
    lc_run(&c);
    expect_value(&c, -log(0.75) - log(0.25), TOL64);
    lc_done(&c);
}

Test(gan_discriminator, fake_probability_outside_zero_one_should_name_fake)
{
    double r[] = {0.5}, f[] = {0.5, 1.0000001};
    lcase c;
    lc_init(&c, "gan_discriminator", LOSS_REDUCE_MEAN);
    lc_input(&c, "real", r, 1);
    lc_input(&c, "fake", f, 2);
    loss_error e = lc_fail(&c, LOSS_ERR_DOMAIN);
    cr_assert_str_eq(e.field, "fake");
    cr_assert_not_null(strstr(e.message, "fake[1]"), "%s", e.message);
}
