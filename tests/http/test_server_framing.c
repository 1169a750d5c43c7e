/* framing and conn_guard without sockets: which header sets are ambiguous, how %00 is kept
 * from truncating a path, which libmicrohttpd error statuses become which JSON errors, and
 * how the connection caps count. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "conn_guard.h"
#include "framing.h"

static const char *verdict(const char *const *pairs)
{
    framing_state st;
    framing_init(&st);
    for (; pairs[0]; pairs += 2)
        framing_add(&st, pairs[0], strlen(pairs[0]), pairs[1], strlen(pairs[1]));
    return framing_verdict(&st);
}

Test(framing, one_content_length_or_one_chunked_should_pass)
{
    cr_expect_null(verdict((const char *[]){"Host", "x", "Content-Length", "46", NULL}));
    cr_expect_null(verdict((const char *[]){"transfer-encoding", " Chunked ", NULL}));
    cr_expect_null(verdict((const char *[]){"X-Ok_header.1~", "v\twith tab", NULL}));
}

Test(framing, ambiguous_lengths_should_be_refused)
{
    cr_expect_not_null(
        verdict((const char *[]){"Content-Length", "4", "content-length", "5", NULL}));
    cr_expect_not_null(
        verdict((const char *[]){"Content-Length", "4", "Content-Length", "4", NULL}));
    cr_expect_not_null(
        verdict((const char *[]){"Content-Length", "4", "Transfer-Encoding", "chunked", NULL}));
    cr_expect_not_null(verdict((const char *[]){"Transfer-Encoding", "gzip, chunked", NULL}));
    cr_expect_not_null(verdict(
        (const char *[]){"Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked", NULL}));
}

Test(framing, names_with_spaces_controls_or_separators_should_be_refused)
{
    cr_expect_not_null(verdict((const char *[]){"Transfer-Encoding ", "chunked", NULL}));
    cr_expect_not_null(verdict((const char *[]){"X\x01", "a", NULL}));
    cr_expect_not_null(verdict((const char *[]){"X(y)", "a", NULL}));
    cr_expect_not_null(verdict((const char *[]){"X-A", "a\x7f", NULL}));
    framing_state st;
    framing_init(&st);
    framing_add(&st, "X\0Y", 3, "v", 1);
    cr_expect_not_null(framing_verdict(&st), "a NUL inside a name");
}

Test(framing, percent_00_should_decode_to_a_refused_control_character)
{
    char uri[] = "/metrics%00.png", plain[] = "/v1/losses/ms%65%2F", bad[] = "/a%zz%4";
    cr_expect_eq(framing_unescape(NULL, NULL, uri), strlen("/metrics\x7f.png"));
    cr_expect_str_eq(uri, "/metrics\x7f.png");
    cr_expect(framing_path_has_control(uri));
    framing_unescape(NULL, NULL, plain);
    cr_expect_str_eq(plain, "/v1/losses/mse/");
    cr_expect(!framing_path_has_control(plain));
    framing_unescape(NULL, NULL, bad);
    cr_expect_str_eq(bad, "/a%zz%4", "invalid escapes stay as they are");
}

Test(framing, library_error_statuses_should_map_to_json_errors)
{
    unsigned out;
    cr_expect(strstr(framing_error_body(400, &out), "bad_request") != NULL);
    cr_expect_eq(out, 400);
    cr_expect(strstr(framing_error_body(500, &out), "bad_request") != NULL);
    cr_expect_eq(out, 400, "the library's 500 is a line the client made too long");
    cr_expect(strstr(framing_error_body(431, &out), "headers_too_large") != NULL);
    cr_expect(strstr(framing_error_body(505, &out), "http_version_not_supported") != NULL);
    cr_expect_null(framing_error_body(200, &out), "lossd's own statuses pass through");
}

static struct sockaddr_in v4(const char *ip)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

Test(conn_guard, caps_should_count_per_address_and_in_all_but_not_admin)
{
    conn_guard_limits lim = {
        .max_conns = 3, .max_per_ip = 2, .header_timeout_s = 60, .idle_timeout_s = 60};
    conn_guard *g = conn_guard_create(&lim);
    struct sockaddr_in a = v4("10.0.0.1"), b = v4("10.0.0.2");
    socklen_t n = sizeof a;
    cr_assert_not_null(g);
    cr_expect_eq(conn_guard_admit(g, 100, (struct sockaddr *)&a, n, 0), GUARD_ADMIT);
    cr_expect_eq(conn_guard_admit(g, 101, (struct sockaddr *)&a, n, 0), GUARD_ADMIT);
    cr_expect_eq(conn_guard_admit(g, 102, (struct sockaddr *)&a, n, 0), GUARD_PER_IP);
    cr_expect_eq(conn_guard_admit(g, 102, (struct sockaddr *)&b, n, 0), GUARD_ADMIT);
    cr_expect_eq(conn_guard_admit(g, 103, (struct sockaddr *)&b, n, 0), GUARD_FULL);
    cr_expect_eq(conn_guard_admit(g, 104, (struct sockaddr *)&b, n, 1), GUARD_ADMIT, "admin");
    cr_expect_eq(conn_guard_count(g), 3);
    conn_guard_closed(g, 100);
    cr_expect_eq(conn_guard_admit(g, 105, (struct sockaddr *)&b, n, 0), GUARD_ADMIT);
    /* A descriptor number handed out again replaces its stale slot. */
    cr_expect_eq(conn_guard_admit(g, 105, (struct sockaddr *)&a, n, 0), GUARD_ADMIT);
    cr_expect_eq(conn_guard_count(g), 3);
    conn_guard_destroy(g);
}
