/* loss_registry: lookup over the static catalogue built from core/loss_list.h. */
#include "loss_registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LOSS(family, name) extern const loss_desc loss_desc_##name;
#include "loss_list.h"
#undef LOSS

static const loss_desc *const registry[] = {
#define LOSS(family, name) &loss_desc_##name,
#include "loss_list.h"
#undef LOSS
};

#define REGISTRY_SIZE (sizeof registry / sizeof registry[0])

size_t loss_registry_count(void) { return REGISTRY_SIZE; }

const loss_desc *loss_registry_at(size_t i) { return i < REGISTRY_SIZE ? registry[i] : NULL; }

static int name_eq(const char *a, const char *b, size_t blen)
{
    return strlen(a) == blen && memcmp(a, b, blen) == 0;
}

const loss_desc *loss_registry_find(const char *name, size_t len)
{
    for (size_t i = 0; i < REGISTRY_SIZE; i++) {
        if (name_eq(registry[i]->name, name, len))
            return registry[i];
        for (const char *const *a = registry[i]->aliases; a && *a; a++)
            if (name_eq(*a, name, len))
                return registry[i];
    }
    return NULL;
}

/* Optimal-string-alignment distance (edits and adjacent swaps); names are short. */
static size_t edit_distance(const char *a, const char *b, size_t blen)
{
    size_t alen = strlen(a), d[65][65];
    if (alen > 64 || blen > 64)
        return (size_t)-1;
    for (size_t i = 0; i <= alen; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= blen; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= alen; i++) {
        for (size_t j = 1; j <= blen; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[alen][blen];
}

static void consider(const char *cand, const char *name, size_t len, const char **best,
                     size_t *best_d)
{
    size_t d = edit_distance(cand, name, len);
    if (d < *best_d) {
        *best_d = d;
        *best = cand;
    }
}

const char *loss_registry_suggest(const char *name, size_t len)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < REGISTRY_SIZE; i++) {
        consider(registry[i]->name, name, len, &best, &best_d);
        for (const char *const *a = registry[i]->aliases; a && *a; a++)
            consider(*a, name, len, &best, &best_d);
    }
    /* A suggestion further than a third of the name away is noise. */
    if (best == NULL || best_d > 3 || best_d * 2 > len)
        return NULL;
    return best;
}

int loss_desc_input_index(const loss_desc *desc, const char *name, size_t len)
{
    for (size_t i = 0; i < desc->n_inputs; i++)
        if (name_eq(desc->inputs[i].name, name, len))
            return (int)i;
    return -1;
}

int loss_desc_param_index(const loss_desc *desc, const char *name, size_t len)
{
    for (size_t i = 0; i < desc->n_params; i++)
        if (name_eq(desc->params[i].name, name, len))
            return (int)i;
    return -1;
}

/* Appends printf-style text at *pos of buf (len bytes); *pos counts what would be written. */
__attribute__((format(printf, 4, 5))) static void put(char *buf, size_t len, size_t *pos,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*pos < len ? buf + *pos : NULL, *pos < len ? len - *pos : 0, fmt, ap);
    va_end(ap);
    *pos += n > 0 ? (size_t)n : 0;
}

static void alt_words(const loss_desc *desc, const loss_shape *s, char *buf, size_t len,
                      size_t *pos)
{
    const char *of = s->of < desc->n_inputs ? desc->inputs[s->of].name : "?";
    switch (s->kind) {
    case LOSS_SHAPE_ANY:
        put(buf, len, pos, "any");
        break;
    case LOSS_SHAPE_DIMS:
        put(buf, len, pos, "(");
        for (size_t d = 0; d < s->rank; d++) {
            const loss_dim *dim = &s->dim[d];
            put(buf, len, pos, d ? ", " : "");
            if (dim->name != NULL)
                put(buf, len, pos, "%s", dim->name);
            else
                put(buf, len, pos, "%zu", dim->size);
        }
        put(buf, len, pos, s->more ? ", ...)" : ")");
        break;
    case LOSS_SHAPE_SAME:
        put(buf, len, pos, "same as %s", of);
        break;
    case LOSS_SHAPE_DROP:
        put(buf, len, pos, "%s' shape without %s", of, s->dim[0].name ? s->dim[0].name : "?");
        break;
    case LOSS_SHAPE_BROADCAST:
        put(buf, len, pos, "broadcasts to %s", of);
        break;
    }
    if (s->note != NULL)
        put(buf, len, pos, "%s", s->note);
}

size_t loss_desc_shape_words(const loss_desc *desc, size_t i, char *buf, size_t len)
{
    size_t pos = 0;
    if (len > 0)
        buf[0] = '\0';
    if (i >= desc->n_inputs)
        return 0;
    const loss_shape_rule *rule = &desc->inputs[i].shape;
    if (rule->n_alts == 0)
        put(buf, len, &pos, "any");
    /* "A", "A or B", "A, B or C" */
    for (size_t a = 0; a < rule->n_alts && a < LOSS_SHAPE_MAX_ALTS; a++) {
        put(buf, len, &pos, a == 0 ? "" : a + 1 == rule->n_alts ? " or " : ", ");
        alt_words(desc, &rule->alt[a], buf, len, &pos);
    }
    if (rule->note != NULL)
        put(buf, len, &pos, "%s", rule->note);
    return pos;
}

static const char *const reduction_names[LOSS_REDUCE_COUNT] = {"mean", "sum", "none",
                                                                 "batchmean"};

const char *loss_reduction_name(loss_reduction r)
{
    return r < LOSS_REDUCE_COUNT ? reduction_names[r] : "?";
}

int loss_reduction_parse(const char *s, size_t len)
{
    for (int r = 0; r < LOSS_REDUCE_COUNT; r++)
        if (name_eq(reduction_names[r], s, len))
            return r;
    return -1;
}

loss_status loss_error_set(loss_error *err, loss_status status, const char *field,
                           const char *fmt, ...)
{
    va_list ap;
    err->status = status;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return status;
}
