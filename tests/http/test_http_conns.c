/* HTTP tests: connection slots. Slow clients (a header line now and then, a body a few bytes
 * at a time) are cut at their deadlines; past the caps new clients get a quick 503 instead of
 * waiting in the kernel's backlog; the admin port answers health probes whatever the main
 * port suffers. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_fixture.h"

TestSuite(http_conns, .fini = srv_teardown, .timeout = 90);

/* The admin port from the log ("admin on 127.0.0.1:<port>"), or 0. */
static unsigned admin_port(void)
{
    char *log = lossd_log(&srv), *at = strstr(log, "admin on 127.0.0.1:");
    unsigned port = at ? (unsigned)strtoul(at + 19, NULL, 10) : 0;
    free(log);
    return port;
}

/* Sends text, one byte at a time every `gap_ms`, until the server closes or `max_s` passes;
 * returns the seconds it took the server to close (or max_s). */
static double trickle_until_closed(http_conn *c, const char *text, int gap_ms, double max_s)
{
    double t0 = now_s();
    for (size_t i = 0; now_s() - t0 < max_s; i = (i + 1) % strlen(text)) {
        if (send(c->fd, text + i, 1, MSG_NOSIGNAL) < 0)
            return now_s() - t0;
        struct pollfd pf = {.fd = c->fd, .events = POLLIN};
        if (poll(&pf, 1, gap_ms) > 0) {
            char b[256];
            ssize_t n = recv(c->fd, b, sizeof b, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN))
                return now_s() - t0;
        }
    }
    return max_s;
}

Test(http_conns, headers_sent_a_byte_at_a_time_are_cut_at_the_header_deadline)
{
    http_conn c;
    srv_start((const char *[]){"--header-timeout", "1", NULL});
    cr_assert_eq(http_open(&c, srv.port), 0);
    double took = trickle_until_closed(
        &c, "GET /healthz HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
        200, 10.0);
    cr_expect_lt(took, 4.0, "closed near the 1 s header deadline, not kept open: %.1f s", took);
    http_close(&c);
    /* A normal client is unaffected. */
    http_response r = get("/healthz");
    cr_expect_eq(r.status, 200);
    http_response_free(&r);
    srv_stop();
}

Test(http_conns, a_body_slower_than_the_minimum_rate_is_cut)
{
    http_conn c;
    srv_start((const char *[]){"--header-timeout", "1", "--min-body-rate", "2000", NULL});
    cr_assert_eq(http_open(&c, srv.port), 0);
    const char *head = "POST /v1/loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Content-Length: 100000\r\n\r\n";
    cr_assert_eq(http_send(&c, head, strlen(head)), 0);
    double took = trickle_until_closed(&c, "[0.5, 1.5, 2.5]", 100, 15.0);
    cr_expect_lt(took, 6.0,
                 "10 bytes/s against a 2000 bytes/s floor: cut soon after the 1 s "
                 "grace (%.1f s)",
                 took);
    http_close(&c);
    srv_stop();
}

/* Whether the server has sent something on c within timeout_ms (a refusal comes unasked). */
static int answered_within(http_conn *c, int timeout_ms)
{
    struct pollfd pf = {.fd = c->fd, .events = POLLIN};
    return poll(&pf, 1, timeout_ms) > 0;
}

/* With a cap of 2 per address, the third connection (the second, if srv_start's last probe
 * connection is not closed yet on the server's side) gets an unasked-for 503 at once. */
Test(http_conns, past_the_per_address_cap_a_new_connection_gets_503_at_once)
{
    enum { N = 4 };
    http_conn c[N];
    http_response r;
    int refused_at = -1, opened = 0;
    srv_start((const char *[]){"--max-connections-per-ip", "2", NULL});
    usleep(200000);
    for (int i = 0; i < N && refused_at < 0; i++) {
        cr_assert_eq(http_open(&c[i], srv.port), 0);
        opened++;
        if (answered_within(&c[i], 500))
            refused_at = i;
    }
    cr_assert(refused_at == 1 || refused_at == 2, "refused at connection %d", refused_at);
    cr_assert_eq(http_read(&c[refused_at], &r, 0), 0);
    expect_error(&r, 503, "overloaded");
    cr_expect_str_eq(hdr(&r, "Retry-After"), "1");
    cr_expect(r.closed);
    http_response_free(&r);
    for (int i = 0; i < opened; i++)
        http_close(&c[i]);
    srv_stop();
}

/* Opens a keep-alive connection the server has accepted and answered. srv_start's probe
 * connection may still hold a slot for a moment after it closed, so a 503 is retried. */
static void hold_slot(http_conn *conn)
{
    for (int attempt = 0; attempt < 40; attempt++) {
        http_response r;
        cr_assert_eq(http_open(conn, srv.port), 0);
        cr_assert_eq(http_send_request(conn, "GET", "/healthz", NULL, NULL, 0), 0);
        cr_assert_eq(http_read(conn, &r, 0), 0);
        int status = r.status;
        http_response_free(&r);
        if (status == 200)
            return;
        http_close(conn);
        usleep(50000);
    }
    cr_assert_fail("no slot freed within 2 s");
}

Test(http_conns, past_max_connections_a_new_connection_gets_503_not_the_backlog)
{
    enum { N = 4 };
    http_conn idle[N], c;
    http_response r;
    srv_start((const char *[]){"--max-connections", "4", "--http-threads", "1",
                               "--max-connections-per-ip", "0", NULL});
    for (int i = 0; i < N; i++)
        hold_slot(&idle[i]);
    cr_assert_eq(http_open(&c, srv.port), 0);
    cr_assert_eq(http_send_request(&c, "GET", "/healthz", NULL, NULL, 0), 0);
    double t0 = now_s();
    cr_assert_eq(http_read(&c, &r, 0), 0);
    cr_expect_lt(now_s() - t0, 1.0);
    expect_error(&r, 503, "overloaded");
    http_response_free(&r);
    http_close(&c);
    /* A slot freed is a slot for the next client, and the refusal shows in /metrics. */
    http_close(&idle[0]);
    usleep(300000);
    r = get("/healthz");
    cr_expect_eq(r.status, 200);
    http_response_free(&r);
    /* The closed connections' slots come back a little later (longer under ASan). */
    r = get("/metrics");
    for (int attempt = 0; attempt < 40 && r.status != 200; attempt++) {
        http_response_free(&r);
        usleep(50000);
        r = get("/metrics");
    }
    cr_expect_eq(r.status, 200);
    const char *refused = strstr(r.body, "\nlossd_connections_refused_total ");
    cr_expect(refused != NULL && strtoul(refused + 33, NULL, 10) >= 1,
              "the refused connection is counted");
    http_response_free(&r);
    for (int i = 1; i < N; i++)
        http_close(&idle[i]);
    srv_stop();
}

/* 1,100 connections that each sent half a request line hold more than every slot; a fresh
 * client must still get an answer within 1 s, and the admin port a 200. */
Test(http_conns, eleven_hundred_slow_connections_do_not_starve_a_fresh_client)
{
    enum { N = 1100 };
    static http_conn slow[N];
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < 4096) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < N + 64)
        cr_skip_test("descriptor limit %llu is too low", (unsigned long long)rl.rlim_cur);
    srv_start((const char *[]){"--admin-port", "0", NULL});
    unsigned admin = admin_port();
    cr_assert_neq(admin, 0, "the log names the admin port");
    int opened = 0;
    for (int i = 0; i < N; i++) {
        if (http_open(&slow[i], srv.port) != 0)
            break;
        opened++;
        http_send(&slow[i], "GET /healthz HTTP/1.1\r\n", 23);
    }
    cr_expect_eq(opened, N);
    usleep(300000);

    double t0 = now_s();
    http_response r;
    http_conn c;
    cr_assert_eq(http_open(&c, srv.port), 0);
    cr_assert_eq(http_send_request(&c, "GET", "/healthz", NULL, NULL, 0), 0);
    cr_assert_eq(http_read(&c, &r, 0), 0, "the fresh client is answered");
    cr_expect_lt(now_s() - t0, 1.0, "within 1 s (%.2f s)", now_s() - t0);
    cr_expect(r.status == 200 || r.status == 503, "200, or a quick 503: %d", r.status);
    http_response_free(&r);
    http_close(&c);

    t0 = now_s();
    cr_assert_eq(http_do(admin, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    cr_expect_eq(r.status, 200, "the admin port is outside every cap");
    cr_expect_lt(now_s() - t0, 1.0);
    http_response_free(&r);
    cr_assert_eq(http_do(admin, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    cr_expect_eq(r.status, 200);
    http_response_free(&r);
    for (int i = 0; i < opened; i++)
        http_close(&slow[i]);
    srv_stop();
}

Test(http_conns, the_admin_port_serves_only_health_and_metrics)
{
    http_response r;
    srv_start((const char *[]){"--admin-port", "0", "--api-key", "secret", NULL});
    unsigned admin = admin_port();
    cr_assert_neq(admin, 0);
    cr_assert_eq(http_do(admin, "GET", "/v2/health/ready", NULL, NULL, 0, &r), 0);
    cr_expect_eq(r.status, 200);
    http_response_free(&r);
    cr_assert_eq(http_do(admin, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    cr_expect_eq(r.status, 200, "metrics need no key on the admin port");
    http_response_free(&r);
    cr_assert_eq(
        http_do(admin, "POST", "/v1/loss/mse", "Content-Type: application/json\r\n", "{}", 2, &r),
        0);
    expect_error(&r, 404, "not_found");
    http_response_free(&r);
    srv_stop();
}
