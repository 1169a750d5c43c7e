/* margin_ranking: values and gradients against PyTorch (or the Keras / written formula), with the
 * call that produced each number; edge cases, domain and shape errors. */
#include "../tcase.h"

static const double mr_x1[] = {1.0, 0.5, -1.0, 2.0, 0.0};
static const double mr_x2[] = {1.0, 1.5, 0.5, -1.0, 0.25};
static const double mr_y[] = {1, 1, -1, -1, 1};

Test(margin_ranking, tie_should_pass_the_gradient)
{
    /* F.margin_ranking_loss(x1, x2, y, reduction='none'), float64; element 0 is the
     * tie x1 == x2 with y = 1: loss 0, gradient -1 / +1 */
    static const double l[] = {0, 1, 0, 3, 0.25};
    static const double g1[] = {-1, -1, 0, 1, -1}, g2[] = {1, 1, 0, -1, 1};
    tcase tc = {.loss = "margin_ranking",
                .in = {{"x1", 1, {5}, mr_x1}, {"x2", 1, {5}, mr_x2}, {"targets", 1, {5}, mr_y}}};
    check_case(&tc, &(texpect){l, {g1, g2}, 0.84999999999999998});
}

Test(margin_ranking, margin_should_shift_the_hinge)
{
    /* F.margin_ranking_loss(x1, x2, y, margin=0.5, reduction='none') */
    static const double l[] = {0.5, 1.5, 0, 3.5, 0.75};
    static const double g1[] = {-1, -1, 0, 1, -1}, g2[] = {1, 1, 0, -1, 1};
    tcase tc = {.loss = "margin_ranking",
                .in = {{"x1", 1, {5}, mr_x1}, {"x2", 1, {5}, mr_x2}, {"targets", 1, {5}, mr_y}},
                .par = {{"margin", 0.5}}};
    check_case(&tc, &(texpect){l, {g1, g2}, 1.25});
}

Test(margin_ranking, bad_targets_shapes_and_values_should_be_refused)
{
    static const double y[] = {1, 1, 0, -1, 1};
    tcase tc = {.loss = "margin_ranking",
                .in = {{"x1", 1, {5}, mr_x1}, {"x2", 1, {5}, mr_x2}, {"targets", 1, {5}, y}}};
    expect_error(&tc, LOSS_ERR_DOMAIN, "targets");
    tc.in[2].data = mr_y;
    tc.in[1].shape[0] = 4;
    expect_error(&tc, LOSS_ERR_SHAPE, "x2");
    const double inf_x1[] = {1.0, INFINITY, 0, 0, 0};
    tc.in[1].shape[0] = 5;
    tc.in[0].data = inf_x1;
    expect_error(&tc, LOSS_ERR_NON_FINITE, "x1");
}
