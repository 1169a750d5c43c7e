/* kern_steps: the elementwise losses as branch-free vector steps, written once for any lane
 * type and ISA (kern_simd.c). A step takes predictions p and targets y and returns each
 * lane's loss, its gradient (already multiplied by the scale), and a mask of the lanes only
 * the reference may judge (the chunk is then declined). k holds the broadcast scale s and the
 * loss constants a, b, c, d of kern_step_constants; `lite` selects the float32 forms of the
 * vector math (kern.h).
 * A template: the including file binds VT, VM and VL (vec.h) and includes it once per lane
 * type; the transcendental steps also need the lane type's vector math (vmath.h) and are
 * compiled where KERN_STEPS_TRANSCENDENTAL is defined; KERN_LANE_F32 is 1 for float lanes. */

typedef struct {
    VT s, a, b, c, d;
#if KERN_LANE_F32
    vd_kc wide; /* the same constants in double, for float steps that assemble in double */
    /* the focal pair with hard targets: alpha_t where y = 1 and y = 0 (a + c, b + c), and
     * the same times -s and s, each computed in double and rounded once */
    VT at1, at0, as1, as0;
#endif
} VL(kc);

typedef struct {
    VT l, g;
    VM bad;
} VL(step);

/* The constants of loss `id` broadcast once per call, rounded to the lane type. */
static VL(kc) VL(kc_make)(kern_id id, const kern_args *a)
{
    double c[KERN_N_CONSTANTS];
    kern_step_constants(id, a->scale, a->param, c);
    VL(kc) k;
    k.s = v_set1(a->scale), k.a = v_set1(c[0]), k.b = v_set1(c[1]);
    k.c = v_set1(c[2]), k.d = v_set1(c[3]);
#if KERN_LANE_F32
    k.wide = vd_kc_make(id, a);
    k.at1 = v_set1(c[0] + c[2]), k.at0 = v_set1(c[1] + c[2]);
    k.as1 = v_set1(-((c[0] + c[2]) * a->scale)), k.as0 = v_set1((c[1] + c[2]) * a->scale);
#endif
    return k;
}

/* ---- shared pieces ---- */

/* s with the sign of d where d != 0, else 0 (torch's sgn(d) * s). */
VEC_INLINE VT VL(sgn_scale)(VT d, VT s)
{
    VM nz = v_cmp(d, v_zero(), _CMP_NEQ_UQ);
    return v_maskz(nz, v_or(v_and(d, v_set1(-0.0)), s));
}

/* Lanes holding inf or NaN. */
VEC_INLINE VM VL(not_finite)(VT x)
{
    return v_cmp(v_abs(x), v_set1(__builtin_inf()), _CMP_NLT_UQ);
}

/* Lanes other than exactly -1 and 1 (NaN included). */
VEC_INLINE VM VL(not_sign)(VT y)
{
    return v_cmp(v_abs(y), v_set1(1.0), _CMP_NEQ_UQ);
}

/* Lanes outside [0, 1], NaN included. */
VEC_INLINE VM VL(outside01)(VT x)
{
    return v_mor(v_cmp(x, v_zero(), _CMP_NGE_UQ), v_cmp(x, v_set1(1.0), _CMP_NLE_UQ));
}

/* ---- the cheap steps ---- */

VEC_INLINE VL(step) VL(mse)(VT p, VT y, const VL(kc) * k, int lite) /* a = 2s */
{
    (void)lite;
    VT d = v_sub(p, y);
    return (VL(step)){v_mul(d, d), v_mul(d, k->a), v_mnone()};
}

VEC_INLINE VL(step) VL(mae)(VT p, VT y, const VL(kc) * k, int lite)
{
    (void)lite;
    VT d = v_sub(p, y);
    return (VL(step)){v_abs(d), VL(sgn_scale)(d, k->s), v_mnone()};
}

VEC_INLINE VL(step) VL(mbe)(VT p, VT y, const VL(kc) * k, int lite) /* a = -s */
{
    (void)lite;
    return (VL(step)){v_sub(y, p), k->a, v_mnone()};
}

/* a = delta, b = delta/2, c = delta*s */
VEC_INLINE VL(step) VL(huber)(VT p, VT y, const VL(kc) * k, int lite)
{
    (void)lite;
    VT d = v_sub(p, y), z = v_abs(d);
    VM in = v_cmp(z, k->a, _CMP_LT_OQ);
    VT lin = v_mul(v_mul(d, d), v_set1(0.5)), lout = v_mul(k->a, v_sub(z, k->b));
    VT gin = v_mul(d, k->s), gout = VL(sgn_scale)(d, k->c);
    return (VL(step)){v_sel(in, lin, lout), v_sel(in, gin, gout), v_mnone()};
}

/* a = beta, b = beta/2, c = 0.5/beta; the gradient inside is d*s/beta, computed as
 * (d*c)*(2s): beta = 0 never takes the inside branch, and c is then 0, not inf. */
VEC_INLINE VL(step) VL(smooth_l1)(VT p, VT y, const VL(kc) * k, int lite)
{
    (void)lite;
    VT d = v_sub(p, y), z = v_abs(d), dc = v_mul(d, k->c);
    VM in = v_cmp(z, k->a, _CMP_LT_OQ);
    VT lin = v_mul(dc, d), lout = v_sub(z, k->b);
    VT gin = v_mul(dc, v_add(k->s, k->s)), gout = VL(sgn_scale)(d, k->s);
    return (VL(step)){v_sel(in, lin, lout), v_sel(in, gin, gout), v_mnone()};
}

/* Lanes a hinge step must hand to the reference: target not exactly +-1, or a prediction
 * that is not finite (the clamp would hide an infinite one). */
VEC_INLINE VM VL(hinge_bad)(VT p, VT y)
{
    return v_mor(VL(not_sign)(y), VL(not_finite)(p));
}

/* a = -s. The tie 1 - y*p = 0 passes the gradient, as torch.clamp(min=0) does. */
VEC_INLINE VL(step) VL(hinge)(VT p, VT y, const VL(kc) * k, int lite)
{
    (void)lite;
    VT t = v_fnmadd(y, p, v_set1(1.0));
    VM on = v_cmp(t, v_zero(), _CMP_GE_OQ);
    return (VL(step)){v_max(t, v_zero()), v_maskz(on, v_mul(y, k->a)), VL(hinge_bad)(p, y)};
}

/* a = -2s */
VEC_INLINE VL(step) VL(squared_hinge)(VT p, VT y, const VL(kc) * k, int lite)
{
    (void)lite;
    VT c = v_max(v_fnmadd(y, p, v_set1(1.0)), v_zero());
    return (VL(step)){v_mul(c, c), v_mul(c, v_mul(y, k->a)), VL(hinge_bad)(p, y)};
}

#ifdef KERN_STEPS_TRANSCENDENTAL

/* ---- the steps with transcendentals (each the formula of its loss file) ---- */

/* Each loss in three parts: NAME_tr computes its transcendental values, NAME_from assembles
 * loss and scaled gradient from them, NAME_bad marks the lanes only the reference may judge;
 * VL(NAME) is the whole step. */
typedef struct {
    VT a, b, c;
} VL(tr);

typedef struct {
    VT l, g;
} VL(lg);

/* BCE: log p and log(1 - p), each clamped at -100 (bce_terms.h). */
VEC_INLINE VL(tr) VL(bce_tr)(VT p, int lite)
{
    VT floor = v_set1(-100.0), lp, lq;
    VL(log_pq)(p, &lp, &lq, lite);
    return (VL(tr)){v_max(lp, floor), v_max(lq, floor), v_zero()};
}

/* bce_terms.h: the clamped cross-entropy of probability p and its gradient. */
VEC_INLINE void VL(bce_terms)(VT p, VT y, VL(tr) t, VT *ce, VT *dce)
{
    VT one = v_set1(1.0);
    *ce = v_sub(v_mul(v_sub(y, one), t.b), v_mul(y, t.a));
    VT den = v_max(v_mul(v_sub(one, p), p), v_set1((double)1e-12f));
    *dce = v_div(v_sub(p, y), den);
}

/* float32 takes targets in [0, 1] only: beyond, BCE's two terms may cancel. */
VEC_INLINE VM VL(bce_bad)(VT p, VT y)
{
    return v_mor(VL(outside01)(p), KERN_LANE_F32 ? VL(outside01)(y) : VL(not_finite)(y));
}

VEC_INLINE VL(lg) VL(bce_from)(VT p, VT y, VL(tr) t, const VL(kc) * k)
{
    VT ce, dce;
    VL(bce_terms)(p, y, t, &ce, &dce);
    return (VL(lg)){ce, v_mul(dce, k->s)};
}

/* logistic.h: log1p(e), 1 / (1 + e) and e / (1 + e) for e = exp(-|x|), one exp and one log1p
 * for softplus and sigmoid of x and -x. */
VEC_INLINE VL(tr) VL(logistic_tr)(VT x, int lite)
{
    VT e = VL(exp)(v_sub(v_zero(), v_abs(x)), lite);
    VT t = VL(log1p_01)(e, lite), big = v_div(v_set1(1.0), v_add(v_set1(1.0), e));
    return (VL(tr)){t, big, v_mul(e, big)};
}

typedef struct {
    VT sp_pos, sp_neg, sig_pos, sig_neg;
} VL(logistic_t);

VEC_INLINE VL(logistic_t) VL(logistic)(VT x, VL(tr) t)
{
    VT zero = v_zero();
    VM pos = v_cmp(x, zero, _CMP_GE_OQ);
    return (VL(logistic_t)){v_add(v_max(x, zero), t.a), v_add(v_max(v_sub(zero, x), zero), t.a),
                            v_sel(pos, t.b, t.c), v_sel(pos, t.c, t.b)};
}

/* alpha_t = a y + b (1 - y) + c (kern_step_constants). */
VEC_INLINE VT VL(alpha_t)(VT y, VT omy, const VL(kc) * k)
{
    return v_add(v_add(v_mul(k->a, y), v_mul(k->b, omy)), k->c);
}

/* q^gamma and its derivative for gamma = k->d: 0 and 0 where q <= 0 (1 and 0 if gamma = 0);
 * exact q*q and 2q when `square` (gamma = 2). */
VEC_INLINE void VL(focal_pow)(VT q, const VL(kc) * k, int square, int lite, VT *f, VT *df)
{
    VM pos = v_cmp(q, v_zero(), _CMP_GT_OQ);
    if (square) {
        *f = v_maskz(pos, v_mul(q, q));
        *df = v_maskz(pos, v_add(q, q));
        return;
    }
    VT qp = v_sel(pos, q, v_set1(1.0)); /* keeps log finite in dead lanes */
    VT fq = VL(exp)(v_mul(k->d, VL(log)(qp, lite)), lite);
    VM zero_gamma = v_cmp(k->d, v_zero(), _CMP_EQ_OQ);
    *f = v_sel(pos, fq, v_maskz(zero_gamma, v_set1(1.0)));
    /* gamma q^gamma / q: multiplied first, so gamma = 0 gives 0 at a subnormal q, not 0 inf */
    *df = v_maskz(pos, v_div(v_mul(k->d, fq), qp));
}

VEC_INLINE VL(lg) VL(bce_with_logits_from)(VT x, VT y, VL(tr) t, const VL(kc) * k)
{
    VL(logistic_t) s = VL(logistic)(x, t);
    VT omy = v_sub(v_set1(1.0), y);
    VT l = v_add(v_mul(omy, s.sp_pos), v_mul(y, s.sp_neg));
    VT g = v_sub(v_mul(omy, s.sig_pos), v_mul(y, s.sig_neg));
    return (VL(lg)){l, v_mul(g, k->s)};
}

VEC_INLINE VM VL(bce_with_logits_bad)(VT x, VT y)
{
    return v_mor(VL(not_finite)(x), VL(not_finite)(y));
}

VEC_INLINE VL(lg) VL(focal_from)(VT p, VT y, VL(tr) t, const VL(kc) * k, int square, int lite)
{
    VT one = v_set1(1.0), omy = v_sub(one, y), ce, dce, f, df;
    VL(bce_terms)(p, y, t, &ce, &dce);
    VT q = v_add(v_mul(p, omy), v_mul(y, v_sub(one, p))); /* 1 - p_t, no cancellation */
    VL(focal_pow)(q, k, square, lite, &f, &df);
    VT at = VL(alpha_t)(y, omy, k), dq = v_sub(one, v_add(y, y));
    VT g = v_add(v_mul(dce, f), v_mul(v_mul(ce, df), dq));
    return (VL(lg)){v_mul(at, v_mul(ce, f)), v_mul(v_mul(at, g), k->s)};
}

VEC_INLINE VM VL(focal_bad)(VT p, VT y)
{
    return v_mor(VL(outside01)(p), VL(outside01)(y));
}

VEC_INLINE VL(lg)
    VL(sigmoid_focal_from)(VT x, VT y, VL(tr) t, const VL(kc) * k, int square, int lite)
{
    VL(logistic_t) s = VL(logistic)(x, t);
    VT one = v_set1(1.0), omy = v_sub(one, y), f, df;
    VT ce = v_add(v_mul(omy, s.sp_pos), v_mul(y, s.sp_neg));
    VT q = v_add(v_mul(s.sig_pos, omy), v_mul(s.sig_neg, y));
    VL(focal_pow)(q, k, square, lite, &f, &df);
    /* d(q^gamma)/dx = gamma q^(gamma-1) dq/dx, dq/dx = p(1-p)(1-2y) */
    VT pq = v_mul(s.sig_pos, s.sig_neg), dq = v_sub(one, v_add(y, y));
    VT dqg = v_mul(v_mul(df, pq), dq);
    VT dce = v_sub(v_mul(omy, s.sig_pos), v_mul(y, s.sig_neg));
    VT at = VL(alpha_t)(y, omy, k);
    VT g = v_add(v_mul(dce, f), v_mul(ce, dqg));
    return (VL(lg)){v_mul(v_mul(at, ce), f), v_mul(v_mul(at, g), k->s)};
}

VEC_INLINE VM VL(sigmoid_focal_bad)(VT x, VT y)
{
    return v_mor(VL(not_finite)(x), VL(outside01)(y));
}

/* soft_margin: softplus(z), z = -y x, and -y sigmoid(z), for y = +-1 exactly; its
 * transcendental values are the logistic ones of z. */
VEC_INLINE VT VL(soft_margin_z)(VT x, VT y)
{
    return v_mul(v_sub(v_zero(), y), x);
}

VEC_INLINE VL(lg) VL(soft_margin_from)(VT x, VT y, VL(tr) t, const VL(kc) * k)
{
    VT zero = v_zero(), z = VL(soft_margin_z)(x, y);
    VT l = v_add(v_max(z, zero), t.a);
    VT sig = v_sel(v_cmp(z, zero, _CMP_GE_OQ), t.b, t.c);
    return (VL(lg)){l, v_mul(v_mul(v_sub(zero, y), sig), k->s)};
}

VEC_INLINE VM VL(soft_margin_bad)(VT x, VT y)
{
    return v_mor(VL(not_sign)(y), VL(not_finite)(x));
}

/* ---- the whole steps ---- */

VEC_INLINE VL(step) VL(bce)(VT p, VT y, const VL(kc) * k, int lite)
{
    VL(lg) r = VL(bce_from)(p, y, VL(bce_tr)(p, lite), k);
    return (VL(step)){r.l, r.g, VL(bce_bad)(p, y)};
}

VEC_INLINE VL(step) VL(bce_with_logits)(VT x, VT y, const VL(kc) * k, int lite)
{
    VL(lg) r = VL(bce_with_logits_from)(x, y, VL(logistic_tr)(x, lite), k);
    return (VL(step)){r.l, r.g, VL(bce_with_logits_bad)(x, y)};
}

VEC_INLINE VL(step) VL(focal_any)(VT p, VT y, const VL(kc) * k, int square, int lite)
{
    VL(lg) r = VL(focal_from)(p, y, VL(bce_tr)(p, lite), k, square, lite);
    return (VL(step)){r.l, r.g, VL(focal_bad)(p, y)};
}

VEC_INLINE VL(step) VL(sigmoid_focal_any)(VT x, VT y, const VL(kc) * k, int square, int lite)
{
    VL(lg) r = VL(sigmoid_focal_from)(x, y, VL(logistic_tr)(x, lite), k, square, lite);
    return (VL(step)){r.l, r.g, VL(sigmoid_focal_bad)(x, y)};
}

VEC_INLINE VL(step) VL(soft_margin)(VT x, VT y, const VL(kc) * k, int lite)
{
    VT z = VL(soft_margin_z)(x, y);
    VL(lg) r = VL(soft_margin_from)(x, y, VL(logistic_tr)(z, lite), k);
    return (VL(step)){r.l, r.g, VL(soft_margin_bad)(x, y)};
}

/* The focal pair: gamma = 2 (the default) squares exactly, as pow does; others use exp/log. */
VEC_INLINE VL(step) VL(focal_sq)(VT p, VT y, const VL(kc) * k, int lite)
{
    return VL(focal_any)(p, y, k, 1, lite);
}
VEC_INLINE VL(step) VL(focal_gen)(VT p, VT y, const VL(kc) * k, int lite)
{
    return VL(focal_any)(p, y, k, 0, lite);
}
VEC_INLINE VL(step) VL(sigmoid_focal_sq)(VT x, VT y, const VL(kc) * k, int lite)
{
    return VL(sigmoid_focal_any)(x, y, k, 1, lite);
}
VEC_INLINE VL(step) VL(sigmoid_focal_gen)(VT x, VT y, const VL(kc) * k, int lite)
{
    return VL(sigmoid_focal_any)(x, y, k, 0, lite);
}

/* log(cosh d) = log1p(E^2 / (2 (1 + E))), tanh |d| = E (E + 2) / (E (E + 2) + 2) with
 * E = expm1(|d|) inside |d| < 1 (the reference's sinh form); beyond, |d| + log1p(B) - log 2 and
 * (1 - B) / (1 + B) with B = exp(-2|d|). One exp reduction serves both. */
VEC_INLINE VL(step) VL(log_cosh)(VT p, VT y, const VL(kc) * k, int lite)
{
    VT one = v_set1(1.0), two = v_set1(2.0), d = v_sub(p, y), ad = v_abs(d);
    VM small = v_cmp(ad, one, _CMP_LT_OQ);
    VT arg = v_sel(small, ad, v_mul(ad, v_set1(-2.0)));
    VL(exp_red) e = VL(exp_reduce)(VL(clamp)(arg, -VK(EXP_CLAMP), VK(EXP_CLAMP)), lite);
    VT t = VL(pow2i)(v_max(e.n, v_set1(VK(POW2_MIN))));
    VT em1 = v_fmadd(t, e.p, v_fmadd(t, e.r, v_sub(t, one)));
    VT b = VL(exp_finish)(e);
    VT a = v_div(v_mul(em1, em1), v_fmadd(two, em1, two));
    VT lp = VL(log1p_01)(v_sel(small, a, b), lite);
    VT l = v_sel(small, lp, v_sub(v_add(ad, lp), v_set1(M_LN2)));
    VT nm = v_mul(em1, v_add(em1, two));
    VT th = v_div(v_sel(small, nm, v_sub(one, b)), v_sel(small, v_add(nm, two), v_add(one, b)));
    VT g = v_or(th, v_and(d, v_set1(-0.0))); /* tanh(d) = sgn(d) tanh|d| */
    return (VL(step)){l, v_mul(g, k->s), v_mor(VL(not_finite)(p), VL(not_finite)(y))};
}

#if KERN_LANE_F32
/* log_cosh in float lanes. d = p - y is kept as the unevaluated sum dh + dl (TwoSum), so that
 * the loss, which squares d, sees d exactly. Inside |dh| < 1, with t = dh^2:
 *   log cosh d = d^2/2 + d^4 R(t),  tanh d = d + d t S(t),
 * R and S fits of (log cosh(sqrt t)/t - 1/2)/t and (tanh(sqrt t)/sqrt t - 1)/t on [0, 1]
 * (degree 6, mpmath chebyfit, float coefficients; each adds under 0.5 ulp): the leading terms
 * are exact, the corrections small, so each result rounds about once. Beyond, the reference's
 * |d| + log1p(B) - log 2 with B = exp(-2|d|) and tanh |d| = (1 - B) / (1 + B), log 2 split so
 * that |d| - LN2_HI is exact; that branch runs only when some lane needs it. */
VEC_INLINE VT VL(logcosh_r)(VT t)
{
    VT r = v_fmadd(t, v_set1(-0x1.f70bc6p-16), v_set1(0x1.908d18p-13));
    r = v_fmadd(t, r, v_set1(-0x1.6e7536p-11));
    r = v_fmadd(t, r, v_set1(0x1.1cf218p-9));
    r = v_fmadd(t, r, v_set1(-0x1.b9f8a6p-8));
    r = v_fmadd(t, r, v_set1(0x1.6c1638p-6));
    return v_fmadd(t, r, v_set1(-0x1.555554p-4));
}

VEC_INLINE VT VL(tanh_s)(VT t)
{
    VT r = v_fmadd(t, v_set1(-0x1.b92196p-12), v_set1(0x1.490d0ap-9));
    r = v_fmadd(t, r, v_set1(-0x1.0d5150p-7));
    r = v_fmadd(t, r, v_set1(0x1.62e11cp-6));
    r = v_fmadd(t, r, v_set1(-0x1.b9d574p-5));
    r = v_fmadd(t, r, v_set1(0x1.110ffep-3));
    return v_fmadd(t, r, v_set1(-0x1.555554p-2));
}

/* Loss and tanh beyond |d| >= 1 for ad = |dh|, adl = dl with d's sign; *th = tanh |d|. */
VEC_INLINE VT VL(logcosh_far)(VT ad, VT adl, int lite, VT *th)
{
    VT one = v_set1(1.0), b = VL(exp)(v_mul(ad, v_set1(-2.0)), lite);
    VT lb = VL(log1p_01)(b, lite);
    *th = v_sub(one, v_div(v_add(b, b), v_add(one, b)));
    VT small = v_fmadd(adl, *th, v_sub(lb, v_set1(VK(LN2_LO))));
    return v_add(v_sub(ad, v_set1(VK(LN2_HI))), small);
}

VEC_INLINE VL(step) VL(log_cosh_f)(VT p, VT y, const VL(kc) * k, int lite)
{
    VT dh = v_sub(p, y), bb = v_sub(dh, p);
    VT dl = v_sub(v_sub(p, v_sub(dh, bb)), v_add(y, bb)); /* TwoSum: p - y = dh + dl exactly */
    VT t = v_mul(dh, dh), t_lo = v_fmadd(v_add(dh, dh), dl, v_fmadd(dh, dh, v_neg(t)));
    VT l = v_add(v_mul(t, v_set1(0.5)),
                 v_fmadd(t, v_mul(t, VL(logcosh_r)(t)), v_mul(t_lo, v_set1(0.5))));
    VT g = v_add(dh, v_fmadd(dh, v_mul(t, VL(tanh_s)(t)), dl));
    VM near = v_cmp(v_abs(dh), v_set1(1.0), _CMP_LT_OQ);
    if (!v_mall(near)) {
        VT sign = v_and(dh, v_set1(-0.0)), th;
        VT adl = v_sel(v_cmp(dh, v_zero(), _CMP_LT_OQ), v_neg(dl), dl);
        VT lf = VL(logcosh_far)(v_abs(dh), adl, lite, &th);
        l = v_sel(near, l, lf);
        g = v_sel(near, g, v_or(th, sign));
    }
    return (VL(step)){l, v_mul(g, k->s), v_mor(VL(not_finite)(p), VL(not_finite)(y))};
}

/* The logistic values of x in float lanes for bce_with_logits and soft_margin:
 * e = exp(-|x|), t = log1p(e) and c = e / (1 + e) = sigmoid(-|x|), with -|x| for the caller.
 * Narrower than logistic_tr: -|x| is one or; its exp needs only the lower clamp (no 2^n above
 * 1); sigmoid(|x|) = 1 - c is left to the caller, where it is one masked subtraction (no
 * 1 / (1 + e) and product); and the log1p of e in [0, 1] keeps log1p_01's algorithm with f^2 / 2
 * and the k ln2 terms folded into fused operations (k = 0 or 1). NaN may be lost here: the
 * callers see it through x. */
typedef struct {
    VT nx, t, c;
} VL(logit_tc);

VEC_INLINE VL(logit_tc) VL(logit_f)(VT x, int lite)
{
    VT one = v_set1(1.0), half = v_set1(0.5);
    VT nx = v_or(x, v_set1(-0.0));
    VT a = v_max(nx, v_set1(-VK(EXP_CLAMP)));
    VT n = v_round(v_mul(a, v_set1(VK(LOG2E))));
    VT r = v_fnmadd(n, v_set1(VK(EXP_LN2_HI)), a);
    r = v_fnmadd(n, v_set1(VK(EXP_LN2_LO)), r);
    VT e = VL(scale)(v_add(one, v_fmadd(v_mul(r, r), VL(exp_h)(r, lite), r)), n);
    VT c = v_div(e, v_add(one, e));
    /* log1p_01(e): 1 + f = 1 + e, or (1 + e) / 2 from sqrt(2) on */
    VM big = v_cmp(e, v_set1(VK(SQRT2) - 1.0), _CMP_GE_OQ);
    VT f = v_sel(big, v_fmadd(e, half, v_set1(-0.5)), e);
    VT s = v_div(f, v_add(v_set1(2.0), f)), ff = v_mul(f, f);
    VT hr = v_fmadd(ff, half, VL(log_poly)(v_mul(s, s), lite)); /* f^2/2 + R */
    VT tail = v_fmadd(s, hr, v_maskz(big, v_set1(VK(LN2_LO))));
    VT t = v_add(f, v_fnmadd(ff, half, tail)); /* f - (f^2/2 - tail) */
    t = v_sel(big, v_add(t, v_set1(VK(LN2_HI))), t);
    return (VL(logit_tc)){nx, t, c};
}

/* bce_with_logits in float lanes: (1-y) sp(x) + y sp(-x) = |x| w + log1p(e) with
 * w = 1 - y where x >= 0, else y, one fused rounding over positive terms for y in [0, 1]; the
 * gradient (1-y) sig(x) - y sig(-x) is (1 - y) - c where x >= 0, else c - y: exact in y = 0
 * and y = 1 (-c and c), and elsewhere within an ulp or two of its larger term. A non-finite x
 * or y makes the loss inf or NaN (|x| w with w or |x| infinite or NaN, or inf * 0), so the sum
 * declines the chunk and no lane mask is needed. */
VEC_INLINE VL(step) VL(bce_with_logits_f)(VT x, VT y, const VL(kc) * k, int lite)
{
    VL(logit_tc) v = VL(logit_f)(x, lite);
    VM pos = v_cmp(x, v_zero(), _CMP_GE_OQ);
    VT omy = v_sub(v_set1(1.0), y);
    VT l = v_fnmadd(v.nx, v_sel(pos, omy, y), v.t);
    VT g = v_sel(pos, v_sub(omy, v.c), v_sub(v.c, y));
    return (VL(step)){l, v_mul(g, k->s), v_mnone()};
}

/* soft_margin in float lanes, z = -y x exact for y = +-1: softplus(z) = max(z, 0) + log1p(e)
 * and -y sig(z), sig(z) = 1 - c where z >= 0, else c. An infinite x can give a finite loss
 * (z = -inf), so the loss adds z * 0 (NaN there, else +-0, which leaves a loss >= +0 as it
 * is) and the sum declines; the target check stays a lane mask. */
VEC_INLINE VL(step) VL(soft_margin_f)(VT x, VT y, const VL(kc) * k, int lite)
{
    VT zero = v_zero(), z = v_fnmadd(y, x, zero);
    VL(logit_tc) v = VL(logit_f)(z, lite);
    VM pos = v_cmp(z, zero, _CMP_GE_OQ);
    VT l = v_fmadd(z, zero, v_add(v_max(z, zero), v.t));
    VT sig = v_sel(pos, v_sub(v_set1(1.0), v.c), v.c);
    return (VL(step)){l, v_mul(sig, v_fnmadd(y, k->s, zero)), VL(not_sign)(y)};
}

/* BCE in float lanes: log_pq's logs with its -inf and clamps folded, a = min(p, 1 - p) read
 * as TINY where it is 0 (log below -100, so the clamp gives -100 as from -inf) and clamped
 * before the selects (log(1 - a) >= -ln2 needs none); ce = (y - 1) lq - y lp with one fused
 * rounding over two terms >= 0. */
VEC_INLINE VL(step) VL(bce_f)(VT p, VT y, const VL(kc) * k, int lite)
{
    VT one = v_set1(1.0), q = v_sub(one, p), a = v_min(p, q);
    VT la = v_max(VL(log_positive)(v_max(a, v_set1(VK(TINY))), lite), v_set1(-100.0));
    VM big = v_cmp(a, v_set1(1.0 - 0.5 * VK(SQRT2)), _CMP_GT_OQ);
    VT f = v_sel(big, v_fnmadd(a, v_set1(2.0), one), v_sub(v_zero(), a));
    VT lb = VL(log_core)(v_maskz(big, v_set1(-1.0)), f, lite);
    VM low = v_cmp(p, q, _CMP_LE_OQ);
    VT lp = v_sel(low, la, lb), lq = v_sel(low, lb, la);
    VT ce = v_fnmadd(y, lp, v_mul(v_sub(y, one), lq));
    VT dce = v_div(v_sub(p, y), v_max(v_mul(q, p), v_set1((double)1e-12f)));
    return (VL(step)){ce, v_mul(dce, k->s), VL(bce_bad)(p, y)};
}

/* focal with gamma != 2 in float lanes for its logs (BCE's pair, clamped), assembled in
 * double, VD_N lanes at a time: q^gamma = exp(gamma log q) in float would carry log q's
 * absolute error times gamma into the exponent (about 87 gamma ulps at q = 2^-126), so pow
 * stays in double. q = 1 - p_t as the reference computes it, without cancellation. */
VEC_INLINE vd_lg VL(focal_half)(vd p, vd y, vd lp, vd lq, vd dce, const vd_kc *k)
{
    vd one = vd_set1(1.0), omy = vd_sub(one, y), f, df;
    vd_lg r = {vd_sub(vd_mul(vd_sub(y, one), lq), vd_mul(y, lp)), vd_mul(dce, k->s)};
    vd q = vd_add(vd_mul(p, omy), vd_mul(y, vd_sub(one, p)));
    vd_focal_pow(q, k, 0, 1, &f, &df);
    vd at = vd_alpha_t(y, omy, k), dq = vd_sub(one, vd_add(y, y));
    vd g = vd_fmadd(r.g, f, vd_mul(vd_mul(vd_mul(r.l, df), dq), k->s));
    return (vd_lg){vd_mul(at, vd_mul(r.l, f)), vd_mul(at, g)};
}

VEC_INLINE VL(step) VL(focal_f_gen)(VT p, VT y, const VL(kc) * k, int lite)
{
    VL(tr) t = VL(bce_tr)(p, lite);
    VT ce, dce;
    VL(bce_terms)(p, y, t, &ce, &dce);
    vd_lg lo = VL(focal_half)(vf_widen_lo(p), vf_widen_lo(y), vf_widen_lo(t.a), vf_widen_lo(t.b),
                              vf_widen_lo(dce), &k->wide);
    vd_lg hi = VL(focal_half)(vf_widen_hi(p), vf_widen_hi(y), vf_widen_hi(t.a), vf_widen_hi(t.b),
                              vf_widen_hi(dce), &k->wide);
    return (VL(step)){vf_narrow(lo.l, hi.l), vf_narrow(lo.g, hi.g), VL(focal_bad)(p, y)};
}

/* The gamma = 2 half of focal_f_sq in double, from float logs and BCE gradient: q, ce and
 * alpha_t exact or within an ulp of double, then l = at ce q^2, g = at s q (dce q + 2 ce (1-2y))
 * (q = 0, p = y in {0, 1}, gives 0 and 0: ce and dce are finite there). */
VEC_INLINE vd_lg VL(focal_sq_half)(vd p, vd y, vd lp, vd lq, vd dce, const vd_kc *k)
{
    vd one = vd_set1(1.0), omy = vd_sub(one, y);
    vd q = vd_fmadd(p, omy, vd_mul(y, vd_sub(one, p)));
    vd ce = vd_neg(vd_fmadd(y, lp, vd_mul(omy, lq)));
    vd at = vd_fmadd(y, vd_sub(k->a, k->b), vd_add(k->b, k->c));
    vd dq2 = vd_fnmadd(y, vd_set1(4.0), vd_set1(2.0)), ceq = vd_mul(ce, q);
    vd g = vd_mul(q, vd_fmadd(dce, q, vd_mul(ce, dq2)));
    return (vd_lg){vd_mul(vd_mul(at, ceq), q), vd_mul(vd_mul(at, k->s), g)};
}

/* focal with gamma = 2 where every target is 0 or 1 (kern_simd.c, targets01), all in float
 * lanes. With p_t = y ? p : 1 - p and q = 1 - p_t (p or 1 - p, the reference's q),
 * ce = min(-log p_t, 100) by one log (log_p_or_q), and the reference's formula folds to
 *   l = alpha_t ce q^2,  g = -+alpha_t s q (q^2 / max(p_t q, 1e-12f) + 2 ce)
 * (- where y = 1): sums and products of positive terms, nothing cancels. 1 - p rounds where
 * p < 1/2; its rounding error d (exact, Fast2Sum) is added back into q^2 and into the last
 * product by q, so q costs half an ulp at most once. */
VEC_INLINE VL(step) VL(focal_f_hard)(VT p, VT y, const VL(kc) * k, int lite)
{
    VT one = v_set1(1.0);
    VM t1 = v_cmp(y, one, _CMP_EQ_OQ), t0 = v_cmp(y, v_zero(), _CMP_EQ_OQ);
    VT omp = v_sub(one, p), d = v_sub(v_sub(one, omp), p); /* 1 - p = omp + d exactly */
    VT q = v_sel(t1, omp, p), pt = v_sel(t1, p, omp), qlo = v_maskz(t1, d);
    VT ce = v_min(v_neg(VL(log_p_or_q)(p, t0, lite)), v_set1(100.0));
    VT q2 = v_fmadd(q, q, v_mul(v_add(q, q), qlo));
    VT l = v_mul(v_mul(v_sel(t1, k->at1, k->at0), ce), q2);
    VM clamped = v_cmp(v_mul(pt, q), v_set1((double)1e-12f), _CMP_LT_OQ);
    VT r = v_div(v_mul(q, v_sel(clamped, q, one)), v_sel(clamped, v_set1((double)1e-12f), pt));
    VT inner = v_add(r, v_add(ce, ce));
    VT g = v_mul(v_sel(t1, k->as1, k->as0), v_fmadd(q, inner, v_mul(qlo, inner)));
    return (VL(step)){l, g, VL(outside01)(p)}; /* y is 0 or 1 */
}

/* focal with gamma = 2: the logs, the BCE gradient and the checks in float lanes, the
 * products in double. Float products were measured up to 7 float ulps off for targets in
 * (0, 1) (each of alpha_t, ce, q and q^2 adds its roundings); in double only the logs' and
 * dce's float errors remain. */
VEC_INLINE VL(step) VL(focal_f_sq)(VT p, VT y, const VL(kc) * k, int lite)
{
    VL(tr) t = VL(bce_tr)(p, lite);
    VT ce, dce;
    VL(bce_terms)(p, y, t, &ce, &dce);
    vd_lg lo = VL(focal_sq_half)(vf_widen_lo(p), vf_widen_lo(y), vf_widen_lo(t.a), vf_widen_lo(t.b),
                                 vf_widen_lo(dce), &k->wide);
    vd_lg hi = VL(focal_sq_half)(vf_widen_hi(p), vf_widen_hi(y), vf_widen_hi(t.a), vf_widen_hi(t.b),
                                 vf_widen_hi(dce), &k->wide);
    return (VL(step)){vf_narrow(lo.l, hi.l), vf_narrow(lo.g, hi.g), VL(focal_bad)(p, y)};
}

/* sigmoid_focal's half in double from exp(-|x|)'s float reduction (n, r, p: exp = 2^n (1 + r +
 * p), within 0.3 float ulps before rounding) and the float log1p(exp(-|x|)): e finished in
 * double, so q = sigmoid and its square keep e's accuracy; then the double step's formula. */
VEC_INLINE vd_lg VL(sigmoid_focal_half)(vd x, vd y, vd n, vd r, vd p, vd lg, const vd_kc *k,
                                        int square)
{
    vd one = vd_set1(1.0), e = vd_scale(vd_add(one, vd_add(r, p)), n);
    vd big = vd_div(one, vd_add(one, e)), small = vd_mul(e, big);
    if (!square)
        return vd_sigmoid_focal_from(x, y, (vd_tr){lg, big, small}, k, 0, 1);
    /* gamma = 2: the double step's formula, its selects and constants folded */
    vd zero = vd_zero(), omy = vd_sub(one, y);
    vdm pos = vd_cmp(x, zero, _CMP_GE_OQ);
    vd sp = vd_add(vd_max(x, zero), lg), sn = vd_add(vd_max(vd_sub(zero, x), zero), lg);
    vd gp = vd_sel(pos, big, small), gn = vd_sel(pos, small, big);
    vd ce = vd_fmadd(omy, sp, vd_mul(y, sn)), q = vd_fmadd(gp, omy, vd_mul(gn, y));
    vd dce = vd_fnmadd(y, gn, vd_mul(omy, gp));
    vd at = vd_fmadd(y, vd_sub(k->a, k->b), vd_add(k->b, k->c));
    vd dq2 = vd_fnmadd(y, vd_set1(4.0), vd_set1(2.0)), pq = vd_mul(big, small);
    vd g = vd_mul(q, vd_fmadd(dce, q, vd_mul(vd_mul(ce, pq), dq2)));
    return (vd_lg){vd_mul(vd_mul(at, vd_mul(ce, q)), q), vd_mul(vd_mul(at, k->s), g)};
}

/* sigmoid_focal with gamma = 2 where every target is 0 or 1 (kern_simd.c, targets01), all in
 * float lanes. With z = y ? -x : x, ce = softplus(z), q = 1 - p_t = sig(z), and the reference's
 * formula folds to
 *   l = alpha_t ce q^2,  g = -+alpha_t s q^2 (q + 2 ce sig(-z))  (- where y = 1),
 * positive terms only. q^2 doubles e's error, e = exp(-|x|), so e is kept as eh + el
 * (2^n (1 + r + p) with r + p and 1 + (r + p) by Fast2Sum), 1 + e as s + slo, and
 * q = 1 / (1 + e) or e / (1 + e) as qh + ql, so that q^2 rounds about once. -|x| is clamped at
 * -EXP_CLAMP as in sigmoid_focal_f; el is dropped where 2^n is subnormal (it is below the least
 * subnormal). */
VEC_INLINE VL(step) VL(sigmoid_focal_f_hard)(VT x, VT y, const VL(kc) * k, int lite)
{
    VT one = v_set1(1.0), zero = v_zero();
    VM t1 = v_cmp(y, one, _CMP_EQ_OQ);
    VT z = v_sel(t1, v_neg(x), x);
    VL(exp_red) e = VL(exp_reduce)(v_max(v_neg(v_abs(x)), v_set1(-VK(EXP_CLAMP))), lite);
    VT t = v_add(e.r, e.p), tl = v_sub(e.p, v_sub(t, e.r)); /* |p| < |r|: Fast2Sum */
    VT mh = v_add(one, t), ml = v_add(v_add(v_sub(one, mh), t), tl);
    VT two_n = VL(pow2i)(v_max(e.n, v_set1(VK(POW2_MIN))));
    VT eh = v_mul(mh, two_n), el = v_mul(ml, two_n);
    VM sub = v_cmp(e.n, v_set1(VK(POW2_MIN)), _CMP_LT_OQ);
    if (v_many(sub)) { /* |x| beyond about 87.7: 2^n subnormal */
        eh = VL(scale)(mh, e.n);
        el = v_sel(sub, v_zero(), el);
    }
    VT s = v_add(one, eh), slo = v_add(v_sub(eh, v_sub(s, one)), el);
    /* 1 / (s + slo) = b + bl: the residual 1 - b s is exact (FMA) */
    VT b = v_div(one, s), bl = v_mul(b, v_fnmadd(b, slo, v_fnmadd(b, s, one)));
    VT cross = v_fmadd(eh, bl, v_mul(el, b)); /* e / (1 + e) = sh + sl */
    VT sh = v_fmadd(eh, b, cross), sl = v_add(v_fmadd(eh, b, v_neg(sh)), cross);
    VT lg = v_fmadd(el, b, VL(log1p_01)(eh, lite)); /* log1p(eh + el) */
    VM pos = v_cmp(z, zero, _CMP_GE_OQ);
    VT qh = v_sel(pos, b, sh), ql = v_sel(pos, bl, sl), qn = v_sel(pos, sh, v_add(b, bl));
    VT ce = v_add(v_max(z, zero), lg), q2 = v_fmadd(qh, qh, v_mul(v_add(qh, qh), ql));
    VT l = v_mul(v_mul(v_sel(t1, k->at1, k->at0), ce), q2);
    VT inner = v_fmadd(v_add(ce, ce), qn, v_add(qh, ql));
    VT g = v_mul(v_mul(v_sel(t1, k->as1, k->as0), q2), inner);
    return (VL(step)){l, g, VL(not_finite)(x)}; /* y is 0 or 1 */
}

/* sigmoid_focal in float lanes for its transcendentals, assembled in double: q^gamma spends
 * twice e's error, more than a float exp leaves of the 4-ulp budget, and the products of
 * soft targets' factors add theirs (as in focal). -|x| is clamped at -EXP_CLAMP: beyond, e
 * is far below every term it meets. */
VEC_INLINE VL(step) VL(sigmoid_focal_f)(VT x, VT y, const VL(kc) * k, int square, int lite)
{
    VT a = v_max(v_sub(v_zero(), v_abs(x)), v_set1(-VK(EXP_CLAMP)));
    VL(exp_red) e = VL(exp_reduce)(a, lite);
    VT lg = VL(log1p_01)(VL(exp_finish)(e), lite);
    vd_lg lo =
        VL(sigmoid_focal_half)(vf_widen_lo(x), vf_widen_lo(y), vf_widen_lo(e.n), vf_widen_lo(e.r),
                               vf_widen_lo(e.p), vf_widen_lo(lg), &k->wide, square);
    vd_lg hi =
        VL(sigmoid_focal_half)(vf_widen_hi(x), vf_widen_hi(y), vf_widen_hi(e.n), vf_widen_hi(e.r),
                               vf_widen_hi(e.p), vf_widen_hi(lg), &k->wide, square);
    return (VL(step)){vf_narrow(lo.l, hi.l), vf_narrow(lo.g, hi.g), VL(sigmoid_focal_bad)(x, y)};
}
VEC_INLINE VL(step) VL(sigmoid_focal_f_sq)(VT x, VT y, const VL(kc) * k, int lite)
{
    return VL(sigmoid_focal_f)(x, y, k, 1, lite);
}
VEC_INLINE VL(step) VL(sigmoid_focal_f_gen)(VT x, VT y, const VL(kc) * k, int lite)
{
    return VL(sigmoid_focal_f)(x, y, k, 0, lite);
}
#endif

#endif /* KERN_STEPS_TRANSCENDENTAL */
