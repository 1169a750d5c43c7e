/* log: lossd's stderr lines, text or JSON. Access lines are buffered per thread and written
 * out in whole lines within LOG_FLUSH_MS (200 ms), or sooner when a buffer fills; messages
 * go out at once. Lines never interleave, and each thread's lines keep their order. The format
 * is chosen once at start-up, before any thread. */
#ifndef LOSSD_SERVER_LOG_H
#define LOSSD_SERVER_LOG_H

#include <stddef.h>

/* json: nonzero for one JSON object per line. Call once, before threads start. */
void log_init(int json);

/* A free-form message ("level" is "info", "warn" or "error"). */
void log_msg(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One access-log line. All strings are borrowed; path and request_id may hold any bytes
 * (they are escaped). status 0 means the client went away before a response was sent. */
typedef struct {
    const char *method;
    const char *path;
    int status;
    size_t bytes_in, bytes_out;
    unsigned long long micros;
    const char *request_id;
    const char *loss; /* NULL when no loss was computed */
    int aborted;      /* the connection ended before the response was fully sent */
} log_access_entry;

/* Buffers the line in the calling thread's buffer (the first call starts the flusher). */
void log_access(const log_access_entry *e);

/* Writes out every thread's buffered lines now. Call it before the process exits (after the
 * last request) and before anything that moves stderr. */
void log_flush(void);

#endif
