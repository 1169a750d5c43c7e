/* bce: values and gradients against numbers printed by PyTorch in float64 (each constant
 * names the torch call), and edge cases. */
#include "../lcase.h"

Test(bce, clamped_logs_and_floored_denominator_should_match_torch_at_zero_and_one)
{
    /* F.binary_cross_entropy(p, y, reduction='none'), grad of .sum(), research E5 (float64:
     * aten's float EPSILON makes the floored gradient -1000000003995.8 rather than -1e12) */
    double p[] = {0, 1, 0, 1, .5, 0, 1e-30, 1 - 1e-7}, y[] = {1, 0, 0, 1, 1, .3, 1, 1};
    const double l[] = {
        100, 100, 0, 0, 0.69314718055994529, 30, 69.077552789821368, 1.0000000494736474e-07};
    const double g[] = {-1000000003995.8029, 1000000003995.8029, 0, 0, -2, -300000001198.74084,
                        -1000000003995.8029, -1.0000001000000098};
    lcase c;
    lc_init(&c, "bce", LOSS_REDUCE_NONE);
    lc_input(&c, "predictions", p, 8);
    lc_input(&c, "targets", y, 8);
    lc_run(&c);
    expect_tensor("terms[0]", &c.res.terms[0], l, 8, TOL64);
    expect_grad(&c, "predictions", g, 8, TOL64);
    lc_done(&c);
}

Test(bce, a_tiny_probability_should_clamp_at_one_hundred)
{
    /* F.binary_cross_entropy(tensor([1e-50]), tensor([1.0])), research E5b */
    double p[] = {1e-50}, y[] = {1.0};
    const double g[] = {-1000000003995.8029};
    lcase c;
    lc_init(&c, "bce", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 1);
    lc_input(&c, "targets", y, 1);
    lc_run(&c);
    expect_value(&c, 100.0, TOL64);
    expect_grad(&c, "predictions", g, 1, TOL64);
    lc_done(&c);
}

static double bce_p[] = {0.2, 0.7, 0.9, 0.5, 0.01, 0.6};
static double bce_y[] = {0.0, 1.0, 1.0, 0.3, 0.0, 1.0};
static const size_t bce_shape[] = {2, 3};

Test(bce, weight_over_the_last_dimension_should_broadcast_with_mean_over_elements)
{
    /* F.binary_cross_entropy(p, y, weight=tensor([1.0, 2.0, 0.5])), p and y (2, 3) */
    double w[] = {1.0, 2.0, 0.5};
    const double g[] = {0.20833333333333329, -0.47619047619047622, -0.092592592592592601,
                        0.13333333333333333, 0.33670033670033667,  -0.1388888888888889};
    for (size_t k = 0; k < N_OF(DTYPES); k++) {
        lcase c;
        lc_init(&c, "bce", LOSS_REDUCE_MEAN);
        c.call.dtype = DTYPES[k];
        lc_input_shaped(&c, "predictions", bce_p, 2, bce_shape);
        lc_input_shaped(&c, "targets", bce_y, 2, bce_shape);
        lc_input(&c, "weight", w, 3);
        lc_run(&c);
        expect_value(&c, 0.32630572686175524, tol_of(DTYPES[k]));
        expect_grad(&c, "predictions", g, 6, tol_of(DTYPES[k]));
        cr_assert_float_eq(c.res.denominator, 6.0, 0, "the mean is over elements");
        lc_done(&c);
    }
}

Test(bce, weight_with_a_unit_last_dimension_should_broadcast_over_rows)
{
    /* F.binary_cross_entropy(p, y, weight=tensor([[3.0], [0.25]]), reduction='sum') */
    double w[] = {3.0, 0.25};
    const size_t wshape[] = {2, 1};
    const double g[] = {3.7499999999999991,  -4.2857142857142856, -3.3333333333333335,
                        0.20000000000000001, 0.25252525252525249, -0.41666666666666669};
    lcase c;
    lc_init(&c, "bce", LOSS_REDUCE_SUM);
    lc_input_shaped(&c, "predictions", bce_p, 2, bce_shape);
    lc_input_shaped(&c, "targets", bce_y, 2, bce_shape);
    lc_input_shaped(&c, "weight", w, 2, wshape);
    lc_run(&c);
    expect_value(&c, 2.3590428177771647, TOL64);
    expect_grad(&c, "predictions", g, 6, TOL64);
    lc_done(&c);
}

Test(bce, weight_that_does_not_broadcast_should_be_a_shape_error_naming_weight)
{
    double w[] = {1.0, 2.0};
    lcase c;
    lc_init(&c, "bce", LOSS_REDUCE_MEAN);
    lc_input_shaped(&c, "predictions", bce_p, 2, bce_shape);
    lc_input_shaped(&c, "targets", bce_y, 2, bce_shape);
    lc_input(&c, "weight", w, 2);
    loss_error e = lc_fail(&c, LOSS_ERR_SHAPE);
    cr_assert_str_eq(e.field, "weight");
}

Test(bce, probability_outside_zero_one_should_be_out_of_domain_naming_index)
{
    double p[] = {0.5, 0.25, 1.5, -0.1}, y[] = {1, 0, 1, 0};
    lcase c;
    lc_init(&c, "bce", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 4);
    lc_input(&c, "targets", y, 4);
    loss_error e = lc_fail(&c, LOSS_ERR_DOMAIN);
    cr_assert_str_eq(e.field, "predictions");
    cr_assert_not_null(strstr(e.message, "predictions[2]"), "%s", e.message);
}

Test(bce, nan_prediction_should_be_non_finite)
{
    double p[] = {0.5, NAN}, y[] = {1, 0};
    lcase c;
    lc_init(&c, "bce", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 2);
    lc_input(&c, "targets", y, 2);
    loss_error e = lc_fail(&c, LOSS_ERR_NON_FINITE);
    cr_assert_str_eq(e.field, "predictions");
}
