/* kern: ISA-specific fast paths for elementwise losses, chosen once at start-up.
 * Every fast path has a portable reference (the loss's own chunk function); a fast path may
 * decline a chunk (return KERN_DECLINED) whenever it sees anything unusual (non-finite or
 * out-of-domain data), and the reference then recomputes that chunk and reports exactly. */
#ifndef LOSSD_KERN_H
#define LOSSD_KERN_H

#include <stddef.h>
#include <stdint.h>

typedef enum { KERN_ISA_REF = 0, KERN_ISA_AVX2, KERN_ISA_AVX512 } kern_isa;

/* One slot per loss that has fast paths (unweighted chunks only). What each
 * computes, per element with d = p - y and t = 1 - y*p, before scaling the gradient:
 *   MSE d^2, 2d;  MAE |d|, sgn(d) (0 at d = 0);  MBE y - p, -1;
 *   HUBER (param[0] = delta) 0.5 d^2, d inside |d| < delta, else delta(|d| - delta/2),
 *     delta sgn(d);
 *   SMOOTH_L1 (param[0] = beta) d^2/(2 beta), d/beta inside |d| < beta, else |d| - beta/2,
 *     sgn(d); beta = 0 is L1 with gradient 0 at d = 0;
 *   HINGE max(0, t), -y where t >= 0 (the tie passes);  SQUARED_HINGE max(0, t)^2,
 *     -2y max(0, t).
 * The hinge pair declines any target that is not exactly -1 or 1 (so a loss mapping {0, 1}
 * targets should not call them) and any non-finite prediction; every kernel declines when
 * its sum is not finite. float32 kernels compute in float lanes and sum in double.
 * The losses with transcendentals (vector exp/log: vm for float64, vm_f32 for float32;
 * float32 bce, bce_with_logits, soft_margin and log_cosh in float lanes, within 4 float ulps
 * of the double formula, or of its largest term where terms cancel; float32 focal takes its
 * logs in float lanes and q = 1 - p_t, its powers and products in double (q as the reference,
 * uncancelled); float32 sigmoid_focal exp and log1p in float lanes, the rest in double;
 * float32 focal and sigmoid_focal with gamma = 2 and a chunk whose targets are all 0 or 1
 * entirely in float lanes (no cancellation is left once p_t is chosen); float32
 * cross-entropy rows in float lanes, shifted by the target's score with the sum in double,
 * rows whose sum reaches 2^64 or is NaN redone in double lanes with the vm_lite forms),
 * each the formula of its loss file, with sp = softplus, sig = sigmoid:
 *   BCE -(y max(log p, -100) + (1-y) max(log1p(-p), -100)), (p - y) / max((1-p) p, 1e-12f);
 *     declines p outside [0, 1] and non-finite y (float32: y outside [0, 1]);
 *   BCE_WITH_LOGITS (no weights) (1-y) sp(x) + y sp(-x), (1-y) sig(x) - y sig(-x);
 *   FOCAL (a, b, c = alpha, 1 - alpha, 0, or 0, 0, 1 when alpha < 0; d = gamma) BCE's ce and
 *     gradient times q^gamma, q = p (1-y) + y (1-p), alpha_t = a y + b (1-y) + c;
 *     declines p or y outside [0, 1];
 *   SIGMOID_FOCAL (constants as FOCAL) torchvision's sigmoid_focal_loss on logits; declines
 *     y outside [0, 1];
 *   LOG_COSH log(cosh(d)), tanh(d) (float32: a polynomial inside |d| < 1, kern_steps.h);
 *   SOFT_MARGIN sp(-y x), -y sig(-y x); declines y other than -1 and 1.
 * All decline non-finite inputs. */
typedef enum {
    KERN_NONE = 0, /* no fast path */
    KERN_MSE,
    KERN_MAE,
    KERN_MBE,
    KERN_HUBER,
    KERN_HINGE,
    KERN_SMOOTH_L1,
    KERN_SQUARED_HINGE,
    KERN_BCE,
    KERN_BCE_WITH_LOGITS,
    KERN_FOCAL,
    KERN_SIGMOID_FOCAL,
    KERN_LOG_COSH,
    KERN_SOFT_MARGIN,
    KERN_CROSS_ENTROPY, /* rows: see below */
    KERN_COUNT
} kern_id;

/* One call of a fast path: n elements (or rows of `width` elements) of predictions p and
 * targets y, both of the dtype (row kernels: y holds n int64 class indices). */
typedef struct {
    const void *p; /* predictions, n * width elements of the dtype */
    const void *y; /* targets: n elements of the dtype, or n int64 for row kernels */
    void *values;  /* reduction none: n per-element (per-row) losses, or NULL */
    void *grad;    /* gradient of p (already multiplied by scale), or NULL */
    double scale;
    const double *param; /* the loss's resolved parameters, descriptor order (see above) */
    size_t n;
    size_t width; /* row kernels: elements per row (classes); elementwise kernels ignore it */
} kern_args;

#define KERN_DECLINED 1
/* Computes the chunk, stores the sum of losses in *sum; returns 0, or KERN_DECLINED without
 * any guarantee about what it wrote. */
typedef int (*kern_fn)(const kern_args *args, double *sum);

/* Vector math over arrays, out[i] = f(x[i]) (x and out may be the same array): the ISA's exp,
 * expm1, log and log1p, within 2 ulps of the correctly rounded value with libm's special
 * values (log(0) = -inf, log(-1) = NaN, exp(-inf) = 0, ...); the reference table holds libm.
 * The restricted forms the losses use, for x in [0, 1] only (anything else, NaN included,
 * gives an unspecified value): LOG1P_01 log1p(x) (softplus), LOG_01 log(x) and LOG1M_01
 * log(1 - x) (BCE's pair, log(0) = -inf). The fast paths use the same functions inlined; the
 * table serves tests and bulk callers. Three tiers:
 *   vm      double lanes, within 2 ulps of double (the float64 kernels);
 *   vm_f32  float lanes, the same algorithms in float, within 2 ulps of float (the float32
 *           kernels); the reference rounds libm's double result;
 *   vm_lite double lanes with shorter polynomials, relative error below 2^-35 (the float32
 *           kernels that stay in double lanes). */
typedef enum {
    KERN_VM_EXP = 0,
    KERN_VM_EXPM1,
    KERN_VM_LOG,
    KERN_VM_LOG1P,
    KERN_VM_LOG1P_01,
    KERN_VM_LOG_01,
    KERN_VM_LOG1M_01,
    KERN_VM_COUNT
} kern_vm_id;

typedef void (*kern_vm_fn)(const double *x, double *out, size_t n);
typedef void (*kern_vmf_fn)(const float *x, float *out, size_t n);

/* CROSS_ENTROPY, a row kernel: n contiguous rows of `width` scores with one class index
 * each, unweighted and without label smoothing (the caller's guarantee). Per row
 * l = logsumexp(x) - x[t], computed as max + log(sum exp(x - max)) - x[t], and the gradient
 * (softmax(x) - onehot(t)) * scale. Declines any non-finite score, any target outside
 * [0, width) (so rows carrying an ignore_index there are the reference's), and a sum that is
 * not finite. */

/* Row primitives of the embedding losses for float32 rows, in double lanes (NULL in the
 * reference table, where the loss files' own loops are the reference). Each sum is kept in
 * fixed lanes, so a row's result depends only on the ISA, never on the thread.
 *   dots3: out = {a.b, a.a, b.b} over n elements;
 *   cos_grad: ga = c[0] b - c[1] a, gb = c[2] a - c[3] b (in double, rounded once);
 *   triplet_sq: sq = {|a - p + eps|^2, |a - n + eps|^2, |p - n + eps|^2 or 0 without swap};
 *   triplet_grad: with u_xy = (x - y + eps) f_xy, f = {f_ap, f_an, f_pn}: ga = u_ap - u_an,
 *     gp = -u_ap - u_pn, gn = u_an + u_pn (u_pn = 0 when f_pn = 0). */
typedef struct {
    void (*dots3)(const float *a, const float *b, size_t n, double out[3]);
    void (*cos_grad)(const float *a, const float *b, float *ga, float *gb, size_t n,
                     const double c[4]);
    void (*triplet_sq)(const float *a, const float *p, const float *n, size_t dim, double eps,
                       int swap, double sq[3]);
    void (*triplet_grad)(const float *a, const float *p, const float *n, float *ga, float *gp,
                         float *gn, size_t dim, double eps, const double f[3]);
} kern_rows;

typedef struct {
    kern_isa isa;
    kern_rows rows_f32;
    kern_fn f64[KERN_COUNT]; /* NULL where the ISA has no fast path */
    kern_fn f32[KERN_COUNT];
    kern_vm_fn vm[KERN_VM_COUNT]; /* the vector math: never NULL after kern_init */
    kern_vm_fn vm_lite[KERN_VM_COUNT];
    kern_vmf_fn vm_f32[KERN_VM_COUNT];
} kern_table;

/* Chooses the best ISA the CPU supports, or `forced` ("ref", "avx2", "avx512"; NULL or ""
 * for automatic). Must run before any worker thread starts (it writes the table).
 * Returns 0, or -1 if `forced` is unknown or unsupported by this CPU (the table then holds
 * the automatic choice). */
int kern_init(const char *forced);

/* The table in force (kern_init must have run; before it, the reference). */
const kern_table *kern_get(void);

const char *kern_isa_name(kern_isa isa);

/* Whether this CPU can run `isa`. */
int kern_isa_supported(kern_isa isa);

#define KERN_N_CONSTANTS 4

/* The constants (a, b, c, d) the fast-path step of loss `id` uses, from the gradient scale and
 * the loss's parameters (param may be NULL for losses without any): one table, so that every
 * ISA computes the same formula. */
void kern_step_constants(kern_id id, double scale, const double *param,
                         double out[KERN_N_CONSTANTS]);

/* Filled by kern_simd.c, compiled once per ISA with that ISA's flags. */
void kern_avx2_fill(kern_table *table);
void kern_avx512_fill(kern_table *table);

#endif
