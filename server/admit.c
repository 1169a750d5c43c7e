/* admit: reservations around one request's body. Invariant: while a streamed document is
 * being built, a->held covers json_stream_memory plus BUDGET_REQUEST_BASE (checked after
 * every chunk, so the overshoot is at most one chunk's worth); a refusal frees the document
 * at once. */
#include "admit.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Records why the request is refused; returns the code. */
static api_code refuse(admit *a, budget_status st, size_t want)
{
    a->refused = st == BUDGET_NEVER ? API_ERR_PAYLOAD_TOO_LARGE : API_ERR_OVERLOADED;
    if (st == BUDGET_NEVER)
        snprintf(a->message, sizeof a->message,
                 "the request needs up to %zu bytes of memory; this server's budget allows %zu "
                 "(--max-memory)",
                 want, budget_ceiling(a->b, want));
    else
        snprintf(a->message, sizeof a->message,
                 "the server's memory budget has no room for this request now; retry later");
    json_stream_free(a->json);
    a->json = NULL;
    return a->refused;
}

static api_code reserve(admit *a, size_t want)
{
    budget_status st = budget_resize(a->b, &a->held, want);
    return st == BUDGET_OK ? API_OK : refuse(a, st, want);
}

api_code admit_begin(admit *a, budget *b, budget_body kind, int chunked, size_t length,
                     size_t json_len, size_t max_body)
{
    memset(a, 0, sizeof *a);
    a->b = b;
    a->kind = kind;
    a->chunked = chunked;
    size_t want = budget_request_bytes(kind, chunked ? 0 : length, json_len);
    if (reserve(a, want) != API_OK)
        return a->refused;
    if (kind != BUDGET_BODY_STREAMED_JSON)
        return API_OK;
    json_limits lim = {.max_nodes = 0, .max_memory = json_request_cap(chunked ? max_body : length)};
    a->json = json_stream_new(&lim);
    if (a->json == NULL) {
        a->refused = API_ERR_NOMEM;
        snprintf(a->message, sizeof a->message, "out of memory");
    }
    return a->refused;
}

/* What the request must have reserved now that `received` bytes arrived. */
static size_t need_now(const admit *a)
{
    size_t want = a->held;
    if (a->chunked) /* the worst case of what arrived so far */
        want = budget_request_bytes(a->kind, a->received, a->received);
    if (a->json != NULL) {
        size_t doc = add_sat(json_stream_memory(a->json), BUDGET_REQUEST_BASE);
        want = doc > want ? doc : want;
    }
    return want > a->held ? want : a->held;
}

api_code admit_chunk(admit *a, const char *data, size_t n)
{
    a->received = add_sat(a->received, n);
    if (a->refused != API_OK)
        return a->refused;
    if (a->json != NULL)
        (void)json_stream_feed(a->json, data, n); /* a syntax error is answered at the end */
    size_t want = need_now(a);
    return want > a->held ? reserve(a, want) : API_OK;
}

int admit_reserve(void *ctx, size_t bytes)
{
    admit *a = ctx;
    size_t want = add_sat(bytes, BUDGET_REQUEST_BASE);
    budget_status st = budget_resize(a->b, &a->held, want);
    return st == BUDGET_OK      ? API_RESERVE_OK
           : st == BUDGET_NEVER ? API_RESERVE_NEVER
                                : API_RESERVE_BUSY;
}

void admit_end(admit *a)
{
    json_stream_free(a->json);
    a->json = NULL;
    if (a->b != NULL)
        budget_release(a->b, &a->held);
}
