/* api: lossd's wire view. Decodes request bodies (JSON for /v1 and /v2, the binary tensor
 * extension for /v2), runs the loss through core, and encodes replies and errors. Knows no
 * sockets: the server hands it a complete body and sends back the reply it builds. */
#ifndef LOSSD_API_H
#define LOSSD_API_H

#include <stddef.h>

#include "api_error.h"

struct pool;

typedef enum { API_STYLE_V1 = 0, API_STYLE_V2 } api_style;

/* A reply ready to send. The body is owned by the reply (free with api_reply_release). */
typedef struct {
    int status;
    const char *content_type;       /* static string */
    char *body;                     /* owned, len bytes, not NUL-terminated necessarily */
    size_t len;
    size_t inference_header_len;    /* v2 binary reply: the JSON header's length, else 0 */
    int binary;                     /* nonzero when inference_header_len applies */
    const char *allow;              /* 405: the Allow header value (static), else NULL */
    int retry_after;                /* 503: seconds for Retry-After, else 0 */
    api_code code;                  /* API_OK, or the error sent */
    const char *loss;               /* canonical loss name served (static), or NULL */
    size_t elements;                /* tensor elements computed */
    /* The handler stopped before computing anything because the request costs more than
     * api_env.defer_work: the reply is empty; call the handler again where heavy work may
     * run (with defer_work 0). */
    int deferred;
} api_reply;

/* What a handler needs from the daemon. */
typedef struct {
    struct pool *workers; /* for splitting large computations; NULL: the calling thread */
    size_t max_elements;  /* cap on elements per request (0: core's own limit) */
    /* Cost caps per request, /v1/evaluate and /v1/batch entries summed (core's loss_cost):
     * over either, 413 too_much_work before anything is allocated. 0: no cap. */
    size_t max_work;   /* work units */
    size_t max_output; /* elements of values and gradients returned */
    size_t defer_work; /* nonzero: a request needing more work is deferred (api_reply) */
    /* Polled by core between chunks; nonzero stops the computation with 503 timeout. NULL:
     * never. cancel_arg is borrowed for the call. */
    int (*cancelled)(void *cancel_arg);
    void *cancel_arg;
} api_env;

void api_reply_release(api_reply *reply);

/* Fills reply with an error in the given style ({"error": {...}} for v1, {"error": "..."}
 * plus "code" for v2). field may be NULL. Returns code. */
api_code api_error_reply(api_reply *reply, api_style style, api_code code, const char *field,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* /v1. name/name_len is the loss name from the path (unvalidated). */
api_code api_v1_loss(const api_env *env, const char *name, size_t name_len, const char *body,
                     size_t len, api_reply *reply);
api_code api_v1_evaluate(const api_env *env, const char *body, size_t len, api_reply *reply);
api_code api_v1_batch(const api_env *env, const char *body, size_t len, api_reply *reply);
api_code api_v1_catalogue(api_reply *reply);
api_code api_v1_catalogue_entry(const char *name, size_t name_len, api_reply *reply);

/* /v2 (Open Inference Protocol). header_len: the Inference-Header-Content-Length value
 * (NULL when absent); the body then holds that many bytes of JSON and the binary tail. */
api_code api_v2_server_metadata(api_reply *reply);
api_code api_v2_model_metadata(const char *name, size_t name_len, api_reply *reply);
api_code api_v2_model_ready(const char *name, size_t name_len, api_reply *reply);
api_code api_v2_infer(const api_env *env, const char *name, size_t name_len, const char *body,
                      size_t len, const char *header_len, api_reply *reply);

#endif
