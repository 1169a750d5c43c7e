/* daemon: the libmicrohttpd access handler and request lifecycle.
 * First call: framing (framing.c), route, method, auth, media type, Content-Length (413 before
 * the body is read). Body calls: append to the request's buffer. Final call: answer inline
 * (cheap GETs; bodies up to --inline-max whose cost is small) or suspend and submit a job; the
 * worker fills the reply and resumes; the resumed call queues it. Every compute has a deadline
 * (--job-timeout from the final call, queueing included) that core polls between chunks.
 * Connections come from the listener (listener.c), admitted and timed by the conn_guard.
 * Invariant: a request context is freed only in on_completed, and a connection is suspended
 * exactly while a job owns it (counted in `jobs`, which must be 0 before MHD_stop_daemon). */
#define _GNU_SOURCE
#include "daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "admit.h"
#include "budget.h"
#include "conn_guard.h"
#include "core.h"
#include "framing.h"
#include "listener.h"
#include "log.h"
#include "loss_registry.h"
#include "mem.h"
#include "metrics.h"
#include "pool.h"
#include "request.h"
#include "routes.h"
#include "trim.h"

#ifndef LOSSD_VERSION
#define LOSSD_VERSION "unknown"
#endif

#define TLS_FILE_MAX ((size_t)1 << 20)
/* A request whose cost is at most this many work units (about a millisecond) is computed on
 * the HTTP thread when its body is small; anything heavier goes to the workers. */
#define INLINE_MAX_WORK ((size_t)1 << 20)
/* Connections the admin daemon serves at once (health probes and a metrics scraper). */
#define ADMIN_CONNECTIONS 64

/* What an MHD daemon's callbacks get: the daemon, and whether it is the admin port's. */
typedef struct {
    lossd_daemon *d;
    int admin;
} mhd_side;

struct lossd_daemon {
    const server_config *cfg;
    struct MHD_Daemon *mhd;
    struct MHD_Daemon *admin_mhd; /* NULL without --admin-port */
    mhd_side side[2];             /* main, admin */
    conn_guard *guard;
    listener *listener;
    pool *workers;
    metrics *metrics;
    budget *budget;
    trimmer *trimmer;
    api_env env;
    char *tls_cert, *tls_key; /* PEM contents */
    unsigned port, admin_port;
    atomic_int state;        /* serve_state */
    atomic_int closing;      /* drain time is over: refuse and cancel jobs */
    atomic_size_t in_flight; /* requests between their first call and on_completed */
    atomic_size_t jobs;      /* connections suspended for a job */
    atomic_size_t stopped;   /* running computations cancelled by the drain deadline */
    atomic_size_t refused;   /* queued jobs refused by it */
    uint64_t id_seed;
    atomic_ullong id_counter;
};

/* A request path up to this long is kept in the context itself (no allocation). */
#define PATH_INLINE 120
/* A body buffer up to this size stays with its connection for the next request. Like MHD's
 * own connection pool it is outside the budget while idle (every request's reservation
 * covers it, within BUDGET_REQUEST_BASE, while in use) and freed when the connection closes:
 * at most this much a connection, bounded by the connection limit. */
#define BODY_KEEP ((size_t)16 << 10)

/* One HTTP request; hangs off the connection (con_cls) and owns everything it uses. A
 * connection's contexts are one object reused request after request (its MHD socket
 * context, made when the connection opens): a kept-alive connection's next request then
 * allocates neither the context nor a small body buffer. */
typedef struct {
    lossd_daemon *d;
    int in_use;      /* between first_call and on_completed */
    int conn_closed; /* MHD closed the connection while in use: on_completed frees it */
    int owned;       /* not a connection's (its socket context was missing): freed when done */
    char path_inline[PATH_INLINE + 1];
    struct MHD_Connection *conn;
    int fd;      /* the connection's socket, the conn_guard's key */
    int admin;   /* came in on the admin port */
    int close;   /* answer with "Connection: close" (a framing error) */
    api_env env; /* the daemon's, with this request's cancel and budget hooks */
    const route *route;
    char method[16];
    char *path;       /* owned copy of the URL path */
    const char *name; /* the {} segment, inside path */
    size_t name_len;
    char *header_len; /* owned copy of Inference-Header-Content-Length, or NULL */
    char id[REQUEST_ID_MAX + 1];
    request_body body;
    admit adm;    /* its memory reservation, and the /v1 body's parser */
    int streamed; /* the body is parsed as it arrives (a large /v1 JSON body), never held */
    api_reply reply;
    int answered;    /* reply is final: send it on the next chance */
    int job;         /* a job was submitted (the connection was suspended) */
    atomic_int done; /* the job filled reply (release/acquire with the resume) */
    int status;      /* HTTP status queued, 0 if none */
    uint64_t start_ns, deadline_ns;
} conn_request;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static api_style style_of(const conn_request *r)
{
    if (r->route)
        return (r->route->flags & ROUTE_V2) ? API_STYLE_V2 : API_STYLE_V1;
    return routes_path_is_v2(r->path) ? API_STYLE_V2 : API_STYLE_V1;
}

/* ---- responses ---- */

static int add_header(struct MHD_Response *resp, const char *name, const char *value)
{
    return MHD_add_response_header(resp, name, value) == MHD_YES ? 0 : -1;
}

static int add_cors(const lossd_daemon *d, struct MHD_Response *resp, int preflight)
{
    const char *origin = d->cfg->cors_origin;
    int rc = 0;
    if (origin == NULL)
        return 0;
    rc |= add_header(resp, "Access-Control-Allow-Origin", origin);
    rc |= add_header(resp, "Access-Control-Expose-Headers",
                     "X-Request-Id, Inference-Header-Content-Length, Retry-After");
    if (strcmp(origin, "*") != 0)
        rc |= add_header(resp, "Vary", "Origin");
    if (preflight) {
        rc |= add_header(resp, "Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS");
        rc |= add_header(resp, "Access-Control-Allow-Headers",
                         "Content-Type, Authorization, X-API-Key, X-Request-Id, "
                         "Inference-Header-Content-Length");
        rc |= add_header(resp, "Access-Control-Max-Age", "600");
    }
    return rc;
}

static int add_reply_headers(const conn_request *r, struct MHD_Response *resp)
{
    const api_reply *rep = &r->reply;
    char num[32];
    int rc = add_header(resp, "X-Request-Id", r->id);
    if (rep->len > 0 || rep->content_type)
        rc |= add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                         rep->content_type ? rep->content_type : "application/json");
    if (rep->allow)
        rc |= add_header(resp, MHD_HTTP_HEADER_ALLOW, rep->allow);
    if (rep->retry_after > 0 || rep->status == 503) { /* every 503 says when to retry */
        snprintf(num, sizeof num, "%d", rep->retry_after > 0 ? rep->retry_after : 1);
        rc |= add_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, num);
    }
    if (rep->status == 401)
        rc |= add_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (rep->binary) {
        snprintf(num, sizeof num, "%zu", rep->inference_header_len);
        rc |= add_header(resp, "Inference-Header-Content-Length", num);
    }
    for (size_t i = 0; i < 2 * API_REPLY_HEADERS && rep->headers[i]; i += 2)
        rc |= add_header(resp, rep->headers[i], rep->headers[i + 1]);
    if (r->close || atomic_load(&r->d->state) == SERVE_DRAINING)
        rc |= add_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    return rc | add_cors(r->d, resp, rep->status == 204 && rep->allow != NULL);
}

/* MHD asks for the next bytes of a streamed body (on the connection's thread). */
static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    conn_request *r = cls;
    size_t n = api_reply_read(&r->reply, buf, max);
    (void)pos;
    return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

/* The response for r->reply: one buffer; pieces already in memory sent as they are (a /v2
 * binary tail straight from the result tensors); or printed chunk by chunk as the socket
 * takes them. The memory stays owned by r (freed in on_completed, after MHD is done). */
static struct MHD_Response *make_response(conn_request *r)
{
    api_piece pieces[2 + 2 * 8];
    struct MHD_IoVec iov[sizeof pieces / sizeof pieces[0]];
    if (r->reply.stream == NULL)
        return MHD_create_response_from_buffer(r->reply.len, r->reply.body, MHD_RESPMEM_PERSISTENT);
    size_t n = api_reply_pieces(&r->reply, pieces, sizeof pieces / sizeof pieces[0]);
    if (n == 0)
        return MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, read_body, r, NULL);
    for (size_t i = 0; i < n; i++) {
        iov[i].iov_base = pieces[i].ptr;
        iov[i].iov_len = pieces[i].len;
        r->reply.len += pieces[i].len;
    }
    return MHD_create_response_from_iovec(iov, (unsigned)n, NULL, NULL);
}

/* Queues r->reply. */
static enum MHD_Result send_reply(conn_request *r)
{
    struct MHD_Response *resp;
    if (r->reply.status < 100 || r->reply.status > 599) { /* a handler bug must not be 200 */
        api_reply_release(&r->reply);
        r->reply = (api_reply){.status = 0};
        api_error_reply(&r->reply, style_of(r), API_ERR_INTERNAL, NULL, "no reply was built");
    }
    resp = make_response(r);
    enum MHD_Result ret;
    if (resp == NULL)
        return MHD_NO;
    if (add_reply_headers(r, resp) != 0) {
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    ret = framing_queue_response(r->conn, (unsigned)r->reply.status, resp);
    MHD_destroy_response(resp);
    if (ret == MHD_YES)
        r->status = r->reply.status;
    return ret;
}

/* Replaces r->reply with an error (message already formatted) and marks it final. */
static void fail(conn_request *r, api_code code, const char *message)
{
    api_reply_release(&r->reply);
    r->reply = (api_reply){.status = 0};
    api_error_reply(&r->reply, style_of(r), code, NULL, "%s", message);
    r->answered = 1;
}

/* ---- first call: decide what can be decided from the headers ---- */

static int authorized(const lossd_daemon *d, struct MHD_Connection *c)
{
    const char *key = d->cfg->api_key, *given = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
    if (key == NULL)
        return 1;
    if (given && strncasecmp(given, "Bearer ", 7) == 0) {
        given += 7;
        while (*given == ' ')
            given++;
    } else {
        given = header(c, "X-API-Key");
    }
    return given && request_key_equal(given, strlen(given), key, strlen(key));
}

static int has_body(struct MHD_Connection *c)
{
    const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL || (cl && strcmp(cl, "0") != 0);
}

/* OPTIONS: 204 with Allow (and the CORS preflight headers when configured). */
static void answer_options(conn_request *r, unsigned allowed)
{
    r->reply = (api_reply){.status = 204, .allow = routes_allow(allowed)};
    r->answered = 1;
}

static void answer_unrouted(conn_request *r, route_status st, unsigned allowed)
{
    char msg[256];
    if (st == ROUTE_NOT_FOUND) {
        snprintf(msg, sizeof msg, "no route for %s %.100s", r->method, r->path);
        fail(r, API_ERR_NOT_FOUND, msg);
        return;
    }
    snprintf(msg, sizeof msg, "%s is not allowed on %.100s; allowed: %s", r->method, r->path,
             routes_allow(allowed));
    fail(r, API_ERR_METHOD_NOT_ALLOWED, msg);
    r->reply.allow = routes_allow(allowed);
}

/* Answers a refusal by the memory budget (reply and metrics). */
static void memory_refused(conn_request *r, api_code code, const char *message)
{
    fail(r, code, message);
    metrics_reject(r->d->metrics, code == API_ERR_OVERLOADED ? METRICS_REJECT_MEMORY
                                                             : METRICS_REJECT_MEMORY_LIMIT);
}

/* Reserves the request's worst case before its body is read (503 or 413 now if the budget
 * cannot take it) and starts the parser of a body read as it arrives. */
static void admit_upload(conn_request *r, int chunked, size_t declared)
{
    size_t json_len = declared;
    if (r->header_len && request_parse_length(r->header_len, &json_len) != 0)
        json_len = declared; /* malformed: refused later; count it all as JSON meanwhile */
    /* A small body is held and parsed whole, so that a handler deferred off the I/O thread
     * (api_cost_defer) can parse it again on a worker. */
    r->streamed = (r->route->flags & ROUTE_STREAM) && (chunked || declared > r->d->cfg->inline_max);
    api_code c = admit_begin(
        &r->adm, r->d->budget, r->streamed ? BUDGET_BODY_STREAMED_JSON : BUDGET_BODY_BUFFERED,
        chunked, declared, json_len < declared ? json_len : declared, r->d->cfg->max_body);
    if (c != API_OK)
        memory_refused(r, c, r->adm.message);
}

/* One chunk of the body: kept (buffered routes) or parsed and counted (streamed ones). */
static void take_chunk(conn_request *r, const char *data, size_t n)
{
    if (r->streamed)
        request_body_skip(&r->body, n);
    else
        request_body_append(&r->body, data, n);
    if (!r->body.too_big)
        (void)admit_chunk(&r->adm, data, n);
}

/* Checks a body route's headers; copies what the job needs. */
static void check_upload(conn_request *r)
{
    const lossd_daemon *d = r->d;
    const char *ihcl = header(r->conn, "Inference-Header-Content-Length");
    const char *cl = header(r->conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int binary_ok = (r->route->flags & ROUTE_BINARY) && ihcl != NULL;
    size_t declared = 0;
    char msg[256];
    if (!request_encoding_ok(header(r->conn, MHD_HTTP_HEADER_CONTENT_ENCODING))) {
        snprintf(msg, sizeof msg,
                 "Content-Encoding %.60s is not supported; send the body "
                 "uncompressed",
                 header(r->conn, MHD_HTTP_HEADER_CONTENT_ENCODING));
        fail(r, API_ERR_UNSUPPORTED_MEDIA_TYPE, msg);
        return;
    }
    if (!request_media_type_ok(header(r->conn, MHD_HTTP_HEADER_CONTENT_TYPE), binary_ok)) {
        snprintf(msg, sizeof msg, "Content-Type %.60s is not supported; send application/json%s",
                 header(r->conn, MHD_HTTP_HEADER_CONTENT_TYPE),
                 (r->route->flags & ROUTE_BINARY) ? " or application/octet-stream with "
                                                    "Inference-Header-Content-Length"
                                                  : "");
        fail(r, API_ERR_UNSUPPORTED_MEDIA_TYPE, msg);
        return;
    }
    if (cl && (request_parse_length(cl, &declared) != 0 || declared > d->cfg->max_body)) {
        snprintf(msg, sizeof msg, "request body of %.24s bytes exceeds the limit of %zu bytes", cl,
                 d->cfg->max_body);
        fail(r, API_ERR_PAYLOAD_TOO_LARGE, msg);
        metrics_reject(d->metrics, METRICS_REJECT_BODY_LIMIT);
        return;
    }
    if (ihcl && (r->header_len = mem_strndup(ihcl, strlen(ihcl))) == NULL) {
        fail(r, API_ERR_NOMEM, "out of memory");
        return;
    }
    size_t align_at = 0;
    if (r->header_len && request_parse_length(r->header_len, &align_at) != 0)
        align_at = 0; /* malformed: the api layer refuses it; alignment is moot */
    request_body_restart(&r->body, declared, d->cfg->max_body, align_at);
    admit_upload(r, cl == NULL, declared);
}

static void decide(conn_request *r)
{
    route_match m;
    unsigned method = routes_method(r->method);
    route_status st = routes_match(r->path, method, &m);
    if (strcmp(r->method, "OPTIONS") == 0 && st == ROUTE_BAD_METHOD) {
        answer_options(r, m.allowed);
        return;
    }
    if (st != ROUTE_FOUND) {
        answer_unrouted(r, st, m.allowed);
        return;
    }
    if (r->admin && !(m.route->flags & ROUTE_ADMIN)) {
        fail(r, API_ERR_NOT_FOUND, "the admin port serves only health and metrics");
        return;
    }
    r->route = m.route;
    r->name = m.name;
    r->name_len = m.name_len;
    if (!(r->route->flags & ROUTE_OPEN) && !r->admin && !authorized(r->d, r->conn)) {
        fail(r, API_ERR_UNAUTHORIZED,
             "missing or wrong API key (send 'Authorization: Bearer "
             "<key>' or 'X-API-Key: <key>')");
        return;
    }
    if (r->route->flags & ROUTE_BODY)
        check_upload(r);
}

static int connection_fd(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

/* core's cancel hook for this request: its deadline passed, or the drain ran out of time. */
static int request_cancelled(void *arg)
{
    const conn_request *r = arg;
    return atomic_load_explicit(&r->d->closing, memory_order_relaxed) || now_ns() > r->deadline_ns;
}

/* The connection's context (its socket context), or NULL if it has none or it is in use. */
static conn_request *connection_context(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_request *r = ci ? ci->socket_context : NULL;
    return r && !r->in_use ? r : NULL;
}

/* Empties r for its connection's next request: everything but the small kept body buffer
 * is freed, and the budget reservation given back. */
static void request_recycle(conn_request *r)
{
    request_body body = r->body;
    admit_end(&r->adm);
    request_body_recycle(&body, BODY_KEEP);
    api_reply_release(&r->reply);
    mem_free(r->header_len);
    if (r->path != r->path_inline)
        mem_free(r->path);
    *r = (conn_request){.d = r->d, .fd = r->fd, .body = body};
}

static void request_free(conn_request *r)
{
    request_recycle(r);
    request_body_release(&r->body);
    mem_free(r);
}

/* Takes the connection's context, or allocates one of its own (freed by on_completed). */
static conn_request *request_take(struct MHD_Connection *c)
{
    conn_request *r = connection_context(c);
    if (r == NULL && (r = mem_calloc(1, sizeof *r)) != NULL) {
        r->owned = 1;
        r->fd = connection_fd(c);
    }
    return r;
}

static conn_request *request_new(const mhd_side *side, struct MHD_Connection *c, const char *url,
                                 const char *method)
{
    lossd_daemon *d = side->d;
    size_t url_len = strlen(url);
    conn_request *r = request_take(c);
    if (r == NULL)
        return NULL;
    if (url_len <= PATH_INLINE) {
        memcpy(r->path_inline, url, url_len + 1);
        r->path = r->path_inline;
    } else if ((r->path = mem_strndup(url, url_len)) == NULL) {
        if (r->owned)
            request_free(r);
        return NULL;
    }
    r->in_use = 1;
    r->d = d;
    r->conn = c;
    r->admin = side->admin;
    r->env = d->env;
    r->env.cancelled = request_cancelled;
    r->env.cancel_arg = r;
    r->deadline_ns = UINT64_MAX;
    r->env.reserve = admit_reserve;
    r->env.budget_ctx = &r->adm;
    r->start_ns = now_ns();
    size_t method_len = strnlen(method, sizeof r->method - 1);
    memcpy(r->method, method, method_len);
    r->method[method_len] = '\0';
    if (request_id_sanitise(header(c, "X-Request-Id"), r->id) == 0)
        request_id_generate(d->id_seed, atomic_fetch_add(&d->id_counter, 1), r->id);
    atomic_fetch_add(&d->in_flight, 1);
    return r;
}

/* 400 and close for a request whose framing or path is ambiguous (framing.c); returns 1 if
 * it was refused. */
static int refuse_framing(conn_request *r)
{
    const char *why = framing_check_headers(r->conn);
    if (why == NULL && framing_path_has_control(r->path))
        why = "the request path holds a control character (such as %00)";
    if (why == NULL)
        return 0;
    fail(r, API_ERR_BAD_REQUEST, why);
    r->close = 1;
    return 1;
}

static enum MHD_Result first_call(const mhd_side *side, struct MHD_Connection *c, const char *url,
                                  const char *method, void **con_cls)
{
    conn_request *r = request_new(side, c, url, method);
    if (r == NULL)
        return MHD_NO;
    *con_cls = r;
    conn_guard_headers_done(side->d->guard, r->fd, has_body(c));
    if (refuse_framing(r))
        return send_reply(r); /* at once, body or not: nothing after it is read */
    decide(r);
    /* An answer decided now for a request with a body is sent before the body is read:
     * MHD then skips 100-continue, discards the body and closes the connection. Without a
     * body it waits for the final call, which keeps the connection alive. */
    if (r->answered && has_body(c))
        return send_reply(r);
    return MHD_YES;
}

/* ---- final call and compute jobs ---- */

/* The /metrics gauges, read at scrape time (route_call.read_gauges). */
static void read_gauges(void *ctx, metrics_gauges *g)
{
    lossd_daemon *d = ctx;
    *g = (metrics_gauges){.queue_depth = pool_queue_depth(d->workers),
                          .in_flight = atomic_load(&d->in_flight),
                          .memory_budget = budget_total(d->budget),
                          .memory_reserved = budget_reserved(d->budget),
                          .memory_cache = mem_cache_bytes(),
                          .conns_open = conn_guard_count(d->guard),
                          .conns_refused = d->listener ? listener_refused(d->listener) : 0,
                          .conns_cut = conn_guard_cut(d->guard)};
}

static route_call call_of(conn_request *r)
{
    return (route_call){.env = &r->env,
                        .state = (serve_state)atomic_load(&r->d->state),
                        .metrics = r->d->metrics,
                        .read_gauges = read_gauges,
                        .gauges_ctx = r->d,
                        .name = r->name,
                        .name_len = r->name_len,
                        .body = r->body.data ? r->body.data : "",
                        .len = r->body.len,
                        .header_len = r->header_len,
                        .json = r->adm.json};
}

/* Runs the route's handler (deferred: the reply stays empty and reply.deferred set). A
 * computation the drain deadline stopped becomes 503 draining rather than timeout. */
static void run_handler(conn_request *r, size_t defer_work)
{
    route_call call = call_of(r);
    r->env.defer_work = defer_work;
    r->route->fn(&call, &r->reply);
    if (r->reply.code == API_ERR_TIMEOUT && atomic_load(&r->d->closing)) {
        atomic_fetch_add(&r->d->stopped, 1);
        fail(r, API_ERR_DRAINING,
             "the server shut down before the request finished; retry on "
             "another instance");
    }
}

/* Runs on a pool worker. After MHD_resume_connection, r belongs to MHD's thread again (it
 * may be freed at once), so nothing touches r after it. */
static void run_job(void *arg)
{
    conn_request *r = arg;
    lossd_daemon *d = r->d;
    struct MHD_Connection *conn = r->conn;
    if (atomic_load(&d->closing)) {
        atomic_fetch_add(&d->refused, 1);
        fail(r, API_ERR_DRAINING, "the server is shutting down; retry on another instance");
    } else if (now_ns() > r->deadline_ns) {
        fail(r, API_ERR_TIMEOUT, "the request waited too long for a worker; retry later");
    } else {
        run_handler(r, 0);
    }
    atomic_store_explicit(&r->done, 1, memory_order_release);
    MHD_resume_connection(conn);
    atomic_fetch_sub(&d->jobs, 1);
}

/* Suspends first and submits second, so a fast worker can never resume a connection that
 * is not suspended yet. A full queue resumes at once with 503 overloaded. */
static enum MHD_Result submit_job(conn_request *r)
{
    lossd_daemon *d = r->d;
    atomic_fetch_add(&d->jobs, 1);
    if (atomic_load(&d->closing)) {
        atomic_fetch_sub(&d->jobs, 1);
        fail(r, API_ERR_DRAINING, "the server is shutting down; retry on another instance");
        return send_reply(r);
    }
    r->job = 1;
    MHD_suspend_connection(r->conn);
    if (pool_submit(d->workers, run_job, r) != 0) {
        fail(r, API_ERR_OVERLOADED, "the work queue is full; retry later");
        metrics_reject(d->metrics, METRICS_REJECT_QUEUE_FULL);
        atomic_store_explicit(&r->done, 1, memory_order_release);
        MHD_resume_connection(r->conn);
        atomic_fetch_sub(&d->jobs, 1);
    }
    return MHD_YES;
}

static enum MHD_Result final_call(conn_request *r)
{
    char msg[160];
    if (r->answered || r->job) {
        if (r->job && !atomic_load_explicit(&r->done, memory_order_acquire))
            return MHD_YES; /* not reached: only the job resumes, after setting done */
        return send_reply(r);
    }
    if (!(r->route->flags & ROUTE_BODY)) {
        route_call call = call_of(r);
        call.if_none_match = header(r->conn, MHD_HTTP_HEADER_IF_NONE_MATCH);
        call.accept_encoding = header(r->conn, MHD_HTTP_HEADER_ACCEPT_ENCODING);
        r->route->fn(&call, &r->reply);
        return send_reply(r);
    }
    if (r->body.too_big) {
        snprintf(msg, sizeof msg, "request body exceeds the limit of %zu bytes",
                 r->d->cfg->max_body);
        fail(r, API_ERR_PAYLOAD_TOO_LARGE, msg);
        return send_reply(r);
    }
    if (r->body.nomem) {
        fail(r, API_ERR_NOMEM, "out of memory while reading the request body");
        return send_reply(r);
    }
    if (r->adm.refused != API_OK) { /* the budget could not follow the body as it came */
        memory_refused(r, r->adm.refused, r->adm.message);
        return send_reply(r);
    }
    /* The deadline covers the wait for a worker and the computation. */
    r->deadline_ns = now_ns() + (uint64_t)r->d->cfg->job_timeout * 1000000000u;
    /* A small, cheap request is cheaper to compute here than to hand over: suspend, queue,
     * wake a worker and resume cost more than the loss itself (2-3x fewer requests/s
     * measured). Its cost decides, not its size: a heavier one comes back deferred. A body
     * parsed as it arrived (streamed) is never small: it goes to a worker. */
    if (!r->streamed && r->body.received <= r->d->cfg->inline_max) {
        run_handler(r, INLINE_MAX_WORK);
        if (!r->reply.deferred)
            return send_reply(r);
        api_reply_release(&r->reply);
        r->reply = (api_reply){.status = 0};
    }
    return submit_job(r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    conn_request *r = *con_cls;
    (void)version;
    if (r == NULL)
        return first_call(cls, conn, url, method, con_cls);
    if (*upload_data_size > 0) {
        conn_guard_body(r->d->guard, r->fd, *upload_data_size);
        take_chunk(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        /* An over-limit body is drained so the client can read its 413, but not forever:
         * past twice the limit (plus 1 MiB) the connection is closed instead. */
        return r->body.too_big && r->body.received / 2 > r->d->cfg->max_body + ((size_t)1 << 19)
                   ? MHD_NO
                   : MHD_YES;
    }
    conn_guard_busy(r->d->guard, r->fd);
    return final_call(r);
}

/* ---- completion: the one place a request ends ---- */

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    lossd_daemon *d = ((const mhd_side *)cls)->d;
    conn_request *r = *con_cls;
    uint64_t ns;
    (void)conn;
    if (r == NULL)
        return;
    conn_guard_idle(d->guard, r->fd);
    ns = now_ns() - r->start_ns;
    log_access(&(log_access_entry){.method = r->method,
                                   .path = r->path,
                                   .status = r->status,
                                   .bytes_in = r->body.received,
                                   .bytes_out = r->status ? r->reply.len : 0,
                                   .micros = ns / 1000,
                                   .request_id = r->id,
                                   .loss = r->reply.desc ? r->reply.desc->name : NULL,
                                   .aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK});
    if (r->status != 0)
        metrics_record(d->metrics, &(metrics_sample){.route = r->route ? r->route->pattern : NULL,
                                                     .status = r->status,
                                                     .seconds = (double)ns / 1e9,
                                                     .bytes_in = r->body.received,
                                                     .bytes_out = r->reply.len,
                                                     .elements = r->reply.elements,
                                                     .computed = r->reply.computed,
                                                     .n_computed = r->reply.n_computed});
    trimmer_touch(d->trimmer);
    if (r->owned || r->conn_closed) {
        request_free(r);
    } else {
        request_recycle(r); /* in_use is 0 again: the connection's next request takes it */
    }
    *con_cls = NULL;
    atomic_fetch_sub(&d->in_flight, 1);
}

/* ---- connections: admission, deadlines, close ---- */

/* MHD_OPTION_NOTIFY_CONNECTION: a new connection gets its request context (socket_context;
 * without one, each request allocates its own); the guard forgets a connection before MHD
 * closes its socket, and the context goes with it (or, if a request still holds it, when
 * that request completes). Both run on the connection's MHD thread, as its requests do. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    const mhd_side *side = cls;
    conn_request *r = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        r = mem_calloc(1, sizeof *r);
        if (r) {
            r->d = side->d;
            r->fd = connection_fd(conn);
        }
        *socket_context = r;
        return;
    }
    if (toe != MHD_CONNECTION_NOTIFY_CLOSED)
        return;
    conn_guard_closed(side->d->guard, connection_fd(conn));
    *socket_context = NULL;
    if (r && r->in_use)
        r->conn_closed = 1;
    else if (r)
        request_free(r);
}

/* MHD_OPTION_URI_LOG_CALLBACK: a request line arrived (the headers' deadline starts for a
 * kept-alive connection). Returns NULL: the request context is made in first_call. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    const mhd_side *side = cls;
    (void)uri;
    conn_guard_request_line(side->d->guard, connection_fd(conn));
    return NULL;
}

/* ---- start, drain, stop ---- */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_msg("warn", "http: %s", msg);
}
#pragma GCC diagnostic pop

/* Reads a PEM file into a NUL-terminated buffer (MHD wants contents, not paths). */
static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "rbe");
    char *buf = f ? mem_alloc(TLS_FILE_MAX + 1) : NULL;
    size_t n = 0;
    if (buf) {
        n = fread(buf, 1, TLS_FILE_MAX, f);
        buf[n] = '\0';
    }
    if (f)
        fclose(f);
    if (buf && (n == 0 || n == TLS_FILE_MAX)) {
        mem_free(buf);
        buf = NULL;
    }
    if (buf == NULL)
        log_msg("error", "cannot read TLS file %s (missing, empty or over 1 MiB)", path);
    return buf;
}

/* The main daemon: no listening socket of its own (the listener hands it connections), a
 * connection limit above the guard's so that the guard's is the one that bites. */
static struct MHD_Daemon *start_mhd(lossd_daemon *d)
{
    const server_config *cfg = d->cfg;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                     MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC | (d->tls_cert ? MHD_USE_TLS : 0);
    struct MHD_OptionItem tls[] = {
        {d->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, d->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, d->tls_key},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)(uintptr_t)cfg->tls_priority},
        {MHD_OPTION_END, 0, NULL},
    };
    /* MHD grows the read buffer (by 1/8 of the pool's free space while that is 8 KiB or
     * more) only before a read that would leave less than the increment free in it. lossd
     * takes the whole body each call, so with a smaller increment the buffer never grew: a
     * large body came in pool/2 pieces. An increment of the whole pool tries before every
     * read: a 1e6 + 1e6 FP32 /v2 body then takes a third fewer recv calls (339 against 504 a
     * request with 32 KiB). Header limits are unchanged (a full buffer grew as before). */
    size_t increment = cfg->conn_memory;
    unsigned limit = (unsigned)(cfg->max_connections * cfg->http_threads + 64);
    // clang-format off
    /* One option and its values per line. */
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, &d->side[0],
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, d, /* first, so start-up errors use it */
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->http_threads,
        MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->conn_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->conn_memory,
        MHD_OPTION_CONNECTION_MEMORY_INCREMENT, increment,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, &d->side[0],
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, &d->side[0],
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, &d->side[0],
        MHD_OPTION_UNESCAPE_CALLBACK, framing_unescape, NULL,
        MHD_OPTION_ARRAY, tls,
        MHD_OPTION_END);
    // clang-format on
}

/* The admin daemon: one thread, plain HTTP, health and metrics only (decide). */
static struct MHD_Daemon *start_admin_mhd(lossd_daemon *d)
{
    unsigned flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    // clang-format off
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, &d->side[1],
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, d,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)ADMIN_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)d->cfg->conn_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)d->cfg->conn_memory,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, &d->side[1],
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, &d->side[1],
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, &d->side[1],
        MHD_OPTION_UNESCAPE_CALLBACK, framing_unescape, NULL,
        MHD_OPTION_END);
    // clang-format on
}

static void daemon_free(lossd_daemon *d)
{
    conn_guard_destroy(d->guard);
    trimmer_stop(d->trimmer);
    pool_destroy(d->workers);
    budget_destroy(d->budget);
    metrics_destroy(d->metrics);
    mem_free(d->tls_cert);
    mem_free(d->tls_key);
    mem_free(d);
}

static conn_guard *guard_for(const server_config *cfg)
{
    conn_guard_limits lim = {.max_conns = cfg->max_connections,
                             .max_per_ip = cfg->max_conn_per_ip,
                             .header_timeout_s = cfg->header_timeout,
                             .min_body_rate = cfg->min_body_rate,
                             .idle_timeout_s = cfg->conn_timeout};
    return conn_guard_create(&lim);
}

/* The memory budget (--max-memory, else the default from the cgroup limit or physical
 * memory), the buffer cache's cap and the idle trimmer. Logs the figures. */
static budget *memory_setup(lossd_daemon *d)
{
    const server_config *cfg = d->cfg;
    const char *source = "--max-memory";
    size_t total = cfg->max_memory;
    if (total == 0)
        total = budget_default(getenv("LOSSD_CGROUP_ROOT"), &source);
    mem_cache_set_limit(cfg->cache_max < total ? cfg->cache_max : total / 4);
    d->trimmer = trimmer_start(cfg->idle_trim, &d->in_flight);
    log_msg("info", "memory: budget %zu bytes (%s), buffer cache up to %zu, idle trim %zus", total,
            source, cfg->cache_max < total ? cfg->cache_max : total / 4, cfg->idle_trim);
    return budget_create(total);
}

/* Allocates d and everything but MHD and the sockets. Returns NULL after logging why. */
static lossd_daemon *daemon_new(const server_config *cfg)
{
    lossd_daemon *d = mem_calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->cfg = cfg;
    d->side[0] = (mhd_side){d, 0};
    d->side[1] = (mhd_side){d, 1};
    if (getrandom(&d->id_seed, sizeof d->id_seed, 0) != (ssize_t)sizeof d->id_seed)
        d->id_seed = now_ns();
    d->workers = pool_create(cfg->workers, cfg->queue);
    d->budget = memory_setup(d);
    d->metrics = metrics_create(LOSSD_VERSION, core_isa_name());
    d->guard = guard_for(cfg);
    if (cfg->tls_cert) {
        d->tls_cert = read_pem(cfg->tls_cert);
        d->tls_key = d->tls_cert ? read_pem(cfg->tls_key) : NULL;
    }
    if (d->workers == NULL || d->metrics == NULL || d->guard == NULL || d->budget == NULL ||
        (cfg->tls_cert && d->tls_key == NULL)) {
        log_msg("error", "cannot start: worker pool, metrics, connection guard, memory budget or "
                         "TLS set-up failed");
        daemon_free(d);
        return NULL;
    }
    d->env = (api_env){.workers = d->workers,
                       .max_elements = 0,
                       .max_work = cfg->max_work,
                       .max_output = cfg->max_output,
                       .stream = 1};
    return d;
}

/* Binds the sockets, starts both daemons and the acceptor. Returns 0 or -1 (logged). */
static int start_serving(lossd_daemon *d)
{
    const server_config *cfg = d->cfg;
    listener_port main_port = {.fd = -1, .tls = d->tls_cert != NULL};
    listener_port admin_port = {.fd = -1, .admin = 1};
    main_port.fd = listener_bind(cfg->bind, (unsigned)cfg->port, &d->port);
    if (main_port.fd >= 0 && cfg->admin_port != CONFIG_NO_PORT)
        admin_port.fd = listener_bind(cfg->bind, (unsigned)cfg->admin_port, &d->admin_port);
    if (main_port.fd >= 0 && (cfg->admin_port == CONFIG_NO_PORT || admin_port.fd >= 0))
        d->mhd = start_mhd(d);
    if (d->mhd != NULL && admin_port.fd >= 0)
        d->admin_mhd = start_admin_mhd(d);
    if (d->mhd == NULL || (admin_port.fd >= 0 && d->admin_mhd == NULL)) {
        if (main_port.fd >= 0)
            log_msg("error", "cannot start the HTTP daemon");
        if (main_port.fd >= 0)
            close(main_port.fd);
        if (admin_port.fd >= 0)
            close(admin_port.fd);
        return -1;
    }
    main_port.mhd = d->mhd;
    admin_port.mhd = d->admin_mhd;
    d->listener = listener_start(d->guard, &main_port, &admin_port);
    return d->listener ? 0 : -1;
}

lossd_daemon *daemon_start(const server_config *cfg)
{
    lossd_daemon *d = daemon_new(cfg);
    if (d == NULL)
        return NULL;
    if (start_serving(d) != 0) {
        if (d->admin_mhd)
            MHD_stop_daemon(d->admin_mhd);
        if (d->mhd)
            MHD_stop_daemon(d->mhd);
        daemon_free(d);
        return NULL;
    }
    atomic_store(&d->state, SERVE_READY);
    return d;
}

unsigned daemon_port(const lossd_daemon *d)
{
    return d->port;
}

unsigned daemon_admin_port(const lossd_daemon *d)
{
    return d->admin_mhd ? d->admin_port : 0;
}

void daemon_drain(lossd_daemon *d, size_t delay_s)
{
    struct timespec delay = {.tv_sec = (time_t)delay_s};
    atomic_store(&d->state, SERVE_DRAINING);
    while (nanosleep(&delay, &delay) != 0 && errno == EINTR)
        ;
    /* Every connection the kernel accepted is still served; new ones are refused. */
    listener_close_main(d->listener);
}

/* Sleeps in small steps until *counter is 0 or the deadline passes; returns 0 if it hit 0. */
static int wait_zero(atomic_size_t *counter, uint64_t deadline_ns)
{
    const struct timespec step = {.tv_sec = 0, .tv_nsec = 5 * 1000 * 1000};
    while (atomic_load(counter) > 0) {
        if (now_ns() >= deadline_ns)
            return -1;
        nanosleep(&step, NULL);
    }
    return 0;
}

/* How long a cancelled computation may take to notice: core polls between chunks and inside
 * long units (milliseconds); a single BLAS call or kernel chunk is the bound. */
#define CANCEL_GRACE_NS (10ull * 1000000000u)

int daemon_stop(lossd_daemon *d)
{
    uint64_t deadline;
    int drained;
    if (d == NULL)
        return 0;
    deadline = now_ns() + (uint64_t)d->cfg->drain_timeout * 1000000000u;
    drained = wait_zero(&d->in_flight, deadline);
    /* Time is up: queued jobs answer 503 draining, running computations are cancelled (they
     * answer 503 draining too). No new job can be submitted once closing is set (submit_job
     * re-checks it after counting itself). */
    atomic_store(&d->closing, 1);
    if (wait_zero(&d->jobs, now_ns() + CANCEL_GRACE_NS) != 0)
        log_msg("warn", "%zu jobs did not stop within %llu s of their cancellation",
                atomic_load(&d->jobs), CANCEL_GRACE_NS / 1000000000u);
    /* Let the resumed connections send what their jobs produced. */
    wait_zero(&d->in_flight, now_ns() + 200u * 1000000u);
    if (drained != 0)
        log_msg("warn",
                "drain timeout: %zu requests cut off (%zu computations stopped and %zu queued "
                "jobs refused with 503 draining; %zu connections closed before their response)",
                atomic_load(&d->stopped) + atomic_load(&d->refused) + atomic_load(&d->in_flight),
                atomic_load(&d->stopped), atomic_load(&d->refused), atomic_load(&d->in_flight));
    listener_stop(d->listener);
    if (d->admin_mhd)
        MHD_stop_daemon(d->admin_mhd);
    MHD_stop_daemon(d->mhd);
    daemon_free(d);
    return drained;
}
