/* loss_plan_cost: the cost of a call from its shapes alone, before anything is allocated:
 * zero-size dimensions still cost their loops, impossible sizes are refused, the caps bite,
 * and no real run ever allocates more than the cost said (every fixture of every loss). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "golden.h"
#include "loss.h"
#include "mem.h"

static const loss_desc *find(const char *name)
{
    const loss_desc *d = loss_registry_find(name, strlen(name));
    cr_assert_not_null(d, "%s is registered", name);
    return d;
}

/* A data-less input of the given shape (the cost pass never reads data). */
static void shape_input(loss_call *c, int i, tensor_type type, size_t rank, const size_t *shape)
{
    tensor *t = &c->input[i];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->rank = rank;
    memcpy(t->shape, shape, rank * sizeof *shape);
    cr_assert_eq(tensor_shape_count(shape, rank, &t->count), 0);
    c->present[i] = 1;
}

Test(loss_cost, zero_size_rows_should_still_cost_their_rows)
{
    const size_t shape[] = {300000000, 0};
    loss_call c;
    loss_cost cost;
    loss_error e;
    loss_call_init(&c, find("dice"));
    shape_input(&c, 0, TENSOR_F32, 2, shape);
    shape_input(&c, 1, TENSOR_F32, 2, shape);
    c.reduction = LOSS_REDUCE_NONE;
    cr_assert_eq(loss_plan_cost(&c, NULL, &cost, &e), LOSS_OK, "%s", e.message);
    cr_expect_eq(cost.output, 300000000, "one `none` value per row: %zu", cost.output);
    cr_expect_geq(cost.work, (size_t)300000000 * 8, "each empty row costs: %zu", cost.work);
    cr_expect_geq(cost.read, 600000000, "zero dims count as 1 when reading: %zu", cost.read);

    loss_limits lim = {.max_work = (size_t)1 << 34, .max_output = (size_t)1 << 26};
    cr_expect_eq(loss_cost_check(&cost, &lim, &e), LOSS_ERR_WORK);
    cr_expect(strstr(e.message, "300000000") != NULL, "names the output: %s", e.message);
}

Test(loss_cost, an_empty_tensor_with_a_huge_class_dim_should_be_refused_not_allocated)
{
    const size_t pred[] = {0, (size_t)1 << 53}, target[] = {0};
    loss_call c;
    loss_cost cost;
    loss_error e;
    loss_call_init(&c, find("cross_entropy"));
    shape_input(&c, 0, TENSOR_F32, 2, pred);
    shape_input(&c, 1, TENSOR_I64, 1, target);
    cr_assert_eq(loss_plan_cost(&c, NULL, &cost, &e), LOSS_ERR_WORK);
    cr_expect_str_eq(e.field, "predictions");
}

Test(loss_cost, dims_whose_product_overflows_should_be_refused)
{
    const size_t shape[] = {SIZE_MAX / 2, 0, 4};
    loss_call c;
    loss_cost cost;
    loss_error e;
    loss_call_init(&c, find("mse"));
    shape_input(&c, 0, TENSOR_F64, 3, shape);
    shape_input(&c, 1, TENSOR_F64, 3, shape);
    cr_assert_eq(loss_plan_cost(&c, NULL, &cost, &e), LOSS_ERR_WORK);
}

Test(loss_cost, the_plan_only_pass_should_allocate_nothing)
{
    const size_t x[] = {4096, 512};
    loss_call c;
    loss_cost cost;
    loss_error e;
    loss_call_init(&c, find("ntxent"));
    shape_input(&c, 0, TENSOR_F32, 2, x);
    shape_input(&c, 1, TENSOR_F32, 2, x);
    c.want_gradient = 1;
    mem_fail_after(0);
    loss_status st = loss_plan_cost(&c, NULL, &cost, &e);
    mem_fail_reset();
    cr_assert_eq(st, LOSS_OK, "%s", e.message);
    /* The 8192 x 8192 similarity and gradient matrices are in the estimate. */
    cr_expect_geq(cost.bytes, (size_t)8192 * 8192 * sizeof(double));
}

Test(loss_cost, ctc_work_should_grow_with_the_sequence_not_just_the_bytes)
{
    const size_t lp_short[] = {100, 1, 3}, lp_long[] = {4000, 1, 3}, tg_short[] = {1, 40},
                 tg_long[] = {1, 1600}, n[] = {1};
    loss_call c;
    loss_cost small, big;
    loss_error e;
    loss_call_init(&c, find("ctc"));
    shape_input(&c, 0, TENSOR_F32, 3, lp_short);
    shape_input(&c, 1, TENSOR_I64, 2, tg_short);
    shape_input(&c, 2, TENSOR_I64, 1, n);
    shape_input(&c, 3, TENSOR_I64, 1, n);
    cr_assert_eq(loss_plan_cost(&c, NULL, &small, &e), LOSS_OK, "%s", e.message);
    shape_input(&c, 0, TENSOR_F32, 3, lp_long);
    shape_input(&c, 1, TENSOR_I64, 2, tg_long);
    cr_assert_eq(loss_plan_cost(&c, NULL, &big, &e), LOSS_OK, "%s", e.message);
    /* 40x the time steps and 40x the targets: about 1600x the recursion cells. */
    cr_expect_gt(big.work / small.work, 1000, "%zu vs %zu", big.work, small.work);
}

Test(loss_cost, costs_of_consecutive_calls_should_add_work_and_keep_the_peak)
{
    loss_cost a = {.read = 1, .output = 2, .work = 3, .scratch = 10, .bytes = 100};
    loss_cost b = {.read = 4, .output = 5, .work = SIZE_MAX, .scratch = 5, .bytes = 200};
    loss_cost_add(&a, &b);
    cr_expect_eq(a.read, 5);
    cr_expect_eq(a.output, 7);
    cr_expect_eq(a.work, SIZE_MAX, "saturates");
    cr_expect_eq(a.scratch, 10);
    cr_expect_eq(a.bytes, 200);
}

static int flag_set(void *arg)
{
    return *(const int *)arg;
}

Test(loss_cost, a_cancelled_call_should_stop_with_loss_err_cancelled)
{
    double p[64] = {0}, y[64] = {0};
    loss_call c;
    loss_result r;
    loss_error e;
    loss_call_init(&c, find("mse"));
    c.input[0] = (tensor){.type = TENSOR_F64, .rank = 1, .shape = {64}, .count = 64, .data = p};
    c.input[1] = (tensor){.type = TENSOR_F64, .rank = 1, .shape = {64}, .count = 64, .data = y};
    c.present[0] = c.present[1] = 1;
    int stop = 0;
    c.cancelled = flag_set;
    c.cancel_arg = &stop;
    cr_assert_eq(loss_compute(&c, NULL, &r, &e), LOSS_OK, "%s", e.message);
    loss_result_release(&r);
    stop = 1;
    cr_assert_eq(loss_compute(&c, NULL, &r, &e), LOSS_ERR_CANCELLED);
}

Test(loss_cost, every_fixture_should_stay_within_its_cost)
{
    for (size_t i = 0; i < loss_registry_count(); i++)
        cr_expect_gt(golden_cost_file(loss_registry_at(i)->name, 0), 0);
}

Test(loss_cost, every_fixture_should_stay_within_its_cost_on_a_pool)
{
    for (size_t i = 0; i < loss_registry_count(); i++)
        golden_cost_file(loss_registry_at(i)->name, 2);
}
