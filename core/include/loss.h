/* loss: compute one loss, value and gradient, over a loss_call.
 * The caller fills a loss_call with borrowed input tensors (any numeric type; core converts
 * to the compute dtype once) and parameters; loss_compute validates everything against the
 * descriptor and fills a loss_result that owns its output tensors. */
#ifndef LOSSD_LOSS_H
#define LOSSD_LOSS_H

#include <stddef.h>

#include "loss_error.h"
#include "loss_registry.h"
#include "tensor.h"

struct pool;

typedef enum { LOSS_DTYPE_F64 = 0, LOSS_DTYPE_F32 } loss_dtype;

typedef struct {
    const loss_desc *desc;
    loss_dtype dtype;
    loss_reduction reduction;
    int want_gradient;
    int empty_mean_zero; /* a mean over nothing is 0 instead of NaN */
    /* Inputs by descriptor index; an absent optional input has present[i] == 0.
     * Borrowed: must outlive loss_compute. */
    tensor input[LOSS_MAX_INPUTS];
    int present[LOSS_MAX_INPUTS];
    /* Scalar parameters by descriptor index; param_set[i] == 0 means the default. */
    double param[LOSS_MAX_PARAMS];
    int param_set[LOSS_MAX_PARAMS];
    /* Optional cancel hook: polled between chunks and inside long units (from any worker
     * thread); once it returns nonzero the computation stops with LOSS_ERR_CANCELLED. NULL:
     * never cancelled. cancel_arg is borrowed. */
    int (*cancelled)(void *cancel_arg);
    void *cancel_arg;
} loss_call;

typedef struct {
    loss_dtype dtype;
    loss_reduction reduction;
    /* mean/sum/batchmean: the scalar value (already rounded to float for F32). */
    double value;
    /* mean/batchmean: what the sum was divided by (summed over terms for per-term losses). */
    double denominator;
    /* none: per-element values in the compute dtype, one tensor per term (n_terms 1 or 2). */
    size_t n_terms;
    tensor terms[2];
    /* Gradients by descriptor input index, compute dtype, shape of that input; a tensor with
     * data == NULL where no gradient was asked or the input takes none. */
    tensor grad[LOSS_MAX_INPUTS];
    size_t elements; /* elements computed, for metrics */
} loss_result;

/* Sets defaults: float64, mean, no gradient, all params at their defaults. */
void loss_call_init(loss_call *call, const loss_desc *desc);

/* Validates `call` and computes. Parallel work goes to `pool` (NULL: the calling thread).
 * On LOSS_OK, *result owns its tensors; free them with loss_result_release. On error, err is
 * filled and *result holds nothing. Results are bit-identical for any pool size. */
loss_status loss_compute(const loss_call *call, struct pool *workers, loss_result *result,
                         loss_error *err);

/* Frees the tensors a result owns. Accepts NULL and a zeroed result. */
void loss_result_release(loss_result *result);

/* What a computation will cost, known from the call's shapes, types, reduction, gradient
 * flag and parameters alone (no tensor data is read). A zero-size dimension counts as 1
 * wherever a loop runs over the others, so a (300000000, 0) tensor costs its 3e8 rows. */
typedef struct {
    size_t read;    /* input elements, zero dims counted as 1 */
    size_t output;  /* elements of the `none` values and the gradients */
    size_t work;    /* work units: about one simple element operation (~1 ns) each */
    size_t scratch; /* peak bytes of conversions, plan and chunk buffers */
    size_t bytes;   /* peak bytes loss_compute allocates: scratch plus the outputs */
} loss_cost;

/* Caps checked by loss_cost_check; a 0 field is no cap. */
typedef struct {
    size_t max_work;
    size_t max_output;
} loss_limits;

/* Runs the validation and the plan of loss_compute on shapes only and fills *cost; allocates
 * nothing. `workers` (may be NULL) sizes the per-thread chunk buffers. Returns LOSS_OK, the
 * error loss_compute would report for the shapes and parameters, or LOSS_ERR_WORK when a
 * dimension product (zeros counted as 1) overflows or exceeds LOSS_MAX_ELEMENTS. A call that
 * passes here may still fail in loss_compute on its data (domain, finiteness, indices); it
 * never allocates more than cost->bytes (plus small bookkeeping, LOSS_COST_SLACK). */
loss_status loss_plan_cost(const loss_call *call, struct pool *workers, loss_cost *cost,
                           loss_error *err);

/* Adds c to sum for calls run one after another: work, read and output add up (saturating),
 * scratch and bytes take the larger. */
void loss_cost_add(loss_cost *sum, const loss_cost *c);

/* LOSS_ERR_WORK (naming what is over) when cost exceeds a cap of lim, else LOSS_OK. */
loss_status loss_cost_check(const loss_cost *cost, const loss_limits *lim, loss_error *err);

/* Bytes of bookkeeping (small structs, chunk partials of tiny runs) loss_plan_cost includes
 * in every cost->bytes beyond what it itemises. */
#define LOSS_COST_SLACK ((size_t)16 << 10)

/* Caps, checked before allocating. */
#define LOSS_MAX_ELEMENTS ((size_t)1 << 31)

#endif
