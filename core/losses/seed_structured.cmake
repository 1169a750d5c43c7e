# Sources of the seed_structured losses.
list(APPEND LOSSD_LOSS_SOURCES
  core/losses/class_layout.c
  core/losses/cross_entropy.c
  core/losses/nll.c
  core/losses/contrastive.c
  core/losses/triplet_margin.c
  core/losses/box.c
  core/losses/box_iou.c
  core/losses/giou.c
  core/losses/diou.c
  core/losses/ciou.c)
