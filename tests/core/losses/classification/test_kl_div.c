/* kl_div: expected numbers from /usr/bin/python3 (torch, float64), the producing call quoted
 * above each table; gradients by central differences, float32 against float64, and results
 * bit-identical across 1, 2 and 7 workers. */
#include "../call_checks.h"

/* x = [[-0.5,-1.2,-2.0],[-0.1,-3.0,-0.7]], p = [[0,.5,.5],[.2,.2,.6]]:
 * F.kl_div(x, p, reduction=red) in float64, l.sum().backward(). */
static double kl_x[] = {-0.5, -1.2, -2.0, -0.1, -3.0, -0.7};
static double kl_p[] = {0.0, 0.5, 0.5, 0.2, 0.2, 0.6};

static void kl_call(loss_call *c, double *x, double *p, loss_reduction red)
{
    call_begin(c, "kl_div");
    call_input(c, "predictions", x, SHAPE(2, 3));
    call_input(c, "targets", p, SHAPE(2, 3));
    c->reduction = red;
    c->want_gradient = 1;
}

Test(kl_div, every_reduction_should_match_pytorch)
{
    static const struct {
        loss_reduction red;
        double value, g;
    } cases[] = {
        {LOSS_REDUCE_MEAN, 0.16609704670113667, 1.0 / 6},
        {LOSS_REDUCE_SUM, 0.99658228020682, 1.0},
        {LOSS_REDUCE_BATCHMEAN, 0.49829114010341, 0.5},
    };
    for (size_t k = 0; k < N_OF(cases); k++) {
        loss_call c;
        loss_result r;
        kl_call(&c, kl_x, kl_p, cases[k].red);
        compute_ok(&c, NULL, &r);
        expect_value(&r, cases[k].value);
        double g[6];
        for (size_t i = 0; i < 6; i++)
            g[i] = -kl_p[i] * cases[k].g;
        expect_grad(&c, &r, "predictions", g, 6);
        if (cases[k].red != LOSS_REDUCE_SUM)
            cr_expect_float_eq(r.denominator, cases[k].red == LOSS_REDUCE_MEAN ? 6.0 : 2.0, 0);
        loss_result_release(&r);
    }
}

Test(kl_div, none_should_give_zero_where_the_target_is_zero)
{
    /* xlogy(0, 0) - 0*x = 0, and the prediction gradient there is -0. */
    static const double want[] = {0.0,
                                  0.25342640972002733,
                                  0.6534264097200273,
                                  -0.30188758248682007,
                                  0.27811241751318,
                                  0.11350462574040554};
    loss_call c;
    loss_result r;
    kl_call(&c, kl_x, kl_p, LOSS_REDUCE_NONE);
    compute_ok(&c, NULL, &r);
    expect_values(&r.terms[0], want, 6, 1e-12, "none");
    cr_expect_eq(r.terms[0].rank, 2);
    cr_expect_eq(elem(&r.grad[0], 0), 0.0);
    loss_result_release(&r);
}

Test(kl_div, log_target_batchmean_should_match_pytorch)
{
    /* t = [[-3,-.2,.4],[-1,-2,0]]: F.kl_div(x, t, reduction="batchmean", log_target=True) */
    static double t[] = {-3.0, -0.2, 0.4, -1.0, -2.0, 0.0};
    static const double g[] = {-0.024893534183931972, -0.4093653765389909,  -0.7459123488206352,
                               -0.18393972058572117,  -0.06766764161830635, -0.5};
    loss_call c;
    loss_result r;
    kl_call(&c, kl_x, t, LOSS_REDUCE_BATCHMEAN);
    call_param(&c, "log_target", 1);
    compute_ok(&c, NULL, &r);
    expect_value(&r, 2.389443071339843);
    expect_grad(&c, &r, "predictions", g, 6);
    loss_result_release(&r);
    fd_check(&c);
}

Test(kl_div, negative_target_should_be_out_of_domain)
{
    double p[] = {0.0, 0.5, 0.5, 0.2, -0.2, 0.6};
    loss_call c;
    kl_call(&c, kl_x, p, LOSS_REDUCE_SUM);
    expect_error(&c, LOSS_ERR_DOMAIN, "targets");
    call_param(&c, "log_target", 1); /* log p may be negative */
    loss_result r;
    compute_ok(&c, NULL, &r);
    loss_result_release(&r);
}

Test(kl_div, batchmean_of_a_scalar_should_be_its_sum_and_of_nothing_nan)
{
    double x = -0.3, p = 0.4;
    loss_call c;
    loss_result r;
    call_begin(&c, "kl_div");
    call_input(&c, "predictions", &x, SCALAR);
    call_input(&c, "targets", &p, SCALAR);
    c.reduction = LOSS_REDUCE_BATCHMEAN;
    compute_ok(&c, NULL, &r);
    expect_value(&r, 0.4 * log(0.4) + 0.4 * 0.3);
    loss_result_release(&r);
    call_input(&c, "predictions", NULL, SHAPE(0, 3));
    call_input(&c, "targets", NULL, SHAPE(0, 3));
    c.want_gradient = 1;
    compute_ok(&c, NULL, &r);
    cr_expect(isnan(r.value));
    loss_result_release(&r);
}

Test(kl_div, shape_mismatch_should_name_targets)
{
    double p[3] = {0.2, 0.3, 0.5};
    loss_call c;
    kl_call(&c, kl_x, p, LOSS_REDUCE_MEAN);
    call_input(&c, "targets", p, SHAPE(3));
    expect_error(&c, LOSS_ERR_SHAPE, "targets");
}

Test(kl_div, gradients_float32_and_workers_should_agree)
{
    enum { N = 300, C = 200 };
    double *x = mem_alloc_array(N * C, sizeof(double)), *p = mem_alloc_array(N * C, 8);
    fill_uniform(x, N * C, -5, 0, 1);
    fill_uniform(p, N * C, 0, 1, 2);
    loss_call c;
    for (loss_reduction red = 0; red < LOSS_REDUCE_COUNT; red++) {
        call_begin(&c, "kl_div");
        call_input(&c, "predictions", x, SHAPE(N, C));
        call_input(&c, "targets", p, SHAPE(N, C));
        c.reduction = red;
        check_workers(&c);
        check_float32(&c);
    }
    kl_call(&c, kl_x, kl_p, LOSS_REDUCE_BATCHMEAN);
    fd_check(&c);
    mem_free(x);
    mem_free(p);
}
