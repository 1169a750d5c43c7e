/* Unit tests of server/log.c: buffered access lines reach stderr whole, in order per thread,
 * within the flush period or at log_flush, in the same text and JSON formats as before. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int saved_stderr = -1;
static char log_path[] = "/tmp/lossd-test-log.XXXXXX";

/* Points fd 2 at a fresh temporary file (the log module writes to fd 2). */
static void capture(void)
{
    int fd = mkstemp(log_path);
    cr_assert(fd >= 0);
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    cr_assert(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
    close(fd);
}

static void restore(void)
{
    if (saved_stderr >= 0) {
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        saved_stderr = -1;
        unlink(log_path);
    }
}

TestSuite(server_log, .fini = restore);

static char *captured(void)
{
    FILE *f = fopen(log_path, "rb");
    char *text;
    long n;
    cr_assert(f != NULL);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    text = calloc(1, (size_t)n + 1);
    cr_assert(text != NULL);
    cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return text;
}

static void log_request(const char *id, const char *path)
{
    log_access(&(log_access_entry){.method = "POST",
                                   .path = path,
                                   .status = 200,
                                   .bytes_in = 46,
                                   .bytes_out = 2294,
                                   .micros = 17,
                                   .request_id = id,
                                   .loss = "mse"});
}

#define THREADS 6
#define LINES 4000

static void *log_many(void *arg)
{
    char id[32];
    for (int i = 0; i < LINES; i++) {
        snprintf(id, sizeof id, "t%d-%d", (int)(long)arg, i);
        log_request(id, "/v1/loss/mse");
    }
    return NULL;
}

Test(server_log, lines_from_many_threads_should_be_whole_and_in_order_per_thread)
{
    pthread_t t[THREADS];
    int next[THREADS] = {0}, lines = 0;
    char *text, *save = NULL;
    log_init(0);
    capture();
    for (long i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, log_many, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    log_flush();
    text = captured();
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        int th, seq;
        const char *id = strstr(l, " id=t");
        cr_assert(strstr(l, "Z access POST /v1/loss/mse 200 in=46 out=2294 us=17 loss=mse id=t"),
                  "%s", l);
        cr_assert(id && sscanf(id, " id=t%d-%d", &th, &seq) == 2, "%s", l);
        cr_assert(th >= 0 && th < THREADS);
        cr_assert_eq(seq, next[th], "thread %d: line %d after %d", th, seq, next[th] - 1);
        next[th]++;
        lines++;
    }
    cr_assert_eq(lines, THREADS * LINES);
    free(text);
}

static void *log_one_and_wait(void *arg)
{
    log_request("alive-1", "/v1/loss/mse");
    while (!*(volatile int *)arg)
        usleep(1000);
    return NULL;
}

Test(server_log, a_live_threads_lines_should_reach_stderr_without_a_flush_call)
{
    pthread_t t;
    int stop = 0, seen = 0;
    log_init(0);
    capture();
    cr_assert_eq(pthread_create(&t, NULL, log_one_and_wait, &stop), 0);
    for (int i = 0; i < 300 && !seen; i++) { /* the period is 200 ms; allow 3 s */
        char *text = captured();
        seen = strstr(text, " id=alive-1\n") != NULL;
        free(text);
        if (!seen)
            usleep(10000);
    }
    stop = 1;
    pthread_join(t, NULL);
    cr_assert(seen, "the flusher did not write the buffered line");
}

Test(server_log, a_message_should_follow_its_threads_buffered_lines_at_once)
{
    char *text, *access, *msg;
    log_init(0);
    capture();
    log_request("first", "/v1/loss/mse");
    log_msg("warn", "second %d", 2);
    text = captured(); /* no log_flush: the message wrote the buffer out */
    access = strstr(text, " id=first\n");
    msg = strstr(text, "Z warn second 2\n");
    cr_assert(access && msg && access < msg, "%s", text);
    free(text);
}

Test(server_log, json_lines_should_parse_and_escape_client_bytes)
{
    char *text, *save = NULL, path[4000];
    int n = 0;
    log_init(1);
    capture();
    log_request("q\"uo\\te\x01", "/v1/loss/\"x\"\n");
    memset(path, 'p', sizeof path - 1); /* longer than a line: cut, but still one object */
    path[0] = '/';
    path[sizeof path - 1] = '\0';
    log_request("long-1", path);
    log_msg("info", "tab\there");
    log_flush();
    text = captured();
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++) {
        cJSON *j = cJSON_Parse(l);
        cJSON *id, *ts;
        cr_assert(j != NULL, "not JSON: %s", l);
        ts = cJSON_GetObjectItemCaseSensitive(j, "ts");
        cr_assert(cJSON_IsString(ts) && strlen(ts->valuestring) == 24, "%s", l);
        id = cJSON_GetObjectItemCaseSensitive(j, "request_id");
        if (n == 0) {
            cr_assert_str_eq(id->valuestring, "q\"uo\\te\x01");
            cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "path")->valuestring,
                             "/v1/loss/\"x\"\n");
            cr_assert_eq(cJSON_GetObjectItemCaseSensitive(j, "status")->valueint, 200);
            cr_assert_eq(cJSON_GetObjectItemCaseSensitive(j, "bytes_out")->valueint, 2294);
            cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "loss")->valuestring, "mse");
            cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "aborted")));
        } else if (n == 1) {
            cr_assert_str_eq(id->valuestring, "long-1", "the fields after a long path stay");
        } else {
            cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "msg")->valuestring, "tab\there");
        }
        cJSON_Delete(j);
    }
    cr_assert_eq(n, 3);
    free(text);
}
