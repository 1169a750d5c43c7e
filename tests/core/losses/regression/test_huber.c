/* huber: values and gradients against numbers printed by PyTorch in float64 (each constant
 * names the torch call), and edge cases. */
#include "../lcase.h"

Test(huber, gradient_should_be_linear_inside_delta_and_constant_beyond)
{
    /* F.huber_loss(p, zeros(7), reduction='none', delta=1.0), research E4 */
    double p[] = {-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0}, y[7] = {0};
    const double l[] = {1.5, 0.5, 0.125, 0, 0.125, 0.5, 1.5};
    const double g[] = {-1, -1, -0.5, 0, 0.5, 1, 1};
    for (size_t k = 0; k < N_OF(DTYPES); k++) {
        lcase c;
        lc_init(&c, "huber", LOSS_REDUCE_NONE);
        c.call.dtype = DTYPES[k];
        lc_input(&c, "predictions", p, 7);
        lc_input(&c, "targets", y, 7);
        lc_run(&c);
        expect_tensor("terms[0]", &c.res.terms[0], l, 7, 0);
        expect_grad(&c, "predictions", g, 7, 0);
        lc_done(&c);
    }
}

Test(huber, mean_with_delta_two_should_match_torch)
{
    /* F.huber_loss(p, y, delta=2.0) */
    double p[] = {2.0, -2.0, 3.0, 0.3}, y[] = {0.0, 0.0, 0.0, 0.1};
    const double g[] = {0.5, -0.5, 0.5, 0.049999999999999996};
    lcase c;
    lc_init(&c, "huber", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 4);
    lc_input(&c, "targets", y, 4);
    lc_param(&c, "delta", 2.0);
    lc_run(&c);
    expect_value(&c, 2.0049999999999999, TOL64);
    expect_grad(&c, "predictions", g, 4, TOL64);
    lc_done(&c);
}

Test(huber, weighted_mean_should_divide_by_the_weight_sum)
{
    /* (w * F.huber_loss(p, y, reduction='none', delta=0.5)).sum() / w.sum() */
    double p[] = {1.5, -0.2, 0.1, 2.0}, y[] = {0.0, 0.1, 0.0, 1.0}, w[] = {2.0, 1.0, 3.0, 0.5};
    const double g[] = {0.15384615384615385, -0.046153846153846163, 0.046153846153846156,
                        0.038461538461538464};
    lcase c;
    lc_init(&c, "huber", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 4);
    lc_input(&c, "targets", y, 4);
    lc_input(&c, "weight", w, 4);
    lc_param(&c, "delta", 0.5);
    lc_run(&c);
    expect_value(&c, 0.23038461538461535, TOL64);
    expect_grad(&c, "predictions", g, 4, TOL64);
    cr_assert_float_eq(c.res.denominator, 6.5, 0);
    lc_done(&c);
}

Test(huber, non_positive_delta_should_be_an_invalid_parameter)
{
    double p[] = {1.0}, y[] = {0.0};
    const double deltas[] = {0.0, -1.0};
    for (size_t k = 0; k < N_OF(deltas); k++) {
        lcase c;
        lc_init(&c, "huber", LOSS_REDUCE_MEAN);
        lc_input(&c, "predictions", p, 1);
        lc_input(&c, "targets", y, 1);
        lc_param(&c, "delta", deltas[k]);
        loss_error e = lc_fail(&c, LOSS_ERR_PARAM);
        cr_assert_str_eq(e.field, "delta");
    }
}
