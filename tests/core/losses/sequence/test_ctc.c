/* ctc: expected numbers from /usr/bin/python3 (torch, float64), the producing call quoted
 * above each table; gradients by central differences, float32 against float64, and results
 * bit-identical across 1, 2 and 7 workers. */
#include "../call_checks.h"

/* torch.manual_seed(0); lp = torch.randn(5,3,4, dtype=float64).log_softmax(2);
 * targets [[1,2,2],[3,3,9],[2,0,0]], input_lengths [5,4,3], target_lengths [3,2,1]
 * (the 9 lies past item 1's length: ignored; torch was given a valid index there).
 * F.ctc_loss(lp, tg, il, tl, reduction=red), l.sum().backward(). */
static double ctc_lp[] = {
    -3.6587016278296014, -1.7215406888531897, -2.4091065061417116, -0.3487804728142493,
    -1.3842259048120447, -1.7757478304435845, -1.1234254800948584, -1.3666425021413566,
    -3.917826504740481,  -1.0985677413063455, -2.298538797914322,  -0.604473332926587,
    -0.6362994706375411, -2.998923149659975,  -1.7006533394537748, -1.4340244076081539,
    -0.7480856920270482, -1.5348791362099983, -2.162529183061927,  -1.6285555894078996,
    -1.3664692342218745, -1.1362045932124172, -1.169315131920446,  -2.177014534322561,
    -0.4233913010234478, -1.6772598909483243, -2.2075917857852847, -3.029761996567773,
    -2.4755118218816548, -0.3004338120274361, -2.2369239325495593, -2.6795111630088457,
    -1.4637087622367637, -0.8156442488802893, -1.3814132992211077, -2.5896548004354702,
    -3.113007466611486,  -2.9670773416101213, -0.6810564380575099, -0.9213097012861177,
    -1.6393213596077278, -2.145030410854708,  -3.43935507954041,   -0.42046947948746716,
    -1.0733915645438983, -1.9530002816968008, -1.9232754748953402, -0.993772771397705,
    -2.7115634374812414, -1.6765333790644286, -0.5844212182301705, -1.665386472332729,
    -0.4575777593085736, -1.5855867982865637, -1.8714689405206468, -4.772360573583798,
    -1.6580092909449158, -2.9680528350631388, -2.333250806229765,  -0.41385189382797166};
static double ctc_tg[] = {1, 2, 2, 3, 3, 9, 2, 0, 0};
static double ctc_il[] = {5, 4, 3};
static double ctc_tl[] = {3, 2, 1};

/* PyTorch's gradient for reduction 'sum' (true partial + exp(lp) where t < input_length) */
static const double ctc_torch_grad_sum[] = {0.025308545947127503,
                                            -0.8207521260324677,
                                            0.0898955798481876,
                                            0.7055480002371525,
                                            0.1089958225906556,
                                            0.1693567519962803,
                                            0.32516404176681574,
                                            -0.6035166163537514,
                                            -0.14874851054482813,
                                            0.3333481827846709,
                                            -0.7309617740475656,
                                            0.5463621018077233,
                                            0.49554435836872085,
                                            0.04620941057479417,
                                            -0.7801015498493575,
                                            0.23834778090584266,
                                            -0.241174231160929,
                                            0.21548173353491204,
                                            0.11503381123851049,
                                            -0.08934131361249426,
                                            -0.030315840951885054,
                                            0.32103517153405287,
                                            -0.4040988471040553,
                                            0.1133795165218872,
                                            -0.2962175560626409,
                                            0.18688536136396558,
                                            0.0610050559163602,
                                            0.048327138782315565,
                                            -0.5488447324973372,
                                            0.7404969145257188,
                                            0.10678648210157889,
                                            -0.2984386641299601,
                                            -0.34609462488175624,
                                            0.44235424931079426,
                                            -0.17130556586984452,
                                            0.07504594144080654,
                                            -0.07372289557240175,
                                            0.05145347171060687,
                                            -0.3757280179662357,
                                            0.39799744182803093,
                                            0.11037681457894882,
                                            0.11706447695919378,
                                            0.03208537116910316,
                                            -0.25952666270724556,
                                            0.0,
                                            0.0,
                                            0.0,
                                            0.0,
                                            -0.0274680921554967,
                                            0.1870211851327395,
                                            -0.34867064813132365,
                                            0.18911755515408132,
                                            0.0,
                                            0.0,
                                            0.0,
                                            0.0,
                                            0.0,
                                            0.0,
                                            0.0,
                                            0.0};

static void ctc_call(loss_call *c, double *lp, size_t T, size_t N, size_t C, double *tg, size_t S,
                     double *il, double *tl, loss_reduction red)
{
    call_begin(c, "ctc");
    call_input(c, "predictions", lp, SHAPE(T, N, C));
    call_input(c, "targets", tg, SHAPE(N, S));
    call_input(c, "input_lengths", il, SHAPE(N));
    call_input(c, "target_lengths", tl, SHAPE(N));
    c->reduction = red;
    c->want_gradient = 1;
}

static void ctc_std(loss_call *c, loss_reduction red)
{
    ctc_call(c, ctc_lp, 5, 3, 4, ctc_tg, 3, ctc_il, ctc_tl, red);
}

Test(ctc, values_should_match_pytorch_and_mean_divide_by_target_lengths)
{
    /* mean = mean(none / target_lengths) */
    static const double none[] = {4.872690471898748, 3.953461473873605, 3.6798122063532572};
    loss_call c;
    loss_result r;
    ctc_std(&c, LOSS_REDUCE_NONE);
    compute_ok(&c, NULL, &r);
    expect_values(&r.terms[0], none, 3, 1e-12, "none");
    loss_result_release(&r);
    ctc_std(&c, LOSS_REDUCE_MEAN);
    compute_ok(&c, NULL, &r);
    expect_value(&r, 2.426924366863214);
    cr_expect(close_to(r.value, (none[0] / 3 + none[1] / 2 + none[2]) / 3, 1e-12));
    loss_result_release(&r);
    ctc_std(&c, LOSS_REDUCE_SUM);
    compute_ok(&c, NULL, &r);
    expect_value(&r, 12.50596415212561);
    loss_result_release(&r);
}

Test(ctc, gradient_should_be_pytorchs_minus_exp_log_probs)
{
    /* PyTorch's d/dlog_probs = true partial + exp(lp) inside each input length. */
    loss_call c;
    loss_result r;
    ctc_std(&c, LOSS_REDUCE_SUM);
    compute_ok(&c, NULL, &r);
    for (size_t t = 0; t < 5; t++)
        for (size_t n = 0; n < 3; n++)
            for (size_t k = 0; k < 4; k++) {
                size_t i = (t * 3 + n) * 4 + k;
                double want = ctc_torch_grad_sum[i] - (t < ctc_il[n] ? exp(ctc_lp[i]) : 0.0);
                cr_expect(close_to(elem(&r.grad[0], i), want, 1e-12),
                          "grad[%zu] = %.17g, expected %.17g", i, elem(&r.grad[0], i), want);
            }
    loss_result_release(&r);
    fd_check(&c);
    ctc_std(&c, LOSS_REDUCE_MEAN);
    fd_check(&c);
}

Test(ctc, impossible_alignments_should_cost_inf_or_zero_with_zero_infinity)
{
    /* item 1 needs 3 labels in 2 frames. With zero_infinity its loss and gradient are
     * 0; without, its loss is inf (mean inf) and its gradient 0. */
    double lp[3 * 2 * 3], tg[] = {1, 1, 2, 1, 2, 1}, il[] = {3, 2}, tl[] = {2, 3};
    fill_uniform(lp, 18, -3, 0, 17);
    loss_call c;
    loss_result r;
    ctc_call(&c, lp, 3, 2, 3, tg, 3, il, tl, LOSS_REDUCE_NONE);
    compute_ok(&c, NULL, &r);
    cr_expect(isfinite(elem(&r.terms[0], 0)));
    cr_expect(isinf(elem(&r.terms[0], 1)) && elem(&r.terms[0], 1) > 0);
    for (size_t t = 0; t < 3; t++)
        for (size_t k = 0; k < 3; k++)
            cr_expect_eq(elem(&r.grad[0], (t * 2 + 1) * 3 + k), 0.0);
    double first = elem(&r.terms[0], 0);
    loss_result_release(&r);
    c.reduction = LOSS_REDUCE_MEAN;
    compute_ok(&c, NULL, &r);
    cr_expect(isinf(r.value) && r.value > 0, "mean %g", r.value);
    loss_result_release(&r);
    call_param(&c, "zero_infinity", 1);
    compute_ok(&c, NULL, &r);
    expect_value(&r, first / 2 / 2);
    loss_result_release(&r);
}

Test(ctc, an_empty_input_should_cost_zero_for_an_empty_target_else_inf)
{
    double lp[2 * 2 * 3], tg[] = {1, 2, 1, 2}, il[] = {0, 0}, tl[] = {0, 1};
    fill_uniform(lp, 12, -3, 0, 18);
    loss_call c;
    loss_result r;
    ctc_call(&c, lp, 2, 2, 3, tg, 2, il, tl, LOSS_REDUCE_NONE);
    compute_ok(&c, NULL, &r);
    cr_expect_eq(elem(&r.terms[0], 0), 0.0);
    cr_expect(isinf(elem(&r.terms[0], 1)));
    for (size_t i = 0; i < 12; i++)
        cr_expect_eq(elem(&r.grad[0], i), 0.0);
    loss_result_release(&r);
}

Test(ctc, bad_lengths_indices_and_blank_should_be_refused)
{
    double il[] = {5, 4, 3}, tl[] = {3, 2, 1}, tg[9];
    loss_call c;
    memcpy(tg, ctc_tg, sizeof tg);
    ctc_std(&c, LOSS_REDUCE_MEAN);
    call_input(&c, "input_lengths", il, SHAPE(3));
    call_input(&c, "target_lengths", tl, SHAPE(3));
    il[1] = 6; /* > T, as torch: an error, not inf */
    expect_error(&c, LOSS_ERR_DOMAIN, "input_lengths");
    il[1] = -1;
    expect_error(&c, LOSS_ERR_DOMAIN, "input_lengths");
    il[1] = 4;
    tl[2] = 4; /* > S */
    expect_error(&c, LOSS_ERR_DOMAIN, "target_lengths");
    tl[2] = -1;
    expect_error(&c, LOSS_ERR_DOMAIN, "target_lengths");
    tl[2] = 1;
    tg[4] = 4; /* inside item 1's length */
    call_input(&c, "targets", tg, SHAPE(3, 3));
    expect_error(&c, LOSS_ERR_DOMAIN, "targets");
    ctc_std(&c, LOSS_REDUCE_MEAN);
    call_param(&c, "blank", 4);
    expect_error(&c, LOSS_ERR_PARAM, "blank");
    ctc_std(&c, LOSS_REDUCE_MEAN);
    call_input(&c, "input_lengths", il, SHAPE(2));
    expect_error(&c, LOSS_ERR_SHAPE, "input_lengths");
    ctc_std(&c, LOSS_REDUCE_MEAN);
    call_input(&c, "targets", tg, SHAPE(9));
    expect_error(&c, LOSS_ERR_SHAPE, "targets");
}

Test(ctc, gradients_float32_and_workers_should_agree)
{
    enum { T = 40, N = 64, C = 12, S = 9 };
    double *lp = mem_alloc_array(T * N * C, sizeof(double)), tg[N * S], il[N], tl[N];
    fill_uniform(lp, T * N * C, -4, 0, 19);
    for (size_t n = 0; n < N; n++) {
        il[n] = (double)(T - n % 7);
        tl[n] = (double)(n % (S + 1));
        for (size_t s = 0; s < S; s++)
            tg[n * S + s] = (double)(1 + (n * 5 + s * 3) % (C - 1));
    }
    for (loss_reduction red = 0; red < LOSS_REDUCE_BATCHMEAN; red++) {
        loss_call c;
        ctc_call(&c, lp, T, N, C, tg, S, il, tl, red);
        call_param(&c, "blank", 0);
        check_workers(&c);
        check_float32(&c);
    }
    double sl[] = {6, 5}, stl[] = {4, 2}, stg[] = {1, 1, 4, 0, 3, 0, 7, 7};
    loss_call c;
    ctc_call(&c, lp, 6, 2, 5, stg, 4, sl, stl, LOSS_REDUCE_MEAN);
    call_param(&c, "blank", 2);
    fd_check(&c);
    mem_free(lp);
}

/* Fails the n-th allocation for every n until a run succeeds (ASan reports any leak). */
Test(ctc, allocation_failures_should_end_in_a_clean_out_of_memory_error)
{
    loss_call c;
    ctc_std(&c, LOSS_REDUCE_MEAN);
    sweep_allocation_failures(&c);
}
