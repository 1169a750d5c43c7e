/* call_checks: test support for the loss suites. Builds a loss_call (call_begin, call_input,
 * call_param), computes it, and checks a call in one line each: gradients by central
 * differences (fd_check), float32 against float64 (check_float32), bit-identical results for
 * 1, 2 and 7 workers (check_workers), clean out-of-memory errors (sweep_allocation_failures).
 * Header-only (static inline): each test file includes it on its own. */
#ifndef LOSSD_TESTS_CALL_CHECKS_H
#define LOSSD_TESTS_CALL_CHECKS_H

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "loss.h"
#include "mem.h"
#include "pool.h"

#define SHAPE(...) ((size_t[]){__VA_ARGS__}), (sizeof((size_t[]){__VA_ARGS__}) / sizeof(size_t))
#define SCALAR NULL, 0
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static inline void call_begin(loss_call *c, const char *loss)
{
    const loss_desc *d = loss_registry_find(loss, strlen(loss));
    cr_assert_not_null(d, "%s is registered", loss);
    loss_call_init(c, d);
}

static inline int input_index(const loss_call *c, const char *name)
{
    int i = loss_desc_input_index(c->desc, name, strlen(name));
    cr_assert_geq(i, 0, "%s has an input %s", c->desc->name, name);
    return i;
}

/* Borrows data (float64) as input `name` with the given shape. */
static inline void call_input(loss_call *c, const char *name, double *data, const size_t *shape,
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

static inline void call_param(loss_call *c, const char *name, double v)
{
    int i = loss_desc_param_index(c->desc, name, strlen(name));
    cr_assert_geq(i, 0, "%s has a parameter %s", c->desc->name, name);
    c->param[i] = v;
    c->param_set[i] = 1;
}

static inline void compute_ok(const loss_call *c, pool *pl, loss_result *r)
{
    loss_error e;
    loss_status st = loss_compute(c, pl, r, &e);
    cr_assert_eq(st, LOSS_OK, "%s: %s", c->desc->name, e.message);
}

static inline void expect_error(const loss_call *c, loss_status want, const char *field)
{
    loss_result r;
    loss_error e;
    loss_status st = loss_compute(c, NULL, &r, &e);
    cr_assert_eq(st, want, "%s: status %d (%s), expected %d", c->desc->name, st, e.message, want);
    cr_expect_str_eq(e.field, field, "%s: %s", c->desc->name, e.message);
}

static inline int close_to(double got, double want, double rtol)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return got == want;
    return fabs(got - want) <= rtol * (fabs(want) + 1.0);
}

static inline double elem(const tensor *t, size_t i)
{
    return tensor_get(t, i);
}

static inline void expect_values(const tensor *t, const double *want, size_t n, double rtol,
                                 const char *what)
{
    cr_assert_eq(t->count, n, "%s: %zu elements, expected %zu", what, t->count, n);
    for (size_t i = 0; i < n; i++)
        cr_expect(close_to(elem(t, i), want[i], rtol), "%s[%zu] = %.17g, expected %.17g", what, i,
                  elem(t, i), want[i]);
}

static inline void expect_grad(const loss_call *c, const loss_result *r, const char *name,
                               const double *want, size_t n)
{
    expect_values(&r->grad[input_index(c, name)], want, n, 1e-12, name);
}

static inline void expect_value(const loss_result *r, double want)
{
    cr_expect(close_to(r->value, want, 1e-12), "value %.17g, expected %.17g", r->value, want);
}

static inline double total_of(const loss_call *c)
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
static inline void fd_check(loss_call *c)
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

static inline int same_result(const loss_result *a, const loss_result *b)
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
static inline void check_workers(loss_call *c)
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
static inline void check_float32(loss_call *c)
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
static inline void fill_uniform(double *x, size_t n, double lo, double hi, unsigned long seed)
{
    unsigned long s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005UL + 1442695040888963407UL;
        x[i] = lo + (hi - lo) * ((double)(s >> 11) / 9007199254740992.0);
    }
}

/* Fails the n-th allocation for every n until a run succeeds: each failure must be a clean
 * LOSS_ERR_NOMEM (ASan reports any leak on the way). */
static inline void sweep_allocation_failures(const loss_call *c)
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

#endif
