/* mask_iou: the formula of docs/losses.md in float64 torch, mean and none (cases in
 * overlap_cases.h), and hand-computed edge samples; domain, gradients and workers are in
 * test_overlap.c. */
#include "overlap_cases.h"

Test(mask_iou, mean_and_none_should_match_the_formula_in_torch)
{
    ov_check_formula("mask_iou");
}

Test(mask_iou, empty_and_half_overlap_samples_should_match_hand_computed_values)
{
    /* both empty -> IoU 1 (loss 0); prediction empty, GT not -> 1 - 9.99999e-7;
     * half overlap -> IoU 0.5000002. Soft: p = [.85,.15], y = [1,0] ->
     * loss 0.2608693383744882, grad [-0.8695644612482947, 0.6427217555684838]
     * (with reduction none, so not halved by a mean over two). */
    double p[] = {0, 0, 0, 0, 1, 1, .85, .15}, y[] = {0, 0, 1, 0, 1, 0, 1, 0};
    static const double want[] = {0.0, 0.999999000001, 0.4999997500001251, 0.2608693383744882};
    loss_call c;
    loss_result r;
    call_begin(&c, "mask_iou");
    call_input(&c, "predictions", p, SHAPE(4, 2));
    call_input(&c, "targets", y, SHAPE(4, 2));
    c.reduction = LOSS_REDUCE_NONE;
    c.want_gradient = 1;
    compute_ok(&c, NULL, &r);
    expect_values(&r.terms[0], want, 4, 1e-12, "none");
    cr_expect(close_to(elem(&r.grad[0], 6), -0.8695644612482947, 1e-12));
    cr_expect(close_to(elem(&r.grad[0], 7), 0.6427217555684838, 1e-12));
    loss_result_release(&r);
}
