/* golden_api: every PyTorch golden fixture (tests/fixtures/<loss>.json) sent through the
 * /v1 handler exactly as a client would (request printed to JSON, reply parsed back), and
 * compared with its expected value, gradient or error. Fixtures of losses this build does not
 * register are skipped with a visible message. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "loss_registry.h"

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* Expected numbers: JSON numbers, or "nan"/"inf"/"-inf" for non-finite ones. */
static int expected_number(const cJSON *j, double *out)
{
    if (cJSON_IsNumber(j)) {
        *out = j->valuedouble;
        return 1;
    }
    if (!cJSON_IsString(j))
        return 0;
    *out = strcmp(j->valuestring, "inf") == 0    ? INFINITY
           : strcmp(j->valuestring, "-inf") == 0 ? -INFINITY
                                                 : NAN;
    return 1;
}

/* The reply writes every non-finite number as null. */
static int number_matches(const cJSON *got, const cJSON *want, double rtol)
{
    double w;
    if (!expected_number(want, &w))
        return 0;
    if (!isfinite(w))
        return cJSON_IsNull(got);
    if (!cJSON_IsNumber(got))
        return 0;
    return fabs(got->valuedouble - w) <= rtol * (fabs(w) + 1.0);
}

/* Compares nested arrays (or a number) element by element; reports the first mismatch. */
static int values_match(const cJSON *got, const cJSON *want, double rtol, const char *what,
                        const char *case_name)
{
    if (cJSON_IsArray(want)) {
        if (!cJSON_IsArray(got) || cJSON_GetArraySize(got) != cJSON_GetArraySize(want)) {
            cr_expect_fail("%s: %s has the wrong nesting or length", case_name, what);
            return 0;
        }
        const cJSON *g = got->child, *w;
        cJSON_ArrayForEach(w, want)
        {
            if (!values_match(g, w, rtol, what, case_name))
                return 0;
            g = g->next;
        }
        return 1;
    }
    if (cJSON_IsObject(want)) {
        const cJSON *w;
        cJSON_ArrayForEach(w, want)
        {
            const cJSON *g = cJSON_GetObjectItemCaseSensitive(got, w->string);
            if (!values_match(g, w, rtol, w->string, case_name))
                return 0;
        }
        return 1;
    }
    if (!number_matches(got, want, rtol)) {
        char *g = got ? cJSON_PrintUnformatted(got) : NULL;
        char *e = cJSON_PrintUnformatted(want);
        cr_expect_fail("%s: %s = %s, expected %s", case_name, what, g ? g : "(absent)", e);
        cJSON_free(g);
        cJSON_free(e);
        return 0;
    }
    return 1;
}

static const char *str_at(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void check_error(const cJSON *reply, int status, const cJSON *want, const char *case_name)
{
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(reply, "error");
    int want_status = cJSON_GetObjectItemCaseSensitive(want, "status")->valueint;
    cr_expect_eq(status, want_status, "%s: status %d, expected %d", case_name, status, want_status);
    cr_expect_str_eq(str_at(err, "code"), str_at(want, "code"), "%s: code %s, expected %s",
                     case_name, str_at(err, "code"), str_at(want, "code"));
    if (cJSON_GetObjectItemCaseSensitive(want, "field") != NULL)
        cr_expect_str_eq(str_at(err, "field"), str_at(want, "field"),
                         "%s: field %s, expected %s (%s)", case_name, str_at(err, "field"),
                         str_at(want, "field"), str_at(err, "message"));
}

static void check_result(const cJSON *reply, int status, const cJSON *request, const cJSON *expect,
                         const char *loss, const char *case_name)
{
    if (status != 200) {
        cr_expect_fail("%s: status %d: %s", case_name, status,
                       str_at(cJSON_GetObjectItemCaseSensitive(reply, "error"), "message"));
        return;
    }
    double rtol = strcmp(str_at(request, "dtype"), "float32") == 0 ? 1e-5 : 1e-12;
    cr_expect_str_eq(str_at(reply, "loss"), loss, "%s: canonical name", case_name);
    values_match(cJSON_GetObjectItemCaseSensitive(reply, "value"),
                 cJSON_GetObjectItemCaseSensitive(expect, "value"), rtol, "value", case_name);
    const cJSON *want_grad = cJSON_GetObjectItemCaseSensitive(expect, "gradient");
    const cJSON *got_grad = cJSON_GetObjectItemCaseSensitive(reply, "gradient");
    if (want_grad == NULL) {
        cr_expect_null(got_grad, "%s: no gradient was asked for", case_name);
        return;
    }
    const cJSON *w;
    cJSON_ArrayForEach(w, want_grad)
    {
        char what[96];
        snprintf(what, sizeof what, "gradient.%s", w->string);
        values_match(cJSON_GetObjectItemCaseSensitive(got_grad, w->string), w, rtol, what,
                     case_name);
    }
}

static void run_case(const char *loss, const cJSON *c)
{
    const char *name = str_at(c, "name");
    char case_name[160];
    snprintf(case_name, sizeof case_name, "%s/%s", loss, name);
    const cJSON *request = cJSON_GetObjectItemCaseSensitive(c, "request");
    char *body = cJSON_PrintUnformatted(request);
    api_env env = {.workers = NULL, .max_elements = 0};
    api_reply r;
    api_v1_loss(&env, loss, strlen(loss), body, strlen(body), &r);
    cJSON *reply = cJSON_ParseWithLength(r.body, r.len);
    cr_assert_not_null(reply, "%s: reply is JSON", case_name);
    const cJSON *want_err = cJSON_GetObjectItemCaseSensitive(c, "error");
    if (want_err != NULL)
        check_error(reply, r.status, want_err, case_name);
    else
        check_result(reply, r.status, request, cJSON_GetObjectItemCaseSensitive(c, "expect"), loss,
                     case_name);
    cJSON_Delete(reply);
    api_reply_release(&r);
    cJSON_free(body);
}

/* Runs one fixture file; returns its number of cases, or 0 if its loss is not registered. */
static int run_file(const char *path)
{
    size_t len;
    char *text = read_file(path, &len);
    cJSON *doc = cJSON_ParseWithLength(text, len);
    cr_assert_not_null(doc, "%s is JSON", path);
    const char *loss = str_at(doc, "loss");
    int n = 0;
    if (loss_registry_find(loss, strlen(loss)) == NULL) {
        cr_log_info("golden_api: skipping %s: loss %s is not registered in this build", path, loss);
    } else {
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases"))
        {
            run_case(loss, c);
            n++;
        }
    }
    cJSON_Delete(doc);
    free(text);
    return n;
}

Test(golden_api, every_fixture_case_should_match_through_v1)
{
    const char *dir_path = LOSSD_SOURCE_DIR "/tests/fixtures";
    DIR *dir = opendir(dir_path);
    if (dir == NULL)
        cr_skip_test("no fixtures at %s", dir_path);
    int files = 0, cases = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir_path, e->d_name);
        int k = run_file(path);
        files += k > 0;
        cases += k;
    }
    closedir(dir);
    cr_log_info("golden_api: %d cases from %d fixture files", cases, files);
    cr_assert_gt(cases, 0, "at least the mse fixtures ran");
}
