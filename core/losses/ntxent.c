/* ntxent: NT-Xent (SimCLR). The 2N rows of [x1; x2] are normalised as F.cosine_similarity
 * does (norm clamped at 1e-8); S = Z Z^T / tau comes from one OpenBLAS GEMM in plan. A unit
 * is a row r of S: loss -log softmax of its positive (r + N mod 2N) over the row without the
 * diagonal; the chunk then overwrites row r with d loss / d S[r, :]. finish turns those into
 * gradients with a second GEMM, (G + G^T) Z / tau, and back through the normalisation.
 * OpenBLAS runs single-threaded (the pool owns parallelism), so results are deterministic. */
#include <cblas.h>
#include <limits.h>
#include <pthread.h>

#include "../mem.h"
#include "rows.h"

/* Declared by OpenBLAS's cblas.h, but not by every cblas.h. */
void openblas_set_num_threads(int num_threads);

enum { IN_X1, IN_X2 };
enum { P_TEMPERATURE };

#define NTX_NORM_EPS 1e-8
/* At most this many entries in the 2N x 2N similarity matrix (1 GiB of doubles). */
#define NTX_MAX_SIM ((size_t)1 << 27)

typedef struct {
    size_t rows, dim; /* 2N, D */
    double *z;        /* rows x dim: normalised rows */
    double *norm;     /* rows: unclamped norms */
    double *s;        /* rows x rows: Z Z^T, then (chunks) d loss / d S */
    double *dz;       /* rows x dim: d loss / d Z, when a gradient is wanted */
} ntx_scratch;

static pthread_once_t ntx_blas_once = PTHREAD_ONCE_INIT;

static void ntx_blas_single_thread(void)
{
    openblas_set_num_threads(1);
}

/* Row r of [x1; x2] as doubles into z, normalised; its norm into *norm. */
static void ntx_load_row(const loss_ctx *ctx, size_t r, ntx_scratch *sc)
{
    const size_t N = sc->rows / 2, D = sc->dim;
    const tensor *src = ctx->in[r < N ? IN_X1 : IN_X2];
    const size_t base = (r < N ? r : r - N) * D;
    double *z = sc->z + r * D, ss = 0.0;
    for (size_t k = 0; k < D; k++) {
        z[k] = loss_load(src->data, ctx->dtype, base + k);
        ss += z[k] * z[k];
    }
    double n = sqrt(ss), c = n > NTX_NORM_EPS ? n : NTX_NORM_EPS;
    for (size_t k = 0; k < D; k++)
        z[k] /= c;
    sc->norm[r] = n;
}

static void *ntx_alloc(size_t a, size_t b, int *failed)
{
    void *p = mem_alloc_array(a ? a : 1, (b ? b : 1) * sizeof(double));
    *failed |= p == NULL;
    return p;
}

static loss_status ntx_alloc_scratch(loss_ctx *ctx, size_t N, size_t D, loss_error *err)
{
    size_t rows = 2 * N, sim;
    if (N > (size_t)INT_MAX / 2 || D > (size_t)INT_MAX ||
        __builtin_mul_overflow(rows, rows, &sim) || sim > NTX_MAX_SIM)
        return loss_error_set(err, LOSS_ERR_LIMIT, "x1",
                              "x1 has %zu rows: the %zu x %zu similarity matrix is too large", N,
                              rows, rows);
    ntx_scratch *sc = mem_calloc(1, sizeof *sc);
    if (sc == NULL)
        return loss_error_set(err, LOSS_ERR_NOMEM, "", "out of memory");
    ctx->scratch = sc;
    int failed = 0;
    *sc = (ntx_scratch){rows,
                        D,
                        ntx_alloc(rows, D, &failed),
                        ntx_alloc(rows, 1, &failed),
                        ntx_alloc(rows, rows, &failed),
                        NULL};
    if (ctx->want_gradient)
        sc->dz = ntx_alloc(rows, D, &failed);
    return failed ? loss_error_set(err, LOSS_ERR_NOMEM, "", "out of memory") : LOSS_OK;
}

/* x1 and x2 (N, D) of one shape; `none` gives (2N): rows of x1, then rows of x2. */
static loss_status ntx_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *x1 = ctx->in[IN_X1];
    if (x1->rank != 2)
        return rows_shape_error(ctx, IN_X1, err, "expected (N, D)");
    loss_status st = rows_same_shape(ctx, IN_X2, IN_X1, err);
    if (st == LOSS_OK)
        st = rows_plan_finite(ctx, IN_X1, err);
    if (st == LOSS_OK)
        st = rows_plan_finite(ctx, IN_X2, err);
    if (st == LOSS_OK)
        st = ntx_alloc_scratch(ctx, x1->shape[0], x1->shape[1], err);
    if (st != LOSS_OK)
        return st;
    ntx_scratch *sc = ctx->scratch;
    for (size_t r = 0; r < sc->rows; r++)
        ntx_load_row(ctx, r, sc);
    if (sc->rows > 0) {
        const int n = (int)sc->rows, d = (int)sc->dim, ld = d > 0 ? d : 1;
        pthread_once(&ntx_blas_once, ntx_blas_single_thread);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, d, 1.0, sc->z, ld, sc->z, ld,
                    0.0, sc->s, n);
    }
    ctx->n_units = sc->rows;
    ctx->unit_cost = rows_cost(sc->rows, 4);
    ctx->term_rank[0] = 1;
    ctx->term_shape[0][0] = sc->rows;
    ctx->denom[0] = (double)sc->rows;
    return LOSS_OK;
}

/* Loss of row r; with grad, replaces S[r, :] by scale * (softmax - onehot(pos)), 0 at r. */
static double ntx_row(const loss_ctx *ctx, ntx_scratch *sc, size_t r, int grad)
{
    const size_t n = sc->rows, pos = (r + n / 2) % n;
    const double tau = ctx->param[P_TEMPERATURE];
    double *row = sc->s + r * n, m = -INFINITY;
    for (size_t k = 0; k < n; k++)
        if (k != r && row[k] / tau > m)
            m = row[k] / tau;
    const double spos = row[pos] / tau;
    loss_acc sum = {0, 0};
    for (size_t k = 0; k < n; k++) {
        row[k] = k == r ? 0.0 : exp(row[k] / tau - m);
        loss_acc_add(&sum, row[k]);
    }
    const double total = loss_acc_value(&sum), g = ctx->scale[0];
    for (size_t k = 0; grad && k < n; k++)
        row[k] = g * (row[k] / total - (k == pos ? 1.0 : 0.0));
    if (grad)
        row[r] = 0.0;
    return m + log(total) - spos;
}

static void ntx_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    ntx_scratch *sc = ctx->scratch;
    const int grad = ctx->grad[IN_X1] != NULL || ctx->grad[IN_X2] != NULL;
    loss_acc acc = {0, 0};
    for (size_t r = begin; r < end; r++) {
        double l = ntx_row(ctx, sc, r, grad);
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], ctx->dtype, r, l);
    }
    part->sum[0] = loss_acc_value(&acc);
}

/* d/dz of zn = z / max(|z|, eps): (dzn - zn (zn . dzn)) / |z| above eps, dzn / eps below. */
static void ntx_unnormalise(const loss_ctx *ctx, const ntx_scratch *sc, size_t r)
{
    const size_t N = sc->rows / 2, D = sc->dim, base = (r < N ? r : r - N) * D;
    const double *zn = sc->z + r * D, *dzn = sc->dz + r * D, tau = ctx->param[P_TEMPERATURE];
    void *out = ctx->grad[r < N ? IN_X1 : IN_X2];
    const double n = sc->norm[r];
    double dot = 0.0;
    if (out == NULL)
        return;
    for (size_t k = 0; n >= NTX_NORM_EPS && k < D; k++)
        dot += zn[k] * dzn[k];
    const double c = n >= NTX_NORM_EPS ? n : NTX_NORM_EPS;
    for (size_t k = 0; k < D; k++)
        loss_store(out, ctx->dtype, base + k, (dzn[k] / tau - zn[k] * dot / tau) / c);
}

static loss_status ntx_finish(loss_ctx *ctx, loss_error *err)
{
    (void)err;
    ntx_scratch *sc = ctx->scratch;
    if (sc->dz == NULL || sc->rows == 0)
        return LOSS_OK;
    const size_t n = sc->rows;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            sc->s[i * n + j] = sc->s[j * n + i] = sc->s[i * n + j] + sc->s[j * n + i];
    const int ni = (int)n, d = (int)sc->dim, ld = d > 0 ? d : 1;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, d, ni, 1.0, sc->s, ni, sc->z, ld,
                0.0, sc->dz, ld);
    for (size_t r = 0; r < n; r++)
        ntx_unnormalise(ctx, sc, r);
    return LOSS_OK;
}

static void ntx_release(loss_ctx *ctx)
{
    ntx_scratch *sc = ctx->scratch;
    if (sc == NULL)
        return;
    mem_free(sc->z);
    mem_free(sc->norm);
    mem_free(sc->s);
    mem_free(sc->dz);
    mem_free(sc);
    ctx->scratch = NULL;
}

static const loss_input_desc ntx_inputs[] = {
    {"x1", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, "(N, D)"},
    {"x2", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, "(N, D): row i is x1 row i's positive"},
};

static const loss_param_desc ntx_params[] = {
    {"temperature", LOSS_PARAM_FLOAT, 0.07, LOSS_PARAM_HAS_MIN | LOSS_PARAM_MIN_EXCLUSIVE, 0.0, 0.0,
     NULL, 0},
};

const loss_desc loss_desc_ntxent = {
    .name = "ntxent",
    .family = "embedding",
    .reference = "NT-Xent (SimCLR): -log softmax of each positive over its row of the 2N x 2N "
                 "cosine-similarity matrix / temperature, diagonal excluded, mean over 2N rows",
    .inputs = ntx_inputs,
    .n_inputs = 2,
    .params = ntx_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = ntx_plan,
    .chunk = ntx_chunk,
    .finish = ntx_finish,
    .release = ntx_release,
};
