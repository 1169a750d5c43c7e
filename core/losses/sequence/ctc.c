/* ctc: connectionist temporal classification, F.ctc_loss values on log-probs (T, N, C) with
 * padded targets (N, S). One unit per batch item: alpha and beta recursions in log space
 * over the blank-extended target (PyTorch's transition rule), loss -log p. The gradient is
 * the true partial derivative w.r.t. the log-probs, -exp(log(alpha beta) - lp + loss);
 * PyTorch's adds exp(lp) (it assumes a log_softmax upstream). An impossible alignment costs
 * inf, or 0 with zero_infinity; either way its gradient is 0. `mean` is
 * mean_n(loss_n / max(target_length_n, 1)). */
#include <limits.h>
#include <string.h>

#include "mem.h"
#include "rows.h"

enum { IN_PRED, IN_TARGET, IN_INPUT_LEN, IN_TARGET_LEN };
enum { P_BLANK, P_ZERO_INFINITY };

/* At most this many doubles of recursion state per chunk (256 MiB). */
#define CTC_MAX_WORK ((size_t)1 << 25)
/* The recursions poll the cancel hook every this many time steps (a few ms at most). */
#define CTC_POLL_STEPS 64
/* Cost model (loss_plan_cost): work units per cell of a recursion (a log-sum-exp of three
 * terms, an emission load) and per class of a time step (checks, the gradient). */
#define CTC_CELL_UNITS 40
#define CTC_CLASS_UNITS 4
/* log 0, the recursions' "no path": a double (INFINITY is a float constant). */
#define CTC_LOG0 (-(double)INFINITY)

typedef struct {
    size_t T, N, C, S;
    size_t tn, len, ext; /* this item: input length, target length, 2 len + 1 */
    size_t item, blank;
    const int64_t *target; /* this item's row of targets */
    double *alpha;         /* tn x ext */
    double *beta;          /* 2 x ext, rolling */
    double *occ;           /* C: occupancy of each class at one t */
} ctc_item;

static double ctc_lp(const loss_ctx *ctx, const ctc_item *it, size_t t, size_t c)
{
    return loss_load(ctx->in[IN_PRED]->data, ctx->dtype, (t * it->N + it->item) * it->C + c);
}

/* Label s of the blank-extended target: blank, l1, blank, l2, ..., blank. */
static size_t ctc_label(const ctc_item *it, size_t s)
{
    return s % 2 ? (size_t)it->target[s / 2] : it->blank;
}

/* log(e^a + e^b + e^c) without overflow; -inf when all three are. With a the largest this
 * is a + log1p(e^(b-a) + e^(c-a)): two exps at most, none for -inf terms. */
static double ctc_lse3(double a, double b, double c)
{
    double t;
    if (b > a) {
        t = a;
        a = b;
        b = t;
    }
    if (c > a) {
        t = a;
        a = c;
        c = t;
    }
    if (a == CTC_LOG0)
        return CTC_LOG0;
    return a + log1p((b == CTC_LOG0 ? 0.0 : exp(b - a)) + (c == CTC_LOG0 ? 0.0 : exp(c - a)));
}

/* alpha[t][s] for t < tn; returns log p (target | item). */
static double ctc_forward(const loss_ctx *ctx, ctc_item *it)
{
    const size_t E = it->ext;
    double *a = it->alpha;
    for (size_t s = 0; s < E; s++)
        a[s] = s < 2 ? ctc_lp(ctx, it, 0, ctc_label(it, s)) : CTC_LOG0;
    for (size_t t = 1; t < it->tn; t++) {
        if (t % CTC_POLL_STEPS == 0 && loss_cancelled(ctx))
            return CTC_LOG0; /* the caller sees the cancel and drops the item */
        const double *prev = a + (t - 1) * E;
        double *cur = a + t * E;
        for (size_t s = 0; s < E; s++) {
            size_t l = ctc_label(it, s);
            double skip = s > 1 && ctc_label(it, s - 2) != l ? prev[s - 2] : CTC_LOG0;
            cur[s] =
                ctc_lse3(prev[s], s > 0 ? prev[s - 1] : CTC_LOG0, skip) + ctc_lp(ctx, it, t, l);
        }
    }
    const double *last = a + (it->tn - 1) * E;
    return ctc_lse3(last[E - 1], E > 1 ? last[E - 2] : CTC_LOG0, CTC_LOG0);
}

/* beta at t from beta at t + 1 (PyTorch's beta includes the emission at t). */
static void ctc_beta_step(const loss_ctx *ctx, const ctc_item *it, size_t t, const double *next,
                          double *cur)
{
    const size_t E = it->ext;
    for (size_t s = E; s-- > 0;) {
        size_t l = ctc_label(it, s);
        double skip = s + 2 < E && ctc_label(it, s + 2) != l ? next[s + 2] : CTC_LOG0;
        cur[s] =
            ctc_lse3(next[s], s + 1 < E ? next[s + 1] : CTC_LOG0, skip) + ctc_lp(ctx, it, t, l);
    }
}

/* Writes -g * sum_s exp(alpha_t(s) + beta_t(s) - lp[t, c] - log p) for every class at t. */
static void ctc_store_grad(const loss_ctx *ctx, ctc_item *it, size_t t, const double *beta,
                           double logp, double g)
{
    const double *alpha = it->alpha + t * it->ext;
    memset(it->occ, 0, it->C * sizeof *it->occ);
    for (size_t s = 0; s < it->ext; s++) {
        size_t l = ctc_label(it, s);
        it->occ[l] += exp(alpha[s] + beta[s] - ctc_lp(ctx, it, t, l) - logp);
    }
    for (size_t c = 0; c < it->C; c++)
        loss_store(ctx->grad[IN_PRED], ctx->dtype, (t * it->N + it->item) * it->C + c,
                   -g * it->occ[c]);
}

static void ctc_backward(const loss_ctx *ctx, ctc_item *it, double logp, double g)
{
    const size_t E = it->ext;
    double *next = it->beta, *cur = it->beta + E;
    for (size_t s = 0; s < E; s++)
        next[s] = s + 2 >= E ? ctc_lp(ctx, it, it->tn - 1, ctc_label(it, s)) : CTC_LOG0;
    ctc_store_grad(ctx, it, it->tn - 1, next, logp, g);
    for (size_t t = it->tn - 1; t-- > 0;) {
        if (t % CTC_POLL_STEPS == 0 && loss_cancelled(ctx))
            return;
        ctc_beta_step(ctx, it, t, next, cur);
        ctc_store_grad(ctx, it, t, cur, logp, g);
        double *swap = next;
        next = cur;
        cur = swap;
    }
}

/* Zeroes the item's gradient rows from time t0 on (padding, or a constant loss). */
static void ctc_zero_grad(const loss_ctx *ctx, const ctc_item *it, size_t t0)
{
    for (size_t t = t0; ctx->grad[IN_PRED] && t < it->T; t++)
        for (size_t c = 0; c < it->C; c++)
            loss_store(ctx->grad[IN_PRED], ctx->dtype, (t * it->N + it->item) * it->C + c, 0.0);
}

/* Checks the item's lengths, its targets within the length and its log-probs; sets tn, len. */
static int ctc_check(const loss_ctx *ctx, ctc_item *it, loss_partial *part)
{
    const size_t n = it->item;
    int64_t tn = loss_index(ctx->in[IN_INPUT_LEN], n), len = loss_index(ctx->in[IN_TARGET_LEN], n);
    if (tn < 0 || (uint64_t)tn > it->T)
        return loss_partial_fail(part, LOSS_ERR_DOMAIN, IN_INPUT_LEN, n, (double)tn,
                                 "is outside [0, T]");
    if (len < 0 || (uint64_t)len > it->S)
        return loss_partial_fail(part, LOSS_ERR_DOMAIN, IN_TARGET_LEN, n, (double)len,
                                 "is outside [0, S]");
    it->tn = (size_t)tn;
    it->len = (size_t)len;
    it->ext = 2 * it->len + 1;
    it->target = (const int64_t *)ctx->in[IN_TARGET]->data + n * it->S;
    for (size_t s = 0; s < it->len; s++)
        if (it->target[s] < 0 || (uint64_t)it->target[s] >= it->C)
            return loss_partial_fail(part, LOSS_ERR_DOMAIN, IN_TARGET, n * it->S + s,
                                     (double)it->target[s], "is not a class index in [0, C)");
    for (size_t t = 0; t < it->T; t++) {
        size_t base = (t * it->N + n) * it->C;
        if (rows_fail_non_finite(ctx, IN_PRED, base, base + it->C, part))
            return 1;
    }
    return 0;
}

/* The loss of one checked item, its gradient scaled by g (see the file comment). */
static double ctc_item_loss(const loss_ctx *ctx, ctc_item *it, double g)
{
    double logp = it->tn > 0 ? ctc_forward(ctx, it) : it->len == 0 ? 0.0 : CTC_LOG0;
    int infinite = logp == CTC_LOG0;
    if (ctx->grad[IN_PRED] && !infinite && it->tn > 0)
        ctc_backward(ctx, it, logp, g);
    ctc_zero_grad(ctx, it, infinite ? 0 : it->tn);
    if (infinite)
        return ctx->param[P_ZERO_INFINITY] != 0.0 ? 0.0 : (double)INFINITY;
    return -logp;
}

static void ctc_items(const loss_ctx *ctx, size_t begin, size_t end, ctc_item *it,
                      loss_partial *part)
{
    const int mean = ctx->reduction == LOSS_REDUCE_MEAN;
    loss_acc acc = {0, 0};
    for (size_t n = begin; n < end; n++) {
        it->item = n;
        if (ctc_check(ctx, it, part))
            return;
        double w = mean ? 1.0 / (double)(it->len > 0 ? it->len : 1) : 1.0;
        double l = ctc_item_loss(ctx, it, ctx->scale[0] * w);
        if (loss_cancelled(ctx)) {
            part->status = LOSS_ERR_CANCELLED;
            return;
        }
        loss_acc_add(&acc, l * w);
        if (ctx->values[0])
            loss_store(ctx->values[0], ctx->dtype, n, l);
    }
    part->sum[0] = loss_acc_value(&acc);
}

static void ctc_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const tensor *lp = ctx->in[IN_PRED];
    ctc_item it = {.T = lp->shape[0],
                   .N = lp->shape[1],
                   .C = lp->shape[2],
                   .S = ctx->in[IN_TARGET]->shape[1],
                   .blank = (size_t)ctx->param[P_BLANK]};
    const size_t ext = 2 * it.S + 1; /* plan bounded T * ext + 2 ext + C */
    double *work = mem_alloc_array(it.T * ext + 2 * ext + it.C, sizeof(double));
    if (work == NULL) {
        loss_partial_fail(part, LOSS_ERR_NOMEM, IN_PRED, 0, 0.0,
                          "could not be processed: out of memory");
        return;
    }
    it.alpha = work;
    it.beta = work + it.T * ext;
    it.occ = it.beta + 2 * ext;
    ctc_items(ctx, begin, end, &it, part);
    mem_free(work);
}

static loss_status ctc_plan_shapes(loss_ctx *ctx, loss_error *err)
{
    const tensor *lp = ctx->in[IN_PRED], *tg = ctx->in[IN_TARGET];
    if (lp->rank != 3 || lp->shape[2] == 0)
        return rows_shape_error(ctx, IN_PRED, err, "expected (T, N, C) with C >= 1");
    const size_t N = lp->shape[1];
    if (tg->rank != 2 || tg->shape[0] != N) {
        char rule[64];
        snprintf(rule, sizeof rule, "expected (%zu, S)", N);
        return rows_shape_error(ctx, IN_TARGET, err, rule);
    }
    loss_status st = rows_vector(ctx, IN_INPUT_LEN, N, err);
    return st != LOSS_OK ? st : rows_vector(ctx, IN_TARGET_LEN, N, err);
}

/* predictions (T, N, C), targets (N, S), input_lengths and target_lengths (N); `none`
 * gives (N). Bounds the per-chunk recursion state. */
static loss_status ctc_plan(loss_ctx *ctx, loss_error *err)
{
    loss_status st = ctc_plan_shapes(ctx, err);
    if (st != LOSS_OK)
        return st;
    const tensor *lp = ctx->in[IN_PRED];
    const size_t T = lp->shape[0], N = lp->shape[1], C = lp->shape[2];
    const size_t S = ctx->in[IN_TARGET]->shape[1];
    if (ctx->param[P_BLANK] >= (double)C)
        return loss_error_set(err, LOSS_ERR_PARAM, "blank", "blank must be < C (%zu)", C);
    size_t ext, work;
    if (S > SIZE_MAX / 4 || __builtin_mul_overflow(T + 2, ext = 2 * S + 1, &work) ||
        __builtin_add_overflow(work, C, &work) || work > CTC_MAX_WORK)
        return loss_error_set(err, LOSS_ERR_LIMIT, "predictions",
                              "T = %zu with S = %zu targets is too long a sequence", T, S);
    ctx->n_units = N;
    ctx->unit_cost = rows_cost(T, ext + C);
    ctx->unit_work = rows_cost(T, rows_cost(ext, CTC_CELL_UNITS * (ctx->want_gradient ? 2 : 1)) +
                                      rows_cost(C, CTC_CLASS_UNITS));
    ctx->chunk_bytes = work * sizeof(double); /* ctc_chunk's recursion state */
    ctx->term_rank[0] = 1;
    ctx->term_shape[0][0] = N;
    ctx->denom[0] = (double)N;
    return LOSS_OK;
}

static const loss_input_desc ctc_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(" log-probabilities", LOSS_DIMS(LOSS_N(T), LOSS_N(N), LOSS_N(C)))},
    {"targets", LOSS_IN_INDEX, 0,
     LOSS_RULE(" class indices, padded", LOSS_DIMS(LOSS_N(N), LOSS_N(S)))},
    {"input_lengths", LOSS_IN_INDEX, 0, LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(N)))},
    {"target_lengths", LOSS_IN_INDEX, 0, LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(N)))},
};

static const loss_param_desc ctc_params[] = {
    {"blank", LOSS_PARAM_INT, 0.0, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
    {"zero_infinity", LOSS_PARAM_BOOL, 0.0, 0, 0, 0, NULL, 0},
};

const loss_desc loss_desc_ctc = {
    .name = "ctc",
    .aliases = (const char *const[]){"CTCLoss", NULL},
    .family = "sequence",
    .reference = "torch.nn.functional.ctc_loss values; gradient = true partial w.r.t. "
                 "log_probs (PyTorch's adds exp(log_probs))",
    .inputs = ctc_inputs,
    .n_inputs = 4,
    .params = ctc_params,
    .n_params = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = ctc_plan,
    .chunk = ctc_chunk,
};
