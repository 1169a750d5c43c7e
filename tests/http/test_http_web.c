/* HTTP tests of the pages lossd serves for people: /, /docs, /assets/{file}, /openapi.yaml
 * and /openapi.json. Their caching (ETag, 304), compression, methods, and how they sit with
 * --api-key (open, while the API they call is not) and CORS. */
#include <cjson/cJSON.h>

#include "http_fixture.h"

TestSuite(http_web, .fini = srv_teardown);

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s exists", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(*len + 1);
    cr_assert_eq(fread(buf, 1, *len, f), *len);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

Test(http_web, get_root_yields_the_page_with_etag_and_no_cache)
{
    srv_start(NULL);
    http_response r = get("/");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Content-Type"), "text/html; charset=utf-8");
    cr_assert_str_eq(hdr(&r, "Cache-Control"), "no-cache");
    cr_assert_str_eq(hdr(&r, "Vary"), "Accept-Encoding");
    cr_assert(hdr(&r, "ETag")[0] == '"');
    cr_assert(strstr(r.body, "<script src=\"assets/app.js\"") != NULL, "%.200s", r.body);
    cr_assert(!has_hdr(&r, "Content-Encoding"), "no Accept-Encoding: not compressed");
    cr_log_info("page /: %zu bytes", r.body_len);
    http_response_free(&r);
    srv_stop();
}

Test(http_web, current_etag_yields_304_and_a_stale_one_200)
{
    srv_start(NULL);
    http_response first = get("/"), again, stale;
    char etag[128], headers[192];
    snprintf(etag, sizeof etag, "%s", hdr(&first, "ETag"));
    snprintf(headers, sizeof headers, "If-None-Match: %s\r\n", etag);
    again = req("GET", "/", headers, NULL);
    cr_assert_eq(again.status, 304);
    cr_assert_eq(again.body_len, 0);
    cr_assert_str_eq(hdr(&again, "ETag"), etag);
    stale = req("GET", "/", "If-None-Match: \"0123456789abcdef0123\"\r\n", NULL);
    cr_assert_eq(stale.status, 200);
    cr_assert_eq(stale.body_len, first.body_len);
    http_response_free(&first);
    http_response_free(&again);
    http_response_free(&stale);
    srv_stop();
}

Test(http_web, accept_encoding_gzip_yields_the_gzip_stream)
{
    srv_start(NULL);
    http_response plain = get("/assets/swagger-ui-bundle.js");
    http_response gz =
        req("GET", "/assets/swagger-ui-bundle.js", "Accept-Encoding: gzip\r\n", NULL);
    cr_assert_eq(gz.status, 200);
    cr_assert_str_eq(hdr(&gz, "Content-Encoding"), "gzip");
    cr_assert_str_eq(hdr(&gz, "Content-Type"), "text/javascript; charset=utf-8");
    cr_assert(gz.body_len > 2 && (unsigned char)gz.body[0] == 0x1f &&
                  (unsigned char)gz.body[1] == 0x8b,
              "a gzip stream");
    cr_assert_lt(gz.body_len, plain.body_len / 2);
    char etag[128];
    snprintf(etag, sizeof etag, "%s", hdr(&plain, "ETag")); /* hdr's buffer is reused */
    cr_assert_str_neq(hdr(&gz, "ETag"), etag, "each form has its own ETag");
    http_response_free(&plain);
    http_response_free(&gz);
    srv_stop();
}

Test(http_web, docs_is_swagger_ui_over_the_served_spec)
{
    srv_start(NULL);
    http_response docs = get("/docs"), init = get("/assets/docs.js"),
                  css = get("/assets/swagger-ui.css");
    cr_assert_eq(docs.status, 200);
    cr_assert(strstr(docs.body, "assets/swagger-ui-bundle.js") != NULL);
    cr_assert_eq(init.status, 200);
    cr_assert(strstr(init.body, "url: \"openapi.yaml\"") != NULL, "%s", init.body);
    cr_assert_eq(css.status, 200);
    cr_assert_str_eq(hdr(&css, "Content-Type"), "text/css; charset=utf-8");
    http_response_free(&docs);
    http_response_free(&init);
    http_response_free(&css);
    srv_stop();
}

Test(http_web, openapi_yaml_is_the_source_spec)
{
    size_t len;
    char *spec = read_file(LOSSD_SOURCE_DIR "/api/openapi.yaml", &len);
    srv_start(NULL);
    http_response r = get("/openapi.yaml");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Content-Type"), "application/yaml; charset=utf-8");
    cr_assert_eq(r.body_len, len);
    cr_assert(memcmp(r.body, spec, len) == 0);
    http_response_free(&r);
    free(spec);
    srv_stop();
}

Test(http_web, openapi_json_is_the_spec_as_json)
{
    srv_start(NULL);
    http_response r = get("/openapi.json");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Content-Type"), "application/json");
    cJSON *doc = cJSON_ParseWithLength(r.body, r.body_len);
    cr_assert_not_null(doc, "valid JSON");
    cr_assert_str_eq(cJSON_GetObjectItem(doc, "openapi")->valuestring, "3.0.3");
    cJSON *paths = cJSON_GetObjectItem(doc, "paths");
    cr_assert_not_null(cJSON_GetObjectItem(paths, "/v1/loss/{name}"));
    cr_assert_not_null(cJSON_GetObjectItem(paths, "/docs"));
    cJSON_Delete(doc);
    http_response_free(&r);
    srv_stop();
}

Test(http_web, unknown_asset_yields_404_not_found_json)
{
    srv_start(NULL);
    http_response r = get("/assets/swagger-ui-bundle.js.map");
    expect_error(&r, 404, "not_found");
    http_response_free(&r);
    srv_stop();
}

Test(http_web, post_to_the_page_yields_405_allowing_get)
{
    srv_start(NULL);
    http_response r = post("/", "{}");
    expect_error(&r, 405, "method_not_allowed");
    cr_assert_str_eq(hdr(&r, "Allow"), "GET, HEAD, OPTIONS");
    http_response_free(&r);
    srv_stop();
}

Test(http_web, head_of_the_page_yields_headers_only)
{
    srv_start(NULL);
    http_response full = get("/docs");
    http_response r = req("HEAD", "/docs", NULL, NULL);
    char len[32];
    snprintf(len, sizeof len, "%zu", full.body_len);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, 0);
    cr_assert_str_eq(hdr(&r, "Content-Length"), len);
    http_response_free(&full);
    http_response_free(&r);
    srv_stop();
}

Test(http_web, with_an_api_key_pages_are_open_and_the_api_is_not)
{
    srv_start((const char *[]){"--api-key", "s3cret", NULL});
    const char *open[] = {"/", "/docs", "/openapi.yaml", "/openapi.json", "/assets/app.js"};
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++) {
        http_response r = get(open[i]);
        cr_assert_eq(r.status, 200, "%s without a key: %d", open[i], r.status);
        http_response_free(&r);
    }
    http_response none = get("/v1/losses");
    http_response bearer = req("GET", "/v1/losses", "Authorization: Bearer s3cret\r\n", NULL);
    http_response wrong = req("GET", "/v1/losses", "Authorization: Bearer s3cre\r\n", NULL);
    expect_error(&none, 401, "unauthorized");
    cr_assert_eq(bearer.status, 200);
    expect_error(&wrong, 401, "unauthorized");
    http_response_free(&none);
    http_response_free(&bearer);
    http_response_free(&wrong);
    srv_stop();
}

Test(http_web, cors_origin_is_sent_on_the_pages)
{
    srv_start((const char *[]){"--cors-origin", "https://app.example", NULL});
    http_response r = get("/openapi.json");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Access-Control-Allow-Origin"), "https://app.example");
    http_response_free(&r);
    srv_stop();
}
