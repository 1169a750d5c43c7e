/* msle: values and gradients against PyTorch (or the Keras / written formula), with the call
 * that produced each number; edge cases, domain and shape errors. */
#include "../tcase.h"

Test(msle, gradient_should_be_zero_where_the_clip_holds_the_prediction)
{
    /* (torch.log1p(p.clamp_min(1e-7)) - torch.log1p(y.clamp_min(1e-7)))**2, float64;
     * p = -0.5, 1e-8 and 0 are clipped: gradient 0 */
    static const double p[] = {0.5, 2.0, -0.5, 1e-8, 3.0, 0.0};
    static const double y[] = {1.0, 0.0, 2.0, 1.0, -1.0, 0.25};
    static const double l[] = {0.082760974810151711, 1.2069487410901456, 1.2069487410901456,
                               0.48045287528878228,  1.9218117784139574, 0.049792999864419332};
    static const double g[] = {
        -0.38357609660237452, 0.73240812577874326, 0, 0, 0.69314713055994781, 0};
    tcase tc = {.loss = "msle", .in = {{"predictions", 1, {6}, p}, {"targets", 1, {6}, y}}};
    check_case(&tc, &(texpect){l, {g}, 0.82478601842626709});
}

Test(msle, gradient_should_be_zero_at_the_clip_itself)
{
    static const double p[] = {1e-7}, y[] = {1.0};
    double d = log1p(1e-7) - log1p(1.0);
    static const double g[] = {0};
    double l[] = {d * d};
    tcase tc = {.loss = "msle", .in = {{"predictions", 1, {1}, p}, {"targets", 1, {1}, y}}};
    check_dtype(&tc, &(texpect){l, {g}, d * d}, LOSS_DTYPE_F64);
}
