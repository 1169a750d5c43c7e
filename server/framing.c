/* framing: header and path checks that make every request's framing unambiguous, and the
 * JSON replacement of libmicrohttpd's own error pages. Invariant: a request refused here
 * gets 400 with "Connection: close" before its body is read, so bytes after the refused
 * headers are never parsed as another request. */
#define _GNU_SOURCE
#include "framing.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"

void framing_init(framing_state *st)
{
    memset(st, 0, sizeof *st);
}

/* RFC 9110 token characters: anything else in a field name (space, control, separator)
 * makes libmicrohttpd and a proxy in front of it disagree about the header. */
static int token_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

/* value without leading and trailing blanks */
static void trim(const char **value, size_t *len)
{
    while (*len > 0 && (**value == ' ' || **value == '\t')) {
        (*value)++;
        (*len)--;
    }
    while (*len > 0 && ((*value)[*len - 1] == ' ' || (*value)[*len - 1] == '\t'))
        (*len)--;
}

void framing_add(framing_state *st, const char *name, size_t name_len, const char *value,
                 size_t value_len)
{
    for (size_t i = 0; i < name_len && st->bad == NULL; i++)
        if (!token_char((unsigned char)name[i]))
            st->bad = "a header name holds a space, a control character or a separator";
    if (name_len == 0 && st->bad == NULL)
        st->bad = "a header has an empty name";
    for (size_t i = 0; i < value_len && st->bad == NULL; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            st->bad = "a header value holds a control character";
    }
    trim(&value, &value_len);
    if (name_is(name, name_len, "Content-Length")) {
        if (st->content_length++ == 0) {
            size_t n = value_len < sizeof st->first_cl - 1 ? value_len : sizeof st->first_cl - 1;
            memcpy(st->first_cl, value, n);
            st->first_cl[n] = '\0';
        } else if (strlen(st->first_cl) != value_len ||
                   memcmp(st->first_cl, value, value_len) != 0) {
            st->cl_differ = 1;
        }
    } else if (name_is(name, name_len, "Transfer-Encoding")) {
        st->transfer_encoding++;
        if (!(value_len == 7 && strncasecmp(value, "chunked", 7) == 0))
            st->te_not_chunked = 1;
    }
}

const char *framing_verdict(const framing_state *st)
{
    if (st->bad)
        return st->bad;
    if (st->cl_differ)
        return "the request has conflicting Content-Length headers";
    if (st->content_length > 1)
        return "the request has more than one Content-Length header";
    if (st->content_length > 0 && st->transfer_encoding > 0)
        return "the request has both Content-Length and Transfer-Encoding";
    if (st->transfer_encoding > 1)
        return "the request has more than one Transfer-Encoding header";
    if (st->te_not_chunked)
        return "Transfer-Encoding must be exactly \"chunked\"";
    return NULL;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    framing_add(cls, key, key_size, value ? value : "", value ? value_size : 0);
    return MHD_YES;
}

const char *framing_check_headers(struct MHD_Connection *conn)
{
    static framing_state st_init;
    framing_state st = st_init;
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, add_header, &st);
    return framing_verdict(&st);
}

int framing_path_has_control(const char *path)
{
    for (; *path; path++)
        if ((unsigned char)*path < 0x20 || *path == 0x7f)
            return 1;
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t framing_unescape(void *cls, struct MHD_Connection *conn, char *uri)
{
    char *out = uri;
    (void)cls;
    (void)conn;
    for (const char *in = uri; *in; in++) {
        int hi, lo;
        if (in[0] == '%' && (hi = hex_value(in[1])) >= 0 && (lo = hex_value(in[2])) >= 0) {
            int c = hi * 16 + lo;
            *out++ = c == 0 ? (char)0x7f : (char)c; /* 0x7f: refused like the NUL it stands for */
            in += 2;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
    return (size_t)(out - uri);
}

/* ---- libmicrohttpd's own error pages ---- */

/* libmicrohttpd 0.9.75 answers requests it cannot parse (a malformed line, headers over the
 * connection's memory, a bad chunk size, an unsupported HTTP version) from its internal
 * transmit_error_response, which builds an HTML page and calls MHD_queue_response through the
 * library's PLT. Defining MHD_queue_response in the executable (exported with
 * -Wl,--export-dynamic-symbol) makes the dynamic linker bind that call here, ELF symbol
 * interposition; the real function is found with dlsym(RTLD_NEXT). lossd's own replies call
 * framing_queue_response, so every call that arrives here comes from the library itself:
 * its status is kept (or corrected) and its body replaced by a JSON error. The library has
 * no public hook for this in 0.9.x; tests/http/test_http_framing.c proves it still works. */

typedef enum MHD_Result (*queue_fn)(struct MHD_Connection *, unsigned int, struct MHD_Response *);

static queue_fn real_queue;
static pthread_once_t real_queue_once = PTHREAD_ONCE_INIT;

static void find_real_queue(void)
{
    void *sym = dlsym(RTLD_NEXT, "MHD_queue_response");
    memcpy(&real_queue, &sym, sizeof real_queue); /* POSIX: object pointer to function */
    if (real_queue == NULL)
        log_msg("error", "http: libmicrohttpd's MHD_queue_response not found: %s", dlerror());
}

static queue_fn real(void)
{
    pthread_once(&real_queue_once, find_real_queue);
    return real_queue;
}

enum MHD_Result framing_queue_response(struct MHD_Connection *conn, unsigned int status,
                                       struct MHD_Response *resp)
{
    queue_fn q = real();
    return q ? q(conn, status, resp) : MHD_NO;
}

#define JSON_ERROR(code, msg) "{\"error\":{\"code\":\"" code "\",\"message\":\"" msg "\"}}"

const char *framing_error_body(unsigned int status, unsigned int *status_out)
{
    *status_out = status;
    switch (status) {
    case MHD_HTTP_BAD_REQUEST:
        return JSON_ERROR("bad_request", "malformed HTTP request (request line, a header or the "
                                         "chunked encoding)");
    case MHD_HTTP_CONTENT_TOO_LARGE:
        return JSON_ERROR("payload_too_large", "a chunk of the request body is too large");
    case MHD_HTTP_URI_TOO_LONG:
        return JSON_ERROR("uri_too_long", "the request line is too long");
    case MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE:
        return JSON_ERROR("headers_too_large", "the request headers are too large");
    case MHD_HTTP_INTERNAL_SERVER_ERROR:
        /* The library's 500: a line it could not buffer (a huge chunk-size line): the
         * client's fault, so 400. */
        *status_out = MHD_HTTP_BAD_REQUEST;
        return JSON_ERROR("bad_request", "a line of the request is too long (request line, "
                                         "header or chunk size)");
    case MHD_HTTP_HTTP_VERSION_NOT_SUPPORTED:
        return JSON_ERROR("http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served");
    default:
        return NULL;
    }
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *conn, unsigned int status,
                                   struct MHD_Response *resp)
{
    unsigned int out;
    queue_fn q = real();
    const char *body = framing_error_body(status, &out);
    if (q == NULL)
        return MHD_NO;
    if (body == NULL)
        return q(conn, status, resp);
    struct MHD_Response *json = MHD_create_response_from_buffer(
        strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
    if (json == NULL)
        return q(conn, status, resp);
    MHD_add_response_header(json, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(json, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = q(conn, out, json);
    MHD_destroy_response(json);
    return ret;
}
