/* stream: a reply body built as parts, internal to api/. Encoders write the small JSON
 * envelope into the stream's text and add large tensors as parts that are printed only
 * when the body is read (api_reply_read), or raw bytes borrowed from results the stream
 * keeps (the /v2 binary tail). A finished stream is either rendered into one buffer (small
 * replies, or when the caller cannot stream) or handed to the reply as it is. */
#ifndef LOSSD_API_STREAM_H
#define LOSSD_API_STREAM_H

#include <stddef.h>

#include "api.h"
#include "jbuf.h"
#include "loss.h"

/* Tensors with at least this many elements are printed lazily; smaller ones at once. */
#define API_STREAM_LAZY_MIN 256
/* A body up to this many bytes (by estimate) is always sent as one buffer. */
#define API_STREAM_SMALL ((size_t)64 << 10)

/* Starts an empty stream. Returns NULL when out of memory. */
api_stream *api_stream_new(void);

/* The text the encoder appends to (JSON envelope, small tensors, raw small bytes). */
jbuf *api_stream_text(api_stream *s);

enum {
    API_TENSOR_FLAT = 1u << 0, /* one flat list "[...]" rather than nested in its shape */
    API_TENSOR_NOW = 1u << 1   /* print into the text now, whatever its size */
};

/* Appends t printed as JSON numbers: small tensors (or with API_TENSOR_NOW) go straight into
 * the text, large ones become a part that borrows t->data, which must stay valid until the
 * stream is freed (keep its result with api_stream_keep). Returns 1 when a part borrowing
 * t->data was added, 0 when it was printed now. */
int api_stream_tensor(api_stream *s, const tensor *t, unsigned flags);

/* Appends n raw bytes borrowed from p (valid until the stream is freed). */
void api_stream_bytes(api_stream *s, const void *p, size_t n);

/* Makes the stream own *res (moved: *res is zeroed). Returns 0, or -1 when out of memory
 * (then *res is released, and the stream is marked failed). */
int api_stream_keep(api_stream *s, loss_result *res);

/* Bytes of memory the stream holds: text, kept results and bookkeeping. */
size_t api_stream_memory(const api_stream *s);

/* Hands the stream to reply as its body: rendered into reply->body when single is set or the
 * body is small (a small body of text and bytes is rendered too: one buffer, one send),
 * else as reply->stream (ownership moves; s must not be used afterwards).
 * Returns API_OK, or API_ERR_NOMEM when building or rendering failed (s is then freed and
 * reply's body untouched). */
api_code api_stream_finish(api_stream *s, api_reply *reply, int single);

/* Frees the stream and everything it keeps. Accepts NULL. */
void api_stream_free(api_stream *s);

#endif
