/* log: lossd's stderr lines, text or JSON, buffered per thread.
 * Access lines go into the calling thread's buffer (no lock shared between request threads,
 * no syscall per request); a buffer is written out when it is nearly full, by a flusher thread
 * every LOG_FLUSH_MS, when its thread exits, and by log_flush. Free-form messages flush their
 * thread's buffer at once, so warnings are never late and each thread's lines keep their order.
 * Invariants: a line is formatted whole before it enters a buffer (control bytes, quotes and
 * backslashes from clients escaped; an over-long line truncated, never split), and every
 * write(2) holds write_mu, so the writes of different threads never interleave, even on a pipe
 * past PIPE_BUF. Lock order: registry mu, then a buffer's mu, then write_mu. */
#define _GNU_SOURCE
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"

#define LINE_MAX_BYTES 2048
#define LOG_BUF_BYTES (32 * 1024) /* per thread; written out when a line may not fit */
#define LOG_FLUSH_MS 200          /* longest a buffered line waits */
/* Room kept after an access line's path for the fields that follow it: numbers, the loss
 * name and a request id (64 bytes, up to 6 each escaped). */
#define RESERVE_TAIL 640

typedef struct {
    char buf[LINE_MAX_BYTES];
    size_t len;
} line;

/* One thread's pending lines. Owned by the registry for the life of the process; recycled
 * for a new thread once its thread has exited (in_use 0). */
typedef struct log_buf {
    pthread_mutex_t mu; /* len, data */
    struct log_buf *next;
    int in_use;      /* under the registry's mu */
    time_t when_sec; /* time cache, used by the owning thread only */
    char when[24];   /* "YYYY-MM-DDTHH:MM:SS" for when_sec */
    size_t len;
    char data[LOG_BUF_BYTES];
} log_buf;

/* Process-wide by nature (there is one stderr): json is written once by log_init before any
 * thread; the rest is guarded by its mutexes or set once under `once`. */
static struct {
    int json;
    pthread_once_t once;
    atomic_int started; /* key and flusher exist (set under once) */
    pthread_key_t key;
    pthread_mutex_t mu; /* bufs list and in_use flags */
    pthread_mutex_t write_mu;
    log_buf *bufs;
} lg = {.once = PTHREAD_ONCE_INIT,
        .mu = PTHREAD_MUTEX_INITIALIZER,
        .write_mu = PTHREAD_MUTEX_INITIALIZER};

void log_init(int json)
{
    lg.json = json;
}

/* ---- writing ---- */

/* Writes all of s (retrying short writes and EINTR) under write_mu. Logging must never fail
 * a request: on error the rest is dropped. */
static void sink_write(const char *s, size_t n)
{
    pthread_mutex_lock(&lg.write_mu);
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        s += w;
        n -= (size_t)w;
    }
    pthread_mutex_unlock(&lg.write_mu);
}

/* Writes out b's lines. The caller holds b->mu. */
static void buf_drain(log_buf *b)
{
    if (b->len > 0)
        sink_write(b->data, b->len);
    b->len = 0;
}

void log_flush(void)
{
    pthread_mutex_lock(&lg.mu);
    for (log_buf *b = lg.bufs; b; b = b->next) {
        pthread_mutex_lock(&b->mu);
        buf_drain(b);
        pthread_mutex_unlock(&b->mu);
    }
    pthread_mutex_unlock(&lg.mu);
}

static void *flusher(void *arg)
{
    const struct timespec period = {.tv_sec = LOG_FLUSH_MS / 1000,
                                    .tv_nsec = LOG_FLUSH_MS % 1000 * 1000000L};
    (void)arg;
    for (;;) {
        nanosleep(&period, NULL);
        log_flush();
    }
    return NULL;
}

/* Thread exit: its lines go out now and its buffer is free for the next thread. */
static void on_thread_exit(void *arg)
{
    log_buf *b = arg;
    pthread_mutex_lock(&b->mu);
    buf_drain(b);
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_lock(&lg.mu);
    b->in_use = 0;
    pthread_mutex_unlock(&lg.mu);
}

/* Creates the key and the flusher on first use, so the flusher is started by a thread of the
 * server (inheriting its blocked signals), never by log_init. The flusher blocks every signal. */
static void start_once(void)
{
    pthread_t t;
    pthread_attr_t attr;
    sigset_t all, old;
    if (pthread_key_create(&lg.key, on_thread_exit) != 0)
        return;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, flusher, NULL) == 0)
        atomic_store(&lg.started, 1);
    else
        pthread_key_delete(lg.key);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The calling thread's buffer, or NULL (no memory, no thread): the caller then writes its
 * line directly. */
static log_buf *thread_buf(void)
{
    log_buf *b;
    pthread_once(&lg.once, start_once);
    if (!atomic_load(&lg.started))
        return NULL;
    b = pthread_getspecific(lg.key);
    if (b)
        return b;
    pthread_mutex_lock(&lg.mu);
    for (b = lg.bufs; b && b->in_use; b = b->next)
        ;
    if (b == NULL && (b = mem_alloc(sizeof *b)) != NULL) {
        pthread_mutex_init(&b->mu, NULL);
        b->len = 0;
        b->next = lg.bufs;
        lg.bufs = b;
    }
    if (b) {
        b->in_use = 1;
        b->when_sec = (time_t)-1;
    }
    pthread_mutex_unlock(&lg.mu);
    if (b && pthread_setspecific(lg.key, b) != 0) {
        on_thread_exit(b);
        b = NULL;
    }
    return b;
}

/* Appends a finished line to the thread's buffer; now also writes the buffer out. */
static void emit(line *l, log_buf *b, int now)
{
    if (b == NULL) {
        sink_write(l->buf, l->len);
        return;
    }
    pthread_mutex_lock(&b->mu);
    if (b->len + l->len > sizeof b->data)
        buf_drain(b);
    memcpy(b->data + b->len, l->buf, l->len);
    b->len += l->len;
    if (now || b->len + LINE_MAX_BYTES > sizeof b->data)
        buf_drain(b);
    pthread_mutex_unlock(&b->mu);
}

/* ---- formatting (no printf on the access path: it was a visible share of a request) ---- */

static void put_bytes(line *l, const char *s, size_t n)
{
    size_t room = sizeof l->buf - 2 - l->len; /* 2: the closing '}' and '\n' */
    if (n > room)
        n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put(line *l, const char *s)
{
    put_bytes(l, s, strlen(s));
}

static void put_u64(line *l, unsigned long long v)
{
    char d[24];
    size_t i = sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    put_bytes(l, d + i, sizeof d - i);
}

static void put_int(line *l, int v)
{
    if (v < 0) {
        put_bytes(l, "-", 1);
        put_u64(l, 0ull - (unsigned long long)(long long)v);
    } else {
        put_u64(l, (unsigned long long)v);
    }
}

/* Appends s escaped for a JSON string (also safe in text lines: no raw control bytes),
 * cut short (never inside an escape) where fewer than `reserve` bytes would remain for the
 * rest of the line, so that a huge path cannot truncate the fields after it. */
static void put_escaped(line *l, const char *s, size_t reserve)
{
    static const char hex[] = "0123456789abcdef";
    size_t limit = sizeof l->buf - 2 - reserve;
    for (; s && *s && l->len + 6 <= limit; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            l->buf[l->len++] = '\\';
            l->buf[l->len++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(l->buf + l->len, "\\u00", 4);
            l->buf[l->len + 4] = hex[c >> 4];
            l->buf[l->len + 5] = hex[c & 15];
            l->len += 6;
        } else {
            l->buf[l->len++] = (char)c;
        }
    }
}

/* "2026-01-02T03:04:05.678Z", the seconds formatted once per second per thread. */
static void put_time(line *l, log_buf *b)
{
    struct timespec ts;
    char local[24], *when = b ? b->when : local, ms[5];
    long msec;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (b == NULL || b->when_sec != ts.tv_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof local, "%Y-%m-%dT%H:%M:%S", &tm);
        if (b)
            b->when_sec = ts.tv_sec;
    }
    msec = ts.tv_nsec / 1000000;
    ms[0] = '.';
    ms[1] = (char)('0' + msec / 100);
    ms[2] = (char)('0' + msec / 10 % 10);
    ms[3] = (char)('0' + msec % 10);
    ms[4] = 'Z';
    if (lg.json)
        put(l, "{\"ts\":\"");
    put(l, when);
    put_bytes(l, ms, sizeof ms);
    if (lg.json)
        put(l, "\"");
}

static void finish(line *l)
{
    if (lg.json)
        l->buf[l->len++] = '}';
    l->buf[l->len++] = '\n';
}

void log_msg(const char *level, const char *fmt, ...)
{
    line l = {.len = 0};
    char msg[1024];
    /* Only a thread that already buffers has lines to keep in order before this one; a
     * message never starts the flusher (main logs before its signal mask is set). */
    log_buf *b = atomic_load(&lg.started) ? pthread_getspecific(lg.key) : NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    put_time(&l, NULL); /* not the cache: a message may come from any thread, any time */
    put(&l, lg.json ? ",\"level\":\"" : " ");
    put(&l, level);
    put(&l, lg.json ? "\",\"msg\":\"" : " ");
    put_escaped(&l, msg, 16);
    if (lg.json)
        put(&l, "\"");
    finish(&l);
    emit(&l, b, 1);
}

static void access_json(line *l, const log_access_entry *e)
{
    put(l, ",\"level\":\"access\",\"method\":\"");
    put_escaped(l, e->method, RESERVE_TAIL);
    put(l, "\",\"path\":\"");
    put_escaped(l, e->path, RESERVE_TAIL);
    put(l, "\",\"status\":");
    put_int(l, e->status);
    put(l, ",\"bytes_in\":");
    put_u64(l, e->bytes_in);
    put(l, ",\"bytes_out\":");
    put_u64(l, e->bytes_out);
    put(l, ",\"us\":");
    put_u64(l, e->micros);
    put(l, ",\"loss\":");
    if (e->loss) {
        put(l, "\"");
        put(l, e->loss);
        put(l, "\"");
    } else {
        put(l, "null");
    }
    put(l, e->aborted ? ",\"aborted\":true,\"request_id\":\""
                      : ",\"aborted\":false,\"request_id\":\"");
    put_escaped(l, e->request_id, 16);
    put(l, "\"");
}

static void access_text(line *l, const log_access_entry *e)
{
    put(l, " access ");
    put_escaped(l, e->method, RESERVE_TAIL);
    put(l, " ");
    put_escaped(l, e->path, RESERVE_TAIL);
    put(l, " ");
    put_int(l, e->status);
    put(l, " in=");
    put_u64(l, e->bytes_in);
    put(l, " out=");
    put_u64(l, e->bytes_out);
    put(l, " us=");
    put_u64(l, e->micros);
    put(l, " loss=");
    put(l, e->loss ? e->loss : "-");
    put(l, " id=");
    put_escaped(l, e->request_id, 16);
    if (e->aborted)
        put(l, " aborted");
}

void log_access(const log_access_entry *e)
{
    line l = {.len = 0};
    log_buf *b = thread_buf();
    put_time(&l, b);
    if (lg.json)
        access_json(&l, e);
    else
        access_text(&l, e);
    finish(&l);
    emit(&l, b, 0);
}
