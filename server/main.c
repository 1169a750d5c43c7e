/* lossd: parse the configuration, pick the kernels, serve until SIGTERM/SIGINT/SIGHUP, drain,
 * exit.
 * Invariant: everything process-wide (ISA table, OpenBLAS threads, malloc tuning, signal
 * dispositions) is set here, before the first thread of ours starts. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "core.h"
#include "daemon.h"
#include "log.h"
#include "probe.h"
#include "score.h"

#define PROBE_TIMEOUT_MS 2000

static int stop_fd = -1; /* written once before the handlers are installed */
static volatile sig_atomic_t signals_seen;

/* The first SIGTERM/SIGINT/SIGHUP wakes main to drain; a second one means "now" (Ctrl-C
 * twice): exit status 1, in-flight requests lost. SIGHUP drains like SIGTERM: lossd logs to
 * stderr and has no file to reopen, and a terminal hang-up or a supervisor's "reload" should
 * not kill requests in flight. */
static void on_signal(int sig)
{
    uint64_t one = 1;
    int saved = errno;
    (void)sig;
    if (signals_seen++ > 0)
        _exit(1);
    if (write(stop_fd, &one, sizeof one) < 0) { /* nothing more a handler can do */
    }
    errno = saved;
}

static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

/* SIGTERM/SIGINT are blocked in main before any thread of ours starts, so every one of our
 * threads inherits the mask and main takes them synchronously (sigtimedwait). The handler
 * stays installed for threads we did not create (a BLAS library's, started before main),
 * which may still receive them: it wakes main through stop_fd. Synchronous waiting also
 * keeps ThreadSanitizer builds stoppable (it defers async handlers on blocked threads). */
static int install_signals(void)
{
    struct sigaction sa;
    sigset_t set;
    memset(&sa, 0, sizeof sa);
    stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd < 0)
        return -1;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
        sigaction(SIGHUP, &sa, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    stop_signals(&set);
    return pthread_sigmask(SIG_BLOCK, &set, NULL) == 0 ? 0 : -1;
}

/* Returns the first SIGTERM/SIGINT/SIGHUP (0 if it came through another thread's handler),
 * then unblocks them in main so that a second one runs the handler (exit at once). */
static int wait_for_stop(void)
{
    sigset_t set;
    const struct timespec tick = {0, 200 * 1000 * 1000};
    uint64_t n;
    int sig = 0;
    stop_signals(&set);
    for (;;) {
        if ((sig = sigtimedwait(&set, NULL, &tick)) > 0) {
            signals_seen++;
            break;
        }
        sig = 0;
        if (read(stop_fd, &n, sizeof n) == (ssize_t)sizeof n)
            break;
    }
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return sig;
}

/* Debian's default soft limit of 1024 descriptors is below --max-connections plus MHD's own,
 * the admin port's and the refused connections still being answered; raise the soft limit
 * toward the hard one so the connection limit is the one that bites. */
static void raise_fd_limit(size_t max_connections)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)max_connections + 512;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
        log_msg("warn", "descriptor limit %llu is below --max-connections %zu + 512",
                (unsigned long long)rl.rlim_cur, max_connections);
}

/* The core (kernels, BLAS threads) and malloc, before any thread of ours. Returns 0 or -1. */
static int tune_process(const server_config *cfg)
{
    if (core_init(cfg->isa) != 0) {
        log_msg("error", "--isa %s is not supported by this CPU", cfg->isa);
        return -1;
    }
    log_msg("info", "kernels: isa=%s%s", core_isa_name(), cfg->isa ? " (forced)" : "");
    /* Keep big request buffers in the heap and reuse them: fresh pages cost ~1.7 us per
     * 4 KiB on the development machines, far more than the work on them. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    raise_fd_limit(cfg->max_connections);
    return 0;
}

/* Serves until the first SIGTERM/SIGINT, then drains. Returns the exit code. */
static int serve(const server_config *cfg)
{
    lossd_daemon *d;
    int v6 = strchr(cfg->bind, ':') != NULL;
    if (install_signals() != 0) {
        log_msg("error", "cannot install signal handlers: %s", strerror(errno));
        return 1;
    }
    d = daemon_start(cfg);
    if (d == NULL)
        return 1;
    log_msg("info",
            "listening on %s%s%s:%u%s (workers=%zu http-threads=%zu max-body=%zu queue=%zu "
            "max-work=%zu max-output=%zu)",
            v6 ? "[" : "", cfg->bind, v6 ? "]" : "", daemon_port(d), cfg->tls_cert ? " tls" : "",
            cfg->workers, cfg->http_threads, cfg->max_body, cfg->queue, cfg->max_work,
            cfg->max_output);
    if (daemon_admin_port(d))
        log_msg("info", "admin on %s%s%s:%u (health and metrics)", v6 ? "[" : "", cfg->bind,
                v6 ? "]" : "", daemon_admin_port(d));
    int sig = wait_for_stop();
    log_msg("info",
            "stopping on %s: readiness 503, accepting for %zu s more, then draining for up "
            "to %zu s (a second signal exits at once)",
            sig == SIGHUP   ? "SIGHUP"
            : sig == SIGINT ? "SIGINT"
                            : "SIGTERM",
            cfg->shutdown_delay, cfg->drain_timeout);
    daemon_drain(d, cfg->shutdown_delay);
    if (daemon_stop(d) != 0)
        log_msg("warn", "stopped before every request finished");
    log_flush(); /* the last requests' access lines, before the final message */
    log_msg("info", "stopped");
    return 0;
}

int main(int argc, char **argv)
{
    server_config cfg;
    char err[256];
    if (argc > 1 && strcmp(argv[1], "score") == 0) /* the scoring CLI: no server */
        return score_main(argc - 1, argv + 1);
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
    return serve(&cfg);
}
