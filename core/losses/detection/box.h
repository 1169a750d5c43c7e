/* box: the shared kernel of the IoU-family box losses (box_iou, giou, diou, ciou).
 * Boxes are (x1, y1, x2, y2) rows of predictions and targets, shape (N, 4) or (4); one work
 * unit is one box pair. Gradients follow torch's autograd through torchvision's formulas,
 * ties of torch.min/max included (the gradient splits 1/2-1/2). Internal to core/losses/. */
#ifndef LOSSD_BOX_H
#define LOSSD_BOX_H

#include "loss_kernel.h"

typedef enum {
    BOX_IOU,  /* 1 - I/(U+eps) */
    BOX_GIOU, /* + (C-U)/(C+eps), C = enclosing area */
    BOX_DIOU, /* + rho^2/(c^2+eps), rho = centre distance, c = enclosing diagonal */
    BOX_CIOU  /* DIoU with eps=1e-7, + alpha*v, alpha constant, eps reaching only alpha */
} box_kind;

/* Every box loss has the single parameter `eps` at index 0 and inputs predictions (0) and
 * targets (1). */
enum { BOX_P_EPS = 0 };

/* Checks that predictions are (N, 4) or (4) and targets have the same shape; one unit per
 * box, `none` shape (N) or (), mean over the N boxes. */
loss_status box_plan(loss_ctx *ctx, loss_error *err);

/* Computes boxes [begin, end) for `kind`: finiteness and inverted boxes (x2 < x1 or
 * y2 < y1, in either input) are refused naming the tensor and the x2/y2 element. */
void box_run(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part, box_kind kind);

#endif
