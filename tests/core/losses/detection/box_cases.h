/* box_cases: the nine box pairs every IoU-family loss (box_iou, giou, diou, ciou; kernel
 * core/losses/detection/box.c) is checked on, and the checks that run them. Header-only test
 * support. */
#ifndef LOSSD_TESTS_BOX_CASES_H
#define LOSSD_TESTS_BOX_CASES_H

#include "../shaped_call.h"

/* Rows: identical, half overlap, disjoint, touching edge, contained, zero-area prediction,
 * both 0x0, general, shared x edges (ties of torch.min/max). */
static double box_p[] = {0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 1,   1,   0,   0,   1, 1, 0, 0,
                         4, 4, 1, 0, 1, 2, 1, 1, 1, 1, 0.3, 0.2, 2.7, 1.9, 0, 0, 2, 3};
static double box_t[] = {0, 0, 2, 2, 1, 0, 3, 2, 2, 2, 3,   3,    1,   0,   2, 1, 1, 1,
                         2, 2, 0, 0, 2, 2, 1, 1, 1, 1, 0.8, -0.4, 3.1, 1.5, 0, 1, 2, 2};

/* Runs `loss` over the nine pairs with reduction none in both dtypes. */
static inline void expect_box_cases(const char *loss, const double terms[9], const double grad[36])
{
    loss_call c;
    loss_result r;
    start(&c, loss, LOSS_REDUCE_NONE);
    put_f(&c, "predictions", box_p, 2, SHAPE(9, 4));
    put_f(&c, "targets", box_t, 2, SHAPE(9, 4));
    for (int dt = 0; dt < 2; dt++) {
        double tol = dt ? 1e-5 : 1e-12;
        c.dtype = (loss_dtype)dt;
        run_ok(&c, NULL, &r);
        cr_assert_eq(r.terms[0].rank, 1);
        expect_near(&r.terms[0], terms, 9, tol, "terms");
        expect_near(grad_of(&c, &r, "predictions"), grad, 36, tol, "grad");
        cr_assert_null(r.grad[1].data, "no gradient for targets");
        loss_result_release(&r);
    }
}

/* rows 1 and 7 of box_p/box_t: F(b1, b2, eps=0.5).mean() for diou, and the atan2 form of
 * complete_box_iou_loss (tvo.complete_box_iou_loss(..., eps=0.5) gives 0.74358974855358306,
 * 0.62142414889268294: eps reaches only alpha, DIoU keeps 1e-7) */
static inline void expect_box_eps_half(const char *loss, double value, const double grad[8])
{
    double p[8], t[8];
    memcpy(p, box_p + 4, 4 * sizeof *p);
    memcpy(p + 4, box_p + 28, 4 * sizeof *p);
    memcpy(t, box_t + 4, 4 * sizeof *t);
    memcpy(t + 4, box_t + 28, 4 * sizeof *t);
    loss_call c;
    loss_result r;
    start(&c, loss, LOSS_REDUCE_MEAN);
    put_f(&c, "predictions", p, 2, SHAPE(2, 4));
    put_f(&c, "targets", t, 2, SHAPE(2, 4));
    set_param(&c, "eps", 0.5);
    run_ok(&c, NULL, &r);
    expect_value(&r, value, 1e-12);
    expect_near(grad_of(&c, &r, "predictions"), grad, 8, 1e-12, "grad");
    cr_assert_eq(r.denominator, 2.0);
    loss_result_release(&r);
}

#endif
