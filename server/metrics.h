/* metrics: lossd's Prometheus counters. Recording is lock-free (relaxed atomics, no
 * allocation); rendering reads them into a text buffer. Labels are bounded: the loss label
 * is a registry name or "none", the status label one of a fixed set or "other". */
#ifndef LOSSD_SERVER_METRICS_H
#define LOSSD_SERVER_METRICS_H

#include <stddef.h>

typedef struct metrics metrics;

/* version and isa are borrowed (static strings). Returns NULL on no memory. */
metrics *metrics_create(const char *version, const char *isa);
void metrics_destroy(metrics *m); /* accepts NULL */

typedef struct {
    const char *loss; /* a registry name (canonical or alias), or NULL */
    int status;       /* HTTP status sent */
    double seconds;   /* first byte of the request to the last of the response */
    size_t bytes_in, bytes_out, elements;
} metrics_sample;

/* Records one finished request. Thread-safe, lock-free. */
void metrics_record(metrics *m, const metrics_sample *s);

/* Renders the exposition text (Prometheus 0.0.4) with the two gauges given. Returns a
 * buffer the caller frees with mem_free and sets *len, or NULL on no memory. */
char *metrics_render(metrics *m, size_t queue_depth, size_t in_flight, size_t *len);

#endif
