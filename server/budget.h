/* budget: the daemon's memory budget. Every request with a body reserves its worst case
 * before its body is read (from Content-Length, or step by step as a chunked body arrives)
 * and gives it back when its response has been sent; a request that cannot fit now is
 * refused with 503 and Retry-After, one that could never fit with 413. Memory the buffer
 * cache keeps resident counts against the budget too, and is trimmed to make room.
 * Small requests are never starved: large ones may not take the last `floor` bytes. */
#ifndef LOSSD_SERVER_BUDGET_H
#define LOSSD_SERVER_BUDGET_H

#include <stddef.h>

typedef struct budget budget;

/* A reservation this small or smaller is a "small" request: it may use the floor. */
#define BUDGET_SMALL ((size_t)1 << 20)
/* What every request holds besides its body and tensors: buffers, reply parts, bookkeeping. */
#define BUDGET_REQUEST_BASE ((size_t)64 << 10)

/* How a route's body is held, for the worst case before it is read. */
typedef enum {
    BUDGET_BODY_STREAMED_JSON, /* /v1: parsed as it arrives, never held whole */
    BUDGET_BODY_BUFFERED       /* /v2: held whole; json_len bytes of it are JSON */
} budget_body;

/* A budget of total bytes (0: unlimited, nothing is ever refused). Returns NULL when out of
 * memory. */
budget *budget_create(size_t total);
void budget_destroy(budget *b); /* accepts NULL */

/* The worst case of a request before its body is read: the body if held, its JSON as a
 * document (8-byte doubles for numbers of at least 2 bytes: 4 bytes a byte), and
 * BUDGET_REQUEST_BASE. Results are reserved once the request is decoded, from its shapes. */
size_t budget_request_bytes(budget_body kind, size_t body_len, size_t json_len);

/* The most a request of this size may ever reserve (0 when unlimited). */
size_t budget_ceiling(const budget *b, size_t bytes);

typedef enum { BUDGET_OK = 0, BUDGET_BUSY, BUDGET_NEVER } budget_status;

/* Sets a request's reservation (*held, starting at 0) to `want` bytes: a shrink always
 * succeeds; a growth succeeds when the budget has room now (trimming the buffer cache if
 * that makes room). Never waits. BUDGET_NEVER: want exceeds what any request may hold. */
budget_status budget_resize(budget *b, size_t *held, size_t want);

/* Gives a reservation back (*held becomes 0). */
void budget_release(budget *b, size_t *held);

size_t budget_total(const budget *b);
size_t budget_reserved(const budget *b);

/* The default budget: 80% of the cgroup (v2, else v1) memory limit of this process if it
 * has one, else 50% of physical memory. root replaces "/sys/fs/cgroup" (tests point it at a
 * fake tree; NULL: the real one). *source says where the figure came from (static). */
size_t budget_default(const char *root, const char **source);

/* The memory limit in a cgroup's text: v2 memory.max ("max" or bytes) or v1
 * memory.limit_in_bytes (a huge number means none). 0 when there is no limit. */
size_t budget_parse_limit(const char *text);

#endif
