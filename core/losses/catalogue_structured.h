/* Losses of the catalogue_structured group: one LOSS(name) line each. */
LOSS(kl_div)
LOSS(multi_margin)
LOSS(multilabel_soft_margin)
LOSS(cosine_embedding)
LOSS(dice)
LOSS(mask_iou)
LOSS(tversky)
LOSS(categorical_hinge)
