/* probe: parse http://host[:port]/path, connect with a deadline, send one GET, read the
 * status line. Invariant: it never hangs longer than about four timeouts and never exits 0
 * unless the server answered 2xx. */
#define _GNU_SOURCE
#include "probe.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct {
    char host[256];
    char port[8];
    const char *path;
} probe_target;

/* Returns 0 and fills t, or -1 for anything but http://host[:port][/path]. */
static int parse_url(const char *url, probe_target *t)
{
    const char *host = url + 7, *end, *colon;
    size_t host_len;
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    end = host + strcspn(host, "/");
    t->path = *end ? end : "/";
    if (*host == '[') { /* IPv6 literal */
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (close == NULL)
            return -1;
        colon = close[1] == ':' ? close + 1 : NULL;
        host_len = (size_t)(close - host - 1);
        host++;
    } else {
        colon = memchr(host, ':', (size_t)(end - host));
        host_len = (size_t)((colon ? colon : end) - host);
    }
    if (host_len == 0 || host_len >= sizeof t->host)
        return -1;
    memcpy(t->host, host, host_len);
    t->host[host_len] = '\0';
    if (colon == NULL) {
        strcpy(t->port, "80");
        return 0;
    }
    if (end - colon - 1 < 1 || end - colon - 1 > 5 ||
        strspn(colon + 1, "0123456789") < (size_t)(end - colon - 1))
        return -1;
    memcpy(t->port, colon + 1, (size_t)(end - colon - 1));
    t->port[end - colon - 1] = '\0';
    return 0;
}

static int connect_to(const probe_target *t, int timeout_ms)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    int fd = -1;
    if (getaddrinfo(t->host, t->port, &hints, &res) != 0)
        return -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        /* On Linux SO_SNDTIMEO also bounds connect(). */
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* Reads until the status line is complete; returns the status or -1. */
static int read_status(int fd)
{
    char buf[512];
    size_t len = 0;
    int status;
    while (len < sizeof buf - 1) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        if (strchr(buf, '\n'))
            break;
    }
    buf[len] = '\0';
    if (sscanf(buf, "HTTP/1.%*1[01] %3d", &status) != 1)
        return -1;
    return status;
}

int probe_run(const char *url, int timeout_ms)
{
    probe_target t;
    char req[1024];
    int fd, n, status;
    if (parse_url(url, &t) != 0) {
        fprintf(stderr, "lossd --probe: unsupported URL '%s' (want http://host:port/path)\n", url);
        return 1;
    }
    n = snprintf(req, sizeof req,
                 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: lossd-probe\r\n"
                 "Connection: close\r\n\r\n",
                 t.path, t.host);
    if (n < 0 || (size_t)n >= sizeof req) {
        fprintf(stderr, "lossd --probe: URL too long\n");
        return 1;
    }
    fd = connect_to(&t, timeout_ms);
    if (fd < 0) {
        fprintf(stderr, "lossd --probe: cannot connect to %s:%s\n", t.host, t.port);
        return 1;
    }
    status = write(fd, req, (size_t)n) == n ? read_status(fd) : -1;
    close(fd);
    if (status < 200 || status > 299) {
        fprintf(stderr, "lossd --probe: %s answered %d\n", url, status);
        return 1;
    }
    return 0;
}
