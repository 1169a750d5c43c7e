/* npy: the .npy header is a Python dict literal, e.g.
 *   {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
 * read here by a small strict scanner (three known keys, each once; strings, booleans and
 * tuples of integers only). Invariant: the data length is checked against the shape, with
 * overflow checks, before anything is allocated or read. */
#include "npy.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_HEADER_MAX ((size_t)1 << 20) /* numpy itself refuses headers above 10 KB */

typedef struct {
    const char *p, *end;
} scan;

typedef struct {
    char descr[16];
    int fortran;
    size_t rank;
    size_t shape[TENSOR_MAX_RANK];
    unsigned seen; /* bit per key */
} npy_dict;

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

static void skip_space(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int eat(scan *s, char c)
{
    skip_space(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* A quoted string ('...' or "...", no escapes: numpy writes none) into out. */
static int read_string(scan *s, char *out, size_t cap)
{
    skip_space(s);
    if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
        return -1;
    char q = *s->p++;
    size_t n = 0;
    while (s->p < s->end && *s->p != q) {
        if (*s->p == '\\' || n + 1 >= cap)
            return -1;
        out[n++] = *s->p++;
    }
    if (s->p >= s->end)
        return -1;
    s->p++;
    out[n] = '\0';
    return 0;
}

static int read_word(scan *s, const char *word)
{
    size_t n = strlen(word);
    skip_space(s);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return 0;
    s->p += n;
    return 1;
}

static int read_size(scan *s, size_t *out)
{
    size_t v = 0;
    skip_space(s);
    if (s->p >= s->end || *s->p < '0' || *s->p > '9')
        return -1;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        if (__builtin_mul_overflow(v, (size_t)10, &v) ||
            __builtin_add_overflow(v, (size_t)(*s->p - '0'), &v))
            return -1;
        s->p++;
    }
    if (s->p < s->end && *s->p == 'L') /* Python 2's long suffix, still in old files */
        s->p++;
    *out = v;
    return 0;
}

/* (), (n,), (n, m), ... with an optional trailing comma. */
static int read_shape(scan *s, npy_dict *d)
{
    if (!eat(s, '('))
        return -1;
    d->rank = 0;
    if (eat(s, ')'))
        return 0;
    for (;;) {
        if (d->rank == TENSOR_MAX_RANK || read_size(s, &d->shape[d->rank]) != 0)
            return -1;
        d->rank++;
        if (eat(s, ')'))
            return d->rank == 1 ? -1 : 0; /* (n) is not a tuple */
        if (!eat(s, ','))
            return -1;
        if (eat(s, ')'))
            return 0;
    }
}

/* One "key: value" member. */
static int read_member(scan *s, npy_dict *d)
{
    char key[16];
    if (read_string(s, key, sizeof key) != 0 || !eat(s, ':'))
        return -1;
    if (strcmp(key, "descr") == 0 && !(d->seen & 1u)) {
        d->seen |= 1u;
        return read_string(s, d->descr, sizeof d->descr);
    }
    if (strcmp(key, "fortran_order") == 0 && !(d->seen & 2u)) {
        d->seen |= 2u;
        d->fortran = read_word(s, "True");
        return d->fortran || read_word(s, "False") ? 0 : -1;
    }
    if (strcmp(key, "shape") == 0 && !(d->seen & 4u)) {
        d->seen |= 4u;
        return read_shape(s, d);
    }
    return -1;
}

static int read_dict(const char *text, size_t len, npy_dict *d)
{
    scan s = {text, text + len};
    memset(d, 0, sizeof *d);
    if (!eat(&s, '{'))
        return -1;
    while (!eat(&s, '}')) {
        if (read_member(&s, d) != 0)
            return -1;
        if (!eat(&s, ',')) {
            if (!eat(&s, '}'))
                return -1;
            break;
        }
    }
    skip_space(&s);
    return s.p == s.end && d->seen == 7u ? 0 : -1;
}

/* The tensor type of a descr, or -1 with a message saying why it is not usable. */
static int descr_type(const char *descr, char *msg, size_t cap)
{
    static const struct {
        const char *descr;
        tensor_type type;
    } known[] = {
        {"<f8", TENSOR_F64}, {"<f4", TENSOR_F32}, {"<i8", TENSOR_I64}, {"<i4", TENSOR_I32}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(descr, known[i].descr) == 0)
            return (int)known[i].type;
    if (descr[0] == '>' && (descr[1] == 'f' || descr[1] == 'i') &&
        (descr[2] == '4' || descr[2] == '8') && descr[3] == '\0')
        fail(msg, cap, API_ERR_INVALID_TYPE,
             "big-endian data ('%s') is not supported; save a little-endian copy "
             "(a.astype('<%s'))",
             descr, descr + 1);
    else if (strchr(descr, 'O'))
        fail(msg, cap, API_ERR_INVALID_TYPE,
             "object arrays ('%s') are not supported; save a numeric array "
             "(float32, float64, int32 or int64)",
             descr);
    else
        fail(msg, cap, API_ERR_INVALID_TYPE,
             "dtype '%s' is not supported; use float32, float64, int32 or int64 "
             "(little-endian)",
             descr);
    return -1;
}

/* Magic, version and header length; *dict_at and *dict_len locate the dict text. */
static api_code read_preamble(const unsigned char *b, size_t len, size_t *dict_at, size_t *dict_len,
                              char *msg, size_t cap)
{
    if (len < NPY_MAGIC_LEN + 2 || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return fail(msg, cap, API_ERR_INVALID_BINARY,
                    "not a .npy file (it does not start with \\x93NUMPY)");
    unsigned major = b[6];
    size_t at = major == 1 ? 10 : 12, n;
    if (major < 1 || major > 3)
        return fail(msg, cap, API_ERR_INVALID_BINARY, ".npy version %u.%u is not supported", major,
                    b[7]);
    if (len < at)
        return fail(msg, cap, API_ERR_INVALID_BINARY, "truncated .npy header");
    n = major == 1 ? (size_t)b[8] | (size_t)b[9] << 8
                   : (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    if (n > NPY_HEADER_MAX || n > len - at)
        return fail(msg, cap, API_ERR_INVALID_BINARY,
                    "truncated .npy header: it claims %zu bytes, the file has %zu after the "
                    "preamble",
                    n, len - at);
    *dict_at = at;
    *dict_len = n;
    return API_OK;
}

/* Points out at the data when aligned, else copies it into an owned buffer. */
static api_code place_data(const unsigned char *data, size_t bytes, tensor *out, char *msg,
                           size_t cap)
{
    size_t esize = tensor_type_size(out->type);
    if ((uintptr_t)data % esize == 0 || bytes == 0) {
        out->data = bytes ? (void *)(uintptr_t)data : NULL;
        out->owned = 0;
        return API_OK;
    }
    out->data = mem_alloc_aligned(bytes);
    if (out->data == NULL)
        return fail(msg, cap, API_ERR_NOMEM, "out of memory for %zu bytes of data", bytes);
    memcpy(out->data, data, bytes);
    out->owned = 1;
    return API_OK;
}

api_code npy_decode(const void *buf, size_t len, tensor *out, char *msg, size_t cap)
{
    const unsigned char *b = buf;
    size_t at = 0, dict_len = 0, count, bytes;
    npy_dict d;
    api_code code;
    memset(out, 0, sizeof *out);
    if ((code = read_preamble(b, len, &at, &dict_len, msg, cap)) != API_OK)
        return code;
    if (read_dict((const char *)b + at, dict_len, &d) != 0)
        return fail(msg, cap, API_ERR_INVALID_BINARY,
                    "malformed .npy header (expected {'descr': ..., 'fortran_order': ..., "
                    "'shape': (...)} with at most %d dimensions)",
                    TENSOR_MAX_RANK);
    int type = descr_type(d.descr, msg, cap);
    if (type < 0)
        return API_ERR_INVALID_TYPE;
    /* Rank 0 and 1 are laid out the same in either order; numpy marks them C order. */
    if (d.fortran && d.rank > 1)
        return fail(msg, cap, API_ERR_INVALID_TYPE,
                    "Fortran-order arrays are not supported; save np.ascontiguousarray(a)");
    out->type = (tensor_type)type;
    if (tensor_shape_count(d.shape, d.rank, &count) != 0 ||
        __builtin_mul_overflow(count, tensor_type_size(out->type), &bytes))
        return fail(msg, cap, API_ERR_INVALID_BINARY, "the .npy shape is too large");
    if (len - at - dict_len != bytes)
        return fail(msg, cap, API_ERR_INVALID_BINARY,
                    "%s: the header's shape needs %zu bytes of data, the file has %zu",
                    len - at - dict_len < bytes ? "truncated .npy file" : "trailing bytes", bytes,
                    len - at - dict_len);
    out->rank = d.rank;
    memcpy(out->shape, d.shape, d.rank * sizeof d.shape[0]);
    out->count = count;
    code = place_data(b + at + dict_len, bytes, out, msg, cap);
    if (code != API_OK)
        memset(out, 0, sizeof *out);
    return code;
}

size_t npy_header(tensor_type type, size_t rank, const size_t *shape, char *buf, size_t cap)
{
    static const char *const descr[] = {"<f8", "<f4", "<i8", "<i4"};
    char dict[256];
    size_t n;
    int w = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     descr[type]);
    for (size_t i = 0; i < rank && w > 0 && (size_t)w < sizeof dict; i++)
        w += snprintf(dict + w, sizeof dict - (size_t)w, "%s%zu", i ? ", " : "", shape[i]);
    if (rank == 1 && w > 0 && (size_t)w + 1 < sizeof dict)
        dict[w++] = ','; /* (n,) is a tuple, (n) is not */
    if (w < 0 || (size_t)w + 4 >= sizeof dict)
        return 0;
    w += snprintf(dict + w, sizeof dict - (size_t)w, "), }");
    n = (size_t)w;
    /* 10 bytes of preamble + dict + padding + '\n' = a multiple of 64. */
    size_t total = (10 + n + 1 + 63) / 64 * 64;
    if (total > cap || total - 10 > 0xffff)
        return 0;
    memcpy(buf, NPY_MAGIC "\x01\x00", 8);
    buf[8] = (char)((total - 10) & 0xff);
    buf[9] = (char)((total - 10) >> 8);
    memcpy(buf + 10, dict, n);
    memset(buf + 10 + n, ' ', total - 10 - n - 1);
    buf[total - 1] = '\n';
    return total;
}
