/* vec_avx512: what the AVX-512 (F, DQ, VL) lanes do their own way, for vec.h (which builds
 * the regular operations from VEC_PD/VEC_PS and these): vd = 8 doubles, vf = 16 floats;
 * masks live in mask registers and every tail is a masked load or store; AVX-512 does the
 * exponent work itself (scalef applies 2^n with one rounding into the subnormal range and
 * saturates to 0 or inf; getexp/getmant split subnormals as well).
 * Included only through vec.h, by files compiled with the AVX-512 flags. */
#ifndef LOSSD_VEC_AVX512_H
#define LOSSD_VEC_AVX512_H

/* Mask registers combine as integers. */
VEC_INLINE vdm vd_mor(vdm a, vdm b)
{
    return a | b;
}
VEC_INLINE vfm vf_mor(vfm a, vfm b)
{
    return a | b;
}
VEC_INLINE vdm vd_mand(vdm a, vdm b)
{
    return a & b;
}
VEC_INLINE vfm vf_mand(vfm a, vfm b)
{
    return a & b;
}
VEC_INLINE vdm vd_mnone(void)
{
    return 0;
}
VEC_INLINE vfm vf_mnone(void)
{
    return 0;
}
VEC_INLINE int vd_mbits(vdm m)
{
    return m;
}
VEC_INLINE int vf_mbits(vfm m)
{
    return m;
}
#define vd_cmp(a, b, pred) _mm512_cmp_pd_mask(a, b, pred)
#define vf_cmp(a, b, pred) _mm512_cmp_ps_mask(a, b, pred)

VEC_INLINE vdm vd_tmask(size_t r)
{
    return (vdm)(r >= 8 ? 0xffu : (1u << r) - 1);
}
VEC_INLINE vfm vf_tmask(size_t r)
{
    return (vfm)(r >= 16 ? 0xffffu : (1u << r) - 1);
}
VEC_INLINE vdm vd_lane(size_t k)
{
    return (vdm)(1u << k);
}

VEC_INLINE vd vd_load_tail(const double *p, size_t r)
{
    return _mm512_maskz_loadu_pd(vd_tmask(r), p);
}
VEC_INLINE vf vf_load_tail(const float *p, size_t r)
{
    return _mm512_maskz_loadu_ps(vf_tmask(r), p);
}
VEC_INLINE void vd_store_tail(double *p, size_t r, vd v)
{
    _mm512_mask_storeu_pd(p, vd_tmask(r), v);
}
VEC_INLINE void vf_store_tail(float *p, size_t r, vf v)
{
    _mm512_mask_storeu_ps(p, vf_tmask(r), v);
}
VEC_INLINE __m256 vec_half_load_tail(const float *p, size_t r)
{
    return _mm256_maskz_loadu_ps(vd_tmask(r), p);
}
VEC_INLINE void vec_half_store_tail(float *p, size_t r, __m256 v)
{
    _mm256_mask_storeu_ps(p, vd_tmask(r), v);
}

#define VEC_NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
VEC_INLINE vd vd_round(vd x)
{
    return _mm512_roundscale_pd(x, VEC_NEAREST);
}
VEC_INLINE vf vf_round(vf x)
{
    return _mm512_roundscale_ps(x, VEC_NEAREST);
}

VEC_INLINE double vd_hsum(vd v)
{
    return _mm512_reduce_add_pd(v);
} /* a fixed tree */
VEC_INLINE double vd_hmax(vd v)
{
    return _mm512_reduce_max_pd(v);
}

VEC_INLINE vd vf_widen_lo(vf v)
{
    return _mm512_cvtps_pd(_mm512_castps512_ps256(v));
}
VEC_INLINE vd vf_widen_hi(vf v)
{
    return _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
}
VEC_INLINE vf vf_narrow(vd lo, vd hi)
{
    __m512 low = _mm512_castps256_ps512(_mm512_cvtpd_ps(lo));
    return _mm512_insertf32x8(low, _mm512_cvtpd_ps(hi), 1);
}

/* ---- exponent work for the vector math ---- */

/* One body for both lane types: T, its intrinsics S, and sqrt(2) in T. */
/* clang-format off */
#define VEC_EXPONENT_OPS(T, S, sqrt2)                                                              \
    VEC_INLINE T T##_scale(T y, T n) { return S(scalef)(y, n); }                                 \
    VEC_INLINE T T##_pow2i(T n) { return T##_scale(S(set1)(1.0), n); }                           \
    VEC_INLINE T T##_add_scaled(T f, T d, T e)                                                   \
    {                                                                                              \
        return S(add)(f, T##_scale(d, S(sub)(S(setzero)(), e)));                                 \
    }                                                                                              \
    /* getmant in [1, 2) is halved from sqrt(2) up, with the exponent raised to match */          \
    VEC_INLINE T T##_split(T x, T *f)                                                            \
    {                                                                                              \
        T m = S(getmant)(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero), e = S(getexp)(x);            \
        T##m hi = VEC_CAT2(S(cmp), _mask)(m, S(set1)(sqrt2), _CMP_GE_OQ);                                   \
        *f = S(sub)(S(mask_mul)(m, hi, m, S(set1)(0.5)), S(set1)(1.0));                          \
        return S(mask_add)(e, hi, e, S(set1)(1.0));                                              \
    }                                                                                              \
    VEC_INLINE T T##_split_any(T x, T *f) { return T##_split(x, f); }

VEC_EXPONENT_OPS(vd, VEC_PD, 0x1.6a09e667f3bcdp+0)
VEC_EXPONENT_OPS(vf, VEC_PS, 0x1.6a09e6p+0f)
/* clang-format on */

/* ---- class indices (cross-entropy rows) ---- */

typedef __m256i vdi; /* VD_N int32: gather offsets */

VEC_INLINE vdi vdi_iota_mul(size_t k)
{
    vdi iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_mullo_epi32(iota, _mm256_set1_epi32((int)k));
}
VEC_INLINE vdi vdi_loadu(const int32_t *p)
{
    return _mm256_loadu_si256((const void *)p);
}
VEC_INLINE vd vd_gather(const double *base, vdi idx, vdm m)
{
    return _mm512_mask_i32gather_pd(_mm512_setzero_pd(), m, idx, base, 8);
}
VEC_INLINE vq vq_load_tail(const int64_t *p, size_t r)
{
    return _mm512_maskz_loadu_epi64(vd_tmask(r), p);
}
VEC_INLINE vdm vq_eq(vq t, size_t c)
{
    return _mm512_cmpeq_epi64_mask(t, _mm512_set1_epi64((long long)c));
}
/* Unsigned: a negative index compares above any class count. */
VEC_INLINE vdm vq_outside(vq t, size_t classes)
{
    return _mm512_cmp_epu64_mask(t, _mm512_set1_epi64((long long)classes), _MM_CMPINT_NLT);
}

#endif
