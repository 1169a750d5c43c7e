/* multilabel_margin: expected numbers from /usr/bin/python3 (torch, float64), the producing call
 * quoted above each table; gradients by central differences, float32 against float64, and results
 * bit-identical across 1, 2 and 7 workers. */
#include "../call_checks.h"

/* x = [[.1,.2,.4,.8],[.5,-.3,.9,.2],[.3,.3,.3,.3]], t = [[3,0,-1,1],[2,-1,0,0],[1,1,-1,0]]:
 * F.multilabel_margin_loss(x, t, reduction=red). Row 0 is the worked example ({3,0}, 0.85); row 2
 * lists class 1 twice, which PyTorch counts twice. */
static double mlm_x[] = {.1, .2, .4, .8, .5, -.3, .9, .2, .3, .3, .3, .3};
static double mlm_t[] = {3, 0, -1, 1, 2, -1, 0, 0, 1, 1, -1, 0};
static const double mlm_g_sum[] = {-0.5, 0.5,  0.5, -0.5, 0.25, 0.0,
                                   -0.5, 0.25, 0.5, -1.5, 0.5,  0.5};

static void mlm_call(loss_call *c, loss_reduction red)
{
    call_begin(c, "multilabel_margin");
    call_input(c, "predictions", mlm_x, SHAPE(3, 4));
    call_input(c, "targets", mlm_t, SHAPE(3, 4));
    c->reduction = red;
    c->want_gradient = 1;
}

Test(multilabel_margin, values_and_gradients_should_match_pytorch)
{
    static const double none[] = {0.8500000000000001, 0.22499999999999998, 1.5};
    double g_mean[12];
    for (size_t i = 0; i < 12; i++)
        g_mean[i] = mlm_g_sum[i] / 3;
    loss_call c;
    loss_result r;
    mlm_call(&c, LOSS_REDUCE_MEAN);
    compute_ok(&c, NULL, &r);
    expect_value(&r, 0.8583333333333334);
    expect_grad(&c, &r, "predictions", g_mean, 12);
    loss_result_release(&r);
    mlm_call(&c, LOSS_REDUCE_NONE);
    compute_ok(&c, NULL, &r);
    expect_values(&r.terms[0], none, 3, 1e-12, "none");
    expect_grad(&c, &r, "predictions", mlm_g_sum, 12);
    loss_result_release(&r);
    mlm_call(&c, LOSS_REDUCE_SUM);
    compute_ok(&c, NULL, &r);
    expect_value(&r, 2.575);
    loss_result_release(&r);
}

Test(multilabel_margin, a_pair_exactly_at_the_margin_should_have_zero_gradient)
{
    /* x = [[1,0,.5]], t = [[0,-1,0]]: the pair (0,1) has z = 0 exactly.
     * F.multilabel_margin_loss(x, t, reduction='sum') = 0.16666666666666666,
     * grad [[-1/3, 0, 1/3]]. A 1-D row gives a scalar. */
    double x[] = {1, 0, .5}, t[] = {0, -1, 0};
    loss_call c;
    loss_result r;
    call_begin(&c, "multilabel_margin");
    call_input(&c, "predictions", x, SHAPE(3));
    call_input(&c, "targets", t, SHAPE(3));
    c.reduction = LOSS_REDUCE_NONE;
    c.want_gradient = 1;
    compute_ok(&c, NULL, &r);
    cr_expect_eq(r.terms[0].rank, 0);
    expect_values(&r.terms[0], (double[]){0.16666666666666666}, 1, 1e-12, "none");
    expect_grad(&c, &r, "predictions", (double[]){-1.0 / 3, 0.0, 1.0 / 3}, 3);
    loss_result_release(&r);
}

Test(multilabel_margin, targets_outside_minus_one_to_c_should_be_out_of_domain)
{
    /* PyTorch checks every entry, also those after the -1: "target is out of range". */
    double t[12];
    loss_call c;
    memcpy(t, mlm_t, sizeof t);
    t[3] = 4;
    mlm_call(&c, LOSS_REDUCE_MEAN);
    call_input(&c, "targets", t, SHAPE(3, 4));
    expect_error(&c, LOSS_ERR_DOMAIN, "targets");
    t[3] = -2;
    expect_error(&c, LOSS_ERR_DOMAIN, "targets");
    call_input(&c, "targets", mlm_t, SHAPE(4, 3));
    expect_error(&c, LOSS_ERR_SHAPE, "targets");
}

Test(multilabel_margin, gradients_float32_and_workers_should_agree)
{
    enum { N = 300, C = 30 };
    double *x = mem_alloc_array(N * C, sizeof(double)), *t = mem_alloc_array(N * C, 8);
    fill_uniform(x, N * C, -1, 1, 14);
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < C; k++) {
            size_t listed = i % 5;
            t[i * C + k] = k < listed ? (double)((i + 3 * k) % C) : k == listed ? -1 : 7;
        }
    loss_call c;
    call_begin(&c, "multilabel_margin");
    call_input(&c, "predictions", x, SHAPE(N, C));
    call_input(&c, "targets", t, SHAPE(N, C));
    check_workers(&c);
    check_float32(&c);
    call_input(&c, "predictions", x, SHAPE(7, C));
    call_input(&c, "targets", t, SHAPE(7, C));
    fd_check(&c);
    mem_free(x);
    mem_free(t);
}

/* Fails the n-th allocation for every n until a run succeeds (ASan reports any leak). */
Test(multilabel_margin, allocation_failures_should_end_in_a_clean_out_of_memory_error)
{
    loss_call c;
    mlm_call(&c, LOSS_REDUCE_NONE);
    sweep_allocation_failures(&c);
}
