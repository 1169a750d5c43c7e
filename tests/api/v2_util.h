/* v2_util: test helpers for /v2: run a request through api_v2_infer, read the reply's JSON
 * header (cJSON, test side only) and its binary outputs. */
#ifndef LOSSD_TEST_V2_UTIL_H
#define LOSSD_TEST_V2_UTIL_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "api.h"

/* A request body under construction: JSON header followed by binary bytes. */
typedef struct {
    char *data;
    size_t len, cap;
    size_t header_len; /* length of the JSON header (set by v2_body_json) */
} v2_body;

void v2_body_json(v2_body *b, const char *json);
void v2_body_bytes(v2_body *b, const void *bytes, size_t n);
void v2_body_free(v2_body *b);

/* POST /v2/models/{model}/infer with the body; header is the Inference-Header-Content-Length
 * value (NULL: none). The reply must be released by the caller. */
api_code v2_infer(const char *model, const void *body, size_t len, const char *header,
                  api_reply *reply);
/* As v2_infer, sending b with Inference-Header-Content-Length = b->header_len. */
api_code v2_infer_body(const char *model, const v2_body *b, api_reply *reply);

/* The reply's JSON (the header part for binary replies); asserts it parses. cJSON_Delete it. */
cJSON *v2_reply_json(const api_reply *reply);

/* For an error reply: asserts the OIP shape {"error": string, "code": string} and the status,
 * and returns whether the code is `code`. */
int v2_reply_is_error(const api_reply *reply, int status, const char *code);

/* Whether needle occurs in hay[0..n). */
int v2_contains(const char *hay, size_t n, const char *needle);

/* The output named `name` of a parsed reply, or NULL. */
const cJSON *v2_reply_output(const cJSON *reply_json, const char *name);

/* Reads output `name` as doubles into out (at most cap): from its JSON data, or from the
 * binary tail of reply (in output order). Returns the element count, or -1 if absent. */
long v2_output_values(const api_reply *reply, const cJSON *reply_json, const char *name,
                      double *out, size_t cap);

#endif
