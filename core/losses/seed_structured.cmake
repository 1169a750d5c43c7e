# Sources of the seed_structured losses.
list(APPEND LOSSD_LOSS_SOURCES
  core/losses/class_layout.c
  core/losses/cross_entropy.c
  core/losses/nll.c)
