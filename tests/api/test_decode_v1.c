/* decode_v1 with a test-only descriptor that has every kind of input and parameter: index
 * inputs (2.0 is an index, 2.5 is not), int parameters (2.0 but not 2.5), bool parameters
 * (true/false only), array parameters, null for defaults, and the fallback for arrays that
 * the parser could not pack. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "mem.h"
#include "stream.h"

static const loss_input_desc fake_inputs[] = {
    {"predictions", LOSS_IN_FLOAT, LOSS_INPUT_GRAD, LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(N)))},
    {"targets", LOSS_IN_INDEX, 0, LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(N)))},
    {"weight", LOSS_IN_FLOAT, LOSS_INPUT_OPTIONAL | LOSS_INPUT_PARAM,
     LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(N)))},
};

static const loss_param_desc fake_params[] = {
    {"margin", LOSS_PARAM_FLOAT, 1.0, LOSS_PARAM_HAS_MIN, 0.0, 0.0, NULL, 0},
    {"p", LOSS_PARAM_INT, 1.0, 0, 0.0, 0.0, NULL, 0},
    {"swap", LOSS_PARAM_BOOL, 0.0, 0, 0.0, 0.0, NULL, 0},
};

/* A plan with no work: enough for loss_compute to run its generic validation and
 * conversions (the parts that give index and int parameters their meaning). */
static loss_status fake_plan(struct loss_ctx *ctx, loss_error *err)
{
    (void)ctx;
    (void)err;
    return LOSS_OK;
}

static void fake_chunk(const struct loss_ctx *ctx, size_t b, size_t e, struct loss_partial *p)
{
    (void)ctx, (void)b, (void)e, (void)p;
}

static const loss_desc fake = {
    .name = "fake",
    .family = "test",
    .inputs = fake_inputs,
    .n_inputs = 3,
    .params = fake_params,
    .n_params = 3,
    .reductions = LOSS_RED_STANDARD,
    .plan = fake_plan,
    .chunk = fake_chunk,
};

typedef struct {
    json_doc doc;
    loss_call call;
    api_err err;
} decoded;

static api_code decode(const char *text, decoded *d)
{
    json_error je;
    cr_assert_eq(json_doc_parse(&d->doc, text, strlen(text), NULL, &je), JSON_OK, "%s", je.message);
    loss_call_init(&d->call, &fake);
    return decode_v1_apply(&d->call, &d->doc.root, 0, NULL, &d->doc.mem, &d->err);
}

static api_code decode_and_compute(const char *text, decoded *d)
{
    api_code c = decode(text, d);
    if (c != API_OK)
        return c;
    api_stream *out = api_stream_new();
    size_t elements = 0;
    cr_assert(out != NULL);
    c = v1_compute_into(NULL, &d->call, "{", out, 0, &elements, &d->err);
    api_stream_free(out);
    return c;
}

static void expect(const char *text, api_code code, const char *field)
{
    decoded d;
    api_code c = decode_and_compute(text, &d);
    cr_assert_eq(c, code, "%s: got %s (%s)", text, api_code_name(c),
                 c == API_OK ? "" : d.err.message);
    if (code != API_OK)
        cr_assert_str_eq(d.err.field, field, "%s", text);
    json_doc_release(&d.doc);
}

Test(decode_v1, integral_index_values_should_be_accepted_and_fractions_refused)
{
    expect("{\"predictions\": [1, 2], \"targets\": [2.0, 0]}", API_OK, "");
    expect("{\"predictions\": [1, 2], \"targets\": [2.5, 0]}", API_ERR_INVALID_TYPE, "targets");
}

Test(decode_v1, int_parameters_should_accept_2_0_but_not_2_5)
{
    decoded d;
    cr_assert_eq(decode("{\"predictions\": [1], \"targets\": [0], \"p\": 2.0}", &d), API_OK);
    cr_assert_eq(d.call.param[1], 2.0);
    cr_assert(d.call.param_set[1]);
    json_doc_release(&d.doc);
    expect("{\"predictions\": [1], \"targets\": [0], \"p\": 2.0}", API_OK, "");
    expect("{\"predictions\": [1], \"targets\": [0], \"p\": 2.5}", API_ERR_INVALID_PARAMETER, "p");
    expect("{\"predictions\": [1], \"targets\": [0], \"p\": \"2\"}", API_ERR_INVALID_TYPE, "p");
}

Test(decode_v1, bool_parameters_should_take_only_true_and_false)
{
    decoded d;
    cr_assert_eq(decode("{\"predictions\": [1], \"targets\": [0], \"swap\": true}", &d), API_OK);
    cr_assert_eq(d.call.param[2], 1.0);
    json_doc_release(&d.doc);
    expect("{\"predictions\": [1], \"targets\": [0], \"swap\": 1}", API_ERR_INVALID_TYPE, "swap");
    expect("{\"predictions\": [1], \"targets\": [0], \"swap\": \"true\"}", API_ERR_INVALID_TYPE,
           "swap");
}

Test(decode_v1, float_parameters_should_be_range_checked_by_core_naming_them)
{
    expect("{\"predictions\": [1], \"targets\": [0], \"margin\": -1}", API_ERR_INVALID_PARAMETER,
           "margin");
    expect("{\"predictions\": [1], \"targets\": [0], \"margin\": 1e400}", API_ERR_NON_FINITE,
           "margin");
    expect("{\"predictions\": [1], \"targets\": [0], \"margin\": [1]}", API_ERR_INVALID_TYPE,
           "margin");
}

Test(decode_v1, null_should_mean_the_default_for_parameters_and_optional_arrays)
{
    decoded d;
    cr_assert_eq(decode("{\"predictions\": [1], \"targets\": [0], \"margin\": null, "
                        "\"weight\": null}",
                        &d),
                 API_OK, "%s", d.err.message);
    cr_assert_eq(d.call.param_set[0], 0);
    cr_assert_eq(d.call.present[2], 0);
    json_doc_release(&d.doc);
    expect("{\"predictions\": null, \"targets\": [0]}", API_ERR_INVALID_TYPE, "predictions");
}

Test(decode_v1, array_parameters_should_become_tensors)
{
    decoded d;
    cr_assert_eq(decode("{\"predictions\": [1, 2], \"targets\": [0, 1], \"weight\": [0.5, 2]}", &d),
                 API_OK);
    cr_assert(d.call.present[2]);
    cr_assert_eq(d.call.input[2].count, 2);
    cr_assert_eq(((const double *)d.call.input[2].data)[1], 2.0);
    json_doc_release(&d.doc);
}

Test(decode_v1, unpacked_arrays_should_still_decode_by_walking_the_nodes)
{
    /* 9 levels: the parser packs only the inner 8, the decoder refuses the rank. */
    expect("{\"predictions\": [[[[[[[[[1]]]]]]]]], \"targets\": [0]}", API_ERR_INVALID_TYPE,
           "predictions");
    expect("{\"predictions\": [[1, 2], [3]], \"targets\": [0]}", API_ERR_RAGGED_ARRAY,
           "predictions");
    expect("{\"predictions\": [[1, 2], [3, \"x\"]], \"targets\": [0]}", API_ERR_INVALID_TYPE,
           "predictions");
    expect("{\"predictions\": [[1, 1e400]], \"targets\": [0]}", API_ERR_NON_FINITE, "predictions");
}

Test(decode_v1, unknown_keys_should_be_refused_unless_lenient)
{
    decoded d;
    cr_assert_eq(decode("{\"predictions\": [1], \"targets\": [0], \"delta\": 1}", &d),
                 API_ERR_UNKNOWN_FIELD);
    cr_assert_str_eq(d.err.field, "delta");
    loss_call_init(&d.call, &fake);
    cr_assert_eq(decode_v1_apply(&d.call, &d.doc.root, DECODE_LENIENT, NULL, &d.doc.mem, &d.err),
                 API_OK);
    json_doc_release(&d.doc);
}

Test(decode_v1, every_allocation_failure_should_end_in_503_or_success)
{
    const char *body = "{\"predictions\": [[1, 2], [3, 4]], \"targets\": [[0, 1], [1, 0]], "
                       "\"reduction\": \"none\", \"gradient\": true}";
    int succeeded = 0;
    for (long n = 0; n < 40; n++) {
        api_reply r;
        api_env env = {.workers = NULL, .max_elements = 0};
        mem_fail_after(n);
        api_v1_loss(&env, "mse", 3, body, strlen(body), &r);
        mem_fail_reset();
        cr_assert(r.status == 200 || (r.status == 503 && r.code == API_ERR_NOMEM), "n=%ld: %d", n,
                  r.status);
        succeeded += r.status == 200;
        api_reply_release(&r);
    }
    cr_assert_gt(succeeded, 0, "enough allocations eventually succeed");
}

/* Writes a rank-`rank` array with `side` elements per dimension, numbered in order. */
static size_t write_cube(char *out, int rank, int side, int *next)
{
    size_t n = 0;
    out[n++] = '[';
    for (int i = 0; i < side; i++) {
        if (i)
            out[n++] = ',';
        if (rank == 1)
            n += (size_t)sprintf(out + n, "%d", (*next)++);
        else
            n += write_cube(out + n, rank - 1, side, next);
    }
    out[n++] = ']';
    return n;
}

/* [[[[[[[ [0, 1, ..., len-1], [0] ]]]]]]]: rank 8, ragged only at its very end, so every
 * level's packing attempt reads nearly the whole array before failing (the worst case the
 * old re-reading parser had to budget for). */
static size_t write_hostile(char *out, int len)
{
    size_t n = 0;
    for (int k = 0; k < 7; k++)
        out[n++] = '[';
    out[n++] = '[';
    for (int i = 0; i < len; i++)
        n += (size_t)sprintf(out + n, i ? ",%d" : "%d", i);
    n += (size_t)sprintf(out + n, "],[0]");
    for (int k = 0; k < 7; k++)
        out[n++] = ']';
    return n;
}

/* The parser reads every byte once: a hostile prefix of nearly-packable arrays costs no
 * rescans and leaves later arrays packed. */
Test(decode_v1, arrays_after_a_hostile_prefix_should_still_be_packed_and_decode)
{
    static char body[1 << 20];
    int next = 0;
    size_t n = (size_t)sprintf(body, "{\"zzz\": ");
    n += write_hostile(body + n, 30000);
    n += (size_t)sprintf(body + n, ", \"predictions\": ");
    n += write_cube(body + n, 8, 2, &next);
    n += (size_t)sprintf(body + n, ", \"targets\": [0]}");
    decoded d;
    json_error je;
    cr_assert_eq(json_doc_parse(&d.doc, body, n, NULL, &je), JSON_OK, "%s", je.message);
    const json_node *p = json_object_get(&d.doc.root, "predictions", 11);
    cr_assert_eq(p->kind, JSON_PACKED, "predictions is packed");
    loss_call_init(&d.call, &fake);
    cr_assert_eq(decode_v1_apply(&d.call, &d.doc.root, DECODE_LENIENT, NULL, &d.doc.mem, &d.err),
                 API_OK, "%s", d.err.message);
    const tensor *t = &d.call.input[0];
    cr_assert_eq(t->rank, 8);
    cr_assert_eq(t->count, 256);
    for (size_t i = 0; i < 256; i++)
        cr_assert_eq(((const double *)t->data)[i], (double)i);
    json_doc_release(&d.doc);
}
