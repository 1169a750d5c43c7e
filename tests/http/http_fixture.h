/* http_fixture: what every HTTP suite shares: one lossd per test (started with the test's
 * own flags, killed in teardown if the test failed), and short request helpers that fail
 * the test when the transport fails. Include once per test file. */
#ifndef LOSSD_TESTS_HTTP_FIXTURE_H
#define LOSSD_TESTS_HTTP_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"

static lossd_proc srv;

__attribute__((unused)) static void srv_teardown(void)
{
    lossd_kill(&srv);
}

/* Monotonic seconds, for deadlines and elapsed times. */
__attribute__((unused)) static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for the signalled server to exit; returns its status (128 + signal when killed) or
 * -1 after timeout_s. */
__attribute__((unused)) static int wait_exit(double timeout_s)
{
    int status;
    double end = now_s() + timeout_s;
    while (now_s() < end) {
        if (waitpid(srv.pid, &status, WNOHANG) == srv.pid) {
            srv.pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        usleep(5000);
    }
    return -1;
}

/* Starts lossd with extra flags (NULL-terminated list, or NULL). */
__attribute__((unused)) static void srv_start(const char *const *args)
{
    cr_assert_eq(lossd_start(&srv, args, NULL), 0, "lossd did not start");
}

/* SIGTERM; the daemon must drain and exit 0 (under ASan also: without leaks). */
__attribute__((unused)) static void srv_stop(void)
{
    int rc = lossd_stop(&srv, 15000);
    if (rc != 0) {
        char *log = lossd_log(&srv);
        cr_log_error("lossd log:\n%s", log);
        free(log);
    }
    cr_assert_eq(rc, 0, "lossd exited with %d", rc);
}

/* Stops the server cleanly and skips the rest of the test (fini does not run on a skip). */
#define srv_skip(...)              \
    do {                           \
        srv_stop();                \
        lossd_kill(&srv);          \
        cr_skip_test(__VA_ARGS__); \
    } while (0)

/* One request on a new connection; the transport must work. */
__attribute__((unused)) static http_response req(const char *method, const char *path,
                                                 const char *headers, const char *body)
{
    http_response r;
    cr_assert_eq(http_do(srv.port, method, path, headers, body, body ? strlen(body) : 0, &r), 0,
                 "%s %s: no HTTP response", method, path);
    return r;
}

__attribute__((unused)) static http_response get(const char *path)
{
    return req("GET", path, NULL, NULL);
}

__attribute__((unused)) static http_response post(const char *path, const char *body)
{
    return req("POST", path, "Content-Type: application/json\r\n", body);
}

/* The value of a response header (the test fails if it is absent). */
__attribute__((unused)) static const char *hdr(const http_response *r, const char *name)
{
    static char value[1024];
    cr_assert_eq(http_header(r, name, value, sizeof value), 0, "no %s header in:\n%s", name,
                 r->head);
    return value;
}

__attribute__((unused)) static int has_hdr(const http_response *r, const char *name)
{
    char value[8];
    return http_header(r, name, value, sizeof value) == 0;
}

/* Asserts the status and, for JSON errors, that the wire code appears in the body. */
__attribute__((unused)) static void expect_error(const http_response *r, int status,
                                                 const char *code)
{
    char quoted[96];
    cr_assert_eq(r->status, status, "expected %d, got %d: %s", status, r->status, r->body);
    snprintf(quoted, sizeof quoted, "\"%s\"", code);
    cr_assert(strstr(r->body, quoted) != NULL, "expected code %s in %s", code, r->body);
}

#endif
