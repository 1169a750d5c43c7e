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

/* Caps, checked before allocating. */
#define LOSS_MAX_ELEMENTS ((size_t)1 << 31)

#endif
