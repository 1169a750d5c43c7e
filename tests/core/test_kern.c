/* kern: every ISA's elementwise fast paths against a scalar statement of each formula, at
 * ties, breakpoints, tails and the special regions of the transcendental losses (BCE's -100
 * clamp and gradient floor, p_t = 1 in focal losses, exp underflow of the logistic ones,
 * log_cosh's branch at |d| = 1), and the declines that hand unusual chunks back to the
 * reference. smooth_l1 and squared_hinge are checked here directly: their losses live in
 * another group. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
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
    case KERN_BCE: /* the transcendental kernels have their own oracle below */
    case KERN_BCE_WITH_LOGITS:
    case KERN_FOCAL:
    case KERN_SIGMOID_FOCAL:
    case KERN_LOG_COSH:
    case KERN_SOFT_MARGIN:
    case KERN_CROSS_ENTROPY: /* rows, checked by its own test */
    case KERN_NONE:
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
static void check_kernel(kern_fn fn, const kern_case *kc, loss_dtype dt, const double *p,
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
    kern_args args = {pb, yb, vb, gb, scale, &kc->param, n, 1};
    double sum = NAN, ref = 0.0, tol = dt == LOSS_DTYPE_F64 ? 1e-13 : 1e-6;
    cr_assert_eq(fn(&args, &sum), 0, "%s kernel %d declined finite data", isa, kc->id);
    for (size_t i = 0; i < n; i++) {
        double pi = dt == LOSS_DTYPE_F64 ? p[i] : (double)(float)p[i];
        double yi = dt == LOSS_DTYPE_F64 ? y[i] : (double)(float)y[i], l, g;
        oracle(kc->id, pi, yi, kc->param, &l, &g);
        ref += l;
        double gv = dt == LOSS_DTYPE_F64 ? ((double *)gb)[i] : (double)((float *)gb)[i];
        double vv = dt == LOSS_DTYPE_F64 ? ((double *)vb)[i] : (double)((float *)vb)[i];
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
                kern_fn fn = DTYPES[k] == LOSS_DTYPE_F64 ? kt->f64[kc->id] : kt->f32[kc->id];
                cr_assert_not_null(fn, "%s has kernel %d", isas[i], kc->id);
                for (size_t s = 0; s < N_OF(sizes); s++)
                    check_kernel(fn, kc, DTYPES[k], p, y, sizes[s], isas[i]);
            }
        }
    }
    kern_init(NULL);
}

/* Runs a kernel on 40 elements where element `at` of p or y is replaced by `bad`. */
static int run_with_bad(kern_fn fn, loss_dtype dt, double param, int in_y, size_t at, double bad)
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
    kern_args a = {dt == LOSS_DTYPE_F64 ? (void *)p : (void *)pf,
                   dt == LOSS_DTYPE_F64 ? (void *)y : (void *)yf,
                   NULL,
                   dt == LOSS_DTYPE_F64 ? (void *)gd : (void *)g,
                   1.0,
                   &param,
                   40,
                   1};
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
            kern_fn const *tab = DTYPES[k] == LOSS_DTYPE_F64 ? kt->f64 : kt->f32;
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

/* ---- the transcendental kernels (vector exp/log) ---- */

/* Long-double statements of each formula, so the oracle's own error is far below the
 * tolerance. sp = softplus, sig = sigmoid. */
static long double sp_l(long double x)
{
    return x > 0 ? x + log1pl(expl(-x)) : log1pl(expl(x));
}
static long double sig_l(long double x)
{
    return 1.0L / (1.0L + expl(-x));
}

static void bce_l(long double p, long double y, long double *ce, long double *dce)
{
    long double lp = fmaxl(logl(p), -100.0L), lq = fmaxl(log1pl(-p), -100.0L);
    *ce = -(y * lp + (1 - y) * lq);
    *dce = (p - y) / fmaxl((1 - p) * p, (long double)1e-12f);
}

static long double alpha_t_l(long double alpha, long double y)
{
    return alpha >= 0 ? alpha * y + (1 - alpha) * (1 - y) : 1.0L;
}

/* q^gamma and its derivative, with the limits at q = 0. */
static void pow_l(long double q, long double gamma, long double *f, long double *df)
{
    *f = q > 0 ? powl(q, gamma) : (gamma == 0 ? 1.0L : 0.0L);
    *df = q > 0 && gamma != 0 ? gamma * powl(q, gamma - 1) : 0.0L;
}

/* The formula of kernel `id` at (p, y), its loss *l and gradient *g, and the magnitude of the
 * largest of the terms each is a sum of (*ls, *gs): where terms of opposite signs cancel, no
 * float computation can be more accurate than a few ulps of that magnitude (the float64
 * reference is not either, relative to a float32 result). */
static void oracle_vm_terms(kern_id id, long double p, long double y, const double *prm,
                            long double *l, long double *g, long double *ls, long double *gs)
{
    long double ce, dce, f, df, q, at = alpha_t_l(prm[0], y), sp = sig_l(p), sn = sig_l(-p);
    switch (id) {
    case KERN_BCE:
        bce_l(p, y, l, g);
        *ls = fabsl(*l), *gs = fabsl(*g);
        break;
    case KERN_BCE_WITH_LOGITS:
        *l = (1 - y) * sp_l(p) + y * sp_l(-p);
        *g = (1 - y) * sp - y * sn;
        *ls = fabsl(*l), *gs = fmaxl((1 - y) * sp, y * sn);
        break;
    case KERN_FOCAL:
        bce_l(p, y, &ce, &dce);
        /* q = 1 - p_t without cancellation, as the reference computes it (docs/decisions.md) */
        q = p * (1 - y) + y * (1 - p);
        pow_l(q, prm[1], &f, &df);
        *l = at * ce * f;
        *g = at * (dce * f + ce * df * (1 - 2 * y));
        *ls = fabsl(*l), *gs = fabsl(at) * fmaxl(fabsl(dce * f), fabsl(ce * df * (1 - 2 * y)));
        break;
    case KERN_SIGMOID_FOCAL:
        ce = (1 - y) * sp_l(p) + y * sp_l(-p);
        q = sp * (1 - y) + sn * y;
        pow_l(q, prm[1], &f, &df);
        *l = at * ce * f;
        *g = at * (((1 - y) * sp - y * sn) * f + ce * df * sp * sn * (1 - 2 * y));
        *ls = fabsl(*l);
        *gs = fabsl(at) * fmaxl(fmaxl((1 - y) * sp * f, y * sn * f), fabsl(ce * df * sp * sn));
        break;
    case KERN_LOG_COSH: {
        long double d = p - y, s = sinhl(d / 2);
        *l = fabsl(d) < 1 ? log1pl(2 * s * s) : fabsl(d) + log1pl(expl(-2 * fabsl(d))) - M_LN2;
        *g = tanhl(d);
        *ls = fabsl(*l), *gs = fabsl(*g);
        break;
    }
    case KERN_SOFT_MARGIN:
        *l = sp_l(-y * p);
        *g = -y * sig_l(-y * p);
        *ls = fabsl(*l), *gs = fabsl(*g);
        break;
    case KERN_NONE: /* not transcendental: oracle() above */
    case KERN_MSE:
    case KERN_MAE:
    case KERN_MBE:
    case KERN_HUBER:
    case KERN_HINGE:
    case KERN_SMOOTH_L1:
    case KERN_SQUARED_HINGE:
    case KERN_CROSS_ENTROPY:
    case KERN_COUNT:
        *l = *g = *ls = *gs = NAN;
        break;
    }
}

/* One float ulp at |x| (subnormal ulp below FLT_MIN). */
static long double ulp_f32(long double x)
{
    int e;
    frexpl(fabsl(x), &e);
    return ldexpl(1.0L, e - 24 < -149 ? -149 : e - 24);
}

/* Whether a float32 result is within `ulps` float ulps of the formula's value rounded to
 * float, or of the magnitude of its largest term where terms cancel (terms). */
static int f32_close(double got, long double want, long double terms, double ulps)
{
    long double w = (float)want;
    if (isinf(w) || isnan(w))
        return got == (double)w || (isnan(got) && isnan(w));
    long double err = fabsl((long double)got - w);
    return err <= ulps * ulp_f32(w) || err <= ulps * ulp_f32(terms);
}

typedef enum { XD_PROB, XD_LOGIT, XD_DIFF } x_dist;
typedef enum { YD_PROB, YD_SIGN } y_dist;

typedef struct {
    kern_id id;
    double param[2]; /* alpha, gamma for the focal pair */
    x_dist dx;
    y_dist dy;
    int value_exact; /* no cancellation in the value: check it to a relative tolerance */
} vm_kcase;

static const vm_kcase VMCASES[] = {
    {KERN_BCE, {0, 0}, XD_PROB, YD_PROB, 1},
    {KERN_BCE_WITH_LOGITS, {0, 0}, XD_LOGIT, YD_PROB, 1},
    {KERN_FOCAL, {0.25, 2.0}, XD_PROB, YD_PROB, 1},
    {KERN_FOCAL, {-1.0, 2.0}, XD_PROB, YD_PROB, 1},
    {KERN_FOCAL, {0.25, 0.0}, XD_PROB, YD_PROB, 1},
    {KERN_FOCAL, {0.6, 0.5}, XD_PROB, YD_PROB, 1},
    {KERN_FOCAL, {0.25, 3.7}, XD_PROB, YD_PROB, 1},
    {KERN_SIGMOID_FOCAL, {0.25, 2.0}, XD_LOGIT, YD_PROB, 1},
    {KERN_SIGMOID_FOCAL, {-1.0, 1.0}, XD_LOGIT, YD_PROB, 1},
    {KERN_SIGMOID_FOCAL, {0.25, 0.0}, XD_LOGIT, YD_PROB, 1},
    {KERN_SIGMOID_FOCAL, {0.9, 0.5}, XD_LOGIT, YD_PROB, 1},
    {KERN_LOG_COSH, {0, 0}, XD_DIFF, YD_PROB, 1},
    {KERN_SOFT_MARGIN, {0, 0}, XD_LOGIT, YD_SIGN, 1},
};

/* Predictions with the special points of each distribution spread over main loop and tails. */
static void fill_vm_inputs(const vm_kcase *c, double *p, double *y, size_t n, unsigned long seed)
{
    static const double prob_edges[] = {0.0, 1.0,    1e-50, 1e-13,    0x1p-53,  1 - 0x1p-53,
                                        0.5, 1e-300, 3e-7,  1 - 1e-9, 0x1p-1074};
    static const double logit_edges[] = {
        0.0,   -0.0,   40.0,  -40.0, 800.0, -800.0, 1e-300, -1e-18, 36.7,     -745.5, 1e6,
        -1e6,  88.0,   -88.0, 87.5,  -87.5, 103.5,  -103.5, 110.5,  -110.5,   1000.0, -1000.0,
        1e-40, -1e-45, 29.0,  -29.0, 46.0,  -46.0,  17.0,   -17.0,  -0x1p-126};
    static const double diff_edges[] = {0.0,         1.0,   -1.0,    0x1.fffffffffffffp-1,
                                        1 + 0x1p-52, 1e-9,  -1e-300, 20.0,
                                        -400.0,      900.0, 0.35,    -0.7};
    for (size_t i = 0; i < n; i++) {
        double u = unit_rand(&seed);
        p[i] = c->dx == XD_PROB ? u : c->dx == XD_LOGIT ? 60 * u - 30 : 8 * u - 4;
        double v = unit_rand(&seed);
        y[i] = c->dy == YD_SIGN ? (v < 0.5 ? -1.0 : 1.0) : v < 0.1 ? 0.0 : v > 0.9 ? 1.0 : v;
        if (i % 3 == 1) {
            const double *e = c->dx == XD_PROB    ? prob_edges
                              : c->dx == XD_LOGIT ? logit_edges
                                                  : diff_edges;
            size_t ne = c->dx == XD_PROB    ? N_OF(prob_edges)
                        : c->dx == XD_LOGIT ? N_OF(logit_edges)
                                            : N_OF(diff_edges);
            p[i] = e[(i / 3) % ne];
            if (c->dx == XD_DIFF)
                p[i] += y[i];
        }
        if (c->dx == XD_PROB && c->dy == YD_PROB && i % 7 == 2)
            p[i] = y[i]; /* p_t = 1 where y is 0 or 1 */
    }
}

/* Whether got matches want: relative where `rel`, else with the fixtures' absolute floor. */
static int vm_close(double got, long double want, double tol, int rel, double tiny)
{
    if (isinf(want) || isnan(want))
        return got == (double)want || (isnan(got) && isnan(want));
    long double err = fabsl((long double)got - want);
    return err <= tol * (rel ? fabsl(want) : fmaxl(fabsl(want), 1.0L)) + tiny;
}

/* Runs one kernel on n elements of both inputs, in dtype dt, against the oracle. */
static void check_vm_kernel(kern_fn fn, const vm_kcase *c, loss_dtype dt, const double *p,
                            const double *y, size_t n, const char *isa)
{
    size_t esz = dt == LOSS_DTYPE_F64 ? 8 : 4;
    void *pb = mem_alloc(n * esz + 1), *yb = mem_alloc(n * esz + 1);
    void *gb = mem_alloc(n * esz + 1), *vb = mem_alloc(n * esz + 1);
    for (size_t i = 0; i < n; i++) {
        if (dt == LOSS_DTYPE_F64) {
            ((double *)pb)[i] = p[i], ((double *)yb)[i] = y[i];
        } else {
            ((float *)pb)[i] = (float)p[i], ((float *)yb)[i] = (float)y[i];
        }
    }
    const double scale = dt == LOSS_DTYPE_F64 ? 0.375 : 1.0 / 3.0; /* 1/3: float rounds it */
    const double tol = dt == LOSS_DTYPE_F64 ? 1e-13 : 0x1p-23,
                 tiny = dt == LOSS_DTYPE_F64 ? 1e-300 : 1e-37;
    kern_args args = {pb, yb, vb, gb, scale, c->param, n, 1};
    double sum = NAN;
    long double ref = 0.0L, ref_abs = 0.0L;
    cr_assert_eq(fn(&args, &sum), 0, "%s kernel %d declined valid data (n %zu)", isa, c->id, n);
    for (size_t i = 0; i < n; i++) {
        long double pi = dt == LOSS_DTYPE_F64 ? p[i] : (long double)(float)p[i];
        long double yi = dt == LOSS_DTYPE_F64 ? y[i] : (long double)(float)y[i], l, g, ls, gs;
        oracle_vm_terms(c->id, pi, yi, c->param, &l, &g, &ls, &gs);
        ref += l;
        ref_abs += fabsl(l);
        double gv = dt == LOSS_DTYPE_F64 ? ((double *)gb)[i] : (double)((float *)gb)[i];
        double vv = dt == LOSS_DTYPE_F64 ? ((double *)vb)[i] : (double)((float *)vb)[i];
        if (dt == LOSS_DTYPE_F32) { /* 4 ulps of the double formula rounded (see f32_close) */
            cr_assert(f32_close(gv, g * scale, gs * scale, 4),
                      "%s kernel %d (%g, %g) f32: grad[%zu] of p=%.9Lg y=%.9Lg is %.9g, want %.9Lg",
                      isa, c->id, c->param[0], c->param[1], i, pi, yi, gv, g * scale);
            cr_assert(
                f32_close(vv, l, ls, 4),
                "%s kernel %d (%g, %g) f32: value[%zu] of p=%.9Lg y=%.9Lg is %.9g, want %.9Lg", isa,
                c->id, c->param[0], c->param[1], i, pi, yi, vv, l);
            continue;
        }
        cr_assert(vm_close(gv, g * scale, tol, 0, tiny),
                  "%s kernel %d (%g, %g) dtype %d: grad[%zu] of p=%.17Lg y=%.17Lg is %.17g, want "
                  "%.17Lg",
                  isa, c->id, c->param[0], c->param[1], dt, i, pi, yi, gv, g * scale);
        cr_assert(vm_close(vv, l, tol, c->value_exact, tiny),
                  "%s kernel %d (%g, %g) dtype %d: value[%zu] of p=%.17Lg y=%.17Lg is %.17g, want "
                  "%.17Lg",
                  isa, c->id, c->param[0], c->param[1], dt, i, pi, yi, vv, l);
    }
    /* float32 kernels sum their float losses in double: each loss within a few float ulps */
    const double sum_tol = dt == LOSS_DTYPE_F64 ? 1e-13 : 0x1p-21;
    cr_assert(fabsl(sum - ref) <= sum_tol * (ref_abs + 1), "%s kernel %d sum %.17g vs %.17Lg", isa,
              c->id, sum, ref);
    args.grad = args.values = NULL; /* without outputs the sum must not change */
    double sum2 = NAN;
    cr_assert_eq(fn(&args, &sum2), 0);
    cr_assert_eq(memcmp(&sum, &sum2, sizeof sum), 0, "%s kernel %d", isa, c->id);
    mem_free(pb);
    mem_free(yb);
    mem_free(gb);
    mem_free(vb);
}

Test(kern, transcendental_kernels_should_match_the_formula_at_edges_and_tails)
{
    const size_t sizes[] = {0, 1, 3, 5, 7, 9, 31, 1003};
    double p[1003], y[1003];
    const char *isas[] = {"avx2", "avx512"};
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        const kern_table *kt = kern_get();
        for (size_t c = 0; c < N_OF(VMCASES); c++) {
            const vm_kcase *kc = &VMCASES[c];
            fill_vm_inputs(kc, p, y, N_OF(p), 700 + c);
            for (size_t k = 0; k < N_OF(DTYPES); k++) {
                kern_fn fn = DTYPES[k] == LOSS_DTYPE_F64 ? kt->f64[kc->id] : kt->f32[kc->id];
                cr_assert_not_null(fn, "%s has kernel %d", isas[i], kc->id);
                for (size_t s = 0; s < N_OF(sizes); s++)
                    check_vm_kernel(fn, kc, DTYPES[k], p, y, sizes[s], isas[i]);
            }
        }
    }
    kern_init(NULL);
}

/* float32 kernels over 200003 elements per case: a third at the special points, the rest
 * random, half of them log-uniform over the float range (tiny probabilities, huge logits and
 * differences), each within 4 float ulps of the double formula (check_vm_kernel), with
 * alpha > 1 and gamma != 2 (the focal pair's double-lane path) among the cases. */
Test(kern, float32_kernels_should_stay_within_four_ulps_of_the_double_formula)
{
    static const vm_kcase extra[] = {
        {KERN_FOCAL, {3.0, 2.0}, XD_PROB, YD_PROB, 1},
        {KERN_SIGMOID_FOCAL, {1.5, 2.0}, XD_LOGIT, YD_PROB, 1},
    };
    const size_t n = 200003;
    double *p = mem_alloc(n * sizeof *p), *y = mem_alloc(n * sizeof *y);
    const char *isas[] = {"avx2", "avx512"};
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        for (size_t c = 0; c < N_OF(VMCASES) + N_OF(extra); c++) {
            const vm_kcase *kc = c < N_OF(VMCASES) ? &VMCASES[c] : &extra[c - N_OF(VMCASES)];
            unsigned long seed = 4100 + c;
            fill_vm_inputs(kc, p, y, n, seed);
            for (size_t j = 0; j < n; j += 2) { /* log-uniform magnitudes, 2^-60 .. 2^7 */
                if (j % 3 == 1)
                    continue;
                double m = ldexp(1.0 + unit_rand(&seed), (int)(unit_rand(&seed) * 67) - 60);
                p[j] = kc->dx == XD_PROB ? fmin(m, 1.0) : unit_rand(&seed) < 0.5 ? -m : m;
                if (kc->dx == XD_DIFF)
                    p[j] += y[j];
            }
            check_vm_kernel(kern_get()->f32[kc->id], kc, LOSS_DTYPE_F32, p, y, n, isas[i]);
        }
    }
    mem_free(p);
    mem_free(y);
    kern_init(NULL);
}

/* Runs kernel `id` on 40 valid elements of its kind where element `at` of p (or y) is `bad`. */
static int run_vm_with_bad(kern_fn fn, const vm_kcase *c, loss_dtype dt, int in_y, size_t at,
                           double bad)
{
    double p[40], y[40], gd[40], sum;
    float pf[40], yf[40], g[40];
    fill_vm_inputs(c, p, y, 40, 11);
    (in_y ? y : p)[at] = bad;
    for (size_t i = 0; i < 40; i++)
        pf[i] = (float)p[i], yf[i] = (float)y[i];
    int f64 = dt == LOSS_DTYPE_F64;
    kern_args a = {f64 ? (void *)p : (void *)pf,
                   f64 ? (void *)y : (void *)yf,
                   NULL,
                   f64 ? (void *)gd : (void *)g,
                   1.0,
                   c->param,
                   40,
                   1};
    return fn(&a, &sum);
}

Test(kern, transcendental_kernels_should_decline_what_only_the_reference_can_report)
{
    typedef struct {
        size_t vmcase;
        int in_y;
        double bad;
    } bad_case;
    const bad_case bads[] = {
        {0, 0, -0.1},     {0, 0, 1.5},       {0, 0, NAN},        {0, 1, INFINITY}, {0, 1, NAN},
        {1, 0, INFINITY}, {1, 0, NAN},       {1, 1, -INFINITY},  {2, 0, 1.0001},   {2, 1, -0.5},
        {2, 1, 1.5},      {5, 1, NAN},       {7, 0, -INFINITY},  {7, 1, 1.25},     {8, 1, -1e-9},
        {11, 0, NAN},     {11, 1, INFINITY}, {11, 0, -INFINITY}, {12, 1, 0.5},     {12, 1, 0.0},
        {12, 1, NAN},     {12, 0, INFINITY},
    };
    const char *isas[] = {"avx2", "avx512"};
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        const kern_table *kt = kern_get();
        for (size_t k = 0; k < N_OF(DTYPES); k++) {
            const size_t ats[] = {0, 17, 39}; /* main loop and tail */
            for (size_t b = 0; b < N_OF(bads); b++) {
                const vm_kcase *c = &VMCASES[bads[b].vmcase];
                kern_fn fn = DTYPES[k] == LOSS_DTYPE_F64 ? kt->f64[c->id] : kt->f32[c->id];
                double bad = bads[b].bad;
                for (size_t j = 0; j < N_OF(ats); j++)
                    cr_assert_eq(run_vm_with_bad(fn, c, DTYPES[k], bads[b].in_y, ats[j], bad),
                                 KERN_DECLINED, "%s kernel %d dtype %d: %s = %g at %zu", isas[i],
                                 c->id, DTYPES[k], bads[b].in_y ? "y" : "p", bad, ats[j]);
            }
        }
    }
    kern_init(NULL);
}

Test(kern, transcendental_kernels_should_decline_a_sum_that_overflows)
{
    double p[9] = {1e308, 1e308, 0, 0, 0, 0, 0, 0, 1e308}, y[9] = {0}, sum;
    const char *isas[] = {"avx2", "avx512"};
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        kern_args a = {p, y, NULL, NULL, 1.0, NULL, 9, 1}; /* log_cosh: each loss is finite */
        cr_assert_eq(kern_get()->f64[KERN_LOG_COSH](&a, &sum), KERN_DECLINED, "%s", isas[i]);
    }
    kern_init(NULL);
}

/* ---- cross-entropy rows ---- */

/* S = sum over c != t of exp(x_c - x_t) in long double: the row's loss is log1p(S), its
 * gradient exp(x_c - x_t) / (1 + S) and, at t, -S / (1 + S), all free of cancellation. */
static long double ce_s_l(const double *x, size_t classes, size_t t)
{
    long double s = 0;
    for (size_t c = 0; c < classes; c++)
        s += c == t ? 0.0L : expl((long double)x[c] - x[t]);
    return s;
}

/* Scores of `rows` rows: uniform in [-spread, spread], with rows whose first score sits far
 * below the others (the kernels' first-score shift then overflows and must fall back). */
static void fill_ce(double *x, int64_t *t, size_t rows, size_t classes, double spread,
                    unsigned long seed)
{
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < classes; c++)
            x[r * classes + c] = spread * (2 * unit_rand(&seed) - 1);
        if (r % 5 == 3 && classes > 1)
            x[r * classes] -= 800.0;
        t[r] = (int64_t)(unit_rand(&seed) * (double)classes);
    }
}

/* float32 results within 4 float ulps of the formula rounded to float; unless `strict`, also
 * within 4e-16 (|lse| + 1) (the double-lane rows compute lse - x_t, whose rounding that is). */
static void check_ce_rows(kern_fn fn, loss_dtype dt, const double *x, const int64_t *t, size_t rows,
                          size_t classes, const char *isa, int strict)
{
    size_t n = rows * classes, esz = dt == LOSS_DTYPE_F64 ? 8 : 4;
    void *xb = mem_alloc(n * esz + 1), *gb = mem_alloc(n * esz + 1),
         *vb = mem_alloc(rows * esz + 1);
    double *xr = mem_alloc(n * sizeof *xr + 1); /* the scores as the kernel sees them */
    for (size_t i = 0; i < n; i++) {
        xr[i] = dt == LOSS_DTYPE_F64 ? x[i] : (double)(float)x[i];
        if (dt == LOSS_DTYPE_F64)
            ((double *)xb)[i] = x[i];
        else
            ((float *)xb)[i] = (float)x[i];
    }
    const double scale = 0.375, rel = 1e-13; /* float64; float32 goes by ulps */
    kern_args a = {xb, t, vb, gb, scale, NULL, rows, classes};
    double sum = NAN;
    long double ref = 0;
    cr_assert_eq(fn(&a, &sum), 0, "%s ce declined %zu rows of %zu classes", isa, rows, classes);
    for (size_t r = 0; r < rows; r++) {
        const double *row = xr + r * classes;
        const size_t tr = (size_t)t[r];
        long double big_s = ce_s_l(row, classes, tr), l = log1pl(big_s), lse = row[tr] + l;
        long double loose = strict ? -1.0L : 4e-16L * (fabsl(lse) + 1);
        double lv = dt == LOSS_DTYPE_F64 ? ((double *)vb)[r] : (double)((float *)vb)[r];
        ref += l;
        if (dt == LOSS_DTYPE_F32)
            cr_assert(f32_close(lv, l, l, 4) || fabsl(lv - l) <= loose,
                      "%s f32 C %zu row %zu: loss %.9g, want %.9Lg", isa, classes, r, lv, l);
        else
            cr_assert(fabsl(lv - l) <= rel * fabsl(l) + 4e-16L * (fabsl(lse) + 1),
                      "%s dtype %d C %zu row %zu: loss %.17g, want %.17Lg", isa, dt, classes, r, lv,
                      l);
        for (size_t c = 0; c < classes; c++) {
            long double num = c == tr ? -big_s : expl((long double)row[c] - row[tr]);
            long double g = num / (1 + big_s) * scale;
            size_t i = r * classes + c;
            double gv = dt == LOSS_DTYPE_F64 ? ((double *)gb)[i] : (double)((float *)gb)[i];
            if (dt == LOSS_DTYPE_F32)
                cr_assert(f32_close(gv, g, g, 4) || fabsl(gv - g) <= (strict ? -1 : 4e-16L * scale),
                          "%s f32 C %zu grad[%zu][%zu] %.9g, want %.9Lg", isa, classes, r, c, gv,
                          g);
            else
                cr_assert(fabsl(gv - g) <= rel * fabsl(g) + 4e-16L * scale + 1e-37L,
                          "%s dtype %d C %zu grad[%zu][%zu] %.17g, want %.17Lg", isa, dt, classes,
                          r, c, gv, g);
        }
    }
    /* float32: each loss within a few float ulps (the losses are >= 0), summed in double */
    const long double sum_tol = dt == LOSS_DTYPE_F64 ? 1e-13L : 0x1p-21L;
    cr_assert(fabsl(sum - ref) <= sum_tol * (fabsl(ref) + 1), "%s ce sum %.17g vs %.17Lg", isa, sum,
              ref);
    a.grad = a.values = NULL; /* without outputs the sum must not change */
    double sum2 = NAN;
    cr_assert_eq(fn(&a, &sum2), 0);
    cr_assert_eq(memcmp(&sum, &sum2, sizeof sum), 0, "%s ce C %zu", isa, classes);
    mem_free(xb);
    mem_free(gb);
    mem_free(vb);
    mem_free(xr);
}

Test(kern, cross_entropy_rows_should_match_log_softmax_for_narrow_wide_and_huge_rows)
{
    const size_t classes[] = {1, 2, 3, 7, 8, 9, 10, 15, 16, 17, 33, 100, 1000, 5000};
    const size_t rows[] = {0, 1, 3, 5, 8, 9, 17};
    const double spreads[] = {3.0, 60.0};
    const char *isas[] = {"avx2", "avx512"};
    double *x = mem_alloc(17 * 5000 * sizeof *x);
    int64_t t[17];
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        const kern_table *kt = kern_get();
        kern_fn ce64 = kt->f64[KERN_CROSS_ENTROPY], ce32 = kt->f32[KERN_CROSS_ENTROPY];
        cr_assert(ce64 && ce32, "%s has the cross-entropy rows", isas[i]);
        for (size_t c = 0; c < N_OF(classes); c++)
            for (size_t r = 0; r < N_OF(rows); r++)
                for (size_t s = 0; s < N_OF(spreads); s++) {
                    if (classes[c] * rows[r] > 20000 && rows[r] != 17)
                        continue; /* the huge rows once, with tails */
                    fill_ce(x, t, rows[r], classes[c], spreads[s], 900 + c * 31 + r);
                    check_ce_rows(ce64, LOSS_DTYPE_F64, x, t, rows[r], classes[c], isas[i], 0);
                    check_ce_rows(ce32, LOSS_DTYPE_F32, x, t, rows[r], classes[c], isas[i], 0);
                }
    }
    mem_free(x);
    kern_init(NULL);
}

/* float32 rows of up to 16 classes go in float lanes shifted by the target's score: tiny
 * losses (the target far above the rest) and large ones (far below, S up to e^34) keep every
 * loss and gradient element within 4 float ulps, with no absolute allowance. */
Test(kern, cross_entropy_narrow_float_rows_should_stay_within_four_ulps_at_any_margin)
{
    const size_t classes[] = {1, 2, 3, 7, 10, 16};
    const double margins[] = {-30.0, -12.0, 0.0, 5.0, 20.0, 40.0};
    const char *isas[] = {"avx2", "avx512"};
    double x[37 * 16];
    int64_t t[37];
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        kern_fn ce32 = kern_get()->f32[KERN_CROSS_ENTROPY];
        for (size_t c = 0; c < N_OF(classes); c++)
            for (size_t m = 0; m < N_OF(margins); m++) {
                fill_ce(x, t, 37, classes[c], 2.0, 300 + c * 7 + m);
                for (size_t r = 0; r < 37; r++) { /* the target's score shifted by the margin */
                    x[r * classes[c] + (size_t)t[r]] += margins[m];
                    if (r % 5 == 3)
                        x[r * classes[c]] += 800.0;
                }
                check_ce_rows(ce32, LOSS_DTYPE_F32, x, t, 37, classes[c], isas[i], 1);
            }
    }
    kern_init(NULL);
}

Test(kern, cross_entropy_rows_should_decline_bad_scores_and_targets)
{
    const size_t classes[] = {3, 10, 40};
    const char *isas[] = {"avx2", "avx512"};
    double x[9 * 40], sum;
    float xf[9 * 40];
    int64_t t[9];
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        const kern_table *kt = kern_get();
        for (size_t c = 0; c < N_OF(classes); c++) {
            size_t C = classes[c], spots[] = {0, 4 * C + C / 2, 9 * C - 1};
            for (int what = 0; what < 5; what++)
                for (size_t sp = 0; sp < N_OF(spots); sp++) {
                    fill_ce(x, t, 9, C, 3.0, 77);
                    const double bads[] = {NAN, INFINITY, -INFINITY};
                    if (what < 3)
                        x[spots[sp]] = bads[what];
                    else
                        t[spots[sp] / C] = what == 3 ? -1 : (int64_t)C;
                    for (size_t k = 0; k < 9 * C; k++)
                        xf[k] = (float)x[k];
                    kern_args a = {x, t, NULL, NULL, 1.0, NULL, 9, C};
                    cr_assert_eq(kt->f64[KERN_CROSS_ENTROPY](&a, &sum), KERN_DECLINED,
                                 "%s C %zu case %d at %zu", isas[i], C, what, spots[sp]);
                    a.p = xf;
                    cr_assert_eq(kt->f32[KERN_CROSS_ENTROPY](&a, &sum), KERN_DECLINED,
                                 "%s f32 C %zu case %d", isas[i], C, what);
                }
        }
    }
    kern_init(NULL);
}

/* A chunk of rows [lo, lo + rows) of a longer batch: the float rows write whole vectors past a
 * row's end where the next rows follow (AVX2), so every chunk boundary is tried: nothing
 * outside the chunk's rows may change (another thread writes there), and each row's bytes
 * are those of the whole batch's call. */
static void check_ce_chunk(kern_fn fn, const float *x, const int64_t *t, size_t total,
                           size_t classes, size_t lo, size_t rows, const float *g_all,
                           const float *v_all, const char *isa)
{
    const float mark = -12345.0f;
    float *g = mem_alloc(total * classes * sizeof *g), *v = mem_alloc(total * sizeof *v);
    for (size_t i = 0; i < total * classes; i++)
        g[i] = mark;
    for (size_t i = 0; i < total; i++)
        v[i] = mark;
    kern_args a = {x + lo * classes, t + lo, v + lo, g + lo * classes, 0.5, NULL, rows, classes};
    double sum;
    cr_assert_eq(fn(&a, &sum), 0, "%s C %zu rows [%zu, +%zu) declined", isa, classes, lo, rows);
    for (size_t r = 0; r < total; r++) {
        int inside = r >= lo && r < lo + rows;
        cr_assert(inside ? memcmp(&v[r], &v_all[r], sizeof *v) == 0 : v[r] == mark,
                  "%s C %zu rows [%zu, +%zu): value %zu", isa, classes, lo, rows, r);
        for (size_t c = 0; c < classes; c++) {
            size_t i = r * classes + c;
            cr_assert(inside ? memcmp(&g[i], &g_all[i], sizeof *g) == 0 : g[i] == mark,
                      "%s C %zu rows [%zu, +%zu): grad %zu", isa, classes, lo, rows, i);
        }
    }
    mem_free(g);
    mem_free(v);
}

Test(kern, cross_entropy_rows_should_write_only_their_own_rows_at_any_chunk_boundary)
{
    const size_t total = 41;
    const char *isas[] = {"avx2", "avx512"};
    float x[41 * 17], g_all[41 * 17], v_all[41];
    double xd[41 * 17];
    int64_t t[41];
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        kern_fn ce32 = kern_get()->f32[KERN_CROSS_ENTROPY];
        for (size_t classes = 1; classes <= 17; classes++) {
            fill_ce(xd, t, total, classes, 4.0, 500 + classes);
            for (size_t k = 0; k < total * classes; k++)
                x[k] = (float)xd[k];
            kern_args all = {x, t, v_all, g_all, 0.5, NULL, total, classes};
            double sum;
            cr_assert_eq(ce32(&all, &sum), 0);
            for (size_t lo = 0; lo < total; lo += 3)
                for (size_t rows = 1; lo + rows <= total; rows += 1 + rows / 4)
                    check_ce_chunk(ce32, x, t, total, classes, lo, rows, g_all, v_all, isas[i]);
        }
    }
    kern_init(NULL);
}

/* ---- the fast paths through loss_compute: bytes across workers, and the reference ---- */

#include "pool.h"

typedef struct {
    const char *loss;
    size_t rows, cols; /* input 0 shape (rows, cols); cols 0: a vector of rows */
    int targets;       /* 0 probabilities in (0, 1), 1 signs, 2 class indices, 3 floats */
    const char *param; /* one scalar parameter, or NULL */
    double value;
} fast_case;

static const fast_case FAST[] = {
    {"bce", 70001, 0, 0, NULL, 0},
    {"bce_with_logits", 70001, 0, 0, NULL, 0},
    {"focal", 70001, 0, 0, NULL, 0},
    {"focal", 70001, 0, 0, "gamma", 1.5},
    {"sigmoid_focal", 70001, 0, 0, NULL, 0},
    {"sigmoid_focal", 70001, 0, 0, "gamma", 0.5},
    {"log_cosh", 70001, 0, 3, NULL, 0},
    {"soft_margin", 70001, 0, 1, NULL, 0},
    {"cross_entropy", 7001, 10, 2, NULL, 0},
    {"cross_entropy", 61, 1000, 2, NULL, 0},
    {"triplet_margin", 1001, 128, 3, "swap", 1},
};

typedef struct {
    loss_call call;
    double *in[3];
    int64_t *idx;
} fast_call;

static void fast_call_make(fast_call *fc, const fast_case *fcase)
{
    const loss_desc *d = loss_registry_find(fcase->loss, strlen(fcase->loss));
    cr_assert_not_null(d);
    loss_call_init(&fc->call, d);
    fc->call.want_gradient = 1;
    size_t n = fcase->rows * (fcase->cols ? fcase->cols : 1);
    unsigned long s = 4242;
    int n_float = !strcmp(fcase->loss, "triplet_margin") ? 3 : fcase->targets == 2 ? 1 : 2;
    memset(fc->in, 0, sizeof fc->in);
    fc->idx = NULL;
    for (int k = 0; k < 3; k++) {
        if (k >= n_float && !(k == 1 && fcase->targets == 2))
            break;
        tensor *t = &fc->call.input[k];
        memset(t, 0, sizeof *t);
        t->rank = fcase->cols ? 2 : 1;
        t->shape[0] = fcase->rows;
        t->shape[1] = fcase->cols;
        t->count = n;
        t->type = TENSOR_F64;
        if (k == 1 && fcase->targets == 2) { /* class indices (N) */
            fc->idx = mem_alloc(fcase->rows * sizeof *fc->idx);
            for (size_t i = 0; i < fcase->rows; i++)
                fc->idx[i] = (int64_t)(unit_rand(&s) * (double)fcase->cols);
            t->type = TENSOR_I64, t->rank = 1, t->count = fcase->rows, t->data = fc->idx;
        } else {
            fc->in[k] = mem_alloc(n * sizeof *fc->in[k]);
            for (size_t i = 0; i < n; i++) {
                double u = unit_rand(&s);
                fc->in[k][i] = k == 0 || fcase->targets == 3 ? 0.02 + 0.96 * u
                               : fcase->targets == 1         ? (u < 0.5 ? -1.0 : 1.0)
                                                             : u;
            }
            if (k == 0 && fcase->targets != 3 && strcmp(fcase->loss, "cross_entropy"))
                for (size_t i = 0; i < n; i += 97) /* the edges: p = 0 and 1 */
                    fc->in[k][i] = (i / 97) % 2 ? 1.0 : 0.0;
            t->data = fc->in[k];
        }
        fc->call.present[k] = 1;
    }
    if (fcase->param) {
        int i = loss_desc_param_index(d, fcase->param, strlen(fcase->param));
        fc->call.param[i] = fcase->value;
        fc->call.param_set[i] = 1;
    }
}

static void fast_call_free(fast_call *fc)
{
    for (int k = 0; k < 3; k++)
        mem_free(fc->in[k]);
    mem_free(fc->idx);
}

/* Whether two results hold the same bytes (value, `none` terms, gradients). */
static int same_bytes(const loss_result *a, const loss_result *b)
{
    if (memcmp(&a->value, &b->value, sizeof a->value) != 0)
        return 0;
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++) {
        const tensor *x = &a->grad[i], *y = &b->grad[i];
        if ((x->data == NULL) != (y->data == NULL) ||
            (x->data && memcmp(x->data, y->data, x->count * tensor_type_size(x->type)) != 0))
            return 0;
    }
    const tensor *x = &a->terms[0], *y = &b->terms[0];
    return (x->data == NULL) == (y->data == NULL) &&
           (x->data == NULL || memcmp(x->data, y->data, x->count * tensor_type_size(x->type)) == 0);
}

/* The largest difference of two results relative to the fixtures' scale (|want| + 1). */
static double max_rel_diff(const loss_result *got, const loss_result *want)
{
    double m = fabs(got->value - want->value) / (fabs(want->value) + 1);
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++) {
        const tensor *x = &got->grad[i], *y = &want->grad[i];
        for (size_t j = 0; x->data && j < x->count; j++) {
            double a =
                x->type == TENSOR_F64 ? ((double *)x->data)[j] : (double)((float *)x->data)[j];
            double b =
                y->type == TENSOR_F64 ? ((double *)y->data)[j] : (double)((float *)y->data)[j];
            m = fmax(m, fabs(a - b) / (fabs(b) + 1));
        }
    }
    return m;
}

/* fc in `dtype` under every reduction (every red_step-th): each ISA within the fixtures'
 * tolerance of the reference, and the same bytes with each of the n_pools pools as with none. */
static void check_fast_call_dtype(fast_call *fc, const char *label, loss_dtype dtype,
                                  pool *const *pools, size_t n_pools, int red_step)
{
    const char *isas[] = {"avx2", "avx512"};
    const double tol = dtype == LOSS_DTYPE_F64 ? 1e-12 : 1e-5;
    for (int red = LOSS_REDUCE_MEAN; red <= LOSS_REDUCE_NONE; red += red_step) {
        loss_result ref, one, many;
        loss_error err;
        fc->call.dtype = dtype;
        fc->call.reduction = (loss_reduction)red;
        cr_assert_eq(kern_init("ref"), 0);
        cr_assert_eq(loss_compute(&fc->call, NULL, &ref, &err), LOSS_OK, "%s", err.message);
        for (size_t i = 0; i < N_OF(isas); i++) {
            if (kern_init(isas[i]) != 0)
                continue;
            cr_assert_eq(loss_compute(&fc->call, NULL, &one, &err), LOSS_OK);
            cr_assert(max_rel_diff(&one, &ref) <= tol,
                      "%s %s dtype %d red %d: %g from the reference", label, isas[i], dtype, red,
                      max_rel_diff(&one, &ref));
            for (size_t w = 0; w < n_pools; w++) {
                cr_assert_eq(loss_compute(&fc->call, pools[w], &many, &err), LOSS_OK);
                cr_assert(same_bytes(&one, &many), "%s %s dtype %d red %d: pool %zu differs", label,
                          isas[i], dtype, red, w);
                loss_result_release(&many);
            }
            loss_result_release(&one);
        }
        loss_result_release(&ref);
    }
}

/* check_fast_call_dtype for both dtypes, with 2 and 7 workers. */
static void check_fast_call(fast_call *fc, const char *loss, pool *pools[2], int red_step)
{
    for (size_t k = 0; k < N_OF(DTYPES); k++)
        check_fast_call_dtype(fc, loss, DTYPES[k], pools, 2, red_step);
}

Test(kern, fast_paths_should_give_the_same_bytes_for_any_worker_count_and_match_the_reference)
{
    pool *pools[2] = {pool_create(2, 4), pool_create(7, 4)};
    cr_assert(pools[0] && pools[1]);
    for (size_t c = 0; c < N_OF(FAST); c++) {
        fast_call fc;
        fast_call_make(&fc, &FAST[c]);
        check_fast_call(&fc, FAST[c].loss, pools, 2);
        fast_call_free(&fc);
    }
    pool_destroy(pools[0]);
    pool_destroy(pools[1]);
    kern_init(NULL);
}

/* ---- embedding row primitives (kern_rows) ---- */

/* Whether got is within 1e-12 of want relative to the magnitude `scale` of its terms. */
static int rows_close(double got, long double want, long double scale)
{
    return fabsl((long double)got - want) <= 1e-12L * (scale + 1e-300L);
}

/* Each ISA's float32 row loops against long double sums, at widths that leave every tail. */
Test(kern, row_primitives_should_match_long_double_sums_at_every_width)
{
    enum { MAXD = 131 };
    const size_t dims[] = {1, 3, 7, 8, 9, 16, 31, 128, 131};
    const char *isas[] = {"avx2", "avx512"};
    float a[MAXD], b[MAXD], c[MAXD], ga[MAXD + 1], gb[MAXD + 1], gc[MAXD + 1];
    unsigned long seed = 77;
    for (size_t k = 0; k < MAXD; k++) {
        a[k] = (float)(unit_rand(&seed) * 4 - 2), b[k] = (float)(unit_rand(&seed) * 4 - 2);
        c[k] = (float)(unit_rand(&seed) * 4 - 2);
    }
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        const kern_rows *r = &kern_get()->rows_f32;
        cr_assert(r->dots3 && r->cos_grad && r->triplet_sq && r->triplet_grad, "%s", isas[i]);
        for (size_t t = 0; t < N_OF(dims); t++) {
            size_t D = dims[t];
            double dots[3], sq[3], cf[4] = {0.5, -0.25, 2.0, 0.125}, f[3] = {1.5, -0.75, 0.5};
            long double want[3] = {0, 0, 0}, mag[3] = {0, 0, 0}, sw[3] = {0, 0, 0};
            const double eps = 1e-6;
            r->dots3(a, b, D, dots);
            r->triplet_sq(a, b, c, D, eps, 1, sq);
            for (size_t k = 0; k < D; k++) {
                long double u = a[k], v = b[k], w = c[k];
                want[0] += u * v, want[1] += u * u, want[2] += v * v;
                mag[0] += fabsl(u * v);
                sw[0] += (u - v + eps) * (u - v + eps), sw[1] += (u - w + eps) * (u - w + eps);
                sw[2] += (v - w + eps) * (v - w + eps);
            }
            mag[1] = want[1], mag[2] = want[2];
            for (int j = 0; j < 3; j++) {
                cr_assert(rows_close(dots[j], want[j], mag[j]), "%s D %zu dots[%d]", isas[i], D, j);
                cr_assert(rows_close(sq[j], sw[j], sw[j]), "%s D %zu sq[%d]", isas[i], D, j);
            }
            r->triplet_sq(a, b, c, D, eps, 0, sq);
            cr_assert(sq[2] == 0.0 && rows_close(sq[0], sw[0], sw[0]), "%s D %zu", isas[i], D);
            ga[D] = gb[D] = gc[D] = 7.0f; /* past the row: never written */
            r->cos_grad(a, b, ga, gb, D, cf);
            for (size_t k = 0; k < D; k++) {
                cr_assert_float_eq(ga[k], (float)(cf[0] * (double)b[k] - cf[1] * (double)a[k]),
                                   1e-6);
                cr_assert_float_eq(gb[k], (float)(cf[2] * (double)a[k] - cf[3] * (double)b[k]),
                                   1e-6);
            }
            r->triplet_grad(a, b, c, ga, gb, gc, D, eps, f);
            for (size_t k = 0; k < D; k++) {
                double uap = ((double)a[k] - (double)b[k] + eps) * f[0],
                       uan = ((double)a[k] - (double)c[k] + eps) * f[1];
                double upn = ((double)b[k] - (double)c[k] + eps) * f[2];
                cr_assert_float_eq(ga[k], (float)(uap - uan), 1e-6);
                cr_assert_float_eq(gb[k], (float)(-uap - upn), 1e-6);
                cr_assert_float_eq(gc[k], (float)(uan + upn), 1e-6);
            }
            cr_assert(ga[D] == 7.0f && gb[D] == 7.0f && gc[D] == 7.0f, "%s D %zu", isas[i], D);
        }
    }
    kern_init(NULL);
}

/* ---- cross-entropy wide float32 rows ---- */

/* float32 rows of more than 16 classes go in float lanes shifted by the target's score, the
 * exps kept in the gradient between the passes: from losses near 0 (the target far above the
 * rest) to S near 2^64, and beyond (a score far above the target's, and rows whose first
 * score is 800 higher: redone alone in double lanes), every loss and gradient element is
 * within 4 float ulps of the long double formula, with no absolute allowance. */
Test(kern, cross_entropy_wide_float_rows_should_stay_within_four_ulps_at_any_margin)
{
    const size_t classes[] = {17, 33, 100, 1000, 5000};
    const double margins[] = {-60.0, -30.0, -12.0, 0.0, 5.0, 20.0, 40.0};
    const double spreads[] = {2.0, 20.0};
    const char *isas[] = {"avx2", "avx512"};
    double *x = mem_alloc(9 * 5000 * sizeof *x);
    int64_t t[9];
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        kern_fn ce32 = kern_get()->f32[KERN_CROSS_ENTROPY];
        for (size_t c = 0; c < N_OF(classes); c++)
            for (size_t m = 0; m < N_OF(margins); m++)
                for (size_t s = 0; s < N_OF(spreads); s++) {
                    const size_t C = classes[c], rows = C > 1000 ? 5 : 9;
                    fill_ce(x, t, rows, C, spreads[s], 1300 + c * 31 + m * 3 + s);
                    for (size_t r = 0; r < rows; r++) {
                        x[r * C + (size_t)t[r]] += margins[m];
                        if (r % 5 == 3)
                            x[r * C] += 800.0 + 800.0; /* fill_ce took 800 off */
                    }
                    check_ce_rows(ce32, LOSS_DTYPE_F32, x, t, rows, C, isas[i], 1);
                }
    }
    mem_free(x);
    kern_init(NULL);
}

/* Every width from 17 to 100 (each tail of both ISAs' float lanes), with groups of rows cut
 * short at the chunk's end. */
Test(kern, cross_entropy_wide_float_rows_should_stay_within_four_ulps_at_every_width)
{
    const char *isas[] = {"avx2", "avx512"};
    double x[7 * 100];
    int64_t t[7];
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        kern_fn ce32 = kern_get()->f32[KERN_CROSS_ENTROPY];
        for (size_t C = 17; C <= 100; C++)
            for (size_t rows = 5; rows <= 7; rows += 2) {
                fill_ce(x, t, rows, C, 3.0, 2000 + C * 2 + rows);
                for (size_t r = 0; r < rows; r++)
                    x[r * C + (size_t)t[r]] += r % 2 ? 8.0 : -4.0;
                check_ce_rows(ce32, LOSS_DTYPE_F32, x, t, rows, C, isas[i], 1);
            }
    }
    kern_init(NULL);
}

/* Rows of equal scores (S = C - 1 exactly, l = log(C)) at small and large magnitudes, and
 * rows whose other scores are all equal: many equal terms add without drift. */
Test(kern, cross_entropy_wide_float_rows_should_sum_many_equal_terms_exactly_enough)
{
    const size_t classes[] = {17, 33, 100, 1000, 5000};
    const double levels[] = {0.0, -3.5, 1e4, -2.5e7};
    const char *isas[] = {"avx2", "avx512"};
    double *x = mem_alloc(6 * 5000 * sizeof *x);
    int64_t t[6] = {0, 16, 5, 11, 3, 9};
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        kern_fn ce32 = kern_get()->f32[KERN_CROSS_ENTROPY];
        for (size_t c = 0; c < N_OF(classes); c++)
            for (size_t v = 0; v < N_OF(levels); v++) {
                const size_t C = classes[c];
                for (size_t k = 0; k < 6 * C; k++)
                    x[k] = levels[v];
                x[3 * C + (size_t)t[3]] += 0.75; /* the others equal, the target above */
                x[4 * C + (size_t)t[4]] -= 1.25; /* and below */
                x[5 * C + C - 1] += 30.0;        /* one score far above the rest */
                check_ce_rows(ce32, LOSS_DTYPE_F32, x, t, 6, C, isas[i], 1);
            }
    }
    mem_free(x);
    kern_init(NULL);
}

/* Rows near and past the float lanes' limit (a score 44, 46 or 100 above the target's: S
 * just below 2^64, just above, and an exp that overflows float) among ordinary rows: each
 * row's bytes are those it gets alone, whichever rows share its group, and all within 4
 * ulps. */
Test(kern, cross_entropy_wide_float_rows_should_redo_huge_sums_alone)
{
    const size_t classes[] = {17, 100, 1000};
    const double above[] = {44.0, 46.0, 100.0};
    const char *isas[] = {"avx2", "avx512"};
    static double x[9 * 1000];
    static float xf[9 * 1000], g_all[9 * 1000], g[1000];
    float v_all[9], v;
    int64_t t[9];
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        kern_fn ce32 = kern_get()->f32[KERN_CROSS_ENTROPY];
        for (size_t c = 0; c < N_OF(classes); c++) {
            const size_t C = classes[c];
            fill_ce(x, t, 9, C, 3.0, 3100 + c);
            for (size_t r = 0; r < 9; r++)
                if (r % 4 != 0) /* rows 1, 2, 3, 5, 6, 7: in every group, at every place */
                    x[r * C + ((size_t)t[r] + 1 + r) % C] = x[r * C + (size_t)t[r]] + above[r % 3];
            check_ce_rows(ce32, LOSS_DTYPE_F32, x, t, 9, C, isas[i], 1);
            for (size_t k = 0; k < 9 * C; k++)
                xf[k] = (float)x[k];
            kern_args all = {xf, t, v_all, g_all, 0.25, NULL, 9, C};
            double sum;
            cr_assert_eq(ce32(&all, &sum), 0);
            for (size_t r = 0; r < 9; r++) {
                kern_args one = {xf + r * C, t + r, &v, g, 0.25, NULL, 1, C};
                cr_assert_eq(ce32(&one, &sum), 0);
                cr_assert(memcmp(&v, &v_all[r], sizeof v) == 0 &&
                              memcmp(g, g_all + r * C, C * sizeof *g) == 0,
                          "%s C %zu row %zu differs alone", isas[i], C, r);
            }
        }
    }
    kern_init(NULL);
}

/* A score that is not finite anywhere in a wide row (its target's included) declines the
 * call, so that the reference reports it; so does a target outside [0, C). */
Test(kern, cross_entropy_wide_float_rows_should_decline_scores_that_are_not_finite)
{
    const size_t classes[] = {17, 100, 1000};
    const double bads[] = {NAN, INFINITY, -INFINITY};
    const char *isas[] = {"avx2", "avx512"};
    static double x[9 * 1000];
    static float xf[9 * 1000], gf[9 * 1000];
    int64_t t[9];
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        kern_fn ce32 = kern_get()->f32[KERN_CROSS_ENTROPY];
        for (size_t c = 0; c < N_OF(classes); c++) {
            const size_t C = classes[c], rows[] = {0, 5, 8};
            for (size_t r = 0; r < N_OF(rows); r++)
                for (size_t b = 0; b < N_OF(bads) + 2; b++) {
                    fill_ce(x, t, 9, C, 3.0, 4100 + c);
                    for (size_t k = 0; k < 9 * C; k++)
                        xf[k] = (float)x[k];
                    const size_t row = rows[r] * C, at[] = {0, C / 2, C - 1};
                    kern_args a = {xf, t, NULL, gf, 1.0, NULL, 9, C};
                    double sum;
                    if (b >= N_OF(bads)) { /* the target out of range */
                        t[rows[r]] = b == N_OF(bads) ? -1 : (int64_t)C;
                        cr_assert_eq(ce32(&a, &sum), KERN_DECLINED, "%s C %zu", isas[i], C);
                        continue;
                    }
                    for (size_t k = 0; k <= N_OF(at); k++) { /* k = N_OF(at): the target */
                        size_t pos = row + (k < N_OF(at) ? at[k] : (size_t)t[rows[r]]);
                        float keep = xf[pos];
                        xf[pos] = (float)bads[b];
                        cr_assert_eq(ce32(&a, &sum), KERN_DECLINED, "%s C %zu: %g at %zu", isas[i],
                                     C, bads[b], pos);
                        xf[pos] = keep;
                    }
                }
        }
    }
    kern_init(NULL);
}

/* Wide float rows through loss_compute: the same bytes with 1, 2, 3 or 4 workers as without
 * a pool, for every reduction, and within the fixtures' tolerance of the reference. */
Test(kern, cross_entropy_wide_float_rows_should_give_the_same_bytes_for_any_worker_count)
{
    const fast_case fcase = {"cross_entropy", 3001, 37, 2, NULL, 0};
    pool *pools[4];
    for (size_t w = 0; w < 4; w++) {
        pools[w] = pool_create(w + 1, 4);
        cr_assert_not_null(pools[w]);
    }
    fast_call fc;
    fast_call_make(&fc, &fcase);
    check_fast_call_dtype(&fc, "cross_entropy C 37", LOSS_DTYPE_F32, pools, 4, 1);
    fast_call_free(&fc);
    for (size_t w = 0; w < 4; w++)
        pool_destroy(pools[w]);
    kern_init(NULL);
}

/* ---- embedding row primitives: every tail, zero rows, cancellation, workers ---- */

/* The distance in float ulps between two finite floats (0 when equal, -0 == +0). */
static long rows_ulps(float x, float y)
{
    int32_t a, b;
    memcpy(&a, &x, sizeof a);
    memcpy(&b, &y, sizeof b);
    int64_t ia = a < 0 ? (int64_t)INT32_MIN - a : a, ib = b < 0 ? (int64_t)INT32_MIN - b : b;
    return (long)(ia > ib ? ia - ib : ib - ia);
}

typedef enum { ROWS_RANDOM, ROWS_ZERO, ROWS_NEAR } rows_fill;

/* a, b, c of D floats: random in [-2, 2); all zero; or b and c within a few ulps of a (the
 * differences cancel all but their last bits). */
static void rows_make(float *a, float *b, float *c, size_t D, rows_fill how, unsigned long seed)
{
    for (size_t k = 0; k < D; k++) {
        a[k] = how == ROWS_ZERO ? 0.0f : (float)(unit_rand(&seed) * 4 - 2);
        b[k] = c[k] = a[k];
        for (int s = (int)(unit_rand(&seed) * 4); how == ROWS_NEAR && s > 0; s--)
            b[k] = nextafterf(b[k], 3.0f);
        if (how == ROWS_NEAR)
            c[k] = nextafterf(a[k], -3.0f);
        else if (how == ROWS_RANDOM)
            b[k] = (float)(unit_rand(&seed) * 4 - 2), c[k] = (float)(unit_rand(&seed) * 4 - 2);
    }
}

/* Each ISA's row loops at every width up to two AVX-512 float registers and one (every tail
 * length of 4, 8 and 16 lanes), against a double reference: each gradient element within 4
 * float ulps of the double formula rounded once (in practice the same bytes), each sum within
 * 1e-12 of a long double one; nothing past a row, nor into an output not asked for, is
 * written; zero rows sum to exactly 0 (cosine's eps is the caller's), and a triplet of equal
 * rows sums eps^2 per element. */
Test(kern, row_primitives_should_match_a_double_reference_at_every_tail_length)
{
    enum { MAXD = 33, GUARD = 3 };
    const char *isas[] = {"avx2", "avx512"};
    const double eps = 1e-6, cf[4] = {0.5, -0.25, 2.0, 0.125};
    const float mark = 7.0f;
    float a[MAXD], b[MAXD], c[MAXD], g[3][MAXD + GUARD];
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        const kern_rows *r = &kern_get()->rows_f32;
        for (int how = ROWS_RANDOM; how <= ROWS_NEAR; how++)
            for (size_t D = 0; D <= MAXD; D++) {
                rows_make(a, b, c, D, (rows_fill)how, 1000 + D);
                double dots[3], sq[3], sq0[3];
                long double want[3] = {0, 0, 0}, mag[3] = {0, 0, 0}, sw[3] = {0, 0, 0};
                r->dots3(a, b, D, dots);
                r->triplet_sq(a, b, c, D, eps, 1, sq);
                r->triplet_sq(a, b, c, D, eps, 0, sq0);
                for (size_t k = 0; k < D; k++) {
                    long double u = a[k], v = b[k], w = c[k];
                    want[0] += u * v, want[1] += u * u, want[2] += v * v;
                    mag[0] += fabsl(u * v);
                    sw[0] += (u - v + eps) * (u - v + eps), sw[1] += (u - w + eps) * (u - w + eps);
                    sw[2] += (v - w + eps) * (v - w + eps);
                }
                mag[1] = want[1], mag[2] = want[2];
                for (int j = 0; j < 3; j++) {
                    cr_assert(rows_close(dots[j], want[j], mag[j]), "%s D %zu fill %d dots[%d]",
                              isas[i], D, how, j);
                    cr_assert(rows_close(sq[j], sw[j], sw[j]), "%s D %zu fill %d sq[%d]", isas[i],
                              D, how, j);
                }
                cr_assert(rows_close(sq0[0], sw[0], sw[0]) && rows_close(sq0[1], sw[1], sw[1]) &&
                              sq0[2] == 0.0,
                          "%s D %zu fill %d: without swap", isas[i], D, how);
                if (how == ROWS_ZERO)
                    cr_assert(dots[0] == 0.0 && dots[1] == 0.0 && dots[2] == 0.0 &&
                                  rows_close(sq[0], (long double)D * eps * eps,
                                             (long double)D * eps * eps),
                              "%s D %zu: zero rows", isas[i], D);
                for (int want_ab = 0; want_ab < 4; want_ab++) {
                    for (size_t k = 0; k < MAXD + GUARD; k++)
                        g[0][k] = g[1][k] = mark;
                    r->cos_grad(a, b, want_ab & 1 ? g[0] : NULL, want_ab & 2 ? g[1] : NULL, D, cf);
                    for (size_t k = 0; k < MAXD + GUARD; k++) {
                        float wa =
                            (float)(cf[0] * (double)b[k % MAXD] - cf[1] * (double)a[k % MAXD]);
                        float wb =
                            (float)(cf[2] * (double)a[k % MAXD] - cf[3] * (double)b[k % MAXD]);
                        wa = want_ab & 1 && k < D ? wa : mark,
                        wb = want_ab & 2 && k < D ? wb : mark;
                        cr_assert(rows_ulps(g[0][k], wa) <= 4 && rows_ulps(g[1][k], wb) <= 4,
                                  "%s D %zu fill %d outputs %d: cos_grad at %zu", isas[i], D, how,
                                  want_ab, k);
                    }
                }
                for (int pn = 0; pn < 2; pn++) {
                    const double f[3] = {1.5, -0.75, pn ? 0.5 : 0.0};
                    for (size_t k = 0; k < MAXD + GUARD; k++)
                        g[0][k] = g[1][k] = g[2][k] = mark;
                    r->triplet_grad(a, b, c, g[0], g[1], g[2], D, eps, f);
                    for (size_t k = 0; k < MAXD + GUARD; k++) {
                        float w3[3] = {mark, mark, mark};
                        if (k < D) {
                            double uap = ((double)a[k] - (double)b[k] + eps) * f[0];
                            double uan = ((double)a[k] - (double)c[k] + eps) * f[1];
                            double upn = pn ? ((double)b[k] - (double)c[k] + eps) * f[2] : 0.0;
                            w3[0] = (float)(uap - uan), w3[1] = (float)(-uap - upn);
                            w3[2] = (float)(uan + upn);
                        }
                        for (int j = 0; j < 3; j++)
                            cr_assert(
                                rows_ulps(g[j][k], w3[j]) <= 4,
                                "%s D %zu fill %d pn %d: triplet_grad[%d] at %zu: %a, want %a",
                                isas[i], D, how, pn, j, k, (double)g[j][k], (double)w3[j]);
                    }
                }
            }
    }
    kern_init(NULL);
}

/* A float32 call of `loss` over inputs (rows, D): triplet_margin's anchor, positive and
 * negative, or cosine_embedding's x1, x2 and targets of alternating sign. Row 0 is all zeros
 * and row 1's second and third inputs are within an ulp or two of its first (cancellation);
 * the rest random. The caller frees bufs[0..2] with mem_free. */
static void rows_call_make(loss_call *call, const char *loss, size_t rows, size_t D, int swap,
                           float *bufs[3])
{
    const loss_desc *d = loss_registry_find(loss, strlen(loss));
    cr_assert_not_null(d);
    loss_call_init(call, d);
    call->dtype = LOSS_DTYPE_F32;
    call->want_gradient = 1;
    int triplet = !strcmp(loss, "triplet_margin");
    for (int k = 0; k < 3; k++)
        bufs[k] = mem_alloc((k == 2 && !triplet ? rows : rows * D) * sizeof(float));
    float *spare = triplet ? NULL : mem_alloc(D * sizeof(float)); /* cosine has no third row */
    for (size_t i = 0; i < rows; i++) {
        rows_make(bufs[0] + i * D, bufs[1] + i * D, triplet ? bufs[2] + i * D : spare, D,
                  i == 0   ? ROWS_ZERO
                  : i == 1 ? ROWS_NEAR
                           : ROWS_RANDOM,
                  99 + i);
        if (!triplet)
            bufs[2][i] = i % 2 ? -1.0f : 1.0f;
    }
    mem_free(spare);
    for (int k = 0; k < 3; k++) {
        tensor *t = &call->input[k];
        memset(t, 0, sizeof *t);
        t->type = TENSOR_F32;
        t->data = bufs[k];
        t->rank = k == 2 && !triplet ? 1 : 2;
        t->shape[0] = rows, t->shape[1] = D;
        t->count = t->rank == 1 ? rows : rows * D;
        call->present[k] = 1;
    }
    if (triplet && swap) {
        int p = loss_desc_param_index(d, "swap", 4);
        call->param[p] = 1.0, call->param_set[p] = 1;
    }
}

/* triplet_margin and cosine_embedding at widths that leave tails, with a zero row and a
 * cancelling one: the same bytes for 1, 2 and 7 workers on each ISA, and the reference's
 * results within the fixtures' float32 tolerance. */
Test(kern, embedding_rows_should_give_the_same_bytes_for_any_worker_count_at_tail_widths)
{
    const char *isas[] = {"avx2", "avx512"};
    const char *losses[] = {"triplet_margin", "triplet_margin", "cosine_embedding"};
    const size_t dims[] = {1, 5, 17, 33, 37};
    pool *pools[2] = {pool_create(2, 4), pool_create(7, 4)};
    cr_assert(pools[0] && pools[1]);
    for (size_t l = 0; l < N_OF(losses); l++)
        for (size_t t = 0; t < N_OF(dims); t++) {
            loss_call call;
            float *bufs[3];
            loss_result ref, one, many;
            loss_error err;
            rows_call_make(&call, losses[l], 3001, dims[t], l == 1, bufs);
            cr_assert_eq(kern_init("ref"), 0);
            cr_assert_eq(loss_compute(&call, NULL, &ref, &err), LOSS_OK, "%s", err.message);
            for (size_t i = 0; i < N_OF(isas); i++) {
                if (kern_init(isas[i]) != 0)
                    continue;
                cr_assert_eq(loss_compute(&call, NULL, &one, &err), LOSS_OK, "%s", err.message);
                cr_assert(max_rel_diff(&one, &ref) <= 1e-5, "%s D %zu %s: %g from the reference",
                          losses[l], dims[t], isas[i], max_rel_diff(&one, &ref));
                for (size_t w = 0; w < 2; w++) {
                    cr_assert_eq(loss_compute(&call, pools[w], &many, &err), LOSS_OK);
                    cr_assert(same_bytes(&one, &many), "%s D %zu %s: workers differ", losses[l],
                              dims[t], isas[i]);
                    loss_result_release(&many);
                }
                loss_result_release(&one);
            }
            loss_result_release(&ref);
            for (int k = 0; k < 3; k++)
                mem_free(bufs[k]);
        }
    pool_destroy(pools[0]);
    pool_destroy(pools[1]);
    kern_init(NULL);
}

/* ---- the focal pair with targets exactly 0 or 1 (their float32 fast path) ---- */

/* Inputs of a focal-pair case with hard targets: fill_vm_inputs' predictions and edges, half
 * of the rest log-uniform (and for probabilities also 1 - that), targets 0 or 1 (`mixed`: one
 * soft target every 80 elements, subnormal or next to 1 among them, which sends the call to
 * the general path), p = y (p_t = 1)
 * every 7th, and the float edges: subnormals, 1 - 2^-24, logits +-100. */
static void fill_hard_inputs(const vm_kcase *c, double *p, double *y, size_t n, int mixed,
                             unsigned long seed)
{
    static const double prob_edges[] = {0x1p-149, 1e-40,    0x1p-126,    0x1p-24, 1 - 0x1p-24,
                                        0.5,      1 - 1e-7, 1 - 0x1p-25, 1e-12,   1e-6};
    static const double logit_edges[] = {100.0,  -100.0, 87.3,  -87.3, 89.0,  -89.0,    104.0,
                                         -104.0, 15.9,   -15.9, 1e-7,  -1e-7, 0x1p-149, 0.0};
    static const double soft[] = {0.37, 0x1p-149, 1 - 0x1p-24, 0x1p-126, 0.5};
    fill_vm_inputs(c, p, y, n, seed);
    for (size_t i = 0; i < n; i++) {
        y[i] = mixed && i % 80 == 37    ? soft[(i / 80) % N_OF(soft)]
               : unit_rand(&seed) < 0.5 ? 0.0
                                        : 1.0;
        if (i % 3 != 1 && i % 2 == 0) {
            double m = ldexp(1.0 + unit_rand(&seed), (int)(unit_rand(&seed) * 67) - 60);
            p[i] = c->dx == XD_PROB ? (unit_rand(&seed) < 0.5 ? fmin(m, 1.0) : fmax(1 - m, 0.0))
                   : unit_rand(&seed) < 0.5 ? -m
                                            : m;
        }
        if (i % 5 == 4) {
            p[i] = c->dx == XD_PROB ? prob_edges[(i / 5) % N_OF(prob_edges)]
                                    : logit_edges[(i / 5) % N_OF(logit_edges)];
        }
        if (c->dx == XD_PROB && i % 7 == 2)
            p[i] = y[i];
    }
}

/* Each float32 element within 4 ulps of the formula, at every tail length, for the alpha
 * forms (alpha, alpha < 0: none, alpha > 1) with gamma = 2, where the fast path applies. */
Test(kern, focal_pair_float32_hard_targets_should_stay_within_four_ulps_of_the_formula)
{
    static const vm_kcase cases[] = {
        {KERN_FOCAL, {0.25, 2.0}, XD_PROB, YD_PROB, 1},
        {KERN_FOCAL, {-1.0, 2.0}, XD_PROB, YD_PROB, 1},
        {KERN_FOCAL, {3.0, 2.0}, XD_PROB, YD_PROB, 1},
        {KERN_FOCAL, {0.6, 2.0}, XD_PROB, YD_PROB, 1},
        {KERN_SIGMOID_FOCAL, {0.25, 2.0}, XD_LOGIT, YD_PROB, 1},
        {KERN_SIGMOID_FOCAL, {-1.0, 2.0}, XD_LOGIT, YD_PROB, 1},
        {KERN_SIGMOID_FOCAL, {1.5, 2.0}, XD_LOGIT, YD_PROB, 1},
        {KERN_SIGMOID_FOCAL, {0.9, 2.0}, XD_LOGIT, YD_PROB, 1},
    };
    const size_t sizes[] = {1, 3, 7, 9, 17, 31, 1003, 200003};
    const size_t n = 200003;
    double *p = mem_alloc(n * sizeof *p), *y = mem_alloc(n * sizeof *y);
    const char *isas[] = {"avx2", "avx512"};
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        for (size_t c = 0; c < 2 * N_OF(cases); c++) {
            const vm_kcase *kc = &cases[c / 2];
            fill_hard_inputs(kc, p, y, n, (int)(c % 2), 5300 + c);
            for (size_t s = 0; s < N_OF(sizes); s++)
                check_vm_kernel(kern_get()->f32[kc->id], kc, LOSS_DTYPE_F32, p, y, sizes[s],
                                isas[i]);
        }
    }
    mem_free(p);
    mem_free(y);
    kern_init(NULL);
}

/* Hard targets through loss_compute, with soft ones in the second chunk only (the fast path
 * is chosen per chunk): the same bytes for any worker count, and the reference's values
 * within the fixtures' tolerance. */
Test(kern, focal_pair_hard_targets_should_give_the_same_bytes_for_any_worker_count)
{
    static const fast_case cases[] = {
        {"focal", 70001, 0, 0, NULL, 0},
        {"focal", 70001, 0, 0, "alpha", -1},
        {"sigmoid_focal", 70001, 0, 0, NULL, 0},
        {"sigmoid_focal", 70001, 0, 0, "alpha", 0.75},
    };
    pool *pools[2] = {pool_create(2, 4), pool_create(7, 4)};
    cr_assert(pools[0] && pools[1]);
    for (size_t c = 0; c < N_OF(cases); c++) {
        fast_call fc;
        fast_call_make(&fc, &cases[c]);
        for (size_t i = 0; i < cases[c].rows; i++)
            fc.in[1][i] = i > 20000 && i < 30000 && i % 300 == 151 ? 0.3
                          : fc.in[1][i] < 0.5                      ? 0.0
                                                                   : 1.0;
        check_fast_call(&fc, cases[c].loss, pools, 1);
        fast_call_free(&fc);
    }
    pool_destroy(pools[0]);
    pool_destroy(pools[1]);
    kern_init(NULL);
}

/* ---- float32 bce_with_logits and soft_margin (kern_steps.h, bce_with_logits_f) ---- */

/* Logits at the float32 steps' edges: +-0, subnormal, the log1p split (|x| = 0.8814, where
 * exp(-|x|) = sqrt(2) - 1), a sigmoid that rounds to 1, subnormal exp(-|x|) (|x| > 87.3), exp
 * underflow (|x| > 103.9) and the clamp at 110, up to FLT_MAX. */
static const double LOGIT_F32_EDGES[] = {
    0.0,    -0.0,    1e-40,  -1e-40,  0x1p-126, -0x1p-126, 1e-7,  -1e-7,  0.5,    -0.5,
    0.8813, -0.8813, 0.8814, -0.8814, 1.0,      -1.0,      17.0,  -17.0,  29.0,   -29.0,
    87.3,   -87.3,   88.0,   -88.0,   88.8,     -88.8,     100.0, -100.0, 103.0,  -103.0,
    104.0,  -104.0,  110.5,  -110.5,  200.0,    -200.0,    1e30,  -1e30,  3.4e38, -3.4e38};

/* Runs float32 kernel `id` over n (x, y) pairs at every tail length from n - 17 to n, each
 * element within 4 float ulps of the long double formula, of its largest term where terms of
 * opposite signs cancel (y outside [0, 1]), with no absolute allowance. */
static void check_logit_f32(kern_id id, const double *x, const double *y, size_t n)
{
    float *xf = mem_alloc(n * sizeof *xf), *yf = mem_alloc(n * sizeof *yf);
    float *g = mem_alloc(n * sizeof *g), *v = mem_alloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        xf[i] = (float)x[i], yf[i] = (float)y[i];
    const double scale = 1.0 / 3.0;
    for (size_t m = n > 17 ? n - 17 : 0; m <= n; m++) {
        kern_args a = {xf, yf, v, g, scale, NULL, m, 1};
        double sum = NAN;
        cr_assert_eq(kern_get()->f32[id](&a, &sum), 0, "kernel %d declined n %zu", id, m);
        for (size_t i = 0; i < m; i++) {
            long double p = xf[i], t = yf[i], l, gr, ls, gs;
            if (id == KERN_BCE_WITH_LOGITS) {
                long double l1 = (1 - t) * sp_l(p), l2 = t * sp_l(-p);
                long double g1 = (1 - t) * sig_l(p), g2 = t * sig_l(-p);
                l = l1 + l2, gr = g1 - g2;
                ls = fmaxl(fabsl(l1), fabsl(l2)), gs = fmaxl(fabsl(g1), fabsl(g2));
            } else {
                static const double no_params[4] = {0}; /* soft_margin has none */
                oracle_vm_terms(id, p, t, no_params, &l, &gr, &ls, &gs);
            }
            double vi = v[i], gi = g[i];
            cr_assert(f32_close(vi, l, ls, 4),
                      "kernel %d value of x=%.9Lg y=%.9Lg is %.9g, want %.9Lg", id, p, t, vi, l);
            cr_assert(f32_close(gi, gr * scale, gs * scale, 4),
                      "kernel %d grad of x=%.9Lg y=%.9Lg is %.9g, want %.9Lg", id, p, t, gi,
                      gr * scale);
        }
    }
    mem_free(xf);
    mem_free(yf);
    mem_free(g);
    mem_free(v);
}

/* Every edge logit against targets 0 and 1, soft ones (one ulp from 0 and 1 among them) and,
 * for bce_with_logits, targets outside [0, 1] (logits up to 1e30 there, so that no loss
 * overflows); soft_margin against -1 and 1. */
Test(kern, float32_logistic_kernels_should_stay_within_four_ulps_at_their_edges)
{
    static const double soft[] = {0.0,  1.0,  0.5,  0.3, 0.7, 0x1p-24,     1 - 0x1p-24, 1e-30, 0.25,
                                  0.99, -1.0, -3.5, 2.0, 1.5, 1 + 0x1p-23, 1e3,         -1e3};
    static const double sign[] = {-1.0, 1.0};
    const size_t ne = N_OF(LOGIT_F32_EDGES), cap = ne * N_OF(soft);
    double *x = mem_alloc(cap * sizeof *x), *y = mem_alloc(cap * sizeof *y);
    const char *isas[] = {"avx2", "avx512"};
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        size_t n = 0;
        for (size_t t = 0; t < N_OF(soft); t++)
            for (size_t e = 0; e < ne; e++) {
                double xe = LOGIT_F32_EDGES[e];
                if ((soft[t] < 0 || soft[t] > 1) && fabs(xe) > 1e30)
                    continue;
                x[n] = xe, y[n++] = soft[t];
            }
        check_logit_f32(KERN_BCE_WITH_LOGITS, x, y, n);
        n = 0;
        for (size_t t = 0; t < N_OF(sign); t++)
            for (size_t e = 0; e < ne; e++)
                x[n] = LOGIT_F32_EDGES[e], y[n++] = sign[t];
        check_logit_f32(KERN_SOFT_MARGIN, x, y, n);
    }
    mem_free(x);
    mem_free(y);
    kern_init(NULL);
}

/* The float32 steps without a lane mask for logits: any non-finite logit or target still
 * declines, inf * 0 and a finite softplus(-inf) = 0 (soft_margin's z = -y x) included. */
Test(kern, float32_logistic_kernels_should_decline_logits_and_targets_that_are_not_finite)
{
    typedef struct {
        kern_id id;
        double x, y;
    } bad_pair;
    const bad_pair bads[] = {
        {KERN_BCE_WITH_LOGITS, INFINITY, 1.0},
        {KERN_BCE_WITH_LOGITS, -INFINITY, 0.0},
        {KERN_BCE_WITH_LOGITS, INFINITY, 0.0},
        {KERN_BCE_WITH_LOGITS, -INFINITY, 1.0},
        {KERN_BCE_WITH_LOGITS, INFINITY, 0.5},
        {KERN_BCE_WITH_LOGITS, -INFINITY, -2.0},
        {KERN_BCE_WITH_LOGITS, NAN, 0.0},
        {KERN_BCE_WITH_LOGITS, 0.0, INFINITY},
        {KERN_BCE_WITH_LOGITS, -0.0, -INFINITY},
        {KERN_BCE_WITH_LOGITS, 200.0, INFINITY},
        {KERN_BCE_WITH_LOGITS, -200.0, -INFINITY},
        {KERN_BCE_WITH_LOGITS, 1.0, NAN},
        {KERN_SOFT_MARGIN, INFINITY, 1.0},
        {KERN_SOFT_MARGIN, INFINITY, -1.0},
        {KERN_SOFT_MARGIN, -INFINITY, 1.0},
        {KERN_SOFT_MARGIN, -INFINITY, -1.0},
        {KERN_SOFT_MARGIN, NAN, 1.0},
        {KERN_SOFT_MARGIN, NAN, -1.0},
        {KERN_SOFT_MARGIN, 1.0, 1 + 0x1p-23},
        {KERN_SOFT_MARGIN, 1.0, -(1 - 0x1p-24)},
        {KERN_SOFT_MARGIN, 1.0, 0.0},
        {KERN_SOFT_MARGIN, 1.0, INFINITY},
    };
    const char *isas[] = {"avx2", "avx512"};
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        const size_t ats[] = {0, 17, 39}; /* main loop and tail */
        for (size_t b = 0; b < N_OF(bads); b++)
            for (size_t j = 0; j < N_OF(ats); j++) {
                float x[40], y[40], g[40];
                double sum;
                for (size_t k = 0; k < 40; k++)
                    x[k] = (float)(0.37 * (double)k - 7), y[k] = k % 2 ? 1.0f : -1.0f;
                if (bads[b].id == KERN_BCE_WITH_LOGITS)
                    for (size_t k = 0; k < 40; k++)
                        y[k] = (float)(k % 5) / 4;
                x[ats[j]] = (float)bads[b].x, y[ats[j]] = (float)bads[b].y;
                kern_args a = {x, y, NULL, g, 1.0, NULL, 40, 1};
                cr_assert_eq(kern_get()->f32[bads[b].id](&a, &sum), KERN_DECLINED,
                             "%s kernel %d x=%g y=%g at %zu", isas[i], bads[b].id, bads[b].x,
                             bads[b].y, ats[j]);
            }
    }
    kern_init(NULL);
}

/* float32 bce takes p and y in [0, 1] only: one ulp or the least subnormal outside either end
 * declines, and -0 and the ends themselves do not. */
Test(kern, float32_bce_should_decline_one_ulp_outside_zero_one_and_take_its_ends)
{
    const float outside[] = {1 + 0x1p-23f, -0x1p-149f, -INFINITY, INFINITY, NAN};
    const float inside[] = {-0.0f, 0.0f, 1.0f, 0x1p-149f, 1 - 0x1p-24f};
    const char *isas[] = {"avx2", "avx512"};
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        const size_t ats[] = {0, 17, 39}; /* main loop and tail */
        for (size_t j = 0; j < N_OF(ats); j++)
            for (int in_y = 0; in_y < 2; in_y++)
                for (size_t b = 0; b < N_OF(outside) + N_OF(inside); b++) {
                    float p[40], y[40], g[40];
                    double sum;
                    for (size_t k = 0; k < 40; k++)
                        p[k] = (float)(k + 1) / 42, y[k] = (float)(k % 5) / 4;
                    int bad = b < N_OF(outside);
                    float v = bad ? outside[b] : inside[b - N_OF(outside)];
                    (in_y ? y : p)[ats[j]] = v;
                    kern_args a = {p, y, NULL, g, 1.0, NULL, 40, 1};
                    cr_assert_eq(kern_get()->f32[KERN_BCE](&a, &sum), bad ? KERN_DECLINED : 0,
                                 "%s bce %s = %g at %zu", isas[i], in_y ? "y" : "p", (double)v,
                                 ats[j]);
                }
    }
    kern_init(NULL);
}

/* ---- narrow float32 cross-entropy rows: every width, tail and kind of row ---- */

typedef enum {
    CEN_RANDOM,    /* fill_ce's rows, some with a score 800 below the rest */
    CEN_EQUAL,     /* every score the same: S = C - 1 exactly */
    CEN_HUGE,      /* spread 60: S up to e^120, the rows past CEF_S_MAX redone in double */
    CEN_TINY,      /* spread 1e-4: every e_c near 1 */
    CEN_ABOVE,     /* the target 30 above the rest: a tiny loss, relative accuracy */
    CEN_FAR_ABOVE, /* 95 above: each e_c a subnormal float */
    CEN_BELOW,     /* 40 below: S near e^40, still in float lanes */
    CEN_FAR_BELOW, /* 50 below: S past 2^64, redone in double */
    CEN_KINDS
} cen_kind;

static void fill_cen(double *x, int64_t *t, size_t rows, size_t classes, cen_kind kind,
                     unsigned long seed)
{
    static const double spread[CEN_KINDS] = {2.0, 0.0, 60.0, 1e-4, 2.0, 2.0, 2.0, 2.0};
    static const double margin[CEN_KINDS] = {0, 0, 0, 0, 30.0, 95.0, -40.0, -50.0};
    fill_ce(x, t, rows, classes, spread[kind], seed);
    for (size_t r = 0; r < rows; r++) {
        double *row = x + r * classes;
        if (kind == CEN_EQUAL)
            for (size_t c = 0; c < classes; c++)
                row[c] = 1.25;
        else if (kind != CEN_RANDOM && r % 5 == 3 && classes > 1)
            row[0] += 800.0; /* fill_ce's far row back */
        row[t[r]] += margin[kind];
    }
}

/* Every class count the float lanes take (1-16), every tail length of a block of 16 (and so
 * of 8) rows, and every kind of row above: each loss and gradient element within 4 float ulps
 * of the long double formula rounded to float, with no absolute allowance. */
Test(kern, cross_entropy_narrow_float_rows_should_stay_within_four_ulps_at_every_width_and_tail)
{
    const size_t rows[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 33};
    const char *isas[] = {"avx2", "avx512"};
    double x[33 * 16];
    int64_t t[33];
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        kern_fn ce32 = kern_get()->f32[KERN_CROSS_ENTROPY];
        for (size_t classes = 1; classes <= 16; classes++)
            for (size_t r = 0; r < N_OF(rows); r++)
                for (int k = 0; k < CEN_KINDS; k++) {
                    fill_cen(x, t, rows[r], classes, (cen_kind)k,
                             7000 + classes * 97 + r * 5 + (size_t)k);
                    check_ce_rows(ce32, LOSS_DTYPE_F32, x, t, rows[r], classes, isas[i], 1);
                }
    }
    kern_init(NULL);
}

/* A NaN or infinite score (at the row's first class, its target, its last) or a target
 * outside [0, C) in any row of a 19-row call: every class count 1-16 declines, in both
 * dtypes, so that the reference reports it. */
Test(kern, cross_entropy_narrow_rows_should_decline_bad_scores_and_targets_in_any_row)
{
    const char *isas[] = {"avx2", "avx512"};
    const double bads[] = {NAN, INFINITY, -INFINITY};
    double x[19 * 16], sum;
    float xf[19 * 16];
    int64_t t[19];
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        const kern_table *kt = kern_get();
        for (size_t C = 1; C <= 16; C++)
            for (size_t r = 0; r < 19; r++)
                for (size_t what = 0; what < 3 * N_OF(bads) + 2; what++) {
                    fill_ce(x, t, 19, C, 3.0, 31 + C);
                    const size_t spot[] = {0, (size_t)t[r], C - 1};
                    if (what < 3 * N_OF(bads))
                        x[r * C + spot[what % 3]] = bads[what / 3];
                    else
                        t[r] = what == 3 * N_OF(bads) ? -1 : (int64_t)C;
                    for (size_t k = 0; k < 19 * C; k++)
                        xf[k] = (float)x[k];
                    kern_args a = {x, t, NULL, NULL, 1.0, NULL, 19, C};
                    cr_assert_eq(kt->f64[KERN_CROSS_ENTROPY](&a, &sum), KERN_DECLINED,
                                 "%s f64 C %zu row %zu case %zu", isas[i], C, r, what);
                    a.p = xf;
                    cr_assert_eq(kt->f32[KERN_CROSS_ENTROPY](&a, &sum), KERN_DECLINED,
                                 "%s f32 C %zu row %zu case %zu", isas[i], C, r, what);
                }
    }
    kern_init(NULL);
}

/* Through loss_compute, float32, every class count 1-16 on 7001 rows (not a multiple of 8 or
 * 16) with some rows redone in double: the same bytes under every reduction for 1 to 4 and
 * 7 workers, within the fixtures' tolerance of the reference; and a call with a bad target
 * and, after it, a NaN score gets the reference's error on every ISA. */
Test(kern, cross_entropy_narrow_float_rows_should_give_the_same_bytes_for_any_worker_count)
{
    const size_t workers[] = {1, 2, 3, 4, 7};
    const char *isas[] = {"avx2", "avx512"};
    pool *pools[N_OF(workers)];
    for (size_t w = 0; w < N_OF(workers); w++) {
        pools[w] = pool_create(workers[w], 4);
        cr_assert_not_null(pools[w]);
    }
    for (size_t C = 1; C <= 16; C++) {
        const fast_case fcase = {"cross_entropy", 7001, C, 2, NULL, 0};
        fast_call fc;
        fast_call_make(&fc, &fcase);
        for (size_t r = 0; r < fcase.rows; r += 613) /* S past 2^64: the double lanes' rows */
            fc.in[0][r * C + (size_t)(fc.idx[r] + 1) % C] += C > 1 ? 60.0 : 0.0;
        char label[32];
        snprintf(label, sizeof label, "cross_entropy C %zu", C);
        check_fast_call_dtype(&fc, label, LOSS_DTYPE_F32, pools, N_OF(workers), 1);
        /* errors: a bad target at row 4000, a NaN score at row 5000 */
        fc.idx[4000] = (int64_t)C;
        fc.in[0][5000 * C] = NAN;
        loss_result res;
        loss_error want, got;
        cr_assert_eq(kern_init("ref"), 0);
        loss_status st = loss_compute(&fc.call, pools[1], &res, &want);
        cr_assert_neq(st, LOSS_OK);
        for (size_t i = 0; i < N_OF(isas); i++) {
            if (kern_init(isas[i]) != 0)
                continue;
            for (size_t w = 0; w < N_OF(workers); w++) {
                cr_assert_eq(loss_compute(&fc.call, pools[w], &res, &got), st);
                cr_assert_str_eq(got.field, want.field);
                cr_assert_str_eq(got.message, want.message, "%s C %zu: %s", isas[i], C,
                                 got.message);
            }
        }
        fast_call_free(&fc);
    }
    for (size_t w = 0; w < N_OF(workers); w++)
        pool_destroy(pools[w]);
    kern_init(NULL);
}

/* float32 bce at the edges of its log pair: p = 0 and 1 (log read as TINY's, below the -100
 * clamp), subnormal and tiny p, both sides of the 1 - sqrt(1/2) split and of 1/2, against
 * hard and soft targets; each element within 4 float ulps of the long double formula. */
Test(kern, float32_bce_should_stay_within_four_ulps_at_the_edges_of_its_logs)
{
    static const double ps[] = {0.0,     0x1p-149, 1e-40,  0x1p-126, 1e-30,       1e-7,
                                0x1p-24, 0.29,     0.2929, 0.293,    0.5 - 1e-7,  0.5,
                                0.7,     0.7071,   0.9,    1 - 1e-7, 1 - 0x1p-24, 1.0};
    static const double ys[] = {0.0, 1.0, 0.5, 0.3, 0x1p-24, 1 - 0x1p-24};
    const double prm[2] = {0.25, 2.0};
    const size_t n = N_OF(ps) * N_OF(ys);
    float p[N_OF(ps) * N_OF(ys)], y[N_OF(ps) * N_OF(ys)];
    float g[N_OF(ps) * N_OF(ys)], v[N_OF(ps) * N_OF(ys)];
    for (size_t i = 0; i < n; i++)
        p[i] = (float)ps[i % N_OF(ps)], y[i] = (float)ys[i / N_OF(ps)];
    const char *isas[] = {"avx2", "avx512"};
    for (size_t s = 0; s < N_OF(isas); s++) {
        if (kern_init(isas[s]) != 0)
            continue;
        for (size_t m = n - 17; m <= n; m++) {
            kern_args a = {p, y, v, g, 1.0 / 3.0, NULL, m, 1};
            double sum = NAN;
            cr_assert_eq(kern_get()->f32[KERN_BCE](&a, &sum), 0, "bce declined n %zu", m);
            for (size_t i = 0; i < m; i++) {
                long double l, gr, ls, gs;
                oracle_vm_terms(KERN_BCE, p[i], y[i], prm, &l, &gr, &ls, &gs);
                cr_assert(f32_close(v[i], l, ls, 4), "%s bce value of p=%.9g y=%.9g is %.9g",
                          isas[s], (double)p[i], (double)y[i], (double)v[i]);
                cr_assert(f32_close(g[i], gr / 3, gs / 3, 4),
                          "%s bce grad of p=%.9g y=%.9g is %.9g", isas[s], (double)p[i],
                          (double)y[i], (double)g[i]);
            }
        }
    }
    kern_init(NULL);
}
