/* catalogue_structured: kl_div, multi-class/multi-label margins, cosine_embedding, ntxent,
 * mask losses and ctc. Expected numbers come from /usr/bin/python3 (torch 1.13, float64);
 * the producing call is quoted above each table. Every gradient is also checked by central
 * differences, float32 against float64, and every loss for bit-identical results across 1, 2
 * and 7 workers; the golden fixtures (tests/fixtures/<loss>.json) run at the end. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "golden.h"
#include "loss.h"
#include "mem.h"
#include "pool.h"

#define SHAPE(...) ((size_t[]){__VA_ARGS__}), (sizeof((size_t[]){__VA_ARGS__}) / sizeof(size_t))
#define SCALAR NULL, 0
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- building calls ---- */

static void call_begin(loss_call *c, const char *loss)
{
    const loss_desc *d = loss_registry_find(loss, strlen(loss));
    cr_assert_not_null(d, "%s is registered", loss);
    loss_call_init(c, d);
}

static int input_index(const loss_call *c, const char *name)
{
    int i = loss_desc_input_index(c->desc, name, strlen(name));
    cr_assert_geq(i, 0, "%s has an input %s", c->desc->name, name);
    return i;
}

/* Borrows data (float64) as input `name` with the given shape. */
static void call_input(loss_call *c, const char *name, double *data, const size_t *shape,
                       size_t rank)
{
    int i = input_index(c, name);
    tensor *t = &c->input[i];
    memset(t, 0, sizeof *t);
    t->type = TENSOR_F64;
    t->rank = rank;
    t->count = 1;
    for (size_t k = 0; k < rank; k++) {
        t->shape[k] = shape[k];
        t->count *= shape[k];
    }
    t->data = data;
    c->present[i] = 1;
}

static void call_param(loss_call *c, const char *name, double v)
{
    int i = loss_desc_param_index(c->desc, name, strlen(name));
    cr_assert_geq(i, 0, "%s has a parameter %s", c->desc->name, name);
    c->param[i] = v;
    c->param_set[i] = 1;
}

static void compute_ok(const loss_call *c, pool *pl, loss_result *r)
{
    loss_error e;
    loss_status st = loss_compute(c, pl, r, &e);
    cr_assert_eq(st, LOSS_OK, "%s: %s", c->desc->name, e.message);
}

static void expect_error(const loss_call *c, loss_status want, const char *field)
{
    loss_result r;
    loss_error e;
    loss_status st = loss_compute(c, NULL, &r, &e);
    cr_assert_eq(st, want, "%s: status %d (%s), expected %d", c->desc->name, st, e.message, want);
    cr_expect_str_eq(e.field, field, "%s: %s", c->desc->name, e.message);
}

/* ---- comparing ---- */

static int close_to(double got, double want, double rtol)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return got == want;
    return fabs(got - want) <= rtol * (fabs(want) + 1.0);
}

static double elem(const tensor *t, size_t i)
{
    return tensor_get(t, i);
}

static void expect_values(const tensor *t, const double *want, size_t n, double rtol,
                          const char *what)
{
    cr_assert_eq(t->count, n, "%s: %zu elements, expected %zu", what, t->count, n);
    for (size_t i = 0; i < n; i++)
        cr_expect(close_to(elem(t, i), want[i], rtol), "%s[%zu] = %.17g, expected %.17g", what, i,
                  elem(t, i), want[i]);
}

static void expect_grad(const loss_call *c, const loss_result *r, const char *name,
                        const double *want, size_t n)
{
    expect_values(&r->grad[input_index(c, name)], want, n, 1e-12, name);
}

static void expect_value(const loss_result *r, double want)
{
    cr_expect(close_to(r->value, want, 1e-12), "value %.17g, expected %.17g", r->value, want);
}

/* ---- finite differences ---- */

static double total_of(const loss_call *c)
{
    loss_call probe = *c;
    loss_result r;
    probe.want_gradient = 0;
    compute_ok(&probe, NULL, &r);
    double v = r.value;
    if (c->reduction == LOSS_REDUCE_NONE) {
        v = 0;
        for (size_t t = 0; t < r.n_terms; t++)
            for (size_t i = 0; i < r.terms[t].count; i++)
                v += elem(&r.terms[t], i);
    }
    loss_result_release(&r);
    return v;
}

/* Checks the returned float64 gradient of every gradient input by central differences of
 * the returned value (the sum of the elements for `none`). Perturbs the caller's buffers and
 * restores them. */
static void fd_check(loss_call *c)
{
    loss_result r;
    c->want_gradient = 1;
    c->dtype = LOSS_DTYPE_F64;
    compute_ok(c, NULL, &r);
    for (size_t i = 0; i < c->desc->n_inputs; i++) {
        if (!(c->desc->inputs[i].flags & LOSS_INPUT_GRAD) || !c->present[i])
            continue;
        double *x = c->input[i].data;
        for (size_t k = 0; k < c->input[i].count; k++) {
            double keep = x[k], h = 1e-6 * fmax(1.0, fabs(keep));
            x[k] = keep + h;
            double up = total_of(c);
            x[k] = keep - h;
            double down = total_of(c);
            x[k] = keep;
            double fd = (up - down) / (2 * h), an = elem(&r.grad[i], k);
            cr_expect(fabs(fd - an) <= 1e-5 * fmax(1.0, fabs(an)),
                      "%s: d/d%s[%zu]: finite difference %.12g, analytic %.12g", c->desc->name,
                      c->desc->inputs[i].name, k, fd, an);
        }
    }
    loss_result_release(&r);
}

/* ---- float32 and determinism ---- */

static int same_result(const loss_result *a, const loss_result *b)
{
    if (memcmp(&a->value, &b->value, sizeof a->value) != 0 || a->n_terms != b->n_terms)
        return 0;
    for (size_t t = 0; t < a->n_terms; t++)
        if (a->terms[t].count != b->terms[t].count ||
            memcmp(a->terms[t].data, b->terms[t].data,
                   a->terms[t].count * tensor_type_size(a->terms[t].type)) != 0)
            return 0;
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++)
        if ((a->grad[i].data == NULL) != (b->grad[i].data == NULL) ||
            (a->grad[i].data && memcmp(a->grad[i].data, b->grad[i].data,
                                       a->grad[i].count * tensor_type_size(a->grad[i].type))))
            return 0;
    return 1;
}

/* Runs c (with gradient) in both dtypes on 1, 2 and 7 workers; requires identical bytes. */
static void check_workers(loss_call *c)
{
    static const size_t counts[] = {2, 7};
    c->want_gradient = 1;
    for (int dt = 0; dt < 2; dt++) {
        loss_result one, many;
        c->dtype = (loss_dtype)dt;
        compute_ok(c, NULL, &one);
        for (size_t k = 0; k < N_OF(counts); k++) {
            pool *pl = pool_create(counts[k], 4);
            compute_ok(c, pl, &many);
            pool_destroy(pl);
            cr_expect(same_result(&one, &many), "%s %s: %zu workers differ from 1", c->desc->name,
                      dt ? "float32" : "float64", counts[k]);
            loss_result_release(&many);
        }
        loss_result_release(&one);
    }
    c->dtype = LOSS_DTYPE_F64;
}

/* Runs c in float32 and requires agreement to 1e-5 with float64 on the float32-rounded
 * inputs (values and gradients). */
static void check_float32(loss_call *c)
{
    loss_call c64 = *c;
    double *bufs[LOSS_MAX_INPUTS] = {0};
    for (size_t i = 0; i < c->desc->n_inputs; i++) {
        if (!c->present[i] || c->input[i].count == 0)
            continue;
        bufs[i] = mem_alloc_array(c->input[i].count, sizeof(double));
        for (size_t k = 0; k < c->input[i].count; k++)
            bufs[i][k] = (double)(float)((double *)c->input[i].data)[k];
        c64.input[i].data = bufs[i];
    }
    for (size_t p = 0; p < c->desc->n_params; p++)
        if (c64.param_set[p] && c->desc->params[p].type == LOSS_PARAM_FLOAT)
            c64.param[p] = (double)(float)c64.param[p];
    loss_result r64, r32;
    c64.want_gradient = c->want_gradient = 1;
    c64.dtype = LOSS_DTYPE_F64;
    c->dtype = LOSS_DTYPE_F32;
    compute_ok(&c64, NULL, &r64);
    compute_ok(c, NULL, &r32);
    c->dtype = LOSS_DTYPE_F64;
    if (c->reduction != LOSS_REDUCE_NONE)
        cr_expect(close_to(r32.value, r64.value, 1e-5), "float32 value %.9g vs %.9g", r32.value,
                  r64.value);
    for (size_t t = 0; t < r64.n_terms; t++)
        for (size_t k = 0; k < r64.terms[t].count; k++)
            cr_expect(close_to(elem(&r32.terms[t], k), elem(&r64.terms[t], k), 1e-5),
                      "float32 term %zu[%zu]", t, k);
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++)
        for (size_t k = 0; r64.grad[i].data && k < r64.grad[i].count; k++)
            cr_expect(close_to(elem(&r32.grad[i], k), elem(&r64.grad[i], k), 1e-5),
                      "float32 grad %zu[%zu]: %.9g vs %.9g", i, k, elem(&r32.grad[i], k),
                      elem(&r64.grad[i], k));
    loss_result_release(&r64);
    loss_result_release(&r32);
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++)
        mem_free(bufs[i]);
}

/* A fixed pseudo-random sequence in [lo, hi). */
static void fill_uniform(double *x, size_t n, double lo, double hi, unsigned long seed)
{
    unsigned long s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005UL + 1442695040888963407UL;
        x[i] = lo + (hi - lo) * ((double)(s >> 11) / 9007199254740992.0);
    }
}

/* ================================ kl_div ================================ */

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
    /* E9: xlogy(0, 0) - 0*x = 0, and the prediction gradient there is -0. */
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

/* ============================= multi_margin ============================= */

/* E16: x = [[1,0,.5],[.1,.2,.4]], t = [0,2], w = [.3,2,.7]:
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
    /* E16c: x=[[1,0,.5]], t=[0]: z for class 1 is exactly 0. F.multi_margin_loss(x, t,
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

/* ======================== multilabel_soft_margin ======================== */

/* E15-style extremes: x = [[-1000,.3,1000],[2,-.5,.1]], y = [[1,0,0],[0,1,1]],
 * w = [.5,2,1.5]: F.multilabel_soft_margin_loss(x, y, weight=w, reduction=red). */
static double mlsm_x[] = {-1000, .3, 1000, 2.0, -.5, .1};
static double mlsm_y[] = {1, 0, 0, 0, 1, 1};
static double mlsm_w[] = {.5, 2.0, 1.5};

static void mlsm_call(loss_call *c, int weighted, loss_reduction red)
{
    call_begin(c, "multilabel_soft_margin");
    call_input(c, "predictions", mlsm_x, SHAPE(2, 3));
    call_input(c, "targets", mlsm_y, SHAPE(2, 3));
    if (weighted)
        call_input(c, "weight", mlsm_w, SHAPE(3));
    c->reduction = red;
    c->want_gradient = 1;
}

Test(multilabel_soft_margin, extreme_logits_should_stay_finite_and_match_pytorch)
{
    static const struct {
        int weighted;
        loss_reduction red;
        double value, grad[6];
    } cases[] = {
        {0,
         LOSS_REDUCE_MEAN,
         334.0999594832942,
         {-0.16666666666666666, 0.09574041946860981, 0.16666666666666666, 0.14679951299631372,
          -0.10374322186697574, -0.07917013542017666}},
        {0,
         LOSS_REDUCE_SUM,
         668.1999189665884,
         {-0.3333333333333333, 0.19148083893721962, 0.3333333333333333, 0.29359902599262744,
          -0.20748644373395148, -0.15834027084035332}},
        {1,
         LOSS_REDUCE_MEAN,
         334.2811539088215,
         {-0.08333333333333333, 0.19148083893721962, 0.25, 0.07339975649815686,
          -0.20748644373395148, -0.118755203130265}},
    };
    for (size_t k = 0; k < N_OF(cases); k++) {
        loss_call c;
        loss_result r;
        mlsm_call(&c, cases[k].weighted, cases[k].red);
        compute_ok(&c, NULL, &r);
        expect_value(&r, cases[k].value);
        expect_grad(&c, &r, "predictions", cases[k].grad, 6);
        loss_result_release(&r);
    }
}

Test(multilabel_soft_margin, none_should_give_one_value_per_row)
{
    static const double want[] = {667.2362368296457, 1.326070987997352};
    loss_call c;
    loss_result r;
    mlsm_call(&c, 1, LOSS_REDUCE_NONE);
    compute_ok(&c, NULL, &r);
    cr_expect_eq(r.terms[0].rank, 1);
    expect_values(&r.terms[0], want, 2, 1e-12, "none");
    loss_result_release(&r);
}

Test(multilabel_soft_margin, shapes_should_be_checked)
{
    loss_call c;
    mlsm_call(&c, 1, LOSS_REDUCE_MEAN);
    call_input(&c, "weight", mlsm_w, SHAPE(1, 3));
    expect_error(&c, LOSS_ERR_SHAPE, "weight");
    mlsm_call(&c, 0, LOSS_REDUCE_MEAN);
    call_input(&c, "targets", mlsm_y, SHAPE(3, 2));
    expect_error(&c, LOSS_ERR_SHAPE, "targets");
}

Test(multilabel_soft_margin, gradients_float32_and_workers_should_agree)
{
    enum { N = 400, C = 100 };
    double *x = mem_alloc_array(N * C, sizeof(double)), *y = mem_alloc_array(N * C, 8), w[C];
    fill_uniform(x, N * C, -8, 8, 5);
    fill_uniform(y, N * C, 0, 1, 6);
    for (size_t i = 0; i < N * C; i++)
        y[i] = y[i] < 0.5 ? 0.0 : 1.0;
    fill_uniform(w, C, 0.1, 2, 7);
    loss_call c;
    for (loss_reduction red = 0; red < LOSS_REDUCE_BATCHMEAN; red++) {
        call_begin(&c, "multilabel_soft_margin");
        call_input(&c, "predictions", x, SHAPE(N, C));
        call_input(&c, "targets", y, SHAPE(N, C));
        call_input(&c, "weight", w, SHAPE(C));
        c.reduction = red;
        check_workers(&c);
        check_float32(&c);
    }
    mlsm_call(&c, 1, LOSS_REDUCE_MEAN);
    fd_check(&c);
    mlsm_call(&c, 0, LOSS_REDUCE_NONE);
    fd_check(&c);
    mem_free(x);
    mem_free(y);
}

/* =========================== cosine_embedding =========================== */

/* a = [[1,2,-.5],[.3,-.2,.9],[0,0,0],[1,1,0],[2,-1,.5]],
 * b = [[.5,1.5,.2],[-.4,.1,1],[3,4,0],[1,1,1e-3],[-1,.3,.2]], y = [1,-1,1,-1,-1]:
 * F.cosine_embedding_loss(a, b, y, margin=m, reduction=red), l.sum().backward().
 * Row 2 is E18: x1 = 0 gives loss 1 and d/dx1 = -1e6 * b/|b| (times the reduction scale). */
static double ce_a[] = {1, 2, -.5, .3, -.2, .9, 0, 0, 0, 1, 1, 0, 2, -1, .5};
static double ce_b[] = {.5, 1.5, .2, -.4, .1, 1, 3, 4, 0, 1, 1, 1e-3, -1, .3, .2};
static double ce_y[] = {1, -1, 1, -1, -1};

static const double ce_ga_sum[] = {0.04042461468967651,
                                   -0.05607285263418188,
                                   -0.14344218115701968,
                                   -0.6127061327742307,
                                   0.24954587526891098,
                                   0.2596900165409135,
                                   -600000.0011987289,
                                   -800000.0015983052,
                                   0.0,
                                   2.49966713994354e-13,
                                   2.49966713994354e-13,
                                   0.0004999998749997969,
                                   0.0,
                                   0.0,
                                   0.0};
static const double ce_gb_sum[] = {-0.09056263692241023,
                                   0.002156253259839147,
                                   0.21023469285539875,
                                   0.5338245966336895,
                                   -0.25264980909385454,
                                   0.2387948195634806,
                                   0.0,
                                   0.0,
                                   0.0,
                                   2.5000006248498963e-07,
                                   2.5000006248498963e-07,
                                   -0.0004999996249997344,
                                   0.0,
                                   0.0,
                                   0.0};

static void ce_call(loss_call *c, double margin, loss_reduction red)
{
    call_begin(c, "cosine_embedding");
    call_input(c, "x1", ce_a, SHAPE(5, 3));
    call_input(c, "x2", ce_b, SHAPE(5, 3));
    call_input(c, "targets", ce_y, SHAPE(5));
    call_param(c, "margin", margin);
    c->reduction = red;
    c->want_gradient = 1;
}

Test(cosine_embedding, values_and_gradients_should_match_pytorch)
{
    static const struct {
        double margin;
        loss_reduction red;
        double value, scale;
    } cases[] = {
        {0.0, LOSS_REDUCE_MEAN, 0.5587254089429968, 0.2},
        {0.5, LOSS_REDUCE_SUM, 1.793627044714984, 1.0},
        {-0.3, LOSS_REDUCE_MEAN, 0.6787254089429967, 0.2},
    };
    for (size_t k = 0; k < N_OF(cases); k++) {
        loss_call c;
        loss_result r;
        double ga[15], gb[15];
        for (size_t i = 0; i < 15; i++) {
            ga[i] = ce_ga_sum[i] * cases[k].scale;
            gb[i] = ce_gb_sum[i] * cases[k].scale;
        }
        ce_call(&c, cases[k].margin, cases[k].red);
        compute_ok(&c, NULL, &r);
        expect_value(&r, cases[k].value);
        expect_grad(&c, &r, "x1", ga, 15);
        expect_grad(&c, &r, "x2", gb, 15);
        loss_result_release(&r);
    }
}

Test(cosine_embedding, none_should_give_one_value_per_row)
{
    static const double want[] = {0.06892984230796262, 0.22469745240742744, 1.0,
                                  0.49999974999959373, 0.0};
    loss_call c;
    loss_result r;
    ce_call(&c, 0.5, LOSS_REDUCE_NONE);
    compute_ok(&c, NULL, &r);
    expect_values(&r.terms[0], want, 5, 1e-12, "none");
    expect_grad(&c, &r, "x1", ce_ga_sum, 15);
    loss_result_release(&r);
}

Test(cosine_embedding, two_zero_vectors_should_give_loss_one_and_zero_gradient)
{
    /* E18d: F.cosine_embedding_loss(zeros(1,3), zeros(1,3), [1]) = 1, both grads 0 */
    double z1[3] = {0}, z2[3] = {0}, y = 1, zero[3] = {0};
    loss_call c;
    loss_result r;
    call_begin(&c, "cosine_embedding");
    call_input(&c, "x1", z1, SHAPE(1, 3));
    call_input(&c, "x2", z2, SHAPE(1, 3));
    call_input(&c, "targets", &y, SHAPE(1));
    c.want_gradient = 1;
    compute_ok(&c, NULL, &r);
    expect_value(&r, 1.0);
    expect_grad(&c, &r, "x1", zero, 3);
    expect_grad(&c, &r, "x2", zero, 3);
    loss_result_release(&r);
}

Test(cosine_embedding, a_negative_pair_at_the_margin_should_pass_the_gradient)
{
    /* Orthogonal vectors, margin 0: cos is exactly 0 and clamp_min passes the gradient.
     * F.cosine_embedding_loss([1,2], [2,-1], tensor(-1.), reduction='none') = 0 (shape ()),
     * grads [0.39999999999992, -0.19999999999996] and [0.19999999999996, 0.39999999999992]. */
    double a[] = {1, 2}, b[] = {2, -1}, y = -1;
    loss_call c;
    loss_result r;
    call_begin(&c, "cosine_embedding");
    call_input(&c, "x1", a, SHAPE(2));
    call_input(&c, "x2", b, SHAPE(2));
    call_input(&c, "targets", &y, SCALAR);
    c.reduction = LOSS_REDUCE_NONE;
    c.want_gradient = 1;
    compute_ok(&c, NULL, &r);
    cr_expect_eq(r.terms[0].rank, 0);
    expect_values(&r.terms[0], (double[]){0.0}, 1, 1e-12, "none");
    expect_grad(&c, &r, "x1", (double[]){0.39999999999992, -0.19999999999996}, 2);
    expect_grad(&c, &r, "x2", (double[]){0.19999999999996, 0.39999999999992}, 2);
    loss_result_release(&r);
}

Test(cosine_embedding, bad_targets_shapes_and_margins_should_be_refused)
{
    loss_call c;
    double y[] = {1, -1, 0, 1, 1};
    ce_call(&c, 0, LOSS_REDUCE_MEAN);
    call_input(&c, "targets", y, SHAPE(5));
    expect_error(&c, LOSS_ERR_DOMAIN, "targets");
    ce_call(&c, 0, LOSS_REDUCE_MEAN);
    call_input(&c, "x2", ce_b, SHAPE(3, 5));
    expect_error(&c, LOSS_ERR_SHAPE, "x2");
    ce_call(&c, 0, LOSS_REDUCE_MEAN);
    call_input(&c, "targets", ce_y, SCALAR);
    expect_error(&c, LOSS_ERR_SHAPE, "targets");
    ce_call(&c, 1.5, LOSS_REDUCE_MEAN);
    expect_error(&c, LOSS_ERR_PARAM, "margin");
}

Test(cosine_embedding, gradients_float32_and_workers_should_agree)
{
    enum { N = 500, D = 37 };
    double *a = mem_alloc_array(N * D, sizeof(double)), *b = mem_alloc_array(N * D, 8), y[N];
    fill_uniform(a, N * D, -1, 1, 8);
    fill_uniform(b, N * D, -1, 1, 9);
    fill_uniform(y, N, 0, 1, 10);
    for (size_t i = 0; i < N; i++)
        y[i] = y[i] < 0.5 ? -1.0 : 1.0;
    loss_call c;
    call_begin(&c, "cosine_embedding");
    call_input(&c, "x1", a, SHAPE(N, D));
    call_input(&c, "x2", b, SHAPE(N, D));
    call_input(&c, "targets", y, SHAPE(N));
    call_param(&c, "margin", -0.1);
    check_workers(&c);
    check_float32(&c);
    call_input(&c, "x1", a, SHAPE(8, D));
    call_input(&c, "x2", b, SHAPE(8, D));
    call_input(&c, "targets", y, SHAPE(8));
    fd_check(&c);
    ce_call(&c, 0.5, LOSS_REDUCE_MEAN);
    call_input(&c, "x1", ce_a, SHAPE(2, 3)); /* the zero vector's 1e6 slope is not smooth */
    call_input(&c, "x2", ce_b, SHAPE(2, 3));
    call_input(&c, "targets", ce_y, SHAPE(2));
    fd_check(&c);
    mem_free(a);
    mem_free(b);
}

/* ======================= mask_iou, dice, tversky ======================== */

/* Three samples of 2x2: p = [[[.9,.2],[0,.6]], zeros, [[.3,1],[.5,.1]]],
 * y = [[[1,0],[0,1]], zeros, [[0,1],[.7,.2]]]. The reference is the docs/losses.md formula in
 * float64 torch over p.reshape(N,-1), e.g. for dice
 * 1-(2*(p*y).sum(1)+s)/(p.sum(1)+y.sum(1)+s); `mean` is l.mean(), l.mean().backward().
 * The all-zero sample has loss 0 and slope 1/s per element (1e6/3 after the mean). */
static double ov_p[] = {.9, .2, 0, .6, 0, 0, 0, 0, .3, 1, .5, .1};
static double ov_y[] = {1, 0, 0, 1, 0, 0, 0, 0, 0, 1, .7, .2};

static void ov_call(loss_call *c, const char *loss, loss_reduction red)
{
    call_begin(c, loss);
    call_input(c, "predictions", ov_p, SHAPE(3, 2, 2));
    call_input(c, "targets", ov_y, SHAPE(3, 2, 2));
    c->reduction = red;
    c->want_gradient = 1;
}

typedef struct {
    const char *loss;
    double alpha, beta, gamma, smooth;
    double none[3], mean, grad[12];
} ov_case;

static const ov_case ov_cases[] = {
    {"mask_iou",
     0,
     0,
     0,
     1e-6,
     {0.3181816735537849, 0.0, 0.4362138122576904},
     0.25146516193715845,
     {-0.15151508264465938, 0.10330576008014161, 0.10330576008014161, -0.15151508264465938,
      333333.3333333333, 333333.3333333333, 333333.3333333333, 333333.3333333333,
      0.0773368937903468, -0.13717415479801587, -0.07282084022150706, 0.03443468407267427}},
    {"dice",
     0,
     0,
     0,
     1e-6,
     {0.18918913805698978, 0.0, 0.2789472950138696},
     0.15604547769028645,
     {-0.10713412762654113, 0.07304600385630618, 0.07304600385630618, -0.10713412762654113,
      333333.3333333333, 333333.3333333333, 333333.3333333333, 333333.3333333333,
      0.06325022063469021, -0.11218832968849829, -0.05955676459154173, 0.028162510570052514}},
    {"tversky",
     .5,
     .5,
     1,
     1e-6,
     {0.18918908692481795, 0.0, 0.2789472216067256},
     0.15604543617718117,
     {-0.10713409406488769, 0.07304598872065313, 0.07304598872065313, -0.10713409406488769,
      166666.66666666666, 166666.66666666666, 166666.66666666666, 166666.66666666666,
      0.06325021042912383, -0.1121882937260494, -0.05955674247949742, 0.02816250959808919}},
    {"tversky",
     .3,
     .7,
     2,
     1e-6,
     {0.04607873248518297, 0.0, 0.0778115524421116},
     0.04129676164243152,
     {-0.05727233342782511, 0.017652434840765025, 0.017652434840765025, -0.05727233342782511, 0, 0,
      0, 0, 0.021172164558293797, -0.07670400203555727, -0.047341152057401956,
      0.0015969312395235809}},
    /* gamma < 1 at T == 1 (the empty sample): torch's pow gives NaN, lossd 0 (see tversky.c) */
    {"tversky",
     .7,
     .3,
     .75,
     1.0,
     {0.18306079579088697, 0.0, 0.27951711411767144},
     0.15419263663618613,
     {-0.058825617235979, 0.0989854136182339, 0.0989854136182339, -0.058825617235979, 0, 0, 0, 0,
      0.07542597467814195, -0.056421720660382244, -0.016867412058824978, 0.04905643561043711}},
    {"mask_iou",
     0,
     0,
     0,
     0.5,
     {0.2592592592592593, 0.0, 0.3617747440273037},
     0.20701133442885433,
     {-0.12345679012345677, 0.09144947416552353, 0.09144947416552353, -0.12345679012345677,
      0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 0.6666666666666666,
      0.07260810648153541, -0.11376564277588169, -0.05785351799865655, 0.03533335663005199}},
    {"dice",
     0,
     0,
     0,
     0.5,
     {0.16666666666666674, 0.0, 0.24651162790697667},
     0.13772609819121448,
     {-0.0925925925925926, 0.06613756613756612, 0.06613756613756612, -0.0925925925925926,
      0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 0.6666666666666666,
      0.05840995132504057, -0.09662880836488191, -0.05011718045790516, 0.027402199387056077}},
};

static void ov_params(loss_call *c, const ov_case *k)
{
    call_param(c, "smooth", k->smooth);
    if (strcmp(k->loss, "tversky") == 0) {
        call_param(c, "alpha", k->alpha);
        call_param(c, "beta", k->beta);
        call_param(c, "gamma", k->gamma);
    }
}

Test(overlap, mean_and_none_should_match_the_formulas_in_torch)
{
    for (size_t k = 0; k < N_OF(ov_cases); k++) {
        loss_call c;
        loss_result r;
        ov_call(&c, ov_cases[k].loss, LOSS_REDUCE_MEAN);
        ov_params(&c, &ov_cases[k]);
        compute_ok(&c, NULL, &r);
        expect_value(&r, ov_cases[k].mean);
        expect_grad(&c, &r, "predictions", ov_cases[k].grad, 12);
        cr_expect_float_eq(r.denominator, 3.0, 0);
        loss_result_release(&r);
        c.reduction = LOSS_REDUCE_NONE;
        compute_ok(&c, NULL, &r);
        cr_expect_eq(r.terms[0].rank, 1);
        expect_values(&r.terms[0], ov_cases[k].none, 3, 1e-12, ov_cases[k].loss);
        loss_result_release(&r);
    }
}

Test(mask_iou, seed_cases_should_match_the_research_numbers)
{
    /* E25: both empty -> IoU 1 (loss 0); prediction empty, GT not -> 1 - 9.99999e-7;
     * half overlap -> IoU 0.5000002. E25b: p = [.85,.15], y = [1,0] ->
     * loss 0.2608693383744882, grad [-0.8695644612482947, 0.6427217555684838]
     * (with a mean over two samples the gradient is half of that). */
    double p[] = {0, 0, 0, 0, 1, 1, .85, .15}, y[] = {0, 0, 1, 0, 1, 0, 1, 0};
    static const double want[] = {0.0, 0.999999000001, 0.4999997500001251, 0.2608693383744882};
    loss_call c;
    loss_result r;
    call_begin(&c, "mask_iou");
    call_input(&c, "predictions", p, SHAPE(4, 2));
    call_input(&c, "targets", y, SHAPE(4, 2));
    c.reduction = LOSS_REDUCE_NONE;
    c.want_gradient = 1;
    compute_ok(&c, NULL, &r);
    expect_values(&r.terms[0], want, 4, 1e-12, "none");
    cr_expect(close_to(elem(&r.grad[0], 6), -0.8695644612482947, 1e-12));
    cr_expect(close_to(elem(&r.grad[0], 7), 0.6427217555684838, 1e-12));
    loss_result_release(&r);
}

Test(overlap, values_outside_the_unit_interval_should_be_out_of_domain)
{
    static const char *const losses[] = {"mask_iou", "dice", "tversky"};
    double bad[12];
    for (size_t k = 0; k < N_OF(losses); k++) {
        loss_call c;
        memcpy(bad, ov_p, sizeof bad);
        bad[5] = 1.0000001;
        ov_call(&c, losses[k], LOSS_REDUCE_MEAN);
        call_input(&c, "predictions", bad, SHAPE(3, 2, 2));
        expect_error(&c, LOSS_ERR_DOMAIN, "predictions");
        call_input(&c, "predictions", ov_p, SHAPE(3, 2, 2));
        bad[5] = -0.1;
        call_input(&c, "targets", bad, SHAPE(3, 2, 2));
        expect_error(&c, LOSS_ERR_DOMAIN, "targets");
        bad[5] = NAN;
        expect_error(&c, LOSS_ERR_NON_FINITE, "targets");
        call_input(&c, "targets", ov_y, SHAPE(3, 4));
        expect_error(&c, LOSS_ERR_SHAPE, "targets");
    }
    loss_call c;
    ov_call(&c, "tversky", LOSS_REDUCE_MEAN);
    call_param(&c, "gamma", -1);
    expect_error(&c, LOSS_ERR_PARAM, "gamma");
}

Test(overlap, gradients_float32_and_workers_should_agree)
{
    enum { N = 6, M = 9000 };
    double *p = mem_alloc_array(N * M, sizeof(double)), *y = mem_alloc_array(N * M, 8);
    fill_uniform(p, N * M, 0, 1, 11);
    fill_uniform(y, N * M, 0, 1, 12);
    for (size_t i = 0; i < N * M; i += 3)
        y[i] = y[i] < 0.5 ? 0.0 : 1.0;
    for (size_t k = 0; k < N_OF(ov_cases); k++) {
        loss_call c;
        call_begin(&c, ov_cases[k].loss);
        call_input(&c, "predictions", p, SHAPE(N, M));
        call_input(&c, "targets", y, SHAPE(N, M));
        ov_params(&c, &ov_cases[k]);
        check_workers(&c);
        check_float32(&c);
        call_input(&c, "predictions", p, SHAPE(4, 5));
        call_input(&c, "targets", y, SHAPE(4, 5));
        fd_check(&c);
        c.reduction = LOSS_REDUCE_NONE;
        fd_check(&c);
    }
    mem_free(p);
    mem_free(y);
}

/* =========================== categorical_hinge ========================== */

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

/* =========================== multilabel_margin ========================== */

/* x = [[.1,.2,.4,.8],[.5,-.3,.9,.2],[.3,.3,.3,.3]], t = [[3,0,-1,1],[2,-1,0,0],[1,1,-1,0]]:
 * F.multilabel_margin_loss(x, t, reduction=red). Row 0 is E17 ({3,0}, 0.85); row 2 lists
 * class 1 twice, which PyTorch counts twice. */
static double mlm_x[] = {.1, .2, .4, .8, .5, -.3, .9, .2, .3, .3, .3, .3};
static double mlm_t[] = {3, 0, -1, 1, 2, -1, 0, 0, 1, 1, -1, 0};
static const double mlm_g_sum[] = {-0.5, 0.5,  0.5, -0.5, 0.25, 0.0,
                                   -0.5, 0.25, 0.5, -1.5, 0.5,  0.5};

static void mlm_call(loss_call *c, loss_reduction red)
{
    call_begin(c, "multilabel_margin");
    call_input(c, "predictions", mlm_x, SHAPE(3, 4));
    call_input(c, "targets", mlm_t, SHAPE(3, 4));
    c->reduction = red;
    c->want_gradient = 1;
}

Test(multilabel_margin, values_and_gradients_should_match_pytorch)
{
    static const double none[] = {0.8500000000000001, 0.22499999999999998, 1.5};
    double g_mean[12];
    for (size_t i = 0; i < 12; i++)
        g_mean[i] = mlm_g_sum[i] / 3;
    loss_call c;
    loss_result r;
    mlm_call(&c, LOSS_REDUCE_MEAN);
    compute_ok(&c, NULL, &r);
    expect_value(&r, 0.8583333333333334);
    expect_grad(&c, &r, "predictions", g_mean, 12);
    loss_result_release(&r);
    mlm_call(&c, LOSS_REDUCE_NONE);
    compute_ok(&c, NULL, &r);
    expect_values(&r.terms[0], none, 3, 1e-12, "none");
    expect_grad(&c, &r, "predictions", mlm_g_sum, 12);
    loss_result_release(&r);
    mlm_call(&c, LOSS_REDUCE_SUM);
    compute_ok(&c, NULL, &r);
    expect_value(&r, 2.575);
    loss_result_release(&r);
}

Test(multilabel_margin, a_pair_exactly_at_the_margin_should_have_zero_gradient)
{
    /* E17b: x = [[1,0,.5]], t = [[0,-1,0]]: the pair (0,1) has z = 0 exactly.
     * F.multilabel_margin_loss(x, t, reduction='sum') = 0.16666666666666666,
     * grad [[-1/3, 0, 1/3]]. A 1-D row gives a scalar. */
    double x[] = {1, 0, .5}, t[] = {0, -1, 0};
    loss_call c;
    loss_result r;
    call_begin(&c, "multilabel_margin");
    call_input(&c, "predictions", x, SHAPE(3));
    call_input(&c, "targets", t, SHAPE(3));
    c.reduction = LOSS_REDUCE_NONE;
    c.want_gradient = 1;
    compute_ok(&c, NULL, &r);
    cr_expect_eq(r.terms[0].rank, 0);
    expect_values(&r.terms[0], (double[]){0.16666666666666666}, 1, 1e-12, "none");
    expect_grad(&c, &r, "predictions", (double[]){-1.0 / 3, 0.0, 1.0 / 3}, 3);
    loss_result_release(&r);
}

Test(multilabel_margin, targets_outside_minus_one_to_c_should_be_out_of_domain)
{
    /* PyTorch checks every entry, also those after the -1: "target is out of range". */
    double t[12];
    loss_call c;
    memcpy(t, mlm_t, sizeof t);
    t[3] = 4;
    mlm_call(&c, LOSS_REDUCE_MEAN);
    call_input(&c, "targets", t, SHAPE(3, 4));
    expect_error(&c, LOSS_ERR_DOMAIN, "targets");
    t[3] = -2;
    expect_error(&c, LOSS_ERR_DOMAIN, "targets");
    call_input(&c, "targets", mlm_t, SHAPE(4, 3));
    expect_error(&c, LOSS_ERR_SHAPE, "targets");
}

Test(multilabel_margin, gradients_float32_and_workers_should_agree)
{
    enum { N = 300, C = 30 };
    double *x = mem_alloc_array(N * C, sizeof(double)), *t = mem_alloc_array(N * C, 8);
    fill_uniform(x, N * C, -1, 1, 14);
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < C; k++) {
            size_t listed = i % 5;
            t[i * C + k] = k < listed ? (double)((i + 3 * k) % C) : k == listed ? -1 : 7;
        }
    loss_call c;
    call_begin(&c, "multilabel_margin");
    call_input(&c, "predictions", x, SHAPE(N, C));
    call_input(&c, "targets", t, SHAPE(N, C));
    check_workers(&c);
    check_float32(&c);
    call_input(&c, "predictions", x, SHAPE(7, C));
    call_input(&c, "targets", t, SHAPE(7, C));
    fd_check(&c);
    mem_free(x);
    mem_free(t);
}

/* ================================ ntxent ================================ */

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

/* ============================ golden fixtures =========================== */

#define GOLDEN(loss)                                                                               \
    Test(loss, should_match_pytorch_fixtures)                                                      \
    {                                                                                              \
        golden_run_file(#loss);                                                                    \
    }                                                                                              \
    Test(loss, gradient_should_match_finite_differences_on_fixtures)                               \
    {                                                                                              \
        golden_fd_file(#loss);                                                                     \
    }

GOLDEN(kl_div)
GOLDEN(multi_margin)
GOLDEN(multilabel_soft_margin)
GOLDEN(cosine_embedding)
GOLDEN(dice)
GOLDEN(mask_iou)
GOLDEN(tversky)
GOLDEN(categorical_hinge)
GOLDEN(multilabel_margin)
GOLDEN(ntxent)

/* ================================== ctc ================================= */

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
    /* E33: mean = mean(none / target_lengths) */
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
    /* E35: PyTorch's d/dlog_probs = true partial + exp(lp) inside each input length. */
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
    /* E33b: item 1 needs 3 labels in 2 frames. With zero_infinity its loss and gradient are
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

GOLDEN(ctc)

/* ========================== allocation failures ========================= */

/* Fails the n-th allocation for every n until a run succeeds: each failure must be a clean
 * LOSS_ERR_NOMEM (ASan reports any leak on the way). */
static void sweep_allocation_failures(const loss_call *c)
{
    for (long n = 0; n < 200; n++) {
        loss_result r;
        loss_error e;
        mem_fail_after(n);
        loss_status st = loss_compute(c, NULL, &r, &e);
        mem_fail_reset();
        if (st == LOSS_OK) {
            loss_result_release(&r);
            return;
        }
        cr_assert_eq(st, LOSS_ERR_NOMEM, "%s, failing allocation %ld: %s", c->desc->name, n,
                     e.message);
    }
    cr_assert_fail("%s never succeeded", c->desc->name);
}

Test(allocation, failures_should_end_in_a_clean_out_of_memory_error)
{
    loss_call c;
    ntx_call(&c, 0.5, LOSS_REDUCE_MEAN);
    sweep_allocation_failures(&c);
    ntx_call(&c, 0.5, LOSS_REDUCE_NONE);
    c.want_gradient = 0;
    sweep_allocation_failures(&c);
    ctc_std(&c, LOSS_REDUCE_MEAN);
    sweep_allocation_failures(&c);
    mlm_call(&c, LOSS_REDUCE_NONE);
    sweep_allocation_failures(&c);
}
