/* contrastive: expected numbers printed by /usr/bin/python3 (torch, torchvision, float64,
 * "%.17g") from the call quoted above each test; gradients also by central differences, and
 * results bit-identical across worker counts. */
#include "../shaped_call.h"

/* Rows: identical (t=0), identical (t=1), d < margin (t=1), d > margin (t=1), t=0. */
static double con_x1[] = {0.5, -0.2, 1.0, 0.5,  -0.2, 1.0, 0.1, 0.2,
                          0.3, 1.0,  0.0, -1.0, 0.3,  0.3, 0.3};
static double con_x2[] = {0.5, -0.2, 1.0, 0.5, -0.2, 1.0, 0.4, -0.1,
                          0.5, -0.5, 0.8, 0.9, 0.0,  0.9, -0.2};
static double con_t[] = {0, 1, 1, 1, 0};

static void contrastive_call(loss_call *c, loss_reduction red)
{
    start(c, "contrastive", red);
    put_f(c, "x1", con_x1, 2, SHAPE(5, 3));
    put_f(c, "x2", con_x2, 2, SHAPE(5, 3));
    put_f(c, "targets", con_t, 1, SHAPE(5));
}

static void expect_pair_grads(const loss_call *c, const loss_result *r, const double *g1, size_t n,
                              double tol)
{
    double g2[64];
    for (size_t i = 0; i < n; i++)
        g2[i] = -g1[i];
    expect_near(grad_of(c, r, "x1"), g1, n, tol, "x1 grad");
    expect_near(grad_of(c, r, "x2"), g2, n, tol, "x2 grad");
}

/* d = F.pairwise_distance(x1, x2, eps=1e-6);
 * ((1 - t) * d ** 2 + t * torch.clamp(1.0 - d, min=0) ** 2).mean() */
Test(contrastive, mean_should_match_the_hadsell_formula_with_pairwise_distance)
{
    /* clang-format off */
    const double g1[] = {4.0000000000000003e-07, 4.0000000000000003e-07, 4.0000000000000003e-07,
                         -0.23093970767585037,  -0.23093970767585037,  -0.23093970767585037,
                         0.13584063940426427,   -0.13584154501154563,  0.090560275334962595,
                         0, 0, 0, 0.12000039999999999, -0.23999960000000006, 0.20000040000000005};
    /* clang-format on */
    loss_call c;
    loss_result r;
    contrastive_call(&c, LOSS_REDUCE_MEAN);
    for (int dt = 0; dt < 2; dt++) {
        double tol = dt ? 1e-5 : 1e-12;
        c.dtype = (loss_dtype)dt;
        run_ok(&c, NULL, &r);
        expect_value(&r, 0.3963828473485112, tol);
        expect_pair_grads(&c, &r, g1, COUNT(g1), tol);
        loss_result_release(&r);
    }
}

/* Away from d = 0, where the distance has a kink that central differences cannot see. */
Test(contrastive, gradients_should_match_finite_differences)
{
    double x1[24], x2[24], t[] = {0, 1, 1, 0, 1, 1};
    uint64_t s = 17;
    for (size_t i = 0; i < 24; i++) {
        x1[i] = rnd(&s, -0.6, 0.6);
        x2[i] = rnd(&s, -0.6, 0.6);
    }
    loss_call c;
    start(&c, "contrastive", LOSS_REDUCE_SUM);
    put_f(&c, "x1", x1, 2, SHAPE(6, 4));
    put_f(&c, "x2", x2, 2, SHAPE(6, 4));
    put_f(&c, "targets", t, 1, SHAPE(6));
    set_param(&c, "margin", 1.2);
    check_fd(&c, "x1", 1e-6);
    check_fd(&c, "x2", 1e-6);
}

/* same with reduction='none': identical embeddings give d = 1e-6 * sqrt(3) */
Test(contrastive, none_should_give_one_term_per_row)
{
    /* clang-format off */
    const double terms[] = {2.9999999999999993e-12, 0.99999653590138493, 0.28191730083517103, 0,
                            0.70000040000300012};
    const double g1[] = {1.9999999999999999e-06, 1.9999999999999999e-06, 1.9999999999999999e-06,
                         -1.1546985383792516,    -1.1546985383792516,    -1.1546985383792516,
                         0.67920319702132137,    -0.67920772505772808,   0.45280137667481296,
                         0, 0, 0, 0.60000199999999992, -1.1999980000000001, 1.0000020000000001};
    /* clang-format on */
    loss_call c;
    loss_result r;
    contrastive_call(&c, LOSS_REDUCE_NONE);
    run_ok(&c, NULL, &r);
    expect_near(&r.terms[0], terms, 5, 1e-12, "terms");
    expect_pair_grads(&c, &r, g1, COUNT(g1), 1e-12);
    loss_result_release(&r);
}

/* margin=2.0, eps=0.0: identical embeddings have d = 0 and a zero gradient */
Test(contrastive, zero_distance_should_have_zero_gradient)
{
    /* clang-format off */
    const double g1[] = {0, 0, 0, 0, 0, 0, 0.39168171925346507, -0.39168171925346507,
                         0.26112114616897669, 0, 0, 0, 0.11999999999999998,
                         -0.24000000000000005, 0.20000000000000001};
    /* clang-format on */
    loss_call c;
    loss_result r;
    contrastive_call(&c, LOSS_REDUCE_MEAN);
    set_param(&c, "margin", 2.0);
    set_param(&c, "eps", 0.0);
    run_ok(&c, NULL, &r);
    expect_value(&r, 1.4087667392141257, 1e-12);
    expect_pair_grads(&c, &r, g1, COUNT(g1), 1e-12);
    loss_result_release(&r);
}

/* contrastive(torch.tensor([0.2, -0.4]), torch.tensor([1.0, 0.1]), torch.tensor(1.), margin=1.5) */
Test(contrastive, a_single_pair_should_take_a_scalar_target)
{
    double x1[] = {0.2, -0.4}, x2[] = {1.0, 0.1}, t[] = {1};
    const double g1[] = {0.94399744796988638, 0.58999796248182224};
    loss_call c;
    loss_result r;
    start(&c, "contrastive", LOSS_REDUCE_MEAN);
    put_f(&c, "x1", x1, 1, SHAPE(2));
    put_f(&c, "x2", x2, 1, SHAPE(2));
    put_f(&c, "targets", t, 0, NULL);
    set_param(&c, "margin", 1.5);
    run_ok(&c, NULL, &r);
    expect_value(&r, 0.30980719437659004, 1e-12);
    expect_pair_grads(&c, &r, g1, 2, 1e-12);
    loss_result_release(&r);
}

Test(contrastive, targets_outside_zero_one_should_be_out_of_domain)
{
    double t[] = {0, 1, 0.5, 1, 0};
    loss_call c;
    contrastive_call(&c, LOSS_REDUCE_MEAN);
    put_f(&c, "targets", t, 1, SHAPE(5));
    run_err(&c, LOSS_ERR_DOMAIN, "targets", "targets[2] = 0.5");
    t[2] = -1;
    run_err(&c, LOSS_ERR_DOMAIN, "targets", "targets[2] = -1");
}

Test(contrastive, bad_shapes_should_name_the_offending_input)
{
    loss_call c;
    contrastive_call(&c, LOSS_REDUCE_MEAN);
    put_f(&c, "x2", con_x2, 2, SHAPE(3, 5));
    run_err(&c, LOSS_ERR_SHAPE, "x2", NULL);
    put_f(&c, "x2", con_x2, 2, SHAPE(5, 3));
    put_f(&c, "targets", con_t, 1, SHAPE(4));
    run_err(&c, LOSS_ERR_SHAPE, "targets", NULL);
    put_f(&c, "targets", con_t, 2, SHAPE(5, 1));
    run_err(&c, LOSS_ERR_SHAPE, "targets", NULL);
}

Test(contrastive, result_bytes_should_not_depend_on_the_number_of_workers)
{
    const size_t n = 20000, dim = 10;
    double *x1 = mem_alloc(n * dim * sizeof *x1), *x2 = mem_alloc(n * dim * sizeof *x2);
    double *t = mem_alloc(n * sizeof *t);
    random_fill(x1, n * dim, 8);
    random_fill(x2, n * dim, 9);
    for (size_t i = 0; i < n; i++)
        t[i] = (double)(i % 3 == 0);
    loss_call c;
    start(&c, "contrastive", LOSS_REDUCE_MEAN);
    put_f(&c, "x1", x1, 2, SHAPE(n, dim));
    put_f(&c, "x2", x2, 2, SHAPE(n, dim));
    put_f(&c, "targets", t, 1, SHAPE(n));
    for (int dt = 0; dt < 2; dt++) {
        c.dtype = (loss_dtype)dt;
        expect_same_bytes_across_workers(&c);
    }
    mem_free(x1);
    mem_free(x2);
    mem_free(t);
}
