/* squared_hinge: values and gradients against PyTorch (or the Keras / written formula), with the
 * call that produced each number; edge cases, domain and shape errors. */
#include "../tcase.h"

static const double sh_p[] = {0.3, -2.0, 1.0, 0.5, -0.25, 3.0};
/* torch.clamp(1 - y*p, min=0)**2 (keras.losses.SquaredHinge per element), float64 */
static const double sh_l[] = {0.48999999999999994, 9, 4, 2.25, 1.5625, 0};
static const double sh_g[] = {-1.3999999999999999, -6, 4, 3, -2.5, 0};

Test(squared_hinge, should_match_the_keras_formula)
{
    static const double y[] = {1, 1, -1, -1, 1, 1};
    tcase tc = {.loss = "squared_hinge",
                .in = {{"predictions", 1, {6}, sh_p}, {"targets", 1, {6}, y}}};
    check_case(&tc, &(texpect){sh_l, {sh_g}, 2.8837500000000005});
}

Test(squared_hinge, all_binary_targets_should_be_mapped_to_signs)
{
    /* the same loss with y01 = (y + 1)/2: Keras maps 0 -> -1 when every target is 0 or 1 */
    static const double y[] = {1, 1, 0, 0, 1, 1};
    tcase tc = {.loss = "squared_hinge",
                .in = {{"predictions", 1, {6}, sh_p}, {"targets", 1, {6}, y}}};
    check_case(&tc, &(texpect){sh_l, {sh_g}, 2.8837500000000005});
}

Test(squared_hinge, targets_outside_both_conventions_should_be_out_of_domain)
{
    static const double mixed[] = {1, -1, 0, 1, 1, 1}, half[] = {1, 1, 0.5, 1, 1, 1};
    tcase tc = {.loss = "squared_hinge",
                .in = {{"predictions", 1, {6}, sh_p}, {"targets", 1, {6}, mixed}}};
    expect_error(&tc, LOSS_ERR_DOMAIN, "targets");
    tc.in[1].data = half;
    expect_error(&tc, LOSS_ERR_DOMAIN, "targets");
}
