/* gan_discriminator: the minimax discriminator loss -log D(x) - log(1 - D(G(z))), i.e.
 * BCE(real, 1) + BCE(fake, 0) on probabilities (logs clamped at -100), or
 * softplus(-real) + softplus(fake) on logits. Two terms, each averaged over its own tensor;
 * work units are the real elements followed by the fake ones. */
#include "gan_terms.h"
#include "loss_kernel.h"

enum { IN_REAL, IN_FAKE };
enum { P_FROM_LOGITS };

static void gan_d_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const size_t n_real = ctx->in[IN_REAL]->count;
    const int logits = ctx->param[P_FROM_LOGITS] != 0.0;
    if (begin < n_real) {
        size_t stop = end < n_real ? end : n_real;
        if (logits)
            gan_term_run(ctx, IN_REAL, 0, begin, stop, part, gan_logit_minus_log, 0);
        else
            gan_term_run(ctx, IN_REAL, 0, begin, stop, part, gan_prob_minus_log, 0);
    }
    if (part->status != LOSS_OK || end <= n_real)
        return;
    size_t start = (begin > n_real ? begin : n_real) - n_real;
    if (logits)
        gan_term_run(ctx, IN_FAKE, 1, start, end - n_real, part, gan_logit_minus_log1m, 0);
    else
        gan_term_run(ctx, IN_FAKE, 1, start, end - n_real, part, gan_prob_minus_log1m, 0);
}

static loss_status gan_d_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *real = ctx->in[IN_REAL], *fake = ctx->in[IN_FAKE];
    if (__builtin_add_overflow(real->count, fake->count, &ctx->n_units))
        return loss_error_set(err, LOSS_ERR_LIMIT, "fake", "real and fake are too large");
    ctx->unit_cost = 1;
    ctx->unit_work = LOSS_WORK_PER_ELEMENT;
    ctx->n_terms = 2;
    loss_plan_term_shape(ctx, 0, real);
    loss_plan_term_shape(ctx, 1, fake);
    ctx->denom[0] = (double)real->count;
    ctx->denom[1] = (double)fake->count;
    /* The mean adds two means: if either averages nothing the whole is a mean over nothing
     * (NaN, or 0 with empty_mean), and like any such mean it has a zero gradient. */
    if (ctx->reduction == LOSS_REDUCE_MEAN && (real->count == 0 || fake->count == 0))
        ctx->denom[0] = ctx->denom[1] = 0.0;
    return LOSS_OK;
}

static const loss_input_desc gan_d_inputs[] = {
    {"real", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE("; D(x), probabilities unless from_logits", LOSS_ANY)},
    {"fake", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE("; D(G(z)), probabilities unless from_logits", LOSS_ANY)},
};

static const loss_param_desc gan_d_params[] = {
    {"from_logits", LOSS_PARAM_BOOL, 0.0, 0, 0.0, 0.0, NULL, 0},
};

const loss_desc loss_desc_gan_discriminator = {
    .name = "gan_discriminator",
    .family = "gan",
    .reference = "minimax GAN (Goodfellow et al. 2014): -log D(x) - log(1 - D(G(z))) = "
                 "F.binary_cross_entropy(real, 1) + F.binary_cross_entropy(fake, 0); "
                 "from_logits: softplus(-real) + softplus(fake)",
    .inputs = gan_d_inputs,
    .n_inputs = 2,
    .params = gan_d_params,
    .n_params = 1,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_PER_TERM | LOSS_FLAG_DENSE,
    .term_names = {"real", "fake"},
    .plan = gan_d_plan,
    .chunk = gan_d_chunk,
};
