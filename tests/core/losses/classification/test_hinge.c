/* hinge: values and gradients against numbers printed by PyTorch in float64 (each constant
 * names the torch call), and edge cases. */
#include "../lcase.h"

Test(hinge, the_tie_should_pass_the_gradient_like_clamp)
{
    /* torch.clamp(1 - y * p, min=0), grad of .sum() */
    double p[] = {1.0, -1.0, 0.5, 2.0, -3.0}, y[] = {1.0, -1.0, 1.0, -1.0, -1.0};
    const double l[] = {0, 0, 0.5, 3, 0}, g[] = {-1, 1, -1, 1, 0};
    for (size_t k = 0; k < N_OF(DTYPES); k++) {
        lcase c;
        lc_init(&c, "hinge", LOSS_REDUCE_NONE);
        c.call.dtype = DTYPES[k];
        lc_input(&c, "predictions", p, 5);
        lc_input(&c, "targets", y, 5);
        lc_run(&c);
        expect_tensor("terms[0]", &c.res.terms[0], l, 5, 0);
        expect_grad(&c, "predictions", g, 5, 0);
        lc_done(&c);
    }
}

Test(hinge, mean_should_match_torch)
{
    /* torch.clamp(1 - y * p, min=0).mean() */
    double p[] = {0.3, -0.8, 1.7, 0.0}, y[] = {1.0, 1.0, -1.0, -1.0};
    const double g[] = {-0.25, -0.25, 0.25, 0.25};
    lcase c;
    lc_init(&c, "hinge", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 4);
    lc_input(&c, "targets", y, 4);
    lc_run(&c);
    expect_value(&c, 1.55, TOL64);
    expect_grad(&c, "predictions", g, 4, TOL64);
    lc_done(&c);
}

Test(hinge, all_zero_one_targets_should_be_mapped_to_minus_one_one)
{
    double p[] = {0.3, -0.8, 1.7, 0.0}, y01[] = {1.0, 1.0, 0.0, 0.0};
    const double g[] = {-0.25, -0.25, 0.25, 0.25};
    lcase c;
    lc_init(&c, "hinge", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 4);
    lc_input(&c, "targets", y01, 4);
    lc_run(&c);
    expect_value(&c, 1.55, TOL64);
    expect_grad(&c, "predictions", g, 4, TOL64);
    lc_done(&c);
}

Test(hinge, a_zero_among_minus_one_targets_should_be_out_of_domain)
{
    double p[] = {0.3, -0.8, 1.7}, y[] = {1.0, 0.0, -1.0};
    lcase c;
    lc_init(&c, "hinge", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 3);
    lc_input(&c, "targets", y, 3);
    loss_error e = lc_fail(&c, LOSS_ERR_DOMAIN);
    cr_assert_str_eq(e.field, "targets");
    cr_assert_not_null(strstr(e.message, "targets[1]"), "%s", e.message);
}
