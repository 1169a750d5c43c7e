/* quantile: values and gradients against PyTorch (or the Keras / written formula), with the call
 * that produced each number; edge cases, domain and shape errors. */
#include "../tcase.h"

static const double q_p[] = {1.0, 2.0, 3.0, 4.0}, q_y[] = {2.0, 2.0, 1.0, 5.0};

Test(quantile, should_be_the_pinball_loss_with_zero_gradient_at_the_tie)
{
    /* max(q*(y-p), (q-1)*(y-p)), q = 0.9: u = y-p = {1, 0, -2, 1} */
    static const double l[] = {0.9, 0, 0.2, 0.9}, g[] = {-0.9, 0, 0.1, -0.9};
    tcase tc = {.loss = "quantile",
                .in = {{"predictions", 1, {4}, q_p}, {"targets", 1, {4}, q_y}},
                .par = {{"quantile", 0.9}}};
    check_case(&tc, &(texpect){l, {g}, 0.5});
}

Test(quantile, default_should_be_half_the_absolute_error)
{
    static const double l[] = {0.5, 0, 1, 0.5}, g[] = {-0.5, 0, 0.5, -0.5};
    tcase tc = {.loss = "quantile", .in = {{"predictions", 1, {4}, q_p}, {"targets", 1, {4}, q_y}}};
    check_case(&tc, &(texpect){l, {g}, 0.5});
}

Test(quantile, bounds_should_be_invalid_parameters)
{
    static const double bad[] = {0.0, 1.0, -0.5, 1.5};
    for (size_t i = 0; i < 4; i++) {
        tcase tc = {.loss = "quantile",
                    .in = {{"predictions", 1, {4}, q_p}, {"targets", 1, {4}, q_y}},
                    .par = {{"quantile", bad[i]}}};
        expect_error(&tc, LOSS_ERR_PARAM, "quantile");
    }
}
