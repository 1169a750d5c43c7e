/* kern_avx2: AVX2+FMA fast paths for elementwise losses. Compiled with -mavx2 -mfma only;
 * entered only when kern_init found the CPU able. Each loss is one branch-free vector step
 * (loss, scaled gradient, and a mask of lanes only the reference may judge) run by one driver
 * per dtype: one pass stores the gradient and values and sums the losses, float32 losses in
 * double lanes. Tails use masked loads and stores, so no lane outside [0, n) is touched.
 * A step that flags a lane, or a sum that is not finite, declines the chunk. */
#include <immintrin.h>
#include <math.h>

#include "kern.h"

#define KERN_INLINE static inline __attribute__((always_inline))

/* Per-call constants of a step, broadcast once: the gradient scale and up to three loss
 * constants (their meaning is the step's). */
typedef struct {
    __m256d s, a, b, c;
} kc_pd;

typedef struct {
    __m256 s, a, b, c;
} kc_ps;

typedef struct {
    __m256d l, g, bad;
} step_pd;

typedef struct {
    __m256 l, g, bad;
} step_ps;

typedef step_pd (*op_pd)(__m256d p, __m256d y, const kc_pd *k);
typedef step_ps (*op_ps)(__m256 p, __m256 y, const kc_ps *k);

/* Horizontal sum of 4 doubles in a fixed order (determinism). */
static double hsum_pd(__m256d v)
{
    __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
    lo = _mm_add_pd(lo, hi);
    return _mm_cvtsd_f64(lo) + _mm_cvtsd_f64(_mm_unpackhi_pd(lo, lo));
}

/* Lanes [0, r) set. */
static __m256i tail_mask_pd(size_t r)
{
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)r), _mm256_setr_epi64x(0, 1, 2, 3));
}

static __m256i tail_mask_ps(size_t r)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static int finish(__m256d acc, int bad, double *sum)
{
    double s = hsum_pd(acc);
    if (bad || !isfinite(s))
        return KERN_DECLINED;
    *sum = s;
    return 0;
}

/* ---- drivers ---- */

KERN_INLINE int drive_pd(const kern_elem_args *a, double *sum, op_pd op, const kc_pd *k)
{
    const double *p = a->p, *y = a->y;
    double *g = a->grad, *v = a->values;
    __m256d acc0 = _mm256_setzero_pd(), acc1 = acc0, bad = acc0;
    size_t i = 0, n = a->n;
    for (; i + 8 <= n; i += 8) {
        step_pd r0 = op(_mm256_loadu_pd(p + i), _mm256_loadu_pd(y + i), k);
        step_pd r1 = op(_mm256_loadu_pd(p + i + 4), _mm256_loadu_pd(y + i + 4), k);
        acc0 = _mm256_add_pd(acc0, r0.l);
        acc1 = _mm256_add_pd(acc1, r1.l);
        bad = _mm256_or_pd(bad, _mm256_or_pd(r0.bad, r1.bad));
        if (g) {
            _mm256_storeu_pd(g + i, r0.g);
            _mm256_storeu_pd(g + i + 4, r1.g);
        }
        if (v) {
            _mm256_storeu_pd(v + i, r0.l);
            _mm256_storeu_pd(v + i + 4, r1.l);
        }
    }
    for (; i < n; i += 4) {
        __m256i m = tail_mask_pd(n - i);
        __m256d md = _mm256_castsi256_pd(m);
        step_pd r = op(_mm256_maskload_pd(p + i, m), _mm256_maskload_pd(y + i, m), k);
        acc0 = _mm256_add_pd(acc0, _mm256_and_pd(r.l, md));
        bad = _mm256_or_pd(bad, _mm256_and_pd(r.bad, md));
        if (g)
            _mm256_maskstore_pd(g + i, m, r.g);
        if (v)
            _mm256_maskstore_pd(v + i, m, r.l);
    }
    return finish(_mm256_add_pd(acc0, acc1), _mm256_movemask_pd(bad), sum);
}

/* Adds the 8 float losses of l to two double accumulators. */
KERN_INLINE void acc_ps(__m256 l, __m256d *lo, __m256d *hi)
{
    *lo = _mm256_add_pd(*lo, _mm256_cvtps_pd(_mm256_castps256_ps128(l)));
    *hi = _mm256_add_pd(*hi, _mm256_cvtps_pd(_mm256_extractf128_ps(l, 1)));
}

KERN_INLINE int drive_ps(const kern_elem_args *a, double *sum, op_ps op, const kc_ps *k)
{
    const float *p = a->p, *y = a->y;
    float *g = a->grad, *v = a->values;
    __m256d acc0 = _mm256_setzero_pd(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    __m256 bad = _mm256_setzero_ps();
    size_t i = 0, n = a->n;
    for (; i + 16 <= n; i += 16) {
        step_ps r0 = op(_mm256_loadu_ps(p + i), _mm256_loadu_ps(y + i), k);
        step_ps r1 = op(_mm256_loadu_ps(p + i + 8), _mm256_loadu_ps(y + i + 8), k);
        acc_ps(r0.l, &acc0, &acc1);
        acc_ps(r1.l, &acc2, &acc3);
        bad = _mm256_or_ps(bad, _mm256_or_ps(r0.bad, r1.bad));
        if (g) {
            _mm256_storeu_ps(g + i, r0.g);
            _mm256_storeu_ps(g + i + 8, r1.g);
        }
        if (v) {
            _mm256_storeu_ps(v + i, r0.l);
            _mm256_storeu_ps(v + i + 8, r1.l);
        }
    }
    for (; i < n; i += 8) {
        __m256i m = tail_mask_ps(n - i);
        __m256 mf = _mm256_castsi256_ps(m);
        step_ps r = op(_mm256_maskload_ps(p + i, m), _mm256_maskload_ps(y + i, m), k);
        acc_ps(_mm256_and_ps(r.l, mf), &acc0, &acc1);
        bad = _mm256_or_ps(bad, _mm256_and_ps(r.bad, mf));
        if (g)
            _mm256_maskstore_ps(g + i, m, r.g);
        if (v)
            _mm256_maskstore_ps(v + i, m, r.l);
    }
    __m256d acc = _mm256_add_pd(_mm256_add_pd(acc0, acc1), _mm256_add_pd(acc2, acc3));
    return finish(acc, _mm256_movemask_ps(bad), sum);
}

/* ---- shared pieces of the steps ---- */

KERN_INLINE __m256d abs_pd(__m256d x) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), x); }
KERN_INLINE __m256 abs_ps(__m256 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }

/* s with the sign of d where d != 0, else 0 (torch's sgn(d) * s). */
KERN_INLINE __m256d sgn_scale_pd(__m256d d, __m256d s)
{
    __m256d nz = _mm256_cmp_pd(d, _mm256_setzero_pd(), _CMP_NEQ_UQ);
    return _mm256_and_pd(nz, _mm256_or_pd(_mm256_and_pd(d, _mm256_set1_pd(-0.0)), s));
}

KERN_INLINE __m256 sgn_scale_ps(__m256 d, __m256 s)
{
    __m256 nz = _mm256_cmp_ps(d, _mm256_setzero_ps(), _CMP_NEQ_UQ);
    return _mm256_and_ps(nz, _mm256_or_ps(_mm256_and_ps(d, _mm256_set1_ps(-0.0f)), s));
}

/* Lanes a hinge step must hand to the reference: target not exactly +-1, or a prediction
 * that is not finite (the clamp would hide an infinite one). */
KERN_INLINE __m256d hinge_bad_pd(__m256d p, __m256d y)
{
    __m256d not_sign = _mm256_cmp_pd(abs_pd(y), _mm256_set1_pd(1.0), _CMP_NEQ_UQ);
    __m256d not_finite = _mm256_cmp_pd(abs_pd(p), _mm256_set1_pd(INFINITY), _CMP_NLT_UQ);
    return _mm256_or_pd(not_sign, not_finite);
}

KERN_INLINE __m256 hinge_bad_ps(__m256 p, __m256 y)
{
    __m256 not_sign = _mm256_cmp_ps(abs_ps(y), _mm256_set1_ps(1.0f), _CMP_NEQ_UQ);
    __m256 not_finite = _mm256_cmp_ps(abs_ps(p), _mm256_set1_ps(INFINITY), _CMP_NLT_UQ);
    return _mm256_or_ps(not_sign, not_finite);
}

/* ---- the steps: k->s is the gradient scale; a, b, c per kern_step_constants ---- */

KERN_INLINE step_pd mse_pd(__m256d p, __m256d y, const kc_pd *k) /* a = 2s */
{
    __m256d d = _mm256_sub_pd(p, y);
    return (step_pd){_mm256_mul_pd(d, d), _mm256_mul_pd(d, k->a), _mm256_setzero_pd()};
}

KERN_INLINE step_ps mse_ps(__m256 p, __m256 y, const kc_ps *k)
{
    __m256 d = _mm256_sub_ps(p, y);
    return (step_ps){_mm256_mul_ps(d, d), _mm256_mul_ps(d, k->a), _mm256_setzero_ps()};
}

KERN_INLINE step_pd mae_pd(__m256d p, __m256d y, const kc_pd *k)
{
    __m256d d = _mm256_sub_pd(p, y);
    return (step_pd){abs_pd(d), sgn_scale_pd(d, k->s), _mm256_setzero_pd()};
}

KERN_INLINE step_ps mae_ps(__m256 p, __m256 y, const kc_ps *k)
{
    __m256 d = _mm256_sub_ps(p, y);
    return (step_ps){abs_ps(d), sgn_scale_ps(d, k->s), _mm256_setzero_ps()};
}

KERN_INLINE step_pd mbe_pd(__m256d p, __m256d y, const kc_pd *k) /* a = -s */
{
    return (step_pd){_mm256_sub_pd(y, p), k->a, _mm256_setzero_pd()};
}

KERN_INLINE step_ps mbe_ps(__m256 p, __m256 y, const kc_ps *k)
{
    return (step_ps){_mm256_sub_ps(y, p), k->a, _mm256_setzero_ps()};
}

/* a = delta, b = delta/2, c = delta*s */
KERN_INLINE step_pd huber_pd(__m256d p, __m256d y, const kc_pd *k)
{
    __m256d d = _mm256_sub_pd(p, y), z = abs_pd(d);
    __m256d in = _mm256_cmp_pd(z, k->a, _CMP_LT_OQ);
    __m256d lin = _mm256_mul_pd(_mm256_mul_pd(d, d), _mm256_set1_pd(0.5));
    __m256d lout = _mm256_mul_pd(k->a, _mm256_sub_pd(z, k->b));
    __m256d gin = _mm256_mul_pd(d, k->s), gout = sgn_scale_pd(d, k->c);
    return (step_pd){_mm256_blendv_pd(lout, lin, in), _mm256_blendv_pd(gout, gin, in),
                     _mm256_setzero_pd()};
}

KERN_INLINE step_ps huber_ps(__m256 p, __m256 y, const kc_ps *k)
{
    __m256 d = _mm256_sub_ps(p, y), z = abs_ps(d);
    __m256 in = _mm256_cmp_ps(z, k->a, _CMP_LT_OQ);
    __m256 lin = _mm256_mul_ps(_mm256_mul_ps(d, d), _mm256_set1_ps(0.5f));
    __m256 lout = _mm256_mul_ps(k->a, _mm256_sub_ps(z, k->b));
    __m256 gin = _mm256_mul_ps(d, k->s), gout = sgn_scale_ps(d, k->c);
    return (step_ps){_mm256_blendv_ps(lout, lin, in), _mm256_blendv_ps(gout, gin, in),
                     _mm256_setzero_ps()};
}

/* a = beta, b = beta/2, c = 0.5/beta; the gradient inside is d*s/beta, computed as
 * (d*c)*(2s): beta = 0 never takes the inside branch, and c is then 0, not inf. */
KERN_INLINE step_pd smooth_l1_pd(__m256d p, __m256d y, const kc_pd *k)
{
    __m256d d = _mm256_sub_pd(p, y), z = abs_pd(d);
    __m256d in = _mm256_cmp_pd(z, k->a, _CMP_LT_OQ);
    __m256d dc = _mm256_mul_pd(d, k->c);
    __m256d lin = _mm256_mul_pd(dc, d), lout = _mm256_sub_pd(z, k->b);
    __m256d gin = _mm256_mul_pd(dc, _mm256_add_pd(k->s, k->s)), gout = sgn_scale_pd(d, k->s);
    return (step_pd){_mm256_blendv_pd(lout, lin, in), _mm256_blendv_pd(gout, gin, in),
                     _mm256_setzero_pd()};
}

KERN_INLINE step_ps smooth_l1_ps(__m256 p, __m256 y, const kc_ps *k)
{
    __m256 d = _mm256_sub_ps(p, y), z = abs_ps(d);
    __m256 in = _mm256_cmp_ps(z, k->a, _CMP_LT_OQ);
    __m256 dc = _mm256_mul_ps(d, k->c);
    __m256 lin = _mm256_mul_ps(dc, d), lout = _mm256_sub_ps(z, k->b);
    __m256 gin = _mm256_mul_ps(dc, _mm256_add_ps(k->s, k->s)), gout = sgn_scale_ps(d, k->s);
    return (step_ps){_mm256_blendv_ps(lout, lin, in), _mm256_blendv_ps(gout, gin, in),
                     _mm256_setzero_ps()};
}

/* a = -s. The tie 1 - y*p = 0 passes the gradient, as torch.clamp(min=0) does. */
KERN_INLINE step_pd hinge_pd(__m256d p, __m256d y, const kc_pd *k)
{
    __m256d t = _mm256_fnmadd_pd(y, p, _mm256_set1_pd(1.0));
    __m256d on = _mm256_cmp_pd(t, _mm256_setzero_pd(), _CMP_GE_OQ);
    return (step_pd){_mm256_max_pd(t, _mm256_setzero_pd()),
                     _mm256_and_pd(on, _mm256_mul_pd(y, k->a)), hinge_bad_pd(p, y)};
}

KERN_INLINE step_ps hinge_ps(__m256 p, __m256 y, const kc_ps *k)
{
    __m256 t = _mm256_fnmadd_ps(y, p, _mm256_set1_ps(1.0f));
    __m256 on = _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_GE_OQ);
    return (step_ps){_mm256_max_ps(t, _mm256_setzero_ps()),
                     _mm256_and_ps(on, _mm256_mul_ps(y, k->a)), hinge_bad_ps(p, y)};
}

/* a = -2s */
KERN_INLINE step_pd squared_hinge_pd(__m256d p, __m256d y, const kc_pd *k)
{
    __m256d c = _mm256_max_pd(_mm256_fnmadd_pd(y, p, _mm256_set1_pd(1.0)), _mm256_setzero_pd());
    return (step_pd){_mm256_mul_pd(c, c), _mm256_mul_pd(c, _mm256_mul_pd(y, k->a)),
                     hinge_bad_pd(p, y)};
}

KERN_INLINE step_ps squared_hinge_ps(__m256 p, __m256 y, const kc_ps *k)
{
    __m256 c = _mm256_max_ps(_mm256_fnmadd_ps(y, p, _mm256_set1_ps(1.0f)), _mm256_setzero_ps());
    return (step_ps){_mm256_mul_ps(c, c), _mm256_mul_ps(c, _mm256_mul_ps(y, k->a)),
                     hinge_bad_ps(p, y)};
}

/* ---- per-call constants and entry points ---- */

static kc_pd kc_make_pd(kern_id id, const kern_elem_args *a)
{
    double c[KERN_N_CONSTANTS];
    kern_step_constants(id, a->scale, a->param, c);
    return (kc_pd){_mm256_set1_pd(a->scale), _mm256_set1_pd(c[0]), _mm256_set1_pd(c[1]),
                   _mm256_set1_pd(c[2])};
}

/* float32 steps compute in float with the constants rounded once, as PyTorch's float kernels
 * do; the sum stays in double. */
static kc_ps kc_make_ps(kern_id id, const kern_elem_args *a)
{
    double c[KERN_N_CONSTANTS];
    kern_step_constants(id, a->scale, a->param, c);
    return (kc_ps){_mm256_set1_ps((float)a->scale), _mm256_set1_ps((float)c[0]),
                   _mm256_set1_ps((float)c[1]), _mm256_set1_ps((float)c[2])};
}

#define KERN_ENTRY(name, id)                                                                       \
    static int name##_f64(const kern_elem_args *a, double *sum)                                    \
    {                                                                                              \
        kc_pd k = kc_make_pd(id, a);                                                               \
        return drive_pd(a, sum, name##_pd, &k);                                                    \
    }                                                                                              \
    static int name##_f32(const kern_elem_args *a, double *sum)                                    \
    {                                                                                              \
        kc_ps k = kc_make_ps(id, a);                                                               \
        return drive_ps(a, sum, name##_ps, &k);                                                    \
    }

KERN_ENTRY(mse, KERN_MSE)
KERN_ENTRY(mae, KERN_MAE)
KERN_ENTRY(mbe, KERN_MBE)
KERN_ENTRY(huber, KERN_HUBER)
KERN_ENTRY(smooth_l1, KERN_SMOOTH_L1)
KERN_ENTRY(hinge, KERN_HINGE)
KERN_ENTRY(squared_hinge, KERN_SQUARED_HINGE)

void kern_avx2_fill(kern_table *t)
{
    t->isa = KERN_ISA_AVX2;
#define KERN_SLOT(name, id) (t->f64[id] = name##_f64, t->f32[id] = name##_f32)
    KERN_SLOT(mse, KERN_MSE);
    KERN_SLOT(mae, KERN_MAE);
    KERN_SLOT(mbe, KERN_MBE);
    KERN_SLOT(huber, KERN_HUBER);
    KERN_SLOT(smooth_l1, KERN_SMOOTH_L1);
    KERN_SLOT(hinge, KERN_HINGE);
    KERN_SLOT(squared_hinge, KERN_SQUARED_HINGE);
#undef KERN_SLOT
}
