/* framing: the request-framing rules lossd enforces on top of libmicrohttpd 0.9.75, which
 * accepts ambiguous messages (two Content-Length headers: the first wins; Content-Length
 * with Transfer-Encoding; "Transfer-Encoding :" with a space: ignored) and decodes %00 into
 * the routed path. Every such request is refused with 400 and the connection closed, so no
 * second request can hide in a body. Also replaces the HTML error pages libmicrohttpd writes
 * for requests it cannot parse with lossd's JSON errors. */
#ifndef LOSSD_SERVER_FRAMING_H
#define LOSSD_SERVER_FRAMING_H

#include <stddef.h>

#include <microhttpd.h>

/* What the headers of one request say about its framing; fill with framing_add. */
typedef struct {
    size_t content_length;    /* Content-Length headers seen */
    size_t transfer_encoding; /* Transfer-Encoding headers seen */
    int te_not_chunked;       /* a Transfer-Encoding other than exactly "chunked" */
    int cl_differ;            /* two Content-Length values differ */
    char first_cl[24];        /* the first Content-Length value (for cl_differ) */
    const char *bad;          /* first problem found in a name or value (static text) */
} framing_state;

void framing_init(framing_state *st);

/* Accounts for one header line (name_len and value_len bytes; either may hold any byte). */
void framing_add(framing_state *st, const char *name, size_t name_len, const char *value,
                 size_t value_len);

/* NULL when the request is framed unambiguously, else why it is refused (static text). */
const char *framing_verdict(const framing_state *st);

/* Checks every header of the request MHD has parsed (call in the first access-handler call).
 * NULL, or why it is refused. */
const char *framing_check_headers(struct MHD_Connection *conn);

/* Whether a decoded request path holds a control character (a byte below 0x20 or 0x7f;
 * framing_unescape turns %00, which would end the C string, into 0x7f). */
int framing_path_has_control(const char *path);

/* MHD_OPTION_UNESCAPE_CALLBACK: percent-decodes uri in place like MHD's own, except that
 * %00 becomes 0x7f so that a NUL never truncates the path. Returns the new length. */
size_t framing_unescape(void *cls, struct MHD_Connection *conn, char *uri);

/* Queues resp for lossd's own replies. lossd interposes MHD_queue_response (see framing.c)
 * to rewrite the library's own error pages; its replies go through here untouched. */
enum MHD_Result framing_queue_response(struct MHD_Connection *conn, unsigned int status,
                                       struct MHD_Response *resp);

/* The JSON error that replaces a libmicrohttpd error page of this status: fills *status_out
 * and returns the body (static text), or NULL to leave the status alone. */
const char *framing_error_body(unsigned int status, unsigned int *status_out);

#endif
