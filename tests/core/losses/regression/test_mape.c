/* mape: values and gradients against PyTorch (or the Keras / written formula), with the call
 * that produced each number; edge cases, domain and shape errors. */
#include "../tcase.h"

Test(mape, should_match_the_keras_formula_with_its_epsilon)
{
    /* 100*(y-p).abs()/y.abs().clamp_min(1e-7) in float64 torch; y = 0 divides by 1e-7 and
     * p == y gives gradient 0 */
    static const double p[] = {1.5, -2.0, 0.0, 3.0, 1e-3, 2.0};
    static const double y[] = {1.0, 1.0, 0.0, 3.0, 0.0, -4.0};
    static const double l[] = {50, 300, 0, 0, 1000000.0000000001, 150};
    static const double g[] = {100, -100, 0, 0, 1000000000, 25};
    tcase tc = {.loss = "mape", .in = {{"predictions", 1, {6}, p}, {"targets", 1, {6}, y}}};
    check_case(&tc, &(texpect){l, {g}, 166750.00000000003});
}
