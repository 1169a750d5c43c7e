/* gaussian_nll: values and gradients against PyTorch (or the Keras / written formula), with the
 * call that produced each number; edge cases, domain and shape errors. */
#include "../tcase.h"

static const double gn_p[] = {0.5, -1.0, 2.0, 0.0, 1.5, -0.5};
static const double gn_y[] = {0.0, 0.0, 1.0, 0.25, 2.0, -0.5};

Test(gaussian_nll, var_of_the_predictions_shape_should_match_pytorch)
{
    /* F.gaussian_nll_loss(p, y, var, reduction='none'), p, y, var (2, 3), float64;
     * var = 1e-8 is clamped to eps = 1e-6 */
    static const double var[] = {1.0, 0.5, 2.0, 1e-8, 0.25, 3.0};
    static const double l[] = {0.125,
                               0.6534264097200273,
                               0.5965735902799727,
                               31243.092244721018,
                               -0.19314718055994529,
                               0.54930614433405489};
    static const double gp[] = {0.5, -2, 0.5, -250000, -2, 0};
    static const double gv[] = {0.375, -1, 0.125, -31249500000, 0, 0.16666666666666666};
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 2, {2, 3}, gn_p},
                       {"targets", 2, {2, 3}, gn_y},
                       {"var", 2, {2, 3}, var}}};
    check_case(&tc, &(texpect){l, {gp, NULL, gv}, 5207.4705672807986});
}

Test(gaussian_nll, var_with_last_dim_one_should_broadcast_along_rows)
{
    /* F.gaussian_nll_loss(p, y, var=[[0.5], [2.0]], reduction='none'), p, y (2, 3) */
    static const double var[] = {0.5, 2.0};
    static const double l[] = {-0.096573590279972643, 0.6534264097200273,  0.6534264097200273,
                               0.36219859027997264,   0.40907359027997264, 0.34657359027997264};
    static const double gp[] = {1, -2, 2, -0.125, -0.25, 0};
    static const double gv[] = {-1.5, 0.7109375};
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 2, {2, 3}, gn_p},
                       {"targets", 2, {2, 3}, gn_y},
                       {"var", 2, {2, 1}, var}}};
    check_case(&tc, &(texpect){l, {gp, NULL, gv}, 0.38802083333333331});
}

Test(gaussian_nll, var_with_one_dim_fewer_should_broadcast_and_take_full)
{
    /* F.gaussian_nll_loss(p, y, var=[0.5, 2.0], full=True, reduction='none') */
    static const double var[] = {0.5, 2.0};
    static const double l[] = {0.82236494292469997, 1.5723649429247,    1.5723649429247,
                               1.2811371234846454,  1.3280121234846454, 1.2655121234846454};
    static const double gp[] = {1, -2, 2, -0.125, -0.25, 0};
    static const double gv[] = {-1.5, 0.7109375};
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 2, {2, 3}, gn_p},
                       {"targets", 2, {2, 3}, gn_y},
                       {"var", 1, {2}, var}},
                .par = {{"full", 1}}};
    check_case(&tc, &(texpect){l, {gp, NULL, gv}, 1.3069593665380062});
}

Test(gaussian_nll, var_gradient_should_pass_straight_through_the_clamp)
{
    /* F.gaussian_nll_loss([1.], [1.], var=[1e-8]): loss 0.5*log(1e-6), d/dvar =
     * 0.5/eps = 500000 (not 0) */
    static const double p[] = {1.0}, y[] = {1.0}, var[] = {1e-8};
    static const double l[] = {-6.9077552789821368}, gp[] = {0}, gv[] = {500000};
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 1, {1}, p}, {"targets", 1, {1}, y}, {"var", 1, {1}, var}}};
    check_case(&tc, &(texpect){l, {gp, NULL, gv}, -6.9077552789821368});
}

Test(gaussian_nll, eps_should_be_the_clamp)
{
    /* F.gaussian_nll_loss(p, y, var=[0.05, 2.0], eps=0.1, reduction='none') */
    static const double var[] = {0.05, 2.0};
    static const double l[] = {0.098707453502977271, 3.8487074535029775,  3.8487074535029775,
                               0.36219859027997264,  0.40907359027997264, 0.34657359027997264};
    static const double gp[] = {5, -10, 10, -0.125, -0.25, 0};
    static const double gv[] = {-97.5, 0.7109375};
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 2, {2, 3}, gn_p},
                       {"targets", 2, {2, 3}, gn_y},
                       {"var", 1, {2}, var}},
                .par = {{"eps", 0.1}}};
    check_case(&tc, &(texpect){l, {gp, NULL, gv}, 1.4856613552248084});
}

Test(gaussian_nll, negative_var_should_be_out_of_domain_naming_var)
{
    static const double var[] = {0.5, -1e-3};
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 2, {2, 3}, gn_p},
                       {"targets", 2, {2, 3}, gn_y},
                       {"var", 2, {2, 1}, var}}};
    expect_error(&tc, LOSS_ERR_DOMAIN, "var");
}

Test(gaussian_nll, var_shapes_pytorch_refuses_should_be_refused)
{
    static const double var[6] = {1, 1, 1, 1, 1, 1};
    static const size_t ranks[] = {1, 2, 2, 0, 3};
    static const size_t shapes[][3] = {{3}, {1, 3}, {3, 2}, {0}, {2, 3, 1}};
    for (size_t i = 0; i < N_OF(ranks); i++) {
        tcase tc = {.loss = "gaussian_nll",
                    .in = {{"predictions", 2, {2, 3}, gn_p},
                           {"targets", 2, {2, 3}, gn_y},
                           {"var", ranks[i], {shapes[i][0], shapes[i][1], shapes[i][2]}, var}}};
        expect_error(&tc, LOSS_ERR_SHAPE, "var");
    }
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 2, {2, 3}, gn_p},
                       {"targets", 1, {6}, gn_y},
                       {"var", 2, {2, 3}, var}}};
    expect_error(&tc, LOSS_ERR_SHAPE, "targets");
}

Test(gaussian_nll, empty_rows_should_still_check_var_and_give_it_zero_gradient)
{
    static const double var[] = {1.0, 2.0};
    loss_result r;
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 2, {2, 0}, gn_p},
                       {"targets", 2, {2, 0}, gn_y},
                       {"var", 1, {2}, var}}};
    compute(&tc, LOSS_DTYPE_F64, LOSS_REDUCE_SUM, &r);
    cr_expect_eq(r.value, 0.0);
    cr_expect_eq(r.grad[2].count, 2);
    cr_expect_eq(tensor_get(&r.grad[2], 0), 0.0);
    cr_expect_eq(tensor_get(&r.grad[2], 1), 0.0);
    loss_result_release(&r);
    static const double bad[] = {1.0, -2.0};
    tc.in[2].data = bad;
    expect_error(&tc, LOSS_ERR_DOMAIN, "var");
}
