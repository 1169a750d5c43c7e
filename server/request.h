/* request: the socket-free parts of handling one HTTP request: the body buffer with its
 * limit, request-id sanitising and generation, media-type and Content-Length checks, and the
 * constant-time API-key comparison. Kept apart from the daemon so they are unit-tested. */
#ifndef LOSSD_SERVER_REQUEST_H
#define LOSSD_SERVER_REQUEST_H

#include <stddef.h>
#include <stdint.h>

/* A request body. data is NUL-terminated after len bytes whenever it is non-NULL. */
typedef struct {
    char *data;
    char *base;   /* the allocation: data = base + pad */
    size_t alloc; /* bytes at base */
    size_t pad;   /* puts data + align_at on a 64-byte boundary */
    size_t len, cap;
    size_t received; /* every byte the client sent, kept or not */
    size_t declared; /* Content-Length, 0 if none */
    size_t limit;    /* the most len may reach */
    int too_big;     /* the body exceeded limit: the rest is counted and dropped */
    int nomem;       /* growing the buffer failed: the rest is counted and dropped */
} request_body;

/* Prepares b for a body of `declared` bytes (0: unknown, e.g. chunked) under `limit`.
 * Allocates up front for declared bodies up to a few MiB, so big uploads rarely copy and a
 * lying Content-Length cannot reserve more than that before bytes arrive. Byte `align_at`
 * of the body will sit on a 64-byte boundary: a /v2 binary request passes its JSON header's
 * length so that the tensors after it are aligned and used in place, not copied. */
void request_body_init(request_body *b, size_t declared, size_t limit, size_t align_at);

/* Appends n bytes, or marks the body too_big/nomem and drops them. Never fails. */
void request_body_append(request_body *b, const char *data, size_t n);

/* Counts n bytes against the limit without keeping them (a body parsed as it arrives);
 * marks it too_big past the limit. */
void request_body_skip(request_body *b, size_t n);

/* Frees the buffer (b itself is the caller's). Accepts a zeroed body. */
void request_body_release(request_body *b);

/* Empties b for a connection's next request: keeps its buffer when it is at most `keep`
 * bytes (a small body's, reused without a new allocation), frees it otherwise. b is then
 * ready for request_body_restart, or for request_body_release. */
void request_body_recycle(request_body *b, size_t keep);

/* request_body_init for a body emptied by request_body_recycle: the kept buffer is used when
 * it is big enough, and replaced (as by request_body_init) when it is not. */
void request_body_restart(request_body *b, size_t declared, size_t limit, size_t align_at);

#define REQUEST_ID_MAX 64

/* Copies the characters of header allowed in a request id ([A-Za-z0-9._:-], at most
 * REQUEST_ID_MAX) into id (REQUEST_ID_MAX + 1 bytes). Returns the id's length, 0 if header
 * is NULL or has nothing usable. */
size_t request_id_sanitise(const char *header, char *id);

/* Writes a 16-hex-digit id derived from seed and a per-request counter into id. */
void request_id_generate(uint64_t seed, uint64_t counter, char *id);

/* Whether a body with this Content-Type is read: none, application/json (any parameters),
 * application/x-www-form-urlencoded (curl -d), and, when binary_ok, application/octet-stream.
 * The media type compares case-insensitively. */
int request_media_type_ok(const char *content_type, int binary_ok);

/* Whether a body with this Content-Encoding is read: none, or only "identity" codings. lossd
 * decompresses nothing, so gzip, deflate, br, ... are refused (415) rather than misread as
 * malformed JSON or tensors. */
int request_encoding_ok(const char *content_encoding);

/* Strict decimal Content-Length into *out. Returns 0, or -1 if malformed or over SIZE_MAX. */
int request_parse_length(const char *s, size_t *out);

/* Compares a presented key with the configured one in time that depends only on key_len. */
int request_key_equal(const char *given, size_t given_len, const char *key, size_t key_len);

#endif
