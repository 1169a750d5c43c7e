/* fuzz_json_decode: libFuzzer target over the strict JSON parser and the /v1 handlers (mse,
 * evaluate, batch). Beyond "no crash, no leak, no UB" it checks two invariants: a document
 * the parser accepts has only packed arrays whose buffers match their shape, and every reply
 * body is itself valid JSON with an error code for every non-200 status. It also checks the
 * number reader against a plain RFC 8259 grammar scanner and glibc's strtod (correctly
 * rounded) on the input's leading bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "json_doc.h"
#include "num.h"

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

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The RFC 8259 number grammar, spelled out: the end of the number at s, or 0. */
static size_t rfc_scan(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (++i < n && digit(s[i]))
            ;
    else
        return 0;
    if (i < n && s[i] == '.') {
        if (++i >= n || !digit(s[i]))
            return 0;
        while (++i < n && digit(s[i]))
            ;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = i;
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !digit(s[i]))
            return e; /* the exponent is not part of the number */
        while (++i < n && digit(s[i]))
            ;
    }
    return i;
}

static int delimiter(const char *s, size_t n, size_t at)
{
    return at == n || s[at] == ',' || s[at] == ']' || s[at] == ' ' || s[at] == '}';
}

static void check_number(const char *s, size_t n)
{
    if (n > 400)
        n = 400;
    double v = 0;
    size_t used = 0, ref = rfc_scan(s, n);
    num_status st = num_parse_json(s, n, &v, &used);
    int ours = st != NUM_INVALID && delimiter(s, n, used);
    int theirs = ref > 0 && delimiter(s, n, ref);
    if (ours != theirs || (ours && used != ref))
        abort();
    if (!ours)
        return;
    char buf[401];
    memcpy(buf, s, used);
    buf[used] = '\0';
    double want = strtod(buf, NULL);
    if (memcmp(&want, &v, sizeof v) != 0)
        abort(); /* both are correctly rounded (strtod's overflow is HUGE_VAL = inf too) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    check_number(text, size);
    json_doc d;
    json_error e;
    if (json_doc_parse(&d, text, size, NULL, &e) == JSON_OK)
        check_packed(&d.root);
    json_doc_release(&d);

    api_env env = {.workers = NULL, .max_elements = (size_t)1 << 16};
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
