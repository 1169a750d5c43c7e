/* vmath_avx2: exp, expm1, log and log1p on 4 doubles (AVX2+FMA), each within 2 ulps of the
 * correctly rounded result over the whole double range (subnormals, 0, +-inf, NaN as libm),
 * and the restricted forms the losses use. Every function takes `lite` (a constant at each
 * call): 1 selects shorter polynomials for the float32 kernels (kern.h, vm_f32).
 * Included only by files compiled with -mavx2 -mfma. Algorithms (written for lossd):
 *   exp:  x = n ln2 + r in two FMAs, exp = 2^n (1 + r + r^2 H(r)), the 2^n split in two
 *         factors when it leaves the normal range (subnormal results);
 *   expm1: x = n ln2 + r + c (Cody-Waite, c = r's rounding error), expm1(r + c) = r + p,
 *         p = r^2 H(r) + c (1 + r), expm1 = 2^n (r + p) + 2^n - 1;
 *   log:  x = 2^e (1 + f), 1 + f in [sqrt(1/2), sqrt(2)), s = f / (2 + f),
 *         log(1 + f) = f - (f^2/2 - s (f^2/2 + z L(z))), z = s^2 (fdlibm's arrangement);
 *   log1p: the same on u = 1 + x, with u's rounding error (TwoSum) added back into f.
 * Coefficients: scripts/vmath_coeffs.py. */
#ifndef LOSSD_VMATH_AVX2_H
#define LOSSD_VMATH_AVX2_H

#include <immintrin.h>

#define VM_INLINE static inline __attribute__((always_inline))

#define VM_LOG2E 0x1.71547652b82fep+0
#define VM_EXP_LN2_HI 0x1.62e42fefa39efp-1 /* ln2 rounded: the FMA reduction */
#define VM_EXP_LN2_LO 0x1.abc9e3b39803fp-56
#define VM_LN2_HI 0x1.62e42fef00000p-1 /* 33 bits: n * hi is exact for |n| < 2^20 */
#define VM_LN2_LO 0x1.473de6af278edp-34
#define VM_SQRT2 0x1.6a09e667f3bcdp+0
#define VM_SQRT1_2_BITS 0x3fe6a09e667f3bcdLL
#define VM_EXP_CLAMP 1100.0 /* beyond it exp is 0 or inf, and n stays well inside int range */

/* Lanes of m set pick a, others b. */
VM_INLINE __m256d vm4_pick(__m256d m, __m256d a, __m256d b)
{
    return _mm256_blendv_pd(b, a, m);
}

VM_INLINE __m256d vm4_c(double v)
{
    return _mm256_set1_pd(v);
}

/* 2^n for integer-valued n in [-1022, 1023], built in the exponent field. */
VM_INLINE __m256d vm4_pow2i(__m256d n)
{
    __m256d biased = _mm256_add_pd(n, vm4_c(0x1p52 + 1023.0)); /* low bits hold n + 1023 */
    return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(biased), 52));
}

/* y * 2^n for integer-valued |n| <= 2200 with one rounding: a single factor while every lane
 * stays normal, else two factors (the first product is exact, the second rounds once into
 * the subnormal range or overflows to inf). */
VM_INLINE __m256d vm4_scale(__m256d y, __m256d n)
{
    __m256d out = _mm256_cmp_pd(_mm256_andnot_pd(vm4_c(-0.0), n), vm4_c(1022.0), _CMP_GT_OQ);
    if (!_mm256_movemask_pd(out))
        return _mm256_mul_pd(y, vm4_pow2i(n));
    __m256d n1 = _mm256_round_pd(_mm256_mul_pd(n, vm4_c(0.5)),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm256_mul_pd(_mm256_mul_pd(y, vm4_pow2i(n1)), vm4_pow2i(_mm256_sub_pd(n, n1)));
}

/* min/max that return x when x is NaN (the second operand wins on NaN). */
VM_INLINE __m256d vm4_clamp(__m256d x, double lo, double hi)
{
    return _mm256_max_pd(vm4_c(lo), _mm256_min_pd(vm4_c(hi), x));
}

/* H(r) = (expm1(r) - r) / r^2 on |r| <= 0.3466, by Estrin's scheme (short dependency
 * chains): degree 10, or degree 6 when `lite` (fit error 2.7e-11, so exp within 4e-12). */
VM_INLINE __m256d vm4_exp_h(__m256d r, int lite)
{
    if (lite) {
        __m256d r2 = _mm256_mul_pd(r, r), r4 = _mm256_mul_pd(r2, r2);
        __m256d h01 = _mm256_fmadd_pd(r, vm4_c(0x1.5555556752826p-3), vm4_c(0x1.0000000000000p-1));
        __m256d h23 = _mm256_fmadd_pd(r, vm4_c(0x1.1110c63476727p-7), vm4_c(0x1.5555555c86d13p-5));
        __m256d h45 =
            _mm256_fmadd_pd(r, vm4_c(0x1.a151760b496bbp-13), vm4_c(0x1.6c16858cf08f7p-10));
        __m256d h46 = _mm256_fmadd_pd(r2, vm4_c(0x1.a1131d0be06e8p-16), h45);
        return _mm256_fmadd_pd(r4, h46, _mm256_fmadd_pd(r2, h23, h01));
    }
    __m256d r2 = _mm256_mul_pd(r, r), r4 = _mm256_mul_pd(r2, r2), r8 = _mm256_mul_pd(r4, r4);
    __m256d h01 = _mm256_fmadd_pd(r, vm4_c(0x1.5555555555557p-3), vm4_c(0x1.0000000000000p-1));
    __m256d h23 = _mm256_fmadd_pd(r, vm4_c(0x1.11111111100dcp-7), vm4_c(0x1.5555555555556p-5));
    __m256d h45 = _mm256_fmadd_pd(r, vm4_c(0x1.a01a01abe78f9p-13), vm4_c(0x1.6c16c16c162d5p-10));
    __m256d h67 = _mm256_fmadd_pd(r, vm4_c(0x1.71de0232f4775p-19), vm4_c(0x1.a01a01a6d84aap-16));
    __m256d h89 = _mm256_fmadd_pd(r, vm4_c(0x1.af4de6a36d4fcp-26), vm4_c(0x1.27e4db653346ep-22));
    __m256d h03 = _mm256_fmadd_pd(r2, h23, h01);
    __m256d h47 = _mm256_fmadd_pd(r2, h67, h45);
    __m256d h810 = _mm256_fmadd_pd(r2, vm4_c(0x1.1f7301a8efa5cp-29), h89);
    return _mm256_fmadd_pd(r8, h810, _mm256_fmadd_pd(r4, h47, h03));
}

/* The shared reduction of exp and expm1 (x already clamped): x = n ln2 + r + c, where
 * hi = x - n LN2_HI is exact (33-bit LN2_HI, and Sterbenz: x is within a factor 2 of
 * n LN2_HI), r = hi - n LN2_LO rounded and c its rounding error. expm1(r + c) = r + p with
 * p = r^2 H(r) + c (1 + r), the part far below r's ulp. */
typedef struct {
    __m256d n, r, p;
} vm4_exp_red;

VM_INLINE vm4_exp_red vm4_exp_reduce(__m256d x, int lite)
{
    __m256d n = _mm256_round_pd(_mm256_mul_pd(x, vm4_c(VM_LOG2E)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d hi = _mm256_fnmadd_pd(n, vm4_c(VM_LN2_HI), x);
    __m256d lo = _mm256_mul_pd(n, vm4_c(VM_LN2_LO));
    __m256d r = _mm256_sub_pd(hi, lo);
    __m256d c = _mm256_sub_pd(_mm256_sub_pd(hi, r), lo);
    __m256d h = vm4_exp_h(r, lite);
    __m256d r2 = _mm256_mul_pd(r, r);
    return (vm4_exp_red){n, r, _mm256_fmadd_pd(r2, h, _mm256_fmadd_pd(c, r, c))};
}

/* exp(x) from a reduction of x. */
VM_INLINE __m256d vm4_exp_finish(vm4_exp_red e)
{
    return vm4_scale(_mm256_add_pd(vm4_c(1.0), _mm256_add_pd(e.r, e.p)), e.n);
}

/* exp alone needs no correction term: x = n ln2 + r in two FMAs (ln2 split in two doubles)
 * keeps it within 1.1 ulps. */
VM_INLINE __m256d vm4_exp(__m256d x, int lite)
{
    x = vm4_clamp(x, -VM_EXP_CLAMP, VM_EXP_CLAMP);
    __m256d n = _mm256_round_pd(_mm256_mul_pd(x, vm4_c(VM_LOG2E)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d r = _mm256_fnmadd_pd(n, vm4_c(VM_EXP_LN2_HI), x);
    r = _mm256_fnmadd_pd(n, vm4_c(VM_EXP_LN2_LO), r);
    __m256d q = _mm256_fmadd_pd(_mm256_mul_pd(r, r), vm4_exp_h(r, lite), r);
    return vm4_scale(_mm256_add_pd(vm4_c(1.0), q), n);
}

/* expm1(x) = 2^n (r + p) + (2^n - 1), summed so that the small part p is added last:
 * within 1 ulp where cancellation threatens (n = +-1). For n > 1000 it is exp(x) (the 1 is
 * below its ulp); below -50 every result is -1. */
VM_INLINE __m256d vm4_expm1(__m256d x, int lite)
{
    vm4_exp_red e = vm4_exp_reduce(vm4_clamp(x, -50.0, VM_EXP_CLAMP), lite);
    __m256d t = vm4_pow2i(_mm256_min_pd(e.n, vm4_c(1000.0)));
    __m256d a = _mm256_fmadd_pd(t, e.r, _mm256_sub_pd(t, vm4_c(1.0)));
    __m256d r = _mm256_fmadd_pd(t, e.p, a);
    __m256d big = _mm256_cmp_pd(e.n, vm4_c(1000.0), _CMP_GT_OQ);
    if (_mm256_movemask_pd(big))
        r = vm4_pick(big, vm4_exp_finish(e), r);
    return r;
}

/* log(1 + f) for 1 + f in [sqrt(1/2), sqrt(2)] plus e ln2; L of degree 6, or 4 when `lite`
 * (fit error 7.3e-12, so log within 2e-13). */
VM_INLINE __m256d vm4_log_core(__m256d e, __m256d f, int lite)
{
    __m256d s = _mm256_div_pd(f, _mm256_add_pd(vm4_c(2.0), f));
    __m256d z = _mm256_mul_pd(s, s), z2 = _mm256_mul_pd(z, z), r;
    if (lite) {
        __m256d l01 = _mm256_fmadd_pd(z, vm4_c(0x1.999998cae671fp-2), vm4_c(0x1.5555555564eb7p-1));
        __m256d l23 = _mm256_fmadd_pd(z, vm4_c(0x1.c67ad18010d25p-3), vm4_c(0x1.249323f5fe0a4p-2));
        __m256d l24 = _mm256_fmadd_pd(z2, vm4_c(0x1.8c8cb725e2db5p-3), l23);
        r = _mm256_mul_pd(z, _mm256_fmadd_pd(z2, l24, l01));
    } else {
        __m256d z4 = _mm256_mul_pd(z2, z2);
        __m256d l01 = _mm256_fmadd_pd(z, vm4_c(0x1.99999999952d7p-2), vm4_c(0x1.5555555555558p-1));
        __m256d l23 = _mm256_fmadd_pd(z, vm4_c(0x1.c71c62e3f11e6p-3), vm4_c(0x1.2492492df281ap-2));
        __m256d l45 = _mm256_fmadd_pd(z, vm4_c(0x1.39fe51a7c18f9p-3), vm4_c(0x1.7462b51cb66b1p-3));
        __m256d l46 = _mm256_fmadd_pd(z2, vm4_c(0x1.2b5900de53b32p-3), l45);
        r = _mm256_mul_pd(z, _mm256_fmadd_pd(z4, l46, _mm256_fmadd_pd(z2, l23, l01)));
    }
    __m256d hfsq = _mm256_mul_pd(vm4_c(0.5), _mm256_mul_pd(f, f));
    __m256d tail = _mm256_fmadd_pd(s, _mm256_add_pd(hfsq, r), _mm256_mul_pd(e, vm4_c(VM_LN2_LO)));
    return _mm256_fmadd_pd(e, vm4_c(VM_LN2_HI), _mm256_sub_pd(f, _mm256_sub_pd(hfsq, tail)));
}

/* Splits a positive normal x into 2^e m, m in [sqrt(1/2), sqrt(2)): e (as a double) and
 * f = m - 1. Subtracting sqrt(1/2)'s bits puts m's boundary on an exponent step; the 2^62
 * offset keeps the shifted difference non-negative, so a logical shift serves. */
VM_INLINE __m256d vm4_split(__m256d x, __m256d *f)
{
    __m256i k = _mm256_sub_epi64(_mm256_castpd_si256(x), _mm256_set1_epi64x(VM_SQRT1_2_BITS));
    __m256i eb = _mm256_srli_epi64(_mm256_add_epi64(k, _mm256_set1_epi64x(1LL << 62)), 52);
    __m256i mb = _mm256_add_epi64(_mm256_and_si256(k, _mm256_set1_epi64x((1LL << 52) - 1)),
                                  _mm256_set1_epi64x(VM_SQRT1_2_BITS));
    *f = _mm256_sub_pd(_mm256_castsi256_pd(mb), vm4_c(1.0));
    /* eb = e + 1024 < 2^52: OR-ing it into 2^52's mantissa converts it exactly. */
    __m256d ed = _mm256_castsi256_pd(_mm256_or_si256(eb, _mm256_castpd_si256(vm4_c(0x1p52))));
    return _mm256_sub_pd(ed, vm4_c(0x1p52 + 1024.0));
}

/* log's value where x is not positive and finite: -inf at +-0, +inf at +inf, else NaN. */
VM_INLINE __m256d vm4_log_special(__m256d x, __m256d res)
{
    __m256d ok = _mm256_and_pd(_mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_GT_OQ),
                               _mm256_cmp_pd(x, vm4_c(__builtin_inf()), _CMP_LT_OQ));
    if (_mm256_movemask_pd(ok) == 0xf)
        return res;
    __m256d sp =
        vm4_pick(_mm256_cmp_pd(x, vm4_c(__builtin_inf()), _CMP_EQ_OQ), x, vm4_c(__builtin_nan("")));
    sp = vm4_pick(_mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_EQ_OQ), vm4_c(-__builtin_inf()), sp);
    return vm4_pick(ok, res, sp);
}

/* log of a positive finite x, subnormals included (scaled into the normal range first). */
VM_INLINE __m256d vm4_log_positive(__m256d x, int lite)
{
    __m256d sub = _mm256_cmp_pd(x, vm4_c(0x1p-1022), _CMP_LT_OQ);
    __m256d xs = vm4_pick(sub, _mm256_mul_pd(x, vm4_c(0x1p52)), x), f;
    __m256d e = _mm256_sub_pd(vm4_split(xs, &f), _mm256_and_pd(sub, vm4_c(52.0)));
    return vm4_log_core(e, f, lite);
}

VM_INLINE __m256d vm4_log(__m256d x, int lite)
{
    return vm4_log_special(x, vm4_log_positive(x, lite));
}

/* log1p(x): u = 1 + x is never subnormal, and its rounding error d (exact, by TwoSum) enters
 * as f + d 2^-e, which keeps tiny x exact. */
VM_INLINE __m256d vm4_log1p(__m256d x, int lite)
{
    __m256d one = vm4_c(1.0), u = _mm256_add_pd(one, x);
    __m256d xb = _mm256_sub_pd(u, one), ob = _mm256_sub_pd(u, xb);
    __m256d d = _mm256_add_pd(_mm256_sub_pd(one, ob), _mm256_sub_pd(x, xb)), f;
    __m256d e = vm4_split(u, &f);
    __m256d inv = vm4_pow2i(_mm256_min_pd(
        _mm256_max_pd(_mm256_sub_pd(_mm256_setzero_pd(), e), vm4_c(-1022.0)), vm4_c(1022.0)));
    f = _mm256_fmadd_pd(d, inv, f);
    return vm4_log_special(u, vm4_log_core(e, f, lite));
}

/* log1p(x) for x in [0, 1] (e.g. exp(-|z|) in softplus): u = 1 + x splits without rounding,
 * 1 + f = u (k = 0) below sqrt(2), else 1 + f = u / 2 (k = 1) with f = x/2 - 1/2 rounded once;
 * NaN propagates. Outside [0, 1] the result is meaningless. */
VM_INLINE __m256d vm4_log1p_01(__m256d x, int lite)
{
    __m256d big = _mm256_cmp_pd(x, vm4_c(VM_SQRT2 - 1.0), _CMP_GE_OQ);
    __m256d f = vm4_pick(big, _mm256_fmadd_pd(x, vm4_c(0.5), vm4_c(-0.5)), x);
    return vm4_log_core(_mm256_and_pd(big, vm4_c(1.0)), f, lite);
}

/* log(p) and log(1 - p) for p in [0, 1] (BCE): with a = min(p, 1 - p), exact, log(a) takes
 * the general split (a = 0 set to -inf) and log(1 - a) splits without rounding: 1 + f = 1 - a
 * (k = 0) for a <= 1 - sqrt(1/2), else 1 + f = 2 - 2a (k = -1), f = -a or 1 - 2a exactly.
 * Outside [0, 1] (NaN included) the results are meaningless. */
VM_INLINE void vm4_log_pq(__m256d p, __m256d *lp, __m256d *lq, int lite)
{
    __m256d q = _mm256_sub_pd(vm4_c(1.0), p), a = _mm256_min_pd(p, q);
    __m256d la = vm4_pick(_mm256_cmp_pd(a, _mm256_setzero_pd(), _CMP_EQ_OQ),
                          vm4_c(-__builtin_inf()), vm4_log_positive(a, lite));
    __m256d big = _mm256_cmp_pd(a, vm4_c(1.0 - 0.5 * VM_SQRT2), _CMP_GT_OQ);
    __m256d f = vm4_pick(big, _mm256_fnmadd_pd(a, vm4_c(2.0), vm4_c(1.0)),
                         _mm256_sub_pd(_mm256_setzero_pd(), a));
    __m256d lb = vm4_log_core(_mm256_and_pd(big, vm4_c(-1.0)), f, lite);
    __m256d low = _mm256_cmp_pd(p, q, _CMP_LE_OQ);
    *lp = vm4_pick(low, la, lb);
    *lq = vm4_pick(low, lb, la);
}

#endif
