/* json_doc: strict RFC 8259 parser into a request-scoped DOM.
 * Any array whose leaves are all numbers and whose nesting is rectangular (rank <= 8) is
 * stored packed: one double buffer plus a shape, never one node per number. Every other value
 * is a small node. All memory belongs to the document's arena and is freed by
 * json_doc_release; strings without escapes point into the parsed body, which must therefore
 * outlive the document. */
#ifndef LOSSD_API_JSON_DOC_H
#define LOSSD_API_JSON_DOC_H

#include <stddef.h>

#include "arena.h"

#define JSON_MAX_RANK 8
#define JSON_MAX_DEPTH 64
#define JSON_DEFAULT_MAX_NODES ((size_t)1 << 22)

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
    size_t max_nodes; /* cap on nodes outside packed arrays (0: JSON_DEFAULT_MAX_NODES) */
    size_t max_arena; /* cap on arena bytes (0: none) */
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

/* Frees everything the document owns. Accepts NULL and a document whose parse failed. */
void json_doc_release(json_doc *doc);

/* The member value of an object node named key (len bytes), or NULL. O(members). */
const json_node *json_object_get(const json_node *obj, const char *key, size_t len);

/* A short English name of a node's JSON type ("a string", "an array", ...), for messages. */
const char *json_kind_name(json_kind kind);

#endif
