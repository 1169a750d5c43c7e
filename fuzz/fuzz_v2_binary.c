/* fuzz_v2_binary: libFuzzer target for POST /v2/models/{model}/infer, where the model name,
 * the Inference-Header-Content-Length value and the body (JSON header + binary tail) are all
 * the client's. Input layout: model name, '\n', header value ("-": no header), '\n', body.
 * Anything may come back except a crash, a leak (ASan), a 5xx other than 503, or a binary
 * reply whose header length is not inside its body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits off the next '\n'-terminated line as a NUL-terminated copy; NULL if there is none. */
static char *take_line(const uint8_t **data, size_t *size)
{
    const uint8_t *nl = memchr(*data, '\n', *size);
    if (nl == NULL)
        return NULL;
    size_t n = (size_t)(nl - *data);
    char *line = malloc(n + 1);
    if (line == NULL)
        return NULL;
    memcpy(line, *data, n);
    line[n] = '\0';
    *data += n + 1;
    *size -= n + 1;
    return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *model = take_line(&data, &size);
    char *header = model ? take_line(&data, &size) : NULL;
    if (header == NULL) {
        free(model);
        return 0;
    }
    /* The body in its own exact-size allocation, so ASan sees any read past it. */
    char *body = malloc(size ? size : 1);
    if (body == NULL) {
        free(model);
        free(header);
        return 0;
    }
    memcpy(body, data, size);
    api_env env = {.workers = NULL, .max_elements = (size_t)1 << 20};
    api_reply reply;
    api_v2_infer(&env, model, strlen(model), body, size, strcmp(header, "-") ? header : NULL,
                 &reply);
    if ((reply.status >= 500 && reply.status != 503) || reply.status < 200)
        abort();
    if (reply.binary && reply.inference_header_len > reply.len)
        abort();
    api_reply_release(&reply);
    free(body);
    free(header);
    free(model);
    return 0;
}
