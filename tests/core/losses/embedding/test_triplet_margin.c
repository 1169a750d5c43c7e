/* triplet_margin: expected numbers printed by /usr/bin/python3 (torch, torchvision, float64,
 * "%.17g") from the call quoted above each test; gradients also by central differences, and
 * results bit-identical across worker counts. */
#include "../shaped_call.h"

static double tri_a[] = {0.1, 0.7, -0.3, 1.2, -0.5, 0.4, 0.0, 0.0, 0.0, -0.8, 0.3, 0.9};
static double tri_p[] = {0.4, 0.5, 0.1, 0.2, -0.1, 0.6, 0.0, 0.0, 0.0, -0.6, 0.0, 1.1};
static double tri_n[] = {0.3, 0.9, -0.2, -0.7, 0.4, 0.2, 1.0, -1.0, 0.5, 1.5, 0.2, -0.4};

static void triplet_call(loss_call *c, loss_reduction red)
{
    start(c, "triplet_margin", red);
    put_f(c, "anchor", tri_a, 2, SHAPE(4, 3));
    put_f(c, "positive", tri_p, 2, SHAPE(4, 3));
    put_f(c, "negative", tri_n, 2, SHAPE(4, 3));
}

static void expect_triplet(const loss_call *c, double value, const double ga[12],
                           const double gp[12], const double gn[12], double tol)
{
    loss_result r;
    run_ok(c, NULL, &r);
    expect_value(&r, value, tol);
    expect_near(grad_of(c, &r, "anchor"), ga, 12, tol, "anchor grad");
    expect_near(grad_of(c, &r, "positive"), gp, 12, tol, "positive grad");
    expect_near(grad_of(c, &r, "negative"), gn, 12, tol, "negative grad");
    loss_result_release(&r);
}

/* F.triplet_margin_loss(A, P, N), A, P, N = tri_a, tri_p, tri_n as (4, 3) */
Test(triplet_margin, defaults_should_match_pytorch)
{
    /* clang-format off */
    const double ga[] = {0.027395479742742035, 0.25951505266936153, -0.10236223114134725, 0, 0, 0,
                         0, 0, 0, 0, 0, 0};
    const double gp[] = {0.13927127951682583, -0.0928482934097936, 0.18569519410214969, 0, 0, 0,
                         0, 0, 0, 0, 0, 0};
    const double gn[] = {-0.16666675925956786, -0.16666675925956795, -0.083332962960802434, 0, 0,
                         0, 0, 0, 0, 0, 0, 0};
    /* clang-format on */
    loss_call c;
    triplet_call(&c, LOSS_REDUCE_MEAN);
    expect_triplet(&c, 0.30962930472626021, ga, gp, gn, 1e-12);
    c.dtype = LOSS_DTYPE_F32;
    expect_triplet(&c, 0.30962930472626021, ga, gp, gn, 1e-5);
}

/* F.triplet_margin_loss(A, P, N, p=1.0) */
Test(triplet_margin, p_one_should_use_signs)
{
    const double ga[] = {0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const double gp[] = {0.25, -0.25, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const double gn[] = {-0.25, -0.25, -0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    loss_call c;
    triplet_call(&c, LOSS_REDUCE_MEAN);
    set_param(&c, "p", 1.0);
    expect_triplet(&c, 0.35000049999999999, ga, gp, gn, 1e-12);
}

/* F.triplet_margin_loss(A, P, N, p=3.0) */
Test(triplet_margin, general_p_should_match_pytorch)
{
    /* clang-format off */
    const double ga[] = {0.046114361008937371, 0.19798054215379141, -0.14909896726033442,
                         0.0051210647823618227, 0.014216286005792472, -0.012134860422631285,
                         0, 0, 0, 0, 0, 0};
    const double gp[] = {0.10513758623682312, -0.046728594908030774, 0.18691157594096108,
                         -0.23867689103097578, 0.038188035247573304, 0.0095469610767895917,
                         0, 0, 0, 0, 0, 0};
    const double gn[] = {-0.15125194724576049, -0.15125194724576063, -0.037812608680626671,
                         0.23355582624861396, -0.052404321253365777, 0.0025878993458416932,
                         0, 0, 0, 0, 0, 0};
    /* clang-format on */
    loss_call c;
    triplet_call(&c, LOSS_REDUCE_MEAN);
    set_param(&c, "p", 3.0);
    expect_triplet(&c, 0.31579364613689598, ga, gp, gn, 1e-12);
    check_fd(&c, "anchor", 1e-6);
}

/* F.triplet_margin_loss(A, P, N, p=1.5, margin=0.5) */
Test(triplet_margin, fractional_p_should_match_pytorch)
{
    /* clang-format off */
    const double ga[] = {0.016192458745678817, 0.32818202954817816, -0.065426249486529919, 0, 0,
                         0, 0, 0, 0, 0, 0, 0};
    const double gp[] = {0.17175313719907492, -0.14023643360342436, 0.19832352262712216, 0, 0,
                         0, 0, 0, 0, 0, 0, 0};
    const double gn[] = {-0.18794559594475374, -0.1879455959447538, -0.13289727314059224, 0, 0,
                         0, 0, 0, 0, 0, 0, 0};
    /* clang-format on */
    loss_call c;
    triplet_call(&c, LOSS_REDUCE_MEAN);
    set_param(&c, "p", 1.5);
    set_param(&c, "margin", 0.5);
    expect_triplet(&c, 0.19543495018753426, ga, gp, gn, 1e-12);
}

/* F.triplet_margin_loss(A, P, N, swap=True) */
Test(triplet_margin, swap_should_use_the_closer_negative_distance)
{
    /* clang-format off */
    const double ga[] = {0.027395479742742035, 0.25951505266936153, -0.10236223114134725,
                         0.22821788443865079, -0.091286834270741621, -0.045643303026542681,
                         0, 0, 0, 0, 0, 0};
    const double gp[] = {0.13927127951682583, -0.0928482934097936, 0.18569519410214969,
                         -0.4319234057960849, 0.20445621627497906, -0.044892609987437299,
                         0, 0, 0, 0, 0, 0};
    const double gn[] = {-0.16666675925956786, -0.16666675925956795, -0.083332962960802434,
                         0.20370552135743411, -0.11316938200423744, 0.090535913013979979,
                         0, 0, 0, 0, 0, 0};
    /* clang-format on */
    loss_call c;
    triplet_call(&c, LOSS_REDUCE_MEAN);
    set_param(&c, "swap", 1);
    expect_triplet(&c, 0.55735646826480956, ga, gp, gn, 1e-12);
    check_fd(&c, "positive", 1e-6);
    check_fd(&c, "negative", 1e-6);
}

/* F.triplet_margin_loss(A, P, N, swap=True, p=1.0, margin=2.0) */
Test(triplet_margin, swap_with_p_one_should_match_pytorch)
{
    const double ga[] = {0, 0.5, 0, 0.25, -0.25, -0.25, 0, 0, 0, 0, 0, 0};
    const double gp[] = {0.25, -0.25, 0.25, -0.5, 0.5, 0, 0, 0, 0, 0, 0, 0};
    const double gn[] = {-0.25, -0.25, -0.25, 0.25, -0.25, 0.25, 0, 0, 0, 0, 0, 0};
    loss_call c;
    triplet_call(&c, LOSS_REDUCE_MEAN);
    set_param(&c, "swap", 1);
    set_param(&c, "p", 1.0);
    set_param(&c, "margin", 2.0);
    expect_triplet(&c, 1.05, ga, gp, gn, 1e-12);
}

/* F.triplet_margin_loss(A, P, N, margin=0.8, reduction='none') */
Test(triplet_margin, none_should_give_one_term_per_row)
{
    const double terms[] = {1.0385172189050409, 0, 0, 0};
    /* clang-format off */
    const double ga[] = {0.10958191897096814, 1.0380602106774461, -0.40944892456538901, 0, 0, 0,
                         0, 0, 0, 0, 0, 0};
    /* clang-format on */
    loss_call c;
    loss_result r;
    triplet_call(&c, LOSS_REDUCE_NONE);
    set_param(&c, "margin", 0.8);
    run_ok(&c, NULL, &r);
    expect_near(&r.terms[0], terms, 4, 1e-12, "terms");
    expect_near(grad_of(&c, &r, "anchor"), ga, 12, 1e-12, "anchor grad");
    loss_result_release(&r);
}

static void expect_single_triplet(double *a, double *p, double *n, double value, const double g[6],
                                  int swap, double margin, double eps)
{
    loss_call c;
    loss_result r;
    start(&c, "triplet_margin", LOSS_REDUCE_MEAN);
    put_f(&c, "anchor", a, 2, SHAPE(1, 2));
    put_f(&c, "positive", p, 2, SHAPE(1, 2));
    put_f(&c, "negative", n, 2, SHAPE(1, 2));
    set_param(&c, "swap", swap);
    set_param(&c, "margin", margin);
    set_param(&c, "eps", eps);
    run_ok(&c, NULL, &r);
    expect_value(&r, value, 1e-12);
    expect_near(grad_of(&c, &r, "anchor"), g, 2, 1e-12, "anchor grad");
    expect_near(grad_of(&c, &r, "positive"), g + 2, 2, 1e-12, "positive grad");
    expect_near(grad_of(&c, &r, "negative"), g + 4, 2, 1e-12, "negative grad");
    loss_result_release(&r);
}

/* F.triplet_margin_loss(torch.tensor([[0., 0]]), torch.tensor([[1., 0]]),
 *                       torch.tensor([[0., 2]]), eps=0.0): z = 0 exactly */
Test(triplet_margin, hinge_tie_should_pass_the_gradient)
{
    double a[] = {0, 0}, p[] = {1, 0}, n[] = {0, 2};
    const double g[] = {-1, 1, 1, 0, 0, -1};
    expect_single_triplet(a, p, n, 0.0, g, 0, 1.0, 0.0);
}

/* F.triplet_margin_loss(torch.tensor([[0., 0]]), torch.tensor([[2., 0]]),
 *                       torch.tensor([[1., 1]]), eps=0.0, swap=True, margin=2.0):
 * d(a, n) == d(p, n), torch.min splits the gradient */
Test(triplet_margin, swap_tie_should_split_the_gradient)
{
    double a[] = {0, 0}, p[] = {2, 0}, n[] = {1, 1};
    /* clang-format off */
    const double g[] = {-0.64644660940672627, 0.35355339059327373, 0.64644660940672627,
                        0.35355339059327373, 0, -0.70710678118654746};
    /* clang-format on */
    expect_single_triplet(a, p, n, 2.5857864376269051, g, 1, 2.0, 0.0);
}

/* F.triplet_margin_loss(torch.tensor([0.5, 0.5]), torch.tensor([0.5, 0.5]),
 *                       torch.tensor([1.5, -0.5]), margin=2.0): anchor = positive */
Test(triplet_margin, vectors_and_identical_anchor_positive_should_stay_finite)
{
    double a[] = {0.5, 0.5}, p[] = {0.5, 0.5}, n[] = {1.5, -0.5};
    const double ga[] = {1.4142128552659603, -7.071064275221417e-07};
    const double gp[] = {-0.70710678118654757, -0.70710678118654757};
    const double gn[] = {-0.70710607407941273, 0.70710748829297509};
    loss_call c;
    loss_result r;
    start(&c, "triplet_margin", LOSS_REDUCE_NONE);
    put_f(&c, "anchor", a, 1, SHAPE(2));
    put_f(&c, "positive", p, 1, SHAPE(2));
    put_f(&c, "negative", n, 1, SHAPE(2));
    set_param(&c, "margin", 2.0);
    run_ok(&c, NULL, &r);
    cr_assert_eq(r.terms[0].rank, 0);
    expect_near(&r.terms[0], (const double[]){0.58578785183976012}, 1, 1e-12, "term");
    expect_near(grad_of(&c, &r, "anchor"), ga, 2, 1e-12, "anchor grad");
    expect_near(grad_of(&c, &r, "positive"), gp, 2, 1e-12, "positive grad");
    expect_near(grad_of(&c, &r, "negative"), gn, 2, 1e-12, "negative grad");
    loss_result_release(&r);
}

Test(triplet_margin, bad_inputs_should_be_refused)
{
    double n[12];
    memcpy(n, tri_n, sizeof n);
    loss_call c;
    triplet_call(&c, LOSS_REDUCE_MEAN);
    put_f(&c, "negative", n, 2, SHAPE(3, 4));
    run_err(&c, LOSS_ERR_SHAPE, "negative", NULL);
    put_f(&c, "negative", n, 2, SHAPE(4, 3));
    n[7] = INFINITY;
    run_err(&c, LOSS_ERR_NON_FINITE, "negative", "negative[7]");
    n[7] = 0;
    set_param(&c, "p", 0.0);
    run_err(&c, LOSS_ERR_PARAM, "p", NULL);
}

Test(triplet_margin, result_bytes_should_not_depend_on_the_number_of_workers)
{
    const size_t n = 20000, dim = 10;
    double *a = mem_alloc(n * dim * sizeof *a), *p = mem_alloc(n * dim * sizeof *p);
    double *ng = mem_alloc(n * dim * sizeof *ng);
    random_fill(a, n * dim, 10);
    random_fill(p, n * dim, 11);
    random_fill(ng, n * dim, 12);
    loss_call c;
    start(&c, "triplet_margin", LOSS_REDUCE_MEAN);
    put_f(&c, "anchor", a, 2, SHAPE(n, dim));
    put_f(&c, "positive", p, 2, SHAPE(n, dim));
    put_f(&c, "negative", ng, 2, SHAPE(n, dim));
    set_param(&c, "swap", 1);
    for (int dt = 0; dt < 2; dt++) {
        c.dtype = (loss_dtype)dt;
        expect_same_bytes_across_workers(&c);
    }
    mem_free(a);
    mem_free(p);
    mem_free(ng);
}

/* Long-double statement of one Euclidean triplet (rows of dim at a, p, n): the loss and the
 * three gradient rows for gradient scale g (PyTorch's formulas; swap's tie splits). */
static long double triplet_oracle(const double *a, const double *p, const double *n, size_t dim,
                                  double eps, int swap, long double *ga, long double *gp,
                                  long double *gn)
{
    long double ap = 0, an = 0, pn = 0;
    for (size_t k = 0; k < dim; k++) {
        long double u = (long double)a[k] - p[k] + eps, v = (long double)a[k] - n[k] + eps;
        long double w = (long double)p[k] - n[k] + eps;
        ap += u * u, an += v * v, pn += w * w;
    }
    ap = sqrtl(ap), an = sqrtl(an), pn = sqrtl(pn);
    long double w_an = !swap || an < pn ? 1 : an == pn ? 0.5L : 0, w_pn = swap ? 1 - w_an : 0;
    long double z = 1.0L + ap - (w_an * an + w_pn * pn), g = z >= 0 ? 1 : 0;
    for (size_t k = 0; k < dim; k++) {
        long double u_ap = g * ((long double)a[k] - p[k] + eps) / ap;
        long double u_an = g * w_an * ((long double)a[k] - n[k] + eps) / an;
        long double u_pn = w_pn ? g * w_pn * ((long double)p[k] - n[k] + eps) / pn : 0;
        ga[k] = u_ap - u_an, gp[k] = -u_ap - u_pn, gn[k] = u_an + u_pn;
    }
    return z > 0 ? z : 0;
}

/* The Euclidean rows are summed in 8 packed lanes: every width around the lane count, both
 * dtypes, with and without swap, against the long-double statement (reduction sum, so the
 * gradient scale is 1). */
Test(triplet_margin, euclidean_rows_of_any_width_should_match_a_long_double_oracle)
{
    /* clang-format off */
    const size_t dims[] = {1, 2, 7, 8, 9, 16, 31, 128, 130}, rows = 5;
    /* clang-format on */
    double *x[3];
    long double *g[3];
    for (int k = 0; k < 3; k++) {
        x[k] = mem_alloc(rows * 130 * sizeof *x[k]);
        g[k] = mem_alloc(rows * 130 * sizeof *g[k]);
    }
    for (size_t d = 0; d < COUNT(dims); d++)
        for (int swap = 0; swap < 2; swap++)
            for (int dt = 0; dt < 2; dt++) {
                const size_t dim = dims[d];
                for (size_t k = 0; k < 3; k++) {
                    random_fill(x[k], rows * dim, 40 + d * 3 + k);
                    for (size_t i = 0; dt == LOSS_DTYPE_F32 && i < rows * dim; i++)
                        x[k][i] = (float)x[k][i]; /* the oracle sees what the kernel sees */
                }
                loss_call c;
                start(&c, "triplet_margin", LOSS_REDUCE_SUM);
                c.dtype = (loss_dtype)dt;
                put_f(&c, "anchor", x[0], 2, SHAPE(rows, dim));
                put_f(&c, "positive", x[1], 2, SHAPE(rows, dim));
                put_f(&c, "negative", x[2], 2, SHAPE(rows, dim));
                set_param(&c, "swap", swap);
                loss_result r;
                run_ok(&c, NULL, &r);
                const double eps = dt == LOSS_DTYPE_F32 ? (double)(float)1e-6 : 1e-6;
                const double tol = dt == LOSS_DTYPE_F32 ? 1e-6 : 1e-14;
                long double want = 0;
                for (size_t i = 0; i < rows; i++) {
                    size_t o = i * dim;
                    want += triplet_oracle(x[0] + o, x[1] + o, x[2] + o, dim, eps, swap, g[0] + o,
                                           g[1] + o, g[2] + o);
                }
                cr_assert(fabsl(r.value - want) <= tol * (fabsl(want) + 1),
                          "D %zu swap %d dt %d: %.17g vs %.17Lg", dim, swap, dt, r.value, want);
                const char *names[] = {"anchor", "positive", "negative"};
                for (int k = 0; k < 3; k++)
                    for (size_t i = 0; i < rows * dim; i++) {
                        double got = at(grad_of(&c, &r, names[k]), i);
                        cr_assert(fabsl(got - g[k][i]) <= tol * (fabsl(g[k][i]) + 1),
                                  "D %zu swap %d dt %d %s grad[%zu] %.17g vs %.17Lg", dim, swap, dt,
                                  names[k], i, got, g[k][i]);
                    }
                loss_result_release(&r);
            }
    for (int k = 0; k < 3; k++) {
        mem_free(x[k]);
        mem_free(g[k]);
    }
}

/* A non-finite element in a wide row: the Euclidean chunk hands the chunk back, and the
 * reference names the first bad element. */
Test(triplet_margin, a_non_finite_element_in_a_wide_row_should_be_reported_by_index)
{
    const size_t rows = 4, dim = 40;
    double a[160], p[160], n[160];
    random_fill(a, rows * dim, 1);
    random_fill(p, rows * dim, 2);
    random_fill(n, rows * dim, 3);
    n[2 * dim + 37] = NAN;
    p[3 * dim + 1] = INFINITY;
    loss_call c;
    start(&c, "triplet_margin", LOSS_REDUCE_MEAN);
    put_f(&c, "anchor", a, 2, SHAPE(rows, dim));
    put_f(&c, "positive", p, 2, SHAPE(rows, dim));
    put_f(&c, "negative", n, 2, SHAPE(rows, dim));
    for (int dt = 0; dt < 2; dt++) {
        c.dtype = (loss_dtype)dt;
        run_err(&c, LOSS_ERR_NON_FINITE, "negative", "[117]");
    }
}
