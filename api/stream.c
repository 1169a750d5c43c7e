/* stream: reply bodies as a list of parts (text ranges, borrowed bytes, tensors to print).
 * A tensor part prints leaf by leaf from an odometer over its shape, writing the same bytes
 * the eager printer writes (brackets, commas, shortest round-trip numbers, null for
 * non-finite), so a streamed body equals the rendered one byte for byte.
 * Invariant: parts are in body order; a TEXT part is a range of `text` (offsets, as the
 * buffer may move while it grows); borrowed pointers stay valid while the stream lives
 * because the results they point into are kept by it. */
#include "stream.h"

#include <math.h>
#include <string.h>

#include "mem.h"
#include "num.h"

/* Longest output of one leaf: ',' + 8 '[' + a number + 8 ']'. */
#define LEAF_MAX 64
/* Parts a stream holds without allocating (a /v1 reply has a few), and the text buffer's
 * first size: a small reply (100 printed numbers) is written without growing it. */
#define FIRST_PARTS 4
#define FIRST_TEXT 4096

typedef enum { PART_TEXT, PART_BYTES, PART_TENSOR } part_kind;

typedef struct {
    part_kind kind;
    size_t off, len; /* TEXT: text[off..off+len); BYTES: len bytes at ptr */
    const void *ptr; /* BYTES: the bytes; TENSOR: the elements */
    int f32;         /* TENSOR: float elements (else double) */
    int empty_leaf;  /* TENSOR: a dimension is 0, each leaf prints "[]" */
    size_t rank;     /* TENSOR: dimensions bracketed (0: one bare leaf) */
    size_t shape[TENSOR_MAX_RANK];
    size_t leaves;
} part;

struct api_stream {
    jbuf text;
    size_t mark; /* text[mark..) is in no part yet */
    part *parts; /* first_parts until more are needed */
    size_t n_parts, cap_parts;
    part first_parts[FIRST_PARTS];
    loss_result *kept;
    size_t n_kept, cap_kept;
    size_t kept_bytes, lazy_leaves, byte_total;
    int failed;
    /* reading */
    size_t cur, pos; /* part; byte offset (TEXT, BYTES) or leaf index (TENSOR) */
    size_t idx[TENSOR_MAX_RANK];
    char pend[LEAF_MAX];
    size_t pend_len, pend_off;
};

api_stream *api_stream_new(void)
{
    api_stream *s = mem_calloc(1, sizeof *s);
    if (s != NULL) {
        jbuf_init(&s->text, FIRST_TEXT);
        s->parts = s->first_parts;
        s->cap_parts = FIRST_PARTS;
    }
    return s;
}

jbuf *api_stream_text(api_stream *s)
{
    return &s->text;
}

static part *add_part(api_stream *s)
{
    if (s->n_parts == s->cap_parts) {
        size_t cap = s->cap_parts * 2;
        int first = s->parts == s->first_parts;
        part *grown = first ? mem_alloc_array(cap, sizeof *grown)
                            : mem_realloc(s->parts, cap * sizeof *grown);
        if (grown == NULL) {
            s->failed = 1;
            return NULL;
        }
        if (first)
            memcpy(grown, s->first_parts, sizeof s->first_parts);
        s->parts = grown;
        s->cap_parts = cap;
    }
    part *pt = &s->parts[s->n_parts++];
    memset(pt, 0, sizeof *pt);
    return pt;
}

/* Closes the text written since the last part into a TEXT part. */
static void close_text(api_stream *s)
{
    if (s->text.len == s->mark)
        return;
    part *pt = add_part(s);
    if (pt == NULL)
        return;
    pt->kind = PART_TEXT;
    pt->off = s->mark;
    pt->len = s->text.len - s->mark;
    s->mark = s->text.len;
}

/* How t prints: nested in its shape (flat: as one list); a zero dimension ends the nesting
 * there, each leaf above it printing "[]". */
static void layout(part *pt, const tensor *t, int flat)
{
    size_t rank = flat ? 1 : t->rank, z = 0;
    const size_t *shape = flat ? &t->count : t->shape;
    while (z < rank && shape[z] != 0)
        z++;
    pt->kind = PART_TENSOR;
    pt->ptr = t->data;
    pt->f32 = t->type == TENSOR_F32;
    pt->empty_leaf = z < rank;
    pt->rank = z;
    pt->leaves = 1;
    for (size_t d = 0; d < z; d++) {
        pt->shape[d] = shape[d];
        pt->leaves *= shape[d]; /* at most the element count, or the dims the caller allowed */
    }
}

/* Writes element i of pt's numbers into out: shortest round trip, null where not finite. */
static size_t write_number(const part *pt, size_t i, char *out)
{
    size_t n = pt->f32 ? num_format_float(((const float *)pt->ptr)[i], out)
                       : num_format_double(((const double *)pt->ptr)[i], out);
    if (n == 0) {
        memcpy(out, "null", 4);
        n = 4;
    }
    return n;
}

/* Writes leaf i of pt (idx: the odometer at leaf i, advanced past it) into out. */
static size_t write_leaf(const part *pt, size_t *idx, size_t i, char *out)
{
    size_t k = 0, n;
    if (i)
        out[k++] = ',';
    for (size_t d = pt->rank; d-- > 0 && idx[d] == 0;)
        out[k++] = '[';
    if (pt->empty_leaf) {
        memcpy(out + k, "[]", 2);
        n = 2;
    } else {
        n = write_number(pt, i, out + k);
    }
    k += n;
    for (size_t d = pt->rank; d-- > 0;) {
        if (++idx[d] < pt->shape[d])
            break;
        idx[d] = 0;
        out[k++] = ']';
    }
    return k;
}

/* A small list of numbers (rank 0 or 1, no empty dimension): the same bytes as write_leaf's,
 * in one loop (the odometer and a reservation per leaf were a tenth of printing a reply). */
static int write_list(api_stream *s, const part *pt)
{
    /* No brackets between the numbers: a comma and a number's scratch each, two brackets. */
    char *out = jbuf_reserve(&s->text, pt->leaves * (1 + NUM_FORMAT_MAX) + 2);
    size_t k = 0;
    if (out == NULL)
        return -1;
    if (pt->rank)
        out[k++] = '[';
    for (size_t i = 0; i < pt->leaves; i++) {
        if (i)
            out[k++] = ',';
        k += write_number(pt, i, out + k);
    }
    if (pt->rank)
        out[k++] = ']';
    jbuf_commit(&s->text, k);
    return 0;
}

int api_stream_tensor(api_stream *s, const tensor *t, unsigned flags)
{
    part pt;
    memset(&pt, 0, sizeof pt);
    layout(&pt, t, (flags & API_TENSOR_FLAT) != 0);
    if (t->count < API_STREAM_LAZY_MIN || (flags & API_TENSOR_NOW)) {
        size_t idx[TENSOR_MAX_RANK] = {0};
        if (pt.leaves < API_STREAM_LAZY_MIN && pt.rank <= 1 && !pt.empty_leaf) {
            (void)write_list(s, &pt); /* a failure is the text's: finish refuses */
            return 0;
        }
        /* Room for a small tensor's every leaf at once (one allocation instead of a
         * doubling chain); a large one (API_TENSOR_NOW) grows as it goes. */
        if (pt.leaves < API_STREAM_LAZY_MIN && jbuf_reserve(&s->text, pt.leaves * LEAF_MAX) == NULL)
            return 0;
        for (size_t i = 0; i < pt.leaves; i++) {
            char *dst = jbuf_reserve(&s->text, LEAF_MAX);
            if (dst == NULL)
                return 0;
            jbuf_commit(&s->text, write_leaf(&pt, idx, i, dst));
        }
        return 0;
    }
    close_text(s);
    part *slot = add_part(s);
    if (slot == NULL)
        return 1; /* failed: the stream refuses to finish, nothing is printed */
    *slot = pt;
    s->lazy_leaves += pt.leaves;
    return 1;
}

void api_stream_bytes(api_stream *s, const void *p, size_t n)
{
    if (n == 0)
        return;
    close_text(s);
    part *pt = add_part(s);
    if (pt == NULL)
        return;
    pt->kind = PART_BYTES;
    pt->ptr = p;
    pt->len = n;
    s->byte_total += n;
}

static size_t result_bytes(const loss_result *r)
{
    size_t n = 0;
    for (size_t t = 0; t < 2; t++)
        n += r->terms[t].count * tensor_type_size(r->terms[t].type);
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++)
        if (r->grad[i].data != NULL)
            n += r->grad[i].count * tensor_type_size(r->grad[i].type);
    return n;
}

int api_stream_keep(api_stream *s, loss_result *res)
{
    if (s->n_kept == s->cap_kept) {
        size_t cap = s->cap_kept ? s->cap_kept * 2 : 4;
        loss_result *grown = mem_realloc(s->kept, cap * sizeof *grown);
        if (grown == NULL) {
            loss_result_release(res);
            s->failed = 1;
            return -1;
        }
        s->kept = grown;
        s->cap_kept = cap;
    }
    s->kept_bytes += result_bytes(res);
    s->kept[s->n_kept++] = *res;
    memset(res, 0, sizeof *res);
    return 0;
}

size_t api_stream_memory(const api_stream *s)
{
    return s->text.cap + s->cap_parts * sizeof(part) + s->cap_kept * sizeof(loss_result) +
           s->kept_bytes;
}

/* Copies what fits of the pending leaf into buf. */
static size_t take_pending(api_stream *s, char *buf, size_t max)
{
    size_t n = s->pend_len - s->pend_off;
    n = n < max ? n : max;
    memcpy(buf, s->pend + s->pend_off, n);
    s->pend_off += n;
    return n;
}

/* Reads from the current part; returns bytes written (0 only when the part ended). */
static size_t read_part(api_stream *s, char *buf, size_t max)
{
    const part *pt = &s->parts[s->cur];
    if (pt->kind != PART_TENSOR) {
        const char *src = pt->kind == PART_TEXT ? s->text.data + pt->off : pt->ptr;
        size_t n = pt->len - s->pos < max ? pt->len - s->pos : max;
        memcpy(buf, src + s->pos, n);
        s->pos += n;
        return n;
    }
    size_t n = 0;
    while (s->pos < pt->leaves && max - n >= LEAF_MAX)
        n += write_leaf(pt, s->idx, s->pos++, buf + n);
    if (n == 0 && s->pos < pt->leaves) { /* too little room for a whole leaf */
        s->pend_len = write_leaf(pt, s->idx, s->pos++, s->pend);
        s->pend_off = 0;
        n = take_pending(s, buf, max);
    }
    return n;
}

static size_t stream_read(api_stream *s, char *buf, size_t max)
{
    size_t n = 0;
    while (n < max) {
        if (s->pend_off < s->pend_len) {
            n += take_pending(s, buf + n, max - n);
            continue;
        }
        if (s->cur == s->n_parts)
            break;
        size_t got = read_part(s, buf + n, max - n);
        const part *pt = &s->parts[s->cur];
        if (s->pos == (pt->kind == PART_TENSOR ? pt->leaves : pt->len) &&
            s->pend_off == s->pend_len) {
            s->cur++;
            s->pos = 0;
            memset(s->idx, 0, sizeof s->idx);
        }
        n += got;
    }
    return n;
}

/* The whole body in one buffer. */
static int render(api_stream *s, char **body, size_t *len)
{
    jbuf out;
    size_t est = s->text.len + s->byte_total + s->lazy_leaves * 16;
    jbuf_init(&out, est < ((size_t)64 << 20) ? est + 64 : (size_t)64 << 20);
    for (;;) {
        char *dst = jbuf_reserve(&out, 65536);
        if (dst == NULL)
            break;
        size_t n = stream_read(s, dst, 65536);
        if (n == 0)
            break;
        jbuf_commit(&out, n);
    }
    return jbuf_take(&out, body, len);
}

api_code api_stream_finish(api_stream *s, api_reply *reply, int single)
{
    int failed;
    close_text(s);
    failed = s->failed || s->text.failed;
    if (!failed && s->n_parts <= 1 && (s->n_parts == 0 || s->parts[0].kind == PART_TEXT)) {
        failed = jbuf_take(&s->text, &reply->body, &reply->len) != 0; /* all text: no copy */
    } else if (!failed) {
        size_t est = s->text.len + s->byte_total + s->lazy_leaves * 25;
        if (single || est <= API_STREAM_SMALL) {
            failed = render(s, &reply->body, &reply->len) != 0;
        } else {
            reply->stream = s;
            reply->body = NULL;
            reply->len = 0;
            return API_OK;
        }
    }
    api_stream_free(s);
    return failed ? API_ERR_NOMEM : API_OK;
}

void api_stream_free(api_stream *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_kept; i++)
        loss_result_release(&s->kept[i]);
    mem_free(s->kept);
    if (s->parts != s->first_parts)
        mem_free(s->parts);
    jbuf_release(&s->text);
    mem_free(s);
}

/* ---- the reply's view ---- */

size_t api_reply_pieces(const api_reply *reply, api_piece *out, size_t max)
{
    const api_stream *s = reply->stream;
    if (s == NULL || s->n_parts > max)
        return 0;
    for (size_t i = 0; i < s->n_parts; i++) {
        const part *pt = &s->parts[i];
        if (pt->kind == PART_TENSOR)
            return 0;
        out[i].ptr = pt->kind == PART_TEXT ? s->text.data + pt->off : pt->ptr;
        out[i].len = pt->len;
    }
    return s->n_parts;
}

size_t api_reply_read(api_reply *reply, char *buf, size_t max)
{
    if (reply->stream == NULL)
        return 0;
    size_t n = stream_read(reply->stream, buf, max);
    reply->len += n;
    return n;
}
