/* vmath: exp, expm1, log and log1p on vector lanes, and the restricted forms the losses use,
 * written once over vec.h for every ISA. Double lanes: each within 2 ulps of the correctly
 * rounded result over the whole double range (subnormals, 0, +-inf, NaN as libm); `lite`
 * (a constant at each call) selects the shorter polynomials of the float32 forms
 * (kern.h, vm_f32). Algorithms (written for lossd):
 *   exp:  x = n ln2 + r in two FMAs, exp = 2^n (1 + r + r^2 H(r)), 2^n applied with one
 *         rounding (v_scale, subnormal results included);
 *   expm1: x = n ln2 + r + c (Cody-Waite, c = r's rounding error), expm1(r + c) = r + p,
 *         p = r^2 H(r) + c (1 + r), expm1 = 2^n (r + p) + 2^n - 1;
 *   log:  x = 2^e (1 + f), 1 + f in [sqrt(1/2), sqrt(2)), s = f / (2 + f),
 *         log(1 + f) = f - (f^2/2 - s (f^2/2 + z L(z))), z = s^2 (fdlibm's arrangement);
 *   log1p: the same on u = 1 + x, with u's rounding error (TwoSum) added back into f.
 * Coefficients: scripts/vmath_coeffs.py.
 * Float lanes: the same algorithms on float, within 2 ulps of float (vf_exp_h, vf_log_poly).
 * A template: the including file binds VT (the lane type), VM (its mask type) and VL (the
 * lane's names, vec.h) and includes it once per lane type; the functions are VL(exp), ... */

#ifndef LOSSD_VMATH_CORES
#define LOSSD_VMATH_CORES

#define VMD_LOG2E 0x1.71547652b82fep+0
#define VMD_EXP_LN2_HI 0x1.62e42fefa39efp-1 /* ln2 rounded: the FMA reduction */
#define VMD_EXP_LN2_LO 0x1.abc9e3b39803fp-56
#define VMD_LN2_HI 0x1.62e42fef00000p-1 /* 33 bits: n * hi is exact for |n| < 2^20 */
#define VMD_LN2_LO 0x1.473de6af278edp-34
#define VMD_SQRT2 0x1.6a09e667f3bcdp+0
#define VMD_EXP_CLAMP 1100.0 /* beyond it exp is 0 or inf, and n stays well inside int range */
#define VMD_EXPM1_LOW -50.0  /* below it expm1 is -1 */
#define VMD_EXPM1_BIG 1000.0 /* from 2^n above it, expm1 is exp */
#define VMD_POW2_MIN -1022.0 /* the lowest normal exponent */

/* H(r) = (expm1(r) - r) / r^2 on |r| <= 0.3466, by Estrin's scheme (short dependency
 * chains): degree 10, or degree 6 when `lite` (fit error 2.7e-11, so exp within 4e-12). */
VEC_INLINE vd vd_exp_h(vd r, int lite)
{
    vd r2 = vd_mul(r, r), r4 = vd_mul(r2, r2);
    if (lite) {
        vd h01 = vd_fmadd(r, vd_set1(0x1.5555556752826p-3), vd_set1(0x1.0000000000000p-1));
        vd h23 = vd_fmadd(r, vd_set1(0x1.1110c63476727p-7), vd_set1(0x1.5555555c86d13p-5));
        vd h45 = vd_fmadd(r, vd_set1(0x1.a151760b496bbp-13), vd_set1(0x1.6c16858cf08f7p-10));
        vd h46 = vd_fmadd(r2, vd_set1(0x1.a1131d0be06e8p-16), h45);
        return vd_fmadd(r4, h46, vd_fmadd(r2, h23, h01));
    }
    vd r8 = vd_mul(r4, r4);
    vd h01 = vd_fmadd(r, vd_set1(0x1.5555555555557p-3), vd_set1(0x1.0000000000000p-1));
    vd h23 = vd_fmadd(r, vd_set1(0x1.11111111100dcp-7), vd_set1(0x1.5555555555556p-5));
    vd h45 = vd_fmadd(r, vd_set1(0x1.a01a01abe78f9p-13), vd_set1(0x1.6c16c16c162d5p-10));
    vd h67 = vd_fmadd(r, vd_set1(0x1.71de0232f4775p-19), vd_set1(0x1.a01a01a6d84aap-16));
    vd h89 = vd_fmadd(r, vd_set1(0x1.af4de6a36d4fcp-26), vd_set1(0x1.27e4db653346ep-22));
    vd h03 = vd_fmadd(r2, h23, h01);
    vd h47 = vd_fmadd(r2, h67, h45);
    vd h810 = vd_fmadd(r2, vd_set1(0x1.1f7301a8efa5cp-29), h89);
    return vd_fmadd(r8, h810, vd_fmadd(r4, h47, h03));
}

/* z L(z) of log_core for z = s^2: L of degree 6, or 4 when `lite` (fit error 7.3e-12, so
 * log within 2e-13). */
VEC_INLINE vd vd_log_poly(vd z, int lite)
{
    vd z2 = vd_mul(z, z);
    if (lite) {
        vd l01 = vd_fmadd(z, vd_set1(0x1.999998cae671fp-2), vd_set1(0x1.5555555564eb7p-1));
        vd l23 = vd_fmadd(z, vd_set1(0x1.c67ad18010d25p-3), vd_set1(0x1.249323f5fe0a4p-2));
        vd l24 = vd_fmadd(z2, vd_set1(0x1.8c8cb725e2db5p-3), l23);
        return vd_mul(z, vd_fmadd(z2, l24, l01));
    }
    vd z4 = vd_mul(z2, z2);
    vd l01 = vd_fmadd(z, vd_set1(0x1.99999999952d7p-2), vd_set1(0x1.5555555555558p-1));
    vd l23 = vd_fmadd(z, vd_set1(0x1.c71c62e3f11e6p-3), vd_set1(0x1.2492492df281ap-2));
    vd l45 = vd_fmadd(z, vd_set1(0x1.39fe51a7c18f9p-3), vd_set1(0x1.7462b51cb66b1p-3));
    vd l46 = vd_fmadd(z2, vd_set1(0x1.2b5900de53b32p-3), l45);
    return vd_mul(z, vd_fmadd(z4, l46, vd_fmadd(z2, l23, l01)));
}

/* Float lanes: the same algorithms with float constants and polynomials (fits of
 * scripts/vmath_coeffs.py rounded to float): H of degree 4 (1.1e-8 of exp(r)), L of degree 2
 * (2.5e-9 of log), so exp, expm1, log and log1p stay within 2 ulps of float. `lite` has no
 * meaning here. */
#define VMF_LOG2E 0x1.715476p+0
#define VMF_EXP_LN2_HI 0x1.62e43p-1 /* ln2 rounded to float */
#define VMF_EXP_LN2_LO -0x1.05c61p-29
#define VMF_LN2_HI 0x1.62e4p-1 /* 15 bits: n * hi is exact for |n| < 2^9 */
#define VMF_LN2_LO 0x1.7f7d1cp-20
#define VMF_SQRT2 0x1.6a09e6p+0 /* sqrt(2) rounded to float: the split's boundary */
#define VMF_EXP_CLAMP 110.0     /* beyond it expf is 0 or inf */
#define VMF_EXPM1_LOW -50.0
#define VMF_EXPM1_BIG 100.0
#define VMF_POW2_MIN -126.0

VEC_INLINE vf vf_exp_h(vf r, int lite)
{
    (void)lite;
    vf r2 = vf_mul(r, r);
    vf h01 = vf_fmadd(r, vf_set1(0x1.5554dcp-3), vf_set1(0x1.0p-1));
    vf h23 = vf_fmadd(r, vf_set1(0x1.120b6cp-7), vf_set1(0x1.55551ap-5));
    vf h24 = vf_fmadd(r2, vf_set1(0x1.6d1106p-10), h23);
    return vf_fmadd(r2, h24, h01);
}

VEC_INLINE vf vf_log_poly(vf z, int lite)
{
    (void)lite;
    vf l12 = vf_fmadd(z, vf_set1(0x1.2ee656p-2), vf_set1(0x1.997c2ep-2));
    return vf_mul(z, vf_fmadd(z, l12, vf_set1(0x1.55555cp-1)));
}

#endif /* LOSSD_VMATH_CORES */

/* ---- the template: VT, VM, VL bound by the includer ---- */

#define VK(name) VK_(VL(K_), name) /* the lane type's constant: VMD_name or VMF_name */
#define VK_(p, name) VK__(p, name)
#define VK__(p, name) p##name
#define vd_K_ VMD_
#define vf_K_ VMF_

/* The shared reduction of exp and expm1 (x already clamped): x = n ln2 + r + c, where
 * hi = x - n LN2_HI is exact (LN2_HI's trailing zeros, and Sterbenz: x is within a factor 2
 * of n LN2_HI), r = hi - n LN2_LO rounded and c its rounding error. expm1(r + c) = r + p with
 * p = r^2 H(r) + c (1 + r), the part far below r's ulp. */
typedef struct {
    VT n, r, p;
} VL(exp_red);

VEC_INLINE VL(exp_red) VL(exp_reduce)(VT x, int lite)
{
    VT n = v_round(v_mul(x, v_set1(VK(LOG2E))));
    VT hi = v_fnmadd(n, v_set1(VK(LN2_HI)), x);
    VT lo = v_mul(n, v_set1(VK(LN2_LO)));
    VT r = v_sub(hi, lo);
    VT c = v_sub(v_sub(hi, r), lo);
    VT h = VL(exp_h)(r, lite);
    VT r2 = v_mul(r, r);
    return (VL(exp_red)){n, r, v_fmadd(r2, h, v_fmadd(c, r, c))};
}

/* min/max that return x when x is NaN (the second operand wins on NaN). */
VEC_INLINE VT VL(clamp)(VT x, double lo, double hi)
{
    return v_max(v_set1(lo), v_min(v_set1(hi), x));
}

/* exp(x) from a reduction of x. */
VEC_INLINE VT VL(exp_finish)(VL(exp_red) e)
{
    return VL(scale)(v_add(v_set1(1.0), v_add(e.r, e.p)), e.n);
}

/* exp alone needs no correction term: x = n ln2 + r in two FMAs (ln2 split in two) keeps it
 * within 1.1 ulps. */
VEC_INLINE VT VL(exp)(VT x, int lite)
{
    x = VL(clamp)(x, -VK(EXP_CLAMP), VK(EXP_CLAMP));
    VT n = v_round(v_mul(x, v_set1(VK(LOG2E))));
    VT r = v_fnmadd(n, v_set1(VK(EXP_LN2_HI)), x);
    r = v_fnmadd(n, v_set1(VK(EXP_LN2_LO)), r);
    VT q = v_fmadd(v_mul(r, r), VL(exp_h)(r, lite), r);
    return VL(scale)(v_add(v_set1(1.0), q), n);
}

/* expm1(x) = 2^n (r + p) + (2^n - 1), summed so that the small part p is added last:
 * within 1 ulp where cancellation threatens (n = +-1). Beyond EXPM1_BIG it is exp(x) (the 1
 * is below its ulp); below EXPM1_LOW every result is -1. */
VEC_INLINE VT VL(expm1)(VT x, int lite)
{
    VL(exp_red) e = VL(exp_reduce)(VL(clamp)(x, VK(EXPM1_LOW), VK(EXP_CLAMP)), lite);
    VT t = VL(pow2i)(v_min(e.n, v_set1(VK(EXPM1_BIG))));
    VT a = v_fmadd(t, e.r, v_sub(t, v_set1(1.0)));
    VT r = v_fmadd(t, e.p, a);
    VM big = v_cmp(e.n, v_set1(VK(EXPM1_BIG)), _CMP_GT_OQ);
    if (v_many(big))
        r = v_sel(big, VL(exp_finish)(e), r);
    return r;
}

/* log(1 + f) for 1 + f in [sqrt(1/2), sqrt(2)] plus e ln2. */
VEC_INLINE VT VL(log_core)(VT e, VT f, int lite)
{
    VT s = v_div(f, v_add(v_set1(2.0), f));
    VT r = VL(log_poly)(v_mul(s, s), lite);
    VT hfsq = v_mul(v_set1(0.5), v_mul(f, f));
    VT tail = v_fmadd(s, v_add(hfsq, r), v_mul(e, v_set1(VK(LN2_LO))));
    return v_fmadd(e, v_set1(VK(LN2_HI)), v_sub(f, v_sub(hfsq, tail)));
}

/* log's value where x is not positive and finite: -inf at +-0, +inf at +inf, else NaN. */
VEC_INLINE VT VL(log_special)(VT x, VT res)
{
    VT zero = v_zero(), inf = v_set1(__builtin_inf());
    VM ok = v_mand(v_cmp(x, zero, _CMP_GT_OQ), v_cmp(x, inf, _CMP_LT_OQ));
    if (v_mall(ok))
        return res;
    VT sp = v_sel(v_cmp(x, inf, _CMP_EQ_OQ), x, v_set1(__builtin_nan("")));
    sp = v_sel(v_cmp(x, zero, _CMP_EQ_OQ), v_set1(-__builtin_inf()), sp);
    return v_sel(ok, res, sp);
}

/* log of a positive finite x, subnormals included. */
VEC_INLINE VT VL(log_positive)(VT x, int lite)
{
    VT f, e = VL(split_any)(x, &f);
    return VL(log_core)(e, f, lite);
}

VEC_INLINE VT VL(log)(VT x, int lite)
{
    return VL(log_special)(x, VL(log_positive)(x, lite));
}

/* log1p(x): u = 1 + x is never subnormal, and its rounding error d (exact, by TwoSum) enters
 * as f + d 2^-e, which keeps tiny x exact. */
VEC_INLINE VT VL(log1p)(VT x, int lite)
{
    VT one = v_set1(1.0), u = v_add(one, x);
    VT xb = v_sub(u, one), ob = v_sub(u, xb);
    VT d = v_add(v_sub(one, ob), v_sub(x, xb)), f;
    VT e = VL(split)(u, &f);
    f = VL(add_scaled)(f, d, e);
    return VL(log_special)(u, VL(log_core)(e, f, lite));
}

/* log1p(x) for x in [0, 1] (e.g. exp(-|z|) in softplus): u = 1 + x splits without rounding,
 * 1 + f = u (k = 0) below sqrt(2), else 1 + f = u / 2 (k = 1) with f = x/2 - 1/2 rounded once;
 * NaN propagates. Outside [0, 1] the result is meaningless. */
VEC_INLINE VT VL(log1p_01)(VT x, int lite)
{
    VM big = v_cmp(x, v_set1(VK(SQRT2) - 1.0), _CMP_GE_OQ);
    VT f = v_sel(big, v_fmadd(x, v_set1(0.5), v_set1(-0.5)), x);
    return VL(log_core)(v_maskz(big, v_set1(1.0)), f, lite);
}

/* log(p) and log(1 - p) for p in [0, 1] (BCE): with a = min(p, 1 - p), exact, log(a) takes
 * the general split (a = 0 set to -inf) and log(1 - a) splits without rounding: 1 + f = 1 - a
 * (k = 0) for a <= 1 - sqrt(1/2), else 1 + f = 2 - 2a (k = -1), f = -a or 1 - 2a exactly.
 * Outside [0, 1] (NaN included) the results are meaningless. */
VEC_INLINE void VL(log_pq)(VT p, VT *lp, VT *lq, int lite)
{
    VT q = v_sub(v_set1(1.0), p), a = v_min(p, q), zero = v_zero();
    VT la = v_sel(v_cmp(a, zero, _CMP_EQ_OQ), v_set1(-__builtin_inf()), VL(log_positive)(a, lite));
    VM big = v_cmp(a, v_set1(1.0 - 0.5 * VK(SQRT2)), _CMP_GT_OQ);
    VT f = v_sel(big, v_fnmadd(a, v_set1(2.0), v_set1(1.0)), v_sub(zero, a));
    VT lb = VL(log_core)(v_maskz(big, v_set1(-1.0)), f, lite);
    VM low = v_cmp(p, q, _CMP_LE_OQ);
    *lp = v_sel(low, la, lb);
    *lq = v_sel(low, lb, la);
}

#ifndef LOSSD_VMATH_TINY
#define LOSSD_VMATH_TINY
#define VMD_TINY 0x1p-1074 /* the least subnormal: its log, about -744.4, is below any clamp */
#define VMF_TINY 0x1p-149  /* about -103.3 */
#endif

/* log(p) where take_q is clear, log(1 - p) where it is set, for p in [0, 1], with one log
 * instead of log_pq's two (focal with targets exactly 0 or 1 needs only log p_t): log_pq's
 * splits, chosen per lane. With a = min(p, 1 - p), exact, the wanted value is either a, when
 * fl(p_t) equals a, or 1 - a. A zero a is read as TINY, so that callers clamping at -100 see a
 * log below the clamp, not -inf. Outside [0, 1] (NaN included) the result is meaningless. */
VEC_INLINE VT VL(log_p_or_q)(VT p, VM take_q, int lite)
{
    VT one = v_set1(1.0), q = v_sub(one, p), a = v_min(p, q);
    VM use_a = v_cmp(v_sel(take_q, q, p), a, _CMP_EQ_OQ);
    VT fa, ea = VL(split_any)(v_max(a, v_set1(VK(TINY))), &fa);
    VM big = v_cmp(a, v_set1(1.0 - 0.5 * VK(SQRT2)), _CMP_GT_OQ);
    VT fb = v_sel(big, v_fnmadd(a, v_set1(2.0), one), v_sub(v_zero(), a));
    VT eb = v_maskz(big, v_set1(-1.0));
    return VL(log_core)(v_sel(use_a, ea, eb), v_sel(use_a, fa, fb), lite);
}
