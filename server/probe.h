/* probe: a dependency-free HTTP health check (`lossd --probe URL`), so the container image
 * needs no curl for its HEALTHCHECK. Plain http only; one GET, one status line. */
#ifndef LOSSD_SERVER_PROBE_H
#define LOSSD_SERVER_PROBE_H

/* GETs url ("http://host[:port]/path") with a timeout of timeout_ms for connect, send and
 * each read. Returns the process exit code: 0 if the status is 2xx, else 1 (with one line
 * on stderr saying why). */
int probe_run(const char *url, int timeout_ms);

#endif
