/* api_helpers: calling the /v1 handlers from tests and reading their replies with cJSON. */
#ifndef LOSSD_TESTS_API_HELPERS_H
#define LOSSD_TESTS_API_HELPERS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "api.h"

/* A handler's reply, parsed. Free with api_call_free. */
typedef struct {
    api_reply reply;
    cJSON *json; /* parsed body, NULL if the body is not JSON */
} api_call;

/* POST /v1/loss/{name}, /v1/evaluate, /v1/batch with a NUL-terminated body. */
api_call post_loss(const char *name, const char *body);
api_call post_evaluate(const char *body);
api_call post_batch(const char *body);
void api_call_free(api_call *c);

/* The error code / field of a v1 error body ({"error": {...}}), or "" when absent. */
const char *error_code(const cJSON *body);
const char *error_field(const cJSON *body);

/* The number at key of obj (asserts that it is a number). */
double num_at(const cJSON *obj, const char *key);

#endif
