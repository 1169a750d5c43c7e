/* request: body buffer growth, ids, header checks. Invariant: a body never holds more than
 * its limit, and no allocation is sized by a client's claim beyond REQUEST_PRESIZE_MAX. */
#include "request.h"

#include <string.h>
#include <strings.h>

#include "mem.h"

#define REQUEST_PRESIZE_MAX ((size_t)8 << 20)
#define REQUEST_GROW_MIN ((size_t)64 << 10)

/* Sets capacity to cap (+1 for the terminator), keeping the alignment pad. Returns 0 or -1. */
static int body_reserve(request_body *b, size_t cap)
{
    size_t bytes;
    if (__builtin_add_overflow(cap, b->pad + 1, &bytes))
        return -1;
    char *grown = mem_alloc_aligned(bytes);
    if (grown == NULL)
        return -1;
    if (b->len)
        memcpy(grown + b->pad, b->data, b->len);
    mem_free_aligned(b->base);
    b->base = grown;
    b->alloc = bytes;
    b->data = grown + b->pad;
    b->cap = cap;
    b->data[b->len] = '\0';
    return 0;
}

/* The pad that puts data + align_at on a 64-byte boundary. */
static size_t body_pad(size_t align_at)
{
    return (64 - align_at % 64) % 64;
}

/* The capacity a body starts with: its declared size when that is within the limit, up to
 * REQUEST_PRESIZE_MAX; 0 (grow as bytes come) otherwise. */
static size_t body_presize(size_t declared, size_t limit)
{
    if (declared == 0 || declared > limit)
        return 0;
    return declared < REQUEST_PRESIZE_MAX ? declared : REQUEST_PRESIZE_MAX;
}

void request_body_init(request_body *b, size_t declared, size_t limit, size_t align_at)
{
    size_t presize = body_presize(declared, limit);
    *b = (request_body){.declared = declared, .limit = limit, .pad = body_pad(align_at)};
    if (presize > 0)
        (void)body_reserve(b, presize);
}

void request_body_recycle(request_body *b, size_t keep)
{
    char *base = b->base;
    size_t alloc = b->alloc;
    if (alloc > keep) {
        mem_free_aligned(base);
        base = NULL;
        alloc = 0;
    }
    *b = (request_body){.base = base, .alloc = alloc};
}

void request_body_restart(request_body *b, size_t declared, size_t limit, size_t align_at)
{
    size_t pad = body_pad(align_at);
    if (b->base == NULL || b->alloc < pad + 1 + body_presize(declared, limit)) {
        request_body_release(b);
        request_body_init(b, declared, limit, align_at);
        return;
    }
    *b = (request_body){.base = b->base,
                        .alloc = b->alloc,
                        .data = b->base + pad,
                        .pad = pad,
                        .cap = b->alloc - pad - 1,
                        .declared = declared,
                        .limit = limit};
    b->data[0] = '\0';
}

/* Next capacity for `need` bytes: double, but not past the declared size or the limit. */
static size_t body_next_cap(const request_body *b, size_t need)
{
    size_t target = b->declared >= need ? b->declared : b->limit;
    size_t cap = b->cap > REQUEST_GROW_MIN / 2 ? b->cap : REQUEST_GROW_MIN / 2;
    cap = cap <= target / 2 ? cap * 2 : target;
    return cap > need ? cap : need;
}

void request_body_append(request_body *b, const char *data, size_t n)
{
    size_t need;
    b->received = b->received > SIZE_MAX - n ? SIZE_MAX : b->received + n;
    if (b->too_big || b->nomem)
        return;
    if (__builtin_add_overflow(b->len, n, &need) || need > b->limit) {
        b->too_big = 1;
        return;
    }
    if (need > b->cap && body_reserve(b, body_next_cap(b, need)) != 0) {
        b->nomem = 1;
        return;
    }
    memcpy(b->data + b->len, data, n);
    b->len = need;
    b->data[b->len] = '\0';
}

void request_body_skip(request_body *b, size_t n)
{
    b->received = b->received > SIZE_MAX - n ? SIZE_MAX : b->received + n;
    if (b->received > b->limit)
        b->too_big = 1;
}

void request_body_release(request_body *b)
{
    mem_free_aligned(b->base);
    b->base = b->data = NULL;
    b->len = b->cap = b->alloc = 0;
}

static int id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
}

size_t request_id_sanitise(const char *header, char *id)
{
    size_t n = 0;
    for (; header && *header && n < REQUEST_ID_MAX; header++)
        if (id_char(*header))
            id[n++] = *header;
    id[n] = '\0';
    return n;
}

void request_id_generate(uint64_t seed, uint64_t counter, char *id)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t z = seed + counter * 0x9e3779b97f4a7c15ull; /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    for (int i = 15; i >= 0; i--, z >>= 4)
        id[i] = hex[z & 15];
    id[16] = '\0';
}

int request_media_type_ok(const char *content_type, int binary_ok)
{
    size_t len;
    if (content_type == NULL)
        return 1;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    len = strcspn(content_type, "; \t");
    if (len == 0)
        return 1;
#define IS(t) (len == sizeof(t) - 1 && strncasecmp(content_type, t, len) == 0)
    return IS("application/json") || IS("application/x-www-form-urlencoded") ||
           (binary_ok && IS("application/octet-stream"));
#undef IS
}

int request_encoding_ok(const char *content_encoding)
{
    const char *p = content_encoding;
    size_t len;
    if (p == NULL)
        return 1;
    /* A list ("identity, identity") is read token by token; any coding but identity fails. */
    for (;;) {
        p += strspn(p, " \t,");
        if (*p == '\0')
            return 1;
        len = strcspn(p, " \t,");
        if (!(len == 8 && strncasecmp(p, "identity", len) == 0))
            return 0;
        p += len;
    }
}

int request_parse_length(const char *s, size_t *out)
{
    size_t v = 0;
    if (s == NULL || *s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || __builtin_mul_overflow(v, (size_t)10, &v) ||
            __builtin_add_overflow(v, (size_t)(*s - '0'), &v))
            return -1;
    }
    *out = v;
    return 0;
}

int request_key_equal(const char *given, size_t given_len, const char *key, size_t key_len)
{
    volatile unsigned char diff = (unsigned char)(given_len != key_len);
    for (size_t i = 0; i < key_len; i++) {
        unsigned char g = i < given_len ? (unsigned char)given[i] : 0;
        diff |= g ^ (unsigned char)key[i];
    }
    return diff == 0;
}
