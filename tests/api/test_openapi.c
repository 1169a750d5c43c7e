/* openapi: api/openapi.yaml must stay in step with the code: every wire error code of the
 * api_error table in its ErrorCode enum, exactly the registered loss names and aliases in
 * its LossName enum, and every /v1 and operational path present. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_error.h"
#include "loss_registry.h"

static char *load_spec(void)
{
    FILE *f = fopen(LOSSD_SOURCE_DIR "/api/openapi.yaml", "rb");
    cr_assert_not_null(f, "api/openapi.yaml exists");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* The bracketed enum list that follows "ErrorCode:" in the spec. */
static char *error_code_enum(char *spec)
{
    char *at = strstr(spec, "    ErrorCode:");
    cr_assert_not_null(at);
    char *open = strchr(at, '['), *close = strchr(at, ']');
    cr_assert(open && close && open < close);
    *close = '\0';
    return open + 1;
}

static int listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(list, name); p; p = strstr(p + 1, name)) {
        int starts = p == list || p[-1] == ' ' || p[-1] == '\n' || p[-1] == ',';
        int ends = p[n] == ',' || p[n] == '\0' || p[n] == '\n' || p[n] == ' ';
        if (starts && ends)
            return 1;
    }
    return 0;
}

Test(openapi, every_error_code_should_be_in_the_error_code_enum)
{
    char *spec = load_spec();
    const char *list = error_code_enum(spec);
    for (int c = API_OK + 1; c < API_CODE_COUNT; c++)
        cr_expect(listed(list, api_code_name((api_code)c)), "%s is documented",
                  api_code_name((api_code)c));
    free(spec);
}

Test(openapi, every_v1_and_operational_path_should_be_described)
{
    char *spec = load_spec();
    const char *paths[] = {
        "  /healthz:",          "  /readyz:",         "  /metrics:",     "  /v1/losses:",
        "  /v1/losses/{name}:", "  /v1/loss/{name}:", "  /v1/evaluate:", "  /v1/batch:"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        cr_expect_not_null(strstr(spec, paths[i]), "%s is described", paths[i]);
    free(spec);
}

/* The items ("- name" lines) of the LossName enum, one per call; NULL at the end. */
static const char *next_item(const char **cursor, size_t *len)
{
    const char *p = *cursor;
    while (*p == ' ')
        p++;
    if (p[0] != '-' || p[1] != ' ')
        return NULL;
    p += 2;
    *len = strcspn(p, "\n");
    *cursor = p + *len + (p[*len] == '\n');
    return p;
}

Test(openapi, loss_name_enum_should_list_exactly_the_registered_names_and_aliases)
{
    char *spec = load_spec();
    const char *at = strstr(spec, "LossName:");
    cr_assert_not_null(at);
    const char *cursor = strstr(at, "enum:\n");
    cr_assert_not_null(cursor);
    cursor += strlen("enum:\n");
    size_t listed_count = 0, registered = 0, len;
    for (const char *item; (item = next_item(&cursor, &len)) != NULL; listed_count++)
        cr_expect_not_null(loss_registry_find(item, len), "%.*s is a registered name or alias",
                           (int)len, item);
    for (size_t i = 0; i < loss_registry_count(); i++) {
        const loss_desc *d = loss_registry_at(i);
        registered++;
        for (const char *const *a = d->aliases; a && *a; a++)
            registered++;
    }
    cr_expect_eq(listed_count, registered, "%zu listed, %zu registered names and aliases",
                 listed_count, registered);
    free(spec);
}
