/* HTTP tests: operations: graceful shutdown (readiness 503, listener closed, in-flight
 * requests finish, exit 0 within the drain timeout), access logs in both formats, the
 * --probe health check, flags and their errors, forced ISA, overload, and TLS. */
#include <cjson/cJSON.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http_fixture.h"

TestSuite(http_ops, .fini = srv_teardown);

#define MSE_BODY "{\"predictions\": [0.5, 1.5], \"targets\": [1, 1]}"

/* Sends the head and the first half of an MSE body; returns the rest to send later. */
static const char *start_upload(http_conn *c)
{
    static const char body[] = MSE_BODY;
    char head[160];
    size_t half = sizeof body / 2;
    cr_assert_eq(http_open(c, srv.port), 0);
    snprintf(head, sizeof head,
             "POST /v1/loss/mse HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
             sizeof body - 1);
    cr_assert_eq(http_send(c, head, strlen(head)), 0);
    cr_assert_eq(http_send(c, body, half), 0);
    return body + half;
}

Test(http_ops, sigterm_turns_readiness_503_finishes_in_flight_work_and_exits_0)
{
    http_conn keep, upload;
    http_response r;
    srv_start((const char *[]){"--inline-max", "0", NULL}); /* the upload becomes a job */
    cr_assert_eq(http_open(&keep, srv.port), 0);
    cr_assert_eq(http_send_request(&keep, "GET", "/readyz", NULL, NULL, 0), 0);
    cr_assert_eq(http_read(&keep, &r, 0), 0);
    cr_assert_eq(r.status, 200);
    http_response_free(&r);
    const char *rest = start_upload(&upload);
    usleep(50000);
    kill(srv.pid, SIGTERM);
    usleep(100000);
    /* An open keep-alive connection now sees 503 and is asked to close. */
    cr_assert_eq(http_send_request(&keep, "GET", "/readyz", NULL, NULL, 0), 0);
    cr_assert_eq(http_read(&keep, &r, 0), 0);
    cr_assert_eq(r.status, 503, "%s", r.body);
    cr_assert_str_eq(r.body, "{\"status\":\"draining\"}");
    cr_assert_str_eq(hdr(&r, "Retry-After"), "1");
    cr_assert(r.closed, "draining responses carry Connection: close");
    http_response_free(&r);
    /* No new connections. */
    http_conn late;
    cr_assert_neq(http_open(&late, srv.port), 0, "the listener must be closed while draining");
    /* The request in flight still completes. */
    cr_assert_eq(http_send(&upload, rest, strlen(rest)), 0);
    cr_assert_eq(http_read(&upload, &r, 0), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    http_response_free(&r);
    http_close(&keep);
    http_close(&upload);
    cr_assert_eq(wait_exit(10), 0);
}

Test(http_ops, drain_timeout_cuts_off_a_stalled_upload_and_still_exits_0)
{
    http_conn upload;
    srv_start((const char *[]){"--drain-timeout", "1", NULL});
    start_upload(&upload);
    usleep(50000);
    double t0 = now_s();
    kill(srv.pid, SIGTERM);
    cr_assert_eq(wait_exit(10), 0);
    cr_assert_lt(now_s() - t0, 3.0, "must exit soon after --drain-timeout");
    cr_assert_gt(now_s() - t0, 0.9, "must wait for the upload up to --drain-timeout");
    http_close(&upload);
}

Test(http_ops, sigint_also_drains_and_exits_0)
{
    srv_start(NULL);
    kill(srv.pid, SIGINT);
    cr_assert_eq(wait_exit(10), 0);
}

Test(http_ops, access_log_has_one_text_line_per_request)
{
    srv_start(NULL);
    http_response r = req("POST", "/v1/loss/mse", "X-Request-Id: trace-42\r\n", MSE_BODY);
    cr_assert_eq(r.status, 200);
    http_response_free(&r);
    srv_stop();
    char *log = lossd_log(&srv), *line = strstr(log, " access POST /v1/loss/mse 200 ");
    cr_assert(line != NULL, "%s", log);
    char *eol = strchr(line, '\n');
    *eol = '\0';
    cr_assert(strstr(line, " in=46 ") != NULL, "%s", line);
    cr_assert(strstr(line, " out=") && strstr(line, " us="), "%s", line);
    cr_assert(strstr(line, " loss=mse ") != NULL, "%s", line);
    cr_assert(strstr(line, " id=trace-42") != NULL, "%s", line);
    free(log);
}

Test(http_ops, json_log_format_writes_parseable_access_lines)
{
    srv_start((const char *[]){"--log-format", "json", NULL});
    http_response r = req("GET", "/missing", "X-Request-Id: j-1\r\n", NULL);
    http_response_free(&r);
    srv_stop();
    char *log = lossd_log(&srv), *save = NULL;
    int found = 0;
    for (char *line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *j = cJSON_Parse(line);
        cr_assert(j != NULL, "not JSON: %s", line);
        cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "request_id");
        if (cJSON_IsString(id) && strcmp(id->valuestring, "j-1") == 0) {
            found = 1;
            cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "method")->valuestring, "GET");
            cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "path")->valuestring, "/missing");
            cr_assert_eq(cJSON_GetObjectItemCaseSensitive(j, "status")->valueint, 404);
            cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "us")));
            cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "bytes_out")));
            cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "aborted")));
        }
        cJSON_Delete(j);
    }
    cr_assert(found, "no access line for request j-1");
    free(log);
}

Test(http_ops, probe_exits_0_on_2xx_and_1_otherwise)
{
    char ok[128], missing[128];
    srv_start(NULL);
    snprintf(ok, sizeof ok, "http://127.0.0.1:%u/healthz", srv.port);
    snprintf(missing, sizeof missing, "http://127.0.0.1:%u/missing", srv.port);
    cr_assert_eq(lossd_run((const char *[]){"--probe", ok, NULL}, NULL, NULL, 10000), 0);
    cr_assert_eq(lossd_run((const char *[]){"--probe", missing, NULL}, NULL, NULL, 10000), 1);
    cr_assert_eq(
        lossd_run((const char *[]){"--probe", "https://127.0.0.1/x", NULL}, NULL, NULL, 10000), 1);
    srv_stop();
    cr_assert_eq(lossd_run((const char *[]){"--probe", ok, NULL}, NULL, NULL, 10000), 1,
                 "nothing listens any more");
}

Test(http_ops, bad_flags_and_values_exit_2_help_and_version_exit_0)
{
    static const char *const bad[][3] = {{"--bogus", NULL},
                                         {"--port", "http", NULL},
                                         {"--port", "65536", NULL},
                                         {"--max-body", "1X", NULL},
                                         {"--workers", "0", NULL},
                                         {"--log-format", "xml", NULL},
                                         {"--queue", "99999999999999999999999", NULL},
                                         {"--tls-cert", "/nonexistent.pem", NULL},
                                         {"stray", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(lossd_run(bad[i], NULL, NULL, 10000), 2, "%s %s", bad[i][0],
                     bad[i][1] ? bad[i][1] : "");
    cr_assert_eq(lossd_run((const char *[]){"--help", NULL}, NULL, NULL, 10000), 0);
    cr_assert_eq(lossd_run((const char *[]){"--version", NULL}, NULL, NULL, 10000), 0);
    cr_assert_eq(lossd_run((const char *[]){"--port", "0", NULL},
                           (const char *[]){"LOSSD_MAX_BODY=12Q", NULL}, NULL, 10000),
                 2);
}

Test(http_ops, port_already_in_use_exits_1)
{
    char port[16];
    srv_start(NULL);
    snprintf(port, sizeof port, "%u", srv.port);
    cr_assert_eq(
        lossd_run((const char *[]){"--bind", "127.0.0.1", "--port", port, NULL}, NULL, NULL, 10000),
        1);
    srv_stop();
}

Test(http_ops, forced_isa_ref_is_logged_and_exported)
{
    srv_start((const char *[]){"--isa", "ref", NULL});
    http_response r = get("/metrics");
    cr_assert(strstr(r.body, "isa=\"ref\"") != NULL, "%s", r.body);
    http_response_free(&r);
    srv_stop();
    char *log = lossd_log(&srv);
    cr_assert(strstr(log, "isa=ref (forced)") != NULL, "%s", log);
    free(log);
}

/* An ntxent body whose compute (a 2N x 2N similarity matrix and its gradient) dwarfs its
 * decoding, so the time a job holds the worker does not shrink with faster parsing. */
static char *heavy_ntxent_body(size_t n, size_t d, size_t *len)
{
    char *body = malloc(2 * n * d * 12 + 128), *p = body;
    p += sprintf(p, "{\"gradient\": true");
    for (int k = 0; k < 2; k++) {
        p += sprintf(p, ", \"%s\": [", k ? "x2" : "x1");
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < d; j++)
                p += sprintf(p, "%s%.4f", j ? "," : (i ? ",[" : "["),
                             (double)((i * 131 + j * 17 + (size_t)k * 7) % 2001) / 1000.0 - 1.0);
            *p++ = ']';
        }
        *p++ = ']';
    }
    p += sprintf(p, "}");
    *len = (size_t)(p - body);
    return body;
}

Test(http_ops, full_queue_yields_503_overloaded_with_retry_after)
{
    enum { N = 8 };
    http_conn c[N];
    size_t len;
    char *body = heavy_ntxent_body(1024, 64, &len); /* ~0.1 s of one worker each */
    int ok = 0, overloaded = 0;
    srv_start((const char *[]){"--workers", "1", "--queue", "1", NULL});
    for (int i = 0; i < N; i++) {
        cr_assert_eq(http_open(&c[i], srv.port), 0);
        cr_assert_eq(http_send_request(&c[i], "POST", "/v1/loss/ntxent", NULL, body, len), 0);
    }
    for (int i = 0; i < N; i++) {
        http_response r;
        cr_assert_eq(http_read(&c[i], &r, 0), 0);
        if (r.status == 200)
            ok++;
        if (r.status == 503) {
            expect_error(&r, 503, "overloaded");
            cr_assert_str_eq(hdr(&r, "Retry-After"), "1");
            overloaded++;
        }
        http_response_free(&r);
        http_close(&c[i]);
    }
    cr_assert_geq(ok, 1, "some requests are served");
    cr_assert_geq(overloaded, 1, "a queue of 1 with one worker must refuse some of %d", N);
    cr_assert_eq(ok + overloaded, N);
    free(body);
    srv_stop();
}

/* The deadline covers queueing and computing: 47 jobs of 0.1-1 s (fast or loaded machine)
 * on one worker cannot all end within 2 s of arriving; a cheap job queued first does. */
Test(http_ops, jobs_waiting_past_the_job_timeout_yield_503_timeout)
{
    enum { N = 48 };
    http_conn c[N];
    size_t len;
    char *body = heavy_ntxent_body(1024, 64, &len); /* ~0.1 s of one worker each */
    char cheap[16384];
    int ok = 0, timed_out = 0, n = snprintf(cheap, sizeof cheap, "{\"predictions\": [0.5");
    for (int k = 1; k < 1000; k++)
        n += snprintf(cheap + n, sizeof cheap - (size_t)n, ", 0.5");
    n += snprintf(cheap + n, sizeof cheap - (size_t)n, "], \"targets\": [1");
    for (int k = 1; k < 1000; k++)
        n += snprintf(cheap + n, sizeof cheap - (size_t)n, ", 1");
    snprintf(cheap + n, sizeof cheap - (size_t)n, "]}");
    srv_start((const char *[]){"--workers", "1", "--queue", "64", "--job-timeout", "2", NULL});
    for (int i = 0; i < N; i++) {
        cr_assert_eq(http_open(&c[i], srv.port), 0);
        if (i == 0) /* over --inline-max: a job, the first in the queue */
            cr_assert_eq(
                http_send_request(&c[i], "POST", "/v1/loss/mse", NULL, cheap, strlen(cheap)), 0);
        else
            cr_assert_eq(http_send_request(&c[i], "POST", "/v1/loss/ntxent", NULL, body, len), 0);
    }
    for (int i = 0; i < N; i++) {
        http_response r;
        cr_assert_eq(http_read(&c[i], &r, 0), 0);
        ok += r.status == 200;
        if (r.status == 503) {
            expect_error(&r, 503, "timeout");
            cr_assert_str_eq(hdr(&r, "Retry-After"), "1");
            timed_out++;
        }
        http_response_free(&r);
        http_close(&c[i]);
    }
    cr_assert_geq(ok, 1);
    cr_assert_geq(timed_out, 1, "%d jobs of ~0.1 s on one worker must outlast a 2 s deadline", N);
    cr_assert_eq(ok + timed_out, N);
    free(body);
    srv_stop();
}

/* Makes a self-signed certificate for 127.0.0.1 in the build directory with certtool
 * (gnutls-bin, in the test packages) or else openssl. Returns 0 if either worked. */
static int make_cert(const char *cert, const char *key)
{
    char tmpl[300], cmd[3072];
    FILE *f;
    snprintf(tmpl, sizeof tmpl, "%s.tmpl", cert);
    f = fopen(tmpl, "w");
    if (f == NULL)
        return -1;
    fputs("cn = \"127.0.0.1\"\nip_address = \"127.0.0.1\"\nexpiration_days = 1\nca\n"
          "cert_signing_key\nsigning_key\ntls_www_server\n",
          f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "{ certtool --generate-privkey --key-type ecdsa --outfile %s && "
             "certtool --generate-self-signed --load-privkey %s --template %s --outfile %s; } "
             ">/dev/null 2>&1 || openssl req -x509 -newkey ec -pkeyopt "
             "ec_paramgen_curve:prime256v1 -nodes -keyout %s -out %s -days 1 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
             key, key, tmpl, cert, key, cert);
    int rc = system(cmd);
    unlink(tmpl);
    return rc == 0 ? 0 : -1;
}

Test(http_ops, tls_serves_https_with_the_given_certificate)
{
    char cert[256], key[256], cmd[1024], out[256] = {0};
    snprintf(cert, sizeof cert, "%s/tls-%d-cert.pem", LOSSD_BINARY_DIR, (int)getpid());
    snprintf(key, sizeof key, "%s/tls-%d-key.pem", LOSSD_BINARY_DIR, (int)getpid());
    if (make_cert(cert, key) != 0 || system("curl --version >/dev/null 2>&1") != 0)
        cr_skip_test("certtool/openssl or curl not installed");
    srv_start((const char *[]){"--tls-cert", cert, "--tls-key", key, NULL});
    snprintf(cmd, sizeof cmd,
             "curl -s --cacert %s -w ' %%{http_code}' -H 'Content-Type: application/json' "
             "-d '" MSE_BODY "' https://127.0.0.1:%u/v1/loss/mse",
             cert, srv.port);
    FILE *p = popen(cmd, "r");
    cr_assert(p != NULL);
    cr_assert(fgets(out, sizeof out, p) != NULL);
    pclose(p);
    cr_assert(strstr(out, "\"loss\":\"mse\"") != NULL && strstr(out, " 200") != NULL, "%s", out);
    srv_stop();
    unlink(cert);
    unlink(key);
}

Test(http_ops, shutdown_delay_keeps_accepting_with_readiness_503_then_closes)
{
    srv_start((const char *[]){"--shutdown-delay", "1", NULL});
    double t0 = now_s();
    kill(srv.pid, SIGTERM);
    usleep(200000);
    http_response ready = get("/readyz"), loss = post("/v1/loss/mse", MSE_BODY);
    cr_assert_eq(ready.status, 503, "new connections during the delay see not-ready");
    cr_assert_eq(loss.status, 200, "and are still served: %s", loss.body);
    cr_assert(loss.closed, "with Connection: close");
    http_response_free(&ready);
    http_response_free(&loss);
    cr_assert_eq(wait_exit(10), 0);
    cr_assert_gt(now_s() - t0, 0.9, "exit only after the delay");
}

Test(http_ops, buffered_access_lines_should_all_reach_stderr_by_the_end_of_a_drain)
{
    char headers[64], id[32];
    int lines = 0;
    srv_start(NULL);
    for (int i = 0; i < 300; i++) { /* the last ones are still buffered when SIGTERM comes */
        snprintf(headers, sizeof headers, "X-Request-Id: drain-%d\r\n", i);
        http_response r = req("GET", "/v2/health/live", headers, NULL);
        cr_assert_eq(r.status, 200);
        http_response_free(&r);
    }
    srv_stop();
    char *log = lossd_log(&srv);
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof id, " id=drain-%d\n", i);
        lines += strstr(log, id) != NULL;
    }
    cr_assert_eq(lines, 300, "%d of 300 access lines in:\n%.2000s", lines, log);
    free(log);
}
