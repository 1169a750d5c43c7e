/* gan_generator: the minimax generator loss on the discriminator's outputs for generated
 * samples: non-saturating -log D(G(z)) (default) or saturating log(1 - D(G(z))), on
 * probabilities (logs clamped at -100, as BCE does) or, with from_logits, on logits through
 * softplus. One term, averaged over `fake`. */
#include "gan_terms.h"
#include "loss_kernel.h"

enum { IN_FAKE };
enum { P_FROM_LOGITS, P_SATURATING };

static void gan_g_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    const int logits = ctx->param[P_FROM_LOGITS] != 0.0;
    /* log(1 - D) = -BCE(D, 0): the saturating form is the negated -log(1 - D) term. */
    if (ctx->param[P_SATURATING] != 0.0) {
        if (logits)
            gan_term_run(ctx, IN_FAKE, 0, begin, end, part, gan_logit_minus_log1m, 1);
        else
            gan_term_run(ctx, IN_FAKE, 0, begin, end, part, gan_prob_minus_log1m, 1);
    } else if (logits) {
        gan_term_run(ctx, IN_FAKE, 0, begin, end, part, gan_logit_minus_log, 0);
    } else {
        gan_term_run(ctx, IN_FAKE, 0, begin, end, part, gan_prob_minus_log, 0);
    }
}

static loss_status gan_g_plan(loss_ctx *ctx, loss_error *err)
{
    return loss_plan_elementwise(ctx, err, -1, 0);
}

static const loss_input_desc gan_g_inputs[] = {
    {"fake", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE("; D(G(z)), probabilities unless from_logits", LOSS_ANY)},
};

static const loss_param_desc gan_g_params[] = {
    {"from_logits", LOSS_PARAM_BOOL, 0.0, 0, 0.0, 0.0, NULL, 0},
    {"saturating", LOSS_PARAM_BOOL, 0.0, 0, 0.0, 0.0, NULL, 0},
};

const loss_desc loss_desc_gan_generator = {
    .name = "gan_generator",
    .family = "gan",
    .reference = "minimax GAN (Goodfellow et al. 2014): -log D(G(z)) = "
                 "F.binary_cross_entropy(fake, 1); saturating: log(1 - D(G(z))) = "
                 "-F.binary_cross_entropy(fake, 0); from_logits: softplus(-fake) or "
                 "-softplus(fake)",
    .inputs = gan_g_inputs,
    .n_inputs = 1,
    .params = gan_g_params,
    .n_params = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = gan_g_plan,
    .chunk = gan_g_chunk,
};
