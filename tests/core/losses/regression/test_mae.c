/* mae: values and gradients against numbers printed by PyTorch in float64 (each constant
 * names the torch call), and edge cases. */
#include "../lcase.h"

Test(mae, mean_should_match_torch_with_a_zero_subgradient_at_zero)
{
    /* torch.nn.functional.l1_loss(p, zeros(3)), p = [0, 1, -2] (research E1) */
    double p[] = {0.0, 1.0, -2.0}, y[] = {0, 0, 0};
    const double g[] = {0, 0.33333333333333331, -0.33333333333333331};
    for (size_t k = 0; k < N_OF(DTYPES); k++) {
        lcase c;
        lc_init(&c, "l1", LOSS_REDUCE_MEAN);
        c.call.dtype = DTYPES[k];
        lc_input(&c, "predictions", p, 3);
        lc_input(&c, "targets", y, 3);
        lc_run(&c);
        cr_assert_str_eq(c.call.desc->name, "mae", "the alias l1 resolves to mae");
        expect_value(&c, 1.0, tol_of(DTYPES[k]));
        expect_grad(&c, "predictions", g, 3, tol_of(DTYPES[k]));
        cr_assert_float_eq(c.res.denominator, 3.0, 0);
        lc_done(&c);
    }
}

Test(mae, weighted_mean_should_divide_by_the_weight_sum)
{
    /* (w * (p - y).abs()).sum() / w.sum() with torch autograd (F.l1_loss weight, 2.x) */
    double p[] = {0.5, -1.0, 2.0, 3.0, -0.25}, y[] = {0.0, 0.0, 1.0, 3.0, 0.5};
    double w[] = {1.0, 2.0, 0.5, 4.0, 0.125};
    const double g[] = {0.13114754098360656, -0.26229508196721313, 0.065573770491803282, 0,
                        -0.016393442622950821};
    lcase c;
    lc_init(&c, "mae", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 5);
    lc_input(&c, "targets", y, 5);
    lc_input(&c, "weight", w, 5);
    lc_run(&c);
    expect_value(&c, 0.40573770491803279, TOL64);
    expect_grad(&c, "predictions", g, 5, TOL64);
    cr_assert_float_eq(c.res.denominator, 7.625, 0);
    lc_done(&c);
}

Test(mae, none_should_return_weighted_elements_and_sum_their_gradient)
{
    double p[] = {0.5, -1.0, 2.0}, y[] = {0.0, 0.0, 2.0}, w[] = {2.0, 3.0, 4.0};
    const double l[] = {1.0, 3.0, 0.0}, g[] = {2.0, -3.0, 0.0};
    lcase c;
    lc_init(&c, "mae", LOSS_REDUCE_NONE);
    lc_input(&c, "predictions", p, 3);
    lc_input(&c, "targets", y, 3);
    lc_input(&c, "weight", w, 3);
    lc_run(&c);
    cr_assert_eq(c.res.n_terms, 1);
    expect_tensor("terms[0]", &c.res.terms[0], l, 3, 0);
    expect_grad(&c, "predictions", g, 3, 0);
    lc_done(&c);
}
