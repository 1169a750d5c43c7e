/* api: lossd's wire view. Decodes request bodies (JSON for /v1 and /v2, the binary tensor
 * extension for /v2), runs the loss through core, and encodes replies and errors. Knows no
 * sockets: the server hands it a complete body and sends back the reply it builds. */
#ifndef LOSSD_API_H
#define LOSSD_API_H

#include <stddef.h>

#include "api_error.h"
#include "loss.h"

struct pool;
struct loss_desc;
typedef struct api_stream api_stream;

typedef enum { API_STYLE_V1 = 0, API_STYLE_V2 } api_style;

#define API_REPLY_HEADERS 6 /* room for extra headers in an api_reply */

/* One loss a request computed (or refused after naming it), for per-loss metrics: /v1/loss
 * and /v2 infer have one, /v1/evaluate and /v1/batch one per distinct (loss, status). */
typedef struct {
    const struct loss_desc *desc; /* a registry entry (static) */
    int status;                   /* 200, or the HTTP status of the item's error */
    size_t count;                 /* computations with this loss and status */
    size_t elements;              /* tensor elements they computed */
} api_computed;

/* A reply ready to send, owned by the reply (free with api_reply_release). The body is either
 * one buffer (body, len) or, when stream != NULL, produced by api_reply_read: large tensors
 * are then printed chunk by chunk as the socket takes them, never held as text. */
typedef struct {
    int status;
    const char *content_type;     /* static string */
    char *body;                   /* owned, len bytes, not NUL-terminated necessarily */
    size_t len;                   /* body bytes; with a stream, the bytes produced so far */
    api_stream *stream;           /* owned, or NULL */
    size_t inference_header_len;  /* v2 binary reply: the JSON header's length, else 0 */
    int binary;                   /* nonzero when inference_header_len applies */
    const char *allow;            /* 405: the Allow header value (static), else NULL */
    int retry_after;              /* 503: seconds for Retry-After, else 0 */
    api_code code;                /* API_OK, or the error sent */
    const struct loss_desc *desc; /* the loss served (static registry entry), or NULL */
    api_computed *computed;       /* owned, n_computed entries (may be NULL) */
    size_t n_computed;
    size_t elements; /* tensor elements computed */
    /* More headers as (name, value) pairs of static strings; a NULL name ends them. */
    const char *headers[2 * API_REPLY_HEADERS];
    /* The handler stopped before computing anything because the request costs more than
     * api_env.defer_work: the reply is empty; call the handler again where heavy work may
     * run (with defer_work 0). */
    int deferred;
} api_reply;

/* Called by a handler once a request is decoded and before anything is computed: `bytes` is
 * the most memory the request will hold from then on (decoded tensors, results, conversions,
 * kept text), from the decoded shapes. Returns API_RESERVE_OK to go on, API_RESERVE_BUSY to
 * refuse the request with 503 overloaded (the daemon's memory budget has no room now), or
 * API_RESERVE_NEVER for 413 (more than the budget could ever give). Called again with a new
 * figure for each /v1/evaluate or /v1/batch entry; ctx is api_env.budget_ctx. */
enum { API_RESERVE_OK = 0, API_RESERVE_BUSY, API_RESERVE_NEVER };
typedef int (*api_reserve_fn)(void *ctx, size_t bytes);

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
    int stream;             /* 1: large replies may be streamed (api_reply.stream) */
    api_reserve_fn reserve; /* NULL: no memory budget */
    void *budget_ctx;
} api_env;

void api_reply_release(api_reply *reply);

/* Adds one computation of desc with the given status and elements to reply->computed (a
 * failed allocation only loses the count). */
void api_reply_count(api_reply *reply, const struct loss_desc *desc, int status, size_t elements);

/* A byte range of a reply body that is already in memory. */
typedef struct {
    const void *ptr;
    size_t len;
} api_piece;

/* When a streamed body exists wholly in memory (a /v2 binary reply: the JSON header, then
 * the result tensors' own bytes), fills out[0..n) with its pieces in order and returns n
 * (<= max); returns 0 when it must be printed (use api_reply_read). The pieces are borrowed
 * from the reply until api_reply_release. */
size_t api_reply_pieces(const api_reply *reply, api_piece *out, size_t max);

/* Writes the next bytes of a streamed body into buf (at most max, max >= 1) and returns
 * their count; 0 means the body is complete. Adds them to reply->len. */
size_t api_reply_read(api_reply *reply, char *buf, size_t max);

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

/* The same three for a body parsed while it arrived: `body` was created with
 * json_stream_new and fed every byte; the handler finishes it (the caller still frees it). */
struct json_stream;
api_code api_v1_loss_stream(const api_env *env, const char *name, size_t name_len,
                            struct json_stream *body, api_reply *reply);
api_code api_v1_evaluate_stream(const api_env *env, struct json_stream *body, api_reply *reply);
api_code api_v1_batch_stream(const api_env *env, struct json_stream *body, api_reply *reply);
api_code api_v1_catalogue_entry(const char *name, size_t name_len, api_reply *reply);

/* /v2 (Open Inference Protocol). header_len: the Inference-Header-Content-Length value
 * (NULL when absent); the body then holds that many bytes of JSON and the binary tail. */
api_code api_v2_server_metadata(api_reply *reply);
api_code api_v2_model_metadata(const char *name, size_t name_len, api_reply *reply);
api_code api_v2_model_ready(const char *name, size_t name_len, api_reply *reply);
api_code api_v2_infer(const api_env *env, const char *name, size_t name_len, const char *body,
                      size_t len, const char *header_len, api_reply *reply);

/* ---- local computation (the scoring CLI, no request body) ---- */

/* A tensor for input `name` of a loss, decoded by the caller (e.g. from a file). Borrowed. */
typedef struct {
    const char *name;
    tensor tensor;
} api_input;

/* Computes loss `name` (any spelling /v1 accepts) over `inputs`, with `options` (options_len
 * bytes) holding the rest of a /v1/loss request body as a JSON object: reduction, gradient,
 * dtype, empty_mean and the loss's parameters ("{}" for none). On success the reply's body
 * is byte for byte what POST /v1/loss/{name} sends for the same tensors, except that the
 * "gradient" member is left out unless print_gradient; *result then owns the computed
 * tensors (gradients included when requested), freed with loss_result_release. On error the
 * reply is the /v1 error the API would send and *result holds nothing. Free the reply with
 * api_reply_release either way. */
api_code api_v1_loss_local(const api_env *env, const char *name, size_t name_len,
                           const api_input *inputs, size_t n_inputs, const char *options,
                           size_t options_len, int print_gradient, api_reply *reply,
                           loss_result *result);

#endif
