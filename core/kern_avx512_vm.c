/* kern_avx512_vm: the AVX-512 fast paths built on vector exp/log (vmath_avx512.h), the same
 * steps as kern_avx2_vm.c on 8 double lanes with mask registers: the vector math over
 * arrays, the elementwise losses with transcendentals, and cross-entropy rows. Compiled with
 * the AVX-512 flags only. Every loss computes in double lanes (float32 converted on load,
 * computed with the vm_f32 forms and rounded once on store) and declines on any element the
 * reference must judge. */
#include <immintrin.h>
#include <math.h>

#include "kern.h"
#include "vmath_avx512.h"

#define KERN_INLINE static inline __attribute__((always_inline))

/* Lanes [0, r) of 8 set (r may exceed 8). */
static __mmask8 tail_mask(size_t r)
{
    return r >= 8 ? 0xff : (__mmask8)((1u << r) - 1);
}

/* ---- vector math over arrays ---- */

KERN_INLINE __m512d log_01(__m512d x, int lite)
{
    __m512d lp, lq;
    vm8_log_pq(x, &lp, &lq, lite);
    return lp;
}

KERN_INLINE __m512d log1m_01(__m512d x, int lite)
{
    __m512d lp, lq;
    vm8_log_pq(x, &lp, &lq, lite);
    return lq;
}

#define VM_ARRAY(name, fn, lite)                                                                   \
    static void name(const double *x, double *out, size_t n)                                       \
    {                                                                                              \
        size_t i = 0;                                                                              \
        for (; i + 8 <= n; i += 8)                                                                 \
            _mm512_storeu_pd(out + i, fn(_mm512_loadu_pd(x + i), lite));                           \
        if (i < n) {                                                                               \
            __mmask8 m = tail_mask(n - i);                                                         \
            _mm512_mask_storeu_pd(out + i, m, fn(_mm512_maskz_loadu_pd(m, x + i), lite));          \
        }                                                                                          \
    }

/* Both tiers of each function: name_array (full) and name_f32_array (lite). */
#define VM_ARRAYS(name, fn) VM_ARRAY(name##_array, fn, 0) VM_ARRAY(name##_f32_array, fn, 1)

VM_ARRAYS(vm_exp, vm8_exp)
VM_ARRAYS(vm_expm1, vm8_expm1)
VM_ARRAYS(vm_log, vm8_log)
VM_ARRAYS(vm_log1p, vm8_log1p)
VM_ARRAYS(vm_log1p_01, vm8_log1p_01)
VM_ARRAYS(vm_log_01, log_01)
VM_ARRAYS(vm_log1m_01, log1m_01)

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

/* `lite`: the float32 forms of the vector math (kern.h). */
typedef step (*op_fn)(__m512d p, __m512d y, const kc *k, int lite);

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
        step r0 = op(_mm512_loadu_pd(p + i), _mm512_loadu_pd(y + i), k, 0);
        step r1 = op(_mm512_loadu_pd(p + i + 8), _mm512_loadu_pd(y + i + 8), k, 0);
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
        step r = op(_mm512_maskz_loadu_pd(m, p + i), _mm512_maskz_loadu_pd(m, y + i), k, 0);
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
                     _mm512_cvtps_pd(_mm256_loadu_ps(y + i)), k, 1);
        step r1 = op(_mm512_cvtps_pd(_mm256_loadu_ps(p + i + 8)),
                     _mm512_cvtps_pd(_mm256_loadu_ps(y + i + 8)), k, 1);
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
                    _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, y + i)), k, 1);
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

KERN_INLINE __m512d absv(__m512d x)
{
    return _mm512_abs_pd(x);
}
KERN_INLINE __m512d neg(__m512d x)
{
    return _mm512_sub_pd(_mm512_setzero_pd(), x);
}

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
KERN_INLINE void bce_terms(__m512d p, __m512d y, __m512d *ce, __m512d *dce, int lite)
{
    __m512d one = vm8_c(1.0), floor = vm8_c(-100.0);
    __m512d lp, lq;
    vm8_log_pq(p, &lp, &lq, lite);
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

KERN_INLINE logistic8 logistic(__m512d x, int lite)
{
    __m512d e = vm8_exp(neg(absv(x)), lite), zero = _mm512_setzero_pd();
    __m512d t = vm8_log1p_01(e, lite),
            big = _mm512_div_pd(vm8_c(1.0), _mm512_add_pd(vm8_c(1.0), e));
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
KERN_INLINE void focal_pow(__m512d q, const kc *k, int square, int lite, __m512d *f, __m512d *df)
{
    __mmask8 pos = _mm512_cmp_pd_mask(q, _mm512_setzero_pd(), _CMP_GT_OQ);
    if (square) {
        *f = _mm512_maskz_mul_pd(pos, q, q);
        *df = _mm512_maskz_add_pd(pos, q, q);
        return;
    }
    __m512d qp = _mm512_mask_mov_pd(vm8_c(1.0), pos, q); /* keeps log finite in dead lanes */
    __m512d fq = vm8_exp(_mm512_mul_pd(k->d, vm8_log(qp, lite)), lite);
    __mmask8 zero_gamma = _mm512_cmp_pd_mask(k->d, _mm512_setzero_pd(), _CMP_EQ_OQ);
    *f = _mm512_mask_mov_pd(_mm512_maskz_mov_pd(zero_gamma, vm8_c(1.0)), pos, fq);
    *df = _mm512_maskz_mul_pd(pos, k->d, _mm512_div_pd(fq, qp));
}

/* ---- the steps ---- */

KERN_INLINE step bce_step(__m512d p, __m512d y, const kc *k, int lite)
{
    __m512d ce, dce;
    bce_terms(p, y, &ce, &dce, lite);
    return (step){ce, _mm512_mul_pd(dce, k->s), outside01(p) | not_finite(y)};
}

KERN_INLINE step bce_with_logits_step(__m512d x, __m512d y, const kc *k, int lite)
{
    logistic8 s = logistic(x, lite);
    __m512d omy = _mm512_sub_pd(vm8_c(1.0), y);
    __m512d l = _mm512_add_pd(_mm512_mul_pd(omy, s.sp_pos), _mm512_mul_pd(y, s.sp_neg));
    __m512d g = _mm512_sub_pd(_mm512_mul_pd(omy, s.sig_pos), _mm512_mul_pd(y, s.sig_neg));
    return (step){l, _mm512_mul_pd(g, k->s), not_finite(x) | not_finite(y)};
}

KERN_INLINE step focal_step(__m512d p, __m512d y, const kc *k, int square, int lite)
{
    __m512d one = vm8_c(1.0), omy = _mm512_sub_pd(one, y), ce, dce, f, df;
    bce_terms(p, y, &ce, &dce, lite);
    __m512d pt = _mm512_add_pd(_mm512_mul_pd(p, y), _mm512_mul_pd(_mm512_sub_pd(one, p), omy));
    focal_pow(_mm512_sub_pd(one, pt), k, square, lite, &f, &df);
    __m512d at = alpha_t(y, omy, k), dq = _mm512_sub_pd(one, _mm512_add_pd(y, y));
    __m512d g = _mm512_add_pd(_mm512_mul_pd(dce, f), _mm512_mul_pd(_mm512_mul_pd(ce, df), dq));
    return (step){_mm512_mul_pd(at, _mm512_mul_pd(ce, f)),
                  _mm512_mul_pd(_mm512_mul_pd(at, g), k->s), outside01(p) | outside01(y)};
}

KERN_INLINE step sigmoid_focal_step(__m512d x, __m512d y, const kc *k, int square, int lite)
{
    logistic8 s = logistic(x, lite);
    __m512d one = vm8_c(1.0), omy = _mm512_sub_pd(one, y), f, df;
    __m512d ce = _mm512_add_pd(_mm512_mul_pd(omy, s.sp_pos), _mm512_mul_pd(y, s.sp_neg));
    __m512d q = _mm512_add_pd(_mm512_mul_pd(s.sig_pos, omy), _mm512_mul_pd(s.sig_neg, y));
    focal_pow(q, k, square, lite, &f, &df);
    /* d(q^gamma)/dx = gamma q^(gamma-1) dq/dx, dq/dx = p(1-p)(1-2y) */
    __m512d pq = _mm512_mul_pd(s.sig_pos, s.sig_neg), dq = _mm512_sub_pd(one, _mm512_add_pd(y, y));
    __m512d dqg = _mm512_mul_pd(_mm512_mul_pd(df, pq), dq);
    __m512d dce = _mm512_sub_pd(_mm512_mul_pd(omy, s.sig_pos), _mm512_mul_pd(y, s.sig_neg));
    __m512d at = alpha_t(y, omy, k);
    __m512d g = _mm512_add_pd(_mm512_mul_pd(dce, f), _mm512_mul_pd(ce, dqg));
    return (step){_mm512_mul_pd(_mm512_mul_pd(at, ce), f),
                  _mm512_mul_pd(_mm512_mul_pd(at, g), k->s), not_finite(x) | outside01(y)};
}

KERN_INLINE step focal_sq_step(__m512d p, __m512d y, const kc *k, int lite)
{
    return focal_step(p, y, k, 1, lite);
}
KERN_INLINE step focal_gen_step(__m512d p, __m512d y, const kc *k, int lite)
{
    return focal_step(p, y, k, 0, lite);
}
KERN_INLINE step sigmoid_focal_sq_step(__m512d x, __m512d y, const kc *k, int lite)
{
    return sigmoid_focal_step(x, y, k, 1, lite);
}
KERN_INLINE step sigmoid_focal_gen_step(__m512d x, __m512d y, const kc *k, int lite)
{
    return sigmoid_focal_step(x, y, k, 0, lite);
}

/* log_cosh as in kern_avx2_vm.c: E = expm1(|d|) inside |d| < 1, B = exp(-2|d|) beyond, from
 * one exp reduction. */
KERN_INLINE step log_cosh_step(__m512d p, __m512d y, const kc *k, int lite)
{
    __m512d one = vm8_c(1.0), two = vm8_c(2.0), d = _mm512_sub_pd(p, y), ad = absv(d);
    __mmask8 small = _mm512_cmp_pd_mask(ad, one, _CMP_LT_OQ);
    __m512d arg = _mm512_mask_mov_pd(_mm512_mul_pd(ad, vm8_c(-2.0)), small, ad);
    vm8_exp_red e = vm8_exp_reduce(vm8_clamp(arg, -VM_EXP_CLAMP, VM_EXP_CLAMP), lite);
    __m512d t = _mm512_scalef_pd(one, e.n);
    __m512d em1 = _mm512_fmadd_pd(t, e.p, _mm512_fmadd_pd(t, e.r, _mm512_sub_pd(t, one)));
    __m512d b = vm8_exp_finish(e);
    __m512d a = _mm512_div_pd(_mm512_mul_pd(em1, em1), _mm512_fmadd_pd(two, em1, two));
    __m512d lp = vm8_log1p_01(_mm512_mask_mov_pd(b, small, a), lite);
    __m512d l = _mm512_mask_mov_pd(_mm512_sub_pd(_mm512_add_pd(ad, lp), vm8_c(M_LN2)), small, lp);
    __m512d nm = _mm512_mul_pd(em1, _mm512_add_pd(em1, two));
    __m512d th =
        _mm512_div_pd(_mm512_mask_mov_pd(_mm512_sub_pd(one, b), small, nm),
                      _mm512_mask_mov_pd(_mm512_add_pd(one, b), small, _mm512_add_pd(nm, two)));
    __m512d g = _mm512_or_pd(th, _mm512_and_pd(d, vm8_c(-0.0))); /* tanh(d) = sgn(d) tanh|d| */
    return (step){l, _mm512_mul_pd(g, k->s), not_finite(p) | not_finite(y)};
}

/* softplus(z), z = -y x, and -y sigmoid(z), for y = +-1 exactly. */
KERN_INLINE step soft_margin_step(__m512d x, __m512d y, const kc *k, int lite)
{
    __m512d one = vm8_c(1.0), z = _mm512_mul_pd(neg(y), x);
    __m512d e = vm8_exp(neg(absv(z)), lite);
    __m512d l = _mm512_add_pd(_mm512_max_pd(z, _mm512_setzero_pd()), vm8_log1p_01(e, lite));
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

/* ---- cross-entropy rows ---- */

/* Rows of at most CE_NARROW classes go 8 at a time, one row per lane: gathering the scores
 * class by class turns max, exps, sums and the log into whole-vector work. */
#define CE_NARROW 16

/* Exps kept between the passes of a group of wider rows (32 KiB of the stack); rows wider
 * than this recompute them in the gradient pass. */
#define CE_BUF 4096

KERN_INLINE __mmask8 not_finite_in(__mmask8 m, __m512d v)
{
    return _mm512_mask_cmp_pd_mask(m, _mm512_abs_pd(v), vm8_c(__builtin_inf()), _CMP_NLT_UQ);
}

/* Eight consecutive values as doubles, lanes outside m filled with `fill`. */
KERN_INLINE __m512d ce_load(const void *x, int f32, size_t off, __mmask8 m, __m512d fill)
{
    if (f32)
        return _mm512_mask_mov_pd(
            fill, m, _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, (const float *)x + off)));
    return _mm512_mask_loadu_pd(fill, m, (const double *)x + off);
}

KERN_INLINE void ce_store(void *out, int f32, size_t off, __mmask8 m, __m512d v)
{
    if (f32)
        _mm256_mask_storeu_ps((float *)out + off, m, _mm512_cvtpd_ps(v));
    else
        _mm512_mask_storeu_pd((double *)out + off, m, v);
}

/* Copies n contiguous values from row memory into a block buffer, 8 at a time. */
KERN_INLINE void ce_copy_in(double *dst, const void *x, int f32, size_t off, size_t n)
{
    for (size_t i = 0; i < n; i += 8)
        _mm512_storeu_pd(dst + i, ce_load(x, f32, off + i, tail_mask(n - i), _mm512_setzero_pd()));
}

/* Rows r0 .. r0+n-1 (n <= 8) of at most CE_NARROW classes; adds their losses to *sum.
 * The block's scores and gradient pass through a buffer, so memory sees only contiguous
 * accesses and the lane-per-row gathers stay in L1; out_idx[k] maps row-major gradient vector
 * k to its class-major place in the buffer. Returns 0 or KERN_DECLINED. */
KERN_INLINE int ce_narrow_block(const kern_rows_args *a, int f32, size_t r0, size_t n,
                                const __m256i *out_idx, double *sum)
{
    const size_t classes = a->classes, off = r0 * classes, len = n * classes;
    const __mmask8 m = tail_mask(n);
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                           _mm256_set1_epi32((int)classes));
    double buf[8 * CE_NARROW + 8];
    __m512d v[CE_NARROW], e[CE_NARROW], mx = vm8_c(-__builtin_inf()), s = _mm512_setzero_pd();
    __mmask8 bad = 0;
    ce_copy_in(buf, a->x, f32, off, len);
    for (size_t c = 0; c < classes; c++) {
        v[c] = _mm512_mask_i32gather_pd(_mm512_setzero_pd(), m, idx, buf + c, 8);
        bad |= not_finite_in(m, v[c]);
        mx = _mm512_max_pd(mx, v[c]);
    }
    for (size_t c = 0; c < classes; c++) {
        e[c] = vm8_exp(_mm512_sub_pd(v[c], mx), f32);
        s = _mm512_add_pd(s, e[c]);
    }
    __m512i t = _mm512_maskz_loadu_epi64(m, a->target + r0); /* unsigned: negatives too */
    bad |= _mm512_mask_cmp_epu64_mask(m, t, _mm512_set1_epi64((long long)classes), _MM_CMPINT_NLT);
    if (bad)
        return KERN_DECLINED;
    __m512d inv = _mm512_div_pd(vm8_c(1.0), s), sc = vm8_c(a->scale), xt = _mm512_setzero_pd();
    for (size_t c = 0; c < classes; c++) {
        __mmask8 hit = _mm512_cmpeq_epi64_mask(t, _mm512_set1_epi64((long long)c));
        __m512d p = _mm512_mul_pd(e[c], inv);
        xt = _mm512_mask_mov_pd(xt, hit, v[c]);
        if (a->grad) /* (p - [c == t]) * scale, class-major */
            _mm512_storeu_pd(buf + 8 * c,
                             _mm512_mul_pd(_mm512_mask_sub_pd(p, hit, p, vm8_c(1.0)), sc));
    }
    for (size_t i = 0; a->grad && i < len; i += 8) { /* back to row-major */
        __mmask8 mo = tail_mask(len - i);
        ce_store(a->grad, f32, off + i, mo,
                 _mm512_mask_i32gather_pd(_mm512_setzero_pd(), mo, out_idx[i / 8], buf, 8));
    }
    __m512d l = _mm512_sub_pd(_mm512_add_pd(mx, vm8_log(s, f32)), xt);
    if (a->values)
        ce_store(a->values, f32, r0, m, l);
    *sum += _mm512_reduce_add_pd(_mm512_maskz_mov_pd(m, l));
    return 0;
}

/* Sum of exp(x - shift) over a row, the exps kept in e (stride rounded up to 8) when e is
 * not NULL; sets *bad on a non-finite score. */
KERN_INLINE double ce_row_sum(const void *x, int f32, size_t base, size_t classes, double shift,
                              double *e, __mmask8 *bad)
{
    const __m512d ninf = vm8_c(-__builtin_inf()), sh = vm8_c(shift);
    __m512d acc = _mm512_setzero_pd();
    for (size_t c = 0; c < classes; c += 8) {
        __mmask8 m = tail_mask(classes - c);
        __m512d v = ce_load(x, f32, base + c, m, ninf);
        *bad |= not_finite_in(m, v);
        __m512d ev = vm8_exp(_mm512_sub_pd(v, sh), f32);
        if (e)
            _mm512_storeu_pd(e + c, ev);
        acc = _mm512_add_pd(acc, ev);
    }
    return _mm512_reduce_add_pd(acc);
}

/* A row's maximum (its scores are known finite). */
KERN_INLINE double ce_row_max(const void *x, int f32, size_t base, size_t classes)
{
    const __m512d ninf = vm8_c(-__builtin_inf());
    __m512d mx = ninf;
    for (size_t c = 0; c < classes; c += 8)
        mx = _mm512_max_pd(mx, ce_load(x, f32, base + c, tail_mask(classes - c), ninf));
    return _mm512_reduce_max_pd(mx);
}

/* Writes a row's gradient (e / s - onehot(t)) * scale; e recomputed when NULL. */
KERN_INLINE void ce_row_grad(const kern_rows_args *a, int f32, size_t base, const double *e,
                             double shift, double inv, size_t t)
{
    const size_t classes = a->classes;
    const __m512d vinv = vm8_c(inv), sc = vm8_c(a->scale), sh = vm8_c(shift);
    const __m512d ninf = vm8_c(-__builtin_inf());
    for (size_t c = 0; c < classes; c += 8) {
        __mmask8 m = tail_mask(classes - c);
        __m512d ev = e ? _mm512_loadu_pd(e + c)
                       : vm8_exp(_mm512_sub_pd(ce_load(a->x, f32, base + c, m, ninf), sh), f32);
        __m512d p = _mm512_mul_pd(ev, vinv);
        if (t - c < 8) /* the target's lane: (p - 1) * scale */
            p = _mm512_mask_sub_pd(p, (__mmask8)(1u << (t - c)), p, vm8_c(1.0));
        ce_store(a->grad, f32, base + c, m, _mm512_mul_pd(p, sc));
    }
}

/* Up to 8 wider rows from r0: exp sums first, one vector log for the group, then gradients
 * and losses. Each row is shifted by its first score, which keeps the sum >= 1 (that score's
 * own term); a row whose sum overflows takes its maximum instead. Adds the losses to *sum;
 * returns 0 or KERN_DECLINED. */
KERN_INLINE int ce_wide_group(const kern_rows_args *a, int f32, size_t r0, size_t n, double *ebuf,
                              size_t stride, double *sum)
{
    double sh[8], s[8], lse[8], inv[8];
    __mmask8 bad = 0;
    for (size_t j = 0; j < n; j++) {
        size_t base = (r0 + j) * a->classes;
        double *e = ebuf ? ebuf + j * stride : NULL;
        sh[j] = f32 ? ((const float *)a->x)[base] : ((const double *)a->x)[base];
        s[j] = ce_row_sum(a->x, f32, base, a->classes, sh[j], e, &bad);
        if (bad)
            return KERN_DECLINED;
        if (!(s[j] < __builtin_inf())) {
            sh[j] = ce_row_max(a->x, f32, base, a->classes);
            s[j] = ce_row_sum(a->x, f32, base, a->classes, sh[j], e, &bad);
        }
    }
    __mmask8 m = tail_mask(n);
    __m512d sv = _mm512_mask_loadu_pd(vm8_c(1.0), m, s);
    _mm512_mask_storeu_pd(lse, m, _mm512_add_pd(_mm512_maskz_loadu_pd(m, sh), vm8_log(sv, f32)));
    _mm512_mask_storeu_pd(inv, m, _mm512_div_pd(vm8_c(1.0), sv));
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
            ce_store(a->values, f32, r0 + j, 1, _mm512_set1_pd(l));
        *sum += l;
    }
    return 0;
}

KERN_INLINE int ce_rows(const kern_rows_args *a, double *sum, int f32)
{
    double ebuf[CE_BUF], total = 0.0;
    const size_t stride = (a->classes + 7) & ~(size_t)7;
    const int narrow = a->classes <= CE_NARROW;
    size_t group = narrow || stride > CE_BUF ? 8 : CE_BUF / stride;
    __m256i out_idx[CE_NARROW];
    group = group > 8 ? 8 : group;
    for (size_t k = 0; narrow && k < a->classes; k++) { /* row-major i -> class-major buf */
        int ix[8];
        for (size_t i = 0; i < 8; i++)
            ix[i] = (int)(((8 * k + i) % a->classes) * 8 + (8 * k + i) / a->classes);
        out_idx[k] = _mm256_loadu_si256((const __m256i *)ix);
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

void kern_avx512_vm_fill(kern_table *t)
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
