/* assets: serves the embedded web files. Invariant: the embedded bytes are never written;
 * a reply gets its own copy (the gzip bytes, or the file inflated), so a reply body is always
 * owned and released the same way as every other. */
#include "assets.h"

#include <string.h>
#include <strings.h>
#define ZLIB_CONST /* next_in points at const bytes */
#include <zlib.h>

#include "assets_data.h"
#include "mem.h"

/* Every asset reply: revalidate each time (the ETag makes that a 304), never sniff types. */
static const char CACHE_CONTROL[] = "no-cache";

static const assets_file *find(const char *name, size_t len)
{
    for (size_t i = 0; i < assets_count; i++)
        if (strlen(assets_files[i].name) == len && memcmp(assets_files[i].name, name, len) == 0)
            return &assets_files[i];
    return NULL;
}

/* Skips optional whitespace. */
static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Whether the parameters of a list element (p: just after its token) hold q=0 ("0",
 * "0.", "0.000"): the coding is then refused. */
static int q_is_zero(const char *p)
{
    const char *end = p + strcspn(p, ",");
    while ((p = memchr(p, ';', (size_t)(end - p))) != NULL) {
        p = skip_ows(p + 1);
        if ((p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
            continue;
        p += 2;
        if (*p++ != '0')
            return 0;
        if (*p == '.')
            p += 1 + strspn(p + 1, "0");
        p = skip_ows(p);
        return p == end || *p == ';';
    }
    return 0;
}

int assets_accepts_gzip(const char *accept_encoding)
{
    static const char *const names[] = {"gzip", "x-gzip", "*"};
    const char *p = accept_encoding;
    while (p && *p) {
        size_t n;
        p = skip_ows(p);
        n = strcspn(p, " \t;,");
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (n == strlen(names[i]) && strncasecmp(p, names[i], n) == 0 && !q_is_zero(p + n))
                return 1;
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    return 0;
}

int assets_etag_matches(const char *if_none_match, const char *etag)
{
    size_t len = strlen(etag);
    const char *p = if_none_match;
    while (p && *p) {
        size_t n;
        p = skip_ows(p);
        if (strncmp(p, "W/", 2) == 0) /* If-None-Match compares weakly */
            p += 2;
        n = strcspn(p, " \t,");
        if ((n == 1 && *p == '*') || (n == len && memcmp(p, etag, len) == 0))
            return 1;
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    return 0;
}

/* Inflates f into a new buffer of f->raw_len bytes; NULL on no memory (or a corrupt
 * stream, which the build cannot produce). Caller frees with mem_free. */
static char *inflate_file(const assets_file *f)
{
    z_stream zs = {.next_in = f->gz, .avail_in = (uInt)f->gz_len};
    char *out = mem_alloc(f->raw_len > 0 ? f->raw_len : 1);
    int rc;
    if (out == NULL || inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) /* 16: gzip wrapper */
        goto fail;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)f->raw_len;
    rc = inflate(&zs, Z_FINISH);
    inflateEnd(&zs);
    if (rc == Z_STREAM_END && zs.total_out == f->raw_len)
        return out;
fail:
    mem_free(out);
    return NULL;
}

static void add_header(api_reply *reply, const char *name, const char *value)
{
    for (size_t i = 0; i < 2 * API_REPLY_HEADERS; i += 2)
        if (reply->headers[i] == NULL) {
            reply->headers[i] = name;
            reply->headers[i + 1] = value;
            return;
        }
}

/* The 200 body: the gzip bytes as they are, or inflated. */
static api_code fill_body(const assets_file *f, int gz, api_reply *reply)
{
    if (gz) {
        reply->body = mem_alloc(f->gz_len);
        if (reply->body)
            memcpy(reply->body, f->gz, f->gz_len);
    } else {
        reply->body = inflate_file(f);
    }
    if (reply->body == NULL)
        return api_error_reply(reply, API_STYLE_V1, API_ERR_NOMEM, NULL, "out of memory");
    reply->len = gz ? f->gz_len : f->raw_len;
    reply->content_type = f->content_type;
    reply->status = 200;
    return API_OK;
}

api_code assets_reply(const char *name, size_t len, const assets_request *req, api_reply *reply)
{
    const assets_file *f = find(name, len);
    int gz;
    const char *etag;
    if (f == NULL)
        return api_error_reply(reply, API_STYLE_V1, API_ERR_NOT_FOUND, NULL, "no asset %.*s",
                               (int)(len > 100 ? 100 : len), name);
    gz = assets_accepts_gzip(req->accept_encoding);
    etag = gz ? f->etag_gz : f->etag;
    if (assets_etag_matches(req->if_none_match, etag)) {
        reply->status = 304;
    } else if (fill_body(f, gz, reply) != API_OK) {
        return reply->code;
    }
    reply->code = API_OK;
    add_header(reply, "ETag", etag);
    add_header(reply, "Cache-Control", CACHE_CONTROL);
    add_header(reply, "Vary", "Accept-Encoding");
    add_header(reply, "X-Content-Type-Options", "nosniff");
    if (gz && reply->status == 200)
        add_header(reply, "Content-Encoding", "gzip");
    return API_OK;
}

size_t assets_count_files(void)
{
    return assets_count;
}

size_t assets_embedded_bytes(void)
{
    size_t total = 0;
    for (size_t i = 0; i < assets_count; i++)
        total += assets_files[i].gz_len;
    return total;
}
