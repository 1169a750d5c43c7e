/* kern_simd: the fast kernels, written once and compiled once per ISA with that ISA's flags
 * (-DVEC_ISA=..., vec.h), as SLEEF builds its dispatch targets: the object for AVX2 exports
 * kern_avx2_fill, the one for AVX-512 kern_avx512_fill, and kern.c picks one at start-up.
 * Each elementwise loss is one vector step (kern_steps.h) run by a driver per dtype that
 * stores the gradient and values and sums the losses in one pass; cross-entropy has row
 * kernels; the vector math is exported over arrays. Tails are masked: no lane outside
 * [0, n) is read or written. Any lane only the reference may judge, or a sum that is not
 * finite, declines the chunk (KERN_DECLINED).
 * Compiled with -ffp-contract=off: every fused multiply-add is written as one, so the
 * formulas round as their scalar references do, on every ISA alike. */
#include <math.h>
#include <stdint.h>

#include "kern.h"
#include "vec.h"

#define KERN_INLINE static inline __attribute__((always_inline))

/* Both lane types get the vector math and every step: float32 requests compute in float
 * lanes, float64 ones in double lanes. */
#define KERN_STEPS_TRANSCENDENTAL

#define VT vd
#define VM vdm
#define VL(op) vd_##op
#define KERN_LANE_F32 0
#include "vmath.h" /* before the steps, which use it */

#include "kern_steps.h"
#undef KERN_LANE_F32
#undef VT
#undef VM
#undef VL

#define VT vf
#define VM vfm
#define VL(op) vf_##op
#define KERN_LANE_F32 1
#include "vmath.h" /* before the steps, which use it */

#include "kern_steps.h"
#undef KERN_LANE_F32
#undef VT
#undef VM
#undef VL

/* ---- vector math over arrays ---- */

/* BCE's pair log(p), log(1 - p) one at a time, for the arrays. */
#define VM_LOG_PQ_PARTS(T)                    \
    KERN_INLINE T T##_log_01(T x, int lite)   \
    {                                         \
        T lp, lq;                             \
        T##_log_pq(x, &lp, &lq, lite);        \
        return lp;                            \
    }                                         \
    KERN_INLINE T T##_log1m_01(T x, int lite) \
    {                                         \
        T lp, lq;                             \
        T##_log_pq(x, &lp, &lq, lite);        \
        return lq;                            \
    }
VM_LOG_PQ_PARTS(vd)
VM_LOG_PQ_PARTS(vf)

/* name(x, out, n): out[i] = fn(x[i]) on lanes T of elements E. */
#define VM_ARRAY(name, T, E, fn, lite)                                             \
    static void name(const E *x, E *out, size_t n)                                 \
    {                                                                              \
        size_t i = 0, w = sizeof(T) / sizeof(E);                                   \
        for (; i + w <= n; i += w)                                                 \
            T##_storeu(out + i, fn(T##_loadu(x + i), lite));                       \
        if (i < n)                                                                 \
            T##_store_tail(out + i, n - i, fn(T##_load_tail(x + i, n - i), lite)); \
    }

/* Each function three ways: name_array (double), name_lite_array (double, the lite forms),
 * name_f32_array (float lanes). */
#define VM_ARRAYS(name)                                        \
    VM_ARRAY(vm_##name##_array, vd, double, vd_##name, 0)      \
    VM_ARRAY(vm_##name##_lite_array, vd, double, vd_##name, 1) \
    VM_ARRAY(vm_##name##_f32_array, vf, float, vf_##name, 0)

VM_ARRAYS(exp)
VM_ARRAYS(expm1)
VM_ARRAYS(log)
VM_ARRAYS(log1p)
VM_ARRAYS(log1p_01)
VM_ARRAYS(log_01)
VM_ARRAYS(log1m_01)

/* ---- the elementwise drivers ---- */

typedef vd_step (*vd_op)(vd p, vd y, const vd_kc *k, int lite);
typedef vf_step (*vf_op)(vf p, vf y, const vf_kc *k, int lite);

static int finish(vd acc, int bad, double *sum)
{
    double s = vd_hsum(acc);
    if (bad || !isfinite(s))
        return KERN_DECLINED;
    *sum = s;
    return 0;
}

/* float64: two steps of VD_N lanes per iteration, two accumulators. */
KERN_INLINE int drive_f64(const kern_args *a, double *sum, vd_op op, const vd_kc *k)
{
    const double *p = a->p, *y = a->y;
    double *g = a->grad, *v = a->values;
    vd acc0 = vd_zero(), acc1 = acc0;
    vdm bad = vd_mnone();
    size_t i = 0, n = a->n;
    for (; i + 2 * VD_N <= n; i += 2 * VD_N) {
        vd_step r0 = op(vd_loadu(p + i), vd_loadu(y + i), k, 0);
        vd_step r1 = op(vd_loadu(p + i + VD_N), vd_loadu(y + i + VD_N), k, 0);
        acc0 = vd_add(acc0, r0.l);
        acc1 = vd_add(acc1, r1.l);
        bad = vd_mor(bad, vd_mor(r0.bad, r1.bad));
        if (g) {
            vd_storeu(g + i, r0.g);
            vd_storeu(g + i + VD_N, r1.g);
        }
        if (v) {
            vd_storeu(v + i, r0.l);
            vd_storeu(v + i + VD_N, r1.l);
        }
    }
    for (; i < n; i += VD_N) {
        vdm m = vd_tmask(n - i);
        vd_step r = op(vd_load_tail(p + i, n - i), vd_load_tail(y + i, n - i), k, 0);
        acc0 = vd_add(acc0, vd_maskz(m, r.l));
        bad = vd_mor(bad, vd_mand(r.bad, m));
        if (g)
            vd_store_tail(g + i, n - i, r.g);
        if (v)
            vd_store_tail(v + i, n - i, r.l);
    }
    return finish(vd_add(acc0, acc1), vd_many(bad), sum);
}

/* Adds the VF_N float losses of l to two double accumulators. */
KERN_INLINE void acc_f32(vf l, vd *lo, vd *hi)
{
    *lo = vd_add(*lo, vf_widen_lo(l));
    *hi = vd_add(*hi, vf_widen_hi(l));
}

/* float32 in float lanes: the losses are summed in double. */
KERN_INLINE int drive_f32(const kern_args *a, double *sum, vf_op op, const vf_kc *k)
{
    const float *p = a->p, *y = a->y;
    float *g = a->grad, *v = a->values;
    vd acc0 = vd_zero(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    vfm bad = vf_mnone();
    size_t i = 0, n = a->n;
    for (; i + 2 * VF_N <= n; i += 2 * VF_N) {
        vf_step r0 = op(vf_loadu(p + i), vf_loadu(y + i), k, 1);
        vf_step r1 = op(vf_loadu(p + i + VF_N), vf_loadu(y + i + VF_N), k, 1);
        acc_f32(r0.l, &acc0, &acc1);
        acc_f32(r1.l, &acc2, &acc3);
        bad = vf_mor(bad, vf_mor(r0.bad, r1.bad));
        if (g) {
            vf_storeu(g + i, r0.g);
            vf_storeu(g + i + VF_N, r1.g);
        }
        if (v) {
            vf_storeu(v + i, r0.l);
            vf_storeu(v + i + VF_N, r1.l);
        }
    }
    for (; i < n; i += VF_N) {
        vfm m = vf_tmask(n - i);
        vf_step r = op(vf_load_tail(p + i, n - i), vf_load_tail(y + i, n - i), k, 1);
        acc_f32(vf_maskz(m, r.l), &acc0, &acc1);
        bad = vf_mor(bad, vf_mand(r.bad, m));
        if (g)
            vf_store_tail(g + i, n - i, r.g);
        if (v)
            vf_store_tail(v + i, n - i, r.l);
    }
    return finish(vd_add(vd_add(acc0, acc1), vd_add(acc2, acc3)), vf_many(bad), sum);
}

/* float32 in float lanes, one step per iteration: for the steps heavy enough that a second
 * one in flight only spills registers (the sum's order differs from drive_f32's, but is as
 * fixed). */
KERN_INLINE int drive_f32_one(const kern_args *a, double *sum, vf_op op, const vf_kc *k)
{
    const float *p = a->p, *y = a->y;
    float *g = a->grad, *v = a->values;
    vd acc0 = vd_zero(), acc1 = acc0;
    vfm bad = vf_mnone();
    size_t i = 0, n = a->n;
    for (; i + VF_N <= n; i += VF_N) {
        vf_step r = op(vf_loadu(p + i), vf_loadu(y + i), k, 1);
        acc_f32(r.l, &acc0, &acc1);
        bad = vf_mor(bad, r.bad);
        if (g)
            vf_storeu(g + i, r.g);
        if (v)
            vf_storeu(v + i, r.l);
    }
    if (i < n) {
        vfm m = vf_tmask(n - i);
        vf_step r = op(vf_load_tail(p + i, n - i), vf_load_tail(y + i, n - i), k, 1);
        acc_f32(vf_maskz(m, r.l), &acc0, &acc1);
        bad = vf_mor(bad, vf_mand(r.bad, m));
        if (g)
            vf_store_tail(g + i, n - i, r.g);
        if (v)
            vf_store_tail(v + i, n - i, r.l);
    }
    return finish(vd_add(acc0, acc1), vf_many(bad), sum);
}

/* name_f64 and name_f32 for loss `id`: float64 over the step vd_<name>, float32 over f32_step
 * in float lanes by drive_f32 or drive_f32_one. KERN_ENTRY: the float32 step is F_<name>. */
#define KERN_ENTRY_F64(name, id)                           \
    static int name##_f64(const kern_args *a, double *sum) \
    {                                                      \
        vd_kc k = vd_kc_make(id, a);                       \
        return drive_f64(a, sum, vd_##name, &k);           \
    }
#define KERN_ENTRY_STEP(name, id, F, f32_driver, f32_step) \
    KERN_ENTRY_F64(name, id)                               \
    static int name##_f32(const kern_args *a, double *sum) \
    {                                                      \
        F##_kc k = F##_kc_make(id, a);                     \
        return f32_driver(a, sum, f32_step, &k);           \
    }
#define KERN_ENTRY(name, id, F, f32_driver) KERN_ENTRY_STEP(name, id, F, f32_driver, F##_##name)

KERN_ENTRY(mse, KERN_MSE, vf, drive_f32)
KERN_ENTRY(mae, KERN_MAE, vf, drive_f32)
KERN_ENTRY(mbe, KERN_MBE, vf, drive_f32)
KERN_ENTRY(huber, KERN_HUBER, vf, drive_f32)
KERN_ENTRY(smooth_l1, KERN_SMOOTH_L1, vf, drive_f32)
KERN_ENTRY(hinge, KERN_HINGE, vf, drive_f32)
KERN_ENTRY(squared_hinge, KERN_SQUARED_HINGE, vf, drive_f32)
/* bce: the float step folds log_pq's -inf and clamps (kern_steps.h, bce_f). */
KERN_ENTRY_STEP(bce, KERN_BCE, vf, drive_f32, vf_bce_f)
/* bce_with_logits and soft_margin: their float steps fold the logistic selects (kern_steps.h,
 * bce_with_logits_f, soft_margin_f). */
KERN_ENTRY_STEP(bce_with_logits, KERN_BCE_WITH_LOGITS, vf, drive_f32, vf_bce_with_logits_f)
KERN_ENTRY_STEP(soft_margin, KERN_SOFT_MARGIN, vf, drive_f32, vf_soft_margin_f)
/* log_cosh: the float step is its own formula (kern_steps.h, log_cosh_f). */
KERN_ENTRY_STEP(log_cosh, KERN_LOG_COSH, vf, drive_f32, vf_log_cosh_f)
/* Whether each of the n floats at y is exactly 0 or 1: y (1 - y) is +-0 there only (NaN
 * and every other float, subnormals included, give a nonzero product). The products' bits
 * are or-ed over 4 vectors per test; the scan stops at the first group that is not; the
 * tail's lanes past n load as 0. */
KERN_INLINE vf hard_bits_of(vf t)
{
    return vf_mul(t, vf_sub(vf_set1(1.0), t));
}

KERN_INLINE vf hard_bits(const float *y)
{
    return hard_bits_of(vf_loadu(y));
}

KERN_INLINE int targets01(const float *y, size_t n)
{
    size_t i = 0;
    vf zero = vf_zero();
    for (; i + 4 * VF_N <= n; i += 4 * VF_N) {
        vf o = vf_or(vf_or(hard_bits(y + i), hard_bits(y + i + VF_N)),
                     vf_or(hard_bits(y + i + 2 * VF_N), hard_bits(y + i + 3 * VF_N)));
        if (!vf_mall(vf_cmp(o, zero, _CMP_EQ_OQ)))
            return 0;
    }
    for (; i + VF_N <= n; i += VF_N)
        if (!vf_mall(vf_cmp(hard_bits(y + i), zero, _CMP_EQ_OQ)))
            return 0;
    if (i == n)
        return 1;
    return vf_mall(vf_cmp(hard_bits_of(vf_load_tail(y + i, n - i)), zero, _CMP_EQ_OQ));
}

/* name_f64 over vd_name; name_f32 over the float step `hard` (run by hard_driver) where every
 * target of the chunk is 0 or 1, else over `soft` (two steps in flight: 3-5% less time). Chosen per
 * chunk, not per vector: a branch in the loop measured 3.5% (AVX-512) and 8% (AVX2) slower on soft
 * targets, and the scan stops at the first soft vector. Chunk boundaries depend only on the
 * problem, so the choice does too. */
#define KERN_ENTRY_HARD(name, id, hard_driver, hard, soft) \
    KERN_ENTRY_F64(name, id)                               \
    static int name##_f32(const kern_args *a, double *sum) \
    {                                                      \
        vf_kc k = vf_kc_make(id, a);                       \
        if (targets01(a->y, a->n))                         \
            return hard_driver(a, sum, hard, &k);          \
        return drive_f32(a, sum, soft, &k);                \
    }

/* focal: float lanes throughout for gamma = 2 where the targets are 0 or 1, float logs and
 * double products for other targets, and double pow for gamma != 2 (kern_steps.h,
 * focal_f_hard, focal_f_sq, focal_f_gen). focal_f_hard is light enough for two steps in
 * flight (drive_f32): about 6% less time than one (docs/decisions.md). */
KERN_ENTRY_HARD(focal_sq, KERN_FOCAL, drive_f32, vf_focal_f_hard, vf_focal_f_sq)
KERN_ENTRY_STEP(focal_gen, KERN_FOCAL, vf, drive_f32_one, vf_focal_f_gen)
/* sigmoid_focal: float lanes throughout for gamma = 2 where the targets are 0 or 1, else
 * float lanes for exp and log1p and double for the rest (sigmoid_focal_f_hard,
 * sigmoid_focal_f). Its hard step also gains from two in flight: about 7% less time. */
KERN_ENTRY_HARD(sigmoid_focal_sq, KERN_SIGMOID_FOCAL, drive_f32, vf_sigmoid_focal_f_hard,
                vf_sigmoid_focal_f_sq)
KERN_ENTRY_STEP(sigmoid_focal_gen, KERN_SIGMOID_FOCAL, vf, drive_f32_one, vf_sigmoid_focal_f_gen)

/* The focal pair: gamma = 2 (the default) squares exactly, as pow does; others use exp/log. */
#define KERN_GAMMA_SPLIT(name, dt)                                                    \
    static int name##_##dt(const kern_args *a, double *sum)                           \
    {                                                                                 \
        return a->param[1] == 2.0 ? name##_sq_##dt(a, sum) : name##_gen_##dt(a, sum); \
    }
KERN_GAMMA_SPLIT(focal, f64)
KERN_GAMMA_SPLIT(focal, f32)
KERN_GAMMA_SPLIT(sigmoid_focal, f64)
KERN_GAMMA_SPLIT(sigmoid_focal, f32)

/* ---- cross-entropy rows ---- */

/* Rows of at most CE_NARROW classes go VD_N at a time, one row per lane: gathering the scores
 * class by class turns max, exps, sums and the log into whole-vector work. */
#define CE_NARROW 16

/* Exps kept between the passes of a group of wider rows (32 KiB of the stack); rows wider
 * than this recompute them in the gradient pass. */
#define CE_BUF 4096

/* The row kernels' view of kern_args: a->p holds rows * classes scores, a->y the rows' class
 * indices. */
typedef struct {
    const void *x;
    const int64_t *target;
    void *values, *grad;
    double scale;
    size_t rows, classes;
} ce_args;

/* r consecutive values from off as doubles (r may exceed VD_N); lanes past r hold `fill`. */
KERN_INLINE vd ce_load(const void *x, int f32, size_t off, size_t r, vd fill)
{
    vd v = f32 ? vd_load_f32_tail((const float *)x + off, r)
               : vd_load_tail((const double *)x + off, r);
    return r >= VD_N ? v : vd_sel(vd_tmask(r), v, fill);
}

KERN_INLINE void ce_store(void *out, int f32, size_t off, size_t r, vd v)
{
    if (f32)
        vd_store_f32_tail((float *)out + off, r, v);
    else
        vd_store_tail((double *)out + off, r, v);
}

/* The scores of a block of n <= VD_N narrow rows at `off`, class-major: v[c] holds class c
 * of every row (lane j = row j), through buf so that memory sees contiguous loads. Returns
 * the rows' maxima; ORs non-finite lanes into *bad. */
KERN_INLINE vd ce_narrow_scores(const ce_args *a, int f32, size_t off, size_t n, double *buf, vd *v,
                                vdm *bad)
{
    const size_t len = n * a->classes;
    const vdm m = vd_tmask(n);
    const vdi idx = vdi_iota_mul(a->classes);
    vd mx = vd_set1(-__builtin_inf());
    for (size_t i = 0; i < len; i += VD_N)
        vd_storeu(buf + i, ce_load(a->x, f32, off + i, len - i, vd_zero()));
    for (size_t c = 0; c < a->classes; c++) {
        v[c] = vd_gather(buf + c, idx, m);
        *bad = vd_mor(*bad, vd_mand(m, vd_not_finite(v[c])));
        mx = vd_max(mx, v[c]);
    }
    return mx;
}

/* Writes the block's gradient (p - [c == t]) * scale, class-major into buf, then back to
 * row-major memory through out_idx (row-major vector k's places in buf); returns each row's
 * score at its target. */
KERN_INLINE vd ce_narrow_grad(const ce_args *a, int f32, size_t off, size_t n, vq t, const vd *v,
                              const vd *e, vd inv, double *buf, const vdi *out_idx)
{
    const size_t len = n * a->classes;
    const vd sc = vd_set1(a->scale);
    vd xt = vd_zero();
    for (size_t c = 0; c < a->classes; c++) {
        vdm hit = vq_eq(t, c);
        vd p = vd_mul(e[c], inv);
        xt = vd_sel(hit, v[c], xt);
        if (a->grad)
            vd_storeu(buf + VD_N * c, vd_mul(vd_sel(hit, vd_sub(p, vd_set1(1.0)), p), sc));
    }
    for (size_t i = 0; a->grad && i < len; i += VD_N)
        ce_store(a->grad, f32, off + i, len - i,
                 vd_gather(buf, out_idx[i / VD_N], vd_tmask(len - i)));
    return xt;
}

/* Rows r0 .. r0+n-1 (n <= VD_N) of at most CE_NARROW classes, one row per lane; adds their
 * losses to *sum. Returns 0 or KERN_DECLINED. */
KERN_INLINE int ce_narrow_block(const ce_args *a, int f32, size_t r0, size_t n, const vdi *out_idx,
                                double *sum)
{
    const size_t off = r0 * a->classes;
    const vdm m = vd_tmask(n);
    double buf[VD_N * CE_NARROW + VD_N];
    vd v[CE_NARROW], e[CE_NARROW], s = vd_zero();
    vdm bad = vd_mnone();
    vd mx = ce_narrow_scores(a, f32, off, n, buf, v, &bad);
    for (size_t c = 0; c < a->classes; c++) {
        e[c] = vd_exp(vd_sub(v[c], mx), f32);
        s = vd_add(s, e[c]);
    }
    vq t = vq_load_tail(a->target + r0, n);
    bad = vd_mor(bad, vd_mand(m, vq_outside(t, a->classes)));
    if (vd_many(bad))
        return KERN_DECLINED;
    vd inv = vd_div(vd_set1(1.0), s);
    vd xt = ce_narrow_grad(a, f32, off, n, t, v, e, inv, buf, out_idx);
    vd l = vd_sub(vd_add(mx, vd_log(s, f32)), xt);
    if (a->values)
        ce_store(a->values, f32, r0, n, l);
    *sum += vd_hsum(vd_maskz(m, l));
    return 0;
}

/* Sum of exp(x - shift) over a row, the exps kept in e (stride rounded up to VD_N) when e is
 * not NULL; ORs non-finite scores into *bad. */
KERN_INLINE double ce_row_sum(const void *x, int f32, size_t base, size_t classes, double shift,
                              double *e, vdm *bad)
{
    const vd ninf = vd_set1(-__builtin_inf()), sh = vd_set1(shift);
    vd acc = vd_zero();
    for (size_t c = 0; c < classes; c += VD_N) {
        vd v = ce_load(x, f32, base + c, classes - c, ninf);
        *bad = vd_mor(*bad, vd_mand(vd_tmask(classes - c), vd_not_finite(v)));
        vd ev = vd_exp(vd_sub(v, sh), f32);
        if (e)
            vd_storeu(e + c, ev);
        acc = vd_add(acc, ev);
    }
    return vd_hsum(acc);
}

/* A row's maximum (its scores are known finite). */
KERN_INLINE double ce_row_max(const void *x, int f32, size_t base, size_t classes)
{
    const vd ninf = vd_set1(-__builtin_inf());
    vd mx = ninf;
    for (size_t c = 0; c < classes; c += VD_N)
        mx = vd_max(mx, ce_load(x, f32, base + c, classes - c, ninf));
    return vd_hmax(mx);
}

/* Writes a row's gradient (e / s - onehot(t)) * scale; e recomputed when NULL. */
KERN_INLINE void ce_row_grad(const ce_args *a, int f32, size_t base, const double *e, double shift,
                             double inv, size_t t)
{
    const size_t classes = a->classes;
    const vd vinv = vd_set1(inv), sc = vd_set1(a->scale), sh = vd_set1(shift);
    const vd ninf = vd_set1(-__builtin_inf());
    for (size_t c = 0; c < classes; c += VD_N) {
        vd ev = e ? vd_loadu(e + c)
                  : vd_exp(vd_sub(ce_load(a->x, f32, base + c, classes - c, ninf), sh), f32);
        vd p = vd_mul(ev, vinv);
        if (t - c < VD_N) /* the target's lane: (p - 1) * scale */
            p = vd_sel(vd_lane(t - c), vd_sub(p, vd_set1(1.0)), p);
        ce_store(a->grad, f32, base + c, classes - c, vd_mul(p, sc));
    }
}

KERN_INLINE double ce_score(const ce_args *a, int f32, size_t i)
{
    return f32 ? (double)((const float *)a->x)[i] : ((const double *)a->x)[i];
}

/* Up to VD_N wider rows from r0: exp sums first, one vector log for the group, then gradients
 * and losses. Each row is shifted by its first score, which keeps the sum >= 1 (that score's
 * own term); a row whose sum overflows takes its maximum instead. Adds the losses to *sum;
 * returns 0 or KERN_DECLINED. */
KERN_INLINE int ce_wide_group(const ce_args *a, int f32, size_t r0, size_t n, double *ebuf,
                              size_t stride, double *sum)
{
    double sh[VD_N], s[VD_N], lse[VD_N], inv[VD_N];
    vdm bad = vd_mnone();
    for (size_t j = 0; j < VD_N; j++)
        sh[j] = 0.0, s[j] = 1.0;
    for (size_t j = 0; j < n; j++) {
        size_t base = (r0 + j) * a->classes;
        double *e = ebuf ? ebuf + j * stride : NULL;
        sh[j] = ce_score(a, f32, base);
        s[j] = ce_row_sum(a->x, f32, base, a->classes, sh[j], e, &bad);
        if (vd_many(bad))
            return KERN_DECLINED;
        if (!(s[j] < __builtin_inf())) {
            sh[j] = ce_row_max(a->x, f32, base, a->classes);
            s[j] = ce_row_sum(a->x, f32, base, a->classes, sh[j], e, &bad);
        }
    }
    vd sv = vd_loadu(s);
    vd_storeu(lse, vd_add(vd_loadu(sh), vd_log(sv, f32)));
    vd_storeu(inv, vd_div(vd_set1(1.0), sv));
    for (size_t j = 0; j < n; j++) {
        size_t base = (r0 + j) * a->classes;
        int64_t t = a->target[r0 + j];
        if (t < 0 || (uint64_t)t >= a->classes)
            return KERN_DECLINED;
        if (a->grad)
            ce_row_grad(a, f32, base, ebuf ? ebuf + j * stride : NULL, sh[j], inv[j], (size_t)t);
        double l = lse[j] - ce_score(a, f32, base + (size_t)t);
        if (a->values)
            ce_store(a->values, f32, r0 + j, 1, vd_set1(l));
        *sum += l;
    }
    return 0;
}

/* The old-style narrow blocks' output map: row-major vector k's places in the class-major
 * buffer of VD_N rows. */
KERN_INLINE void ce_narrow_index(size_t classes, vdi *out_idx)
{
    for (size_t k = 0; k < classes; k++) {
        int32_t ix[VD_N];
        for (size_t i = 0; i < VD_N; i++)
            ix[i] = (int32_t)(((VD_N * k + i) % classes) * VD_N + (VD_N * k + i) / classes);
        out_idx[k] = vdi_loadu(ix);
    }
}

KERN_INLINE int ce_rows(const kern_args *ka, double *sum, int f32)
{
    const ce_args a_ = {ka->p, ka->y, ka->values, ka->grad, ka->scale, ka->n, ka->width}, *a = &a_;
    double ebuf[CE_BUF], total = 0.0;
    const size_t classes = a->classes, stride = (classes + VD_N - 1) & ~(size_t)(VD_N - 1);
    const int narrow = classes <= CE_NARROW;
    size_t group = narrow || stride > CE_BUF ? VD_N : CE_BUF / stride;
    vdi out_idx[CE_NARROW];
    group = group > VD_N ? VD_N : group;
    if (narrow)
        ce_narrow_index(classes, out_idx);
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

/* ---- cross-entropy narrow float32 rows in float lanes ---- */

/* VF_N rows of at most CE_NARROW classes at a time, one row per float lane, each shifted by
 * its target's score: with e_c = exp(x_c - x_t) over c != t and S = sum e_c (no max needed,
 * S >= 0 and nothing cancels),
 *   l = log1p(S),  d l / d x_c = e_c / (1 + S),  d l / d x_t = -S / (1 + S).
 * x_c - x_t is kept exact as a float pair (TwoSum) and its low part enters exp's reduced
 * argument, so each e_c is within about 1 float ulp whatever the scores' spread; S, log1p and
 * 1 / (1 + S) are in double. A row whose S reaches CEF_S_MAX (a score far above the
 * target's: e_c would overflow, or 1 / (1 + S) lose bits in float) or whose target score is
 * not finite is redone alone by the double-lane narrow block above (which also declines what
 * it must); a non-finite score elsewhere makes S NaN through the TwoSum. So a row's result
 * depends on that row alone, whichever rows share its block. */
#define CEF_S_MAX 0x1p64

/* The class loops below run fully unrolled when the block's class count is a constant (see
 * cef_rows), so that the class vectors live in registers, not in a stack array. */
#define CEF_UNROLL _Pragma("GCC unroll 16")

/* Int32 lanes beside the float ones: the rows' class indices. */
#if VEC_ISA == VEC_ISA_AVX512
typedef __m512i cef_vi;
KERN_INLINE cef_vi cef_set1(size_t v)
{
    return _mm512_set1_epi32((int)v);
}
KERN_INLINE vfm cef_eq(cef_vi a, cef_vi b)
{
    return _mm512_cmpeq_epi32_mask(a, b);
}
KERN_INLINE vq cef_q_zero(void)
{
    return _mm512_setzero_si512();
}
/* Two VD_N int64 vectors narrowed to VF_N int32 (the indices are known in range). */
KERN_INLINE cef_vi cef_narrow_q(vq lo, vq hi)
{
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(lo)),
                              _mm512_cvtepi64_epi32(hi), 1);
}
#else
typedef __m256i cef_vi;
KERN_INLINE cef_vi cef_set1(size_t v)
{
    return _mm256_set1_epi32((int)v);
}
KERN_INLINE vfm cef_eq(cef_vi a, cef_vi b)
{
    return _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b));
}
KERN_INLINE vq cef_q_zero(void)
{
    return _mm256_setzero_si256();
}
KERN_INLINE cef_vi cef_narrow_q(vq lo, vq hi)
{
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    __m256i l = _mm256_permutevar8x32_epi32(lo, even), h = _mm256_permutevar8x32_epi32(hi, even);
    return _mm256_permute2x128_si256(l, h, 0x20);
}
#endif

/* The block transposes: VF_N rows of C scores (row-major in memory) to C vectors of VF_N
 * lanes, one a class (lane j = row j), and back; the same network of shuffles serves both
 * ways. AVX-512 loads each row into a vector of its own (a masked load of C lanes),
 * transposes 16 x 16 in four rounds and stores each row masked. AVX2 has no cheap masked
 * store: it loads and stores whole vectors at each row's start (a row's store spills into
 * the next rows, which are stored after it), transposing 8 x 8 per group of 8 classes, and
 * takes a block near the chunk's end through a stack copy, so that it touches no byte
 * outside the chunk's rows (another thread may be writing the next chunk). old_idx is the
 * double-lane blocks' map. */
typedef struct {
    vdi old_idx[CE_NARROW];
} cef_consts;

KERN_INLINE void cef_consts_make(size_t classes, cef_consts *k)
{
    ce_narrow_index(classes, k->old_idx);
}

#if VEC_ISA == VEC_ISA_AVX512
/* r[i] lane j <- r[j] lane i. */
KERN_INLINE void cef_transpose16(vf r[16])
{
    vf t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
        __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
    }
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++) {
            t[8 * i + k] = _mm512_shuffle_f32x4(r[8 * i + k], r[8 * i + 4 + k], 0x88);
            t[8 * i + 4 + k] = _mm512_shuffle_f32x4(r[8 * i + k], r[8 * i + 4 + k], 0xdd);
        }
    for (int k = 0; k < 8; k++) {
        r[k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0x88);
        r[k + 8] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0xdd);
    }
}

/* Masked loads and stores touch nothing outside the rows: every block is direct. */
KERN_INLINE int cef_direct(size_t left, size_t n, size_t classes)
{
    (void)left, (void)n, (void)classes;
    return 1;
}

/* The scores of rows [0, n) at x as class vectors cls[0 .. 16) (lanes past n, and classes
 * past C: 0). */
KERN_INLINE void cef_load_classes(const float *x, size_t classes, size_t n, int direct, vf *cls)
{
    const vfm row = vf_tmask(classes);
    (void)direct;
    CEF_UNROLL
    for (size_t j = 0; j < 16; j++) /* rows past n: an empty mask, no branch */
        cls[j] = _mm512_maskz_loadu_ps(j < n ? row : 0, x + j * classes);
    cef_transpose16(cls);
}

/* Writes class vectors cls[0 .. C) as rows [0, n) at out. */
KERN_INLINE void cef_store_classes(const vf *cls, size_t classes, size_t n, int direct, float *out)
{
    const vfm row = vf_tmask(classes);
    vf r[16];
    (void)direct;
    CEF_UNROLL
    for (size_t c = 0; c < 16; c++)
        r[c] = c < classes ? cls[c] : vf_zero();
    cef_transpose16(r);
    CEF_UNROLL
    for (size_t j = 0; j < 16; j++)
        _mm512_mask_storeu_ps(out + j * classes, j < n ? row : 0, r[j]);
}
#else
/* r[i] lane j <- r[j] lane i: pairs, then quads within each 128-bit half, then the halves. */
KERN_INLINE void cef_transpose8(vf *r)
{
    vf t[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        r[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        r[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
        r[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        r[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
    }
    for (int k = 0; k < 4; k++) {
        t[k] = _mm256_permute2f128_ps(r[k], r[k + 4], 0x20);
        t[k + 4] = _mm256_permute2f128_ps(r[k], r[k + 4], 0x31);
    }
    for (int k = 0; k < 8; k++)
        r[k] = t[k];
}

/* The room a direct block needs past its rows: its last row's whole-vector loads and stores
 * reach up to 16 floats beyond that row's start. */
#define CEF_SLACK 16

/* Whether a block of n rows, `left` rows before the chunk's end, may be loaded and stored
 * directly: whole, with CEF_SLACK floats of the chunk after it. */
KERN_INLINE int cef_direct(size_t left, size_t n, size_t classes)
{
    return n == VF_N && (left - n) * classes >= CEF_SLACK;
}

/* The scores of rows [0, n) at x as class vectors cls[0 .. 16) (lanes past n: 0 unless
 * direct; classes past C: anything). direct: x has CEF_SLACK readable floats past the rows,
 * else they are copied to the stack first. */
KERN_INLINE void cef_load_classes(const float *x, size_t classes, size_t n, int direct, vf *cls)
{
    float buf[VF_N * CE_NARROW + CEF_SLACK];
    if (!direct) {
        const size_t len = n * classes;
        for (size_t i = 0; i < sizeof buf / sizeof buf[0]; i += VF_N)
            vf_storeu(buf + i, i < len ? vf_load_tail(x + i, len - i) : vf_zero());
        x = buf;
    }
    CEF_UNROLL
    for (size_t g = 0; g < 2; g++) {
        if (8 * g >= classes)
            break;
        CEF_UNROLL
        for (size_t j = 0; j < 8; j++)
            cls[8 * g + j] = vf_loadu(x + j * classes + 8 * g);
        cef_transpose8(cls + 8 * g);
    }
}

/* Writes class vectors cls[0 .. C) as rows [0, n) at out: direct (out has CEF_SLACK
 * writable floats past the rows, which get rewritten later) or through the stack. */
KERN_INLINE void cef_store_classes(const vf *cls, size_t classes, size_t n, int direct, float *out)
{
    float buf[VF_N * CE_NARROW + CEF_SLACK];
    float *to = direct ? out : buf;
    vf r[16];
    CEF_UNROLL
    for (size_t g = 0; g < 2; g++) {
        if (8 * g >= classes)
            break;
        CEF_UNROLL
        for (size_t j = 0; j < 8; j++)
            r[8 * g + j] = cls[8 * g + j];
        cef_transpose8(r + 8 * g);
    }
    CEF_UNROLL
    for (size_t j = 0; j < 8; j++) { /* in row order: each row's store overwrites the spill */
        CEF_UNROLL
        for (size_t g = 0; g < 2; g++)
            if (8 * g < classes)
                vf_storeu(to + j * classes + 8 * g, r[8 * g + j]);
    }
    if (!direct) {
        const size_t len = n * classes;
        for (size_t i = 0; i < len; i += VF_N)
            vf_store_tail(out + i, len - i, vf_loadu(buf + i));
    }
}
#endif

/* exp(h + l), h + l the exact difference of two floats (|l| <= ulp(h) / 2): vf_exp's
 * reduction with l added to the reduced argument. NaN in h or l propagates. */
KERN_INLINE vf cef_exp2(vf h, vf l)
{
    h = vf_clamp(h, -VMF_EXP_CLAMP, VMF_EXP_CLAMP);
    vf n = vf_round(vf_mul(h, vf_set1(VMF_LOG2E)));
    vf r = vf_fnmadd(n, vf_set1(VMF_EXP_LN2_HI), h);
    r = vf_add(vf_fnmadd(n, vf_set1(VMF_EXP_LN2_LO), r), l);
    vf q = vf_fmadd(vf_mul(r, r), vf_exp_h(r, 1), r);
    return vf_scale(vf_add(vf_set1(1.0), q), n);
}

/* exp(x - y) for float scores, their difference kept exact as a float pair (TwoSum) so that
 * the result stays within about 1 float ulp however far apart x and y are (a rounded
 * difference near 80 would cost some 40 ulps). A non-finite x or y gives NaN. */
KERN_INLINE vf cef_exp_diff(vf x, vf y)
{
    vf d = vf_sub(x, y), bb = vf_sub(d, x);
    return cef_exp2(d, vf_sub(vf_sub(x, vf_sub(d, bb)), vf_add(y, bb)));
}

/* The block's class indices as int32 lanes (dead lanes 0); KERN_DECLINED if any live one
 * lies outside [0, classes). */
KERN_INLINE int cef_targets(const int64_t *t, size_t n, size_t classes, cef_vi *out)
{
    size_t n_hi = n > VD_N ? n - VD_N : 0;
    vq lo = vq_load_tail(t, n), hi = n_hi ? vq_load_tail(t + VD_N, n_hi) : cef_q_zero();
    vdm bad = vd_mor(vd_mand(vd_tmask(n), vq_outside(lo, classes)),
                     vd_mand(vd_tmask(n_hi), vq_outside(hi, classes)));
    if (vd_many(bad))
        return KERN_DECLINED;
    *out = cef_narrow_q(lo, hi);
    return 0;
}

/* Partial selects and sums a block keeps. AVX-512: chains through all C classes (the
 * select of the target's score, then S) measured 5% slower at C = 10 than four of a quarter
 * the length; AVX2 (16 registers) measured 3-5% slower with four, so it keeps one. */
#if VEC_ISA == VEC_ISA_AVX512
#define CEF_WAYS 4
#else
#define CEF_WAYS 1
#endif

/* Folds v[0 .. CEF_WAYS) into v[0], pairwise. */
#define CEF_FOLD(v, add)                                \
    do {                                                \
        CEF_UNROLL                                      \
        for (size_t w_ = CEF_WAYS / 2; w_ > 0; w_ /= 2) \
            for (size_t k_ = 0; k_ < w_; k_++)          \
                (v)[k_] = add((v)[k_], (v)[k_ + w_]);   \
    } while (0)

/* Replaces each class vector's scores by e_c (0 at the target) and returns S in two double
 * halves; *xt gets the target scores. */
KERN_INLINE void cef_exps(vf *cls, size_t classes, cef_vi t, vf *xt, vd *s_lo, vd *s_hi)
{
    vd lo[CEF_WAYS], hi[CEF_WAYS];
    vf xt_part[CEF_WAYS];
    CEF_UNROLL
    for (size_t k = 0; k < CEF_WAYS; k++)
        lo[k] = hi[k] = vd_zero(), xt_part[k] = vf_zero();
    CEF_UNROLL
    for (size_t c = 0; c < classes; c++)
        xt_part[c % CEF_WAYS] = vf_sel(cef_eq(t, cef_set1(c)), cls[c], xt_part[c % CEF_WAYS]);
    /* in each lane one xt_part holds the target's score, the others +0: the sum is exact */
    CEF_FOLD(xt_part, vf_add);
    const vf x_t = xt_part[0];
    CEF_UNROLL
    for (size_t c = 0; c < classes; c++) {
        vf e = vf_sel(cef_eq(t, cef_set1(c)), vf_zero(), cef_exp_diff(cls[c], x_t));
        cls[c] = e;
        lo[c % CEF_WAYS] = vd_add(lo[c % CEF_WAYS], vf_widen_lo(e));
        hi[c % CEF_WAYS] = vd_add(hi[c % CEF_WAYS], vf_widen_hi(e));
    }
    *xt = x_t;
    CEF_FOLD(lo, vd_add);
    CEF_FOLD(hi, vd_add);
    *s_lo = lo[0], *s_hi = hi[0];
}

/* Rows r0 .. r0+n-1 (n <= VF_N): writes their outputs and adds their losses to *acc (lane
 * j: row j's low or high half), except for the rows set in *redo (S >= CEF_S_MAX or not a
 * number, or a target score that is not finite), whose outputs the caller must rewrite.
 * Returns 0 or KERN_DECLINED. */
KERN_INLINE int cef_block(const ce_args *a, size_t r0, size_t n, const size_t classes, vd *acc,
                          unsigned *redo)
{
    const size_t n_hi = n > VD_N ? n - VD_N : 0;
    const int direct = cef_direct(a->rows - r0, n, classes);
    vf cls[CE_NARROW];
    cef_vi t;
    if (cef_targets(a->target + r0, n, classes, &t) != 0)
        return KERN_DECLINED;
    cef_load_classes((const float *)a->x + r0 * classes, classes, n, direct, cls);
    vf xt;
    vd s_lo, s_hi;
    cef_exps(cls, classes, t, &xt, &s_lo, &s_hi);
    const vd smax = vd_set1(CEF_S_MAX), one = vd_set1(1.0), zero = vd_zero();
    vdm big_lo = vd_mand(vd_tmask(n), vd_cmp(s_lo, smax, _CMP_NLT_UQ));
    vdm big_hi = vd_mand(vd_tmask(n_hi), vd_cmp(s_hi, smax, _CMP_NLT_UQ));
    *redo = (unsigned)vd_mbits(big_lo) | (unsigned)vd_mbits(big_hi) << VD_N |
            (unsigned)vf_mbits(vf_mand(vf_tmask(n), vf_not_finite(xt)));
    vd l_lo = vd_log1p(s_lo, 1), l_hi = vd_log1p(s_hi, 1);
    vd keep_lo = vd_sel(big_lo, zero, vd_maskz(vd_tmask(n), l_lo));
    vd keep_hi = vd_sel(big_hi, zero, vd_maskz(vd_tmask(n_hi), l_hi));
    *acc = vd_add(*acc, vd_add(keep_lo, keep_hi));
    if (a->values)
        vf_store_tail((float *)a->values + r0, n, vf_narrow(l_lo, l_hi));
    if (a->grad) { /* e_c / (1 + S) and -S / (1 + S), times the scale */
        const vd sc = vd_set1(a->scale), nsc = vd_set1(-a->scale);
        vd i_lo = vd_div(one, vd_add(one, s_lo)), i_hi = vd_div(one, vd_add(one, s_hi));
        vf g = vf_narrow(vd_mul(i_lo, sc), vd_mul(i_hi, sc));
        vf gt = vf_narrow(vd_mul(vd_mul(s_lo, i_lo), nsc), vd_mul(vd_mul(s_hi, i_hi), nsc));
        CEF_UNROLL
        for (size_t c = 0; c < classes; c++)
            cls[c] = vf_sel(cef_eq(t, cef_set1(c)), gt, vf_mul(cls[c], g));
        cef_store_classes(cls, classes, n, direct, (float *)a->grad + r0 * classes);
    }
    return 0;
}

/* Whether the float lanes (narrow or wide rows) take the call: a gradient scale whose
 * products with 1 / (1 + S) stay normal floats and with any e_c stay within a few ulps
 * (|scale| in [2^-60, 1]; sum and mean reductions use 1 and 1 / rows). */
KERN_INLINE int cef_accepts(const kern_args *a)
{
    double s = fabs(a->scale);
    return a->grad == NULL || (s >= 0x1p-60 && s <= 1.0);
}

/* Blocks fetched ahead of the one computed: a block's work is long enough that the next
 * block's loads fall outside the out-of-order window, and the hardware prefetchers did not
 * keep up with the masked loads. */
#define CEF_AHEAD 4

/* Prefetches the scores, targets and gradient lines of the block at row r0 (hints: nothing
 * faults past the end). */
KERN_INLINE void cef_prefetch(const ce_args *a, size_t r0, size_t classes)
{
    const char *x = (const char *)((const float *)a->x + r0 * classes);
    const char *t = (const char *)(a->target + r0);
    for (size_t b = 0; b < VF_N * classes * sizeof(float); b += 64)
        _mm_prefetch(x + b, _MM_HINT_T0);
    for (size_t b = 0; b < VF_N * sizeof(int64_t); b += 64)
        _mm_prefetch(t + b, _MM_HINT_T0);
    if (a->grad) {
        const char *g = (const char *)((float *)a->grad + r0 * classes);
        for (size_t b = 0; b < VF_N * classes * sizeof(float); b += 64)
            __builtin_prefetch(g + b, 1, 3);
    }
}

/* The chunk's rows, `classes` a constant in each instance (cef_rows), VF_N at a time; the rows
 * cef_block hands back are redone alone in double lanes. */
KERN_INLINE int cef_rows_c(const kern_args *ka, double *sum, const size_t classes)
{
    const ce_args a_ = {ka->p, ka->y, ka->values, ka->grad, ka->scale, ka->n, classes}, *a = &a_;
    cef_consts k;
    vd acc = vd_zero();
    double total = 0.0;
    cef_consts_make(classes, &k);
    for (size_t r0 = 0; r0 < a->rows; r0 += VF_N) {
        size_t n = a->rows - r0 < VF_N ? a->rows - r0 : VF_N;
        unsigned redo = 0;
        cef_prefetch(a, r0 + CEF_AHEAD * VF_N, classes);
        if (cef_block(a, r0, n, classes, &acc, &redo) != 0)
            return KERN_DECLINED;
        for (size_t j = 0; redo; j++, redo >>= 1) /* those rows alone, in double lanes */
            if ((redo & 1) && ce_narrow_block(a, 1, r0 + j, 1, k.old_idx, &total) != 0)
                return KERN_DECLINED;
    }
    total += vd_hsum(acc);
    if (!isfinite(total))
        return KERN_DECLINED;
    *sum = total;
    return 0;
}

/* One instance of the rows per class count (ce_f32: at most CE_NARROW). */
static int cef_rows(const kern_args *ka, double *sum)
{
    switch (ka->width) {
#define CEF_CASE(c) \
    case c:         \
        return cef_rows_c(ka, sum, c);
        CEF_CASE(1)
        CEF_CASE(2)
        CEF_CASE(3)
        CEF_CASE(4)
        CEF_CASE(5)
        CEF_CASE(6)
        CEF_CASE(7)
        CEF_CASE(8)
        CEF_CASE(9)
        CEF_CASE(10)
        CEF_CASE(11)
        CEF_CASE(12)
        CEF_CASE(13)
        CEF_CASE(14)
        CEF_CASE(15)
        CEF_CASE(16)
#undef CEF_CASE
    default:
        return KERN_DECLINED;
    }
}

/* ---- cross-entropy wide float32 rows in float lanes ---- */

/* Rows of more than CE_NARROW classes, one row at a time in float lanes, shifted by the
 * target's score as the narrow rows are: e_c = exp(x_c - x_t) (cef_exp_diff), S = sum of e_c
 * over c != t in double, l = log1p(S), gradient e_c g and, at t, -S g, g = scale / (1 + S).
 * The first pass stores each e_c where its gradient goes, so that the second only rescales
 * it while the row is still in cache; CEW_GROUP rows share one vector log1p and division. A
 * row whose S reaches CEF_S_MAX or is NaN (a score that is not finite: the TwoSum makes it
 * NaN) is redone alone by the double lanes' ce_wide_group, which also declines what it must.
 * So a row's result depends on that row alone, and the losses are summed in row order. */
#define CEW_GROUP VD_N /* not 4 on AVX-512: C = 17 to 64 ran 9-18% faster with 8 */

/* Rows fetched ahead of the one computed (scores, and the gradient's lines for writing), one
 * hint per vector: the hardware prefetchers alone left the loop waiting on memory (measured
 * 10-15% slower at C = 1000). Hints: nothing faults past the chunk's end. */
#define CEW_AHEAD 4

/* e with lane k set to 0 (k < VF_N). */
KERN_INLINE vf cew_drop_lane(vf e, size_t k)
{
    return vf_sel(vf_tmask(k), e, vf_sel(vf_tmask(k + 1), vf_zero(), e));
}

/* exp(x_c - x_t) for each of a row's scores x, 0 at t, stored at e (the row's gradient)
 * unless e is NULL; returns their sum in double (NaN if a score is not finite). */
KERN_INLINE double cew_row_exps(const float *x, size_t classes, size_t t, float *e)
{
    const vf xt = vf_set1((double)x[t]);
    vd lo = vd_zero(), hi = vd_zero();
    size_t c = 0;
    for (; c + VF_N <= classes; c += VF_N) {
        _mm_prefetch((const char *)(x + c + CEW_AHEAD * classes), _MM_HINT_T0);
        vf ev = cef_exp_diff(vf_loadu(x + c), xt);
        if (t - c < VF_N)
            ev = cew_drop_lane(ev, t - c);
        if (e) {
            __builtin_prefetch(e + c + CEW_AHEAD * classes, 1, 3);
            vf_storeu(e + c, ev);
        }
        lo = vd_add(lo, vf_widen_lo(ev));
        hi = vd_add(hi, vf_widen_hi(ev));
    }
    if (c < classes) { /* the tail: lanes past the row hold 0 */
        const size_t r = classes - c;
        vf ev = vf_maskz(vf_tmask(r), cef_exp_diff(vf_load_tail(x + c, r), xt));
        if (t - c < VF_N)
            ev = cew_drop_lane(ev, t - c);
        if (e)
            vf_store_tail(e + c, r, ev);
        lo = vd_add(lo, vf_widen_lo(ev));
        hi = vd_add(hi, vf_widen_hi(ev));
    }
    return vd_hsum(vd_add(lo, hi));
}

/* Turns a row's stored e_c into its gradient: e_c g, and gt at t. */
KERN_INLINE void cew_row_grad(float *e, size_t classes, size_t t, vf g, float gt)
{
    size_t c = 0;
    for (; c + VF_N <= classes; c += VF_N)
        vf_storeu(e + c, vf_mul(vf_loadu(e + c), g));
    if (c < classes)
        vf_store_tail(e + c, classes - c, vf_mul(vf_load_tail(e + c, classes - c), g));
    e[t] = gt;
}

/* Rows r0 .. r0+n-1 (n <= CEW_GROUP): writes their outputs and adds their losses to *total
 * in row order. Returns 0 or KERN_DECLINED. */
KERN_INLINE int cew_group(const ce_args *a, size_t r0, size_t n, double *total)
{
    const size_t classes = a->classes;
    const float *x = (const float *)a->x + r0 * classes;
    float *grad = a->grad ? (float *)a->grad + r0 * classes : NULL;
    double s[VD_N], l[VD_N], g[VD_N], gt[VD_N];
    for (size_t j = 0; j < VD_N; j++)
        s[j] = 0.0;
    for (size_t j = 0; j < n; j++) {
        int64_t t = a->target[r0 + j];
        if (t < 0 || (uint64_t)t >= classes)
            return KERN_DECLINED;
        s[j] = cew_row_exps(x + j * classes, classes, (size_t)t, grad ? grad + j * classes : NULL);
    }
    const vd sv = vd_loadu(s), one = vd_set1(1.0), inv = vd_div(one, vd_add(one, sv));
    vd_storeu(l, vd_log1p(sv, 1));
    vd_storeu(g, vd_mul(inv, vd_set1(a->scale)));
    vd_storeu(gt, vd_mul(vd_mul(sv, inv), vd_set1(-a->scale)));
    for (size_t j = 0; j < n; j++) {
        if (!(s[j] < CEF_S_MAX)) { /* alone in double lanes */
            if (ce_wide_group(a, 1, r0 + j, 1, NULL, 0, total) != 0)
                return KERN_DECLINED;
            continue;
        }
        if (grad)
            cew_row_grad(grad + j * classes, classes, (size_t)a->target[r0 + j], vf_set1(g[j]),
                         (float)gt[j]);
        if (a->values)
            ((float *)a->values)[r0 + j] = (float)l[j];
        *total += l[j];
    }
    return 0;
}

/* The chunk's rows (more than CE_NARROW classes, a scale cef_accepts), CEW_GROUP at a time. */
static int cew_rows(const kern_args *ka, double *sum)
{
    const ce_args a = {ka->p, ka->y, ka->values, ka->grad, ka->scale, ka->n, ka->width};
    double total = 0.0;
    for (size_t r0 = 0; r0 < a.rows; r0 += CEW_GROUP) {
        size_t n = a.rows - r0 < CEW_GROUP ? a.rows - r0 : CEW_GROUP;
        if (cew_group(&a, r0, n, &total) != 0)
            return KERN_DECLINED;
    }
    if (!isfinite(total))
        return KERN_DECLINED;
    *sum = total;
    return 0;
}

static int ce_f64(const kern_args *a, double *sum)
{
    return ce_rows(a, sum, 0);
}
static int ce_f32(const kern_args *a, double *sum)
{
    if (!cef_accepts(a))
        return ce_rows(a, sum, 1);
    return a->width <= CE_NARROW ? cef_rows(a, sum) : cew_rows(a, sum);
}

/* ---- embedding rows (kern.h, kern_rows) ---- */

/* The row loops run whole vectors over a row's middle and mask only its last, partial
 * vector: a masked load or store on every vector (and a row's sums kept in an array indexed
 * by a variable, which lives in memory) made these loops 2-3x slower than the memory under
 * them. Sums keep two sets of accumulators over VD_N lanes each: element k of a row in set
 * (k / VD_N) % 2, lane k % VD_N, whether its vector is whole or the tail (tails load zeros,
 * which add nothing), so the order of every sum is fixed by the row length alone. */

/* The vector at x of a row with r elements left: whole when r >= VD_N (a constant VD_N in
 * the loops over a row's middle, so no test is left there), else the first r lanes. */
KERN_INLINE vd rows_load(const float *x, size_t r)
{
    return r >= VD_N ? vd_load_f32(x) : vd_load_f32_tail(x, r);
}

KERN_INLINE void rows_store(float *out, size_t r, vd v)
{
    if (r >= VD_N)
        vd_store_f32(out, v);
    else
        vd_store_f32_tail(out, r, v);
}

/* The vector at k of a row's last 2 VD_N - 1 elements or fewer goes to set (k / VD_N) % 2 as
 * in the loop over its middle: set 0 first, then set 1 if it is more than one vector. */
#define ROWS_TAIL(step, k, n, acc0, acc1)           \
    do {                                            \
        if ((k) < (n))                              \
            step(k, (n) - (k), acc0);               \
        if ((k) + VD_N < (n))                       \
            step((k) + VD_N, (n) - (k)-VD_N, acc1); \
    } while (0)

/* dots3's step: acc += {a b, a a, b b} at k. */
KERN_INLINE void rows_dots3_step(const float *a, const float *b, size_t r, vd acc[3])
{
    vd u = rows_load(a, r), v = rows_load(b, r);
    acc[0] = vd_fmadd(u, v, acc[0]);
    acc[1] = vd_fmadd(u, u, acc[1]);
    acc[2] = vd_fmadd(v, v, acc[2]);
}

static void rows_dots3(const float *a, const float *b, size_t n, double out[3])
{
    vd s0[3] = {vd_zero(), vd_zero(), vd_zero()}, s1[3] = {s0[0], s0[0], s0[0]};
    size_t k = 0;
    for (; k + 2 * VD_N <= n; k += 2 * VD_N) {
        rows_dots3_step(a + k, b + k, VD_N, s0);
        rows_dots3_step(a + k + VD_N, b + k + VD_N, VD_N, s1);
    }
#define ROWS_DOTS3(k, r, acc) rows_dots3_step(a + (k), b + (k), r, acc)
    ROWS_TAIL(ROWS_DOTS3, k, n, s0, s1);
#undef ROWS_DOTS3
    for (int j = 0; j < 3; j++)
        out[j] = vd_hsum(vd_add(s0[j], s1[j]));
}

/* cos_grad's step at k, with which outputs are wanted constants. */
KERN_INLINE void rows_cos_grad_step(const float *a, const float *b, float *ga, float *gb, size_t k,
                                    size_t r, const vd c[4], int want_a, int want_b)
{
    vd u = rows_load(a + k, r), v = rows_load(b + k, r);
    if (want_a)
        rows_store(ga + k, r, vd_sub(vd_mul(c[0], v), vd_mul(c[1], u)));
    if (want_b)
        rows_store(gb + k, r, vd_sub(vd_mul(c[2], u), vd_mul(c[3], v)));
}

KERN_INLINE void rows_cos_grad_any(const float *a, const float *b, float *ga, float *gb, size_t n,
                                   const double cd[4], int want_a, int want_b)
{
    const vd c[4] = {vd_set1(cd[0]), vd_set1(cd[1]), vd_set1(cd[2]), vd_set1(cd[3])};
    size_t k = 0;
    for (; k + VD_N <= n; k += VD_N)
        rows_cos_grad_step(a, b, ga, gb, k, VD_N, c, want_a, want_b);
    if (k < n)
        rows_cos_grad_step(a, b, ga, gb, k, n - k, c, want_a, want_b);
}

/* One copy per combination of wanted outputs, so no test of them runs per vector. */
static void rows_cos_grad(const float *a, const float *b, float *ga, float *gb, size_t n,
                          const double c[4])
{
    if (ga && gb)
        rows_cos_grad_any(a, b, ga, gb, n, c, 1, 1);
    else if (ga)
        rows_cos_grad_any(a, b, ga, gb, n, c, 1, 0);
    else if (gb)
        rows_cos_grad_any(a, b, ga, gb, n, c, 0, 1);
}

/* triplet_sq's step at k: acc += squares of (a - p + eps, a - n + eps[, p - n + eps]), eps
 * only in the row's lanes, so lanes past it add nothing. */
KERN_INLINE void rows_triplet_sq_step(const float *a, const float *p, const float *n, size_t r,
                                      vd e, int swap, vd acc[3])
{
    vd u = rows_load(a, r), v = rows_load(p, r), w = rows_load(n, r);
    vd m = r >= VD_N ? e : vd_maskz(vd_tmask(r), e);
    vd dp = vd_add(vd_sub(u, v), m), dn = vd_add(vd_sub(u, w), m);
    acc[0] = vd_fmadd(dp, dp, acc[0]);
    acc[1] = vd_fmadd(dn, dn, acc[1]);
    if (swap) {
        vd dq = vd_add(vd_sub(v, w), m);
        acc[2] = vd_fmadd(dq, dq, acc[2]);
    }
}

KERN_INLINE void rows_triplet_sq_any(const float *a, const float *p, const float *n, size_t dim,
                                     double eps, int swap, double sq[3])
{
    const vd e = vd_set1(eps);
    vd s0[3] = {vd_zero(), vd_zero(), vd_zero()}, s1[3] = {s0[0], s0[0], s0[0]};
    size_t k = 0;
    for (; k + 2 * VD_N <= dim; k += 2 * VD_N) {
        rows_triplet_sq_step(a + k, p + k, n + k, VD_N, e, swap, s0);
        rows_triplet_sq_step(a + k + VD_N, p + k + VD_N, n + k + VD_N, VD_N, e, swap, s1);
    }
#define ROWS_TRIPLET_SQ(k, r, acc) rows_triplet_sq_step(a + (k), p + (k), n + (k), r, e, swap, acc)
    ROWS_TAIL(ROWS_TRIPLET_SQ, k, dim, s0, s1);
#undef ROWS_TRIPLET_SQ
    for (int j = 0; j < 3; j++)
        sq[j] = swap || j < 2 ? vd_hsum(vd_add(s0[j], s1[j])) : 0.0;
}

static void rows_triplet_sq(const float *a, const float *p, const float *n, size_t dim, double eps,
                            int swap, double sq[3])
{
    if (swap)
        rows_triplet_sq_any(a, p, n, dim, eps, 1, sq);
    else
        rows_triplet_sq_any(a, p, n, dim, eps, 0, sq);
}

/* triplet_grad's step at k, u_pn's presence a constant. */
KERN_INLINE void rows_triplet_grad_step(const float *a, const float *p, const float *n, float *ga,
                                        float *gp, float *gn, size_t k, size_t r, const vd c[4],
                                        int pn)
{
    vd u = rows_load(a + k, r), v = rows_load(p + k, r), w = rows_load(n + k, r);
    vd uap = vd_mul(vd_add(vd_sub(u, v), c[0]), c[1]);
    vd uan = vd_mul(vd_add(vd_sub(u, w), c[0]), c[2]);
    vd upn = pn ? vd_mul(vd_add(vd_sub(v, w), c[0]), c[3]) : vd_zero();
    rows_store(ga + k, r, vd_sub(uap, uan));
    rows_store(gp + k, r, vd_sub(vd_neg(uap), upn));
    rows_store(gn + k, r, vd_add(uan, upn));
}

KERN_INLINE void rows_triplet_grad_any(const float *a, const float *p, const float *n, float *ga,
                                       float *gp, float *gn, size_t dim, double eps,
                                       const double f[3], int pn)
{
    const vd c[4] = {vd_set1(eps), vd_set1(f[0]), vd_set1(f[1]), vd_set1(f[2])};
    size_t k = 0;
    for (; k + VD_N <= dim; k += VD_N)
        rows_triplet_grad_step(a, p, n, ga, gp, gn, k, VD_N, c, pn);
    if (k < dim)
        rows_triplet_grad_step(a, p, n, ga, gp, gn, k, dim - k, c, pn);
}

static void rows_triplet_grad(const float *a, const float *p, const float *n, float *ga, float *gp,
                              float *gn, size_t dim, double eps, const double f[3])
{
    if (f[2] != 0.0)
        rows_triplet_grad_any(a, p, n, ga, gp, gn, dim, eps, f, 1);
    else
        rows_triplet_grad_any(a, p, n, ga, gp, gn, dim, eps, f, 0);
}

/* ---- the table ---- */

void VEC_NAME(fill)(kern_table *t)
{
#define KERN_SLOT(name, id) (t->f64[id] = name##_f64, t->f32[id] = name##_f32)
    KERN_SLOT(mse, KERN_MSE);
    KERN_SLOT(mae, KERN_MAE);
    KERN_SLOT(mbe, KERN_MBE);
    KERN_SLOT(huber, KERN_HUBER);
    KERN_SLOT(smooth_l1, KERN_SMOOTH_L1);
    KERN_SLOT(hinge, KERN_HINGE);
    KERN_SLOT(squared_hinge, KERN_SQUARED_HINGE);
    KERN_SLOT(bce, KERN_BCE);
    KERN_SLOT(bce_with_logits, KERN_BCE_WITH_LOGITS);
    KERN_SLOT(focal, KERN_FOCAL);
    KERN_SLOT(sigmoid_focal, KERN_SIGMOID_FOCAL);
    KERN_SLOT(log_cosh, KERN_LOG_COSH);
    KERN_SLOT(soft_margin, KERN_SOFT_MARGIN);
    KERN_SLOT(ce, KERN_CROSS_ENTROPY);
#undef KERN_SLOT
    t->rows_f32 = (kern_rows){rows_dots3, rows_cos_grad, rows_triplet_sq, rows_triplet_grad};
#define VM_SLOT(id, name)                                                    \
    (t->vm[id] = vm_##name##_array, t->vm_lite[id] = vm_##name##_lite_array, \
     t->vm_f32[id] = vm_##name##_f32_array)
    VM_SLOT(KERN_VM_EXP, exp);
    VM_SLOT(KERN_VM_EXPM1, expm1);
    VM_SLOT(KERN_VM_LOG, log);
    VM_SLOT(KERN_VM_LOG1P, log1p);
    VM_SLOT(KERN_VM_LOG1P_01, log1p_01);
    VM_SLOT(KERN_VM_LOG_01, log_01);
    VM_SLOT(KERN_VM_LOG1M_01, log1m_01);
#undef VM_SLOT
}
