/* overlap: what the soft mask losses (mask_iou, dice, tversky) share through
 * core/losses/segmentation/overlap.h: domain and shape checks, gradients by central
 * differences, float32 against float64, bit-identical results across worker counts. */
#include "overlap_cases.h"

Test(overlap, values_outside_the_unit_interval_should_be_out_of_domain)
{
    static const char *const losses[] = {"mask_iou", "dice", "tversky"};
    double bad[12];
    for (size_t k = 0; k < N_OF(losses); k++) {
        loss_call c;
        memcpy(bad, ov_p, sizeof bad);
        bad[5] = 1.0000001;
        ov_call(&c, losses[k], LOSS_REDUCE_MEAN);
        call_input(&c, "predictions", bad, SHAPE(3, 2, 2));
        expect_error(&c, LOSS_ERR_DOMAIN, "predictions");
        call_input(&c, "predictions", ov_p, SHAPE(3, 2, 2));
        bad[5] = -0.1;
        call_input(&c, "targets", bad, SHAPE(3, 2, 2));
        expect_error(&c, LOSS_ERR_DOMAIN, "targets");
        bad[5] = NAN;
        expect_error(&c, LOSS_ERR_NON_FINITE, "targets");
        call_input(&c, "targets", ov_y, SHAPE(3, 4));
        expect_error(&c, LOSS_ERR_SHAPE, "targets");
    }
    loss_call c;
    ov_call(&c, "tversky", LOSS_REDUCE_MEAN);
    call_param(&c, "gamma", -1);
    expect_error(&c, LOSS_ERR_PARAM, "gamma");
}

Test(overlap, gradients_float32_and_workers_should_agree)
{
    enum { N = 6, M = 9000 };
    double *p = mem_alloc_array(N * M, sizeof(double)), *y = mem_alloc_array(N * M, 8);
    fill_uniform(p, N * M, 0, 1, 11);
    fill_uniform(y, N * M, 0, 1, 12);
    for (size_t i = 0; i < N * M; i += 3)
        y[i] = y[i] < 0.5 ? 0.0 : 1.0;
    for (size_t k = 0; k < N_OF(ov_cases); k++) {
        loss_call c;
        call_begin(&c, ov_cases[k].loss);
        call_input(&c, "predictions", p, SHAPE(N, M));
        call_input(&c, "targets", y, SHAPE(N, M));
        ov_params(&c, &ov_cases[k]);
        check_workers(&c);
        check_float32(&c);
        call_input(&c, "predictions", p, SHAPE(4, 5));
        call_input(&c, "targets", y, SHAPE(4, 5));
        fd_check(&c);
        c.reduction = LOSS_REDUCE_NONE;
        fd_check(&c);
    }
    mem_free(p);
    mem_free(y);
}
