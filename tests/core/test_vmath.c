/* vmath: each ISA's vector exp, expm1, log and log1p (kern_table.vm) against long-double libm
 * over the whole double range: random arguments in every binade, subnormal arguments and
 * results, the overflow and underflow edges, exact points (log(1) = 0, exp(0) = 1), and the
 * special values the losses rely on (log(0) = -inf, which BCE clamps to -100; log1p(-1) =
 * -inf; exp(-inf) = 0; NaN in, NaN out); and the restricted forms on [0, 1] (softplus's
 * log1p, BCE's log(p) and log(1 - p)) over that domain, near both ends and their internal
 * branch points. An error of 2 ulps or more fails. The lite forms (vm_lite, shorter
 * polynomials) are held to a relative error below 2^-35 on the same arguments. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "kern.h"
#include "mem.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ULPS 2.0

static const char *const ISAS[] = {"ref", "avx2", "avx512"};

typedef long double (*oracle_fn)(long double);

typedef struct {
    kern_vm_id id;
    const char *name;
    oracle_fn oracle;
} vm_case;

static long double log1ml(long double x)
{
    return log1pl(-x);
}

static const vm_case FNS[] = {
    {KERN_VM_EXP, "exp", expl},
    {KERN_VM_EXPM1, "expm1", expm1l},
    {KERN_VM_LOG, "log", logl},
    {KERN_VM_LOG1P, "log1p", log1pl},
    {KERN_VM_LOG1P_01, "log1p_01", log1pl},
    {KERN_VM_LOG_01, "log_01", logl},
    {KERN_VM_LOG1M_01, "log1m_01", log1ml},
};

/* |got - want| in units of the last place of want rounded to double (subnormal ulp below
 * DBL_MIN). Infinite or NaN wants must be matched exactly; a finite want against an
 * infinite result is an error of 2^1024 ulps. */
static double ulp_error(double got, long double want)
{
    if (isnan(want))
        return isnan(got) ? 0.0 : (double)INFINITY;
    if (isinf(want))
        return got == (double)want ? 0.0 : (double)INFINITY;
    double w = (double)want;
    if (isinf(w)) /* want overflows double: only inf is right */
        return got == w ? 0.0 : (double)INFINITY;
    if (!isfinite(got))
        return INFINITY;
    int e;
    frexpl(want, &e);
    long double ulp = ldexpl(1.0L, (e - 53 < -1074 ? -1074 : e - 53));
    return (double)(fabsl((long double)got - want) / ulp);
}

static unsigned long next_rand(unsigned long *s)
{
    *s = *s * 6364136223846793005UL + 1442695040888963407UL;
    return *s >> 11;
}

static double unit_rand(unsigned long *s)
{
    return (double)next_rand(s) / 9007199254740992.0;
}

/* |got - want| relative to want, with subnormal results allowed their absolute rounding;
 * special values must match exactly (infinite when they do not). */
static double rel_error(double got, long double want)
{
    if (isnan(want) || isinf(want) || isinf((double)want))
        return ulp_error(got, want) == 0.0 ? 0.0 : (double)INFINITY;
    if (!isfinite(got))
        return INFINITY;
    long double err = fabsl((long double)got - want) - 0x1p-1074L;
    return err <= 0 ? 0.0 : (double)(err / fabsl(want));
}

#define F32_FORM_BOUND 0x1p-35

/* The vm_lite forms of every ISA on x[0..n). */
static void check_f32_forms(const vm_case *c, const double *x, size_t n)
{
    double *out = mem_alloc(n * sizeof *out);
    cr_assert_not_null(out);
    for (size_t k = 0; k < N_OF(ISAS); k++) {
        if (kern_init(ISAS[k]) != 0)
            continue;
        kern_get()->vm_lite[c->id](x, out, n);
        for (size_t i = 0; i < n; i++) {
            double err = rel_error(out[i], c->oracle((long double)x[i]));
            cr_assert(err < F32_FORM_BOUND,
                      "%s f32 form %s(%a) = %.17g, want %.17Lg: %.3g relative", ISAS[k], c->name,
                      x[i], out[i], c->oracle((long double)x[i]), err);
        }
    }
    kern_init(NULL);
    mem_free(out);
}

/* Runs every ISA's fn on x[0..n) and checks each result, and the float32 form of fn to its
 * bound. The array length varies so that the tails (masked lanes) see every argument too. */
static void check_points(const vm_case *c, const double *x, size_t n)
{
    check_f32_forms(c, x, n);
    double *out = mem_alloc(n * sizeof *out);
    cr_assert_not_null(out);
    for (size_t k = 0; k < N_OF(ISAS); k++) {
        if (kern_init(ISAS[k]) != 0)
            continue;
        kern_vm_fn fn = kern_get()->vm[c->id];
        cr_assert_not_null(fn, "%s has %s", ISAS[k], c->name);
        for (size_t len = n; len + 7 >= n && len > 0; len--) {
            fn(x, out, len);
            for (size_t i = 0; i < len; i++) {
                double err = ulp_error(out[i], c->oracle((long double)x[i]));
                cr_assert(err < MAX_ULPS, "%s %s(%a) = %a (%.17g), want %.17Lg: %.3g ulps", ISAS[k],
                          c->name, x[i], out[i], out[i], c->oracle((long double)x[i]), err);
            }
        }
    }
    kern_init(NULL);
    mem_free(out);
}

/* n random doubles: `lo + (hi - lo) u` for half, log-uniform magnitudes in [2^elo, 2^ehi]
 * with random sign (if signed) for the other half. */
static void fill_mixed(double *x, size_t n, double lo, double hi, int elo, int ehi, int signed_,
                       unsigned long seed)
{
    for (size_t i = 0; i < n; i++) {
        double u = unit_rand(&seed);
        if (i % 2 == 0) {
            x[i] = lo + (hi - lo) * u;
            continue;
        }
        double m = ldexp(1.0 + unit_rand(&seed), elo + (int)(u * (ehi - elo)));
        x[i] = signed_ && (next_rand(&seed) & 1) ? -m : m;
    }
}

#define N_RANDOM 200000

Test(vmath, exp_should_be_within_two_ulps_from_underflow_to_overflow)
{
    double *x = mem_alloc(N_RANDOM * sizeof *x);
    fill_mixed(x, N_RANDOM, -746.0, 710.0, -1074, 9, 1, 1);
    check_points(&FNS[0], x, N_RANDOM);
    fill_mixed(x, N_RANDOM, -745.2, -708.0, -60, 2, 1, 2); /* subnormal results */
    check_points(&FNS[0], x, N_RANDOM);
    mem_free(x);
}

Test(vmath, exp_should_meet_the_edges_exactly)
{
    const double x[] = {0.0,
                        -0.0,
                        1.0,
                        -1.0,
                        0x1.62e42fefa39efp+9,  /* 709.78...: the largest finite result */
                        0x1.62e42fefa39f0p+9,  /* the first that overflows */
                        -0x1.74385446d71c3p+9, /* about -745.13: the last nonzero result */
                        -0x1.74910d52d3052p+9, /* -745.13...: underflows to 0 */
                        -708.39641853226408,
                        1e-300,
                        -1e-300,
                        0x1p-1074,
                        1e10,
                        -1e10,
                        DBL_MAX,
                        -DBL_MAX,
                        INFINITY,
                        -INFINITY,
                        NAN};
    check_points(&FNS[0], x, N_OF(x));
}

Test(vmath, expm1_should_be_within_two_ulps_and_exact_for_tiny_arguments)
{
    double *x = mem_alloc(N_RANDOM * sizeof *x);
    fill_mixed(x, N_RANDOM, -2.0, 2.0, -1074, 6, 1, 3);
    check_points(&FNS[1], x, N_RANDOM);
    fill_mixed(x, N_RANDOM, -60.0, 710.0, -30, 9, 1, 4);
    check_points(&FNS[1], x, N_RANDOM);
    const double edges[] = {0.0,   -0.0,     0x1p-1074, -0x1p-1074, 1e-300, -1e-17,
                            -37.0, -50.0,    -51.0,     -1e300,     709.78, 0x1.62e42fefa39efp+9,
                            710.0, INFINITY, -INFINITY, NAN,        0.3465, -0.3466};
    check_points(&FNS[1], edges, N_OF(edges));
    mem_free(x);
}

/* Positive doubles with uniformly random bits: every binade, subnormals included. */
static void fill_positive_bits(double *x, size_t n, unsigned long seed)
{
    for (size_t i = 0; i < n; i++) {
        unsigned long b = (next_rand(&seed) << 11 | next_rand(&seed)) & 0x7fefffffffffffffUL;
        memcpy(&x[i], &b, sizeof b);
    }
}

Test(vmath, log_should_be_within_two_ulps_on_every_binade)
{
    double *x = mem_alloc(N_RANDOM * sizeof *x);
    fill_positive_bits(x, N_RANDOM, 5);
    check_points(&FNS[2], x, N_RANDOM);
    fill_mixed(x, N_RANDOM, 0.5, 2.0, -1074, -1022, 0, 6); /* near 1, and subnormals */
    check_points(&FNS[2], x, N_RANDOM);
    for (size_t i = 0; i < N_RANDOM; i++) /* 1 +- a few ulps, and around sqrt(2), sqrt(1/2) */
        x[i] = i % 3 == 0   ? 1.0 + ldexp((double)(i % 41) - 20.0, -52)
               : i % 3 == 1 ? M_SQRT2 + ldexp((double)(i % 41) - 20.0, -52)
                            : M_SQRT1_2 + ldexp((double)(i % 41) - 20.0, -53);
    check_points(&FNS[2], x, N_RANDOM);
    mem_free(x);
}

Test(vmath, log_should_give_libm_special_values)
{
    const double x[] = {1.0,  0.0,  -0.0,      0x1p-1074, 0x1p-1022, DBL_MAX, INFINITY,
                        -1.0, -0.5, -INFINITY, NAN,       2.0,       0.5,     3.7e-44};
    check_points(&FNS[2], x, N_OF(x));
    double out[2], in[2] = {0.0, 1.0};
    for (size_t k = 0; k < N_OF(ISAS); k++) {
        if (kern_init(ISAS[k]) != 0)
            continue;
        kern_get()->vm[KERN_VM_LOG](in, out, 2);
        /* BCE's clamp: log(0) is -inf, so fmax(log(0), -100) is exactly -100. */
        cr_assert(isinf(out[0]) && out[0] < 0, "%s log(0) = %g", ISAS[k], out[0]);
        cr_assert_eq(fmax(out[0], -100.0), -100.0);
        cr_assert(out[1] == 0.0 && !signbit(out[1]), "%s log(1) = %g", ISAS[k], out[1]);
    }
    kern_init(NULL);
}

Test(vmath, log1p_should_be_within_two_ulps_and_exact_for_tiny_arguments)
{
    double *x = mem_alloc(N_RANDOM * sizeof *x);
    fill_mixed(x, N_RANDOM, -1.0, 1.0, -1074, 0, 1, 7);
    for (size_t i = 0; i < N_RANDOM; i++) /* log-uniform in (-1, 0): keep above -1 */
        x[i] = x[i] < -1.0 ? -1.0 / x[i] - 1.0 : x[i];
    check_points(&FNS[3], x, N_RANDOM);
    fill_positive_bits(x, N_RANDOM, 8);
    check_points(&FNS[3], x, N_RANDOM);
    for (size_t i = 0; i < N_RANDOM; i++) /* 1 - p for p in (0, 1]: BCE's log1p(-p) */
        x[i] = -(double)(i + 1) / N_RANDOM;
    check_points(&FNS[3], x, N_RANDOM);
    mem_free(x);
}

Test(vmath, log1p_should_give_libm_special_values)
{
    const double x[] = {0.0,
                        -0.0,
                        0x1p-1074,
                        -0x1p-1074,
                        1e-300,
                        -1e-300,
                        -1.0,
                        -1.0000001,
                        -2.0,
                        -INFINITY,
                        INFINITY,
                        DBL_MAX,
                        NAN,
                        -0.5,
                        1.0,
                        0x1.fffffffffffffp-1,
                        -0x1.fffffffffffffp-1};
    check_points(&FNS[3], x, N_OF(x));
}

Test(vmath, the_ulp_measure_should_flag_a_four_ulp_error)
{
    double want = exp(0.75), off = want;
    for (int i = 0; i < 4; i++)
        off = nextafter(off, INFINITY);
    cr_assert(ulp_error(off, expl(0.75L)) >= 3.5);
    cr_assert(ulp_error(want, expl(0.75L)) <= 0.5);
    cr_assert(ulp_error(0x1p-1072, (long double)0x1p-1074) >= 3.0); /* subnormal ulps */
    cr_assert(isinf(ulp_error(INFINITY, 1.0L)) && isinf(ulp_error(1.0, INFINITY)));
    cr_assert(isinf(ulp_error(0.0, NAN)));
}

/* Arguments in [0, 1]: uniform, log-uniform down to the subnormals, 1 - 2^-k, and a few ulps
 * around each point of `marks`. */
static size_t fill_unit(double *x, size_t n, const double *marks, size_t n_marks,
                        unsigned long seed)
{
    size_t i = 0;
    for (; i < n / 2; i++)
        x[i] = unit_rand(&seed);
    for (; i < 3 * n / 4; i++)
        x[i] = ldexp(1.0 + unit_rand(&seed), -1 - (int)(unit_rand(&seed) * 1073));
    for (; i < n - 41 * n_marks; i++)
        x[i] = 1.0 - ldexp(1.0 + unit_rand(&seed), -2 - (int)(unit_rand(&seed) * 52));
    for (size_t m = 0; m < n_marks; m++)
        for (int k = -20; k <= 20; k++, i++)
            x[i] = fmin(fmax(marks[m] + ldexp((double)k, -54), 0.0), 1.0);
    return i;
}

Test(vmath, log1p_on_the_unit_interval_should_be_within_two_ulps)
{
    const double marks[] = {0.0, M_SQRT2 - 1.0, 0.5, 1.0};
    double *x = mem_alloc(N_RANDOM * sizeof *x);
    check_points(&FNS[4], x, fill_unit(x, N_RANDOM, marks, N_OF(marks), 9));
    const double edges[] = {0.0, 0x1p-1074, 1e-300, 1.0, 0x1.fffffffffffffp-1, NAN};
    check_points(&FNS[4], edges, N_OF(edges));
    mem_free(x);
}

Test(vmath, log_and_log1m_on_the_unit_interval_should_be_within_two_ulps)
{
    const double marks[] = {0.0, 1.0 - M_SQRT1_2, 0.5, M_SQRT1_2, 1.0};
    double *x = mem_alloc(N_RANDOM * sizeof *x);
    size_t n = fill_unit(x, N_RANDOM, marks, N_OF(marks), 10);
    check_points(&FNS[5], x, n);
    check_points(&FNS[6], x, n);
    /* BCE's ends: log(0) and log(1 - 1) are -inf (clamped to -100 by the loss). */
    const double edges[] = {0.0,    1.0, 0x1p-1074, 0x1p-1022, 1e-50, 0.5, 0x1.fffffffffffffp-1,
                            0x1p-53}; /* NaN is outside their domain */
    check_points(&FNS[5], edges, N_OF(edges));
    check_points(&FNS[6], edges, N_OF(edges));
    mem_free(x);
}
