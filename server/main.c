/* lossd: parse the configuration, pick the kernels, serve until SIGTERM/SIGINT, drain, exit.
 * Invariant: everything process-wide (ISA table, OpenBLAS threads, malloc tuning, signal
 * dispositions) is set here, before the first thread of ours starts. */
#define _GNU_SOURCE
#include <cblas.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "kern.h"
#include "log.h"
#include "probe.h"

#define PROBE_TIMEOUT_MS 2000

static int stop_fd = -1; /* written once before the handlers are installed */

static void on_signal(int sig)
{
    uint64_t one = 1;
    int saved = errno;
    (void)sig;
    if (write(stop_fd, &one, sizeof one) < 0) { /* nothing to do in a handler */
    }
    errno = saved;
}

static int install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    stop_fd = eventfd(0, EFD_CLOEXEC);
    if (stop_fd < 0)
        return -1;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void wait_for_stop(void)
{
    uint64_t n;
    while (read(stop_fd, &n, sizeof n) < 0 && errno == EINTR)
        ;
}

/* Kernels, BLAS threads and malloc, before any thread of ours. Returns 0 or -1. */
static int tune_process(const server_config *cfg)
{
    if (kern_init(cfg->isa) != 0) {
        log_msg("error", "--isa %s is not supported by this CPU", cfg->isa);
        return -1;
    }
    log_msg("info", "kernels: isa=%s%s", kern_isa_name(kern_get()->isa),
            cfg->isa ? " (forced)" : "");
    /* The worker pool decides parallelism; OpenBLAS threads would oversubscribe it. */
    openblas_set_num_threads(1);
    /* Keep big request buffers in the heap and reuse them: fresh pages cost ~1.7 us per
     * 4 KiB here, far more than the work on them (shared/reference/perf-anchors.md). */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    return 0;
}

int main(int argc, char **argv)
{
    server_config cfg;
    char err[256];
    lossd_daemon *d;
    switch (config_load(&cfg, argc, argv, err, sizeof err)) {
    case CONFIG_EXIT_OK:
        return 0;
    case CONFIG_EXIT_USAGE:
        fprintf(stderr, "lossd: %s\nTry 'lossd --help'.\n", err);
        return 2;
    case CONFIG_RUN:
        break;
    }
    if (cfg.probe_url)
        return probe_run(cfg.probe_url, PROBE_TIMEOUT_MS);
    log_init(strcmp(cfg.log_format, "json") == 0);
    if (tune_process(&cfg) != 0)
        return 2;
    if (install_signals() != 0) {
        log_msg("error", "cannot install signal handlers: %s", strerror(errno));
        return 1;
    }
    d = daemon_start(&cfg);
    if (d == NULL)
        return 1;
    log_msg("info", "listening on %s:%u%s (workers=%zu http-threads=%zu max-body=%zu queue=%zu)",
            cfg.bind, daemon_port(d), cfg.tls_cert ? " tls" : "", cfg.workers, cfg.http_threads,
            cfg.max_body, cfg.queue);
    wait_for_stop();
    log_msg("info", "stopping: draining for up to %zu s", cfg.drain_timeout);
    daemon_drain(d);
    if (daemon_stop(d) != 0)
        log_msg("warn", "stopped before every request finished");
    log_msg("info", "stopped");
    return 0;
}
