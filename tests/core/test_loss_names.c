/* Names people type: loss lookup ignores case and '_'/'-', PyTorch class and Keras function
 * names find the loss with the same semantics, and unknown names get the closest registered
 * spelling. */
#include <criterion/criterion.h>
#include <string.h>

#include "loss_registry.h"

static const char *canonical(const char *typed)
{
    const loss_desc *d = loss_registry_find(typed, strlen(typed));
    return d ? d->name : "(none)";
}

static const char *suggest(const char *typed)
{
    const char *s = loss_registry_suggest(typed, strlen(typed));
    return s ? s : "(none)";
}

Test(loss_names, lookup_should_ignore_case_and_separators)
{
    cr_expect_str_eq(canonical("MSE"), "mse");
    cr_expect_str_eq(canonical("Mse"), "mse");
    cr_expect_str_eq(canonical("m-s_e"), "mse");
    cr_expect_str_eq(canonical("Cross-Entropy"), "cross_entropy");
    cr_expect_str_eq(canonical("crossentropy"), "cross_entropy");
    cr_expect_str_eq(canonical("SMOOTH_L1"), "smooth_l1");
    cr_expect_str_eq(canonical("LogCosh"), "log_cosh");
    cr_expect_str_eq(canonical("KLDiv"), "kl_div");
}

Test(loss_names, pytorch_class_and_keras_names_should_find_the_same_loss)
{
    static const char *const pairs[][2] = {
        {"MSELoss", "mse"},
        {"mse_loss", "mse"},
        {"mean_squared_error", "mse"},
        {"MeanSquaredError", "mse"},
        {"l2", "mse"},
        {"L1Loss", "mae"},
        {"l1", "mae"},
        {"mean_absolute_error", "mae"},
        {"HuberLoss", "huber"},
        {"SmoothL1Loss", "smooth_l1"},
        {"mean_absolute_percentage_error", "mape"},
        {"mean_squared_logarithmic_error", "msle"},
        {"BCELoss", "bce"},
        {"binary_cross_entropy", "bce"},
        {"BCEWithLogitsLoss", "bce_with_logits"},
        {"binary_cross_entropy_with_logits", "bce_with_logits"},
        {"CrossEntropyLoss", "cross_entropy"},
        {"NLLLoss", "nll"},
        {"nll_loss", "nll"},
        {"KLDivLoss", "kl_div"},
        {"TripletMarginLoss", "triplet_margin"},
        {"CTCLoss", "ctc"},
        {"generalized_box_iou_loss", "giou"},
        {"sigmoid_focal_loss", "sigmoid_focal"},
        {"pinball_loss", "quantile"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        cr_expect_str_eq(canonical(pairs[i][0]), pairs[i][1], "%s", pairs[i][0]);
}

Test(loss_names, keras_names_with_other_semantics_should_not_be_aliases)
{
    /* Keras's categorical cross-entropies take probabilities (renormalised and clipped), not
     * logits; KLDivergence takes probabilities for both sides; Poisson is the rate form. */
    static const char *const not_aliases[] = {"categorical_crossentropy",
                                              "sparse_categorical_crossentropy", "kl_divergence",
                                              "poisson", "categorical_focal_crossentropy"};
    for (size_t i = 0; i < sizeof not_aliases / sizeof not_aliases[0]; i++)
        cr_expect_null(loss_registry_find(not_aliases[i], strlen(not_aliases[i])), "%s",
                       not_aliases[i]);
}

Test(loss_names, lookup_should_not_match_prefixes_or_empty_names)
{
    cr_expect_null(loss_registry_find("ms", 2));
    cr_expect_null(loss_registry_find("msee", 4));
    cr_expect_null(loss_registry_find("", 0));
    cr_expect_null(loss_registry_find("__", 2));
    cr_expect_null(loss_registry_find("mse\0x", 5), "an embedded NUL is part of the name");
}

/* The normalized form, as the registry compares names. */
static void normalize(const char *s, char *out)
{
    for (; *s; s++)
        if (*s != '_' && *s != '-')
            *out++ = (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
    *out = '\0';
}

Test(loss_names, every_name_and_alias_should_be_unique_once_normalized)
{
    const char *all[256];
    size_t n = 0;
    for (size_t i = 0; i < loss_registry_count(); i++) {
        const loss_desc *d = loss_registry_at(i);
        all[n++] = d->name;
        for (const char *const *a = d->aliases; a && *a && n < 256; a++)
            all[n++] = *a;
    }
    for (size_t i = 0; i < n; i++) {
        char a[80], b[80];
        normalize(all[i], a);
        cr_expect(strlen(all[i]) < 64, "%s is longer than suggestions consider", all[i]);
        for (size_t j = i + 1; j < n; j++) {
            normalize(all[j], b);
            cr_expect(strcmp(a, b) != 0, "%s and %s are the same name", all[i], all[j]);
        }
        /* Each spelling finds its own loss. */
        cr_expect_not_null(loss_registry_find(all[i], strlen(all[i])), "%s", all[i]);
    }
}

Test(loss_names, suggestions_should_come_from_names_and_aliases_normalized)
{
    cr_expect_str_eq(suggest("mes"), "mse");
    cr_expect_str_eq(suggest("MSELos"), "MSELoss");
    cr_expect_str_eq(suggest("BCEWithLogitLoss"), "BCEWithLogitsLoss");
    cr_expect_str_eq(suggest("cross_entropi"), "cross_entropy");
    cr_expect_str_eq(suggest("Huber-Los"), "HuberLoss");
    cr_expect_str_eq(suggest("mean_squared_eror"), "mean_squared_error");
    cr_expect_str_eq(suggest("zzzzzzzzzz"), "(none)");
    cr_expect_str_eq(suggest(""), "(none)");
}

Test(loss_names, input_names_should_list_every_input_in_order)
{
    char buf[128];
    const loss_desc *mse = loss_registry_find("mse", 3);
    cr_assert_not_null(mse);
    cr_expect_eq(loss_desc_input_names(mse, buf, sizeof buf),
                 strlen("predictions, targets, weight"));
    cr_expect_str_eq(buf, "predictions, targets, weight");
    const loss_desc *tri = loss_registry_find("triplet_margin", 14);
    loss_desc_input_names(tri, buf, sizeof buf);
    cr_expect_str_eq(buf, "anchor, positive, negative");
    loss_desc_input_names(mse, buf, 8);
    cr_expect_eq(strlen(buf), 7, "truncated but terminated");
}
