/* The seed_elementwise losses (mae, mbe, huber, bce, hinge, focal, gan_discriminator,
 * gan_generator): values and gradients against numbers printed by PyTorch 1.13 in float64
 * (each constant names the torch call), edge cases, central finite differences, every ISA
 * fast path against the reference, and bit-identical results for any number of workers. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "golden.h"
#include "kern.h"
#include "loss.h"
#include "mem.h"
#include "pool.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a loss call under construction ---- */

typedef struct {
    loss_call call;
    loss_result res;
    loss_error err;
} lcase;

static void lc_init(lcase *c, const char *loss, loss_reduction red)
{
    const loss_desc *d = loss_registry_find(loss, strlen(loss));
    cr_assert_not_null(d, "%s is registered", loss);
    memset(c, 0, sizeof *c);
    loss_call_init(&c->call, d);
    c->call.reduction = red;
    c->call.want_gradient = 1;
}

static int lc_index(const lcase *c, const char *name)
{
    int i = loss_desc_input_index(c->call.desc, name, strlen(name));
    cr_assert_geq(i, 0, "%s has an input %s", c->call.desc->name, name);
    return i;
}

static void lc_input_shaped(lcase *c, const char *name, double *data, size_t rank,
                            const size_t *shape)
{
    int i = lc_index(c, name);
    tensor *t = &c->call.input[i];
    memset(t, 0, sizeof *t);
    t->type = TENSOR_F64;
    t->rank = rank;
    memcpy(t->shape, shape, rank * sizeof *shape);
    cr_assert_eq(tensor_shape_count(shape, rank, &t->count), 0);
    t->data = data;
    c->call.present[i] = 1;
}

static void lc_input(lcase *c, const char *name, double *data, size_t n)
{
    lc_input_shaped(c, name, data, 1, &n);
}

static void lc_param(lcase *c, const char *name, double v)
{
    int i = loss_desc_param_index(c->call.desc, name, strlen(name));
    cr_assert_geq(i, 0, "%s has a parameter %s", c->call.desc->name, name);
    c->call.param[i] = v;
    c->call.param_set[i] = 1;
}

static void lc_run_with(lcase *c, pool *workers)
{
    loss_status st = loss_compute(&c->call, workers, &c->res, &c->err);
    cr_assert_eq(st, LOSS_OK, "%s: %s", c->call.desc->name, c->err.message);
}

static void lc_run(lcase *c) { lc_run_with(c, NULL); }

/* Runs a call that must fail; returns the error. */
static loss_error lc_fail(lcase *c, loss_status want)
{
    loss_status st = loss_compute(&c->call, NULL, &c->res, &c->err);
    cr_assert_eq(st, want, "%s: expected status %d, got %d (%s)", c->call.desc->name, want, st,
                 c->err.message);
    return c->err;
}

static void lc_done(lcase *c) { loss_result_release(&c->res); }

/* ---- comparisons: relative tol, absolute tol near zero (docs/api.md's accuracy rule) ---- */

static int close_to(double got, double want, double tol)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return got == want;
    return fabs(got - want) <= tol * fmax(fabs(want), 1.0);
}

static void expect_value(const lcase *c, double want, double tol)
{
    cr_assert(close_to(c->res.value, want, tol), "%s value %.17g, want %.17g", c->call.desc->name,
              c->res.value, want);
}

static void expect_tensor(const char *what, const tensor *t, const double *want, size_t n,
                          double tol)
{
    cr_assert_not_null(t->data, "%s is present", what);
    cr_assert_eq(t->count, n, "%s has %zu elements, want %zu", what, t->count, n);
    for (size_t i = 0; i < n; i++) {
        double got = tensor_get(t, i);
        cr_assert(close_to(got, want[i], tol), "%s[%zu] = %.17g, want %.17g", what, i, got,
                  want[i]);
    }
}

static void expect_grad(const lcase *c, const char *input, const double *want, size_t n, double tol)
{
    expect_tensor(input, &c->res.grad[lc_index(c, input)], want, n, tol);
}

static const double TOL64 = 1e-12, TOL32 = 1e-5;
static const loss_dtype DTYPES[] = {LOSS_DTYPE_F64, LOSS_DTYPE_F32};

static double tol_of(loss_dtype dt) { return dt == LOSS_DTYPE_F64 ? TOL64 : TOL32; }

/* ---- mae ---- */

Test(mae, mean_should_match_torch_with_a_zero_subgradient_at_zero)
{
    /* torch.nn.functional.l1_loss(p, zeros(3)), p = [0, 1, -2], measured on torch 1.13 */
    double p[] = {0.0, 1.0, -2.0}, y[] = {0, 0, 0};
    const double g[] = {0, 0.33333333333333331, -0.33333333333333331};
    for (size_t k = 0; k < N_OF(DTYPES); k++) {
        lcase c;
        lc_init(&c, "l1", LOSS_REDUCE_MEAN);
        c.call.dtype = DTYPES[k];
        lc_input(&c, "predictions", p, 3);
        lc_input(&c, "targets", y, 3);
        lc_run(&c);
        cr_assert_str_eq(c.call.desc->name, "mae", "the alias l1 resolves to mae");
        expect_value(&c, 1.0, tol_of(DTYPES[k]));
        expect_grad(&c, "predictions", g, 3, tol_of(DTYPES[k]));
        cr_assert_float_eq(c.res.denominator, 3.0, 0);
        lc_done(&c);
    }
}

Test(mae, weighted_mean_should_divide_by_the_weight_sum)
{
    /* (w * (p - y).abs()).sum() / w.sum() with torch autograd (F.l1_loss weight, 2.x) */
    double p[] = {0.5, -1.0, 2.0, 3.0, -0.25}, y[] = {0.0, 0.0, 1.0, 3.0, 0.5};
    double w[] = {1.0, 2.0, 0.5, 4.0, 0.125};
    const double g[] = {0.13114754098360656, -0.26229508196721313, 0.065573770491803282, 0,
                        -0.016393442622950821};
    lcase c;
    lc_init(&c, "mae", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 5);
    lc_input(&c, "targets", y, 5);
    lc_input(&c, "weight", w, 5);
    lc_run(&c);
    expect_value(&c, 0.40573770491803279, TOL64);
    expect_grad(&c, "predictions", g, 5, TOL64);
    cr_assert_float_eq(c.res.denominator, 7.625, 0);
    lc_done(&c);
}

Test(mae, none_should_return_weighted_elements_and_sum_their_gradient)
{
    double p[] = {0.5, -1.0, 2.0}, y[] = {0.0, 0.0, 2.0}, w[] = {2.0, 3.0, 4.0};
    const double l[] = {1.0, 3.0, 0.0}, g[] = {2.0, -3.0, 0.0};
    lcase c;
    lc_init(&c, "mae", LOSS_REDUCE_NONE);
    lc_input(&c, "predictions", p, 3);
    lc_input(&c, "targets", y, 3);
    lc_input(&c, "weight", w, 3);
    lc_run(&c);
    cr_assert_eq(c.res.n_terms, 1);
    expect_tensor("terms[0]", &c.res.terms[0], l, 3, 0);
    expect_grad(&c, "predictions", g, 3, 0);
    lc_done(&c);
}

/* ---- mbe ---- */

Test(mbe, mean_should_be_targets_minus_predictions_with_gradient_minus_one_over_n)
{
    /* (y - p).mean() with torch autograd */
    double p[] = {1.0, 2.0, 3.0, -0.5}, y[] = {0.5, 2.5, 4.0, 0.25};
    const double g[] = {-0.25, -0.25, -0.25, -0.25};
    for (size_t k = 0; k < N_OF(DTYPES); k++) {
        lcase c;
        lc_init(&c, "mbe", LOSS_REDUCE_MEAN);
        c.call.dtype = DTYPES[k];
        lc_input(&c, "predictions", p, 4);
        lc_input(&c, "targets", y, 4);
        lc_run(&c);
        expect_value(&c, 0.4375, tol_of(DTYPES[k]));
        expect_grad(&c, "predictions", g, 4, tol_of(DTYPES[k]));
        lc_done(&c);
    }
}

Test(mbe, sum_should_give_gradient_minus_one_everywhere)
{
    double p[] = {1.0, -7.0}, y[] = {3.0, 2.0};
    const double g[] = {-1.0, -1.0};
    lcase c;
    lc_init(&c, "mbe", LOSS_REDUCE_SUM);
    lc_input(&c, "predictions", p, 2);
    lc_input(&c, "targets", y, 2);
    lc_run(&c);
    expect_value(&c, 11.0, 0);
    expect_grad(&c, "predictions", g, 2, 0);
    lc_done(&c);
}

/* ---- huber ---- */

Test(huber, gradient_should_be_linear_inside_delta_and_constant_beyond)
{
    /* F.huber_loss(p, zeros(7), reduction='none', delta=1.0), measured on torch 1.13 */
    double p[] = {-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0}, y[7] = {0};
    const double l[] = {1.5, 0.5, 0.125, 0, 0.125, 0.5, 1.5};
    const double g[] = {-1, -1, -0.5, 0, 0.5, 1, 1};
    for (size_t k = 0; k < N_OF(DTYPES); k++) {
        lcase c;
        lc_init(&c, "huber", LOSS_REDUCE_NONE);
        c.call.dtype = DTYPES[k];
        lc_input(&c, "predictions", p, 7);
        lc_input(&c, "targets", y, 7);
        lc_run(&c);
        expect_tensor("terms[0]", &c.res.terms[0], l, 7, 0);
        expect_grad(&c, "predictions", g, 7, 0);
        lc_done(&c);
    }
}

Test(huber, mean_with_delta_two_should_match_torch)
{
    /* F.huber_loss(p, y, delta=2.0) */
    double p[] = {2.0, -2.0, 3.0, 0.3}, y[] = {0.0, 0.0, 0.0, 0.1};
    const double g[] = {0.5, -0.5, 0.5, 0.049999999999999996};
    lcase c;
    lc_init(&c, "huber", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 4);
    lc_input(&c, "targets", y, 4);
    lc_param(&c, "delta", 2.0);
    lc_run(&c);
    expect_value(&c, 2.0049999999999999, TOL64);
    expect_grad(&c, "predictions", g, 4, TOL64);
    lc_done(&c);
}

Test(huber, weighted_mean_should_divide_by_the_weight_sum)
{
    /* (w * F.huber_loss(p, y, reduction='none', delta=0.5)).sum() / w.sum() */
    double p[] = {1.5, -0.2, 0.1, 2.0}, y[] = {0.0, 0.1, 0.0, 1.0}, w[] = {2.0, 1.0, 3.0, 0.5};
    const double g[] = {0.15384615384615385, -0.046153846153846163, 0.046153846153846156,
                        0.038461538461538464};
    lcase c;
    lc_init(&c, "huber", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 4);
    lc_input(&c, "targets", y, 4);
    lc_input(&c, "weight", w, 4);
    lc_param(&c, "delta", 0.5);
    lc_run(&c);
    expect_value(&c, 0.23038461538461535, TOL64);
    expect_grad(&c, "predictions", g, 4, TOL64);
    cr_assert_float_eq(c.res.denominator, 6.5, 0);
    lc_done(&c);
}

Test(huber, non_positive_delta_should_be_an_invalid_parameter)
{
    double p[] = {1.0}, y[] = {0.0};
    const double deltas[] = {0.0, -1.0};
    for (size_t k = 0; k < N_OF(deltas); k++) {
        lcase c;
        lc_init(&c, "huber", LOSS_REDUCE_MEAN);
        lc_input(&c, "predictions", p, 1);
        lc_input(&c, "targets", y, 1);
        lc_param(&c, "delta", deltas[k]);
        loss_error e = lc_fail(&c, LOSS_ERR_PARAM);
        cr_assert_str_eq(e.field, "delta");
    }
}

/* ---- bce ---- */

Test(bce, clamped_logs_and_floored_denominator_should_match_torch_at_zero_and_one)
{
    /* F.binary_cross_entropy(p, y, reduction='none'), grad of .sum(), torch 1.13 (float64:
     * aten's float EPSILON makes the floored gradient -1000000003995.8 rather than -1e12) */
    double p[] = {0, 1, 0, 1, .5, 0, 1e-30, 1 - 1e-7}, y[] = {1, 0, 0, 1, 1, .3, 1, 1};
    const double l[] = {
        100, 100, 0, 0, 0.69314718055994529, 30, 69.077552789821368, 1.0000000494736474e-07};
    const double g[] = {-1000000003995.8029, 1000000003995.8029, 0, 0, -2, -300000001198.74084,
                        -1000000003995.8029, -1.0000001000000098};
    lcase c;
    lc_init(&c, "bce", LOSS_REDUCE_NONE);
    lc_input(&c, "predictions", p, 8);
    lc_input(&c, "targets", y, 8);
    lc_run(&c);
    expect_tensor("terms[0]", &c.res.terms[0], l, 8, TOL64);
    expect_grad(&c, "predictions", g, 8, TOL64);
    lc_done(&c);
}

Test(bce, a_tiny_probability_should_clamp_at_one_hundred)
{
    /* F.binary_cross_entropy(tensor([1e-50]), tensor([1.0])), measured on torch 1.13 */
    double p[] = {1e-50}, y[] = {1.0};
    const double g[] = {-1000000003995.8029};
    lcase c;
    lc_init(&c, "bce", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 1);
    lc_input(&c, "targets", y, 1);
    lc_run(&c);
    expect_value(&c, 100.0, TOL64);
    expect_grad(&c, "predictions", g, 1, TOL64);
    lc_done(&c);
}

static double bce_p[] = {0.2, 0.7, 0.9, 0.5, 0.01, 0.6};
static double bce_y[] = {0.0, 1.0, 1.0, 0.3, 0.0, 1.0};
static const size_t bce_shape[] = {2, 3};

Test(bce, weight_over_the_last_dimension_should_broadcast_with_mean_over_elements)
{
    /* F.binary_cross_entropy(p, y, weight=tensor([1.0, 2.0, 0.5])), p and y (2, 3) */
    double w[] = {1.0, 2.0, 0.5};
    const double g[] = {0.20833333333333329, -0.47619047619047622, -0.092592592592592601,
                        0.13333333333333333, 0.33670033670033667,  -0.1388888888888889};
    for (size_t k = 0; k < N_OF(DTYPES); k++) {
        lcase c;
        lc_init(&c, "bce", LOSS_REDUCE_MEAN);
        c.call.dtype = DTYPES[k];
        lc_input_shaped(&c, "predictions", bce_p, 2, bce_shape);
        lc_input_shaped(&c, "targets", bce_y, 2, bce_shape);
        lc_input(&c, "weight", w, 3);
        lc_run(&c);
        expect_value(&c, 0.32630572686175524, tol_of(DTYPES[k]));
        expect_grad(&c, "predictions", g, 6, tol_of(DTYPES[k]));
        cr_assert_float_eq(c.res.denominator, 6.0, 0, "the mean is over elements");
        lc_done(&c);
    }
}

Test(bce, weight_with_a_unit_last_dimension_should_broadcast_over_rows)
{
    /* F.binary_cross_entropy(p, y, weight=tensor([[3.0], [0.25]]), reduction='sum') */
    double w[] = {3.0, 0.25};
    const size_t wshape[] = {2, 1};
    const double g[] = {3.7499999999999991,  -4.2857142857142856, -3.3333333333333335,
                        0.20000000000000001, 0.25252525252525249, -0.41666666666666669};
    lcase c;
    lc_init(&c, "bce", LOSS_REDUCE_SUM);
    lc_input_shaped(&c, "predictions", bce_p, 2, bce_shape);
    lc_input_shaped(&c, "targets", bce_y, 2, bce_shape);
    lc_input_shaped(&c, "weight", w, 2, wshape);
    lc_run(&c);
    expect_value(&c, 2.3590428177771647, TOL64);
    expect_grad(&c, "predictions", g, 6, TOL64);
    lc_done(&c);
}

Test(bce, weight_that_does_not_broadcast_should_be_a_shape_error_naming_weight)
{
    double w[] = {1.0, 2.0};
    lcase c;
    lc_init(&c, "bce", LOSS_REDUCE_MEAN);
    lc_input_shaped(&c, "predictions", bce_p, 2, bce_shape);
    lc_input_shaped(&c, "targets", bce_y, 2, bce_shape);
    lc_input(&c, "weight", w, 2);
    loss_error e = lc_fail(&c, LOSS_ERR_SHAPE);
    cr_assert_str_eq(e.field, "weight");
}

Test(bce, probability_outside_zero_one_should_be_out_of_domain_naming_index)
{
    double p[] = {0.5, 0.25, 1.5, -0.1}, y[] = {1, 0, 1, 0};
    lcase c;
    lc_init(&c, "bce", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 4);
    lc_input(&c, "targets", y, 4);
    loss_error e = lc_fail(&c, LOSS_ERR_DOMAIN);
    cr_assert_str_eq(e.field, "predictions");
    cr_assert_not_null(strstr(e.message, "predictions[2]"), "%s", e.message);
}

Test(bce, nan_prediction_should_be_non_finite)
{
    double p[] = {0.5, NAN}, y[] = {1, 0};
    lcase c;
    lc_init(&c, "bce", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 2);
    lc_input(&c, "targets", y, 2);
    loss_error e = lc_fail(&c, LOSS_ERR_NON_FINITE);
    cr_assert_str_eq(e.field, "predictions");
}

/* ---- hinge ---- */

Test(hinge, the_tie_should_pass_the_gradient_like_clamp)
{
    /* torch.clamp(1 - y * p, min=0), grad of .sum() */
    double p[] = {1.0, -1.0, 0.5, 2.0, -3.0}, y[] = {1.0, -1.0, 1.0, -1.0, -1.0};
    const double l[] = {0, 0, 0.5, 3, 0}, g[] = {-1, 1, -1, 1, 0};
    for (size_t k = 0; k < N_OF(DTYPES); k++) {
        lcase c;
        lc_init(&c, "hinge", LOSS_REDUCE_NONE);
        c.call.dtype = DTYPES[k];
        lc_input(&c, "predictions", p, 5);
        lc_input(&c, "targets", y, 5);
        lc_run(&c);
        expect_tensor("terms[0]", &c.res.terms[0], l, 5, 0);
        expect_grad(&c, "predictions", g, 5, 0);
        lc_done(&c);
    }
}

Test(hinge, mean_should_match_torch)
{
    /* torch.clamp(1 - y * p, min=0).mean() */
    double p[] = {0.3, -0.8, 1.7, 0.0}, y[] = {1.0, 1.0, -1.0, -1.0};
    const double g[] = {-0.25, -0.25, 0.25, 0.25};
    lcase c;
    lc_init(&c, "hinge", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 4);
    lc_input(&c, "targets", y, 4);
    lc_run(&c);
    expect_value(&c, 1.55, TOL64);
    expect_grad(&c, "predictions", g, 4, TOL64);
    lc_done(&c);
}

Test(hinge, all_zero_one_targets_should_be_mapped_to_minus_one_one)
{
    double p[] = {0.3, -0.8, 1.7, 0.0}, y01[] = {1.0, 1.0, 0.0, 0.0};
    const double g[] = {-0.25, -0.25, 0.25, 0.25};
    lcase c;
    lc_init(&c, "hinge", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 4);
    lc_input(&c, "targets", y01, 4);
    lc_run(&c);
    expect_value(&c, 1.55, TOL64);
    expect_grad(&c, "predictions", g, 4, TOL64);
    lc_done(&c);
}

Test(hinge, a_zero_among_minus_one_targets_should_be_out_of_domain)
{
    double p[] = {0.3, -0.8, 1.7}, y[] = {1.0, 0.0, -1.0};
    lcase c;
    lc_init(&c, "hinge", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 3);
    lc_input(&c, "targets", y, 3);
    loss_error e = lc_fail(&c, LOSS_ERR_DOMAIN);
    cr_assert_str_eq(e.field, "targets");
    cr_assert_not_null(strstr(e.message, "targets[1]"), "%s", e.message);
}

/* ---- focal ---- */

Test(focal, values_and_gradients_should_match_torch_with_default_alpha_gamma)
{
    /* ce = F.binary_cross_entropy(p, y, reduction='none'); p_t = p*y + (1-p)*(1-y);
     * l = (0.25*y + 0.75*(1-y)) * ce * (1-p_t)**2 (torchvision sigmoid_focal_loss with
     * sigmoid(x) replaced by p), grad of l.sum() */
    double p[] = {1e-8, 0.5, 0.3, 0.9, 0.7, 0.05}, y[] = {1.0, 1.0, 0.0, 0.5, 1.0, 0.0};
    const double l[] = {4.6051700938846878,  0.04332169878499658,   0.024075558715864448,
                        0.15049660054074201, 0.0080251862386214821, 9.6174926976657493e-05};
    const double g[] = {-25000008.71034028,  -0.29828679513998635,  0.25693229620100111,
                        0.55555555555555569, -0.085644098733667032, 0.0058206812895926158};
    lcase c;
    lc_init(&c, "focal", LOSS_REDUCE_NONE);
    lc_input(&c, "predictions", p, 6);
    lc_input(&c, "targets", y, 6);
    lc_run(&c);
    expect_tensor("terms[0]", &c.res.terms[0], l, 6, TOL64);
    expect_grad(&c, "predictions", g, 6, TOL64);
    lc_done(&c);
}

Test(focal, a_zero_probability_of_the_true_class_should_clamp_like_bce)
{
    /* same formula, p = [0, 1], y = [1, 1] (the log is clamped at -100, as torch does) */
    double p[] = {0.0, 1.0}, y[] = {1.0, 1.0};
    const double l[] = {25.0, 0.0}, g[] = {-250000001048.95071, 0.0};
    lcase c;
    lc_init(&c, "focal", LOSS_REDUCE_NONE);
    lc_input(&c, "predictions", p, 2);
    lc_input(&c, "targets", y, 2);
    lc_run(&c);
    expect_tensor("terms[0]", &c.res.terms[0], l, 2, TOL64);
    expect_grad(&c, "predictions", g, 2, TOL64);
    lc_done(&c);
}

Test(focal, gamma_below_one_at_certainty_should_give_the_limit_not_nan)
{
    /* torch gives nan for the gradient here (measured on torch 1.13); the limit is 0 */
    double p[] = {1.0, 0.0}, y[] = {1.0, 0.0};
    const double zero[] = {0.0, 0.0};
    lcase c;
    lc_init(&c, "focal", LOSS_REDUCE_SUM);
    lc_input(&c, "predictions", p, 2);
    lc_input(&c, "targets", y, 2);
    lc_param(&c, "gamma", 0.5);
    lc_run(&c);
    expect_value(&c, 0.0, 0);
    expect_grad(&c, "predictions", zero, 2, 0);
    lc_done(&c);
}

Test(focal, negative_alpha_should_drop_the_class_weight)
{
    /* same formula without alpha_t, gamma=0.5, .mean() */
    double p[] = {0.2, 0.6, 0.95, 0.4}, y[] = {1.0, 0.0, 1.0, 0.25};
    const double g[] = {-1.3429597748603948, 0.6319886993106274, -0.087517717404849205,
                        0.16185329917230376};
    lcase c;
    lc_init(&c, "focal", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 4);
    lc_input(&c, "targets", y, 4);
    lc_param(&c, "alpha", -1.0);
    lc_param(&c, "gamma", 0.5);
    lc_run(&c);
    expect_value(&c, 0.64285528025305427, TOL64);
    expect_grad(&c, "predictions", g, 4, TOL64);
    lc_done(&c);
}

Test(focal, gamma_zero_should_be_alpha_weighted_bce)
{
    /* same formula with gamma=0, .mean() */
    double p[] = {0.2, 0.6, 1.0}, y[] = {1.0, 0.0, 1.0};
    const double g[] = {-0.41666666666666657, 0.625, 0};
    lcase c;
    lc_init(&c, "focal", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 3);
    lc_input(&c, "targets", y, 3);
    lc_param(&c, "gamma", 0.0);
    lc_run(&c);
    expect_value(&c, 0.36319250900471373, TOL64);
    expect_grad(&c, "predictions", g, 3, TOL64);
    lc_done(&c);
}

Test(focal, targets_outside_zero_one_and_negative_gamma_should_be_refused)
{
    double p[] = {0.5, 0.5}, y[] = {1.0, 1.25};
    lcase c;
    lc_init(&c, "focal", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", p, 2);
    lc_input(&c, "targets", y, 2);
    loss_error e = lc_fail(&c, LOSS_ERR_DOMAIN);
    cr_assert_str_eq(e.field, "targets");
    y[1] = 1.0;
    lc_param(&c, "gamma", -0.5);
    e = lc_fail(&c, LOSS_ERR_PARAM);
    cr_assert_str_eq(e.field, "gamma");
}

/* ---- gan_discriminator ---- */

Test(gan_discriminator, probability_form_should_be_bce_real_one_plus_bce_fake_zero)
{
    /* F.binary_cross_entropy(r, ones(5)) + F.binary_cross_entropy(f, zeros(3)) */
    double r[] = {1e-4, .5, .9999, 1.0, 0.0}, f[] = {0.3, 0.0, 1.0};
    const double gr[] = {-2000, -0.40000000000000002, -0.20002000200020001, 0, -200000000799.16058};
    const double gf[] = {0.47619047619047622, 0, 333333334665.26764};
    lcase c;
    lc_init(&c, "gan_discriminator", LOSS_REDUCE_MEAN);
    lc_input(&c, "real", r, 5);
    lc_input(&c, "fake", f, 3);
    lc_run(&c);
    expect_value(&c, 55.432942492820203, TOL64);
    expect_grad(&c, "real", gr, 5, TOL64);
    expect_grad(&c, "fake", gf, 3, TOL64);
    cr_assert_float_eq(c.res.denominator, 8.0, 0);
    lc_done(&c);
}

Test(gan_discriminator, logits_at_plus_minus_1000_should_stay_exact_per_term)
{
    /* F.binary_cross_entropy_with_logits(r, ones(4), reduction='none') and
     * F.binary_cross_entropy_with_logits(f, zeros(3), reduction='none'), grad of both sums */
    double r[] = {-1000.0, 0.0, 1000.0, 3.5}, f[] = {1000.0, -1000.0, -2.0};
    const double lr[] = {1000, 0.69314718055994529, 0, 0.029750418272620652};
    const double lf[] = {1000, 0, 0.1269280110429726};
    const double gr[] = {-1, -0.5, 0, -0.029312230751356361};
    const double gf[] = {1, 0, 0.11920292202211755};
    for (size_t k = 0; k < N_OF(DTYPES); k++) {
        lcase c;
        lc_init(&c, "gan_discriminator", LOSS_REDUCE_NONE);
        c.call.dtype = DTYPES[k];
        lc_input(&c, "real", r, 4);
        lc_input(&c, "fake", f, 3);
        lc_param(&c, "from_logits", 1);
        lc_run(&c);
        cr_assert_eq(c.res.n_terms, 2);
        expect_tensor("terms[real]", &c.res.terms[0], lr, 4, tol_of(DTYPES[k]));
        expect_tensor("terms[fake]", &c.res.terms[1], lf, 3, tol_of(DTYPES[k]));
        expect_grad(&c, "real", gr, 4, tol_of(DTYPES[k]));
        expect_grad(&c, "fake", gf, 3, tol_of(DTYPES[k]));
        lc_done(&c);
    }
}

Test(gan_discriminator, mean_should_average_each_term_over_its_own_tensor)
{
    double r[] = {0.5, 0.5}, f[] = {0.5, 0.5, 0.5, 0.5};
    const double gr[] = {-1.0, -1.0}, gf[] = {0.5, 0.5, 0.5, 0.5};
    lcase c;
    lc_init(&c, "gan_discriminator", LOSS_REDUCE_MEAN);
    lc_input(&c, "real", r, 2);
    lc_input(&c, "fake", f, 4);
    lc_run(&c);
    expect_value(&c, 2.0 * log(2.0), TOL64);
    expect_grad(&c, "real", gr, 2, TOL64);
    expect_grad(&c, "fake", gf, 4, TOL64);
    lc_done(&c);
}

Test(gan_discriminator, an_empty_term_should_make_the_mean_nan_with_zero_gradients)
{
    double f[] = {0.25, 0.75};
    const double zero[] = {0.0, 0.0};
    lcase c;
    lc_init(&c, "gan_discriminator", LOSS_REDUCE_MEAN);
    lc_input(&c, "real", NULL, 0);
    lc_input(&c, "fake", f, 2);
    lc_run(&c);
    cr_assert(isnan(c.res.value));
    expect_grad(&c, "fake", zero, 2, 0);
    lc_done(&c);
    c.call.reduction = LOSS_REDUCE_SUM;
    lc_run(&c);
    expect_value(&c, -log(0.75) - log(0.25), TOL64);
    lc_done(&c);
}

Test(gan_discriminator, fake_probability_outside_zero_one_should_name_fake)
{
    double r[] = {0.5}, f[] = {0.5, 1.0000001};
    lcase c;
    lc_init(&c, "gan_discriminator", LOSS_REDUCE_MEAN);
    lc_input(&c, "real", r, 1);
    lc_input(&c, "fake", f, 2);
    loss_error e = lc_fail(&c, LOSS_ERR_DOMAIN);
    cr_assert_str_eq(e.field, "fake");
    cr_assert_not_null(strstr(e.message, "fake[1]"), "%s", e.message);
}

/* ---- gan_generator ---- */

Test(gan_generator, non_saturating_probability_form_should_be_bce_with_one)
{
    /* F.binary_cross_entropy(f, ones(4)) */
    double f[] = {1e-4, .5, .9999, 0.0};
    const double g[] = {-2500, -0.5, -0.25002500250025, -250000000998.95071};
    lcase c;
    lc_init(&c, "gan_generator", LOSS_REDUCE_MEAN);
    lc_input(&c, "fake", f, 4);
    lc_run(&c);
    expect_value(&c, 27.475896889384117, TOL64);
    expect_grad(&c, "fake", g, 4, TOL64);
    lc_done(&c);
}

Test(gan_generator, saturating_probability_form_should_be_minus_bce_with_zero)
{
    /* -F.binary_cross_entropy(f, zeros(4)) */
    double f[] = {1e-4, .5, .9999, 1.0};
    const double g[] = {-0.25002500250025, -0.5, -2500.0000000002751, -250000000998.95071};
    lcase c;
    lc_init(&c, "gan_generator", LOSS_REDUCE_MEAN);
    lc_input(&c, "fake", f, 4);
    lc_param(&c, "saturating", 1);
    lc_run(&c);
    expect_value(&c, -27.475896889384142, TOL64);
    expect_grad(&c, "fake", g, 4, TOL64);
    lc_done(&c);
}

Test(gan_generator, logit_forms_should_be_exact_at_plus_minus_1000)
{
    /* F.binary_cross_entropy_with_logits(f, ones(4), reduction='none'), grad of .sum();
     * saturating: -F.softplus(f).mean() */
    double f[] = {-1000.0, 0.0, 1000.0, 2.0};
    const double l[] = {1000, 0.69314718055994529, 0, 0.1269280110429726};
    const double g[] = {-1, -0.5, 0, -0.11920292202211769};
    const double gs[] = {0, -0.125, -0.25, -0.22019926949447061};
    lcase c;
    lc_init(&c, "gan_generator", LOSS_REDUCE_NONE);
    lc_input(&c, "fake", f, 4);
    lc_param(&c, "from_logits", 1);
    lc_run(&c);
    expect_tensor("terms[0]", &c.res.terms[0], l, 4, TOL64);
    expect_grad(&c, "fake", g, 4, TOL64);
    lc_done(&c);
    c.call.reduction = LOSS_REDUCE_MEAN;
    lc_param(&c, "saturating", 1);
    lc_run(&c);
    expect_value(&c, -250.70501879790072, TOL64);
    expect_grad(&c, "fake", gs, 4, TOL64);
    lc_done(&c);
}

/* ---- finite differences ---- */

/* Checks every gradient element of input `name` against central differences of the value
 * (the call's reduction must be sum or mean). x is the borrowed data of that input. */
static void fd_check(lcase *c, const char *name, double *x, size_t n)
{
    lc_run(c);
    double *g = mem_alloc(n * sizeof *g);
    for (size_t i = 0; i < n; i++)
        g[i] = tensor_get(&c->res.grad[lc_index(c, name)], i);
    lc_done(c);
    c->call.want_gradient = 0;
    for (size_t i = 0; i < n; i++) {
        double save = x[i], h = 1e-6 * fmax(1.0, fabs(save)), up, down;
        x[i] = save + h;
        lc_run(c);
        up = c->res.value;
        lc_done(c);
        x[i] = save - h;
        lc_run(c);
        down = c->res.value;
        lc_done(c);
        x[i] = save;
        double fd = (up - down) / (2 * h);
        cr_assert(fabs(fd - g[i]) <= 1e-6 * fmax(1.0, fabs(g[i])),
                  "%s %s[%zu]: finite difference %.12g, gradient %.12g", c->call.desc->name, name,
                  i, fd, g[i]);
    }
    c->call.want_gradient = 1;
    mem_free(g);
}

static double unit_rand(unsigned long *s)
{
    *s = *s * 6364136223846793005UL + 1442695040888963407UL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* Random values in [lo, hi) that stay at least `gap` away from each kink in kinks[]. */
static void fill_away(double *x, const double *base, size_t n, double lo, double hi,
                      const double *kinks, size_t n_kinks, double gap, unsigned long seed)
{
    for (size_t i = 0; i < n; i++) {
        int ok;
        do {
            x[i] = lo + (hi - lo) * unit_rand(&seed);
            ok = 1;
            for (size_t k = 0; k < n_kinks; k++)
                ok &= fabs(x[i] - (base ? base[i] : 0.0) - kinks[k]) > gap;
        } while (!ok);
    }
}

Test(finite_differences, regression_losses_should_agree_with_their_gradients)
{
    enum { N = 12 };
    double p[N], y[N], w[N];
    fill_away(y, NULL, N, -2, 2, NULL, 0, 0, 1);
    fill_away(w, NULL, N, 0.1, 3, NULL, 0, 0, 2);
    const double k_abs[] = {0.0}, k_huber[] = {-0.7, 0.7};
    struct {
        const char *loss;
        const double *kinks;
        size_t n_kinks;
        int weighted;
    } cases[] = {{"mae", k_abs, 1, 1}, {"mbe", NULL, 0, 0}, {"huber", k_huber, 2, 1}};
    for (size_t k = 0; k < N_OF(cases); k++) {
        fill_away(p, y, N, -3, 3, cases[k].kinks, cases[k].n_kinks, 1e-3, 3 + k);
        lcase c;
        lc_init(&c, cases[k].loss, LOSS_REDUCE_MEAN);
        lc_input(&c, "predictions", p, N);
        lc_input(&c, "targets", y, N);
        if (cases[k].weighted)
            lc_input(&c, "weight", w, N);
        if (strcmp(cases[k].loss, "huber") == 0)
            lc_param(&c, "delta", 0.7);
        fd_check(&c, "predictions", p, N);
    }
}

Test(finite_differences, classification_losses_should_agree_with_their_gradients)
{
    enum { N = 12 };
    double p[N], y[N], w[N], ys[N];
    fill_away(p, NULL, N, 0.05, 0.95, NULL, 0, 0, 11);
    fill_away(y, NULL, N, 0, 1, NULL, 0, 0, 12);
    fill_away(w, NULL, N, 0.1, 2, NULL, 0, 0, 13);
    lcase c;
    lc_init(&c, "bce", LOSS_REDUCE_SUM);
    lc_input(&c, "predictions", p, N);
    lc_input(&c, "targets", y, N);
    lc_input(&c, "weight", w, N);
    fd_check(&c, "predictions", p, N);

    const double gammas[] = {2.0, 0.5, 0.0}, alphas[] = {0.25, -1.0, 0.6};
    for (size_t k = 0; k < N_OF(gammas); k++) {
        lc_init(&c, "focal", LOSS_REDUCE_MEAN);
        lc_input(&c, "predictions", p, N);
        lc_input(&c, "targets", y, N);
        lc_param(&c, "gamma", gammas[k]);
        lc_param(&c, "alpha", alphas[k]);
        fd_check(&c, "predictions", p, N);
    }

    for (size_t i = 0; i < N; i++)
        ys[i] = y[i] < 0.5 ? -1.0 : 1.0;
    double q[N];
    const double k_hinge[] = {0.0};
    for (size_t i = 0; i < N; i++) {
        double base = ys[i]; /* the tie is at p = y (1 - y*p = 0 for y = +-1) */
        fill_away(&q[i], &base, 1, -3, 3, k_hinge, 1, 1e-3, 20 + i);
    }
    lc_init(&c, "hinge", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", q, N);
    lc_input(&c, "targets", ys, N);
    fd_check(&c, "predictions", q, N);
}

Test(finite_differences, gan_losses_should_agree_with_their_gradients)
{
    enum { NR = 7, NF = 5 };
    double pr[NR], pf[NF], lr[NR], lf[NF];
    fill_away(pr, NULL, NR, 0.05, 0.95, NULL, 0, 0, 31);
    fill_away(pf, NULL, NF, 0.05, 0.95, NULL, 0, 0, 32);
    fill_away(lr, NULL, NR, -6, 6, NULL, 0, 0, 33);
    fill_away(lf, NULL, NF, -6, 6, NULL, 0, 0, 34);
    for (int logits = 0; logits < 2; logits++) {
        double *r = logits ? lr : pr, *f = logits ? lf : pf;
        lcase c;
        lc_init(&c, "gan_discriminator", LOSS_REDUCE_MEAN);
        lc_input(&c, "real", r, NR);
        lc_input(&c, "fake", f, NF);
        lc_param(&c, "from_logits", logits);
        fd_check(&c, "real", r, NR);
        fd_check(&c, "fake", f, NF);
        for (int sat = 0; sat < 2; sat++) {
            lc_init(&c, "gan_generator", LOSS_REDUCE_SUM);
            lc_input(&c, "fake", f, NF);
            lc_param(&c, "from_logits", logits);
            lc_param(&c, "saturating", sat);
            fd_check(&c, "fake", f, NF);
        }
    }
}

/* ---- large inputs: every ISA path, and determinism across pools ---- */

typedef enum { DIST_WIDE, DIST_SIGN, DIST_UNIT } dist;

typedef struct {
    const char *loss;
    const char *in0, *in1; /* in1 may be NULL */
    dist d0, d1;
    const char *param; /* may be NULL */
    double pval;
} big_spec;

static const big_spec BIG[] = {
    {"mae", "predictions", "targets", DIST_WIDE, DIST_WIDE, NULL, 0},
    {"mbe", "predictions", "targets", DIST_WIDE, DIST_WIDE, NULL, 0},
    {"huber", "predictions", "targets", DIST_WIDE, DIST_WIDE, "delta", 0.8},
    {"hinge", "predictions", "targets", DIST_WIDE, DIST_SIGN, NULL, 0},
    {"bce", "predictions", "targets", DIST_UNIT, DIST_UNIT, NULL, 0},
    {"focal", "predictions", "targets", DIST_UNIT, DIST_UNIT, "gamma", 1.5},
    {"gan_discriminator", "real", "fake", DIST_UNIT, DIST_UNIT, NULL, 0},
    {"gan_generator", "fake", NULL, DIST_WIDE, DIST_WIDE, "from_logits", 1},
};

static void fill_dist(double *x, size_t n, dist d, unsigned long seed)
{
    for (size_t i = 0; i < n; i++) {
        double u = unit_rand(&seed);
        x[i] = d == DIST_WIDE ? 6 * u - 3 : d == DIST_SIGN ? (u < 0.5 ? -1.0 : 1.0) : u;
    }
}

/* Plants the kinks the fast paths must get right: d = 0, |d| = delta, hinge ties. */
static void plant_edges(const big_spec *s, double *a, const double *b, size_t n)
{
    if (s->d0 != DIST_WIDE || s->in1 == NULL)
        return;
    for (size_t i = 0; i < n; i += 97)
        a[i] = b[i];
    for (size_t i = 41; i < n; i += 89)
        a[i] = b[i] + (s->param ? s->pval : 1.0) * (i % 2 ? 1 : -1);
}

typedef struct {
    double value;
    tensor grad[2], terms[2];
} snapshot;

static void copy_tensor(tensor *dst, const tensor *src)
{
    memset(dst, 0, sizeof *dst);
    if (src->data == NULL)
        return;
    cr_assert_eq(tensor_alloc(dst, src->type, src->rank, src->shape), 0);
    memcpy(dst->data, src->data, src->count * tensor_type_size(src->type));
}

static void snapshot_free(snapshot *s)
{
    for (int i = 0; i < 2; i++) {
        tensor_release(&s->grad[i]);
        tensor_release(&s->terms[i]);
    }
}

static void run_big(const big_spec *s, double *a, double *b, size_t n, loss_dtype dt,
                    loss_reduction red, pool *workers, snapshot *out)
{
    lcase c;
    lc_init(&c, s->loss, red);
    c.call.dtype = dt;
    lc_input(&c, s->in0, a, n);
    if (s->in1)
        lc_input(&c, s->in1, b, n);
    if (s->param)
        lc_param(&c, s->param, s->pval);
    lc_run_with(&c, workers);
    memset(out, 0, sizeof *out);
    out->value = c.res.value;
    for (int i = 0; i < 2; i++) {
        copy_tensor(&out->grad[i], &c.res.grad[i]);
        copy_tensor(&out->terms[i], &c.res.terms[i]);
    }
    lc_done(&c);
}

static void expect_same_bytes(const snapshot *a, const snapshot *b, const char *what)
{
    cr_assert_eq(memcmp(&a->value, &b->value, sizeof a->value), 0, "%s: value differs", what);
    for (int i = 0; i < 2; i++) {
        const tensor *t[2][2] = {{&a->grad[i], &b->grad[i]}, {&a->terms[i], &b->terms[i]}};
        for (int k = 0; k < 2; k++) {
            size_t bytes = t[k][0]->count * tensor_type_size(t[k][0]->type);
            cr_assert_eq(t[k][0]->count, t[k][1]->count, "%s", what);
            if (t[k][0]->data)
                cr_assert_eq(memcmp(t[k][0]->data, t[k][1]->data, bytes), 0, "%s: %s %d differs",
                             what, k ? "terms" : "grad", i);
        }
    }
}

static void expect_close_snapshots(const snapshot *got, const snapshot *ref, double tol,
                                   const char *what)
{
    cr_assert(close_to(got->value, ref->value, tol) || (isnan(got->value) && isnan(ref->value)),
              "%s: value %.17g vs reference %.17g", what, got->value, ref->value);
    for (int i = 0; i < 2; i++) {
        const tensor *pairs[2][2] = {{&got->grad[i], &ref->grad[i]},
                                     {&got->terms[i], &ref->terms[i]}};
        for (int k = 0; k < 2; k++) {
            const tensor *g = pairs[k][0], *r = pairs[k][1];
            if (r->data == NULL)
                continue;
            for (size_t j = 0; j < r->count; j++)
                cr_assert(close_to(tensor_get(g, j), tensor_get(r, j), tol),
                          "%s: %s %d [%zu] %.17g vs reference %.17g", what, k ? "terms" : "grad", i,
                          j, tensor_get(g, j), tensor_get(r, j));
        }
    }
}

Test(isa, every_fast_path_should_agree_with_the_reference)
{
    const size_t n = 100003;
    double *a = mem_alloc(n * sizeof *a), *b = mem_alloc(n * sizeof *b);
    const char *isas[] = {"avx2", "avx512"};
    const loss_reduction reds[] = {LOSS_REDUCE_MEAN, LOSS_REDUCE_NONE};
    for (size_t s = 0; s < N_OF(BIG); s++) {
        fill_dist(a, n, BIG[s].d0, 100 + s);
        fill_dist(b, n, BIG[s].d1, 200 + s);
        plant_edges(&BIG[s], a, b, n);
        for (size_t k = 0; k < N_OF(DTYPES); k++) {
            for (size_t r = 0; r < N_OF(reds); r++) {
                snapshot ref, got;
                cr_assert_eq(kern_init("ref"), 0);
                run_big(&BIG[s], a, b, n, DTYPES[k], reds[r], NULL, &ref);
                for (size_t i = 0; i < N_OF(isas); i++) {
                    if (kern_init(isas[i]) != 0)
                        continue;
                    char what[96];
                    snprintf(what, sizeof what, "%s %s dtype %zu reduction %zu", BIG[s].loss,
                             isas[i], k, r);
                    run_big(&BIG[s], a, b, n, DTYPES[k], reds[r], NULL, &got);
                    expect_close_snapshots(&got, &ref, k == 0 ? 1e-12 : 1e-6, what);
                    snapshot_free(&got);
                }
                snapshot_free(&ref);
            }
        }
    }
    kern_init(NULL);
    mem_free(a);
    mem_free(b);
}

Test(determinism, results_should_be_bit_identical_for_1_2_and_7_workers)
{
    const size_t n = 200003;
    double *a = mem_alloc(n * sizeof *a), *b = mem_alloc(n * sizeof *b);
    const size_t counts[] = {1, 2, 7};
    pool *pools[3];
    for (size_t i = 0; i < 3; i++)
        cr_assert_not_null(pools[i] = pool_create(counts[i], 4));
    for (size_t s = 0; s < N_OF(BIG); s++) {
        fill_dist(a, n, BIG[s].d0, 300 + s);
        fill_dist(b, n, BIG[s].d1, 400 + s);
        plant_edges(&BIG[s], a, b, n);
        for (size_t k = 0; k < N_OF(DTYPES); k++) {
            const loss_reduction red = k == 0 ? LOSS_REDUCE_MEAN : LOSS_REDUCE_NONE;
            snapshot alone, shared;
            run_big(&BIG[s], a, b, n, DTYPES[k], red, NULL, &alone);
            for (size_t i = 0; i < 3; i++) {
                char what[64];
                snprintf(what, sizeof what, "%s, %zu workers", BIG[s].loss, counts[i]);
                run_big(&BIG[s], a, b, n, DTYPES[k], red, pools[i], &shared);
                expect_same_bytes(&shared, &alone, what);
                snapshot_free(&shared);
            }
            snapshot_free(&alone);
        }
    }
    for (size_t i = 0; i < 3; i++)
        pool_destroy(pools[i]);
    mem_free(a);
    mem_free(b);
}

/* A bad element deep in a large input must be reported exactly, whichever path ran. */
Test(isa, declined_chunks_should_report_the_exact_bad_element)
{
    const size_t n = 100003;
    double *p = mem_alloc(n * sizeof *p), *y = mem_alloc(n * sizeof *y);
    const char *isas[] = {"ref", "avx2", "avx512"};
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        for (size_t k = 0; k < N_OF(DTYPES); k++) {
            fill_dist(p, n, DIST_WIDE, 7);
            fill_dist(y, n, DIST_SIGN, 8);
            y[50001] = 0.0;
            lcase c;
            lc_init(&c, "hinge", LOSS_REDUCE_MEAN);
            c.call.dtype = DTYPES[k];
            lc_input(&c, "predictions", p, n);
            lc_input(&c, "targets", y, n);
            loss_error e = lc_fail(&c, LOSS_ERR_DOMAIN);
            cr_assert_str_eq(e.field, "targets", "%s", isas[i]);
            cr_assert_not_null(strstr(e.message, "targets[50001]"), "%s: %s", isas[i], e.message);
            /* +inf with y = 1 clamps to a finite 0: only a finiteness check can see it */
            y[50001] = 1.0;
            y[70002] = 1.0;
            p[70002] = INFINITY;
            e = lc_fail(&c, LOSS_ERR_NON_FINITE);
            cr_assert_str_eq(e.field, "predictions", "%s", isas[i]);
            cr_assert_not_null(strstr(e.message, "predictions[70002]"), "%s", e.message);
            const char *others[] = {"mae", "mbe", "huber"};
            for (size_t o = 0; o < N_OF(others); o++) {
                lc_init(&c, others[o], LOSS_REDUCE_SUM);
                c.call.dtype = DTYPES[k];
                lc_input(&c, "predictions", p, n);
                lc_input(&c, "targets", y, n);
                e = lc_fail(&c, LOSS_ERR_NON_FINITE);
                cr_assert_not_null(strstr(e.message, "predictions[70002]"), "%s %s: %s", others[o],
                                   isas[i], e.message);
            }
        }
    }
    kern_init(NULL);
    mem_free(p);
    mem_free(y);
}

/* ---- PyTorch golden fixtures (tests/fixtures/<loss>.json, every ISA path) ---- */

Test(mae, should_match_pytorch_fixtures) { golden_run_file("mae"); }
Test(mae, gradient_should_match_finite_differences) { golden_fd_file("mae"); }
Test(mbe, should_match_pytorch_fixtures) { golden_run_file("mbe"); }
Test(mbe, gradient_should_match_finite_differences) { golden_fd_file("mbe"); }
Test(huber, should_match_pytorch_fixtures) { golden_run_file("huber"); }
Test(huber, gradient_should_match_finite_differences) { golden_fd_file("huber"); }
Test(bce, should_match_pytorch_fixtures) { golden_run_file("bce"); }
Test(bce, gradient_should_match_finite_differences) { golden_fd_file("bce"); }
Test(hinge, should_match_pytorch_fixtures) { golden_run_file("hinge"); }
Test(hinge, gradient_should_match_finite_differences) { golden_fd_file("hinge"); }
Test(focal, should_match_pytorch_fixtures) { golden_run_file("focal"); }
Test(focal, gradient_should_match_finite_differences) { golden_fd_file("focal"); }
Test(gan_discriminator, should_match_pytorch_fixtures) { golden_run_file("gan_discriminator"); }
Test(gan_discriminator, gradient_should_match_finite_differences)
{
    golden_fd_file("gan_discriminator");
}
Test(gan_generator, should_match_pytorch_fixtures) { golden_run_file("gan_generator"); }
Test(gan_generator, gradient_should_match_finite_differences) { golden_fd_file("gan_generator"); }
