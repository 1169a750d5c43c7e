/* wgan_generator: values and gradients against PyTorch (or the Keras / written formula), with the
 * call that produced each number; edge cases, domain and shape errors. */
#include "gan_cases.h"

Test(wgan_generator, should_be_minus_the_mean_of_fake)
{
    static const double l[] = {-0.5, 1.0, -0.25}, g[] = {-1, -1, -1};
    tcase tc = {.loss = "wgan_generator", .in = {{"fake", 1, {3}, gan_fake}}};
    check_case(&tc, &(texpect){l, {g}, 0.25 / 3.0});
}
