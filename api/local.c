/* local: /v1/loss without a request body, for callers that decoded the tensors themselves
 * (the scoring CLI reads them from files). The name, the options and the parameters go
 * through the same lookup, decoder and encoder as POST /v1/loss, so the reply and every
 * error are the API's, byte for byte. */
#include <string.h>

#include "api_internal.h"
#include "stream.h"

/* Places each caller tensor at its descriptor index. */
static api_code place_inputs(loss_call *call, const api_input *inputs, size_t n, api_err *err)
{
    const loss_desc *desc = call->desc;
    for (size_t k = 0; k < n; k++) {
        const char *name = inputs[k].name ? inputs[k].name : "";
        int i = loss_desc_input_index(desc, name, strlen(name));
        if (i < 0) {
            char names[128];
            loss_desc_input_names(desc, names, sizeof names);
            return api_err_set(err, API_ERR_UNKNOWN_FIELD, name,
                               "%s has no input \"%.40s\" (inputs: %s)", desc->name, name, names);
        }
        if (call->present[i])
            return api_err_set(err, API_ERR_INVALID_JSON, name, "input %s is given twice", name);
        call->input[i] = inputs[k].tensor;
        call->input[i].owned = 0; /* borrowed: the caller frees its own */
        call->present[i] = 1;
    }
    return API_OK;
}

/* Options and parameters, decoded as a /v1 body would be (after the inputs, so an input
 * named in both places is refused the same way). */
static api_code apply_options(loss_call *call, const char *options, size_t len, json_doc *doc,
                              api_err *err)
{
    json_error je;
    if (len == 0)
        return API_OK;
    if (json_doc_parse(doc, options, len, NULL, &je) != JSON_OK)
        return api_err_from_json(err, &je);
    if (doc->root.kind != JSON_OBJECT)
        return api_err_set(err, API_ERR_INVALID_TYPE, NULL, "options must be a JSON object");
    for (size_t k = 0; k < doc->root.u.obj.count; k++) {
        const json_member *m = &doc->root.u.obj.items[k];
        int i = loss_desc_input_index(call->desc, m->key, m->key_len);
        if (i >= 0 && call->present[i])
            return api_err_set(err, API_ERR_INVALID_JSON, call->desc->inputs[i].name,
                               "input %s is given twice", call->desc->inputs[i].name);
    }
    return decode_v1_apply(call, &doc->root, 0, NULL, &doc->mem, err);
}

/* Computes call into result (the caller's) and renders the /v1 reply into reply's body. */
static api_code compute(const api_env *env, const loss_call *call, int print_gradient,
                        api_reply *reply, loss_result *result, api_err *err)
{
    loss_error le;
    loss_call shown = *call;
    if (decode_v1_check_size(call, env ? env->max_elements : 0, 0, err) != API_OK)
        return err->code;
    if (loss_compute(call, env ? env->workers : NULL, result, &le) != LOSS_OK)
        return api_err_from_loss(err, &le);
    api_stream *out = api_stream_new();
    if (out == NULL)
        return api_err_set(err, API_ERR_NOMEM, NULL, "out of memory");
    shown.want_gradient = call->want_gradient && print_gradient;
    jbuf_putc(api_stream_text(out), '{');
    encode_v1_result(out, call->desc, &shown, result); /* borrows result: rendered below */
    jbuf_putc(api_stream_text(out), '}');
    if (api_stream_finish(out, reply, 1) != API_OK)
        return api_err_set(err, API_ERR_NOMEM, NULL, "out of memory while writing the response");
    reply->status = 200;
    reply->content_type = "application/json";
    reply->code = API_OK;
    reply->elements = result->elements;
    return API_OK;
}

api_code api_v1_loss_local(const api_env *env, const char *name, size_t name_len,
                           const api_input *inputs, size_t n_inputs, const char *options,
                           size_t options_len, int print_gradient, api_reply *reply,
                           loss_result *result)
{
    json_doc doc;
    api_err err;
    loss_call call;
    api_code code;
    const loss_desc *desc = loss_registry_find(name, name_len);

    memset(reply, 0, sizeof *reply);
    memset(result, 0, sizeof *result);
    memset(&doc, 0, sizeof doc);
    if (desc == NULL) {
        code = api_err_unknown_loss(&err, name, name_len);
        goto cleanup;
    }
    reply->desc = desc;
    loss_call_init(&call, desc);
    if ((code = place_inputs(&call, inputs, n_inputs, &err)) != API_OK ||
        (code = apply_options(&call, options, options_len, &doc, &err)) != API_OK)
        goto cleanup;
    code = compute(env, &call, print_gradient, reply, result, &err);
cleanup:
    if (code != API_OK)
        api_err_reply(reply, API_STYLE_V1, &err);
    if (code != API_OK) {
        loss_result_release(result);
        memset(result, 0, sizeof *result);
    }
    json_doc_release(&doc);
    return code;
}
