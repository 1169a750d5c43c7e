/* conn_guard: admission and deadlines for client connections. The acceptor asks it whether
 * a fresh connection may in (a global cap and a per-address cap); libmicrohttpd's callbacks
 * tell it where each connection is (waiting for headers, uploading, being answered, idle
 * between requests); a sweeper thread closes the ones that are too slow: the request line
 * and headers must arrive within header_timeout, a body must then average min_body_rate, and
 * a keep-alive connection may wait idle_timeout for its next request. Closing is
 * shutdown(2) on the socket: libmicrohttpd then sees the end of the stream and cleans up as
 * for any client that went away. Connections are known by their descriptor. */
#ifndef LOSSD_SERVER_CONN_GUARD_H
#define LOSSD_SERVER_CONN_GUARD_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct conn_guard conn_guard;

typedef struct {
    size_t max_conns;        /* main-port connections at once */
    size_t max_per_ip;       /* main-port connections from one address (0: no cap) */
    size_t header_timeout_s; /* request line + headers */
    size_t min_body_rate;    /* bytes/s over a body, once header_timeout_s has passed (0: off) */
    size_t idle_timeout_s;   /* keep-alive wait for the next request */
} conn_guard_limits;

/* Starts the sweeper. Returns NULL on failure. lim is copied. */
conn_guard *conn_guard_create(const conn_guard_limits *lim);

/* Stops the sweeper and frees g (NULL accepted). Call after the HTTP daemons are stopped. */
void conn_guard_destroy(conn_guard *g);

typedef enum { GUARD_ADMIT = 0, GUARD_FULL, GUARD_PER_IP } guard_verdict;

/* A connection was just accepted on fd from addr. Admin connections (the health and metrics
 * port) are tracked for their deadlines but never refused nor counted. On GUARD_ADMIT the
 * connection is counted until conn_guard_closed (or conn_guard_forget); otherwise nothing is
 * recorded and the caller refuses it. */
guard_verdict conn_guard_admit(conn_guard *g, int fd, const struct sockaddr *addr,
                               socklen_t addr_len, int admin);

/* The connection ended (libmicrohttpd's close notification, before it closes fd), or could
 * not be handed over at all. */
void conn_guard_closed(conn_guard *g, int fd);

/* Where the connection is now: its request line arrived; its headers are in (has_body: a
 * body follows); n more body bytes arrived; it is being computed and answered (no deadline
 * here: the job's own deadline applies); its response is sent (idle until the next request). */
void conn_guard_request_line(conn_guard *g, int fd);
void conn_guard_headers_done(conn_guard *g, int fd, int has_body);
void conn_guard_body(conn_guard *g, int fd, size_t n);
void conn_guard_busy(conn_guard *g, int fd);
void conn_guard_idle(conn_guard *g, int fd);

/* Main-port connections counted now, and connections closed by the sweeper so far. */
size_t conn_guard_count(conn_guard *g);
size_t conn_guard_cut(conn_guard *g);

#endif
