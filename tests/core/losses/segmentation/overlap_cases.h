/* overlap_cases: the shared cases of the soft mask losses (mask_iou, dice, tversky), whose
 * kernel is core/losses/segmentation/overlap.h. Header-only test support. */
#ifndef LOSSD_TESTS_OVERLAP_CASES_H
#define LOSSD_TESTS_OVERLAP_CASES_H

#include "../call_checks.h"

/* Three samples of 2x2: p = [[[.9,.2],[0,.6]], zeros, [[.3,1],[.5,.1]]],
 * y = [[[1,0],[0,1]], zeros, [[0,1],[.7,.2]]]. The reference is the formula of docs/losses.md in
 * float64 torch over p.reshape(N,-1), e.g. for dice
 * 1-(2*(p*y).sum(1)+s)/(p.sum(1)+y.sum(1)+s); `mean` is l.mean(), l.mean().backward().
 * The all-zero sample has loss 0 and slope 1/s per element (1e6/3 after the mean). */
static double ov_p[] = {.9, .2, 0, .6, 0, 0, 0, 0, .3, 1, .5, .1};
static double ov_y[] = {1, 0, 0, 1, 0, 0, 0, 0, 0, 1, .7, .2};

static inline void ov_call(loss_call *c, const char *loss, loss_reduction red)
{
    call_begin(c, loss);
    call_input(c, "predictions", ov_p, SHAPE(3, 2, 2));
    call_input(c, "targets", ov_y, SHAPE(3, 2, 2));
    c->reduction = red;
    c->want_gradient = 1;
}

typedef struct {
    const char *loss;
    double alpha, beta, gamma, smooth;
    double none[3], mean, grad[12];
} ov_case;

static const ov_case ov_cases[] = {
    {"mask_iou",
     0,
     0,
     0,
     1e-6,
     {0.3181816735537849, 0.0, 0.4362138122576904},
     0.25146516193715845,
     {-0.15151508264465938, 0.10330576008014161, 0.10330576008014161, -0.15151508264465938,
      333333.3333333333, 333333.3333333333, 333333.3333333333, 333333.3333333333,
      0.0773368937903468, -0.13717415479801587, -0.07282084022150706, 0.03443468407267427}},
    {"dice",
     0,
     0,
     0,
     1e-6,
     {0.18918913805698978, 0.0, 0.2789472950138696},
     0.15604547769028645,
     {-0.10713412762654113, 0.07304600385630618, 0.07304600385630618, -0.10713412762654113,
      333333.3333333333, 333333.3333333333, 333333.3333333333, 333333.3333333333,
      0.06325022063469021, -0.11218832968849829, -0.05955676459154173, 0.028162510570052514}},
    {"tversky",
     .5,
     .5,
     1,
     1e-6,
     {0.18918908692481795, 0.0, 0.2789472216067256},
     0.15604543617718117,
     {-0.10713409406488769, 0.07304598872065313, 0.07304598872065313, -0.10713409406488769,
      166666.66666666666, 166666.66666666666, 166666.66666666666, 166666.66666666666,
      0.06325021042912383, -0.1121882937260494, -0.05955674247949742, 0.02816250959808919}},
    {"tversky",
     .3,
     .7,
     2,
     1e-6,
     {0.04607873248518297, 0.0, 0.0778115524421116},
     0.04129676164243152,
     {-0.05727233342782511, 0.017652434840765025, 0.017652434840765025, -0.05727233342782511, 0, 0,
      0, 0, 0.021172164558293797, -0.07670400203555727, -0.047341152057401956,
      0.0015969312395235809}},
    /* gamma < 1 at T == 1 (the empty sample): torch's pow gives NaN, lossd 0 (see tversky.c) */
    {"tversky",
     .7,
     .3,
     .75,
     1.0,
     {0.18306079579088697, 0.0, 0.27951711411767144},
     0.15419263663618613,
     {-0.058825617235979, 0.0989854136182339, 0.0989854136182339, -0.058825617235979, 0, 0, 0, 0,
      0.07542597467814195, -0.056421720660382244, -0.016867412058824978, 0.04905643561043711}},
    {"mask_iou",
     0,
     0,
     0,
     0.5,
     {0.2592592592592593, 0.0, 0.3617747440273037},
     0.20701133442885433,
     {-0.12345679012345677, 0.09144947416552353, 0.09144947416552353, -0.12345679012345677,
      0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 0.6666666666666666,
      0.07260810648153541, -0.11376564277588169, -0.05785351799865655, 0.03533335663005199}},
    {"dice",
     0,
     0,
     0,
     0.5,
     {0.16666666666666674, 0.0, 0.24651162790697667},
     0.13772609819121448,
     {-0.0925925925925926, 0.06613756613756612, 0.06613756613756612, -0.0925925925925926,
      0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 0.6666666666666666,
      0.05840995132504057, -0.09662880836488191, -0.05011718045790516, 0.027402199387056077}},
};

static inline void ov_params(loss_call *c, const ov_case *k)
{
    call_param(c, "smooth", k->smooth);
    if (strcmp(k->loss, "tversky") == 0) {
        call_param(c, "alpha", k->alpha);
        call_param(c, "beta", k->beta);
        call_param(c, "gamma", k->gamma);
    }
}

/* Checks `loss` on every row of ov_cases that is its: mean (value, gradient, denominator 3)
 * and none (one term per sample). */
static inline void ov_check_formula(const char *loss)
{
    size_t checked = 0;
    for (size_t k = 0; k < N_OF(ov_cases); k++) {
        if (strcmp(ov_cases[k].loss, loss) != 0)
            continue;
        loss_call c;
        loss_result r;
        ov_call(&c, ov_cases[k].loss, LOSS_REDUCE_MEAN);
        ov_params(&c, &ov_cases[k]);
        compute_ok(&c, NULL, &r);
        expect_value(&r, ov_cases[k].mean);
        expect_grad(&c, &r, "predictions", ov_cases[k].grad, 12);
        cr_expect_float_eq(r.denominator, 3.0, 0);
        loss_result_release(&r);
        c.reduction = LOSS_REDUCE_NONE;
        compute_ok(&c, NULL, &r);
        cr_expect_eq(r.terms[0].rank, 1);
        expect_values(&r.terms[0], ov_cases[k].none, 3, 1e-12, ov_cases[k].loss);
        loss_result_release(&r);
        checked++;
    }
    cr_assert_gt(checked, 0, "ov_cases has rows for %s", loss);
}

#endif
