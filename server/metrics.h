/* metrics: lossd's Prometheus series. Recording is lock-free (relaxed atomics, no
 * allocation); rendering reads them, the gauges the caller passes and this process's
 * process_* figures into a text buffer. Labels are bounded: route is one of a fixed list,
 * loss a registry name, status one of a fixed set or "other", reason one of four. */
#ifndef LOSSD_SERVER_METRICS_H
#define LOSSD_SERVER_METRICS_H

#include <stddef.h>

#include "api.h"

typedef struct metrics metrics;

/* version and isa are borrowed (static strings). Returns NULL on no memory. */
metrics *metrics_create(const char *version, const char *isa);
void metrics_destroy(metrics *m); /* accepts NULL */

typedef struct {
    const char *route; /* the matched route's pattern ("/v1/loss/{}"), or NULL */
    int status;        /* HTTP status sent */
    double seconds;    /* first byte of the request to the last of the response */
    size_t bytes_in, bytes_out, elements;
    const api_computed *computed; /* every loss the request computed (borrowed) */
    size_t n_computed;
} metrics_sample;

/* Records one finished request. Thread-safe, lock-free. */
void metrics_record(metrics *m, const metrics_sample *s);

/* Why a request was turned away before any work (lossd_rejected_total{reason}). */
typedef enum {
    METRICS_REJECT_MEMORY = 0,   /* 503: the memory budget had no room now */
    METRICS_REJECT_MEMORY_LIMIT, /* 413: more memory than the budget ever allows */
    METRICS_REJECT_BODY_LIMIT,   /* 413: body beyond --max-body */
    METRICS_REJECT_QUEUE_FULL,   /* 503: the compute queue was full */
    METRICS_REJECT_COUNT
} metrics_reject_reason;

void metrics_reject(metrics *m, metrics_reject_reason reason);

/* Point-in-time figures the daemon reads for each scrape. */
typedef struct {
    size_t queue_depth, in_flight;
    size_t memory_budget;   /* bytes (0: unlimited) */
    size_t memory_reserved; /* bytes reserved by requests now */
    size_t memory_cache;    /* bytes the buffer cache keeps resident */
    size_t conns_open;      /* main-port connections now */
    size_t conns_refused;   /* connections answered 503 past a connection cap, so far */
    size_t conns_cut;       /* connections closed for a header or body deadline, so far */
} metrics_gauges;

/* Renders the exposition text (Prometheus 0.0.4). Returns a buffer the caller frees with
 * mem_free and sets *len, or NULL on no memory. */
char *metrics_render(metrics *m, const metrics_gauges *g, size_t *len);

#endif
