/* conn_guard: a table of live connections indexed by descriptor, one mutex, and a sweeper
 * thread that wakes every SWEEP_MS. Invariant: a slot is active exactly between the admit of
 * its descriptor and the close notification for it, which libmicrohttpd sends before it
 * closes the descriptor; so shutdown(2) under the mutex only ever reaches the connection the
 * slot describes. (A descriptor libmicrohttpd drops without notice, on an internal error, is
 * recognised when accept(2) hands out the same number again: its stale slot is replaced.) */
#define _GNU_SOURCE
#include "conn_guard.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "mem.h"

#define SWEEP_MS 200

typedef enum { PHASE_HEADERS = 0, PHASE_BODY, PHASE_BUSY, PHASE_IDLE } conn_phase;

typedef struct {
    int active, admin, cut;
    conn_phase phase;
    uint64_t since_ns;    /* when the phase began */
    uint64_t deadline_ns; /* PHASE_HEADERS and PHASE_IDLE: when the connection is closed */
    size_t body_bytes;
    unsigned char addr[16]; /* IPv4 mapped into IPv6 form: one key for both families */
} conn_slot;

struct conn_guard {
    conn_guard_limits lim;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_t sweeper;
    int stopping;
    conn_slot *slots; /* by descriptor */
    size_t n_slots;
    size_t count; /* active main-port slots */
    atomic_size_t cut;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t secs(size_t s)
{
    return (uint64_t)s * 1000000000u;
}

static void addr_key(const struct sockaddr *sa, socklen_t len, unsigned char key[16])
{
    memset(key, 0, 16);
    if (sa && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        memcpy(key, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    }
}

/* The slot of fd, growing the table; NULL if fd is negative or memory is short. */
static conn_slot *slot_of(conn_guard *g, int fd, int grow)
{
    if (fd < 0)
        return NULL;
    if ((size_t)fd >= g->n_slots) {
        if (!grow)
            return NULL;
        size_t n = g->n_slots ? g->n_slots : 256;
        while (n <= (size_t)fd)
            n *= 2;
        conn_slot *s = mem_realloc(g->slots, n * sizeof *s);
        if (s == NULL)
            return NULL;
        memset(s + g->n_slots, 0, (n - g->n_slots) * sizeof *s);
        g->slots = s;
        g->n_slots = n;
    }
    return &g->slots[fd];
}

static void release_slot(conn_guard *g, conn_slot *s)
{
    if (s->active && !s->admin)
        g->count--;
    s->active = 0;
}

static size_t count_from(const conn_guard *g, const unsigned char key[16])
{
    size_t n = 0;
    for (size_t i = 0; i < g->n_slots; i++)
        n += g->slots[i].active && !g->slots[i].admin && memcmp(g->slots[i].addr, key, 16) == 0;
    return n;
}

guard_verdict conn_guard_admit(conn_guard *g, int fd, const struct sockaddr *addr,
                               socklen_t addr_len, int admin)
{
    unsigned char key[16];
    guard_verdict v = GUARD_ADMIT;
    addr_key(addr, addr_len, key);
    pthread_mutex_lock(&g->mu);
    conn_slot *s = slot_of(g, fd, 1);
    if (s != NULL)
        release_slot(g, s); /* a stale slot: its descriptor was closed without notice */
    if (!admin && g->count >= g->lim.max_conns)
        v = GUARD_FULL;
    else if (!admin && g->lim.max_per_ip && count_from(g, key) >= g->lim.max_per_ip)
        v = GUARD_PER_IP;
    if (v == GUARD_ADMIT && s != NULL) {
        uint64_t now = now_ns();
        *s = (conn_slot){.active = 1,
                         .admin = admin,
                         .phase = PHASE_HEADERS,
                         .since_ns = now,
                         .deadline_ns = now + secs(g->lim.header_timeout_s)};
        memcpy(s->addr, key, 16);
        g->count += !admin;
    }
    pthread_mutex_unlock(&g->mu);
    return v;
}

void conn_guard_closed(conn_guard *g, int fd)
{
    pthread_mutex_lock(&g->mu);
    conn_slot *s = slot_of(g, fd, 0);
    if (s != NULL)
        release_slot(g, s);
    pthread_mutex_unlock(&g->mu);
}

/* Runs fn on fd's active slot under the mutex. */
#define WITH_SLOT(g, fd, body)                \
    do {                                      \
        pthread_mutex_lock(&(g)->mu);         \
        conn_slot *s = slot_of((g), (fd), 0); \
        if (s != NULL && s->active) {         \
            body;                             \
        }                                     \
        pthread_mutex_unlock(&(g)->mu);       \
    } while (0)

void conn_guard_request_line(conn_guard *g, int fd)
{
    uint64_t limit = now_ns() + secs(g->lim.header_timeout_s);
    /* From an idle keep-alive wait: the rest of the headers get header_timeout. */
    WITH_SLOT(
        g, fd, if (s->phase == PHASE_IDLE) {
            s->phase = PHASE_HEADERS;
            if (limit < s->deadline_ns)
                s->deadline_ns = limit;
        });
}

void conn_guard_headers_done(conn_guard *g, int fd, int has_body)
{
    uint64_t now = now_ns();
    WITH_SLOT(g, fd, {
        s->phase = has_body ? PHASE_BODY : PHASE_BUSY;
        s->since_ns = now;
        s->body_bytes = 0;
    });
}

void conn_guard_body(conn_guard *g, int fd, size_t n)
{
    WITH_SLOT(g, fd, s->body_bytes += n);
}

void conn_guard_busy(conn_guard *g, int fd)
{
    WITH_SLOT(g, fd, s->phase = PHASE_BUSY);
}

void conn_guard_idle(conn_guard *g, int fd)
{
    uint64_t now = now_ns();
    WITH_SLOT(g, fd, {
        s->phase = PHASE_IDLE;
        s->since_ns = now;
        s->deadline_ns = now + secs(g->lim.idle_timeout_s);
    });
}

size_t conn_guard_count(conn_guard *g)
{
    pthread_mutex_lock(&g->mu);
    size_t n = g->count;
    pthread_mutex_unlock(&g->mu);
    return n;
}

size_t conn_guard_cut(conn_guard *g)
{
    return atomic_load(&g->cut);
}

/* Whether the slot is past its deadline: headers or idle wait too long, or a body slower
 * than min_body_rate on average once header_timeout has passed. */
static int too_slow(const conn_guard *g, const conn_slot *s, uint64_t now)
{
    switch (s->phase) {
    case PHASE_HEADERS:
    case PHASE_IDLE:
        return now > s->deadline_ns;
    case PHASE_BODY: {
        uint64_t grace = secs(g->lim.header_timeout_s), elapsed = now - s->since_ns;
        if (g->lim.min_body_rate == 0 || elapsed <= grace)
            return 0;
        double owed = (double)g->lim.min_body_rate * (double)(elapsed - grace) / 1e9;
        return (double)s->body_bytes < owed;
    }
    case PHASE_BUSY:
        return 0;
    }
    return 0;
}

static void sweep(conn_guard *g)
{
    uint64_t now = now_ns();
    for (size_t fd = 0; fd < g->n_slots; fd++) {
        conn_slot *s = &g->slots[fd];
        if (!s->active || s->cut || !too_slow(g, s, now))
            continue;
        s->cut = 1;
        shutdown((int)fd, SHUT_RDWR);
        atomic_fetch_add(&g->cut, 1);
    }
}

static void *sweeper_main(void *arg)
{
    conn_guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += SWEEP_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->wake, &g->mu, &until);
        if (!g->stopping)
            sweep(g);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

conn_guard *conn_guard_create(const conn_guard_limits *lim)
{
    pthread_condattr_t ca;
    conn_guard *g = mem_calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    g->lim = *lim;
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->sweeper, NULL, sweeper_main, g) != 0) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->mu);
        mem_free(g);
        return NULL;
    }
    return g;
}

void conn_guard_destroy(conn_guard *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    g->stopping = 1;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->sweeper, NULL);
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->mu);
    mem_free(g->slots);
    mem_free(g);
}
