/* json_doc: single-pass strict JSON parser into an arena DOM.
 * Invariants: the parser never reads past body[len); every node, string copy and packed
 * buffer is arena memory; the two scratch stacks (child nodes and object members being
 * collected) are the only other allocations and are freed before json_doc_parse returns.
 * An array is first parsed optimistically as a rectangular numeric array, its numbers into
 * one scratch buffer that is then copied to the arena; when that fails (a string, raggedness,
 * rank > 8) the array is re-read node by node. Failed attempts are remembered and their bytes
 * budgeted, so no subtree is re-read more than a few times. */
#include "utf8.h"
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
    size_t pack_budget; /* bytes failed packing attempts may still read (bounds re-reads) */
    double *num;        /* numbers of the packing attempt in progress */
    size_t nnum, numcap;
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

static int parse_number(parser *p, json_node *out)
{
    size_t start = p->pos, used = 0;
    num_status st = num_parse_json(p->s + start, p->len - start, &out->u.number, &used);
    if (st == NUM_INVALID)
        return fail(p, JSON_ERR_SYNTAX, start, "invalid number at byte %zu", start);
    out->kind = JSON_NUMBER;
    out->overflow = st == NUM_OVERFLOW;
    p->pos = start + used;
    return 0;
}

/* ---- strings ---- */

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        unsigned d = is_digit(c)              ? (unsigned)(c - '0')
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
            size_t cl = c < 0x80 ? 1 : utf8_sequence_length((const unsigned char *)s + i, p->len - i);
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

/* Remembers the '[' positions of a failed attempt (not its root, which is being parsed now)
 * so the generic parse does not try them again. Keeps skip sorted (top smallest). */
static void remember_unpackable(parser *p, const size_t *open, size_t depth)
{
    for (size_t k = depth; k-- > 1;) {
        if (p->nskip == SKIP_CAP || (p->nskip > 0 && p->skip[p->nskip - 1] <= open[k]))
            continue;
        p->skip[p->nskip++] = open[k];
    }
}

static int push_number(parser *p, double v)
{
    if (p->nnum == p->numcap) {
        size_t cap = p->numcap ? p->numcap * 2 : 1024;
        double *grown =
            cap > SIZE_MAX / sizeof *grown ? NULL : mem_realloc(p->num, cap * sizeof *grown);
        if (grown == NULL)
            return fail(p, JSON_ERR_NOMEM, p->pos, "out of memory");
        p->num = grown;
        p->numcap = cap;
    }
    p->num[p->nnum++] = v;
    return 0;
}

typedef struct {
    size_t rank;
    size_t shape[JSON_MAX_RANK];
    size_t first_overflow;
    size_t end; /* one past the closing ']' */
} pack_state;

enum { PK_AFTER_OPEN, PK_NEED_VALUE, PK_AFTER_VALUE };
enum { PK_FAIL = 0, PK_OK = 1, PK_ERROR = -1 };

/* One number of a packed attempt at s[*i]: PK_OK, PK_FAIL (not a clean number token: the
 * generic parse will report it) or PK_ERROR (out of memory). */
static int pack_number(parser *p, size_t *i, pack_state *ps)
{
    double v;
    size_t used = 0, e;
    num_status st = num_parse_json(p->s + *i, p->len - *i, &v, &used);
    e = *i + used;
    if (st == NUM_INVALID || (e < p->len && !(is_ws(p->s[e]) || p->s[e] == ',' || p->s[e] == ']')))
        return PK_FAIL;
    if (st == NUM_OVERFLOW && ps->first_overflow == JSON_NO_OVERFLOW)
        ps->first_overflow = p->nnum;
    if (push_number(p, v) != 0)
        return PK_ERROR;
    *i = e;
    return PK_OK;
}

/* Parses the array at p->pos as a rectangular numeric array at most max_rank (>= 1) deep,
 * numbers into p->num (one state machine over the bytes, kept whole on purpose). PK_FAIL when it is
 * not one (p->pos unchanged; the bytes read count against p->pack_budget, which bounds re-reading),
 * PK_ERROR out of memory. */
static int pack_scan(parser *p, size_t max_rank, pack_state *ps)
{
    const char *s = p->s;
    size_t i = p->pos, d = 1, open[JSON_MAX_RANK], cnt[JSON_MAX_RANK], set = 0;
    size_t limit = p->len - i > p->pack_budget ? i + p->pack_budget : p->len;
    int st = PK_AFTER_OPEN, rc = PK_FAIL;
    open[0] = i++;
    cnt[0] = 0;
    ps->rank = 0;
    ps->first_overflow = JSON_NO_OVERFLOW;
    p->nnum = 0;
    while (i < limit && d > 0) {
        char c = s[i];
        if (is_ws(c)) {
            i++;
        } else if (st != PK_AFTER_VALUE && (is_digit(c) || c == '-')) {
            if (ps->rank == 0)
                ps->rank = d;
            if (ps->rank != d)
                break; /* ragged: a number where an array was expected */
            cnt[d - 1]++;
            if ((rc = pack_number(p, &i, ps)) != PK_OK)
                break;
            st = PK_AFTER_VALUE;
        } else if (st != PK_AFTER_VALUE && c == '[') {
            if (d == max_rank || (ps->rank != 0 && d >= ps->rank))
                break; /* too deep, or ragged: an array where a number was expected */
            cnt[d - 1]++;
            open[d] = i++;
            cnt[d++] = 0;
            st = PK_AFTER_OPEN;
        } else if (st == PK_AFTER_VALUE && c == ',') {
            i++;
            st = PK_NEED_VALUE;
        } else if (c == ']' && st != PK_NEED_VALUE) {
            size_t k = d - 1;
            if (cnt[k] == 0 && ps->rank == 0)
                ps->rank = d;
            if ((cnt[k] == 0 && ps->rank != d) || ((set >> k & 1) && ps->shape[k] != cnt[k]))
                break; /* ragged */
            ps->shape[k] = cnt[k];
            set |= (size_t)1 << k;
            i++;
            st = PK_AFTER_VALUE;
            d--;
        } else {
            /* Not a number, or bad structure: every open array here is unpackable. */
            remember_unpackable(p, open, d);
            break;
        }
    }
    if (d == 0) {
        ps->end = i;
        return PK_OK;
    }
    if (rc == PK_ERROR)
        return PK_ERROR;
    if (i >= limit && limit < p->len)
        p->pack_budget = 0;
    else if (i >= p->len)
        remember_unpackable(p, open, d);
    else
        p->pack_budget -= i - p->pos;
    return PK_FAIL;
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
    if (p->pack_budget == 0)
        return 0;
    size_t max_rank =
        JSON_MAX_DEPTH - depth < JSON_MAX_RANK ? JSON_MAX_DEPTH - depth : JSON_MAX_RANK;
    pack_state ps;
    int rc = pack_scan(p, max_rank, &ps);
    if (rc != PK_OK)
        return rc == PK_ERROR ? -1 : 0;
    json_packed *pk = p_alloc(p, 1, sizeof *pk, _Alignof(json_packed));
    if (pk == NULL)
        return -1;
    pk->rank = ps.rank;
    memcpy(pk->shape, ps.shape, sizeof ps.shape);
    pk->count = p->nnum;
    pk->first_overflow = ps.first_overflow;
    /* nnum doubles already exist in p->num, so the byte count cannot overflow. */
    pk->data = arena_alloc_simd(p->mem, p->nnum * sizeof(double));
    if (pk->data == NULL)
        return alloc_failed(p), -1;
    if (p->nnum > 0)
        memcpy(pk->data, p->num, p->nnum * sizeof(double));
    out->kind = JSON_PACKED;
    out->u.packed = pk;
    p->pos = ps.end;
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

/* The items of a generic array (p->pos just after '[') onto the node stack. */
static int parse_items(parser *p, size_t depth)
{
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        return 0;
    }
    for (;;) {
        json_node item;
        if (parse_value(p, depth + 1, &item) != 0 || push_node(p, &item) != 0)
            return -1;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
        } else if (p->pos < p->len && p->s[p->pos] == ']') {
            p->pos++;
            return 0;
        } else {
            return unexpected(p, "',' or ']'");
        }
    }
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
    if (parse_items(p, depth) != 0)
        return -1;
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
    const json_member *first = count ? p->mstack + base : NULL; /* mstack is NULL until used */
    const json_member *dup = find_duplicate(p, first, count, &nomem);
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
        memcpy(items, first, count * sizeof *items);
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
    /* Failed packing attempts are re-read node by node; cap their total at a few passes. */
    p.pack_budget = len > SIZE_MAX / 4 - 65536 ? SIZE_MAX : 4 * len + 65536;

    int rc = parse_value(&p, 0, &doc->root);
    if (rc == 0) {
        skip_ws(&p);
        if (p.pos != len)
            rc = fail(&p, JSON_ERR_SYNTAX, p.pos, "trailing characters at byte %zu", p.pos);
    }
    mem_free(p.nstack);
    mem_free(p.mstack);
    mem_free(p.num);
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
    static const char *const names[] = {"null",     "false",    "true",      "a number",
                                        "a string", "an array", "an object", "an array"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "a value";
}
