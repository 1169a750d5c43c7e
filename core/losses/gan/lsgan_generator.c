/* lsgan_generator: least-squares GAN generator loss 0.5 mean((fake - 1)^2), one term. */
#include "gan_pointwise.h"

static void fake_term(double x, double *l, double *g)
{
    double d = x - 1.0;
    *l = 0.5 * d * d;
    *g = d;
}

static void lsgan_generator_chunk(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part)
{
    static const gan_pointwise_fn fns[2] = {fake_term, NULL};
    gan_pointwise_run(ctx, begin, end, part, fns);
}

static loss_status lsgan_generator_plan(loss_ctx *ctx, loss_error *err)
{
    (void)err;
    return gan_pointwise_plan(ctx, 1);
}

static const loss_input_desc lsgan_generator_inputs[] = {
    {"fake", LOSS_IN_FLOAT, LOSS_INPUT_GRAD,
     LOSS_RULE(" (discriminator outputs on generated samples)", LOSS_ANY)},
};

const loss_desc loss_desc_lsgan_generator = {
    .name = "lsgan_generator",
    .family = "gan",
    .reference = "LSGAN generator: 0.5*mean((fake-1)^2)",
    .inputs = lsgan_generator_inputs,
    .n_inputs = 1,
    .reductions = LOSS_RED_STANDARD,
    .flags = LOSS_FLAG_DENSE,
    .plan = lsgan_generator_plan,
    .chunk = lsgan_generator_chunk,
};
