/* json_doc: single-pass strict JSON parser into an arena DOM.
 * Invariants: the parser never reads past body[len); every node, string copy and packed
 * buffer is arena memory; the two scratch stacks (child nodes and object members being
 * collected) are the only other allocations and are freed before json_doc_parse returns.
 * An array that starts with a number or '[' is first pre-scanned (structure only, fast) to
 * learn its shape; if it is a rectangular numeric array its numbers are then parsed straight
 * into one buffer. Pre-scans that fail are remembered so a subtree is not scanned twice. */
#include "json_doc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "num.h"

#define SKIP_CAP 256

typedef struct {
    const char *s;
    size_t len;
    size_t pos;
    arena *mem;
    json_error *err;
    size_t nodes, max_nodes;
    json_node *nstack; /* children of the arrays being parsed */
    size_t ntop, ncap;
    json_member *mstack; /* members of the objects being parsed */
    size_t mtop, mcap;
    size_t skip[SKIP_CAP]; /* '[' positions known not to be packable; top is the smallest */
    size_t nskip;
    size_t prescan_budget; /* bytes pre-scanning may still read (bounds rescans) */
} parser;

static int fail(parser *p, json_status status, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(parser *p, json_status status, size_t offset, const char *fmt, ...)
{
    va_list ap;
    p->err->status = status;
    p->err->offset = offset;
    va_start(ap, fmt);
    vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* Sets the error for an arena allocation that failed: over the cap, or out of memory. */
static void *alloc_failed(parser *p)
{
    if (p->mem->limit != 0)
        fail(p, JSON_ERR_LIMIT, p->pos, "request needs more than %zu bytes of memory",
             p->mem->limit);
    else
        fail(p, JSON_ERR_NOMEM, p->pos, "out of memory");
    return NULL;
}

static void *p_alloc(parser *p, size_t n, size_t elem, size_t align)
{
    void *ptr = arena_alloc_array(p->mem, n, elem, align);
    return ptr ? ptr : alloc_failed(p);
}

static int is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

static void skip_ws(parser *p)
{
    while (p->pos < p->len && is_ws(p->s[p->pos]))
        p->pos++;
}

static int unexpected(parser *p, const char *what)
{
    if (p->pos >= p->len)
        return fail(p, JSON_ERR_SYNTAX, p->pos, "unexpected end of input, expected %s", what);
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c >= 0x20 && c < 0x7f)
        return fail(p, JSON_ERR_SYNTAX, p->pos, "unexpected '%c' at byte %zu, expected %s", c,
                    p->pos, what);
    return fail(p, JSON_ERR_SYNTAX, p->pos, "unexpected byte 0x%02x at byte %zu, expected %s", c,
                p->pos, what);
}

/* ---- numbers ---- */

/* RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. Returns the end of the number
 * starting at i, or 0 if the text there is not one (a number never ends at offset 0). */
static size_t scan_number(const char *s, size_t i, size_t end)
{
    if (i < end && s[i] == '-')
        i++;
    if (i < end && s[i] == '0')
        i++;
    else if (i < end && s[i] >= '1' && s[i] <= '9')
        while (++i < end && is_digit(s[i]))
            ;
    else
        return 0;
    if (i < end && s[i] == '.') {
        if (++i >= end || !is_digit(s[i]))
            return 0;
        while (++i < end && is_digit(s[i]))
            ;
    }
    if (i < end && (s[i] == 'e' || s[i] == 'E')) {
        if (++i < end && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= end || !is_digit(s[i]))
            return 0;
        while (++i < end && is_digit(s[i]))
            ;
    }
    return i;
}

static int parse_number(parser *p, json_node *out)
{
    size_t start = p->pos, end = scan_number(p->s, start, p->len);
    if (end == 0)
        return fail(p, JSON_ERR_SYNTAX, start, "invalid number at byte %zu", start);
    num_status st = num_parse_double(p->s + start, end - start, &out->u.number);
    if (st == NUM_INVALID)
        return fail(p, JSON_ERR_SYNTAX, start, "invalid number at byte %zu", start);
    out->kind = JSON_NUMBER;
    out->overflow = st == NUM_OVERFLOW;
    p->pos = end;
    return 0;
}

/* ---- strings ---- */

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        unsigned d = is_digit(c)                ? (unsigned)(c - '0')
                     : (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10)
                     : (c >= 'A' && c <= 'F') ? (unsigned)(c - 'A' + 10)
                                              : 16u;
        if (d == 16)
            return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* Length of the valid UTF-8 sequence at s[0..avail), or 0 (overlong, surrogate, > U+10FFFF,
 * truncated). */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else
        return 0;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if (s[k] < 0x80 || s[k] > 0xBF)
            return 0;
    return n;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Reads the escape at s[i] (just after the backslash) into *cp; returns its length in bytes
 * after the backslash, or 0 when invalid (unknown escape, bad hex, unpaired surrogate). */
static size_t read_escape(const char *s, size_t i, size_t end, unsigned *cp)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (i >= end)
        return 0;
    if (s[i] != 'u') {
        const char *hit = memchr(from, s[i], sizeof from - 1);
        if (hit == NULL)
            return 0;
        *cp = (unsigned char)to[hit - from];
        return 1;
    }
    unsigned hi, lo;
    if (end - i < 5 || hex4(s + i + 1, &hi) != 0)
        return 0;
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return 0;
    if (hi < 0xD800 || hi > 0xDBFF) {
        *cp = hi;
        return 5;
    }
    if (end - i < 11 || s[i + 5] != '\\' || s[i + 6] != 'u' || hex4(s + i + 7, &lo) != 0 ||
        lo < 0xDC00 || lo > 0xDFFF)
        return 0;
    *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    return 11;
}

/* Walks the string body starting at s[i] (after the opening quote) to the closing quote,
 * validating it; writes the decoded bytes to out when out != NULL. Returns the index of the
 * closing quote, or 0 after setting the error. */
static size_t string_body(parser *p, size_t i, char *out, size_t *out_len, int *escaped)
{
    const char *s = p->s;
    size_t n = 0;
    while (i < p->len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            *out_len = n;
            return i;
        }
        if (c == '\\') {
            unsigned cp;
            size_t el = read_escape(s, i + 1, p->len, &cp);
            if (el == 0)
                return fail(p, JSON_ERR_SYNTAX, i, "invalid escape in string at byte %zu", i), 0;
            *escaped = 1;
            n += out ? put_utf8(out + n, cp) : 0;
            i += 1 + el;
        } else if (c < 0x20) {
            return fail(p, JSON_ERR_SYNTAX, i, "control character in string at byte %zu", i), 0;
        } else {
            size_t cl = c < 0x80 ? 1 : utf8_len((const unsigned char *)s + i, p->len - i);
            if (cl == 0)
                return fail(p, JSON_ERR_SYNTAX, i, "invalid UTF-8 in string at byte %zu", i), 0;
            if (out)
                memcpy(out + n, s + i, cl);
            n += cl;
            i += cl;
        }
    }
    return fail(p, JSON_ERR_SYNTAX, p->len, "unterminated string"), 0;
}

/* Parses the string at p->pos (on its opening quote). Unescaped strings borrow the body. */
static int parse_string(parser *p, const char **ptr, size_t *len)
{
    size_t start = p->pos + 1, n = 0;
    int escaped = 0;
    size_t close = string_body(p, start, NULL, &n, &escaped);
    if (close == 0)
        return -1;
    if (!escaped) {
        *ptr = p->s + start;
        *len = close - start;
    } else {
        /* Escapes only shrink: \n is 2 bytes for 1, \uXXXX 6 for at most 3, pairs 12 for 4. */
        char *buf = p_alloc(p, close - start, 1, 1);
        if (buf == NULL)
            return -1;
        string_body(p, start, buf, &n, &escaped);
        *ptr = buf;
        *len = n;
    }
    p->pos = close + 1;
    return 0;
}

/* ---- packed numeric arrays ---- */

typedef struct {
    size_t rank;
    size_t shape[JSON_MAX_RANK];
    size_t end; /* one past the closing ']' */
} prescan_result;

static int is_num_char(char c)
{
    return is_digit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

/* Remembers the '[' positions of a failed pre-scan (not its root, which is being parsed
 * now) so the generic parse does not pre-scan them again. Keeps skip sorted (top smallest). */
static void remember_unpackable(parser *p, const size_t *open, size_t depth)
{
    for (size_t k = depth; k-- > 1;) {
        if (p->nskip == SKIP_CAP || (p->nskip > 0 && p->skip[p->nskip - 1] <= open[k]))
            continue;
        p->skip[p->nskip++] = open[k];
    }
}

enum { PS_AFTER_OPEN, PS_NEED_VALUE, PS_AFTER_VALUE };

/* Structure-only scan of the array at p->pos: returns 1 with its shape if it is a
 * rectangular array of number tokens at most max_rank (>= 1) deep, else 0. The number
 * tokens' own grammar is checked by fill_packed. Reads at most p->prescan_budget bytes. */
static int prescan(parser *p, size_t max_rank, prescan_result *r)
{
    const char *s = p->s;
    size_t i = p->pos, d = 1, open[JSON_MAX_RANK], cnt[JSON_MAX_RANK], set = 0;
    size_t limit = p->len - i > p->prescan_budget ? i + p->prescan_budget : p->len;
    int st = PS_AFTER_OPEN, ok = 0;
    open[0] = i++;
    cnt[0] = 0;
    r->rank = 0;
    while (i < limit && d > 0) {
        char c = s[i];
        if (is_ws(c)) {
            i++;
        } else if (st != PS_AFTER_VALUE && (is_digit(c) || c == '-')) {
            if (r->rank == 0)
                r->rank = d;
            if (r->rank != d)
                break; /* ragged: a number where an array was expected */
            cnt[d - 1]++;
            while (++i < limit && is_num_char(s[i]))
                ;
            st = PS_AFTER_VALUE;
        } else if (st != PS_AFTER_VALUE && c == '[') {
            if (d == max_rank || (r->rank != 0 && d >= r->rank))
                break; /* too deep, or ragged: an array where a number was expected */
            cnt[d - 1]++;
            open[d] = i++;
            cnt[d++] = 0;
            st = PS_AFTER_OPEN;
        } else if (st == PS_AFTER_VALUE && c == ',') {
            i++;
            st = PS_NEED_VALUE;
        } else if (c == ']' && st != PS_NEED_VALUE) {
            size_t k = d - 1;
            if (cnt[k] == 0 && r->rank == 0)
                r->rank = d;
            if ((cnt[k] == 0 && r->rank != d) || ((set >> k & 1) && r->shape[k] != cnt[k]))
                break; /* ragged */
            r->shape[k] = cnt[k];
            set |= (size_t)1 << k;
            i++;
            st = PS_AFTER_VALUE;
            ok = --d == 0;
        } else {
            /* Not a number, bad structure: every open array here is unpackable. */
            remember_unpackable(p, open, d);
            break;
        }
    }
    if (!ok && i >= limit && limit < p->len) {
        p->prescan_budget = 0;
        return 0;
    }
    if (!ok && i >= p->len)
        remember_unpackable(p, open, d);
    p->prescan_budget -= i - p->pos;
    r->end = i;
    return ok;
}

/* Second pass over a pre-scanned array: checks each number's grammar and converts it. */
static int fill_packed(parser *p, const prescan_result *r, json_packed *pk)
{
    const char *s = p->s;
    size_t i = p->pos, k = 0;
    while (i < r->end) {
        char c = s[i];
        if (c == '[' || c == ']' || c == ',' || is_ws(c)) {
            i++;
            continue;
        }
        size_t e = scan_number(s, i, r->end);
        if (e == 0 || !(s[e] == ',' || s[e] == ']' || is_ws(s[e])))
            return fail(p, JSON_ERR_SYNTAX, i, "invalid number at byte %zu", i);
        num_status st = num_parse_double(s + i, e - i, &pk->data[k]);
        if (st == NUM_INVALID)
            return fail(p, JSON_ERR_SYNTAX, i, "invalid number at byte %zu", i);
        if (st == NUM_OVERFLOW && pk->first_overflow == JSON_NO_OVERFLOW)
            pk->first_overflow = k;
        k++;
        i = e;
    }
    return 0;
}

/* Returns 1 when the array at p->pos was stored packed, 0 when it must be parsed node by
 * node, -1 on error. */
static int try_packed(parser *p, size_t depth, json_node *out)
{
    while (p->nskip > 0 && p->skip[p->nskip - 1] < p->pos)
        p->nskip--;
    if (p->nskip > 0 && p->skip[p->nskip - 1] == p->pos) {
        p->nskip--;
        return 0;
    }
    size_t max_rank = JSON_MAX_DEPTH - depth < JSON_MAX_RANK ? JSON_MAX_DEPTH - depth
                                                             : JSON_MAX_RANK;
    prescan_result r;
    if (p->prescan_budget == 0 || !prescan(p, max_rank, &r))
        return 0;
    json_packed *pk = p_alloc(p, 1, sizeof *pk, _Alignof(json_packed));
    if (pk == NULL)
        return -1;
    pk->rank = r.rank;
    memcpy(pk->shape, r.shape, sizeof r.shape);
    pk->count = 1;
    pk->first_overflow = JSON_NO_OVERFLOW;
    size_t bytes;
    for (size_t k = 0; k < r.rank; k++)
        if (__builtin_mul_overflow(pk->count, r.shape[k], &pk->count))
            return fail(p, JSON_ERR_LIMIT, p->pos, "array too large");
    if (__builtin_mul_overflow(pk->count, sizeof(double), &bytes))
        return fail(p, JSON_ERR_LIMIT, p->pos, "array too large");
    pk->data = arena_alloc_simd(p->mem, bytes);
    if (pk->data == NULL)
        return alloc_failed(p), -1;
    if (fill_packed(p, &r, pk) != 0)
        return -1;
    out->kind = JSON_PACKED;
    out->u.packed = pk;
    p->pos = r.end;
    return 1;
}

/* ---- containers ---- */

static int parse_value(parser *p, size_t depth, json_node *out);

static int push_node(parser *p, const json_node *n)
{
    if (p->ntop == p->ncap) {
        size_t cap = p->ncap ? p->ncap * 2 : 64;
        json_node *grown = mem_realloc(p->nstack, cap * sizeof *grown);
        if (grown == NULL)
            return fail(p, JSON_ERR_NOMEM, p->pos, "out of memory");
        p->nstack = grown;
        p->ncap = cap;
    }
    p->nstack[p->ntop++] = *n;
    return 0;
}

static int push_member(parser *p, const json_member *m)
{
    if (p->mtop == p->mcap) {
        size_t cap = p->mcap ? p->mcap * 2 : 32;
        json_member *grown = mem_realloc(p->mstack, cap * sizeof *grown);
        if (grown == NULL)
            return fail(p, JSON_ERR_NOMEM, p->pos, "out of memory");
        p->mstack = grown;
        p->mcap = cap;
    }
    p->mstack[p->mtop++] = *m;
    return 0;
}

static int parse_array(parser *p, size_t depth, json_node *out)
{
    if (depth >= JSON_MAX_DEPTH)
        return fail(p, JSON_ERR_SYNTAX, p->pos, "nesting deeper than %d at byte %zu",
                    JSON_MAX_DEPTH, p->pos);
    int packed = try_packed(p, depth, out);
    if (packed != 0)
        return packed < 0 ? -1 : 0;
    size_t base = p->ntop;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
    } else {
        for (;;) {
            json_node item;
            if (parse_value(p, depth + 1, &item) != 0 || push_node(p, &item) != 0)
                return -1;
            skip_ws(p);
            if (p->pos < p->len && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->len && p->s[p->pos] == ']') {
                p->pos++;
                break;
            }
            return unexpected(p, "',' or ']'");
        }
    }
    size_t count = p->ntop - base;
    json_node *items = count ? p_alloc(p, count, sizeof *items, _Alignof(json_node)) : NULL;
    if (count && items == NULL)
        return -1;
    if (count)
        memcpy(items, p->nstack + base, count * sizeof *items);
    p->ntop = base;
    out->kind = JSON_ARRAY;
    out->u.arr.items = items;
    out->u.arr.count = count;
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    const json_member *x = *(const json_member *const *)a, *y = *(const json_member *const *)b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Finds a key that appears twice among m[0..n): small objects pairwise, large ones sorted
 * (so a hostile object with many keys stays O(n log n)). Returns it, or NULL. */
static const json_member *find_duplicate(parser *p, const json_member *m, size_t n, int *nomem)
{
    *nomem = 0;
    if (n <= 16) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (m[i].key_len == m[j].key_len && memcmp(m[i].key, m[j].key, m[i].key_len) == 0)
                    return &m[i];
        return NULL;
    }
    const json_member **sorted = mem_alloc_array(n, sizeof *sorted);
    const json_member *dup = NULL;
    if (sorted == NULL) {
        *nomem = 1;
        fail(p, JSON_ERR_NOMEM, p->pos, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = &m[i];
    qsort(sorted, n, sizeof *sorted, key_cmp);
    for (size_t i = 1; i < n && dup == NULL; i++)
        if (key_cmp(&sorted[i - 1], &sorted[i]) == 0)
            dup = sorted[i];
    mem_free(sorted);
    return dup;
}

static int parse_member(parser *p, size_t depth)
{
    json_member m;
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != '"')
        return unexpected(p, "a string key");
    if (parse_string(p, &m.key, &m.key_len) != 0)
        return -1;
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != ':')
        return unexpected(p, "':'");
    p->pos++;
    if (parse_value(p, depth + 1, &m.value) != 0)
        return -1;
    return push_member(p, &m);
}

static int close_object(parser *p, size_t base, size_t start, json_node *out)
{
    size_t count = p->mtop - base;
    int nomem;
    const json_member *dup = find_duplicate(p, p->mstack + base, count, &nomem);
    if (nomem)
        return -1;
    if (dup != NULL)
        return fail(p, JSON_ERR_SYNTAX, dup->value.offset,
                    "duplicate key \"%.*s\" in the object at byte %zu",
                    (int)(dup->key_len > 64 ? 64 : dup->key_len), dup->key, start);
    json_member *items = count ? p_alloc(p, count, sizeof *items, _Alignof(json_member)) : NULL;
    if (count && items == NULL)
        return -1;
    if (count)
        memcpy(items, p->mstack + base, count * sizeof *items);
    p->mtop = base;
    out->kind = JSON_OBJECT;
    out->u.obj.items = items;
    out->u.obj.count = count;
    return 0;
}

static int parse_object(parser *p, size_t depth, json_node *out)
{
    size_t start = p->pos, base = p->mtop;
    if (depth >= JSON_MAX_DEPTH)
        return fail(p, JSON_ERR_SYNTAX, p->pos, "nesting deeper than %d at byte %zu",
                    JSON_MAX_DEPTH, p->pos);
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        return close_object(p, base, start, out);
    }
    for (;;) {
        if (parse_member(p, depth) != 0)
            return -1;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == '}') {
            p->pos++;
            return close_object(p, base, start, out);
        }
        return unexpected(p, "',' or '}'");
    }
}

static int parse_literal(parser *p, const char *word, json_kind kind, json_node *out)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return unexpected(p, "a JSON value");
    p->pos += n;
    out->kind = kind;
    return 0;
}

static int parse_value(parser *p, size_t depth, json_node *out)
{
    skip_ws(p);
    memset(out, 0, sizeof *out);
    out->offset = p->pos;
    if (++p->nodes > p->max_nodes)
        return fail(p, JSON_ERR_LIMIT, p->pos, "more than %zu JSON values outside numeric arrays",
                    p->max_nodes);
    if (p->pos >= p->len)
        return unexpected(p, "a JSON value");
    switch (p->s[p->pos]) {
    case '{':
        return parse_object(p, depth, out);
    case '[':
        return parse_array(p, depth, out);
    case '"':
        out->kind = JSON_STRING;
        return parse_string(p, &out->u.str.ptr, &out->u.str.len);
    case 't':
        return parse_literal(p, "true", JSON_TRUE, out);
    case 'f':
        return parse_literal(p, "false", JSON_FALSE, out);
    case 'n':
        return parse_literal(p, "null", JSON_NULL, out);
    default:
        if (p->s[p->pos] == '-' || is_digit(p->s[p->pos]))
            return parse_number(p, out);
        return unexpected(p, "a JSON value");
    }
}

json_status json_doc_parse(json_doc *doc, const char *body, size_t len, const json_limits *limits,
                           json_error *err)
{
    parser p;
    memset(&p, 0, sizeof p);
    memset(err, 0, sizeof *err);
    memset(&doc->root, 0, sizeof doc->root);
    arena_init(&doc->mem, limits ? limits->max_arena : 0);
    p.s = body;
    p.len = len;
    p.mem = &doc->mem;
    p.err = err;
    p.max_nodes = limits && limits->max_nodes ? limits->max_nodes : JSON_DEFAULT_MAX_NODES;
    /* Pre-scans may re-read bytes when they fail; cap their total at a few passes. */
    p.prescan_budget = len > SIZE_MAX / 4 - 65536 ? SIZE_MAX : 4 * len + 65536;

    int rc = parse_value(&p, 0, &doc->root);
    if (rc == 0) {
        skip_ws(&p);
        if (p.pos != len)
            rc = fail(&p, JSON_ERR_SYNTAX, p.pos, "trailing characters at byte %zu", p.pos);
    }
    mem_free(p.nstack);
    mem_free(p.mstack);
    if (rc != 0) {
        arena_release(&doc->mem);
        memset(&doc->root, 0, sizeof doc->root);
        return err->status;
    }
    return JSON_OK;
}

void json_doc_release(json_doc *doc)
{
    if (doc == NULL)
        return;
    arena_release(&doc->mem);
    memset(&doc->root, 0, sizeof doc->root);
}

const json_node *json_object_get(const json_node *obj, const char *key, size_t len)
{
    if (obj == NULL || obj->kind != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->u.obj.count; i++) {
        const json_member *m = &obj->u.obj.items[i];
        if (m->key_len == len && memcmp(m->key, key, len) == 0)
            return &m->value;
    }
    return NULL;
}

const char *json_kind_name(json_kind kind)
{
    static const char *const names[] = {"null",     "false",     "true",     "a number",
                                        "a string", "an array", "an object", "an array"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "a value";
}
