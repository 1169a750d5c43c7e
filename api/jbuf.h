/* jbuf: one growing output buffer for JSON replies. Errors are sticky: after an allocation
 * fails every append is a no-op and jbuf_take reports the failure once, so encoders append
 * freely and check at the end. Growth is geometric (amortised O(1) per byte). */
#ifndef LOSSD_API_JBUF_H
#define LOSSD_API_JBUF_H

#include <stddef.h>

typedef struct {
    char *data; /* mem_alloc'ed, owned until jbuf_take */
    size_t len, cap;
    int failed;
} jbuf;

/* Starts an empty buffer with room for about hint bytes (allocated lazily on failure of
 * the hint; 0 is fine). */
void jbuf_init(jbuf *jb, size_t hint);

/* Makes room for n more bytes; returns a pointer to write them at (then call jbuf_commit),
 * or NULL after a failure. */
char *jbuf_reserve(jbuf *jb, size_t n);
void jbuf_commit(jbuf *jb, size_t n);

void jbuf_put(jbuf *jb, const char *s, size_t n);
void jbuf_puts(jbuf *jb, const char *s);
void jbuf_putc(jbuf *jb, char c);

/* A JSON string literal of s[0..n): quotes, escapes for '"', '\\' and control characters;
 * bytes that are not valid UTF-8 become U+FFFD, so the output is always valid JSON. */
void jbuf_string(jbuf *jb, const char *s, size_t n);
void jbuf_cstring(jbuf *jb, const char *s);

/* Shortest round-trip numbers; non-finite values are written as null. */
void jbuf_double(jbuf *jb, double v);
void jbuf_float(jbuf *jb, float v);
void jbuf_size(jbuf *jb, size_t v);

/* Hands the bytes to the caller (free with mem_free) and resets jb. Returns 0, or -1 when
 * an allocation failed at any point (nothing is handed over; the buffer is freed). */
int jbuf_take(jbuf *jb, char **data, size_t *len);

/* Frees the buffer. Accepts NULL. */
void jbuf_release(jbuf *jb);

#endif
