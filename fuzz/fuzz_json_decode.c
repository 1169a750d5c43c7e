/* fuzz_json_decode: libFuzzer target over the strict JSON parser and the /v1 handlers (mse,
 * evaluate, batch). Beyond "no crash, no leak, no UB" it checks two invariants: a document
 * the parser accepts has only packed arrays whose buffers match their shape, and every reply
 * body is itself valid JSON with an error code for every non-200 status. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "json_doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_packed(const json_node *n)
{
    if (n->kind == JSON_PACKED) {
        size_t count = 1;
        for (size_t d = 0; d < n->u.packed->rank; d++)
            count *= n->u.packed->shape[d];
        if (count != n->u.packed->count || n->u.packed->rank > JSON_MAX_RANK)
            abort();
        for (size_t i = 0; i < count; i++)
            if (n->u.packed->data[i] != n->u.packed->data[i])
                abort(); /* the parser never produces NaN */
    } else if (n->kind == JSON_ARRAY) {
        for (size_t i = 0; i < n->u.arr.count; i++)
            check_packed(&n->u.arr.items[i]);
    } else if (n->kind == JSON_OBJECT) {
        for (size_t i = 0; i < n->u.obj.count; i++)
            check_packed(&n->u.obj.items[i].value);
    }
}

static void check_reply(const api_reply *r)
{
    json_doc d;
    json_error e;
    if (r->body == NULL) {
        if (r->status != 503)
            abort(); /* only an allocation failure may leave a reply without a body */
        return;
    }
    if (json_doc_parse(&d, r->body, r->len, NULL, &e) != JSON_OK)
        abort();
    if (r->status != 200 && json_object_get(&d.root, "error", 5) == NULL)
        abort();
    if (r->status >= 500 && r->status != 503)
        abort(); /* a 5xx other than 503 is a bug */
    json_doc_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    json_doc d;
    json_error e;
    if (json_doc_parse(&d, text, size, NULL, &e) == JSON_OK)
        check_packed(&d.root);
    json_doc_release(&d);

    api_env env = {NULL, (size_t)1 << 16};
    api_reply r;
    api_v1_loss(&env, "mse", 3, text, size, &r);
    check_reply(&r);
    api_reply_release(&r);
    api_v1_evaluate(&env, text, size, &r);
    check_reply(&r);
    api_reply_release(&r);
    api_v1_batch(&env, text, size, &r);
    check_reply(&r);
    api_reply_release(&r);
    return 0;
}
