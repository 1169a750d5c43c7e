/* box: expected numbers printed by /usr/bin/python3 (torch, torchvision, float64,
 * "%.17g") from the call quoted above each test; gradients also by central differences, and
 * results bit-identical across worker counts. */
#include "box_cases.h"

static const char *const box_losses[] = {"box_iou", "giou", "diou", "ciou"};

Test(box_losses, inverted_boxes_should_be_out_of_domain_naming_tensor_and_index)
{
    double p[8], t[8];
    for (size_t k = 0; k < COUNT(box_losses); k++) {
        memcpy(p, box_p, sizeof p);
        memcpy(t, box_t, sizeof t);
        loss_call c;
        start(&c, box_losses[k], LOSS_REDUCE_MEAN);
        put_f(&c, "predictions", p, 2, SHAPE(2, 4));
        put_f(&c, "targets", t, 2, SHAPE(2, 4));
        p[6] = -0.5; /* box 1: x2 < x1 */
        run_err(&c, LOSS_ERR_DOMAIN, "predictions", "predictions[6]");
        p[6] = 2;
        t[3] = -1; /* box 0: y2 < y1 */
        run_err(&c, LOSS_ERR_DOMAIN, "targets", "targets[3]");
        t[3] = 2;
        p[1] = NAN;
        run_err(&c, LOSS_ERR_NON_FINITE, "predictions", "predictions[1]");
    }
}

Test(box_losses, a_single_box_should_give_a_scalar_term)
{
    for (size_t k = 0; k < COUNT(box_losses); k++) {
        loss_call c;
        loss_result r;
        start(&c, box_losses[k], LOSS_REDUCE_NONE);
        put_f(&c, "predictions", box_p + 28, 1, SHAPE(4));
        put_f(&c, "targets", box_t + 28, 1, SHAPE(4));
        run_ok(&c, NULL, &r);
        cr_assert_eq(r.terms[0].rank, 0);
        cr_assert_eq(r.terms[0].count, 1);
        loss_result_release(&r);
    }
}

/* docs/losses.md: a mean over zero boxes is NaN (torchvision would give 0). */
Test(box_losses, empty_mean_should_be_nan_and_sum_zero)
{
    for (size_t k = 0; k < COUNT(box_losses); k++) {
        loss_call c;
        loss_result r;
        start(&c, box_losses[k], LOSS_REDUCE_MEAN);
        put_f(&c, "predictions", NULL, 2, SHAPE(0, 4));
        put_f(&c, "targets", NULL, 2, SHAPE(0, 4));
        run_ok(&c, NULL, &r);
        cr_assert(isnan(r.value));
        loss_result_release(&r);
        c.reduction = LOSS_REDUCE_SUM;
        run_ok(&c, NULL, &r);
        cr_assert_eq(r.value, 0.0);
        loss_result_release(&r);
    }
}

Test(box_losses, bad_shapes_and_eps_should_be_refused)
{
    for (size_t k = 0; k < COUNT(box_losses); k++) {
        loss_call c;
        start(&c, box_losses[k], LOSS_REDUCE_MEAN);
        put_f(&c, "predictions", box_p, 2, SHAPE(3, 3));
        put_f(&c, "targets", box_t, 2, SHAPE(3, 3));
        run_err(&c, LOSS_ERR_SHAPE, "predictions", NULL);
        put_f(&c, "predictions", box_p, 2, SHAPE(2, 4));
        run_err(&c, LOSS_ERR_SHAPE, "targets", NULL);
        put_f(&c, "targets", box_t, 2, SHAPE(2, 4));
        set_param(&c, "eps", -1e-3);
        run_err(&c, LOSS_ERR_PARAM, "eps", NULL);
    }
}

static void random_boxes(double *b, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        double x = rnd(&seed, -2, 2), y = rnd(&seed, -2, 2);
        b[4 * i] = x;
        b[4 * i + 1] = y;
        b[4 * i + 2] = x + rnd(&seed, 0.1, 3);
        b[4 * i + 3] = y + rnd(&seed, 0.1, 3);
    }
}

/* CIoU is left out: its alpha is held constant in the gradient, as in torchvision, so its
 * gradient is not the derivative of its value. */
Test(box_losses, gradients_should_match_finite_differences)
{
    double p[32], t[32];
    random_boxes(p, 8, 3);
    random_boxes(t, 8, 4);
    for (size_t k = 0; k < 3; k++) {
        loss_call c;
        start(&c, box_losses[k], LOSS_REDUCE_MEAN);
        put_f(&c, "predictions", p, 2, SHAPE(8, 4));
        put_f(&c, "targets", t, 2, SHAPE(8, 4));
        check_fd(&c, "predictions", 1e-7);
    }
}

Test(box_losses, result_bytes_should_not_depend_on_the_number_of_workers)
{
    const size_t n = 20000;
    double *p = mem_alloc(4 * n * sizeof *p), *t = mem_alloc(4 * n * sizeof *t);
    random_boxes(p, n, 5);
    random_boxes(t, n, 6);
    for (size_t k = 0; k < COUNT(box_losses); k++) {
        loss_call c;
        start(&c, box_losses[k], LOSS_REDUCE_MEAN);
        put_f(&c, "predictions", p, 2, SHAPE(n, 4));
        put_f(&c, "targets", t, 2, SHAPE(n, 4));
        for (int dt = 0; dt < 2; dt++) {
            c.dtype = (loss_dtype)dt;
            expect_same_bytes_across_workers(&c);
        }
    }
    mem_free(p);
    mem_free(t);
}
