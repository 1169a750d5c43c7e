/* log: lossd's stderr lines, text or JSON. One write(2) per line, so lines from different
 * threads never interleave. The format is chosen once at start-up, before any thread. */
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

void log_access(const log_access_entry *e);

#endif
