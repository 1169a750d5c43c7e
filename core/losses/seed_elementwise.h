/* Losses of the seed_elementwise group: one LOSS(name) line each. */
LOSS(mae)
LOSS(mbe)
LOSS(huber)
LOSS(bce)
LOSS(hinge)
LOSS(focal)
LOSS(gan_discriminator)
LOSS(gan_generator)
