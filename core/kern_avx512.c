/* kern_avx512: AVX-512 fast paths. Compiled with -mavx512f -mavx512dq -mavx2 -mfma only.
 * Slots without an AVX-512 version keep their AVX2 one (every AVX-512 CPU has AVX2). */
#include <immintrin.h>
#include <math.h>

#include "kern.h"

static int mse_f64(const kern_elem_args *a, double *sum)
{
    const double *p = a->p, *y = a->y;
    double *g = a->grad, *v = a->values;
    const __m512d two_s = _mm512_set1_pd(2.0 * a->scale);
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
    size_t i = 0, n = a->n;
    for (; i + 16 <= n; i += 16) {
        __m512d d0 = _mm512_sub_pd(_mm512_loadu_pd(p + i), _mm512_loadu_pd(y + i));
        __m512d d1 = _mm512_sub_pd(_mm512_loadu_pd(p + i + 8), _mm512_loadu_pd(y + i + 8));
        acc0 = _mm512_fmadd_pd(d0, d0, acc0);
        acc1 = _mm512_fmadd_pd(d1, d1, acc1);
        if (g) {
            _mm512_storeu_pd(g + i, _mm512_mul_pd(d0, two_s));
            _mm512_storeu_pd(g + i + 8, _mm512_mul_pd(d1, two_s));
        }
        if (v) {
            _mm512_storeu_pd(v + i, _mm512_mul_pd(d0, d0));
            _mm512_storeu_pd(v + i + 8, _mm512_mul_pd(d1, d1));
        }
    }
    double s = _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
    for (; i < n; i++) {
        double d = p[i] - y[i];
        s += d * d;
        if (g)
            g[i] = d * (2.0 * a->scale);
        if (v)
            v[i] = d * d;
    }
    if (!isfinite(s))
        return KERN_DECLINED;
    *sum = s;
    return 0;
}

static int mse_f32(const kern_elem_args *a, double *sum)
{
    const float *p = a->p, *y = a->y;
    float *g = a->grad, *v = a->values;
    const __m512 two_s = _mm512_set1_ps((float)(2.0 * a->scale));
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
    size_t i = 0, n = a->n;
    for (; i + 16 <= n; i += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(p + i), _mm512_loadu_ps(y + i));
        __m512d dlo = _mm512_cvtps_pd(_mm512_castps512_ps256(d));
        __m512d dhi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(d), 1)));
        acc0 = _mm512_fmadd_pd(dlo, dlo, acc0);
        acc1 = _mm512_fmadd_pd(dhi, dhi, acc1);
        if (g)
            _mm512_storeu_ps(g + i, _mm512_mul_ps(d, two_s));
        if (v)
            _mm512_storeu_ps(v + i, _mm512_mul_ps(d, d));
    }
    double s = _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
    for (; i < n; i++) {
        float d = p[i] - y[i];
        s += (double)d * d;
        if (g)
            g[i] = d * (float)(2.0 * a->scale);
        if (v)
            v[i] = d * d;
    }
    if (!isfinite(s))
        return KERN_DECLINED;
    *sum = s;
    return 0;
}

void kern_avx512_fill(kern_table *t)
{
    kern_avx2_fill(t);
    t->isa = KERN_ISA_AVX512;
    t->f64[KERN_MSE] = mse_f64;
    t->f32[KERN_MSE] = mse_f32;
}
