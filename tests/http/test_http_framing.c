/* HTTP tests: request framing. Every ambiguous message (two Content-Lengths, Content-Length
 * with Transfer-Encoding, a header name with a space or a control character, a control
 * character in the decoded path) gets 400 and a closed connection, so a request hidden in
 * its body never runs; libmicrohttpd's own error pages come back as lossd's JSON errors; an
 * embedded NUL no longer cuts an error message short. */
#include "http_fixture.h"

TestSuite(http_framing, .fini = srv_teardown, .timeout = 60);

#define MSE "{\"predictions\": [0.5, 1.5], \"targets\": [1, 1]}" /* 46 bytes */
#define HIDDEN "GET /v1/losses/hidden HTTP/1.1\r\nHost: x\r\n\r\n"

/* Sends raw bytes and reads the first response; the server must refuse with 400 bad_request
 * and close, so the request hidden after the first body is never answered. */
static void expect_refused_without_smuggling(const char *raw)
{
    http_conn c;
    http_response r;
    cr_assert_eq(http_open(&c, srv.port), 0);
    cr_assert_eq(http_send(&c, raw, strlen(raw)), 0);
    cr_assert_eq(http_read(&c, &r, 0), 0, "an answer");
    expect_error(&r, 400, "bad_request");
    cr_expect_str_eq(hdr(&r, "Connection"), "close");
    http_response_free(&r);
    cr_expect(http_peer_closed(&c, 3000), "the connection is closed after the 400");
    cr_expect_neq(http_read(&c, &r, 0), 0, "and no second response (the hidden request)");
    http_close(&c);
}

Test(http_framing, two_different_content_lengths_yield_400_and_close)
{
    srv_start(NULL);
    expect_refused_without_smuggling(
        "POST /v1/loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 46\r\nContent-Length: 90\r\n\r\n" MSE HIDDEN);
    srv_stop();
}

Test(http_framing, two_equal_content_lengths_yield_400_too)
{
    srv_start(NULL);
    expect_refused_without_smuggling(
        "POST /v1/loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 46\r\nContent-Length: 46\r\n\r\n" MSE HIDDEN);
    srv_stop();
}

Test(http_framing, content_length_with_chunked_yields_400_and_close)
{
    srv_start(NULL);
    expect_refused_without_smuggling(
        "POST /v1/loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2e\r\n" MSE "\r\n0\r\n\r\n" HIDDEN);
    srv_stop();
}

Test(http_framing, transfer_encoding_with_a_space_before_the_colon_yields_400)
{
    srv_start(NULL);
    expect_refused_without_smuggling(
        "POST /v1/loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding : chunked\r\nContent-Length: 46\r\n\r\n" MSE HIDDEN);
    srv_stop();
}

Test(http_framing, a_header_name_with_a_control_character_yields_400)
{
    srv_start(NULL);
    expect_refused_without_smuggling(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A\x01: b\r\n\r\n" HIDDEN);
    srv_stop();
}

Test(http_framing, a_transfer_encoding_other_than_chunked_yields_400)
{
    srv_start(NULL);
    expect_refused_without_smuggling(
        "POST /v1/loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: gzip, chunked\r\n\r\n2e\r\n" MSE "\r\n0\r\n\r\n" HIDDEN);
    srv_stop();
}

Test(http_framing, percent_00_in_the_path_yields_400_not_a_truncated_route)
{
    srv_start(NULL);
    http_response r = get("/metrics%00.png");
    expect_error(&r, 400, "bad_request");
    http_response_free(&r);
    r = get("/v1/losses/ms%00e");
    expect_error(&r, 400, "bad_request");
    http_response_free(&r);
    r = get("/v1/losses/ms%0ae");
    expect_error(&r, 400, "bad_request");
    http_response_free(&r);
    r = get("/v1/losses/ms%65"); /* an ordinary escape still decodes: "mse" */
    cr_expect_eq(r.status, 200, "%s", r.body);
    http_response_free(&r);
    char *log = lossd_log(&srv);
    cr_expect(strstr(log, "/metrics ") == NULL, "the log never shows the truncated path");
    free(log);
    srv_stop();
}

/* libmicrohttpd answers a chunk-size line it cannot buffer itself; that answer must be
 * lossd's JSON, not an HTML page. */
Test(http_framing, a_100_kb_chunk_size_line_gets_a_json_error)
{
    http_conn c;
    http_response r;
    static char raw[110000];
    srv_start(NULL);
    int n = snprintf(raw, sizeof raw,
                     "POST /v1/loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n");
    memset(raw + n, '0', 100000);
    memcpy(raw + n + 100000, "1\r\n", 4);
    cr_assert_eq(http_open(&c, srv.port), 0);
    http_send(&c, raw, strlen(raw));
    cr_assert_eq(http_read(&c, &r, 0), 0);
    cr_expect(r.status >= 400 && r.status < 500, "a client error: %d", r.status);
    cr_expect_str_eq(hdr(&r, "Content-Type"), "application/json");
    cr_expect(strstr(r.body, "\"error\"") != NULL && strstr(r.body, "<html") == NULL, "%s", r.body);
    http_response_free(&r);
    http_close(&c);
    srv_stop();
}

Test(http_framing, a_malformed_header_line_gets_a_json_400)
{
    http_conn c;
    http_response r;
    srv_start(NULL);
    cr_assert_eq(http_open(&c, srv.port), 0);
    const char *raw = "GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n";
    http_send(&c, raw, strlen(raw));
    cr_assert_eq(http_read(&c, &r, 0), 0);
    expect_error(&r, 400, "bad_request");
    cr_expect_str_eq(hdr(&r, "Content-Type"), "application/json");
    http_response_free(&r);
    http_close(&c);
    srv_stop();
}

Test(http_framing, an_unsupported_http_version_gets_a_json_505)
{
    http_conn c;
    http_response r;
    srv_start(NULL);
    cr_assert_eq(http_open(&c, srv.port), 0);
    const char *raw = "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n";
    http_send(&c, raw, strlen(raw));
    cr_assert_eq(http_read(&c, &r, 0), 0);
    expect_error(&r, 505, "http_version_not_supported");
    http_response_free(&r);
    http_close(&c);
    srv_stop();
}

Test(http_framing, an_error_message_keeps_the_text_after_an_embedded_nul)
{
    srv_start(NULL);
    http_response r = post("/v1/evaluate", "{\"losses\": [\"ms\\u0000e_and_more\"], "
                                           "\"predictions\": [1], \"targets\": [1]}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect(strstr(r.body, "ms\\\\u0000e_and_more'") != NULL,
              "the message shows the whole name, the NUL escaped: %s", r.body);
    http_response_free(&r);
    r = post("/v1/loss/mse", "{\"predictions\": [1], \"targets\": [1], \"a\\u0000b\": 1}");
    expect_error(&r, 400, "unknown_field");
    cr_expect(strstr(r.body, "a\\\\u0000b") != NULL, "%s", r.body);
    http_response_free(&r);
    srv_stop();
}
