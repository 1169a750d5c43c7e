/* v2_util: request building and reply reading for the /v2 tests. */
#include "v2_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void v2_body_bytes(v2_body *b, const void *bytes, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->data = realloc(b->data, b->cap);
        cr_assert_not_null(b->data);
    }
    if (n)
        memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

void v2_body_json(v2_body *b, const char *json)
{
    v2_body_bytes(b, json, strlen(json));
    b->header_len = b->len;
}

void v2_body_free(v2_body *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

api_code v2_infer(const char *model, const void *body, size_t len, const char *header,
                  api_reply *reply)
{
    api_env env = {.workers = NULL, .max_elements = 0};
    return api_v2_infer(&env, model, strlen(model), body, len, header, reply);
}

api_code v2_infer_body(const char *model, const v2_body *b, api_reply *reply)
{
    char header[32];
    snprintf(header, sizeof header, "%zu", b->header_len);
    return v2_infer(model, b->data, b->len, header, reply);
}

cJSON *v2_reply_json(const api_reply *reply)
{
    size_t n = reply->binary ? reply->inference_header_len : reply->len;
    cr_assert_leq(n, reply->len);
    cJSON *j = cJSON_ParseWithLength(reply->body, n);
    cr_assert_not_null(j, "reply is JSON: %.*s", (int)(n > 400 ? 400 : n), reply->body);
    return j;
}

int v2_reply_is_error(const api_reply *reply, int status, const char *code)
{
    cJSON *j = v2_reply_json(reply);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "code");
    cr_expect_eq(reply->status, status, "status %d, body %.*s", reply->status, (int)reply->len,
                 reply->body);
    cr_expect(cJSON_IsString(err) && cJSON_IsString(c), "OIP error shape: %.*s", (int)reply->len,
              reply->body);
    int same = cJSON_IsString(c) && strcmp(c->valuestring, code) == 0;
    cr_expect(same, "code %s, expected %s: %.*s", cJSON_IsString(c) ? c->valuestring : "?", code,
              (int)reply->len, reply->body);
    cJSON_Delete(j);
    return same && reply->status == status;
}

int v2_contains(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return 1;
    return 0;
}

const cJSON *v2_reply_output(const cJSON *reply_json, const char *name)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(reply_json, "outputs"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return o;
    }
    return NULL;
}

static size_t binary_size(const cJSON *o)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "parameters");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "binary_data_size");
    return cJSON_IsNumber(s) ? (size_t)s->valuedouble : 0;
}

/* Byte offset of output `target` in the reply's binary tail. */
static size_t tail_offset(const cJSON *reply_json, const cJSON *target)
{
    size_t off = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(reply_json, "outputs"))
    {
        if (o == target)
            break;
        off += binary_size(o);
    }
    return off;
}

static void flatten(const cJSON *j, double *out, size_t cap, size_t *n)
{
    if (cJSON_IsArray(j)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, j) flatten(e, out, cap, n);
    } else if (*n < cap) {
        out[(*n)++] = cJSON_IsNumber(j) ? j->valuedouble : (double)NAN;
    }
}

long v2_output_values(const api_reply *reply, const cJSON *reply_json, const char *name,
                      double *out, size_t cap)
{
    const cJSON *o = v2_reply_output(reply_json, name);
    if (o == NULL)
        return -1;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(o, "data");
    size_t n = 0;
    if (data != NULL) {
        flatten(data, out, cap, &n);
        return (long)n;
    }
    const char *dt = cJSON_GetObjectItemCaseSensitive(o, "datatype")->valuestring;
    size_t esize = strcmp(dt, "FP32") == 0 ? 4 : 8;
    size_t size = binary_size(o), off = reply->inference_header_len + tail_offset(reply_json, o);
    cr_assert_leq(off + size, reply->len, "binary output %s inside the body", name);
    for (size_t i = 0; i < size / esize && n < cap; i++) {
        if (esize == 4) {
            float f;
            memcpy(&f, reply->body + off + 4 * i, 4);
            out[n++] = f;
        } else {
            memcpy(&out[n++], reply->body + off + 8 * i, 8);
        }
    }
    return (long)n;
}
