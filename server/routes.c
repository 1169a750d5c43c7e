/* routes: the table, its matcher, and the thin adapters from a route_call to the api layer
 * (plus the server's own health and metrics answers). Invariant: every path the daemon
 * serves appears exactly once in `table`; nothing else in lossd branches on a path. */
#include "routes.h"

#include <string.h>

#include "assets.h"
#include "mem.h"

/* A reply whose body is a copy of a static JSON text. */
static api_code reply_text(api_reply *reply, int status, const char *type, const char *text)
{
    size_t len = strlen(text);
    reply->body = mem_strndup(text, len);
    if (reply->body == NULL)
        return api_error_reply(reply, API_STYLE_V1, API_ERR_NOMEM, NULL, "out of memory");
    reply->status = status;
    reply->content_type = type;
    reply->len = len;
    reply->code = API_OK;
    return API_OK;
}

static api_code healthz(const route_call *c, api_reply *reply)
{
    (void)c;
    return reply_text(reply, 200, "application/json", "{\"status\":\"ok\"}");
}

static api_code readyz(const route_call *c, api_reply *reply)
{
    static const char *const bodies[] = {"{\"status\":\"starting\"}", "{\"status\":\"ready\"}",
                                         "{\"status\":\"draining\"}"};
    serve_state s = c->state;
    api_code code = reply_text(reply, s == SERVE_READY ? 200 : 503, "application/json", bodies[s]);
    if (code == API_OK && s != SERVE_READY)
        reply->retry_after = 1;
    return code;
}

static api_code metrics_text(const route_call *c, api_reply *reply)
{
    metrics_gauges g;
    c->read_gauges(c->gauges_ctx, &g);
    reply->body = metrics_render(c->metrics, &g, &reply->len);
    if (reply->body == NULL)
        return api_error_reply(reply, API_STYLE_V1, API_ERR_NOMEM, NULL, "out of memory");
    reply->status = 200;
    reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return API_OK;
}

static api_code v2_live(const route_call *c, api_reply *reply)
{
    (void)c;
    return reply_text(reply, 200, "application/json", "{\"live\":true}");
}

static api_code v2_ready(const route_call *c, api_reply *reply)
{
    if (c->state == SERVE_READY)
        return reply_text(reply, 200, "application/json", "{\"ready\":true}");
    api_error_reply(reply, API_STYLE_V2, API_ERR_DRAINING, NULL, "server is not ready");
    reply->retry_after = 1;
    return reply->code;
}

static api_code v1_catalogue(const route_call *c, api_reply *reply)
{
    (void)c;
    return api_v1_catalogue(reply);
}

static api_code v1_entry(const route_call *c, api_reply *reply)
{
    return api_v1_catalogue_entry(c->name, c->name_len, reply);
}

static api_code v1_loss(const route_call *c, api_reply *reply)
{
    if (c->json)
        return api_v1_loss_stream(c->env, c->name, c->name_len, c->json, reply);
    return api_v1_loss(c->env, c->name, c->name_len, c->body, c->len, reply);
}

static api_code v1_evaluate(const route_call *c, api_reply *reply)
{
    if (c->json)
        return api_v1_evaluate_stream(c->env, c->json, reply);
    return api_v1_evaluate(c->env, c->body, c->len, reply);
}

static api_code v1_batch(const route_call *c, api_reply *reply)
{
    if (c->json)
        return api_v1_batch_stream(c->env, c->json, reply);
    return api_v1_batch(c->env, c->body, c->len, reply);
}

static api_code v2_server(const route_call *c, api_reply *reply)
{
    (void)c;
    return api_v2_server_metadata(reply);
}

static api_code v2_model(const route_call *c, api_reply *reply)
{
    return api_v2_model_metadata(c->name, c->name_len, reply);
}

static api_code v2_model_ready(const route_call *c, api_reply *reply)
{
    return api_v2_model_ready(c->name, c->name_len, reply);
}

static api_code v2_infer(const route_call *c, api_reply *reply)
{
    return api_v2_infer(c->env, c->name, c->name_len, c->body, c->len, c->header_len, reply);
}

/* The web page, /docs and the spec: open (no API key), since a browser cannot send one
 * when it opens a page; the API calls the page makes carry the key. */
static api_code web_file(const route_call *c, const char *name, size_t len, api_reply *reply)
{
    assets_request req = {.if_none_match = c->if_none_match, .accept_encoding = c->accept_encoding};
    return assets_reply(name, len, &req, reply);
}

static api_code web_page(const route_call *c, api_reply *reply)
{
    return web_file(c, "index.html", sizeof "index.html" - 1, reply);
}

static api_code web_docs(const route_call *c, api_reply *reply)
{
    return web_file(c, "docs.html", sizeof "docs.html" - 1, reply);
}

static api_code web_spec_yaml(const route_call *c, api_reply *reply)
{
    return web_file(c, "openapi.yaml", sizeof "openapi.yaml" - 1, reply);
}

static api_code web_spec_json(const route_call *c, api_reply *reply)
{
    return web_file(c, "openapi.json", sizeof "openapi.json" - 1, reply);
}

static api_code web_asset(const route_call *c, api_reply *reply)
{
    return web_file(c, c->name, c->name_len, reply);
}

#define OPEN_V2 (ROUTE_OPEN | ROUTE_V2 | ROUTE_ADMIN)
#define INFER (ROUTE_BODY | ROUTE_V2 | ROUTE_BINARY)
/* A row for an exact path, and for a path with one "{}" segment between prefix and suffix. */
#define ROUTE_PATH(m, path, flags, fn)            \
    {                                             \
        m, path, flags, fn, sizeof path - 1, 0, 0 \
    }
#define ROUTE_HOLE(m, prefix, suffix, flags, fn)                                  \
    {                                                                             \
        m, prefix "{}" suffix, flags, fn, sizeof prefix - 1, sizeof suffix - 1, 1 \
    }

static const route table[] = {
    ROUTE_PATH(ROUTE_GET, "/", ROUTE_OPEN, web_page),
    ROUTE_PATH(ROUTE_GET, "/docs", ROUTE_OPEN, web_docs),
    ROUTE_PATH(ROUTE_GET, "/openapi.yaml", ROUTE_OPEN, web_spec_yaml),
    ROUTE_PATH(ROUTE_GET, "/openapi.json", ROUTE_OPEN, web_spec_json),
    ROUTE_HOLE(ROUTE_GET, "/assets/", "", ROUTE_OPEN, web_asset),
    ROUTE_PATH(ROUTE_GET, "/healthz", ROUTE_OPEN | ROUTE_ADMIN, healthz),
    ROUTE_PATH(ROUTE_GET, "/readyz", ROUTE_OPEN | ROUTE_ADMIN, readyz),
    ROUTE_PATH(ROUTE_GET, "/metrics", ROUTE_ADMIN, metrics_text),
    ROUTE_PATH(ROUTE_GET, "/v1/losses", 0, v1_catalogue),
    ROUTE_HOLE(ROUTE_GET, "/v1/losses/", "", 0, v1_entry),
    ROUTE_HOLE(ROUTE_POST, "/v1/loss/", "", ROUTE_BODY | ROUTE_STREAM, v1_loss),
    ROUTE_PATH(ROUTE_POST, "/v1/evaluate", ROUTE_BODY | ROUTE_STREAM, v1_evaluate),
    ROUTE_PATH(ROUTE_POST, "/v1/batch", ROUTE_BODY | ROUTE_STREAM, v1_batch),
    ROUTE_PATH(ROUTE_GET, "/v2/health/live", OPEN_V2, v2_live),
    ROUTE_PATH(ROUTE_GET, "/v2/health/ready", OPEN_V2, v2_ready),
    ROUTE_PATH(ROUTE_GET, "/v2", ROUTE_V2, v2_server),
    ROUTE_HOLE(ROUTE_GET, "/v2/models/", "", ROUTE_V2, v2_model),
    ROUTE_HOLE(ROUTE_GET, "/v2/models/", "/ready", ROUTE_V2, v2_model_ready),
    ROUTE_HOLE(ROUTE_POST, "/v2/models/", "/infer", INFER, v2_infer),
    ROUTE_HOLE(ROUTE_GET, "/v2/models/", "/versions/1", ROUTE_V2, v2_model),
    ROUTE_HOLE(ROUTE_GET, "/v2/models/", "/versions/1/ready", ROUTE_V2, v2_model_ready),
    ROUTE_HOLE(ROUTE_POST, "/v2/models/", "/versions/1/infer", INFER, v2_infer),
};
#define N_ROUTES (sizeof table / sizeof table[0])

unsigned routes_method(const char *method)
{
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return ROUTE_GET;
    return strcmp(method, "POST") == 0 ? ROUTE_POST : 0;
}

/* Matches path (path_len bytes) against one row; on success sets the name (NULL and 0 if
 * none). */
static int pattern_match(const route *row, const char *path, size_t path_len, const char **name,
                         size_t *name_len)
{
    size_t prefix = row->prefix_len, suffix = row->suffix_len, seg;
    if (!row->hole) {
        *name = NULL;
        *name_len = 0;
        return path_len == prefix && memcmp(path, row->pattern, prefix) == 0;
    }
    if (path_len <= prefix + suffix || memcmp(path, row->pattern, prefix) != 0 ||
        memcmp(path + path_len - suffix, row->pattern + prefix + 2, suffix) != 0)
        return 0;
    seg = path_len - prefix - suffix;
    if (memchr(path + prefix, '/', seg) != NULL)
        return 0;
    *name = path + prefix;
    *name_len = seg;
    return 1;
}

route_status routes_match(const char *path, unsigned method, route_match *m)
{
    size_t path_len = strlen(path);
    *m = (route_match){.route = NULL};
    for (size_t i = 0; i < N_ROUTES; i++) {
        const char *name;
        size_t name_len;
        if (!pattern_match(&table[i], path, path_len, &name, &name_len))
            continue;
        m->allowed |= table[i].methods;
        if ((table[i].methods & method) && m->route == NULL) {
            m->route = &table[i];
            m->name = name;
            m->name_len = name_len;
        }
    }
    if (m->route)
        return ROUTE_FOUND;
    return m->allowed ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}

const char *routes_allow(unsigned methods)
{
    static const char *const allow[] = {"OPTIONS", "GET, HEAD, OPTIONS", "POST, OPTIONS",
                                        "GET, HEAD, POST, OPTIONS"};
    return allow[methods & (ROUTE_GET | ROUTE_POST)];
}

int routes_path_is_v2(const char *path)
{
    return strncmp(path, "/v2", 3) == 0 && (path[3] == '\0' || path[3] == '/');
}
