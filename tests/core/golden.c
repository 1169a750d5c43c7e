/* golden: fixture loading (cJSON, test side only), request → loss_call, comparison. */
#include "golden.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "kern.h"
#include "loss.h"
#include "mem.h"
#include "pool.h"

/* LOSSD_TEST_ISA=ref|avx2|avx512 runs every test of a suite that links this file on that
 * ISA path (tests that choose no ISA run on the reference otherwise): the whole suite can
 * be repeated per path, e.g. `LOSSD_TEST_ISA=avx2 ctest`. */
__attribute__((constructor)) static void golden_isa_from_env(void)
{
    const char *isa = getenv("LOSSD_TEST_ISA");
    if (isa == NULL)
        isa = "ref";
    if (core_init(isa) != 0)
        fprintf(stderr, "LOSSD_TEST_ISA=%s: not supported here, using %s\n", isa, core_isa_name());
}

typedef struct {
    loss_call call;
    double *bufs[LOSS_MAX_INPUTS];
    int skip; /* the request holds something only the api layer rejects */
} golden_case;

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

static cJSON *load_fixture(const char *loss)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s.json", LOSSD_SOURCE_DIR, loss);
    char *text = read_file(path);
    cr_assert_not_null(text, "fixture %s exists", path);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(doc, "fixture %s parses", path);
    return doc;
}

/* Shape of a nested rectangular array (rank 0 for a number). */
static int shape_of(const cJSON *j, size_t *shape, size_t *rank)
{
    *rank = 0;
    while (cJSON_IsArray(j)) {
        if (*rank == TENSOR_MAX_RANK)
            return -1;
        shape[(*rank)++] = (size_t)cJSON_GetArraySize(j);
        j = j->child;
        if (j == NULL)
            break;
    }
    return 0;
}

static void flatten(const cJSON *j, double *out, size_t *at)
{
    if (cJSON_IsArray(j)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, j) flatten(e, out, at);
    } else {
        out[(*at)++] = j->valuedouble;
    }
}

static size_t json_count(const cJSON *j)
{
    if (!cJSON_IsArray(j))
        return 1;
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, j) n += json_count(e);
    return n;
}

static void set_tensor(golden_case *gc, int idx, const cJSON *j)
{
    tensor *t = &gc->call.input[idx];
    memset(t, 0, sizeof *t);
    t->type = TENSOR_F64;
    shape_of(j, t->shape, &t->rank);
    t->count = json_count(j);
    gc->bufs[idx] = malloc((t->count ? t->count : 1) * sizeof(double));
    size_t at = 0;
    flatten(j, gc->bufs[idx], &at);
    t->data = gc->bufs[idx];
    gc->call.present[idx] = 1;
}

static void set_option(golden_case *gc, const cJSON *item)
{
    const loss_desc *desc = gc->call.desc;
    const char *key = item->string;
    int i;
    if (strcmp(key, "reduction") == 0) {
        int r = cJSON_IsString(item)
                    ? loss_reduction_parse(item->valuestring, strlen(item->valuestring))
                    : -1;
        gc->call.reduction = r < 0 ? LOSS_REDUCE_COUNT : (loss_reduction)r;
    } else if (strcmp(key, "gradient") == 0) {
        gc->call.want_gradient = cJSON_IsTrue(item);
    } else if (strcmp(key, "dtype") == 0) {
        /* Anything but the two dtypes is the api's to refuse. */
        gc->skip |= !cJSON_IsString(item) || (strcmp(item->valuestring, "float32") != 0 &&
                                              strcmp(item->valuestring, "float64") != 0);
        gc->call.dtype = !gc->skip && strcmp(item->valuestring, "float32") == 0 ? LOSS_DTYPE_F32
                                                                                : LOSS_DTYPE_F64;
    } else if (strcmp(key, "empty_mean") == 0) {
        gc->skip |= !cJSON_IsString(item) || (strcmp(item->valuestring, "zero") != 0 &&
                                              strcmp(item->valuestring, "nan") != 0);
        gc->call.empty_mean_zero = !gc->skip && strcmp(item->valuestring, "zero") == 0;
    } else if ((i = loss_desc_input_index(desc, key, strlen(key))) >= 0 &&
               (cJSON_IsArray(item) || cJSON_IsNumber(item))) {
        set_tensor(gc, i, item);
    } else if ((i = loss_desc_param_index(desc, key, strlen(key))) >= 0 &&
               (cJSON_IsNumber(item) || cJSON_IsBool(item))) {
        gc->call.param[i] = cJSON_IsBool(item) ? (double)cJSON_IsTrue(item) : item->valuedouble;
        gc->call.param_set[i] = 1;
    } else {
        gc->skip = 1;
    }
}

static void case_build(golden_case *gc, const loss_desc *desc, const cJSON *request)
{
    memset(gc, 0, sizeof *gc);
    loss_call_init(&gc->call, desc);
    const cJSON *item;
    cJSON_ArrayForEach(item, request) set_option(gc, item);
}

static void case_free(golden_case *gc)
{
    for (int i = 0; i < LOSS_MAX_INPUTS; i++)
        free(gc->bufs[i]);
}

static double expected_number(const cJSON *j)
{
    if (cJSON_IsNumber(j))
        return j->valuedouble;
    if (cJSON_IsString(j)) {
        if (strcmp(j->valuestring, "inf") == 0)
            return INFINITY;
        if (strcmp(j->valuestring, "-inf") == 0)
            return -INFINITY;
    }
    return NAN;
}

static int close_enough(double got, double want, double rtol)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return got == want;
    return fabs(got - want) <= rtol * (fabs(want) + 1.0);
}

static void flatten_expected(const cJSON *j, double *out, size_t *at)
{
    if (cJSON_IsArray(j)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, j) flatten_expected(e, out, at);
    } else {
        out[(*at)++] = expected_number(j);
    }
}

static int compare_tensor(const char *what, const tensor *t, const cJSON *want, double rtol)
{
    size_t n = json_count(want);
    if (t->count != n || t->data == NULL) {
        cr_expect_fail("%s: %zu elements, expected %zu", what, t->count, n);
        return 0;
    }
    double *flat = malloc((n ? n : 1) * sizeof(double));
    size_t at = 0, bad = 0;
    flatten_expected(want, flat, &at);
    for (size_t i = 0; i < n && bad < 3; i++) {
        double got = tensor_get(t, i);
        if (!close_enough(got, flat[i], rtol)) {
            cr_expect_fail("%s[%zu] = %.17g, expected %.17g", what, i, got, flat[i]);
            bad++;
        }
    }
    free(flat);
    return bad == 0;
}

static const char *status_code(loss_status st)
{
    static const char *const codes[] = {
        [LOSS_OK] = "ok",
        [LOSS_ERR_SHAPE] = "shape_mismatch",
        [LOSS_ERR_DOMAIN] = "out_of_domain",
        [LOSS_ERR_PARAM] = "invalid_parameter",
        [LOSS_ERR_TYPE] = "invalid_type",
        [LOSS_ERR_NON_FINITE] = "non_finite",
        [LOSS_ERR_MISSING] = "missing_field",
        [LOSS_ERR_LIMIT] = "payload_too_large",
        [LOSS_ERR_NOMEM] = "out_of_memory",
    };
    return codes[st];
}

static int core_can_raise(const char *code)
{
    static const char *const codes[] = {"shape_mismatch", "out_of_domain", "invalid_parameter",
                                        "non_finite", "missing_field"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(code, codes[i]) == 0)
            return 1;
    return 0;
}

static void check_error(const char *name, loss_status st, const loss_error *err, const cJSON *want)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(want, "code");
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(want, "field");
    cr_expect_neq(st, LOSS_OK, "%s: expected error %s", name, code->valuestring);
    if (st == LOSS_OK)
        return;
    cr_expect_str_eq(status_code(st), code->valuestring, "%s: %s", name, err->message);
    if (cJSON_IsString(field))
        cr_expect_str_eq(err->field, field->valuestring, "%s: field (%s)", name, err->message);
}

static void check_result(const char *name, const loss_call *call, const loss_result *r,
                         const cJSON *expect)
{
    double rtol = call->dtype == LOSS_DTYPE_F64 ? 1e-12 : 1e-5;
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(expect, "value");
    const cJSON *grads = cJSON_GetObjectItemCaseSensitive(expect, "gradient");
    char what[512];
    if (cJSON_IsObject(value)) {
        for (size_t t = 0; t < 2; t++) {
            const char *term = call->desc->term_names[t];
            const cJSON *want = term ? cJSON_GetObjectItemCaseSensitive(value, term) : NULL;
            snprintf(what, sizeof what, "%s: value.%s", name, term ? term : "?");
            if (want)
                compare_tensor(what, &r->terms[t], want, rtol);
            else
                cr_expect_fail("%s missing in fixture or descriptor", what);
        }
    } else if (cJSON_IsArray(value) || call->reduction == LOSS_REDUCE_NONE) {
        /* `none` on a 0-d per-element shape (e.g. one unbatched sample) is a bare number */
        snprintf(what, sizeof what, "%s: value", name);
        compare_tensor(what, &r->terms[0], value, rtol);
    } else {
        double want = expected_number(value);
        cr_expect(close_enough(r->value, want, rtol), "%s: value %.17g, expected %.17g", name,
                  r->value, want);
    }
    const cJSON *g;
    cJSON_ArrayForEach(g, grads)
    {
        int i = loss_desc_input_index(call->desc, g->string, strlen(g->string));
        snprintf(what, sizeof what, "%s: gradient.%s", name, g->string);
        if (i < 0)
            cr_expect_fail("%s: no such input", what);
        else
            compare_tensor(what, &r->grad[i], g, rtol);
    }
}

static int run_case(const loss_desc *desc, const cJSON *c)
{
    const char *name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
    const cJSON *request = cJSON_GetObjectItemCaseSensitive(c, "request");
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(c, "expect");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(c, "error");
    golden_case gc;
    case_build(&gc, desc, request);
    if (gc.skip ||
        (error && !core_can_raise(cJSON_GetObjectItemCaseSensitive(error, "code")->valuestring))) {
        case_free(&gc);
        return 0;
    }
    for (int isa = KERN_ISA_REF; isa <= KERN_ISA_AVX512; isa++) {
        if (kern_init(kern_isa_name((kern_isa)isa)) != 0)
            continue;
        loss_result r;
        loss_error err;
        loss_status st = loss_compute(&gc.call, NULL, &r, &err);
        char label[256];
        snprintf(label, sizeof label, "%s/%s [%s]", desc->name, name, kern_isa_name((kern_isa)isa));
        if (error)
            check_error(label, st, &err, error);
        else if (st != LOSS_OK)
            cr_expect_fail("%s: %s (%s)", label, err.message, err.field);
        else
            check_result(label, &gc.call, &r, expect);
        loss_result_release(&r);
    }
    kern_init(NULL);
    case_free(&gc);
    return 1;
}

int golden_run_file(const char *loss)
{
    const loss_desc *desc = loss_registry_find(loss, strlen(loss));
    cr_assert_not_null(desc, "%s is registered", loss);
    cJSON *doc = load_fixture(loss);
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases")) n += run_case(desc, c);
    cJSON_Delete(doc);
    cr_expect_gt(n, 0, "%s: at least one case ran", loss);
    return n;
}

/* The value whose gradient the result reports: the reduced value, or the sum of every
 * per-element term for reduction none. */
static double objective(const loss_call *call, int *ok)
{
    loss_result r;
    loss_error err;
    *ok = loss_compute(call, NULL, &r, &err) == LOSS_OK;
    if (!*ok)
        return NAN;
    double v = r.value;
    if (call->reduction == LOSS_REDUCE_NONE) {
        v = 0;
        for (size_t t = 0; t < r.n_terms; t++)
            for (size_t i = 0; i < r.terms[t].count; i++)
                v += tensor_get(&r.terms[t], i);
    }
    loss_result_release(&r);
    return v;
}

static int fd_input(const char *label, golden_case *gc, int idx, const tensor *grad)
{
    loss_call probe = gc->call;
    probe.want_gradient = 0;
    double *x = gc->bufs[idx];
    size_t n = gc->call.input[idx].count, checked = 0;
    for (size_t i = 0; i < n && i < 64; i++) {
        double keep = x[i], h = 1e-6 * fmax(1.0, fabs(keep));
        int ok1, ok2;
        x[i] = keep + h;
        double up = objective(&probe, &ok1);
        x[i] = keep - h;
        double down = objective(&probe, &ok2);
        x[i] = keep;
        double fd = (up - down) / (2 * h), g = tensor_get(grad, i);
        /* Rounding of the objective itself limits how well a difference can resolve it. */
        double noise = 64 * 2.220446049250313e-16 * (fabs(up) + fabs(down)) / (2 * h);
        cr_expect(ok1 && ok2, "%s: perturbed input %zu stays valid", label, i);
        cr_expect(fabs(fd - g) <= 1e-5 * fmax(1.0, fabs(g)) + noise,
                  "%s: d/d%s[%zu]: analytic %.12g, finite difference %.12g", label,
                  gc->call.desc->inputs[idx].name, i, g, fd);
        checked++;
    }
    return (int)checked;
}

static int fd_case(const loss_desc *desc, const cJSON *c)
{
    const cJSON *fd = cJSON_GetObjectItemCaseSensitive(c, "fd");
    if (!cJSON_IsTrue(fd) || cJSON_GetObjectItemCaseSensitive(c, "error"))
        return 0;
    golden_case gc;
    case_build(&gc, desc, cJSON_GetObjectItemCaseSensitive(c, "request"));
    int checked = 0;
    if (!gc.skip && gc.call.dtype == LOSS_DTYPE_F64) {
        gc.call.want_gradient = 1;
        loss_result r;
        loss_error err;
        char label[256];
        snprintf(label, sizeof label, "%s/%s", desc->name,
                 cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring);
        cr_assert_eq(loss_compute(&gc.call, NULL, &r, &err), LOSS_OK, "%s: %s", label, err.message);
        for (size_t i = 0; i < desc->n_inputs; i++)
            if (r.grad[i].data != NULL)
                checked += fd_input(label, &gc, (int)i, &r.grad[i]);
        loss_result_release(&r);
    }
    case_free(&gc);
    return checked;
}

int golden_fd_file(const char *loss)
{
    const loss_desc *desc = loss_registry_find(loss, strlen(loss));
    cr_assert_not_null(desc, "%s is registered", loss);
    cJSON *doc = load_fixture(loss);
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases")) n += fd_case(desc, c);
    cJSON_Delete(doc);
    cr_expect_gt(n, 0, "%s: at least one gradient element checked", loss);
    return n;
}

/* ---- the cost model against real runs ---- */

/* Errors that need the data (values, indices): the cost pass cannot see them coming. */
static int data_error(loss_status st)
{
    return st == LOSS_ERR_DOMAIN || st == LOSS_ERR_NON_FINITE || st == LOSS_ERR_TYPE;
}

static size_t result_elements(const loss_result *r)
{
    size_t n = 0;
    for (size_t t = 0; t < 2; t++)
        n += r->terms[t].data ? r->terms[t].count : 0;
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++)
        n += r->grad[i].data ? r->grad[i].count : 0;
    return n;
}

static void cost_case(const char *label, const loss_call *call, struct pool *workers)
{
    loss_cost cost;
    loss_error cerr, err;
    loss_result r;
    mem_fail_after(0); /* the plan-only pass must not allocate: any allocation fails */
    loss_status cst = loss_plan_cost(call, workers, &cost, &cerr);
    mem_fail_reset();
    mem_release_cache(); /* every aligned block is then a fresh, counted one */
    mem_track_start();
    loss_status st = loss_compute(call, workers, &r, &err);
    mem_track_stop();
    if (cst != LOSS_OK) {
        cr_expect_eq(st, cst, "%s: cost pass failed (%s) but compute gave %d", label, cerr.message,
                     (int)st);
        loss_result_release(&r);
        return;
    }
    cr_expect(st == LOSS_OK || data_error(st), "%s: cost pass passed, compute failed: %s", label,
              err.message);
    cr_expect_leq(mem_track_peak(), cost.bytes, "%s: allocated %zu bytes, cost said %zu", label,
                  mem_track_peak(), cost.bytes);
    if (st == LOSS_OK)
        cr_expect_leq(result_elements(&r), cost.output, "%s: %zu output elements, cost said %zu",
                      label, result_elements(&r), cost.output);
    loss_result_release(&r);
}

int golden_cost_file(const char *loss, size_t threads)
{
    const loss_desc *desc = loss_registry_find(loss, strlen(loss));
    cr_assert_not_null(desc, "%s is registered", loss);
    cJSON *doc = load_fixture(loss);
    struct pool *workers = threads ? pool_create(threads, 4) : NULL;
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases"))
    {
        golden_case gc;
        char label[256];
        snprintf(label, sizeof label, "%s/%s", loss,
                 cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring);
        case_build(&gc, desc, cJSON_GetObjectItemCaseSensitive(c, "request"));
        if (!gc.skip) {
            cost_case(label, &gc.call, workers);
            n++;
        }
        case_free(&gc);
    }
    pool_destroy(workers);
    cJSON_Delete(doc);
    return n;
}
