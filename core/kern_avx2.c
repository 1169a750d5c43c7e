/* kern_avx2: AVX2+FMA fast paths for elementwise losses. Compiled with -mavx2 -mfma only;
 * entered only when kern_init found the CPU able. float32 losses are summed in double. */
#include <immintrin.h>
#include <math.h>

#include "kern.h"

/* Horizontal sum of 4 doubles in a fixed order (determinism). */
static double hsum_pd(__m256d v)
{
    __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
    lo = _mm_add_pd(lo, hi);
    return _mm_cvtsd_f64(lo) + _mm_cvtsd_f64(_mm_unpackhi_pd(lo, lo));
}

static int mse_f64(const kern_elem_args *a, double *sum)
{
    const double *p = a->p, *y = a->y;
    double *g = a->grad, *v = a->values;
    const __m256d two_s = _mm256_set1_pd(2.0 * a->scale);
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    size_t i = 0, n = a->n;
    for (; i + 8 <= n; i += 8) {
        __m256d d0 = _mm256_sub_pd(_mm256_loadu_pd(p + i), _mm256_loadu_pd(y + i));
        __m256d d1 = _mm256_sub_pd(_mm256_loadu_pd(p + i + 4), _mm256_loadu_pd(y + i + 4));
        acc0 = _mm256_fmadd_pd(d0, d0, acc0);
        acc1 = _mm256_fmadd_pd(d1, d1, acc1);
        if (g) {
            _mm256_storeu_pd(g + i, _mm256_mul_pd(d0, two_s));
            _mm256_storeu_pd(g + i + 4, _mm256_mul_pd(d1, two_s));
        }
        if (v) {
            _mm256_storeu_pd(v + i, _mm256_mul_pd(d0, d0));
            _mm256_storeu_pd(v + i + 4, _mm256_mul_pd(d1, d1));
        }
    }
    double s = hsum_pd(_mm256_add_pd(acc0, acc1));
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
    const __m256 two_s = _mm256_set1_ps((float)(2.0 * a->scale));
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    size_t i = 0, n = a->n;
    for (; i + 8 <= n; i += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(p + i), _mm256_loadu_ps(y + i));
        __m256d dlo = _mm256_cvtps_pd(_mm256_castps256_ps128(d));
        __m256d dhi = _mm256_cvtps_pd(_mm256_extractf128_ps(d, 1));
        acc0 = _mm256_fmadd_pd(dlo, dlo, acc0);
        acc1 = _mm256_fmadd_pd(dhi, dhi, acc1);
        if (g)
            _mm256_storeu_ps(g + i, _mm256_mul_ps(d, two_s));
        if (v)
            _mm256_storeu_ps(v + i, _mm256_mul_ps(d, d));
    }
    double s = hsum_pd(_mm256_add_pd(acc0, acc1));
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

void kern_avx2_fill(kern_table *t)
{
    t->f64[KERN_MSE] = mse_f64;
    t->f32[KERN_MSE] = mse_f32;
}
