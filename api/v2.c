/* v2: the /v2 (Open Inference Protocol) handlers: server and model metadata, model readiness
 * and infer (decode -> loss_compute -> encode). Each loss of the registry is a model of the
 * same name with the one version "1". Every failure is an OIP error reply,
 * {"error": "<message>", "code": "<api code>"}. */
#include <stdlib.h>
#include <string.h>

#include "v2_internal.h"

/* Resolves a model name from the path; fills reply with a 404 when it is no loss. */
static const loss_desc *find_model(const char *name, size_t len, api_reply *reply)
{
    const loss_desc *desc = loss_registry_find(name, len);
    if (desc != NULL)
        return desc;
    const char *near = loss_registry_suggest(name, len);
    char q[API_QUOTE_CAP];
    api_quote(q, name, len);
    if (near != NULL)
        api_error_reply(reply, API_STYLE_V2, API_ERR_UNKNOWN_LOSS, "model",
                        "unknown model \"%s\"; did you mean \"%s\"?", q, near);
    else
        api_error_reply(reply, API_STYLE_V2, API_ERR_UNKNOWN_LOSS, "model",
                        "unknown model \"%s\" (GET /v1/losses lists them)", q);
    return NULL;
}

/* A JSON reply of jb's bytes, or a v2 out-of-memory error when building it failed. */
static api_code reply_json(api_reply *reply, jbuf *jb, const loss_desc *desc)
{
    memset(reply, 0, sizeof *reply);
    if (jbuf_take(jb, &reply->body, &reply->len) != 0)
        return api_error_reply(reply, API_STYLE_V2, API_ERR_NOMEM, NULL,
                               "out of memory writing the response");
    reply->status = 200;
    reply->content_type = "application/json";
    reply->code = API_OK;
    reply->desc = desc;
    return API_OK;
}

api_code api_v2_server_metadata(api_reply *reply)
{
    jbuf jb;
    memset(reply, 0, sizeof *reply);
    jbuf_init(&jb, 128);
    jbuf_puts(&jb, "{\"name\":\"lossd\",\"version\":");
    jbuf_cstring(&jb, LOSSD_VERSION);
    jbuf_puts(&jb, ",\"extensions\":[\"binary_tensor_data\",\"parameters\"]}");
    return reply_json(reply, &jb, NULL);
}

api_code api_v2_model_ready(const char *name, size_t name_len, api_reply *reply)
{
    memset(reply, 0, sizeof *reply);
    const loss_desc *desc = find_model(name, name_len, reply);
    if (desc == NULL)
        return reply->code;
    jbuf jb;
    jbuf_init(&jb, 64);
    jbuf_puts(&jb, "{\"name\":");
    jbuf_cstring(&jb, desc->name);
    jbuf_puts(&jb, ",\"ready\":true}");
    return reply_json(reply, &jb, desc);
}

/* ---- model metadata ---- */

/* The OIP shape of input i from its typed rule: listed dims (a named one is free: -1) when
 * the rule is one alternative of fixed rank, the other input's shape for "same as", and
 * [-1] (any rank) for everything else. */
static void write_input_shape(jbuf *jb, const loss_desc *desc, size_t i, int depth)
{
    const loss_shape_rule *rule = &desc->inputs[i].shape;
    const loss_shape *s = &rule->alt[0];
    if (rule->n_alts == 1 && s->kind == LOSS_SHAPE_SAME && s->of < desc->n_inputs && depth < 4) {
        write_input_shape(jb, desc, s->of, depth + 1);
        return;
    }
    if (rule->n_alts != 1 || s->kind != LOSS_SHAPE_DIMS || s->more) {
        jbuf_puts(jb, "[-1]");
        return;
    }
    jbuf_putc(jb, '[');
    for (size_t d = 0; d < s->rank; d++) {
        if (d)
            jbuf_putc(jb, ',');
        if (s->dim[d].name != NULL)
            jbuf_puts(jb, "-1");
        else
            jbuf_size(jb, s->dim[d].size);
    }
    jbuf_putc(jb, ']');
}

static void write_input_meta(jbuf *jb, const loss_desc *desc, size_t i)
{
    static const char *const datatypes[] = {
        [LOSS_IN_FLOAT] = "[\"FP64\",\"FP32\"]",
        [LOSS_IN_INDEX] = "[\"INT64\",\"INT32\",\"FP64\",\"FP32\"]",
        [LOSS_IN_INDEX_OR_FLOAT] = "[\"FP64\",\"FP32\",\"INT64\",\"INT32\"]",
    };
    const loss_input_desc *in = &desc->inputs[i];
    jbuf_puts(jb, "{\"name\":");
    jbuf_cstring(jb, in->name);
    jbuf_puts(jb, in->kind == LOSS_IN_INDEX ? ",\"datatype\":\"INT64\"" : ",\"datatype\":\"FP64\"");
    jbuf_puts(jb, ",\"shape\":");
    write_input_shape(jb, desc, i, 0);
    jbuf_puts(jb, ",\"datatypes\":");
    jbuf_puts(jb, datatypes[in->kind]);
    char words[256];
    loss_desc_shape_words(desc, i, words, sizeof words);
    jbuf_puts(jb, ",\"shape_rule\":");
    jbuf_cstring(jb, words);
    if (in->flags & LOSS_INPUT_OPTIONAL)
        jbuf_puts(jb, ",\"optional\":true");
    jbuf_putc(jb, '}');
}

/* One output entry; its shape is input `like`'s (a gradient), or [-1] when like < 0. */
static void write_output_meta(jbuf *jb, const loss_desc *desc, const v2_output *out, int like)
{
    char name[80];
    v2_output_name(desc, out, name, sizeof name);
    jbuf_puts(jb, "{\"name\":");
    jbuf_cstring(jb, name);
    jbuf_puts(jb, ",\"datatype\":\"FP64\",\"shape\":");
    if (like >= 0)
        write_input_shape(jb, desc, (size_t)like, 0);
    else
        jbuf_puts(jb, "[-1]");
    jbuf_putc(jb, '}');
}

/* Outputs: loss (shape [1] reduced, per-element for none), loss_<term> for per-term losses
 * with reduction none, grad_<input> in the shape of its input. */
static void write_outputs_meta(jbuf *jb, const loss_desc *desc)
{
    v2_output loss = {V2_OUT_LOSS, 0, 0};
    write_output_meta(jb, desc, &loss, -1);
    for (size_t t = 0; (desc->flags & LOSS_FLAG_PER_TERM) && t < 2; t++) {
        v2_output term = {V2_OUT_TERM, t, 0};
        jbuf_putc(jb, ',');
        write_output_meta(jb, desc, &term, -1);
    }
    for (size_t i = 0; i < desc->n_inputs; i++) {
        v2_output grad = {V2_OUT_GRAD, i, 0};
        if (!(desc->inputs[i].flags & LOSS_INPUT_GRAD))
            continue;
        jbuf_putc(jb, ',');
        write_output_meta(jb, desc, &grad, (int)i);
    }
}

api_code api_v2_model_metadata(const char *name, size_t name_len, api_reply *reply)
{
    memset(reply, 0, sizeof *reply);
    const loss_desc *desc = find_model(name, name_len, reply);
    if (desc == NULL)
        return reply->code;
    jbuf jb;
    jbuf_init(&jb, 1024);
    jbuf_puts(&jb, "{\"name\":");
    jbuf_cstring(&jb, desc->name);
    jbuf_puts(&jb, ",\"versions\":[\"1\"],\"platform\":\"lossd\",\"inputs\":[");
    for (size_t i = 0; i < desc->n_inputs; i++) {
        if (i)
            jbuf_putc(&jb, ',');
        write_input_meta(&jb, desc, i);
    }
    jbuf_puts(&jb, "],\"outputs\":[");
    write_outputs_meta(&jb, desc);
    jbuf_puts(&jb, "]}");
    return reply_json(reply, &jb, desc);
}

/* ---- infer ---- */

api_code api_v2_infer(const api_env *env, const char *name, size_t name_len, const char *body,
                      size_t len, const char *header_len, api_reply *reply)
{
    v2_request req;
    loss_result res;
    loss_error lerr;
    api_err err;
    loss_cost cost = {0};
    memset(reply, 0, sizeof *reply);
    const loss_desc *desc = find_model(name, name_len, reply);
    if (desc == NULL)
        return reply->code;
    memset(&res, 0, sizeof res);
    if (v2_decode(&req, desc, body, len, header_len, env->max_elements, &err) != API_OK ||
        api_cost_add(env, &req.call, &cost, &err) != API_OK)
        goto fail;
    if (api_cost_defer(env, &cost, reply)) {
        v2_request_release(&req);
        return API_OK;
    }
    if (api_reserve_call(env, len + v2_request_memory(&req), &cost, &err) != API_OK)
        goto fail;
    req.call.cancelled = env->cancelled;
    req.call.cancel_arg = env->cancel_arg;
    if (loss_compute(&req.call, env->workers, &res, &lerr) != LOSS_OK) {
        api_err_from_loss(&err, &lerr);
        goto fail;
    }
    if (v2_encode(&req, &res, env->stream, reply, &err) != API_OK)
        goto fail;
    loss_result_release(&res);
    v2_request_release(&req);
    api_reply_count(reply, desc, reply->status, reply->elements);
    return API_OK;
fail:
    loss_result_release(&res);
    v2_request_release(&req);
    api_err_reply(reply, API_STYLE_V2, &err);
    reply->desc = desc;
    api_reply_count(reply, desc, reply->status, 0);
    return reply->code;
}
