/* lcase: test support for the loss suites. A loss call over borrowed float64 inputs together
 * with its result and error (lc_*), and the comparisons the suites use: relative tolerance,
 * absolute near zero (the accuracy rule of docs/api.md). Header-only (static inline): each
 * test file includes it on its own. */
#ifndef LOSSD_TESTS_LCASE_H
#define LOSSD_TESTS_LCASE_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kern.h"
#include "loss.h"
#include "mem.h"
#include "pool.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
    loss_call call;
    loss_result res;
    loss_error err;
} lcase;

static inline void lc_init(lcase *c, const char *loss, loss_reduction red)
{
    const loss_desc *d = loss_registry_find(loss, strlen(loss));
    cr_assert_not_null(d, "%s is registered", loss);
    memset(c, 0, sizeof *c);
    loss_call_init(&c->call, d);
    c->call.reduction = red;
    c->call.want_gradient = 1;
}

static inline int lc_index(const lcase *c, const char *name)
{
    int i = loss_desc_input_index(c->call.desc, name, strlen(name));
    cr_assert_geq(i, 0, "%s has an input %s", c->call.desc->name, name);
    return i;
}

static inline void lc_input_shaped(lcase *c, const char *name, double *data, size_t rank,
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

static inline void lc_input(lcase *c, const char *name, double *data, size_t n)
{
    lc_input_shaped(c, name, data, 1, &n);
}

static inline void lc_param(lcase *c, const char *name, double v)
{
    int i = loss_desc_param_index(c->call.desc, name, strlen(name));
    cr_assert_geq(i, 0, "%s has a parameter %s", c->call.desc->name, name);
    c->call.param[i] = v;
    c->call.param_set[i] = 1;
}

static inline void lc_run_with(lcase *c, pool *workers)
{
    loss_status st = loss_compute(&c->call, workers, &c->res, &c->err);
    cr_assert_eq(st, LOSS_OK, "%s: %s", c->call.desc->name, c->err.message);
}

static inline void lc_run(lcase *c)
{
    lc_run_with(c, NULL);
}

/* Runs a call that must fail; returns the error. */
static inline loss_error lc_fail(lcase *c, loss_status want)
{
    loss_status st = loss_compute(&c->call, NULL, &c->res, &c->err);
    cr_assert_eq(st, want, "%s: expected status %d, got %d (%s)", c->call.desc->name, want, st,
                 c->err.message);
    return c->err;
}

static inline void lc_done(lcase *c)
{
    loss_result_release(&c->res);
}

static inline int close_to(double got, double want, double tol)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return got == want;
    return fabs(got - want) <= tol * fmax(fabs(want), 1.0);
}

static inline void expect_value(const lcase *c, double want, double tol)
{
    cr_assert(close_to(c->res.value, want, tol), "%s value %.17g, want %.17g", c->call.desc->name,
              c->res.value, want);
}

static inline void expect_tensor(const char *what, const tensor *t, const double *want, size_t n,
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

static inline void expect_grad(const lcase *c, const char *input, const double *want, size_t n,
                               double tol)
{
    expect_tensor(input, &c->res.grad[lc_index(c, input)], want, n, tol);
}

static const double TOL64 = 1e-12, TOL32 = 1e-5;
static const loss_dtype DTYPES[] = {LOSS_DTYPE_F64, LOSS_DTYPE_F32};

static inline double tol_of(loss_dtype dt)
{
    return dt == LOSS_DTYPE_F64 ? TOL64 : TOL32;
}

#endif
