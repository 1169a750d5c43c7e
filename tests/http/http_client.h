/* http_client: a tiny HTTP/1.1 client over plain sockets and a lossd child-process harness
 * for the HTTP tests (no libcurl). Responses are read strictly by Content-Length, chunked
 * transfer encoding (large streamed replies) or to EOF when the server closes, so pipelined
 * responses on one connection stay separate. */
#ifndef LOSSD_TESTS_HTTP_CLIENT_H
#define LOSSD_TESTS_HTTP_CLIENT_H

#include <stddef.h>
#include <sys/types.h>

/* ---- the server under test ---- */

typedef struct {
    pid_t pid; /* 0 when not running */
    unsigned port;
    char log_path[256];
} lossd_proc;

/* Starts LOSSD_BINARY_DIR/lossd with "--port 0 --bind 127.0.0.1" and args (NULL-terminated,
 * may be NULL), stderr into a log file; returns once it answers GET /healthz (with
 * --tls-cert: once it logs that it listens). env
 * (NULL-terminated "NAME=value" strings, may be NULL) is added to the environment. Returns 0,
 * or -1 if it did not come up within 10 s (the child is then killed). The child dies with
 * the test process (PR_SET_PDEATHSIG). */
int lossd_start(lossd_proc *p, const char *const *args, const char *const *env);

/* Sends SIGTERM and waits up to timeout_ms. Returns the exit status, 128+signal if killed
 * by one, or -1 if it did not exit in time (it is then killed). */
int lossd_stop(lossd_proc *p, int timeout_ms);

/* Kills a still-running child and deletes its log (for test teardown). */
void lossd_kill(lossd_proc *p);

/* Runs lossd with exactly args (no --port/--bind added) to completion, output discarded
 * (or into log_path when not NULL). Returns its exit status, 128+signal, or -1 after
 * timeout_ms (it is then killed). */
int lossd_run(const char *const *args, const char *const *env, const char *log_path,
              int timeout_ms);

/* The server's stderr so far; caller frees with free(). */
char *lossd_log(const lossd_proc *p);

/* ---- connections ---- */

typedef struct {
    int fd;
    char *buf; /* bytes received but not yet consumed */
    size_t len, cap;
} http_conn;

typedef struct {
    int status;
    char *head; /* status line and headers, NUL-terminated */
    char *body; /* NUL-terminated after body_len bytes */
    size_t body_len;
    int closed; /* the server closed the connection after this response */
} http_response;

/* Connects to 127.0.0.1:port with a 10 s receive timeout. Returns 0 or -1. */
int http_open(http_conn *c, unsigned port);
void http_close(http_conn *c);

/* Writes all of data. Returns 0 or -1 (e.g. the server closed the connection). */
int http_send(http_conn *c, const void *data, size_t len);

/* Sends one request: method, path, extra header lines (each ending "\r\n", may be NULL),
 * and a body (with its Content-Length) unless body is NULL. */
int http_send_request(http_conn *c, const char *method, const char *path, const char *headers,
                      const char *body, size_t len);

/* Reads one response (head_only: the request was HEAD). Returns 0, or -1 on timeout, EOF
 * before a complete response, or a malformed response. */
int http_read(http_conn *c, http_response *r, int head_only);
void http_response_free(http_response *r);

/* After sending a head with "Expect: 100-continue": waits up to timeout_ms for the server's
 * answer. Returns 1 when it says 100 Continue (send the body now), 0 when it answered at once
 * with a final response (read into r; the body must not be sent), -1 on timeout or error. */
int http_await_continue(http_conn *c, http_response *r, int timeout_ms);

/* One request on a fresh connection. Returns 0 or -1. */
int http_do(unsigned port, const char *method, const char *path, const char *headers,
            const char *body, size_t len, http_response *r);

/* Copies header `name`'s value (case-insensitive) into out. Returns 0, or -1 if absent. */
int http_header(const http_response *r, const char *name, char *out, size_t cap);

/* Whether the peer has closed the connection (waits up to timeout_ms for EOF). */
int http_peer_closed(http_conn *c, int timeout_ms);

#endif
