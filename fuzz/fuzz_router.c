/* libFuzzer target: the router and the request-line helpers the daemon runs on untrusted
 * input before any body is read (route matching, Allow, media types, Content-Length,
 * request ids, key comparison, Accept-Encoding and If-None-Match), plus the GET handlers
 * that take the path's name (loss entries, models, embedded assets).
 * Input: byte 0 picks the method; the rest is split at '\n' into path, Content-Type,
 * X-Request-Id and Content-Length. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "assets.h"
#include "request.h"
#include "routes.h"

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", ""};

/* Next '\n'-separated field of [*at, end) as a NUL-terminated copy (freed by the caller). */
static char *field(const uint8_t **at, const uint8_t *end)
{
    const uint8_t *nl = memchr(*at, '\n', (size_t)(end - *at));
    size_t n = (size_t)((nl ? nl : end) - *at);
    char *s = malloc(n + 1);
    memcpy(s, *at, n);
    s[n] = '\0';
    *at = nl ? nl + 1 : end;
    return s;
}

static void handlers_for(const route_match *m, const assets_request *req)
{
    api_reply reply;
    if (m->name == NULL)
        return;
    memset(&reply, 0, sizeof reply);
    assets_reply(m->name, m->name_len, req, &reply);
    api_reply_release(&reply);
    memset(&reply, 0, sizeof reply);
    api_v1_catalogue_entry(m->name, m->name_len, &reply);
    api_reply_release(&reply);
    memset(&reply, 0, sizeof reply);
    api_v2_model_metadata(m->name, m->name_len, &reply);
    api_reply_release(&reply);
    memset(&reply, 0, sizeof reply);
    api_v2_model_ready(m->name, m->name_len, &reply);
    api_reply_release(&reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *method = methods[data[0] % (sizeof methods / sizeof methods[0])];
    const uint8_t *at = data + 1, *end = data + size;
    char *path = field(&at, end), *ctype = field(&at, end), *rid = field(&at, end);
    char *clen = field(&at, end);
    char id[REQUEST_ID_MAX + 1];
    size_t length;
    route_match m;

    /* The Content-Type and X-Request-Id fields double as Accept-Encoding and If-None-Match. */
    assets_request req = {.if_none_match = rid, .accept_encoding = ctype};
    if (routes_match(path, routes_method(method), &m) == ROUTE_FOUND)
        handlers_for(&m, &req);
    (void)routes_allow(m.allowed);
    (void)routes_path_is_v2(path);
    (void)request_media_type_ok(ctype, data[0] & 1);
    (void)request_id_sanitise(rid, id);
    (void)assets_accepts_gzip(ctype);
    (void)assets_etag_matches(rid, clen);
    (void)request_parse_length(clen, &length);
    (void)request_key_equal(rid, strlen(rid), ctype, strlen(ctype));
    free(path);
    free(ctype);
    free(rid);
    free(clen);
    return 0;
}
