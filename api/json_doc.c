/* json_doc: single-pass, resumable strict JSON parser into an arena DOM.
 * The input may arrive in pieces split anywhere: an explicit stack of open containers
 * replaces recursion, and a token cut by a piece boundary (number, string, literal) is
 * carried over in a small buffer, so the document and every error (status and offset) are
 * the same however the input is split.
 * An array is read optimistically as a rectangular numeric array (a "candidate"): its
 * numbers go to one buffer (heap scratch, then a growable mapping that becomes the packed
 * data without a copy). When that fails (a string, raggedness, rank > 8) the candidate is
 * turned into generic containers from what it already holds, and reading goes on from the
 * same byte: nothing is read twice. A generic array that closes with rectangular numeric
 * content is packed after all, so the DOM does not depend on how it was reached.
 * Invariants: every node, string copy and packed buffer is arena memory (or a mapping the
 * arena adopted); the stacks, the number scratch and the token buffer are the only other
 * allocations, counted with the arena against limits.max_memory. */
#include "json_doc.h"
#include "utf8.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "num.h"

/* Room for a key in an error message: 64 bytes, each at most 6 when escaped, and a NUL. */
enum { JSON_KEY_TEXT = 64 * 6 + 1 };

/* Numbers of a candidate stay in a heap scratch up to this many bytes, then move to a
 * mapping that grows in place and is handed to the arena as the packed buffer. */
#define NUM_SCRATCH_MAX ((size_t)64 << 10)
#define SIMD_PAD 64

typedef enum { FR_ARRAY, FR_OBJECT } frame_kind;

/* What an open container expects next. */
typedef enum {
    A_FIRST, /* after '[': a value or ']' */
    A_VALUE, /* after ',': a value */
    A_NEXT,  /* after a value: ',' or ']' */
    O_FIRST, /* after '{': a key or '}' */
    O_KEY,   /* after ',': a key */
    O_COLON,
    O_VALUE,
    O_NEXT /* after a value: ',' or '}' */
} frame_state;

typedef struct {
    frame_kind kind;
    frame_state state;
    size_t base;         /* its items start at nstack[base] / mstack[base] */
    size_t start;        /* byte offset of its bracket */
    json_member pending; /* object: the member whose key was read */
} frame;

enum { PK_AFTER_OPEN, PK_NEED_VALUE, PK_AFTER_VALUE };

/* The array being read as a packed numeric array. Only arrays and numbers can be inside it,
 * so while it is active it is the innermost thing open. */
typedef struct {
    int active;
    size_t depth;    /* nesting depth of its '[' */
    size_t max_rank; /* deeper than this it cannot be packed */
    size_t d;        /* arrays open inside it (1 = just the root) */
    size_t rank;     /* depth of its numbers, 0 until known */
    size_t shape[JSON_MAX_RANK];
    size_t cnt[JSON_MAX_RANK];  /* children started in each open array */
    size_t open[JSON_MAX_RANK]; /* byte offsets of the open '[' */
    unsigned set;               /* bit k: shape[k] is known */
    int st;                     /* PK_* */
    size_t first_overflow;
} candidate;

typedef enum { TOK_NONE, TOK_NUMBER, TOK_STRING, TOK_LITERAL } token_kind;

struct json_stream {
    const char *s; /* the piece being read */
    size_t len, pos;
    size_t base; /* offset of s[0] in the whole input */
    int borrow;  /* strings may point into s (json_doc_parse: the body outlives the doc) */
    json_error err;
    json_doc doc;
    int have_root;
    size_t nodes, max_nodes, max_memory;
    frame frames[JSON_MAX_DEPTH];
    size_t nframes;
    json_node *nstack; /* items of the open arrays */
    size_t ntop, ncap;
    json_member *mstack; /* members of the open objects */
    size_t mtop, mcap;
    candidate pk;
    double *num; /* the candidate's numbers: hnum, or the mapping */
    size_t nnum, numcap;
    double *hnum; /* heap scratch, kept across candidates */
    size_t hcap;
    int mapped; /* num is a mapping of mapbytes bytes (numcap doubles fit) */
    size_t mapbytes;
    /* A token cut by the end of a piece. */
    token_kind tok;
    char *tbuf;
    size_t tlen, tcap;
    size_t tstart;     /* byte offset where it began */
    int tkey, tpacked; /* string: it is a key; number: it belongs to the candidate */
    int tesc;          /* string: the last byte was an escaping backslash */
    const char *lit;   /* literal: the word, its kind, and how much matched */
    json_kind litkind;
    size_t litpos;
};

static int is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}
static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static int is_numch(char c)
{
    return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

static size_t here(const json_stream *p)
{
    return p->base + p->pos;
}

static int fail(json_stream *p, json_status status, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first error; returns -1 so callers can `return fail(...)`. */
static int fail(json_stream *p, json_status status, size_t offset, const char *fmt, ...)
{
    va_list ap;
    if (p->err.status != JSON_OK)
        return -1;
    p->err.status = status;
    p->err.offset = offset;
    va_start(ap, fmt);
    vsnprintf(p->err.message, sizeof p->err.message, fmt, ap);
    va_end(ap);
    return -1;
}

static size_t held(const json_stream *p)
{
    return p->doc.mem.used_bytes + p->ncap * sizeof(json_node) + p->mcap * sizeof(json_member) +
           p->hcap * sizeof(double) + (p->mapped ? p->mapbytes : 0) + p->tcap;
}

static int over_memory(json_stream *p)
{
    if (p->max_memory == 0 || held(p) <= p->max_memory)
        return 0;
    return fail(p, JSON_ERR_LIMIT, here(p), "request needs more than %zu bytes of memory",
                p->max_memory);
}

/* Sets the error for an arena allocation that failed: over the cap, or out of memory. */
static void *alloc_failed(json_stream *p)
{
    if (p->max_memory != 0)
        fail(p, JSON_ERR_LIMIT, here(p), "request needs more than %zu bytes of memory",
             p->max_memory);
    else
        fail(p, JSON_ERR_NOMEM, here(p), "out of memory");
    return NULL;
}

static void *p_alloc(json_stream *p, size_t n, size_t elem, size_t align)
{
    void *ptr = arena_alloc_array(&p->doc.mem, n, elem, align);
    return ptr ? ptr : alloc_failed(p);
}

static int unexpected_at(json_stream *p, size_t offset, unsigned char c, const char *what)
{
    if (c >= 0x20 && c < 0x7f)
        return fail(p, JSON_ERR_SYNTAX, offset, "unexpected '%c' at byte %zu, expected %s", c,
                    offset, what);
    return fail(p, JSON_ERR_SYNTAX, offset, "unexpected byte 0x%02x at byte %zu, expected %s", c,
                offset, what);
}

static int unexpected(json_stream *p, const char *what)
{
    return unexpected_at(p, here(p), (unsigned char)p->s[p->pos], what);
}

/* ---- growing scratch ---- */

/* Doubles *cap (from `first`) so that one more element of `elem` bytes fits in the buffer
 * whose pointer is at bufp (a T **, read and written through memcpy). */
static int grow(json_stream *p, void *bufp, size_t *cap, size_t elem, size_t first)
{
    void *buf;
    size_t n = *cap ? *cap * 2 : first;
    memcpy(&buf, bufp, sizeof buf);
    void *grown = n > SIZE_MAX / elem ? NULL : mem_realloc(buf, n * elem);
    if (grown == NULL)
        return fail(p, JSON_ERR_NOMEM, here(p), "out of memory");
    memcpy(bufp, &grown, sizeof grown);
    *cap = n;
    return over_memory(p);
}

static int push_node(json_stream *p, const json_node *n)
{
    if (p->ntop == p->ncap && grow(p, &p->nstack, &p->ncap, sizeof *n, 64) != 0)
        return -1;
    p->nstack[p->ntop++] = *n;
    return 0;
}

static int push_member(json_stream *p, const json_member *m)
{
    if (p->mtop == p->mcap && grow(p, &p->mstack, &p->mcap, sizeof *m, 32) != 0)
        return -1;
    p->mstack[p->mtop++] = *m;
    return 0;
}

static int tok_append(json_stream *p, const char *data, size_t n)
{
    if (n == 0)
        return 0;
    while (p->tcap - p->tlen < n)
        if (grow(p, &p->tbuf, &p->tcap, 1, 64) != 0)
            return -1;
    memcpy(p->tbuf + p->tlen, data, n);
    p->tlen += n;
    return 0;
}

static void tok_begin(json_stream *p, token_kind kind, size_t start)
{
    p->tok = kind;
    p->tlen = 0;
    p->tstart = start;
}

/* ---- delivering values to their container ---- */

static int count_node(json_stream *p, size_t offset)
{
    if (++p->nodes > p->max_nodes)
        return fail(p, JSON_ERR_LIMIT, offset, "more than %zu JSON values outside numeric arrays",
                    p->max_nodes);
    return 0;
}

static int deliver(json_stream *p, const json_node *n)
{
    if (p->nframes == 0) {
        p->doc.root = *n;
        p->have_root = 1;
        return 0;
    }
    frame *f = &p->frames[p->nframes - 1];
    if (f->kind == FR_ARRAY) {
        f->state = A_NEXT;
        return push_node(p, n);
    }
    f->pending.value = *n;
    f->state = O_NEXT;
    return push_member(p, &f->pending);
}

/* ---- numbers ---- */

static int push_number(json_stream *p, double v, int overflow);

/* A complete number token text[0..n) that began at `offset`. */
static int finish_number(json_stream *p, const char *text, size_t n, size_t offset, int packed)
{
    double v;
    size_t used = 0;
    num_status st = num_parse_json(text, n, &v, &used);
    if (st == NUM_INVALID || used != n)
        return fail(p, JSON_ERR_SYNTAX, offset, "invalid number at byte %zu", offset);
    if (packed)
        return push_number(p, v, st == NUM_OVERFLOW);
    json_node node = {.kind = JSON_NUMBER, .overflow = st == NUM_OVERFLOW, .offset = offset};
    node.u.number = v;
    return deliver(p, &node);
}

/* A number starting at s[pos]: finished here when it ends inside this piece. */
static int start_number(json_stream *p, int packed)
{
    size_t i = p->pos;
    while (i < p->len && is_numch(p->s[i]))
        i++;
    if (i < p->len) {
        size_t at = here(p), n = i - p->pos;
        p->pos = i;
        return finish_number(p, p->s + i - n, n, at, packed);
    }
    tok_begin(p, TOK_NUMBER, here(p));
    p->tpacked = packed;
    if (tok_append(p, p->s + p->pos, p->len - p->pos) != 0)
        return -1;
    p->pos = p->len;
    return 0;
}

static int continue_number(json_stream *p)
{
    size_t i = p->pos;
    while (i < p->len && is_numch(p->s[i]))
        i++;
    if (tok_append(p, p->s + p->pos, i - p->pos) != 0)
        return -1;
    p->pos = i;
    if (i == p->len)
        return 0;
    p->tok = TOK_NONE;
    return finish_number(p, p->tbuf, p->tlen, p->tstart, p->tpacked);
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

/* Validates the string body s[0..n) (no closing quote in it; it began at byte `at`) and,
 * when out != NULL, writes the decoded bytes there. Returns 0 and sets *out_len and
 * *escaped, or -1 after setting the error. */
static int string_body(json_stream *p, const char *s, size_t n, size_t at, char *out,
                       size_t *out_len, int *escaped)
{
    size_t i = 0, k = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\') {
            unsigned cp;
            size_t el = read_escape(s, i + 1, n, &cp);
            if (el == 0)
                return fail(p, JSON_ERR_SYNTAX, at + i, "invalid escape in string at byte %zu",
                            at + i);
            *escaped = 1;
            k += out ? put_utf8(out + k, cp) : 0;
            i += 1 + el;
        } else if (c < 0x20) {
            return fail(p, JSON_ERR_SYNTAX, at + i, "control character in string at byte %zu",
                        at + i);
        } else if (c < 0x80) {
            if (out)
                out[k] = (char)c;
            k++;
            i++;
        } else {
            size_t cl = utf8_sequence_length((const unsigned char *)s + i, n - i);
            if (cl == 0)
                return fail(p, JSON_ERR_SYNTAX, at + i, "invalid UTF-8 in string at byte %zu",
                            at + i);
            if (out)
                memcpy(out + k, s + i, cl);
            k += cl;
            i += cl;
        }
    }
    *out_len = k;
    return 0;
}

/* A complete string body text[0..n) whose first byte is at offset `at`. */
static int finish_string(json_stream *p, const char *text, size_t n, size_t at, int key,
                         int can_borrow)
{
    size_t len = 0;
    int escaped = 0;
    const char *ptr = text;
    if (string_body(p, text, n, at, NULL, &len, &escaped) != 0)
        return -1;
    if (escaped || !can_borrow) {
        /* Escapes only shrink: \n is 2 bytes for 1, \uXXXX 6 for at most 3, pairs 12 for 4. */
        char *buf = n ? p_alloc(p, n, 1, 1) : NULL;
        if (n && buf == NULL)
            return -1;
        if (n)
            string_body(p, text, n, at, buf, &len, &escaped);
        ptr = buf ? buf : "";
    }
    if (key) {
        frame *f = &p->frames[p->nframes - 1];
        f->pending.key = ptr;
        f->pending.key_len = len;
        f->state = O_COLON;
        return 0;
    }
    json_node node = {.kind = JSON_STRING, .offset = at - 1};
    node.u.str.ptr = ptr;
    node.u.str.len = len;
    return deliver(p, &node);
}

/* Where the unescaped closing quote of a string is in s[from..len), or len; *esc carries the
 * "last byte was an escaping backslash" state across pieces. */
static size_t find_quote(const char *s, size_t from, size_t len, int *esc)
{
    for (size_t i = from; i < len; i++) {
        if (*esc)
            *esc = 0;
        else if (s[i] == '\\')
            *esc = 1;
        else if (s[i] == '"')
            return i;
    }
    return len;
}

static int start_string(json_stream *p, int key)
{
    int esc = 0;
    size_t open = p->pos, close = find_quote(p->s, open + 1, p->len, &esc);
    if (close < p->len) {
        size_t at = here(p) + 1;
        p->pos = close + 1;
        return finish_string(p, p->s + open + 1, close - open - 1, at, key, p->borrow);
    }
    tok_begin(p, TOK_STRING, here(p) + 1);
    p->tkey = key;
    p->tesc = esc;
    if (tok_append(p, p->s + open + 1, p->len - open - 1) != 0)
        return -1;
    p->pos = p->len;
    return 0;
}

static int continue_string(json_stream *p)
{
    size_t close = find_quote(p->s, p->pos, p->len, &p->tesc);
    if (tok_append(p, p->s + p->pos, close - p->pos) != 0)
        return -1;
    if (close == p->len) {
        p->pos = p->len;
        return 0;
    }
    p->pos = close + 1;
    p->tok = TOK_NONE;
    return finish_string(p, p->tbuf, p->tlen, p->tstart, p->tkey, 0);
}

/* ---- literals ---- */

static int literal_done(json_stream *p, json_kind kind, size_t at)
{
    json_node node = {.kind = kind, .offset = at};
    return deliver(p, &node);
}

static int start_literal(json_stream *p, const char *word, json_kind kind)
{
    size_t n = strlen(word), avail = p->len - p->pos, k = avail < n ? avail : n;
    if (memcmp(p->s + p->pos, word, k) != 0)
        return unexpected(p, "a JSON value");
    size_t at = here(p);
    p->pos += k;
    if (k == n)
        return literal_done(p, kind, at);
    tok_begin(p, TOK_LITERAL, at);
    p->lit = word;
    p->litkind = kind;
    p->litpos = k;
    return 0;
}

static int continue_literal(json_stream *p)
{
    size_t n = strlen(p->lit) - p->litpos, avail = p->len - p->pos, k = avail < n ? avail : n;
    if (memcmp(p->s + p->pos, p->lit + p->litpos, k) != 0)
        return unexpected_at(p, p->tstart, (unsigned char)p->lit[0], "a JSON value");
    p->pos += k;
    p->litpos += k;
    if (k < n)
        return 0;
    p->tok = TOK_NONE;
    return literal_done(p, p->litkind, p->tstart);
}

/* ---- the candidate's number buffer ---- */

static void numbers_reset(json_stream *p)
{
    if (p->mapped)
        mem_unmap(p->num, p->mapbytes);
    p->mapped = 0;
    p->mapbytes = 0;
    p->num = p->hnum;
    p->numcap = p->hcap;
    p->nnum = 0;
}

/* Room for one more number: the heap scratch doubles up to NUM_SCRATCH_MAX, then the
 * numbers move once into a mapping that doubles in place (mremap) from there on. */
static int grow_numbers(json_stream *p)
{
    size_t cap = p->numcap ? p->numcap * 2 : 512, bytes;
    if (__builtin_mul_overflow(cap, sizeof(double), &bytes))
        return fail(p, JSON_ERR_NOMEM, here(p), "out of memory");
    if (!p->mapped && bytes <= NUM_SCRATCH_MAX) {
        if (grow(p, &p->hnum, &p->hcap, sizeof(double), 512) != 0)
            return -1;
        p->num = p->hnum;
        p->numcap = p->hcap;
        return 0;
    }
    size_t got = bytes;
    double *m = p->mapped ? mem_remap(p->num, p->mapbytes, &got) : mem_map(&got);
    if (m == NULL)
        return fail(p, JSON_ERR_NOMEM, here(p), "out of memory");
    if (!p->mapped && p->nnum)
        memcpy(m, p->num, p->nnum * sizeof(double));
    p->num = m;
    p->mapbytes = got;
    p->numcap = (got - SIMD_PAD) / sizeof(double); /* the tail pad is always there */
    p->mapped = 1;
    return over_memory(p);
}

static int push_number(json_stream *p, double v, int overflow)
{
    if (overflow && p->pk.first_overflow == JSON_NO_OVERFLOW)
        p->pk.first_overflow = p->nnum;
    if (p->nnum == p->numcap && grow_numbers(p) != 0)
        return -1;
    p->num[p->nnum++] = v;
    return 0;
}

/* A packed node over n doubles copied from src (arena memory). The index of the first
 * infinity is found by a scan, unless the caller knows it (first_overflow, or
 * JSON_NO_OVERFLOW when there is none). */
static json_packed *packed_copy(json_stream *p, const double *src, size_t n, size_t rank,
                                const size_t *shape, int scan, size_t first_overflow)
{
    json_packed *pk = p_alloc(p, 1, sizeof *pk, _Alignof(json_packed));
    if (pk == NULL)
        return NULL;
    /* n doubles already exist, so the byte count cannot overflow. */
    pk->data = arena_alloc_simd(&p->doc.mem, n * sizeof(double));
    if (pk->data == NULL)
        return alloc_failed(p);
    if (n)
        memcpy(pk->data, src, n * sizeof(double));
    memset(pk->shape, 0, sizeof pk->shape);
    memcpy(pk->shape, shape, rank * sizeof *shape);
    pk->rank = rank;
    pk->count = n;
    pk->first_overflow = scan ? JSON_NO_OVERFLOW : first_overflow;
    for (size_t i = 0; scan && i < n; i++)
        if (isinf(src[i])) { /* only an overflowing number text gives an infinity */
            pk->first_overflow = i;
            break;
        }
    return pk;
}

/* The candidate's numbers as the packed buffer: copied when they are in the scratch, the
 * mapping itself (trimmed, padded for SIMD tails) when they outgrew it. */
static json_packed *packed_take(json_stream *p, const candidate *k)
{
    if (!p->mapped)
        return packed_copy(p, p->num, p->nnum, k->rank, k->shape, 0, k->first_overflow);
    json_packed *pk = p_alloc(p, 1, sizeof *pk, _Alignof(json_packed));
    if (pk == NULL)
        return NULL;
    /* numcap leaves SIMD_PAD bytes of the mapping past the last number: SIMD tails may read
     * a whole vector there. The mapping is kept whole (its pages may be warm from the
     * cache) and returns to the cache when the arena is released. */
    double *m = p->num;
    if (arena_adopt_map(&p->doc.mem, m, p->mapbytes) != 0)
        return alloc_failed(p);
    p->mapped = 0;
    p->mapbytes = 0;
    p->num = p->hnum;
    p->numcap = p->hcap;
    *pk = (json_packed){
        .rank = k->rank, .count = p->nnum, .data = m, .first_overflow = k->first_overflow};
    memcpy(pk->shape, k->shape, sizeof pk->shape);
    return pk;
}

/* ---- the candidate: a packed numeric array being read ---- */

static int open_candidate(json_stream *p)
{
    candidate *k = &p->pk;
    size_t depth = p->nframes;
    *k = (candidate){.active = 1, .depth = depth, .d = 1, .st = PK_AFTER_OPEN};
    k->max_rank = JSON_MAX_DEPTH - depth < JSON_MAX_RANK ? JSON_MAX_DEPTH - depth : JSON_MAX_RANK;
    k->open[0] = here(p);
    k->first_overflow = JSON_NO_OVERFLOW;
    p->nnum = 0;
    p->pos++;
    return 0;
}

static int close_candidate(json_stream *p)
{
    candidate *k = &p->pk;
    json_packed *pk = packed_take(p, k);
    k->active = 0;
    p->nnum = 0;
    if (pk == NULL)
        return -1;
    json_node node = {.kind = JSON_PACKED, .offset = k->open[0]};
    node.u.packed = pk;
    return deliver(p, &node);
}

/* Completed child c of level j (children are numbers when rank == j + 1, else rectangular
 * arrays of shape[j+1..rank)), made into a node from the numbers at *next. */
static int demoted_child(json_stream *p, const candidate *k, size_t j, size_t *next)
{
    json_node node = {.kind = JSON_NUMBER, .offset = k->open[j]};
    if (count_node(p, k->open[j]) != 0)
        return -1;
    if (k->rank == j + 1) {
        node.u.number = p->num[*next];
        node.overflow = isinf(node.u.number) != 0;
        (*next)++;
        return push_node(p, &node);
    }
    size_t n = 1;
    for (size_t d = j + 1; d < k->rank; d++)
        n *= k->shape[d]; /* a sub-block of numbers already held: no overflow */
    node.kind = JSON_PACKED;
    node.u.packed =
        packed_copy(p, n ? p->num + *next : NULL, n, k->rank - j - 1, k->shape + j + 1, 1, 0);
    *next += n;
    return node.u.packed ? push_node(p, &node) : -1;
}

/* The candidate cannot be packed: each of its open arrays becomes a generic frame holding
 * the children it completed, and reading resumes at the same byte in generic mode. */
static int demote(json_stream *p)
{
    candidate *k = &p->pk;
    size_t next = 0;
    static const frame_state resume[] = {A_FIRST, A_VALUE, A_NEXT};
    k->active = 0;
    for (size_t j = 0; j < k->d; j++) {
        size_t done = j + 1 < k->d ? k->cnt[j] - 1 : k->cnt[j];
        frame *f = &p->frames[p->nframes++];
        *f = (frame){.kind = FR_ARRAY, .state = A_VALUE, .base = p->ntop, .start = k->open[j]};
        if (j > 0 && count_node(p, k->open[j]) != 0)
            return -1;
        if (k->rank == 0)
            done = 0; /* nothing completed yet, or the rank would be known */
        for (size_t c = 0; c < done; c++)
            if (demoted_child(p, k, j, &next) != 0)
                return -1;
        if (j + 1 == k->d)
            f->state = resume[k->st];
    }
    numbers_reset(p);
    return 0;
}

static int candidate_close(json_stream *p)
{
    candidate *k = &p->pk;
    size_t j = k->d - 1;
    if (k->cnt[j] == 0 && k->rank == 0)
        k->rank = k->d;
    if ((k->cnt[j] == 0 && k->rank != k->d) || ((k->set >> j & 1) && k->shape[j] != k->cnt[j]))
        return demote(p); /* ragged */
    k->shape[j] = k->cnt[j];
    k->set |= 1u << j;
    k->st = PK_AFTER_VALUE;
    p->pos++;
    if (--k->d == 0)
        return close_candidate(p);
    return 0;
}

/* A run of ordinary numbers from s[pos], read in one call straight into the number buffer
 * (while it has room). Returns how many. */
static size_t candidate_run(json_stream *p)
{
    candidate *k = &p->pk;
    size_t used = 0, n = 0;
    if (p->nnum < p->numcap)
        n = num_parse_json_run(p->s + p->pos, p->len - p->pos, p->num + p->nnum,
                               p->numcap - p->nnum, &used);
    if (n > 0) {
        k->cnt[k->d - 1] += n;
        k->st = PK_AFTER_VALUE;
        p->nnum += n;
        p->pos += used;
    }
    return n;
}

/* Numbers inside the candidate from s[pos]. The common case (a run of numbers that end
 * inside this piece: most of a tensor's bytes) is read in place, in runs; a number cut by
 * the piece's end, a malformed one, or one the run leaves to the general parser, goes one at
 * a time, through the token path when cut or malformed, which reaches the same result and
 * the same error. */
static int candidate_number(json_stream *p)
{
    candidate *k = &p->pk;
    for (;;) {
        if (candidate_run(p) == 0) {
            double v;
            size_t used = 0, avail = p->len - p->pos;
            num_status st = num_parse_json(p->s + p->pos, avail, &v, &used);
            k->cnt[k->d - 1]++;
            k->st = PK_AFTER_VALUE;
            if (st == NUM_INVALID || used == avail || is_numch(p->s[p->pos + used]))
                return start_number(p, 1);
            p->pos += used;
            if (st != NUM_OK || p->nnum == p->numcap)
                return push_number(p, v, st == NUM_OVERFLOW);
            p->num[p->nnum++] = v;
        }
        if (p->len - p->pos < 2 || p->s[p->pos] != ',' ||
            !(is_digit(p->s[p->pos + 1]) || p->s[p->pos + 1] == '-'))
            return 0; /* anything else: step_candidate's loop */
        k->st = PK_NEED_VALUE;
        p->pos++;
    }
}

/* Reads the candidate's bytes until it closes, needs the generic reader, or the piece ends
 * (one loop: this is where nearly every byte of a large tensor goes). */
static int step_candidate(json_stream *p)
{
    candidate *k = &p->pk;
    while (p->pos < p->len && p->tok == TOK_NONE && k->active) {
        char c = p->s[p->pos];
        int rc = 0;
        if (is_ws(c)) {
            p->pos++;
        } else if (k->st != PK_AFTER_VALUE && (is_digit(c) || c == '-')) {
            if (k->rank == 0)
                k->rank = k->d;
            if (k->rank != k->d)
                return demote(p); /* ragged: a number where an array was expected */
            rc = candidate_number(p);
        } else if (k->st != PK_AFTER_VALUE && c == '[') {
            if (k->d == k->max_rank || (k->rank != 0 && k->d >= k->rank))
                return demote(p); /* too deep, or an array where a number was expected */
            k->cnt[k->d - 1]++;
            k->open[k->d] = here(p);
            k->cnt[k->d++] = 0;
            k->st = PK_AFTER_OPEN;
            p->pos++;
        } else if (k->st == PK_AFTER_VALUE && c == ',') {
            k->st = PK_NEED_VALUE;
            p->pos++;
        } else if (c == ']' && k->st != PK_NEED_VALUE) {
            rc = candidate_close(p);
        } else {
            return demote(p); /* not a number, or bad structure: the generic reader judges it */
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- generic containers ---- */

static int depth_ok(json_stream *p)
{
    if (p->nframes < JSON_MAX_DEPTH)
        return 0;
    return fail(p, JSON_ERR_SYNTAX, here(p), "nesting deeper than %d at byte %zu", JSON_MAX_DEPTH,
                here(p));
}

/* A generic array whose items turned out numbers, or equal-shaped packed arrays: packed, so
 * that rectangular data is packed however the reader got there. Returns 1 if it did. */
static int promote(json_stream *p, const json_node *items, size_t count, json_node *out)
{
    const json_packed *first = count && items[0].kind == JSON_PACKED ? items[0].u.packed : NULL;
    size_t rank = first ? first->rank + 1 : 1, shape[JSON_MAX_RANK], n = 0;
    for (size_t i = 0; i < count; i++) {
        const json_node *it = &items[i];
        if (first ? it->kind != JSON_PACKED || it->u.packed->rank != first->rank ||
                        memcmp(it->u.packed->shape, first->shape,
                               first->rank * sizeof first->shape[0]) != 0
                  : it->kind != JSON_NUMBER)
            return 0;
    }
    if (rank > JSON_MAX_RANK || rank > JSON_MAX_DEPTH - (p->nframes - 1)) /* its own depth */
        return 0;
    shape[0] = count;
    if (first)
        memcpy(shape + 1, first->shape, first->rank * sizeof shape[0]);
    size_t each = first ? first->count : 1;
    double *data = arena_alloc_simd(&p->doc.mem, count * each * sizeof(double));
    json_packed *pk = data ? p_alloc(p, 1, sizeof *pk, _Alignof(json_packed)) : alloc_failed(p);
    if (pk == NULL)
        return -1;
    *pk = (json_packed){
        .rank = rank, .count = count * each, .data = data, .first_overflow = JSON_NO_OVERFLOW};
    memcpy(pk->shape, shape, rank * sizeof shape[0]);
    for (size_t i = 0; i < count; i++, n += each) {
        const double *src = first ? items[i].u.packed->data : &items[i].u.number;
        if (each)
            memcpy(data + n, src, each * sizeof *data);
        for (size_t e = 0; e < each && pk->first_overflow == JSON_NO_OVERFLOW; e++)
            if (isinf(src[e]))
                pk->first_overflow = n + e;
    }
    out->kind = JSON_PACKED;
    out->u.packed = pk;
    return 1;
}

static int close_array(json_stream *p)
{
    frame *f = &p->frames[p->nframes - 1];
    size_t count = p->ntop - f->base;
    json_node node = {.kind = JSON_ARRAY, .offset = f->start};
    const json_node *first = count ? p->nstack + f->base : NULL;
    int packed = promote(p, first, count, &node);
    if (packed < 0)
        return -1;
    if (!packed) {
        json_node *items = count ? p_alloc(p, count, sizeof *items, _Alignof(json_node)) : NULL;
        if (count && items == NULL)
            return -1;
        if (count)
            memcpy(items, first, count * sizeof *items);
        node.u.arr.items = items;
        node.u.arr.count = count;
    }
    p->ntop = f->base;
    p->nframes--;
    p->pos++;
    return deliver(p, &node);
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
static const json_member *find_duplicate(json_stream *p, const json_member *m, size_t n, int *nomem)
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
        fail(p, JSON_ERR_NOMEM, here(p), "out of memory");
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

/* A key for an error message: at most 64 bytes, control characters (an escaped NUL among
 * them, which %s would stop at) written as \u00XX. */
static const char *key_for_message(char out[JSON_KEY_TEXT], const char *key, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len && i < 64; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c == 0x7f) {
            memcpy(out + o, "\\u00", 4);
            out[o + 4] = hex[c >> 4];
            out[o + 5] = hex[c & 15];
            o += 6;
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return out;
}

static int close_object(json_stream *p)
{
    frame *f = &p->frames[p->nframes - 1];
    size_t count = p->mtop - f->base;
    int nomem;
    const json_member *first = count ? p->mstack + f->base : NULL; /* NULL until used */
    const json_member *dup = find_duplicate(p, first, count, &nomem);
    if (nomem)
        return -1;
    char key[JSON_KEY_TEXT];
    if (dup != NULL)
        return fail(p, JSON_ERR_SYNTAX, dup->value.offset,
                    "duplicate key \"%s\" in the object at byte %zu",
                    key_for_message(key, dup->key, dup->key_len), f->start);
    json_member *items = count ? p_alloc(p, count, sizeof *items, _Alignof(json_member)) : NULL;
    if (count && items == NULL)
        return -1;
    if (count)
        memcpy(items, first, count * sizeof *items);
    json_node node = {.kind = JSON_OBJECT, .offset = f->start};
    node.u.obj.items = items;
    node.u.obj.count = count;
    p->mtop = f->base;
    p->nframes--;
    p->pos++;
    return deliver(p, &node);
}

static int open_object(json_stream *p)
{
    if (depth_ok(p) != 0)
        return -1;
    p->frames[p->nframes++] =
        (frame){.kind = FR_OBJECT, .state = O_FIRST, .base = p->mtop, .start = here(p)};
    p->pos++;
    return 0;
}

static int start_value(json_stream *p)
{
    char c = p->s[p->pos];
    if (count_node(p, here(p)) != 0)
        return -1;
    switch (c) {
    case '{':
        return open_object(p);
    case '[':
        return depth_ok(p) != 0 ? -1 : open_candidate(p);
    case '"':
        return start_string(p, 0);
    case 't':
        return start_literal(p, "true", JSON_TRUE);
    case 'f':
        return start_literal(p, "false", JSON_FALSE);
    case 'n':
        return start_literal(p, "null", JSON_NULL);
    default:
        if (c == '-' || is_digit(c))
            return start_number(p, 0);
        return unexpected(p, "a JSON value");
    }
}

/* One structural byte (or the start of a value) outside any candidate. */
static int step_generic(json_stream *p)
{
    char c = p->s[p->pos];
    if (p->nframes == 0) {
        if (!p->have_root)
            return start_value(p);
        return fail(p, JSON_ERR_SYNTAX, here(p), "trailing characters at byte %zu", here(p));
    }
    frame *f = &p->frames[p->nframes - 1];
    switch (f->state) {
    case A_FIRST:
        if (c == ']')
            return close_array(p);
        return start_value(p);
    case A_VALUE:
    case O_VALUE:
        return start_value(p);
    case A_NEXT:
        if (c == ',') {
            f->state = A_VALUE;
            p->pos++;
            return 0;
        }
        return c == ']' ? close_array(p) : unexpected(p, "',' or ']'");
    case O_FIRST:
        if (c == '}')
            return close_object(p);
        return c == '"' ? start_string(p, 1) : unexpected(p, "a string key");
    case O_KEY:
        return c == '"' ? start_string(p, 1) : unexpected(p, "a string key");
    case O_COLON:
        if (c != ':')
            return unexpected(p, "':'");
        f->state = O_VALUE;
        p->pos++;
        return 0;
    case O_NEXT:
        if (c == ',') {
            f->state = O_KEY;
            p->pos++;
            return 0;
        }
        return c == '}' ? close_object(p) : unexpected(p, "',' or '}'");
    }
    return unexpected(p, "a JSON value");
}

static int step(json_stream *p)
{
    switch (p->tok) {
    case TOK_NUMBER:
        return continue_number(p);
    case TOK_STRING:
        return continue_string(p);
    case TOK_LITERAL:
        return continue_literal(p);
    case TOK_NONE:
        break;
    }
    while (p->pos < p->len && is_ws(p->s[p->pos]))
        p->pos++;
    if (p->pos == p->len)
        return 0;
    return p->pk.active ? step_candidate(p) : step_generic(p);
}

/* What the input needed next when it ended. */
static const char *expected_at_end(const json_stream *p)
{
    static const char *const want[] = {
        [A_FIRST] = "a JSON value", [A_VALUE] = "a JSON value", [A_NEXT] = "',' or ']'",
        [O_FIRST] = "a string key", [O_KEY] = "a string key",   [O_COLON] = "':'",
        [O_VALUE] = "a JSON value", [O_NEXT] = "',' or '}'"};
    if (p->pk.active)
        return p->pk.st == PK_AFTER_VALUE ? "',' or ']'" : "a JSON value";
    if (p->nframes == 0)
        return "a JSON value";
    return want[p->frames[p->nframes - 1].state];
}

/* ---- set-up and the public face ---- */

static void stream_init(json_stream *p, const json_limits *limits, int borrow)
{
    memset(p, 0, sizeof *p);
    p->borrow = borrow;
    p->max_nodes = limits && limits->max_nodes ? limits->max_nodes : JSON_DEFAULT_MAX_NODES;
    p->max_memory = limits ? limits->max_memory : 0;
    arena_init(&p->doc.mem, p->max_memory);
}

/* Frees the scratch (not the document). */
static void stream_scratch_free(json_stream *p)
{
    numbers_reset(p);
    mem_free(p->hnum);
    mem_free(p->nstack);
    mem_free(p->mstack);
    mem_free(p->tbuf);
    p->hnum = p->num = NULL;
    p->nstack = NULL;
    p->mstack = NULL;
    p->tbuf = NULL;
    p->hcap = p->numcap = p->ncap = p->mcap = p->tcap = 0;
}

json_stream *json_stream_new(const json_limits *limits)
{
    json_stream *p = mem_alloc(sizeof *p);
    if (p != NULL)
        stream_init(p, limits, 0);
    return p;
}

json_status json_stream_feed(json_stream *p, const char *data, size_t n)
{
    if (p->err.status != JSON_OK)
        return p->err.status;
    p->s = data;
    p->len = n;
    p->pos = 0;
    while (p->pos < p->len)
        if (step(p) != 0)
            break;
    p->base += p->pos;
    p->s = NULL;
    p->len = p->pos = 0;
    return p->err.status;
}

/* Completes a token the input ended in, then checks that the document is complete. */
static int finish_input(json_stream *p)
{
    token_kind tok = p->tok;
    p->tok = TOK_NONE;
    if (tok == TOK_NUMBER && finish_number(p, p->tbuf, p->tlen, p->tstart, p->tpacked) != 0)
        return -1;
    if (tok == TOK_STRING)
        return fail(p, JSON_ERR_SYNTAX, p->base, "unterminated string");
    if (tok == TOK_LITERAL)
        return unexpected_at(p, p->tstart, (unsigned char)p->lit[0], "a JSON value");
    if (p->have_root && p->nframes == 0 && !p->pk.active)
        return 0;
    return fail(p, JSON_ERR_SYNTAX, p->base, "unexpected end of input, expected %s",
                expected_at_end(p));
}

json_status json_stream_finish(json_stream *p, json_doc *doc)
{
    memset(doc, 0, sizeof *doc);
    if (p->err.status == JSON_OK)
        finish_input(p);
    stream_scratch_free(p);
    if (p->err.status != JSON_OK) {
        json_doc_release(&p->doc);
        return p->err.status;
    }
    *doc = p->doc;
    arena_init(&p->doc.mem, 0);
    memset(&p->doc.root, 0, sizeof p->doc.root);
    p->have_root = 0;
    return JSON_OK;
}

const json_error *json_stream_error(const json_stream *p)
{
    return &p->err;
}

size_t json_stream_memory(const json_stream *p)
{
    return held(p);
}

size_t json_stream_offset(const json_stream *p)
{
    return p->base;
}

void json_stream_free(json_stream *p)
{
    if (p == NULL)
        return;
    stream_scratch_free(p);
    json_doc_release(&p->doc);
    mem_free(p);
}

json_status json_doc_parse(json_doc *doc, const char *body, size_t len, const json_limits *limits,
                           json_error *err)
{
    json_stream p;
    stream_init(&p, limits, 1);
    json_stream_feed(&p, body, len);
    json_status st = json_stream_finish(&p, doc);
    *err = p.err;
    return st;
}

size_t json_request_cap(size_t len)
{
    size_t four =
        len > (SIZE_MAX - JSON_REQUEST_SLACK) / 4 ? SIZE_MAX - JSON_REQUEST_SLACK : len * 4;
    return four + JSON_REQUEST_SLACK;
}

void json_doc_release(json_doc *doc)
{
    if (doc == NULL)
        return;
    arena_release(&doc->mem);
    memset(&doc->root, 0, sizeof doc->root);
}

int json_node_same(const json_node *a, const json_node *b)
{
    if (a->kind != b->kind || a->offset != b->offset || a->overflow != b->overflow)
        return 0;
    switch (a->kind) {
    case JSON_NUMBER:
        return memcmp(&a->u.number, &b->u.number, sizeof a->u.number) == 0;
    case JSON_STRING:
        return a->u.str.len == b->u.str.len &&
               memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len) == 0;
    case JSON_ARRAY:
        if (a->u.arr.count != b->u.arr.count)
            return 0;
        for (size_t i = 0; i < a->u.arr.count; i++)
            if (!json_node_same(&a->u.arr.items[i], &b->u.arr.items[i]))
                return 0;
        return 1;
    case JSON_OBJECT:
        if (a->u.obj.count != b->u.obj.count)
            return 0;
        for (size_t i = 0; i < a->u.obj.count; i++) {
            const json_member *x = &a->u.obj.items[i], *y = &b->u.obj.items[i];
            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 ||
                !json_node_same(&x->value, &y->value))
                return 0;
        }
        return 1;
    case JSON_PACKED: {
        const json_packed *x = a->u.packed, *y = b->u.packed;
        return x->rank == y->rank && x->count == y->count &&
               x->first_overflow == y->first_overflow &&
               memcmp(x->shape, y->shape, x->rank * sizeof x->shape[0]) == 0 &&
               (x->count == 0 || memcmp(x->data, y->data, x->count * sizeof(double)) == 0);
    }
    case JSON_NULL: /* the kind says it all */
    case JSON_FALSE:
    case JSON_TRUE:
        return 1;
    }
    return 0;
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
