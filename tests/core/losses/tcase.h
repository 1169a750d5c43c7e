/* tcase: test support for the loss suites. A case is a table row (tcase: the loss, its inputs
 * and parameters) checked against what PyTorch gives (texpect: per-element values, the gradient
 * of their sum, the mean) in float64 and float32, for every reduction. Header-only
 * (static inline): each test file includes it on its own. */
#ifndef LOSSD_TESTS_TCASE_H
#define LOSSD_TESTS_TCASE_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kern.h"
#include "loss.h"
#include "mem.h"
#include "pool.h"

#define MAX_IN 4
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* One input of a case: descriptor name, shape, borrowed float64 data. */
typedef struct {
    const char *name;
    size_t rank;
    size_t shape[3];
    const double *data;
} tin;

typedef struct {
    const char *name;
    double value;
} tparam;

/* A request: the loss, its inputs (name NULL ends the list) and parameters. */
typedef struct {
    const char *loss;
    tin in[MAX_IN];
    tparam par[3];
} tcase;

/* What PyTorch gives: per-element values (reduction none), the gradient of their sum for
 * each input of the case (NULL: none expected), and the mean. */
typedef struct {
    const double *values;
    const double *grad[MAX_IN];
    double mean;
} texpect;

static inline const loss_desc *find(const char *name)
{
    const loss_desc *d = loss_registry_find(name, strlen(name));
    cr_assert_not_null(d, "%s is registered", name);
    return d;
}

static inline size_t tin_count(const tin *t)
{
    size_t n = 1;
    for (size_t k = 0; k < t->rank; k++)
        n *= t->shape[k];
    return n;
}

static inline int input_index(const loss_desc *d, const char *name)
{
    int i = loss_desc_input_index(d, name, strlen(name));
    cr_assert_geq(i, 0, "%s has an input %s", d->name, name);
    return i;
}

static inline void build(loss_call *c, const tcase *tc, loss_dtype dt, loss_reduction red, int grad)
{
    const loss_desc *d = find(tc->loss);
    loss_call_init(c, d);
    c->dtype = dt;
    c->reduction = red;
    c->want_gradient = grad;
    for (size_t k = 0; k < MAX_IN && tc->in[k].name; k++) {
        const tin *t = &tc->in[k];
        int i = input_index(d, t->name);
        c->input[i] = (tensor){.type = TENSOR_F64,
                               .rank = t->rank,
                               .count = tin_count(t),
                               .data = (void *)(uintptr_t)t->data};
        memcpy(c->input[i].shape, t->shape, sizeof t->shape);
        c->present[i] = 1;
    }
    for (size_t k = 0; k < N_OF(tc->par) && tc->par[k].name; k++) {
        int i = loss_desc_param_index(d, tc->par[k].name, strlen(tc->par[k].name));
        cr_assert_geq(i, 0, "%s has a parameter %s", d->name, tc->par[k].name);
        c->param[i] = tc->par[k].value;
        c->param_set[i] = 1;
    }
}

static inline void compute(const tcase *tc, loss_dtype dt, loss_reduction red, loss_result *r)
{
    loss_call c;
    loss_error e;
    build(&c, tc, dt, red, 1);
    loss_status st = loss_compute(&c, NULL, r, &e);
    cr_assert_eq(st, LOSS_OK, "%s: %s", tc->loss, e.message);
}

/* |got - want| <= rtol |want| + atol, with NaN and infinities equal only to themselves. */
static inline int near(double got, double want, double rtol, double atol)
{
    if (isnan(want) || isinf(want))
        return isnan(want) ? isnan(got) : got == want;
    return fabs(got - want) <= rtol * fabs(want) + atol;
}

static inline void expect_tensor(const char *what, const tensor *t, const double *want, size_t n,
                                 double factor, double rtol, double atol)
{
    cr_assert_eq(t->count, n, "%s: %zu elements, expected %zu", what, t->count, n);
    for (size_t i = 0; i < n; i++)
        cr_expect(near(tensor_get(t, i), want[i] * factor, rtol, atol),
                  "%s[%zu] = %.17g, expected %.17g", what, i, tensor_get(t, i), want[i] * factor);
}

/* Checks none (values, gradient of the sum), mean and sum against ex, for one dtype. */
static inline void check_dtype(const tcase *tc, const texpect *ex, loss_dtype dt)
{
    const double rtol = dt == LOSS_DTYPE_F64 ? 1e-12 : 1e-5;
    const double atol = dt == LOSS_DTYPE_F64 ? 1e-300 : 1e-7;
    const loss_desc *d = find(tc->loss);
    size_t n = tin_count(&tc->in[0]);
    loss_result r;
    compute(tc, dt, LOSS_REDUCE_NONE, &r);
    expect_tensor("none values", &r.terms[0], ex->values, n, 1.0, rtol, atol);
    double sum = 0, abs_sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += ex->values[i];
        abs_sum += fabs(ex->values[i]);
    }
    for (size_t k = 0; k < MAX_IN && tc->in[k].name; k++) {
        int i = input_index(d, tc->in[k].name);
        if (ex->grad[k])
            expect_tensor(tc->in[k].name, &r.grad[i], ex->grad[k], tin_count(&tc->in[k]), 1.0, rtol,
                          atol);
        else
            cr_expect_null(r.grad[i].data, "%s takes no gradient", tc->in[k].name);
    }
    loss_result_release(&r);
    compute(tc, dt, LOSS_REDUCE_MEAN, &r);
    cr_expect(near(r.value, ex->mean, rtol, atol), "%s mean %.17g, expected %.17g", tc->loss,
              r.value, ex->mean);
    for (size_t k = 0; k < MAX_IN && tc->in[k].name; k++)
        if (ex->grad[k])
            expect_tensor(tc->in[k].name, &r.grad[input_index(d, tc->in[k].name)], ex->grad[k],
                          tin_count(&tc->in[k]), 1.0 / (double)n, rtol, atol);
    loss_result_release(&r);
    compute(tc, dt, LOSS_REDUCE_SUM, &r);
    cr_expect(fabs(r.value - sum) <= rtol * abs_sum + atol, "%s sum %.17g, expected %.17g",
              tc->loss, r.value, sum);
    loss_result_release(&r);
}

/* The case in float64 to 1e-12 and in float32 to 1e-5, for none, mean and sum. */
static inline void check_case(const tcase *tc, const texpect *ex)
{
    check_dtype(tc, ex, LOSS_DTYPE_F64);
    check_dtype(tc, ex, LOSS_DTYPE_F32);
}

/* Computes tc and expects an error `status` naming `field`. */
static inline void expect_error(const tcase *tc, loss_status status, const char *field)
{
    loss_call c;
    loss_result r;
    loss_error e;
    build(&c, tc, LOSS_DTYPE_F64, LOSS_REDUCE_MEAN, 1);
    loss_status st = loss_compute(&c, NULL, &r, &e);
    cr_assert_eq(st, status, "%s: status %d (%s), expected %d", tc->loss, st, e.message, status);
    cr_expect_str_eq(e.field, field, "%s: %s", tc->loss, e.message);
}

#endif
