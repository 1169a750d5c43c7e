/* jbuf: append-only byte buffer with JSON string and number writers.
 * Invariant: len <= cap; data is NULL only while cap is 0; failed is never cleared. */
#include "jbuf.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "num.h"

void jbuf_init(jbuf *jb, size_t hint)
{
    jb->data = NULL;
    jb->len = jb->cap = 0;
    jb->failed = 0;
    if (hint > 0) {
        jb->data = mem_alloc(hint);
        jb->cap = jb->data ? hint : 0;
    }
}

char *jbuf_reserve(jbuf *jb, size_t n)
{
    if (jb->failed)
        return NULL;
    if (jb->cap - jb->len >= n)
        return jb->data + jb->len;
    size_t need, cap = jb->cap ? jb->cap : 256;
    if (__builtin_add_overflow(jb->len, n, &need))
        goto fail;
    while (cap < need)
        if (__builtin_mul_overflow(cap, (size_t)2, &cap))
            goto fail;
    char *grown = mem_realloc(jb->data, cap);
    if (grown == NULL)
        goto fail;
    jb->data = grown;
    jb->cap = cap;
    return jb->data + jb->len;
fail:
    jb->failed = 1;
    return NULL;
}

void jbuf_commit(jbuf *jb, size_t n)
{
    jb->len += n;
}

void jbuf_put(jbuf *jb, const char *s, size_t n)
{
    char *dst = jbuf_reserve(jb, n);
    if (dst == NULL)
        return;
    memcpy(dst, s, n);
    jb->len += n;
}

void jbuf_puts(jbuf *jb, const char *s)
{
    jbuf_put(jb, s, strlen(s));
}

void jbuf_putc(jbuf *jb, char c)
{
    char *dst = jbuf_reserve(jb, 1);
    if (dst == NULL)
        return;
    *dst = c;
    jb->len++;
}

void jbuf_string(jbuf *jb, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    jbuf_putc(jb, '"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            size_t run = i;
            while (run < n && u[run] >= 0x20 && u[run] < 0x80 && u[run] != '"' && u[run] != '\\')
                run++;
            jbuf_put(jb, s + i, run - i);
            i = run;
        } else if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            jbuf_put(jb, esc, 2);
            i++;
        } else if (c < 0x20) {
            char esc[8];
            int k = snprintf(esc, sizeof esc, "\\u%04x", c);
            jbuf_put(jb, esc, (size_t)k);
            i++;
        } else {
            size_t len = utf8_sequence_length(u + i, n - i);
            if (len == 0) {
                jbuf_put(jb, "\xEF\xBF\xBD", 3);
                i++;
            } else {
                jbuf_put(jb, s + i, len);
                i += len;
            }
        }
    }
    jbuf_putc(jb, '"');
}

void jbuf_cstring(jbuf *jb, const char *s)
{
    jbuf_string(jb, s, strlen(s));
}

void jbuf_double(jbuf *jb, double v)
{
    char *dst = jbuf_reserve(jb, NUM_FORMAT_MAX);
    if (dst == NULL)
        return;
    size_t n = num_format_double(v, dst);
    if (n == 0) {
        memcpy(dst, "null", 4);
        n = 4;
    }
    jb->len += n;
}

void jbuf_float(jbuf *jb, float v)
{
    char *dst = jbuf_reserve(jb, NUM_FORMAT_MAX);
    if (dst == NULL)
        return;
    size_t n = num_format_float(v, dst);
    if (n == 0) {
        memcpy(dst, "null", 4);
        n = 4;
    }
    jb->len += n;
}

void jbuf_size(jbuf *jb, size_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%zu", v);
    jbuf_put(jb, tmp, (size_t)n);
}

int jbuf_take(jbuf *jb, char **data, size_t *len)
{
    if (jb->failed) {
        jbuf_release(jb);
        *data = NULL;
        *len = 0;
        return -1;
    }
    *data = jb->data;
    *len = jb->len;
    jb->data = NULL;
    jb->len = jb->cap = 0;
    return 0;
}

void jbuf_release(jbuf *jb)
{
    if (jb == NULL)
        return;
    mem_free(jb->data);
    jb->data = NULL;
    jb->len = jb->cap = 0;
}
