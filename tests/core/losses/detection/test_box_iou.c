/* box_iou: expected numbers printed by /usr/bin/python3 (torch, torchvision, float64,
 * "%.17g") from the call quoted above each test; gradients also by central differences, and
 * results bit-identical across worker counts. */
#include "box_cases.h"

/* i, u = torchvision.ops._utils._loss_inter_union(b1, b2); 1 - i / (u + 1e-7),
 * b1 = box_p, b2 = box_t as (9, 4); gradient of .sum() */
Test(box_iou, edge_cases_should_match_the_formula)
{
    /* clang-format off */
    const double terms[] = {2.4999999403974016e-08, 0.66666667222222209, 1, 1,
                            0.93750000039062498, 1, 1, 0.58695652864621173, 0.66666667222222209};
    const double grad[] = {
        6.2499996844600503e-09, 6.2499996844600503e-09, -6.2499996844600503e-09,
        -6.2499996844600503e-09, -0.11111110740740748, 1.3888888511504049e-09,
        -0.33333332777777785, -1.3888888511504049e-09, 0, 0, 0, 0, 0, 0, 0, 0,
        -0.015624999804687499, -0.015624999804687499, 0.015624999804687499, 0.015624999804687499,
        0, 0, 0, 0, 0, 0, 0, 0, -0.11742038286946518, 0.2831903404689084, -0.18976297533146949,
        0.16576995228630381, -0.055555552314814891, -0.11111110740740748, 0.055555552314814891,
        0.11111110740740748};
    /* clang-format on */
    expect_box_cases("box_iou", terms, grad);
}
