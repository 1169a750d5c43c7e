/* assets: the web files built into lossd (the page at /, /docs, the OpenAPI spec). Each is
 * embedded gzip-compressed and sent as it is to clients that accept gzip, inflated for the
 * others; ETag/If-None-Match turn a repeat visit into a 304. */
#ifndef LOSSD_SERVER_ASSETS_H
#define LOSSD_SERVER_ASSETS_H

#include <stddef.h>

#include "api.h"

/* What a request for an asset brings: the headers that choose the reply (NULL if absent). */
typedef struct {
    const char *if_none_match;
    const char *accept_encoding;
} assets_request;

/* Fills reply (zeroed by the caller) with the asset named name/len: 200 with a body that the
 * reply owns (release with api_reply_release), 304 without a body when If-None-Match names
 * its ETag, or a v1 404 not_found error if no asset has that name. Returns the reply's code. */
api_code assets_reply(const char *name, size_t len, const assets_request *req, api_reply *reply);

/* Whether an Accept-Encoding value accepts gzip (a "gzip", "x-gzip" or "*" element whose q
 * is not 0). NULL (no header) is identity only, so that plain curl gets plain text. */
int assets_accepts_gzip(const char *accept_encoding);

/* Whether an If-None-Match value matches etag ("*", or etag in its list, W/ ignored). */
int assets_etag_matches(const char *if_none_match, const char *etag);

/* The number of embedded files and the bytes they take in the binary (compressed). */
size_t assets_count_files(void);
size_t assets_embedded_bytes(void);

#endif
