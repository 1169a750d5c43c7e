/* poisson_nll: values and gradients against PyTorch (or the Keras / written formula), with the call
 * that produced each number; edge cases, domain and shape errors. */
#include "../tcase.h"

Test(poisson_nll, log_input_should_match_pytorch)
{
    /* F.poisson_nll_loss(p, y, reduction='none'), float64 */
    static const double p[] = {-1.0, 0.0, 2.0}, y[] = {0.0, 1.0, 3.0};
    static const double l[] = {0.36787944117144233, 1, 1.3890560989306504};
    static const double g[] = {0.36787944117144233, 0, 4.3890560989306504};
    tcase tc = {.loss = "poisson_nll", .in = {{"predictions", 1, {3}, p}, {"targets", 1, {3}, y}}};
    check_case(&tc, &(texpect){l, {g}, 0.91897851336736425});
}

Test(poisson_nll, stirling_term_should_apply_only_where_targets_exceed_one)
{
    /* F.poisson_nll_loss(zeros(4), [0, 1, 1.5, 3], full=True, reduction='none') */
    static const double p[] = {0.0, 0.0, 0.0, 0.0}, y[] = {0.0, 1.0, 1.5, 3.0};
    static const double l[] = {1, 1, 1.2298687494210014, 2.7640815435430568};
    static const double g[] = {1, 0, -0.5, -2};
    tcase tc = {.loss = "poisson_nll",
                .in = {{"predictions", 1, {4}, p}, {"targets", 1, {4}, y}},
                .par = {{"full", 1}}};
    check_case(&tc, &(texpect){l, {g}, 1.4984875732410146});
}

Test(poisson_nll, rate_input_should_add_eps_inside_the_log)
{
    /* F.poisson_nll_loss(p, y, log_input=False, reduction='none');
     * x = 0, y = 0 gives loss 0 and gradient 1 */
    static const double p[] = {0.0, 0.5, 2.0, 0.0}, y[] = {0.0, 1.0, 3.0, 2.0};
    static const double l[] = {0, 1.1931471605599455, -0.079441556679835656, 36.841361487904734};
    static const double g[] = {1, -0.99999996000000069, -0.49999999250000005, -199999999};
    tcase tc = {.loss = "poisson_nll",
                .in = {{"predictions", 1, {4}, p}, {"targets", 1, {4}, y}},
                .par = {{"log_input", 0}}};
    check_case(&tc, &(texpect){l, {g}, 9.4887667729462102});
}

Test(poisson_nll, rate_input_should_take_full_and_eps)
{
    /* F.poisson_nll_loss(p, y, log_input=False, full=True, eps=0.1, reduction='none') */
    static const double p[] = {0.0, 0.5, 2.0, 4.0}, y[] = {0.0, 1.0, 3.0, 2.0};
    static const double l[] = {0, 1.0108256237659907, 1.538269509354925, 1.8298325371840118};
    static const double g[] = {1, -0.66666666666666674, -0.4285714285714286, 0.51219512195121952};
    tcase tc = {.loss = "poisson_nll",
                .in = {{"predictions", 1, {4}, p}, {"targets", 1, {4}, y}},
                .par = {{"log_input", 0}, {"full", 1}, {"eps", 0.1}}};
    check_case(&tc, &(texpect){l, {g}, 1.0947319175762318});
}

Test(poisson_nll, negative_rates_should_be_out_of_domain)
{
    static const double p[] = {0.5, -0.25}, y[] = {1.0, 1.0};
    tcase tc = {.loss = "poisson_nll",
                .in = {{"predictions", 1, {2}, p}, {"targets", 1, {2}, y}},
                .par = {{"log_input", 0}}};
    expect_error(&tc, LOSS_ERR_DOMAIN, "predictions");
    tc.par[0].value = 1; /* log-rates may be negative */
    loss_result r;
    compute(&tc, LOSS_DTYPE_F64, LOSS_REDUCE_MEAN, &r);
    loss_result_release(&r);
}
