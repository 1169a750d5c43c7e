/* v2_internal: private to api/ (the /v2 handlers themselves are declared in api.h). The
 * decoded form of a /v2 infer request (a loss_call plus what the reply must hold) and the two
 * halves that produce and consume it: v2_decode.c (JSON header + binary tail -> request) and
 * v2_encode.c (loss_result -> OIP response, JSON or binary). */
#ifndef LOSSD_API_V2_INTERNAL_H
#define LOSSD_API_V2_INTERNAL_H

#include <stddef.h>

#include "api.h"
#include "json_doc.h"
#include "loss.h"
#include "v2_binary.h"

typedef enum {
    V2_OUT_LOSS, /* the loss value (reduced: shape [1]; none: per-element) */
    V2_OUT_TERM, /* per-term loss with reduction none: loss_<term name> */
    V2_OUT_GRAD  /* grad_<input name> */
} v2_output_kind;

typedef struct {
    v2_output_kind kind;
    size_t index; /* term index (V2_OUT_TERM) or descriptor input index (V2_OUT_GRAD) */
    int binary;   /* sent in the binary tail rather than as JSON data */
} v2_output;

#define V2_MAX_OUTPUTS (2 + LOSS_MAX_INPUTS)

typedef struct {
    const loss_desc *desc;
    loss_call call;                /* inputs borrow the body, the document or `owned` */
    tensor owned[LOSS_MAX_INPUTS]; /* binary inputs that had to be copied to be aligned */
    const char *id;                /* the request's "id" (borrowed from doc), or NULL */
    size_t id_len;
    size_t n_outputs;
    v2_output outputs[V2_MAX_OUTPUTS]; /* in the order the reply lists them */
    json_doc doc;
} v2_request;

/* Decodes an infer request for `desc`: the body is header_len's bytes of JSON (all of it when
 * header_len is NULL) followed by the binary tail. max_elements caps the inputs' total
 * element count (0: no cap beyond core's). On API_OK, req holds the loss_call, borrowing `body`
 * (which must outlive req); release it with v2_request_release. On error, err is filled and
 * req holds nothing that needs releasing (v2_request_release is still safe). */
api_code v2_decode(v2_request *req, const loss_desc *desc, const char *body, size_t len,
                   const char *header_len, size_t max_elements, api_err *err);

/* Frees what a decoded request owns. Accepts a zeroed or failed request. */
void v2_request_release(v2_request *req);

/* Bytes a decoded request holds besides the body: its document and copied inputs. */
size_t v2_request_memory(const v2_request *req);

/* Fills reply with the OIP response for req's outputs from result: JSON, or the JSON header
 * followed by the binary outputs (reply->binary, reply->inference_header_len) when any output
 * is binary. Binary outputs are not copied: the reply keeps *result (moved out, zeroed) and
 * sends its tensors' own bytes; with `stream`, large JSON data prints as it is sent. The
 * reply owns its body (api_reply_release). Returns API_OK, or API_ERR_NOMEM with err filled
 * and reply untouched (*result then still the caller's). */
api_code v2_encode(const v2_request *req, loss_result *result, int stream, api_reply *reply,
                   api_err *err);

/* The wire name of output `out` of desc ("loss", "loss_real", "grad_predictions") into buf
 * (always NUL-terminated). */
void v2_output_name(const loss_desc *desc, const v2_output *out, char *buf, size_t len);

#endif
