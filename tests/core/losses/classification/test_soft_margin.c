/* soft_margin: values and gradients against PyTorch (or the Keras / written formula), with the call
 * that produced each number; edge cases, domain and shape errors. */
#include "../tcase.h"

Test(soft_margin, should_never_overflow)
{
    /* Python decimal: softplus(-y*x), gradient -y*sigmoid(-y*x).
     * F.soft_margin_loss (1.13, float64) overflows at x=-1000: loss inf, gradient nan. */
    static const double x[] = {0, 2, -100, 100, -1000, 1000, -0.5};
    static const double y[] = {1, 1, 1, -1, 1, 1, -1};
    static const double l[] = {0.69314718055994529, 0.12692801104297249, 100, 100, 1000, 0,
                               0.47407698418010669};
    static const double g[] = {-0.5, -0.11920292202211756, -1, 1, -1, 0, 0.37754066879814546};
    double mean = 0;
    for (size_t i = 0; i < 7; i++)
        mean += l[i] / 7;
    tcase tc = {.loss = "soft_margin", .in = {{"predictions", 1, {7}, x}, {"targets", 1, {7}, y}}};
    check_case(&tc, &(texpect){l, {g}, mean});
}

Test(soft_margin, targets_other_than_signs_should_be_out_of_domain)
{
    static const double x[] = {0, 2}, y[] = {1, 0};
    tcase tc = {.loss = "soft_margin", .in = {{"predictions", 1, {2}, x}, {"targets", 1, {2}, y}}};
    expect_error(&tc, LOSS_ERR_DOMAIN, "targets");
}
