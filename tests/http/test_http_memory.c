/* HTTP tests: the memory budget end to end. Large requests that do not fit now get 503 with
 * Retry-After before their body is read, ones that never fit 413, small ones keep flowing,
 * and the process's peak RSS (VmHWM from /proc) stays within the budget plus a margin. Also:
 * the default budget from a cgroup limit (a real cgroup when this machine lets the test make
 * one, else a fake tree via LOSSD_CGROUP_ROOT), the cost of refusing a ragged body, and idle
 * memory handed back after a burst. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http_fixture.h"

/* Tens of MB of JSON per request: under ASan on a shared 2-CPU machine a test can take
 * several minutes, so the bound is generous there. */
#ifdef __SANITIZE_ADDRESS__
#define MEMORY_TEST_TIMEOUT 1200
#else
#define MEMORY_TEST_TIMEOUT 300
#endif
TestSuite(http_memory, .init = NULL, .fini = srv_teardown, .timeout = MEMORY_TEST_TIMEOUT);

#define MIB ((size_t)1 << 20)

/* kB figure `field` ("VmHWM", "VmRSS") of pid's /proc status, in bytes. */
static size_t proc_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    size_t kb = 0, n = strlen(field);
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            kb = strtoull(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return kb * 1024;
}

/* {"predictions": [...], "targets": [...], "gradient": true} of about `bytes` bytes. */
static char *mse_body(size_t bytes, size_t *len)
{
    size_t n = bytes / 20, k = 0;
    char *b = malloc(bytes + 256);
    cr_assert(b != NULL);
    k += (size_t)sprintf(b + k, "{\"predictions\": [");
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(b + k, i ? ",0.%06zu" : "0.%06zu", (i * 7919) % 1000000);
    k += (size_t)sprintf(b + k, "], \"targets\": [");
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(b + k, i ? ",0.%06zu" : "0.%06zu", (i * 104729) % 1000000);
    k += (size_t)sprintf(b + k, "], \"gradient\": true}");
    *len = k;
    return b;
}

/* POSTs body the way curl sends a large one: the head with Expect: 100-continue, the body
 * only if the server says so. Returns the status (0 on a transport failure); *retry_after
 * is set when the reply carries Retry-After. */
static int post_expect(unsigned port, const char *path, const char *body, size_t len,
                       int *retry_after)
{
    http_conn c;
    http_response r;
    char head[256], value[32];
    int status = 0, rc;
    *retry_after = 0;
    if (http_open(&c, port) != 0)
        return 0;
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Expect: 100-continue\r\nContent-Length: %zu\r\n\r\n",
                     path, len);
    if (http_send(&c, head, (size_t)n) != 0)
        goto done;
    rc = http_await_continue(&c, &r, 10000);
    if (rc == 1) {
        if (http_send(&c, body, len) != 0 || http_read(&c, &r, 0) != 0)
            goto done;
    } else if (rc != 0) {
        goto done;
    }
    status = r.status;
    *retry_after = http_header(&r, "Retry-After", value, sizeof value) == 0 && atoi(value) > 0;
    http_response_free(&r);
done:
    http_close(&c);
    return status;
}

typedef struct {
    unsigned port;
    const char *body;
    size_t len;
    int status, retry_after;
} large_job;

static void *send_large(void *arg)
{
    large_job *j = arg;
    j->status = post_expect(j->port, "/v1/loss/mse", j->body, j->len, &j->retry_after);
    return NULL;
}

Test(http_memory, large_requests_get_200_or_503_while_small_ones_flow_within_the_budget)
{
    enum { LARGE = 16, SMALL = 200 };
    size_t len;
    char *body = mse_body(40 * MIB, &len);
    const char *const args[] = {"--max-memory", "256M", "--workers", "2", NULL};
    srv_start(args);
    large_job jobs[LARGE];
    pthread_t threads[LARGE];
    for (int i = 0; i < LARGE; i++) {
        jobs[i] = (large_job){.port = srv.port, .body = body, .len = len};
        cr_assert_eq(pthread_create(&threads[i], NULL, send_large, &jobs[i]), 0);
    }
    http_conn c;
    cr_assert_eq(http_open(&c, srv.port), 0);
    for (int i = 0; i < SMALL; i++) {
        http_response r;
        const char *small = "{\"predictions\": [1, 2, 3], \"targets\": [1, 2, 4]}";
        cr_assert_eq(http_send_request(&c, "POST", "/v1/loss/mse", NULL, small, strlen(small)), 0);
        cr_assert_eq(http_read(&c, &r, 0), 0, "small request %d: no response", i);
        cr_assert_eq(r.status, 200, "small request %d: %d %s", i, r.status, r.body);
        http_response_free(&r);
    }
    http_close(&c);
    int ok = 0;
    for (int i = 0; i < LARGE; i++) {
        pthread_join(threads[i], NULL);
        cr_assert(jobs[i].status == 200 || (jobs[i].status == 503 && jobs[i].retry_after),
                  "large request %d: status %d (Retry-After %d)", i, jobs[i].status,
                  jobs[i].retry_after);
        ok += jobs[i].status == 200;
    }
    size_t peak = proc_kb(srv.pid, "VmHWM");
    cr_assert_gt(ok, 0, "the budget admitted no large request");
    cr_assert_lt(peak, 320 * MIB, "peak RSS %zu MiB with a 256 MiB budget", peak / MIB);
    cr_log_info("large: %d of %d answered 200; peak RSS %zu MiB", ok, LARGE, peak / MIB);
    srv_stop();
    free(body);
}

Test(http_memory, a_request_that_can_never_fit_gets_413_before_its_body)
{
    size_t len;
    char *body = mse_body(40 * MIB, &len);
    const char *const args[] = {"--max-memory", "64M", NULL};
    int retry;
    srv_start(args);
    cr_assert_eq(post_expect(srv.port, "/v1/loss/mse", body, len, &retry), 413);
    http_response m = get("/metrics");
    cr_assert(strstr(m.body, "lossd_rejected_total{reason=\"memory_limit\"} 1\n") != NULL, "%s",
              m.body);
    http_response_free(&m);
    srv_stop();
    free(body);
}

/* {"x1": (n, 2), "x2": (n, 2), "gradient": true}: a 66 KB body whose plan needs a 2n x 2n
 * similarity matrix (n = 2048: 128 MiB). */
static char *ntxent_body(size_t n)
{
    char *b = malloc(n * 40 + 128);
    size_t k = 0;
    cr_assert(b != NULL);
    for (int half = 0; half < 2; half++) {
        k += (size_t)sprintf(b + k, half ? "], \"x2\": [" : "{\"x1\": [");
        for (size_t i = 0; i < n; i++)
            k += (size_t)sprintf(b + k, "%s[%zu, %zu]", i ? "," : "", i % 7 + 1,
                                 i % 5 + (size_t)half);
    }
    sprintf(b + k, "], \"gradient\": true}");
    return b;
}

/* The budget counts core's scratch, not only the body and the results: a small body whose
 * plan needs more than the budget is refused before anything is allocated. */
Test(http_memory, a_small_body_with_a_large_plan_is_charged_for_its_scratch)
{
    const char *const args[] = {"--max-memory", "64M", NULL};
    char *big = ntxent_body(2048), *fits = ntxent_body(256);
    srv_start(args);
    size_t before = proc_kb(srv.pid, "VmHWM");
    http_response r = post("/v1/loss/ntxent", big);
    cr_assert_eq(r.status, 413, "%d %s", r.status, r.body);
    cr_assert(strstr(r.body, "--max-memory") != NULL, "%s", r.body);
    cr_assert_lt(proc_kb(srv.pid, "VmHWM"), before + 32 * MIB, "the matrix was allocated");
    http_response_free(&r);
    r = post("/v1/loss/ntxent", fits);
    cr_assert_eq(r.status, 200, "%d %s", r.status, r.body);
    http_response_free(&r);
    srv_stop();
    free(big);
    free(fits);
}

/* 16 MB of [[1],[1],...,[1,2]]: once 4.1 s and 1.07 GB of peak RSS to refuse. */
Test(http_memory, a_ragged_body_is_refused_in_one_pass_within_4x_its_size)
{
    size_t rows = 4 * MIB - 8, k = 0;
    char *body = malloc(rows * 4 + 64);
    k += (size_t)sprintf(body, "{\"predictions\": [");
    for (size_t i = 0; i < rows; i++) {
        memcpy(body + k, i ? ",[1]" : "[1]", i ? 4 : 3);
        k += i ? 4 : 3;
    }
    k += (size_t)sprintf(body + k, ",[1,2]], \"targets\": [1]}");
    srv_start(NULL);
    size_t base = proc_kb(srv.pid, "VmHWM");
    struct timespec t0, t1;
    int retry;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int status = post_expect(srv.port, "/v1/loss/mse", body, k, &retry);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    size_t peak = proc_kb(srv.pid, "VmHWM");
    cr_assert(status == 400 || status == 413, "status %d", status);
    cr_assert_leq(peak - base, 4 * k + 32 * MIB, "peak grew by %zu MiB for a %zu MiB body",
                  (peak - base) / MIB, k / MIB);
    cr_log_info("ragged %zu MiB body: %d in %.2f s, peak RSS +%zu MiB", k / MIB, status, secs,
                (peak - base) / MIB);
    srv_stop();
    free(body);
}

Test(http_memory, idle_memory_is_handed_back_after_a_burst)
{
#ifdef __SANITIZE_ADDRESS__
    /* ASan's allocator keeps freed memory in its quarantine (256 MiB by default), so no trim
     * can show; the Release run of this suite checks it. */
    cr_skip_test("RSS after free is ASan's quarantine here, not lossd's");
#endif
    size_t len;
    char *body = mse_body(40 * MIB, &len);
    int retry;
    srv_start(NULL);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(post_expect(srv.port, "/v1/loss/mse", body, len, &retry), 200);
    size_t rss = proc_kb(srv.pid, "VmRSS");
    for (int s = 0; s < 300 && rss >= 64 * MIB; s++) {
        usleep(100000);
        rss = proc_kb(srv.pid, "VmRSS");
    }
    cr_assert_lt(rss, 64 * MIB, "RSS %zu MiB 30 s after the burst (peak %zu MiB)", rss / MIB,
                 proc_kb(srv.pid, "VmHWM") / MIB);
    srv_stop();
    free(body);
}

/* ---- the default budget from a cgroup limit ---- */

static double metric_value(const char *text, const char *series)
{
    const char *at = strstr(text, series);
    return at ? strtod(at + strlen(series), NULL) : -1;
}

static double budget_of(const lossd_proc *p)
{
    http_response r;
    cr_assert_eq(http_do(p->port, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    double v = metric_value(r.body, "\nlossd_memory_budget_bytes ");
    http_response_free(&r);
    return v;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    cr_assert(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

Test(http_memory, the_default_budget_is_80_percent_of_a_fake_cgroup_limit)
{
    char root[] = "/tmp/lossd-cgroup-XXXXXX", path[128], env[160];
    cr_assert(mkdtemp(root) != NULL);
    snprintf(path, sizeof path, "%s/memory.max", root);
    write_file(path, "1073741824\n");
    snprintf(env, sizeof env, "LOSSD_CGROUP_ROOT=%s", root);
    const char *const envs[] = {env, NULL};
    cr_assert_eq(lossd_start(&srv, NULL, envs), 0);
    cr_assert_eq(budget_of(&srv), (double)(1073741824 / 10 * 8));
    srv_stop();
    write_file(path, "max\n");
    cr_assert_eq(lossd_start(&srv, NULL, envs), 0);
    cr_assert_lt(budget_of(&srv), (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE));
    srv_stop();
    unlink(path);
    rmdir(root);
}

/* This process's memory cgroup directory (v2 if it has a memory controller, else v1). */
static int own_memory_cgroup(char *dir, size_t len, int *v2)
{
    char line[512];
    int found = 0;
    FILE *f = fopen("/proc/self/cgroup", "re");
    while (f && !found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
        if (b == NULL)
            continue;
        *b = '\0';
        if (strcmp(line, "0") == 0 && a[1] == '\0') {
            snprintf(dir, len, "/sys/fs/cgroup%s", b + 1);
            found =
                access(dir, W_OK) == 0 && access("/sys/fs/cgroup/cgroup.controllers", R_OK) == 0;
            *v2 = 1;
        } else if (strstr(a + 1, "memory") != NULL) {
            snprintf(dir, len, "/sys/fs/cgroup/memory%s", b + 1);
            found = access(dir, W_OK) == 0;
            *v2 = 0;
        }
    }
    if (f)
        fclose(f);
    return found ? 0 : -1;
}

static int join_cgroup(const char *dir)
{
    char path[700], pid[32];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    FILE *f = fopen(path, "we");
    if (f == NULL)
        return -1;
    int rc = fputs(pid, f) < 0;
    rc |= fclose(f) != 0;
    return rc ? -1 : 0;
}

Test(http_memory, the_default_budget_is_80_percent_of_a_real_cgroup_limit)
{
    char parent[512], dir[600], path[700];
    int v2 = 0;
    if (own_memory_cgroup(parent, sizeof parent, &v2) != 0)
        cr_skip_test("no writable memory cgroup here (the fake-root test covers the logic)");
    snprintf(dir, sizeof dir, "%s/lossd-test-%d", parent, (int)getpid());
    if (mkdir(dir, 0755) != 0)
        cr_skip_test("cannot make a cgroup under %s: %s", parent, strerror(errno));
    snprintf(path, sizeof path, "%s/%s", dir, v2 ? "memory.max" : "memory.limit_in_bytes");
    write_file(path, "536870912\n");
    /* lossd inherits this process's cgroup at fork: join, start it, come back. */
    int joined = join_cgroup(dir) == 0;
    int started = joined && lossd_start(&srv, NULL, NULL) == 0;
    if (joined)
        join_cgroup(parent);
    if (!joined) {
        rmdir(dir);
        cr_skip_test("cannot join the cgroup %s", dir);
    }
    cr_assert(started, "lossd did not start in its cgroup");
    cr_assert_eq(budget_of(&srv), (double)(536870912 / 10 * 8));
    srv_stop();
    rmdir(dir);
}
