/* /v2 metadata and readiness: GET /v2, GET /v2/models/{loss} (inputs and outputs derived
 * from the registry, -1 for free dimensions), GET /v2/models/{loss}/ready, unknown models. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "loss.h"
#include "v2_internal.h"
#include "v2_util.h"

static cJSON *metadata(const char *model, api_reply *r)
{
    cr_assert_eq(api_v2_model_metadata(model, strlen(model), r), API_OK);
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->content_type, "application/json");
    return v2_reply_json(r);
}

static const cJSON *named(const cJSON *list, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        if (strcmp(cJSON_GetObjectItem(e, "name")->valuestring, name) == 0)
            return e;
    }
    cr_assert_fail("no entry %s", name);
    return NULL;
}

static void expect_shape(const cJSON *entry, const char *want)
{
    char *got = cJSON_PrintUnformatted(cJSON_GetObjectItem(entry, "shape"));
    cr_expect_str_eq(got, want, "%s", cJSON_GetObjectItem(entry, "name")->valuestring);
    cJSON_free(got);
}

Test(v2_metadata, server_should_name_itself_and_list_binary_tensor_data)
{
    api_reply r;
    cr_assert_eq(api_v2_server_metadata(&r), API_OK);
    cJSON *j = v2_reply_json(&r);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "name")->valuestring, "lossd");
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(j, "version")));
    int found = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "extensions"))
    {
        found |= strcmp(e->valuestring, "binary_tensor_data") == 0;
    }
    cr_assert(found);
    cJSON_Delete(j);
    api_reply_release(&r);
}

Test(v2_metadata, mse_should_list_its_inputs_and_outputs)
{
    api_reply r;
    cJSON *j = metadata("mse", &r);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "name")->valuestring, "mse");
    cr_assert_str_eq(cJSON_GetObjectItem(j, "platform")->valuestring, "lossd");
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "versions"), 0)->valuestring, "1");
    const cJSON *inputs = cJSON_GetObjectItem(j, "inputs");
    cr_assert_eq(cJSON_GetArraySize(inputs), 3);
    const cJSON *pred = named(inputs, "predictions"), *weight = named(inputs, "weight");
    cr_assert_str_eq(cJSON_GetObjectItem(pred, "datatype")->valuestring, "FP64");
    expect_shape(pred, "[-1]");
    expect_shape(named(inputs, "targets"), "[-1]");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(weight, "optional")));
    cr_assert_null(cJSON_GetObjectItem(pred, "optional"));
    const cJSON *outputs = cJSON_GetObjectItem(j, "outputs");
    cr_assert_eq(cJSON_GetArraySize(outputs), 2, "loss and grad_predictions only");
    named(outputs, "loss");
    expect_shape(named(outputs, "grad_predictions"), "[-1]");
    cJSON_Delete(j);
    api_reply_release(&r);
}

Test(v2_metadata, every_loss_should_offer_loss_and_one_gradient_per_gradient_input)
{
    for (size_t i = 0; i < loss_registry_count(); i++) {
        const loss_desc *d = loss_registry_at(i);
        api_reply r;
        cJSON *j = metadata(d->name, &r);
        size_t grads = 0;
        for (size_t k = 0; k < d->n_inputs; k++)
            grads += (d->inputs[k].flags & LOSS_INPUT_GRAD) != 0;
        size_t terms = (d->flags & LOSS_FLAG_PER_TERM) ? 2 : 0;
        cr_expect_eq((size_t)cJSON_GetArraySize(cJSON_GetObjectItem(j, "inputs")), d->n_inputs,
                     "%s", d->name);
        cr_expect_eq((size_t)cJSON_GetArraySize(cJSON_GetObjectItem(j, "outputs")),
                     1 + terms + grads, "%s", d->name);
        cJSON_Delete(j);
        api_reply_release(&r);
    }
}

Test(v2_metadata, per_term_loss_should_offer_one_output_per_term)
{
    const loss_desc *per_term = NULL;
    for (size_t i = 0; i < loss_registry_count() && per_term == NULL; i++)
        if (loss_registry_at(i)->flags & LOSS_FLAG_PER_TERM)
            per_term = loss_registry_at(i);
    cr_assert_not_null(per_term, "the catalogue has GAN losses");
    api_reply r;
    cJSON *j = metadata(per_term->name, &r);
    const cJSON *outputs = cJSON_GetObjectItem(j, "outputs");
    named(outputs, "loss_real");
    named(outputs, "loss_fake");
    cJSON_Delete(j);
    api_reply_release(&r);
}

/* The OIP shape of an input of `model`, and its rule in words. */
static void expect_input(const char *model, const char *input, const char *shape, const char *rule)
{
    api_reply r;
    cJSON *j = metadata(model, &r);
    const cJSON *in = named(cJSON_GetObjectItem(j, "inputs"), input);
    expect_shape(in, shape);
    cr_expect_str_eq(cJSON_GetObjectItem(in, "shape_rule")->valuestring, rule, "%s %s", model,
                     input);
    cJSON_Delete(j);
    api_reply_release(&r);
}

Test(v2_metadata, typed_shape_rules_should_become_oip_dims)
{
    expect_input("ctc", "predictions", "[-1,-1,-1]", "(T, N, C) log-probabilities");
    expect_input("ctc", "input_lengths", "[-1]", "(N)");
    expect_input("ntxent", "x2", "[-1,-1]", "(N, D): row i is x1 row i's positive");
    expect_input("categorical_hinge", "targets", "[-1,-1]", "same as predictions, one-hot");
    expect_input("box_iou", "predictions", "[-1]", "(N, 4) or (4) boxes (x1, y1, x2, y2)");
    expect_input("dice", "predictions", "[-1]", "(N, ...) in [0, 1]");
    expect_input("bce", "weight", "[-1]", "broadcasts to predictions");
    expect_input("nll", "targets", "[-1]", "predictions' shape without C (class indices)");
    expect_input("cross_entropy", "targets", "[-1]",
                 "predictions' shape without C (class indices) or same as predictions "
                 "(probabilities)");
}

Test(v2_metadata, unknown_model_should_be_404_in_oip_shape)
{
    api_reply r;
    cr_assert_eq(api_v2_model_metadata("nope", 4, &r), API_ERR_UNKNOWN_LOSS);
    cr_assert(v2_reply_is_error(&r, 404, "unknown_loss"));
    api_reply_release(&r);
    cr_assert_eq(api_v2_model_ready("mse\"x", 5, &r), API_ERR_UNKNOWN_LOSS);
    cr_assert(v2_reply_is_error(&r, 404, "unknown_loss"), "a quote in the name stays JSON");
    api_reply_release(&r);
}

Test(v2_metadata, known_model_should_be_ready)
{
    api_reply r;
    cr_assert_eq(api_v2_model_ready("mse", 3, &r), API_OK);
    cr_assert_eq(r.status, 200);
    cJSON *j = v2_reply_json(&r);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "ready")));
    cr_assert_str_eq(cJSON_GetObjectItem(j, "name")->valuestring, "mse");
    cJSON_Delete(j);
    api_reply_release(&r);
}

Test(v2_metadata, every_v2_path_should_be_in_the_openapi_document)
{
    static const char *const paths[] = {"  /v2/health/live:",
                                        "  /v2/health/ready:",
                                        "  /v2:",
                                        "  /v2/models/{model}:",
                                        "  /v2/models/{model}/ready:",
                                        "  /v2/models/{model}/infer:",
                                        "Inference-Header-Content-Length",
                                        "binary_data_size",
                                        "binary_data_output",
                                        "    V2Error:"};
    FILE *f = fopen(LOSSD_SOURCE_DIR "/api/openapi.yaml", "rb");
    cr_assert_not_null(f);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        cr_expect(strstr(text, paths[i]) != NULL, "%s is described", paths[i]);
}
