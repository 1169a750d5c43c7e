/* kern: every ISA's elementwise fast paths (mse, mae, mbe, huber, smooth_l1, hinge,
 * squared_hinge) against a scalar statement of each formula, at ties, breakpoints and tails,
 * and the declines that hand unusual chunks back to the reference. smooth_l1 and
 * squared_hinge are checked here directly: their losses live in another group. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "kern.h"
#include "loss.h"
#include "mem.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const loss_dtype DTYPES[] = {LOSS_DTYPE_F64, LOSS_DTYPE_F32};

static int close_to(double got, double want, double tol)
{
    return fabs(got - want) <= tol * fmax(fabs(want), 1.0);
}

static double unit_rand(unsigned long *s)
{
    *s = *s * 6364136223846793005UL + 1442695040888963407UL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

typedef enum { DIST_WIDE, DIST_SIGN } dist;

static void fill_dist(double *x, size_t n, dist d, unsigned long seed)
{
    for (size_t i = 0; i < n; i++) {
        double u = unit_rand(&seed);
        x[i] = d == DIST_WIDE ? 6 * u - 3 : (u < 0.5 ? -1.0 : 1.0);
    }
}

static void oracle(kern_id id, double p, double y, double param, double *l, double *g)
{
    double d = p - y, z = fabs(d), sgn = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0, t = 1.0 - y * p;
    *l = *g = NAN;
    switch (id) {
    case KERN_MSE:
        *l = d * d, *g = 2 * d;
        break;
    case KERN_MAE:
        *l = z, *g = sgn;
        break;
    case KERN_MBE:
        *l = y - p, *g = -1.0;
        break;
    case KERN_HUBER:
        *l = z < param ? 0.5 * d * d : param * (z - 0.5 * param);
        *g = z < param ? d : param * sgn;
        break;
    case KERN_SMOOTH_L1:
        *l = z < param ? 0.5 * d * d / param : z - 0.5 * param;
        *g = z < param ? d / param : sgn;
        break;
    case KERN_HINGE:
        *l = fmax(t, 0.0), *g = t >= 0 ? -y : 0.0;
        break;
    case KERN_SQUARED_HINGE:
        *l = fmax(t, 0.0) * fmax(t, 0.0), *g = -2.0 * y * fmax(t, 0.0);
        break;
    case KERN_COUNT:
        break;
    }
}

typedef struct {
    kern_id id;
    double param;
    dist dy;
} kern_case;

static const kern_case KCASES[] = {
    {KERN_MSE, 0, DIST_WIDE},         {KERN_MAE, 0, DIST_WIDE},
    {KERN_MBE, 0, DIST_WIDE},         {KERN_HUBER, 1.0, DIST_WIDE},
    {KERN_HUBER, 0.25, DIST_WIDE},    {KERN_SMOOTH_L1, 1.0, DIST_WIDE},
    {KERN_SMOOTH_L1, 0.5, DIST_WIDE}, {KERN_SMOOTH_L1, 0.0, DIST_WIDE},
    {KERN_HINGE, 0, DIST_SIGN},       {KERN_SQUARED_HINGE, 0, DIST_SIGN},
};

/* Runs one table entry on n elements (converted to float for F32) and checks it. */
static void check_kernel(kern_elem_fn fn, const kern_case *kc, loss_dtype dt, const double *p,
                         const double *y, size_t n, const char *isa)
{
    size_t esz = dt == LOSS_DTYPE_F64 ? 8 : 4;
    void *pb = mem_alloc(n * esz), *yb = mem_alloc(n * esz);
    void *gb = mem_alloc(n * esz), *vb = mem_alloc(n * esz);
    for (size_t i = 0; i < n; i++) {
        if (dt == LOSS_DTYPE_F64) {
            ((double *)pb)[i] = p[i];
            ((double *)yb)[i] = y[i];
        } else {
            ((float *)pb)[i] = (float)p[i];
            ((float *)yb)[i] = (float)y[i];
        }
    }
    const double scale = 0.375;
    kern_elem_args args = {pb, yb, vb, gb, scale, &kc->param, n};
    double sum = NAN, ref = 0.0, tol = dt == LOSS_DTYPE_F64 ? 1e-13 : 1e-6;
    cr_assert_eq(fn(&args, &sum), 0, "%s kernel %d declined finite data", isa, kc->id);
    for (size_t i = 0; i < n; i++) {
        double pi = dt == LOSS_DTYPE_F64 ? p[i] : (float)p[i];
        double yi = dt == LOSS_DTYPE_F64 ? y[i] : (float)y[i], l, g;
        oracle(kc->id, pi, yi, kc->param, &l, &g);
        ref += l;
        double gv = dt == LOSS_DTYPE_F64 ? ((double *)gb)[i] : ((float *)gb)[i];
        double vv = dt == LOSS_DTYPE_F64 ? ((double *)vb)[i] : ((float *)vb)[i];
        cr_assert(close_to(gv, g * scale, tol), "%s kernel %d param %g grad[%zu] %.17g vs %.17g",
                  isa, kc->id, kc->param, i, gv, g * scale);
        cr_assert(close_to(vv, l, tol), "%s kernel %d value[%zu] %.17g vs %.17g", isa, kc->id, i,
                  vv, l);
    }
    cr_assert(close_to(sum, ref, tol), "%s kernel %d sum %.17g vs %.17g", isa, kc->id, sum, ref);
    /* Without outputs the sum must not change. */
    args.grad = args.values = NULL;
    double sum2 = NAN;
    cr_assert_eq(fn(&args, &sum2), 0);
    cr_assert_eq(memcmp(&sum, &sum2, sizeof sum), 0, "%s kernel %d", isa, kc->id);
    mem_free(pb);
    mem_free(yb);
    mem_free(gb);
    mem_free(vb);
}

Test(kern, every_isa_kernel_should_match_the_formula_including_ties_and_tails)
{
    const size_t sizes[] = {0, 1, 7, 31, 1003};
    const size_t nmax = 1003;
    double p[1003], y[1003];
    const char *isas[] = {"avx2", "avx512"};
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        const kern_table *kt = kern_get();
        for (size_t c = 0; c < N_OF(KCASES); c++) {
            const kern_case *kc = &KCASES[c];
            fill_dist(y, nmax, kc->dy, 500 + c);
            fill_dist(p, nmax, DIST_WIDE, 600 + c);
            for (size_t j = 0; j < nmax; j += 13) /* d = 0 and the hinge tie p = y */
                p[j] = y[j];
            for (size_t j = 5; j < nmax; j += 17) /* |d| = param, the breakpoint */
                p[j] = y[j] + kc->param;
            for (size_t k = 0; k < N_OF(DTYPES); k++) {
                kern_elem_fn fn = DTYPES[k] == LOSS_DTYPE_F64 ? kt->f64[kc->id] : kt->f32[kc->id];
                cr_assert_not_null(fn, "%s has kernel %d", isas[i], kc->id);
                for (size_t s = 0; s < N_OF(sizes); s++)
                    check_kernel(fn, kc, DTYPES[k], p, y, sizes[s], isas[i]);
            }
        }
    }
    kern_init(NULL);
}

/* Runs a kernel on 40 elements where element `at` of p or y is replaced by `bad`. */
static int run_with_bad(kern_elem_fn fn, loss_dtype dt, double param, int in_y, size_t at,
                        double bad)
{
    double p[40], y[40];
    fill_dist(p, 40, DIST_WIDE, 9);
    fill_dist(y, 40, DIST_SIGN, 10);
    (in_y ? y : p)[at] = bad;
    float pf[40], yf[40], g[40];
    double gd[40], sum;
    for (size_t i = 0; i < 40; i++) {
        pf[i] = (float)p[i];
        yf[i] = (float)y[i];
    }
    kern_elem_args a = {dt == LOSS_DTYPE_F64 ? (void *)p : (void *)pf,
                        dt == LOSS_DTYPE_F64 ? (void *)y : (void *)yf,
                        NULL,
                        dt == LOSS_DTYPE_F64 ? (void *)gd : (void *)g,
                        1.0,
                        &param,
                        40};
    return fn(&a, &sum);
}

Test(kern, kernels_should_decline_what_only_the_reference_can_report)
{
    const char *isas[] = {"avx2", "avx512"};
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        const kern_table *kt = kern_get();
        for (size_t k = 0; k < N_OF(DTYPES); k++) {
            kern_elem_fn const *tab = DTYPES[k] == LOSS_DTYPE_F64 ? kt->f64 : kt->f32;
            const size_t ats[] = {0, 17, 39}; /* main loop and tail */
            for (size_t j = 0; j < N_OF(ats); j++) {
                size_t at = ats[j];
                cr_assert_eq(run_with_bad(tab[KERN_HINGE], DTYPES[k], 0, 1, at, 0.5), KERN_DECLINED,
                             "%s hinge target 0.5 at %zu", isas[i], at);
                cr_assert_eq(run_with_bad(tab[KERN_HINGE], DTYPES[k], 0, 1, at, 0.0), KERN_DECLINED,
                             "%s hinge target 0", isas[i]);
                cr_assert_eq(run_with_bad(tab[KERN_SQUARED_HINGE], DTYPES[k], 0, 1, at, -0.5),
                             KERN_DECLINED, "%s squared hinge target -0.5", isas[i]);
                cr_assert_eq(run_with_bad(tab[KERN_HINGE], DTYPES[k], 0, 0, at, INFINITY),
                             KERN_DECLINED, "%s hinge p=inf", isas[i]);
                cr_assert_eq(run_with_bad(tab[KERN_SQUARED_HINGE], DTYPES[k], 0, 0, at, -INFINITY),
                             KERN_DECLINED, "%s squared hinge p=-inf", isas[i]);
                cr_assert_eq(run_with_bad(tab[KERN_HINGE], DTYPES[k], 0, 0, at, NAN), KERN_DECLINED,
                             "%s hinge p=nan", isas[i]);
                const kern_id ids[] = {KERN_MAE, KERN_MBE, KERN_HUBER, KERN_SMOOTH_L1};
                for (size_t d = 0; d < N_OF(ids); d++) {
                    cr_assert_eq(run_with_bad(tab[ids[d]], DTYPES[k], 1.0, 0, at, NAN),
                                 KERN_DECLINED, "%s kernel %d p=nan", isas[i], ids[d]);
                    cr_assert_eq(run_with_bad(tab[ids[d]], DTYPES[k], 1.0, 1, at, INFINITY),
                                 KERN_DECLINED, "%s kernel %d y=inf", isas[i], ids[d]);
                }
            }
        }
    }
    kern_init(NULL);
}
