/* encode: a loss_result -> the members of a /v1 loss response, written into a reply stream
 * (the envelope as text, large tensors as parts printed when the body is read). Numbers are
 * shortest round-trip in the compute dtype (float32 results print as floats, so "0.1" and
 * not "0.10000000149011612"); NaN and infinities are null. */
#include <string.h>

#include "api_internal.h"
#include "stream.h"

/* Nested arrays in t's shape (a bare number for rank 0); large tensors are printed when
 * the body is read. Returns 1 when the stream borrows t's data. */
static int write_tensor(api_stream *out, const tensor *t)
{
    return api_stream_tensor(out, t, 0);
}

static void write_shape(jbuf *jb, const tensor *t)
{
    jbuf_putc(jb, '[');
    for (size_t d = 0; d < t->rank; d++) {
        if (d)
            jbuf_putc(jb, ',');
        jbuf_size(jb, t->shape[d]);
    }
    jbuf_putc(jb, ']');
}

static void write_scalar(jbuf *jb, loss_dtype dt, double v)
{
    if (dt == LOSS_DTYPE_F32)
        jbuf_float(jb, (float)v);
    else
        jbuf_double(jb, v);
}

static int write_value(api_stream *out, const loss_desc *desc, const loss_result *res)
{
    jbuf *jb = api_stream_text(out);
    int lazy = 0;
    if (res->reduction != LOSS_REDUCE_NONE) {
        jbuf_puts(jb, ",\"value\":");
        write_scalar(jb, res->dtype, res->value);
        jbuf_puts(jb, ",\"shape\":[]");
        return 0;
    }
    if (res->n_terms < 2) {
        jbuf_puts(jb, ",\"value\":");
        lazy = write_tensor(out, &res->terms[0]);
        jbuf_puts(jb, ",\"shape\":");
        write_shape(jb, &res->terms[0]);
        return lazy;
    }
    for (int pass = 0; pass < 2; pass++) {
        jbuf_puts(jb, pass == 0 ? ",\"value\":{" : ",\"shape\":{");
        for (size_t t = 0; t < res->n_terms; t++) {
            if (t)
                jbuf_putc(jb, ',');
            jbuf_cstring(jb, desc->term_names[t] ? desc->term_names[t] : "");
            jbuf_putc(jb, ':');
            if (pass == 0)
                lazy |= write_tensor(out, &res->terms[t]);
            else
                write_shape(jb, &res->terms[t]);
        }
        jbuf_putc(jb, '}');
    }
    return lazy;
}

static int write_gradient(api_stream *out, const loss_desc *desc, const loss_result *res)
{
    jbuf *jb = api_stream_text(out);
    int first = 1, lazy = 0;
    jbuf_puts(jb, ",\"gradient\":{");
    for (size_t i = 0; i < desc->n_inputs; i++) {
        /* Core allocates a gradient (data != NULL even when empty) exactly where one was
         * computed: inputs flagged LOSS_INPUT_GRAD that were present. */
        if (res->grad[i].data == NULL)
            continue;
        if (!first)
            jbuf_putc(jb, ',');
        first = 0;
        jbuf_cstring(jb, desc->inputs[i].name);
        jbuf_putc(jb, ':');
        lazy |= write_tensor(out, &res->grad[i]);
    }
    jbuf_putc(jb, '}');
    return lazy;
}

int encode_v1_result(api_stream *out, const loss_desc *desc, const loss_call *call,
                     const loss_result *res)
{
    jbuf *jb = api_stream_text(out);
    int lazy;
    jbuf_puts(jb, "\"loss\":");
    jbuf_cstring(jb, desc->name);
    jbuf_puts(jb, ",\"reduction\":");
    jbuf_cstring(jb, loss_reduction_name(res->reduction));
    jbuf_puts(jb, ",\"dtype\":");
    jbuf_cstring(jb, res->dtype == LOSS_DTYPE_F32 ? "float32" : "float64");
    lazy = write_value(out, desc, res);
    if (res->reduction == LOSS_REDUCE_MEAN || res->reduction == LOSS_REDUCE_BATCHMEAN) {
        jbuf_puts(jb, ",\"denominator\":");
        jbuf_double(jb, res->denominator);
    }
    if (call->want_gradient)
        lazy |= write_gradient(out, desc, res);
    return lazy;
}
