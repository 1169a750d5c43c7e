/* daemon: lossd's HTTP server on libmicrohttpd. MHD I/O threads read requests into a
 * request-scoped buffer; compute requests are suspended and handed to the core worker
 * pool, which runs the api handler and resumes the connection with the reply. */
#ifndef LOSSD_SERVER_DAEMON_H
#define LOSSD_SERVER_DAEMON_H

#include <stddef.h>

#include "config.h"

typedef struct lossd_daemon lossd_daemon;

/* Starts the worker pool, metrics and the HTTP daemon per cfg (borrowed: it must outlive
 * the daemon). Returns NULL after logging why on failure. Stop with daemon_stop. */
lossd_daemon *daemon_start(const server_config *cfg);

/* The port actually bound (the ephemeral one when cfg->port is 0). */
unsigned daemon_port(const lossd_daemon *d);

/* SIGTERM begins here: readiness turns 503 and responses carry "Connection: close"; after
 * delay_s more seconds of accepting (time for a load balancer to see the 503 and stop
 * sending), the listening socket closes. In-flight requests go on throughout. */
void daemon_drain(lossd_daemon *d, size_t delay_s);

/* Waits up to cfg->drain_timeout for in-flight requests, refuses what is still queued with
 * 503 draining, resumes every suspended connection, stops MHD and the pool, and frees d
 * (NULL accepted). Returns 0 if every request finished in time, -1 otherwise. */
int daemon_stop(lossd_daemon *d);

#endif
