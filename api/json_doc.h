/* json_doc: strict RFC 8259 parser into a request-scoped DOM, fed whole (json_doc_parse) or
 * in pieces as a body arrives (json_stream): one pass, no byte is read twice, and the result
 * does not depend on where the pieces are split.
 * Any array whose leaves are all numbers and whose nesting is rectangular (rank <= 8) is
 * stored packed: one double buffer plus a shape, never one node per number. Every other value
 * is a small node. All memory belongs to the document's arena and is freed by
 * json_doc_release. json_doc_parse lets strings without escapes point into the parsed body,
 * which must therefore outlive the document; a json_stream copies every string. */
#ifndef LOSSD_API_JSON_DOC_H
#define LOSSD_API_JSON_DOC_H

#include <stddef.h>

#include "arena.h"

#define JSON_MAX_RANK 8
#define JSON_MAX_DEPTH 64
#define JSON_DEFAULT_MAX_NODES ((size_t)1 << 22)
/* What a request document may hold beyond 4 bytes a body byte (nodes of many small values):
 * numbers take at least 2 bytes of text and 8 as doubles, so 4x bounds every numeric
 * document; the slack covers keys and small containers. Beyond it: JSON_ERR_LIMIT. */
#define JSON_REQUEST_SLACK ((size_t)16 << 20)

/* The memory cap for parsing a request body of len bytes: 4 * len + JSON_REQUEST_SLACK. */
size_t json_request_cap(size_t len);

typedef enum {
    JSON_NULL = 0,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
    JSON_PACKED /* a rectangular array of numbers */
} json_kind;

typedef struct json_node json_node;
typedef struct json_member json_member;

typedef struct {
    size_t rank;
    size_t shape[JSON_MAX_RANK];
    size_t count;          /* product of shape */
    double *data;          /* count doubles, row-major, 64-byte aligned and padded */
    size_t first_overflow; /* flat index of the first number beyond double range, or
                              JSON_NO_OVERFLOW; such numbers are stored as +-infinity */
} json_packed;

#define JSON_NO_OVERFLOW ((size_t)-1)

struct json_node {
    json_kind kind;
    int overflow;  /* JSON_NUMBER: the text was beyond double range (number is +-inf) */
    size_t offset; /* byte offset of the value in the body, for messages */
    union {
        double number;
        struct {
            const char *ptr; /* decoded UTF-8, not NUL-terminated; may contain NUL */
            size_t len;
        } str;
        struct {
            json_node *items;
            size_t count;
        } arr;
        struct {
            json_member *items; /* in document order; keys are unique */
            size_t count;
        } obj;
        json_packed *packed;
    } u;
};

struct json_member {
    const char *key;
    size_t key_len;
    json_node value;
};

typedef enum {
    JSON_OK = 0,
    JSON_ERR_SYNTAX, /* not RFC 8259 JSON, a duplicate key, or nested too deep */
    JSON_ERR_LIMIT,  /* more values than limits.max_nodes, or the arena cap */
    JSON_ERR_NOMEM
} json_status;

typedef struct {
    json_status status;
    size_t offset; /* byte offset where the problem was found */
    char message[160];
} json_error;

typedef struct {
    size_t max_nodes;  /* cap on nodes outside packed arrays (0: JSON_DEFAULT_MAX_NODES) */
    size_t max_memory; /* cap on the bytes the parse holds: arena, packed buffers, scratch
                          (0: none); beyond it the parse fails with JSON_ERR_LIMIT */
} json_limits;

typedef struct {
    arena mem;
    json_node root;
} json_doc;

/* Parses body[0..len) (need not be NUL-terminated). On JSON_OK, doc->root is the value and
 * doc owns everything reachable from it (borrowing body for unescaped strings). On error,
 * err says why and where, and doc holds nothing (json_doc_release is still safe). limits may
 * be NULL for the defaults. */
json_status json_doc_parse(json_doc *doc, const char *body, size_t len, const json_limits *limits,
                           json_error *err);

/* ---- incremental parsing ---- */

typedef struct json_stream json_stream;

/* Starts a parse fed piece by piece. limits may be NULL. Returns NULL when out of memory.
 * Free with json_stream_free. */
json_stream *json_stream_new(const json_limits *limits);

/* Parses the next n bytes (nothing is kept that points into data). Returns JSON_OK, or the
 * first error met so far (sticky: later pieces are ignored). */
json_status json_stream_feed(json_stream *s, const char *data, size_t n);

/* Ends the input. On JSON_OK the document moves into *doc (release it with
 * json_doc_release); on error *doc holds nothing. The stream is then spent (free it). */
json_status json_stream_finish(json_stream *s, json_doc *doc);

/* The first error (status JSON_OK while there is none). Borrowed from s. */
const json_error *json_stream_error(const json_stream *s);

/* Bytes of memory the parse holds now (document and scratch): what a budget must cover. */
size_t json_stream_memory(const json_stream *s);

/* Bytes fed so far. */
size_t json_stream_offset(const json_stream *s);

/* Frees the stream and any document it still holds. Accepts NULL. */
void json_stream_free(json_stream *s);

/* Frees everything the document owns. Accepts NULL and a document whose parse failed. */
void json_doc_release(json_doc *doc);

/* Whether two parsed nodes are the same: kinds, offsets and overflow flags, numbers bit for
 * bit, strings, array items and object members in order. A streamed parse fed in any pieces
 * must give the same nodes as a one-shot parse (the tests and fuzz_json_stream check it). */
int json_node_same(const json_node *a, const json_node *b);

/* The member value of an object node named key (len bytes), or NULL. O(members). */
const json_node *json_object_get(const json_node *obj, const char *key, size_t len);

/* A short English name of a node's JSON type ("a string", "an array", ...), for messages. */
const char *json_kind_name(json_kind kind);

#endif
