/* smooth_l1: values and gradients against PyTorch (or the Keras / written formula), with the call
 * that produced each number; edge cases, domain and shape errors. */
#include "../tcase.h"

static const double sl1_p[] = {-2.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.5};
static const double sl1_y[] = {0.5, -1.0, 0.0, 0.0, 1.0, 0.0, -0.5, 0.0};

Test(smooth_l1, should_match_pytorch_for_the_default_beta)
{
    /* F.smooth_l1_loss(p, y, reduction='none'), float64; gradient of .sum() */
    static const double l[] = {2, 0, 0.125, 0, 0.28125, 0.125, 1, 2};
    static const double g[] = {-1, 0, -0.5, 0, -0.75, 0.5, 1, 1};
    tcase tc = {.loss = "smooth_l1",
                .in = {{"predictions", 1, {8}, sl1_p}, {"targets", 1, {8}, sl1_y}}};
    check_case(&tc, &(texpect){l, {g}, 0.69140625});
}

Test(smooth_l1, should_be_c1_at_beta)
{
    /* F.smooth_l1_loss(p, y, reduction='none', beta=0.5): |d| = 0.5 is on the breakpoint
     * (loss .25, gradient +-1) */
    static const double l[] = {2.25, 0, 0.25, 0, 0.5, 0.25, 1.25, 2.25};
    static const double g[] = {-1, 0, -1, 0, -1, 1, 1, 1};
    tcase tc = {.loss = "smooth_l1",
                .in = {{"predictions", 1, {8}, sl1_p}, {"targets", 1, {8}, sl1_y}},
                .par = {{"beta", 0.5}}};
    check_case(&tc, &(texpect){l, {g}, 0.84375});
}

Test(smooth_l1, beta_zero_should_be_l1_with_zero_gradient_at_zero)
{
    /* (p - y).abs() (what 2.1+ runs for beta=0); 1.13's
     * F.smooth_l1_loss(..., beta=0.0) gives gradient {-1, 1, -1} instead */
    static const double p[] = {0.0, 1.0, -1.0}, y[] = {0.0, 0.0, 0.0};
    static const double l[] = {0, 1, 1}, g[] = {0, 1, -1};
    tcase tc = {.loss = "smooth_l1",
                .in = {{"predictions", 1, {3}, p}, {"targets", 1, {3}, y}},
                .par = {{"beta", 0.0}}};
    check_case(&tc, &(texpect){l, {g}, 2.0 / 3.0});
}

Test(smooth_l1, negative_beta_should_be_an_invalid_parameter)
{
    tcase tc = {.loss = "smooth_l1",
                .in = {{"predictions", 1, {8}, sl1_p}, {"targets", 1, {8}, sl1_y}},
                .par = {{"beta", -0.1}}};
    expect_error(&tc, LOSS_ERR_PARAM, "beta");
}

Test(smooth_l1, targets_of_another_shape_should_be_refused)
{
    tcase tc = {.loss = "smooth_l1",
                .in = {{"predictions", 1, {8}, sl1_p}, {"targets", 2, {2, 4}, sl1_y}}};
    expect_error(&tc, LOSS_ERR_SHAPE, "targets");
}
