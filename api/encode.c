/* encode: a loss_result -> the members of a /v1 loss response, written into one growing
 * buffer. Numbers are shortest round-trip in the compute dtype (float32 results print as
 * floats, so "0.1" and not "0.10000000149011612"); NaN and infinities are null. */
#include <string.h>

#include "api_internal.h"

typedef struct {
    jbuf *jb;
    const void *data;
    int f32;
    const size_t *shape;
    size_t rank;
    size_t next; /* flat index of the next element to write */
} tensor_writer;

static void write_run(tensor_writer *w, size_t n)
{
    if (w->f32) {
        const float *v = (const float *)w->data + w->next;
        for (size_t i = 0; i < n; i++) {
            if (i)
                jbuf_putc(w->jb, ',');
            jbuf_float(w->jb, v[i]);
        }
    } else {
        const double *v = (const double *)w->data + w->next;
        for (size_t i = 0; i < n; i++) {
            if (i)
                jbuf_putc(w->jb, ',');
            jbuf_double(w->jb, v[i]);
        }
    }
    w->next += n;
}

static void write_dim(tensor_writer *w, size_t d)
{
    jbuf_putc(w->jb, '[');
    if (d + 1 == w->rank) {
        write_run(w, w->shape[d]);
    } else {
        for (size_t i = 0; i < w->shape[d]; i++) {
            if (i)
                jbuf_putc(w->jb, ',');
            write_dim(w, d + 1);
        }
    }
    jbuf_putc(w->jb, ']');
}

/* Nested arrays in t's shape (a bare number for rank 0). */
static void write_tensor(jbuf *jb, const tensor *t)
{
    tensor_writer w = {jb, t->data, t->type == TENSOR_F32, t->shape, t->rank, 0};
    if (t->rank == 0)
        write_run(&w, 1);
    else
        write_dim(&w, 0);
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

size_t encode_v1_estimate(const loss_result *res)
{
    size_t n = 0;
    for (size_t t = 0; t < res->n_terms; t++)
        n += res->terms[t].count;
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++)
        if (res->grad[i].data != NULL)
            n += res->grad[i].count;
    /* ~25 bytes per double, 16 per float, and the envelope; capped so a wild estimate never
     * allocates much more than the reply really needs (the buffer grows if needed). */
    size_t per = res->dtype == LOSS_DTYPE_F32 ? 16 : 25;
    if (n > ((size_t)64 << 20) / per)
        n = ((size_t)64 << 20) / per;
    return 512 + n * per;
}

static void write_value(jbuf *jb, const loss_desc *desc, const loss_result *res)
{
    if (res->reduction != LOSS_REDUCE_NONE) {
        jbuf_puts(jb, ",\"value\":");
        write_scalar(jb, res->dtype, res->value);
        jbuf_puts(jb, ",\"shape\":[]");
        return;
    }
    if (res->n_terms < 2) {
        jbuf_puts(jb, ",\"value\":");
        write_tensor(jb, &res->terms[0]);
        jbuf_puts(jb, ",\"shape\":");
        write_shape(jb, &res->terms[0]);
        return;
    }
    for (int pass = 0; pass < 2; pass++) {
        jbuf_puts(jb, pass == 0 ? ",\"value\":{" : ",\"shape\":{");
        for (size_t t = 0; t < res->n_terms; t++) {
            if (t)
                jbuf_putc(jb, ',');
            jbuf_cstring(jb, desc->term_names[t] ? desc->term_names[t] : "");
            jbuf_putc(jb, ':');
            if (pass == 0)
                write_tensor(jb, &res->terms[t]);
            else
                write_shape(jb, &res->terms[t]);
        }
        jbuf_putc(jb, '}');
    }
}

static void write_gradient(jbuf *jb, const loss_desc *desc, const loss_result *res)
{
    int first = 1;
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
        write_tensor(jb, &res->grad[i]);
    }
    jbuf_putc(jb, '}');
}

void encode_v1_result(jbuf *jb, const loss_desc *desc, const loss_call *call,
                      const loss_result *res)
{
    jbuf_puts(jb, "\"loss\":");
    jbuf_cstring(jb, desc->name);
    jbuf_puts(jb, ",\"reduction\":");
    jbuf_cstring(jb, loss_reduction_name(res->reduction));
    jbuf_puts(jb, ",\"dtype\":");
    jbuf_cstring(jb, res->dtype == LOSS_DTYPE_F32 ? "float32" : "float64");
    write_value(jb, desc, res);
    if (res->reduction == LOSS_REDUCE_MEAN || res->reduction == LOSS_REDUCE_BATCHMEAN) {
        jbuf_puts(jb, ",\"denominator\":");
        jbuf_double(jb, res->denominator);
    }
    if (call->want_gradient)
        write_gradient(jb, desc, res);
}
