/* vmath_f32: each ISA's float-lane exp, expm1, log and log1p (kern_table.vm_f32) and the
 * restricted forms on [0, 1], against long-double libm, within 2 float ulps (subnormal ulp
 * below FLT_MIN; a result beyond FLT_MAX must be inf; NaN, inf and libm's special values
 * exactly).
 * Coverage: a dense sample of the whole float range (every 2039th bit pattern of each sign,
 * about 2.1 million arguments per function, the unit-interval forms over every 509th float of
 * [0, 1]), plus every edge class: +-0, subnormals (the smallest, the largest, powers of two),
 * FLT_MIN and FLT_MAX, +-inf, NaN, 1 and its neighbours, the overflow and underflow
 * thresholds of exp and expm1 with 64 floats either side, log1p near -1, and the internal
 * branch points of the split (sqrt(2), sqrt(1/2)) with 64 floats either side.
 * LOSSD_VMATH_EXHAUSTIVE=1 checks all 2^32 floats instead of the sample (minutes per function
 * and ISA: run by hand, see docs/decisions.md). */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kern.h"
#include "mem.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ULPS 2.0
#define BATCH 16384

static const char *const ISAS[] = {"ref", "avx2", "avx512"};

typedef long double (*oracle_fn)(long double);

static long double log1ml(long double x)
{
    return log1pl(-x);
}

typedef struct {
    kern_vm_id id;
    const char *name;
    oracle_fn oracle;
    int unit; /* defined on [0, 1] only */
} vmf_case;

static const vmf_case FNS[] = {
    {KERN_VM_EXP, "expf", expl, 0},
    {KERN_VM_EXPM1, "expm1f", expm1l, 0},
    {KERN_VM_LOG, "logf", logl, 0},
    {KERN_VM_LOG1P, "log1pf", log1pl, 0},
    {KERN_VM_LOG1P_01, "log1pf_01", log1pl, 1},
    {KERN_VM_LOG_01, "logf_01", logl, 1},
    {KERN_VM_LOG1M_01, "log1mf_01", log1ml, 1},
};

static float from_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* |got - want| in float ulps of want; special values must match exactly. */
static double ulp_error_f(float got, long double want)
{
    if (isnan(want))
        return isnan(got) ? 0.0 : (double)INFINITY;
    if (isinf(want) || fabsl(want) > FLT_MAX * (1.0L + 0x1p-25L))
        return got == (float)want ? 0.0 : (double)INFINITY;
    if (!isfinite(got))
        return INFINITY;
    int e;
    frexpl(want, &e);
    long double ulp = ldexpl(1.0L, e - 24 < -149 ? -149 : e - 24);
    return (double)(fabsl((long double)got - want) / ulp);
}

/* The worst error seen, for the message. */
typedef struct {
    double ulps;
    float x, got;
} worst;

/* Checks fn on x[0..n) of one ISA; returns the worst error. */
static worst check_batch(const vmf_case *c, kern_vmf_fn fn, const float *x, float *out, size_t n)
{
    worst w = {0, 0, 0};
    fn(x, out, n);
    for (size_t i = 0; i < n; i++) {
        double err = ulp_error_f(out[i], c->oracle((long double)x[i]));
        if (err > w.ulps)
            w = (worst){err, x[i], out[i]};
    }
    return w;
}

/* Runs every ISA over the arguments `gen` produces in batches. gen(k, x) fills x with up to
 * BATCH arguments of batch k and returns how many (0 when done). */
typedef size_t (*gen_fn)(const vmf_case *c, uint64_t k, float *x);

static void check_all(const vmf_case *c, gen_fn gen)
{
    float *x = mem_alloc(BATCH * sizeof *x), *out = mem_alloc(BATCH * sizeof *out);
    cr_assert(x && out);
    for (size_t k = 0; k < N_OF(ISAS); k++) {
        if (kern_init(ISAS[k]) != 0)
            continue;
        kern_vmf_fn fn = kern_get()->vm_f32[c->id];
        cr_assert_not_null(fn, "%s has %s", ISAS[k], c->name);
        worst w = {0, 0, 0};
        size_t n;
        for (uint64_t b = 0; (n = gen(c, b, x)) > 0; b++) {
            worst bw = check_batch(c, fn, x, out, n);
            if (bw.ulps > w.ulps)
                w = bw;
        }
        cr_log_info("%s %s: worst %.3f ulps at %a", ISAS[k], c->name, w.ulps, (double)w.x);
        cr_assert(w.ulps <= MAX_ULPS, "%s %s(%a) = %a, want %.12Lg: %.3g ulps", ISAS[k], c->name,
                  (double)w.x, (double)w.got, c->oracle((long double)w.x), w.ulps);
    }
    kern_init(NULL);
    mem_free(x);
    mem_free(out);
}

/* The sample: every STRIDE-th bit pattern (the whole range with LOSSD_VMATH_EXHAUSTIVE),
 * or for the [0, 1] forms every UNIT_STRIDE-th float of [0, 1]. */
#define STRIDE 2039u
#define UNIT_STRIDE 509u

static uint32_t stride_for(const vmf_case *c)
{
    const char *e = getenv("LOSSD_VMATH_EXHAUSTIVE");
    if (e != NULL && strcmp(e, "1") == 0)
        return 1;
    return c->unit ? UNIT_STRIDE : STRIDE;
}

static size_t gen_sample(const vmf_case *c, uint64_t k, float *x)
{
    const uint64_t stride = stride_for(c), end = c->unit ? 0x3f800001u : 0x100000000u;
    size_t n = 0;
    for (uint64_t b = k * BATCH * stride; n < BATCH && b < end; b += stride)
        x[n++] = from_bits((uint32_t)b);
    return n;
}

/* The edge classes, one batch. */
static size_t gen_edges(const vmf_case *c, uint64_t k, float *x)
{
    static const float centres[] = {
        0.0f,
        1.0f,
        0x1p-126f,
        0x1p-149f,
        FLT_MAX,
        0x1.6a09e6p+0f,
        0x1.6a09e6p-1f,
        88.7228394f,
        -87.3365479f,
        -103.97f,
        -103.28f,
        0.5f,
        0x1.6a09e6p+0f - 1.0f,
        1.0f - 0x1.6a09e6p-1f,
        -0.5f,
        -1.0f,
        2.0f,
    };
    if (k > 0)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < N_OF(centres); i++)
        for (int d = -64; d <= 64; d++) {
            float v = centres[i];
            for (int s = 0; s < abs(d); s++)
                v = nextafterf(v, d < 0 ? -INFINITY : INFINITY);
            if (!c->unit || (v >= 0.0f && v <= 1.0f)) {
                x[n++] = v;
                if (!c->unit)
                    x[n++] = -v;
            }
        }
    for (int e = -149; e <= 127 && n < BATCH - 8; e++) {
        float v = ldexpf(1.0f, e);
        if (!c->unit || v <= 1.0f)
            x[n++] = v;
        if (!c->unit)
            x[n++] = -v;
    }
    const float specials[] = {INFINITY, -INFINITY, NAN, 0x1.fffffcp-127f, -0x1.fffffcp-127f};
    for (size_t i = 0; !c->unit && i < N_OF(specials); i++)
        x[n++] = specials[i];
    return n;
}

Test(vmath_f32, every_float_form_should_be_within_two_ulps_over_the_float_range)
{
    for (size_t i = 0; i < N_OF(FNS); i++)
        check_all(&FNS[i], gen_sample);
}

Test(vmath_f32, every_float_form_should_be_within_two_ulps_at_the_edges)
{
    for (size_t i = 0; i < N_OF(FNS); i++)
        check_all(&FNS[i], gen_edges);
}

Test(vmath_f32, the_ulp_measure_should_flag_a_three_ulp_error)
{
    float want = expf(0.75f), off = want;
    for (int i = 0; i < 3; i++)
        off = nextafterf(off, INFINITY);
    cr_assert(ulp_error_f(off, expl(0.75L)) > MAX_ULPS);
    cr_assert(ulp_error_f(0x1p-147f, 0x1p-149L) >= 3.0); /* subnormal ulps */
    cr_assert(isinf(ulp_error_f(FLT_MAX, 1e39L)) && isinf(ulp_error_f(1.0f, NAN)));
}
