/* wgan_critic: the Wasserstein critic loss mean(fake) - mean(real), as two terms: real
 * contributes -real, fake contributes fake, each averaged over its own tensor. */
#include "gan_pointwise.h"

static void real_term(double x, double *l, double *g)
{
    *l = -x;
    *g = -1.0;
}

static void fake_term(double x, double *l, double *g)
{
    *l = x;
    *g = 1.0;
}

static void wgan_critic_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    static const gan_pointwise_fn fns[2] = {real_term, fake_term};
    gan_pointwise_run(ctx, begin, end, part, fns);
}

static loss_status wgan_critic_plan(loss_ctx *ctx, loss_error *err)
{
    (void)err;
    return gan_pointwise_plan(ctx, 2);
}

static const loss_input_desc wgan_critic_inputs[] = {
    {"real", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(" (critic outputs on real samples)", LOSS_ANY)},
    {"fake", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(" (critic outputs on generated samples)", LOSS_ANY)},
};

const loss_desc loss_desc_wgan_critic = {
    .name = "wgan_critic",
    .family = "gan",
    .reference = "WGAN critic: mean(fake) - mean(real)",
    .inputs = wgan_critic_inputs,
    .n_inputs = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_PER_TERM | LOSS_FLAG_DENSE,
    .term_names = {"real", "fake"},
    .plan = wgan_critic_plan,
    .chunk = wgan_critic_chunk,
};
