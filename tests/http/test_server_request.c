/* Unit tests of the socket-free request helpers (server/request.c) and the routes table
 * matcher (server/routes.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "mem.h"
#include "request.h"
#include "routes.h"

Test(request_body, should_keep_bytes_up_to_the_limit_and_stay_terminated)
{
    request_body b;
    request_body_init(&b, 0, 10, 0);
    request_body_append(&b, "hello", 5);
    request_body_append(&b, "world", 5);
    cr_assert_eq(b.len, 10);
    cr_assert_str_eq(b.data, "helloworld");
    cr_assert_not(b.too_big);
    request_body_append(&b, "!", 1);
    cr_assert(b.too_big);
    cr_assert_eq(b.len, 10, "nothing past the limit is kept");
    cr_assert_eq(b.received, 11, "but every byte is counted");
    request_body_release(&b);
}

Test(request_body, should_presize_from_content_length_but_cap_a_lying_client)
{
    request_body b;
    request_body_init(&b, 1000, 1 << 30, 0);
    cr_assert_geq(b.cap, 1000);
    request_body_release(&b);
    request_body_init(&b, (size_t)1 << 30, (size_t)1 << 30, 0);
    cr_assert_leq(b.cap, (size_t)8 << 20, "a declared 1 GiB must not reserve 1 GiB up front");
    request_body_release(&b);
}

Test(request_body, should_grow_across_many_chunks)
{
    request_body b;
    char chunk[1000];
    memset(chunk, 'x', sizeof chunk);
    request_body_init(&b, 0, 1 << 20, 0);
    for (int i = 0; i < 1000; i++)
        request_body_append(&b, chunk, sizeof chunk);
    cr_assert_eq(b.len, 1000000);
    cr_assert_eq(b.data[b.len], '\0');
    request_body_release(&b);
}

Test(request_body, should_mark_nomem_when_growing_fails)
{
    request_body b;
    request_body_init(&b, 0, 1 << 20, 0);
    mem_fail_after(0);
    request_body_append(&b, "abc", 3);
    mem_fail_reset();
    cr_assert(b.nomem);
    request_body_append(&b, "def", 3);
    cr_assert_eq(b.received, 6);
    request_body_release(&b);
}

Test(request_id, should_keep_safe_characters_only)
{
    char id[REQUEST_ID_MAX + 1];
    cr_assert_eq(request_id_sanitise("abc-1.2:3_x", id), 11);
    cr_assert_str_eq(id, "abc-1.2:3_x");
    cr_assert_eq(request_id_sanitise("a b\r\n\"c\"", id), 3);
    cr_assert_str_eq(id, "abc");
    cr_assert_eq(request_id_sanitise(NULL, id), 0);
    cr_assert_eq(request_id_sanitise("<>", id), 0);
}

Test(request_id, should_truncate_long_ids)
{
    char id[REQUEST_ID_MAX + 1], in[200];
    memset(in, 'a', sizeof in - 1);
    in[sizeof in - 1] = '\0';
    cr_assert_eq(request_id_sanitise(in, id), REQUEST_ID_MAX);
}

Test(request_id, generated_ids_should_differ_per_counter)
{
    char a[17], b[17];
    request_id_generate(42, 1, a);
    request_id_generate(42, 2, b);
    cr_assert_eq(strlen(a), 16);
    cr_assert_str_neq(a, b);
}

Test(request_media, json_form_and_none_should_be_accepted)
{
    cr_assert(request_media_type_ok(NULL, 0));
    cr_assert(request_media_type_ok("application/json", 0));
    cr_assert(request_media_type_ok("application/json; charset=latin1", 0));
    cr_assert(request_media_type_ok("APPLICATION/JSON;charset=utf-8", 0));
    cr_assert(request_media_type_ok("application/x-www-form-urlencoded", 0));
    cr_assert_not(request_media_type_ok("text/plain", 0));
    cr_assert_not(request_media_type_ok("application/jsonx", 0));
    cr_assert_not(request_media_type_ok("application/octet-stream", 0));
    cr_assert(request_media_type_ok("application/octet-stream", 1));
}

Test(request_length, should_parse_strictly)
{
    size_t v;
    cr_assert_eq(request_parse_length("123", &v), 0);
    cr_assert_eq(v, 123);
    cr_assert_eq(request_parse_length("", &v), -1);
    cr_assert_eq(request_parse_length("12a", &v), -1);
    cr_assert_eq(request_parse_length("-1", &v), -1);
    cr_assert_eq(request_parse_length("99999999999999999999999", &v), -1);
}

Test(request_key, should_compare_whole_keys)
{
    cr_assert(request_key_equal("s3cret", 6, "s3cret", 6));
    cr_assert_not(request_key_equal("s3cre", 5, "s3cret", 6));
    cr_assert_not(request_key_equal("s3cret!", 7, "s3cret", 6));
    cr_assert_not(request_key_equal("S3cret", 6, "s3cret", 6));
    cr_assert_not(request_key_equal("", 0, "s3cret", 6));
}

Test(routes, should_match_fixed_paths_and_name_segments)
{
    route_match m;
    cr_assert_eq(routes_match("/healthz", ROUTE_GET, &m), ROUTE_FOUND);
    cr_assert_null(m.name);
    cr_assert_eq(routes_match("/v1/loss/cross_entropy", ROUTE_POST, &m), ROUTE_FOUND);
    cr_assert_eq(m.name_len, strlen("cross_entropy"));
    cr_assert(strncmp(m.name, "cross_entropy", m.name_len) == 0);
    cr_assert(m.route->flags & ROUTE_BODY);
}

Test(routes, should_tell_wrong_method_from_unknown_path)
{
    route_match m;
    cr_assert_eq(routes_match("/v1/loss/mse", ROUTE_GET, &m), ROUTE_BAD_METHOD);
    cr_assert_eq(m.allowed, ROUTE_POST);
    cr_assert_str_eq(routes_allow(m.allowed), "POST, OPTIONS");
    cr_assert_eq(routes_match("/v1/loss/a/b", ROUTE_POST, &m), ROUTE_NOT_FOUND);
    cr_assert_eq(routes_match("/v1/loss/", ROUTE_POST, &m), ROUTE_NOT_FOUND);
    cr_assert_eq(routes_match("/healthz/", ROUTE_GET, &m), ROUTE_NOT_FOUND);
    cr_assert_eq(routes_match("", ROUTE_GET, &m), ROUTE_NOT_FOUND);
}

Test(routes, health_should_be_open_and_compute_should_not)
{
    route_match m;
    cr_assert_eq(routes_match("/readyz", ROUTE_GET, &m), ROUTE_FOUND);
    cr_assert(m.route->flags & ROUTE_OPEN);
    cr_assert_eq(routes_match("/v2/health/ready", ROUTE_GET, &m), ROUTE_FOUND);
    cr_assert(m.route->flags & ROUTE_OPEN);
    cr_assert_eq(routes_match("/metrics", ROUTE_GET, &m), ROUTE_FOUND);
    cr_assert_not(m.route->flags & ROUTE_OPEN);
}

Test(routes, methods_should_map_head_to_get)
{
    cr_assert_eq(routes_method("GET"), ROUTE_GET);
    cr_assert_eq(routes_method("HEAD"), ROUTE_GET);
    cr_assert_eq(routes_method("POST"), ROUTE_POST);
    cr_assert_eq(routes_method("PUT"), 0);
    cr_assert(routes_path_is_v2("/v2"));
    cr_assert(routes_path_is_v2("/v2/models/x"));
    cr_assert_not(routes_path_is_v2("/v20"));
}

Test(request_body, binary_tail_should_start_on_a_64_byte_boundary)
{
    static const size_t header_lengths[] = {0, 1, 63, 64, 298, 4097};
    char chunk[300];
    memset(chunk, 'x', sizeof chunk);
    for (size_t k = 0; k < sizeof header_lengths / sizeof header_lengths[0]; k++) {
        request_body b;
        size_t at = header_lengths[k];
        /* Unknown length: the buffer grows several times and must keep the alignment. */
        request_body_init(&b, 0, 1 << 24, at);
        for (int i = 0; i < 2000; i++)
            request_body_append(&b, chunk, sizeof chunk);
        cr_assert_eq(b.len, 2000 * sizeof chunk);
        cr_assert_eq(((uintptr_t)(b.data + at)) % 64, 0, "header length %zu", at);
        request_body_release(&b);
    }
}
