/* bce_with_logits: values and gradients against PyTorch (or the Keras / written formula), with the
 * call that produced each number; edge cases, domain and shape errors. */
#include "../tcase.h"

Test(bce_with_logits, should_stay_exact_at_extreme_logits)
{
    /* Python decimal: (1-y)*softplus(x) + y*softplus(-x), gradient sigmoid(x) - y.
     * F.binary_cross_entropy_with_logits (1.13, float64) gives 2.0611536900435727e-09 for
     * the last loss (log instead of log1p); its gradients equal these. */
    static const double x[] = {-1000, -100, 0, 100, 1000, -20};
    static const double y[] = {1, 1, 0, 0, 0, 0};
    static const double l[] = {1000, 100, 0.69314718055994529, 100, 1000, 2.0611536203143808e-09};
    static const double g[] = {-1, -1, 0.5, 1, 1, 2.0611536181902037e-09};
    double mean = 0;
    for (size_t i = 0; i < 6; i++)
        mean += l[i] / 6;
    tcase tc = {.loss = "bce_with_logits",
                .in = {{"predictions", 1, {6}, x}, {"targets", 1, {6}, y}}};
    check_case(&tc, &(texpect){l, {g}, mean});
}

static const double bw_x[] = {0.5, -1.5, 2.0, -0.25, 3.0, -4.0};
static const double bw_y[] = {1.0, 0.0, 1.0, 0.0, 0.3, 1.0};

Test(bce_with_logits, weight_of_the_same_shape_should_scale_each_element)
{
    /* F.binary_cross_entropy_with_logits(x, y, weight=w, reduction='none'), (2, 3);
     * mean = mean(w*l) over all elements, not sum(w*l)/sum(w) */
    static const double w[] = {1.0, 2.0, 0.5, 0.0, 1.5, 3.0};
    static const double l[] = {0.47407698418010669, 0.40282655596550493, 0.063464005521486302, 0,
                               3.2228810273606125,  12.054449783753428};
    static const double g[] = {-0.37754066879814541, 0.3648510476127127, -0.059601461011058843, 0,
                               0.97886119023365015,  -2.9460413701137256};
    tcase tc = {.loss = "bce_with_logits",
                .in = {{"predictions", 2, {2, 3}, bw_x},
                       {"targets", 2, {2, 3}, bw_y},
                       {"weight", 2, {2, 3}, w}}};
    check_case(&tc, &(texpect){l, {g}, 2.7029497261301896});
}

Test(bce_with_logits, weight_and_pos_weight_should_broadcast_as_in_pytorch)
{
    /* F.binary_cross_entropy_with_logits(x, y, weight=[[2.], [.5]],
     * pos_weight=[3., .5, 1.], reduction='none'), x, y (2, 3) */
    static const double w[] = {2.0, 0.5}, pw[] = {3.0, 0.5, 1.0};
    static const double l[] = {2.8444619050806401,  0.40282655596550487, 0.25385602208594521,
                               0.28796970993942184, 1.0706496244188402,  2.0090749639589047};
    static const double g[] = {-2.2652440127888722, 0.3648510476127127,  -0.23840584404423537,
                               0.21891174955710097, 0.32984400389953411, -0.49100689501895423};
    tcase tc = {.loss = "bce_with_logits",
                .in = {{"predictions", 2, {2, 3}, bw_x},
                       {"targets", 2, {2, 3}, bw_y},
                       {"weight", 2, {2, 1}, w},
                       {"pos_weight", 1, {3}, pw}}};
    check_case(&tc, &(texpect){l, {g}, 1.1448064635748763});
}

Test(bce_with_logits, weight_along_the_last_dim_should_broadcast)
{
    /* F.binary_cross_entropy_with_logits(x, y, weight=[.5, 1., 2.], reduction='none') */
    static const double w[] = {0.5, 1.0, 2.0};
    static const double l[] = {0.23703849209005334, 0.20141327798275246, 0.25385602208594521,
                               0.28796970993942184, 2.1485873515737417,  8.0362998558356189};
    static const double g[] = {-0.1887703343990727, 0.18242552380635635, -0.23840584404423537,
                               0.21891174955710097, 0.65257412682243343, -1.9640275800758169};
    tcase tc = {.loss = "bce_with_logits",
                .in = {{"predictions", 2, {2, 3}, bw_x},
                       {"targets", 2, {2, 3}, bw_y},
                       {"weight", 1, {3}, w}}};
    check_case(&tc, &(texpect){l, {g}, 1.8608607849179222});
}

Test(bce_with_logits, pos_weight_should_scale_the_positive_term_at_extremes)
{
    /* F.binary_cross_entropy_with_logits([-1000., 1000.], [1., 0.],
     * pos_weight=[3.], reduction='none') */
    static const double x[] = {-1000, 1000}, y[] = {1, 0}, pw[] = {3.0};
    static const double l[] = {3000, 1000}, g[] = {-3, 1};
    tcase tc = {
        .loss = "bce_with_logits",
        .in = {{"predictions", 1, {2}, x}, {"targets", 1, {2}, y}, {"pos_weight", 1, {1}, pw}}};
    check_case(&tc, &(texpect){l, {g}, 2000});
}

Test(bce_with_logits, weights_that_do_not_broadcast_should_be_refused)
{
    static const double w[] = {1, 2, 3, 4, 5, 6};
    tcase tc = {.loss = "bce_with_logits",
                .in = {{"predictions", 2, {2, 3}, bw_x},
                       {"targets", 2, {2, 3}, bw_y},
                       {"weight", 1, {2}, w}}};
    expect_error(&tc, LOSS_ERR_SHAPE, "weight");
    tc.in[2] = (tin){"pos_weight", 3, {1, 2, 3}, w}; /* would enlarge the output */
    expect_error(&tc, LOSS_ERR_SHAPE, "pos_weight");
    tc.in[2] = (tin){"weight", 2, {2, 3}, w};
    tc.in[1].rank = 1;
    tc.in[1].shape[0] = 6;
    expect_error(&tc, LOSS_ERR_SHAPE, "targets");
}

Test(bce_with_logits, non_finite_weights_should_be_refused)
{
    const double w[] = {1, NAN, 3};
    tcase tc = {.loss = "bce_with_logits",
                .in = {{"predictions", 2, {2, 3}, bw_x},
                       {"targets", 2, {2, 3}, bw_y},
                       {"pos_weight", 1, {3}, w}}};
    expect_error(&tc, LOSS_ERR_NON_FINITE, "pos_weight");
}
