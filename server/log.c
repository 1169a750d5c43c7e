/* log: formats a line into a stack buffer and writes it with a single write(2).
 * Invariant: output is always one line: control bytes, quotes and backslashes from clients
 * are escaped, and an over-long line is truncated rather than split. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_json; /* written once by log_init, before threads */

void log_init(int json) { log_json = json; }

typedef struct {
    char buf[2048];
    size_t len;
} line;

static void put(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(line *l, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (l->len >= sizeof l->buf)
        return;
    va_start(ap, fmt);
    n = vsnprintf(l->buf + l->len, sizeof l->buf - l->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len += (size_t)n < sizeof l->buf - l->len ? (size_t)n : sizeof l->buf - l->len - 1;
}

/* Appends s escaped for a JSON string (also safe in text lines: no raw control bytes). */
static void put_escaped(line *l, const char *s)
{
    for (; s && *s && l->len + 8 < sizeof l->buf; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            put(l, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            put(l, "\\u%04x", c);
        else
            l->buf[l->len++] = (char)c;
    }
}

static void put_time(line *l)
{
    struct timespec ts;
    struct tm tm;
    char when[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    put(l, log_json ? "{\"ts\":\"%s.%03ldZ\"" : "%s.%03ldZ", when, ts.tv_nsec / 1000000);
}

static void flush(line *l)
{
    if (l->len >= sizeof l->buf - 1)
        l->len = sizeof l->buf - 2;
    if (log_json)
        l->buf[l->len++] = '}';
    l->buf[l->len++] = '\n';
    /* Logging must never fail a request; a short write to stderr is dropped. */
    if (write(STDERR_FILENO, l->buf, l->len) < 0)
        return;
}

void log_msg(const char *level, const char *fmt, ...)
{
    line l = {.len = 0};
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    put_time(&l);
    put(&l, log_json ? ",\"level\":\"%s\",\"msg\":\"" : " %s ", level);
    put_escaped(&l, msg);
    if (log_json)
        put(&l, "\"");
    flush(&l);
}

void log_access(const log_access_entry *e)
{
    line l = {.len = 0};
    put_time(&l);
    if (log_json) {
        put(&l, ",\"level\":\"access\",\"method\":\"");
        put_escaped(&l, e->method);
        put(&l, "\",\"path\":\"");
        put_escaped(&l, e->path);
        put(&l,
            "\",\"status\":%d,\"bytes_in\":%zu,\"bytes_out\":%zu,\"us\":%llu,\"loss\":", e->status,
            e->bytes_in, e->bytes_out, e->micros);
        put(&l, e->loss ? "\"%s\"" : "%snull", e->loss ? e->loss : "");
        put(&l, ",\"aborted\":%s,\"request_id\":\"", e->aborted ? "true" : "false");
        put_escaped(&l, e->request_id);
        put(&l, "\"");
    } else {
        put(&l, " access ");
        put_escaped(&l, e->method);
        put(&l, " ");
        put_escaped(&l, e->path);
        put(&l, " %d in=%zu out=%zu us=%llu loss=%s id=", e->status, e->bytes_in, e->bytes_out,
            e->micros, e->loss ? e->loss : "-");
        put_escaped(&l, e->request_id);
        if (e->aborted)
            put(&l, " aborted");
    }
    flush(&l);
}
