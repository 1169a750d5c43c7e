/* focal: values and gradients against numbers printed by PyTorch in float64 (each constant
 * names the torch call), and edge cases. */
#include "../lcase.h"

Test(focal, values_and_gradients_should_match_torch_with_default_alpha_gamma)
{
    /* ce = F.binary_cross_entropy(p, y, reduction='none'); p_t = p*y + (1-p)*(1-y);
     * l = (0.25*y + 0.75*(1-y)) * ce * (1-p_t)**2 (torchvision sigmoid_focal_loss with
     * sigmoid(x) replaced by p), grad of l.sum() */
    double p[] = {1e-8, 0.5, 0.3, 0.9, 0.7, 0.05}, y[] = {1.0, 1.0, 0.0, 0.5, 1.0, 0.0};
    const double l[] = {4.6051700938846878,  0.04332169878499658,   0.024075558715864448,
                        0.15049660054074201, 0.0080251862386214821, 9.6174926976657493e-05};
    const double g[] = {-25000008.71034028,  -0.29828679513998635,  0.25693229620100111,
                        0.55555555555555569, -0.085644098733667032, 0.0058206812895926158};
    lcase c;
    lc_init(&c, "focal", LOSS_REDUCE_NONE);
    lc_input(&c, "predictions", p, 6);
    lc_input(&c, "targets", y, 6);
    lc_run(&c);
    expect_tensor("terms[0]", &c.res.terms[0], l, 6, TOL64);
    expect_grad(&c, "predictions", g, 6, TOL64);
    lc_done(&c);
}

Test(focal, a_zero_probability_of_the_true_class_should_clamp_like_bce)
{
    /* same formula, p = [0, 1], y = [1, 1] (research E23: the log is clamped at -100) */
    double p[] = {0.0, 1.0}, y[] = {1.0, 1.0};
    const double l[] = {25.0, 0.0}, g[] = {-250000001048.95071, 0.0};
    lcase c;
    lc_init(&c, "focal", LOSS_REDUCE_NONE);
    lc_input(&c, "predictions", p, 2);
    lc_input(&c, "targets", y, 2);
    lc_run(&c);
    expect_tensor("terms[0]", &c.res.terms[0], l, 2, TOL64);
    expect_grad(&c, "predictions", g, 2, TOL64);
    lc_done(&c);
}

Test(focal, gamma_below_one_at_certainty_should_give_the_limit_not_nan)
{
    /* torch gives nan for the gradient here (research E22c/E23b); the limit is 0 */
    double p[] = {1.0, 0.0}, y[] = {1.0, 0.0};
    const double zero[] = {0.0, 0.0};
    lcase c;
    lc_init(&c, "focal", LOSS_REDUCE_SUM);
    lc_input(&c, "predictions", p, 2);
    lc_input(&c, "targets", y, 2);
    lc_param(&c, "gamma", 0.5);
    lc_run(&c);
    expect_value(&c, 0.0, 0);
    expect_grad(&c, "predictions", zero, 2, 0);
    lc_done(&c);
}

Test(focal, negative_alpha_should_drop_the_class_weight)
{
    /* same formula without alpha_t, gamma=0.5, .mean() */
    double p[] = {0.2, 0.6, 0.95, 0.4}, y[] = {1.0, 0.0, 1.0, 0.25};
    const double g[] = {-1.3429597748603948, 0.6319886993106274, -0.087517717404849205,
                        0.16185329917230376};
    lcase c;
    lc_init(&c, "focal", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 4);
    lc_input(&c, "targets", y, 4);
    lc_param(&c, "alpha", -1.0);
    lc_param(&c, "gamma", 0.5);
    lc_run(&c);
    expect_value(&c, 0.64285528025305427, TOL64);
    expect_grad(&c, "predictions", g, 4, TOL64);
    lc_done(&c);
}

Test(focal, gamma_zero_should_be_alpha_weighted_bce)
{
    /* same formula with gamma=0, .mean() */
    double p[] = {0.2, 0.6, 1.0}, y[] = {1.0, 0.0, 1.0};
    const double g[] = {-0.41666666666666657, 0.625, 0};
    lcase c;
    lc_init(&c, "focal", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 3);
    lc_input(&c, "targets", y, 3);
    lc_param(&c, "gamma", 0.0);
    lc_run(&c);
    expect_value(&c, 0.36319250900471373, TOL64);
    expect_grad(&c, "predictions", g, 3, TOL64);
    lc_done(&c);
}

Test(focal, targets_outside_zero_one_and_negative_gamma_should_be_refused)
{
    double p[] = {0.5, 0.5}, y[] = {1.0, 1.25};
    lcase c;
    lc_init(&c, "focal", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 2);
    lc_input(&c, "targets", y, 2);
    loss_error e = lc_fail(&c, LOSS_ERR_DOMAIN);
    cr_assert_str_eq(e.field, "targets");
    y[1] = 1.0;
    lc_param(&c, "gamma", -0.5);
    e = lc_fail(&c, LOSS_ERR_PARAM);
    cr_assert_str_eq(e.field, "gamma");
}
