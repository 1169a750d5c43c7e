/* /v2 against the PyTorch golden fixtures: every case of every registered loss, its /v1
 * request rewritten as an OIP infer request, sent once as JSON and once with binary tensors
 * and binary outputs. Values and gradients must match the fixture (rtol 1e-12 float64, 1e-5
 * float32); expected errors must come back with the same status and code. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "v2_util.h"

typedef struct {
    const loss_desc *desc;
    const char *datatype; /* of the float inputs: FP64 or FP32 from the request's dtype */
    size_t rank0;         /* rank of input 0, to tell index targets from float ones */
    int binary;
    int ragged; /* a tensor is not rectangular: only JSON can carry that */
    int skip;   /* the case holds something with no /v2 spelling (a bad dtype) */
    cJSON *inputs, *params;
    v2_body tail; /* binary tensor bytes in input order */
} conv;

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "fixture %s exists", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Shape of a nested array; returns 0 if it is not rectangular. */
static int shape_of(const cJSON *j, size_t *shape, size_t *rank)
{
    if (!cJSON_IsArray(j)) {
        *rank = 0;
        return cJSON_IsNumber(j);
    }
    size_t n = (size_t)cJSON_GetArraySize(j), r = 0, sub[16];
    const cJSON *e;
    int first = 1;
    cJSON_ArrayForEach(e, j)
    {
        size_t s[16], k;
        if (!shape_of(e, s, &k) || (!first && (k != r || memcmp(s, sub, k * sizeof *s) != 0)))
            return 0;
        memcpy(sub, s, k * sizeof *s);
        r = k;
        first = 0;
    }
    if (r + 1 > 16)
        return 0;
    shape[0] = n;
    memcpy(shape + 1, sub, r * sizeof *sub);
    *rank = n == 0 ? 1 : r + 1;
    return 1;
}

static void flat_values(const cJSON *j, double *out, size_t *n)
{
    if (cJSON_IsArray(j)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, j) flat_values(e, out, n);
    } else {
        out[(*n)++] = j->valuedouble;
    }
}

static size_t leaf_count(const cJSON *j)
{
    if (!cJSON_IsArray(j))
        return 1;
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, j) n += leaf_count(e);
    return n;
}

static const char *input_datatype(const conv *c, int idx, size_t rank, const double *v, size_t n)
{
    loss_input_kind kind = c->desc->inputs[idx].kind;
    int index = kind == LOSS_IN_INDEX || (kind == LOSS_IN_INDEX_OR_FLOAT && rank + 1 == c->rank0);
    for (size_t i = 0; index && i < n; i++)
        index = v[i] == floor(v[i]); /* a fractional "index" is core's to refuse, as a float */
    return index ? "INT64" : c->datatype;
}

static void append_binary(conv *c, const char *dt, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(dt, "FP32") == 0) {
            float f = (float)v[i];
            v2_body_bytes(&c->tail, &f, 4);
        } else if (strcmp(dt, "INT64") == 0) {
            int64_t k = (int64_t)v[i];
            v2_body_bytes(&c->tail, &k, 8);
        } else {
            v2_body_bytes(&c->tail, &v[i], 8);
        }
    }
}

static void add_input(conv *c, int idx, const cJSON *value)
{
    size_t shape[16], rank = 0, n = leaf_count(value), k = 0;
    double *v = malloc((n ? n : 1) * sizeof *v);
    cJSON *in = cJSON_CreateObject();
    if (!shape_of(value, shape, &rank)) {
        c->ragged = 1;
        shape[0] = n;
        rank = 1;
    }
    flat_values(value, v, &k);
    const char *dt = input_datatype(c, idx, rank, v, n);
    cJSON_AddStringToObject(in, "name", c->desc->inputs[idx].name);
    cJSON *sh = cJSON_AddArrayToObject(in, "shape");
    for (size_t i = 0; i < rank; i++)
        cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)shape[i]));
    cJSON_AddStringToObject(in, "datatype", dt);
    if (c->binary) {
        size_t esize = strcmp(dt, "FP32") == 0 ? 4 : 8;
        cJSON *p = cJSON_AddObjectToObject(in, "parameters");
        cJSON_AddNumberToObject(p, "binary_data_size", (double)(n * esize));
        append_binary(c, dt, v, n);
    } else {
        cJSON_AddItemToObject(in, "data",
                              cJSON_IsArray(value) ? cJSON_Duplicate(value, 1)
                                                   : cJSON_CreateDoubleArray(v, 1));
    }
    cJSON_AddItemToArray(c->inputs, in);
    free(v);
}

static void set_dtype(conv *c, const cJSON *req)
{
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(req, "dtype");
    c->datatype = "FP64";
    if (dt == NULL)
        return;
    if (cJSON_IsString(dt) && strcmp(dt->valuestring, "float32") == 0)
        c->datatype = "FP32";
    else if (!cJSON_IsString(dt) || strcmp(dt->valuestring, "float64") != 0)
        c->skip = 1;
}

/* The OIP request for a /v1 request: tensors become inputs, everything else a parameter. */
static char *convert(conv *c, const cJSON *req)
{
    const cJSON *item, *in0 = cJSON_GetObjectItemCaseSensitive(req, c->desc->inputs[0].name);
    size_t shape[16];
    c->rank0 = 0;
    if (in0 != NULL && !shape_of(in0, shape, &c->rank0))
        c->rank0 = 0;
    set_dtype(c, req);
    cJSON *root = cJSON_CreateObject();
    c->inputs = cJSON_AddArrayToObject(root, "inputs");
    c->params = cJSON_AddObjectToObject(root, "parameters");
    if (c->binary)
        cJSON_AddTrueToObject(c->params, "binary_data_output");
    cJSON_ArrayForEach(item, req)
    {
        int idx = loss_desc_input_index(c->desc, item->string, strlen(item->string));
        if (strcmp(item->string, "dtype") == 0)
            continue;
        if (idx >= 0 && (cJSON_IsArray(item) || cJSON_IsNumber(item)))
            add_input(c, idx, item);
        else
            cJSON_AddItemToObject(c->params, item->string, cJSON_Duplicate(item, 1));
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

static double expected_number(const cJSON *j)
{
    if (cJSON_IsNumber(j))
        return j->valuedouble;
    if (cJSON_IsString(j) && strcmp(j->valuestring, "inf") == 0)
        return INFINITY;
    if (cJSON_IsString(j) && strcmp(j->valuestring, "-inf") == 0)
        return -INFINITY;
    return NAN;
}

static void expected_flat(const cJSON *j, double *out, size_t *n)
{
    if (cJSON_IsArray(j)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, j) expected_flat(e, out, n);
    } else {
        out[(*n)++] = expected_number(j);
    }
}

/* Compares output `name` with the expected (nested) value. JSON carries non-finite numbers
 * as null, so there any non-finite expectation accepts null; binary must be exact. */
static void compare(const char *what, const api_reply *r, const cJSON *rj, const char *name,
                    const cJSON *want, double rtol, int binary)
{
    size_t n = leaf_count(want), k = 0;
    double *w = malloc((n ? n : 1) * sizeof *w), *got = malloc((n + 1) * sizeof *got);
    expected_flat(want, w, &k);
    long m = v2_output_values(r, rj, name, got, n + 1);
    cr_expect_eq(m, (long)n, "%s: output %s has %ld elements, expected %zu", what, name, m, n);
    for (size_t i = 0; m == (long)n && i < n; i++) {
        int ok = isnan(w[i])   ? isnan(got[i])
                 : isinf(w[i]) ? (binary ? got[i] == w[i] : isnan(got[i]))
                               : fabs(got[i] - w[i]) <= rtol * (fabs(w[i]) + 1.0);
        if (!ok) {
            cr_expect_fail("%s: %s[%zu] = %.17g, expected %.17g", what, name, i, got[i], w[i]);
            break;
        }
    }
    free(w);
    free(got);
}

static void check_value(const char *what, const api_reply *r, const cJSON *rj, const cJSON *expect,
                        double rtol, int binary)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(expect, "value");
    const cJSON *grads = cJSON_GetObjectItemCaseSensitive(expect, "gradient");
    const cJSON *g;
    if (cJSON_IsObject(value)) {
        compare(what, r, rj, "loss_real", cJSON_GetObjectItem(value, "real"), rtol, binary);
        compare(what, r, rj, "loss_fake", cJSON_GetObjectItem(value, "fake"), rtol, binary);
    } else {
        compare(what, r, rj, "loss", value, rtol, binary);
    }
    cJSON_ArrayForEach(g, grads)
    {
        char name[96];
        snprintf(name, sizeof name, "grad_%s", g->string);
        compare(what, r, rj, name, g, rtol, binary);
    }
}

static void check_error(const char *what, const api_reply *r, const cJSON *want)
{
    int status = cJSON_GetObjectItem(want, "status")->valueint;
    const char *code = cJSON_GetObjectItem(want, "code")->valuestring;
    cr_expect(v2_reply_is_error(r, status, code), "%s", what);
}

/* Runs one case in one mode. Returns 1 if it ran, 0 if it has no /v2 form in this mode. */
static int run_case(const loss_desc *desc, const cJSON *kase, int binary)
{
    conv c = {.desc = desc, .binary = binary};
    const cJSON *req = cJSON_GetObjectItem(kase, "request");
    char what[256];
    snprintf(what, sizeof what, "%s/%s (%s)", desc->name,
             cJSON_GetObjectItem(kase, "name")->valuestring, binary ? "binary" : "JSON");
    char *json = convert(&c, req);
    if (c.skip || (binary && c.ragged)) {
        free(json);
        v2_body_free(&c.tail);
        return 0;
    }
    v2_body b = {0};
    api_reply r;
    v2_body_json(&b, json);
    v2_body_bytes(&b, c.tail.data, c.tail.len);
    if (binary)
        v2_infer_body(desc->name, &b, &r);
    else
        v2_infer(desc->name, b.data, b.len, NULL, &r);
    const cJSON *err = cJSON_GetObjectItem(kase, "error");
    if (err != NULL) {
        check_error(what, &r, err);
    } else {
        cr_expect_eq(r.status, 200, "%s: %.*s", what, (int)(r.len > 300 ? 300 : r.len), r.body);
        if (r.status == 200) {
            cJSON *rj = v2_reply_json(&r);
            double rtol = strcmp(c.datatype, "FP32") == 0 ? 1e-5 : 1e-12;
            check_value(what, &r, rj, cJSON_GetObjectItem(kase, "expect"), rtol, binary);
            cJSON_Delete(rj);
        }
    }
    api_reply_release(&r);
    v2_body_free(&b);
    v2_body_free(&c.tail);
    free(json);
    return 1;
}

/* Replays one loss's fixture file in both modes; returns the number of runs. */
static size_t replay(const loss_desc *desc)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s.json", LOSSD_SOURCE_DIR, desc->name);
    char *text = read_text(path);
    cJSON *doc = cJSON_Parse(text);
    cr_assert_not_null(doc, "%s parses", path);
    size_t runs = 0;
    const cJSON *kase;
    cJSON_ArrayForEach(kase, cJSON_GetObjectItem(doc, "cases"))
    {
        runs += (size_t)run_case(desc, kase, 0);
        runs += (size_t)run_case(desc, kase, 1);
    }
    cJSON_Delete(doc);
    free(text);
    cr_expect_gt(runs, 0, "%s: some cases have a /v2 form", desc->name);
    return runs;
}

Test(v2_golden, every_registered_loss_should_match_its_fixtures_over_json_and_binary)
{
    size_t runs = 0;
    for (size_t i = 0; i < loss_registry_count(); i++)
        runs += replay(loss_registry_at(i));
    cr_log_info("%zu losses, %zu /v2 runs", loss_registry_count(), runs);
    cr_assert_gt(runs, 2 * loss_registry_count());
}
