/* The registry walk: core/loss_list.h is the one list of losses, and every loss on it must
 * carry its whole kit. Each check names the loss and the file that lacks it: the source and
 * test files the build derives from the list, a PyTorch golden fixture and its generator
 * entry (tests/gen_fixtures.py), finite-difference cases, the api/openapi.yaml LossName
 * enum, and a README catalogue line. Going the other way, nothing outside the list may name
 * a loss that is not on it. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "golden.h"
#include "loss_registry.h"

/* ciou's gradient holds alpha constant (torchvision), so it is not the derivative of its
 * value and no finite difference can check it; its gradient is checked against torchvision's
 * autograd in the fixtures instead. */
static int fd_exempt(const char *name)
{
    return strcmp(name, "ciou") == 0;
}

static char *slurp(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", LOSSD_SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s exists", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int source_file_exists(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", LOSSD_SOURCE_DIR, rel);
    return access(path, R_OK) == 0;
}

/* One `LOSS(family, name)` line of core/loss_list.h. */
typedef struct {
    char family[32];
    char name[64];
} list_entry;

/* Reads core/loss_list.h into entries (at most max); returns how many lines it has. */
static size_t read_loss_list(list_entry *entries, size_t max)
{
    char *text = slurp("core/loss_list.h");
    size_t n = 0;
    for (const char *line = text; line && *line; line = strchr(line, '\n')) {
        line += *line == '\n';
        list_entry e;
        if (strncmp(line, "LOSS(", 5) != 0 ||
            sscanf(line, "LOSS(%31[a-z], %63[a-z0-9_])", e.family, e.name) != 2)
            continue;
        if (n < max)
            entries[n] = e;
        n++;
    }
    free(text);
    return n;
}

#define MAX_LOSSES 256

Test(registry_walk, the_list_should_name_every_registered_loss_once_in_catalogue_order)
{
    static list_entry list[MAX_LOSSES];
    size_t n = read_loss_list(list, MAX_LOSSES);
    cr_assert_eq(n, loss_registry_count(), "core/loss_list.h has %zu lines, registry %zu", n,
                 loss_registry_count());
    for (size_t i = 0; i < n; i++) {
        const loss_desc *d = loss_registry_at(i);
        cr_expect_str_eq(d->name, list[i].name, "registry entry %zu is line %zu of the list", i, i);
        cr_expect_str_eq(d->family ? d->family : "", list[i].family,
                         "loss_desc_%s.family matches its LOSS(%s, %s) line", list[i].name,
                         list[i].family, list[i].name);
        for (size_t k = 0; k < i; k++)
            cr_expect(strcmp(list[k].name, list[i].name) != 0, "%s is listed twice", list[i].name);
    }
}

Test(registry_walk, every_name_and_alias_should_find_its_own_loss)
{
    for (size_t i = 0; i < loss_registry_count(); i++) {
        const loss_desc *d = loss_registry_at(i);
        cr_expect_eq(loss_registry_find(d->name, strlen(d->name)), d, "%s", d->name);
        for (const char *const *a = d->aliases; a && *a; a++)
            cr_expect_eq(loss_registry_find(*a, strlen(*a)), d, "alias %s of %s", *a, d->name);
    }
}

Test(registry_walk, every_loss_should_have_its_source_test_fixture_and_generator_entry)
{
    static list_entry list[MAX_LOSSES];
    size_t n = read_loss_list(list, MAX_LOSSES);
    char *gen = slurp("tests/gen_fixtures.py");
    for (size_t i = 0; i < n && i < MAX_LOSSES; i++) {
        const char *f = list[i].family, *name = list[i].name;
        char rel[256], key[96];
        snprintf(rel, sizeof rel, "core/losses/%.31s/%.63s.c", f, name);
        cr_expect(source_file_exists(rel), "%s: %s exists", name, rel);
        snprintf(rel, sizeof rel, "tests/core/losses/%.31s/test_%.63s.c", f, name);
        cr_expect(source_file_exists(rel), "%s: %s exists", name, rel);
        snprintf(rel, sizeof rel, "tests/fixtures/%.63s.json", name);
        cr_expect(source_file_exists(rel),
                  "%s: %s exists (/usr/bin/python3 "
                  "tests/gen_fixtures.py tests/fixtures %s)",
                  name, rel, name);
        snprintf(key, sizeof key, "\n    \"%.63s\": (", name);
        cr_expect_not_null(strstr(gen, key), "%s: tests/gen_fixtures.py has a LOSSES entry", name);
    }
    free(gen);
}

Test(registry_walk, every_fixture_file_should_belong_to_a_listed_loss)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fixtures", LOSSD_SOURCE_DIR);
    DIR *dir = opendir(path);
    cr_assert_not_null(dir, "%s exists", path);
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        const loss_desc *d = loss_registry_find(e->d_name, len - 5);
        cr_expect(d != NULL && strlen(d->name) == len - 5,
                  "tests/fixtures/%s is the fixture of a listed loss", e->d_name);
    }
    closedir(dir);
}

Test(registry_walk, every_loss_should_match_its_pytorch_fixtures)
{
    for (size_t i = 0; i < loss_registry_count(); i++)
        golden_run_file(loss_registry_at(i)->name);
}

Test(registry_walk, every_gradient_should_pass_a_finite_difference_check)
{
    for (size_t i = 0; i < loss_registry_count(); i++) {
        const char *name = loss_registry_at(i)->name;
        if (!fd_exempt(name))
            cr_expect_gt(golden_fd_file(name), 0, "%s has finite-difference cases", name);
    }
}

/* Whether `name` is an item ("- name" alone on its line) of the YAML list starting at list. */
static int yaml_list_has(const char *list, const char *name)
{
    for (const char *line = list; line && *line; line = strchr(line, '\n')) {
        line += *line == '\n';
        const char *p = line;
        while (*p == ' ')
            p++;
        if (p[0] != '-' || p[1] != ' ')
            continue;
        size_t n = strlen(name);
        if (strncmp(p + 2, name, n) == 0 && (p[2 + n] == '\n' || p[2 + n] == '\0'))
            return 1;
    }
    return 0;
}

/* (tests/api/test_openapi.c checks the other way: the enum names nothing unregistered.) */
Test(registry_walk, every_loss_should_be_in_the_openapi_loss_enum)
{
    char *yaml = slurp("api/openapi.yaml");
    const char *schema = strstr(yaml, "LossName:");
    cr_assert_not_null(schema, "api/openapi.yaml defines a LossName schema");
    const char *list = strstr(schema, "enum:");
    cr_assert_not_null(list, "LossName is an enum");
    for (size_t i = 0; i < loss_registry_count(); i++)
        cr_expect(yaml_list_has(list, loss_registry_at(i)->name),
                  "api/openapi.yaml lists %s in its LossName enum", loss_registry_at(i)->name);
    free(yaml);
}

Test(registry_walk, every_loss_should_have_a_readme_catalogue_line)
{
    char *readme = slurp("README.md");
    for (size_t i = 0; i < loss_registry_count(); i++) {
        char needle[96];
        snprintf(needle, sizeof needle, "\n| `%s` |", loss_registry_at(i)->name);
        cr_expect_not_null(strstr(readme, needle),
                           "README.md has a catalogue line for %s "
                           "(scripts/catalogue-table.py prints them)",
                           loss_registry_at(i)->name);
    }
    free(readme);
}

/* Whether some listed loss has family f (len bytes). */
static int is_family(const char *f, size_t len)
{
    for (size_t i = 0; i < loss_registry_count(); i++) {
        const char *fam = loss_registry_at(i)->family;
        if (fam && strlen(fam) == len && strncmp(fam, f, len) == 0)
            return 1;
    }
    return 0;
}

/* A catalogue line is "| `<name>` | <family> | ..."; other README tables are left alone. */
Test(registry_walk, every_readme_catalogue_line_should_be_a_listed_loss)
{
    char *readme = slurp("README.md");
    size_t rows = 0;
    for (const char *row = readme; (row = strstr(row, "\n| `")) != NULL;) {
        row += 4;
        const char *end = strchr(row, '`');
        cr_assert_not_null(end);
        if (strncmp(end, "` | ", 4) != 0 || !is_family(end + 4, strcspn(end + 4, " |")))
            continue;
        int n = (int)(end - row);
        const loss_desc *d = loss_registry_find(row, (size_t)n);
        cr_expect(d != NULL && strlen(d->name) == (size_t)n,
                  "README.md's catalogue line `%.*s` is a listed loss (not an alias)", n, row);
        rows++;
    }
    cr_expect_eq(rows, loss_registry_count(), "README.md has %zu catalogue lines for %zu losses",
                 rows, loss_registry_count());
    free(readme);
}

Test(loss_registry, unknown_name_should_get_a_close_suggestion)
{
    cr_assert_null(loss_registry_find("mes", 3));
    cr_assert_str_eq(loss_registry_suggest("mes", 3), "mse");
    cr_assert_null(loss_registry_suggest("zzzzzzzzzz", 10));
}

Test(loss_registry, shape_words_should_be_generated_from_the_typed_rule)
{
    static const loss_input_desc in[] = {
        {"a", LOSS_IN_FLOAT, 0, LOSS_RULE(NULL, LOSS_ANY)},
        {"b", LOSS_IN_FLOAT, 0, LOSS_RULE(" boxes", LOSS_DIMS(LOSS_N(N), LOSS_K(4)), LOSS_SCALAR)},
        {"c", LOSS_IN_FLOAT, 0,
         LOSS_RULE(NULL, LOSS_DIMS(LOSS_N(C)), LOSS_SAME(0), LOSS_DIMS_MORE(LOSS_N(N)))},
        {"d", LOSS_IN_INDEX, 0, LOSS_RULE("; indices", LOSS_DROP(1, C), LOSS_BROADCAST(0))},
    };
    static const loss_desc d = {.name = "t", .inputs = in, .n_inputs = 4};
    static const char *const want[] = {"any", "(N, 4) or () boxes", "(C), same as a or (N, ...)",
                                       "b' shape without C or broadcasts to a; indices"};
    char buf[128];
    for (size_t i = 0; i < 4; i++) {
        cr_expect_eq(loss_desc_shape_words(&d, i, buf, sizeof buf), strlen(want[i]));
        cr_expect_str_eq(buf, want[i]);
    }
    cr_expect_eq(loss_desc_shape_words(&d, 1, buf, 5), strlen(want[1]), "length as snprintf");
    cr_expect_str_eq(buf, "(N, ", "truncated, NUL-terminated");
}
