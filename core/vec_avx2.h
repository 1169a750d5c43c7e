/* vec_avx2: what the AVX2+FMA lanes do their own way, for vec.h (which builds the regular
 * operations from VEC_PD/VEC_PS and these): vd = 4 doubles, vf = 8 floats; masks are full
 * lanes (all ones or zero) in vector registers, selected with blendv; tails go through
 * maskload/maskstore with integer masks; 2^n is built in the exponent field (with a two-step
 * form for subnormal results) and logs split their argument by integer arithmetic.
 * Included only through vec.h, by files compiled with -mavx2 -mfma. */
#ifndef LOSSD_VEC_AVX2_H
#define LOSSD_VEC_AVX2_H

/* Masks combine as the vectors they are. */
#define vd_mor vd_or
#define vd_mand vd_and
#define vf_mor vf_or
#define vf_mand vf_and
#define vd_mnone vd_zero
#define vf_mnone vf_zero
#define vd_cmp(a, b, pred) _mm256_cmp_pd(a, b, pred)
#define vf_cmp(a, b, pred) _mm256_cmp_ps(a, b, pred)
VEC_INLINE int vd_mbits(vdm m)
{
    return _mm256_movemask_pd(m);
}
VEC_INLINE int vf_mbits(vfm m)
{
    return _mm256_movemask_ps(m);
}

/* Lanes [0, r) set (r may exceed the lane count), and lane k alone. */
VEC_INLINE __m256i vec_iota64(void)
{
    return _mm256_setr_epi64x(0, 1, 2, 3);
}
VEC_INLINE vdm vd_tmask(size_t r)
{
    __m256i k = _mm256_set1_epi64x(r > 4 ? 4 : (long long)r);
    return _mm256_castsi256_pd(_mm256_cmpgt_epi64(k, vec_iota64()));
}
VEC_INLINE vdm vd_lane(size_t k)
{
    __m256i kk = _mm256_set1_epi64x((long long)k);
    return _mm256_castsi256_pd(_mm256_cmpeq_epi64(kk, vec_iota64()));
}
VEC_INLINE vfm vf_tmask(size_t r)
{
    __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(r > 8 ? 8 : (int)r), iota));
}
/* The float mask of the first r of VD_N lanes. */
VEC_INLINE __m128i vec_half_mask(size_t r)
{
    __m128i iota = _mm_setr_epi32(0, 1, 2, 3);
    return _mm_cmpgt_epi32(_mm_set1_epi32(r > 4 ? 4 : (int)r), iota);
}

/* Lanes [0, r) of memory; the others read as 0 and are never written. */
#define VEC_IMASK_D(r) _mm256_castpd_si256(vd_tmask(r))
#define VEC_IMASK_F(r) _mm256_castps_si256(vf_tmask(r))
VEC_INLINE vd vd_load_tail(const double *p, size_t r)
{
    return _mm256_maskload_pd(p, VEC_IMASK_D(r));
}
VEC_INLINE void vd_store_tail(double *p, size_t r, vd v)
{
    _mm256_maskstore_pd(p, VEC_IMASK_D(r), v);
}
VEC_INLINE vf vf_load_tail(const float *p, size_t r)
{
    return _mm256_maskload_ps(p, VEC_IMASK_F(r));
}
VEC_INLINE void vf_store_tail(float *p, size_t r, vf v)
{
    _mm256_maskstore_ps(p, VEC_IMASK_F(r), v);
}
VEC_INLINE __m128 vec_half_load_tail(const float *p, size_t r)
{
    return _mm_maskload_ps(p, vec_half_mask(r));
}
VEC_INLINE void vec_half_store_tail(float *p, size_t r, __m128 v)
{
    _mm_maskstore_ps(p, vec_half_mask(r), v);
}

VEC_INLINE vd vd_round(vd x)
{
    return _mm256_round_pd(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
VEC_INLINE vf vf_round(vf x)
{
    return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

/* Horizontal sum in a fixed order (determinism), and maximum (no NaN lanes). */
VEC_INLINE double vd_hsum(vd v)
{
    __m128d lo = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(lo) + _mm_cvtsd_f64(_mm_unpackhi_pd(lo, lo));
}
VEC_INLINE double vd_hmax(vd v)
{
    __m128d h = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    double a = _mm_cvtsd_f64(h), b = _mm_cvtsd_f64(_mm_unpackhi_pd(h, h));
    return a > b ? a : b;
}

/* The low and high halves of 8 floats as doubles. */
VEC_INLINE vd vf_widen_lo(vf v)
{
    return _mm256_cvtps_pd(_mm256_castps256_ps128(v));
}
VEC_INLINE vd vf_widen_hi(vf v)
{
    return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
}
/* Two doubles' halves rounded to 8 floats (lo first). */
VEC_INLINE vf vf_narrow(vd lo, vd hi)
{
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
}

/* ---- exponent work for the vector math ---- */

/* 2^n for integer-valued n in [-1022, 1023]: n + 1023 lands in the low bits of
 * n + 2^52 + 1023, and a shift moves it to the exponent field. */
VEC_INLINE vd vd_pow2i(vd n)
{
    __m256i biased = _mm256_castpd_si256(_mm256_add_pd(n, _mm256_set1_pd(0x1p52 + 1023.0)));
    return _mm256_castsi256_pd(_mm256_slli_epi64(biased, 52));
}

/* y 2^n for integer-valued |n| <= 2200 with one rounding: one factor while every lane stays
 * normal, else two (the first product exact, the second rounds once into the subnormal range
 * or overflows to inf). */
VEC_INLINE vd vd_scale(vd y, vd n)
{
    __m256d far = _mm256_cmp_pd(_mm256_andnot_pd(_mm256_set1_pd(-0.0), n), _mm256_set1_pd(1022.0),
                                _CMP_GT_OQ);
    if (!_mm256_movemask_pd(far))
        return _mm256_mul_pd(y, vd_pow2i(n));
    vd n1 = vd_round(_mm256_mul_pd(n, _mm256_set1_pd(0.5)));
    return _mm256_mul_pd(_mm256_mul_pd(y, vd_pow2i(n1)), vd_pow2i(_mm256_sub_pd(n, n1)));
}

/* f + d 2^-e for the exponent e of a normal number, in one FMA. */
VEC_INLINE vd vd_add_scaled(vd f, vd d, vd e)
{
    __m256d ne = _mm256_max_pd(_mm256_sub_pd(_mm256_setzero_pd(), e), _mm256_set1_pd(-1022.0));
    return _mm256_fmadd_pd(d, vd_pow2i(_mm256_min_pd(ne, _mm256_set1_pd(1022.0))), f);
}

/* Splits a positive normal x into 2^e m, m in [sqrt(1/2), sqrt(2)): returns e, sets
 * f = m - 1. Subtracting sqrt(1/2)'s bits puts m's boundary on an exponent step; the 2^62
 * offset keeps the shifted difference non-negative, so a logical shift serves; eb = e + 1024
 * < 2^52 OR-ed into 2^52's mantissa converts to double exactly. */
#define VEC_SQRT1_2_BITS 0x3fe6a09e667f3bcdLL
VEC_INLINE vd vd_split(vd x, vd *f)
{
    __m256i k = _mm256_sub_epi64(_mm256_castpd_si256(x), _mm256_set1_epi64x(VEC_SQRT1_2_BITS));
    __m256i eb = _mm256_srli_epi64(_mm256_add_epi64(k, _mm256_set1_epi64x(1LL << 62)), 52);
    __m256i mant = _mm256_and_si256(k, _mm256_set1_epi64x((1LL << 52) - 1));
    __m256i mb = _mm256_add_epi64(mant, _mm256_set1_epi64x(VEC_SQRT1_2_BITS));
    *f = _mm256_sub_pd(_mm256_castsi256_pd(mb), _mm256_set1_pd(1.0));
    __m256d ed = _mm256_castsi256_pd(_mm256_or_si256(eb, _mm256_set1_epi64x(0x4330000000000000LL)));
    return _mm256_sub_pd(ed, _mm256_set1_pd(0x1p52 + 1024.0));
}

/* The same for any positive finite x: subnormals are scaled by 2^52 first. */
VEC_INLINE vd vd_split_any(vd x, vd *f)
{
    __m256d sub = _mm256_cmp_pd(x, _mm256_set1_pd(0x1p-1022), _CMP_LT_OQ);
    __m256d xs = _mm256_blendv_pd(x, _mm256_mul_pd(x, _mm256_set1_pd(0x1p52)), sub);
    return _mm256_sub_pd(vd_split(xs, f), _mm256_and_pd(sub, _mm256_set1_pd(52.0)));
}

/* The same for float lanes: 2^n for n in [-126, 127] (n + 127 into the exponent field),
 * y 2^n with one rounding for |n| <= 252, f + d 2^-e, and the split of positive x, where
 * AVX2's int32 conversion takes the exponent directly. */
VEC_INLINE vf vf_pow2i(vf n)
{
    __m256i biased = _mm256_castps_si256(_mm256_add_ps(n, _mm256_set1_ps(0x1p23f + 127.0f)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(biased, 23));
}

VEC_INLINE vf vf_scale(vf y, vf n)
{
    __m256 far = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), n), _mm256_set1_ps(126.0f),
                               _CMP_GT_OQ);
    if (!_mm256_movemask_ps(far))
        return _mm256_mul_ps(y, vf_pow2i(n));
    vf n1 = vf_round(_mm256_mul_ps(n, _mm256_set1_ps(0.5f)));
    return _mm256_mul_ps(_mm256_mul_ps(y, vf_pow2i(n1)), vf_pow2i(_mm256_sub_ps(n, n1)));
}

VEC_INLINE vf vf_add_scaled(vf f, vf d, vf e)
{
    __m256 ne = _mm256_max_ps(_mm256_sub_ps(_mm256_setzero_ps(), e), _mm256_set1_ps(-126.0f));
    return _mm256_fmadd_ps(d, vf_pow2i(_mm256_min_ps(ne, _mm256_set1_ps(126.0f))), f);
}

#define VEC_SQRT1_2F_BITS 0x3f3504f3 /* sqrt(1/2) rounded to float */
VEC_INLINE vf vf_split(vf x, vf *f)
{
    __m256i k = _mm256_sub_epi32(_mm256_castps_si256(x), _mm256_set1_epi32(VEC_SQRT1_2F_BITS));
    __m256i mant = _mm256_and_si256(k, _mm256_set1_epi32((1 << 23) - 1));
    __m256i mb = _mm256_add_epi32(mant, _mm256_set1_epi32(VEC_SQRT1_2F_BITS));
    *f = _mm256_sub_ps(_mm256_castsi256_ps(mb), _mm256_set1_ps(1.0f));
    return _mm256_cvtepi32_ps(_mm256_srai_epi32(k, 23));
}

VEC_INLINE vf vf_split_any(vf x, vf *f)
{
    __m256 sub = _mm256_cmp_ps(x, _mm256_set1_ps(0x1p-126f), _CMP_LT_OQ);
    __m256 xs = _mm256_blendv_ps(x, _mm256_mul_ps(x, _mm256_set1_ps(0x1p23f)), sub);
    return _mm256_sub_ps(vf_split(xs, f), _mm256_and_ps(sub, _mm256_set1_ps(23.0f)));
}

/* ---- class indices (cross-entropy rows) ---- */

typedef __m128i vdi; /* VD_N int32: gather offsets */

/* {0, k, 2k, 3k}: gather offsets of VD_N rows of k classes. */
VEC_INLINE vdi vdi_iota_mul(size_t k)
{
    return _mm_mullo_epi32(_mm_setr_epi32(0, 1, 2, 3), _mm_set1_epi32((int)k));
}
VEC_INLINE vdi vdi_loadu(const int32_t *p)
{
    return _mm_loadu_si128((const __m128i *)p);
}
/* Lanes of m gathered from base[idx], the others 0. */
VEC_INLINE vd vd_gather(const double *base, vdi idx, vdm m)
{
    return _mm256_mask_i32gather_pd(_mm256_setzero_pd(), base, idx, m, 8);
}
VEC_INLINE vq vq_load_tail(const int64_t *p, size_t r)
{
    return _mm256_maskload_epi64((const long long *)p, VEC_IMASK_D(r));
}
VEC_INLINE vdm vq_eq(vq t, size_t c)
{
    return _mm256_castsi256_pd(_mm256_cmpeq_epi64(t, _mm256_set1_epi64x((long long)c)));
}
/* Lanes whose index lies outside [0, classes), by two signed comparisons. */
VEC_INLINE vdm vq_outside(vq t, size_t classes)
{
    __m256i neg = _mm256_cmpgt_epi64(_mm256_setzero_si256(), t);
    __m256i big = _mm256_cmpgt_epi64(t, _mm256_set1_epi64x((long long)classes - 1));
    return _mm256_castsi256_pd(_mm256_or_si256(neg, big));
}

#endif
