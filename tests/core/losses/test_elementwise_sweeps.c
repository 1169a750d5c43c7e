/* Sweeps over the elementwise losses with a fast path (mae, mbe, huber, hinge, bce, focal,
 * gan_discriminator, gan_generator): gradients against central differences on random inputs
 * kept away from kinks, and on 100003-element inputs every ISA fast path against the
 * reference, bit-identical results for 1, 2 and 7 workers, and declined chunks reporting the
 * exact bad element. */
#include "lcase.h"

/* Checks every gradient element of input `name` against central differences of the value
 * (the call's reduction must be sum or mean). x is the borrowed data of that input. */
static void fd_check(lcase *c, const char *name, double *x, size_t n)
{
    lc_run(c);
    double *g = mem_alloc(n * sizeof *g);
    for (size_t i = 0; i < n; i++)
        g[i] = tensor_get(&c->res.grad[lc_index(c, name)], i);
    lc_done(c);
    c->call.want_gradient = 0;
    for (size_t i = 0; i < n; i++) {
        double save = x[i], h = 1e-6 * fmax(1.0, fabs(save)), up, down;
        x[i] = save + h;
        lc_run(c);
        up = c->res.value;
        lc_done(c);
        x[i] = save - h;
        lc_run(c);
        down = c->res.value;
        lc_done(c);
        x[i] = save;
        double fd = (up - down) / (2 * h);
        cr_assert(fabs(fd - g[i]) <= 1e-6 * fmax(1.0, fabs(g[i])),
                  "%s %s[%zu]: finite difference %.12g, gradient %.12g", c->call.desc->name, name,
                  i, fd, g[i]);
    }
    c->call.want_gradient = 1;
    mem_free(g);
}

static double unit_rand(unsigned long *s)
{
    *s = *s * 6364136223846793005UL + 1442695040888963407UL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* Random values in [lo, hi) that stay at least `gap` away from each kink in kinks[]. */
static void fill_away(double *x, const double *base, size_t n, double lo, double hi,
                      const double *kinks, size_t n_kinks, double gap, unsigned long seed)
{
    for (size_t i = 0; i < n; i++) {
        int ok;
        do {
            x[i] = lo + (hi - lo) * unit_rand(&seed);
            ok = 1;
            for (size_t k = 0; k < n_kinks; k++)
                ok &= fabs(x[i] - (base ? base[i] : 0.0) - kinks[k]) > gap;
        } while (!ok);
    }
}

Test(finite_differences, regression_losses_should_agree_with_their_gradients)
{
    enum { N = 12 };
    double p[N], y[N], w[N];
    fill_away(y, NULL, N, -2, 2, NULL, 0, 0, 1);
    fill_away(w, NULL, N, 0.1, 3, NULL, 0, 0, 2);
    const double k_abs[] = {0.0}, k_huber[] = {-0.7, 0.7};
    struct {
        const char *loss;
        const double *kinks;
        size_t n_kinks;
        int weighted;
    } cases[] = {{"mae", k_abs, 1, 1}, {"mbe", NULL, 0, 0}, {"huber", k_huber, 2, 1}};
    for (size_t k = 0; k < N_OF(cases); k++) {
        fill_away(p, y, N, -3, 3, cases[k].kinks, cases[k].n_kinks, 1e-3, 3 + k);
        lcase c;
        lc_init(&c, cases[k].loss, LOSS_REDUCE_MEAN);
        lc_input(&c, "predictions", p, N);
        lc_input(&c, "targets", y, N);
        if (cases[k].weighted)
            lc_input(&c, "weight", w, N);
        if (strcmp(cases[k].loss, "huber") == 0)
            lc_param(&c, "delta", 0.7);
        fd_check(&c, "predictions", p, N);
    }
}

Test(finite_differences, classification_losses_should_agree_with_their_gradients)
{
    enum { N = 12 };
    double p[N], y[N], w[N], ys[N];
    fill_away(p, NULL, N, 0.05, 0.95, NULL, 0, 0, 11);
    fill_away(y, NULL, N, 0, 1, NULL, 0, 0, 12);
    fill_away(w, NULL, N, 0.1, 2, NULL, 0, 0, 13);
    lcase c;
    lc_init(&c, "bce", LOSS_REDUCE_SUM);
    lc_input(&c, "predictions", p, N);
    lc_input(&c, "targets", y, N);
    lc_input(&c, "weight", w, N);
    fd_check(&c, "predictions", p, N);

    const double gammas[] = {2.0, 0.5, 0.0}, alphas[] = {0.25, -1.0, 0.6};
    for (size_t k = 0; k < N_OF(gammas); k++) {
        lc_init(&c, "focal", LOSS_REDUCE_MEAN);
        lc_input(&c, "predictions", p, N);
        lc_input(&c, "targets", y, N);
        lc_param(&c, "gamma", gammas[k]);
        lc_param(&c, "alpha", alphas[k]);
        fd_check(&c, "predictions", p, N);
    }

    for (size_t i = 0; i < N; i++)
        ys[i] = y[i] < 0.5 ? -1.0 : 1.0;
    double q[N];
    const double k_hinge[] = {0.0};
    for (size_t i = 0; i < N; i++) {
        double base = ys[i]; /* the tie is at p = y (1 - y*p = 0 for y = +-1) */
        fill_away(&q[i], &base, 1, -3, 3, k_hinge, 1, 1e-3, 20 + i);
    }
    lc_init(&c, "hinge", LOSS_REDUCE_MEAN);
    lc_input(&c, "predictions", q, N);
    lc_input(&c, "targets", ys, N);
    fd_check(&c, "predictions", q, N);
}

Test(finite_differences, gan_losses_should_agree_with_their_gradients)
{
    enum { NR = 7, NF = 5 };
    double pr[NR], pf[NF], lr[NR], lf[NF];
    fill_away(pr, NULL, NR, 0.05, 0.95, NULL, 0, 0, 31);
    fill_away(pf, NULL, NF, 0.05, 0.95, NULL, 0, 0, 32);
    fill_away(lr, NULL, NR, -6, 6, NULL, 0, 0, 33);
    fill_away(lf, NULL, NF, -6, 6, NULL, 0, 0, 34);
    for (int logits = 0; logits < 2; logits++) {
        double *r = logits ? lr : pr, *f = logits ? lf : pf;
        lcase c;
        lc_init(&c, "gan_discriminator", LOSS_REDUCE_MEAN);
        lc_input(&c, "real", r, NR);
        lc_input(&c, "fake", f, NF);
        lc_param(&c, "from_logits", logits);
        fd_check(&c, "real", r, NR);
        fd_check(&c, "fake", f, NF);
        for (int sat = 0; sat < 2; sat++) {
            lc_init(&c, "gan_generator", LOSS_REDUCE_SUM);
            lc_input(&c, "fake", f, NF);
            lc_param(&c, "from_logits", logits);
            lc_param(&c, "saturating", sat);
            fd_check(&c, "fake", f, NF);
        }
    }
}

typedef enum { DIST_WIDE, DIST_SIGN, DIST_UNIT } dist;

typedef struct {
    const char *loss;
    const char *in0, *in1; /* in1 may be NULL */
    dist d0, d1;
    const char *param; /* may be NULL */
    double pval;
} big_spec;

static const big_spec BIG[] = {
    {"mae", "predictions", "targets", DIST_WIDE, DIST_WIDE, NULL, 0},
    {"mbe", "predictions", "targets", DIST_WIDE, DIST_WIDE, NULL, 0},
    {"huber", "predictions", "targets", DIST_WIDE, DIST_WIDE, "delta", 0.8},
    {"hinge", "predictions", "targets", DIST_WIDE, DIST_SIGN, NULL, 0},
    {"bce", "predictions", "targets", DIST_UNIT, DIST_UNIT, NULL, 0},
    {"focal", "predictions", "targets", DIST_UNIT, DIST_UNIT, "gamma", 1.5},
    {"gan_discriminator", "real", "fake", DIST_UNIT, DIST_UNIT, NULL, 0},
    {"gan_generator", "fake", NULL, DIST_WIDE, DIST_WIDE, "from_logits", 1},
};

static void fill_dist(double *x, size_t n, dist d, unsigned long seed)
{
    for (size_t i = 0; i < n; i++) {
        double u = unit_rand(&seed);
        x[i] = d == DIST_WIDE ? 6 * u - 3 : d == DIST_SIGN ? (u < 0.5 ? -1.0 : 1.0) : u;
    }
}

/* Plants the kinks the fast paths must get right: d = 0, |d| = delta, hinge ties. */
static void plant_edges(const big_spec *s, double *a, const double *b, size_t n)
{
    if (s->d0 != DIST_WIDE || s->in1 == NULL)
        return;
    for (size_t i = 0; i < n; i += 97)
        a[i] = b[i];
    for (size_t i = 41; i < n; i += 89)
        a[i] = b[i] + (s->param ? s->pval : 1.0) * (i % 2 ? 1 : -1);
}

typedef struct {
    double value;
    tensor grad[2], terms[2];
} snapshot;

static void copy_tensor(tensor *dst, const tensor *src)
{
    memset(dst, 0, sizeof *dst);
    if (src->data == NULL)
        return;
    cr_assert_eq(tensor_alloc(dst, src->type, src->rank, src->shape), 0);
    memcpy(dst->data, src->data, src->count * tensor_type_size(src->type));
}

static void snapshot_free(snapshot *s)
{
    for (int i = 0; i < 2; i++) {
        tensor_release(&s->grad[i]);
        tensor_release(&s->terms[i]);
    }
}

static void run_big(const big_spec *s, double *a, double *b, size_t n, loss_dtype dt,
                    loss_reduction red, pool *workers, snapshot *out)
{
    lcase c;
    lc_init(&c, s->loss, red);
    c.call.dtype = dt;
    lc_input(&c, s->in0, a, n);
    if (s->in1)
        lc_input(&c, s->in1, b, n);
    if (s->param)
        lc_param(&c, s->param, s->pval);
    lc_run_with(&c, workers);
    memset(out, 0, sizeof *out);
    out->value = c.res.value;
    for (int i = 0; i < 2; i++) {
        copy_tensor(&out->grad[i], &c.res.grad[i]);
        copy_tensor(&out->terms[i], &c.res.terms[i]);
    }
    lc_done(&c);
}

static void expect_same_bytes(const snapshot *a, const snapshot *b, const char *what)
{
    cr_assert_eq(memcmp(&a->value, &b->value, sizeof a->value), 0, "%s: value differs", what);
    for (int i = 0; i < 2; i++) {
        const tensor *t[2][2] = {{&a->grad[i], &b->grad[i]}, {&a->terms[i], &b->terms[i]}};
        for (int k = 0; k < 2; k++) {
            size_t bytes = t[k][0]->count * tensor_type_size(t[k][0]->type);
            cr_assert_eq(t[k][0]->count, t[k][1]->count, "%s", what);
            if (t[k][0]->data)
                cr_assert_eq(memcmp(t[k][0]->data, t[k][1]->data, bytes), 0, "%s: %s %d differs",
                             what, k ? "terms" : "grad", i);
        }
    }
}

static void expect_close_snapshots(const snapshot *got, const snapshot *ref, double tol,
                                   const char *what)
{
    cr_assert(close_to(got->value, ref->value, tol) || (isnan(got->value) && isnan(ref->value)),
              "%s: value %.17g vs reference %.17g", what, got->value, ref->value);
    for (int i = 0; i < 2; i++) {
        const tensor *pairs[2][2] = {{&got->grad[i], &ref->grad[i]},
                                     {&got->terms[i], &ref->terms[i]}};
        for (int k = 0; k < 2; k++) {
            const tensor *g = pairs[k][0], *r = pairs[k][1];
            if (r->data == NULL)
                continue;
            for (size_t j = 0; j < r->count; j++)
                cr_assert(close_to(tensor_get(g, j), tensor_get(r, j), tol),
                          "%s: %s %d [%zu] %.17g vs reference %.17g", what, k ? "terms" : "grad", i,
                          j, tensor_get(g, j), tensor_get(r, j));
        }
    }
}

Test(isa, every_fast_path_should_agree_with_the_reference)
{
    const size_t n = 100003;
    double *a = mem_alloc(n * sizeof *a), *b = mem_alloc(n * sizeof *b);
    const char *isas[] = {"avx2", "avx512"};
    const loss_reduction reds[] = {LOSS_REDUCE_MEAN, LOSS_REDUCE_NONE};
    for (size_t s = 0; s < N_OF(BIG); s++) {
        fill_dist(a, n, BIG[s].d0, 100 + s);
        fill_dist(b, n, BIG[s].d1, 200 + s);
        plant_edges(&BIG[s], a, b, n);
        for (size_t k = 0; k < N_OF(DTYPES); k++) {
            for (size_t r = 0; r < N_OF(reds); r++) {
                snapshot ref, got;
                cr_assert_eq(kern_init("ref"), 0);
                run_big(&BIG[s], a, b, n, DTYPES[k], reds[r], NULL, &ref);
                for (size_t i = 0; i < N_OF(isas); i++) {
                    if (kern_init(isas[i]) != 0)
                        continue;
                    char what[96];
                    snprintf(what, sizeof what, "%s %s dtype %zu reduction %zu", BIG[s].loss,
                             isas[i], k, r);
                    run_big(&BIG[s], a, b, n, DTYPES[k], reds[r], NULL, &got);
                    expect_close_snapshots(&got, &ref, k == 0 ? 1e-12 : 1e-6, what);
                    snapshot_free(&got);
                }
                snapshot_free(&ref);
            }
        }
    }
    kern_init(NULL);
    mem_free(a);
    mem_free(b);
}

Test(determinism, results_should_be_bit_identical_for_1_2_and_7_workers)
{
    const size_t n = 200003;
    double *a = mem_alloc(n * sizeof *a), *b = mem_alloc(n * sizeof *b);
    const size_t counts[] = {1, 2, 7};
    pool *pools[3];
    for (size_t i = 0; i < 3; i++)
        cr_assert_not_null(pools[i] = pool_create(counts[i], 4));
    for (size_t s = 0; s < N_OF(BIG); s++) {
        fill_dist(a, n, BIG[s].d0, 300 + s);
        fill_dist(b, n, BIG[s].d1, 400 + s);
        plant_edges(&BIG[s], a, b, n);
        for (size_t k = 0; k < N_OF(DTYPES); k++) {
            const loss_reduction red = k == 0 ? LOSS_REDUCE_MEAN : LOSS_REDUCE_NONE;
            snapshot alone, shared;
            run_big(&BIG[s], a, b, n, DTYPES[k], red, NULL, &alone);
            for (size_t i = 0; i < 3; i++) {
                char what[64];
                snprintf(what, sizeof what, "%s, %zu workers", BIG[s].loss, counts[i]);
                run_big(&BIG[s], a, b, n, DTYPES[k], red, pools[i], &shared);
                expect_same_bytes(&shared, &alone, what);
                snapshot_free(&shared);
            }
            snapshot_free(&alone);
        }
    }
    for (size_t i = 0; i < 3; i++)
        pool_destroy(pools[i]);
    mem_free(a);
    mem_free(b);
}

/* A bad element deep in a large input must be reported exactly, whichever path ran. */
Test(isa, declined_chunks_should_report_the_exact_bad_element)
{
    const size_t n = 100003;
    double *p = mem_alloc(n * sizeof *p), *y = mem_alloc(n * sizeof *y);
    const char *isas[] = {"ref", "avx2", "avx512"};
    for (size_t i = 0; i < N_OF(isas); i++) {
        if (kern_init(isas[i]) != 0)
            continue;
        for (size_t k = 0; k < N_OF(DTYPES); k++) {
            fill_dist(p, n, DIST_WIDE, 7);
            fill_dist(y, n, DIST_SIGN, 8);
            y[50001] = 0.0;
            lcase c;
            lc_init(&c, "hinge", LOSS_REDUCE_MEAN);
            c.call.dtype = DTYPES[k];
            lc_input(&c, "predictions", p, n);
            lc_input(&c, "targets", y, n);
            loss_error e = lc_fail(&c, LOSS_ERR_DOMAIN);
            cr_assert_str_eq(e.field, "targets", "%s", isas[i]);
            cr_assert_not_null(strstr(e.message, "targets[50001]"), "%s: %s", isas[i], e.message);
            /* +inf with y = 1 clamps to a finite 0: only a finiteness check can see it */
            y[50001] = 1.0;
            y[70002] = 1.0;
            p[70002] = INFINITY;
            e = lc_fail(&c, LOSS_ERR_NON_FINITE);
            cr_assert_str_eq(e.field, "predictions", "%s", isas[i]);
            cr_assert_not_null(strstr(e.message, "predictions[70002]"), "%s", e.message);
            const char *others[] = {"mae", "mbe", "huber"};
            for (size_t o = 0; o < N_OF(others); o++) {
                lc_init(&c, others[o], LOSS_REDUCE_SUM);
                c.call.dtype = DTYPES[k];
                lc_input(&c, "predictions", p, n);
                lc_input(&c, "targets", y, n);
                e = lc_fail(&c, LOSS_ERR_NON_FINITE);
                cr_assert_not_null(strstr(e.message, "predictions[70002]"), "%s %s: %s", others[o],
                                   isas[i], e.message);
            }
        }
    }
    kern_init(NULL);
    mem_free(p);
    mem_free(y);
}
