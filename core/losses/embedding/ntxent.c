/* ntxent: NT-Xent (SimCLR). The 2N rows of [x1; x2] are normalised as F.cosine_similarity
 * does (norm clamped at 1e-8) in plan. A unit is a block of NTX_BLOCK rows of
 * S = Z Z^T / tau: the chunk computes the block with an OpenBLAS GEMM, each row's loss
 * -log softmax of its positive (r + N mod 2N) over the row without the diagonal, and, for
 * the gradient, G = d loss / d S in place plus G Z for its own rows (a second GEMM). finish
 * adds G^T Z (the column half; one GEMM over the whole G) and goes back through the
 * normalisation. OpenBLAS runs on one thread (core_init; the pool owns parallelism); block
 * boundaries depend only on the problem, so results are identical for any worker count. */
#include <cblas.h>
#include <limits.h>

#include "mem.h"
#include "rows.h"

enum { IN_X1, IN_X2 };
enum { P_TEMPERATURE };

#define NTX_NORM_EPS 1e-8
#define NTX_BLOCK 64
/* At most this many entries in the 2N x 2N similarity matrix (1 GiB of doubles). */
#define NTX_MAX_SIM ((size_t)1 << 27)
/* Cost model (loss_plan_cost): a single-threaded dgemm does several multiply-adds per
 * nanosecond, an exp and a softmax step cost a few. */
#define NTX_GEMM_PER_UNIT 2
#define NTX_FINISH_BLOCK 512
#define NTX_EXP_UNITS 16

typedef struct {
    size_t rows, dim; /* 2N, D */
    int ld;           /* leading dimension of z and dz: max(D, 1) */
    double *z;        /* rows x dim: normalised rows */
    double *norm;     /* rows: unclamped norms */
    double *g;        /* rows x rows: d loss / d (S/tau), when a gradient is wanted */
    double *dz;       /* rows x dim: G Z, then (G + G^T) Z, when a gradient is wanted */
} ntx_scratch;

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

/* Bytes of the scratch ntx_alloc_scratch allocates (rows and sim already bounded). */
static size_t ntx_scratch_bytes(size_t rows, size_t D, int grad)
{
    size_t r = rows ? rows : 1, d = D ? D : 1, doubles = r * d + r;
    if (grad)
        doubles += r * r + r * d;
    return sizeof(ntx_scratch) + doubles * sizeof(double);
}

static loss_status ntx_alloc_scratch(loss_ctx *ctx, size_t N, size_t D, loss_error *err)
{
    size_t rows = 2 * N, sim;
    if (N > (size_t)INT_MAX / 2 || D > (size_t)INT_MAX ||
        __builtin_mul_overflow(rows, rows, &sim) || sim > NTX_MAX_SIM)
        return loss_error_set(err, LOSS_ERR_LIMIT, "x1",
                              "x1 has %zu rows: the %zu x %zu similarity matrix is too large", N,
                              rows, rows);
    ctx->plan_bytes = ntx_scratch_bytes(rows, D, ctx->want_gradient);
    /* Without a gradient each chunk holds its block of similarities. */
    ctx->chunk_bytes = ctx->want_gradient ? 0 : NTX_BLOCK * (rows ? rows : 1) * sizeof(double);
    if (ctx->plan_only)
        return LOSS_OK;
    ntx_scratch *sc = mem_calloc(1, sizeof *sc);
    if (sc == NULL)
        return loss_error_set(err, LOSS_ERR_NOMEM, "", "out of memory");
    ctx->scratch = sc;
    int failed = 0;
    sc->rows = rows;
    sc->dim = D;
    sc->ld = D > 0 ? (int)D : 1;
    sc->z = ntx_alloc(rows, D, &failed);
    sc->norm = ntx_alloc(rows, 1, &failed);
    if (ctx->want_gradient) {
        sc->g = ntx_alloc(rows, rows, &failed);
        sc->dz = ntx_alloc(rows, D, &failed);
    }
    return failed ? loss_error_set(err, LOSS_ERR_NOMEM, "", "out of memory") : LOSS_OK;
}

/* Work units of one block of NTX_BLOCK rows: its GEMM (and, with a gradient, its share of
 * the two more), at NTX_GEMM_PER_UNIT multiply-adds per unit, plus an exp per similarity. */
static size_t ntx_unit_work(size_t rows, size_t dim, int grad)
{
    size_t madds = rows_cost(rows_cost(NTX_BLOCK, rows), dim ? dim : 1);
    size_t gemm = rows_cost(madds / NTX_GEMM_PER_UNIT + 1, grad ? 3 : 1);
    size_t exps = rows_cost(rows_cost(NTX_BLOCK, rows), NTX_EXP_UNITS);
    return gemm + exps < gemm ? SIZE_MAX : gemm + exps;
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
    const size_t rows = 2 * x1->shape[0], dim = x1->shape[1];
    ctx->n_units = (rows + NTX_BLOCK - 1) / NTX_BLOCK;
    ctx->unit_cost = rows_cost(rows_cost(NTX_BLOCK, rows), dim + 4);
    ctx->unit_work = ntx_unit_work(rows, dim, ctx->want_gradient);
    ctx->term_rank[0] = 1;
    ctx->term_shape[0][0] = rows;
    ctx->denom[0] = (double)rows;
    if (ctx->plan_only)
        return LOSS_OK;
    ntx_scratch *sc = ctx->scratch;
    for (size_t r = 0; r < sc->rows; r++)
        ntx_load_row(ctx, r, sc);
    return LOSS_OK;
}

/* Loss of row r from its similarities; with grad, replaces them by
 * scale * (softmax - onehot(pos)), 0 on the diagonal. */
static double ntx_row(const loss_ctx *ctx, double *row, size_t n, size_t r, int grad)
{
    const size_t pos = (r + n / 2) % n;
    const double tau = ctx->param[P_TEMPERATURE];
    double m = -(double)INFINITY;
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

/* Rows [r0, r1): similarities into buf (GEMM), losses, and with a gradient G Z for them. */
static double ntx_block(const loss_ctx *ctx, ntx_scratch *sc, size_t r0, size_t r1, double *buf)
{
    const int n = (int)sc->rows, m = (int)(r1 - r0), d = (int)sc->dim;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, d, 1.0, sc->z + r0 * sc->dim, sc->ld,
                sc->z, sc->ld, 0.0, buf, n);
    loss_acc acc = {0, 0};
    for (size_t r = r0; r < r1; r++) {
        double l = ntx_row(ctx, buf + (r - r0) * sc->rows, sc->rows, r, sc->g != NULL);
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], ctx->dtype, r, l);
    }
    if (sc->g)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, d, n, 1.0, buf, n, sc->z, sc->ld,
                    0.0, sc->dz + r0 * sc->dim, sc->ld);
    return loss_acc_value(&acc);
}

static void ntx_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    ntx_scratch *sc = ctx->scratch;
    double *tmp = NULL;
    if (sc->g == NULL && (tmp = mem_alloc_array(NTX_BLOCK, sc->rows * sizeof *tmp)) == NULL) {
        loss_partial_fail(part, LOSS_ERR_NOMEM, IN_X1, 0, 0.0,
                          "could not be processed: out of memory");
        return;
    }
    loss_acc acc = {0, 0};
    for (size_t b = begin; b < end; b++) {
        size_t r0 = b * NTX_BLOCK, r1 = r0 + NTX_BLOCK < sc->rows ? r0 + NTX_BLOCK : sc->rows;
        if (loss_cancelled(ctx)) {
            part->status = LOSS_ERR_CANCELLED;
            break;
        }
        loss_acc_add(&acc, ntx_block(ctx, sc, r0, r1, sc->g ? sc->g + r0 * sc->rows : tmp));
    }
    part->sum[0] = loss_acc_value(&acc);
    mem_free(tmp);
}

/* d/dz of zn = z / max(|z|, eps): (dzn - zn (zn . dzn)) / |z| above eps, dzn / eps below,
 * with dzn = (G + G^T) Z / tau. */
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

/* dz += G^T Z, by blocks of output rows so that a cancelled call stops between blocks (the
 * whole product can take minutes at the largest N and D). */
static loss_status ntx_finish(loss_ctx *ctx, loss_error *err)
{
    ntx_scratch *sc = ctx->scratch;
    if (sc->g == NULL || sc->rows == 0)
        return LOSS_OK;
    const int n = (int)sc->rows, d = (int)sc->dim;
    for (int r0 = 0; r0 < n; r0 += NTX_FINISH_BLOCK) {
        const int m = n - r0 < NTX_FINISH_BLOCK ? n - r0 : NTX_FINISH_BLOCK;
        if (loss_cancelled(ctx))
            return loss_error_set(err, LOSS_ERR_CANCELLED, "",
                                  "the computation was stopped before it finished");
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, d, n, 1.0, sc->g + r0, n, sc->z,
                    sc->ld, 1.0, sc->dz + (size_t)r0 * sc->dim, sc->ld);
    }
    for (size_t r = 0; r < sc->rows; r++)
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
    mem_free(sc->g);
    mem_free(sc->dz);
    mem_free(sc);
    ctx->scratch = NULL;
}

static const loss_input_desc ntx_inputs[] = {
    {"x1", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(N), LOSS_N(D)))},
    {"x2", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(": row i is x1 row i's positive", LOSS_DIMS(LOSS_N(N), LOSS_N(D)))},
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
