/* HTTP tests: the cost of a request is known from its shapes and bounded before any work or
 * allocation: zero-size tensors still cost their other dimensions, /v1/evaluate cannot repeat
 * a loss for free, heavy requests never run on the HTTP thread whatever their size, and a
 * computation that runs past --job-timeout is stopped and its worker freed. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http_fixture.h"

TestSuite(http_cost, .fini = srv_teardown, .timeout = 60);

/* A /v2 JSON request whose two inputs have `shape` and no data (the shape holds a 0). */
static char *v2_empty(const char *shape, const char *reduction)
{
    static char body[512];
    snprintf(body, sizeof body,
             "{\"inputs\": [{\"name\": \"predictions\", \"shape\": %s, \"datatype\": \"FP32\", "
             "\"data\": []}, {\"name\": \"targets\", \"shape\": %s, \"datatype\": \"FP32\", "
             "\"data\": []}], \"parameters\": {\"reduction\": \"%s\"}}",
             shape, shape, reduction);
    return body;
}

Test(http_cost, a_zero_width_dice_with_reduction_none_yields_413_at_once)
{
    srv_start(NULL);
    double t0 = now_s();
    http_response r = post("/v2/models/dice/infer", v2_empty("[300000000, 0]", "none"));
    expect_error(&r, 413, "too_much_work");
    cr_expect_lt(now_s() - t0, 2.0, "refused before any work");
    cr_expect_lt(r.body_len, 1000, "not a 600 MB reply");
    http_response_free(&r);
    srv_stop();
}

/* [2e9, 0] used to take 20 s on the HTTP thread (its body is tiny), starving the probes. */
Test(http_cost, a_zero_width_tversky_sum_yields_413_and_the_probes_stay_up)
{
    srv_start(NULL);
    double t0 = now_s();
    http_response r = post("/v2/models/tversky/infer", v2_empty("[2000000000, 0]", "sum"));
    expect_error(&r, 413, "too_much_work");
    cr_expect_lt(now_s() - t0, 2.0);
    http_response_free(&r);
    srv_stop();
}

Test(http_cost, an_empty_cross_entropy_with_2_pow_53_classes_yields_a_4xx_not_503)
{
    srv_start(NULL);
    http_response r = post("/v2/models/cross_entropy/infer",
                           "{\"inputs\": [{\"name\": \"predictions\", \"shape\": [0, "
                           "9007199254740992], \"datatype\": \"FP32\", \"data\": []}, {\"name\": "
                           "\"targets\", \"shape\": [0], \"datatype\": \"INT64\", \"data\": []}]}");
    cr_expect(r.status >= 400 && r.status < 500, "got %d: %s", r.status, r.body);
    expect_error(&r, 413, "too_much_work");
    http_response_free(&r);
    srv_stop();
}

Test(http_cost, evaluate_listing_a_loss_twice_by_name_yields_400)
{
    srv_start(NULL);
    http_response r = post("/v1/evaluate", "{\"predictions\": [0.5], \"targets\": [1], "
                                           "\"losses\": [\"mse\", \"mae\", \"mse\"]}");
    expect_error(&r, 400, "invalid_parameter");
    cr_expect(strstr(r.body, "mse") != NULL && strstr(r.body, "\"losses\"") != NULL, "%s", r.body);
    http_response_free(&r);
    /* The same loss with its own parameters is a different computation: allowed. */
    r = post("/v1/evaluate", "{\"predictions\": [0.5], \"targets\": [1], \"losses\": "
                             "[{\"name\": \"huber\", \"delta\": 1}, {\"name\": \"huber\", "
                             "\"delta\": 0.1}]}");
    cr_expect_eq(r.status, 200, "%s", r.body);
    http_response_free(&r);
    srv_stop();
}

/* A /v1 ctc body: T steps, N items, C classes, S targets per item (labels 1, 2, 1, ...). */
static char *ctc_body(size_t T, size_t N, size_t C, size_t S, size_t *len)
{
    size_t cap = T * N * C * 10 + N * S * 3 + N * 24 + 256;
    char *body = malloc(cap), *p = body;
    p += sprintf(p, "{\"reduction\": \"sum\", \"predictions\": [");
    for (size_t t = 0; t < T; t++) {
        *p++ = t ? ',' : '[';
        if (t)
            *p++ = '[';
        for (size_t n = 0; n < N; n++) {
            *p++ = n ? ',' : '[';
            if (n)
                *p++ = '[';
            for (size_t c = 0; c < C; c++)
                p += sprintf(p, "%s-1.0986", c ? "," : "");
            *p++ = ']';
        }
        *p++ = ']';
    }
    p += sprintf(p, "], \"targets\": [");
    for (size_t n = 0; n < N; n++) {
        p += sprintf(p, "%s[", n ? "," : "");
        for (size_t s = 0; s < S; s++)
            p += sprintf(p, "%s%zu", s ? "," : "", 1 + s % (C - 1));
        *p++ = ']';
    }
    p += sprintf(p, "], \"input_lengths\": [");
    for (size_t n = 0; n < N; n++)
        p += sprintf(p, "%s%zu", n ? "," : "", T);
    p += sprintf(p, "], \"target_lengths\": [");
    for (size_t n = 0; n < N; n++)
        p += sprintf(p, "%s%zu", n ? "," : "", S);
    p += sprintf(p, "]}");
    *len = (size_t)(p - body);
    return body;
}

Test(http_cost, evaluate_costs_add_up_across_its_entries)
{
    size_t len;
    char *one = ctc_body(400, 2, 3, 150, &len), *two = malloc(len + 200);
    srv_start((const char *[]){"--max-work", "15M", NULL}); /* one such ctc: ~10M units */
    http_response r = req("POST", "/v1/loss/ctc", "Content-Type: application/json\r\n", one);
    cr_assert_eq(r.status, 200, "one ctc is under the cap: %s", r.body);
    http_response_free(&r);
    /* The same tensors for ctc under three parameter sets: three times the work. */
    snprintf(two, len + 200,
             "{\"losses\": [\"ctc\", {\"name\": \"ctc\", \"zero_infinity\": "
             "true}, {\"name\": \"ctc\", \"blank\": 0}], %s",
             one + 1);
    r = req("POST", "/v1/evaluate", "Content-Type: application/json\r\n", two);
    expect_error(&r, 413, "too_much_work");
    http_response_free(&r);
    free(one);
    free(two);
    srv_stop();
}

Test(http_cost, batch_costs_add_up_across_its_requests)
{
    size_t len;
    char *one = ctc_body(400, 2, 3, 150, &len), *batch = malloc(3 * len + 200), *p = batch;
    srv_start((const char *[]){"--max-work", "15M", NULL}); /* one such ctc: ~10M units */
    p += sprintf(p, "{\"requests\": [");
    for (int i = 0; i < 2; i++)
        p += sprintf(p, "%s{\"loss\": \"ctc\", %s", i ? ", " : "", one + 1);
    sprintf(p, "]}");
    http_response r = req("POST", "/v1/batch", "Content-Type: application/json\r\n", batch);
    expect_error(&r, 413, "too_much_work");
    http_response_free(&r);
    free(one);
    free(batch);
    srv_stop();
}

typedef struct {
    const char *path, *body;
    http_response r;
    int rc;
    _Atomic double ended_at; /* now_s() when the reply was read; 0 until then */
} async_post;

/* Its own connection, waiting up to a minute for the reply: under ASan on a loaded machine
 * the heavy request takes longer than the client's usual 10 s. */
static void *post_thread(void *arg)
{
    async_post *a = arg;
    struct timeval patient = {.tv_sec = 60};
    http_conn c;
    a->rc = -1;
    if (http_open(&c, srv.port) == 0) {
        setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &patient, sizeof patient);
        a->rc = http_send_request(&c, "POST", a->path, "Content-Type: application/json\r\n",
                                  a->body, strlen(a->body));
        if (a->rc == 0)
            a->rc = http_read(&c, &a->r, 0);
        http_close(&c);
    }
    atomic_store(&a->ended_at, now_s());
    return NULL;
}

/* With one HTTP thread, a heavy request computed inline would hold every probe until it ends;
 * its body is far below --inline-max, so only its cost can send it to a worker. The proof is
 * probes answered while it is still running (none could be, were it inline), not their latency,
 * which follows the machine's load. */
Test(http_cost, a_small_but_heavy_request_never_runs_on_the_http_thread)
{
    async_post a = {.path = "/v2/models/dice/infer", .body = v2_empty("[60000000, 0]", "sum")};
    atomic_init(&a.ended_at, 0.0);
    pthread_t t;
    srv_start((const char *[]){"--http-threads", "1", NULL});
    cr_assert_eq(pthread_create(&t, NULL, post_thread, &a), 0);
    usleep(50000);
    int probes = 0, during = 0;
    while (atomic_load(&a.ended_at) == 0.0 && during < 10) {
        http_response h = get("/healthz");
        double answered = now_s();
        cr_expect_eq(h.status, 200);
        http_response_free(&h);
        probes++;
        usleep(10000);
        double ended = atomic_load(&a.ended_at);
        during += ended == 0.0 || answered < ended;
    }
    pthread_join(t, NULL);
    cr_assert_eq(a.rc, 0);
    cr_expect_eq(a.r.status, 200, "%s", a.r.body);
    http_response_free(&a.r);
    cr_expect_geq(during, 3, "%d of %d probes answered while the heavy request ran", during,
                  probes);
    srv_stop();
}

/* --job-timeout covers the computation: a ctc of 20-60 s (just under the default --max-work)
 * stops at its deadline with 503 timeout, and the worker is free for the next request. */
Test(http_cost, a_ctc_past_its_deadline_yields_503_timeout_and_frees_its_worker)
{
    size_t len;
    char *body = ctc_body(4096, 12, 3, 4000, &len);
    srv_start((const char *[]){"--workers", "1", "--job-timeout", "2", NULL});
    double t0 = now_s();
    http_response r = req("POST", "/v1/loss/ctc", "Content-Type: application/json\r\n", body);
    double took = now_s() - t0;
    expect_error(&r, 503, "timeout");
    cr_expect_lt(took, 8.0, "stopped near its 2 s deadline, not after the whole ctc: %.1f s", took);
    http_response_free(&r);
    t0 = now_s();
    r = post("/v1/loss/mse", "{\"predictions\": [0.5, 1.5], \"targets\": [1, 1]}");
    cr_expect_eq(r.status, 200);
    cr_expect_lt(now_s() - t0, 1.0, "the worker is free");
    http_response_free(&r);
    free(body);
    srv_stop();
}

Test(http_cost, the_default_limits_refuse_that_ctc_before_it_starts)
{
    size_t len;
    char *body = ctc_body(4096, 40, 3, 4000, &len);
    srv_start(NULL);
    double t0 = now_s();
    http_response r = req("POST", "/v1/loss/ctc", "Content-Type: application/json\r\n", body);
    expect_error(&r, 413, "too_much_work");
    cr_expect_lt(now_s() - t0, 5.0);
    http_response_free(&r);
    free(body);
    srv_stop();
}
