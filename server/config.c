/* config: a table of options, each parsed from its environment variable and then from its
 * flag. Invariant: config_load either returns CONFIG_RUN with every field inside its row's
 * range (and workers >= 1), or says why not; nothing is half-applied in a way main uses. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LOSSD_VERSION
#define LOSSD_VERSION "unknown"
#endif

typedef enum { OPT_UINT, OPT_SIZE, OPT_STRING, OPT_CHOICE, OPT_HELP, OPT_VERSION } opt_kind;

typedef struct {
    const char *flag; /* without the leading "--" */
    const char *env;  /* NULL: no environment variable */
    opt_kind kind;
    size_t offset;
    size_t min, max;
    const char *const *choices; /* OPT_CHOICE: NULL-terminated */
    const char *meta;
    const char *help;
} opt_row;

static const char *const log_formats[] = {"text", "json", NULL};
static const char *const isas[] = {"ref", "avx2", "avx512", NULL};

#define OFF(field) offsetof(server_config, field)
#define KIB ((size_t)1024)
static const opt_row options[] = {
    {"port", "LOSSD_PORT", OPT_UINT, OFF(port), 0, 65535, NULL, "N",
     "TCP port (default 8080; 0 picks a free one)"},
    {"bind", "LOSSD_BIND", OPT_STRING, OFF(bind), 0, 0, NULL, "ADDR",
     "address to listen on (default 0.0.0.0)"},
    {"workers", "LOSSD_WORKERS", OPT_UINT, OFF(workers), 1, 1024, NULL, "N",
     "compute threads (default: CPUs usable, cgroup quota included)"},
    {"http-threads", "LOSSD_HTTP_THREADS", OPT_UINT, OFF(http_threads), 1, 64, NULL, "N",
     "HTTP I/O threads (default: 2, or 1 on one usable CPU)"},
    {"max-body", "LOSSD_MAX_BODY", OPT_SIZE, OFF(max_body), 1, (size_t)1 << 40, NULL, "BYTES",
     "largest request body, suffix K/M/G (default 64M)"},
    {"queue", "LOSSD_QUEUE", OPT_UINT, OFF(queue), 1, 1000000, NULL, "N",
     "pending compute jobs before 503 overloaded (default 64)"},
    {"conn-timeout", "LOSSD_CONN_TIMEOUT", OPT_UINT, OFF(conn_timeout), 1, 86400, NULL, "SEC",
     "idle connection timeout (default 60)"},
    {"max-connections", "LOSSD_MAX_CONNECTIONS", OPT_UINT, OFF(max_connections), 1, 1000000, NULL,
     "N", "concurrent connections (default 1024)"},
    {"conn-memory", "LOSSD_CONN_MEMORY", OPT_SIZE, OFF(conn_memory), 8 * KIB, 64 * KIB *KIB, NULL,
     "BYTES", "per-connection buffer memory (default 32K)"},
    {"shutdown-delay", "LOSSD_SHUTDOWN_DELAY", OPT_UINT, OFF(shutdown_delay), 0, 600, NULL, "SEC",
     "after SIGTERM, keep accepting this long with readiness 503 (default 0)"},
    {"drain-timeout", "LOSSD_DRAIN_TIMEOUT", OPT_UINT, OFF(drain_timeout), 0, 3600, NULL, "SEC",
     "longest wait for in-flight requests once the listener closes (default 30)"},
    {"job-timeout", "LOSSD_JOB_TIMEOUT", OPT_UINT, OFF(job_timeout), 1, 3600, NULL, "SEC",
     "deadline for a request's queueing and computing, then 503 timeout (default 30)"},
    {"inline-max", "LOSSD_INLINE_MAX", OPT_SIZE, OFF(inline_max), 0, 1024 * KIB, NULL, "BYTES",
     "compute cheap requests with bodies up to this size on the HTTP thread (default 4K; 0: "
     "never)"},
    {"max-work", "LOSSD_MAX_WORK", OPT_SIZE, OFF(max_work), 1, SIZE_MAX, NULL, "UNITS",
     "413 too_much_work past this many work units per request, suffix K/M/G (default 16G, "
     "about 20-60 s of one core)"},
    {"max-output", "LOSSD_MAX_OUTPUT", OPT_SIZE, OFF(max_output), 1, SIZE_MAX, NULL, "ELEMENTS",
     "413 too_much_work past this many returned values and gradients (default: --max-body)"},
    {"header-timeout", "LOSSD_HEADER_TIMEOUT", OPT_UINT, OFF(header_timeout), 1, 3600, NULL, "SEC",
     "close a connection that has not sent a request line and headers in time (default 10)"},
    {"min-body-rate", "LOSSD_MIN_BODY_RATE", OPT_SIZE, OFF(min_body_rate), 0, SIZE_MAX, NULL,
     "BYTES",
     "close an upload slower than this per second after --header-timeout (default 1K; "
     "0: no minimum)"},
    {"max-connections-per-ip", "LOSSD_MAX_CONNECTIONS_PER_IP", OPT_UINT, OFF(max_conn_per_ip), 0,
     1000000, NULL, "N",
     "concurrent connections from one address; more get 503 (default 512; "
     "0: no cap)"},
    {"admin-port", "LOSSD_ADMIN_PORT", OPT_UINT, OFF(admin_port), 0, 65535, NULL, "N",
     "also serve health and metrics on this port, outside every connection limit (default: "
     "none; 0 picks a free one)"},
    {"tls-priority", "LOSSD_TLS_PRIORITY", OPT_STRING, OFF(tls_priority), 0, 0, NULL, "STRING",
     "GnuTLS priority string (default: TLS 1.2+, ECDHE, AEAD ciphers only)"},
    {"max-memory", "LOSSD_MAX_MEMORY", OPT_SIZE, OFF(max_memory), 0, (size_t)1 << 50, NULL, "BYTES",
     "memory budget for requests in flight, suffix K/M/G (default: 80% of the cgroup memory "
     "limit, else 50% of physical memory)"},
    {"cache-max", "LOSSD_CACHE_MAX", OPT_SIZE, OFF(cache_max), 0, (size_t)1 << 50, NULL, "BYTES",
     "freed tensor buffers kept for reuse, counted in the budget (default 256M; 0: none)"},
    {"idle-trim", "LOSSD_IDLE_TRIM", OPT_UINT, OFF(idle_trim), 0, 86400, NULL, "SEC",
     "after this long with no request, hand cached and free memory back (default 10; 0: "
     "never)"},
    {"api-key", "LOSSD_API_KEY", OPT_STRING, OFF(api_key), 0, 0, NULL, "KEY",
     "require 'Authorization: Bearer KEY' or 'X-API-Key: KEY' (health stays open)"},
    {"tls-cert", "LOSSD_TLS_CERT", OPT_STRING, OFF(tls_cert), 0, 0, NULL, "FILE",
     "PEM certificate: serve HTTPS (needs --tls-key)"},
    {"tls-key", "LOSSD_TLS_KEY", OPT_STRING, OFF(tls_key), 0, 0, NULL, "FILE", "PEM private key"},
    {"cors-origin", "LOSSD_CORS_ORIGIN", OPT_STRING, OFF(cors_origin), 0, 0, NULL, "ORIGIN",
     "send CORS headers allowing ORIGIN (e.g. '*')"},
    {"log-format", "LOSSD_LOG_FORMAT", OPT_CHOICE, OFF(log_format), 0, 0, log_formats, "text|json",
     "log line format (default text)"},
    {"isa", "LOSSD_ISA", OPT_CHOICE, OFF(isa), 0, 0, isas, "ref|avx2|avx512",
     "force a kernel instruction set (default: the best this CPU has)"},
    {"probe", NULL, OPT_STRING, OFF(probe_url), 0, 0, NULL, "URL",
     "GET http://host:port/path, exit 0 on 2xx else 1 (container health check)"},
    {"help", NULL, OPT_HELP, 0, 0, 0, NULL, NULL, "show this help"},
    {"version", NULL, OPT_VERSION, 0, 0, 0, NULL, NULL, "show the version"},
};
#define N_OPTIONS (sizeof options / sizeof options[0])

int config_parse_uint(const char *s, size_t max, size_t *out)
{
    size_t v = 0;
    if (s == NULL || *s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (__builtin_mul_overflow(v, (size_t)10, &v) ||
            __builtin_add_overflow(v, (size_t)(*s - '0'), &v))
            return -1;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* Splits "64MiB" into digits and a multiplier. Returns 0 or -1. */
static int size_suffix(const char *suffix, size_t *mult)
{
    static const char units[] = "KMGT";
    const char *u = *suffix ? strchr(units, *suffix & ~0x20) : NULL;
    if (*suffix == '\0') {
        *mult = 1;
        return 0;
    }
    if (u == NULL)
        return -1;
    *mult = (size_t)1 << (10 * (u - units + 1));
    suffix++;
    return (*suffix == '\0' || strcmp(suffix, "iB") == 0 || strcmp(suffix, "B") == 0) ? 0 : -1;
}

int config_parse_size(const char *s, size_t max, size_t *out)
{
    char digits[32];
    size_t n = 0, v, mult;
    if (s == NULL)
        return -1;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    if (n == 0 || n >= sizeof digits || size_suffix(s + n, &mult) != 0)
        return -1;
    memcpy(digits, s, n);
    digits[n] = '\0';
    if (config_parse_uint(digits, SIZE_MAX, &v) != 0 || __builtin_mul_overflow(v, mult, &v) ||
        v > max)
        return -1;
    *out = v;
    return 0;
}

size_t config_cpus_from_cfs(long long quota_us, long long period_us)
{
    if (quota_us <= 0 || period_us <= 0)
        return 0;
    return (size_t)((quota_us + period_us - 1) / period_us);
}

size_t config_cpus_from_cpu_max(const char *text)
{
    char *end;
    long long quota, period;
    if (text == NULL || strncmp(text, "max", 3) == 0)
        return 0;
    errno = 0;
    quota = strtoll(text, &end, 10);
    if (end == text || *end != ' ' || errno != 0)
        return 0;
    text = end + 1;
    period = strtoll(text, &end, 10);
    if (end == text || errno != 0 || (*end != '\0' && *end != '\n'))
        return 0;
    return config_cpus_from_cfs(quota, period);
}

/* Reads a small text file into buf (NUL-terminated). Returns 0 or -1. */
static int read_small(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "re");
    size_t n;
    if (f == NULL)
        return -1;
    n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0 ? 0 : -1;
}

static size_t cgroup_cpus(void)
{
    static const char *const v1_dirs[] = {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"};
    char buf[128], path[128];
    if (read_small("/sys/fs/cgroup/cpu.max", buf, sizeof buf) == 0)
        return config_cpus_from_cpu_max(buf);
    for (size_t i = 0; i < sizeof v1_dirs / sizeof v1_dirs[0]; i++) {
        long long quota, period;
        snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", v1_dirs[i]);
        if (read_small(path, buf, sizeof buf) != 0)
            continue;
        quota = strtoll(buf, NULL, 10);
        snprintf(path, sizeof path, "%s/cpu.cfs_period_us", v1_dirs[i]);
        if (read_small(path, buf, sizeof buf) != 0)
            continue;
        period = strtoll(buf, NULL, 10);
        return config_cpus_from_cfs(quota, period);
    }
    return 0;
}

size_t config_default_workers(void)
{
    cpu_set_t set;
    size_t cpus = 1, quota;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        cpus = (size_t)CPU_COUNT(&set);
    quota = cgroup_cpus();
    if (quota > 0 && quota < cpus)
        cpus = quota;
    return cpus;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: lossd [OPTION]...\nServe loss computations over HTTP.\n"
                 "(lossd score NAME --predictions FILE ... computes one locally: lossd score "
                 "--help)\n\n");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", options[i].flag, options[i].meta ? " " : "",
                 options[i].meta ? options[i].meta : "");
        fprintf(out, "  %-32s %s%s%s\n", left, options[i].help, options[i].env ? "; env " : "",
                options[i].env ? options[i].env : "");
    }
    fprintf(out,
            "\nSignals: SIGTERM, SIGINT or SIGHUP drains: readiness turns 503, new connections "
            "are\naccepted for --shutdown-delay, then the listener closes (connections already "
            "queued\nare served) and in-flight requests get up to --drain-timeout before they "
            "are cut off\n(503 draining). A second signal exits at once, with status 1.\n"
            "Limits, error codes and the shutdown sequence: docs/limits.md.\n");
}

static void set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* Stores one option's value. `source` names where it came from, for the error message. */
static int apply(server_config *cfg, const opt_row *o, const char *value, const char *source,
                 char *err, size_t err_len)
{
    char *field = (char *)cfg + o->offset;
    size_t v;
    switch (o->kind) {
    case OPT_UINT:
    case OPT_SIZE:
        if ((o->kind == OPT_UINT ? config_parse_uint(value, o->max, &v)
                                 : config_parse_size(value, o->max, &v)) != 0 ||
            v < o->min) {
            set_err(err, err_len, "invalid value '%s' for %s (expected %s in [%zu, %zu])", value,
                    source, o->meta, o->min, o->max);
            return -1;
        }
        memcpy(field, &v, sizeof v);
        return 0;
    case OPT_CHOICE:
        for (const char *const *c = o->choices; *c; c++)
            if (strcmp(*c, value) == 0) {
                memcpy(field, c, sizeof *c);
                return 0;
            }
        set_err(err, err_len, "invalid value '%s' for %s (expected %s)", value, source, o->meta);
        return -1;
    case OPT_STRING:
        if (has_control(value)) {
            /* A CR or LF in a value that becomes a header (--cors-origin) would split it. */
            set_err(err, err_len,
                    "invalid value for %s: control characters (CR, LF, ...) are not "
                    "allowed",
                    source);
            return -1;
        }
        memcpy(field, &value, sizeof value);
        return 0;
    case OPT_HELP: /* take no value: the caller acts on them before apply */
    case OPT_VERSION:
        break;
    }
    return 0;
}

static const opt_row *find_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strlen(options[i].flag) == len && memcmp(options[i].flag, name, len) == 0)
            return &options[i];
    return NULL;
}

static int apply_env(server_config *cfg, char *err, size_t err_len)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *v = options[i].env ? getenv(options[i].env) : NULL;
        if (v && *v && apply(cfg, &options[i], v, options[i].env, err, err_len) != 0)
            return -1;
    }
    return 0;
}

/* Applies argv[*i] (and its value, advancing *i). Returns CONFIG_RUN, CONFIG_EXIT_OK after
 * --help/--version, or CONFIG_EXIT_USAGE. */
static config_outcome apply_arg(server_config *cfg, int argc, char **argv, int *i, char *err,
                                size_t err_len)
{
    const char *arg = strcmp(argv[*i], "-h") == 0 ? "--help" : argv[*i], *eq, *value;
    const opt_row *o;
    char source[80];
    if (strncmp(arg, "--", 2) != 0) {
        set_err(err, err_len, "unexpected argument '%s'", arg);
        return CONFIG_EXIT_USAGE;
    }
    arg += 2;
    eq = strchr(arg, '=');
    o = find_flag(arg, eq ? (size_t)(eq - arg) : strlen(arg));
    if (o == NULL) {
        set_err(err, err_len, "unknown option '%s'", argv[*i]);
        return CONFIG_EXIT_USAGE;
    }
    if (o->kind == OPT_HELP || o->kind == OPT_VERSION) {
        if (o->kind == OPT_HELP)
            usage(stdout);
        else
            printf("lossd %s\n", LOSSD_VERSION);
        return CONFIG_EXIT_OK;
    }
    value = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
    snprintf(source, sizeof source, "--%s", o->flag);
    if (value == NULL) {
        set_err(err, err_len, "option '%s' needs a value", source);
        return CONFIG_EXIT_USAGE;
    }
    return apply(cfg, o, value, source, err, err_len) == 0 ? CONFIG_RUN : CONFIG_EXIT_USAGE;
}

static config_outcome apply_args(server_config *cfg, int argc, char **argv, char *err,
                                 size_t err_len)
{
    for (int i = 1; i < argc; i++) {
        config_outcome out = apply_arg(cfg, argc, argv, &i, err, err_len);
        if (out != CONFIG_RUN)
            return out;
    }
    return CONFIG_RUN;
}

static int check_combination(server_config *cfg, char *err, size_t err_len)
{
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        set_err(err, err_len, "--tls-cert and --tls-key go together");
        return -1;
    }
    /* Two I/O threads on one CPU preempt each other and the compute worker (p99 x10). */
    if (cfg->http_threads == 0)
        cfg->http_threads = config_default_workers() > 1 ? 2 : 1;
    if (cfg->max_connections < cfg->http_threads) {
        set_err(err, err_len, "--max-connections must be at least --http-threads");
        return -1;
    }
    if (cfg->api_key && *cfg->api_key == '\0')
        cfg->api_key = NULL;
    if (cfg->workers == 0)
        cfg->workers = config_default_workers();
    if (cfg->max_output == 0) /* an honest request returns at most one element per body byte */
        cfg->max_output = cfg->max_body;
    if (cfg->tls_priority == NULL || *cfg->tls_priority == '\0')
        cfg->tls_priority = CONFIG_TLS_PRIORITY;
    return 0;
}

config_outcome config_load(server_config *cfg, int argc, char **argv, char *err, size_t err_len)
{
    config_outcome out;
    *cfg = (server_config){
        .port = 8080,
        .bind = "0.0.0.0",
        .http_threads = 0, /* resolved in validation: 2, or 1 where one CPU is usable */
        .max_body = 64 * KIB * KIB,
        .queue = 64,
        .conn_timeout = 60,
        .max_connections = 1024,
        /* MHD 0.9.75 zeroes the whole per-connection pool between keep-alive requests:
         * at 256K that memset was a third of a small request's CPU (bench/analysis.md).
         * Large bodies go to lossd's own buffer, so a small pool costs them nothing. */
        .conn_memory = 32 * KIB,
        .drain_timeout = 30,
        .job_timeout = 30,
        .inline_max = 4 * KIB,
        .cache_max = 256 * KIB * KIB,
        .idle_trim = 10,
        .log_format = "text",
        /* About what one core computes in the default --job-timeout (docs/limits.md). */
        .max_work = (size_t)1 << 34,
        .max_output = 0, /* resolved in validation: --max-body */
        .header_timeout = 10,
        .min_body_rate = KIB,
        .max_conn_per_ip = 512,
        .admin_port = CONFIG_NO_PORT,
    };
    err[0] = '\0';
    if (apply_env(cfg, err, err_len) != 0)
        return CONFIG_EXIT_USAGE;
    out = apply_args(cfg, argc, argv, err, err_len);
    if (out != CONFIG_RUN)
        return out;
    return check_combination(cfg, err, err_len) == 0 ? CONFIG_RUN : CONFIG_EXIT_USAGE;
}
