/* decode_v1: a /v1 request object -> loss_call, driven by the loss's registry descriptor.
 * Every key is looked up once: an option, an input (tensor) or a scalar parameter of this
 * loss; anything else is unknown_field. Tensors borrow packed document buffers; the rare
 * array that could not be packed (or a bare number) is flattened into the arena.
 * Wrong JSON types are invalid_type; values outside a parameter's range are left to core,
 * which names the parameter (invalid_parameter). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api_internal.h"

static int key_is(const json_member *m, const char *word)
{
    size_t n = strlen(word);
    return m->key_len == n && memcmp(m->key, word, n) == 0;
}

/* A key as a C string for messages and the error's field (escaped, truncated to fit). */
static const char *key_str(const json_member *m, char buf[API_QUOTE_CAP])
{
    return api_quote(buf, m->key, m->key_len);
}

static int in_skip(decode_skip skip, const json_member *m)
{
    for (; skip && *skip; skip++)
        if (key_is(m, *skip))
            return 1;
    return 0;
}

/* ---- tensors ---- */

typedef struct {
    size_t rank;
    size_t shape[TENSOR_MAX_RANK];
    const char *name;
    api_err *err;
} walk;

/* Learns the shape by following first elements. */
static api_code walk_shape(walk *w, const json_node *n)
{
    size_t d = 0;
    while (n->kind == JSON_ARRAY && n->u.arr.count > 0) {
        if (d == TENSOR_MAX_RANK)
            goto too_deep;
        w->shape[d++] = n->u.arr.count;
        n = &n->u.arr.items[0];
    }
    if (n->kind == JSON_ARRAY || n->kind == JSON_PACKED) {
        size_t r = n->kind == JSON_ARRAY ? 1 : n->u.packed->rank;
        if (d + r > TENSOR_MAX_RANK)
            goto too_deep;
        if (n->kind == JSON_ARRAY)
            w->shape[d] = 0;
        else
            memcpy(w->shape + d, n->u.packed->shape, r * sizeof w->shape[0]);
        d += r;
    } else if (n->kind != JSON_NUMBER) {
        return api_err_set(w->err, API_ERR_INVALID_TYPE, w->name,
                           "%s must contain only numbers, found %s", w->name,
                           json_kind_name(n->kind));
    }
    w->rank = d;
    return API_OK;
too_deep:
    return api_err_set(w->err, API_ERR_INVALID_TYPE, w->name, "%s has more than %d dimensions",
                       w->name, TENSOR_MAX_RANK);
}

static api_code ragged(walk *w)
{
    return api_err_set(w->err, API_ERR_RAGGED_ARRAY, w->name,
                       "%s is not rectangular: its nested arrays differ in length or depth",
                       w->name);
}

/* Checks that n (at depth d) matches the learned shape and copies its numbers to out[*k..)
 * (out NULL: check only, so a ragged array is refused before anything is allocated). */
static api_code walk_fill(walk *w, const json_node *n, size_t d, double *out, size_t *k)
{
    switch (n->kind) {
    case JSON_NUMBER:
        if (d != w->rank)
            return ragged(w);
        if (out)
            out[*k] = n->u.number;
        (*k)++;
        return API_OK;
    case JSON_PACKED: {
        const json_packed *pk = n->u.packed;
        if (d + pk->rank != w->rank ||
            memcmp(pk->shape, w->shape + d, pk->rank * sizeof pk->shape[0]) != 0)
            return ragged(w);
        if (out)
            memcpy(out + *k, pk->data, pk->count * sizeof *out);
        *k += pk->count;
        return API_OK;
    }
    case JSON_ARRAY:
        if (d >= w->rank || n->u.arr.count != w->shape[d])
            return ragged(w);
        for (size_t i = 0; i < n->u.arr.count; i++) {
            api_code c = walk_fill(w, &n->u.arr.items[i], d + 1, out, k);
            if (c != API_OK)
                return c;
        }
        return API_OK;
    case JSON_NULL:
    case JSON_FALSE:
    case JSON_TRUE:
    case JSON_STRING:
    case JSON_OBJECT:
        break;
    }
    return api_err_set(w->err, API_ERR_INVALID_TYPE, w->name,
                       "%s must contain only numbers, found %s", w->name, json_kind_name(n->kind));
}

static api_code check_finite(const tensor *t, const char *name, api_err *err)
{
    const double *v = t->data;
    for (size_t i = 0; i < t->count; i++)
        if (isinf(v[i]))
            return api_err_set(err, API_ERR_NON_FINITE, name,
                               "%s[%zu] is beyond the range of a double", name, i);
    return API_OK;
}

/* A packed array borrowed as a float64 tensor (no copy). */
static api_code packed_tensor(const json_packed *pk, const char *name, tensor *t, api_err *err)
{
    if (pk->first_overflow != JSON_NO_OVERFLOW)
        return api_err_set(err, API_ERR_NON_FINITE, name, "%s[%zu] is beyond the range of a double",
                           name, pk->first_overflow);
    t->rank = pk->rank;
    memcpy(t->shape, pk->shape, pk->rank * sizeof t->shape[0]);
    t->count = pk->count;
    t->data = pk->data;
    return API_OK;
}

/* A number or an unpacked nested array, flattened into the arena once it is known to be
 * rectangular (so a ragged array is refused before anything is allocated). */
static api_code walked_tensor(const json_node *n, const char *name, arena *mem, tensor *t,
                              api_err *err)
{
    walk w = {.name = name, .err = err};
    size_t k = 0, bytes;
    api_code c = walk_shape(&w, n);
    if (c != API_OK || (c = walk_fill(&w, n, 0, NULL, &k)) != API_OK)
        return c;
    if (__builtin_mul_overflow(k, sizeof(double), &bytes))
        return api_err_set(err, API_ERR_PAYLOAD_TOO_LARGE, name, "%s is too large", name);
    double *data = arena_alloc_simd(mem, bytes);
    if (data == NULL)
        return api_err_set(err, API_ERR_NOMEM, name, "out of memory decoding %s", name);
    t->count = k; /* the shape's product, now that the walk found it rectangular */
    k = 0;
    walk_fill(&w, n, 0, data, &k);
    t->rank = w.rank;
    memcpy(t->shape, w.shape, sizeof t->shape);
    t->data = data;
    return check_finite(t, name, err);
}

/* A float64 tensor from a number, a packed array, or an unpacked nested array of numbers. */
static api_code node_tensor(const json_node *n, const char *name, arena *mem, tensor *t,
                            api_err *err)
{
    memset(t, 0, sizeof *t);
    t->type = TENSOR_F64;
    if (n->kind == JSON_PACKED)
        return packed_tensor(n->u.packed, name, t, err);
    if (n->kind != JSON_NUMBER && n->kind != JSON_ARRAY)
        return api_err_set(err, API_ERR_INVALID_TYPE, name,
                           "%s must be an array of numbers, got %s", name, json_kind_name(n->kind));
    return walked_tensor(n, name, mem, t, err);
}

/* ---- options and scalar parameters ---- */

static api_code want_string(const json_node *v, const char *name, api_err *err)
{
    if (v->kind == JSON_STRING)
        return API_OK;
    return api_err_set(err, API_ERR_INVALID_TYPE, name, "%s must be a string, got %s", name,
                       json_kind_name(v->kind));
}

static api_code set_reduction(loss_call *call, const json_node *v, api_err *err)
{
    if (want_string(v, "reduction", err) != API_OK)
        return err->code;
    int r = loss_reduction_parse(v->u.str.ptr, v->u.str.len);
    if (r < 0 || !(call->desc->reductions & LOSS_RED_BIT(r))) {
        char list[64] = "";
        for (int k = 0; k < LOSS_REDUCE_COUNT; k++)
            if (call->desc->reductions & LOSS_RED_BIT(k))
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         list[0] ? ", " : "", loss_reduction_name((loss_reduction)k));
        char q[API_QUOTE_CAP];
        return api_err_set(err, API_ERR_INVALID_PARAMETER, "reduction",
                           "%s does not support reduction \"%s\" (supported: %s)", call->desc->name,
                           api_quote(q, v->u.str.ptr, v->u.str.len), list);
    }
    call->reduction = (loss_reduction)r;
    return API_OK;
}

static int str_is(const json_node *v, const char *word)
{
    size_t n = strlen(word);
    return v->u.str.len == n && memcmp(v->u.str.ptr, word, n) == 0;
}

static api_code set_dtype(loss_call *call, const json_node *v, api_err *err)
{
    if (want_string(v, "dtype", err) != API_OK)
        return err->code;
    if (str_is(v, "float64"))
        call->dtype = LOSS_DTYPE_F64;
    else if (str_is(v, "float32"))
        call->dtype = LOSS_DTYPE_F32;
    else
        return api_err_set(err, API_ERR_INVALID_PARAMETER, "dtype",
                           "dtype must be \"float64\" or \"float32\"");
    return API_OK;
}

static api_code set_empty_mean(loss_call *call, const json_node *v, api_err *err)
{
    if (want_string(v, "empty_mean", err) != API_OK)
        return err->code;
    if (str_is(v, "nan"))
        call->empty_mean_zero = 0;
    else if (str_is(v, "zero"))
        call->empty_mean_zero = 1;
    else
        return api_err_set(err, API_ERR_INVALID_PARAMETER, "empty_mean",
                           "empty_mean must be \"nan\" or \"zero\"");
    return API_OK;
}

static api_code set_gradient(loss_call *call, const json_node *v, api_err *err)
{
    if (v->kind != JSON_TRUE && v->kind != JSON_FALSE)
        return api_err_set(err, API_ERR_INVALID_TYPE, "gradient",
                           "gradient must be true or false, got %s", json_kind_name(v->kind));
    call->want_gradient = v->kind == JSON_TRUE;
    return API_OK;
}

/* A scalar parameter: bools take true/false, numbers take numbers (range and integrality
 * are core's checks, so its message names the parameter); null means the default. */
static api_code set_param(loss_call *call, int i, const json_node *v, api_err *err)
{
    const loss_param_desc *pd = &call->desc->params[i];
    if (v->kind == JSON_NULL) {
        call->param_set[i] = 0;
        return API_OK;
    }
    if (pd->type == LOSS_PARAM_BOOL) {
        if (v->kind != JSON_TRUE && v->kind != JSON_FALSE)
            return api_err_set(err, API_ERR_INVALID_TYPE, pd->name,
                               "%s must be true or false, got %s", pd->name,
                               json_kind_name(v->kind));
        call->param[i] = v->kind == JSON_TRUE;
    } else {
        if (v->kind != JSON_NUMBER)
            return api_err_set(err, API_ERR_INVALID_TYPE, pd->name, "%s must be a number, got %s",
                               pd->name, json_kind_name(v->kind));
        if (v->overflow)
            return api_err_set(err, API_ERR_NON_FINITE, pd->name,
                               "%s is beyond the range of a double", pd->name);
        call->param[i] = v->u.number;
    }
    call->param_set[i] = 1;
    return API_OK;
}

static api_code set_input(loss_call *call, int i, const json_node *v, arena *mem, api_err *err)
{
    const loss_input_desc *in = &call->desc->inputs[i];
    if (v->kind == JSON_NULL && (in->flags & LOSS_INPUT_OPTIONAL)) {
        call->present[i] = 0;
        return API_OK;
    }
    api_code c = node_tensor(v, in->name, mem, &call->input[i], err);
    call->present[i] = c == API_OK;
    return c;
}

/* unknown_field naming the key, and what the loss does take so the fix is in the message. */
static api_code unknown_member(const loss_desc *desc, const json_member *m, api_err *err)
{
    char key[API_QUOTE_CAP], inputs[128], params[96] = "none";
    size_t n = 0;
    loss_desc_input_names(desc, inputs, sizeof inputs);
    for (size_t i = 0; i < desc->n_params && n < sizeof params; i++) {
        int w =
            snprintf(params + n, sizeof params - n, "%s%s", i ? ", " : "", desc->params[i].name);
        n += w > 0 ? (size_t)w : 0;
    }
    return api_err_set(err, API_ERR_UNKNOWN_FIELD, key_str(m, key),
                       "unknown field \"%s\" for loss %s (inputs: %s; parameters: %s)", key,
                       desc->name, inputs, params);
}

static api_code apply_member(loss_call *call, const json_member *m, unsigned flags, arena *mem,
                             api_err *err)
{
    const loss_desc *desc = call->desc;
    int i;
    if (key_is(m, "reduction"))
        return set_reduction(call, &m->value, err);
    if (key_is(m, "gradient"))
        return set_gradient(call, &m->value, err);
    if (key_is(m, "dtype"))
        return set_dtype(call, &m->value, err);
    if (key_is(m, "empty_mean"))
        return set_empty_mean(call, &m->value, err);
    if ((i = loss_desc_input_index(desc, m->key, m->key_len)) >= 0)
        return set_input(call, i, &m->value, mem, err);
    if ((i = loss_desc_param_index(desc, m->key, m->key_len)) >= 0)
        return set_param(call, i, &m->value, err);
    if (flags & DECODE_LENIENT)
        return API_OK;
    return unknown_member(desc, m, err);
}

api_code decode_v1_apply(loss_call *call, const json_node *obj, unsigned flags, decode_skip skip,
                         arena *mem, api_err *err)
{
    if (obj->kind != JSON_OBJECT)
        return api_err_set(err, API_ERR_INVALID_TYPE, NULL,
                           "the request must be a JSON object, got %s", json_kind_name(obj->kind));
    for (size_t k = 0; k < obj->u.obj.count; k++) {
        const json_member *m = &obj->u.obj.items[k];
        if (in_skip(skip, m))
            continue;
        api_code c = apply_member(call, m, flags, mem, err);
        if (c != API_OK)
            return c;
    }
    return API_OK;
}

int decode_v1_knows(const loss_desc *desc, const char *key, size_t len)
{
    static const char *const options[] = {"reduction", "gradient", "dtype", "empty_mean"};
    for (size_t k = 0; k < sizeof options / sizeof options[0]; k++)
        if (strlen(options[k]) == len && memcmp(options[k], key, len) == 0)
            return 1;
    return loss_desc_input_index(desc, key, len) >= 0 || loss_desc_param_index(desc, key, len) >= 0;
}

api_code decode_v1_check_size(const loss_call *call, size_t max_elements, size_t already,
                              api_err *err)
{
    size_t cap = max_elements ? max_elements : LOSS_MAX_ELEMENTS, total = already;
    for (size_t i = 0; i < call->desc->n_inputs; i++)
        if (call->present[i] && __builtin_add_overflow(total, call->input[i].count, &total))
            total = (size_t)-1;
    if (total > cap)
        return api_err_set(err, API_ERR_PAYLOAD_TOO_LARGE, NULL,
                           "request has %zu tensor elements to compute; the limit is %zu", total,
                           cap);
    return API_OK;
}
