/* v2_encode: loss_result -> OIP infer response. Outputs come in the order the request
 * resolved; each is JSON "data" or, when binary, a binary_data_size parameter whose bytes
 * follow the JSON header in the same order. Numbers keep the compute dtype: float32 results
 * are printed and sent as float32 exactly. The binary tail is the result's own memory (the
 * reply keeps the result), and large JSON data prints as it is sent. */
#include <string.h>

#include "mem.h"
#include "stream.h"
#include "v2_internal.h"

/* Storage for a reduced loss value in either dtype. */
typedef union {
    float f;
    double d;
} v2_scalar;

/* The tensor behind an output; a reduced loss is the 1-element `scalar` in the dtype. */
static tensor output_tensor(const v2_request *req, const loss_result *res, const v2_output *out,
                            v2_scalar *scalar)
{
    tensor t;
    memset(&t, 0, sizeof t);
    if (out->kind == V2_OUT_GRAD)
        return res->grad[out->index];
    if (out->kind == V2_OUT_TERM || req->call.reduction == LOSS_REDUCE_NONE)
        return res->terms[out->kind == V2_OUT_TERM ? out->index : 0];
    t.type = res->dtype == LOSS_DTYPE_F32 ? TENSOR_F32 : TENSOR_F64;
    t.rank = 1;
    t.shape[0] = 1;
    t.count = 1;
    if (t.type == TENSOR_F32) {
        scalar->f = (float)res->value;
        t.data = &scalar->f;
    } else {
        scalar->d = res->value;
        t.data = &scalar->d;
    }
    return t;
}

static void write_shape(jbuf *jb, const tensor *t)
{
    jbuf_putc(jb, '[');
    for (size_t i = 0; i < t->rank; i++) {
        if (i)
            jbuf_putc(jb, ',');
        jbuf_size(jb, t->shape[i]);
    }
    jbuf_putc(jb, ']');
}

/* Writes one output entry; returns 1 when s borrows t's data for later printing. */
static int write_output(api_stream *s, const loss_desc *desc, const v2_output *out, const tensor *t,
                        unsigned flags)
{
    jbuf *jb = api_stream_text(s);
    int lazy = 0;
    char name[80];
    v2_output_name(desc, out, name, sizeof name);
    jbuf_puts(jb, "{\"name\":");
    jbuf_cstring(jb, name);
    jbuf_puts(jb, ",\"datatype\":");
    jbuf_cstring(jb, v2_binary_datatype_name(v2_binary_datatype_of(t->type)));
    jbuf_puts(jb, ",\"shape\":");
    write_shape(jb, t);
    if (out->binary) {
        jbuf_puts(jb, ",\"parameters\":{\"binary_data_size\":");
        jbuf_size(jb, t->count * tensor_type_size(t->type));
        jbuf_puts(jb, "}}");
    } else {
        jbuf_puts(jb, ",\"data\":");
        lazy = api_stream_tensor(s, t, flags);
        jbuf_putc(jb, '}');
    }
    return lazy;
}

/* model_name, model_version, id, parameters: everything before "outputs". */
static void write_head(jbuf *jb, const v2_request *req, const loss_result *res)
{
    jbuf_puts(jb, "{\"model_name\":");
    jbuf_cstring(jb, req->desc->name);
    jbuf_puts(jb, ",\"model_version\":\"1\"");
    if (req->id != NULL) {
        jbuf_puts(jb, ",\"id\":");
        jbuf_string(jb, req->id, req->id_len);
    }
    jbuf_puts(jb, ",\"parameters\":{\"reduction\":");
    jbuf_cstring(jb, loss_reduction_name(res->reduction));
    if (res->reduction == LOSS_REDUCE_MEAN || res->reduction == LOSS_REDUCE_BATCHMEAN) {
        jbuf_puts(jb, ",\"denominator\":");
        jbuf_double(jb, res->denominator);
    }
    jbuf_putc(jb, '}');
}

/* Appends the binary outputs' bytes, in output order, after the JSON header: the result's
 * own tensors are borrowed (the stream keeps the result); a reduced loss value, which lives
 * on the caller's stack, is copied. */
static void write_tail(api_stream *s, const v2_request *req, const loss_result *res)
{
    for (size_t k = 0; k < req->n_outputs; k++) {
        v2_scalar scalar;
        const v2_output *out = &req->outputs[k];
        if (!out->binary)
            continue;
        tensor t = output_tensor(req, res, out, &scalar);
        /* The result's own tensors were allocated, so their byte size cannot overflow. */
        size_t bytes = t.count * tensor_type_size(t.type);
        if (t.data == (void *)&scalar)
            jbuf_put(api_stream_text(s), t.data, bytes);
        else
            api_stream_bytes(s, t.data, bytes);
    }
}

static int any_binary(const v2_request *req)
{
    for (size_t k = 0; k < req->n_outputs; k++)
        if (req->outputs[k].binary)
            return 1;
    return 0;
}

/* The JSON header; with a binary tail its JSON data is printed now, as the header's length
 * must be known. Returns 1 when the stream borrows the result's tensors. */
static int write_json(api_stream *s, const v2_request *req, const loss_result *res, int binary)
{
    jbuf *jb = api_stream_text(s);
    int lazy = 0;
    write_head(jb, req, res);
    jbuf_puts(jb, ",\"outputs\":[");
    for (size_t k = 0; k < req->n_outputs; k++) {
        v2_scalar scalar;
        tensor t = output_tensor(req, res, &req->outputs[k], &scalar);
        if (k)
            jbuf_putc(jb, ',');
        lazy |= write_output(s, req->desc, &req->outputs[k], &t,
                             API_TENSOR_FLAT | (binary ? API_TENSOR_NOW : 0));
    }
    jbuf_puts(jb, "]}");
    return lazy;
}

api_code v2_encode(const v2_request *req, loss_result *res, int stream, api_reply *reply,
                   api_err *err)
{
    api_stream *s = api_stream_new();
    int binary = any_binary(req), lazy;
    if (s == NULL)
        return api_err_set(err, API_ERR_NOMEM, NULL, "out of memory writing the response");
    lazy = write_json(s, req, res, binary);
    size_t header_len = api_stream_text(s)->len;
    if (binary)
        write_tail(s, req, res);
    size_t elements = res->elements;
    /* The tail and lazy data borrow the result: the stream keeps it (moved out of *res). */
    if ((binary || lazy) && api_stream_keep(s, res) != 0) {
        api_stream_free(s);
        return api_err_set(err, API_ERR_NOMEM, NULL, "out of memory writing the response");
    }
    api_reply tmp;
    memset(&tmp, 0, sizeof tmp);
    if (api_stream_finish(s, &tmp, !stream && !binary) != API_OK)
        return api_err_set(err, API_ERR_NOMEM, NULL, "out of memory writing the response");
    *reply = tmp;
    reply->status = 200;
    reply->content_type = binary ? "application/octet-stream" : "application/json";
    reply->binary = binary;
    reply->inference_header_len = binary ? header_len : 0;
    reply->code = API_OK;
    reply->desc = req->desc;
    reply->elements = elements;
    return API_OK;
}
