/* admit: one request's memory from its headers to its last byte out. Before the body is
 * read it reserves the request's worst case in the budget (or refuses it: 503 now, 413
 * never); while the body arrives it feeds a streamed /v1 body to the JSON parser and grows
 * the reservation for chunked bodies and for documents heavier than their worst case; the
 * api layer resizes it to the decoded request's exact need (admit_reserve); admit_end gives
 * it back once the response is sent. */
#ifndef LOSSD_SERVER_ADMIT_H
#define LOSSD_SERVER_ADMIT_H

#include <stddef.h>

#include "api.h"
#include "budget.h"
#include "json_doc.h"

typedef struct {
    budget *b;
    size_t held;       /* bytes reserved in b */
    budget_body kind;  /* how the body is held */
    int chunked;       /* no Content-Length: reserved as bytes arrive */
    json_stream *json; /* a streamed /v1 body being parsed, else NULL (owned) */
    size_t received;
    api_code refused;  /* API_OK, or why the rest of the body is dropped */
    char message[192]; /* the refusal, for the reply */
} admit;

/* Reserves the worst case for a body of `length` bytes (chunked: none known yet), of which
 * json_len bytes are JSON (a buffered body), and starts the JSON parser of a streamed body
 * (its memory capped by json_request_cap: 4 bytes a body byte plus 16 MiB; max_body bounds a
 * chunked one). Returns API_OK, or API_ERR_OVERLOADED / API_ERR_PAYLOAD_TOO_LARGE /
 * API_ERR_NOMEM with a->message set: answer before reading the body. Call admit_end in
 * every case. */
api_code admit_begin(admit *a, budget *b, budget_body kind, int chunked, size_t length,
                     size_t json_len, size_t max_body);

/* Takes one chunk of the body: parses it (streamed JSON) and grows the reservation as
 * needed. Returns API_OK, or the refusal (sticky: later chunks are only counted, the stream
 * is freed at once, and a->message says why). */
api_code admit_chunk(admit *a, const char *data, size_t n);

/* api_env.reserve for this request (ctx: the admit): sets the reservation to bytes plus
 * what the daemon itself holds for the request. 0 when granted. */
int admit_reserve(void *ctx, size_t bytes);

/* Frees the parser and gives the reservation back. Accepts a zeroed admit. */
void admit_end(admit *a);

#endif
