/* v2_encode: loss_result -> OIP infer response. Outputs come in the order the request
 * resolved; each is JSON "data" or, when binary, a binary_data_size parameter whose bytes
 * follow the JSON header in the same order. Numbers keep the compute dtype: float32 results
 * are printed and sent as float32 exactly. */
#include <string.h>

#include "mem.h"
#include "v2.h"

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

static void write_data(jbuf *jb, const tensor *t)
{
    jbuf_putc(jb, '[');
    for (size_t i = 0; i < t->count; i++) {
        if (i)
            jbuf_putc(jb, ',');
        if (t->type == TENSOR_F32)
            jbuf_float(jb, ((const float *)t->data)[i]);
        else
            jbuf_double(jb, ((const double *)t->data)[i]);
    }
    jbuf_putc(jb, ']');
}

static void write_output(jbuf *jb, const loss_desc *desc, const v2_output *out, const tensor *t)
{
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
        write_data(jb, t);
        jbuf_putc(jb, '}');
    }
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

/* Appends the binary outputs' bytes, in output order, after the JSON header. */
static void write_tail(jbuf *jb, const v2_request *req, const loss_result *res)
{
    for (size_t k = 0; k < req->n_outputs; k++) {
        v2_scalar scalar;
        const v2_output *out = &req->outputs[k];
        if (!out->binary)
            continue;
        tensor t = output_tensor(req, res, out, &scalar);
        /* The result's own tensors were allocated, so their byte size cannot overflow. */
        if (t.count != 0)
            jbuf_put(jb, t.data, t.count * tensor_type_size(t.type));
    }
}

api_code v2_encode(const v2_request *req, const loss_result *res, api_reply *reply, api_err *err)
{
    jbuf jb;
    int binary = 0;
    jbuf_init(&jb, 256);
    write_head(&jb, req, res);
    jbuf_puts(&jb, ",\"outputs\":[");
    for (size_t k = 0; k < req->n_outputs; k++) {
        v2_scalar scalar;
        tensor t = output_tensor(req, res, &req->outputs[k], &scalar);
        if (k)
            jbuf_putc(&jb, ',');
        write_output(&jb, req->desc, &req->outputs[k], &t);
        binary |= req->outputs[k].binary;
    }
    jbuf_puts(&jb, "]}");
    size_t header_len = jb.len;
    if (binary)
        write_tail(&jb, req, res);
    char *body;
    size_t len;
    if (jbuf_take(&jb, &body, &len) != 0)
        return api_err_set(err, API_ERR_NOMEM, NULL, "out of memory writing the response");
    memset(reply, 0, sizeof *reply);
    reply->status = 200;
    reply->content_type = binary ? "application/octet-stream" : "application/json";
    reply->body = body;
    reply->len = len;
    reply->binary = binary;
    reply->inference_header_len = binary ? header_len : 0;
    reply->code = API_OK;
    reply->loss = req->desc->name;
    reply->elements = res->elements;
    return API_OK;
}
