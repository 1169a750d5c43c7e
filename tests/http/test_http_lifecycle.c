/* HTTP tests: the lifecycle under stress. The drain honours --drain-timeout even with a long
 * computation running (and the log tells how many requests were cut off); SIGHUP drains like
 * SIGTERM; closing the listener at the end of --shutdown-delay drops no connection the kernel
 * had accepted; TLS below 1.2 and option values with CR/LF are refused. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http_fixture.h"

TestSuite(http_lifecycle, .fini = srv_teardown, .timeout = 90);

typedef struct {
    const char *path;
    char *body;
    http_response r;
    int rc;
} async_post;

static void *post_thread(void *arg)
{
    async_post *a = arg;
    a->rc = http_do(srv.port, "POST", a->path, "Content-Type: application/json\r\n", a->body,
                    strlen(a->body), &a->r);
    return NULL;
}

/* A /v1 ctc body of 20-60 s of one core (12 items of 4096 steps and 4000 targets), just
 * under the default --max-work. */
static char *long_ctc_body(void)
{
    const size_t T = 4096, N = 12, S = 4000;
    char *body = malloc(T * N * 30 + N * S * 3 + 4096), *p = body;
    p += sprintf(p, "{\"reduction\": \"sum\", \"predictions\": [");
    for (size_t t = 0; t < T; t++) {
        p += sprintf(p, "%s[", t ? "," : "");
        for (size_t n = 0; n < N; n++)
            p += sprintf(p, "%s[-1.0986,-1.0986,-1.0986]", n ? "," : "");
        *p++ = ']';
    }
    p += sprintf(p, "], \"targets\": [");
    for (size_t n = 0; n < N; n++) {
        p += sprintf(p, "%s[", n ? "," : "");
        for (size_t s = 0; s < S; s++)
            p += sprintf(p, "%s%d", s ? "," : "", 1 + (int)(s % 2));
        *p++ = ']';
    }
    p += sprintf(p, "], \"input_lengths\": [");
    for (size_t n = 0; n < N; n++)
        p += sprintf(p, "%s%zu", n ? "," : "", T);
    p += sprintf(p, "], \"target_lengths\": [");
    for (size_t n = 0; n < N; n++)
        p += sprintf(p, "%s%zu", n ? "," : "", S);
    sprintf(p, "]}");
    return body;
}

Test(http_lifecycle, the_drain_timeout_holds_with_a_long_job_running_and_the_log_counts_it)
{
    async_post a = {.path = "/v1/loss/ctc", .body = long_ctc_body()};
    pthread_t t;
    srv_start((const char *[]){"--drain-timeout", "2", "--job-timeout", "600", NULL});
    cr_assert_eq(pthread_create(&t, NULL, post_thread, &a), 0);
    sleep(2); /* uploaded and computing */
    double t0 = now_s();
    kill(srv.pid, SIGTERM);
    int rc = wait_exit(20);
    double took = now_s() - t0;
    pthread_join(t, NULL);
    cr_expect_eq(rc, 0, "exits 0");
    cr_expect_lt(took, 8.0, "within the 2 s drain timeout plus a cancel's grace: %.1f s", took);
    cr_expect_gt(took, 1.9, "but only after the drain timeout");
    cr_assert_eq(a.rc, 0, "the client got an answer");
    expect_error(&a.r, 503, "draining");
    char *log = lossd_log(&srv);
    cr_expect(strstr(log, "1 requests cut off") != NULL, "the log counts the cut job: %s", log);
    free(log);
    http_response_free(&a.r);
    free(a.body);
}

Test(http_lifecycle, sighup_drains_like_sigterm_and_loses_no_request)
{
    enum { N = 12 };
    http_conn c[N];
    size_t n = 20000;
    char *body = malloc(n * 12 + 64), *p = body;
    p += sprintf(p, "{\"predictions\": [");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s%.3f", i ? "," : "", (double)(i % 100) / 100.0);
    p += sprintf(p, "], \"targets\": [");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s1", i ? "," : "");
    sprintf(p, "]}");
    srv_start((const char *[]){"--workers", "1", NULL});
    for (int i = 0; i < N; i++) { /* all sent before the signal: every one is in flight */
        cr_assert_eq(http_open(&c[i], srv.port), 0);
        cr_assert_eq(http_send_request(&c[i], "POST", "/v1/loss/mse",
                                       "Content-Type: application/json\r\n", body, strlen(body)),
                     0);
    }
    kill(srv.pid, SIGHUP);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        http_response r;
        if (http_read(&c[i], &r, 0) == 0) {
            ok += r.status == 200;
            http_response_free(&r);
        }
        http_close(&c[i]);
    }
    cr_expect_eq(wait_exit(20), 0, "SIGHUP ends in a clean exit, not death by signal");
    cr_expect_eq(ok, N, "every request in flight was answered");
    char *log = lossd_log(&srv);
    cr_expect(strstr(log, "stopping on SIGHUP") != NULL, "%s", log);
    free(log);
    free(body);
}

/* Connects and sends a request; returns 1 when connect succeeded, and in *answered whether a
 * response came back. */
static int try_request(unsigned port, int *answered)
{
    http_conn c;
    http_response r;
    *answered = 0;
    if (http_open(&c, port) != 0)
        return 0;
    if (http_send_request(&c, "GET", "/healthz", NULL, NULL, 0) == 0 && http_read(&c, &r, 0) == 0) {
        *answered = 1;
        http_response_free(&r);
    }
    http_close(&c);
    return 1;
}

typedef struct {
    unsigned port;
    double until;
    int connected, answered;
} hammer;

static void *hammer_thread(void *arg)
{
    hammer *h = arg;
    while (now_s() < h->until) {
        int answered;
        if (try_request(h->port, &answered)) {
            h->connected++;
            h->answered += answered;
        } else {
            usleep(2000);
        }
    }
    return NULL;
}

/* Eight clients connect as fast as they can across the end of --shutdown-delay while two
 * small but heavy requests arrive just before it (they once held the HTTP threads, so new
 * connections waited in the kernel's queue, which the close then reset): each connection
 * that was established must get its response; attempts after the close are refused. */
Test(http_lifecycle, closing_the_listener_drops_no_accepted_connection)
{
    enum { N = 8 };
    static const char heavy[] =
        "{\"inputs\": [{\"name\": \"predictions\", \"shape\": [30000000, 0], \"datatype\": "
        "\"FP32\", \"data\": []}, {\"name\": \"targets\", \"shape\": [30000000, 0], "
        "\"datatype\": \"FP32\", \"data\": []}], \"parameters\": {\"reduction\": \"sum\"}}";
    async_post slow[2];
    pthread_t ts[2];
    hammer h[N];
    pthread_t t[N];
    srv_start((const char *[]){"--shutdown-delay", "1", NULL});
    double until = now_s() + 3.5;
    for (int i = 0; i < N; i++) {
        h[i] = (hammer){.port = srv.port, .until = until};
        cr_assert_eq(pthread_create(&t[i], NULL, hammer_thread, &h[i]), 0);
    }
    usleep(500000);
    kill(srv.pid, SIGTERM);
    usleep(700000); /* 0.3 s before the listener closes */
    for (int i = 0; i < 2; i++) {
        slow[i] = (async_post){.path = "/v2/models/dice/infer", .body = (char *)(uintptr_t)heavy};
        cr_assert_eq(pthread_create(&ts[i], NULL, post_thread, &slow[i]), 0);
    }
    int connected = 0, answered = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        connected += h[i].connected;
        answered += h[i].answered;
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(ts[i], NULL);
        if (slow[i].rc == 0)
            http_response_free(&slow[i].r);
    }
    cr_expect_eq(wait_exit(20), 0);
    cr_expect_gt(connected, 100, "the clients kept connecting");
    cr_expect_eq(answered, connected, "%d of %d established connections got no response",
                 connected - answered, connected);
}

/* Makes a self-signed ECDSA certificate for 127.0.0.1 with certtool (gnutls-bin). */
static int make_cert(const char *cert, const char *key)
{
    char tmpl[300], cmd[2048];
    FILE *f;
    snprintf(tmpl, sizeof tmpl, "%s.tmpl", cert);
    f = fopen(tmpl, "w");
    if (f == NULL)
        return -1;
    fputs("cn = \"127.0.0.1\"\nip_address = \"127.0.0.1\"\nexpiration_days = 1\n"
          "signing_key\ntls_www_server\n",
          f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "certtool --generate-privkey --key-type ecdsa --outfile %s >/dev/null 2>&1 && "
             "certtool --generate-self-signed --load-privkey %s --template %s --outfile %s "
             ">/dev/null 2>&1",
             key, key, tmpl, cert);
    int rc = system(cmd);
    unlink(tmpl);
    return rc == 0 ? 0 : -1;
}

/* Whether gnutls-cli completes a handshake with lossd under a client priority string. */
static int handshake(const char *priority)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "gnutls-cli --insecure --priority='%s' -p %u 127.0.0.1 </dev/null 2>&1 | "
             "grep -q 'Handshake was completed'",
             priority, srv.port);
    return system(cmd) == 0;
}

Test(http_lifecycle, tls_below_1_2_and_static_rsa_key_exchange_are_refused)
{
    char cert[256], key[256];
    snprintf(cert, sizeof cert, "%s/tls-life-%d-cert.pem", LOSSD_BINARY_DIR, (int)getpid());
    snprintf(key, sizeof key, "%s/tls-life-%d-key.pem", LOSSD_BINARY_DIR, (int)getpid());
    if (system("gnutls-cli --version >/dev/null 2>&1") != 0 || make_cert(cert, key) != 0)
        cr_skip_test("gnutls-bin (gnutls-cli, certtool) is not installed: make deps-test");
    srv_start((const char *[]){"--tls-cert", cert, "--tls-key", key, NULL});
    cr_expect(handshake("NORMAL"), "a modern client connects");
    cr_expect(handshake("NORMAL:-VERS-ALL:+VERS-TLS1.2"), "TLS 1.2 is served");
    cr_expect(!handshake("NORMAL:-VERS-ALL:+VERS-TLS1.0"), "TLS 1.0 is refused");
    cr_expect(!handshake("NORMAL:-VERS-ALL:+VERS-TLS1.1"), "TLS 1.1 is refused");
    cr_expect(!handshake("NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA"),
              "key exchange without forward secrecy is refused");
    srv_stop();
    unlink(cert);
    unlink(key);
}

Test(http_lifecycle, an_option_value_with_cr_or_lf_is_refused_at_start_up)
{
    char log[256];
    snprintf(log, sizeof log, "%s/crlf-%d.log", LOSSD_BINARY_DIR, (int)getpid());
    int rc = lossd_run((const char *[]){"--port", "0", "--bind", "127.0.0.1", "--cors-origin",
                                        "https://a.example\r\nX-Evil: 1", NULL},
                       NULL, log, 5000);
    cr_expect_eq(rc, 2, "a usage error, not a server that breaks every response");
    FILE *f = fopen(log, "r");
    char text[1024] = {0};
    cr_assert_not_null(f);
    cr_expect_gt(fread(text, 1, sizeof text - 1, f), 0);
    fclose(f);
    cr_expect(strstr(text, "--cors-origin") && strstr(text, "control characters"), "%s", text);
    rc = lossd_run((const char *[]){"--port", "0", "--bind", "127.0.0.1", NULL},
                   (const char *[]){"LOSSD_API_KEY=k\nx", NULL}, log, 5000);
    cr_expect_eq(rc, 2, "from the environment too");
    unlink(log);
}

Test(http_lifecycle, help_documents_sighup_and_the_second_signal)
{
    char log[256];
    snprintf(log, sizeof log, "%s/help-%d.log", LOSSD_BINARY_DIR, (int)getpid());
    cr_assert_eq(lossd_run((const char *[]){"--help", NULL}, NULL, log, 5000), 0);
    FILE *f = fopen(log, "r");
    char text[16384] = {0};
    cr_assert_not_null(f);
    cr_assert_gt(fread(text, 1, sizeof text - 1, f), 0);
    fclose(f);
    cr_expect(strstr(text, "SIGHUP") != NULL, "--help names SIGHUP");
    cr_expect(strstr(text, "second signal exits at once") != NULL, "and the second signal");
    cr_expect(strstr(text, "--max-work") && strstr(text, "--admin-port") &&
                  strstr(text, "--tls-priority"),
              "and the new limits");
    unlink(log);
}
