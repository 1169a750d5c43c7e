/* The registry walk: every registered loss must carry its whole kit. A new row without a
 * PyTorch golden fixture, a finite-difference check, an api/openapi.yaml entry or a README
 * catalogue line fails here. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "loss_registry.h"

/* ciou's gradient holds alpha constant (torchvision), so it is not the derivative of its
 * value and no finite difference can check it; its gradient is checked against torchvision's
 * autograd in the fixtures instead. */
static int fd_exempt(const char *name) { return strcmp(name, "ciou") == 0; }

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
        cr_expect_not_null(strstr(readme, needle), "README.md has a catalogue line for %s",
                           loss_registry_at(i)->name);
    }
    free(readme);
}

Test(registry_walk, the_catalogue_should_hold_every_loss_of_losses_md)
{
    static const char *const expected[] = {
        "mse", "mae", "mbe", "huber", "smooth_l1", "log_cosh", "mape", "msle", "quantile",
        "poisson_nll", "gaussian_nll", "bce", "bce_with_logits", "cross_entropy", "nll",
        "kl_div", "focal", "sigmoid_focal", "hinge", "squared_hinge", "categorical_hinge",
        "multi_margin", "multilabel_margin", "soft_margin", "multilabel_soft_margin",
        "margin_ranking", "hinge_embedding", "cosine_embedding", "contrastive",
        "triplet_margin", "ntxent", "box_iou", "giou", "diou", "ciou", "mask_iou", "dice",
        "tversky", "gan_discriminator", "gan_generator", "wgan_critic", "wgan_generator",
        "lsgan_discriminator", "lsgan_generator", "ctc"};
    size_t n = sizeof expected / sizeof expected[0];
    for (size_t i = 0; i < n; i++)
        cr_expect_not_null(loss_registry_find(expected[i], strlen(expected[i])),
                           "%s is registered", expected[i]);
    cr_expect_eq(loss_registry_count(), n);
    cr_expect_not_null(loss_registry_find("l1", 2), "alias l1");
}

Test(loss_registry, unknown_name_should_get_a_close_suggestion)
{
    cr_assert_null(loss_registry_find("mes", 3));
    cr_assert_str_eq(loss_registry_suggest("mes", 3), "mse");
    cr_assert_null(loss_registry_suggest("zzzzzzzzzz", 10));
}
