/* Losses of the seed_structured group: one LOSS(name) line each. */
LOSS(cross_entropy)
LOSS(nll)
LOSS(box_iou)
LOSS(giou)
LOSS(diou)
LOSS(ciou)
