/* http_client: blocking sockets with receive timeouts, a growable receive buffer per
 * connection, and fork/exec of the daemon. Invariant: http_read consumes exactly one
 * response from the buffer and leaves any pipelined bytes after it in place. */
#define _GNU_SOURCE
#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef LOSSD_BINARY_DIR
#define LOSSD_BINARY_DIR "."
#endif

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- connections ---- */

int http_open(http_conn *c, unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {.tv_sec = 10};
    int one = 1;
    *c = (http_conn){.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (c->fd < 0)
        return -1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

void http_close(http_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    *c = (http_conn){.fd = -1};
}

int http_send(http_conn *c, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int http_send_request(http_conn *c, const char *method, const char *path, const char *headers,
                      const char *body, size_t len)
{
    char head[4096];
    int n;
    if (body)
        n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Length: %zu\r\n\r\n", method,
                     path, headers ? headers : "", len);
    else
        n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", method, path,
                     headers ? headers : "");
    if (n < 0 || (size_t)n >= sizeof head || http_send(c, head, (size_t)n) != 0)
        return -1;
    return body ? http_send(c, body, len) : 0;
}

/* Receives more bytes into c->buf. Returns bytes read, 0 on EOF, -1 on error/timeout. */
static ssize_t fill(http_conn *c)
{
    ssize_t n;
    if (c->cap - c->len < 65536) {
        size_t cap = c->cap * 2 + 65536;
        char *grown = realloc(c->buf, cap + 1);
        if (grown == NULL)
            return -1;
        c->buf = grown;
        c->cap = cap;
    }
    do
        n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

static void consume(http_conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Waits until the head is buffered; returns its length including the blank line, or 0. */
static size_t read_head(http_conn *c)
{
    for (;;) {
        if (c->buf) {
            c->buf[c->len] = '\0';
            char *end = c->len ? strstr(c->buf, "\r\n\r\n") : NULL;
            if (end)
                return (size_t)(end - c->buf) + 4;
        }
        if (fill(c) <= 0)
            return 0;
    }
}

int http_header(const http_response *r, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    for (const char *line = strstr(r->head, "\r\n"); line && line[2];
         line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2, *v, *eol = strstr(h, "\r\n");
        if (eol == NULL || strncasecmp(h, name, nlen) != 0 || h[nlen] != ':')
            continue;
        for (v = h + nlen + 1; *v == ' '; v++)
            ;
        snprintf(out, cap, "%.*s", (int)(eol - v), v);
        return 0;
    }
    return -1;
}

/* Reads the body of known length into r. */
static int read_body(http_conn *c, http_response *r, size_t len)
{
    while (c->len < len)
        if (fill(c) <= 0)
            return -1;
    r->body = malloc(len + 1);
    if (r->body == NULL)
        return -1;
    memcpy(r->body, c->buf, len);
    r->body[len] = '\0';
    r->body_len = len;
    consume(c, len);
    return 0;
}

/* Waits until a CRLF-terminated line is buffered from byte `from`; returns the offset just
 * past it, or 0. */
static size_t read_line(http_conn *c, size_t from)
{
    for (;;) {
        if (c->buf && c->len > from) {
            c->buf[c->len] = '\0';
            char *eol = strstr(c->buf + from, "\r\n");
            if (eol)
                return (size_t)(eol - c->buf) + 2;
        }
        if (fill(c) <= 0)
            return 0;
    }
}

/* Transfer-Encoding: chunked (large streamed replies): the chunks joined into r->body. */
static int read_chunked(http_conn *c, http_response *r)
{
    size_t len = 0;
    char *body = NULL;
    for (;;) {
        size_t line = read_line(c, 0), size;
        if (line == 0 || sscanf(c->buf, "%zx", &size) != 1)
            goto fail;
        consume(c, line);
        if (size == 0) {
            if (read_line(c, 0) != 2) /* no trailers: the empty line ends the body */
                goto fail;
            consume(c, 2);
            break;
        }
        while (c->len < size + 2)
            if (fill(c) <= 0)
                goto fail;
        char *grown = realloc(body, len + size + 1);
        if (grown == NULL)
            goto fail;
        body = grown;
        memcpy(body + len, c->buf, size);
        len += size;
        consume(c, size + 2);
    }
    r->body = body ? body : malloc(1);
    if (r->body == NULL)
        return -1;
    r->body[len] = '\0';
    r->body_len = len;
    return 0;
fail:
    free(body);
    return -1;
}

/* No Content-Length: the body runs to EOF. */
static int read_to_eof(http_conn *c, http_response *r)
{
    ssize_t n;
    while ((n = fill(c)) > 0)
        ;
    if (n < 0)
        return -1;
    r->closed = 1;
    return read_body(c, r, c->len);
}

int http_read(http_conn *c, http_response *r, int head_only)
{
    size_t head_len = read_head(c);
    char value[64];
    *r = (http_response){.status = 0};
    if (head_len == 0 || sscanf(c->buf, "HTTP/1.%*1[01] %3d", &r->status) != 1)
        return -1;
    r->head = strndup(c->buf, head_len);
    consume(c, head_len);
    if (r->head == NULL)
        return -1;
    if (http_header(r, "Connection", value, sizeof value) == 0 && strcasecmp(value, "close") == 0)
        r->closed = 1;
    if (r->status == 100) { /* interim: the real response follows */
        http_response_free(r);
        return http_read(c, r, head_only);
    }
    if (head_only || r->status == 204 || r->status == 304)
        return read_body(c, r, 0);
    if (http_header(r, "Content-Length", value, sizeof value) == 0)
        return read_body(c, r, strtoull(value, NULL, 10));
    if (http_header(r, "Transfer-Encoding", value, sizeof value) == 0 &&
        strcasecmp(value, "chunked") == 0)
        return read_chunked(c, r);
    return read_to_eof(c, r);
}

int http_await_continue(http_conn *c, http_response *r, int timeout_ms)
{
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    int status = 0;
    *r = (http_response){.status = 0};
    if (c->len == 0 && poll(&pfd, 1, timeout_ms) <= 0)
        return -1;
    size_t head_len = read_head(c);
    if (head_len == 0 || sscanf(c->buf, "HTTP/1.%*1[01] %3d", &status) != 1)
        return -1;
    if (status == 100) {
        consume(c, head_len);
        return 1;
    }
    return http_read(c, r, 0) == 0 ? 0 : -1;
}

void http_response_free(http_response *r)
{
    free(r->head);
    free(r->body);
    *r = (http_response){.status = 0};
}

int http_do(unsigned port, const char *method, const char *path, const char *headers,
            const char *body, size_t len, http_response *r)
{
    http_conn c;
    int rc;
    *r = (http_response){.status = 0};
    if (http_open(&c, port) != 0)
        return -1;
    rc = http_send_request(&c, method, path, headers, body, len);
    if (rc == 0)
        rc = http_read(&c, r, strcmp(method, "HEAD") == 0);
    http_close(&c);
    return rc;
}

int http_peer_closed(http_conn *c, int timeout_ms)
{
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    char byte;
    if (poll(&pfd, 1, timeout_ms) <= 0)
        return 0;
    return recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* ---- the server under test ---- */

char *lossd_log(const lossd_proc *p)
{
    FILE *f = fopen(p->log_path, "rb");
    char *buf = NULL;
    size_t len = 0;
    if (f == NULL)
        return strdup("");
    for (;;) {
        char *grown = realloc(buf, len + 65536 + 1);
        size_t n;
        if (grown == NULL)
            break;
        buf = grown;
        n = fread(buf + len, 1, 65536, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf ? buf : strdup("");
}

static void exec_child(const lossd_proc *p, const char *const *args, const char *const *env)
{
    const char *argv[64] = {LOSSD_BINARY_DIR "/lossd", "--port", "0", "--bind", "127.0.0.1"};
    size_t n = 5;
    int fd = open(p->log_path, O_WRONLY | O_APPEND | O_CLOEXEC);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
        _exit(126);
    for (; args && *args && n < 63; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    for (; env && *env; env++)
        putenv((char *)(uintptr_t)*env);
    execv(argv[0], (char *const *)(uintptr_t)argv);
    _exit(127);
}

/* Polls the log for "listening on 127.0.0.1:<port>". Returns the port or 0. */
static unsigned wait_listening(lossd_proc *p)
{
    for (int i = 0; i < 1000; i++) {
        char *log = lossd_log(p), *at = strstr(log, "listening on 127.0.0.1:");
        unsigned port = at ? (unsigned)strtoul(at + 23, NULL, 10) : 0;
        free(log);
        if (port)
            return port;
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            p->pid = 0;
            return 0;
        }
        sleep_ms(10);
    }
    return 0;
}

int lossd_start(lossd_proc *p, const char *const *args, const char *const *env)
{
    static unsigned serial;
    http_response r;
    int fd;
    *p = (lossd_proc){.pid = 0};
    snprintf(p->log_path, sizeof p->log_path, "%s/lossd-http-%d-%u.log", LOSSD_BINARY_DIR,
             (int)getpid(), serial++);
    /* Truncated here, before the child exists, so a stale file can never be read. */
    fd = open(p->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    close(fd);
    p->pid = fork();
    if (p->pid < 0)
        return -1;
    if (p->pid == 0)
        exec_child(p, args, env);
    p->port = wait_listening(p);
    for (const char *const *a = args; a && *a; a++)
        if (strcmp(*a, "--tls-cert") == 0) /* plain HTTP cannot check an HTTPS server */
            return p->port ? 0 : -1;
    for (int i = 0; p->port && i < 500; i++) {
        int rc = http_do(p->port, "GET", "/healthz", NULL, NULL, 0, &r);
        int status = r.status;
        http_response_free(&r);
        if (rc == 0 && status == 200)
            return 0;
        sleep_ms(10);
    }
    char *log = lossd_log(p);
    fprintf(stderr, "lossd did not come up; its log:\n%s\n", log);
    free(log);
    lossd_kill(p);
    return -1;
}

int lossd_stop(lossd_proc *p, int timeout_ms)
{
    int status;
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    for (int waited = 0; waited <= timeout_ms; waited += 5) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        sleep_ms(5);
    }
    lossd_kill(p);
    return -1;
}

void lossd_kill(lossd_proc *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
    }
    p->pid = 0;
    if (p->log_path[0])
        unlink(p->log_path);
    p->log_path[0] = '\0';
}

int lossd_run(const char *const *args, const char *const *env, const char *log_path, int timeout_ms)
{
    const char *argv[64] = {LOSSD_BINARY_DIR "/lossd"};
    size_t n = 1;
    int status;
    pid_t pid;
    for (; args && *args && n < 63; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
            _exit(126);
        for (; env && *env; env++)
            putenv((char *)(uintptr_t)*env);
        execv(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    for (int waited = 0; waited <= timeout_ms; waited += 5) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        sleep_ms(5);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}
