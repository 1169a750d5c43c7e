/* Losses of the seed_structured group: one LOSS(name) line each. */
LOSS(cross_entropy)
LOSS(nll)
LOSS(contrastive)
LOSS(triplet_margin)
LOSS(box_iou)
LOSS(giou)
LOSS(diou)
LOSS(ciou)
