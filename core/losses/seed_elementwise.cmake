# Sources of the seed_elementwise losses.
list(APPEND LOSSD_LOSS_SOURCES
  core/losses/mae.c
  core/losses/mbe.c
  core/losses/huber.c
  core/losses/bce.c
  core/losses/hinge.c
  core/losses/focal.c
  core/losses/gan_discriminator.c
  core/losses/gan_generator.c)
