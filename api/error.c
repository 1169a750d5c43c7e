/* error: the generated status/code maps of the api_error table, the mapping of core's and
 * the parser's errors onto it, and error replies in both wire styles. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "mem.h"
#include "stream.h"

static const int code_status[API_CODE_COUNT] = {
#define API_STATUS(name, status, code) [name] = status,
    API_ERRORS(API_STATUS)
#undef API_STATUS
};

static const char *const code_name[API_CODE_COUNT] = {
#define API_NAME(name, status, code) [name] = code,
    API_ERRORS(API_NAME)
#undef API_NAME
};

int api_code_status(api_code code)
{
    return (unsigned)code < API_CODE_COUNT ? code_status[code] : 500;
}

const char *api_code_name(api_code code)
{
    return (unsigned)code < API_CODE_COUNT ? code_name[code] : "internal";
}

static api_code err_vset(api_err *e, api_code code, const char *field, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static api_code err_vset(api_err *e, api_code code, const char *field, const char *fmt, va_list ap)
{
    e->code = code;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    return code;
}

api_code api_err_set(api_err *e, api_code code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, field, fmt, ap);
    va_end(ap);
    return code;
}

static api_code loss_status_code(loss_status st)
{
    switch (st) {
    case LOSS_OK:
        return API_OK;
    case LOSS_ERR_SHAPE:
        return API_ERR_SHAPE_MISMATCH;
    case LOSS_ERR_DOMAIN:
        return API_ERR_OUT_OF_DOMAIN;
    case LOSS_ERR_PARAM:
        return API_ERR_INVALID_PARAMETER;
    case LOSS_ERR_TYPE:
        return API_ERR_INVALID_TYPE;
    case LOSS_ERR_NON_FINITE:
        return API_ERR_NON_FINITE;
    case LOSS_ERR_MISSING:
        return API_ERR_MISSING_FIELD;
    case LOSS_ERR_LIMIT:
        return API_ERR_PAYLOAD_TOO_LARGE;
    case LOSS_ERR_NOMEM:
        return API_ERR_NOMEM;
    case LOSS_ERR_WORK:
        return API_ERR_TOO_MUCH_WORK;
    case LOSS_ERR_CANCELLED:
        return API_ERR_TIMEOUT;
    }
    return API_ERR_INTERNAL;
}

const char *api_quote(char buf[API_QUOTE_CAP], const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, i = 0;
    for (; i < len && o + 6 < API_QUOTE_CAP - 4 && o < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            memcpy(buf + o, "\\u00", 4);
            buf[o + 4] = hex[c >> 4];
            buf[o + 5] = hex[c & 15];
            o += 6;
        } else {
            buf[o++] = (char)c;
        }
    }
    if (i < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

api_code api_err_from_loss(api_err *e, const loss_error *le)
{
    return api_err_set(e, loss_status_code(le->status), le->field, "%s", le->message);
}

api_code api_err_from_json(api_err *e, const json_error *je)
{
    api_code code = je->status == JSON_ERR_LIMIT   ? API_ERR_PAYLOAD_TOO_LARGE
                    : je->status == JSON_ERR_NOMEM ? API_ERR_NOMEM
                                                   : API_ERR_INVALID_JSON;
    return api_err_set(e, code, NULL, "%s", je->message);
}

void api_err_write_v1(jbuf *jb, const api_err *e)
{
    jbuf_puts(jb, "\"code\":");
    jbuf_cstring(jb, api_code_name(e->code));
    jbuf_puts(jb, ",\"message\":");
    jbuf_cstring(jb, e->message);
    if (e->field[0] != '\0') {
        jbuf_puts(jb, ",\"field\":");
        jbuf_cstring(jb, e->field);
    }
}

static void reply_bare(api_reply *reply, api_code code)
{
    reply->status = api_code_status(code);
    reply->content_type = "application/json";
    reply->code = code;
}

api_code api_err_reply(api_reply *reply, api_style style, const api_err *e)
{
    jbuf jb;
    jbuf_init(&jb, 128 + strlen(e->message));
    if (style == API_STYLE_V1) {
        jbuf_puts(&jb, "{\"error\":{");
        api_err_write_v1(&jb, e);
        jbuf_puts(&jb, "}}");
    } else {
        jbuf_puts(&jb, "{\"error\":");
        jbuf_cstring(&jb, e->message);
        jbuf_puts(&jb, ",\"code\":");
        jbuf_cstring(&jb, api_code_name(e->code));
        if (e->field[0] != '\0') { /* beside the protocol's string, as /v1 names it */
            jbuf_puts(&jb, ",\"field\":");
            jbuf_cstring(&jb, e->field);
        }
        jbuf_puts(&jb, "}");
    }
    if (jbuf_take(&jb, &reply->body, &reply->len) != 0) {
        /* Not even an error body fits in memory: send the status alone. */
        reply_bare(reply, API_ERR_NOMEM);
        return API_ERR_NOMEM;
    }
    reply_bare(reply, e->code);
    return e->code;
}

api_code api_error_reply(api_reply *reply, api_style style, api_code code, const char *field,
                         const char *fmt, ...)
{
    api_err e;
    va_list ap;
    va_start(ap, fmt);
    err_vset(&e, code, field, fmt, ap);
    va_end(ap);
    return api_err_reply(reply, style, &e);
}

api_code api_reply_json(api_reply *reply, jbuf *jb)
{
    if (jbuf_take(jb, &reply->body, &reply->len) != 0)
        return api_error_reply(reply, API_STYLE_V1, API_ERR_NOMEM, NULL,
                               "out of memory while writing the response");
    reply_bare(reply, API_OK);
    return API_OK;
}

void api_reply_release(api_reply *reply)
{
    if (reply == NULL)
        return;
    mem_free(reply->body);
    api_stream_free(reply->stream);
    mem_free(reply->computed);
    memset(reply, 0, sizeof *reply);
}

void api_reply_count(api_reply *reply, const loss_desc *desc, int status, size_t elements)
{
    size_t i = 0;
    while (i < reply->n_computed &&
           !(reply->computed[i].desc == desc && reply->computed[i].status == status))
        i++;
    if (i == reply->n_computed) {
        /* Grows one at a time: distinct (loss, status) pairs are few. */
        api_computed *grown = mem_realloc(reply->computed, (i + 1) * sizeof *grown);
        if (grown == NULL)
            return;
        reply->computed = grown;
        reply->computed[i] = (api_computed){desc, status, 0, 0};
        reply->n_computed++;
    }
    reply->computed[i].count++;
    reply->computed[i].elements += elements;
}

api_code api_err_unknown_loss(api_err *err, const char *name, size_t len)
{
    char q[API_QUOTE_CAP];
    const char *near = loss_registry_suggest(name, len);
    if (near != NULL)
        return api_err_set(err, API_ERR_UNKNOWN_LOSS, "loss",
                           "unknown loss '%s'; did you mean '%s'?", api_quote(q, name, len), near);
    return api_err_set(err, API_ERR_UNKNOWN_LOSS, "loss",
                       "unknown loss '%s'; GET /v1/losses lists every loss",
                       api_quote(q, name, len));
}
