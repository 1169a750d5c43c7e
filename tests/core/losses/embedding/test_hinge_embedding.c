/* hinge_embedding: values and gradients against PyTorch (or the Keras / written formula), with the
 * call that produced each number; edge cases, domain and shape errors. */
#include "../tcase.h"

Test(hinge_embedding, tie_at_the_margin_should_pass_the_gradient)
{
    /* F.hinge_embedding_loss([.5, 1, 1.5, .5], [-1, -1, -1, 1], reduction='none');
     * x = margin = 1 with y = -1 gives gradient -1 */
    static const double x[] = {0.5, 1.0, 1.5, 0.5}, y[] = {-1, -1, -1, 1};
    static const double l[] = {0.5, 0, 0, 0.5}, g[] = {-1, -1, 0, 1};
    tcase tc = {.loss = "hinge_embedding",
                .in = {{"predictions", 1, {4}, x}, {"targets", 1, {4}, y}}};
    check_case(&tc, &(texpect){l, {g}, 0.25});
}

Test(hinge_embedding, margin_should_move_the_hinge)
{
    /* F.hinge_embedding_loss(x, y, margin=2.0, reduction='none') */
    static const double x[] = {0.5, 2.0, 2.5, -0.5, 3.0}, y[] = {-1, -1, -1, 1, 1};
    static const double l[] = {1.5, 0, 0, -0.5, 3}, g[] = {-1, -1, 0, 1, 1};
    tcase tc = {.loss = "hinge_embedding",
                .in = {{"predictions", 1, {5}, x}, {"targets", 1, {5}, y}},
                .par = {{"margin", 2.0}}};
    check_case(&tc, &(texpect){l, {g}, 0.80000000000000004});
}

Test(hinge_embedding, targets_other_than_signs_should_be_out_of_domain)
{
    /* PyTorch adds both branches for y = 0; lossd refuses it (docs/losses.md) */
    static const double x[] = {0.3, 0.5}, y[] = {1, 0};
    tcase tc = {.loss = "hinge_embedding",
                .in = {{"predictions", 1, {2}, x}, {"targets", 1, {2}, y}}};
    expect_error(&tc, LOSS_ERR_DOMAIN, "targets");
}
