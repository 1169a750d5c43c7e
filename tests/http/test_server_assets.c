/* assets: the embedded web files come back byte for byte as their sources (inflated, or as
 * gzip), ETag/If-None-Match and Accept-Encoding are read as HTTP says, and the embedded
 * total stays small. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "assets.h"

/* Where each embedded file comes from (the build's list is server/web/web.cmake). */
static const struct {
    const char *name, *path;
} sources[] = {
    {"index.html", LOSSD_SOURCE_DIR "/server/web/index.html"},
    {"app.css", LOSSD_SOURCE_DIR "/server/web/app.css"},
    {"app.js", LOSSD_SOURCE_DIR "/server/web/app.js"},
    {"plot.js", LOSSD_SOURCE_DIR "/server/web/plot.js"},
    {"losses.js", LOSSD_SOURCE_DIR "/server/web/losses.js"},
    {"docs.html", LOSSD_SOURCE_DIR "/server/web/docs.html"},
    {"docs.js", LOSSD_SOURCE_DIR "/server/web/docs.js"},
    {"swagger-ui-bundle.js", LOSSD_SOURCE_DIR "/server/web/vendor/swagger-ui-bundle.js"},
    {"swagger-ui.css", LOSSD_SOURCE_DIR "/server/web/vendor/swagger-ui.css"},
    {"swagger-ui-LICENSE.txt", LOSSD_SOURCE_DIR "/server/web/vendor/LICENSE"},
    {"openapi.yaml", LOSSD_SOURCE_DIR "/api/openapi.yaml"},
    {"openapi.json", LOSSD_BINARY_DIR "/web/openapi.json"},
};
#define N_SOURCES (sizeof sources / sizeof sources[0])

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s exists", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(*len + 1);
    cr_assert_eq(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

static const char *header_of(const api_reply *r, const char *name)
{
    for (size_t i = 0; i < 2 * API_REPLY_HEADERS && r->headers[i]; i += 2)
        if (strcmp(r->headers[i], name) == 0)
            return r->headers[i + 1];
    return NULL;
}

static api_reply fetch(const char *name, const char *inm, const char *ae)
{
    api_reply r = {.status = 0};
    assets_request req = {.if_none_match = inm, .accept_encoding = ae};
    assets_reply(name, strlen(name), &req, &r);
    return r;
}

Test(assets, every_file_should_be_embedded_byte_for_byte)
{
    cr_assert_eq(assets_count_files(), N_SOURCES, "the test lists every embedded file");
    for (size_t i = 0; i < N_SOURCES; i++) {
        size_t len;
        char *want = read_file(sources[i].path, &len);
        api_reply r = fetch(sources[i].name, NULL, NULL);
        cr_assert_eq(r.status, 200, "%s", sources[i].name);
        cr_assert_eq(r.len, len, "%s: %zu bytes, source has %zu", sources[i].name, r.len, len);
        cr_assert(memcmp(r.body, want, len) == 0, "%s differs from its source", sources[i].name);
        cr_assert_null(header_of(&r, "Content-Encoding"));
        api_reply_release(&r);
        free(want);
    }
}

Test(assets, gzip_reply_should_inflate_to_the_source)
{
    size_t len;
    char *want = read_file(LOSSD_SOURCE_DIR "/server/web/app.js", &len);
    api_reply r = fetch("app.js", NULL, "gzip, deflate, br");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(header_of(&r, "Content-Encoding"), "gzip");
    cr_assert_str_eq(r.content_type, "text/javascript; charset=utf-8");
    char *out = malloc(len + 1);
    uLongf out_len = (uLongf)len + 1;
    z_stream zs = {.next_in = (Bytef *)r.body,
                   .avail_in = (uInt)r.len,
                   .next_out = (Bytef *)out,
                   .avail_out = (uInt)out_len};
    cr_assert_eq(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
    cr_assert_eq(inflate(&zs, Z_FINISH), Z_STREAM_END);
    inflateEnd(&zs);
    cr_assert_eq(zs.total_out, len);
    cr_assert(memcmp(out, want, len) == 0);
    free(out);
    free(want);
    api_reply_release(&r);
}

Test(assets, current_etag_should_give_304_without_body)
{
    api_reply first = fetch("index.html", NULL, NULL);
    const char *etag = header_of(&first, "ETag");
    cr_assert_not_null(etag);
    cr_assert_eq(etag[0], '"', "a strong, quoted ETag");
    api_reply again = fetch("index.html", etag, NULL);
    cr_assert_eq(again.status, 304);
    cr_assert_eq(again.len, 0);
    cr_assert_null(again.body);
    cr_assert_str_eq(header_of(&again, "ETag"), etag);
    api_reply gz = fetch("index.html", etag, "gzip");
    cr_assert_eq(gz.status, 200, "the gzip form has its own ETag");
    cr_assert_str_neq(header_of(&gz, "ETag"), etag);
    api_reply_release(&first);
    api_reply_release(&again);
    api_reply_release(&gz);
}

Test(assets, unknown_name_should_be_404_not_found)
{
    api_reply r = fetch("app.js.map", NULL, NULL);
    cr_assert_eq(r.status, 404);
    cr_assert_eq(r.code, API_ERR_NOT_FOUND);
    cr_assert(strstr(r.body, "\"not_found\"") != NULL);
    api_reply_release(&r);
}

Test(assets, accept_encoding_should_follow_q_values)
{
    cr_assert(assets_accepts_gzip("gzip"));
    cr_assert(assets_accepts_gzip("deflate, gzip;q=0.5, br"));
    cr_assert(assets_accepts_gzip("GZIP"));
    cr_assert(assets_accepts_gzip("x-gzip"));
    cr_assert(assets_accepts_gzip("*"));
    cr_assert(assets_accepts_gzip("gzip ; q=1"));
    cr_assert_not(assets_accepts_gzip(NULL), "no header: plain text for curl");
    cr_assert_not(assets_accepts_gzip(""));
    cr_assert_not(assets_accepts_gzip("identity"));
    cr_assert_not(assets_accepts_gzip("deflate, br"));
    cr_assert_not(assets_accepts_gzip("gzip;q=0"));
    cr_assert_not(assets_accepts_gzip("gzip;q=0.000, deflate"));
    cr_assert_not(assets_accepts_gzip("*;q=0"));
    cr_assert_not(assets_accepts_gzip("gzipped"));
}

Test(assets, if_none_match_should_compare_weakly_and_take_lists)
{
    cr_assert(assets_etag_matches("\"abc\"", "\"abc\""));
    cr_assert(assets_etag_matches("W/\"abc\"", "\"abc\""));
    cr_assert(assets_etag_matches("\"x\", \"abc\"", "\"abc\""));
    cr_assert(assets_etag_matches("*", "\"abc\""));
    cr_assert_not(assets_etag_matches(NULL, "\"abc\""));
    cr_assert_not(assets_etag_matches("\"abcd\"", "\"abc\""));
    cr_assert_not(assets_etag_matches("\"ab\"", "\"abc\""));
    cr_assert_not(assets_etag_matches("abc", "\"abc\""));
}

Test(assets, embedded_total_should_stay_small)
{
    size_t bytes = assets_embedded_bytes();
    cr_log_info("embedded web assets: %zu files, %zu bytes", assets_count_files(), bytes);
    cr_assert_lt(bytes, (size_t)768 * 1024, "embedded assets take %zu bytes", bytes);
}
