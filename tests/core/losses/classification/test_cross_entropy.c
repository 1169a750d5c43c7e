/* cross_entropy: expected numbers printed by /usr/bin/python3 (torch, torchvision, float64,
 * "%.17g") from the call quoted above each test; gradients also by central differences, and
 * results bit-identical across worker counts. */
#include "class_cases.h"

static double ce_x[] = {0.5, -1.25, 2.0, 0.0, 1.5, 0.25, -0.75, 3.0, -2.0, 0.5, 0.125, 1.0};

/* F.cross_entropy(X, torch.tensor([0, 3, 1])), X = ce_x as (3, 4) */
Test(cross_entropy, index_targets_mean_should_match_pytorch)
{
    int64_t t[] = {0, 3, 1};
    /* clang-format off */
    const double grad[] = {-0.28010214998929722, 0.0092501926442268029, 0.23856561259412812,
                           0.032286344750942345, 0.056751179069751412, 0.016259485030955399,
                           0.0059815302669233034, -0.078992194367630081, 0.0080049448070740985,
                           -0.23581314156538843, 0.067024582267748128, 0.16078361449056625};
    /* clang-format on */
    loss_call c;
    loss_result r;
    start(&c, "cross_entropy", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", ce_x, 2, SHAPE(3, 4));
    put_i(&c, "targets", t, 1, SHAPE(3));
    run_ok(&c, NULL, &r);
    expect_value(&r, 1.1113495696360376, 1e-12);
    expect_near(grad_of(&c, &r, "predictions"), grad, COUNT(grad), 1e-12, "grad");
    cr_assert_eq(r.denominator, 3.0);
    loss_result_release(&r);
}

static void ce_ls_weight_ignore(loss_call *c, int64_t *t, loss_reduction red)
{
    start(c, "cross_entropy", red);
    put_f(c, "predictions", ce_x, 2, SHAPE(3, 4));
    put_i(c, "targets", t, 1, SHAPE(3));
    put_f(c, "weight", ce_w, 1, SHAPE(4));
    set_param(c, "label_smoothing", 0.2);
}

/* F.cross_entropy(X, torch.tensor([2, -100, 1]), weight=W, label_smoothing=0.2), W = ce_w */
Test(cross_entropy, label_smoothing_with_weight_and_ignore_should_match_pytorch)
{
    int64_t t[] = {2, -100, 1};
    /* clang-format off */
    const double grad[] = {0.059015899299016267, -0.017074760570746691, -0.067782738633012193,
                           0.025841599904742631, 0, 0, 0, 0, 0.0055506981940746433,
                           -0.33107512448225884, 0.084853266167429192, 0.24067116012075507};
    /* clang-format on */
    loss_call c;
    loss_result r;
    ce_ls_weight_ignore(&c, t, LOSS_REDUCE_MEAN);
    run_ok(&c, NULL, &r);
    expect_value(&r, 0.93912929567490688, 1e-12);
    expect_near(grad_of(&c, &r, "predictions"), grad, COUNT(grad), 1e-12, "grad");
    cr_assert_float_eq(r.denominator, 1.5 + 2.0, 1e-15, "sum of the targets' weights");
    loss_result_release(&r);
    c.dtype = LOSS_DTYPE_F32;
    run_ok(&c, NULL, &r);
    expect_value(&r, 0.93912929567490688, 1e-5);
    expect_near(grad_of(&c, &r, "predictions"), grad, COUNT(grad), 1e-5, "f32 grad");
    loss_result_release(&r);
    c.dtype = LOSS_DTYPE_F64;
    check_fd(&c, "predictions", 1e-7);
}

/* same call with reduction='none' and 'sum' */
Test(cross_entropy, none_should_give_weighted_terms_and_zero_at_ignored_positions)
{
    int64_t t[] = {2, -100, 1};
    const double terms[] = {0.94752298827531067, 0, 2.3394295465868633};
    /* clang-format off */
    const double grad[] = {0.206555647546557, -0.059761661997613402, -0.2372395852155427,
                           0.090445599666599236, 0, 0, 0, 0, 0.019427443679261254,
                           -1.1587629356879061, 0.29698643158600219, 0.84234906042264279};
    /* clang-format on */
    loss_call c;
    loss_result r;
    ce_ls_weight_ignore(&c, t, LOSS_REDUCE_NONE);
    run_ok(&c, NULL, &r);
    cr_assert_eq(r.terms[0].rank, 1);
    cr_assert_eq(r.terms[0].shape[0], 3);
    expect_near(&r.terms[0], terms, 3, 1e-12, "terms");
    expect_near(grad_of(&c, &r, "predictions"), grad, COUNT(grad), 1e-12, "grad");
    loss_result_release(&r);
    c.reduction = LOSS_REDUCE_SUM;
    run_ok(&c, NULL, &r);
    expect_value(&r, 3.286952534862174, 1e-12);
    expect_near(grad_of(&c, &r, "predictions"), grad, COUNT(grad), 1e-12, "sum grad");
    loss_result_release(&r);
}

/* F.cross_entropy(X, torch.tensor([2, 7, 1]), weight=W, label_smoothing=0.2, ignore_index=7) */
Test(cross_entropy, ignore_index_may_be_any_value)
{
    int64_t t[] = {2, 7, 1};
    loss_call c;
    loss_result r;
    ce_ls_weight_ignore(&c, t, LOSS_REDUCE_MEAN);
    set_param(&c, "ignore_index", 7);
    run_ok(&c, NULL, &r);
    expect_value(&r, 0.93912929567490688, 1e-12);
    loss_result_release(&r);
}

Test(cross_entropy, all_ignored_mean_should_be_nan_with_zero_gradient)
{
    int64_t t[] = {-100, -100, -100};
    loss_call c;
    loss_result r;
    ce_ls_weight_ignore(&c, t, LOSS_REDUCE_MEAN);
    run_ok(&c, NULL, &r);
    cr_assert(isnan(r.value));
    cr_assert_eq(r.denominator, 0.0);
    const tensor *g = grad_of(&c, &r, "predictions");
    for (size_t i = 0; i < g->count; i++)
        cr_assert_eq(at(g, i), 0.0);
    loss_result_release(&r);
    c.reduction = LOSS_REDUCE_SUM;
    run_ok(&c, NULL, &r);
    cr_assert_eq(r.value, 0.0);
    loss_result_release(&r);
}

Test(cross_entropy, empty_batch_mean_should_be_nan_and_sum_zero)
{
    loss_call c;
    loss_result r;
    start(&c, "cross_entropy", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", NULL, 2, SHAPE(0, 4));
    put_i(&c, "targets", NULL, 1, SHAPE(0));
    run_ok(&c, NULL, &r);
    cr_assert(isnan(r.value));
    loss_result_release(&r);
    c.reduction = LOSS_REDUCE_SUM;
    run_ok(&c, NULL, &r);
    cr_assert_eq(r.value, 0.0);
    loss_result_release(&r);
}

static double ce_ext[] = {1000, 0, -1000, 0, 1000, -1000};

/* F.cross_entropy(torch.tensor([[1000., 0, -1000], [0, 1000, -1000]]), torch.tensor([0, 2]),
 *                 reduction='none') -> [-0, 2000]; label_smoothing=0.1, mean -> 1000 */
Test(cross_entropy, extreme_logits_should_be_exact)
{
    int64_t t[] = {0, 2};
    const double terms[] = {0, 2000}, grad[] = {0, 0, 0, 0, 1, -1};
    /* clang-format off */
    const double ls_grad[] = {0.033333333333333326, -0.016666666666666666,
                              -0.016666666666666666, -0.016666666666666666,
                              0.48333333333333334,  -0.46666666666666667};
    /* clang-format on */
    loss_call c;
    loss_result r;
    start(&c, "cross_entropy", LOSS_REDUCE_NONE);
    put_f(&c, "predictions", ce_ext, 2, SHAPE(2, 3));
    put_i(&c, "targets", t, 1, SHAPE(2));
    for (int dt = 0; dt < 2; dt++) {
        c.dtype = (loss_dtype)dt;
        run_ok(&c, NULL, &r);
        expect_near(&r.terms[0], terms, 2, 1e-15, "terms");
        expect_near(grad_of(&c, &r, "predictions"), grad, 6, 1e-15, "grad");
        loss_result_release(&r);
    }
    c.dtype = LOSS_DTYPE_F64;
    c.reduction = LOSS_REDUCE_MEAN;
    set_param(&c, "label_smoothing", 0.1);
    run_ok(&c, NULL, &r);
    expect_value(&r, 1000, 1e-15);
    expect_near(grad_of(&c, &r, "predictions"), ls_grad, 6, 1e-15, "ls grad");
    loss_result_release(&r);
}

static void ce_kdim(loss_call *c, int64_t *t, loss_reduction red)
{
    start(c, "cross_entropy", red);
    put_f(c, "predictions", ce_xk, 4, SHAPE(2, 3, 2, 2));
    put_i(c, "targets", t, 3, SHAPE(2, 2, 2));
    put_f(c, "weight", ce_wk, 1, SHAPE(3));
    set_param(c, "label_smoothing", 0.1);
}

/* XK = ce_xk as (2, 3, 2, 2), TK = [[[0, 2], [1, -100]], [[2, 1], [0, 0]]]:
 * F.cross_entropy(XK, TK, weight=torch.tensor([1.0, 0.5, 2.0]), label_smoothing=0.1) */
Test(cross_entropy, k_dimensional_input_should_match_pytorch)
{
    int64_t t[] = {0, 2, 1, -100, 2, 1, 0, 0};
    /* clang-format off */
    const double grad[] = {
        -0.080632394663254656, 0.062011394284332784,  0.037310574132894042,   0,
        0.0087699808245642798, 0.13118291608188801,   -0.045840628478417009,  0,
        0.071862413838690395,  -0.19319431036622078,  0.0085300543455229597,  0,
        0.14478476087946326,   0.022649988346844497,  -0.096962656492862759,  -0.055536499878217599,
        0.058475797881973213,  -0.054322403270792713, 0.095511267948128656,   0.034993987057207999,
        -0.20326055876143651,  0.031672414923948213,  0.0014513885447341079,  0.020542512821009624};
    const double terms[] = {1.2480454294601073, 3.3875585769194987, 0.92327140783866113, 0,
                            3.9126219938459421, 1.4104070447025947, 1.9150878764718924,
                            0.80236819290764017};
    /* clang-format on */
    loss_call c;
    loss_result r;
    ce_kdim(&c, t, LOSS_REDUCE_MEAN);
    run_ok(&c, NULL, &r);
    expect_value(&r, 1.6999200652682922, 1e-12);
    expect_near(grad_of(&c, &r, "predictions"), grad, COUNT(grad), 1e-12, "grad");
    loss_result_release(&r);
    check_fd(&c, "predictions", 1e-7);
    c.reduction = LOSS_REDUCE_NONE;
    run_ok(&c, NULL, &r);
    cr_assert_eq(r.terms[0].rank, 3, "none has the targets' shape");
    expect_near(&r.terms[0], terms, COUNT(terms), 1e-12, "terms");
    loss_result_release(&r);
}

static double ce_p[] = {0.2, 0.3, 0.1, 0.4, 0.0, 1.0, 0.0, 0.0, 0.25, 0.25, 0.25, 0.25};

/* F.cross_entropy(X, P, weight=W, label_smoothing=0.15), P = ce_p as (3, 4) */
Test(cross_entropy, probability_targets_should_average_over_positions)
{
    /* clang-format off */
    const double grad[] = {0.031955645846711761, -0.18343725919471648, 0.23695701574266012,
                           -0.085475402394655398, 0.10086785049415577, -0.56097688867073825,
                           -0.0074598616211822653, 0.46756889979776478, -0.03166048565782404,
                           -0.044766426956735557, -0.041219272165314833, 0.11764618477987447};
    /* clang-format on */
    loss_call c;
    loss_result r;
    start(&c, "cross_entropy", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", ce_x, 2, SHAPE(3, 4));
    put_f(&c, "targets", ce_p, 2, SHAPE(3, 4));
    put_f(&c, "weight", ce_w, 1, SHAPE(4));
    set_param(&c, "label_smoothing", 0.15);
    run_ok(&c, NULL, &r);
    expect_value(&r, 3.5750986055369274, 1e-12);
    expect_near(grad_of(&c, &r, "predictions"), grad, COUNT(grad), 1e-12, "grad");
    cr_assert_eq(r.denominator, 3.0);
    cr_assert_null(r.grad[1].data, "no gradient for targets");
    loss_result_release(&r);
    check_fd(&c, "predictions", 1e-7);
}

/* F.cross_entropy(X, P, reduction='none') */
Test(cross_entropy, probability_targets_none_should_drop_the_class_dim)
{
    const double terms[] = {2.4094986126036622, 3.0204665576088487, 1.8228335386956021};
    /* clang-format off */
    const double grad[] = {-0.040306449967891761, -0.27224942206731956, 0.61569683778238438,
                           -0.30314096574717297,  0.17025353720925424, -0.95122154490713384,
                           0.017944590800769912,  0.76302341689710973, -0.22598516557877771,
                           0.042560575303834669,  -0.048926253196755587, 0.23235084347169876};
    /* clang-format on */
    loss_call c;
    loss_result r;
    start(&c, "cross_entropy", LOSS_REDUCE_NONE);
    put_f(&c, "predictions", ce_x, 2, SHAPE(3, 4));
    put_f(&c, "targets", ce_p, 2, SHAPE(3, 4));
    run_ok(&c, NULL, &r);
    cr_assert_eq(r.terms[0].rank, 1);
    expect_near(&r.terms[0], terms, 3, 1e-12, "terms");
    expect_near(grad_of(&c, &r, "predictions"), grad, COUNT(grad), 1e-12, "grad");
    loss_result_release(&r);
}

/* PK = torch.softmax(XK * 0.7 + 0.1, 1); F.cross_entropy(XK, PK, weight=WK) */
Test(cross_entropy, k_dimensional_probability_targets_should_match_pytorch)
{
    /* clang-format off */
    double pk[] = {
        0.3142299316407981,  0.29966997558287983, 0.50908660421564012, 0.23313492393057017,
        0.13565636826573291, 0.4891561617775671,  0.2197780443766667,  0.66621827602976458,
        0.55011370009346894, 0.21117386263955309, 0.27113535140769324, 0.10064680003966514,
        0.53796077273487986, 0.38645743791168163, 0.21379030423756407, 0.43549389252292797,
        0.28651349682193183, 0.10220920478782833, 0.65523611256578784, 0.30688735920614885,
        0.17552573044318825, 0.51133335730049001, 0.13097358319664815, 0.25761874827092329};
    const double grad[] = {
        0.013258713760154923,  -0.0040844332645479505, 0.021361751457699127,  -0.01255114368865603,
        0.0073454544028229429, 0.036635354428640618,   0.011864650440797962,  0.032715814320163968,
        -0.020604168162977877, -0.032550921164092667,  -0.033226401898497092, -0.020164670631507939,
        0.012976436530899953,  0.020795968663049075,   -0.011153959693147756, 0.01195513829822036,
        0.014708547874218965,  0.003947587191186098,   0.036165607557825129,  0.021088247710185335,
        -0.027684984405118917, -0.024743555854235176,  -0.025011647864677373, -0.033043386008405708};
    /* clang-format on */
    loss_call c;
    loss_result r;
    start(&c, "cross_entropy", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", ce_xk, 4, SHAPE(2, 3, 2, 2));
    put_f(&c, "targets", pk, 4, SHAPE(2, 3, 2, 2));
    put_f(&c, "weight", ce_wk, 1, SHAPE(3));
    run_ok(&c, NULL, &r);
    expect_value(&r, 1.1748360927266936, 1e-12);
    expect_near(grad_of(&c, &r, "predictions"), grad, COUNT(grad), 1e-12, "grad");
    cr_assert_eq(r.denominator, 8.0);
    loss_result_release(&r);
}

/* F.cross_entropy(torch.tensor([0.5, 1.5, -0.5]), torch.tensor(1), label_smoothing=0.3) */
Test(cross_entropy, single_score_vector_should_take_a_scalar_target)
{
    double x[] = {0.5, 1.5, -0.5};
    int64_t t[] = {1};
    const double grad[] = {0.14472847105479764, -0.13475904422517823, -0.0099694268296195675};
    loss_call c;
    loss_result r;
    start(&c, "cross_entropy", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", x, 1, SHAPE(3));
    put_i(&c, "targets", t, 0, NULL);
    set_param(&c, "label_smoothing", 0.3);
    run_ok(&c, NULL, &r);
    expect_value(&r, 0.7076059644443804, 1e-12);
    expect_near(grad_of(&c, &r, "predictions"), grad, 3, 1e-12, "grad");
    loss_result_release(&r);
    c.reduction = LOSS_REDUCE_NONE;
    run_ok(&c, NULL, &r);
    cr_assert_eq(r.terms[0].rank, 0);
    loss_result_release(&r);
}

Test(cross_entropy, class_index_out_of_range_should_name_targets_and_index)
{
    int64_t t[] = {0, 4, 1};
    loss_call c;
    start(&c, "cross_entropy", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", ce_x, 2, SHAPE(3, 4));
    put_i(&c, "targets", t, 1, SHAPE(3));
    run_err(&c, LOSS_ERR_DOMAIN, "targets", "targets[1] = 4");
    t[1] = -1;
    run_err(&c, LOSS_ERR_DOMAIN, "targets", "targets[1] = -1");
}

Test(cross_entropy, bad_shapes_should_name_the_offending_input)
{
    int64_t t[] = {0, 1};
    double w[] = {1, 2, 3};
    loss_call c;
    start(&c, "cross_entropy", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", ce_x, 2, SHAPE(3, 4));
    put_i(&c, "targets", t, 1, SHAPE(2));
    run_err(&c, LOSS_ERR_SHAPE, "targets", NULL);
    put_f(&c, "targets", ce_p, 2, SHAPE(4, 3));
    run_err(&c, LOSS_ERR_SHAPE, "targets", NULL);
    put_f(&c, "targets", ce_p, 2, SHAPE(3, 4));
    put_f(&c, "weight", w, 1, SHAPE(3));
    run_err(&c, LOSS_ERR_SHAPE, "weight", NULL);
    put_f(&c, "predictions", ce_x, 0, NULL);
    run_err(&c, LOSS_ERR_SHAPE, "predictions", NULL);
}

Test(cross_entropy, non_finite_inputs_should_be_refused_with_their_index)
{
    double x[12], p[12];
    int64_t t[] = {0, 1, 2};
    memcpy(x, ce_x, sizeof x);
    memcpy(p, ce_p, sizeof p);
    loss_call c;
    start(&c, "cross_entropy", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", x, 2, SHAPE(3, 4));
    put_i(&c, "targets", t, 1, SHAPE(3));
    x[6] = NAN;
    run_err(&c, LOSS_ERR_NON_FINITE, "predictions", "predictions[6]");
    x[6] = 0.0;
    put_f(&c, "targets", p, 2, SHAPE(3, 4));
    p[9] = INFINITY;
    run_err(&c, LOSS_ERR_NON_FINITE, "targets", "targets[9]");
}

Test(cross_entropy, label_smoothing_outside_unit_interval_should_be_invalid)
{
    int64_t t[] = {0, 1, 2};
    loss_call c;
    start(&c, "cross_entropy", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", ce_x, 2, SHAPE(3, 4));
    put_i(&c, "targets", t, 1, SHAPE(3));
    set_param(&c, "label_smoothing", 1.5);
    run_err(&c, LOSS_ERR_PARAM, "label_smoothing", NULL);
}

/* Wide rows (C > the stack buffer) recompute their exps: same numbers as the kept ones. */
Test(cross_entropy, wide_rows_should_match_finite_differences)
{
    enum { N = 2, C = 700 };
    static double x[N * C], w[C];
    int64_t t[N] = {3, 650};
    uint64_t s = 7;
    for (size_t i = 0; i < N * C; i++)
        x[i] = rnd(&s, -3, 3);
    for (size_t i = 0; i < C; i++)
        w[i] = rnd(&s, 0.5, 2);
    loss_call c;
    start(&c, "cross_entropy", LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", x, 2, SHAPE(N, C));
    put_i(&c, "targets", t, 1, SHAPE(N));
    put_f(&c, "weight", w, 1, SHAPE(C));
    set_param(&c, "label_smoothing", 0.05);
    check_fd(&c, "predictions", 1e-6);
}

Test(cross_entropy, result_bytes_should_not_depend_on_the_number_of_workers)
{
    const size_t n = 20000, classes = 10;
    double *x = mem_alloc(n * classes * sizeof *x), w[10];
    int64_t *t = mem_alloc(n * sizeof *t);
    loss_call c;
    const size_t inner[] = {1, 40};
    for (size_t k = 0; k < COUNT(inner); k++) {
        ce_big(&c, x, t, w, n / inner[k], classes, inner[k]);
        for (int dt = 0; dt < 2; dt++) {
            c.dtype = (loss_dtype)dt;
            c.reduction = LOSS_REDUCE_MEAN;
            expect_same_bytes_across_workers(&c);
            c.reduction = LOSS_REDUCE_NONE;
            expect_same_bytes_across_workers(&c);
        }
    }
    mem_free(x);
    mem_free(t);
}
