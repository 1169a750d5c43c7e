/* v2_decode: an OIP infer request (JSON header, optional binary tail) -> loss_call.
 * Invariants: each input's name, datatype and shape are checked before its data is touched;
 * binary data is sliced from the tail in JSON order and the tail must be consumed exactly;
 * every floating-point input shares one datatype, which becomes the compute dtype. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "v2_internal.h"

/* Integers up to 2^53 are exact in a double, which is what the JSON layer hands us. */
#define V2_MAX_EXACT 9007199254740992.0

typedef struct {
    v2_request *req;
    api_err *err;
    v2_tail tail;
    int has_tail;        /* the request carried Inference-Header-Content-Length */
    size_t max_elements; /* cap on the inputs' total element count (0: none here) */
    size_t elements;     /* elements of the inputs decoded so far */
    int float_seen;      /* an FP input fixed the compute dtype... */
    v2_datatype float_dt;
    const char *float_input; /* ...this one, named in a mixed-datatype refusal */
    int gradient;            /* the "gradient" parameter: -1 absent, else 0/1 */
    int binary_output;
} decoder;

static int str_is(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* Sorts an object's members into slots by name (slots[i] for names[i]); a member with any
 * other name is an unknown_field error. `where` names the object in messages. */
static api_code collect(const json_node *obj, const char *const *names, size_t n,
                        const json_node **slots, const char *where, api_err *err)
{
    if (obj->kind != JSON_OBJECT)
        return api_err_set(err, API_ERR_INVALID_TYPE, where, "%s must be an object, not %s", where,
                           json_kind_name(obj->kind));
    memset(slots, 0, n * sizeof *slots);
    for (size_t m = 0; m < obj->u.obj.count; m++) {
        const json_member *mem = &obj->u.obj.items[m];
        size_t i = 0;
        while (i < n && !str_is(mem->key, mem->key_len, names[i]))
            i++;
        char q[API_QUOTE_CAP];
        if (i == n)
            return api_err_set(err, API_ERR_UNKNOWN_FIELD, where, "%s has an unknown field \"%s\"",
                               where, api_quote(q, mem->key, mem->key_len));
        slots[i] = &mem->value;
    }
    return API_OK;
}

static api_code want_bool(const json_node *v, const char *what, int *out, api_err *err)
{
    if (v->kind != JSON_TRUE && v->kind != JSON_FALSE)
        return api_err_set(err, API_ERR_INVALID_TYPE, what, "%s must be true or false, not %s",
                           what, json_kind_name(v->kind));
    *out = v->kind == JSON_TRUE;
    return API_OK;
}

/* The items of a JSON list of objects. The parser stores an all-number array packed, so an
 * empty list may arrive packed, and a packed non-empty one holds numbers, not objects. */
static api_code object_list(decoder *d, const json_node *v, const char *what,
                            const json_node **items, size_t *count)
{
    *items = NULL;
    *count = 0;
    if (v->kind == JSON_ARRAY) {
        *items = v->u.arr.items;
        *count = v->u.arr.count;
        return API_OK;
    }
    if (v->kind == JSON_PACKED && v->u.packed->rank == 1 && v->u.packed->count == 0)
        return API_OK;
    if (v->kind == JSON_PACKED)
        return api_err_set(d->err, API_ERR_INVALID_TYPE, what, "%s[0] must be an object, not %s",
                           what, v->u.packed->rank == 1 ? "a number" : "an array");
    return api_err_set(d->err, API_ERR_INVALID_TYPE, what, "%s must be an array of objects, not %s",
                       what, json_kind_name(v->kind));
}

/* ---- request parameters ---- */

static api_code param_reduction(decoder *d, const json_node *v)
{
    int r = v->kind == JSON_STRING ? loss_reduction_parse(v->u.str.ptr, v->u.str.len) : -1;
    if (r < 0)
        return api_err_set(d->err, API_ERR_INVALID_PARAMETER, "reduction",
                           "reduction must be \"mean\", \"sum\", \"none\" or \"batchmean\"");
    d->req->call.reduction = (loss_reduction)r;
    return API_OK;
}

static api_code param_gradient(decoder *d, const json_node *v)
{
    return want_bool(v, "gradient", &d->gradient, d->err);
}

static api_code param_empty_mean(decoder *d, const json_node *v)
{
    int zero = v->kind == JSON_STRING && str_is(v->u.str.ptr, v->u.str.len, "zero");
    if (!zero && !(v->kind == JSON_STRING && str_is(v->u.str.ptr, v->u.str.len, "nan")))
        return api_err_set(d->err, API_ERR_INVALID_PARAMETER, "empty_mean",
                           "empty_mean must be \"nan\" or \"zero\"");
    d->req->call.empty_mean_zero = zero;
    return API_OK;
}

static api_code param_binary_output(decoder *d, const json_node *v)
{
    return want_bool(v, "binary_data_output", &d->binary_output, d->err);
}

static const struct {
    const char *name;
    api_code (*set)(decoder *d, const json_node *v);
} request_params[] = {
    {"reduction", param_reduction},
    {"gradient", param_gradient},
    {"empty_mean", param_empty_mean},
    {"binary_data_output", param_binary_output},
};

/* A member of "parameters" that is none of the request-level ones: a scalar loss parameter. */
static api_code param_loss(decoder *d, const json_member *m)
{
    const loss_desc *desc = d->req->desc;
    int i = loss_desc_param_index(desc, m->key, m->key_len);
    if (i < 0) {
        int in = loss_desc_input_index(desc, m->key, m->key_len);
        if (in >= 0)
            return api_err_set(d->err, API_ERR_UNKNOWN_FIELD, desc->inputs[in].name,
                               "%s is a tensor: send it in \"inputs\", not in \"parameters\"",
                               desc->inputs[in].name);
        char key[API_QUOTE_CAP];
        api_quote(key, m->key, m->key_len);
        return api_err_set(d->err, API_ERR_UNKNOWN_FIELD, key, "%s has no parameter \"%s\"",
                           desc->name, key);
    }
    const json_node *v = &m->value;
    const char *name = desc->params[i].name;
    if (v->kind == JSON_NUMBER && !v->overflow)
        d->req->call.param[i] = v->u.number;
    else if (v->kind == JSON_TRUE || v->kind == JSON_FALSE)
        d->req->call.param[i] = v->kind == JSON_TRUE;
    else
        return api_err_set(d->err, API_ERR_INVALID_PARAMETER, name, "%s must be a finite number%s",
                           name, desc->params[i].type == LOSS_PARAM_BOOL ? " or a boolean" : "");
    d->req->call.param_set[i] = 1;
    return API_OK;
}

static api_code decode_parameters(decoder *d, const json_node *params)
{
    if (params->kind != JSON_OBJECT)
        return api_err_set(d->err, API_ERR_INVALID_TYPE, "parameters",
                           "parameters must be an object, not %s", json_kind_name(params->kind));
    for (size_t m = 0; m < params->u.obj.count; m++) {
        const json_member *mem = &params->u.obj.items[m];
        size_t k = 0, n = sizeof request_params / sizeof request_params[0];
        while (k < n && !str_is(mem->key, mem->key_len, request_params[k].name))
            k++;
        api_code c = k < n ? request_params[k].set(d, &mem->value) : param_loss(d, mem);
        if (c != API_OK)
            return c;
    }
    return API_OK;
}

/* ---- inputs ---- */

/* Which datatypes an input of this kind accepts; FP ones also join the shared dtype. */
static api_code check_datatype(decoder *d, const loss_input_desc *in, const json_node *v,
                               v2_datatype *dt)
{
    char q[API_QUOTE_CAP];
    if (v == NULL || v->kind != JSON_STRING)
        return api_err_set(d->err, v ? API_ERR_INVALID_TYPE : API_ERR_MISSING_FIELD, in->name,
                           "%s needs a \"datatype\" string", in->name);
    if (v2_binary_datatype_parse(v->u.str.ptr, v->u.str.len, dt) != 0 ||
        !v2_binary_datatype_supported(*dt))
        return api_err_set(d->err, API_ERR_INVALID_TYPE, in->name,
                           "%s: datatype \"%s\" is not supported (FP32, FP64%s)", in->name,
                           api_quote(q, v->u.str.ptr, v->u.str.len),
                           in->kind == LOSS_IN_FLOAT ? "" : ", INT32, INT64");
    int is_float = *dt == V2_FP32 || *dt == V2_FP64;
    if (!is_float && in->kind == LOSS_IN_FLOAT)
        return api_err_set(d->err, API_ERR_INVALID_TYPE, in->name,
                           "%s is floating point: its datatype must be FP32 or FP64", in->name);
    if (!is_float)
        return API_OK;
    if (d->float_seen && *dt != d->float_dt)
        return api_err_set(d->err, API_ERR_INVALID_TYPE, in->name,
                           "%s is %s but %s is %s: all floating-point inputs must share one "
                           "datatype (it is the compute precision)",
                           in->name, v2_binary_datatype_name(*dt), d->float_input,
                           v2_binary_datatype_name(d->float_dt));
    d->float_seen = 1;
    d->float_dt = *dt;
    d->float_input = in->name;
    return API_OK;
}

static api_code shape_error(decoder *d, const char *name, const char *why)
{
    return api_err_set(d->err, API_ERR_INVALID_TYPE, name, "%s: shape %s", name, why);
}

/* Reads "shape" (a list of non-negative integers) into t's rank/shape/count. */
static api_code decode_shape(decoder *d, const char *name, const json_node *v, tensor *t)
{
    if (v == NULL)
        return api_err_set(d->err, API_ERR_MISSING_FIELD, name, "%s needs a \"shape\"", name);
    t->rank = 0;
    if (v->kind == JSON_PACKED && v->u.packed->rank == 1) {
        const json_packed *p = v->u.packed;
        if (p->count > TENSOR_MAX_RANK)
            return shape_error(d, name, "has more than 8 dimensions");
        for (size_t i = 0; i < p->count; i++) {
            double dim = p->data[i];
            if (!(dim >= 0) || dim != floor(dim) || dim > V2_MAX_EXACT)
                return api_err_set(d->err, API_ERR_INVALID_TYPE, name,
                                   "%s: shape[%zu] = %.17g is not an integer in [0, 2^53]", name, i,
                                   dim);
            t->shape[i] = (size_t)dim;
        }
        t->rank = p->count;
    } else if (!(v->kind == JSON_ARRAY && v->u.arr.count == 0)) {
        return shape_error(d, name, "must be an array of non-negative integers");
    }
    if (tensor_shape_count(t->shape, t->rank, &t->count) != 0)
        return shape_error(d, name, "has more elements than a 64-bit size can count");
    if (__builtin_add_overflow(d->elements, t->count, &d->elements))
        return shape_error(d, name, "brings the inputs past what a 64-bit size can count");
    if (d->max_elements != 0 && d->elements > d->max_elements)
        return api_err_set(d->err, API_ERR_PAYLOAD_TOO_LARGE, name,
                           "the inputs up to %s have more than %zu elements, the limit", name,
                           d->max_elements);
    return API_OK;
}

/* Numbers in a non-packed array (ragged nesting); *other set if any leaf is not a number. */
static size_t count_leaves(const json_node *v, int *other)
{
    if (v->kind == JSON_PACKED)
        return v->u.packed->count;
    if (v->kind == JSON_NUMBER)
        return 1;
    if (v->kind != JSON_ARRAY) {
        *other = 1;
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < v->u.arr.count; i++)
        n += count_leaves(&v->u.arr.items[i], other);
    return n;
}

static api_code data_error(decoder *d, const char *name, const json_node *v)
{
    int other = 0;
    size_t n = count_leaves(v, &other);
    if (other || v->kind != JSON_ARRAY)
        return api_err_set(d->err, API_ERR_INVALID_TYPE, name,
                           "%s: data must be a (nested) array of numbers", name);
    if (n != 0)
        return api_err_set(d->err, API_ERR_RAGGED_ARRAY, name,
                           "%s: nested data must be rectangular", name);
    return API_OK;
}

/* INT32/INT64 JSON data must hold integers of that width. */
static api_code check_integers(decoder *d, const char *name, v2_datatype dt, const double *data,
                               size_t n)
{
    double lim = dt == V2_INT32 ? 2147483648.0 : dt == V2_INT64 ? V2_MAX_EXACT : 0;
    for (size_t i = 0; lim != 0 && i < n; i++)
        if (data[i] != floor(data[i]) || data[i] < -lim || data[i] > lim - (dt == V2_INT32))
            return api_err_set(d->err, API_ERR_INVALID_TYPE, name,
                               "%s[%zu] = %.17g is not a valid %s value", name, i, data[i],
                               v2_binary_datatype_name(dt));
    return API_OK;
}

/* Checks JSON data (already packed as doubles by the parser) and points t at it. */
static api_code decode_json_data(decoder *d, const char *name, v2_datatype dt, const json_node *v,
                                 tensor *t)
{
    const json_packed *p = v->kind == JSON_PACKED ? v->u.packed : NULL;
    const double *data = p ? p->data : v->kind == JSON_NUMBER ? &v->u.number : NULL;
    size_t n = p ? p->count : v->kind == JSON_NUMBER ? 1 : 0;
    if (data == NULL && data_error(d, name, v) != API_OK)
        return d->err->code;
    if (n != t->count) {
        char shape[96];
        tensor_shape_str(t, shape, sizeof shape);
        return api_err_set(d->err, API_ERR_SHAPE_MISMATCH, name,
                           "%s: data has %zu elements but shape %s has %zu", name, n, shape,
                           t->count);
    }
    size_t bad = p ? p->first_overflow : v->overflow ? 0 : JSON_NO_OVERFLOW;
    for (size_t i = 0; bad == JSON_NO_OVERFLOW && dt == V2_FP32 && i < n; i++)
        if (!isfinite((float)data[i]))
            bad = i;
    if (bad != JSON_NO_OVERFLOW)
        return api_err_set(d->err, API_ERR_NON_FINITE, name, "%s[%zu] is beyond the range of %s",
                           name, bad, v2_binary_datatype_name(dt));
    if (check_integers(d, name, dt, data, n) != API_OK)
        return d->err->code;
    t->type = TENSOR_F64;
    t->data = (void *)(uintptr_t)data; /* borrowed from the document, only ever read */
    return API_OK;
}

static api_code binary_size(decoder *d, const char *name, const json_node *params, uint64_t *size)
{
    static const char *const fields[] = {"binary_data_size"};
    const json_node *v;
    char where[96];
    snprintf(where, sizeof where, "%s.parameters", name);
    if (collect(params, fields, 1, &v, where, d->err) != API_OK)
        return d->err->code;
    if (v == NULL) {
        *size = UINT64_MAX; /* no binary data: JSON "data" is expected */
        return API_OK;
    }
    if (v->kind != JSON_NUMBER || v->overflow || !(v->u.number >= 0) ||
        v->u.number != floor(v->u.number) || v->u.number > V2_MAX_EXACT)
        return api_err_set(d->err, API_ERR_INVALID_BINARY, name,
                           "%s: binary_data_size must be a non-negative integer", name);
    if (!d->has_tail)
        return api_err_set(d->err, API_ERR_INVALID_BINARY, name,
                           "%s has binary_data_size but the request has no "
                           "Inference-Header-Content-Length header",
                           name);
    *size = (uint64_t)v->u.number;
    return API_OK;
}

static api_code decode_binary_data(decoder *d, int idx, v2_datatype dt, uint64_t size, tensor *t)
{
    const char *name = d->req->desc->inputs[idx].name;
    const unsigned char *bytes;
    if (v2_binary_tail_take(&d->tail, name, dt, t->count, size, &bytes, d->err) != API_OK)
        return d->err->code;
    tensor *own = &d->req->owned[idx];
    if (v2_binary_tensor(name, dt, t->shape, t->rank, t->count, bytes, own, d->err) != API_OK)
        return d->err->code;
    *t = *own;
    t->owned = 0; /* req->owned[idx] keeps ownership */
    return API_OK;
}

enum { IN_NAME, IN_SHAPE, IN_DATATYPE, IN_PARAMS, IN_DATA, IN_FIELDS };
static const char *const input_fields[IN_FIELDS] = {"name", "shape", "datatype", "parameters",
                                                    "data"};

/* Resolves inputs[pos].name to a descriptor index that no earlier input took. */
static api_code input_index(decoder *d, size_t pos, const json_node *name, int *idx)
{
    const loss_desc *desc = d->req->desc;
    char q[API_QUOTE_CAP];
    if (name == NULL || name->kind != JSON_STRING)
        return api_err_set(d->err, name ? API_ERR_INVALID_TYPE : API_ERR_MISSING_FIELD, "inputs",
                           "inputs[%zu] needs a \"name\" string", pos);
    *idx = loss_desc_input_index(desc, name->u.str.ptr, name->u.str.len);
    if (*idx < 0) {
        char names[128];
        loss_desc_input_names(desc, names, sizeof names);
        return api_err_set(d->err, API_ERR_UNKNOWN_FIELD, "inputs",
                           "%s has no input \"%s\"; its inputs are %s", desc->name,
                           api_quote(q, name->u.str.ptr, name->u.str.len), names);
    }
    if (d->req->call.present[*idx])
        return api_err_set(d->err, API_ERR_INVALID_JSON, desc->inputs[*idx].name,
                           "input %s is given twice", desc->inputs[*idx].name);
    return API_OK;
}

static api_code decode_input(decoder *d, size_t pos, const json_node *node)
{
    const json_node *f[IN_FIELDS];
    char where[48];
    int idx = -1;
    v2_datatype dt;
    uint64_t size = UINT64_MAX;
    snprintf(where, sizeof where, "inputs[%zu]", pos);
    if (collect(node, input_fields, IN_FIELDS, f, where, d->err) != API_OK ||
        input_index(d, pos, f[IN_NAME], &idx) != API_OK)
        return d->err->code;
    const loss_input_desc *in = &d->req->desc->inputs[idx];
    tensor *t = &d->req->call.input[idx];
    if (check_datatype(d, in, f[IN_DATATYPE], &dt) != API_OK ||
        decode_shape(d, in->name, f[IN_SHAPE], t) != API_OK ||
        (f[IN_PARAMS] && binary_size(d, in->name, f[IN_PARAMS], &size) != API_OK))
        return d->err->code;
    if (size != UINT64_MAX && f[IN_DATA] != NULL)
        return api_err_set(d->err, API_ERR_INVALID_BINARY, in->name,
                           "%s has both \"data\" and binary_data_size", in->name);
    if (size == UINT64_MAX && f[IN_DATA] == NULL)
        return api_err_set(d->err, API_ERR_MISSING_FIELD, in->name,
                           "%s needs \"data\" or a binary_data_size parameter", in->name);
    api_code c = size != UINT64_MAX ? decode_binary_data(d, idx, dt, size, t)
                                    : decode_json_data(d, in->name, dt, f[IN_DATA], t);
    d->req->call.present[idx] = c == API_OK;
    return c;
}

static api_code decode_inputs(decoder *d, const json_node *inputs)
{
    if (inputs == NULL)
        return api_err_set(d->err, API_ERR_MISSING_FIELD, "inputs", "the request needs \"inputs\"");
    const json_node *items;
    size_t n;
    if (object_list(d, inputs, "inputs", &items, &n) != API_OK)
        return d->err->code;
    for (size_t i = 0; i < n; i++)
        if (decode_input(d, i, &items[i]) != API_OK)
            return d->err->code;
    if (d->float_seen)
        d->req->call.dtype = d->float_dt == V2_FP32 ? LOSS_DTYPE_F32 : LOSS_DTYPE_F64;
    return v2_binary_tail_finish(&d->tail, d->err);
}

/* ---- outputs ---- */

/* Every output this loss offers under the request's reduction, in default order. */
static size_t offered_outputs(const loss_call *call, v2_output *out)
{
    const loss_desc *desc = call->desc;
    size_t n = 0;
    if ((desc->flags & LOSS_FLAG_PER_TERM) && call->reduction == LOSS_REDUCE_NONE) {
        for (size_t t = 0; t < 2; t++)
            out[n++] = (v2_output){V2_OUT_TERM, t, 0};
    } else {
        out[n++] = (v2_output){V2_OUT_LOSS, 0, 0};
    }
    for (size_t i = 0; i < desc->n_inputs; i++)
        if (desc->inputs[i].flags & LOSS_INPUT_GRAD)
            out[n++] = (v2_output){V2_OUT_GRAD, i, 0};
    return n;
}

void v2_output_name(const loss_desc *desc, const v2_output *out, char *buf, size_t len)
{
    if (out->kind == V2_OUT_TERM)
        snprintf(buf, len, "loss_%s", desc->term_names[out->index]);
    else if (out->kind == V2_OUT_GRAD)
        snprintf(buf, len, "grad_%s", desc->inputs[out->index].name);
    else
        snprintf(buf, len, "loss");
}

static api_code unknown_output(decoder *d, const json_node *name, const v2_output *offered,
                               size_t n)
{
    char list[192] = "", one[80], q[API_QUOTE_CAP];
    for (size_t i = 0; i < n; i++) {
        v2_output_name(d->req->desc, &offered[i], one, sizeof one);
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", one);
    }
    return api_err_set(d->err, API_ERR_UNKNOWN_FIELD, "outputs",
                       "%s has no output \"%s\" with this reduction (outputs: %s)",
                       d->req->desc->name, api_quote(q, name->u.str.ptr, name->u.str.len), list);
}

/* Finds outputs[pos].name among the offered outputs; refuses a repeat. */
static api_code output_lookup(decoder *d, size_t pos, const json_node *name,
                              const v2_output *offered, size_t n, v2_output *found)
{
    char buf[80];
    if (name == NULL || name->kind != JSON_STRING)
        return api_err_set(d->err, name ? API_ERR_INVALID_TYPE : API_ERR_MISSING_FIELD, "outputs",
                           "outputs[%zu] needs a \"name\" string", pos);
    size_t i = 0;
    for (; i < n; i++) {
        v2_output_name(d->req->desc, &offered[i], buf, sizeof buf);
        if (str_is(name->u.str.ptr, name->u.str.len, buf))
            break;
    }
    if (i == n)
        return unknown_output(d, name, offered, n);
    for (size_t k = 0; k < d->req->n_outputs; k++)
        if (d->req->outputs[k].kind == offered[i].kind &&
            d->req->outputs[k].index == offered[i].index)
            return api_err_set(d->err, API_ERR_INVALID_JSON, "outputs",
                               "output %s is requested twice", buf);
    *found = offered[i];
    return API_OK;
}

static api_code decode_output(decoder *d, size_t pos, const json_node *node,
                              const v2_output *offered, size_t n)
{
    static const char *const fields[] = {"name", "parameters"};
    static const char *const pfields[] = {"binary_data"};
    const json_node *f[2], *pf = NULL;
    char where[48];
    v2_output out;
    snprintf(where, sizeof where, "outputs[%zu]", pos);
    if (collect(node, fields, 2, f, where, d->err) != API_OK ||
        output_lookup(d, pos, f[0], offered, n, &out) != API_OK)
        return d->err->code;
    snprintf(where, sizeof where, "outputs[%zu].parameters", pos);
    if (f[1] && collect(f[1], pfields, 1, &pf, where, d->err) != API_OK)
        return d->err->code;
    out.binary = d->binary_output;
    if (pf && want_bool(pf, "binary_data", &out.binary, d->err) != API_OK)
        return d->err->code;
    d->req->outputs[d->req->n_outputs++] = out;
    return API_OK;
}

/* Requested outputs, or all of them when "outputs" is absent or empty (gradients only when
 * the gradient parameter asks). */
static api_code decode_outputs(decoder *d, const json_node *outputs)
{
    v2_output offered[V2_MAX_OUTPUTS];
    size_t n = offered_outputs(&d->req->call, offered);
    const json_node *items = NULL;
    size_t count = 0;
    if (outputs != NULL && object_list(d, outputs, "outputs", &items, &count) != API_OK)
        return d->err->code;
    if (outputs == NULL || count == 0) {
        for (size_t i = 0; i < n; i++) {
            if (offered[i].kind == V2_OUT_GRAD &&
                (d->gradient != 1 || !d->req->call.present[offered[i].index]))
                continue;
            offered[i].binary = d->binary_output;
            d->req->outputs[d->req->n_outputs++] = offered[i];
        }
        return API_OK;
    }
    for (size_t i = 0; i < count; i++)
        if (decode_output(d, i, &items[i], offered, n) != API_OK)
            return d->err->code;
    return API_OK;
}

/* Computes gradients exactly when a gradient output is to be sent; refuses gradient=false
 * with one, and a gradient of an input that was not sent. */
static api_code settle_gradient(decoder *d)
{
    v2_request *req = d->req;
    for (size_t k = 0; k < req->n_outputs; k++) {
        const v2_output *o = &req->outputs[k];
        if (o->kind != V2_OUT_GRAD)
            continue;
        const char *name = req->desc->inputs[o->index].name;
        if (d->gradient == 0)
            return api_err_set(d->err, API_ERR_INVALID_PARAMETER, "gradient",
                               "gradient is false but output grad_%s is requested", name);
        if (!req->call.present[o->index])
            return api_err_set(d->err, API_ERR_MISSING_FIELD, name, "output grad_%s needs input %s",
                               name, name);
        req->call.want_gradient = 1;
    }
    return API_OK;
}

/* ---- the request ---- */

static api_code parse_header(v2_request *req, const char *body, size_t json_len, int has_tail,
                             api_err *err)
{
    json_error jerr;
    json_limits lim = {.max_nodes = 0, .max_memory = json_request_cap(json_len)};
    json_status st = json_doc_parse(&req->doc, body, json_len, &lim, &jerr);
    if (st == JSON_OK)
        return API_OK;
    if (st == JSON_ERR_NOMEM)
        return api_err_set(err, API_ERR_NOMEM, "", "out of memory parsing the request");
    if (st == JSON_ERR_LIMIT)
        return api_err_set(err, API_ERR_PAYLOAD_TOO_LARGE, "", "%s", jerr.message);
    return api_err_set(err, API_ERR_INVALID_JSON, "", "JSON header at byte %zu: %s%s", jerr.offset,
                       jerr.message,
                       has_tail ? ""
                                : " (binary tensor data needs an "
                                  "Inference-Header-Content-Length header)");
}

enum { REQ_ID, REQ_PARAMS, REQ_INPUTS, REQ_OUTPUTS, REQ_MODEL, REQ_VERSION, REQ_FIELDS };
static const char *const request_fields[REQ_FIELDS] = {"id",      "parameters", "inputs",
                                                       "outputs", "model_name", "model_version"};

/* "model_name"/"model_version" in the body (KServe's Python client sends them) must agree
 * with the path: the same loss (alias or canonical) and version "1". */
static api_code check_model(decoder *d, const json_node *name, const json_node *version)
{
    const loss_desc *desc = d->req->desc;
    if (name != NULL &&
        (name->kind != JSON_STRING || loss_registry_find(name->u.str.ptr, name->u.str.len) != desc))
        return api_err_set(d->err, API_ERR_INVALID_PARAMETER, "model_name",
                           "model_name does not name the model of the path, %s", desc->name);
    if (version != NULL &&
        (version->kind != JSON_STRING || !str_is(version->u.str.ptr, version->u.str.len, "1")))
        return api_err_set(d->err, API_ERR_NOT_FOUND, "model_version",
                           "%s has only model_version \"1\"", desc->name);
    return API_OK;
}

static api_code decode_request(decoder *d, const json_node *root)
{
    const json_node *f[REQ_FIELDS];
    if (collect(root, request_fields, REQ_FIELDS, f, "request", d->err) != API_OK ||
        check_model(d, f[REQ_MODEL], f[REQ_VERSION]) != API_OK)
        return d->err->code;
    if (f[REQ_ID] && f[REQ_ID]->kind != JSON_STRING)
        return api_err_set(d->err, API_ERR_INVALID_TYPE, "id", "id must be a string, not %s",
                           json_kind_name(f[REQ_ID]->kind));
    if (f[REQ_ID]) {
        d->req->id = f[REQ_ID]->u.str.ptr;
        d->req->id_len = f[REQ_ID]->u.str.len;
    }
    if ((f[REQ_PARAMS] && decode_parameters(d, f[REQ_PARAMS]) != API_OK) ||
        decode_inputs(d, f[REQ_INPUTS]) != API_OK || decode_outputs(d, f[REQ_OUTPUTS]) != API_OK)
        return d->err->code;
    return settle_gradient(d);
}

api_code v2_decode(v2_request *req, const loss_desc *desc, const char *body, size_t len,
                   const char *header_len, size_t max_elements, api_err *err)
{
    size_t json_len;
    decoder d = {.req = req,
                 .err = err,
                 .has_tail = header_len != NULL,
                 .max_elements = max_elements,
                 .gradient = -1};
    memset(req, 0, sizeof *req);
    req->desc = desc;
    loss_call_init(&req->call, desc);
    if (v2_binary_header_len(header_len, len, &json_len, err) != API_OK)
        return err->code;
    v2_binary_tail_init(&d.tail, body, len, json_len);
    if (parse_header(req, body, json_len, d.has_tail, err) != API_OK ||
        decode_request(&d, &req->doc.root) != API_OK) {
        v2_request_release(req);
        return err->code;
    }
    return API_OK;
}

void v2_request_release(v2_request *req)
{
    if (req == NULL)
        return;
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++)
        tensor_release(&req->owned[i]);
    json_doc_release(&req->doc);
    req->desc = NULL;
    req->n_outputs = 0;
}

size_t v2_request_memory(const v2_request *req)
{
    size_t n = req->doc.mem.used_bytes;
    for (size_t i = 0; i < LOSS_MAX_INPUTS; i++)
        if (req->owned[i].owned)
            n += req->owned[i].count * tensor_type_size(req->owned[i].type);
    return n;
}
