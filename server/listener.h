/* listener: lossd's listening sockets and the one thread that accepts on them. Each
 * accepted connection is admitted by the conn_guard and handed to its libmicrohttpd daemon
 * (MHD_add_connection), or, past the caps, answered at once with a 503 JSON error and closed,
 * so a full server refuses quickly instead of leaving clients in the kernel's backlog. The
 * main socket can be closed without dropping what the kernel has already accepted. */
#ifndef LOSSD_SERVER_LISTENER_H
#define LOSSD_SERVER_LISTENER_H

#include <microhttpd.h>

#include "conn_guard.h"

typedef struct listener listener;

/* A listening socket bound to addr:port (IPv4 or IPv6 literal; port 0: ephemeral), with
 * the port actually bound in *bound. Returns the descriptor, or -1 after logging why. */
int listener_bind(const char *addr, unsigned port, unsigned *bound);

typedef struct {
    int fd;                 /* from listener_bind; owned by the listener from then on */
    struct MHD_Daemon *mhd; /* serves what fd accepts */
    int tls;                /* the daemon speaks TLS: refusals are closed, not answered */
    int admin;              /* health/metrics port: outside the caps */
} listener_port;

/* Starts the acceptor thread over main and, if admin->fd >= 0, admin. g and the daemons
 * are borrowed and must outlive the listener. Returns NULL (closing both descriptors) on
 * failure. */
listener *listener_start(conn_guard *g, const listener_port *main, const listener_port *admin);

/* Stops accepting on the main port: new connection attempts are dropped by a socket filter
 * (clients see a timeout, then a refusal once the socket is closed), every connection the
 * kernel has already accepted is taken and served, then the socket is closed. Returns when
 * it is closed. The admin port stays open. */
void listener_close_main(listener *l);

/* Joins the acceptor and closes every socket it still holds. NULL accepted. Call before the
 * daemons are stopped. */
void listener_stop(listener *l);

/* Connections refused with 503 so far (both caps). */
size_t listener_refused(listener *l);

#endif
