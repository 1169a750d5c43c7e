/* wgan_generator: the Wasserstein generator loss -mean(fake), one term. */
#include "gan_pointwise.h"

static void fake_term(double x, double *l, double *g)
{
    *l = -x;
    *g = -1.0;
}

static void wgan_generator_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    static const gan_pointwise_fn fns[2] = {fake_term, NULL};
    gan_pointwise_run(ctx, begin, end, part, fns);
}

static loss_status wgan_generator_plan(loss_ctx *ctx, loss_error *err)
{
    (void)err;
    return gan_pointwise_plan(ctx, 1);
}

static const loss_input_desc wgan_generator_inputs[] = {
    {"fake", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(" (critic outputs on generated samples)", LOSS_ANY)},
};

const loss_desc loss_desc_wgan_generator = {
    .name = "wgan_generator",
    .family = "gan",
    .reference = "WGAN generator: -mean(fake)",
    .inputs = wgan_generator_inputs,
    .n_inputs = 1,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = wgan_generator_plan,
    .chunk = wgan_generator_chunk,
};
