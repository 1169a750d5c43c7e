/* kern_avx512: AVX-512 fast paths, the same steps as kern_avx2.c on 8 doubles or 16 floats
 * with mask registers. Compiled with -mavx512f -mavx512dq -mavx512vl -mavx2 -mfma only.
 * One pass stores the gradient and values and sums the losses (float32 losses in double
 * lanes); tails are masked, so no lane outside [0, n) is touched. A step that flags a lane, or
 * a sum that is not finite, declines the chunk to the reference. */
#include <immintrin.h>
#include <math.h>

#include "kern.h"

#define KERN_INLINE static inline __attribute__((always_inline))

/* Per-call constants of a step: the gradient scale and up to three loss constants. */
typedef struct {
    __m512d s, a, b, c;
} kc_pd;

typedef struct {
    __m512 s, a, b, c;
} kc_ps;

typedef struct {
    __m512d l, g;
    __mmask8 bad;
} step_pd;

typedef struct {
    __m512 l, g;
    __mmask16 bad;
} step_ps;

typedef step_pd (*op_pd)(__m512d p, __m512d y, const kc_pd *k);
typedef step_ps (*op_ps)(__m512 p, __m512 y, const kc_ps *k);

static int finish(__m512d acc, int bad, double *sum)
{
    double s = _mm512_reduce_add_pd(acc); /* a fixed tree: deterministic */
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
    __m512d acc0 = _mm512_setzero_pd(), acc1 = acc0;
    __mmask8 bad = 0;
    size_t i = 0, n = a->n;
    for (; i + 16 <= n; i += 16) {
        step_pd r0 = op(_mm512_loadu_pd(p + i), _mm512_loadu_pd(y + i), k);
        step_pd r1 = op(_mm512_loadu_pd(p + i + 8), _mm512_loadu_pd(y + i + 8), k);
        acc0 = _mm512_add_pd(acc0, r0.l);
        acc1 = _mm512_add_pd(acc1, r1.l);
        bad |= r0.bad | r1.bad;
        if (g) {
            _mm512_storeu_pd(g + i, r0.g);
            _mm512_storeu_pd(g + i + 8, r1.g);
        }
        if (v) {
            _mm512_storeu_pd(v + i, r0.l);
            _mm512_storeu_pd(v + i + 8, r1.l);
        }
    }
    for (; i < n; i += 8) {
        __mmask8 m = n - i >= 8 ? 0xff : (__mmask8)((1u << (n - i)) - 1);
        step_pd r = op(_mm512_maskz_loadu_pd(m, p + i), _mm512_maskz_loadu_pd(m, y + i), k);
        acc0 = _mm512_add_pd(acc0, _mm512_maskz_mov_pd(m, r.l));
        bad |= r.bad & m;
        if (g)
            _mm512_mask_storeu_pd(g + i, m, r.g);
        if (v)
            _mm512_mask_storeu_pd(v + i, m, r.l);
    }
    return finish(_mm512_add_pd(acc0, acc1), bad, sum);
}

/* Adds the 16 float losses of l to two double accumulators. */
KERN_INLINE void acc_ps(__m512 l, __m512d *lo, __m512d *hi)
{
    *lo = _mm512_add_pd(*lo, _mm512_cvtps_pd(_mm512_castps512_ps256(l)));
    *hi = _mm512_add_pd(*hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(l, 1)));
}

KERN_INLINE int drive_ps(const kern_elem_args *a, double *sum, op_ps op, const kc_ps *k)
{
    const float *p = a->p, *y = a->y;
    float *g = a->grad, *v = a->values;
    __m512d acc0 = _mm512_setzero_pd(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    __mmask16 bad = 0;
    size_t i = 0, n = a->n;
    for (; i + 32 <= n; i += 32) {
        step_ps r0 = op(_mm512_loadu_ps(p + i), _mm512_loadu_ps(y + i), k);
        step_ps r1 = op(_mm512_loadu_ps(p + i + 16), _mm512_loadu_ps(y + i + 16), k);
        acc_ps(r0.l, &acc0, &acc1);
        acc_ps(r1.l, &acc2, &acc3);
        bad |= r0.bad | r1.bad;
        if (g) {
            _mm512_storeu_ps(g + i, r0.g);
            _mm512_storeu_ps(g + i + 16, r1.g);
        }
        if (v) {
            _mm512_storeu_ps(v + i, r0.l);
            _mm512_storeu_ps(v + i + 16, r1.l);
        }
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
        step_ps r = op(_mm512_maskz_loadu_ps(m, p + i), _mm512_maskz_loadu_ps(m, y + i), k);
        acc_ps(_mm512_maskz_mov_ps(m, r.l), &acc0, &acc1);
        bad |= r.bad & m;
        if (g)
            _mm512_mask_storeu_ps(g + i, m, r.g);
        if (v)
            _mm512_mask_storeu_ps(v + i, m, r.l);
    }
    __m512d acc = _mm512_add_pd(_mm512_add_pd(acc0, acc1), _mm512_add_pd(acc2, acc3));
    return finish(acc, bad, sum);
}

/* ---- shared pieces of the steps ---- */

/* s with the sign of d where d != 0, else 0 (torch's sgn(d) * s). */
KERN_INLINE __m512d sgn_scale_pd(__m512d d, __m512d s)
{
    __mmask8 nz = _mm512_cmp_pd_mask(d, _mm512_setzero_pd(), _CMP_NEQ_UQ);
    return _mm512_maskz_mov_pd(nz, _mm512_or_pd(_mm512_and_pd(d, _mm512_set1_pd(-0.0)), s));
}

KERN_INLINE __m512 sgn_scale_ps(__m512 d, __m512 s)
{
    __mmask16 nz = _mm512_cmp_ps_mask(d, _mm512_setzero_ps(), _CMP_NEQ_UQ);
    return _mm512_maskz_mov_ps(nz, _mm512_or_ps(_mm512_and_ps(d, _mm512_set1_ps(-0.0f)), s));
}

/* Lanes a hinge step must hand to the reference: target not exactly +-1, or a prediction
 * that is not finite (the clamp would hide an infinite one). */
KERN_INLINE __mmask8 hinge_bad_pd(__m512d p, __m512d y)
{
    return _mm512_cmp_pd_mask(_mm512_abs_pd(y), _mm512_set1_pd(1.0), _CMP_NEQ_UQ) |
           _mm512_cmp_pd_mask(_mm512_abs_pd(p), _mm512_set1_pd(INFINITY), _CMP_NLT_UQ);
}

KERN_INLINE __mmask16 hinge_bad_ps(__m512 p, __m512 y)
{
    return _mm512_cmp_ps_mask(_mm512_abs_ps(y), _mm512_set1_ps(1.0f), _CMP_NEQ_UQ) |
           _mm512_cmp_ps_mask(_mm512_abs_ps(p), _mm512_set1_ps(INFINITY), _CMP_NLT_UQ);
}

/* ---- the steps: k->s is the gradient scale; a, b, c per kern_step_constants ---- */

KERN_INLINE step_pd mse_pd(__m512d p, __m512d y, const kc_pd *k)
{
    __m512d d = _mm512_sub_pd(p, y);
    return (step_pd){_mm512_mul_pd(d, d), _mm512_mul_pd(d, k->a), 0};
}

KERN_INLINE step_ps mse_ps(__m512 p, __m512 y, const kc_ps *k)
{
    __m512 d = _mm512_sub_ps(p, y);
    return (step_ps){_mm512_mul_ps(d, d), _mm512_mul_ps(d, k->a), 0};
}

KERN_INLINE step_pd mae_pd(__m512d p, __m512d y, const kc_pd *k)
{
    __m512d d = _mm512_sub_pd(p, y);
    return (step_pd){_mm512_abs_pd(d), sgn_scale_pd(d, k->s), 0};
}

KERN_INLINE step_ps mae_ps(__m512 p, __m512 y, const kc_ps *k)
{
    __m512 d = _mm512_sub_ps(p, y);
    return (step_ps){_mm512_abs_ps(d), sgn_scale_ps(d, k->s), 0};
}

KERN_INLINE step_pd mbe_pd(__m512d p, __m512d y, const kc_pd *k)
{
    return (step_pd){_mm512_sub_pd(y, p), k->a, 0};
}

KERN_INLINE step_ps mbe_ps(__m512 p, __m512 y, const kc_ps *k)
{
    return (step_ps){_mm512_sub_ps(y, p), k->a, 0};
}

KERN_INLINE step_pd huber_pd(__m512d p, __m512d y, const kc_pd *k)
{
    __m512d d = _mm512_sub_pd(p, y), z = _mm512_abs_pd(d);
    __mmask8 in = _mm512_cmp_pd_mask(z, k->a, _CMP_LT_OQ);
    __m512d lin = _mm512_mul_pd(_mm512_mul_pd(d, d), _mm512_set1_pd(0.5));
    __m512d lout = _mm512_mul_pd(k->a, _mm512_sub_pd(z, k->b));
    __m512d gin = _mm512_mul_pd(d, k->s), gout = sgn_scale_pd(d, k->c);
    return (step_pd){_mm512_mask_blend_pd(in, lout, lin), _mm512_mask_blend_pd(in, gout, gin), 0};
}

KERN_INLINE step_ps huber_ps(__m512 p, __m512 y, const kc_ps *k)
{
    __m512 d = _mm512_sub_ps(p, y), z = _mm512_abs_ps(d);
    __mmask16 in = _mm512_cmp_ps_mask(z, k->a, _CMP_LT_OQ);
    __m512 lin = _mm512_mul_ps(_mm512_mul_ps(d, d), _mm512_set1_ps(0.5f));
    __m512 lout = _mm512_mul_ps(k->a, _mm512_sub_ps(z, k->b));
    __m512 gin = _mm512_mul_ps(d, k->s), gout = sgn_scale_ps(d, k->c);
    return (step_ps){_mm512_mask_blend_ps(in, lout, lin), _mm512_mask_blend_ps(in, gout, gin), 0};
}

/* Inside |d| < beta: l = (d*c)*d = d^2/(2 beta), g = (d*c)*2s = d*s/beta. */
KERN_INLINE step_pd smooth_l1_pd(__m512d p, __m512d y, const kc_pd *k)
{
    __m512d d = _mm512_sub_pd(p, y), z = _mm512_abs_pd(d);
    __mmask8 in = _mm512_cmp_pd_mask(z, k->a, _CMP_LT_OQ);
    __m512d dc = _mm512_mul_pd(d, k->c);
    __m512d lin = _mm512_mul_pd(dc, d), lout = _mm512_sub_pd(z, k->b);
    __m512d gin = _mm512_mul_pd(dc, _mm512_add_pd(k->s, k->s)), gout = sgn_scale_pd(d, k->s);
    return (step_pd){_mm512_mask_blend_pd(in, lout, lin), _mm512_mask_blend_pd(in, gout, gin), 0};
}

KERN_INLINE step_ps smooth_l1_ps(__m512 p, __m512 y, const kc_ps *k)
{
    __m512 d = _mm512_sub_ps(p, y), z = _mm512_abs_ps(d);
    __mmask16 in = _mm512_cmp_ps_mask(z, k->a, _CMP_LT_OQ);
    __m512 dc = _mm512_mul_ps(d, k->c);
    __m512 lin = _mm512_mul_ps(dc, d), lout = _mm512_sub_ps(z, k->b);
    __m512 gin = _mm512_mul_ps(dc, _mm512_add_ps(k->s, k->s)), gout = sgn_scale_ps(d, k->s);
    return (step_ps){_mm512_mask_blend_ps(in, lout, lin), _mm512_mask_blend_ps(in, gout, gin), 0};
}

/* The tie 1 - y*p = 0 passes the gradient, as torch.clamp(min=0) does. */
KERN_INLINE step_pd hinge_pd(__m512d p, __m512d y, const kc_pd *k)
{
    __m512d t = _mm512_fnmadd_pd(y, p, _mm512_set1_pd(1.0));
    __mmask8 on = _mm512_cmp_pd_mask(t, _mm512_setzero_pd(), _CMP_GE_OQ);
    return (step_pd){_mm512_max_pd(t, _mm512_setzero_pd()), _mm512_maskz_mul_pd(on, y, k->a),
                     hinge_bad_pd(p, y)};
}

KERN_INLINE step_ps hinge_ps(__m512 p, __m512 y, const kc_ps *k)
{
    __m512 t = _mm512_fnmadd_ps(y, p, _mm512_set1_ps(1.0f));
    __mmask16 on = _mm512_cmp_ps_mask(t, _mm512_setzero_ps(), _CMP_GE_OQ);
    return (step_ps){_mm512_max_ps(t, _mm512_setzero_ps()), _mm512_maskz_mul_ps(on, y, k->a),
                     hinge_bad_ps(p, y)};
}

KERN_INLINE step_pd squared_hinge_pd(__m512d p, __m512d y, const kc_pd *k)
{
    __m512d c = _mm512_max_pd(_mm512_fnmadd_pd(y, p, _mm512_set1_pd(1.0)), _mm512_setzero_pd());
    return (step_pd){_mm512_mul_pd(c, c), _mm512_mul_pd(c, _mm512_mul_pd(y, k->a)),
                     hinge_bad_pd(p, y)};
}

KERN_INLINE step_ps squared_hinge_ps(__m512 p, __m512 y, const kc_ps *k)
{
    __m512 c = _mm512_max_ps(_mm512_fnmadd_ps(y, p, _mm512_set1_ps(1.0f)), _mm512_setzero_ps());
    return (step_ps){_mm512_mul_ps(c, c), _mm512_mul_ps(c, _mm512_mul_ps(y, k->a)),
                     hinge_bad_ps(p, y)};
}

/* ---- per-call constants and entry points ---- */

static kc_pd kc_make_pd(kern_id id, const kern_elem_args *a)
{
    double c[KERN_N_CONSTANTS];
    kern_step_constants(id, a->scale, a->param, c);
    return (kc_pd){_mm512_set1_pd(a->scale), _mm512_set1_pd(c[0]), _mm512_set1_pd(c[1]),
                   _mm512_set1_pd(c[2])};
}

/* float32 steps compute in float with the constants rounded once, as PyTorch's float kernels
 * do; the sum stays in double. */
static kc_ps kc_make_ps(kern_id id, const kern_elem_args *a)
{
    double c[KERN_N_CONSTANTS];
    kern_step_constants(id, a->scale, a->param, c);
    return (kc_ps){_mm512_set1_ps((float)a->scale), _mm512_set1_ps((float)c[0]),
                   _mm512_set1_ps((float)c[1]), _mm512_set1_ps((float)c[2])};
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

void kern_avx512_fill(kern_table *t)
{
    kern_avx2_fill(t); /* any slot without an AVX-512 version keeps its AVX2 one */
    t->isa = KERN_ISA_AVX512;
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
