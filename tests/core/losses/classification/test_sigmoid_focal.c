/* sigmoid_focal: values and gradients against PyTorch (or the Keras / written formula), with the
 * call that produced each number; edge cases, domain and shape errors. */
#include "../tcase.h"

static const double sf_x[] = {-100, -5, 0, 5, 100, 30};
static const double sf_y[] = {1, 1, 1, 0, 0, 1};

Test(sigmoid_focal, should_match_torchvision_and_the_exact_tail)
{
    /* Python decimal at*ce*q^g (gradient by a decimal central difference, h = 1e-25);
     * tv.sigmoid_focal_loss(x, y) (float64) agrees to 1e-15 except at x = 30, where its
     * 1 - p_t cancels: 2.0422409142495384e-40, gradient -6.126722742748329e-40 */
    static const double l[] = {25, 1.2349803054175204,    0.04332169878499658, 3.7049409162525606,
                               75, 2.0485031559971495e-40};
    static const double g[] = {
        -0.25, -0.26154496070376665, -0.074571698784996587, 0.78463488211129995,
        0.75,  -6.14550946799097e-40};
    double mean = 0;
    for (size_t i = 0; i < 6; i++)
        mean += l[i] / 6;
    tcase tc = {.loss = "sigmoid_focal",
                .in = {{"predictions", 1, {6}, sf_x}, {"targets", 1, {6}, sf_y}}};
    check_case(&tc, &(texpect){l, {g}, mean});
}

Test(sigmoid_focal, gamma_below_one_should_give_no_nan_at_p_t_one)
{
    /* torchvision (float32) gives a NaN gradient at x = 30, y = 1, gamma = 0.5.
     * Python decimal at*ce*q^0.5 and its central difference: */
    static const double l[] = {25, 1.247483155136919,     0.1225322679335684, 3.7424494654107567,
                               75, 7.1562964513728146e-21};
    static const double g[] = {
        -0.25, -0.25166899445479346,   -0.11902141463171054, 0.75500698336438032,
        0.75,  -1.0734444677058552e-20};
    double mean = 0;
    for (size_t i = 0; i < 6; i++)
        mean += l[i] / 6;
    tcase tc = {.loss = "sigmoid_focal",
                .in = {{"predictions", 1, {6}, sf_x}, {"targets", 1, {6}, sf_y}},
                .par = {{"gamma", 0.5}}};
    check_case(&tc, &(texpect){l, {g}, mean});
    /* where q underflows to 0 the gamma term is its limit, 0 */
    static const double far[] = {800}, one[] = {1};
    static const double lf[] = {0}, gf[] = {0};
    tcase tc2 = {.loss = "sigmoid_focal",
                 .in = {{"predictions", 1, {1}, far}, {"targets", 1, {1}, one}},
                 .par = {{"gamma", 0.5}}};
    check_case(&tc2, &(texpect){lf, {gf}, 0});
}

Test(sigmoid_focal, negative_alpha_should_disable_the_class_weight)
{
    /* decimal ce*q^2 (alpha=-1); tv.sigmoid_focal_loss(x, y, alpha=-1) agrees but at x=30 */
    static const double l[] = {100, 4.9399212216700814,    0.17328679513998632, 4.9399212216700814,
                               100, 8.1940126239885979e-40};
    static const double g[] = {-1, -1.0461798428150666,   -0.29828679513998635, 1.0461798428150666,
                               1,  -2.458203787196388e-39};
    double mean = 0;
    for (size_t i = 0; i < 6; i++)
        mean += l[i] / 6;
    tcase tc = {.loss = "sigmoid_focal",
                .in = {{"predictions", 1, {6}, sf_x}, {"targets", 1, {6}, sf_y}},
                .par = {{"alpha", -1}}};
    check_case(&tc, &(texpect){l, {g}, mean});
}

Test(sigmoid_focal, gamma_zero_should_be_alpha_weighted_bce)
{
    /* decimal at*ce, alpha = 0.75, gamma = 0 */
    static const double l[] = {75, 3.7550365113668387,   0.51986038541995894, 1.2516788371222796,
                               25, 7.018217226629802e-14};
    static const double g[] = {-0.75, -0.7449803618067864,    -0.375, 0.24832678726892879,
                               0.25,  -7.0182172266294738e-14};
    double mean = 0;
    for (size_t i = 0; i < 6; i++)
        mean += l[i] / 6;
    tcase tc = {.loss = "sigmoid_focal",
                .in = {{"predictions", 1, {6}, sf_x}, {"targets", 1, {6}, sf_y}},
                .par = {{"alpha", 0.75}, {"gamma", 0}}};
    check_case(&tc, &(texpect){l, {g}, mean});
}

Test(sigmoid_focal, soft_targets_should_match_torchvision)
{
    /* tv.sigmoid_focal_loss([.3, -1.2, 2.5, -.7], [1., 0., .25, .9]) (float64, 'none') */
    static const double x[] = {0.3, -1.2, 2.5, -0.7}, y[] = {1.0, 0.0, 0.25, 0.9};
    static const double l[] = {0.02509831887214926, 0.01058015915158023, 0.61919373932089805,
                               0.1248049420356654};
    static const double g[] = {-0.048102109828820537, 0.025564195311058809, 0.27459755671548197,
                               -0.13840619820783201};
    tcase tc = {.loss = "sigmoid_focal",
                .in = {{"predictions", 1, {4}, x}, {"targets", 1, {4}, y}}};
    check_case(&tc, &(texpect){l, {g}, 0.19491928984507323});
}

Test(sigmoid_focal, targets_outside_the_unit_interval_and_negative_gamma_should_be_refused)
{
    static const double x[] = {0.3, -1.2}, y[] = {1.0, 1.5};
    tcase tc = {.loss = "sigmoid_focal",
                .in = {{"predictions", 1, {2}, x}, {"targets", 1, {2}, y}}};
    expect_error(&tc, LOSS_ERR_DOMAIN, "targets");
    static const double ok[] = {1.0, 0.0};
    tcase tc2 = {.loss = "sigmoid_focal",
                 .in = {{"predictions", 1, {2}, x}, {"targets", 1, {2}, ok}},
                 .par = {{"gamma", -0.5}}};
    expect_error(&tc2, LOSS_ERR_PARAM, "gamma");
}
