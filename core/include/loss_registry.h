/* loss_registry: the static table of every loss lossd serves.
 * Each loss is one `loss_desc` (defined next to its kernel in core/losses/) listed once in
 * core/loss_list.h. Names are resolved once, at decode time; nothing else in lossd
 * branches on a loss name. */
#ifndef LOSSD_LOSS_REGISTRY_H
#define LOSSD_LOSS_REGISTRY_H

#include <stddef.h>

#include "loss_error.h"

#define LOSS_MAX_INPUTS 8
#define LOSS_MAX_PARAMS 8

typedef enum {
    LOSS_REDUCE_MEAN = 0,
    LOSS_REDUCE_SUM,
    LOSS_REDUCE_NONE,
    LOSS_REDUCE_BATCHMEAN,
    LOSS_REDUCE_COUNT
} loss_reduction;

#define LOSS_RED_BIT(r) (1u << (r))
#define LOSS_RED_STANDARD                                             \
    (LOSS_RED_BIT(LOSS_REDUCE_MEAN) | LOSS_RED_BIT(LOSS_REDUCE_SUM) | \
     LOSS_RED_BIT(LOSS_REDUCE_NONE))

typedef enum {
    LOSS_IN_FLOAT,         /* floating point, converted to the compute dtype */
    LOSS_IN_INDEX,         /* integral class indices / lengths, converted to int64 */
    LOSS_IN_INDEX_OR_FLOAT /* indices if its rank is one less than input 0's, else float */
} loss_input_kind;

enum {
    LOSS_INPUT_OPTIONAL = 1u << 0, /* may be absent (e.g. weight) */
    LOSS_INPUT_GRAD = 1u << 1,     /* a gradient is returned for it */
    LOSS_INPUT_PARAM = 1u << 2     /* an array-valued parameter (weight, pos_weight) */
};

/* Shape rules. An input's rule is one to LOSS_SHAPE_MAX_ALTS alternatives; an alternative is
 * any shape, listed dimensions, or a shape taken from another input of the same loss. A named
 * dimension ("N", "C") stands for one size shared by every dimension of that name across the
 * loss's inputs; a dimension without a name has a fixed size. The catalogue's words for a
 * rule ("(N, 4) or (4)", "same as predictions") are generated from it (loss_desc_shape_words)
 * and /v2 metadata derives its dims from it. The rules describe; each loss's plan enforces. */
#define LOSS_SHAPE_MAX_RANK 4
#define LOSS_SHAPE_MAX_ALTS 3

typedef enum {
    LOSS_SHAPE_ANY,      /* any shape */
    LOSS_SHAPE_DIMS,     /* dim[0..rank), then any further dims if `more` */
    LOSS_SHAPE_SAME,     /* the shape of input `of` */
    LOSS_SHAPE_DROP,     /* the shape of input `of` without its dimension dim[0].name */
    LOSS_SHAPE_BROADCAST /* any shape that broadcasts to input `of`'s */
} loss_shape_kind;

typedef struct {
    const char *name; /* shared size ("N"), or NULL for the fixed `size` */
    size_t size;
} loss_dim;

typedef struct {
    loss_shape_kind kind;
    unsigned char of;   /* SAME, DROP, BROADCAST: the index of the other input */
    unsigned char rank; /* DIMS: how many of dim[] are listed */
    unsigned char more; /* DIMS: further dimensions may follow ("(N, ...)") */
    loss_dim dim[LOSS_SHAPE_MAX_RANK];
    const char *note; /* words appended to this alternative's, or NULL */
} loss_shape;

typedef struct {
    loss_shape alt[LOSS_SHAPE_MAX_ALTS];
    size_t n_alts;
    const char *note; /* words appended to the rule's (with their separator), or NULL */
} loss_shape_rule;

/* Building rules in descriptors: LOSS_RULE(note, alternatives...) of
 * LOSS_ANY, LOSS_DIMS(LOSS_N(N), LOSS_K(4)), LOSS_DIMS_MORE(...), LOSS_SCALAR,
 * LOSS_SAME(input), LOSS_DROP(input, name), LOSS_BROADCAST(input). */
/* clang-format off */
#define LOSS_N(name) {#name, 0}
#define LOSS_K(size) {NULL, (size)}
#define LOSS_ANY {.kind = LOSS_SHAPE_ANY}
#define LOSS_NDIMS_(...) (sizeof((loss_dim[]){__VA_ARGS__}) / sizeof(loss_dim))
#define LOSS_DIMS(...)                                                                       \
    {.kind = LOSS_SHAPE_DIMS, .rank = LOSS_NDIMS_(__VA_ARGS__), .dim = {__VA_ARGS__}}
#define LOSS_DIMS_MORE(...)                                                                  \
    {.kind = LOSS_SHAPE_DIMS, .rank = LOSS_NDIMS_(__VA_ARGS__), .more = 1, .dim = {__VA_ARGS__}}
#define LOSS_SCALAR {.kind = LOSS_SHAPE_DIMS, .rank = 0}
#define LOSS_SAME(input) {.kind = LOSS_SHAPE_SAME, .of = (input)}
#define LOSS_DROP(input, name) {.kind = LOSS_SHAPE_DROP, .of = (input), .dim = {LOSS_N(name)}}
#define LOSS_BROADCAST(input) {.kind = LOSS_SHAPE_BROADCAST, .of = (input)}
#define LOSS_RULE(words, ...)                                                                \
    {.alt = {__VA_ARGS__},                                                                   \
     .n_alts = sizeof((loss_shape[]){__VA_ARGS__}) / sizeof(loss_shape),                     \
     .note = (words)}
/* clang-format on */

typedef struct {
    const char *name;
    loss_input_kind kind;
    unsigned flags;
    loss_shape_rule shape;
} loss_input_desc;

typedef enum { LOSS_PARAM_FLOAT, LOSS_PARAM_INT, LOSS_PARAM_BOOL } loss_param_type;

enum {
    LOSS_PARAM_HAS_MIN = 1u << 0,
    LOSS_PARAM_HAS_MAX = 1u << 1,
    LOSS_PARAM_MIN_EXCLUSIVE = 1u << 2,
    LOSS_PARAM_MAX_EXCLUSIVE = 1u << 3,
    LOSS_PARAM_ENUM = 1u << 4 /* value must be one of choices[0..n_choices) */
};

typedef struct {
    const char *name;
    loss_param_type type;
    double def;
    unsigned flags;
    double min, max;
    const double *choices;
    size_t n_choices;
} loss_param_desc;

struct loss_ctx;
struct loss_partial;

/* Validates shapes (inputs are already converted and present per the descriptor), sets the
 * work split, per-element output shape and mean denominators; may allocate ctx->scratch. */
typedef loss_status (*loss_plan_fn)(struct loss_ctx *ctx, loss_error *err);
/* Computes work units [begin, end): values, gradients (already scaled), partial sums, and
 * domain checks. Must depend only on the unit range, never on which thread runs it. */
typedef void (*loss_chunk_fn)(const struct loss_ctx *ctx, size_t begin, size_t end,
                              struct loss_partial *part);
/* Optional: runs once after all chunks (e.g. a second GEMM). */
typedef loss_status (*loss_finish_fn)(struct loss_ctx *ctx, loss_error *err);
/* Optional: frees what plan put in ctx->scratch. Called whatever happened. */
typedef void (*loss_release_fn)(struct loss_ctx *ctx);

/* The optional ISA fast path of a loss (core/kern.h). loss_compute runs it on every chunk it
 * accepts, ahead of `chunk`; `chunk`, the reference, recomputes any chunk the fast path
 * declines (unusual data) and every chunk of a call it does not accept. */
typedef struct {
    int kernel;      /* a kern_id; 0 (KERN_NONE): no fast path */
    unsigned absent; /* inputs (bit i: descriptor input i) that must be absent, e.g. weights */
    /* Optional: whether the planned call suits the kernel (after plan; may read scratch). */
    int (*accepts)(const struct loss_ctx *ctx);
} loss_fast_desc;

#define LOSS_INPUT_BIT(i) (1u << (i))

enum {
    LOSS_FLAG_PER_TERM = 1u << 0, /* two terms (GAN real/fake), each with its own mean */
    LOSS_FLAG_DENSE = 1u << 1     /* chunks write every output element: skip zeroing them */
};

typedef struct loss_desc {
    const char *name;
    const char *const *aliases; /* NULL-terminated, or NULL */
    const char *family;         /* "regression", "classification", "embedding", ... */
    const char *reference;      /* what its numbers equal, e.g. "torch.nn.functional.mse_loss" */
    const loss_input_desc *inputs;
    size_t n_inputs;
    const loss_param_desc *params;
    size_t n_params;
    unsigned reductions; /* LOSS_RED_BIT mask */
    unsigned flags;
    const char *term_names[2]; /* per-term losses: {"real", "fake"} */
    loss_plan_fn plan;
    loss_chunk_fn chunk;
    loss_finish_fn finish;
    loss_release_fn release;
    loss_fast_desc fast;
} loss_desc;

/* Number of registered losses, and the i-th in catalogue order. */
size_t loss_registry_count(void);
const loss_desc *loss_registry_at(size_t i);

/* Finds a loss by canonical name or alias (len bytes of name). Case and the separators '_'
 * and '-' do not count: "MSELoss", "mse_loss" and "MSE" all find mse. Returns NULL if
 * unknown. */
const loss_desc *loss_registry_find(const char *name, size_t len);

/* The registered name (canonical or alias, as spelled in the registry) closest to `name` by
 * edit distance between normalized forms, for "did you mean" messages; NULL if nothing is
 * reasonably close. */
const char *loss_registry_suggest(const char *name, size_t len);

/* Writes desc's input names as "predictions, targets, weight" into buf (cap bytes, always
 * NUL-terminated when cap > 0, truncated if short). Returns the length written. */
size_t loss_desc_input_names(const loss_desc *desc, char *buf, size_t cap);

/* Writes the words of input i's shape rule ("(N, 4) or (4) boxes", "same as predictions")
 * into buf (len bytes, always NUL-terminated when len > 0). Returns the length of the whole
 * text, as snprintf does. */
size_t loss_desc_shape_words(const loss_desc *desc, size_t i, char *buf, size_t len);

/* Index of the named input/parameter in desc, or -1. */
int loss_desc_input_index(const loss_desc *desc, const char *name, size_t len);
int loss_desc_param_index(const loss_desc *desc, const char *name, size_t len);

/* Wire names of reductions ("mean", "sum", "none", "batchmean"); parse returns -1 if unknown. */
const char *loss_reduction_name(loss_reduction r);
int loss_reduction_parse(const char *s, size_t len);

#endif
