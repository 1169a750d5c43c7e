/* routes: the static table of lossd's HTTP routes. A row is a method mask, a path pattern
 * with at most one "{}" segment (a loss name), flags saying how the daemon must treat it
 * (authentication, body, error style), and the handler that builds the reply. The daemon
 * owns sockets and threads; a route handler only turns a call into an api_reply. */
#ifndef LOSSD_SERVER_ROUTES_H
#define LOSSD_SERVER_ROUTES_H

#include <stddef.h>

#include "api.h"
#include "metrics.h"

/* The daemon's life cycle, as readiness answers report it. */
typedef enum { SERVE_STARTING = 0, SERVE_READY, SERVE_DRAINING } serve_state;

enum { ROUTE_GET = 1u << 0, ROUTE_POST = 1u << 1 };

enum {
    ROUTE_OPEN = 1u << 0,   /* answered without an API key (health) */
    ROUTE_BODY = 1u << 1,   /* reads a body and runs on a compute worker */
    ROUTE_V2 = 1u << 2,     /* errors in Open Inference Protocol style */
    ROUTE_BINARY = 1u << 3, /* also accepts application/octet-stream (v2 binary tensors) */
    ROUTE_ADMIN = 1u << 4,  /* also served on the admin port (health, metrics) */
    ROUTE_STREAM = 1u << 5  /* a JSON body parsed as it arrives (route_call.json), not held */
};

/* What a handler gets: the request and the server facts a route answers with. Every pointer
 * is borrowed for the duration of the call. */
typedef struct {
    const api_env *env;
    serve_state state; /* when the call began */
    metrics *metrics;  /* for /metrics, with the gauges read_gauges reads */
    void (*read_gauges)(void *gauges_ctx, metrics_gauges *out); /* at scrape time */
    void *gauges_ctx;
    const char *name; /* the "{}" segment, or NULL */
    size_t name_len;
    const char *body; /* ROUTE_BODY: the complete body (NUL-terminated after len bytes) */
    size_t len;
    const char *header_len;      /* Inference-Header-Content-Length, or NULL */
    const char *if_none_match;   /* routes without a body: If-None-Match, or NULL */
    const char *accept_encoding; /* routes without a body: Accept-Encoding, or NULL */
    struct json_stream *json;    /* ROUTE_STREAM: the body, fed whole, not yet finished */
} route_call;

/* Fills reply (zeroed by the caller) and returns its code. */
typedef api_code (*route_fn)(const route_call *call, api_reply *reply);

typedef struct {
    unsigned methods;
    const char *pattern;
    unsigned flags;
    route_fn fn;
    /* The pattern's shape, fixed at compile time so that matching scans nothing: the bytes
     * before its "{}" (all of them without one), the bytes after it, and whether it has one. */
    unsigned char prefix_len, suffix_len, hole;
} route;

typedef enum { ROUTE_FOUND = 0, ROUTE_BAD_METHOD, ROUTE_NOT_FOUND } route_status;

typedef struct {
    const route *route; /* ROUTE_FOUND: the row */
    const char *name;   /* points into the path passed to routes_match */
    size_t name_len;
    unsigned allowed; /* methods the path accepts (ROUTE_FOUND, ROUTE_BAD_METHOD) */
} route_match;

/* Maps an HTTP method to ROUTE_GET (GET, HEAD) or ROUTE_POST; anything else gives 0. */
unsigned routes_method(const char *method);

/* Finds the row for path and method (0 for a method no route takes). m->name borrows from
 * path. */
route_status routes_match(const char *path, unsigned method, route_match *m);

/* The Allow header value for a method mask (static string; OPTIONS always included). */
const char *routes_allow(unsigned methods);

/* Whether errors for this path use the v2 style (paths under /v2). */
int routes_path_is_v2(const char *path);

#endif
