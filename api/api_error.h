/* api_error: the one table of every error lossd sends. Each row: enum name, HTTP status,
 * wire code. The enum, the status map and the code strings are all generated from it. */
#ifndef LOSSD_API_ERROR_H
#define LOSSD_API_ERROR_H

#define API_ERRORS(X)                                                \
    X(API_OK, 200, "ok")                                             \
    X(API_ERR_INVALID_JSON, 400, "invalid_json")                     \
    X(API_ERR_INVALID_TYPE, 400, "invalid_type")                     \
    X(API_ERR_RAGGED_ARRAY, 400, "ragged_array")                     \
    X(API_ERR_SHAPE_MISMATCH, 400, "shape_mismatch")                 \
    X(API_ERR_OUT_OF_DOMAIN, 400, "out_of_domain")                   \
    X(API_ERR_NON_FINITE, 400, "non_finite")                         \
    X(API_ERR_UNKNOWN_FIELD, 400, "unknown_field")                   \
    X(API_ERR_INVALID_PARAMETER, 400, "invalid_parameter")           \
    X(API_ERR_MISSING_FIELD, 400, "missing_field")                   \
    X(API_ERR_INVALID_BINARY, 400, "invalid_binary")                 \
    X(API_ERR_BAD_REQUEST, 400, "bad_request")                       \
    X(API_ERR_UNAUTHORIZED, 401, "unauthorized")                     \
    X(API_ERR_NOT_FOUND, 404, "not_found")                           \
    X(API_ERR_UNKNOWN_LOSS, 404, "unknown_loss")                     \
    X(API_ERR_METHOD_NOT_ALLOWED, 405, "method_not_allowed")         \
    X(API_ERR_LENGTH_REQUIRED, 411, "length_required")               \
    X(API_ERR_PAYLOAD_TOO_LARGE, 413, "payload_too_large")           \
    X(API_ERR_TOO_MUCH_WORK, 413, "too_much_work")                   \
    X(API_ERR_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type") \
    X(API_ERR_URI_TOO_LONG, 414, "uri_too_long")                     \
    X(API_ERR_HEADERS_TOO_LARGE, 431, "headers_too_large")           \
    X(API_ERR_OVERLOADED, 503, "overloaded")                         \
    X(API_ERR_DRAINING, 503, "draining")                             \
    X(API_ERR_TIMEOUT, 503, "timeout")                               \
    X(API_ERR_NOMEM, 503, "out_of_memory")                           \
    X(API_ERR_HTTP_VERSION, 505, "http_version_not_supported")       \
    X(API_ERR_INTERNAL, 500, "internal")

typedef enum {
#define API_ENUM(name, status, code) name,
    API_ERRORS(API_ENUM)
#undef API_ENUM
        API_CODE_COUNT
} api_code;

/* HTTP status and wire code of an api_code. */
int api_code_status(api_code code);
const char *api_code_name(api_code code);

#endif
