/* Generated cases for the table-described elementwise losses (the `generated` table below:
 * one row per loss and input layout): every gradient against central differences, float32
 * against float64, bit-identical results for 1, 2 and 7 workers, and every ISA path against
 * the reference. */
#include "tcase.h"

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

Test(elementwise_generated, every_gradient_should_match_central_differences)
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

Test(elementwise_generated, results_should_not_depend_on_the_number_of_workers)
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
Test(elementwise_generated, float32_should_agree_with_float64)
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
Test(elementwise_generated, every_isa_path_should_agree_with_the_reference)
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
                        double a =
                            dt ? (double)((float *)fast.blob[i])[j] : ((double *)fast.blob[i])[j];
                        double b =
                            dt ? (double)((float *)ref.blob[i])[j] : ((double *)ref.blob[i])[j];
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
