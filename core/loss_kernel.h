/* loss_kernel: the contract between loss_compute and each loss's plan/chunk functions.
 * Internal to core/: only files under core/ include it.
 *
 * Life of a computation: loss_compute converts the inputs (float inputs to the compute
 * dtype, index inputs to int64), resolves parameters, then calls desc->plan, which checks
 * shapes and sets the work split (n_units work units of about unit_cost elements each), the
 * per-element output shape of each term and the mean denominators. loss_compute then sets
 * `scale` (what each term's sum is multiplied by in the returned value, so gradients can be
 * written final in one pass), allocates outputs, and runs desc->chunk over fixed unit ranges
 * (independent of the number of threads) and adds the partial sums in chunk order. */
#ifndef LOSSD_LOSS_KERNEL_H
#define LOSSD_LOSS_KERNEL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kern.h"
#include "loss.h"

typedef struct loss_ctx {
    const loss_desc *desc;
    loss_dtype dtype;
    loss_reduction reduction;
    int want_gradient;
    /* Converted inputs by descriptor index (NULL if absent): floats are F64 or F32 as dtype,
     * indices are I64. */
    const tensor *in[LOSS_MAX_INPUTS];
    double param[LOSS_MAX_PARAMS]; /* resolved, rounded to the compute dtype */

    /* Plan-only pass (loss_plan_cost): inputs carry shapes and types but data is NULL. plan
     * must then neither read data nor allocate; it sets everything below as usual. */
    int plan_only;
    int (*cancelled)(void *cancel_arg); /* the call's cancel hook (NULL: none) */
    void *cancel_arg;

    /* Set by plan. */
    size_t n_units;
    size_t unit_cost;   /* elements per unit, >= 1: sizes the chunks */
    size_t unit_work;   /* work units per unit (0: LOSS_WORK_PER_ELEMENT * unit_cost +
                         * LOSS_WORK_PER_UNIT, the rule for row-wise units) */
    size_t plan_bytes;  /* bytes plan allocates into scratch (in both passes) */
    size_t chunk_bytes; /* bytes each running chunk allocates for its duration */
    size_t n_terms;     /* 1, or 2 for LOSS_FLAG_PER_TERM */
    size_t term_rank[2];
    size_t term_shape[2][TENSOR_MAX_RANK];
    double denom[2]; /* mean (or batchmean) denominator of each term */

    /* Set by loss_compute before the chunks run. */
    double scale[2];             /* 1/denom[t] for mean (0 when denom is 0: NaN mean), else 1 */
    void *values[2];             /* reduction none: per-element outputs of each term */
    void *grad[LOSS_MAX_INPUTS]; /* gradient outputs (dtype), NULL where not wanted */
    void *scratch;               /* owned by the loss; freed by desc->release */

    /* Set by loss_fast_select after plan: the fast path for this call, or NULL. */
    kern_fn fast;
    size_t fast_width; /* elements of input 0 per work unit (a row kernel's classes) */
} loss_ctx;

/* What one chunk returns. A chunk that finds bad input sets status and stops; the error of
 * the lowest chunk wins, so the reported index is deterministic. */
typedef struct loss_partial {
    double sum[2]; /* per-term sums of the (weighted) element losses of the chunk */
    loss_status status;
    int bad_input;    /* descriptor index of the offending input */
    size_t bad_index; /* flat element index in that input */
    double bad_value;
    const char *reason; /* e.g. "is outside [0, 1]" */
} loss_partial;

static inline int loss_partial_fail(loss_partial *part, loss_status status, int input, size_t index,
                                    double value, const char *reason)
{
    part->status = status;
    part->bad_input = input;
    part->bad_index = index;
    part->bad_value = value;
    part->reason = reason;
    return 1;
}

/* Kahan-Babuska (Neumaier) compensated accumulator. */
typedef struct {
    double sum, comp;
} loss_acc;

static inline void loss_acc_add(loss_acc *acc, double x)
{
    double t = acc->sum + x;
    if (isinf(t)) { /* an infinite sum stays infinite: inf - inf would make the term NaN */
        acc->sum = t;
        acc->comp = 0.0;
        return;
    }
    if (fabs(acc->sum) >= fabs(x))
        acc->comp += (acc->sum - t) + x;
    else
        acc->comp += (x - t) + acc->sum;
    acc->sum = t;
}

static inline double loss_acc_value(const loss_acc *acc)
{
    return acc->sum + acc->comp;
}

/* Element access in the compute dtype. */
static inline double loss_load(const void *data, loss_dtype dt, size_t i)
{
    return dt == LOSS_DTYPE_F64 ? ((const double *)data)[i] : (double)((const float *)data)[i];
}

static inline void loss_store(void *data, loss_dtype dt, size_t i, double v)
{
    if (dt == LOSS_DTYPE_F64)
        ((double *)data)[i] = v;
    else
        ((float *)data)[i] = (float)v;
}

static inline int64_t loss_index(const tensor *t, size_t i)
{
    return ((const int64_t *)t->data)[i];
}

/* Numerically stable primitives shared by kernels. */
static inline double loss_softplus(double z)
{
    return fmax(z, 0.0) + log1p(exp(-fabs(z)));
}
static inline double loss_sigmoid(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* Whether the call's cancel hook asks to stop: chunks poll it, and so do units that can
 * run for long (a whole CTC sequence, a GEMM block). */
static inline int loss_cancelled(const loss_ctx *ctx)
{
    return ctx->cancelled != NULL && ctx->cancelled(ctx->cancel_arg);
}

/* The cost model's work units are calibrated to about 1-4 ns of one core each (loss_plan_cost;
 * measured on a 2-vCPU EPYC VM): an element of a unit costs LOSS_WORK_PER_ELEMENT, a unit
 * itself LOSS_WORK_PER_UNIT (a row's setup, its sums and its stores, even when the row is
 * empty). Elementwise plans, whose unit is one element in a tight loop, set unit_work to
 * LOSS_WORK_PER_ELEMENT; losses with costlier inner steps (ctc, ntxent) set their own. */
#define LOSS_WORK_PER_ELEMENT 4
#define LOSS_WORK_PER_UNIT 32

/* ---- plan helpers ---- */

/* Sets term 0's output shape to t's shape. */
void loss_plan_term_shape(loss_ctx *ctx, size_t term, const tensor *t);

/* Requires every present input other than `first` to have exactly input `first`'s shape;
 * returns LOSS_ERR_SHAPE naming the first that differs. */
loss_status loss_plan_require_same_shape(const loss_ctx *ctx, loss_error *err);

/* Plan for elementwise losses: inputs share one shape; one unit per element; output shape =
 * input 0's; denominator = element count, or, when `weighted_mean` and input `weight_input`
 * is present, the sum of the weights. weight_input < 0: none. */
loss_status loss_plan_elementwise(loss_ctx *ctx, loss_error *err, int weight_input,
                                  int weighted_mean);

/* ---- the fast path (desc->fast), written once for every loss ---- */

/* Chooses ctx->fast after plan: the ISA table's kernel for desc->fast.kernel and the dtype,
 * when the call has none of the inputs the kernel excludes and desc->fast.accepts agrees. */
void loss_fast_select(loss_ctx *ctx);

/* Runs ctx->fast over work units [begin, end): inputs 0 (predictions, gradient grad[0]) and 1
 * (targets), values values[0]. Returns 0 when it computed the chunk into part->sum[0], -1
 * when the reference chunk must (no fast path, or it declined). */
int loss_fast_run(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part);

/* ---- the generic elementwise chunk ---- */

/* Per-element function: loss *l and its derivative *g w.r.t. the prediction, for prediction
 * p and target y. Returns 0, or 1 if p is outside the domain, 2 if y is. */
typedef int (*loss_elem_fn)(double p, double y, const double *param, double *l, double *g);

/* Runs fn over elements [begin, end) of inputs 0 (prediction, gradient written to grad[0])
 * and 1 (target), optionally weighted by input `weight_input` (same shape; < 0 for none).
 * Checks finiteness, sums l*w with compensation into part->sum[0]. reasons[0]/[1] explain
 * fn's domain failures for p and y. Meant to be inlined with a constant fn. */
static inline __attribute__((always_inline)) void
loss_elementwise_run(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part,
                     loss_elem_fn fn, int weight_input, const char *const reasons[2])
{
    const tensor *pt = ctx->in[0], *yt = ctx->in[1];
    const tensor *wt = weight_input >= 0 ? ctx->in[weight_input] : NULL;
    const loss_dtype dt = ctx->dtype;
    const double scale = ctx->scale[0];
    loss_acc acc = {0, 0};
    for (size_t i = begin; i < end; i++) {
        double p = loss_load(pt->data, dt, i), y = loss_load(yt->data, dt, i);
        double w = wt ? loss_load(wt->data, dt, i) : 1.0;
        double l, g;
        if (!isfinite(p)) {
            loss_partial_fail(part, LOSS_ERR_NON_FINITE, 0, i, p, "is not finite");
            return;
        }
        if (!isfinite(y)) {
            loss_partial_fail(part, LOSS_ERR_NON_FINITE, 1, i, y, "is not finite");
            return;
        }
        if (wt && !isfinite(w)) {
            loss_partial_fail(part, LOSS_ERR_NON_FINITE, weight_input, i, w, "is not finite");
            return;
        }
        int bad = fn(p, y, ctx->param, &l, &g);
        if (bad) {
            loss_partial_fail(part, LOSS_ERR_DOMAIN, bad - 1, i, bad == 1 ? p : y,
                              reasons[bad - 1]);
            return;
        }
        l *= w;
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], dt, i, l);
        if (ctx->grad[0])
            loss_store(ctx->grad[0], dt, i, g * w * scale);
    }
    part->sum[0] = loss_acc_value(&acc);
}

#endif
