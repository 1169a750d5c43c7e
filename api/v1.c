/* v1: the /v1 compute handlers. Each takes the body parsed into a request-scoped document
 * (parsed here from a buffer, or as it arrived through a json_stream), decodes one
 * loss_call per loss from it (tensors shared, never copied), asks the memory budget,
 * computes, and writes the reply into a stream whose large tensors print as the socket
 * takes them. Every path ends at the single cleanup of each handler: the document (arena)
 * and the reply stream are the only allocations. */
#include <string.h>

#include "api_internal.h"
#include "stream.h"

/* A request body: in memory (data, len; js NULL), or parsed as it arrived (js, fed with all
 * of it, finished here). */
typedef struct {
    const char *data;
    size_t len;
    json_stream *js;
} v1_body;

/* One /v1 request being answered. */
typedef struct {
    const api_env *env;
    json_doc doc;
    api_stream *out;
    size_t held; /* body bytes kept in memory while it runs (0 when streamed) */
} v1_req;

static api_code unknown_key(api_err *err, const json_member *m, const char *why)
{
    char key[API_QUOTE_CAP];
    api_quote(key, m->key, m->key_len);
    return api_err_set(err, API_ERR_UNKNOWN_FIELD, key, "unknown field \"%s\": %s", key, why);
}

/* A computation stopped by the request's deadline ends the whole request, not one item. */
static api_code request_timeout(api_err *err)
{
    return api_err_set(err, API_ERR_TIMEOUT, NULL,
                       "the request ran past its deadline and was stopped");
}

/* Parses (or finishes parsing) a request body that must be a JSON object. */
static api_code parse_object_body(const v1_body *b, json_doc *doc, api_err *err)
{
    json_error je;
    size_t len = b->js ? json_stream_offset(b->js) : b->len;
    json_limits lim = {.max_nodes = 0, .max_memory = json_request_cap(b->len)};
    if (len == 0)
        return api_err_set(err, API_ERR_INVALID_JSON, NULL, "the request body is empty");
    if (b->js ? json_stream_finish(b->js, doc) != JSON_OK
              : json_doc_parse(doc, b->data, b->len, &lim, &je) != JSON_OK)
        return api_err_from_json(err, b->js ? json_stream_error(b->js) : &je);
    if (doc->root.kind != JSON_OBJECT)
        return api_err_set(err, API_ERR_INVALID_TYPE, NULL,
                           "the request body must be a JSON object, got %s",
                           json_kind_name(doc->root.kind));
    return API_OK;
}

api_code v1_compute_into(const api_env *env, const loss_call *call, const char *prefix,
                         api_stream *out, size_t held, size_t *elements, api_err *err)
{
    loss_result res;
    loss_error le;
    loss_cost cost = {0};
    loss_call run = *call;
    if (decode_v1_check_size(call, env ? env->max_elements : 0, *elements, err) != API_OK)
        return err->code;
    if (api_cost_add(env, call, &cost, err) != API_OK)
        return err->code;
    if (api_reserve_call(env, held + api_stream_memory(out), &cost, err) != API_OK)
        return err->code;
    run.cancelled = env ? env->cancelled : NULL;
    run.cancel_arg = env ? env->cancel_arg : NULL;
    if (loss_compute(&run, env ? env->workers : NULL, &res, &le) != LOSS_OK)
        return api_err_from_loss(err, &le);
    jbuf_puts(api_stream_text(out), prefix);
    int lazy = encode_v1_result(out, call->desc, call, &res);
    jbuf_putc(api_stream_text(out), '}');
    *elements += res.elements;
    if (lazy)
        api_stream_keep(out, &res);
    else
        loss_result_release(&res);
    return API_OK;
}

/* Starts a request: the reply zeroed, an empty stream, the body parsed (unless parse is 0:
 * the request is refused already). */
static api_code v1_begin(v1_req *q, const api_env *env, const v1_body *b, int parse,
                         api_reply *reply, api_err *err)
{
    memset(reply, 0, sizeof *reply);
    memset(q, 0, sizeof *q);
    q->env = env;
    q->held = b->js ? 0 : b->len;
    if (!parse)
        return API_OK;
    q->out = api_stream_new();
    if (q->out == NULL)
        return api_err_set(err, API_ERR_NOMEM, NULL, "out of memory");
    return parse_object_body(b, &q->doc, err);
}

/* Bytes the request holds besides its reply stream. */
static size_t v1_held(const v1_req *q)
{
    return q->held + q->doc.mem.used_bytes;
}

/* Ends a request: the reply from the stream (code API_OK) or the error; a deferred request
 * (api_cost_defer) leaves the reply empty. */
static api_code v1_end(v1_req *q, api_code code, api_err *err, api_reply *reply)
{
    if (reply->deferred) {
        code = API_OK;
    } else if (code == API_OK) {
        int single = q->env == NULL || !q->env->stream;
        code = api_stream_finish(q->out, reply, single);
        q->out = NULL;
        if (code == API_OK) {
            reply->status = 200;
            reply->content_type = "application/json";
            reply->code = API_OK;
        } else {
            api_err_set(err, code, NULL, "out of memory while writing the response");
        }
    }
    if (code != API_OK && !reply->deferred)
        api_err_reply(reply, API_STYLE_V1, err);
    api_stream_free(q->out);
    json_doc_release(&q->doc);
    return code;
}

static api_code v1_loss(const api_env *env, const char *name, size_t name_len, const v1_body *b,
                        api_reply *reply)
{
    v1_req q;
    api_err err;
    loss_call call;
    size_t elements = 0;
    const loss_desc *desc = loss_registry_find(name, name_len);
    api_code code = v1_begin(&q, env, b, desc != NULL, reply, &err);
    if (desc == NULL) /* named by the path: refused before anything in the body */
        code = api_err_unknown_loss(&err, name, name_len);
    if (code != API_OK)
        goto done;
    reply->desc = desc;
    loss_call_init(&call, desc);
    if ((code = decode_v1_apply(&call, &q.doc.root, 0, NULL, &q.doc.mem, &err)) != API_OK)
        goto done;
    loss_cost cost = {0};
    if ((code = api_cost_add(env, &call, &cost, &err)) != API_OK ||
        api_cost_defer(env, &cost, reply))
        goto done;
    code = v1_compute_into(env, &call, "{", q.out, v1_held(&q), &elements, &err);
done:
    code = v1_end(&q, code, &err, reply);
    reply->desc = desc;
    reply->elements = elements;
    if (desc != NULL && !reply->deferred)
        api_reply_count(reply, desc, reply->status, elements);
    return code;
}

api_code api_v1_loss(const api_env *env, const char *name, size_t name_len, const char *body,
                     size_t len, api_reply *reply)
{
    v1_body b = {body, len, NULL};
    return v1_loss(env, name, name_len, &b, reply);
}

api_code api_v1_loss_stream(const api_env *env, const char *name, size_t name_len,
                            json_stream *body, api_reply *reply)
{
    v1_body b = {NULL, 0, body};
    return v1_loss(env, name, name_len, &b, reply);
}

/* ---- /v1/evaluate ---- */

/* The name of a `losses` entry: a string, or an object's "name". */
static api_code entry_name(const json_node *e, const char **name, size_t *len, api_err *err)
{
    const json_node *n = e->kind == JSON_OBJECT ? json_object_get(e, "name", 4) : e;
    if (e->kind != JSON_STRING && e->kind != JSON_OBJECT)
        return api_err_set(err, API_ERR_INVALID_TYPE, "losses",
                           "each entry of losses must be a name or an object, got %s",
                           json_kind_name(e->kind));
    if (n == NULL)
        return api_err_set(err, API_ERR_MISSING_FIELD, "name",
                           "an object in losses needs a \"name\"");
    if (n->kind != JSON_STRING)
        return api_err_set(err, API_ERR_INVALID_TYPE, "name", "name must be a string, got %s",
                           json_kind_name(n->kind));
    *name = n->u.str.ptr;
    *len = n->u.str.len;
    return API_OK;
}

/* The distinct known losses of a `losses` list (at most the registry's size). */
static size_t listed_losses(const json_node *losses, const loss_desc **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < losses->u.arr.count; i++) {
        const char *name = NULL;
        size_t len = 0, k;
        api_err ignored;
        if (entry_name(&losses->u.arr.items[i], &name, &len, &ignored) != API_OK)
            continue;
        const loss_desc *d = loss_registry_find(name, len);
        for (k = 0; k < n && out[k] != d; k++)
            ;
        if (d != NULL && k == n && n < cap)
            out[n++] = d;
    }
    return n;
}

/* A top-level key of /v1/evaluate must be used by at least one listed (known) loss. Costs
 * keys x distinct losses, whatever the length of the list. */
static api_code check_shared_keys(const json_node *root, const json_node *losses, api_err *err)
{
    const loss_desc *known[128];
    size_t n = listed_losses(losses, known, sizeof known / sizeof known[0]);
    if (n == sizeof known / sizeof known[0])
        return API_OK; /* more distinct losses than we check cheaply: each still decodes */
    for (size_t k = 0; k < root->u.obj.count && n > 0; k++) {
        const json_member *m = &root->u.obj.items[k];
        int used = m->key_len == 6 && memcmp(m->key, "losses", 6) == 0;
        for (size_t i = 0; i < n && !used; i++)
            used = decode_v1_knows(known[i], m->key, m->key_len);
        if (!used)
            return unknown_key(err, m, "no listed loss takes it");
    }
    return API_OK;
}

static void write_item_error(jbuf *jb, const char *loss, size_t loss_len, const api_err *e)
{
    jbuf_putc(jb, '{');
    if (loss != NULL) {
        jbuf_puts(jb, "\"loss\":");
        jbuf_string(jb, loss, loss_len);
        jbuf_putc(jb, ',');
    }
    jbuf_puts(jb, "\"status\":");
    jbuf_size(jb, (size_t)api_code_status(e->code));
    jbuf_puts(jb, ",\"error\":{");
    api_err_write_v1(jb, e);
    jbuf_puts(jb, "}}");
}

/* Counts one entry of evaluate or batch for the per-loss metrics (known losses only). */
static void count_item(api_reply *reply, const loss_desc *desc, api_code c, size_t before,
                       size_t after)
{
    if (desc != NULL)
        api_reply_count(reply, desc, api_code_status(c), after - before);
}

/* One entry of losses, decoded from the shared keys, then its own object's keys. *desc,
 * *name and *len are set as far as the entry got (for its error item). */
static api_code evaluate_decode(json_doc *doc, const json_node *entry, loss_call *call,
                                const loss_desc **desc, const char **name, size_t *len,
                                api_err *err)
{
    static const char *const top_skip[] = {"losses", NULL}, *const own_skip[] = {"name", NULL};
    api_code c = entry_name(entry, name, len, err);
    *desc = c == API_OK ? loss_registry_find(*name, *len) : NULL;
    if (c == API_OK && *desc == NULL)
        c = api_err_unknown_loss(err, *name, *len);
    if (c == API_OK) {
        loss_call_init(call, *desc);
        c = decode_v1_apply(call, &doc->root, DECODE_LENIENT, top_skip, &doc->mem, err);
    }
    if (c == API_OK && entry->kind == JSON_OBJECT)
        c = decode_v1_apply(call, entry, 0, own_skip, &doc->mem, err);
    return c;
}

/* Computes one entry into the reply stream (its result, or its error item). Returns the
 * entry's code: a timeout (the request's deadline) ends the whole request. */
static api_code evaluate_one(v1_req *q, const json_node *entry, api_reply *reply)
{
    const char *name = NULL;
    size_t len = 0, before = reply->elements;
    api_err err;
    loss_call call;
    const loss_desc *desc = NULL;
    api_code c = evaluate_decode(&q->doc, entry, &call, &desc, &name, &len, &err);
    if (c == API_OK)
        c = v1_compute_into(q->env, &call, "{", q->out, v1_held(q), &reply->elements, &err);
    if (c != API_OK)
        write_item_error(api_stream_text(q->out), desc ? desc->name : name,
                         desc ? strlen(desc->name) : len, &err);
    count_item(reply, desc, c, before, reply->elements);
    return c;
}

/* An entry that is only a name: a string, or an object with nothing but "name". */
static int bare_entry(const json_node *entry)
{
    return entry->kind == JSON_STRING || (entry->kind == JSON_OBJECT && entry->u.obj.count == 1);
}

/* The same loss listed twice by name alone would compute the same thing twice: refused. */
static api_code check_repeat(const loss_desc *desc, const loss_desc **seen, size_t *n_seen,
                             size_t cap, api_err *err)
{
    for (size_t k = 0; k < *n_seen; k++)
        if (seen[k] == desc)
            return api_err_set(err, API_ERR_INVALID_PARAMETER, "losses",
                               "losses lists %s more than once; list each loss once (an object "
                               "with its own parameters may repeat a loss)",
                               desc->name);
    if (*n_seen < cap)
        seen[(*n_seen)++] = desc;
    return API_OK;
}

/* Before anything is computed: refuses repeated bare names and a summed cost over the caps,
 * and tells whether the request must be deferred. Entries that fail to decode or cost are
 * skipped here; the compute pass reports them as error items. */
static api_code evaluate_admit(const api_env *env, json_doc *doc, const json_node *losses,
                               api_reply *reply, api_err *err)
{
    const loss_desc *seen[128];
    size_t n_seen = 0;
    loss_cost sum = {0};
    for (size_t i = 0; i < losses->u.arr.count; i++) {
        const json_node *entry = &losses->u.arr.items[i];
        const char *name = NULL;
        size_t len = 0;
        const loss_desc *desc = NULL;
        loss_call call;
        api_err item;
        api_code c = evaluate_decode(doc, entry, &call, &desc, &name, &len, &item);
        if (desc != NULL && bare_entry(entry) &&
            check_repeat(desc, seen, &n_seen, sizeof seen / sizeof seen[0], err) != API_OK)
            return err->code;
        if (c == API_OK)
            api_cost_add(env, &call, &sum, &item);
    }
    if (api_cost_admit(env, &sum, err) != API_OK)
        return err->code;
    api_cost_defer(env, &sum, reply);
    return API_OK;
}

/* The parser stores `[]` as an empty packed array of numbers (json_doc.h); the lists of
 * /v1/evaluate and /v1/batch read it as the empty list it is. */
static const json_node *as_list(const json_node *n)
{
    static const json_node empty = {.kind = JSON_ARRAY};
    if (n != NULL && n->kind == JSON_PACKED && n->u.packed->rank == 1 && n->u.packed->count == 0)
        return &empty;
    return n;
}

static api_code evaluate_list(const json_doc *doc, const json_node **losses, api_err *err)
{
    *losses = as_list(json_object_get(&doc->root, "losses", 6));
    if (*losses == NULL)
        return api_err_set(err, API_ERR_MISSING_FIELD, "losses", "losses is required");
    if ((*losses)->kind != JSON_ARRAY)
        return api_err_set(err, API_ERR_INVALID_TYPE, "losses",
                           "losses must be an array of names or objects, got %s",
                           json_kind_name((*losses)->kind));
    return check_shared_keys(&doc->root, *losses, err);
}

static api_code v1_evaluate(const api_env *env, const v1_body *b, api_reply *reply)
{
    v1_req q;
    api_err err;
    const json_node *losses;
    api_code code = v1_begin(&q, env, b, 1, reply, &err);
    if (code == API_OK)
        code = evaluate_list(&q.doc, &losses, &err);
    if (code == API_OK)
        code = evaluate_admit(env, &q.doc, losses, reply, &err);
    if (code == API_OK && !reply->deferred) {
        jbuf *jb = api_stream_text(q.out);
        jbuf_puts(jb, "{\"results\":[");
        for (size_t i = 0; i < losses->u.arr.count && code == API_OK; i++) {
            if (i)
                jbuf_putc(jb, ',');
            if (evaluate_one(&q, &losses->u.arr.items[i], reply) == API_ERR_TIMEOUT)
                code = request_timeout(&err);
        }
        jbuf_puts(jb, "]}");
    }
    return v1_end(&q, code, &err, reply);
}

api_code api_v1_evaluate(const api_env *env, const char *body, size_t len, api_reply *reply)
{
    v1_body b = {body, len, NULL};
    return v1_evaluate(env, &b, reply);
}

api_code api_v1_evaluate_stream(const api_env *env, json_stream *body, api_reply *reply)
{
    v1_body b = {NULL, 0, body};
    return v1_evaluate(env, &b, reply);
}

/* ---- /v1/batch ---- */

static api_code batch_loss(const json_node *item, const loss_desc **desc, api_err *err)
{
    if (item->kind != JSON_OBJECT)
        return api_err_set(err, API_ERR_INVALID_TYPE, NULL,
                           "each request must be a JSON object, got %s",
                           json_kind_name(item->kind));
    const json_node *n = json_object_get(item, "loss", 4);
    if (n == NULL)
        return api_err_set(err, API_ERR_MISSING_FIELD, "loss", "loss is required");
    if (n->kind != JSON_STRING)
        return api_err_set(err, API_ERR_INVALID_TYPE, "loss", "loss must be a string, got %s",
                           json_kind_name(n->kind));
    *desc = loss_registry_find(n->u.str.ptr, n->u.str.len);
    return *desc ? API_OK : api_err_unknown_loss(err, n->u.str.ptr, n->u.str.len);
}

static api_code batch_decode(json_doc *doc, const json_node *item, const loss_desc **desc,
                             loss_call *call, api_err *err)
{
    static const char *const skip[] = {"loss", NULL};
    api_code c = batch_loss(item, desc, err);
    if (c == API_OK) {
        loss_call_init(call, *desc);
        c = decode_v1_apply(call, item, 0, skip, &doc->mem, err);
    }
    return c;
}

/* Computes one request into the reply stream (its response or its error item); returns its
 * code. */
static api_code batch_one(v1_req *q, const json_node *item, api_reply *reply)
{
    const loss_desc *desc = NULL;
    size_t before = reply->elements;
    api_err err;
    loss_call call;
    api_code c = batch_decode(&q->doc, item, &desc, &call, &err);
    if (c == API_OK)
        c = v1_compute_into(q->env, &call, "{\"status\":200,", q->out, v1_held(q), &reply->elements,
                            &err);
    if (c != API_OK)
        write_item_error(api_stream_text(q->out), NULL, 0, &err);
    count_item(reply, desc, c, before, reply->elements);
    return c;
}

/* The summed cost of the requests that decode (the others become error items), against the
 * caps; and whether the batch must be deferred. */
static api_code batch_admit(const api_env *env, json_doc *doc, const json_node *requests,
                            api_reply *reply, api_err *err)
{
    loss_cost sum = {0};
    for (size_t i = 0; i < requests->u.arr.count; i++) {
        const loss_desc *desc = NULL;
        loss_call call;
        api_err item;
        if (batch_decode(doc, &requests->u.arr.items[i], &desc, &call, &item) == API_OK)
            api_cost_add(env, &call, &sum, &item);
    }
    if (api_cost_admit(env, &sum, err) != API_OK)
        return err->code;
    api_cost_defer(env, &sum, reply);
    return API_OK;
}

static api_code batch_requests(const json_node *root, const json_node **requests, api_err *err)
{
    for (size_t k = 0; k < root->u.obj.count; k++) {
        const json_member *m = &root->u.obj.items[k];
        if (!(m->key_len == 8 && memcmp(m->key, "requests", 8) == 0))
            return unknown_key(err, m, "a batch holds only \"requests\"");
    }
    *requests = as_list(json_object_get(root, "requests", 8));
    if (*requests == NULL)
        return api_err_set(err, API_ERR_MISSING_FIELD, "requests", "requests is required");
    if ((*requests)->kind != JSON_ARRAY)
        return api_err_set(err, API_ERR_INVALID_TYPE, "requests",
                           "requests must be an array of objects, got %s",
                           json_kind_name((*requests)->kind));
    return API_OK;
}

static api_code v1_batch(const api_env *env, const v1_body *b, api_reply *reply)
{
    v1_req q;
    api_err err;
    const json_node *requests = NULL;
    api_code code = v1_begin(&q, env, b, 1, reply, &err);
    if (code == API_OK)
        code = batch_requests(&q.doc.root, &requests, &err);
    if (code == API_OK)
        code = batch_admit(env, &q.doc, requests, reply, &err);
    if (code == API_OK && !reply->deferred) {
        jbuf *jb = api_stream_text(q.out);
        jbuf_puts(jb, "{\"responses\":[");
        for (size_t i = 0; i < requests->u.arr.count && code == API_OK; i++) {
            if (i)
                jbuf_putc(jb, ',');
            if (batch_one(&q, &requests->u.arr.items[i], reply) == API_ERR_TIMEOUT)
                code = request_timeout(&err);
        }
        jbuf_puts(jb, "]}");
    }
    return v1_end(&q, code, &err, reply);
}

api_code api_v1_batch(const api_env *env, const char *body, size_t len, api_reply *reply)
{
    v1_body b = {body, len, NULL};
    return v1_batch(env, &b, reply);
}

api_code api_v1_batch_stream(const api_env *env, json_stream *body, api_reply *reply)
{
    v1_body b = {NULL, 0, body};
    return v1_batch(env, &b, reply);
}
