/* cosine_embedding: expected numbers from /usr/bin/python3 (torch, float64), the producing call
 * quoted above each table; gradients by central differences, float32 against float64, and results
 * bit-identical across 1, 2 and 7 workers. */
#include <stdio.h>

#include "../call_checks.h"

/* a = [[1,2,-.5],[.3,-.2,.9],[0,0,0],[1,1,0],[2,-1,.5]],
 * b = [[.5,1.5,.2],[-.4,.1,1],[3,4,0],[1,1,1e-3],[-1,.3,.2]], y = [1,-1,1,-1,-1]:
 * F.cosine_embedding_loss(a, b, y, margin=m, reduction=red), l.sum().backward().
 * Row 2 is the zero-vector edge: x1 = 0 gives loss 1 and d/dx1 = -1e6 * b/|b| (times the reduction
 * scale). */
static double ce_a[] = {1, 2, -.5, .3, -.2, .9, 0, 0, 0, 1, 1, 0, 2, -1, .5};
static double ce_b[] = {.5, 1.5, .2, -.4, .1, 1, 3, 4, 0, 1, 1, 1e-3, -1, .3, .2};
static double ce_y[] = {1, -1, 1, -1, -1};

static const double ce_ga_sum[] = {0.04042461468967651,
                                   -0.05607285263418188,
                                   -0.14344218115701968,
                                   -0.6127061327742307,
                                   0.24954587526891098,
                                   0.2596900165409135,
                                   -600000.0011987289,
                                   -800000.0015983052,
                                   0.0,
                                   2.49966713994354e-13,
                                   2.49966713994354e-13,
                                   0.0004999998749997969,
                                   0.0,
                                   0.0,
                                   0.0};
static const double ce_gb_sum[] = {-0.09056263692241023,
                                   0.002156253259839147,
                                   0.21023469285539875,
                                   0.5338245966336895,
                                   -0.25264980909385454,
                                   0.2387948195634806,
                                   0.0,
                                   0.0,
                                   0.0,
                                   2.5000006248498963e-07,
                                   2.5000006248498963e-07,
                                   -0.0004999996249997344,
                                   0.0,
                                   0.0,
                                   0.0};

static void ce_call(loss_call *c, double margin, loss_reduction red)
{
    call_begin(c, "cosine_embedding");
    call_input(c, "x1", ce_a, SHAPE(5, 3));
    call_input(c, "x2", ce_b, SHAPE(5, 3));
    call_input(c, "targets", ce_y, SHAPE(5));
    call_param(c, "margin", margin);
    c->reduction = red;
    c->want_gradient = 1;
}

Test(cosine_embedding, values_and_gradients_should_match_pytorch)
{
    static const struct {
        double margin;
        loss_reduction red;
        double value, scale;
    } cases[] = {
        {0.0, LOSS_REDUCE_MEAN, 0.5587254089429968, 0.2},
        {0.5, LOSS_REDUCE_SUM, 1.793627044714984, 1.0},
        {-0.3, LOSS_REDUCE_MEAN, 0.6787254089429967, 0.2},
    };
    for (size_t k = 0; k < N_OF(cases); k++) {
        loss_call c;
        loss_result r;
        double ga[15], gb[15];
        for (size_t i = 0; i < 15; i++) {
            ga[i] = ce_ga_sum[i] * cases[k].scale;
            gb[i] = ce_gb_sum[i] * cases[k].scale;
        }
        ce_call(&c, cases[k].margin, cases[k].red);
        compute_ok(&c, NULL, &r);
        expect_value(&r, cases[k].value);
        expect_grad(&c, &r, "x1", ga, 15);
        expect_grad(&c, &r, "x2", gb, 15);
        loss_result_release(&r);
    }
}

Test(cosine_embedding, none_should_give_one_value_per_row)
{
    static const double want[] = {0.06892984230796262, 0.22469745240742744, 1.0,
                                  0.49999974999959373, 0.0};
    loss_call c;
    loss_result r;
    ce_call(&c, 0.5, LOSS_REDUCE_NONE);
    compute_ok(&c, NULL, &r);
    expect_values(&r.terms[0], want, 5, 1e-12, "none");
    expect_grad(&c, &r, "x1", ce_ga_sum, 15);
    loss_result_release(&r);
}

Test(cosine_embedding, two_zero_vectors_should_give_loss_one_and_zero_gradient)
{
    /* F.cosine_embedding_loss(zeros(1,3), zeros(1,3), [1]) = 1, both grads 0 */
    double z1[3] = {0}, z2[3] = {0}, y = 1, zero[3] = {0};
    loss_call c;
    loss_result r;
    call_begin(&c, "cosine_embedding");
    call_input(&c, "x1", z1, SHAPE(1, 3));
    call_input(&c, "x2", z2, SHAPE(1, 3));
    call_input(&c, "targets", &y, SHAPE(1));
    c.want_gradient = 1;
    compute_ok(&c, NULL, &r);
    expect_value(&r, 1.0);
    expect_grad(&c, &r, "x1", zero, 3);
    expect_grad(&c, &r, "x2", zero, 3);
    loss_result_release(&r);
}

Test(cosine_embedding, a_negative_pair_at_the_margin_should_pass_the_gradient)
{
    /* Orthogonal vectors, margin 0: cos is exactly 0 and clamp_min passes the gradient.
     * F.cosine_embedding_loss([1,2], [2,-1], tensor(-1.), reduction='none') = 0 (shape ()),
     * grads [0.39999999999992, -0.19999999999996] and [0.19999999999996, 0.39999999999992]. */
    double a[] = {1, 2}, b[] = {2, -1}, y = -1;
    loss_call c;
    loss_result r;
    call_begin(&c, "cosine_embedding");
    call_input(&c, "x1", a, SHAPE(2));
    call_input(&c, "x2", b, SHAPE(2));
    call_input(&c, "targets", &y, SCALAR);
    c.reduction = LOSS_REDUCE_NONE;
    c.want_gradient = 1;
    compute_ok(&c, NULL, &r);
    cr_expect_eq(r.terms[0].rank, 0);
    expect_values(&r.terms[0], (double[]){0.0}, 1, 1e-12, "none");
    expect_grad(&c, &r, "x1", (double[]){0.39999999999992, -0.19999999999996}, 2);
    expect_grad(&c, &r, "x2", (double[]){0.19999999999996, 0.39999999999992}, 2);
    loss_result_release(&r);
}

Test(cosine_embedding, bad_targets_shapes_and_margins_should_be_refused)
{
    loss_call c;
    double y[] = {1, -1, 0, 1, 1};
    ce_call(&c, 0, LOSS_REDUCE_MEAN);
    call_input(&c, "targets", y, SHAPE(5));
    expect_error(&c, LOSS_ERR_DOMAIN, "targets");
    ce_call(&c, 0, LOSS_REDUCE_MEAN);
    call_input(&c, "x2", ce_b, SHAPE(3, 5));
    expect_error(&c, LOSS_ERR_SHAPE, "x2");
    ce_call(&c, 0, LOSS_REDUCE_MEAN);
    call_input(&c, "targets", ce_y, SCALAR);
    expect_error(&c, LOSS_ERR_SHAPE, "targets");
    ce_call(&c, 1.5, LOSS_REDUCE_MEAN);
    expect_error(&c, LOSS_ERR_PARAM, "margin");
}

Test(cosine_embedding, gradients_float32_and_workers_should_agree)
{
    enum { N = 500, D = 37 };
    double *a = mem_alloc_array(N * D, sizeof(double)), *b = mem_alloc_array(N * D, 8), y[N];
    fill_uniform(a, N * D, -1, 1, 8);
    fill_uniform(b, N * D, -1, 1, 9);
    fill_uniform(y, N, 0, 1, 10);
    for (size_t i = 0; i < N; i++)
        y[i] = y[i] < 0.5 ? -1.0 : 1.0;
    loss_call c;
    call_begin(&c, "cosine_embedding");
    call_input(&c, "x1", a, SHAPE(N, D));
    call_input(&c, "x2", b, SHAPE(N, D));
    call_input(&c, "targets", y, SHAPE(N));
    call_param(&c, "margin", -0.1);
    check_workers(&c);
    check_float32(&c);
    call_input(&c, "x1", a, SHAPE(8, D));
    call_input(&c, "x2", b, SHAPE(8, D));
    call_input(&c, "targets", y, SHAPE(8));
    fd_check(&c);
    ce_call(&c, 0.5, LOSS_REDUCE_MEAN);
    call_input(&c, "x1", ce_a, SHAPE(2, 3)); /* the zero vector's 1e6 slope is not smooth */
    call_input(&c, "x2", ce_b, SHAPE(2, 3));
    call_input(&c, "targets", ce_y, SHAPE(2));
    fd_check(&c);
    mem_free(a);
    mem_free(b);
}

/* Rows of 13 x 5: the chunk writes a row's gradient after the next row's dot products. */
enum { CE_BLOCK_N = 13, CE_BLOCK_D = 5 };

static void ce_block_call(loss_call *c, double *a, double *b, double *y, size_t n)
{
    call_begin(c, "cosine_embedding");
    call_input(c, "x1", a, SHAPE(n, CE_BLOCK_D));
    call_input(c, "x2", b, SHAPE(n, CE_BLOCK_D));
    call_input(c, "targets", y, SHAPE(n));
    call_param(c, "margin", 0.1);
    c->reduction = LOSS_REDUCE_NONE;
    c->want_gradient = 1;
}

static void ce_block_fill(double *a, double *b, double *y)
{
    fill_uniform(a, CE_BLOCK_N * CE_BLOCK_D, -1, 1, 21);
    fill_uniform(b, CE_BLOCK_N * CE_BLOCK_D, -1, 1, 22);
    for (size_t i = 0; i < CE_BLOCK_N; i++)
        y[i] = i % 3 ? -1.0 : 1.0;
}

/* The error names the first bad row in row order, wherever it falls: a target that is not
 * +-1 or a non-finite element, whichever row comes first. */
Test(cosine_embedding, the_first_bad_row_should_be_reported_wherever_it_falls)
{
    static const size_t rows[] = {0, 5, 7, 8, 11, 12};
    double a[CE_BLOCK_N * CE_BLOCK_D], b[CE_BLOCK_N * CE_BLOCK_D], y[CE_BLOCK_N];
    for (size_t k = 0; k < N_OF(rows); k++)
        for (int dt = 0; dt < 2; dt++)
            for (int nan_first = 0; nan_first < 2; nan_first++) {
                const size_t bad = rows[k], later = bad + 1 < CE_BLOCK_N ? bad + 1 : bad;
                loss_call c;
                loss_result r;
                loss_error e;
                char want[64];
                ce_block_fill(a, b, y);
                if (nan_first) /* x1 bad at `bad`, the target bad after it */
                    a[bad * CE_BLOCK_D + 2] = NAN, y[later] = later == bad ? y[bad] : 0.5;
                else /* the target bad at `bad`, x1 after it */
                    y[bad] = 0.5, a[later * CE_BLOCK_D + 2] = later == bad ? a[2] : (double)NAN;
                ce_block_call(&c, a, b, y, CE_BLOCK_N);
                c.dtype = dt ? LOSS_DTYPE_F32 : LOSS_DTYPE_F64;
                cr_assert_eq(loss_compute(&c, NULL, &r, &e),
                             nan_first ? LOSS_ERR_NON_FINITE : LOSS_ERR_DOMAIN, "row %zu: %s", bad,
                             e.message);
                cr_expect_str_eq(e.field, nan_first ? "x1" : "targets");
                snprintf(want, sizeof want, "%s[%zu]", nan_first ? "x1" : "targets",
                         nan_first ? bad * CE_BLOCK_D + 2 : bad);
                cr_expect(strstr(e.message, want) != NULL, "want %s in: %s", want, e.message);
            }
}

/* A row's loss and gradient bytes do not depend on the rows around it: each row of a 13-row
 * call matches a call of that row alone, in both dtypes. */
Test(cosine_embedding, rows_should_give_the_same_bytes_alone_and_among_others)
{
    double a[CE_BLOCK_N * CE_BLOCK_D], b[CE_BLOCK_N * CE_BLOCK_D], y[CE_BLOCK_N];
    ce_block_fill(a, b, y);
    for (int dt = 0; dt < 2; dt++) {
        loss_call c;
        loss_result all;
        ce_block_call(&c, a, b, y, CE_BLOCK_N);
        c.dtype = dt ? LOSS_DTYPE_F32 : LOSS_DTYPE_F64;
        compute_ok(&c, NULL, &all);
        const size_t es = dt ? sizeof(float) : sizeof(double);
        for (size_t i = 0; i < CE_BLOCK_N; i++) {
            loss_result one;
            ce_block_call(&c, a + i * CE_BLOCK_D, b + i * CE_BLOCK_D, y + i, 1);
            c.dtype = dt ? LOSS_DTYPE_F32 : LOSS_DTYPE_F64;
            compute_ok(&c, NULL, &one);
            const char *p = all.terms[0].data, *q = one.terms[0].data;
            cr_expect(!memcmp(p + i * es, q, es), "dtype %d row %zu: loss", dt, i);
            for (int in = 0; in < 2; in++) {
                p = all.grad[in].data, q = one.grad[in].data;
                cr_expect(!memcmp(p + i * CE_BLOCK_D * es, q, CE_BLOCK_D * es),
                          "dtype %d row %zu: gradient %d", dt, i, in);
            }
            loss_result_release(&one);
        }
        loss_result_release(&all);
    }
}
