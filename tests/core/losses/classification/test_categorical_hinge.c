/* categorical_hinge: expected numbers from /usr/bin/python3 (torch, float64), the producing call
 * quoted above each table; gradients by central differences, float32 against float64, and results
 * bit-identical across 1, 2 and 7 workers. */
#include "../call_checks.h"

/* p = [[.2,.5,.3],[2,-1,.4],[.1,.7,.7],[-.5,-.2,-.9],[0,1,0]], one-hot t = [1,0,0,1,1]:
 * pos=(y*p).sum(-1); neg=((1-y)*p).amax(-1); torch.clamp(neg-pos+1, min=0) (the Keras
 * formula with torch's tie rules). Row 2 ties two maxima (1/2 each); row 4 ties three,
 * one of them the target class, and sits exactly at the hinge (z = 0, which passes). */
static double ch_p[] = {.2, .5, .3, 2, -1, .4, .1, .7, .7, -.5, -.2, -.9, 0, 1, 0};
static double ch_t[] = {0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0};
static const double ch_g_sum[] = {0.0, -1.0, 1.0,  0.0, 0.0,     0.0,  -1.0,   0.5,
                                  0.5, 0.0,  -1.0, 0.0, 1.0 / 3, -1.0, 1.0 / 3};

static void ch_call(loss_call *c, loss_reduction red)
{
    call_begin(c, "categorical_hinge");
    call_input(c, "predictions", ch_p, SHAPE(5, 3));
    call_input(c, "targets", ch_t, SHAPE(5, 3));
    c->reduction = red;
    c->want_gradient = 1;
}

Test(categorical_hinge, ties_should_follow_clamp_min_and_amax)
{
    static const double none[] = {0.8, 0.0, 1.6, 1.2, 0.0};
    double g_mean[15];
    for (size_t i = 0; i < 15; i++)
        g_mean[i] = ch_g_sum[i] / 5;
    loss_call c;
    loss_result r;
    ch_call(&c, LOSS_REDUCE_MEAN);
    compute_ok(&c, NULL, &r);
    expect_value(&r, 0.7200000000000001);
    expect_grad(&c, &r, "predictions", g_mean, 15);
    loss_result_release(&r);
    ch_call(&c, LOSS_REDUCE_NONE);
    compute_ok(&c, NULL, &r);
    expect_values(&r.terms[0], none, 5, 1e-12, "none");
    expect_grad(&c, &r, "predictions", ch_g_sum, 15);
    loss_result_release(&r);
    ch_call(&c, LOSS_REDUCE_SUM);
    compute_ok(&c, NULL, &r);
    expect_value(&r, 3.6000000000000005);
    loss_result_release(&r);
}

Test(categorical_hinge, shapes_should_be_checked)
{
    loss_call c;
    ch_call(&c, LOSS_REDUCE_MEAN);
    call_input(&c, "targets", ch_t, SHAPE(3, 5));
    expect_error(&c, LOSS_ERR_SHAPE, "targets");
    ch_call(&c, LOSS_REDUCE_MEAN);
    call_input(&c, "predictions", ch_p, SHAPE(5, 0));
    call_input(&c, "targets", ch_t, SHAPE(5, 0));
    expect_error(&c, LOSS_ERR_SHAPE, "predictions");
}

Test(categorical_hinge, gradients_float32_and_workers_should_agree)
{
    enum { N = 900, C = 40 };
    double *p = mem_alloc_array(N * C, sizeof(double)), *t = mem_alloc_array(N * C, 8);
    fill_uniform(p, N * C, -1, 1, 13);
    memset(t, 0, N * C * sizeof(double));
    for (size_t i = 0; i < N; i++)
        t[i * C + (i * 11) % C] = 1.0;
    loss_call c;
    call_begin(&c, "categorical_hinge");
    call_input(&c, "predictions", p, SHAPE(N, C));
    call_input(&c, "targets", t, SHAPE(N, C));
    check_workers(&c);
    check_float32(&c);
    call_input(&c, "predictions", p, SHAPE(6, C));
    call_input(&c, "targets", t, SHAPE(6, C));
    fd_check(&c);
    mem_free(p);
    mem_free(t);
}
