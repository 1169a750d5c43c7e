/* kern_avx512_vm: the AVX-512 fast paths built on vector exp/log (vmath_avx512.h), the same
 * steps as kern_avx2_vm.c on 8 double lanes with mask registers: the vector math over
 * arrays, the elementwise losses with transcendentals, and cross-entropy rows. Compiled with
 * the AVX-512 flags only. Every loss computes in double lanes (float32 converted on load and
 * rounded once on store) and declines on any element the reference must judge. */
#include <immintrin.h>
#include <math.h>

#include "kern.h"
#include "vmath_avx512.h"

#define KERN_INLINE static inline __attribute__((always_inline))

/* Lanes [0, r) of 8 set (r may exceed 8). */
static __mmask8 tail_mask(size_t r) { return r >= 8 ? 0xff : (__mmask8)((1u << r) - 1); }

/* ---- vector math over arrays ---- */

#define VM_ARRAY(name, fn)                                                                         \
    static void name(const double *x, double *out, size_t n)                                       \
    {                                                                                              \
        size_t i = 0;                                                                              \
        for (; i + 8 <= n; i += 8)                                                                 \
            _mm512_storeu_pd(out + i, fn(_mm512_loadu_pd(x + i)));                                 \
        if (i < n) {                                                                               \
            __mmask8 m = tail_mask(n - i);                                                         \
            _mm512_mask_storeu_pd(out + i, m, fn(_mm512_maskz_loadu_pd(m, x + i)));                \
        }                                                                                          \
    }

VM_ARRAY(vm_exp_array, vm8_exp)
VM_ARRAY(vm_expm1_array, vm8_expm1)
VM_ARRAY(vm_log_array, vm8_log)
VM_ARRAY(vm_log1p_array, vm8_log1p)
VM_ARRAY(vm_log1p_01_array, vm8_log1p_01)

KERN_INLINE __m512d log_01(__m512d x)
{
    __m512d lp, lq;
    vm8_log_pq(x, &lp, &lq);
    return lp;
}

KERN_INLINE __m512d log1m_01(__m512d x)
{
    __m512d lp, lq;
    vm8_log_pq(x, &lp, &lq);
    return lq;
}

VM_ARRAY(vm_log_01_array, log_01)
VM_ARRAY(vm_log1m_01_array, log1m_01)

/* ---- the elementwise drivers: double lanes for both dtypes ---- */

/* The step's broadcast constants: gradient scale and a, b, c, d of kern_step_constants. */
typedef struct {
    __m512d s, a, b, c, d;
} kc;

/* One step's losses, scaled gradients and the lanes only the reference may judge. */
typedef struct {
    __m512d l, g;
    __mmask8 bad;
} step;

typedef step (*op_fn)(__m512d p, __m512d y, const kc *k);

static int finish(__m512d acc, __mmask8 bad, double *sum)
{
    double s = _mm512_reduce_add_pd(acc); /* a fixed tree: deterministic */
    if (bad || !isfinite(s))
        return KERN_DECLINED;
    *sum = s;
    return 0;
}

KERN_INLINE int drive_f64(const kern_elem_args *a, double *sum, op_fn op, const kc *k)
{
    const double *p = a->p, *y = a->y;
    double *g = a->grad, *v = a->values;
    __m512d acc0 = _mm512_setzero_pd(), acc1 = acc0;
    __mmask8 bad = 0;
    size_t i = 0, n = a->n;
    for (; i + 16 <= n; i += 16) {
        step r0 = op(_mm512_loadu_pd(p + i), _mm512_loadu_pd(y + i), k);
        step r1 = op(_mm512_loadu_pd(p + i + 8), _mm512_loadu_pd(y + i + 8), k);
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
        __mmask8 m = tail_mask(n - i);
        step r = op(_mm512_maskz_loadu_pd(m, p + i), _mm512_maskz_loadu_pd(m, y + i), k);
        acc0 = _mm512_add_pd(acc0, _mm512_maskz_mov_pd(m, r.l));
        bad |= r.bad & m;
        if (g)
            _mm512_mask_storeu_pd(g + i, m, r.g);
        if (v)
            _mm512_mask_storeu_pd(v + i, m, r.l);
    }
    return finish(_mm512_add_pd(acc0, acc1), bad, sum);
}

/* float32: 8 floats widen to one double step; results round once on the store. */
KERN_INLINE int drive_f32(const kern_elem_args *a, double *sum, op_fn op, const kc *k)
{
    const float *p = a->p, *y = a->y;
    float *g = a->grad, *v = a->values;
    __m512d acc0 = _mm512_setzero_pd(), acc1 = acc0;
    __mmask8 bad = 0;
    size_t i = 0, n = a->n;
    for (; i + 16 <= n; i += 16) {
        step r0 = op(_mm512_cvtps_pd(_mm256_loadu_ps(p + i)),
                     _mm512_cvtps_pd(_mm256_loadu_ps(y + i)), k);
        step r1 = op(_mm512_cvtps_pd(_mm256_loadu_ps(p + i + 8)),
                     _mm512_cvtps_pd(_mm256_loadu_ps(y + i + 8)), k);
        acc0 = _mm512_add_pd(acc0, r0.l); /* the sum keeps the double losses */
        acc1 = _mm512_add_pd(acc1, r1.l);
        bad |= r0.bad | r1.bad;
        if (g) {
            _mm256_storeu_ps(g + i, _mm512_cvtpd_ps(r0.g));
            _mm256_storeu_ps(g + i + 8, _mm512_cvtpd_ps(r1.g));
        }
        if (v) {
            _mm256_storeu_ps(v + i, _mm512_cvtpd_ps(r0.l));
            _mm256_storeu_ps(v + i + 8, _mm512_cvtpd_ps(r1.l));
        }
    }
    for (; i < n; i += 8) {
        __mmask8 m = tail_mask(n - i);
        step r = op(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, p + i)),
                    _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, y + i)), k);
        acc0 = _mm512_add_pd(acc0, _mm512_maskz_mov_pd(m, r.l));
        bad |= r.bad & m;
        if (g)
            _mm256_mask_storeu_ps(g + i, m, _mm512_cvtpd_ps(r.g));
        if (v)
            _mm256_mask_storeu_ps(v + i, m, _mm512_cvtpd_ps(r.l));
    }
    return finish(_mm512_add_pd(acc0, acc1), bad, sum);
}

/* ---- shared pieces of the steps ---- */

KERN_INLINE __m512d absv(__m512d x) { return _mm512_abs_pd(x); }
KERN_INLINE __m512d neg(__m512d x) { return _mm512_sub_pd(_mm512_setzero_pd(), x); }

/* Lanes holding inf or NaN. */
KERN_INLINE __mmask8 not_finite(__m512d x)
{
    return _mm512_cmp_pd_mask(absv(x), vm8_c(__builtin_inf()), _CMP_NLT_UQ);
}

/* Lanes outside [0, 1], NaN included. */
KERN_INLINE __mmask8 outside01(__m512d x)
{
    return _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_NGE_UQ) |
           _mm512_cmp_pd_mask(x, vm8_c(1.0), _CMP_NLE_UQ);
}

/* bce_terms.h on 8 lanes: the clamped cross-entropy of probability p and its gradient. */
KERN_INLINE void bce_terms(__m512d p, __m512d y, __m512d *ce, __m512d *dce)
{
    __m512d one = vm8_c(1.0), floor = vm8_c(-100.0);
    __m512d lp, lq;
    vm8_log_pq(p, &lp, &lq);
    lp = _mm512_max_pd(lp, floor);
    lq = _mm512_max_pd(lq, floor);
    *ce = _mm512_sub_pd(_mm512_mul_pd(_mm512_sub_pd(y, one), lq), _mm512_mul_pd(y, lp));
    __m512d den = _mm512_max_pd(_mm512_mul_pd(_mm512_sub_pd(one, p), p), vm8_c((double)1e-12f));
    *dce = _mm512_div_pd(_mm512_sub_pd(p, y), den);
}

/* logistic.h on 8 lanes: softplus and sigmoid of x and -x from one exp and one log1p. */
typedef struct {
    __m512d sp_pos, sp_neg, sig_pos, sig_neg;
} logistic8;

KERN_INLINE logistic8 logistic(__m512d x)
{
    __m512d e = vm8_exp(neg(absv(x))), zero = _mm512_setzero_pd();
    __m512d t = vm8_log1p_01(e), big = _mm512_div_pd(vm8_c(1.0), _mm512_add_pd(vm8_c(1.0), e));
    __m512d small = _mm512_mul_pd(e, big);
    __mmask8 pos = _mm512_cmp_pd_mask(x, zero, _CMP_GE_OQ);
    return (logistic8){_mm512_add_pd(_mm512_max_pd(x, zero), t),
                       _mm512_add_pd(_mm512_max_pd(neg(x), zero), t),
                       _mm512_mask_mov_pd(small, pos, big), _mm512_mask_mov_pd(big, pos, small)};
}

/* alpha_t = a y + b (1 - y) + c (kern_step_constants). */
KERN_INLINE __m512d alpha_t(__m512d y, __m512d omy, const kc *k)
{
    return _mm512_add_pd(_mm512_add_pd(_mm512_mul_pd(k->a, y), _mm512_mul_pd(k->b, omy)), k->c);
}

/* q^gamma and its derivative for gamma = k->d: 0 and 0 where q <= 0 (1 and 0 if gamma = 0);
 * exact q*q and 2q when `square` (gamma = 2). */
KERN_INLINE void focal_pow(__m512d q, const kc *k, int square, __m512d *f, __m512d *df)
{
    __mmask8 pos = _mm512_cmp_pd_mask(q, _mm512_setzero_pd(), _CMP_GT_OQ);
    if (square) {
        *f = _mm512_maskz_mul_pd(pos, q, q);
        *df = _mm512_maskz_add_pd(pos, q, q);
        return;
    }
    __m512d qp = _mm512_mask_mov_pd(vm8_c(1.0), pos, q); /* keeps log finite in dead lanes */
    __m512d fq = vm8_exp(_mm512_mul_pd(k->d, vm8_log(qp)));
    __mmask8 zero_gamma = _mm512_cmp_pd_mask(k->d, _mm512_setzero_pd(), _CMP_EQ_OQ);
    *f = _mm512_mask_mov_pd(_mm512_maskz_mov_pd(zero_gamma, vm8_c(1.0)), pos, fq);
    *df = _mm512_maskz_mul_pd(pos, k->d, _mm512_div_pd(fq, qp));
}

/* ---- the steps ---- */

KERN_INLINE step bce_step(__m512d p, __m512d y, const kc *k)
{
    __m512d ce, dce;
    bce_terms(p, y, &ce, &dce);
    return (step){ce, _mm512_mul_pd(dce, k->s), outside01(p) | not_finite(y)};
}

KERN_INLINE step bce_with_logits_step(__m512d x, __m512d y, const kc *k)
{
    logistic8 s = logistic(x);
    __m512d omy = _mm512_sub_pd(vm8_c(1.0), y);
    __m512d l = _mm512_add_pd(_mm512_mul_pd(omy, s.sp_pos), _mm512_mul_pd(y, s.sp_neg));
    __m512d g = _mm512_sub_pd(_mm512_mul_pd(omy, s.sig_pos), _mm512_mul_pd(y, s.sig_neg));
    return (step){l, _mm512_mul_pd(g, k->s), not_finite(x) | not_finite(y)};
}

KERN_INLINE step focal_step(__m512d p, __m512d y, const kc *k, int square)
{
    __m512d one = vm8_c(1.0), omy = _mm512_sub_pd(one, y), ce, dce, f, df;
    bce_terms(p, y, &ce, &dce);
    __m512d pt = _mm512_add_pd(_mm512_mul_pd(p, y), _mm512_mul_pd(_mm512_sub_pd(one, p), omy));
    focal_pow(_mm512_sub_pd(one, pt), k, square, &f, &df);
    __m512d at = alpha_t(y, omy, k), dq = _mm512_sub_pd(one, _mm512_add_pd(y, y));
    __m512d g = _mm512_add_pd(_mm512_mul_pd(dce, f), _mm512_mul_pd(_mm512_mul_pd(ce, df), dq));
    return (step){_mm512_mul_pd(at, _mm512_mul_pd(ce, f)),
                  _mm512_mul_pd(_mm512_mul_pd(at, g), k->s), outside01(p) | outside01(y)};
}

KERN_INLINE step sigmoid_focal_step(__m512d x, __m512d y, const kc *k, int square)
{
    logistic8 s = logistic(x);
    __m512d one = vm8_c(1.0), omy = _mm512_sub_pd(one, y), f, df;
    __m512d ce = _mm512_add_pd(_mm512_mul_pd(omy, s.sp_pos), _mm512_mul_pd(y, s.sp_neg));
    __m512d q = _mm512_add_pd(_mm512_mul_pd(s.sig_pos, omy), _mm512_mul_pd(s.sig_neg, y));
    focal_pow(q, k, square, &f, &df);
    /* d(q^gamma)/dx = gamma q^(gamma-1) dq/dx, dq/dx = p(1-p)(1-2y) */
    __m512d pq = _mm512_mul_pd(s.sig_pos, s.sig_neg), dq = _mm512_sub_pd(one, _mm512_add_pd(y, y));
    __m512d dqg = _mm512_mul_pd(_mm512_mul_pd(df, pq), dq);
    __m512d dce = _mm512_sub_pd(_mm512_mul_pd(omy, s.sig_pos), _mm512_mul_pd(y, s.sig_neg));
    __m512d at = alpha_t(y, omy, k);
    __m512d g = _mm512_add_pd(_mm512_mul_pd(dce, f), _mm512_mul_pd(ce, dqg));
    return (step){_mm512_mul_pd(_mm512_mul_pd(at, ce), f),
                  _mm512_mul_pd(_mm512_mul_pd(at, g), k->s), not_finite(x) | outside01(y)};
}

KERN_INLINE step focal_sq_step(__m512d p, __m512d y, const kc *k) { return focal_step(p, y, k, 1); }
KERN_INLINE step focal_gen_step(__m512d p, __m512d y, const kc *k) { return focal_step(p, y, k, 0); }
KERN_INLINE step sigmoid_focal_sq_step(__m512d x, __m512d y, const kc *k)
{
    return sigmoid_focal_step(x, y, k, 1);
}
KERN_INLINE step sigmoid_focal_gen_step(__m512d x, __m512d y, const kc *k)
{
    return sigmoid_focal_step(x, y, k, 0);
}

/* log_cosh as in kern_avx2_vm.c: E = expm1(|d|) inside |d| < 1, B = exp(-2|d|) beyond, from
 * one exp reduction. */
KERN_INLINE step log_cosh_step(__m512d p, __m512d y, const kc *k)
{
    __m512d one = vm8_c(1.0), two = vm8_c(2.0), d = _mm512_sub_pd(p, y), ad = absv(d);
    __mmask8 small = _mm512_cmp_pd_mask(ad, one, _CMP_LT_OQ);
    __m512d arg = _mm512_mask_mov_pd(_mm512_mul_pd(ad, vm8_c(-2.0)), small, ad);
    vm8_exp_red e = vm8_exp_reduce(vm8_clamp(arg, -VM_EXP_CLAMP, VM_EXP_CLAMP));
    __m512d t = _mm512_scalef_pd(one, e.n);
    __m512d em1 = _mm512_fmadd_pd(t, e.p, _mm512_fmadd_pd(t, e.r, _mm512_sub_pd(t, one)));
    __m512d b = vm8_exp_finish(e);
    __m512d a = _mm512_div_pd(_mm512_mul_pd(em1, em1), _mm512_fmadd_pd(two, em1, two));
    __m512d lp = vm8_log1p_01(_mm512_mask_mov_pd(b, small, a));
    __m512d l = _mm512_mask_mov_pd(_mm512_sub_pd(_mm512_add_pd(ad, lp), vm8_c(M_LN2)), small, lp);
    __m512d nm = _mm512_mul_pd(em1, _mm512_add_pd(em1, two));
    __m512d th = _mm512_div_pd(_mm512_mask_mov_pd(_mm512_sub_pd(one, b), small, nm),
                               _mm512_mask_mov_pd(_mm512_add_pd(one, b), small, _mm512_add_pd(nm, two)));
    __m512d g = _mm512_or_pd(th, _mm512_and_pd(d, vm8_c(-0.0))); /* tanh(d) = sgn(d) tanh|d| */
    return (step){l, _mm512_mul_pd(g, k->s), not_finite(p) | not_finite(y)};
}

/* softplus(z), z = -y x, and -y sigmoid(z), for y = +-1 exactly. */
KERN_INLINE step soft_margin_step(__m512d x, __m512d y, const kc *k)
{
    __m512d one = vm8_c(1.0), z = _mm512_mul_pd(neg(y), x);
    __m512d e = vm8_exp(neg(absv(z)));
    __m512d l = _mm512_add_pd(_mm512_max_pd(z, _mm512_setzero_pd()), vm8_log1p_01(e));
    __m512d big = _mm512_div_pd(one, _mm512_add_pd(one, e));
    __mmask8 zpos = _mm512_cmp_pd_mask(z, _mm512_setzero_pd(), _CMP_GE_OQ);
    __m512d sig = _mm512_mask_mov_pd(_mm512_mul_pd(e, big), zpos, big);
    __m512d g = _mm512_mul_pd(_mm512_mul_pd(neg(y), sig), k->s);
    __mmask8 not_sign = _mm512_cmp_pd_mask(absv(y), one, _CMP_NEQ_UQ);
    return (step){l, g, not_sign | not_finite(x)};
}

/* ---- entry points ---- */

static kc kc_make(kern_id id, const kern_elem_args *a)
{
    double c[KERN_N_CONSTANTS];
    kern_step_constants(id, a->scale, a->param, c);
    return (kc){vm8_c(a->scale), vm8_c(c[0]), vm8_c(c[1]), vm8_c(c[2]), vm8_c(c[3])};
}

#define KERN_ENTRY(name, id)                                                                       \
    static int name##_f64(const kern_elem_args *a, double *sum)                                    \
    {                                                                                              \
        kc k = kc_make(id, a);                                                                     \
        return drive_f64(a, sum, name##_step, &k);                                                 \
    }                                                                                              \
    static int name##_f32(const kern_elem_args *a, double *sum)                                    \
    {                                                                                              \
        kc k = kc_make(id, a);                                                                     \
        return drive_f32(a, sum, name##_step, &k);                                                 \
    }

KERN_ENTRY(bce, KERN_BCE)
KERN_ENTRY(bce_with_logits, KERN_BCE_WITH_LOGITS)
KERN_ENTRY(focal_sq, KERN_FOCAL)
KERN_ENTRY(focal_gen, KERN_FOCAL)
KERN_ENTRY(sigmoid_focal_sq, KERN_SIGMOID_FOCAL)
KERN_ENTRY(sigmoid_focal_gen, KERN_SIGMOID_FOCAL)
KERN_ENTRY(log_cosh, KERN_LOG_COSH)
KERN_ENTRY(soft_margin, KERN_SOFT_MARGIN)

/* The focal pair: gamma = 2 (the default) squares exactly, as pow does; others use exp/log. */
static int focal_f64(const kern_elem_args *a, double *sum)
{
    return a->param[1] == 2.0 ? focal_sq_f64(a, sum) : focal_gen_f64(a, sum);
}

static int focal_f32(const kern_elem_args *a, double *sum)
{
    return a->param[1] == 2.0 ? focal_sq_f32(a, sum) : focal_gen_f32(a, sum);
}

static int sigmoid_focal_f64(const kern_elem_args *a, double *sum)
{
    return a->param[1] == 2.0 ? sigmoid_focal_sq_f64(a, sum) : sigmoid_focal_gen_f64(a, sum);
}

static int sigmoid_focal_f32(const kern_elem_args *a, double *sum)
{
    return a->param[1] == 2.0 ? sigmoid_focal_sq_f32(a, sum) : sigmoid_focal_gen_f32(a, sum);
}

void kern_avx512_vm_fill(kern_table *t)
{
#define KERN_SLOT(name, id) (t->f64[id] = name##_f64, t->f32[id] = name##_f32)
    KERN_SLOT(bce, KERN_BCE);
    KERN_SLOT(bce_with_logits, KERN_BCE_WITH_LOGITS);
    KERN_SLOT(focal, KERN_FOCAL);
    KERN_SLOT(sigmoid_focal, KERN_SIGMOID_FOCAL);
    KERN_SLOT(log_cosh, KERN_LOG_COSH);
    KERN_SLOT(soft_margin, KERN_SOFT_MARGIN);
#undef KERN_SLOT
    t->vm[KERN_VM_EXP] = vm_exp_array;
    t->vm[KERN_VM_EXPM1] = vm_expm1_array;
    t->vm[KERN_VM_LOG] = vm_log_array;
    t->vm[KERN_VM_LOG1P] = vm_log1p_array;
    t->vm[KERN_VM_LOG1P_01] = vm_log1p_01_array;
    t->vm[KERN_VM_LOG_01] = vm_log_01_array;
    t->vm[KERN_VM_LOG1M_01] = vm_log1m_01_array;
}
