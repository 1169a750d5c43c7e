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

size_t loss_registry_count(void)
{
    return REGISTRY_SIZE;
}

const loss_desc *loss_registry_at(size_t i)
{
    return i < REGISTRY_SIZE ? registry[i] : NULL;
}

static int name_eq(const char *a, const char *b, size_t blen)
{
    return strlen(a) == blen && memcmp(a, b, blen) == 0;
}

/* Names people type differ in case and separators (MSELoss, mse_loss, mean-squared-error):
 * both sides are compared lowercased with '_' and '-' dropped. */
static int name_sep(char c)
{
    return c == '_' || c == '-';
}

static char name_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The normalized form of name[0..len) into out (at most cap - 1 characters, NUL-terminated).
 * Returns its length, or cap when it does not fit. */
static size_t name_normalize(const char *name, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (name_sep(name[i]))
            continue;
        if (n + 1 >= cap)
            return cap;
        out[n++] = name_lower(name[i]);
    }
    out[n] = '\0';
    return n;
}

/* Whether the registered name `reg` and name[0..len) are equal once normalized. */
static int name_match(const char *reg, const char *name, size_t len)
{
    size_t i = 0;
    for (;; reg++) {
        while (i < len && name_sep(name[i]))
            i++;
        while (*reg && name_sep(*reg))
            reg++;
        if (*reg == '\0' || i == len)
            return *reg == '\0' && i == len;
        if (name_lower(*reg) != name_lower(name[i++]))
            return 0;
    }
}

const loss_desc *loss_registry_find(const char *name, size_t len)
{
    for (size_t i = 0; i < REGISTRY_SIZE; i++) {
        if (name_match(registry[i]->name, name, len))
            return registry[i];
        for (const char *const *a = registry[i]->aliases; a && *a; a++)
            if (name_match(*a, name, len))
                return registry[i];
    }
    return NULL;
}

#define NAME_MAX_CHARS 64

/* Optimal-string-alignment distance (edits and adjacent swaps); names are short. */
static size_t edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t d[NAME_MAX_CHARS + 1][NAME_MAX_CHARS + 1];
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

typedef struct {
    char want[NAME_MAX_CHARS + 1]; /* the typed name, normalized */
    size_t want_len;
    const char *best; /* the registered spelling of the closest name so far */
    size_t best_d;
} suggestion;

static void consider(suggestion *s, const char *cand)
{
    char norm[NAME_MAX_CHARS + 1];
    size_t n = name_normalize(cand, strlen(cand), norm, sizeof norm);
    if (n >= sizeof norm)
        return;
    size_t d = edit_distance(norm, n, s->want, s->want_len);
    if (d < s->best_d) {
        s->best_d = d;
        s->best = cand;
    }
}

const char *loss_registry_suggest(const char *name, size_t len)
{
    suggestion s = {.best = NULL, .best_d = (size_t)-1};
    s.want_len = name_normalize(name, len, s.want, sizeof s.want);
    if (s.want_len >= sizeof s.want || s.want_len == 0)
        return NULL;
    for (size_t i = 0; i < REGISTRY_SIZE; i++) {
        consider(&s, registry[i]->name);
        for (const char *const *a = registry[i]->aliases; a && *a; a++)
            consider(&s, *a);
    }
    /* A suggestion further than a third of the name away is noise. */
    if (s.best == NULL || s.best_d > 3 || s.best_d * 2 > s.want_len)
        return NULL;
    return s.best;
}

size_t loss_desc_input_names(const loss_desc *desc, char *buf, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    for (size_t i = 0; i < desc->n_inputs; i++) {
        int w = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", desc->inputs[i].name);
        if (w < 0 || (size_t)w >= cap - n)
            return cap - 1;
        n += (size_t)w;
    }
    return n;
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

static const char *const reduction_names[LOSS_REDUCE_COUNT] = {"mean", "sum", "none", "batchmean"};

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

loss_status loss_error_set(loss_error *err, loss_status status, const char *field, const char *fmt,
                           ...)
{
    va_list ap;
    err->status = status;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return status;
}
