/* lsgan_discriminator: least-squares GAN discriminator loss
 * 0.5 mean((real - 1)^2) + 0.5 mean(fake^2), as two terms each averaged over its tensor. */
#include "gan_pointwise.h"

static void real_term(double x, double *l, double *g)
{
    double d = x - 1.0;
    *l = 0.5 * d * d;
    *g = d;
}

static void fake_term(double x, double *l, double *g)
{
    *l = 0.5 * x * x;
    *g = x;
}

static void lsgan_discriminator_chunk(const loss_ctx *ctx, size_t begin, size_t end,
                                      loss_partial *part)
{
    static const gan_pointwise_fn fns[2] = {real_term, fake_term};
    gan_pointwise_run(ctx, begin, end, part, fns);
}

static loss_status lsgan_discriminator_plan(loss_ctx *ctx, loss_error *err)
{
    (void)err;
    return gan_pointwise_plan(ctx, 2);
}

static const loss_input_desc lsgan_discriminator_inputs[] = {
    {"real", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(" (discriminator outputs on real samples)", LOSS_ANY)},
    {"fake", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(" (discriminator outputs on generated samples)", LOSS_ANY)},
};

const loss_desc loss_desc_lsgan_discriminator = {
    .name = "lsgan_discriminator",
    .family = "gan",
    .reference = "LSGAN discriminator: 0.5*mean((real-1)^2) + 0.5*mean(fake^2)",
    .inputs = lsgan_discriminator_inputs,
    .n_inputs = 2,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_PER_TERM | LOSS_FLAG_DENSE,
    .term_names = {"real", "fake"},
    .plan = lsgan_discriminator_plan,
    .chunk = lsgan_discriminator_chunk,
};
