/* nll: expected numbers printed by /usr/bin/python3 (torch, torchvision, float64,
 * "%.17g") from the call quoted above each test; gradients also by central differences, and
 * results bit-identical across worker counts. */
#include "class_cases.h"

static double nll_x[] = {-0.5,  -1.25, -2.0, -0.1, -1.5,   -0.25,
                         -0.75, -3.0,  -2.0, -0.5, -0.125, -1.0};

/* F.nll_loss(X, torch.tensor([2, -100, 1]), weight=W), X = nll_x as (3, 4), W = ce_w */
Test(nll, weighted_mean_should_skip_ignored_targets)
{
    int64_t t[] = {2, -100, 1};
    const double grad[] = {0, 0, -0.42857142857142855, 0, 0, 0, 0, 0, 0, -0.5714285714285714, 0, 0};
    const double terms[] = {3, 0, 1}, none_grad[] = {0, 0, -1.5, 0, 0, 0, 0, 0, 0, -2, 0, 0};
    loss_call c;
    loss_result r;
    start(&c, "nll", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", nll_x, 2, SHAPE(3, 4));
    put_i(&c, "targets", t, 1, SHAPE(3));
    put_f(&c, "weight", ce_w, 1, SHAPE(4));
    for (int dt = 0; dt < 2; dt++) {
        c.dtype = (loss_dtype)dt;
        double tol = dt ? 1e-6 : 1e-14;
        c.reduction = LOSS_REDUCE_MEAN;
        run_ok(&c, NULL, &r);
        expect_value(&r, 1.1428571428571428, tol);
        expect_near(grad_of(&c, &r, "predictions"), grad, COUNT(grad), tol, "grad");
        cr_assert_eq(r.denominator, 3.5);
        loss_result_release(&r);
        c.reduction = LOSS_REDUCE_NONE;
        run_ok(&c, NULL, &r);
        expect_near(&r.terms[0], terms, 3, tol, "terms");
        expect_near(grad_of(&c, &r, "predictions"), none_grad, COUNT(none_grad), tol, "none grad");
        loss_result_release(&r);
    }
}

/* F.nll_loss(XK, TK, weight=torch.tensor([1.0, 0.5, 2.0]), ignore_index=1),
 * XK = ce_xk as (2, 3, 2, 2), TK = [[[0, 2], [1, 1]], [[2, 1], [0, 0]]] */
Test(nll, k_dimensional_input_should_match_pytorch)
{
    int64_t t[] = {0, 2, 1, 1, 2, 1, 0, 0};
    /* clang-format off */
    const double grad[] = {-0.14285714285714285, 0, 0, 0, 0, 0, 0, 0, 0, -0.2857142857142857, 0,
                           0, 0, 0, -0.14285714285714285, -0.14285714285714285, 0, 0, 0, 0,
                           -0.2857142857142857, 0, 0, 0};
    /* clang-format on */
    loss_call c;
    loss_result r;
    start(&c, "nll", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", ce_xk, 4, SHAPE(2, 3, 2, 2));
    put_i(&c, "targets", t, 3, SHAPE(2, 2, 2));
    put_f(&c, "weight", ce_wk, 1, SHAPE(3));
    set_param(&c, "ignore_index", 1);
    run_ok(&c, NULL, &r);
    expect_value(&r, 0.24285714285714285, 1e-14);
    expect_near(grad_of(&c, &r, "predictions"), grad, COUNT(grad), 1e-14, "grad");
    loss_result_release(&r);
    check_fd(&c, "predictions", 1e-7);
}

/* F.nll_loss(torch.tensor([-0.5, -1.5, -0.25]), torch.tensor(1)) */
Test(nll, single_score_vector_should_take_a_scalar_target)
{
    double x[] = {-0.5, -1.5, -0.25};
    int64_t t[] = {1};
    const double grad[] = {0, -1, 0};
    loss_call c;
    loss_result r;
    start(&c, "nll", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", x, 1, SHAPE(3));
    put_i(&c, "targets", t, 0, NULL);
    run_ok(&c, NULL, &r);
    expect_value(&r, 1.5, 1e-15);
    expect_near(grad_of(&c, &r, "predictions"), grad, 3, 0, "grad");
    loss_result_release(&r);
}

Test(nll, all_ignored_mean_should_be_nan_with_zero_gradient)
{
    int64_t t[] = {-100, -100, -100};
    loss_call c;
    loss_result r;
    start(&c, "nll", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", nll_x, 2, SHAPE(3, 4));
    put_i(&c, "targets", t, 1, SHAPE(3));
    run_ok(&c, NULL, &r);
    cr_assert(isnan(r.value));
    const tensor *g = grad_of(&c, &r, "predictions");
    for (size_t i = 0; i < g->count; i++)
        cr_assert_eq(at(g, i), 0.0);
    loss_result_release(&r);
}

Test(nll, bad_targets_should_be_refused)
{
    int64_t t[] = {0, 4, 1};
    double x[12], probs[12] = {0};
    memcpy(x, nll_x, sizeof x);
    loss_call c;
    start(&c, "nll", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", x, 2, SHAPE(3, 4));
    put_i(&c, "targets", t, 1, SHAPE(3));
    run_err(&c, LOSS_ERR_DOMAIN, "targets", "targets[1] = 4");
    put_f(&c, "targets", probs, 2, SHAPE(3, 4));
    run_err(&c, LOSS_ERR_SHAPE, "targets", NULL);
    t[1] = 3;
    put_i(&c, "targets", t, 1, SHAPE(3));
    x[11] = -INFINITY;
    run_err(&c, LOSS_ERR_NON_FINITE, "predictions", "predictions[11]");
}

Test(nll, result_bytes_should_not_depend_on_the_number_of_workers)
{
    const size_t n = 20000, classes = 10;
    double *x = mem_alloc(n * classes * sizeof *x), w[10];
    int64_t *t = mem_alloc(n * sizeof *t);
    loss_call c;
    ce_big(&c, x, t, w, n / 8, classes, 8);
    c.desc = find("nll");
    memset(c.param_set, 0, sizeof c.param_set);
    for (int dt = 0; dt < 2; dt++) {
        c.dtype = (loss_dtype)dt;
        expect_same_bytes_across_workers(&c);
    }
    mem_free(x);
    mem_free(t);
}
