/* mse: hand-computed values and gradients, shape and empty-input rules, and bit-identical
 * results across pool sizes and ISA paths. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "kern.h"
#include "loss.h"
#include "mem.h"
#include "pool.h"

static const loss_desc *find(const char *name)
{
    const loss_desc *d = loss_registry_find(name, strlen(name));
    cr_assert_not_null(d, "%s is registered", name);
    return d;
}

static void set_input(loss_call *c, int i, double *data, size_t n)
{
    c->input[i] = (tensor){.type = TENSOR_F64, .rank = 1, .shape = {n}, .count = n, .data = data};
    c->present[i] = 1;
}

Test(mse, mean_with_gradient_should_match_hand_computation)
{
    double p[] = {1, 3}, y[] = {0, 0};
    loss_call c;
    loss_result r;
    loss_error e;
    loss_call_init(&c, find("mse"));
    set_input(&c, 0, p, 2);
    set_input(&c, 1, y, 2);
    c.want_gradient = 1;
    cr_assert_eq(loss_compute(&c, NULL, &r, &e), LOSS_OK, "%s", e.message);
    cr_assert_float_eq(r.value, 5.0, 1e-15);
    cr_assert_float_eq(((double *)r.grad[0].data)[0], 1.0, 1e-15);
    cr_assert_float_eq(((double *)r.grad[0].data)[1], 3.0, 1e-15);
    cr_assert_float_eq(r.denominator, 2.0, 0);
    loss_result_release(&r);
}

Test(mse, shape_mismatch_should_name_targets)
{
    double p[] = {1, 3}, y[] = {0, 0, 0};
    loss_call c;
    loss_result r;
    loss_error e;
    loss_call_init(&c, find("mse"));
    set_input(&c, 0, p, 2);
    set_input(&c, 1, y, 3);
    cr_assert_eq(loss_compute(&c, NULL, &r, &e), LOSS_ERR_SHAPE);
    cr_assert_str_eq(e.field, "targets");
}

Test(mse, empty_mean_should_be_nan_with_zero_gradient_unless_asked_for_zero)
{
    loss_call c;
    loss_result r;
    loss_error e;
    loss_call_init(&c, find("mse"));
    c.input[0] = (tensor){.type = TENSOR_F64, .rank = 1, .shape = {0}, .count = 0};
    c.input[1] = c.input[0];
    c.present[0] = c.present[1] = 1;
    cr_assert_eq(loss_compute(&c, NULL, &r, &e), LOSS_OK);
    cr_assert(isnan(r.value));
    loss_result_release(&r);
    c.empty_mean_zero = 1;
    cr_assert_eq(loss_compute(&c, NULL, &r, &e), LOSS_OK);
    cr_assert_eq(r.value, 0.0);
    loss_result_release(&r);
}

static void fill(double *p, double *y, size_t n)
{
    unsigned long s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005UL + 1442695040888963407UL;
        p[i] = (double)(s >> 11) / 9007199254740992.0 * 4 - 2;
        y[i] = sin((double)i);
    }
}

static void run_mse(pool *pl, loss_dtype dt, double *p, double *y, size_t n, double *value,
                    void **grad)
{
    loss_call c;
    loss_result r;
    loss_error e;
    loss_call_init(&c, find("mse"));
    set_input(&c, 0, p, n);
    set_input(&c, 1, y, n);
    c.dtype = dt;
    c.want_gradient = 1;
    cr_assert_eq(loss_compute(&c, pl, &r, &e), LOSS_OK);
    *value = r.value;
    size_t bytes = n * (dt == LOSS_DTYPE_F64 ? 8 : 4);
    *grad = mem_alloc(bytes);
    memcpy(*grad, r.grad[0].data, bytes);
    loss_result_release(&r);
}

Test(mse, result_bytes_should_not_depend_on_the_number_of_workers)
{
    size_t n = 1000003;
    double *p = mem_alloc(n * 8), *y = mem_alloc(n * 8);
    fill(p, y, n);
    for (int dt = 0; dt < 2; dt++) {
        double v1, v;
        void *g1, *g;
        run_mse(NULL, (loss_dtype)dt, p, y, n, &v1, &g1);
        size_t counts[] = {2, 7};
        for (size_t k = 0; k < 2; k++) {
            pool *pl = pool_create(counts[k], 4);
            run_mse(pl, (loss_dtype)dt, p, y, n, &v, &g);
            pool_destroy(pl);
            cr_assert_eq(memcmp(&v, &v1, sizeof v), 0, "value with %zu workers", counts[k]);
            cr_assert_eq(memcmp(g, g1, n * (dt ? 4 : 8)), 0);
            mem_free(g);
        }
        mem_free(g1);
    }
    mem_free(p);
    mem_free(y);
}

Test(mse, every_isa_path_should_agree_with_the_reference)
{
    size_t n = 100003;
    double *p = mem_alloc(n * 8), *y = mem_alloc(n * 8);
    fill(p, y, n);
    double ref_v[2];
    void *ref_g[2];
    kern_init("ref");
    for (int dt = 0; dt < 2; dt++)
        run_mse(NULL, (loss_dtype)dt, p, y, n, &ref_v[dt], &ref_g[dt]);
    const char *isas[] = {"avx2", "avx512"};
    for (int k = 0; k < 2; k++) {
        if (kern_init(isas[k]) != 0)
            continue;
        for (int dt = 0; dt < 2; dt++) {
            double v;
            void *g;
            run_mse(NULL, (loss_dtype)dt, p, y, n, &v, &g);
            double tol = dt == 0 ? 1e-12 : 1e-6;
            cr_assert(fabs(v - ref_v[dt]) <= tol * fabs(ref_v[dt]), "%s value", isas[k]);
            for (size_t i = 0; i < n; i++) {
                double a = dt ? (double)((float *)g)[i] : ((double *)g)[i];
                double b = dt ? (double)((float *)ref_g[dt])[i] : ((double *)ref_g[dt])[i];
                cr_assert(fabs(a - b) <= tol * (fabs(b) + 1e-30), "%s grad %zu", isas[k], i);
            }
            mem_free(g);
        }
    }
    kern_init(NULL);
    mem_free(ref_g[0]);
    mem_free(ref_g[1]);
    mem_free(p);
    mem_free(y);
}
