/* multilabel_soft_margin: expected numbers from /usr/bin/python3 (torch, float64), the producing
 * call quoted above each table; gradients by central differences, float32 against float64, and
 * results bit-identical across 1, 2 and 7 workers. */
#include "../call_checks.h"

/* extremes: x = [[-1000,.3,1000],[2,-.5,.1]], y = [[1,0,0],[0,1,1]],
 * w = [.5,2,1.5]: F.multilabel_soft_margin_loss(x, y, weight=w, reduction=red). */
static double mlsm_x[] = {-1000, .3, 1000, 2.0, -.5, .1};
static double mlsm_y[] = {1, 0, 0, 0, 1, 1};
static double mlsm_w[] = {.5, 2.0, 1.5};

static void mlsm_call(loss_call *c, int weighted, loss_reduction red)
{
    call_begin(c, "multilabel_soft_margin");
    call_input(c, "predictions", mlsm_x, SHAPE(2, 3));
    call_input(c, "targets", mlsm_y, SHAPE(2, 3));
    if (weighted)
        call_input(c, "weight", mlsm_w, SHAPE(3));
    c->reduction = red;
    c->want_gradient = 1;
}

Test(multilabel_soft_margin, extreme_logits_should_stay_finite_and_match_pytorch)
{
    static const struct {
        int weighted;
        loss_reduction red;
        double value, grad[6];
    } cases[] = {
        {0,
         LOSS_REDUCE_MEAN,
         334.0999594832942,
         {-0.16666666666666666, 0.09574041946860981, 0.16666666666666666, 0.14679951299631372,
          -0.10374322186697574, -0.07917013542017666}},
        {0,
         LOSS_REDUCE_SUM,
         668.1999189665884,
         {-0.3333333333333333, 0.19148083893721962, 0.3333333333333333, 0.29359902599262744,
          -0.20748644373395148, -0.15834027084035332}},
        {1,
         LOSS_REDUCE_MEAN,
         334.2811539088215,
         {-0.08333333333333333, 0.19148083893721962, 0.25, 0.07339975649815686,
          -0.20748644373395148, -0.118755203130265}},
    };
    for (size_t k = 0; k < N_OF(cases); k++) {
        loss_call c;
        loss_result r;
        mlsm_call(&c, cases[k].weighted, cases[k].red);
        compute_ok(&c, NULL, &r);
        expect_value(&r, cases[k].value);
        expect_grad(&c, &r, "predictions", cases[k].grad, 6);
        loss_result_release(&r);
    }
}

Test(multilabel_soft_margin, none_should_give_one_value_per_row)
{
    static const double want[] = {667.2362368296457, 1.326070987997352};
    loss_call c;
    loss_result r;
    mlsm_call(&c, 1, LOSS_REDUCE_NONE);
    compute_ok(&c, NULL, &r);
    cr_expect_eq(r.terms[0].rank, 1);
    expect_values(&r.terms[0], want, 2, 1e-12, "none");
    loss_result_release(&r);
}

Test(multilabel_soft_margin, shapes_should_be_checked)
{
    loss_call c;
    mlsm_call(&c, 1, LOSS_REDUCE_MEAN);
    call_input(&c, "weight", mlsm_w, SHAPE(1, 3));
    expect_error(&c, LOSS_ERR_SHAPE, "weight");
    mlsm_call(&c, 0, LOSS_REDUCE_MEAN);
    call_input(&c, "targets", mlsm_y, SHAPE(3, 2));
    expect_error(&c, LOSS_ERR_SHAPE, "targets");
}

Test(multilabel_soft_margin, gradients_float32_and_workers_should_agree)
{
    enum { N = 400, C = 100 };
    double *x = mem_alloc_array(N * C, sizeof(double)), *y = mem_alloc_array(N * C, 8), w[C];
    fill_uniform(x, N * C, -8, 8, 5);
    fill_uniform(y, N * C, 0, 1, 6);
    for (size_t i = 0; i < N * C; i++)
        y[i] = y[i] < 0.5 ? 0.0 : 1.0;
    fill_uniform(w, C, 0.1, 2, 7);
    loss_call c;
    for (loss_reduction red = 0; red < LOSS_REDUCE_BATCHMEAN; red++) {
        call_begin(&c, "multilabel_soft_margin");
        call_input(&c, "predictions", x, SHAPE(N, C));
        call_input(&c, "targets", y, SHAPE(N, C));
        call_input(&c, "weight", w, SHAPE(C));
        c.reduction = red;
        check_workers(&c);
        check_float32(&c);
    }
    mlsm_call(&c, 1, LOSS_REDUCE_MEAN);
    fd_check(&c);
    mlsm_call(&c, 0, LOSS_REDUCE_NONE);
    fd_check(&c);
    mem_free(x);
    mem_free(y);
}
