# Sources of the catalogue_structured losses.
list(APPEND LOSSD_LOSS_SOURCES core/losses/kl_div.c
  core/losses/multi_margin.c
  core/losses/multilabel_soft_margin.c
  core/losses/cosine_embedding.c
  core/losses/dice.c
  core/losses/mask_iou.c
  core/losses/tversky.c
  core/losses/categorical_hinge.c
  core/losses/multilabel_margin.c
  core/losses/ntxent.c
  core/losses/ctc.c)
