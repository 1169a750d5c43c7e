/* box: forward pass and hand-written reverse pass of the IoU-family box losses.
 * The forward pass keeps every intermediate torchvision computes (intersection corners,
 * union, enclosing box, centres, aspect angles); each loss adds its adjoints (d loss / d
 * intermediate) and one reverse pass maps them onto the four predicted coordinates, routing
 * torch.max/min adjoints to the prediction with torch's tie rule (1, 1/2 on a tie, or 0). */
#include "box.h"

#include <string.h>

typedef struct {
    double x1, y1, x2, y2;
} box;

/* Forward quantities of one prediction/target pair. */
typedef struct {
    box p, t;
    double kx1, ky1, kx2, ky2; /* intersection corners: max of x1/y1, min of x2/y2 */
    int overlap;               /* kx2 > kx1 and ky2 > ky1: only then has I a gradient */
    double inter, uni;         /* I and U = A1 + A2 - I */
    double cx1, cy1, cx2, cy2; /* enclosing box: min of x1/y1, max of x2/y2 */
    double w, h;               /* predicted width and height */
} box_fwd;

/* Adjoints: d loss / d intermediate. */
typedef struct {
    double inter, uni, enclose_area, diag2, rho2, pred_angle;
} box_adj;

/* d max(a, b) / d a and d min(a, b) / d a as torch's maximum/minimum backward gives them. */
static double tie_max(double a, double b)
{
    return a > b ? 1.0 : a == b ? 0.5 : 0.0;
}
static double tie_min(double a, double b)
{
    return a < b ? 1.0 : a == b ? 0.5 : 0.0;
}

static void box_forward(box_fwd *f)
{
    const box *p = &f->p, *t = &f->t;
    f->kx1 = fmax(p->x1, t->x1);
    f->ky1 = fmax(p->y1, t->y1);
    f->kx2 = fmin(p->x2, t->x2);
    f->ky2 = fmin(p->y2, t->y2);
    f->overlap = f->ky2 > f->ky1 && f->kx2 > f->kx1;
    f->inter = f->overlap ? (f->kx2 - f->kx1) * (f->ky2 - f->ky1) : 0.0;
    f->w = p->x2 - p->x1;
    f->h = p->y2 - p->y1;
    f->uni = f->w * f->h + (t->x2 - t->x1) * (t->y2 - t->y1) - f->inter;
    f->cx1 = fmin(p->x1, t->x1);
    f->cy1 = fmin(p->y1, t->y1);
    f->cx2 = fmax(p->x2, t->x2);
    f->cy2 = fmax(p->y2, t->y2);
}

/* 1 - I/(U+eps); returns the IoU I/(U+eps). */
static double iou_term(const box_fwd *f, double eps, box_adj *g)
{
    double den = f->uni + eps, iou = f->inter / den;
    g->inter += -1.0 / den;
    g->uni += f->inter / (den * den);
    return iou;
}

/* (C - U)/(C + eps), C = the enclosing box's area. */
static double giou_term(const box_fwd *f, double eps, box_adj *g)
{
    double area = (f->cx2 - f->cx1) * (f->cy2 - f->cy1), den = area + eps;
    g->enclose_area += (eps + f->uni) / (den * den);
    g->uni += -1.0 / den;
    return (area - f->uni) / den;
}

/* rho^2 / c^2: squared centre distance over the enclosing diagonal squared (+ eps). */
static double diou_term(const box_fwd *f, double eps, box_adj *g)
{
    double cw = f->cx2 - f->cx1, ch = f->cy2 - f->cy1, diag2 = cw * cw + ch * ch + eps;
    double dx = (f->p.x2 + f->p.x1) / 2 - (f->t.x1 + f->t.x2) / 2;
    double dy = (f->p.y2 + f->p.y1) / 2 - (f->t.y1 + f->t.y2) / 2;
    double rho2 = dx * dx + dy * dy;
    g->rho2 += 1.0 / diag2;
    g->diag2 += -rho2 / (diag2 * diag2);
    return rho2 / diag2;
}

/* atan(w/h) as atan2: its value wherever w/h is defined, and 0 (not NaN) for a 0x0 box. */
static double aspect_angle(double w, double h)
{
    return atan2(w, h);
}

/* alpha * v, v = 4/pi^2 (atan(wt/ht) - atan(w/h))^2, alpha = v / (1 - iou + v + eps) held
 * constant as torchvision computes it under no_grad. */
static double ciou_term(const box_fwd *f, double iou, double eps, box_adj *g)
{
    const double k = 4.0 / (M_PI * M_PI);
    double diff = aspect_angle(f->t.x2 - f->t.x1, f->t.y2 - f->t.y1) - aspect_angle(f->w, f->h);
    double v = k * diff * diff, alpha = v / (1.0 - iou + v + eps);
    g->pred_angle += -alpha * 2.0 * k * diff;
    return alpha * v;
}

/* Adjoints of the intersection corners, enclosing corners, width and height, in order
 * x1, y1, x2, y2 of each, then mapped onto the prediction. */
static void box_backward(const box_fwd *f, box_adj *g, double out[4])
{
    double gw = 0.0, gh = 0.0, k[4] = {0, 0, 0, 0}, c[4] = {0, 0, 0, 0};
    g->inter -= g->uni; /* U = A1 + A2 - I */
    gw += f->h * g->uni;
    gh += f->w * g->uni;
    if (f->overlap) {
        double iw = f->kx2 - f->kx1, ih = f->ky2 - f->ky1;
        k[0] = -ih * g->inter, k[2] = ih * g->inter, k[1] = -iw * g->inter, k[3] = iw * g->inter;
    }
    double cw = f->cx2 - f->cx1, ch = f->cy2 - f->cy1;
    c[0] = -ch * g->enclose_area - 2.0 * cw * g->diag2;
    c[2] = -c[0];
    c[1] = -cw * g->enclose_area - 2.0 * ch * g->diag2;
    c[3] = -c[1];
    double r2 = f->w * f->w + f->h * f->h;
    if (r2 > 0) {
        gw += g->pred_angle * f->h / r2;
        gh -= g->pred_angle * f->w / r2;
    }
    double dx = ((f->p.x2 + f->p.x1) / 2 - (f->t.x1 + f->t.x2) / 2) * g->rho2;
    double dy = ((f->p.y2 + f->p.y1) / 2 - (f->t.y1 + f->t.y2) / 2) * g->rho2;
    const box *p = &f->p, *t = &f->t;
    out[0] = -gw + dx + k[0] * tie_max(p->x1, t->x1) + c[0] * tie_min(p->x1, t->x1);
    out[1] = -gh + dy + k[1] * tie_max(p->y1, t->y1) + c[1] * tie_min(p->y1, t->y1);
    out[2] = gw + dx + k[2] * tie_min(p->x2, t->x2) + c[2] * tie_max(p->x2, t->x2);
    out[3] = gh + dy + k[3] * tie_min(p->y2, t->y2) + c[3] * tie_max(p->y2, t->y2);
}

/* Loss of one pair and its gradient w.r.t. the prediction in grad[4]. */
static double box_loss(const box_fwd *f, box_kind kind, double eps, double diou_eps, double grad[4])
{
    box_adj g;
    memset(&g, 0, sizeof g);
    double iou_eps = kind == BOX_CIOU ? diou_eps : eps;
    double iou = iou_term(f, iou_eps, &g), l = 1.0 - iou;
    if (kind == BOX_GIOU)
        l += giou_term(f, eps, &g);
    if (kind == BOX_DIOU || kind == BOX_CIOU)
        l += diou_term(f, iou_eps, &g);
    if (kind == BOX_CIOU)
        l += ciou_term(f, iou, eps, &g);
    box_backward(f, &g, grad);
    return l;
}

/* Loads box i of input `in` into *b; 0 after failing part on a non-finite or inverted box. */
static int load_box(const loss_ctx *ctx, int in, size_t i, box *b, loss_partial *part)
{
    const void *d = ctx->in[in]->data;
    double v[4];
    for (size_t k = 0; k < 4; k++) {
        v[k] = loss_load(d, ctx->dtype, 4 * i + k);
        if (!isfinite(v[k]))
            return !loss_partial_fail(part, LOSS_ERR_NON_FINITE, in, 4 * i + k, v[k],
                                      "is not finite");
    }
    if (v[2] < v[0])
        return !loss_partial_fail(part, LOSS_ERR_DOMAIN, in, 4 * i + 2, v[2],
                                  "is below the box's x1 (inverted box)");
    if (v[3] < v[1])
        return !loss_partial_fail(part, LOSS_ERR_DOMAIN, in, 4 * i + 3, v[3],
                                  "is below the box's y1 (inverted box)");
    *b = (box){v[0], v[1], v[2], v[3]};
    return 1;
}

void box_run(const loss_ctx *ctx, size_t begin, size_t end, loss_partial *part, box_kind kind)
{
    const loss_dtype dt = ctx->dtype;
    const double eps = ctx->param[BOX_P_EPS];
    /* torchvision's CIoU calls its DIoU helper with the default eps, in the input's dtype */
    const double diou_eps = dt == LOSS_DTYPE_F32 ? (double)1e-7f : 1e-7;
    loss_acc acc = {0, 0};
    for (size_t i = begin; i < end; i++) {
        box_fwd f;
        double g[4];
        if (!load_box(ctx, 0, i, &f.p, part) || !load_box(ctx, 1, i, &f.t, part))
            return;
        box_forward(&f);
        double l = box_loss(&f, kind, eps, diou_eps, g);
        loss_acc_add(&acc, l);
        if (ctx->values[0])
            loss_store(ctx->values[0], dt, i, l);
        for (size_t k = 0; ctx->grad[0] && k < 4; k++)
            loss_store(ctx->grad[0], dt, 4 * i + k, g[k] * ctx->scale[0]);
    }
    part->sum[0] = loss_acc_value(&acc);
}

loss_status box_plan(loss_ctx *ctx, loss_error *err)
{
    const tensor *p = ctx->in[0];
    if ((p->rank != 1 && p->rank != 2) || p->shape[p->rank - 1] != 4) {
        char s[96];
        tensor_shape_str(p, s, sizeof s);
        return loss_error_set(err, LOSS_ERR_SHAPE, "predictions",
                              "predictions has shape %s, boxes need (N, 4) or (4)", s);
    }
    loss_status st = loss_plan_require_same_shape(ctx, err);
    if (st != LOSS_OK)
        return st;
    ctx->n_units = p->count / 4;
    ctx->unit_cost = 16; /* a box pair costs about as much as 16 elementwise terms */
    ctx->term_rank[0] = p->rank - 1;
    ctx->term_shape[0][0] = ctx->n_units;
    ctx->denom[0] = (double)ctx->n_units;
    return LOSS_OK;
}
