/* score: argument parsing, file I/O and output for `lossd score`. Decoding is api/'s (npy,
 * csv) and so is everything between the tensors and the JSON (api_v1_loss_local): this file
 * only turns files into tensors and the result back into files. Invariant: every buffer and
 * tensor lives in the one score_run and is freed at its single cleanup. */
#define _GNU_SOURCE
#include "score.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "core.h"
#include "csv.h"
#include "mem.h"
#include "npy.h"

#define SCORE_MAX_FILES LOSS_MAX_INPUTS
#define SCORE_OPTIONS_MAX 4096

enum { SCORE_OK = 0, SCORE_BAD_INPUT = 1, SCORE_USAGE = 2 };

typedef struct {
    const char *name; /* input name, or for gradients NULL when the only one is meant */
    const char *path;
} score_file;

typedef struct {
    const char *loss;
    score_file in[SCORE_MAX_FILES], grad_out[SCORE_MAX_FILES];
    size_t n_in, n_grad_out;
    int print_gradient;
    char options[SCORE_OPTIONS_MAX]; /* the /v1 options object being built */
    size_t options_len;
} score_args;

typedef struct {
    score_args args;
    void *bufs[SCORE_MAX_FILES]; /* file contents (mem_alloc_aligned) */
    api_input inputs[SCORE_MAX_FILES];
    api_reply reply;
    loss_result result;
} score_run;

static const char usage_text[] =
    "Usage: lossd score NAME --predictions FILE --targets FILE [--input NAME=FILE ...]\n"
    "                   [--param KEY=VALUE ...] [--reduction R] [--dtype float32|float64]\n"
    "                   [--gradient] [--gradient-out [NAME=]FILE ...]\n"
    "Computes loss NAME locally (no server) over tensors in .npy (float32, float64, int32,\n"
    "int64; C order), .csv or .tsv files (numbers, one row per line) and prints the JSON\n"
    "that POST /v1/loss/NAME returns. --input gives any other input (weight, var, x1, ...);\n"
    "--param a parameter (VALUE is JSON: a number, true, false, [1,2], or else a string);\n"
    "--gradient prints the gradients in the JSON; --gradient-out writes them as .npy (FILE\n"
    "alone when the loss returns one gradient, NAME=FILE for each otherwise).\n"
    "Exit status: 0 ok, 1 bad input (error JSON on stderr), 2 usage.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "lossd score: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'lossd score --help'.\n");
    return SCORE_USAGE;
}

/* ---- the options object ---- */

static int opt_append(score_args *a, const char *s, size_t n)
{
    if (n >= sizeof a->options - a->options_len)
        return -1;
    memcpy(a->options + a->options_len, s, n);
    a->options_len += n;
    a->options[a->options_len] = '\0';
    return 0;
}

/* Whether v is a JSON literal to pass as is: a number, true, false, null or an array. */
static int json_literal(const char *v)
{
    const char *p = v;
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0 || strcmp(v, "null") == 0 || *v == '[')
        return 1;
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return 0;
    p += strspn(p, "0123456789");
    if (*p == '.' && p[1] >= '0' && p[1] <= '9')
        p += 1 + strspn(p + 1, "0123456789");
    if (*p == 'e' || *p == 'E') {
        p += 1 + (p[1] == '+' || p[1] == '-');
        if (*p < '0' || *p > '9')
            return 0;
        p += strspn(p, "0123456789");
    }
    return *p == '\0';
}

/* Appends "key":value (a JSON literal, or else the value as a JSON string). */
static int opt_member(score_args *a, const char *key, size_t key_len, const char *value)
{
    char esc[8];
    int rc = opt_append(a, a->options_len > 1 ? ",\"" : "\"", a->options_len > 1 ? 2 : 1);
    rc |= opt_append(a, key, key_len);
    rc |= opt_append(a, "\":", 2);
    if (json_literal(value))
        return rc | opt_append(a, value, strlen(value));
    rc |= opt_append(a, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p == '"' || *p == '\\' || *p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            rc |= opt_append(a, esc, 6);
        } else {
            rc |= opt_append(a, (const char *)p, 1);
        }
    }
    return rc | opt_append(a, "\"", 1);
}

/* --param KEY=VALUE */
static int add_param(score_args *a, const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t)(eq - kv) : 0;
    if (eq == NULL || klen == 0 || strspn(kv, "abcdefghijklmnopqrstuvwxyz0123456789_") != klen)
        return usage_error("--param needs KEY=VALUE with a parameter name, got '%s'", kv);
    if (opt_member(a, kv, klen, eq + 1) != 0)
        return usage_error("too many parameters (at %s)", kv);
    return SCORE_OK;
}

/* ---- arguments ---- */

static int add_file(score_file *list, size_t *n, const char *name, const char *path,
                    const char *flag)
{
    if (*n == SCORE_MAX_FILES)
        return usage_error("too many %s files", flag);
    if (*path == '\0')
        return usage_error("%s needs a file", flag);
    list[*n].name = name;
    list[(*n)++].path = path;
    return SCORE_OK;
}

/* NAME=FILE into list (name points into arg, which the '=' is cut from). */
static int add_named(score_file *list, size_t *n, char *arg, const char *flag)
{
    char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg)
        return usage_error("%s needs NAME=FILE", flag);
    *eq = '\0';
    return add_file(list, n, arg, eq + 1, flag);
}

/* Whether argv[*i] is option opt ("--opt VALUE" or "--opt=VALUE"): 1 with *v set (and *i
 * past the value), 0 if it is another option, -1 if the value is missing (reported). */
static int opt_value(int argc, char **argv, int *i, const char *opt, char **v)
{
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n) != 0 || (argv[*i][n] != '=' && argv[*i][n] != '\0'))
        return 0;
    if (argv[*i][n] == '=')
        *v = argv[*i] + n + 1;
    else if (*i + 1 < argc)
        *v = argv[++*i];
    else
        *v = NULL;
    if (*v == NULL || **v == '\0') {
        usage_error("%s needs a value", opt);
        return -1;
    }
    return 1;
}

/* A NAME=FILE argument: what comes before '=' could be an input name. */
static int is_named(const char *v)
{
    size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_");
    return n > 0 && v[n] == '=';
}

static int parse_value_option(score_args *a, const char *opt, char *v)
{
    if (strcmp(opt, "--predictions") == 0 || strcmp(opt, "--targets") == 0)
        return add_file(a->in, &a->n_in, opt + 2, v, opt);
    if (strcmp(opt, "--input") == 0)
        return add_named(a->in, &a->n_in, v, opt);
    if (strcmp(opt, "--gradient-out") == 0)
        return is_named(v) ? add_named(a->grad_out, &a->n_grad_out, v, opt)
                           : add_file(a->grad_out, &a->n_grad_out, NULL, v, opt);
    if (strcmp(opt, "--param") == 0)
        return add_param(a, v);
    if (strcmp(opt, "--dtype") == 0 && strcmp(v, "float32") != 0 && strcmp(v, "float64") != 0)
        return usage_error("--dtype is float32 or float64, not '%s'", v);
    /* --reduction, --dtype: options of the /v1 body; the API checks their values. */
    if (opt_member(a, opt + 2, strlen(opt + 2), v) != 0)
        return usage_error("%s", "too many options");
    return SCORE_OK;
}

static int parse_option(score_args *a, int argc, char **argv, int *i)
{
    static const char *const with_value[] = {"--predictions",  "--targets", "--input",
                                             "--gradient-out", "--param",   "--reduction",
                                             "--dtype"};
    char *v = NULL;
    for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++) {
        int m = opt_value(argc, argv, i, with_value[k], &v);
        if (m != 0)
            return m < 0 ? SCORE_USAGE : parse_value_option(a, with_value[k], v);
    }
    if (strcmp(argv[*i], "--gradient") == 0) {
        a->print_gradient = 1;
        return SCORE_OK;
    }
    return usage_error("unknown option '%s'", argv[*i]);
}

/* Returns SCORE_OK, SCORE_USAGE, or -1 for --help (printed). */
static int parse_args(score_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    opt_append(a, "{", 1);
    for (int i = 1; i < argc; i++) {
        int rc;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return -1;
        }
        if (argv[i][0] != '-' && a->loss == NULL) {
            a->loss = argv[i];
            continue;
        }
        if (argv[i][0] != '-')
            return usage_error("unexpected argument '%s'", argv[i]);
        if ((rc = parse_option(a, argc, argv, &i)) != SCORE_OK)
            return rc;
    }
    if (a->loss == NULL)
        return usage_error("%s", "which loss? (lossd score NAME --predictions FILE ...)");
    if (a->print_gradient || a->n_grad_out > 0)
        opt_member(a, "gradient", 8, "true");
    return opt_append(a, "}", 1) == 0 ? SCORE_OK : usage_error("%s", "too many options");
}

/* ---- files ---- */

/* Prints a /v1-style error for a file and returns SCORE_BAD_INPUT. */
static int file_error(const score_file *f, api_code code, const char *message)
{
    api_reply r = {0};
    api_error_reply(&r, API_STYLE_V1, code, f->name, "%s (%s): %s", f->name ? f->name : "file",
                    f->path, message);
    fwrite(r.body, 1, r.len, stderr);
    fputc('\n', stderr);
    api_reply_release(&r);
    return SCORE_BAD_INPUT;
}

/* Reads a whole file into a 64-byte aligned buffer (so .npy data can be used in place). */
static int read_file(const score_file *f, void **buf, size_t *len)
{
    FILE *fp = fopen(f->path, "rb");
    long size;
    char msg[160];
    if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 ||
        fseek(fp, 0, SEEK_SET) != 0) {
        snprintf(msg, sizeof msg, "cannot read: %s", strerror(errno));
        if (fp)
            fclose(fp);
        return file_error(f, API_ERR_NOT_FOUND, msg);
    }
    *len = (size_t)size;
    *buf = mem_alloc_aligned(*len + 1);
    if (*buf == NULL || fread(*buf, 1, *len, fp) != *len) {
        fclose(fp);
        return file_error(f, *buf ? API_ERR_NOT_FOUND : API_ERR_NOMEM,
                          *buf ? "short read" : "out of memory");
    }
    fclose(fp);
    return SCORE_OK;
}

static int has_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path), k = strlen(suffix);
    return n >= k && strcasecmp(path + n - k, suffix) == 0;
}

static int load_input(score_run *run, size_t k)
{
    const score_file *f = &run->args.in[k];
    size_t len = 0;
    char msg[200];
    api_code code;
    int csv = has_suffix(f->path, ".csv"), tsv = has_suffix(f->path, ".tsv");
    if (!csv && !tsv && !has_suffix(f->path, ".npy"))
        return usage_error("cannot tell the format of '%s': use .npy, .csv or .tsv", f->path);
    int rc = read_file(f, &run->bufs[k], &len);
    if (rc != SCORE_OK)
        return rc;
    run->inputs[k].name = f->name;
    code = csv || tsv ? csv_decode(run->bufs[k], len, csv ? ',' : '\t', &run->inputs[k].tensor, msg,
                                   sizeof msg)
                      : npy_decode(run->bufs[k], len, &run->inputs[k].tensor, msg, sizeof msg);
    return code == API_OK ? SCORE_OK : file_error(f, code, msg);
}

static int write_npy(const score_file *f, const tensor *t)
{
    char head[320];
    size_t n = npy_header(t->type, t->rank, t->shape, head, sizeof head);
    size_t bytes = t->count * tensor_type_size(t->type);
    FILE *fp = fopen(f->path, "wb");
    int ok = fp != NULL && n > 0 && fwrite(head, 1, n, fp) == n &&
             (bytes == 0 || fwrite(t->data, 1, bytes, fp) == bytes);
    if (fp != NULL && fclose(fp) != 0)
        ok = 0;
    if (!ok) {
        fprintf(stderr, "lossd score: cannot write %s: %s\n", f->path, strerror(errno));
        return SCORE_BAD_INPUT;
    }
    return SCORE_OK;
}

/* Writes each --gradient-out file: NAME=FILE by input name, a bare FILE for the only one. */
static int write_gradients(const score_run *run, const loss_desc *desc)
{
    size_t n_grads = 0, only = 0;
    for (size_t i = 0; i < desc->n_inputs; i++)
        if (run->result.grad[i].data != NULL)
            n_grads++, only = i;
    for (size_t k = 0; k < run->args.n_grad_out; k++) {
        const score_file *f = &run->args.grad_out[k];
        int i = f->name ? loss_desc_input_index(desc, f->name, strlen(f->name)) : (int)only;
        if (f->name == NULL && n_grads != 1) {
            fprintf(stderr,
                    "lossd score: %s returns %zu gradients; name each: "
                    "--gradient-out NAME=FILE\n",
                    desc->name, n_grads);
            return SCORE_USAGE;
        }
        if (i < 0 || run->result.grad[i].data == NULL) {
            fprintf(stderr, "lossd score: %s returns no gradient for '%s'\n", desc->name, f->name);
            return SCORE_USAGE;
        }
        int rc = write_npy(f, &run->result.grad[i]);
        if (rc != SCORE_OK)
            return rc;
    }
    return SCORE_OK;
}

/* A bare --gradient-out FILE needs exactly one gradient: say so before computing. */
static int check_gradient_outs(const score_args *a)
{
    const loss_desc *desc = loss_registry_find(a->loss, strlen(a->loss));
    size_t n = 0;
    if (desc == NULL)
        return SCORE_OK; /* the API reports the unknown loss */
    for (size_t i = 0; i < desc->n_inputs; i++)
        for (size_t k = 0; k < a->n_in; k++)
            if ((desc->inputs[i].flags & LOSS_INPUT_GRAD) &&
                strcmp(a->in[k].name, desc->inputs[i].name) == 0)
                n++;
    for (size_t k = 0; k < a->n_grad_out; k++)
        if (a->grad_out[k].name == NULL && n > 1)
            return usage_error("%s returns %zu gradients here; name each with --gradient-out "
                               "NAME=FILE",
                               desc->name, n);
    return SCORE_OK;
}

static int compute(score_run *run)
{
    const score_args *a = &run->args;
    if (check_gradient_outs(a) != SCORE_OK)
        return SCORE_USAGE;
    api_env env = {.workers = NULL}; /* local: the user bounds their own files */
    api_code code =
        api_v1_loss_local(&env, a->loss, strlen(a->loss), run->inputs, a->n_in, a->options,
                          a->options_len, a->print_gradient, &run->reply, &run->result);
    FILE *out = code == API_OK ? stdout : stderr;
    fwrite(run->reply.body, 1, run->reply.len, out);
    fputc('\n', out);
    if (code != API_OK)
        return SCORE_BAD_INPUT;
    if (fflush(stdout) != 0)
        return SCORE_BAD_INPUT;
    return write_gradients(run, loss_registry_find(a->loss, strlen(a->loss)));
}

int score_main(int argc, char **argv)
{
    score_run *run = mem_calloc(1, sizeof *run);
    int rc;
    if (run == NULL)
        return SCORE_BAD_INPUT;
    rc = parse_args(&run->args, argc, argv);
    if (rc != SCORE_OK) {
        rc = rc < 0 ? SCORE_OK : rc;
        goto cleanup;
    }
    if (core_init(NULL) != 0) {
        rc = SCORE_BAD_INPUT;
        goto cleanup;
    }
    for (size_t k = 0; k < run->args.n_in; k++)
        if ((rc = load_input(run, k)) != SCORE_OK)
            goto cleanup;
    rc = compute(run);
cleanup:
    loss_result_release(&run->result);
    api_reply_release(&run->reply);
    for (size_t k = 0; k < SCORE_MAX_FILES; k++) {
        tensor_release(&run->inputs[k].tensor);
        mem_free_aligned(run->bufs[k]);
    }
    mem_free(run);
    return rc;
}
