/* config: lossd's command line and environment, parsed once at start-up.
 * Every option is one row of a table (flag, environment variable, kind, range, help);
 * precedence is flag > environment > default. Strings are borrowed from argv/environ,
 * which live as long as the process, so a config owns nothing and needs no release. */
#ifndef LOSSD_SERVER_CONFIG_H
#define LOSSD_SERVER_CONFIG_H

#include <stddef.h>

typedef struct {
    size_t port;         /* 0: an ephemeral port (the bound one is logged) */
    const char *bind;    /* IPv4 or IPv6 literal */
    size_t workers;      /* compute threads; 0 until config_load fills the default */
    size_t http_threads; /* libmicrohttpd I/O threads */
    size_t max_body;     /* bytes */
    size_t queue;        /* bounded job queue length */
    size_t conn_timeout; /* idle seconds */
    size_t max_connections;
    size_t conn_memory;    /* per-connection memory pool, bytes */
    size_t shutdown_delay; /* seconds to keep accepting after SIGTERM (readiness 503) */
    size_t drain_timeout;  /* seconds to wait for in-flight requests after that */
    size_t job_timeout;    /* seconds a request may wait for and use a worker (503 timeout) */
    size_t inline_max;     /* cheap requests with bodies up to this size run on the I/O thread */
    /* Hostile-traffic limits (docs/limits.md). */
    size_t max_work;          /* work units per request, evaluate/batch entries summed */
    size_t max_output;        /* elements of values and gradients per request */
    size_t header_timeout;    /* seconds to receive a request line and its headers */
    size_t min_body_rate;     /* bytes/s a body must average once header_timeout has passed */
    size_t max_conn_per_ip;   /* concurrent connections from one client address (0: no cap) */
    size_t admin_port;        /* health and metrics listener; CONFIG_NO_PORT: none */
    const char *tls_priority; /* GnuTLS priority string */
    size_t max_memory;        /* memory budget in bytes; 0 until the daemon sets the default */
    size_t cache_max;         /* bytes the tensor buffer cache may keep resident */
    size_t idle_trim;         /* seconds idle before memory is handed back (0: never) */
    const char *api_key;      /* NULL: no authentication */
    const char *tls_cert;     /* PEM file paths; both or neither */
    const char *tls_key;
    const char *cors_origin; /* NULL: no CORS headers */
    const char *log_format;  /* "text" or "json" (static) */
    const char *isa;         /* "ref", "avx2", "avx512" (static), or NULL for automatic */
    const char *probe_url;   /* --probe: check this URL and exit instead of serving */
} server_config;

/* admin_port when no admin listener is wanted. */
#define CONFIG_NO_PORT ((size_t)-1)

/* TLS 1.2 and 1.3 only, ECDHE key exchange (forward secrecy) and AEAD ciphers only. */
#define CONFIG_TLS_PRIORITY                                                           \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-RSA:-DHE-RSA:-DHE-DSS:-AES-256-CBC:" \
    "-AES-128-CBC:-SHA1:%SERVER_PRECEDENCE"

typedef enum { CONFIG_RUN = 0, CONFIG_EXIT_OK, CONFIG_EXIT_USAGE } config_outcome;

/* Fills cfg from defaults, then the LOSSD_* environment, then argv. --help and --version
 * print to stdout and return CONFIG_EXIT_OK; a bad flag or value writes one line into err
 * (err_len bytes) and returns CONFIG_EXIT_USAGE. cfg borrows strings from argv/environ. */
config_outcome config_load(server_config *cfg, int argc, char **argv, char *err, size_t err_len);

/* Strict unsigned decimal: digits only, no sign or space, at most max. Returns 0 or -1. */
int config_parse_uint(const char *s, size_t max, size_t *out);

/* Like config_parse_uint with an optional binary suffix K, M, G or T (any case, optionally
 * followed by "iB" or "B"): "64M" is 67108864. Overflow is an error. Returns 0 or -1. */
int config_parse_size(const char *s, size_t max, size_t *out);

/* CPUs allowed by a cgroup quota: the text of cgroup v2 cpu.max ("max 100000" or
 * "150000 100000"), rounded up. Returns 0 when there is no quota or the text is invalid. */
size_t config_cpus_from_cpu_max(const char *text);

/* Same for cgroup v1: cfs_quota_us (-1: none) and cfs_period_us. */
size_t config_cpus_from_cfs(long long quota_us, long long period_us);

/* CPUs this process may use: its affinity mask, capped by any cgroup v2 or v1 quota;
 * at least 1. Reads /proc-free sources only (sched_getaffinity, /sys/fs/cgroup). */
size_t config_default_workers(void);

#endif
