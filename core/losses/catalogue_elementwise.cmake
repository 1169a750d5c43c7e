# Sources of the catalogue_elementwise losses.
list(APPEND LOSSD_LOSS_SOURCES
  core/losses/smooth_l1.c
  core/losses/log_cosh.c
  core/losses/mape.c
  core/losses/msle.c
  core/losses/quantile.c
  core/losses/poisson_nll.c
  core/losses/gaussian_nll.c)
list(APPEND LOSSD_LOSS_SOURCES
  core/losses/bce_with_logits.c
  core/losses/sigmoid_focal.c
  core/losses/squared_hinge.c
  core/losses/soft_margin.c
  core/losses/margin_ranking.c
  core/losses/hinge_embedding.c
  core/losses/wgan_critic.c
  core/losses/wgan_generator.c
  core/losses/lsgan_discriminator.c
  core/losses/lsgan_generator.c)
