/* vmath_avx512: exp, expm1, log and log1p on 8 doubles (AVX-512F/DQ), the algorithms,
 * coefficients and `lite` forms of vmath_avx2.h (see there), each within 2 ulps over the
 * whole double range.
 * AVX-512 does the exponent work itself: scalef applies 2^n with one rounding into the
 * subnormal range and saturation to 0 or inf, getexp/getmant split subnormals as well.
 * Included only by files compiled with the AVX-512 flags. */
#ifndef LOSSD_VMATH_AVX512_H
#define LOSSD_VMATH_AVX512_H

#include <immintrin.h>

#define VM_INLINE static inline __attribute__((always_inline))

#define VM_LOG2E 0x1.71547652b82fep+0
#define VM_EXP_LN2_HI 0x1.62e42fefa39efp-1 /* ln2 rounded: the FMA reduction */
#define VM_EXP_LN2_LO 0x1.abc9e3b39803fp-56
#define VM_LN2_HI 0x1.62e42fef00000p-1 /* 33 bits: n * hi is exact for |n| < 2^20 */
#define VM_LN2_LO 0x1.473de6af278edp-34
#define VM_SQRT2 0x1.6a09e667f3bcdp+0
#define VM_EXP_CLAMP 1100.0 /* beyond it exp is 0 or inf */

VM_INLINE __m512d vm8_c(double v)
{
    return _mm512_set1_pd(v);
}

/* min/max that return x when x is NaN (the second operand wins on NaN). */
VM_INLINE __m512d vm8_clamp(__m512d x, double lo, double hi)
{
    return _mm512_max_pd(vm8_c(lo), _mm512_min_pd(vm8_c(hi), x));
}

/* H(r) = (expm1(r) - r) / r^2 on |r| <= 0.3466, by Estrin's scheme (short dependency
 * chains): degree 10, or degree 6 when `lite` (fit error 2.7e-11, so exp within 4e-12). */
VM_INLINE __m512d vm8_exp_h(__m512d r, int lite)
{
    if (lite) {
        __m512d r2 = _mm512_mul_pd(r, r), r4 = _mm512_mul_pd(r2, r2);
        __m512d h01 = _mm512_fmadd_pd(r, vm8_c(0x1.5555556752826p-3), vm8_c(0x1.0000000000000p-1));
        __m512d h23 = _mm512_fmadd_pd(r, vm8_c(0x1.1110c63476727p-7), vm8_c(0x1.5555555c86d13p-5));
        __m512d h45 =
            _mm512_fmadd_pd(r, vm8_c(0x1.a151760b496bbp-13), vm8_c(0x1.6c16858cf08f7p-10));
        __m512d h46 = _mm512_fmadd_pd(r2, vm8_c(0x1.a1131d0be06e8p-16), h45);
        return _mm512_fmadd_pd(r4, h46, _mm512_fmadd_pd(r2, h23, h01));
    }
    __m512d r2 = _mm512_mul_pd(r, r), r4 = _mm512_mul_pd(r2, r2), r8 = _mm512_mul_pd(r4, r4);
    __m512d h01 = _mm512_fmadd_pd(r, vm8_c(0x1.5555555555557p-3), vm8_c(0x1.0000000000000p-1));
    __m512d h23 = _mm512_fmadd_pd(r, vm8_c(0x1.11111111100dcp-7), vm8_c(0x1.5555555555556p-5));
    __m512d h45 = _mm512_fmadd_pd(r, vm8_c(0x1.a01a01abe78f9p-13), vm8_c(0x1.6c16c16c162d5p-10));
    __m512d h67 = _mm512_fmadd_pd(r, vm8_c(0x1.71de0232f4775p-19), vm8_c(0x1.a01a01a6d84aap-16));
    __m512d h89 = _mm512_fmadd_pd(r, vm8_c(0x1.af4de6a36d4fcp-26), vm8_c(0x1.27e4db653346ep-22));
    __m512d h03 = _mm512_fmadd_pd(r2, h23, h01);
    __m512d h47 = _mm512_fmadd_pd(r2, h67, h45);
    __m512d h810 = _mm512_fmadd_pd(r2, vm8_c(0x1.1f7301a8efa5cp-29), h89);
    return _mm512_fmadd_pd(r8, h810, _mm512_fmadd_pd(r4, h47, h03));
}

/* The shared reduction of exp and expm1 (x already clamped): x = n ln2 + r + c, where
 * hi = x - n LN2_HI is exact (33-bit LN2_HI, and Sterbenz: x is within a factor 2 of
 * n LN2_HI), r = hi - n LN2_LO rounded and c its rounding error. expm1(r + c) = r + p with
 * p = r^2 H(r) + c (1 + r), the part far below r's ulp. */
typedef struct {
    __m512d n, r, p;
} vm8_exp_red;

VM_INLINE vm8_exp_red vm8_exp_reduce(__m512d x, int lite)
{
    __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, vm8_c(VM_LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d hi = _mm512_fnmadd_pd(n, vm8_c(VM_LN2_HI), x);
    __m512d lo = _mm512_mul_pd(n, vm8_c(VM_LN2_LO));
    __m512d r = _mm512_sub_pd(hi, lo);
    __m512d c = _mm512_sub_pd(_mm512_sub_pd(hi, r), lo);
    __m512d h = vm8_exp_h(r, lite);
    __m512d r2 = _mm512_mul_pd(r, r);
    return (vm8_exp_red){n, r, _mm512_fmadd_pd(r2, h, _mm512_fmadd_pd(c, r, c))};
}

/* exp(x) from a reduction of x. */
VM_INLINE __m512d vm8_exp_finish(vm8_exp_red e)
{
    return _mm512_scalef_pd(_mm512_add_pd(vm8_c(1.0), _mm512_add_pd(e.r, e.p)), e.n);
}

/* exp alone needs no correction term: x = n ln2 + r in two FMAs (ln2 split in two doubles)
 * keeps it within 1.1 ulps. */
VM_INLINE __m512d vm8_exp(__m512d x, int lite)
{
    x = vm8_clamp(x, -VM_EXP_CLAMP, VM_EXP_CLAMP);
    __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, vm8_c(VM_LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(n, vm8_c(VM_EXP_LN2_HI), x);
    r = _mm512_fnmadd_pd(n, vm8_c(VM_EXP_LN2_LO), r);
    __m512d q = _mm512_fmadd_pd(_mm512_mul_pd(r, r), vm8_exp_h(r, lite), r);
    return _mm512_scalef_pd(_mm512_add_pd(vm8_c(1.0), q), n);
}

/* expm1(x) = 2^n (r + p) + (2^n - 1), the small part p added last (see vmath_avx2.h); exp(x)
 * itself beyond n = 1000, and -1 below -50. */
VM_INLINE __m512d vm8_expm1(__m512d x, int lite)
{
    vm8_exp_red e = vm8_exp_reduce(vm8_clamp(x, -50.0, VM_EXP_CLAMP), lite);
    __m512d t = _mm512_scalef_pd(vm8_c(1.0), e.n);
    __m512d a = _mm512_fmadd_pd(t, e.r, _mm512_sub_pd(t, vm8_c(1.0)));
    __m512d r = _mm512_fmadd_pd(t, e.p, a);
    __mmask8 big = _mm512_cmp_pd_mask(e.n, vm8_c(1000.0), _CMP_GT_OQ);
    return _mm512_mask_mov_pd(r, big, vm8_exp_finish(e));
}

/* log(1 + f) for 1 + f in [sqrt(1/2), sqrt(2)] plus e ln2; L of degree 6, or 4 when `lite`
 * (fit error 7.3e-12, so log within 2e-13). */
VM_INLINE __m512d vm8_log_core(__m512d e, __m512d f, int lite)
{
    __m512d s = _mm512_div_pd(f, _mm512_add_pd(vm8_c(2.0), f));
    __m512d z = _mm512_mul_pd(s, s), z2 = _mm512_mul_pd(z, z), r;
    if (lite) {
        __m512d l01 = _mm512_fmadd_pd(z, vm8_c(0x1.999998cae671fp-2), vm8_c(0x1.5555555564eb7p-1));
        __m512d l23 = _mm512_fmadd_pd(z, vm8_c(0x1.c67ad18010d25p-3), vm8_c(0x1.249323f5fe0a4p-2));
        __m512d l24 = _mm512_fmadd_pd(z2, vm8_c(0x1.8c8cb725e2db5p-3), l23);
        r = _mm512_mul_pd(z, _mm512_fmadd_pd(z2, l24, l01));
    } else {
        __m512d z4 = _mm512_mul_pd(z2, z2);
        __m512d l01 = _mm512_fmadd_pd(z, vm8_c(0x1.99999999952d7p-2), vm8_c(0x1.5555555555558p-1));
        __m512d l23 = _mm512_fmadd_pd(z, vm8_c(0x1.c71c62e3f11e6p-3), vm8_c(0x1.2492492df281ap-2));
        __m512d l45 = _mm512_fmadd_pd(z, vm8_c(0x1.39fe51a7c18f9p-3), vm8_c(0x1.7462b51cb66b1p-3));
        __m512d l46 = _mm512_fmadd_pd(z2, vm8_c(0x1.2b5900de53b32p-3), l45);
        r = _mm512_mul_pd(z, _mm512_fmadd_pd(z4, l46, _mm512_fmadd_pd(z2, l23, l01)));
    }
    __m512d hfsq = _mm512_mul_pd(vm8_c(0.5), _mm512_mul_pd(f, f));
    __m512d tail = _mm512_fmadd_pd(s, _mm512_add_pd(hfsq, r), _mm512_mul_pd(e, vm8_c(VM_LN2_LO)));
    return _mm512_fmadd_pd(e, vm8_c(VM_LN2_HI), _mm512_sub_pd(f, _mm512_sub_pd(hfsq, tail)));
}

/* x = 2^e m with m in [sqrt(1/2), sqrt(2)) for positive x, subnormals included: returns e,
 * sets f = m - 1. */
VM_INLINE __m512d vm8_split(__m512d x, __m512d *f)
{
    __m512d m = _mm512_getmant_pd(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);
    __m512d e = _mm512_getexp_pd(x);
    __mmask8 hi = _mm512_cmp_pd_mask(m, vm8_c(VM_SQRT2), _CMP_GE_OQ);
    m = _mm512_mask_mul_pd(m, hi, m, vm8_c(0.5));
    *f = _mm512_sub_pd(m, vm8_c(1.0));
    return _mm512_mask_add_pd(e, hi, e, vm8_c(1.0));
}

/* log's value where x is not positive and finite: -inf at +-0, +inf at +inf, else NaN. */
VM_INLINE __m512d vm8_log_special(__m512d x, __m512d res)
{
    __mmask8 ok = _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_GT_OQ) &
                  _mm512_cmp_pd_mask(x, vm8_c(__builtin_inf()), _CMP_LT_OQ);
    if (ok == 0xff)
        return res;
    __mmask8 inf = _mm512_cmp_pd_mask(x, vm8_c(__builtin_inf()), _CMP_EQ_OQ);
    __mmask8 zero = _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_EQ_OQ);
    __m512d sp = _mm512_mask_mov_pd(vm8_c(__builtin_nan("")), inf, x);
    sp = _mm512_mask_mov_pd(sp, zero, vm8_c(-__builtin_inf()));
    return _mm512_mask_mov_pd(sp, ok, res);
}

VM_INLINE __m512d vm8_log(__m512d x, int lite)
{
    __m512d f, e = vm8_split(x, &f);
    return vm8_log_special(x, vm8_log_core(e, f, lite));
}

/* log1p(x): on u = 1 + x, with u's rounding error d (exact, by TwoSum) added as f + d 2^-e,
 * which keeps tiny x exact. */
VM_INLINE __m512d vm8_log1p(__m512d x, int lite)
{
    __m512d one = vm8_c(1.0), u = _mm512_add_pd(one, x);
    __m512d xb = _mm512_sub_pd(u, one), ob = _mm512_sub_pd(u, xb);
    __m512d d = _mm512_add_pd(_mm512_sub_pd(one, ob), _mm512_sub_pd(x, xb)), f;
    __m512d e = vm8_split(u, &f);
    f = _mm512_add_pd(f, _mm512_scalef_pd(d, _mm512_sub_pd(_mm512_setzero_pd(), e)));
    return vm8_log_special(u, vm8_log_core(e, f, lite));
}

/* log1p(x) for x in [0, 1] (e.g. exp(-|z|) in softplus): u = 1 + x splits without rounding,
 * 1 + f = u (k = 0) below sqrt(2), else 1 + f = u / 2 (k = 1) with f = x/2 - 1/2 rounded once;
 * NaN propagates. Outside [0, 1] the result is meaningless. */
VM_INLINE __m512d vm8_log1p_01(__m512d x, int lite)
{
    __mmask8 big = _mm512_cmp_pd_mask(x, vm8_c(VM_SQRT2 - 1.0), _CMP_GE_OQ);
    __m512d f = _mm512_mask_fmadd_pd(x, big, vm8_c(0.5), vm8_c(-0.5));
    return vm8_log_core(_mm512_maskz_mov_pd(big, vm8_c(1.0)), f, lite);
}

/* log(p) and log(1 - p) for p in [0, 1] (BCE): with a = min(p, 1 - p), exact, log(a) takes
 * the general split (no special cases: getexp(0) = -inf carries a = 0 to -inf) and
 * log(1 - a) splits without rounding: 1 + f = 1 - a (k = 0) for a <= 1 - sqrt(1/2), else
 * 1 + f = 2 - 2a (k = -1), f = -a or 1 - 2a exactly. Outside [0, 1] the results are
 * meaningless. */
VM_INLINE void vm8_log_pq(__m512d p, __m512d *lp, __m512d *lq, int lite)
{
    __m512d q = _mm512_sub_pd(vm8_c(1.0), p), a = _mm512_min_pd(p, q), fa;
    __m512d ea = vm8_split(a, &fa), la = vm8_log_core(ea, fa, lite);
    __mmask8 big = _mm512_cmp_pd_mask(a, vm8_c(1.0 - 0.5 * VM_SQRT2), _CMP_GT_OQ);
    __m512d f = _mm512_mask_fmadd_pd(_mm512_sub_pd(_mm512_setzero_pd(), a), big, vm8_c(2.0),
                                     vm8_c(1.0)); /* -a, or -a * 2 + 1 */
    __m512d lb = vm8_log_core(_mm512_maskz_mov_pd(big, vm8_c(-1.0)), f, lite);
    __mmask8 low = _mm512_cmp_pd_mask(p, q, _CMP_LE_OQ);
    *lp = _mm512_mask_mov_pd(lb, low, la);
    *lq = _mm512_mask_mov_pd(la, low, lb);
}

#endif
