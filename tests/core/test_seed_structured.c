/* seed_structured losses: cross_entropy, nll, contrastive, triplet_margin, box_iou, giou,
 * diou, ciou. Expected numbers were printed by /usr/bin/python3 (torch 1.13, torchvision
 * 0.14, float64, "%.17g") from the call quoted above each test; gradients are also checked
 * by central differences, and results must be bit-identical across worker counts. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "loss.h"
#include "mem.h"
#include "pool.h"

#define SHAPE(...) ((const size_t[]){__VA_ARGS__})
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const loss_desc *find(const char *name)
{
    const loss_desc *d = loss_registry_find(name, strlen(name));
    cr_assert_not_null(d, "%s is registered", name);
    return d;
}

static void start(loss_call *c, const char *loss, loss_reduction red)
{
    loss_call_init(c, find(loss));
    c->reduction = red;
    c->want_gradient = 1;
}

static int input_index(const loss_call *c, const char *name)
{
    int i = loss_desc_input_index(c->desc, name, strlen(name));
    cr_assert_geq(i, 0, "%s has an input %s", c->desc->name, name);
    return i;
}

static void put(loss_call *c, const char *name, tensor_type type, void *data, size_t rank,
                const size_t *shape)
{
    int i = input_index(c, name);
    tensor *t = &c->input[i];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->rank = rank;
    t->count = 1;
    for (size_t k = 0; k < rank; k++) {
        t->shape[k] = shape[k];
        t->count *= shape[k];
    }
    t->data = data;
    c->present[i] = 1;
}

static void put_f(loss_call *c, const char *name, double *data, size_t rank, const size_t *shape)
{
    put(c, name, TENSOR_F64, data, rank, shape);
}

static void put_i(loss_call *c, const char *name, int64_t *data, size_t rank, const size_t *shape)
{
    put(c, name, TENSOR_I64, data, rank, shape);
}

static void set_param(loss_call *c, const char *name, double v)
{
    int i = loss_desc_param_index(c->desc, name, strlen(name));
    cr_assert_geq(i, 0, "%s has a parameter %s", c->desc->name, name);
    c->param[i] = v;
    c->param_set[i] = 1;
}

static void run_ok(const loss_call *c, pool *workers, loss_result *r)
{
    loss_error e;
    memset(&e, 0, sizeof e);
    loss_status st = loss_compute(c, workers, r, &e);
    cr_assert_eq(st, LOSS_OK, "%s: %s (%s)", c->desc->name, e.message, e.field);
}

static void run_err(const loss_call *c, loss_status want, const char *field, const char *needle)
{
    loss_result r;
    loss_error e;
    memset(&e, 0, sizeof e);
    cr_assert_eq(loss_compute(c, NULL, &r, &e), want, "%s: got '%s'", c->desc->name, e.message);
    cr_assert_str_eq(e.field, field);
    if (needle)
        cr_assert_not_null(strstr(e.message, needle), "'%s' in '%s'", needle, e.message);
}

static double at(const tensor *t, size_t i)
{
    return t->type == TENSOR_F64 ? ((const double *)t->data)[i] : ((const float *)t->data)[i];
}

/* |got - want| <= tol * max(1, |want|): relative, absolute near zero (docs/api.md). */
static void expect_near(const tensor *got, const double *want, size_t n, double tol,
                        const char *what)
{
    cr_assert_eq(got->count, n, "%s has %zu elements, want %zu", what, got->count, n);
    for (size_t i = 0; i < n; i++) {
        double g = at(got, i), lim = tol * fmax(1.0, fabs(want[i]));
        cr_assert(fabs(g - want[i]) <= lim, "%s[%zu] = %.17g, want %.17g", what, i, g, want[i]);
    }
}

static void expect_value(const loss_result *r, double want, double tol)
{
    double lim = tol * fmax(1.0, fabs(want));
    cr_assert(fabs(r->value - want) <= lim, "value %.17g, want %.17g", r->value, want);
}

static const tensor *grad_of(const loss_call *c, const loss_result *r, const char *name)
{
    const tensor *g = &r->grad[input_index(c, name)];
    cr_assert_not_null(g->data, "a gradient for %s", name);
    return g;
}

/* Value of the loss as one scalar: the value, or the sum of the `none` terms. */
static double scalar_of(const loss_call *c)
{
    loss_call q = *c;
    loss_result r;
    q.want_gradient = 0;
    run_ok(&q, NULL, &r);
    double v = r.value;
    if (q.reduction == LOSS_REDUCE_NONE) {
        v = 0.0;
        for (size_t i = 0; i < r.terms[0].count; i++)
            v += at(&r.terms[0], i);
    }
    loss_result_release(&r);
    return v;
}

/* Central differences of the (F64) call against its analytic gradient for `name`. */
static void check_fd(const loss_call *c, const char *name, double tol)
{
    loss_result r;
    run_ok(c, NULL, &r);
    const tensor *g = grad_of(c, &r, name);
    double *x = c->input[input_index(c, name)].data;
    for (size_t k = 0; k < g->count; k++) {
        double keep = x[k], h = 1e-6 * fmax(1.0, fabs(keep));
        x[k] = keep + h;
        double up = scalar_of(c);
        x[k] = keep - h;
        double down = scalar_of(c);
        x[k] = keep;
        double fd = (up - down) / (2 * h), an = at(g, k);
        cr_assert(fabs(fd - an) <= tol * fmax(1.0, fabs(an)),
                  "%s d/d%s[%zu]: finite difference %.12g, analytic %.12g", c->desc->name, name,
                  k, fd, an);
    }
    loss_result_release(&r);
}

static size_t result_bytes(const tensor *t)
{
    return t->data ? t->count * (t->type == TENSOR_F64 ? 8 : 4) : 0;
}

/* Runs c with the calling thread, then 2 and 7 workers: every output byte must agree. */
static void expect_same_bytes_across_workers(const loss_call *c)
{
    loss_result base, r;
    run_ok(c, NULL, &base);
    const size_t workers[] = {2, 7};
    for (size_t w = 0; w < COUNT(workers); w++) {
        pool *pl = pool_create(workers[w], 4);
        cr_assert_not_null(pl);
        run_ok(c, pl, &r);
        pool_destroy(pl);
        cr_assert_eq(memcmp(&r.value, &base.value, sizeof r.value), 0, "%zu workers: value",
                     workers[w]);
        for (size_t i = 0; i < LOSS_MAX_INPUTS; i++) {
            cr_assert_eq(result_bytes(&r.grad[i]), result_bytes(&base.grad[i]));
            if (base.grad[i].data)
                cr_assert_eq(memcmp(r.grad[i].data, base.grad[i].data,
                                    result_bytes(&base.grad[i])), 0,
                             "%zu workers: gradient %zu", workers[w], i);
        }
        if (base.terms[0].data)
            cr_assert_eq(memcmp(r.terms[0].data, base.terms[0].data,
                                result_bytes(&base.terms[0])), 0);
        loss_result_release(&r);
    }
    loss_result_release(&base);
}

/* Deterministic pseudo-random numbers in [lo, hi). */
static double rnd(uint64_t *s, double lo, double hi)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * (double)(*s >> 11) / 9007199254740992.0;
}

/* ---------------------------------------------------------------- cross_entropy */

static double ce_x[] = {0.5, -1.25, 2.0, 0.0, 1.5, 0.25, -0.75, 3.0, -2.0, 0.5, 0.125, 1.0};
static double ce_w[] = {0.5, 2.0, 1.5, 1.0};

/* F.cross_entropy(X, torch.tensor([0, 3, 1])), X = ce_x as (3, 4) */
Test(cross_entropy, index_targets_mean_should_match_pytorch)
{
    int64_t t[] = {0, 3, 1};
    const double grad[] = {-0.28010214998929722, 0.0092501926442268029, 0.23856561259412812,
                           0.032286344750942345, 0.056751179069751412, 0.016259485030955399,
                           0.0059815302669233034, -0.078992194367630081, 0.0080049448070740985,
                           -0.23581314156538843, 0.067024582267748128, 0.16078361449056625};
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
    const double grad[] = {0.059015899299016267, -0.017074760570746691, -0.067782738633012193,
                           0.025841599904742631, 0, 0, 0, 0, 0.0055506981940746433,
                           -0.33107512448225884, 0.084853266167429192, 0.24067116012075507};
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
    const double grad[] = {0.206555647546557, -0.059761661997613402, -0.2372395852155427,
                           0.090445599666599236, 0, 0, 0, 0, 0.019427443679261254,
                           -1.1587629356879061, 0.29698643158600219, 0.84234906042264279};
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
    const double ls_grad[] = {0.033333333333333326, -0.016666666666666666,
                              -0.016666666666666666, -0.016666666666666666,
                              0.48333333333333334,  -0.46666666666666667};
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

static double ce_xk[] = {0.1,  -0.3, 1.2,  0.7,  -1.1, 0.4,  0.0,  2.2,  0.9,  -0.8, 0.3,  -0.5,
                         1.4,  0.2,  -0.6, 0.8,  0.5,  -1.7, 1.0,  0.3,  -0.2, 0.6,  -1.3, 0.05};
static double ce_wk[] = {1.0, 0.5, 2.0};

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
    const double grad[] = {0.031955645846711761, -0.18343725919471648, 0.23695701574266012,
                           -0.085475402394655398, 0.10086785049415577, -0.56097688867073825,
                           -0.0074598616211822653, 0.46756889979776478, -0.03166048565782404,
                           -0.044766426956735557, -0.041219272165314833, 0.11764618477987447};
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
    const double grad[] = {-0.040306449967891761, -0.27224942206731956, 0.61569683778238438,
                           -0.30314096574717297,  0.17025353720925424, -0.95122154490713384,
                           0.017944590800769912,  0.76302341689710973, -0.22598516557877771,
                           0.042560575303834669,  -0.048926253196755587, 0.23235084347169876};
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

static void ce_big(loss_call *c, double *x, int64_t *t, double *w, size_t n, size_t classes,
                   size_t inner)
{
    uint64_t s = 42;
    for (size_t i = 0; i < n * classes * inner; i++)
        x[i] = rnd(&s, -4, 4);
    for (size_t i = 0; i < n * inner; i++)
        t[i] = i % 13 == 5 ? -100 : (int64_t)(rnd(&s, 0, (double)classes));
    for (size_t k = 0; k < classes; k++)
        w[k] = rnd(&s, 0.1, 3);
    start(c, "cross_entropy", LOSS_REDUCE_MEAN);
    if (inner == 1) {
        put_f(c, "predictions", x, 2, SHAPE(n, classes));
        put_i(c, "targets", t, 1, SHAPE(n));
    } else {
        put_f(c, "predictions", x, 3, SHAPE(n, classes, inner));
        put_i(c, "targets", t, 2, SHAPE(n, inner));
    }
    put_f(c, "weight", w, 1, SHAPE(classes));
    set_param(c, "label_smoothing", 0.1);
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

/* ---------------------------------------------------------------- nll */

static double nll_x[] = {-0.5, -1.25, -2.0, -0.1, -1.5, -0.25, -0.75, -3.0, -2.0, -0.5, -0.125, -1.0};

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
    const double grad[] = {-0.14285714285714285, 0, 0, 0, 0, 0, 0, 0, 0, -0.2857142857142857, 0,
                           0, 0, 0, -0.14285714285714285, -0.14285714285714285, 0, 0, 0, 0,
                           -0.2857142857142857, 0, 0, 0};
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

/* ---------------------------------------------------------------- box losses */

/* Rows: identical, half overlap, disjoint, touching edge, contained, zero-area prediction,
 * both 0x0, general, shared x edges (ties of torch.min/max). */
static double box_p[] = {0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 1, 1, 0, 0,   1,   1,   0, 0,
                         4, 4, 1, 0, 1, 2, 1, 1, 1, 1, 0.3, 0.2, 2.7, 1.9, 0, 0, 2, 3};
static double box_t[] = {0, 0, 2, 2, 1, 0, 3, 2, 2, 2, 3, 3, 1, 0,    2,    1,   1, 1,
                         2, 2, 0, 0, 2, 2, 1, 1, 1, 1, 0.8, -0.4, 3.1, 1.5, 0, 1, 2, 2};

/* Runs `loss` over the nine pairs with reduction none in both dtypes. */
static void expect_box_cases(const char *loss, const double terms[9], const double grad[36])
{
    loss_call c;
    loss_result r;
    start(&c, loss, LOSS_REDUCE_NONE);
    put_f(&c, "predictions", box_p, 2, SHAPE(9, 4));
    put_f(&c, "targets", box_t, 2, SHAPE(9, 4));
    for (int dt = 0; dt < 2; dt++) {
        double tol = dt ? 1e-5 : 1e-12;
        c.dtype = (loss_dtype)dt;
        run_ok(&c, NULL, &r);
        cr_assert_eq(r.terms[0].rank, 1);
        expect_near(&r.terms[0], terms, 9, tol, "terms");
        expect_near(grad_of(&c, &r, "predictions"), grad, 36, tol, "grad");
        cr_assert_null(r.grad[1].data, "no gradient for targets");
        loss_result_release(&r);
    }
}

/* i, u = torchvision.ops._utils._loss_inter_union(b1, b2); 1 - i / (u + 1e-7),
 * b1 = box_p, b2 = box_t as (9, 4); gradient of .sum() */
Test(box_iou, edge_cases_should_match_the_seed_formula)
{
    const double terms[] = {2.4999999403974016e-08, 0.66666667222222209, 1, 1,
                            0.93750000039062498, 1, 1, 0.58695652864621173, 0.66666667222222209};
    const double grad[] = {
        6.2499996844600503e-09, 6.2499996844600503e-09, -6.2499996844600503e-09,
        -6.2499996844600503e-09, -0.11111110740740748, 1.3888888511504049e-09,
        -0.33333332777777785, -1.3888888511504049e-09, 0, 0, 0, 0, 0, 0, 0, 0,
        -0.015624999804687499, -0.015624999804687499, 0.015624999804687499, 0.015624999804687499,
        0, 0, 0, 0, 0, 0, 0, 0, -0.11742038286946518, 0.2831903404689084, -0.18976297533146949,
        0.16576995228630381, -0.055555552314814891, -0.11111110740740748, 0.055555552314814891,
        0.11111110740740748};
    expect_box_cases("box_iou", terms, grad);
}

/* torchvision.ops.generalized_box_iou_loss(b1, b2) */
Test(giou, edge_cases_should_match_torchvision)
{
    const double terms[] = {2.4999999403974016e-08, 0.66666667222222209, 1.7777777691358025, 1,
                            0.93750000039062498, 1, 1, 0.65838509896564412, 0.66666667222222209};
    const double grad[] = {
        6.2499997122156259e-09, 6.2499997122156259e-09, -6.2499997122156259e-09,
        -6.2499997122156259e-09, -0.11111110740740748, 1.3888888650281928e-09,
        -0.33333332777777785, -1.3888888650281928e-09, 0.037037033744856077,
        0.037037033744856077, -0.11111110987654323, -0.11111110987654323, 0, 0,
        -0.49999997500000132, 0, -0.015624999804687512, -0.015624999804687512,
        0.015624999804687512, 0.015624999804687512, 0.4999999875000003, -0.24999999375000015,
        -0.4999999875000003, 0.24999999375000015, 0, 0, 0, 0, -0.18507787999672537,
        0.36083009081611728, -0.25187477560923655, 0.19682585290742169, 0.11111111157407411,
        -0.11111110740740748, -0.11111111157407411, 0.11111110740740748};
    expect_box_cases("giou", terms, grad);
}

/* torchvision.ops.distance_box_iou_loss(b1, b2) */
Test(diou, edge_cases_should_match_torchvision)
{
    const double terms[] = {2.4999999403974016e-08, 0.74358974855358306, 1.4444444419753086,
                            1.1999999960000001, 0.95312500034179681, 1, 1, 0.62141959007452052,
                            0.66666667222222209};
    const double grad[] = {
        6.2499996844600503e-09, 6.2499996844600503e-09, -6.2499996844600503e-09,
        -6.2499996844600503e-09, -0.15253122570508615, 0.011834320733449619,
        -0.41025640410913883, -0.011834320733449619, 0.03703703600823044, 0.03703703600823044,
        -0.11111111049382716, -0.11111111049382716, -0.040000002399999901, 0.039999998400000042,
        -0.19999999600000007, -0.039999998400000042, 0.0039062501220703105,
        0.0039062501220703105, 0.027343749780273437, 0.027343749780273437, 0, 0, 0, 0, 0, 0, 0, 0,
        -0.13699440069460375, 0.32127107132891808, -0.22403563310547819, 0.19177680033117014,
        -0.055555552314814891, -0.11111110740740748, 0.055555552314814891, 0.11111110740740748};
    expect_box_cases("diou", terms, grad);
}

/* torchvision.ops.complete_box_iou_loss(b1, b2) gives these except NaN for the 0x0 pair;
 * the numbers are its formula with atan(w/h) as atan2(w, h) (gradient h/(w^2+h^2),
 * -w/(w^2+h^2), 0 at w=h=0) and alpha under no_grad, as tests/gen_fixtures.py computes. */
Test(ciou, edge_cases_should_match_torchvision_without_nan_for_0x0_boxes)
{
    const double terms[] = {2.4999999403974016e-08, 0.74358974855358306, 1.4444444419753086,
                            1.1999999960000001, 0.95312500034179681, 1.0499999960000004, 1,
                            0.62142801764160982, 0.68204380362594408};
    const double grad[] = {
        6.2499996844600503e-09, 6.2499996844600503e-09, -6.2499996844600503e-09,
        -6.2499996844600503e-09, -0.15253122570508615, 0.011834320733449619,
        -0.41025640410913883, -0.011834320733449619, 0.03703703600823044, 0.03703703600823044,
        -0.11111111049382716, -0.11111111049382716, -0.040000002399999901, 0.039999998400000042,
        -0.19999999600000007, -0.039999998400000042, 0.0039062501220703105,
        0.0039062501220703105, 0.027343749780273437, 0.027343749780273437, 0.063661972143800358, 0,
        -0.063661972143800358, 0, 0, 0, 0, 0, -0.1370390748845137, 0.32133414077349681,
        -0.22399095891556825, 0.19171373088659141, -0.041884762191981659, -0.1202249674892963,
        0.041884762191981659, 0.1202249674892963};
    expect_box_cases("ciou", terms, grad);
}

/* rows 1 and 7 of box_p/box_t: F(b1, b2, eps=0.5).mean() for diou, and the atan2 form of
 * complete_box_iou_loss (tvo.complete_box_iou_loss(..., eps=0.5) gives 0.74358974855358306,
 * 0.62142414889268294: eps reaches only alpha, DIoU keeps 1e-7) */
static void expect_box_eps_half(const char *loss, double value, const double grad[8])
{
    double p[8], t[8];
    memcpy(p, box_p + 4, 4 * sizeof *p);
    memcpy(p + 4, box_p + 28, 4 * sizeof *p);
    memcpy(t, box_t + 4, 4 * sizeof *t);
    memcpy(t + 4, box_t + 28, 4 * sizeof *t);
    loss_call c;
    loss_result r;
    start(&c, loss, LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", p, 2, SHAPE(2, 4));
    put_f(&c, "targets", t, 2, SHAPE(2, 4));
    set_param(&c, "eps", 0.5);
    run_ok(&c, NULL, &r);
    expect_value(&r, value, 1e-12);
    expect_near(grad_of(&c, &r, "predictions"), grad, 8, 1e-12, "grad");
    cr_assert_eq(r.denominator, 2.0);
    loss_result_release(&r);
}

Test(diou, eps_should_reach_the_iou_and_the_diagonal)
{
    const double grad[] = {-0.067913409793751683, 0.0084455483315882193, -0.19088319088319089,
                           -0.0084455483315882193, -0.059687218995387967, 0.15024108889005189,
                           -0.10505175175840074, 0.083327306079630348};
    expect_box_eps_half("diou", 0.70920387649722449, grad);
}

Test(ciou, eps_should_reach_only_alpha)
{
    const double grad[] = {-0.076265612852543074, 0.0059171603667248097, -0.20512820205456941,
                           -0.0059171603667248097, -0.068509283402007654, 0.1606525940946319,
                           -0.11200573349803333, 0.095871341735412216};
    expect_box_eps_half("ciou", 0.682506948723133, grad);
}

static const char *const box_losses[] = {"box_iou", "giou", "diou", "ciou"};

Test(box_losses, inverted_boxes_should_be_out_of_domain_naming_tensor_and_index)
{
    double p[8], t[8];
    for (size_t k = 0; k < COUNT(box_losses); k++) {
        memcpy(p, box_p, sizeof p);
        memcpy(t, box_t, sizeof t);
        loss_call c;
        start(&c, box_losses[k], LOSS_REDUCE_MEAN);
        put_f(&c, "predictions", p, 2, SHAPE(2, 4));
        put_f(&c, "targets", t, 2, SHAPE(2, 4));
        p[6] = -0.5; /* box 1: x2 < x1 */
        run_err(&c, LOSS_ERR_DOMAIN, "predictions", "predictions[6]");
        p[6] = 2;
        t[3] = -1; /* box 0: y2 < y1 */
        run_err(&c, LOSS_ERR_DOMAIN, "targets", "targets[3]");
        t[3] = 2;
        p[1] = NAN;
        run_err(&c, LOSS_ERR_NON_FINITE, "predictions", "predictions[1]");
    }
}

Test(box_losses, a_single_box_should_give_a_scalar_term)
{
    for (size_t k = 0; k < COUNT(box_losses); k++) {
        loss_call c;
        loss_result r;
        start(&c, box_losses[k], LOSS_REDUCE_NONE);
        put_f(&c, "predictions", box_p + 28, 1, SHAPE(4));
        put_f(&c, "targets", box_t + 28, 1, SHAPE(4));
        run_ok(&c, NULL, &r);
        cr_assert_eq(r.terms[0].rank, 0);
        cr_assert_eq(r.terms[0].count, 1);
        loss_result_release(&r);
    }
}

/* docs/losses.md: a mean over zero boxes is NaN (torchvision would give 0). */
Test(box_losses, empty_mean_should_be_nan_and_sum_zero)
{
    for (size_t k = 0; k < COUNT(box_losses); k++) {
        loss_call c;
        loss_result r;
        start(&c, box_losses[k], LOSS_REDUCE_MEAN);
        put_f(&c, "predictions", NULL, 2, SHAPE(0, 4));
        put_f(&c, "targets", NULL, 2, SHAPE(0, 4));
        run_ok(&c, NULL, &r);
        cr_assert(isnan(r.value));
        loss_result_release(&r);
        c.reduction = LOSS_REDUCE_SUM;
        run_ok(&c, NULL, &r);
        cr_assert_eq(r.value, 0.0);
        loss_result_release(&r);
    }
}

Test(box_losses, bad_shapes_and_eps_should_be_refused)
{
    for (size_t k = 0; k < COUNT(box_losses); k++) {
        loss_call c;
        start(&c, box_losses[k], LOSS_REDUCE_MEAN);
        put_f(&c, "predictions", box_p, 2, SHAPE(3, 3));
        put_f(&c, "targets", box_t, 2, SHAPE(3, 3));
        run_err(&c, LOSS_ERR_SHAPE, "predictions", NULL);
        put_f(&c, "predictions", box_p, 2, SHAPE(2, 4));
        run_err(&c, LOSS_ERR_SHAPE, "targets", NULL);
        put_f(&c, "targets", box_t, 2, SHAPE(2, 4));
        set_param(&c, "eps", -1e-3);
        run_err(&c, LOSS_ERR_PARAM, "eps", NULL);
    }
}

static void random_boxes(double *b, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        double x = rnd(&seed, -2, 2), y = rnd(&seed, -2, 2);
        b[4 * i] = x;
        b[4 * i + 1] = y;
        b[4 * i + 2] = x + rnd(&seed, 0.1, 3);
        b[4 * i + 3] = y + rnd(&seed, 0.1, 3);
    }
}

/* CIoU is left out: its alpha is held constant in the gradient, as in torchvision, so its
 * gradient is not the derivative of its value. */
Test(box_losses, gradients_should_match_finite_differences)
{
    double p[32], t[32];
    random_boxes(p, 8, 3);
    random_boxes(t, 8, 4);
    for (size_t k = 0; k < 3; k++) {
        loss_call c;
        start(&c, box_losses[k], LOSS_REDUCE_MEAN);
        put_f(&c, "predictions", p, 2, SHAPE(8, 4));
        put_f(&c, "targets", t, 2, SHAPE(8, 4));
        check_fd(&c, "predictions", 1e-7);
    }
}

Test(box_losses, result_bytes_should_not_depend_on_the_number_of_workers)
{
    const size_t n = 20000;
    double *p = mem_alloc(4 * n * sizeof *p), *t = mem_alloc(4 * n * sizeof *t);
    random_boxes(p, n, 5);
    random_boxes(t, n, 6);
    for (size_t k = 0; k < COUNT(box_losses); k++) {
        loss_call c;
        start(&c, box_losses[k], LOSS_REDUCE_MEAN);
        put_f(&c, "predictions", p, 2, SHAPE(n, 4));
        put_f(&c, "targets", t, 2, SHAPE(n, 4));
        for (int dt = 0; dt < 2; dt++) {
            c.dtype = (loss_dtype)dt;
            expect_same_bytes_across_workers(&c);
        }
    }
    mem_free(p);
    mem_free(t);
}

/* ---------------------------------------------------------------- contrastive */

/* Rows: identical (t=0), identical (t=1), d < margin (t=1), d > margin (t=1), t=0. */
static double con_x1[] = {0.5, -0.2, 1.0, 0.5, -0.2, 1.0, 0.1, 0.2, 0.3, 1.0, 0.0, -1.0, 0.3, 0.3, 0.3};
static double con_x2[] = {0.5, -0.2, 1.0, 0.5, -0.2, 1.0, 0.4, -0.1, 0.5, -0.5, 0.8, 0.9, 0.0, 0.9, -0.2};
static double con_t[] = {0, 1, 1, 1, 0};

static void contrastive_call(loss_call *c, loss_reduction red)
{
    start(c, "contrastive", red);
    put_f(c, "x1", con_x1, 2, SHAPE(5, 3));
    put_f(c, "x2", con_x2, 2, SHAPE(5, 3));
    put_f(c, "targets", con_t, 1, SHAPE(5));
}

static void expect_pair_grads(const loss_call *c, const loss_result *r, const double *g1,
                              size_t n, double tol)
{
    double g2[64];
    for (size_t i = 0; i < n; i++)
        g2[i] = -g1[i];
    expect_near(grad_of(c, r, "x1"), g1, n, tol, "x1 grad");
    expect_near(grad_of(c, r, "x2"), g2, n, tol, "x2 grad");
}

/* d = F.pairwise_distance(x1, x2, eps=1e-6);
 * ((1 - t) * d ** 2 + t * torch.clamp(1.0 - d, min=0) ** 2).mean() */
Test(contrastive, mean_should_match_the_seed_formula_with_pairwise_distance)
{
    const double g1[] = {4.0000000000000003e-07, 4.0000000000000003e-07, 4.0000000000000003e-07,
                         -0.23093970767585037,  -0.23093970767585037,  -0.23093970767585037,
                         0.13584063940426427,   -0.13584154501154563,  0.090560275334962595,
                         0, 0, 0, 0.12000039999999999, -0.23999960000000006, 0.20000040000000005};
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
    const double terms[] = {2.9999999999999993e-12, 0.99999653590138493, 0.28191730083517103, 0,
                            0.70000040000300012};
    const double g1[] = {1.9999999999999999e-06, 1.9999999999999999e-06, 1.9999999999999999e-06,
                         -1.1546985383792516,    -1.1546985383792516,    -1.1546985383792516,
                         0.67920319702132137,    -0.67920772505772808,   0.45280137667481296,
                         0, 0, 0, 0.60000199999999992, -1.1999980000000001, 1.0000020000000001};
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
    const double g1[] = {0, 0, 0, 0, 0, 0, 0.39168171925346507, -0.39168171925346507,
                         0.26112114616897669, 0, 0, 0, 0.11999999999999998,
                         -0.24000000000000005, 0.20000000000000001};
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

static void random_fill(double *x, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        x[i] = rnd(&seed, -1, 1);
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

/* ---------------------------------------------------------------- triplet_margin */

static double tri_a[] = {0.1, 0.7, -0.3, 1.2, -0.5, 0.4, 0.0, 0.0, 0.0, -0.8, 0.3, 0.9};
static double tri_p[] = {0.4, 0.5, 0.1, 0.2, -0.1, 0.6, 0.0, 0.0, 0.0, -0.6, 0.0, 1.1};
static double tri_n[] = {0.3, 0.9, -0.2, -0.7, 0.4, 0.2, 1.0, -1.0, 0.5, 1.5, 0.2, -0.4};

static void triplet_call(loss_call *c, loss_reduction red)
{
    start(c, "triplet_margin", red);
    put_f(c, "anchor", tri_a, 2, SHAPE(4, 3));
    put_f(c, "positive", tri_p, 2, SHAPE(4, 3));
    put_f(c, "negative", tri_n, 2, SHAPE(4, 3));
}

static void expect_triplet(const loss_call *c, double value, const double ga[12],
                           const double gp[12], const double gn[12], double tol)
{
    loss_result r;
    run_ok(c, NULL, &r);
    expect_value(&r, value, tol);
    expect_near(grad_of(c, &r, "anchor"), ga, 12, tol, "anchor grad");
    expect_near(grad_of(c, &r, "positive"), gp, 12, tol, "positive grad");
    expect_near(grad_of(c, &r, "negative"), gn, 12, tol, "negative grad");
    loss_result_release(&r);
}

/* F.triplet_margin_loss(A, P, N), A, P, N = tri_a, tri_p, tri_n as (4, 3) */
Test(triplet_margin, defaults_should_match_pytorch)
{
    const double ga[] = {0.027395479742742035, 0.25951505266936153, -0.10236223114134725, 0, 0, 0,
                         0, 0, 0, 0, 0, 0};
    const double gp[] = {0.13927127951682583, -0.0928482934097936, 0.18569519410214969, 0, 0, 0,
                         0, 0, 0, 0, 0, 0};
    const double gn[] = {-0.16666675925956786, -0.16666675925956795, -0.083332962960802434, 0, 0,
                         0, 0, 0, 0, 0, 0, 0};
    loss_call c;
    triplet_call(&c, LOSS_REDUCE_MEAN);
    expect_triplet(&c, 0.30962930472626021, ga, gp, gn, 1e-12);
    c.dtype = LOSS_DTYPE_F32;
    expect_triplet(&c, 0.30962930472626021, ga, gp, gn, 1e-5);
}

/* F.triplet_margin_loss(A, P, N, p=1.0) */
Test(triplet_margin, p_one_should_use_signs)
{
    const double ga[] = {0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const double gp[] = {0.25, -0.25, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const double gn[] = {-0.25, -0.25, -0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    loss_call c;
    triplet_call(&c, LOSS_REDUCE_MEAN);
    set_param(&c, "p", 1.0);
    expect_triplet(&c, 0.35000049999999999, ga, gp, gn, 1e-12);
}

/* F.triplet_margin_loss(A, P, N, p=3.0) */
Test(triplet_margin, general_p_should_match_pytorch)
{
    const double ga[] = {0.046114361008937371, 0.19798054215379141, -0.14909896726033442,
                         0.0051210647823618227, 0.014216286005792472, -0.012134860422631285,
                         0, 0, 0, 0, 0, 0};
    const double gp[] = {0.10513758623682312, -0.046728594908030774, 0.18691157594096108,
                         -0.23867689103097578, 0.038188035247573304, 0.0095469610767895917,
                         0, 0, 0, 0, 0, 0};
    const double gn[] = {-0.15125194724576049, -0.15125194724576063, -0.037812608680626671,
                         0.23355582624861396, -0.052404321253365777, 0.0025878993458416932,
                         0, 0, 0, 0, 0, 0};
    loss_call c;
    triplet_call(&c, LOSS_REDUCE_MEAN);
    set_param(&c, "p", 3.0);
    expect_triplet(&c, 0.31579364613689598, ga, gp, gn, 1e-12);
    check_fd(&c, "anchor", 1e-6);
}

/* F.triplet_margin_loss(A, P, N, p=1.5, margin=0.5) */
Test(triplet_margin, fractional_p_should_match_pytorch)
{
    const double ga[] = {0.016192458745678817, 0.32818202954817816, -0.065426249486529919, 0, 0,
                         0, 0, 0, 0, 0, 0, 0};
    const double gp[] = {0.17175313719907492, -0.14023643360342436, 0.19832352262712216, 0, 0,
                         0, 0, 0, 0, 0, 0, 0};
    const double gn[] = {-0.18794559594475374, -0.1879455959447538, -0.13289727314059224, 0, 0,
                         0, 0, 0, 0, 0, 0, 0};
    loss_call c;
    triplet_call(&c, LOSS_REDUCE_MEAN);
    set_param(&c, "p", 1.5);
    set_param(&c, "margin", 0.5);
    expect_triplet(&c, 0.19543495018753426, ga, gp, gn, 1e-12);
}

/* F.triplet_margin_loss(A, P, N, swap=True) */
Test(triplet_margin, swap_should_use_the_closer_negative_distance)
{
    const double ga[] = {0.027395479742742035, 0.25951505266936153, -0.10236223114134725,
                         0.22821788443865079, -0.091286834270741621, -0.045643303026542681,
                         0, 0, 0, 0, 0, 0};
    const double gp[] = {0.13927127951682583, -0.0928482934097936, 0.18569519410214969,
                         -0.4319234057960849, 0.20445621627497906, -0.044892609987437299,
                         0, 0, 0, 0, 0, 0};
    const double gn[] = {-0.16666675925956786, -0.16666675925956795, -0.083332962960802434,
                         0.20370552135743411, -0.11316938200423744, 0.090535913013979979,
                         0, 0, 0, 0, 0, 0};
    loss_call c;
    triplet_call(&c, LOSS_REDUCE_MEAN);
    set_param(&c, "swap", 1);
    expect_triplet(&c, 0.55735646826480956, ga, gp, gn, 1e-12);
    check_fd(&c, "positive", 1e-6);
    check_fd(&c, "negative", 1e-6);
}

/* F.triplet_margin_loss(A, P, N, swap=True, p=1.0, margin=2.0) */
Test(triplet_margin, swap_with_p_one_should_match_pytorch)
{
    const double ga[] = {0, 0.5, 0, 0.25, -0.25, -0.25, 0, 0, 0, 0, 0, 0};
    const double gp[] = {0.25, -0.25, 0.25, -0.5, 0.5, 0, 0, 0, 0, 0, 0, 0};
    const double gn[] = {-0.25, -0.25, -0.25, 0.25, -0.25, 0.25, 0, 0, 0, 0, 0, 0};
    loss_call c;
    triplet_call(&c, LOSS_REDUCE_MEAN);
    set_param(&c, "swap", 1);
    set_param(&c, "p", 1.0);
    set_param(&c, "margin", 2.0);
    expect_triplet(&c, 1.05, ga, gp, gn, 1e-12);
}

/* F.triplet_margin_loss(A, P, N, margin=0.8, reduction='none') */
Test(triplet_margin, none_should_give_one_term_per_row)
{
    const double terms[] = {1.0385172189050409, 0, 0, 0};
    const double ga[] = {0.10958191897096814, 1.0380602106774461, -0.40944892456538901, 0, 0, 0,
                         0, 0, 0, 0, 0, 0};
    loss_call c;
    loss_result r;
    triplet_call(&c, LOSS_REDUCE_NONE);
    set_param(&c, "margin", 0.8);
    run_ok(&c, NULL, &r);
    expect_near(&r.terms[0], terms, 4, 1e-12, "terms");
    expect_near(grad_of(&c, &r, "anchor"), ga, 12, 1e-12, "anchor grad");
    loss_result_release(&r);
}

static void expect_single_triplet(double *a, double *p, double *n, double value,
                                  const double g[6], int swap, double margin, double eps)
{
    loss_call c;
    loss_result r;
    start(&c, "triplet_margin", LOSS_REDUCE_MEAN);
    put_f(&c, "anchor", a, 2, SHAPE(1, 2));
    put_f(&c, "positive", p, 2, SHAPE(1, 2));
    put_f(&c, "negative", n, 2, SHAPE(1, 2));
    set_param(&c, "swap", swap);
    set_param(&c, "margin", margin);
    set_param(&c, "eps", eps);
    run_ok(&c, NULL, &r);
    expect_value(&r, value, 1e-12);
    expect_near(grad_of(&c, &r, "anchor"), g, 2, 1e-12, "anchor grad");
    expect_near(grad_of(&c, &r, "positive"), g + 2, 2, 1e-12, "positive grad");
    expect_near(grad_of(&c, &r, "negative"), g + 4, 2, 1e-12, "negative grad");
    loss_result_release(&r);
}

/* F.triplet_margin_loss(torch.tensor([[0., 0]]), torch.tensor([[1., 0]]),
 *                       torch.tensor([[0., 2]]), eps=0.0): z = 0 exactly */
Test(triplet_margin, hinge_tie_should_pass_the_gradient)
{
    double a[] = {0, 0}, p[] = {1, 0}, n[] = {0, 2};
    const double g[] = {-1, 1, 1, 0, 0, -1};
    expect_single_triplet(a, p, n, 0.0, g, 0, 1.0, 0.0);
}

/* F.triplet_margin_loss(torch.tensor([[0., 0]]), torch.tensor([[2., 0]]),
 *                       torch.tensor([[1., 1]]), eps=0.0, swap=True, margin=2.0):
 * d(a, n) == d(p, n), torch.min splits the gradient */
Test(triplet_margin, swap_tie_should_split_the_gradient)
{
    double a[] = {0, 0}, p[] = {2, 0}, n[] = {1, 1};
    const double g[] = {-0.64644660940672627, 0.35355339059327373, 0.64644660940672627,
                        0.35355339059327373, 0, -0.70710678118654746};
    expect_single_triplet(a, p, n, 2.5857864376269051, g, 1, 2.0, 0.0);
}

/* F.triplet_margin_loss(torch.tensor([0.5, 0.5]), torch.tensor([0.5, 0.5]),
 *                       torch.tensor([1.5, -0.5]), margin=2.0): anchor = positive */
Test(triplet_margin, vectors_and_identical_anchor_positive_should_stay_finite)
{
    double a[] = {0.5, 0.5}, p[] = {0.5, 0.5}, n[] = {1.5, -0.5};
    const double ga[] = {1.4142128552659603, -7.071064275221417e-07};
    const double gp[] = {-0.70710678118654757, -0.70710678118654757};
    const double gn[] = {-0.70710607407941273, 0.70710748829297509};
    loss_call c;
    loss_result r;
    start(&c, "triplet_margin", LOSS_REDUCE_NONE);
    put_f(&c, "anchor", a, 1, SHAPE(2));
    put_f(&c, "positive", p, 1, SHAPE(2));
    put_f(&c, "negative", n, 1, SHAPE(2));
    set_param(&c, "margin", 2.0);
    run_ok(&c, NULL, &r);
    cr_assert_eq(r.terms[0].rank, 0);
    expect_near(&r.terms[0], (const double[]){0.58578785183976012}, 1, 1e-12, "term");
    expect_near(grad_of(&c, &r, "anchor"), ga, 2, 1e-12, "anchor grad");
    expect_near(grad_of(&c, &r, "positive"), gp, 2, 1e-12, "positive grad");
    expect_near(grad_of(&c, &r, "negative"), gn, 2, 1e-12, "negative grad");
    loss_result_release(&r);
}

Test(triplet_margin, bad_inputs_should_be_refused)
{
    double n[12];
    memcpy(n, tri_n, sizeof n);
    loss_call c;
    triplet_call(&c, LOSS_REDUCE_MEAN);
    put_f(&c, "negative", n, 2, SHAPE(3, 4));
    run_err(&c, LOSS_ERR_SHAPE, "negative", NULL);
    put_f(&c, "negative", n, 2, SHAPE(4, 3));
    n[7] = INFINITY;
    run_err(&c, LOSS_ERR_NON_FINITE, "negative", "negative[7]");
    n[7] = 0;
    set_param(&c, "p", 0.0);
    run_err(&c, LOSS_ERR_PARAM, "p", NULL);
}

Test(triplet_margin, result_bytes_should_not_depend_on_the_number_of_workers)
{
    const size_t n = 20000, dim = 10;
    double *a = mem_alloc(n * dim * sizeof *a), *p = mem_alloc(n * dim * sizeof *p);
    double *ng = mem_alloc(n * dim * sizeof *ng);
    random_fill(a, n * dim, 10);
    random_fill(p, n * dim, 11);
    random_fill(ng, n * dim, 12);
    loss_call c;
    start(&c, "triplet_margin", LOSS_REDUCE_MEAN);
    put_f(&c, "anchor", a, 2, SHAPE(n, dim));
    put_f(&c, "positive", p, 2, SHAPE(n, dim));
    put_f(&c, "negative", ng, 2, SHAPE(n, dim));
    set_param(&c, "swap", 1);
    for (int dt = 0; dt < 2; dt++) {
        c.dtype = (loss_dtype)dt;
        expect_same_bytes_across_workers(&c);
    }
    mem_free(a);
    mem_free(p);
    mem_free(ng);
}

/* Long-double statement of one Euclidean triplet (rows of dim at a, p, n): the loss and the
 * three gradient rows for gradient scale g (PyTorch's formulas; swap's tie splits). */
static long double triplet_oracle(const double *a, const double *p, const double *n, size_t dim,
                                  double eps, int swap, long double *ga, long double *gp,
                                  long double *gn)
{
    long double ap = 0, an = 0, pn = 0;
    for (size_t k = 0; k < dim; k++) {
        long double u = (long double)a[k] - p[k] + eps, v = (long double)a[k] - n[k] + eps;
        long double w = (long double)p[k] - n[k] + eps;
        ap += u * u, an += v * v, pn += w * w;
    }
    ap = sqrtl(ap), an = sqrtl(an), pn = sqrtl(pn);
    long double w_an = !swap || an < pn ? 1 : an == pn ? 0.5L : 0, w_pn = swap ? 1 - w_an : 0;
    long double z = 1.0L + ap - (w_an * an + w_pn * pn), g = z >= 0 ? 1 : 0;
    for (size_t k = 0; k < dim; k++) {
        long double u_ap = g * ((long double)a[k] - p[k] + eps) / ap;
        long double u_an = g * w_an * ((long double)a[k] - n[k] + eps) / an;
        long double u_pn = w_pn ? g * w_pn * ((long double)p[k] - n[k] + eps) / pn : 0;
        ga[k] = u_ap - u_an, gp[k] = -u_ap - u_pn, gn[k] = u_an + u_pn;
    }
    return z > 0 ? z : 0;
}

/* The Euclidean rows are summed in 8 packed lanes: every width around the lane count, both
 * dtypes, with and without swap, against the long-double statement (reduction sum, so the
 * gradient scale is 1). */
Test(triplet_margin, euclidean_rows_of_any_width_should_match_a_long_double_oracle)
{
    const size_t dims[] = {1, 2, 7, 8, 9, 16, 31, 128, 130}, rows = 5;
    double *x[3];
    long double *g[3];
    for (int k = 0; k < 3; k++) {
        x[k] = mem_alloc(rows * 130 * sizeof *x[k]);
        g[k] = mem_alloc(rows * 130 * sizeof *g[k]);
    }
    for (size_t d = 0; d < COUNT(dims); d++)
        for (int swap = 0; swap < 2; swap++)
            for (int dt = 0; dt < 2; dt++) {
                const size_t dim = dims[d];
                for (int k = 0; k < 3; k++) {
                    random_fill(x[k], rows * dim, 40 + d * 3 + k);
                    for (size_t i = 0; dt == LOSS_DTYPE_F32 && i < rows * dim; i++)
                        x[k][i] = (float)x[k][i]; /* the oracle sees what the kernel sees */
                }
                loss_call c;
                start(&c, "triplet_margin", LOSS_REDUCE_SUM);
                c.dtype = (loss_dtype)dt;
                put_f(&c, "anchor", x[0], 2, SHAPE(rows, dim));
                put_f(&c, "positive", x[1], 2, SHAPE(rows, dim));
                put_f(&c, "negative", x[2], 2, SHAPE(rows, dim));
                set_param(&c, "swap", swap);
                loss_result r;
                run_ok(&c, NULL, &r);
                const double eps = dt == LOSS_DTYPE_F32 ? (float)1e-6 : 1e-6;
                const double tol = dt == LOSS_DTYPE_F32 ? 1e-6 : 1e-14;
                long double want = 0;
                for (size_t i = 0; i < rows; i++) {
                    size_t o = i * dim;
                    want += triplet_oracle(x[0] + o, x[1] + o, x[2] + o, dim, eps, swap, g[0] + o,
                                           g[1] + o, g[2] + o);
                }
                cr_assert(fabsl(r.value - want) <= tol * (fabsl(want) + 1),
                          "D %zu swap %d dt %d: %.17g vs %.17Lg", dim, swap, dt, r.value, want);
                const char *names[] = {"anchor", "positive", "negative"};
                for (int k = 0; k < 3; k++)
                    for (size_t i = 0; i < rows * dim; i++) {
                        double got = at(grad_of(&c, &r, names[k]), i);
                        cr_assert(fabsl(got - g[k][i]) <= tol * (fabsl(g[k][i]) + 1),
                                  "D %zu swap %d dt %d %s grad[%zu] %.17g vs %.17Lg", dim, swap, dt,
                                  names[k], i, got, g[k][i]);
                    }
                loss_result_release(&r);
            }
    for (int k = 0; k < 3; k++) {
        mem_free(x[k]);
        mem_free(g[k]);
    }
}

/* A non-finite element in a wide row: the Euclidean chunk hands the chunk back, and the
 * reference names the first bad element. */
Test(triplet_margin, a_non_finite_element_in_a_wide_row_should_be_reported_by_index)
{
    const size_t rows = 4, dim = 40;
    double a[160], p[160], n[160];
    random_fill(a, rows * dim, 1);
    random_fill(p, rows * dim, 2);
    random_fill(n, rows * dim, 3);
    n[2 * dim + 37] = NAN;
    p[3 * dim + 1] = INFINITY;
    loss_call c;
    start(&c, "triplet_margin", LOSS_REDUCE_MEAN);
    put_f(&c, "anchor", a, 2, SHAPE(rows, dim));
    put_f(&c, "positive", p, 2, SHAPE(rows, dim));
    put_f(&c, "negative", n, 2, SHAPE(rows, dim));
    for (int dt = 0; dt < 2; dt++) {
        c.dtype = (loss_dtype)dt;
        run_err(&c, LOSS_ERR_NON_FINITE, "negative", "[117]");
    }
}

/* ---------------------------------------------------------------- golden fixtures */

#include "golden.h"

Test(cross_entropy, should_match_pytorch_fixtures) { golden_run_file("cross_entropy"); }
Test(cross_entropy, fixture_gradients_should_match_finite_differences)
{
    golden_fd_file("cross_entropy");
}
Test(nll, should_match_pytorch_fixtures) { golden_run_file("nll"); }
Test(nll, fixture_gradients_should_match_finite_differences) { golden_fd_file("nll"); }
Test(contrastive, should_match_pytorch_fixtures) { golden_run_file("contrastive"); }
Test(contrastive, fixture_gradients_should_match_finite_differences)
{
    golden_fd_file("contrastive");
}
Test(triplet_margin, should_match_pytorch_fixtures) { golden_run_file("triplet_margin"); }
Test(triplet_margin, fixture_gradients_should_match_finite_differences)
{
    golden_fd_file("triplet_margin");
}
Test(box_iou, should_match_pytorch_fixtures) { golden_run_file("box_iou"); }
Test(box_iou, fixture_gradients_should_match_finite_differences) { golden_fd_file("box_iou"); }
Test(giou, should_match_pytorch_fixtures) { golden_run_file("giou"); }
Test(giou, fixture_gradients_should_match_finite_differences) { golden_fd_file("giou"); }
Test(diou, should_match_pytorch_fixtures) { golden_run_file("diou"); }
Test(diou, fixture_gradients_should_match_finite_differences) { golden_fd_file("diou"); }
/* No golden_fd_file("ciou"): its fixtures mark no case "fd", since alpha is held constant in
 * the gradient (as in torchvision), which is therefore not the derivative of the value. */
Test(ciou, should_match_pytorch_fixtures) { golden_run_file("ciou"); }
