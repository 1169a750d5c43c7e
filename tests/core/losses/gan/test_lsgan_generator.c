/* lsgan_generator: values and gradients against PyTorch (or the Keras / written formula), with the
 * call that produced each number; edge cases, domain and shape errors. */
#include "gan_cases.h"

Test(lsgan_generator, should_be_half_the_mean_squared_distance_to_one)
{
    static const double l[] = {0.125, 2.0, 0.28125}, g[] = {-0.5, -2.0, -0.75};
    tcase tc = {.loss = "lsgan_generator", .in = {{"fake", 1, {3}, gan_fake}}};
    check_case(&tc, &(texpect){l, {g}, 2.40625 / 3.0});
}
