/* shaped_call: test support for the loss suites. Builds a loss_call input by input with its
 * shape (put_f, put_i), runs it (run_ok, run_err) and checks values, gradients by central
 * differences (check_fd) and bit-identical results across worker counts. Header-only
 * (static inline): each test file includes it on its own. */
#ifndef LOSSD_TESTS_SHAPED_CALL_H
#define LOSSD_TESTS_SHAPED_CALL_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "loss.h"
#include "mem.h"
#include "pool.h"

#define SHAPE(...) ((const size_t[]){__VA_ARGS__})
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static inline const loss_desc *find(const char *name)
{
    const loss_desc *d = loss_registry_find(name, strlen(name));
    cr_assert_not_null(d, "%s is registered", name);
    return d;
}

static inline void start(loss_call *c, const char *loss, loss_reduction red)
{
    loss_call_init(c, find(loss));
    c->reduction = red;
    c->want_gradient = 1;
}

static inline int input_index(const loss_call *c, const char *name)
{
    int i = loss_desc_input_index(c->desc, name, strlen(name));
    cr_assert_geq(i, 0, "%s has an input %s", c->desc->name, name);
    return i;
}

static inline void put(loss_call *c, const char *name, tensor_type type, void *data, size_t rank,
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

static inline void put_f(loss_call *c, const char *name, double *data, size_t rank,
                         const size_t *shape)
{
    put(c, name, TENSOR_F64, data, rank, shape);
}

static inline void put_i(loss_call *c, const char *name, int64_t *data, size_t rank,
                         const size_t *shape)
{
    put(c, name, TENSOR_I64, data, rank, shape);
}

static inline void set_param(loss_call *c, const char *name, double v)
{
    int i = loss_desc_param_index(c->desc, name, strlen(name));
    cr_assert_geq(i, 0, "%s has a parameter %s", c->desc->name, name);
    c->param[i] = v;
    c->param_set[i] = 1;
}

static inline void run_ok(const loss_call *c, pool *workers, loss_result *r)
{
    loss_error e;
    memset(&e, 0, sizeof e);
    loss_status st = loss_compute(c, workers, r, &e);
    cr_assert_eq(st, LOSS_OK, "%s: %s (%s)", c->desc->name, e.message, e.field);
}

static inline void run_err(const loss_call *c, loss_status want, const char *field,
                           const char *needle)
{
    loss_result r;
    loss_error e;
    memset(&e, 0, sizeof e);
    cr_assert_eq(loss_compute(c, NULL, &r, &e), want, "%s: got '%s'", c->desc->name, e.message);
    cr_assert_str_eq(e.field, field);
    if (needle)
        cr_assert_not_null(strstr(e.message, needle), "'%s' in '%s'", needle, e.message);
}

static inline double at(const tensor *t, size_t i)
{
    return t->type == TENSOR_F64 ? ((const double *)t->data)[i]
                                 : (double)((const float *)t->data)[i];
}

/* |got - want| <= tol * max(1, |want|): relative, absolute near zero (docs/api.md). */
static inline void expect_near(const tensor *got, const double *want, size_t n, double tol,
                               const char *what)
{
    cr_assert_eq(got->count, n, "%s has %zu elements, want %zu", what, got->count, n);
    for (size_t i = 0; i < n; i++) {
        double g = at(got, i), lim = tol * fmax(1.0, fabs(want[i]));
        cr_assert(fabs(g - want[i]) <= lim, "%s[%zu] = %.17g, want %.17g", what, i, g, want[i]);
    }
}

static inline void expect_value(const loss_result *r, double want, double tol)
{
    double lim = tol * fmax(1.0, fabs(want));
    cr_assert(fabs(r->value - want) <= lim, "value %.17g, want %.17g", r->value, want);
}

static inline const tensor *grad_of(const loss_call *c, const loss_result *r, const char *name)
{
    const tensor *g = &r->grad[input_index(c, name)];
    cr_assert_not_null(g->data, "a gradient for %s", name);
    return g;
}

/* Value of the loss as one scalar: the value, or the sum of the `none` terms. */
static inline double scalar_of(const loss_call *c)
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
static inline void check_fd(const loss_call *c, const char *name, double tol)
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
                  "%s d/d%s[%zu]: finite difference %.12g, analytic %.12g", c->desc->name, name, k,
                  fd, an);
    }
    loss_result_release(&r);
}

static inline size_t result_bytes(const tensor *t)
{
    return t->data ? t->count * (t->type == TENSOR_F64 ? 8 : 4) : 0;
}

/* Runs c with the calling thread, then 2 and 7 workers: every output byte must agree. */
static inline void expect_same_bytes_across_workers(const loss_call *c)
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
                cr_assert_eq(memcmp(r.grad[i].data, base.grad[i].data, result_bytes(&base.grad[i])),
                             0, "%zu workers: gradient %zu", workers[w], i);
        }
        if (base.terms[0].data)
            cr_assert_eq(memcmp(r.terms[0].data, base.terms[0].data, result_bytes(&base.terms[0])),
                         0);
        loss_result_release(&r);
    }
    loss_result_release(&base);
}

/* Deterministic pseudo-random numbers in [lo, hi). */
static inline double rnd(uint64_t *s, double lo, double hi)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * (double)(*s >> 11) / 9007199254740992.0;
}

/* n values uniform in [-1, 1) from seed. */
static inline void random_fill(double *x, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        x[i] = rnd(&seed, -1, 1);
}

#endif
