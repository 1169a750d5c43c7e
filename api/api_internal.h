/* api_internal: what api/'s modules share and nothing outside api/ sees: the error record
 * every decoder fills, the /v1 request decoder and the /v1 result encoder. */
#ifndef LOSSD_API_INTERNAL_H
#define LOSSD_API_INTERNAL_H

#include <stddef.h>

#include "api.h"
#include "arena.h"
#include "jbuf.h"
#include "json_doc.h"
#include "loss.h"

/* One refused request: wire code, the offending field ("" if none) and a message. */
typedef struct {
    api_code code;
    char field[64];
    char message[256];
} api_err;

/* Fills e (printf-style message; field may be NULL) and returns code. */
api_code api_err_set(api_err *e, api_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A client's text for a message: at most about 64 bytes of s (len bytes of any value), each
 * control character written as \u00XX so that an embedded NUL cannot cut the message short
 * (the bytes after it stay visible), "..." when cut. Returns buf. */
#define API_QUOTE_CAP 100
const char *api_quote(char buf[API_QUOTE_CAP], const char *s, size_t len);

/* unknown_loss for a name no loss or alias matches, suggesting the closest (field "loss"). */
api_code api_err_unknown_loss(api_err *err, const char *name, size_t len);

/* Maps core's and the parser's errors to wire codes, keeping field and message. */
api_code api_err_from_loss(api_err *e, const loss_error *le);
api_code api_err_from_json(api_err *e, const json_error *je);

/* Sets reply's status, content type, code and a freshly built error body (whatever body
 * reply held is overwritten, not freed: error replies are built once). Returns e->code. */
api_code api_err_reply(api_reply *reply, api_style style, const api_err *e);

/* Writes the members (no braces) {"code", "message", "field"?} of a v1 error object. */
void api_err_write_v1(jbuf *jb, const api_err *e);

/* Hands jb's bytes to reply as a 200 JSON body (overwriting, not freeing, reply's body), or
 * makes reply a 503 out_of_memory when jb failed. */
api_code api_reply_json(api_reply *reply, jbuf *jb);

/* ---- /v1 request decoding (decode_v1.c) ---- */

enum {
    DECODE_LENIENT = 1u << 0 /* skip keys that are not this loss's (evaluate's shared keys) */
};

/* Keys a layer must leave alone (handled by the caller): NULL-terminated list. */
typedef const char *const *decode_skip;

/* Applies the members of obj (a JSON object) onto call, whose desc is set: tensors by input
 * name, options (reduction, gradient, dtype, empty_mean) and scalar parameters. Later layers
 * override earlier ones. Tensors borrow the document (packed buffers) or are built in mem.
 * Unknown keys are unknown_field unless DECODE_LENIENT. Returns API_OK or fills err. */
api_code decode_v1_apply(loss_call *call, const json_node *obj, unsigned flags, decode_skip skip,
                         arena *mem, api_err *err);

/* True when key is something a /v1 request to desc may carry (input, parameter, option). */
int decode_v1_knows(const loss_desc *desc, const char *key, size_t len);

/* Checks already + the element count of call's inputs against max_elements (0: core's cap):
 * 413 payload_too_large beyond it. `already` counts what earlier losses of the same request
 * computed, so /v1/evaluate cannot multiply a small body into unbounded work. */
api_code decode_v1_check_size(const loss_call *call, size_t max_elements, size_t already,
                              api_err *err);

/* ---- /v1 result encoding (encode.c) ---- */

/* Writes the members (no braces) of a /v1 loss response into out: loss, reduction, dtype,
 * value, shape, denominator (mean), gradient (when computed). Returns 1 when out borrows
 * res's tensors (keep res in out with api_stream_keep), 0 when it printed them already. */
int encode_v1_result(api_stream *out, const loss_desc *desc, const loss_call *call,
                     const loss_result *res);

/* Runs one decoded call unless *elements plus its inputs exceed the request's element cap or
 * the memory budget refuses it (`held`: bytes the request holds besides out); on success
 * appends prefix, the response members and '}' to out and adds the elements computed to
 * *elements; on error appends nothing and fills err. Shared by /v1/loss, /v1/evaluate and
 * /v1/batch. */
api_code v1_compute_into(const api_env *env, const loss_call *call, const char *prefix,
                         api_stream *out, size_t held, size_t *elements, api_err *err);

/* ---- the cost of a request (cost.c) ---- */

/* Adds call's cost (core's loss_plan_cost, from its shapes) to *sum. Fails with the error core
 * gives for impossible shapes or parameters, or too_much_work when the call alone exceeds
 * env's caps. */
api_code api_cost_add(const api_env *env, const loss_call *call, loss_cost *sum, api_err *err);

/* too_much_work when the request's summed cost exceeds env's caps, else API_OK. */
api_code api_cost_admit(const api_env *env, const loss_cost *sum, api_err *err);

/* Whether a request of this cost must be deferred (env->defer_work); sets reply->deferred. */
int api_cost_defer(const api_env *env, const loss_cost *sum, api_reply *reply);

/* ---- memory budget (reserve.c) ---- */

/* Asks env's budget for `held` + cost->bytes (no budget: always yes): the peak core allocates
 * computing the call (converted inputs, plan and chunk scratch such as ntxent's similarity
 * matrix, values and gradients), known from its shapes by loss_plan_cost. Returns API_OK, or
 * API_ERR_OVERLOADED (no room now) / API_ERR_PAYLOAD_TOO_LARGE (never) with err filled. */
api_code api_reserve_call(const api_env *env, size_t held, const loss_cost *cost, api_err *err);

#endif
