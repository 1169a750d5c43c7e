/* log_cosh: values and gradients against PyTorch (or the Keras / written formula), with the call
 * that produced each number; edge cases, domain and shape errors. */
#include "../tcase.h"

Test(log_cosh, should_be_exact_from_tiny_to_huge_differences)
{
    /* Python decimal, 60 digits: ln((e^d + e^-d) / 2); gradient math.tanh(d).
     * torch.log(torch.cosh(d)) at d = 1e-5 gives 5.0000004135768551e-11 (cancellation). */
    static const double p[] = {-800, -3, -0.5, -1e-5, 0, 1e-5, 0.9, 1, 2, 30, 800};
    static const double y[11] = {0};
    static const double l[] = {799.30685281944011,
                               2.3093285045777852,
                               0.12011450695827752,
                               4.9999999999166676e-11,
                               0,
                               4.9999999999166676e-11,
                               0.35983042996612885,
                               0.43378083048302718,
                               1.3250027473578645,
                               29.306852819440056,
                               799.30685281944011};
    static const double g[] = {-1,
                               -0.99505475368673046,
                               -0.46211715726000974,
                               -9.9999999996666679e-06,
                               0,
                               9.9999999996666679e-06,
                               0.71629787019902447,
                               0.76159415595576485,
                               0.9640275800758169,
                               1,
                               1};
    double mean = 0;
    for (size_t i = 0; i < 11; i++)
        mean += l[i] / 11;
    tcase tc = {.loss = "log_cosh", .in = {{"predictions", 1, {11}, p}, {"targets", 1, {11}, y}}};
    check_case(&tc, &(texpect){l, {g}, mean});
}
