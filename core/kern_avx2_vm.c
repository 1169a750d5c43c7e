/* kern_avx2_vm: the AVX2+FMA fast paths built on vector exp/log (vmath_avx2.h): the vector
 * math over arrays, the elementwise losses with transcendentals, and cross-entropy rows.
 * Compiled with -mavx2 -mfma only. Every loss computes in double lanes, float32 included
 * (converted on load, computed with the vm_f32 forms, rounded once on store), and declines
 * (KERN_DECLINED) on any element the reference must judge: non-finite or out-of-domain
 * inputs, or a sum that is not finite. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "kern.h"
#include "vmath_avx2.h"

#define KERN_INLINE static inline __attribute__((always_inline))

/* Lanes [0, r) of 4 set (r may exceed 4). */
static __m256i tail_mask(size_t r)
{
    long long k = r > 4 ? 4 : (long long)r;
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(k), _mm256_setr_epi64x(0, 1, 2, 3));
}

/* ---- vector math over arrays ---- */

KERN_INLINE __m256d log_01(__m256d x, int lite)
{
    __m256d lp, lq;
    vm4_log_pq(x, &lp, &lq, lite);
    return lp;
}

KERN_INLINE __m256d log1m_01(__m256d x, int lite)
{
    __m256d lp, lq;
    vm4_log_pq(x, &lp, &lq, lite);
    return lq;
}

#define VM_ARRAY(name, fn, lite)                                                                   \
    static void name(const double *x, double *out, size_t n)                                       \
    {                                                                                              \
        size_t i = 0;                                                                              \
        for (; i + 4 <= n; i += 4)                                                                 \
            _mm256_storeu_pd(out + i, fn(_mm256_loadu_pd(x + i), lite));                           \
        if (i < n) {                                                                               \
            __m256i m = tail_mask(n - i);                                                          \
            _mm256_maskstore_pd(out + i, m, fn(_mm256_maskload_pd(x + i, m), lite));               \
        }                                                                                          \
    }

/* Both tiers of each function: name_array (full) and name_f32_array (lite). */
#define VM_ARRAYS(name, fn) VM_ARRAY(name##_array, fn, 0) VM_ARRAY(name##_f32_array, fn, 1)

VM_ARRAYS(vm_exp, vm4_exp)
VM_ARRAYS(vm_expm1, vm4_expm1)
VM_ARRAYS(vm_log, vm4_log)
VM_ARRAYS(vm_log1p, vm4_log1p)
VM_ARRAYS(vm_log1p_01, vm4_log1p_01)
VM_ARRAYS(vm_log_01, log_01)
VM_ARRAYS(vm_log1m_01, log1m_01)

/* ---- the elementwise drivers: double lanes for both dtypes ---- */

/* The step's broadcast constants: gradient scale and a, b, c, d of kern_step_constants. */
typedef struct {
    __m256d s, a, b, c, d;
} kc;

/* One step's losses, scaled gradients and the lanes only the reference may judge. */
typedef struct {
    __m256d l, g, bad;
} step;

/* `lite`: the float32 forms of the vector math (kern.h). */
typedef step (*op_fn)(__m256d p, __m256d y, const kc *k, int lite);

/* Horizontal sum of 4 doubles in a fixed order (determinism). */
static double hsum(__m256d v)
{
    __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
    lo = _mm_add_pd(lo, hi);
    return _mm_cvtsd_f64(lo) + _mm_cvtsd_f64(_mm_unpackhi_pd(lo, lo));
}

static int finish(__m256d acc, __m256d bad, double *sum)
{
    double s = hsum(acc);
    if (_mm256_movemask_pd(bad) || !isfinite(s))
        return KERN_DECLINED;
    *sum = s;
    return 0;
}

KERN_INLINE int drive_f64(const kern_elem_args *a, double *sum, op_fn op, const kc *k)
{
    const double *p = a->p, *y = a->y;
    double *g = a->grad, *v = a->values;
    __m256d acc0 = _mm256_setzero_pd(), acc1 = acc0, bad = acc0;
    size_t i = 0, n = a->n;
    for (; i + 8 <= n; i += 8) {
        step r0 = op(_mm256_loadu_pd(p + i), _mm256_loadu_pd(y + i), k, 0);
        step r1 = op(_mm256_loadu_pd(p + i + 4), _mm256_loadu_pd(y + i + 4), k, 0);
        acc0 = _mm256_add_pd(acc0, r0.l);
        acc1 = _mm256_add_pd(acc1, r1.l);
        bad = _mm256_or_pd(bad, _mm256_or_pd(r0.bad, r1.bad));
        if (g) {
            _mm256_storeu_pd(g + i, r0.g);
            _mm256_storeu_pd(g + i + 4, r1.g);
        }
        if (v) {
            _mm256_storeu_pd(v + i, r0.l);
            _mm256_storeu_pd(v + i + 4, r1.l);
        }
    }
    for (; i < n; i += 4) {
        __m256i m = tail_mask(n - i);
        __m256d md = _mm256_castsi256_pd(m);
        step r = op(_mm256_maskload_pd(p + i, m), _mm256_maskload_pd(y + i, m), k, 0);
        acc0 = _mm256_add_pd(acc0, _mm256_and_pd(r.l, md));
        bad = _mm256_or_pd(bad, _mm256_and_pd(r.bad, md));
        if (g)
            _mm256_maskstore_pd(g + i, m, r.g);
        if (v)
            _mm256_maskstore_pd(v + i, m, r.l);
    }
    return finish(_mm256_add_pd(acc0, acc1), bad, sum);
}

/* Two double results rounded to 8 floats. */
KERN_INLINE __m256 narrow2(__m256d lo, __m256d hi)
{
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
}

/* float32: each 8 floats widen to two double steps; results round once on the store. */
KERN_INLINE int drive_f32(const kern_elem_args *a, double *sum, op_fn op, const kc *k)
{
    const float *p = a->p, *y = a->y;
    float *g = a->grad, *v = a->values;
    __m256d acc0 = _mm256_setzero_pd(), acc1 = acc0, bad = acc0;
    size_t i = 0, n = a->n;
    for (; i + 8 <= n; i += 8) {
        __m256 pv = _mm256_loadu_ps(p + i), yv = _mm256_loadu_ps(y + i);
        step r0 = op(_mm256_cvtps_pd(_mm256_castps256_ps128(pv)),
                     _mm256_cvtps_pd(_mm256_castps256_ps128(yv)), k, 1);
        step r1 = op(_mm256_cvtps_pd(_mm256_extractf128_ps(pv, 1)),
                     _mm256_cvtps_pd(_mm256_extractf128_ps(yv, 1)), k, 1);
        acc0 = _mm256_add_pd(acc0, r0.l); /* the sum keeps the double losses */
        acc1 = _mm256_add_pd(acc1, r1.l);
        bad = _mm256_or_pd(bad, _mm256_or_pd(r0.bad, r1.bad));
        if (g)
            _mm256_storeu_ps(g + i, narrow2(r0.g, r1.g));
        if (v)
            _mm256_storeu_ps(v + i, narrow2(r0.l, r1.l));
    }
    for (; i < n; i += 4) {
        __m256i m = tail_mask(n - i);
        __m128i m4 = _mm_cmpgt_epi32(_mm_set1_epi32((int)(n - i > 4 ? 4 : n - i)),
                                     _mm_setr_epi32(0, 1, 2, 3));
        step r = op(_mm256_cvtps_pd(_mm_maskload_ps(p + i, m4)),
                    _mm256_cvtps_pd(_mm_maskload_ps(y + i, m4)), k, 1);
        acc0 = _mm256_add_pd(acc0, _mm256_and_pd(r.l, _mm256_castsi256_pd(m)));
        bad = _mm256_or_pd(bad, _mm256_and_pd(r.bad, _mm256_castsi256_pd(m)));
        if (g)
            _mm_maskstore_ps(g + i, m4, _mm256_cvtpd_ps(r.g));
        if (v)
            _mm_maskstore_ps(v + i, m4, _mm256_cvtpd_ps(r.l));
    }
    return finish(_mm256_add_pd(acc0, acc1), bad, sum);
}

/* ---- shared pieces of the steps ---- */

KERN_INLINE __m256d absv(__m256d x)
{
    return _mm256_andnot_pd(vm4_c(-0.0), x);
}

/* Lanes holding inf or NaN. */
KERN_INLINE __m256d not_finite(__m256d x)
{
    return _mm256_cmp_pd(absv(x), vm4_c(__builtin_inf()), _CMP_NLT_UQ);
}

/* Lanes outside [0, 1], NaN included. */
KERN_INLINE __m256d outside01(__m256d x)
{
    return _mm256_or_pd(_mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_NGE_UQ),
                        _mm256_cmp_pd(x, vm4_c(1.0), _CMP_NLE_UQ));
}

/* bce_terms.h on 4 lanes: the clamped cross-entropy of probability p and its gradient. */
KERN_INLINE void bce_terms(__m256d p, __m256d y, __m256d *ce, __m256d *dce, int lite)
{
    __m256d one = vm4_c(1.0), floor = vm4_c(-100.0);
    __m256d lp, lq;
    vm4_log_pq(p, &lp, &lq, lite);
    lp = _mm256_max_pd(lp, floor);
    lq = _mm256_max_pd(lq, floor);
    *ce = _mm256_sub_pd(_mm256_mul_pd(_mm256_sub_pd(y, one), lq), _mm256_mul_pd(y, lp));
    __m256d den = _mm256_max_pd(_mm256_mul_pd(_mm256_sub_pd(one, p), p), vm4_c((double)1e-12f));
    *dce = _mm256_div_pd(_mm256_sub_pd(p, y), den);
}

/* logistic.h on 4 lanes: softplus and sigmoid of x and -x from one exp and one log1p. */
typedef struct {
    __m256d sp_pos, sp_neg, sig_pos, sig_neg;
} logistic4;

KERN_INLINE logistic4 logistic(__m256d x, int lite)
{
    __m256d e = vm4_exp(_mm256_sub_pd(_mm256_setzero_pd(), absv(x)), lite);
    __m256d t = vm4_log1p_01(e, lite),
            big = _mm256_div_pd(vm4_c(1.0), _mm256_add_pd(vm4_c(1.0), e));
    __m256d small = _mm256_mul_pd(e, big), pos = _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_GE_OQ);
    __m256d zero = _mm256_setzero_pd();
    return (logistic4){_mm256_add_pd(_mm256_max_pd(x, zero), t),
                       _mm256_add_pd(_mm256_max_pd(_mm256_sub_pd(zero, x), zero), t),
                       vm4_pick(pos, big, small), vm4_pick(pos, small, big)};
}

/* alpha_t = a y + b (1 - y) + c (kern_step_constants). */
KERN_INLINE __m256d alpha_t(__m256d y, __m256d omy, const kc *k)
{
    return _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(k->a, y), _mm256_mul_pd(k->b, omy)), k->c);
}

/* q^gamma and its derivative for gamma = k->d: 0 and 0 where q <= 0 (1 and 0 if gamma = 0);
 * exact q*q and 2q when `square` (gamma = 2). */
KERN_INLINE void focal_pow(__m256d q, const kc *k, int square, int lite, __m256d *f, __m256d *df)
{
    __m256d pos = _mm256_cmp_pd(q, _mm256_setzero_pd(), _CMP_GT_OQ);
    if (square) {
        *f = _mm256_and_pd(pos, _mm256_mul_pd(q, q));
        *df = _mm256_and_pd(pos, _mm256_add_pd(q, q));
        return;
    }
    __m256d qp = vm4_pick(pos, q, vm4_c(1.0)); /* keeps log finite in dead lanes */
    __m256d fq = vm4_exp(_mm256_mul_pd(k->d, vm4_log(qp, lite)), lite);
    __m256d zero_gamma = _mm256_cmp_pd(k->d, _mm256_setzero_pd(), _CMP_EQ_OQ);
    *f = vm4_pick(pos, fq, _mm256_and_pd(zero_gamma, vm4_c(1.0)));
    *df = _mm256_and_pd(pos, _mm256_mul_pd(k->d, _mm256_div_pd(fq, qp)));
}

/* ---- the steps ---- */

KERN_INLINE step bce_step(__m256d p, __m256d y, const kc *k, int lite)
{
    __m256d ce, dce;
    bce_terms(p, y, &ce, &dce, lite);
    return (step){ce, _mm256_mul_pd(dce, k->s), _mm256_or_pd(outside01(p), not_finite(y))};
}

KERN_INLINE step bce_with_logits_step(__m256d x, __m256d y, const kc *k, int lite)
{
    logistic4 s = logistic(x, lite);
    __m256d omy = _mm256_sub_pd(vm4_c(1.0), y);
    __m256d l = _mm256_add_pd(_mm256_mul_pd(omy, s.sp_pos), _mm256_mul_pd(y, s.sp_neg));
    __m256d g = _mm256_sub_pd(_mm256_mul_pd(omy, s.sig_pos), _mm256_mul_pd(y, s.sig_neg));
    return (step){l, _mm256_mul_pd(g, k->s), _mm256_or_pd(not_finite(x), not_finite(y))};
}

KERN_INLINE step focal_step(__m256d p, __m256d y, const kc *k, int square, int lite)
{
    __m256d one = vm4_c(1.0), omy = _mm256_sub_pd(one, y), ce, dce, f, df;
    bce_terms(p, y, &ce, &dce, lite);
    __m256d pt = _mm256_add_pd(_mm256_mul_pd(p, y), _mm256_mul_pd(_mm256_sub_pd(one, p), omy));
    focal_pow(_mm256_sub_pd(one, pt), k, square, lite, &f, &df);
    __m256d at = alpha_t(y, omy, k), dq = _mm256_sub_pd(one, _mm256_add_pd(y, y));
    __m256d g = _mm256_add_pd(_mm256_mul_pd(dce, f), _mm256_mul_pd(_mm256_mul_pd(ce, df), dq));
    return (step){_mm256_mul_pd(at, _mm256_mul_pd(ce, f)),
                  _mm256_mul_pd(_mm256_mul_pd(at, g), k->s),
                  _mm256_or_pd(outside01(p), outside01(y))};
}

KERN_INLINE step sigmoid_focal_step(__m256d x, __m256d y, const kc *k, int square, int lite)
{
    logistic4 s = logistic(x, lite);
    __m256d one = vm4_c(1.0), omy = _mm256_sub_pd(one, y), f, df;
    __m256d ce = _mm256_add_pd(_mm256_mul_pd(omy, s.sp_pos), _mm256_mul_pd(y, s.sp_neg));
    __m256d q = _mm256_add_pd(_mm256_mul_pd(s.sig_pos, omy), _mm256_mul_pd(s.sig_neg, y));
    focal_pow(q, k, square, lite, &f, &df);
    /* d(q^gamma)/dx = gamma q^(gamma-1) dq/dx, dq/dx = p(1-p)(1-2y) */
    __m256d pq = _mm256_mul_pd(s.sig_pos, s.sig_neg), dq = _mm256_sub_pd(one, _mm256_add_pd(y, y));
    __m256d dqg = _mm256_mul_pd(_mm256_mul_pd(df, pq), dq);
    __m256d dce = _mm256_sub_pd(_mm256_mul_pd(omy, s.sig_pos), _mm256_mul_pd(y, s.sig_neg));
    __m256d at = alpha_t(y, omy, k);
    __m256d g = _mm256_add_pd(_mm256_mul_pd(dce, f), _mm256_mul_pd(ce, dqg));
    return (step){_mm256_mul_pd(_mm256_mul_pd(at, ce), f),
                  _mm256_mul_pd(_mm256_mul_pd(at, g), k->s),
                  _mm256_or_pd(not_finite(x), outside01(y))};
}

KERN_INLINE step focal_sq_step(__m256d p, __m256d y, const kc *k, int lite)
{
    return focal_step(p, y, k, 1, lite);
}
KERN_INLINE step focal_gen_step(__m256d p, __m256d y, const kc *k, int lite)
{
    return focal_step(p, y, k, 0, lite);
}
KERN_INLINE step sigmoid_focal_sq_step(__m256d x, __m256d y, const kc *k, int lite)
{
    return sigmoid_focal_step(x, y, k, 1, lite);
}
KERN_INLINE step sigmoid_focal_gen_step(__m256d x, __m256d y, const kc *k, int lite)
{
    return sigmoid_focal_step(x, y, k, 0, lite);
}

/* log(cosh d) = log1p(E^2 / (2 (1 + E))), tanh |d| = E (E + 2) / (E (E + 2) + 2) with
 * E = expm1(|d|) inside |d| < 1 (the reference's sinh form); beyond, |d| + log1p(B) - log 2 and
 * (1 - B) / (1 + B) with B = exp(-2|d|). One exp reduction serves both. */
KERN_INLINE step log_cosh_step(__m256d p, __m256d y, const kc *k, int lite)
{
    __m256d one = vm4_c(1.0), two = vm4_c(2.0), d = _mm256_sub_pd(p, y), ad = absv(d);
    __m256d small = _mm256_cmp_pd(ad, one, _CMP_LT_OQ);
    __m256d arg = vm4_pick(small, ad, _mm256_mul_pd(ad, vm4_c(-2.0)));
    vm4_exp_red e = vm4_exp_reduce(vm4_clamp(arg, -VM_EXP_CLAMP, VM_EXP_CLAMP), lite);
    __m256d t = vm4_pow2i(_mm256_max_pd(e.n, vm4_c(-1022.0)));
    __m256d em1 = _mm256_fmadd_pd(t, e.p, _mm256_fmadd_pd(t, e.r, _mm256_sub_pd(t, one)));
    __m256d b = vm4_exp_finish(e);
    __m256d a = _mm256_div_pd(_mm256_mul_pd(em1, em1), _mm256_fmadd_pd(two, em1, two));
    __m256d lp = vm4_log1p_01(vm4_pick(small, a, b), lite);
    __m256d l = vm4_pick(small, lp, _mm256_sub_pd(_mm256_add_pd(ad, lp), vm4_c(M_LN2)));
    __m256d nm = _mm256_mul_pd(em1, _mm256_add_pd(em1, two));
    __m256d th = _mm256_div_pd(vm4_pick(small, nm, _mm256_sub_pd(one, b)),
                               vm4_pick(small, _mm256_add_pd(nm, two), _mm256_add_pd(one, b)));
    __m256d g = _mm256_or_pd(th, _mm256_and_pd(d, vm4_c(-0.0))); /* tanh(d) = sgn(d) tanh|d| */
    return (step){l, _mm256_mul_pd(g, k->s), _mm256_or_pd(not_finite(p), not_finite(y))};
}

/* softplus(z), z = -y x, and -y sigmoid(z), for y = +-1 exactly. */
KERN_INLINE step soft_margin_step(__m256d x, __m256d y, const kc *k, int lite)
{
    __m256d one = vm4_c(1.0), z = _mm256_mul_pd(_mm256_sub_pd(_mm256_setzero_pd(), y), x);
    __m256d e = vm4_exp(_mm256_sub_pd(_mm256_setzero_pd(), absv(z)), lite);
    __m256d l = _mm256_add_pd(_mm256_max_pd(z, _mm256_setzero_pd()), vm4_log1p_01(e, lite));
    __m256d big = _mm256_div_pd(one, _mm256_add_pd(one, e));
    __m256d sig =
        vm4_pick(_mm256_cmp_pd(z, _mm256_setzero_pd(), _CMP_GE_OQ), big, _mm256_mul_pd(e, big));
    __m256d g = _mm256_mul_pd(_mm256_mul_pd(_mm256_sub_pd(_mm256_setzero_pd(), y), sig), k->s);
    __m256d not_sign = _mm256_cmp_pd(absv(y), one, _CMP_NEQ_UQ);
    return (step){l, g, _mm256_or_pd(not_sign, not_finite(x))};
}

/* ---- entry points ---- */

static kc kc_make(kern_id id, const kern_elem_args *a)
{
    double c[KERN_N_CONSTANTS];
    kern_step_constants(id, a->scale, a->param, c);
    return (kc){vm4_c(a->scale), vm4_c(c[0]), vm4_c(c[1]), vm4_c(c[2]), vm4_c(c[3])};
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

/* ---- cross-entropy rows ---- */

/* Rows of at most CE_NARROW classes go 4 at a time, one row per lane: gathering the scores
 * class by class turns max, exps, sums and the log into whole-vector work. */
#define CE_NARROW 16

/* Exps kept between the passes of a group of wider rows (32 KiB of the stack); rows wider
 * than this recompute them in the gradient pass. */
#define CE_BUF 4096

/* Lanes [0, r) of 4 as 32-bit lanes (float masks). */
static __m128i tail_mask4(size_t r)
{
    return _mm_cmpgt_epi32(_mm_set1_epi32(r > 4 ? 4 : (int)r), _mm_setr_epi32(0, 1, 2, 3));
}

/* Four consecutive values as doubles; the lanes past r (the values left) hold `fill`. */
KERN_INLINE __m256d ce_load(const void *x, int f32, size_t off, size_t r, __m256d fill)
{
    __m256d v = f32 ? _mm256_cvtps_pd(_mm_maskload_ps((const float *)x + off, tail_mask4(r)))
                    : _mm256_maskload_pd((const double *)x + off, tail_mask(r));
    return r >= 4 ? v : vm4_pick(_mm256_castsi256_pd(tail_mask(r)), v, fill);
}

KERN_INLINE void ce_store(void *out, int f32, size_t off, size_t r, __m256d v)
{
    if (f32)
        _mm_maskstore_ps((float *)out + off, tail_mask4(r), _mm256_cvtpd_ps(v));
    else
        _mm256_maskstore_pd((double *)out + off, tail_mask(r), v);
}

/* Rows r0 .. r0+n-1 (n <= 4) of at most CE_NARROW classes; adds their losses to *sum. The
 * block's scores and gradient pass through a buffer, so memory sees only contiguous accesses;
 * out_idx[k] maps row-major gradient vector k to its class-major place in the buffer.
 * Returns 0 or KERN_DECLINED. */
KERN_INLINE int ce_narrow_block(const kern_rows_args *a, int f32, size_t r0, size_t n,
                                const __m128i *out_idx, double *sum)
{
    const size_t classes = a->classes, off = r0 * classes, len = n * classes;
    const __m256d m = _mm256_castsi256_pd(tail_mask(n)), zero = _mm256_setzero_pd();
    const __m128i idx = _mm_mullo_epi32(_mm_setr_epi32(0, 1, 2, 3), _mm_set1_epi32((int)classes));
    double buf[4 * CE_NARROW + 4];
    __m256d v[CE_NARROW], e[CE_NARROW], mx = vm4_c(-__builtin_inf()), s = zero, bad = zero;
    for (size_t i = 0; i < len; i += 4)
        _mm256_storeu_pd(buf + i, ce_load(a->x, f32, off + i, len - i, zero));
    for (size_t c = 0; c < classes; c++) {
        v[c] = _mm256_mask_i32gather_pd(zero, buf + c, idx, m, 8);
        bad = _mm256_or_pd(bad, _mm256_and_pd(m, not_finite(v[c])));
        mx = _mm256_max_pd(mx, v[c]);
    }
    for (size_t c = 0; c < classes; c++) {
        e[c] = vm4_exp(_mm256_sub_pd(v[c], mx), f32);
        s = _mm256_add_pd(s, e[c]);
    }
    __m256i t = _mm256_maskload_epi64((const long long *)a->target + r0, tail_mask(n));
    __m256i out =
        _mm256_or_si256(_mm256_cmpgt_epi64(_mm256_setzero_si256(), t),
                        _mm256_cmpgt_epi64(t, _mm256_set1_epi64x((long long)classes - 1)));
    bad = _mm256_or_pd(bad, _mm256_and_pd(m, _mm256_castsi256_pd(out)));
    if (_mm256_movemask_pd(bad))
        return KERN_DECLINED;
    __m256d inv = _mm256_div_pd(vm4_c(1.0), s), sc = vm4_c(a->scale), xt = zero;
    for (size_t c = 0; c < classes; c++) {
        __m256d hit = _mm256_castsi256_pd(_mm256_cmpeq_epi64(t, _mm256_set1_epi64x((long long)c)));
        __m256d p = _mm256_mul_pd(e[c], inv);
        xt = vm4_pick(hit, v[c], xt);
        if (a->grad) /* (p - [c == t]) * scale, class-major */
            _mm256_storeu_pd(buf + 4 * c,
                             _mm256_mul_pd(vm4_pick(hit, _mm256_sub_pd(p, vm4_c(1.0)), p), sc));
    }
    for (size_t i = 0; a->grad && i < len; i += 4) { /* back to row-major */
        __m256d mo = _mm256_castsi256_pd(tail_mask(len - i));
        ce_store(a->grad, f32, off + i, len - i,
                 _mm256_mask_i32gather_pd(zero, buf, out_idx[i / 4], mo, 8));
    }
    __m256d l = _mm256_sub_pd(_mm256_add_pd(mx, vm4_log(s, f32)), xt);
    if (a->values)
        ce_store(a->values, f32, r0, n, l);
    *sum += hsum(_mm256_and_pd(m, l));
    return 0;
}

/* Sum of exp(x - shift) over a row, the exps kept in e (stride rounded up to 4) when e is
 * not NULL; ORs non-finite scores into *bad. */
KERN_INLINE double ce_row_sum(const void *x, int f32, size_t base, size_t classes, double shift,
                              double *e, __m256d *bad)
{
    const __m256d ninf = vm4_c(-__builtin_inf()), sh = vm4_c(shift);
    __m256d acc = _mm256_setzero_pd();
    for (size_t c = 0; c < classes; c += 4) {
        __m256d v = ce_load(x, f32, base + c, classes - c, ninf);
        __m256d live = _mm256_castsi256_pd(tail_mask(classes - c));
        *bad = _mm256_or_pd(*bad, _mm256_and_pd(live, not_finite(v)));
        __m256d ev = vm4_exp(_mm256_sub_pd(v, sh), f32);
        if (e)
            _mm256_storeu_pd(e + c, ev);
        acc = _mm256_add_pd(acc, ev);
    }
    return hsum(acc);
}

/* A row's maximum (its scores are known finite). */
KERN_INLINE double ce_row_max(const void *x, int f32, size_t base, size_t classes)
{
    const __m256d ninf = vm4_c(-__builtin_inf());
    __m256d mx = ninf;
    for (size_t c = 0; c < classes; c += 4)
        mx = _mm256_max_pd(mx, ce_load(x, f32, base + c, classes - c, ninf));
    __m128d h = _mm_max_pd(_mm256_castpd256_pd128(mx), _mm256_extractf128_pd(mx, 1));
    return fmax(_mm_cvtsd_f64(h), _mm_cvtsd_f64(_mm_unpackhi_pd(h, h)));
}

/* Writes a row's gradient (e / s - onehot(t)) * scale; e recomputed when NULL. */
KERN_INLINE void ce_row_grad(const kern_rows_args *a, int f32, size_t base, const double *e,
                             double shift, double inv, size_t t)
{
    const size_t classes = a->classes;
    const __m256d vinv = vm4_c(inv), sc = vm4_c(a->scale), sh = vm4_c(shift);
    const __m256d ninf = vm4_c(-__builtin_inf());
    for (size_t c = 0; c < classes; c += 4) {
        __m256d ev =
            e ? _mm256_loadu_pd(e + c)
              : vm4_exp(_mm256_sub_pd(ce_load(a->x, f32, base + c, classes - c, ninf), sh), f32);
        __m256d p = _mm256_mul_pd(ev, vinv);
        if (t - c < 4) { /* the target's lane: (p - 1) * scale */
            __m256d hit = _mm256_castsi256_pd(_mm256_cmpeq_epi64(
                _mm256_set1_epi64x((long long)(t - c)), _mm256_setr_epi64x(0, 1, 2, 3)));
            p = vm4_pick(hit, _mm256_sub_pd(p, vm4_c(1.0)), p);
        }
        ce_store(a->grad, f32, base + c, classes - c, _mm256_mul_pd(p, sc));
    }
}

/* Up to 4 wider rows from r0: exp sums first, one vector log for the group, then gradients
 * and losses. Each row is shifted by its first score, which keeps the sum >= 1 (that score's
 * own term); a row whose sum overflows takes its maximum instead. Adds the losses to *sum;
 * returns 0 or KERN_DECLINED. */
KERN_INLINE int ce_wide_group(const kern_rows_args *a, int f32, size_t r0, size_t n, double *ebuf,
                              size_t stride, double *sum)
{
    double sh[4] = {0, 0, 0, 0}, s[4] = {1, 1, 1, 1}, lse[4], inv[4];
    __m256d bad = _mm256_setzero_pd();
    for (size_t j = 0; j < n; j++) {
        size_t base = (r0 + j) * a->classes;
        double *e = ebuf ? ebuf + j * stride : NULL;
        sh[j] = f32 ? ((const float *)a->x)[base] : ((const double *)a->x)[base];
        s[j] = ce_row_sum(a->x, f32, base, a->classes, sh[j], e, &bad);
        if (_mm256_movemask_pd(bad))
            return KERN_DECLINED;
        if (!(s[j] < __builtin_inf())) {
            sh[j] = ce_row_max(a->x, f32, base, a->classes);
            s[j] = ce_row_sum(a->x, f32, base, a->classes, sh[j], e, &bad);
        }
    }
    __m256d sv = _mm256_loadu_pd(s);
    _mm256_storeu_pd(lse, _mm256_add_pd(_mm256_loadu_pd(sh), vm4_log(sv, f32)));
    _mm256_storeu_pd(inv, _mm256_div_pd(vm4_c(1.0), sv));
    for (size_t j = 0; j < n; j++) {
        size_t base = (r0 + j) * a->classes;
        int64_t t = a->target[r0 + j];
        if (t < 0 || (uint64_t)t >= a->classes)
            return KERN_DECLINED;
        if (a->grad)
            ce_row_grad(a, f32, base, ebuf ? ebuf + j * stride : NULL, sh[j], inv[j], (size_t)t);
        double xt = f32 ? ((const float *)a->x)[base + t] : ((const double *)a->x)[base + t];
        double l = lse[j] - xt;
        if (a->values)
            ce_store(a->values, f32, r0 + j, 1, vm4_c(l));
        *sum += l;
    }
    return 0;
}

KERN_INLINE int ce_rows(const kern_rows_args *a, double *sum, int f32)
{
    double ebuf[CE_BUF], total = 0.0;
    const size_t classes = a->classes, stride = (classes + 3) & ~(size_t)3;
    const int narrow = classes <= CE_NARROW;
    size_t group = narrow || stride > CE_BUF ? 4 : CE_BUF / stride;
    __m128i out_idx[CE_NARROW];
    group = group > 4 ? 4 : group;
    for (size_t k = 0; narrow && k < classes; k++) { /* row-major i -> class-major buf */
        int ix[4];
        for (size_t i = 0; i < 4; i++)
            ix[i] = (int)(((4 * k + i) % classes) * 4 + (4 * k + i) / classes);
        out_idx[k] = _mm_loadu_si128((const __m128i *)ix);
    }
    for (size_t r0 = 0; r0 < a->rows; r0 += group) {
        size_t n = a->rows - r0 < group ? a->rows - r0 : group;
        int st = narrow
                     ? ce_narrow_block(a, f32, r0, n, out_idx, &total)
                     : ce_wide_group(a, f32, r0, n, stride <= CE_BUF ? ebuf : NULL, stride, &total);
        if (st != 0)
            return KERN_DECLINED;
    }
    if (!isfinite(total))
        return KERN_DECLINED;
    *sum = total;
    return 0;
}

static int ce_f64(const kern_rows_args *a, double *sum)
{
    return ce_rows(a, sum, 0);
}
static int ce_f32(const kern_rows_args *a, double *sum)
{
    return ce_rows(a, sum, 1);
}

void kern_avx2_vm_fill(kern_table *t)
{
    t->ce_f64 = ce_f64;
    t->ce_f32 = ce_f32;
#define KERN_SLOT(name, id) (t->f64[id] = name##_f64, t->f32[id] = name##_f32)
    KERN_SLOT(bce, KERN_BCE);
    KERN_SLOT(bce_with_logits, KERN_BCE_WITH_LOGITS);
    KERN_SLOT(focal, KERN_FOCAL);
    KERN_SLOT(sigmoid_focal, KERN_SIGMOID_FOCAL);
    KERN_SLOT(log_cosh, KERN_LOG_COSH);
    KERN_SLOT(soft_margin, KERN_SOFT_MARGIN);
#undef KERN_SLOT
#define VM_SLOT(id, name) (t->vm[id] = name##_array, t->vm_f32[id] = name##_f32_array)
    VM_SLOT(KERN_VM_EXP, vm_exp);
    VM_SLOT(KERN_VM_EXPM1, vm_expm1);
    VM_SLOT(KERN_VM_LOG, vm_log);
    VM_SLOT(KERN_VM_LOG1P, vm_log1p);
    VM_SLOT(KERN_VM_LOG1P_01, vm_log1p_01);
    VM_SLOT(KERN_VM_LOG_01, vm_log_01);
    VM_SLOT(KERN_VM_LOG1M_01, vm_log1m_01);
#undef VM_SLOT
}
