/* csv: two passes over the text. The first finds the header, the rows and the columns and
 * refuses a ragged table before anything is allocated; the second parses each field into the
 * tensor. Invariant: every field is parsed from a bounded local copy (the text need not be
 * NUL-terminated) in the "C" locale's number syntax. */
#include "csv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSV_FIELD_MAX 64

typedef struct {
    const char *p, *end; /* the rest of the text */
    char sep;
    size_t line; /* 1-based number of the line at p */
} csv_scan;

typedef enum { FIELD_NUMBER, FIELD_NON_FINITE, FIELD_TEXT, FIELD_EMPTY } field_kind;

static api_code fail(char *msg, size_t cap, api_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static api_code fail(char *msg, size_t cap, api_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (cap > 0)
        vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return code;
}

/* The next line as [*b, *e) without its "\n" or "\r\n"; 0 at the end of the text. */
static int next_line(csv_scan *s, const char **b, const char **e)
{
    if (s->p >= s->end)
        return 0;
    const char *nl = memchr(s->p, '\n', (size_t)(s->end - s->p));
    *b = s->p;
    *e = nl ? nl : s->end;
    s->p = nl ? nl + 1 : s->end;
    if (*e > *b && (*e)[-1] == '\r')
        (*e)--;
    s->line++;
    return 1;
}

static int blank(const char *b, const char *e)
{
    for (; b < e; b++)
        if (*b != ' ' && *b != '\t')
            return 0;
    return 1;
}

/* Whether b[0..n) holds only characters of a decimal number (no NaN, inf or hex). */
static int number_chars(const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((b[i] >= '0' && b[i] <= '9') || strchr("+-.eE", b[i]) != NULL) || b[i] == '\0')
            return 0;
    return 1;
}

/* Classifies field [b, e) (spaces around it ignored) and parses it into *v. */
static field_kind parse_field(const char *b, const char *e, double *v)
{
    char tok[CSV_FIELD_MAX + 1], *end;
    while (b < e && *b == ' ')
        b++;
    while (e > b && e[-1] == ' ')
        e--;
    size_t n = (size_t)(e - b);
    if (n == 0)
        return FIELD_EMPTY;
    if (n > CSV_FIELD_MAX || !number_chars(b, n)) {
        const char *w = (*b == '+' || *b == '-') ? b + 1 : b;
        size_t k = (size_t)(e - w);
        if ((k == 3 && (strncasecmp(w, "nan", 3) == 0 || strncasecmp(w, "inf", 3) == 0)) ||
            (k == 8 && strncasecmp(w, "infinity", 8) == 0))
            return FIELD_NON_FINITE;
        return FIELD_TEXT;
    }
    memcpy(tok, b, n);
    tok[n] = '\0';
    *v = strtod(tok, &end);
    if (end != tok + n)
        return FIELD_TEXT;
    return isfinite(*v) ? FIELD_NUMBER : FIELD_NON_FINITE;
}

/* Calls visit on each field of line [b, e); stops at its first nonzero return. */
typedef int (*field_fn)(void *ctx, const char *b, const char *e, size_t column);

static int each_field(const char *b, const char *e, char sep, field_fn visit, void *ctx)
{
    size_t col = 0;
    for (;;) {
        const char *f = memchr(b, sep, (size_t)(e - b));
        const char *fe = f ? f : e;
        int rc = visit(ctx, b, fe, ++col);
        if (rc != 0 || f == NULL)
            return rc;
        b = f + 1;
    }
}

static int count_field(void *ctx, const char *b, const char *e, size_t column)
{
    (void)b, (void)e;
    *(size_t *)ctx = column;
    return 0;
}

static int find_number(void *ctx, const char *b, const char *e, size_t column)
{
    double v;
    (void)column;
    field_kind k = parse_field(b, e, &v);
    *(int *)ctx |= k == FIELD_NUMBER || k == FIELD_NON_FINITE;
    return 0;
}

/* The table's shape: rows and columns of data, and where its first data line starts. */
typedef struct {
    size_t rows, cols;
    const char *start;
    size_t start_line; /* lines before start */
} csv_table;

/* First pass: header, rectangularity, size. */
static api_code measure(csv_scan s, csv_table *t, char *msg, size_t cap)
{
    const char *b, *e;
    size_t blank_from = 0; /* line of the first blank line since the last row, 0 if none */
    memset(t, 0, sizeof *t);
    t->start = s.p;
    while (next_line(&s, &b, &e)) {
        size_t cols = 0;
        if (blank(b, e)) {
            blank_from = blank_from ? blank_from : s.line;
            continue;
        }
        if (t->rows == 0 && blank_from == 0 && s.line == 1) {
            int numeric = 0;
            each_field(b, e, s.sep, find_number, &numeric);
            if (!numeric) { /* a header */
                t->start = s.p;
                t->start_line = 1;
                continue;
            }
        }
        if (blank_from)
            return fail(msg, cap, API_ERR_RAGGED_ARRAY, "line %zu is empty but rows follow it",
                        blank_from);
        each_field(b, e, s.sep, count_field, &cols);
        if (t->rows == 0)
            t->cols = cols;
        else if (cols != t->cols)
            return fail(msg, cap, API_ERR_RAGGED_ARRAY,
                        "line %zu has %zu fields, the rows before it have %zu", s.line, cols,
                        t->cols);
        t->rows++;
    }
    return API_OK;
}

typedef struct {
    double *out;
    size_t line;
    char *msg;
    size_t cap;
    api_code code;
} filler;

static int fill_field(void *ctx, const char *b, const char *e, size_t column)
{
    filler *f = ctx;
    int shown = (int)(e - b > 32 ? 32 : e - b);
    switch (parse_field(b, e, f->out)) {
    case FIELD_NUMBER:
        f->out++;
        return 0;
    case FIELD_NON_FINITE:
        f->code = fail(f->msg, f->cap, API_ERR_NON_FINITE,
                       "line %zu, column %zu: \"%.*s\" is not a finite number", f->line, column,
                       shown, b);
        return 1;
    case FIELD_EMPTY:
        f->code = fail(f->msg, f->cap, API_ERR_INVALID_TYPE, "line %zu, column %zu is empty",
                       f->line, column);
        return 1;
    case FIELD_TEXT:
        break;
    }
    f->code = fail(f->msg, f->cap, API_ERR_INVALID_TYPE,
                   "line %zu, column %zu: \"%.*s\" is not a number", f->line, column, shown, b);
    return 1;
}

api_code csv_decode(const char *text, size_t len, char sep, tensor *out, char *msg, size_t cap)
{
    csv_scan s = {text, text + len, sep, 0};
    csv_table t;
    const char *b, *e;
    api_code code = measure(s, &t, msg, cap);
    memset(out, 0, sizeof *out);
    if (code != API_OK)
        return code;
    size_t shape[2] = {t.rows, t.cols}, rank = t.cols > 1 ? 2 : 1;
    if (tensor_alloc_uninit(out, TENSOR_F64, rank, shape) != 0)
        return fail(msg, cap, API_ERR_NOMEM, "out of memory for %zu x %zu numbers", t.rows, t.cols);
    filler f = {out->data, 0, msg, cap, API_OK};
    s = (csv_scan){t.start, text + len, sep, t.start_line};
    for (size_t row = 0; row < t.rows && next_line(&s, &b, &e);) {
        if (blank(b, e))
            continue;
        f.line = s.line;
        if (each_field(b, e, sep, fill_field, &f) != 0) {
            tensor_release(out);
            return f.code;
        }
        row++;
    }
    return API_OK;
}
