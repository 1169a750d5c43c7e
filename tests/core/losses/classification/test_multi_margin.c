/* multi_margin: expected numbers from /usr/bin/python3 (torch, float64), the producing call quoted
 * above each table; gradients by central differences, float32 against float64, and results
 * bit-identical across 1, 2 and 7 workers. */
#include "../call_checks.h"

/* x = [[1,0,.5],[.1,.2,.4]], t = [0,2], w = [.3,2,.7]:
 * F.multi_margin_loss(x, t, p=p, margin=m, weight=w, reduction=red), l.sum().backward(). */
static double mm_x[] = {1, 0, .5, .1, .2, .4};
static double mm_t[] = {0, 2};
static double mm_w[] = {.3, 2.0, .7};

static void mm_call(loss_call *c, double p, double margin, int weighted, loss_reduction red)
{
    call_begin(c, "multi_margin");
    call_input(c, "predictions", mm_x, SHAPE(2, 3));
    call_input(c, "targets", mm_t, SHAPE(2));
    if (weighted)
        call_input(c, "weight", mm_w, SHAPE(3));
    call_param(c, "p", p);
    call_param(c, "margin", margin);
    c->reduction = red;
    c->want_gradient = 1;
}

Test(multi_margin, values_and_gradients_should_match_pytorch)
{
    static const struct {
        double p, margin;
        int weighted;
        loss_reduction red;
        double value, grad[6];
    } cases[] = {
        {1,
         1.0,
         0,
         LOSS_REDUCE_MEAN,
         0.3333333333333333,
         {-0.16666666666666666, 0.0, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666,
          -0.3333333333333333}},
        {1,
         0.35,
         0,
         LOSS_REDUCE_SUM,
         0.06666666666666664,
         {0.0, 0.0, 0.0, 0.3333333333333333, 0.3333333333333333, -0.6666666666666666}},
        {1,
         1.0,
         1,
         LOSS_REDUCE_MEAN,
         0.19999999999999996,
         {-0.049999999999999996, 0.0, 0.049999999999999996, 0.11666666666666665,
          0.11666666666666665, -0.2333333333333333}},
        {2,
         1.0,
         0,
         LOSS_REDUCE_MEAN,
         0.23,
         {-0.16666666666666666, 0.0, 0.16666666666666666, 0.2333333333333333, 0.26666666666666666,
          -0.5}},
        {2,
         0.35,
         1,
         LOSS_REDUCE_SUM,
         0.005833333333333329,
         {0.0, 0.0, 0.0, 0.023333333333333314, 0.06999999999999998, -0.0933333333333333}},
        {2,
         1.0,
         1,
         LOSS_REDUCE_MEAN,
         0.14433333333333334,
         {-0.049999999999999996, 0.0, 0.049999999999999996, 0.1633333333333333, 0.18666666666666665,
          -0.35}},
    };
    for (size_t k = 0; k < N_OF(cases); k++) {
        loss_call c;
        loss_result r;
        mm_call(&c, cases[k].p, cases[k].margin, cases[k].weighted, cases[k].red);
        compute_ok(&c, NULL, &r);
        expect_value(&r, cases[k].value);
        expect_grad(&c, &r, "predictions", cases[k].grad, 6);
        if (cases[k].red == LOSS_REDUCE_MEAN)
            cr_expect_float_eq(r.denominator, 2.0, 0, "mean divides by N even with weight");
        loss_result_release(&r);
    }
}

Test(multi_margin, none_should_give_one_value_per_row)
{
    /* p=2, weighted, margin 1, reduction none */
    static const double want[] = {0.024999999999999998, 0.26366666666666666};
    static const double g[] = {-0.09999999999999999, 0.0, 0.09999999999999999, 0.3266666666666666,
                               0.3733333333333333,   -0.7};
    loss_call c;
    loss_result r;
    mm_call(&c, 2, 1.0, 1, LOSS_REDUCE_NONE);
    compute_ok(&c, NULL, &r);
    expect_values(&r.terms[0], want, 2, 1e-12, "none");
    expect_grad(&c, &r, "predictions", g, 6);
    loss_result_release(&r);
}

Test(multi_margin, a_term_exactly_at_the_margin_should_have_zero_gradient)
{
    /* x=[[1,0,.5]], t=[0]: z for class 1 is exactly 0. F.multi_margin_loss(x, t,
     * reduction='sum') = 0.16666666666666666, grad [[-1/3, 0, 1/3]] for p=1 and p=2. */
    double x[] = {1, 0, .5}, t[] = {0};
    static const double g[] = {-1.0 / 3, 0.0, 1.0 / 3};
    static const double values[] = {0.16666666666666666, 0.08333333333333333};
    for (int p = 1; p <= 2; p++) {
        loss_call c;
        loss_result r;
        call_begin(&c, "multi_margin");
        call_input(&c, "predictions", x, SHAPE(1, 3));
        call_input(&c, "targets", t, SHAPE(1));
        call_param(&c, "p", p);
        c.reduction = LOSS_REDUCE_SUM;
        c.want_gradient = 1;
        compute_ok(&c, NULL, &r);
        expect_value(&r, values[p - 1]);
        expect_grad(&c, &r, "predictions", g, 3);
        loss_result_release(&r);
    }
}

Test(multi_margin, a_vector_with_a_scalar_target_should_give_a_scalar)
{
    double x[] = {.1, .2, .4}, t = 2;
    loss_call c;
    loss_result r;
    call_begin(&c, "multi_margin");
    call_input(&c, "predictions", x, SHAPE(3));
    call_input(&c, "targets", &t, SCALAR);
    c.reduction = LOSS_REDUCE_NONE;
    compute_ok(&c, NULL, &r);
    cr_expect_eq(r.terms[0].rank, 0);
    expect_values(&r.terms[0], (double[]){0.5}, 1, 1e-12, "none");
    loss_result_release(&r);
}

Test(multi_margin, bad_targets_shapes_and_parameters_should_be_refused)
{
    loss_call c;
    mm_call(&c, 1, 1.0, 0, LOSS_REDUCE_MEAN);
    double bad_t[] = {0, 3};
    call_input(&c, "targets", bad_t, SHAPE(2));
    expect_error(&c, LOSS_ERR_DOMAIN, "targets");
    bad_t[1] = -1;
    expect_error(&c, LOSS_ERR_DOMAIN, "targets");
    call_input(&c, "targets", mm_t, SHAPE(1));
    expect_error(&c, LOSS_ERR_SHAPE, "targets");
    mm_call(&c, 1, 1.0, 1, LOSS_REDUCE_MEAN);
    call_input(&c, "weight", mm_w, SHAPE(2));
    expect_error(&c, LOSS_ERR_SHAPE, "weight");
    mm_call(&c, 3, 1.0, 0, LOSS_REDUCE_MEAN);
    expect_error(&c, LOSS_ERR_PARAM, "p");
    double w[] = {1, NAN, 1};
    mm_call(&c, 1, 1.0, 0, LOSS_REDUCE_MEAN);
    call_input(&c, "weight", w, SHAPE(3));
    expect_error(&c, LOSS_ERR_NON_FINITE, "weight");
}

Test(multi_margin, gradients_float32_and_workers_should_agree)
{
    enum { N = 700, C = 50 };
    double *x = mem_alloc_array(N * C, sizeof(double)), t[N], w[C];
    fill_uniform(x, N * C, -1, 1, 3);
    fill_uniform(w, C, 0.1, 2, 4);
    for (size_t i = 0; i < N; i++)
        t[i] = (double)((i * 7) % C);
    for (int p = 1; p <= 2; p++) {
        loss_call c;
        call_begin(&c, "multi_margin");
        call_input(&c, "predictions", x, SHAPE(N, C));
        call_input(&c, "targets", t, SHAPE(N));
        call_input(&c, "weight", w, SHAPE(C));
        call_param(&c, "p", p);
        check_workers(&c);
        check_float32(&c);
        mm_call(&c, p, 0.7, 1, LOSS_REDUCE_MEAN);
        fd_check(&c);
        mm_call(&c, p, 0.9, 0, LOSS_REDUCE_NONE); /* margin 1 puts row 0 on a tie */
        fd_check(&c);
    }
    mem_free(x);
}
