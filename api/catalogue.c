/* catalogue: GET /v1/losses and /v1/losses/{name}, written straight from the registry
 * descriptors (the catalogue can never disagree with what the decoder accepts). Fields that
 * do not apply (a parameter's bounds, enum, default of an array parameter) are omitted. */
#include <string.h>

#include "api_internal.h"

static void key(jbuf *jb, const char *k, int first)
{
    if (!first)
        jbuf_putc(jb, ',');
    jbuf_cstring(jb, k);
    jbuf_putc(jb, ':');
}

static void string_list(jbuf *jb, const char *const *items, size_t n)
{
    jbuf_putc(jb, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            jbuf_putc(jb, ',');
        jbuf_cstring(jb, items[i]);
    }
    jbuf_putc(jb, ']');
}

/* The words of input i's shape rule, as a JSON string. */
static void shape_words(jbuf *jb, const loss_desc *d, size_t i)
{
    char words[256];
    loss_desc_shape_words(d, i, words, sizeof words);
    jbuf_cstring(jb, words);
}

static const char *param_type(loss_param_type t)
{
    return t == LOSS_PARAM_BOOL ? "boolean" : t == LOSS_PARAM_INT ? "integer" : "number";
}

static void scalar_param(jbuf *jb, const loss_param_desc *pd)
{
    key(jb, "name", 1);
    jbuf_cstring(jb, pd->name);
    key(jb, "type", 0);
    jbuf_cstring(jb, param_type(pd->type));
    key(jb, "default", 0);
    if (pd->type == LOSS_PARAM_BOOL)
        jbuf_puts(jb, pd->def != 0.0 ? "true" : "false");
    else
        jbuf_double(jb, pd->def);
    if (pd->flags & LOSS_PARAM_HAS_MIN) {
        key(jb, "minimum", 0);
        jbuf_double(jb, pd->min);
        if (pd->flags & LOSS_PARAM_MIN_EXCLUSIVE)
            jbuf_puts(jb, ",\"exclusive_minimum\":true");
    }
    if (pd->flags & LOSS_PARAM_HAS_MAX) {
        key(jb, "maximum", 0);
        jbuf_double(jb, pd->max);
        if (pd->flags & LOSS_PARAM_MAX_EXCLUSIVE)
            jbuf_puts(jb, ",\"exclusive_maximum\":true");
    }
    if (pd->flags & LOSS_PARAM_ENUM) {
        key(jb, "enum", 0);
        jbuf_putc(jb, '[');
        for (size_t i = 0; i < pd->n_choices; i++) {
            if (i)
                jbuf_putc(jb, ',');
            jbuf_double(jb, pd->choices[i]);
        }
        jbuf_putc(jb, ']');
    }
}

static void parameters(jbuf *jb, const loss_desc *d)
{
    int first = 1;
    jbuf_putc(jb, '[');
    for (size_t i = 0; i < d->n_params; i++, first = 0) {
        jbuf_puts(jb, first ? "{" : ",{");
        scalar_param(jb, &d->params[i]);
        jbuf_putc(jb, '}');
    }
    for (size_t i = 0; i < d->n_inputs; i++) {
        if (!(d->inputs[i].flags & LOSS_INPUT_PARAM))
            continue;
        jbuf_puts(jb, first ? "{" : ",{");
        first = 0;
        key(jb, "name", 1);
        jbuf_cstring(jb, d->inputs[i].name);
        jbuf_puts(jb, ",\"type\":\"array\",\"shape\":");
        shape_words(jb, d, i);
        jbuf_putc(jb, '}');
    }
    jbuf_putc(jb, ']');
}

static void inputs(jbuf *jb, const loss_desc *d)
{
    int first = 1;
    jbuf_putc(jb, '[');
    for (size_t i = 0; i < d->n_inputs; i++) {
        const loss_input_desc *in = &d->inputs[i];
        if (in->flags & LOSS_INPUT_PARAM)
            continue;
        jbuf_puts(jb, first ? "{" : ",{");
        first = 0;
        key(jb, "name", 1);
        jbuf_cstring(jb, in->name);
        key(jb, "kind", 0);
        jbuf_cstring(jb, in->kind == LOSS_IN_FLOAT ? "float" : "index");
        key(jb, "shape", 0);
        shape_words(jb, d, i);
        jbuf_putc(jb, '}');
    }
    jbuf_putc(jb, ']');
}

static void entry(jbuf *jb, const loss_desc *d)
{
    const char *names[LOSS_MAX_INPUTS > LOSS_REDUCE_COUNT ? LOSS_MAX_INPUTS : LOSS_REDUCE_COUNT];
    size_t n = 0;
    jbuf_putc(jb, '{');
    key(jb, "name", 1);
    jbuf_cstring(jb, d->name);
    key(jb, "aliases", 0);
    for (n = 0; d->aliases && d->aliases[n]; n++)
        ;
    string_list(jb, d->aliases, n);
    key(jb, "family", 0);
    jbuf_cstring(jb, d->family ? d->family : "");
    key(jb, "inputs", 0);
    inputs(jb, d);
    key(jb, "parameters", 0);
    parameters(jb, d);
    n = 0;
    for (int r = 0; r < LOSS_REDUCE_COUNT; r++)
        if (d->reductions & LOSS_RED_BIT(r))
            names[n++] = loss_reduction_name((loss_reduction)r);
    key(jb, "reductions", 0);
    string_list(jb, names, n);
    n = 0;
    for (size_t i = 0; i < d->n_inputs && i < LOSS_MAX_INPUTS; i++)
        if (d->inputs[i].flags & LOSS_INPUT_GRAD)
            names[n++] = d->inputs[i].name;
    key(jb, "gradients", 0);
    string_list(jb, names, n);
    if (d->reference) {
        key(jb, "reference", 0);
        jbuf_cstring(jb, d->reference);
    }
    jbuf_putc(jb, '}');
}

api_code api_v1_catalogue(api_reply *reply)
{
    jbuf jb;
    memset(reply, 0, sizeof *reply);
    jbuf_init(&jb, 1024 * loss_registry_count() + 64);
    jbuf_puts(&jb, "{\"losses\":[");
    for (size_t i = 0; i < loss_registry_count(); i++) {
        if (i)
            jbuf_putc(&jb, ',');
        entry(&jb, loss_registry_at(i));
    }
    jbuf_puts(&jb, "]}");
    api_code code = api_reply_json(reply, &jb);
    jbuf_release(&jb);
    return code;
}

api_code api_v1_catalogue_entry(const char *name, size_t name_len, api_reply *reply)
{
    jbuf jb;
    const loss_desc *d = loss_registry_find(name, name_len);
    memset(reply, 0, sizeof *reply);
    if (d == NULL) {
        char q[API_QUOTE_CAP];
        const char *near = loss_registry_suggest(name, name_len);
        api_quote(q, name, name_len);
        if (near != NULL)
            return api_error_reply(reply, API_STYLE_V1, API_ERR_UNKNOWN_LOSS, "loss",
                                   "unknown loss '%s'; did you mean '%s'?", q, near);
        return api_error_reply(reply, API_STYLE_V1, API_ERR_UNKNOWN_LOSS, "loss",
                               "unknown loss '%s'; GET /v1/losses lists every loss", q);
    }
    jbuf_init(&jb, 2048);
    entry(&jb, d);
    reply->desc = d;
    api_code code = api_reply_json(reply, &jb);
    jbuf_release(&jb);
    return code;
}
