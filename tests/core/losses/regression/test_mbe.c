/* mbe: values and gradients against numbers printed by PyTorch in float64 (each constant
 * names the torch call), and edge cases. */
#include "../lcase.h"

Test(mbe, mean_should_be_targets_minus_predictions_with_gradient_minus_one_over_n)
{
    /* (y - p).mean() with torch autograd */
    double p[] = {1.0, 2.0, 3.0, -0.5}, y[] = {0.5, 2.5, 4.0, 0.25};
    const double g[] = {-0.25, -0.25, -0.25, -0.25};
    for (size_t k = 0; k < N_OF(DTYPES); k++) {
        lcase c;
        lc_init(&c, "mbe", LOSS_REDUCE_MEAN);
        c.call.dtype = DTYPES[k];
        lc_input(&c, "predictions", p, 4);
        lc_input(&c, "targets", y, 4);
        lc_run(&c);
        expect_value(&c, 0.4375, tol_of(DTYPES[k]));
        expect_grad(&c, "predictions", g, 4, tol_of(DTYPES[k]));
        lc_done(&c);
    }
}

Test(mbe, sum_should_give_gradient_minus_one_everywhere)
{
    double p[] = {1.0, -7.0}, y[] = {3.0, 2.0};
    const double g[] = {-1.0, -1.0};
    lcase c;
    lc_init(&c, "mbe", LOSS_REDUCE_SUM);
    lc_input(&c, "predictions", p, 2);
    lc_input(&c, "targets", y, 2);
    lc_run(&c);
    expect_value(&c, 11.0, 0);
    expect_grad(&c, "predictions", g, 2, 0);
    lc_done(&c);
}
