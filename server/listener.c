/* listener: one acceptor thread polls the listening sockets, a wake-up eventfd and the
 * sockets of refused clients that are still being answered. Invariant: only this thread
 * accepts, so a descriptor number it hands to the conn_guard cannot be reused by another
 * accept before the guard hears of it. */
#define _GNU_SOURCE
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"

#define ACCEPT_BATCH 64
#define LINGER_MAX 256      /* refused sockets still being answered */
#define LINGER_MS 1000      /* how long a refused client gets to read its 503 */
#define LINGER_DRAIN 65536  /* bytes read (and dropped) from a refused client, at most */
#define EMFILE_PAUSE_MS 100 /* out of descriptors: stop accepting this long */
#define SETTLE_MS 100       /* at close: time for handshakes under way to complete */

typedef struct {
    int fd;
    uint64_t until_ns;
    size_t drained;
} lingering;

struct listener {
    conn_guard *guard;
    listener_port port[2]; /* main, admin (fd -1: none) */
    uint64_t paused_until_ns[2];
    int wake_fd;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t closed_cv;
    int close_main, main_closed, stopping; /* under mu */
    lingering linger[LINGER_MAX];
    size_t n_linger;
    atomic_size_t refused;
    char refuse_full[320], refuse_per_ip[320];
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int listener_bind(const char *addr, unsigned port, unsigned *bound)
{
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
        struct sockaddr_storage ss;
    } a;
    socklen_t len;
    int one = 1, fd;
    memset(&a, 0, sizeof a);
    if (inet_pton(AF_INET, addr, &a.in4.sin_addr) == 1) {
        a.in4.sin_family = AF_INET;
        a.in4.sin_port = htons((uint16_t)port);
        len = sizeof a.in4;
    } else if (inet_pton(AF_INET6, addr, &a.in6.sin6_addr) == 1) {
        a.in6.sin6_family = AF_INET6;
        a.in6.sin6_port = htons((uint16_t)port);
        len = sizeof a.in6;
    } else {
        log_msg("error", "--bind %s is not an IPv4 or IPv6 address", addr);
        return -1;
    }
    fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (a.sa.sa_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
        bind(fd, &a.sa, len) != 0 || listen(fd, 1024) != 0) {
        log_msg("error", "cannot listen on %s:%u: %s", addr, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    len = sizeof a.ss;
    *bound = getsockname(fd, &a.sa, &len) == 0
                 ? ntohs(a.sa.sa_family == AF_INET ? a.in4.sin_port : a.in6.sin6_port)
                 : port;
    return fd;
}

/* ---- refusing ---- */

/* The whole 503 response for a refusal, built once: the body in lossd's JSON error form. */
static void build_refusal(char *out, size_t cap, const char *message)
{
    char body[160];
    int n = snprintf(body, sizeof body, "{\"error\":{\"code\":\"overloaded\",\"message\":\"%s\"}}",
                     message);
    snprintf(out, cap,
             "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
             "Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
             n, body);
}

static void close_linger(listener *l, size_t i)
{
    close(l->linger[i].fd);
    l->linger[i] = l->linger[--l->n_linger];
}

/* Reads and drops what a refused client sent: closing with unread bytes would reset the
 * connection and could destroy the 503 before the client reads it. Returns 1 at its EOF. */
static int drain(lingering *g)
{
    char buf[4096];
    while (g->drained < LINGER_DRAIN) {
        ssize_t n = recv(g->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return 1;
        if (n < 0)
            return 0;
        g->drained += (size_t)n;
    }
    return 1;
}

/* Answers 503 and half-closes; the socket then lingers until the client closes, has sent
 * too much, or LINGER_MS passes. TLS ports cannot answer in clear text: closed at once. */
static void refuse(listener *l, const listener_port *p, int fd, guard_verdict v)
{
    const char *msg = v == GUARD_PER_IP ? l->refuse_per_ip : l->refuse_full;
    size_t len = strlen(msg);
    atomic_fetch_add(&l->refused, 1);
    if (p->tls) {
        close(fd);
        return;
    }
    lingering g = {fd, now_ns() + (uint64_t)LINGER_MS * 1000000u, 0};
    drain(&g);
    if (send(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 || shutdown(fd, SHUT_WR) != 0 ||
        drain(&g)) {
        close(fd);
        return;
    }
    if (l->n_linger == LINGER_MAX)
        close_linger(l, 0);
    l->linger[l->n_linger++] = g;
}

/* ---- accepting ---- */

/* Takes up to `max` connections from port i (all pending ones when max is 0). */
static void accept_batch(listener *l, int i, size_t max)
{
    listener_port *p = &l->port[i];
    for (size_t n = 0; max == 0 || n < max; n++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(p->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_msg("warn", "accept: %s; pausing %d ms", strerror(errno), EMFILE_PAUSE_MS);
                l->paused_until_ns[i] = now_ns() + (uint64_t)EMFILE_PAUSE_MS * 1000000u;
            }
            return; /* EAGAIN: nothing more now; ECONNABORTED and the like: next poll */
        }
        guard_verdict v = conn_guard_admit(l->guard, fd, (struct sockaddr *)&ss, len, p->admin);
        if (v != GUARD_ADMIT)
            refuse(l, p, fd, v);
        else if (MHD_add_connection(p->mhd, fd, (struct sockaddr *)&ss, len) != MHD_YES)
            conn_guard_closed(l->guard, fd); /* libmicrohttpd closed it */
    }
}

/* A socket filter for the listening socket: drops a segment with SYN and without ACK (a new
 * connection attempt), keeps the rest, so handshakes already under way still complete.
 * Socket filters see the TCP header at offset 0; byte 13 holds the flags. */
static const struct sock_filter refuse_syn[] = {
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x10, 2, 0), /* ACK: keep */
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x02, 0, 1), /* SYN: drop, else keep */
    BPF_STMT(BPF_RET | BPF_K, 0),
    BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
};

/* The main port's last act: new SYNs are dropped (the clients retry, then find the port
 * closed), handshakes under way get SETTLE_MS to complete, everything the kernel accepted is
 * taken into the daemon, then the socket closes. Closing at once would reset the connections
 * still in the accept queue, which their clients already saw as established. */
static void close_main(listener *l)
{
    struct sock_fprog prog = {.len = sizeof refuse_syn / sizeof refuse_syn[0],
                              .filter = (struct sock_filter *)(uintptr_t)refuse_syn};
    int fd = l->port[0].fd;
    if (fd >= 0) {
        if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
            log_msg("warn", "cannot filter the listening socket: %s", strerror(errno));
        uint64_t until = now_ns() + (uint64_t)SETTLE_MS * 1000000u;
        do {
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            if (poll(&pf, 1, 10) > 0)
                accept_batch(l, 0, 0);
        } while (now_ns() < until);
        accept_batch(l, 0, 0);
        close(fd);
        l->port[0].fd = -1;
    }
    pthread_mutex_lock(&l->mu);
    l->main_closed = 1;
    pthread_cond_broadcast(&l->closed_cv);
    pthread_mutex_unlock(&l->mu);
}

/* poll set: [0] wake, [1] main, [2] admin, then lingering sockets. */
static nfds_t fill_poll(listener *l, struct pollfd *pf, uint64_t now)
{
    nfds_t n = 0;
    pf[n++] = (struct pollfd){.fd = l->wake_fd, .events = POLLIN};
    for (int i = 0; i < 2; i++) {
        int usable = l->port[i].fd >= 0 && now >= l->paused_until_ns[i];
        pf[n++] = (struct pollfd){.fd = usable ? l->port[i].fd : -1, .events = POLLIN};
    }
    for (size_t k = 0; k < l->n_linger; k++)
        pf[n++] = (struct pollfd){.fd = l->linger[k].fd, .events = POLLIN};
    return n;
}

static void serve_lingering(listener *l, const struct pollfd *pf, uint64_t now)
{
    /* Walk backwards: close_linger moves the last entry into the freed slot. */
    for (size_t k = l->n_linger; k-- > 0;) {
        int done = now >= l->linger[k].until_ns;
        if (!done && (pf[3 + k].revents & (POLLIN | POLLHUP | POLLERR)))
            done = drain(&l->linger[k]);
        if (done)
            close_linger(l, k);
    }
}

/* Handles the wake-up eventfd; returns 1 when the thread must stop. */
static int on_wake(listener *l)
{
    uint64_t v;
    int close_now, stop;
    if (read(l->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN) {
        /* nothing to do: the flags below are what matter */
    }
    pthread_mutex_lock(&l->mu);
    close_now = l->close_main && !l->main_closed;
    stop = l->stopping;
    pthread_mutex_unlock(&l->mu);
    if (close_now)
        close_main(l);
    return stop;
}

static void *acceptor_main(void *arg)
{
    listener *l = arg;
    struct pollfd pf[3 + LINGER_MAX];
    for (;;) {
        uint64_t now = now_ns();
        nfds_t n = fill_poll(l, pf, now);
        if (poll(pf, n, 100) < 0 && errno != EINTR)
            log_msg("warn", "acceptor poll: %s", strerror(errno));
        if ((pf[0].revents & POLLIN) && on_wake(l))
            break;
        for (int i = 0; i < 2; i++)
            if (pf[1 + i].fd >= 0 && (pf[1 + i].revents & POLLIN) && l->port[i].fd >= 0)
                accept_batch(l, i, ACCEPT_BATCH);
        serve_lingering(l, pf, now_ns());
    }
    return NULL;
}

listener *listener_start(conn_guard *g, const listener_port *main, const listener_port *admin)
{
    listener *l = mem_calloc(1, sizeof *l);
    if (l == NULL)
        goto fail;
    l->guard = g;
    build_refusal(l->refuse_full, sizeof l->refuse_full,
                  "the server has too many connections; retry later");
    build_refusal(l->refuse_per_ip, sizeof l->refuse_per_ip,
                  "too many connections from your address; retry later");
    l->port[0] = *main;
    l->port[1] = *admin;
    l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->closed_cv, NULL);
    if (l->wake_fd < 0 || pthread_create(&l->thread, NULL, acceptor_main, l) != 0) {
        if (l->wake_fd >= 0)
            close(l->wake_fd);
        pthread_cond_destroy(&l->closed_cv);
        pthread_mutex_destroy(&l->mu);
        mem_free(l);
        goto fail;
    }
    return l;
fail:
    log_msg("error", "cannot start the acceptor thread");
    if (main->fd >= 0)
        close(main->fd);
    if (admin->fd >= 0)
        close(admin->fd);
    return NULL;
}

static void wake(listener *l)
{
    uint64_t one = 1;
    if (write(l->wake_fd, &one, sizeof one) < 0) { /* a full counter still wakes the thread */
    }
}

void listener_close_main(listener *l)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10; /* the acceptor is never busy for long; do not hang a shutdown on it */
    pthread_mutex_lock(&l->mu);
    l->close_main = 1;
    wake(l);
    while (!l->main_closed)
        if (pthread_cond_timedwait(&l->closed_cv, &l->mu, &until) != 0)
            break;
    pthread_mutex_unlock(&l->mu);
}

void listener_stop(listener *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->mu);
    l->stopping = 1;
    wake(l);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    for (int i = 0; i < 2; i++)
        if (l->port[i].fd >= 0)
            close(l->port[i].fd);
    while (l->n_linger > 0)
        close_linger(l, l->n_linger - 1);
    close(l->wake_fd);
    pthread_cond_destroy(&l->closed_cv);
    pthread_mutex_destroy(&l->mu);
    mem_free(l);
}

size_t listener_refused(listener *l)
{
    return atomic_load(&l->refused);
}
