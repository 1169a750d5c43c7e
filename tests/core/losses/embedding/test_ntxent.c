/* ntxent: expected numbers from /usr/bin/python3 (torch, float64), the producing call quoted
 * above each table; gradients by central differences, float32 against float64, and results
 * bit-identical across 1, 2 and 7 workers. */
#include "../call_checks.h"

/* a = [[1,.5,-.3],[.2,-1,.4],[0,0,0]], b = [[.8,.6,-.1],[.1,-.7,.9],[.3,.2,-.5]]; in float64
 * torch: z = cat([a,b]); zn = z/z.norm(dim=1,keepdim=True).clamp_min(1e-8);
 * s = (zn@zn.T)/tau with -inf on the diagonal; l = -s[r,(r+N)%2N] + logsumexp(s, 1).
 * Row 2 of a is a zero vector: its gradient goes through the clamped norm (x 1e8). */
static double ntx_a[] = {1, .5, -.3, .2, -1, .4, 0, 0, 0};
static double ntx_b[] = {.8, .6, -.1, .1, -.7, .9, .3, .2, -.5};

static void ntx_call(loss_call *c, double tau, loss_reduction red)
{
    call_begin(c, "ntxent");
    call_input(c, "x1", ntx_a, SHAPE(3, 3));
    call_input(c, "x2", ntx_b, SHAPE(3, 3));
    call_param(c, "temperature", tau);
    c->reduction = red;
    c->want_gradient = 1;
}

Test(ntxent, values_and_gradients_should_match_the_formula_in_torch)
{
    static const struct {
        double tau;
        loss_reduction red;
        double value, ga[9], gb[9];
    } cases[] = {
        {0.07,
         LOSS_REDUCE_MEAN,
         2.14649983408422,
         {-0.31837371334855946, -0.039342332859945595, -1.1268162659284418, 1.5227396283862233e-06,
          -3.4588292155067125e-06, -9.408442852959889e-06, -116670892.52212545, -162642880.63879895,
          385369087.5417361},
         {-0.03182365075714033, -0.008089265647924684, -0.3031247999446703, -1.958812230282818e-06,
          7.3714079280817076e-06, 5.950963080761638e-06, 2.001312785789585, 0.8926501948720718,
          1.5578477494225798}},
        {0.5,
         LOSS_REDUCE_SUM,
         5.84072673924891,
         {-0.029592450303371765, -0.5063848663085926, -0.9426162781922258, 0.4714063632608504,
          -0.1456551474369029, -0.5998410502226823, -56094300.33721432, -153259251.60438156,
          331684556.718204},
         {-0.05620266658300355, -0.007381196797886624, -0.493908513451349, 0.2273039154034774,
          0.4638483713650189, 0.3355149649057392, 2.5070976824247975, 1.0580620781265586,
          1.927483440705502}},
        {1.3,
         LOSS_REDUCE_MEAN,
         1.2428358774508335,
         {0.021055667612581694, -0.06288615406018472, -0.03462469805836877, 0.08266379101323856,
          -0.019090081841317802, -0.08905710010991374, -1146698.8835168863, -9807772.297532849,
          21147713.1543393},
         {0.012223893490368926, -0.01448573398562003, 0.010876744009230825, 0.0496350855008417,
          0.06635948354485025, 0.046097922145901096, 0.15852458297626423, 0.012718482981321881,
          0.10020214297828729}},
    };
    for (size_t k = 0; k < N_OF(cases); k++) {
        loss_call c;
        loss_result r;
        ntx_call(&c, cases[k].tau, cases[k].red);
        compute_ok(&c, NULL, &r);
        expect_value(&r, cases[k].value);
        expect_grad(&c, &r, "x1", cases[k].ga, 9);
        expect_grad(&c, &r, "x2", cases[k].gb, 9);
        if (cases[k].red == LOSS_REDUCE_MEAN)
            cr_expect_float_eq(r.denominator, 6.0, 0);
        loss_result_release(&r);
    }
}

Test(ntxent, none_should_give_rows_of_x1_then_rows_of_x2)
{
    static const double want[] = {0.6689338578575328, 0.3439718221460115,  1.6094379124341003,
                                  0.5930889596251865, 0.32286725173729014, 2.302426935448789};
    loss_call c;
    loss_result r;
    ntx_call(&c, 0.5, LOSS_REDUCE_NONE);
    compute_ok(&c, NULL, &r);
    cr_expect_eq(r.terms[0].rank, 1);
    expect_values(&r.terms[0], want, 6, 1e-12, "none");
    loss_result_release(&r);
}

Test(ntxent, one_pair_should_have_zero_loss_and_no_rows_a_nan_mean)
{
    double a[] = {1, 2}, b[] = {-3, 1}, zero[2] = {0, 0};
    loss_call c;
    loss_result r;
    call_begin(&c, "ntxent");
    call_input(&c, "x1", a, SHAPE(1, 2));
    call_input(&c, "x2", b, SHAPE(1, 2));
    c.want_gradient = 1;
    compute_ok(&c, NULL, &r);
    expect_value(&r, 0.0);
    expect_grad(&c, &r, "x1", zero, 2);
    loss_result_release(&r);
    call_input(&c, "x1", NULL, SHAPE(0, 2));
    call_input(&c, "x2", NULL, SHAPE(0, 2));
    compute_ok(&c, NULL, &r);
    cr_expect(isnan(r.value));
    loss_result_release(&r);
}

Test(ntxent, bad_shapes_temperatures_and_values_should_be_refused)
{
    loss_call c;
    ntx_call(&c, 0.0, LOSS_REDUCE_MEAN);
    expect_error(&c, LOSS_ERR_PARAM, "temperature");
    ntx_call(&c, 0.1, LOSS_REDUCE_MEAN);
    call_input(&c, "x2", ntx_b, SHAPE(3, 2));
    expect_error(&c, LOSS_ERR_SHAPE, "x2");
    ntx_call(&c, 0.1, LOSS_REDUCE_MEAN);
    call_input(&c, "x1", ntx_a, SHAPE(9));
    expect_error(&c, LOSS_ERR_SHAPE, "x1");
    double b[9];
    memcpy(b, ntx_b, sizeof b);
    b[4] = INFINITY;
    ntx_call(&c, 0.1, LOSS_REDUCE_MEAN);
    call_input(&c, "x2", b, SHAPE(3, 3));
    expect_error(&c, LOSS_ERR_NON_FINITE, "x2");
}

Test(ntxent, gradients_float32_and_workers_should_agree)
{
    enum { N = 150, D = 24 };
    double *a = mem_alloc_array(N * D, sizeof(double)), *b = mem_alloc_array(N * D, 8);
    fill_uniform(a, N * D, -1, 1, 15);
    fill_uniform(b, N * D, -1, 1, 16);
    for (loss_reduction red = 0; red < LOSS_REDUCE_BATCHMEAN; red++) {
        loss_call c;
        call_begin(&c, "ntxent");
        call_input(&c, "x1", a, SHAPE(N, D));
        call_input(&c, "x2", b, SHAPE(N, D));
        call_param(&c, "temperature", 0.2);
        c.reduction = red;
        check_workers(&c);
        check_float32(&c);
        call_input(&c, "x1", a, SHAPE(5, 4));
        call_input(&c, "x2", b, SHAPE(5, 4));
        fd_check(&c);
    }
    mem_free(a);
    mem_free(b);
}

/* Fails the n-th allocation for every n until a run succeeds (ASan reports any leak). */
Test(ntxent, allocation_failures_should_end_in_a_clean_out_of_memory_error)
{
    loss_call c;
    ntx_call(&c, 0.5, LOSS_REDUCE_MEAN);
    sweep_allocation_failures(&c);
    ntx_call(&c, 0.5, LOSS_REDUCE_NONE);
    c.want_gradient = 0;
    sweep_allocation_failures(&c);
}
