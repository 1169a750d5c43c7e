/* fuzz_loss_cost: libFuzzer target for core's cost model. The input picks a loss, its
 * reduction, gradient flag, compute dtype, parameters and, for each input, whether it is
 * present, its element type, rank and dims (zeros and huge dims included). The cost pass must
 * allocate nothing; when the call is small enough to run, loss_compute must then allocate at
 * most cost.bytes (measured with mem.c's byte accounting) and return at most cost.output
 * elements, and it must fail whenever the cost pass refused the shapes (other than for
 * size: the cost pass is stricter there by design). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Above this many real elements in all, or this much work, the call is only costed, not
 * run (a refused size is never run: zero-size rows can still be billions of units). */
#define RUN_MAX_ELEMENTS 20000
#define RUN_MAX_WORK ((size_t)50 * 1000 * 1000)

typedef struct {
    const uint8_t *p;
    size_t left;
} reader;

static unsigned next(reader *r)
{
    if (r->left == 0)
        return 0;
    r->left--;
    return *r->p++;
}

/* Mostly small dims, sometimes 0, sometimes huge (to hit the zero-size and overflow paths). */
static size_t next_dim(reader *r)
{
    unsigned b = next(r);
    if (b < 200)
        return b % 9;
    if (b < 240)
        return (size_t)next(r) * 4 + 1;
    if (b < 250)
        return (size_t)1 << (next(r) % 40);
    return SIZE_MAX >> (next(r) % 8);
}

static double next_param(reader *r)
{
    static const double values[] = {0,   1,    -1, 0.5, 2,           1e-6,
                                    100, -100, 3,  7,   (double)NAN, (double)INFINITY};
    return values[next(r) % (sizeof values / sizeof values[0])];
}

typedef struct {
    loss_call call;
    void *buf[LOSS_MAX_INPUTS];
} fuzz_call;

static size_t build_input(fuzz_call *fc, size_t i, reader *r)
{
    static const tensor_type types[] = {TENSOR_F64, TENSOR_F32, TENSOR_I64, TENSOR_I32};
    tensor *t = &fc->call.input[i];
    memset(t, 0, sizeof *t);
    fc->call.present[i] = next(r) % 8 != 0;
    t->type = types[next(r) % 4];
    t->rank = next(r) % 5;
    for (size_t d = 0; d < t->rank; d++)
        t->shape[d] = next_dim(r);
    if (tensor_shape_count(t->shape, t->rank, &t->count) != 0)
        t->count = SIZE_MAX;
    return fc->call.present[i] ? t->count : 0;
}

/* Data for a runnable call: small values that are valid for most losses. */
static int fill_inputs(fuzz_call *fc, reader *r)
{
    for (size_t i = 0; i < fc->call.desc->n_inputs; i++) {
        tensor *t = &fc->call.input[i];
        if (!fc->call.present[i])
            continue;
        size_t esz = tensor_type_size(t->type);
        unsigned char *b = calloc(t->count ? t->count : 1, esz);
        if (b == NULL)
            return -1;
        fc->buf[i] = b;
        for (size_t k = 0; k < t->count; k++) {
            unsigned v = next(r) % 4;
            double d = (double)v / 3.0;
            if (t->type == TENSOR_F64)
                memcpy(b + k * esz, &d, esz);
            else if (t->type == TENSOR_F32) {
                float f = (float)d;
                memcpy(b + k * esz, &f, esz);
            } else if (t->type == TENSOR_I64) {
                int64_t x = v;
                memcpy(b + k * esz, &x, esz);
            } else {
                int32_t x = (int32_t)v;
                memcpy(b + k * esz, &x, esz);
            }
        }
        t->data = b;
    }
    return 0;
}

static int data_error(loss_status st)
{
    return st == LOSS_ERR_DOMAIN || st == LOSS_ERR_NON_FINITE || st == LOSS_ERR_TYPE;
}

static size_t result_elements(const loss_result *res)
{
    size_t n = 0;
    for (size_t t = 0; t < 2; t++)
        n += res->terms[t].data ? res->terms[t].count : 0;
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++)
        n += res->grad[i].data ? res->grad[i].count : 0;
    return n;
}

static void run_and_compare(fuzz_call *fc, const loss_cost *cost, loss_status cst)
{
    loss_result res;
    loss_error err;
    mem_release_cache();
    mem_track_start();
    loss_status st = loss_compute(&fc->call, NULL, &res, &err);
    mem_track_stop();
    if (cst != LOSS_OK) {
        if (st == LOSS_OK && cst != LOSS_ERR_LIMIT)
            abort(); /* the cost pass refused a call that computes */
    } else {
        if (st != LOSS_OK && !data_error(st) && st != LOSS_ERR_NOMEM)
            abort(); /* the cost pass accepted shapes that compute refuses */
        if (mem_track_peak() > cost->bytes)
            abort(); /* the real allocation exceeded the bound */
        if (st == LOSS_OK && result_elements(&res) > cost->output)
            abort();
    }
    loss_result_release(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    fuzz_call fc;
    memset(&fc, 0, sizeof fc);
    loss_call_init(&fc.call, loss_registry_at(next(&r) % loss_registry_count()));
    fc.call.reduction = (loss_reduction)(next(&r) % (LOSS_REDUCE_COUNT + 1));
    fc.call.want_gradient = next(&r) & 1;
    fc.call.dtype = next(&r) & 1 ? LOSS_DTYPE_F32 : LOSS_DTYPE_F64;
    for (size_t i = 0; i < fc.call.desc->n_params; i++) {
        fc.call.param_set[i] = next(&r) & 1;
        fc.call.param[i] = next_param(&r);
    }
    size_t total = 0;
    for (size_t i = 0; i < fc.call.desc->n_inputs; i++) {
        size_t n = build_input(&fc, i, &r);
        total = n > SIZE_MAX - total ? SIZE_MAX : total + n;
    }

    loss_cost cost;
    loss_error err;
    mem_fail_after(0); /* the cost pass must allocate nothing */
    loss_status cst = loss_plan_cost(&fc.call, NULL, &cost, &err);
    mem_fail_reset();
    if (cst == LOSS_ERR_NOMEM)
        abort();
    int runnable = cst != LOSS_ERR_WORK && (cst != LOSS_OK || cost.work <= RUN_MAX_WORK);
    if (runnable && total <= RUN_MAX_ELEMENTS && fill_inputs(&fc, &r) == 0)
        run_and_compare(&fc, &cost, cst);
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++)
        free(fc.buf[i]);
    return 0;
}
