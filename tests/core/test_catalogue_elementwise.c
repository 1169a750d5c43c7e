/* catalogue_elementwise losses: values and gradients against PyTorch (or the Keras / written
 * formula) with the call that produced each number, the measured PyTorch edge cases, domain and
 * shape errors, central finite differences for every gradient, float32 against float64, and
 * bit-identical results for 1, 2 and 7 workers. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "golden.h"
#include "kern.h"
#include "loss.h"
#include "mem.h"
#include "pool.h"

#define MAX_IN 4
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* One input of a case: descriptor name, shape, borrowed float64 data. */
typedef struct {
    const char *name;
    size_t rank;
    size_t shape[3];
    const double *data;
} tin;

typedef struct {
    const char *name;
    double value;
} tparam;

/* A request: the loss, its inputs (name NULL ends the list) and parameters. */
typedef struct {
    const char *loss;
    tin in[MAX_IN];
    tparam par[3];
} tcase;

/* What PyTorch gives: per-element values (reduction none), the gradient of their sum for
 * each input of the case (NULL: none expected), and the mean. */
typedef struct {
    const double *values;
    const double *grad[MAX_IN];
    double mean;
} texpect;

static const loss_desc *find(const char *name)
{
    const loss_desc *d = loss_registry_find(name, strlen(name));
    cr_assert_not_null(d, "%s is registered", name);
    return d;
}

static size_t tin_count(const tin *t)
{
    size_t n = 1;
    for (size_t k = 0; k < t->rank; k++)
        n *= t->shape[k];
    return n;
}

static int input_index(const loss_desc *d, const char *name)
{
    int i = loss_desc_input_index(d, name, strlen(name));
    cr_assert_geq(i, 0, "%s has an input %s", d->name, name);
    return i;
}

static void build(loss_call *c, const tcase *tc, loss_dtype dt, loss_reduction red, int grad)
{
    const loss_desc *d = find(tc->loss);
    loss_call_init(c, d);
    c->dtype = dt;
    c->reduction = red;
    c->want_gradient = grad;
    for (size_t k = 0; k < MAX_IN && tc->in[k].name; k++) {
        const tin *t = &tc->in[k];
        int i = input_index(d, t->name);
        c->input[i] = (tensor){.type = TENSOR_F64,
                               .rank = t->rank,
                               .count = tin_count(t),
                               .data = (void *)(uintptr_t)t->data};
        memcpy(c->input[i].shape, t->shape, sizeof t->shape);
        c->present[i] = 1;
    }
    for (size_t k = 0; k < N_OF(tc->par) && tc->par[k].name; k++) {
        int i = loss_desc_param_index(d, tc->par[k].name, strlen(tc->par[k].name));
        cr_assert_geq(i, 0, "%s has a parameter %s", d->name, tc->par[k].name);
        c->param[i] = tc->par[k].value;
        c->param_set[i] = 1;
    }
}

static void compute(const tcase *tc, loss_dtype dt, loss_reduction red, loss_result *r)
{
    loss_call c;
    loss_error e;
    build(&c, tc, dt, red, 1);
    loss_status st = loss_compute(&c, NULL, r, &e);
    cr_assert_eq(st, LOSS_OK, "%s: %s", tc->loss, e.message);
}

/* |got - want| <= rtol |want| + atol, with NaN and infinities equal only to themselves. */
static int near(double got, double want, double rtol, double atol)
{
    if (isnan(want) || isinf(want))
        return isnan(want) ? isnan(got) : got == want;
    return fabs(got - want) <= rtol * fabs(want) + atol;
}

static void expect_tensor(const char *what, const tensor *t, const double *want, size_t n,
                          double factor, double rtol, double atol)
{
    cr_assert_eq(t->count, n, "%s: %zu elements, expected %zu", what, t->count, n);
    for (size_t i = 0; i < n; i++)
        cr_expect(near(tensor_get(t, i), want[i] * factor, rtol, atol),
                  "%s[%zu] = %.17g, expected %.17g", what, i, tensor_get(t, i), want[i] * factor);
}

/* Checks none (values, gradient of the sum), mean and sum against ex, for one dtype. */
static void check_dtype(const tcase *tc, const texpect *ex, loss_dtype dt)
{
    const double rtol = dt == LOSS_DTYPE_F64 ? 1e-12 : 1e-5;
    const double atol = dt == LOSS_DTYPE_F64 ? 1e-300 : 1e-7;
    const loss_desc *d = find(tc->loss);
    size_t n = tin_count(&tc->in[0]);
    loss_result r;
    compute(tc, dt, LOSS_REDUCE_NONE, &r);
    expect_tensor("none values", &r.terms[0], ex->values, n, 1.0, rtol, atol);
    double sum = 0, abs_sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += ex->values[i];
        abs_sum += fabs(ex->values[i]);
    }
    for (size_t k = 0; k < MAX_IN && tc->in[k].name; k++) {
        int i = input_index(d, tc->in[k].name);
        if (ex->grad[k])
            expect_tensor(tc->in[k].name, &r.grad[i], ex->grad[k], tin_count(&tc->in[k]), 1.0, rtol,
                          atol);
        else
            cr_expect_null(r.grad[i].data, "%s takes no gradient", tc->in[k].name);
    }
    loss_result_release(&r);
    compute(tc, dt, LOSS_REDUCE_MEAN, &r);
    cr_expect(near(r.value, ex->mean, rtol, atol), "%s mean %.17g, expected %.17g", tc->loss,
              r.value, ex->mean);
    for (size_t k = 0; k < MAX_IN && tc->in[k].name; k++)
        if (ex->grad[k])
            expect_tensor(tc->in[k].name, &r.grad[input_index(d, tc->in[k].name)], ex->grad[k],
                          tin_count(&tc->in[k]), 1.0 / (double)n, rtol, atol);
    loss_result_release(&r);
    compute(tc, dt, LOSS_REDUCE_SUM, &r);
    cr_expect(fabs(r.value - sum) <= rtol * abs_sum + atol, "%s sum %.17g, expected %.17g",
              tc->loss, r.value, sum);
    loss_result_release(&r);
}

/* The case in float64 to 1e-12 and in float32 to 1e-5, for none, mean and sum. */
static void check_case(const tcase *tc, const texpect *ex)
{
    check_dtype(tc, ex, LOSS_DTYPE_F64);
    check_dtype(tc, ex, LOSS_DTYPE_F32);
}

/* Computes tc and expects an error `status` naming `field`. */
static void expect_error(const tcase *tc, loss_status status, const char *field)
{
    loss_call c;
    loss_result r;
    loss_error e;
    build(&c, tc, LOSS_DTYPE_F64, LOSS_REDUCE_MEAN, 1);
    loss_status st = loss_compute(&c, NULL, &r, &e);
    cr_assert_eq(st, status, "%s: status %d (%s), expected %d", tc->loss, st, e.message, status);
    cr_expect_str_eq(e.field, field, "%s: %s", tc->loss, e.message);
}

/* ---- generated cases: finite differences, float32, worker counts ---- */

typedef enum { G_UNIFORM, G_POSITIVE, G_UNIT, G_BIT, G_SIGN } gen_kind;
/* Shapes of a generated input with `rows` x COLS predictions. */
typedef enum { S_FULL, S_ROW1, S_ROWLESS, S_LAST, S_HALF } shape_kind;
#define COLS 4

typedef struct {
    const char *name;
    gen_kind gen;
    shape_kind shape;
} rin;

typedef struct {
    const char *loss;
    rin in[MAX_IN];
    tparam par[3];
} rspec;

static const rspec generated[] = {
    {"smooth_l1",
     {{"predictions", G_UNIFORM, S_FULL}, {"targets", G_UNIFORM, S_FULL}},
     {{"beta", 0.7}}},
    {"smooth_l1",
     {{"predictions", G_UNIFORM, S_FULL}, {"targets", G_UNIFORM, S_FULL}},
     {{"beta", 0.0}}},
    {"log_cosh", {{"predictions", G_UNIFORM, S_FULL}, {"targets", G_UNIFORM, S_FULL}}, {{0}}},
    {"mape", {{"predictions", G_UNIFORM, S_FULL}, {"targets", G_POSITIVE, S_FULL}}, {{0}}},
    {"msle", {{"predictions", G_POSITIVE, S_FULL}, {"targets", G_POSITIVE, S_FULL}}, {{0}}},
    {"quantile",
     {{"predictions", G_UNIFORM, S_FULL}, {"targets", G_UNIFORM, S_FULL}},
     {{"quantile", 0.3}}},
    {"poisson_nll",
     {{"predictions", G_UNIFORM, S_FULL}, {"targets", G_POSITIVE, S_FULL}},
     {{"full", 1}}},
    {"poisson_nll",
     {{"predictions", G_POSITIVE, S_FULL}, {"targets", G_POSITIVE, S_FULL}},
     {{"log_input", 0}, {"full", 1}, {"eps", 0.01}}},
    {"gaussian_nll",
     {{"predictions", G_UNIFORM, S_FULL},
      {"targets", G_UNIFORM, S_FULL},
      {"var", G_POSITIVE, S_FULL}},
     {{"full", 1}}},
    {"gaussian_nll",
     {{"predictions", G_UNIFORM, S_FULL},
      {"targets", G_UNIFORM, S_FULL},
      {"var", G_POSITIVE, S_ROW1}},
     {{0}}},
    {"gaussian_nll",
     {{"predictions", G_UNIFORM, S_FULL},
      {"targets", G_UNIFORM, S_FULL},
      {"var", G_POSITIVE, S_ROWLESS}},
     {{"eps", 0.05}}},
    {"bce_with_logits",
     {{"predictions", G_UNIFORM, S_FULL},
      {"targets", G_UNIT, S_FULL},
      {"weight", G_POSITIVE, S_ROW1},
      {"pos_weight", G_POSITIVE, S_LAST}},
     {{0}}},
    {"bce_with_logits", {{"predictions", G_UNIFORM, S_FULL}, {"targets", G_BIT, S_FULL}}, {{0}}},
    {"sigmoid_focal",
     {{"predictions", G_UNIFORM, S_FULL}, {"targets", G_UNIT, S_FULL}},
     {{"gamma", 1.5}}},
    {"sigmoid_focal",
     {{"predictions", G_UNIFORM, S_FULL}, {"targets", G_BIT, S_FULL}},
     {{"gamma", 0.5}, {"alpha", -1}}},
    {"squared_hinge", {{"predictions", G_UNIFORM, S_FULL}, {"targets", G_SIGN, S_FULL}}, {{0}}},
    {"squared_hinge", {{"predictions", G_UNIFORM, S_FULL}, {"targets", G_BIT, S_FULL}}, {{0}}},
    {"soft_margin", {{"predictions", G_UNIFORM, S_FULL}, {"targets", G_SIGN, S_FULL}}, {{0}}},
    {"margin_ranking",
     {{"x1", G_UNIFORM, S_FULL}, {"x2", G_UNIFORM, S_FULL}, {"targets", G_SIGN, S_FULL}},
     {{"margin", 0.3}}},
    {"hinge_embedding",
     {{"predictions", G_UNIFORM, S_FULL}, {"targets", G_SIGN, S_FULL}},
     {{"margin", 0.5}}},
    {"wgan_critic", {{"real", G_UNIFORM, S_FULL}, {"fake", G_UNIFORM, S_HALF}}, {{0}}},
    {"wgan_generator", {{"fake", G_UNIFORM, S_FULL}}, {{0}}},
    {"lsgan_discriminator", {{"real", G_UNIFORM, S_FULL}, {"fake", G_UNIFORM, S_HALF}}, {{0}}},
    {"lsgan_generator", {{"fake", G_UNIFORM, S_FULL}}, {{0}}},
};

/* A generated case that owns its data. */
typedef struct {
    tcase tc;
    double *data[MAX_IN];
} gcase;

static double next_unit(unsigned long *s)
{
    *s = *s * 6364136223846793005UL + 1442695040888963407UL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static double gen_value(gen_kind g, unsigned long *s)
{
    double u = next_unit(s);
    switch (g) {
    case G_UNIFORM:
        return 4.0 * u - 2.0;
    case G_POSITIVE:
        return 0.1 + 2.9 * u;
    case G_UNIT:
        return u;
    case G_BIT:
        return u < 0.5 ? 0.0 : 1.0;
    case G_SIGN:
        return u < 0.5 ? -1.0 : 1.0;
    }
    return 0;
}

static void gen_shape(tin *t, shape_kind k, size_t rows)
{
    static const size_t ranks[] = {2, 2, 1, 1, 2};
    size_t shapes[][2] = {{rows, COLS}, {rows, 1}, {rows, 0}, {COLS, 0}, {rows / 2 + 1, COLS}};
    t->rank = ranks[k];
    memcpy(t->shape, shapes[k], sizeof shapes[k]);
}

static void gcase_make(gcase *g, const rspec *spec, size_t rows, unsigned long seed)
{
    memset(g, 0, sizeof *g);
    g->tc.loss = spec->loss;
    memcpy(g->tc.par, spec->par, sizeof spec->par);
    for (size_t k = 0; k < MAX_IN && spec->in[k].name; k++) {
        tin *t = &g->tc.in[k];
        t->name = spec->in[k].name;
        gen_shape(t, spec->in[k].shape, rows);
        size_t n = tin_count(t);
        g->data[k] = mem_alloc((n ? n : 1) * sizeof(double));
        cr_assert_not_null(g->data[k]);
        for (size_t i = 0; i < n; i++)
            g->data[k][i] = gen_value(spec->in[k].gen, &seed);
        t->data = g->data[k];
    }
}

static void gcase_free(gcase *g)
{
    for (size_t k = 0; k < MAX_IN; k++)
        mem_free(g->data[k]);
}

/* The value whose gradient a result reports: the reduced value, or the sum of every
 * per-element value of every term for reduction none. */
static double objective(const tcase *tc, loss_reduction red)
{
    loss_call c;
    loss_result r;
    loss_error e;
    build(&c, tc, LOSS_DTYPE_F64, red, 0);
    cr_assert_eq(loss_compute(&c, NULL, &r, &e), LOSS_OK, "%s: %s", tc->loss, e.message);
    double v = r.value;
    if (red == LOSS_REDUCE_NONE) {
        v = 0;
        for (size_t t = 0; t < r.n_terms; t++)
            for (size_t i = 0; i < r.terms[t].count; i++)
                v += tensor_get(&r.terms[t], i);
    }
    loss_result_release(&r);
    return v;
}

/* Central differences of the objective against every gradient element of every input. */
static void fd_check(gcase *g, loss_reduction red)
{
    const loss_desc *d = find(g->tc.loss);
    loss_result r;
    compute(&g->tc, LOSS_DTYPE_F64, red, &r);
    for (size_t k = 0; k < MAX_IN && g->tc.in[k].name; k++) {
        int idx = input_index(d, g->tc.in[k].name);
        int takes = (d->inputs[idx].flags & LOSS_INPUT_GRAD) != 0;
        cr_assert_eq(r.grad[idx].data != NULL, takes, "%s: gradient for %s", d->name,
                     g->tc.in[k].name);
        for (size_t i = 0; takes && i < tin_count(&g->tc.in[k]); i++) {
            double keep = g->data[k][i], h = 1e-6 * fmax(1.0, fabs(keep));
            g->data[k][i] = keep + h;
            double up = objective(&g->tc, red);
            g->data[k][i] = keep - h;
            double down = objective(&g->tc, red);
            g->data[k][i] = keep;
            double fd = (up - down) / (2 * h), an = tensor_get(&r.grad[idx], i);
            cr_expect(fabs(fd - an) <= 1e-6 * fmax(1.0, fabs(an)),
                      "%s (%s): d/d%s[%zu] analytic %.12g, central difference %.12g", d->name,
                      loss_reduction_name(red), g->tc.in[k].name, i, an, fd);
        }
    }
    loss_result_release(&r);
}

Test(catalogue_elementwise, every_gradient_should_match_central_differences)
{
    for (size_t s = 0; s < N_OF(generated); s++) {
        gcase g;
        gcase_make(&g, &generated[s], 3, 1000 + s);
        fd_check(&g, LOSS_REDUCE_MEAN);
        fd_check(&g, LOSS_REDUCE_NONE);
        gcase_free(&g);
    }
}

/* Copies of what a run returned, to compare bytes across runs. */
typedef struct {
    double value;
    size_t n_blobs;
    void *blob[2 + MAX_IN];
    size_t bytes[2 + MAX_IN];
} run_bytes;

static void keep_tensor(run_bytes *rb, const tensor *t)
{
    if (t->data == NULL)
        return;
    size_t b = t->count * tensor_type_size(t->type);
    void *copy = mem_alloc(b ? b : 1);
    cr_assert_not_null(copy);
    memcpy(copy, t->data, b);
    rb->blob[rb->n_blobs] = copy;
    rb->bytes[rb->n_blobs++] = b;
}

static void run_keep(const tcase *tc, loss_dtype dt, loss_reduction red, pool *pl, run_bytes *rb)
{
    loss_call c;
    loss_result r;
    loss_error e;
    memset(rb, 0, sizeof *rb);
    build(&c, tc, dt, red, 1);
    cr_assert_eq(loss_compute(&c, pl, &r, &e), LOSS_OK, "%s: %s", tc->loss, e.message);
    rb->value = r.value;
    for (size_t t = 0; t < r.n_terms; t++)
        keep_tensor(rb, &r.terms[t]);
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++)
        keep_tensor(rb, &r.grad[i]);
    loss_result_release(&r);
}

static void run_bytes_free(run_bytes *rb)
{
    for (size_t i = 0; i < rb->n_blobs; i++)
        mem_free(rb->blob[i]);
}

static void expect_same_bytes(const char *loss, const run_bytes *a, const run_bytes *b,
                              size_t workers)
{
    cr_expect_eq(memcmp(&a->value, &b->value, sizeof a->value), 0, "%s value, %zu workers", loss,
                 workers);
    cr_assert_eq(a->n_blobs, b->n_blobs);
    for (size_t i = 0; i < a->n_blobs; i++)
        cr_expect(a->bytes[i] == b->bytes[i] && memcmp(a->blob[i], b->blob[i], a->bytes[i]) == 0,
                  "%s output %zu, %zu workers", loss, i, workers);
}

Test(catalogue_elementwise, results_should_not_depend_on_the_number_of_workers)
{
    static const size_t workers[] = {2, 7};
    pool *pools[2];
    for (size_t w = 0; w < 2; w++)
        cr_assert_not_null(pools[w] = pool_create(workers[w], 4));
    for (size_t s = 0; s < N_OF(generated); s++) {
        gcase g;
        gcase_make(&g, &generated[s], 12501, 77 + s); /* several chunks of 16384 */
        for (int dt = 0; dt < 2; dt++) {
            for (int red = LOSS_REDUCE_MEAN; red <= LOSS_REDUCE_NONE; red++) {
                run_bytes one, many;
                run_keep(&g.tc, (loss_dtype)dt, (loss_reduction)red, NULL, &one);
                for (size_t w = 0; w < 2; w++) {
                    run_keep(&g.tc, (loss_dtype)dt, (loss_reduction)red, pools[w], &many);
                    expect_same_bytes(g.tc.loss, &one, &many, workers[w]);
                    run_bytes_free(&many);
                }
                run_bytes_free(&one);
            }
        }
        gcase_free(&g);
    }
    for (size_t w = 0; w < 2; w++)
        pool_destroy(pools[w]);
}

/* Float32 inputs are the float64 ones rounded; the results must agree to 1e-5. */
Test(catalogue_elementwise, float32_should_agree_with_float64)
{
    for (size_t s = 0; s < N_OF(generated); s++) {
        gcase g;
        gcase_make(&g, &generated[s], 50, 5 + s);
        for (size_t k = 0; k < MAX_IN && g.tc.in[k].name; k++)
            for (size_t i = 0; i < tin_count(&g.tc.in[k]); i++)
                g.data[k][i] = (double)(float)g.data[k][i];
        for (size_t k = 0; k < N_OF(g.tc.par) && g.tc.par[k].name; k++)
            g.tc.par[k].value = (double)(float)g.tc.par[k].value;
        run_bytes a, b;
        run_keep(&g.tc, LOSS_DTYPE_F64, LOSS_REDUCE_MEAN, NULL, &a);
        run_keep(&g.tc, LOSS_DTYPE_F32, LOSS_REDUCE_MEAN, NULL, &b);
        cr_expect(near(b.value, a.value, 1e-5, 1e-7), "%s: float32 %.9g, float64 %.17g", g.tc.loss,
                  b.value, a.value);
        for (size_t i = 0; i < a.n_blobs; i++)
            for (size_t j = 0; j < a.bytes[i] / 8; j++) {
                double x = ((double *)a.blob[i])[j], y = ((float *)b.blob[i])[j];
                cr_expect(near(y, x, 1e-5, 1e-7), "%s: gradient %zu[%zu] %.9g vs %.17g", g.tc.loss,
                          i, j, y, x);
            }
        run_bytes_free(&a);
        run_bytes_free(&b);
        gcase_free(&g);
    }
}

/* Every ISA path this CPU has must agree with the reference on the losses with fast-path
 * slots (smooth_l1, squared_hinge: both target conventions). */
Test(catalogue_elementwise, every_isa_path_should_agree_with_the_reference)
{
    static const char *const isas[] = {"avx2", "avx512"};
    for (size_t s = 0; s < N_OF(generated); s++) {
        const char *loss = generated[s].loss;
        if (strcmp(loss, "smooth_l1") != 0 && strcmp(loss, "squared_hinge") != 0)
            continue;
        gcase g;
        gcase_make(&g, &generated[s], 25001, 31 + s);
        for (int dt = 0; dt < 2; dt++) {
            run_bytes ref, fast;
            kern_init("ref");
            run_keep(&g.tc, (loss_dtype)dt, LOSS_REDUCE_NONE, NULL, &ref);
            for (size_t k = 0; k < 2; k++) {
                if (kern_init(isas[k]) != 0)
                    continue;
                run_keep(&g.tc, (loss_dtype)dt, LOSS_REDUCE_NONE, NULL, &fast);
                double tol = dt == 0 ? 1e-12 : 1e-6;
                for (size_t i = 0; i < ref.n_blobs; i++)
                    for (size_t j = 0; j < ref.bytes[i] / (dt ? 4 : 8); j++) {
                        double a = dt ? ((float *)fast.blob[i])[j] : ((double *)fast.blob[i])[j];
                        double b = dt ? ((float *)ref.blob[i])[j] : ((double *)ref.blob[i])[j];
                        cr_expect(near(a, b, tol, 1e-300), "%s %s output %zu[%zu]: %.17g vs %.17g",
                                  loss, isas[k], i, j, a, b);
                    }
                run_bytes_free(&fast);
            }
            run_bytes_free(&ref);
        }
        kern_init(NULL);
        gcase_free(&g);
    }
}

/* ---- regression ---- */

static const double sl1_p[] = {-2.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.5};
static const double sl1_y[] = {0.5, -1.0, 0.0, 0.0, 1.0, 0.0, -0.5, 0.0};

Test(smooth_l1, should_match_pytorch_for_the_default_beta)
{
    /* F.smooth_l1_loss(p, y, reduction='none'), float64; gradient of .sum() */
    static const double l[] = {2, 0, 0.125, 0, 0.28125, 0.125, 1, 2};
    static const double g[] = {-1, 0, -0.5, 0, -0.75, 0.5, 1, 1};
    tcase tc = {.loss = "smooth_l1",
                .in = {{"predictions", 1, {8}, sl1_p}, {"targets", 1, {8}, sl1_y}}};
    check_case(&tc, &(texpect){l, {g}, 0.69140625});
}

Test(smooth_l1, should_be_c1_at_beta)
{
    /* F.smooth_l1_loss(p, y, reduction='none', beta=0.5): |d| = 0.5 is on the breakpoint
     * (E3c: loss .25, gradient +-1) */
    static const double l[] = {2.25, 0, 0.25, 0, 0.5, 0.25, 1.25, 2.25};
    static const double g[] = {-1, 0, -1, 0, -1, 1, 1, 1};
    tcase tc = {.loss = "smooth_l1",
                .in = {{"predictions", 1, {8}, sl1_p}, {"targets", 1, {8}, sl1_y}},
                .par = {{"beta", 0.5}}};
    check_case(&tc, &(texpect){l, {g}, 0.84375});
}

Test(smooth_l1, beta_zero_should_be_l1_with_zero_gradient_at_zero)
{
    /* E3b: (p - y).abs() (what 2.1+ runs for beta=0); 1.13's
     * F.smooth_l1_loss(..., beta=0.0) gives gradient {-1, 1, -1} instead */
    static const double p[] = {0.0, 1.0, -1.0}, y[] = {0.0, 0.0, 0.0};
    static const double l[] = {0, 1, 1}, g[] = {0, 1, -1};
    tcase tc = {.loss = "smooth_l1",
                .in = {{"predictions", 1, {3}, p}, {"targets", 1, {3}, y}},
                .par = {{"beta", 0.0}}};
    check_case(&tc, &(texpect){l, {g}, 2.0 / 3.0});
}

Test(smooth_l1, negative_beta_should_be_an_invalid_parameter)
{
    tcase tc = {.loss = "smooth_l1",
                .in = {{"predictions", 1, {8}, sl1_p}, {"targets", 1, {8}, sl1_y}},
                .par = {{"beta", -0.1}}};
    expect_error(&tc, LOSS_ERR_PARAM, "beta");
}

Test(smooth_l1, targets_of_another_shape_should_be_refused)
{
    tcase tc = {.loss = "smooth_l1",
                .in = {{"predictions", 1, {8}, sl1_p}, {"targets", 2, {2, 4}, sl1_y}}};
    expect_error(&tc, LOSS_ERR_SHAPE, "targets");
}

Test(log_cosh, should_be_exact_from_tiny_to_huge_differences)
{
    /* Python decimal, 60 digits: ln((e^d + e^-d) / 2); gradient math.tanh(d).
     * torch.log(torch.cosh(d)) at d = 1e-5 gives 5.0000004135768551e-11 (cancellation). */
    static const double p[] = {-800, -3, -0.5, -1e-5, 0, 1e-5, 0.9, 1, 2, 30, 800};
    static const double y[11] = {0};
    static const double l[] = {799.30685281944011,
                               2.3093285045777852,
                               0.12011450695827752,
                               4.9999999999166676e-11,
                               0,
                               4.9999999999166676e-11,
                               0.35983042996612885,
                               0.43378083048302718,
                               1.3250027473578645,
                               29.306852819440056,
                               799.30685281944011};
    static const double g[] = {-1,
                               -0.99505475368673046,
                               -0.46211715726000974,
                               -9.9999999996666679e-06,
                               0,
                               9.9999999996666679e-06,
                               0.71629787019902447,
                               0.76159415595576485,
                               0.9640275800758169,
                               1,
                               1};
    double mean = 0;
    for (size_t i = 0; i < 11; i++)
        mean += l[i] / 11;
    tcase tc = {.loss = "log_cosh", .in = {{"predictions", 1, {11}, p}, {"targets", 1, {11}, y}}};
    check_case(&tc, &(texpect){l, {g}, mean});
}

Test(mape, should_match_the_keras_formula_with_its_epsilon)
{
    /* 100*(y-p).abs()/y.abs().clamp_min(1e-7) in float64 torch; y = 0 divides by 1e-7 and
     * p == y gives gradient 0 */
    static const double p[] = {1.5, -2.0, 0.0, 3.0, 1e-3, 2.0};
    static const double y[] = {1.0, 1.0, 0.0, 3.0, 0.0, -4.0};
    static const double l[] = {50, 300, 0, 0, 1000000.0000000001, 150};
    static const double g[] = {100, -100, 0, 0, 1000000000, 25};
    tcase tc = {.loss = "mape", .in = {{"predictions", 1, {6}, p}, {"targets", 1, {6}, y}}};
    check_case(&tc, &(texpect){l, {g}, 166750.00000000003});
}

Test(msle, gradient_should_be_zero_where_the_clip_holds_the_prediction)
{
    /* (torch.log1p(p.clamp_min(1e-7)) - torch.log1p(y.clamp_min(1e-7)))**2, float64;
     * p = -0.5, 1e-8 and 0 are clipped: gradient 0 */
    static const double p[] = {0.5, 2.0, -0.5, 1e-8, 3.0, 0.0};
    static const double y[] = {1.0, 0.0, 2.0, 1.0, -1.0, 0.25};
    static const double l[] = {0.082760974810151711, 1.2069487410901456, 1.2069487410901456,
                               0.48045287528878228,  1.9218117784139574, 0.049792999864419332};
    static const double g[] = {
        -0.38357609660237452, 0.73240812577874326, 0, 0, 0.69314713055994781, 0};
    tcase tc = {.loss = "msle", .in = {{"predictions", 1, {6}, p}, {"targets", 1, {6}, y}}};
    check_case(&tc, &(texpect){l, {g}, 0.82478601842626709});
}

Test(msle, gradient_should_be_zero_at_the_clip_itself)
{
    static const double p[] = {1e-7}, y[] = {1.0};
    double d = log1p(1e-7) - log1p(1.0);
    static const double g[] = {0};
    double l[] = {d * d};
    tcase tc = {.loss = "msle", .in = {{"predictions", 1, {1}, p}, {"targets", 1, {1}, y}}};
    check_dtype(&tc, &(texpect){l, {g}, d * d}, LOSS_DTYPE_F64);
}

static const double q_p[] = {1.0, 2.0, 3.0, 4.0}, q_y[] = {2.0, 2.0, 1.0, 5.0};

Test(quantile, should_be_the_pinball_loss_with_zero_gradient_at_the_tie)
{
    /* max(q*(y-p), (q-1)*(y-p)), q = 0.9: u = y-p = {1, 0, -2, 1} */
    static const double l[] = {0.9, 0, 0.2, 0.9}, g[] = {-0.9, 0, 0.1, -0.9};
    tcase tc = {.loss = "quantile",
                .in = {{"predictions", 1, {4}, q_p}, {"targets", 1, {4}, q_y}},
                .par = {{"quantile", 0.9}}};
    check_case(&tc, &(texpect){l, {g}, 0.5});
}

Test(quantile, default_should_be_half_the_absolute_error)
{
    static const double l[] = {0.5, 0, 1, 0.5}, g[] = {-0.5, 0, 0.5, -0.5};
    tcase tc = {.loss = "quantile", .in = {{"predictions", 1, {4}, q_p}, {"targets", 1, {4}, q_y}}};
    check_case(&tc, &(texpect){l, {g}, 0.5});
}

Test(quantile, bounds_should_be_invalid_parameters)
{
    static const double bad[] = {0.0, 1.0, -0.5, 1.5};
    for (size_t i = 0; i < 4; i++) {
        tcase tc = {.loss = "quantile",
                    .in = {{"predictions", 1, {4}, q_p}, {"targets", 1, {4}, q_y}},
                    .par = {{"quantile", bad[i]}}};
        expect_error(&tc, LOSS_ERR_PARAM, "quantile");
    }
}

Test(poisson_nll, log_input_should_match_pytorch)
{
    /* E10: F.poisson_nll_loss(p, y, reduction='none'), float64 */
    static const double p[] = {-1.0, 0.0, 2.0}, y[] = {0.0, 1.0, 3.0};
    static const double l[] = {0.36787944117144233, 1, 1.3890560989306504};
    static const double g[] = {0.36787944117144233, 0, 4.3890560989306504};
    tcase tc = {.loss = "poisson_nll", .in = {{"predictions", 1, {3}, p}, {"targets", 1, {3}, y}}};
    check_case(&tc, &(texpect){l, {g}, 0.91897851336736425});
}

Test(poisson_nll, stirling_term_should_apply_only_where_targets_exceed_one)
{
    /* E10c: F.poisson_nll_loss(zeros(4), [0, 1, 1.5, 3], full=True, reduction='none') */
    static const double p[] = {0.0, 0.0, 0.0, 0.0}, y[] = {0.0, 1.0, 1.5, 3.0};
    static const double l[] = {1, 1, 1.2298687494210014, 2.7640815435430568};
    static const double g[] = {1, 0, -0.5, -2};
    tcase tc = {.loss = "poisson_nll",
                .in = {{"predictions", 1, {4}, p}, {"targets", 1, {4}, y}},
                .par = {{"full", 1}}};
    check_case(&tc, &(texpect){l, {g}, 1.4984875732410146});
}

Test(poisson_nll, rate_input_should_add_eps_inside_the_log)
{
    /* E10b and more: F.poisson_nll_loss(p, y, log_input=False, reduction='none');
     * x = 0, y = 0 gives loss 0 and gradient 1 */
    static const double p[] = {0.0, 0.5, 2.0, 0.0}, y[] = {0.0, 1.0, 3.0, 2.0};
    static const double l[] = {0, 1.1931471605599455, -0.079441556679835656, 36.841361487904734};
    static const double g[] = {1, -0.99999996000000069, -0.49999999250000005, -199999999};
    tcase tc = {.loss = "poisson_nll",
                .in = {{"predictions", 1, {4}, p}, {"targets", 1, {4}, y}},
                .par = {{"log_input", 0}}};
    check_case(&tc, &(texpect){l, {g}, 9.4887667729462102});
}

Test(poisson_nll, rate_input_should_take_full_and_eps)
{
    /* F.poisson_nll_loss(p, y, log_input=False, full=True, eps=0.1, reduction='none') */
    static const double p[] = {0.0, 0.5, 2.0, 4.0}, y[] = {0.0, 1.0, 3.0, 2.0};
    static const double l[] = {0, 1.0108256237659907, 1.538269509354925, 1.8298325371840118};
    static const double g[] = {1, -0.66666666666666674, -0.4285714285714286, 0.51219512195121952};
    tcase tc = {.loss = "poisson_nll",
                .in = {{"predictions", 1, {4}, p}, {"targets", 1, {4}, y}},
                .par = {{"log_input", 0}, {"full", 1}, {"eps", 0.1}}};
    check_case(&tc, &(texpect){l, {g}, 1.0947319175762318});
}

Test(poisson_nll, negative_rates_should_be_out_of_domain)
{
    static const double p[] = {0.5, -0.25}, y[] = {1.0, 1.0};
    tcase tc = {.loss = "poisson_nll",
                .in = {{"predictions", 1, {2}, p}, {"targets", 1, {2}, y}},
                .par = {{"log_input", 0}}};
    expect_error(&tc, LOSS_ERR_DOMAIN, "predictions");
    tc.par[0].value = 1; /* log-rates may be negative */
    loss_result r;
    compute(&tc, LOSS_DTYPE_F64, LOSS_REDUCE_MEAN, &r);
    loss_result_release(&r);
}

static const double gn_p[] = {0.5, -1.0, 2.0, 0.0, 1.5, -0.5};
static const double gn_y[] = {0.0, 0.0, 1.0, 0.25, 2.0, -0.5};

Test(gaussian_nll, var_of_the_predictions_shape_should_match_pytorch)
{
    /* F.gaussian_nll_loss(p, y, var, reduction='none'), p, y, var (2, 3), float64;
     * var = 1e-8 is clamped to eps = 1e-6 */
    static const double var[] = {1.0, 0.5, 2.0, 1e-8, 0.25, 3.0};
    static const double l[] = {0.125,
                               0.6534264097200273,
                               0.5965735902799727,
                               31243.092244721018,
                               -0.19314718055994529,
                               0.54930614433405489};
    static const double gp[] = {0.5, -2, 0.5, -250000, -2, 0};
    static const double gv[] = {0.375, -1, 0.125, -31249500000, 0, 0.16666666666666666};
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 2, {2, 3}, gn_p},
                       {"targets", 2, {2, 3}, gn_y},
                       {"var", 2, {2, 3}, var}}};
    check_case(&tc, &(texpect){l, {gp, NULL, gv}, 5207.4705672807986});
}

Test(gaussian_nll, var_with_last_dim_one_should_broadcast_along_rows)
{
    /* F.gaussian_nll_loss(p, y, var=[[0.5], [2.0]], reduction='none'), p, y (2, 3) */
    static const double var[] = {0.5, 2.0};
    static const double l[] = {-0.096573590279972643, 0.6534264097200273,  0.6534264097200273,
                               0.36219859027997264,   0.40907359027997264, 0.34657359027997264};
    static const double gp[] = {1, -2, 2, -0.125, -0.25, 0};
    static const double gv[] = {-1.5, 0.7109375};
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 2, {2, 3}, gn_p},
                       {"targets", 2, {2, 3}, gn_y},
                       {"var", 2, {2, 1}, var}}};
    check_case(&tc, &(texpect){l, {gp, NULL, gv}, 0.38802083333333331});
}

Test(gaussian_nll, var_with_one_dim_fewer_should_broadcast_and_take_full)
{
    /* F.gaussian_nll_loss(p, y, var=[0.5, 2.0], full=True, reduction='none') */
    static const double var[] = {0.5, 2.0};
    static const double l[] = {0.82236494292469997, 1.5723649429247,    1.5723649429247,
                               1.2811371234846454,  1.3280121234846454, 1.2655121234846454};
    static const double gp[] = {1, -2, 2, -0.125, -0.25, 0};
    static const double gv[] = {-1.5, 0.7109375};
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 2, {2, 3}, gn_p},
                       {"targets", 2, {2, 3}, gn_y},
                       {"var", 1, {2}, var}},
                .par = {{"full", 1}}};
    check_case(&tc, &(texpect){l, {gp, NULL, gv}, 1.3069593665380062});
}

Test(gaussian_nll, var_gradient_should_pass_straight_through_the_clamp)
{
    /* E11: F.gaussian_nll_loss([1.], [1.], var=[1e-8]): loss 0.5*log(1e-6), d/dvar =
     * 0.5/eps = 500000 (not 0) */
    static const double p[] = {1.0}, y[] = {1.0}, var[] = {1e-8};
    static const double l[] = {-6.9077552789821368}, gp[] = {0}, gv[] = {500000};
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 1, {1}, p}, {"targets", 1, {1}, y}, {"var", 1, {1}, var}}};
    check_case(&tc, &(texpect){l, {gp, NULL, gv}, -6.9077552789821368});
}

Test(gaussian_nll, eps_should_be_the_clamp)
{
    /* F.gaussian_nll_loss(p, y, var=[0.05, 2.0], eps=0.1, reduction='none') */
    static const double var[] = {0.05, 2.0};
    static const double l[] = {0.098707453502977271, 3.8487074535029775,  3.8487074535029775,
                               0.36219859027997264,  0.40907359027997264, 0.34657359027997264};
    static const double gp[] = {5, -10, 10, -0.125, -0.25, 0};
    static const double gv[] = {-97.5, 0.7109375};
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 2, {2, 3}, gn_p},
                       {"targets", 2, {2, 3}, gn_y},
                       {"var", 1, {2}, var}},
                .par = {{"eps", 0.1}}};
    check_case(&tc, &(texpect){l, {gp, NULL, gv}, 1.4856613552248084});
}

Test(gaussian_nll, negative_var_should_be_out_of_domain_naming_var)
{
    static const double var[] = {0.5, -1e-3};
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 2, {2, 3}, gn_p},
                       {"targets", 2, {2, 3}, gn_y},
                       {"var", 2, {2, 1}, var}}};
    expect_error(&tc, LOSS_ERR_DOMAIN, "var");
}

Test(gaussian_nll, var_shapes_pytorch_refuses_should_be_refused)
{
    static const double var[6] = {1, 1, 1, 1, 1, 1};
    static const size_t ranks[] = {1, 2, 2, 0, 3};
    static const size_t shapes[][3] = {{3}, {1, 3}, {3, 2}, {0}, {2, 3, 1}};
    for (size_t i = 0; i < N_OF(ranks); i++) {
        tcase tc = {.loss = "gaussian_nll",
                    .in = {{"predictions", 2, {2, 3}, gn_p},
                           {"targets", 2, {2, 3}, gn_y},
                           {"var", ranks[i], {shapes[i][0], shapes[i][1], shapes[i][2]}, var}}};
        expect_error(&tc, LOSS_ERR_SHAPE, "var");
    }
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 2, {2, 3}, gn_p},
                       {"targets", 1, {6}, gn_y},
                       {"var", 2, {2, 3}, var}}};
    expect_error(&tc, LOSS_ERR_SHAPE, "targets");
}

Test(gaussian_nll, empty_rows_should_still_check_var_and_give_it_zero_gradient)
{
    static const double var[] = {1.0, 2.0};
    loss_result r;
    tcase tc = {.loss = "gaussian_nll",
                .in = {{"predictions", 2, {2, 0}, gn_p},
                       {"targets", 2, {2, 0}, gn_y},
                       {"var", 1, {2}, var}}};
    compute(&tc, LOSS_DTYPE_F64, LOSS_REDUCE_SUM, &r);
    cr_expect_eq(r.value, 0.0);
    cr_expect_eq(r.grad[2].count, 2);
    cr_expect_eq(tensor_get(&r.grad[2], 0), 0.0);
    cr_expect_eq(tensor_get(&r.grad[2], 1), 0.0);
    loss_result_release(&r);
    static const double bad[] = {1.0, -2.0};
    tc.in[2].data = bad;
    expect_error(&tc, LOSS_ERR_DOMAIN, "var");
}

/* ---- classification ---- */

Test(bce_with_logits, should_stay_exact_at_extreme_logits)
{
    /* E6, Python decimal: (1-y)*softplus(x) + y*softplus(-x), gradient sigmoid(x) - y.
     * F.binary_cross_entropy_with_logits (1.13, float64) gives 2.0611536900435727e-09 for
     * the last loss (log instead of log1p); its gradients equal these. */
    static const double x[] = {-1000, -100, 0, 100, 1000, -20};
    static const double y[] = {1, 1, 0, 0, 0, 0};
    static const double l[] = {1000, 100, 0.69314718055994529, 100, 1000, 2.0611536203143808e-09};
    static const double g[] = {-1, -1, 0.5, 1, 1, 2.0611536181902037e-09};
    double mean = 0;
    for (size_t i = 0; i < 6; i++)
        mean += l[i] / 6;
    tcase tc = {.loss = "bce_with_logits",
                .in = {{"predictions", 1, {6}, x}, {"targets", 1, {6}, y}}};
    check_case(&tc, &(texpect){l, {g}, mean});
}

static const double bw_x[] = {0.5, -1.5, 2.0, -0.25, 3.0, -4.0};
static const double bw_y[] = {1.0, 0.0, 1.0, 0.0, 0.3, 1.0};

Test(bce_with_logits, weight_of_the_same_shape_should_scale_each_element)
{
    /* F.binary_cross_entropy_with_logits(x, y, weight=w, reduction='none'), (2, 3);
     * mean = mean(w*l) over all elements, not sum(w*l)/sum(w) */
    static const double w[] = {1.0, 2.0, 0.5, 0.0, 1.5, 3.0};
    static const double l[] = {0.47407698418010669, 0.40282655596550493, 0.063464005521486302, 0,
                               3.2228810273606125,  12.054449783753428};
    static const double g[] = {-0.37754066879814541, 0.3648510476127127, -0.059601461011058843, 0,
                               0.97886119023365015,  -2.9460413701137256};
    tcase tc = {.loss = "bce_with_logits",
                .in = {{"predictions", 2, {2, 3}, bw_x},
                       {"targets", 2, {2, 3}, bw_y},
                       {"weight", 2, {2, 3}, w}}};
    check_case(&tc, &(texpect){l, {g}, 2.7029497261301896});
}

Test(bce_with_logits, weight_and_pos_weight_should_broadcast_as_in_pytorch)
{
    /* F.binary_cross_entropy_with_logits(x, y, weight=[[2.], [.5]],
     * pos_weight=[3., .5, 1.], reduction='none'), x, y (2, 3) */
    static const double w[] = {2.0, 0.5}, pw[] = {3.0, 0.5, 1.0};
    static const double l[] = {2.8444619050806401,  0.40282655596550487, 0.25385602208594521,
                               0.28796970993942184, 1.0706496244188402,  2.0090749639589047};
    static const double g[] = {-2.2652440127888722, 0.3648510476127127,  -0.23840584404423537,
                               0.21891174955710097, 0.32984400389953411, -0.49100689501895423};
    tcase tc = {.loss = "bce_with_logits",
                .in = {{"predictions", 2, {2, 3}, bw_x},
                       {"targets", 2, {2, 3}, bw_y},
                       {"weight", 2, {2, 1}, w},
                       {"pos_weight", 1, {3}, pw}}};
    check_case(&tc, &(texpect){l, {g}, 1.1448064635748763});
}

Test(bce_with_logits, weight_along_the_last_dim_should_broadcast)
{
    /* F.binary_cross_entropy_with_logits(x, y, weight=[.5, 1., 2.], reduction='none') */
    static const double w[] = {0.5, 1.0, 2.0};
    static const double l[] = {0.23703849209005334, 0.20141327798275246, 0.25385602208594521,
                               0.28796970993942184, 2.1485873515737417,  8.0362998558356189};
    static const double g[] = {-0.1887703343990727, 0.18242552380635635, -0.23840584404423537,
                               0.21891174955710097, 0.65257412682243343, -1.9640275800758169};
    tcase tc = {.loss = "bce_with_logits",
                .in = {{"predictions", 2, {2, 3}, bw_x},
                       {"targets", 2, {2, 3}, bw_y},
                       {"weight", 1, {3}, w}}};
    check_case(&tc, &(texpect){l, {g}, 1.8608607849179222});
}

Test(bce_with_logits, pos_weight_should_scale_the_positive_term_at_extremes)
{
    /* E6b/E6c: F.binary_cross_entropy_with_logits([-1000., 1000.], [1., 0.],
     * pos_weight=[3.], reduction='none') */
    static const double x[] = {-1000, 1000}, y[] = {1, 0}, pw[] = {3.0};
    static const double l[] = {3000, 1000}, g[] = {-3, 1};
    tcase tc = {
        .loss = "bce_with_logits",
        .in = {{"predictions", 1, {2}, x}, {"targets", 1, {2}, y}, {"pos_weight", 1, {1}, pw}}};
    check_case(&tc, &(texpect){l, {g}, 2000});
}

Test(bce_with_logits, weights_that_do_not_broadcast_should_be_refused)
{
    static const double w[] = {1, 2, 3, 4, 5, 6};
    tcase tc = {.loss = "bce_with_logits",
                .in = {{"predictions", 2, {2, 3}, bw_x},
                       {"targets", 2, {2, 3}, bw_y},
                       {"weight", 1, {2}, w}}};
    expect_error(&tc, LOSS_ERR_SHAPE, "weight");
    tc.in[2] = (tin){"pos_weight", 3, {1, 2, 3}, w}; /* would enlarge the output */
    expect_error(&tc, LOSS_ERR_SHAPE, "pos_weight");
    tc.in[2] = (tin){"weight", 2, {2, 3}, w};
    tc.in[1].rank = 1;
    tc.in[1].shape[0] = 6;
    expect_error(&tc, LOSS_ERR_SHAPE, "targets");
}

Test(bce_with_logits, non_finite_weights_should_be_refused)
{
    const double w[] = {1, NAN, 3};
    tcase tc = {.loss = "bce_with_logits",
                .in = {{"predictions", 2, {2, 3}, bw_x},
                       {"targets", 2, {2, 3}, bw_y},
                       {"pos_weight", 1, {3}, w}}};
    expect_error(&tc, LOSS_ERR_NON_FINITE, "pos_weight");
}

static const double sf_x[] = {-100, -5, 0, 5, 100, 30};
static const double sf_y[] = {1, 1, 1, 0, 0, 1};

Test(sigmoid_focal, should_match_torchvision_and_the_exact_tail)
{
    /* E22: Python decimal at*ce*q^g (gradient by a decimal central difference, h = 1e-25);
     * tv.sigmoid_focal_loss(x, y) (float64) agrees to 1e-15 except at x = 30, where its
     * 1 - p_t cancels: 2.0422409142495384e-40, gradient -6.126722742748329e-40 */
    static const double l[] = {25, 1.2349803054175204,    0.04332169878499658, 3.7049409162525606,
                               75, 2.0485031559971495e-40};
    static const double g[] = {
        -0.25, -0.26154496070376665, -0.074571698784996587, 0.78463488211129995,
        0.75,  -6.14550946799097e-40};
    double mean = 0;
    for (size_t i = 0; i < 6; i++)
        mean += l[i] / 6;
    tcase tc = {.loss = "sigmoid_focal",
                .in = {{"predictions", 1, {6}, sf_x}, {"targets", 1, {6}, sf_y}}};
    check_case(&tc, &(texpect){l, {g}, mean});
}

Test(sigmoid_focal, gamma_below_one_should_give_no_nan_at_p_t_one)
{
    /* E22c: torchvision (float32) gives a NaN gradient at x = 30, y = 1, gamma = 0.5.
     * Python decimal at*ce*q^0.5 and its central difference: */
    static const double l[] = {25, 1.247483155136919,     0.1225322679335684, 3.7424494654107567,
                               75, 7.1562964513728146e-21};
    static const double g[] = {
        -0.25, -0.25166899445479346,   -0.11902141463171054, 0.75500698336438032,
        0.75,  -1.0734444677058552e-20};
    double mean = 0;
    for (size_t i = 0; i < 6; i++)
        mean += l[i] / 6;
    tcase tc = {.loss = "sigmoid_focal",
                .in = {{"predictions", 1, {6}, sf_x}, {"targets", 1, {6}, sf_y}},
                .par = {{"gamma", 0.5}}};
    check_case(&tc, &(texpect){l, {g}, mean});
    /* where q underflows to 0 the gamma term is its limit, 0 */
    static const double far[] = {800}, one[] = {1};
    static const double lf[] = {0}, gf[] = {0};
    tcase tc2 = {.loss = "sigmoid_focal",
                 .in = {{"predictions", 1, {1}, far}, {"targets", 1, {1}, one}},
                 .par = {{"gamma", 0.5}}};
    check_case(&tc2, &(texpect){lf, {gf}, 0});
}

Test(sigmoid_focal, negative_alpha_should_disable_the_class_weight)
{
    /* decimal ce*q^2 (alpha=-1); tv.sigmoid_focal_loss(x, y, alpha=-1) agrees but at x=30 */
    static const double l[] = {100, 4.9399212216700814,    0.17328679513998632, 4.9399212216700814,
                               100, 8.1940126239885979e-40};
    static const double g[] = {-1, -1.0461798428150666,   -0.29828679513998635, 1.0461798428150666,
                               1,  -2.458203787196388e-39};
    double mean = 0;
    for (size_t i = 0; i < 6; i++)
        mean += l[i] / 6;
    tcase tc = {.loss = "sigmoid_focal",
                .in = {{"predictions", 1, {6}, sf_x}, {"targets", 1, {6}, sf_y}},
                .par = {{"alpha", -1}}};
    check_case(&tc, &(texpect){l, {g}, mean});
}

Test(sigmoid_focal, gamma_zero_should_be_alpha_weighted_bce)
{
    /* decimal at*ce, alpha = 0.75, gamma = 0 */
    static const double l[] = {75, 3.7550365113668387,   0.51986038541995894, 1.2516788371222796,
                               25, 7.018217226629802e-14};
    static const double g[] = {-0.75, -0.7449803618067864,    -0.375, 0.24832678726892879,
                               0.25,  -7.0182172266294738e-14};
    double mean = 0;
    for (size_t i = 0; i < 6; i++)
        mean += l[i] / 6;
    tcase tc = {.loss = "sigmoid_focal",
                .in = {{"predictions", 1, {6}, sf_x}, {"targets", 1, {6}, sf_y}},
                .par = {{"alpha", 0.75}, {"gamma", 0}}};
    check_case(&tc, &(texpect){l, {g}, mean});
}

Test(sigmoid_focal, soft_targets_should_match_torchvision)
{
    /* tv.sigmoid_focal_loss([.3, -1.2, 2.5, -.7], [1., 0., .25, .9]) (float64, 'none') */
    static const double x[] = {0.3, -1.2, 2.5, -0.7}, y[] = {1.0, 0.0, 0.25, 0.9};
    static const double l[] = {0.02509831887214926, 0.01058015915158023, 0.61919373932089805,
                               0.1248049420356654};
    static const double g[] = {-0.048102109828820537, 0.025564195311058809, 0.27459755671548197,
                               -0.13840619820783201};
    tcase tc = {.loss = "sigmoid_focal",
                .in = {{"predictions", 1, {4}, x}, {"targets", 1, {4}, y}}};
    check_case(&tc, &(texpect){l, {g}, 0.19491928984507323});
}

Test(sigmoid_focal, targets_outside_the_unit_interval_and_negative_gamma_should_be_refused)
{
    static const double x[] = {0.3, -1.2}, y[] = {1.0, 1.5};
    tcase tc = {.loss = "sigmoid_focal",
                .in = {{"predictions", 1, {2}, x}, {"targets", 1, {2}, y}}};
    expect_error(&tc, LOSS_ERR_DOMAIN, "targets");
    static const double ok[] = {1.0, 0.0};
    tcase tc2 = {.loss = "sigmoid_focal",
                 .in = {{"predictions", 1, {2}, x}, {"targets", 1, {2}, ok}},
                 .par = {{"gamma", -0.5}}};
    expect_error(&tc2, LOSS_ERR_PARAM, "gamma");
}

static const double sh_p[] = {0.3, -2.0, 1.0, 0.5, -0.25, 3.0};
/* torch.clamp(1 - y*p, min=0)**2 (keras.losses.SquaredHinge per element), float64 */
static const double sh_l[] = {0.48999999999999994, 9, 4, 2.25, 1.5625, 0};
static const double sh_g[] = {-1.3999999999999999, -6, 4, 3, -2.5, 0};

Test(squared_hinge, should_match_the_keras_formula)
{
    static const double y[] = {1, 1, -1, -1, 1, 1};
    tcase tc = {.loss = "squared_hinge",
                .in = {{"predictions", 1, {6}, sh_p}, {"targets", 1, {6}, y}}};
    check_case(&tc, &(texpect){sh_l, {sh_g}, 2.8837500000000005});
}

Test(squared_hinge, all_binary_targets_should_be_mapped_to_signs)
{
    /* the same loss with y01 = (y + 1)/2: Keras maps 0 -> -1 when every target is 0 or 1 */
    static const double y[] = {1, 1, 0, 0, 1, 1};
    tcase tc = {.loss = "squared_hinge",
                .in = {{"predictions", 1, {6}, sh_p}, {"targets", 1, {6}, y}}};
    check_case(&tc, &(texpect){sh_l, {sh_g}, 2.8837500000000005});
}

Test(squared_hinge, targets_outside_both_conventions_should_be_out_of_domain)
{
    static const double mixed[] = {1, -1, 0, 1, 1, 1}, half[] = {1, 1, 0.5, 1, 1, 1};
    tcase tc = {.loss = "squared_hinge",
                .in = {{"predictions", 1, {6}, sh_p}, {"targets", 1, {6}, mixed}}};
    expect_error(&tc, LOSS_ERR_DOMAIN, "targets");
    tc.in[1].data = half;
    expect_error(&tc, LOSS_ERR_DOMAIN, "targets");
}

Test(soft_margin, should_never_overflow)
{
    /* E14 and beyond, Python decimal: softplus(-y*x), gradient -y*sigmoid(-y*x).
     * F.soft_margin_loss (1.13, float64) overflows at x=-1000: loss inf, gradient nan. */
    static const double x[] = {0, 2, -100, 100, -1000, 1000, -0.5};
    static const double y[] = {1, 1, 1, -1, 1, 1, -1};
    static const double l[] = {0.69314718055994529, 0.12692801104297249, 100, 100, 1000, 0,
                               0.47407698418010669};
    static const double g[] = {-0.5, -0.11920292202211756, -1, 1, -1, 0, 0.37754066879814546};
    double mean = 0;
    for (size_t i = 0; i < 7; i++)
        mean += l[i] / 7;
    tcase tc = {.loss = "soft_margin", .in = {{"predictions", 1, {7}, x}, {"targets", 1, {7}, y}}};
    check_case(&tc, &(texpect){l, {g}, mean});
}

Test(soft_margin, targets_other_than_signs_should_be_out_of_domain)
{
    static const double x[] = {0, 2}, y[] = {1, 0};
    tcase tc = {.loss = "soft_margin", .in = {{"predictions", 1, {2}, x}, {"targets", 1, {2}, y}}};
    expect_error(&tc, LOSS_ERR_DOMAIN, "targets");
}

/* ---- pairs ---- */

static const double mr_x1[] = {1.0, 0.5, -1.0, 2.0, 0.0};
static const double mr_x2[] = {1.0, 1.5, 0.5, -1.0, 0.25};
static const double mr_y[] = {1, 1, -1, -1, 1};

Test(margin_ranking, tie_should_pass_the_gradient)
{
    /* E13: F.margin_ranking_loss(x1, x2, y, reduction='none'), float64; element 0 is the
     * tie x1 == x2 with y = 1: loss 0, gradient -1 / +1 */
    static const double l[] = {0, 1, 0, 3, 0.25};
    static const double g1[] = {-1, -1, 0, 1, -1}, g2[] = {1, 1, 0, -1, 1};
    tcase tc = {.loss = "margin_ranking",
                .in = {{"x1", 1, {5}, mr_x1}, {"x2", 1, {5}, mr_x2}, {"targets", 1, {5}, mr_y}}};
    check_case(&tc, &(texpect){l, {g1, g2}, 0.84999999999999998});
}

Test(margin_ranking, margin_should_shift_the_hinge)
{
    /* F.margin_ranking_loss(x1, x2, y, margin=0.5, reduction='none') */
    static const double l[] = {0.5, 1.5, 0, 3.5, 0.75};
    static const double g1[] = {-1, -1, 0, 1, -1}, g2[] = {1, 1, 0, -1, 1};
    tcase tc = {.loss = "margin_ranking",
                .in = {{"x1", 1, {5}, mr_x1}, {"x2", 1, {5}, mr_x2}, {"targets", 1, {5}, mr_y}},
                .par = {{"margin", 0.5}}};
    check_case(&tc, &(texpect){l, {g1, g2}, 1.25});
}

Test(margin_ranking, bad_targets_shapes_and_values_should_be_refused)
{
    static const double y[] = {1, 1, 0, -1, 1};
    tcase tc = {.loss = "margin_ranking",
                .in = {{"x1", 1, {5}, mr_x1}, {"x2", 1, {5}, mr_x2}, {"targets", 1, {5}, y}}};
    expect_error(&tc, LOSS_ERR_DOMAIN, "targets");
    tc.in[2].data = mr_y;
    tc.in[1].shape[0] = 4;
    expect_error(&tc, LOSS_ERR_SHAPE, "x2");
    const double inf_x1[] = {1.0, INFINITY, 0, 0, 0};
    tc.in[1].shape[0] = 5;
    tc.in[0].data = inf_x1;
    expect_error(&tc, LOSS_ERR_NON_FINITE, "x1");
}

Test(hinge_embedding, tie_at_the_margin_should_pass_the_gradient)
{
    /* E12: F.hinge_embedding_loss([.5, 1, 1.5, .5], [-1, -1, -1, 1], reduction='none');
     * x = margin = 1 with y = -1 gives gradient -1 */
    static const double x[] = {0.5, 1.0, 1.5, 0.5}, y[] = {-1, -1, -1, 1};
    static const double l[] = {0.5, 0, 0, 0.5}, g[] = {-1, -1, 0, 1};
    tcase tc = {.loss = "hinge_embedding",
                .in = {{"predictions", 1, {4}, x}, {"targets", 1, {4}, y}}};
    check_case(&tc, &(texpect){l, {g}, 0.25});
}

Test(hinge_embedding, margin_should_move_the_hinge)
{
    /* F.hinge_embedding_loss(x, y, margin=2.0, reduction='none') */
    static const double x[] = {0.5, 2.0, 2.5, -0.5, 3.0}, y[] = {-1, -1, -1, 1, 1};
    static const double l[] = {1.5, 0, 0, -0.5, 3}, g[] = {-1, -1, 0, 1, 1};
    tcase tc = {.loss = "hinge_embedding",
                .in = {{"predictions", 1, {5}, x}, {"targets", 1, {5}, y}},
                .par = {{"margin", 2.0}}};
    check_case(&tc, &(texpect){l, {g}, 0.80000000000000004});
}

Test(hinge_embedding, targets_other_than_signs_should_be_out_of_domain)
{
    /* PyTorch adds both branches for y = 0; lossd refuses it (docs/losses.md) */
    static const double x[] = {0.3, 0.5}, y[] = {1, 0};
    tcase tc = {.loss = "hinge_embedding",
                .in = {{"predictions", 1, {2}, x}, {"targets", 1, {2}, y}}};
    expect_error(&tc, LOSS_ERR_DOMAIN, "targets");
}

/* ---- GAN ---- */

static const double gan_real[] = {1.0, 0.0, 3.0, 2.0}; /* shape (2, 2) */
static const double gan_fake[] = {0.5, -1.0, 0.25};

static void expect_scalar(const tcase *tc, loss_reduction red, double want)
{
    loss_result r;
    compute(tc, LOSS_DTYPE_F64, red, &r);
    cr_expect(near(r.value, want, 1e-15, 0), "%s %s = %.17g, expected %.17g", tc->loss,
              loss_reduction_name(red), r.value, want);
    loss_result_release(&r);
}

/* Checks both terms of reduction none and the gradients of mean for a two-term GAN loss. */
static void expect_terms(const tcase *tc, const double *real_l, const double *fake_l,
                         const double *real_g, const double *fake_g)
{
    loss_result r;
    compute(tc, LOSS_DTYPE_F64, LOSS_REDUCE_NONE, &r);
    cr_assert_eq(r.n_terms, 2);
    cr_expect_eq(r.terms[0].rank, 2, "the real term keeps real's shape");
    expect_tensor("real term", &r.terms[0], real_l, 4, 1.0, 1e-15, 0);
    expect_tensor("fake term", &r.terms[1], fake_l, 3, 1.0, 1e-15, 0);
    expect_tensor("real gradient", &r.grad[0], real_g, 4, 1.0, 1e-15, 0);
    expect_tensor("fake gradient", &r.grad[1], fake_g, 3, 1.0, 1e-15, 0);
    loss_result_release(&r);
    compute(tc, LOSS_DTYPE_F64, LOSS_REDUCE_MEAN, &r);
    cr_expect_eq(r.denominator, 7.0, "each term's denominator, summed");
    expect_tensor("real gradient (mean)", &r.grad[0], real_g, 4, 0.25, 1e-15, 0);
    expect_tensor("fake gradient (mean)", &r.grad[1], fake_g, 3, 1.0 / 3.0, 1e-15, 0);
    loss_result_release(&r);
}

Test(wgan_critic, should_be_mean_fake_minus_mean_real_with_per_term_none)
{
    static const double rl[] = {-1, 0, -3, -2}, fl[] = {0.5, -1, 0.25};
    static const double rg[] = {-1, -1, -1, -1}, fg[] = {1, 1, 1};
    tcase tc = {.loss = "wgan_critic",
                .in = {{"real", 2, {2, 2}, gan_real}, {"fake", 1, {3}, gan_fake}}};
    expect_scalar(&tc, LOSS_REDUCE_MEAN, -0.25 / 3.0 - 1.5);
    expect_scalar(&tc, LOSS_REDUCE_SUM, -0.25 - 6.0);
    expect_terms(&tc, rl, fl, rg, fg);
}

Test(lsgan_discriminator, should_average_each_term_over_its_own_tensor)
{
    /* 0.5*mean((real-1)^2) + 0.5*mean(fake^2) */
    static const double rl[] = {0, 0.5, 2, 0.5}, fl[] = {0.125, 0.5, 0.03125};
    static const double rg[] = {0, -1, 2, 1}, fg[] = {0.5, -1, 0.25};
    tcase tc = {.loss = "lsgan_discriminator",
                .in = {{"real", 2, {2, 2}, gan_real}, {"fake", 1, {3}, gan_fake}}};
    expect_scalar(&tc, LOSS_REDUCE_MEAN, 3.0 / 4.0 + 0.65625 / 3.0);
    expect_scalar(&tc, LOSS_REDUCE_SUM, 3.0 + 0.65625);
    expect_terms(&tc, rl, fl, rg, fg);
}

Test(wgan_generator, should_be_minus_the_mean_of_fake)
{
    static const double l[] = {-0.5, 1.0, -0.25}, g[] = {-1, -1, -1};
    tcase tc = {.loss = "wgan_generator", .in = {{"fake", 1, {3}, gan_fake}}};
    check_case(&tc, &(texpect){l, {g}, 0.25 / 3.0});
}

Test(lsgan_generator, should_be_half_the_mean_squared_distance_to_one)
{
    static const double l[] = {0.125, 2.0, 0.28125}, g[] = {-0.5, -2.0, -0.75};
    tcase tc = {.loss = "lsgan_generator", .in = {{"fake", 1, {3}, gan_fake}}};
    check_case(&tc, &(texpect){l, {g}, 2.40625 / 3.0});
}

Test(wgan_critic, an_empty_term_should_make_the_mean_nan_with_zero_gradient)
{
    loss_call c;
    loss_result r;
    loss_error e;
    tcase tc = {.loss = "wgan_critic",
                .in = {{"real", 1, {0}, gan_real}, {"fake", 1, {3}, gan_fake}}};
    build(&c, &tc, LOSS_DTYPE_F64, LOSS_REDUCE_MEAN, 1);
    cr_assert_eq(loss_compute(&c, NULL, &r, &e), LOSS_OK, "%s", e.message);
    cr_expect(isnan(r.value));
    loss_result_release(&r);
    c.empty_mean_zero = 1;
    cr_assert_eq(loss_compute(&c, NULL, &r, &e), LOSS_OK, "%s", e.message);
    cr_expect(near(r.value, -0.25 / 3.0, 1e-15, 0), "only the fake term: %.17g", r.value);
    loss_result_release(&r);
}

Test(lsgan_discriminator, non_finite_inputs_should_name_their_tensor)
{
    const double fake[] = {0.5, NAN, 0.25};
    tcase tc = {.loss = "lsgan_discriminator",
                .in = {{"real", 2, {2, 2}, gan_real}, {"fake", 1, {3}, fake}}};
    expect_error(&tc, LOSS_ERR_NON_FINITE, "fake");
    tc.in[0].data = fake; /* real's index 1 is NaN too: the real term comes first */
    tc.in[0].shape[0] = 1;
    tc.in[0].shape[1] = 3;
    expect_error(&tc, LOSS_ERR_NON_FINITE, "real");
}

/* ---- PyTorch golden fixtures (tests/fixtures/<loss>.json) ---- */

Test(smooth_l1, should_match_pytorch_fixtures)
{
    golden_run_file("smooth_l1");
}
Test(smooth_l1, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("smooth_l1");
}
Test(log_cosh, should_match_pytorch_fixtures)
{
    golden_run_file("log_cosh");
}
Test(log_cosh, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("log_cosh");
}
Test(mape, should_match_pytorch_fixtures)
{
    golden_run_file("mape");
}
Test(mape, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("mape");
}
Test(msle, should_match_pytorch_fixtures)
{
    golden_run_file("msle");
}
Test(msle, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("msle");
}
Test(quantile, should_match_pytorch_fixtures)
{
    golden_run_file("quantile");
}
Test(quantile, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("quantile");
}
Test(poisson_nll, should_match_pytorch_fixtures)
{
    golden_run_file("poisson_nll");
}
Test(poisson_nll, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("poisson_nll");
}
Test(gaussian_nll, should_match_pytorch_fixtures)
{
    golden_run_file("gaussian_nll");
}
Test(gaussian_nll, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("gaussian_nll");
}
Test(bce_with_logits, should_match_pytorch_fixtures)
{
    golden_run_file("bce_with_logits");
}
Test(bce_with_logits, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("bce_with_logits");
}
Test(sigmoid_focal, should_match_pytorch_fixtures)
{
    golden_run_file("sigmoid_focal");
}
Test(sigmoid_focal, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("sigmoid_focal");
}
Test(squared_hinge, should_match_pytorch_fixtures)
{
    golden_run_file("squared_hinge");
}
Test(squared_hinge, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("squared_hinge");
}
Test(soft_margin, should_match_pytorch_fixtures)
{
    golden_run_file("soft_margin");
}
Test(soft_margin, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("soft_margin");
}
Test(margin_ranking, should_match_pytorch_fixtures)
{
    golden_run_file("margin_ranking");
}
Test(margin_ranking, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("margin_ranking");
}
Test(hinge_embedding, should_match_pytorch_fixtures)
{
    golden_run_file("hinge_embedding");
}
Test(hinge_embedding, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("hinge_embedding");
}
Test(wgan_critic, should_match_pytorch_fixtures)
{
    golden_run_file("wgan_critic");
}
Test(wgan_critic, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("wgan_critic");
}
Test(wgan_generator, should_match_pytorch_fixtures)
{
    golden_run_file("wgan_generator");
}
Test(wgan_generator, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("wgan_generator");
}
Test(lsgan_discriminator, should_match_pytorch_fixtures)
{
    golden_run_file("lsgan_discriminator");
}
Test(lsgan_discriminator, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("lsgan_discriminator");
}
Test(lsgan_generator, should_match_pytorch_fixtures)
{
    golden_run_file("lsgan_generator");
}
Test(lsgan_generator, gradient_should_match_finite_differences_on_fixtures)
{
    golden_fd_file("lsgan_generator");
}
