/* ciou: expected numbers printed by /usr/bin/python3 (torch, torchvision, float64,
 * "%.17g") from the call quoted above each test; gradients also by central differences, and
 * results bit-identical across worker counts. */
#include "box_cases.h"

/* torchvision.ops.complete_box_iou_loss(b1, b2) gives these except NaN for the 0x0 pair;
 * the numbers are its formula with atan(w/h) as atan2(w, h) (gradient h/(w^2+h^2),
 * -w/(w^2+h^2), 0 at w=h=0) and alpha under no_grad, as tests/gen_fixtures.py computes. */
Test(ciou, edge_cases_should_match_torchvision_without_nan_for_0x0_boxes)
{
    /* clang-format off */
    const double terms[] = {2.4999999403974016e-08, 0.74358974855358306, 1.4444444419753086,
                            1.1999999960000001, 0.95312500034179681, 1.0499999960000004, 1,
                            0.62142801764160982, 0.68204380362594408};
    const double grad[] = {
        6.2499996844600503e-09, 6.2499996844600503e-09, -6.2499996844600503e-09,
        -6.2499996844600503e-09, -0.15253122570508615, 0.011834320733449619,
        -0.41025640410913883, -0.011834320733449619, 0.03703703600823044, 0.03703703600823044,
        -0.11111111049382716, -0.11111111049382716, -0.040000002399999901, 0.039999998400000042,
        -0.19999999600000007, -0.039999998400000042, 0.0039062501220703105,
        0.0039062501220703105, 0.027343749780273437, 0.027343749780273437, 0.063661972143800358, 0,
        -0.063661972143800358, 0, 0, 0, 0, 0, -0.1370390748845137, 0.32133414077349681,
        -0.22399095891556825, 0.19171373088659141, -0.041884762191981659, -0.1202249674892963,
        0.041884762191981659, 0.1202249674892963};
    /* clang-format on */
    expect_box_cases("ciou", terms, grad);
}

Test(ciou, eps_should_reach_only_alpha)
{
    /* clang-format off */
    const double grad[] = {-0.076265612852543074, 0.0059171603667248097, -0.20512820205456941,
                           -0.0059171603667248097, -0.068509283402007654, 0.1606525940946319,
                           -0.11200573349803333, 0.095871341735412216};
    /* clang-format on */
    expect_box_eps_half("ciou", 0.682506948723133, grad);
}
